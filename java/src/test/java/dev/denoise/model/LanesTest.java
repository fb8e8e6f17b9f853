package dev.denoise.model;

import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.Tensor;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Image lanes (see {@link Autoencoder}): a laned model computes the gradients of the whole batch
 * (the same as one lane, up to the order of float additions), and its training gives the same bits
 * on any number of threads, including batches that leave the last lane short.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LanesTest {
    private static ModelConfig config(ModelKind kind) {
        return new ModelConfig(kind, 2, 16, 12, 16, 8, 6, 2, 2);
    }

    private static float[] images(ModelConfig c, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[n * c.channels() * c.height() * c.width()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        return x;
    }

    @ParameterizedTest
    @EnumSource(value = ModelKind.class, names = {"CONV", "SKIP", "RESIDUAL"})
    void laned_gradients_and_loss_are_the_batchs(ModelKind kind) {
        ModelConfig c = config(kind);
        int n = 7;
        try (CpuBackend cpu = new CpuBackend(2);
             Autoencoder one = Autoencoder.create(cpu, c, n, n); Autoencoder laned = Autoencoder.create(cpu, c, n, 2);
             Tensor noisy = cpu.allocate(n, c.channels(), c.height(), c.width());
             Tensor clean = cpu.allocate(n, c.channels(), c.height(), c.width())) {
            assertEquals(1, one.lanes);
            assertEquals(4, laned.lanes); // 2 + 2 + 2 + 1
            one.initialise(5);
            cpu.copy(laned.parameters().values(), one.parameters().values());
            cpu.write(noisy, images(c, n, 1));
            cpu.write(clean, images(c, n, 2));
            double l1 = one.computeGradients(noisy, clean), l2 = laned.computeGradients(noisy, clean);
            assertEquals(l1, l2, 1e-6 * Math.abs(l1));
            float[] g1 = one.parameters().grads().toArray(), g2 = laned.parameters().grads().toArray();
            double diff = 0, norm = 0;
            for (int i = 0; i < g1.length; i++) {
                diff = Math.max(diff, Math.abs(g1[i] - g2[i]));
                norm = Math.max(norm, Math.abs(g1[i]));
            }
            assertTrue(diff <= 1e-5 * norm, kind + ": laned gradients differ by " + diff + " (largest " + norm + ")");

            // inference through the lanes: the same images as through one
            try (Tensor o1 = cpu.allocate(n, c.channels(), c.height(), c.width());
                 Tensor o2 = cpu.allocate(n, c.channels(), c.height(), c.width())) {
                one.reconstruct(noisy, o1);
                laned.reconstruct(noisy, o2);
                float[] a = o1.toArray(), b = o2.toArray();
                for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-6f, "pixel " + i);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = ModelKind.class, names = {"CONV", "SKIP", "RESIDUAL"})
    void laned_training_is_the_same_bits_on_any_thread_count(ModelKind kind) {
        ModelConfig c = config(kind);
        float[][] results = new float[3][];
        double[][] losses = new double[3][];
        for (int t = 1; t <= 3; t++) {
            int batch = 9;
            try (CpuBackend cpu = new CpuBackend(t); Autoencoder m = Autoencoder.create(cpu, c, batch, 2);
                 Tensor noisy = cpu.allocate(batch, c.channels(), c.height(), c.width());
                 Tensor clean = cpu.allocate(batch, c.channels(), c.height(), c.width())) {
                m.initialise(3);
                losses[t - 1] = new double[4];
                for (int s = 0; s < 4; s++) {
                    int rows = s == 3 ? 5 : batch; // a short last batch: fewer lanes, the last one short
                    cpu.write(noisy, images(c, batch, 10 + s));
                    cpu.write(clean, images(c, batch, 20 + s));
                    losses[t - 1][s] = m.trainStep(noisy.rows(0, rows), clean.rows(0, rows), 1e-3f);
                }
                results[t - 1] = m.parameters().values().toArray();
            }
        }
        for (int t = 1; t < 3; t++) {
            assertArrayEquals(results[0], results[t], kind + ": weights after 4 steps on " + (t + 1) + " threads");
            assertArrayEquals(losses[0], losses[t], kind + ": losses on " + (t + 1) + " threads");
        }
    }
}
