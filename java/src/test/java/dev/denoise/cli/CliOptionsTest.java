package dev.denoise.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * Every numeric option at and past the ends of its range, unknown values, missing files and output
 * directories that cannot be written: each is one line on stderr naming the option or file, exit 2,
 * no stack trace, and nothing written. None of these reads MNIST, so they run without it.
 */
class CliOptionsTest {
    /** The place each refused command line would have written to; it must not appear. */
    private static final String OUT = "@OUT@";
    private static final String MODEL = "@MODEL@";

    @TempDir
    Path dir;

    static Stream<Arguments> refused() {
        List<Arguments> cases = new ArrayList<>();
        // {option, bad value, expected text} for train and compare (they share the recipe)
        String[][] recipe = {
                {"--epochs", "0", "--epochs must be in 1..100000, got 0"},
                {"--epochs", "100001", "--epochs must be in 1..100000"},
                {"--epochs", "-1", "--epochs"},
                {"--epochs", "ten", "--epochs"},
                {"--epochs", "99999999999", "--epochs"},
                {"--batch", "0", "--batch must be in 1..65536, got 0"},
                {"--batch", "65537", "--batch must be in 1..65536"},
                {"--lr", "0", "--lr must be a finite number > 0"},
                {"--lr", "-1e-3", "--lr must be a finite number > 0"},
                {"--lr", "NaN", "--lr must be a finite number > 0"},
                {"--lr", "Infinity", "--lr must be a finite number > 0"},
                {"--lr", "1e6", "<= 10.0, got 1000000.0"},
                {"--train-size", "-1", "--train-size must be >= 0, got -1"},
                {"--noise", "gaussian:-1", "noise level"},
                {"--noise", "gaussian:NaN", "noise level"},
                {"--noise", "gaussian:x", "is not a number"},
                {"--noise", "salt-pepper:1.5", "salt-pepper probability must be in [0, 1]"},
                {"--noise", "pink:1", "unknown noise"},
                {"--dataset", "cifar", "unknown dataset"},
                {"--device", "tpu", "--device: unknown device 'tpu'"},
                {"--conv-width", "0", "--conv-width must be in 1..1024, got 0"},
                {"--conv-width", "1025", "--conv-width must be in 1..1024"},
                {"--conv-depth", "0", "--conv-depth must be in 1..6, got 0"},
                {"--conv-depth", "7", "--conv-depth must be in 1..6"},
                {"--level-convs", "0", "--level-convs must be in 1..8, got 0"},
                {"--level-convs", "9", "--level-convs must be in 1..8"},
                {"--lr-decay", "-0.1", "--lr-decay must be in 0.0..1.0, got -0.1"},
                {"--lr-decay", "1.5", "--lr-decay must be in 0.0..1.0"},
                {"--lr-decay", "NaN", "--lr-decay must be in 0.0..1.0"},
        };
        for (String[] r : recipe) {
            cases.add(Arguments.of("train " + r[0] + " " + r[1], r[2],
                    List.of("train", "--model", "dense", r[0], r[1], "--out", OUT)));
            cases.add(Arguments.of("compare " + r[0] + " " + r[1], r[2],
                    List.of("compare", r[0], r[1], "--out", OUT)));
        }
        cases.add(Arguments.of("train --latent 0", "--latent must be in 1..4096, got 0",
                List.of("train", "--model", "vae", "--latent", "0", "--out", OUT)));
        cases.add(Arguments.of("train --latent 4097", "--latent must be in 1..4096",
                List.of("train", "--model", "vae", "--latent", "4097", "--out", OUT)));
        cases.add(Arguments.of("train unknown model", "unknown model",
                List.of("train", "--model", "resnet", "--out", OUT)));
        cases.add(Arguments.of("compare --test-size -5", "--test-size must be >= 0, got -5",
                List.of("compare", "--test-size", "-5", "--out", OUT)));
        cases.add(Arguments.of("compare --vae-latent 0", "--vae-latent must be in 1..4096",
                List.of("compare", "--vae-latent", "0", "--out", OUT)));
        cases.add(Arguments.of("compare --models", "--models",
                List.of("compare", "--models", "dense,resnet", "--out", OUT)));
        cases.add(Arguments.of("train conv --conv-depth 3 on 28x28", "sides divide by 8, these are 28x28",
                List.of("train", "--model", "conv", "--conv-depth", "3", "--out", OUT)));
        cases.add(Arguments.of("compare --conv-depth 3 on 28x28", "sides divide by 8, these are 28x28",
                List.of("compare", "--conv-depth", "3", "--out", OUT)));
        cases.add(Arguments.of("compare --test without a folder", "--test goes with --dataset DIR",
                List.of("compare", "--test", OUT, "--out", OUT)));
        cases.add(Arguments.of("speed --conv-depth 3", "sides divide by 8",
                List.of("speed", "--model", "skip", "--conv-depth", "3", "--device", "cpu")));
        cases.add(Arguments.of("evaluate --limit -1", "--limit must be >= 0, got -1",
                List.of("evaluate", "--model-file", MODEL, "--limit", "-1")));
        cases.add(Arguments.of("generate --count 0", "--count must be in 1..10000, got 0",
                List.of("generate", "--model-file", MODEL, "--count", "0", "--out", OUT + "/g.png")));
        for (String[] r : new String[][] {{"--strength", "1.5", "--strength must be in [0, 1], got 1.5"},
                {"--strength", "-0.1", "--strength must be in [0, 1]"}, {"--strength", "NaN", "--strength must be in [0, 1]"},
                {"--quality", "0", "--quality must be in 1..100"}}) {
            cases.add(Arguments.of("denoise " + r[0] + " " + r[1], r[2],
                    List.of("denoise", "--model-file", MODEL, r[0], r[1], "x.png", "--out", OUT)));
        }
        cases.add(Arguments.of("generate --count 10001", "--count must be in 1..10000",
                List.of("generate", "--model-file", MODEL, "--count", "10001", "--out", OUT + "/g.png")));
        String[][] speed = {
                {"--batch", "0", "--batch must be in 1..65536"},
                {"--steps", "0", "--steps must be in 1..1000000"},
                {"--rounds", "0", "--rounds must be in 1..1000"},
                {"--rounds", "1001", "--rounds must be in 1..1000"},
                {"--warmup", "-1", "--warmup must be in 0..1000000"},
                {"--infer", "-1", "--infer must be in 0.."},
        };
        for (String[] r : speed) {
            cases.add(Arguments.of("speed " + r[0] + " " + r[1], r[2],
                    List.of("speed", "--model", "conv", "--device", "cpu", r[0], r[1])));
        }
        cases.add(Arguments.of("unknown option", "Unknown option", List.of("compare", "--out", OUT, "--bogus")));
        cases.add(Arguments.of("unknown command", "Unmatched argument", List.of("fly")));
        cases.add(Arguments.of("missing --out", "--out", List.of("train", "--model", "dense")));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void bad_option_is_one_line_exit_2_and_writes_nothing(String name, String expect, List<String> args)
            throws Exception {
        Path out = dir.resolve("out");
        Path model = Files.writeString(dir.resolve("m.safetensors"), "not read: the options are refused first");
        InProcessCli.Run r = InProcessCli.run(args.stream()
                .map(a -> a.replace(OUT, out.toString()).replace(MODEL, model.toString()))
                .toArray(String[]::new));
        assertEquals(2, r.code(), name + " → " + r.err());
        String err = r.oneLineError();
        assertTrue(err.startsWith("denoise: "), err);
        assertTrue(err.contains(expect), "'" + err + "' should mention " + expect);
        assertFalse(Files.exists(out), "a refused command line must not create " + out);
    }

    @Test
    void missing_and_unreadable_inputs_name_the_file() throws Exception {
        Path out = dir.resolve("out");
        Path missing = dir.resolve("nosuch.safetensors");
        expectFileError(missing + ": no such file (--model-file)", out,
                "evaluate", "--model-file", missing.toString());
        expectFileError(dir + ": is a directory, not a file (--model-file)", out,
                "generate", "--model-file", dir.toString(), "--out", out.resolve("g.png").toString());
        Path model = Files.writeString(dir.resolve("m.safetensors"), "x");
        Path picture = dir.resolve("nosuch.png");
        expectFileError(picture + ": no such file (input image)", out,
                "denoise", "--model-file", model.toString(), picture.toString(), "--out", out.toString());
        // a broken model file is read only after the options pass: its problem is named too
        expectFileError(model + ": ", out, "evaluate", "--model-file", model.toString());
    }

    @Test
    void output_under_a_file_or_onto_a_directory_is_refused() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        Path model = Files.writeString(dir.resolve("m.safetensors"), "x");
        expectFileError("is not a directory", file.resolve("sub"),
                "train", "--model", "dense", "--out", file.resolve("sub").toString());
        expectFileError(dir + ": is a directory; --out takes a file name", dir.resolve("never"),
                "generate", "--model-file", model.toString(), "--out", dir.toString());
    }

