package dev.denoise.faults;

import dev.denoise.cli.InProcessCli;
import dev.denoise.io.Safetensors;
import dev.denoise.io.TensorData;
import dev.denoise.train.MnistFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * A checkpoint or model write that runs out of disk space fails with a message naming the file and
 * the problem, deletes its partial temp file, and leaves the previous file byte-identical.
 *
 * <p>The full disk is a real one: an 8 MiB tmpfs, whose writes fail with ENOSPC. Mounting needs
 * root (CAP_SYS_ADMIN); where it is refused the tests are skipped with the reason. There is no
 * honest unprivileged stand-in inside this JVM: /dev/full cannot be a rename target, and a file-size
 * limit (RLIMIT_FSIZE) gives EFBIG and SIGXFSZ, a different failure.
 */
class DiskFullTest {
    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    private Path mnt;
    private boolean mounted;

    @BeforeEach
    void mountSmallTmpfs() throws Exception {
        mnt = Files.createDirectory(dir.resolve("full"));
        String why;
        try {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + SIZE, "tmpfs", mnt.toString())
                    .redirectErrorStream(true).start();
            boolean ended = p.waitFor(20, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            mounted = ended && p.exitValue() == 0;
            why = ended ? "exit " + p.exitValue() + ": " + out : "mount did not answer";
            if (!ended) p.destroyForcibly();
        } catch (IOException e) {
            why = e.getMessage();
        }
        if (!mounted) {
            abort("cannot mount a small tmpfs to fill (needs root or CAP_SYS_ADMIN; running as "
                    + System.getProperty("user.name") + "): " + why);
        }
    }

    @AfterEach
    void unmount() throws Exception {
        if (mounted) {
            Process p = new ProcessBuilder("umount", "-l", mnt.toString()).redirectErrorStream(true).start();
            p.waitFor(20, TimeUnit.SECONDS);
        }
    }

    private static List<TensorData> megabytes(int mb, float value) {
        float[] v = new float[mb << 18];
        java.util.Arrays.fill(v, value);
        return List.of(new TensorData("w", new int[] {v.length}, v));
    }

    @Test
    void api_write_reports_no_space_and_keeps_the_old_file() throws Exception {
        Path file = mnt.resolve("model.safetensors");
        Safetensors.write(file, Map.of("v", "1"), megabytes(5, 1f));
        byte[] before = Files.readAllBytes(file);

        IOException e = assertThrows(IOException.class, () -> Safetensors.write(file, Map.of("v", "2"), megabytes(5, 2f)));
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains("No space left on device"), "names the problem: " + e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file), "the old file must be untouched");
        InProcessCli.assertNoTempFiles(mnt);
        assertEquals(1f, Safetensors.read(file).tensors().get("w").data()[0]);
    }

    /**
     * One epoch fits (checkpoint 5.2 MB + model 1.7 MB); resuming for more epochs needs room for a
     * second checkpoint beside the first, and fails at the end of epoch 2.
     */
    @Test
    void cli_reports_one_line_and_keeps_checkpoint_and_model() throws Exception {
        MnistFixture.train();
        Path out = mnt.resolve("run");
        String[] train = {"train", "--model", "dense", "--train-size", "500", "--batch", "50", "--seed", "2",
                "--device", "cpu", "--out", out.toString()};
        InProcessCli.Run first = InProcessCli.run(InProcessCli.args(train, "--epochs", "1"));
        assertEquals(0, first.code(), first.err());
        Path ck = out.resolve("checkpoint.safetensors"), model = out.resolve("model.safetensors");
        byte[] ckBytes = Files.readAllBytes(ck), modelBytes = Files.readAllBytes(model);

        InProcessCli.Run full = InProcessCli.run(InProcessCli.args(train, "--epochs", "3", "--resume"));
        assertEquals(1, full.code(), "a failure while running exits 1; stderr: " + full.err());
        String err = full.oneLineError();
        assertTrue(err.contains(ck.toString()), "names the file: " + err);
        assertTrue(err.contains("No space left on device"), "names the problem: " + err);
        assertArrayEquals(ckBytes, Files.readAllBytes(ck), "the epoch-1 checkpoint must be untouched");
        assertArrayEquals(modelBytes, Files.readAllBytes(model), "the model file must be untouched");
        InProcessCli.assertNoTempFiles(out);
    }
}
