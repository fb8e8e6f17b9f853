package dev.denoise.backend;

import dev.denoise.ffm.DenoiseNative;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The noise generator: Philox 4x32-10 against the known-answer vectors of Random123
 * (Salmon et al., SC'11, tests/kat_vectors), the element-to-counter layout (elements 2j and 2j+1 of
 * stream (seed, offset) are the Box-Muller pair of counter (j, offset) and key seed; a uniform's
 * element i uses counter (i, offset)), pinned normals, and the statistics of the
 * noise ops. The CUDA kernels must reproduce the same bits (checked by the GPU parity tests).
 */
class PhiloxTest {
    private static final CpuBackend cpu = SharedCpu.get();

    static int[] philox(int[] ctr, int[] key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(16), c = a.allocateFrom(ValueLayout.JAVA_INT, ctr),
                    k = a.allocateFrom(ValueLayout.JAVA_INT, key);
            DenoiseNative.philox4x32_10(out, c, k);
            return out.toArray(ValueLayout.JAVA_INT);
        }
    }

    @Test
    void known_answers_of_random123() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                philox(new int[] {0, 0, 0, 0}, new int[] {0, 0}));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                philox(new int[] {-1, -1, -1, -1}, new int[] {-1, -1}));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                philox(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, new int[] {0xa4093822, 0x299f31d0}));
    }

    /**
     * Normals of (seed 42, offset 7), elements 0..3: pinned bits, so a change of the stream is seen.
     * Elements 0 and 2 are the cos halves of blocks 0 and 1, elements 1 and 3 their sin halves.
     */
    @Test
    void pinned_normals() {
        try (Tensor t = cpu.allocate(4)) {
            cpu.noise_normal(t, 42, 7);
            float[] v = t.toArray();
            int[] bits = {0x3f8856db, 0xbf514952, 0xbea8419a, 0x3ea7c2c6};
            for (int i = 0; i < 4; i++) {
                assertEquals(bits[i], Float.floatToRawIntBits(v[i]), "normal " + i + " = " + v[i]);
            }
        }
    }

    /** A seed or an offset selects another stream: no draw repeats between them. */
    @Test
    void streams_are_keyed_by_seed_and_offset() {
        try (Tensor a = cpu.allocate(64); Tensor b = cpu.allocate(64); Tensor c = cpu.allocate(64)) {
            cpu.noise_normal(a, 1, 0);
            cpu.noise_normal(b, 2, 0);
            cpu.noise_normal(c, 1, 1);
            float[] x = a.toArray(), y = b.toArray(), z = c.toArray();
            int same = 0;
            for (int i = 0; i < 64; i++) if (x[i] == y[i] || x[i] == z[i]) same++;
            assertEquals(0, same, "different seeds or offsets give different draws");
        }
    }

    @Test
    void normal_statistics() {
        int n = 1 << 20;
        try (Tensor t = cpu.allocate(n)) {
            cpu.noise_normal(t, 123, 0);
            double s = 0, s2 = 0, tail = 0;
            for (float v : t.toArray()) {
                s += v;
                s2 += (double) v * v;
                if (Math.abs(v) > 2) tail++;
            }
            double mean = s / n, std = Math.sqrt(s2 / n - mean * mean);
            // standard errors: mean 1/√n ≈ 0.001, std ≈ 0.0007, P(|z|>2) = 0.0455 ± 0.0002
            assertEquals(0, mean, 0.005, "mean");
            assertEquals(1, std, 0.005, "std");
            assertEquals(0.0455, tail / n, 0.001, "P(|z| > 2)");
        }
    }

    @Test
    void gaussian_noise_clips_and_salt_pepper_hits_p() {
        int n = 1 << 20;
        float[] half = new float[n];
        java.util.Arrays.fill(half, 0.5f);
        try (Tensor in = cpu.allocate(n); Tensor out = cpu.allocate(n)) {
            cpu.write(in, half);
            cpu.noise_gaussian(out, in, 0.3f, 9, 0);
            int lo = 0, hi = 0;
            for (float v : out.toArray()) {
                assertTrue(v >= 0 && v <= 1, "clipped to [0,1]: " + v);
                if (v == 0) lo++;
                if (v == 1) hi++;
            }
            // P(0.5 + 0.3 z < 0) = Φ(−5/3) = 0.0478
            assertEquals(0.0478, (double) lo / n, 0.002, "fraction clipped to 0");
            assertEquals(0.0478, (double) hi / n, 0.002, "fraction clipped to 1");

            cpu.noise_salt_pepper(out, in, 0.2f, 9, 0);
            int zeros = 0, ones = 0, kept = 0;
            for (float v : out.toArray()) {
                if (v == 0) zeros++;
                else if (v == 1) ones++;
                else if (v == 0.5f) kept++;
            }
            assertEquals(0.1, (double) zeros / n, 0.002, "pepper");
            assertEquals(0.1, (double) ones / n, 0.002, "salt");
            assertEquals(n, zeros + ones + kept, "every element is 0, 1 or kept");
        }
    }
}
