package dev.denoise.metrics;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BaselinesTest {
    @Test
    void median_removes_isolated_salt_pixels_including_at_the_border() {
        int c = 2, h = 8, w = 9;
        float[] in = new float[c * h * w];
        in[3 * w + 4] = 1f;                 // inside, channel 0
        in[h * w] = 1f;                     // corner, channel 1
        in[h * w + (h - 1) * w + 5] = 1f;   // bottom edge, channel 1
        float[] out = new float[in.length];
        Baselines.median3x3(in, 0, out, 0, c, h, w);
        assertArrayEquals(new float[in.length], out);
    }

    @Test
    void median_matches_brute_force_with_edge_replication() {
        SplittableRandom r = new SplittableRandom(2);
        int c = 3, h = 7, w = 5;
        float[] in = new float[c * h * w + 4];
        for (int i = 0; i < in.length; i++) {
            in[i] = (float) r.nextDouble();
        }
        float[] out = new float[c * h * w + 1];
        Baselines.median3x3(in, 4, out, 1, c, h, w);
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float[] v = new float[9];
                    int k = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) {
                            int yy = Math.clamp(y + dy, 0, h - 1), xx = Math.clamp(x + dx, 0, w - 1);
                            v[k++] = in[4 + ch * h * w + yy * w + xx];
                        }
                    }
                    Arrays.sort(v);
                    assertEquals(v[4], out[1 + ch * h * w + y * w + x]);
                }
            }
        }
    }

    @Test
    void small_sigma_is_nearly_identity_and_zero_sigma_copies() {
        SplittableRandom r = new SplittableRandom(3);
        float[] in = new float[3 * 10 * 12];
        for (int i = 0; i < in.length; i++) {
            in[i] = (float) r.nextDouble();
        }
        float[] out = new float[in.length];
        Baselines.gaussianBlur(in, 0, out, 0, 3, 10, 12, 0.1);
        assertArrayEquals(in, out, 1e-6f);
        Baselines.gaussianBlur(in, 0, out, 0, 3, 10, 12, 0);
        assertArrayEquals(in, out);
        Baselines.gaussianBlur(in, 0, out, 0, 3, 10, 12, -1);
        assertArrayEquals(in, out);
    }

    @Test
    void blur_keeps_constants_smooths_noise_and_works_in_place() {
        float[] flat = new float[6 * 6];
        Arrays.fill(flat, 0.4f);
        float[] out = new float[flat.length];
        Baselines.gaussianBlur(flat, 0, out, 0, 1, 6, 6, 2.0);
        assertArrayEquals(flat, out, 1e-6f);

        SplittableRandom r = new SplittableRandom(4);
        float[] noise = new float[20 * 20];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) r.nextDouble();
        }
        float[] blurred = new float[noise.length];
        Baselines.gaussianBlur(noise, 0, blurred, 0, 1, 20, 20, 1.0);
        assertTrue(variance(blurred) < variance(noise) / 4);

        float[] inPlace = noise.clone();
        Baselines.gaussianBlur(inPlace, 0, inPlace, 0, 1, 20, 20, 1.0);
        assertArrayEquals(blurred, inPlace);

        // Weights 1-D: σ = 1, radius 3; the centre value of an impulse is the product of centre weights.
        float[] impulse = new float[9 * 9];
        impulse[4 * 9 + 4] = 1f;
        out = new float[impulse.length];
        Baselines.gaussianBlur(impulse, 0, out, 0, 1, 9, 9, 1.0);
        double z = 0;
        for (int t = -3; t <= 3; t++) {
            z += Math.exp(-0.5 * t * t);
        }
        assertEquals(1 / (z * z), out[4 * 9 + 4], 1e-7);
        assertEquals(Math.exp(-0.5) / (z * z), out[4 * 9 + 5], 1e-7);
    }

    @Test
    void chosen_sigma_grows_with_the_noise() {
        int n = 20, h = 28, w = 28, size = h * w;
        float[] clean = new float[n * size];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < n; i++) {
            double cx = 8 + 12 * r.nextDouble(), cy = 8 + 12 * r.nextDouble(), s = 3 + 3 * r.nextDouble();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                    clean[i * size + y * w + x] = (float) Math.exp(-d2 / (2 * s * s));
                }
            }
        }
        double weak = Baselines.chooseGaussianSigma(noisy(clean, 0.05, 6), clean, n, 1, h, w);
        double strong = Baselines.chooseGaussianSigma(noisy(clean, 0.4, 6), clean, n, 1, h, w);
        assertTrue(strong > weak, "strong noise chose " + strong + ", weak " + weak);
        assertTrue(weak >= 0.3 && strong <= 2.0);
        // The choice is one of the grid values.
        assertTrue(Arrays.stream(Baselines.sigmaGrid()).anyMatch(g -> g == strong));
        assertEquals(18, Baselines.sigmaGrid().length);
    }

    private static float[] noisy(float[] clean, double std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[clean.length];
        for (int i = 0; i < clean.length; i++) {
            out[i] = (float) Math.clamp(clean[i] + std * r.nextGaussian(), 0, 1);
        }
        return out;
    }

    private static double variance(float[] a) {
        double mean = 0;
        for (float v : a) {
            mean += v;
        }
        mean /= a.length;
        double s = 0;
        for (float v : a) {
            s += (v - mean) * (v - mean);
        }
        return s / a.length;
    }
}
