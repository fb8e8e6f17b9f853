package dev.denoise.train;

import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.backend.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Noise specs as written on the command line and in checkpoints, and the range's per-image sigma. */
class NoiseTest {
    private static final CpuBackend cpu = SharedCpu.get();

    @Test
    void specs_parse_and_print_back() {
        for (String spec : new String[] {"gaussian:0.5", "salt-pepper:0.2", "gaussian:0.0..0.2157", "gaussian:0.1..0.1"}) {
            Noise n = Noise.parse(spec);
            assertEquals(n, Noise.parse(n.toString()), spec);
        }
        Noise range = Noise.parse("gaussian:0..0.2157");
        assertTrue(range.isRange());
        assertEquals(0f, range.level());
        assertEquals(0.2157f, range.high());
        assertFalse(Noise.parse("gaussian:0.3..0.3").isRange());
        assertEquals("gaussian:0.5", Noise.parse("gaussian").toString()); // checkpoints of fixed noise read as before
        for (String bad : new String[] {"gaussian:0.3..0.1", "gaussian:0..x", "salt-pepper:0.1..0.2", "gaussian:-1..0.2"}) {
            assertThrows(IllegalArgumentException.class, () -> Noise.parse(bad), bad);
        }
    }

    @Test
    void a_range_gives_each_image_its_own_sigma_and_a_point_range_is_fixed_noise() {
        int n = 32, d = 4096;
        float[] half = new float[n * d];
        Arrays.fill(half, 0.5f);
        try (Tensor clean = cpu.allocate(n, d); Tensor a = cpu.allocate(n, d); Tensor b = cpu.allocate(n, d)) {
            cpu.write(clean, half);
            Noise.parse("gaussian:0.3..0.3").apply(cpu, a, clean, 9, 100);
            Noise.gaussian(0.3f).apply(cpu, b, clean, 9, 100);
            assertArrayEquals(b.toArray(), a.toArray());
            Noise.parse("gaussian:0..0.1").apply(cpu, a, clean, 9, 100);
            float[] v = a.toArray();
            double lo = Double.MAX_VALUE, hi = 0;
            for (int r = 0; r < n; r++) {
                double s = 0;
                for (int k = 0; k < d; k++) s += Math.pow(v[r * d + k] - 0.5, 2);
                double sigma = Math.sqrt(s / d);
                lo = Math.min(lo, sigma);
                hi = Math.max(hi, sigma);
            }
            assertTrue(lo < 0.03 && hi > 0.07 && hi < 0.105, "per-image sigmas from " + lo + " to " + hi);
        }
    }
}
