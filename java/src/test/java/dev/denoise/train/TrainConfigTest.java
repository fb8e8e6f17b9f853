package dev.denoise.train;

import dev.denoise.model.ModelKind;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TrainConfigTest {
    private static final Noise NOISE = Noise.gaussian(0.5f);

    @Test
    void constant_rate_without_decay() {
        TrainConfig c = new TrainConfig(3, 64, 2e-3f, NOISE, 1);
        assertEquals(0f, c.lrDecay());
        for (double p : new double[] {0, 0.5, 0.99, 1}) assertEquals(2e-3f, c.lrAt(p));
    }

    @Test
    void decay_is_linear_to_zero_over_the_last_fraction() {
        TrainConfig c = new TrainConfig(10, 32, 4e-3f, NOISE, 1, 0.4f);
        assertEquals(4e-3f, c.lrAt(0));
        assertEquals(4e-3f, c.lrAt(0.6), 1e-9f);
        assertEquals(2e-3f, c.lrAt(0.8), 1e-9f);
        assertEquals(1e-3f, c.lrAt(0.9), 1e-9f);
        assertEquals(0f, c.lrAt(1));
        TrainConfig whole = new TrainConfig(10, 32, 4e-3f, NOISE, 1, 1f);
        assertEquals(3e-3f, whole.lrAt(0.25), 1e-9f);
    }

    @Test
    void each_kind_has_its_recipe() {
        for (ModelKind k : new ModelKind[] {ModelKind.DENSE, ModelKind.VAE, ModelKind.CONV}) {
            assertEquals(TrainConfig.defaults(5), TrainConfig.defaults(k, 5), k + " keeps the seed's recipe");
        }
        TrainConfig skip = TrainConfig.defaults(ModelKind.SKIP, 5);
        assertEquals(16, skip.batch());
        assertEquals(2e-3f, skip.lr());
        assertEquals(0.4f, skip.lrDecay());
    }

    @Test
    void decay_outside_0_to_1_is_refused() {
        assertThrows(IllegalArgumentException.class, () -> new TrainConfig(1, 1, 1e-3f, NOISE, 1, -0.1f));
        assertThrows(IllegalArgumentException.class, () -> new TrainConfig(1, 1, 1e-3f, NOISE, 1, 1.5f));
        assertThrows(IllegalArgumentException.class, () -> new TrainConfig(1, 1, 1e-3f, NOISE, 1, Float.NaN));
    }
}