    /** A read-only file system is refused even as root (permission bits alone do not stop root). */
    @Test
    void output_on_a_read_only_file_system_is_refused() throws Exception {
        Path ro = Files.createDirectory(dir.resolve("ro"));
        if (!mount(ro, "ro,size=1m")) abort("cannot mount a read-only tmpfs (needs root or CAP_SYS_ADMIN)");
        try {
            Path out = ro.resolve("run");
            expectFileError(out + ": cannot create the output directory: " + ro + " is not writable (--out)", out,
                    "train", "--model", "dense", "--out", out.toString());
        } finally {
            new ProcessBuilder("umount", "-l", ro.toString()).start().waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void debug_shows_the_stack_trace() {
        InProcessCli.Run r = InProcessCli.run("train", "--model", "dense", "--epochs", "0", "--debug",
                "--out", dir.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("\tat "), "a stack trace with --debug: " + r.err());
    }

    private static void expectFileError(String expect, Path mustNotExist, String... args) {
        InProcessCli.Run r = InProcessCli.run(args);
        assertEquals(2, r.code(), Arrays.toString(args) + " → " + r.err());
        String err = r.oneLineError();
        assertTrue(err.contains(expect), "'" + err + "' should contain '" + expect + "'");
        assertFalse(Files.exists(mustNotExist), "nothing may be written at " + mustNotExist);
    }

    private static boolean mount(Path at, String options) throws Exception {
        try {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "tmpfs", at.toString())
                    .redirectErrorStream(true).start();
            boolean ended = p.waitFor(20, TimeUnit.SECONDS);
            new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return ended && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
