package dev.denoise.train;

import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.backend.Tensor;
import dev.denoise.data.Dataset;
import dev.denoise.eval.Evaluation;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelFiles;
import dev.denoise.model.ModelKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end on real MNIST subsets, small enough for CI: each model learns to denoise in one short
 * epoch, model files round-trip exactly, and a resumed run ends bit-identical to an uninterrupted one.
 */
class TrainingEndToEndTest {
    /**
     * After one epoch on 12,000 images with its kind's recipe, each model must beat the noisy input
     * (≈9.4 dB at σ 0.5) by this much. Measured: dense 12.10 dB and vae 12.17 dB (94 steps of 128;
     * PyTorch, same budget: 11.88 and 11.95), so +2 dB for them; conv 14.42 dB, so +3 dB; skip
     * (750 steps of 16, a larger, decaying rate) 19.03 dB, so +7 dB; residual (skip's layers, MSE, Adam
     * 1e-3) 18.79 dB, so +7 dB too.
     */
    static double marginDb(ModelKind kind) {
        return switch (kind) {
            case DENSE, VAE -> 2.0;
            case CONV -> 3.0;
            case SKIP -> 7.0;
            case RESIDUAL -> 7.0;
        };
    }

    private static final CpuBackend cpu = SharedCpu.get();

    @TempDir
    Path dir;

    static Dataset trainSubset(int n) {
        return MnistFixture.train().first(n);
    }

    static Dataset testSubset(int n) {
        return MnistFixture.test().first(n);
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void one_epoch_beats_the_noisy_input(ModelKind kind) {
        Dataset train = trainSubset(12000), test = testSubset(500);
        Noise noise = Noise.gaussian(0.5f);
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(kind), TrainConfig.defaultBatch(kind))) {
            TrainConfig recipe = TrainConfig.defaults(kind, 1);   // each kind's own batch and learning rate
            List<EpochRecord> h = new Trainer(m, train, test.first(200), recipe, null, null).run(false);
            assertEquals(1, h.size());
            assertTrue(Double.isFinite(h.get(0).loss()));
            float[] noisy = Evaluation.noisy(cpu, test, noise);
            double before = Evaluation.score(noisy, test).psnr();
            double after = Evaluation.score(Evaluation.denoise(m, noisy, test.count()).images(), test).psnr();
            assertTrue(after > before + marginDb(kind), kind + ": " + after + " dB after one epoch, noisy " + before + " dB");
        }
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void save_load_gives_identical_outputs(ModelKind kind) {
        Dataset train = trainSubset(512), test = testSubset(64);
        Path file = dir.resolve(kind.id() + ".safetensors");
        float[] noisy = Evaluation.noisy(cpu, test, Noise.gaussian(0.5f));
        float[] before;
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(kind), 64)) {
            new Trainer(m, train, null, new TrainConfig(1, 64, 1e-3f, Noise.gaussian(0.5f), 3), null, null).run(false);
            before = Evaluation.denoise(m, noisy, test.count()).images();
            ModelFiles.save(file, m, Map.of("note", "test"));
        }
        try (Autoencoder m = ModelFiles.load(file, cpu, 32)) {
            assertEquals(ModelConfig.mnist(kind), m.config());
            assertArrayEquals(before, Evaluation.denoise(m, noisy, test.count()).images());
        }
    }

    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void resumed_training_equals_uninterrupted(ModelKind kind) {
        Dataset train = trainSubset(600), val = testSubset(100);
        TrainConfig three = new TrainConfig(3, 64, 1e-3f, Noise.gaussian(0.5f), 5);
        float[] straight, resumed;
        List<EpochRecord> h1, h2;
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(kind), 64)) {
            h1 = new Trainer(m, train, val, three, dir.resolve("a.safetensors"), null).run(false);
            straight = m.parameters().values().toArray();
        }
        Path ck = dir.resolve("b.safetensors");
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(kind), 64)) {
            new Trainer(m, train, val, new TrainConfig(1, 64, 1e-3f, Noise.gaussian(0.5f), 5), ck, null).run(false);
        }
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(kind), 64)) {
            h2 = new Trainer(m, train, val, three, ck, null).run(true);
            resumed = m.parameters().values().toArray();
        }
        assertArrayEquals(straight, resumed, kind + ": resumed weights differ from the uninterrupted run");
        assertEquals(h1.size(), h2.size());
        for (int i = 0; i < h1.size(); i++) assertEquals(h1.get(i).loss(), h2.get(i).loss(), 0.0, "loss of epoch " + (i + 1));
    }

    @Test
    void diverging_loss_stops_and_keeps_the_last_good_checkpoint() throws Exception {
        Dataset train = trainSubset(256);
        Path ck = dir.resolve("ck.safetensors");
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(ModelKind.DENSE), 64)) {
            new Trainer(m, train, null, new TrainConfig(1, 64, 1e-3f, Noise.gaussian(0.5f), 1), ck, null).run(false);
        }
        byte[] good = Files.readAllBytes(ck);
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(ModelKind.DENSE), 64)) {
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () ->
                    new Trainer(m, train, null, new TrainConfig(3, 64, 1e6f, Noise.gaussian(0.5f), 1), ck, null).run(true));
            assertTrue(e.getMessage().contains("last good checkpoint"), e.getMessage());
        }
        assertArrayEquals(good, Files.readAllBytes(ck), "the checkpoint must be untouched");
    }

    @Test
    void same_seed_same_losses() {
        Dataset train = trainSubset(300);
        double[] l = new double[2];
        for (int r = 0; r < 2; r++) {
            try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(ModelKind.VAE), 50)) {
                l[r] = new Trainer(m, train, null, new TrainConfig(2, 50, 1e-3f, Noise.gaussian(0.5f), 9), null, null)
                        .run(false).get(1).loss();
            }
        }
        assertEquals(l[0], l[1], 0.0);
    }

    @Test
    void noise_is_the_same_for_every_thread_count() {
        Dataset test = testSubset(50);
        try (CpuBackend one = new CpuBackend(1)) {
            assertArrayEquals(Evaluation.noisy(one, test, Noise.parse("salt-pepper:0.2")),
                    Evaluation.noisy(cpu, test, Noise.parse("salt-pepper:0.2")));
        }
    }

    @Test
    void tensors_are_freed_and_use_after_close_fails() {
        Tensor t = cpu.allocate(4);
        t.close();
        t.close(); // idempotent
        assertThrows(IllegalStateException.class, t::memory);
    }
}
