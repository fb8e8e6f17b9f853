package dev.denoise.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.denoise.data.Dataset;
import dev.denoise.io.Images;
import dev.denoise.train.MnistFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user meets it: exit codes, one-line errors, and the files each command writes. */
class CliTest {
    @TempDir
    Path dir;

    private static InProcessCli.Run run(String... args) {
        return InProcessCli.run(args);
    }

    private void usageError(String expect, String... args) {
        InProcessCli.Run r = run(args);
        assertEquals(2, r.code(), Arrays.toString(args) + " → " + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertFalse(err.contains("Exception"), "no stack trace: " + err);
        assertTrue(err.contains(expect), "'" + err + "' should mention " + expect);
    }

    @Test
    void usage_errors_are_one_line_and_exit_2() {
        Path out = dir.resolve("o");
        usageError("unknown model", "train", "--model", "resnet", "--out", out.toString());
        usageError("epochs", "train", "--model", "dense", "--epochs", "0", "--out", out.toString());
        usageError("noise level", "train", "--model", "dense", "--noise", "gaussian:-1", "--out", out.toString());
        usageError("unknown noise", "train", "--model", "dense", "--noise", "pink:1", "--out", out.toString());
        usageError("unknown dataset", "train", "--model", "dense", "--dataset", "cifar", "--out", out.toString());
        usageError("batch", "train", "--model", "conv", "--batch", "-3", "--out", out.toString());
        usageError("lr", "train", "--model", "conv", "--lr", "0", "--out", out.toString());
        usageError("--out", "train", "--model", "dense");
        usageError("nosuch.safetensors", "evaluate", "--model-file", dir.resolve("nosuch.safetensors").toString());
        usageError("device", "train", "--model", "dense", "--device", "tpu", "--out", out.toString());
        usageError("Unknown option", "compare", "--out", out.toString(), "--bogus");
    }

    @Test
    void output_dir_that_is_a_file_is_refused() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        usageError("not a directory", "train", "--model", "dense", "--out", file.toString());
    }

    @Test
    void help_and_info_work() {
        InProcessCli.Run help = run("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("compare"), help.out());
        InProcessCli.Run info = run("info");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("cpu     available"), info.out());
        assertTrue(info.out().contains("cuda"), info.out());
    }

    @Test
    void train_evaluate_generate_denoise() throws Exception {
        MnistFixture.train(); // skips without MNIST
        Path out = dir.resolve("vae");
        InProcessCli.Run t = run("train", "--model", "vae", "--epochs", "2", "--train-size", "512", "--batch", "64",
                "--device", "cpu", "--out", out.toString());
        assertEquals(0, t.code(), t.err());
        JsonNode history = new ObjectMapper().readTree(out.resolve("history.json").toFile());
        assertEquals(2, history.size());
        assertEquals(Set.of("epoch", "loss", "val_psnr", "seconds", "images_per_second"), keys(history.get(0)));
        assertTrue(Files.exists(out.resolve("model.safetensors")) && Files.exists(out.resolve("checkpoint.safetensors")));

        InProcessCli.Run resumed = run("train", "--model", "vae", "--epochs", "3", "--train-size", "512", "--batch", "64",
                "--device", "cpu", "--out", out.toString(), "--resume");
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming after epoch 2"), resumed.out());
        assertEquals(3, new ObjectMapper().readTree(out.resolve("history.json").toFile()).size());

        InProcessCli.Run e = run("evaluate", "--model-file", out.resolve("model.safetensors").toString(), "--limit", "100", "--json");
        assertEquals(0, e.code(), e.err());
        JsonNode j = new ObjectMapper().readTree(e.out());
        assertTrue(j.get("vae").get("psnr").asDouble() > j.get("noisy").get("psnr").asDouble(), e.out());

        InProcessCli.Run g = run("generate", "--model-file", out.resolve("model.safetensors").toString(), "--count", "16",
                "--out", dir.resolve("samples.png").toString());
        assertEquals(0, g.code(), g.err());
        assertTrue(Files.size(dir.resolve("samples.png")) > 100);

        Dataset test = MnistFixture.test();
        Path png = dir.resolve("digit.png");
        Images.writePng(png, new Images.Image(1, 28, 28, Arrays.copyOf(test.images(), 784)));
        InProcessCli.Run d = run("denoise", "--model-file", out.resolve("model.safetensors").toString(), png.toString(),
                "--out", dir.resolve("clean").toString());
        assertEquals(0, d.code(), d.err());
        Images.Image back = Images.read(dir.resolve("clean/digit.png"), 1 << 20);
        assertEquals(28, back.width());

        InProcessCli.Run wrong = run("generate", "--model-file", out.resolve("model.safetensors").toString(), "--count", "0",
                "--out", dir.resolve("x.png").toString());
        assertEquals(2, wrong.code());
    }

    @Test
    void resume_under_a_decay_keeps_the_schedule_of_its_epochs() throws Exception {
        MnistFixture.train();
        Path out = dir.resolve("decay");
        InProcessCli.Run first = run(decayed(out, "1", "0.5"));
        assertEquals(0, first.code(), first.err());
        byte[] checkpoint = Files.readAllBytes(out.resolve("checkpoint.safetensors"));

        InProcessCli.Run longer = run(decayed(out, "2", "0.5", "--resume"));
        assertEquals(2, longer.code(), longer.out());
        assertTrue(longer.err().contains("checkpoint.safetensors") && longer.err().contains("--epochs 1 --lr-decay 0.5"),
                longer.err());
        assertArrayEquals(checkpoint, Files.readAllBytes(out.resolve("checkpoint.safetensors")));

        InProcessCli.Run constant = run(decayed(out, "2", "0", "--resume"));
        assertEquals(0, constant.code(), constant.err());
        assertTrue(constant.out().contains("resuming after epoch 1"), constant.out());
    }

    private static String[] decayed(Path out, String epochs, String decay, String... more) {
        String[] a = {"train", "--model", "dense", "--train-size", "256", "--batch", "64", "--device", "cpu",
                "--epochs", epochs, "--lr-decay", decay, "--out", out.toString()};
        String[] r = Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, r, a.length, more.length);
        return r;
    }

    @Test
    void compare_writes_a_report_whose_links_all_exist() throws Exception {
        MnistFixture.train();
        Path out = dir.resolve("cmp");
        InProcessCli.Run r = run("compare", "--epochs", "1", "--train-size", "1024", "--test-size", "200", "--vae-latent", "2",
                "--device", "cpu", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertEquals(Set.of("noisy", "baselines", "models", "config"), keys(m));
        assertEquals(Set.of("dense", "vae", "conv", "skip"), keys(m.get("models")));
        assertEquals(Set.of("psnr", "ssim", "train_seconds", "train_images_per_second", "infer_images_per_second"),
                keys(m.get("models").get("conv")));
        String html = Files.readString(out.resolve("report.html"));
        Matcher img = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(html);
        int n = 0;
        while (img.find()) {
            assertTrue(Files.exists(out.resolve(img.group(1))), "report links a missing file: " + img.group(1));
            n++;
        }
        assertTrue(n >= 4, "report has its pictures");
        assertTrue(Files.exists(out.resolve("manifold.png")), "latent 2 draws the manifold");
    }

    private static Set<String> keys(JsonNode n) {
        Set<String> s = new HashSet<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) s.add(it.next());
        return s;
    }
}
