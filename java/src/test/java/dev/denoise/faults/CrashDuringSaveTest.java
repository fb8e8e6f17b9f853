package dev.denoise.faults;

import dev.denoise.cli.InProcessCli;
import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.data.Dataset;
import dev.denoise.io.Safetensors;
import dev.denoise.io.TensorData;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import dev.denoise.train.EpochRecord;
import dev.denoise.train.MnistFixture;
import dev.denoise.train.Noise;
import dev.denoise.train.TrainConfig;
import dev.denoise.train.Trainer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A save that fails part way, by an exception or by the process dying, must leave the previous
 * checkpoint byte-identical and must not leave temp files behind for good: an exception deletes its
 * own temp file at once, and a temp file left by a killed process is deleted by the next training
 * run, which then continues from the intact checkpoint.
 */
class CrashDuringSaveTest {
    private static final CpuBackend cpu = SharedCpu.get();
    private static final ModelConfig DENSE = ModelConfig.mnist(ModelKind.DENSE);

    @TempDir
    Path dir;

    private Dataset train;
    private Path ck;
    private byte[] good;

    /** A good checkpoint after one epoch on 256 images. */
    @BeforeEach
    void goodCheckpoint() throws IOException {
        train = MnistFixture.train().first(256);
        ck = dir.resolve("checkpoint.safetensors");
        try (Autoencoder m = Autoencoder.create(cpu, DENSE, 64)) {
            new Trainer(m, train, null, config(1), ck, null).run(false);
        }
        good = Files.readAllBytes(ck);
    }

    private static TrainConfig config(int epochs) {
        return new TrainConfig(epochs, 64, 1e-3f, Noise.gaussian(0.5f), 4);
    }

    private static List<TensorData> tensorsOf(Path file) {
        return List.copyOf(Safetensors.read(file).tensors().values());
    }

    @Test
    void tensor_list_that_throws_midway_changes_nothing() throws Exception {
        List<TensorData> real = tensorsOf(ck);
        List<TensorData> failing = new AbstractList<>() {
            @Override
            public TensorData get(int i) {
                if (i == real.size() / 2) throw new IllegalStateException("simulated crash while collecting tensors");
                return real.get(i);
            }

            @Override
            public int size() {
                return real.size();
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Safetensors.write(ck, Map.of("format", "x"), failing));
        assertEquals("simulated crash while collecting tensors", e.getMessage());
        assertArrayEquals(good, Files.readAllBytes(ck), "the old checkpoint must be untouched");
        InProcessCli.assertNoTempFiles(dir);
    }

    @Test
    void non_finite_last_tensor_changes_nothing() throws Exception {
        List<TensorData> tensors = new java.util.ArrayList<>(tensorsOf(ck));
        float[] bad = new float[16];
        bad[15] = Float.POSITIVE_INFINITY;
        tensors.add(new TensorData("late", new int[] {16}, bad));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(ck, Map.of(), tensors));
        assertTrue(e.getMessage().contains("'late'"), e.getMessage());
        assertArrayEquals(good, Files.readAllBytes(ck));
        InProcessCli.assertNoTempFiles(dir);
    }

    /**
     * An interrupted thread's first write to a FileChannel closes it and throws: a genuine I/O
     * failure after the temp file was created, on the data path itself.
     */
    @Test
    void io_failure_after_the_temp_file_exists_deletes_it() throws Exception {
        List<TensorData> tensors = tensorsOf(ck);
        Thread.currentThread().interrupt();
        try {
            assertThrows(ClosedByInterruptException.class, () -> Safetensors.write(ck, Map.of(), tensors));
        } finally {
            Thread.interrupted(); // clear the flag for the rest of the test
        }
        assertArrayEquals(good, Files.readAllBytes(ck));
        InProcessCli.assertNoTempFiles(dir);
    }

    /**
     * A writer killed mid-save leaves a truncated ".checkpoint.safetensors.HEX.tmp". Resuming
     * loads the intact checkpoint, deletes the stray temp file and ends where an uninterrupted run
     * ends, bit for bit.
     */
    @Test
    void resume_removes_a_killed_writers_temp_and_continues_from_the_good_checkpoint() throws Exception {
        Path stray = dir.resolve(".checkpoint.safetensors.5eed0fdeadbeef01.tmp");
        Files.write(stray, Arrays.copyOf(good, good.length / 2));
        Path other = Files.writeString(dir.resolve("notes.tmp"), "not ours"); // must survive the clean-up

        float[] resumed, straight;
        List<EpochRecord> h;
        try (Autoencoder m = Autoencoder.create(cpu, DENSE, 64)) {
            h = new Trainer(m, train, null, config(2), ck, null).run(true);
            resumed = m.parameters().values().toArray();
        }
        assertFalse(Files.exists(stray), "the stray temp file must be deleted");
        assertTrue(Files.exists(other), "only the checkpoint's own temp files may be deleted");
        InProcessCli.assertNoTempFiles(dir);
        assertEquals(2, h.size(), "epoch 1 from the checkpoint, epoch 2 trained now");
        assertEquals(2, Integer.parseInt(Safetensors.read(ck).metadata().get("epochs_done")));

        try (Autoencoder m = Autoencoder.create(cpu, DENSE, 64)) {
            List<EpochRecord> h2 = new Trainer(m, train, null, config(2), null, null).run(false);
            straight = m.parameters().values().toArray();
            assertEquals(h2.get(0).loss(), h.get(0).loss(), 0.0);
            assertEquals(h2.get(1).loss(), h.get(1).loss(), 0.0);
        }
        assertArrayEquals(straight, resumed, "the resumed run must continue from the intact checkpoint");
    }
}
