package dev.denoise.faults;

import dev.denoise.Denoiser;
import dev.denoise.backend.CpuBackend;
import dev.denoise.data.Dataset;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelFiles;
import dev.denoise.model.ModelKind;
import dev.denoise.train.EpochRecord;
import dev.denoise.train.MnistFixture;
import dev.denoise.train.Noise;
import dev.denoise.train.TrainConfig;
import dev.denoise.train.TrainListener;
import dev.denoise.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory stays flat over long runs: every tensor a training epoch or a denoise call makes is closed
 * (the backend's live bytes return to the same value), and the process's resident set does not
 * creep. RSS is noisy (JIT, GC heap growth), so its bound is loose: a leak of one activation
 * buffer per step or per call would pass it many times over.
 */
class LongRunTest {
    /** Allowed RSS growth between the warmed-up point and the end. */
    private static final long RSS_SLACK = 96L << 20;

    @TempDir
    Path dir;

    @Test
    void many_epochs_with_checkpoints_hold_memory_flat() {
        Dataset train = MnistFixture.train().subset(0, 256);
        Dataset val = MnistFixture.test().subset(0, 64);
        List<Long> live = new ArrayList<>();
        List<Long> rss = new ArrayList<>();
        try (CpuBackend cpu = new CpuBackend();
             Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(ModelKind.CONV), 64)) {
            // one epoch first: the model's layers allocate their buffers when first used
            new Trainer(m, train, val, new TrainConfig(1, 64, 1e-3f, Noise.gaussian(0.5f), 3),
                    dir.resolve("warm.safetensors"), new TrainListener() {}).run(false);
            long idle = cpu.liveBytes();
            TrainListener sample = new TrainListener() {
                @Override
                public void epochDone(EpochRecord r) {
                    live.add(cpu.liveBytes());
                    rss.add(rssBytes());
                }
            };
            new Trainer(m, train, val, new TrainConfig(40, 64, 1e-3f, Noise.gaussian(0.5f), 3),
                    dir.resolve("checkpoint.safetensors"), sample).run(false);
            assertEquals(40, live.size());
            for (int e = 1; e < live.size(); e++) {
                assertEquals(live.get(0), live.get(e), "live native bytes after epoch " + (e + 1) + " vs epoch 1");
            }
            assertEquals(idle, cpu.liveBytes(), "the model's own tensors only, once training returns");
        }
        assertRssFlat("40 epochs", rss.get(4), rss.getLast());
    }

    @Test
    void ten_thousand_denoise_calls_on_one_model_hold_memory_flat() throws IOException {
        Path file = dir.resolve("dense.safetensors");
        float[] image = Arrays.copyOf(MnistFixture.test().images(), 784);
        try (CpuBackend cpu = new CpuBackend()) {
            try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(ModelKind.DENSE), 1)) {
                ModelFiles.save(file, m, Map.of());
            }
            try (Denoiser d = Denoiser.load(file, cpu)) {
                for (int i = 0; i < 500; i++) d.denoise(image); // warm-up: JIT, heap
                long live = cpu.liveBytes(), before = rssBytes();
                for (int i = 0; i < 10_000; i++) d.denoise(image);
                assertEquals(live, cpu.liveBytes(), "live native bytes after 10,000 calls");
                assertRssFlat("10,000 denoise calls", before, rssBytes());
            }
            assertEquals(0, cpu.liveBytes(), "closing the denoiser frees the model");
        }
    }

    @Test
    void tiled_denoising_of_large_images_holds_memory_flat() {
        Images.Image photo = new Images.Image(1, 300, 260, new float[300 * 260]);
        try (CpuBackend cpu = new CpuBackend();
             Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(ModelKind.CONV), 1);
             Denoiser d = new Denoiser(m)) {
            d.denoise(photo); // makes the tile-sized twin of the model
            long live = cpu.liveBytes();
            for (int i = 0; i < 20; i++) d.denoise(photo);
            assertEquals(live, cpu.liveBytes(), "live native bytes after 20 tiled images");
        }
    }

    private static void assertRssFlat(String what, long before, long after) {
        if (before < 0 || after < 0) return; // no /proc: the live-bytes checks still ran
        assertTrue(after - before < RSS_SLACK, what + ": resident set grew from " + (before >> 20) + " MiB to "
                + (after >> 20) + " MiB");
    }

    /** Resident set size from /proc/self/statm (pages), or -1 where there is none. */
    private static long rssBytes() {
        try {
            String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(f[1]) * 4096;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
