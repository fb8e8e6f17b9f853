package dev.denoise.metrics;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SSIM against two references: values computed outside Java with numpy/scipy the way
 * scikit-image's structural_similarity computes them (Gaussian filter σ = 1.5, truncate 3.5, then
 * the 5-pixel border cropped, which leaves exactly the valid positions), and a direct 2-D window
 * sum written here with no separability and no scratch reuse.
 */
class SsimTest {
    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextDouble();
        }
        return a;
    }

    /** Straightforward SSIM: for each valid position, the weighted sums over the 11×11 window. */
    static double reference(float[] a, int aOff, float[] b, int bOff, int C, int H, int W) {
        double[] g = new double[11];
        double s = 0;
        for (int t = -5; t <= 5; t++) {
            g[t + 5] = Math.exp(-(t * t) / (2 * 1.5 * 1.5));
            s += g[t + 5];
        }
        double[][] w = new double[11][11];
        double wsum = 0;
        for (int i = 0; i < 11; i++) {
            for (int j = 0; j < 11; j++) {
                w[i][j] = g[i] * g[j];
                wsum += w[i][j];
            }
        }
        double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
        double total = 0;
        for (int c = 0; c < C; c++) {
            double sum = 0;
            int n = 0;
            for (int y = 0; y + 11 <= H; y++) {
                for (int x = 0; x + 11 <= W; x++) {
                    double mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
                    for (int i = 0; i < 11; i++) {
                        for (int j = 0; j < 11; j++) {
                            double wt = w[i][j] / wsum;
                            double va = a[aOff + c * H * W + (y + i) * W + x + j];
                            double vb = b[bOff + c * H * W + (y + i) * W + x + j];
                            mx += wt * va;
                            my += wt * vb;
                            mxx += wt * va * va;
                            myy += wt * vb * vb;
                            mxy += wt * va * vb;
                        }
                    }
                    double vx = mxx - mx * mx, vy = myy - my * my, vxy = mxy - mx * my;
                    sum += (2 * mx * my + c1) * (2 * vxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                    n++;
                }
            }
            total += sum / n;
        }
        return total / C;
    }

    @Test
    void identical_images_give_one() {
        SplittableRandom r = new SplittableRandom(1);
        float[] a = random(r, 3 * 28 * 28);
        assertEquals(1.0, new Ssim(3, 28, 28).ssim(a, 0, a.clone(), 0), 1e-12);
        float[] flat = new float[28 * 28];
        assertEquals(1.0, new Ssim(1, 28, 28).ssim(flat, 0, flat, 0), 1e-12);
    }

    @Test
    void gradient_against_pattern_matches_scipy_reference() {
        int h = 16, w = 16;
        float[] a = new float[h * w];
        float[] b = new float[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                a[y * w + x] = (float) ((x + y) / 30.0);
                b[y * w + x] = (float) (0.8 * (x + y) / 30.0 + 0.1 * ((3 * x + 5 * y) % 7) / 7.0);
            }
        }
        assertEquals(0.8908536079142567, new Ssim(1, h, w).ssim(a, 0, b, 0), 1e-12);
        float[] dimmed = new float[h * w];
        for (int i = 0; i < a.length; i++) {
            dimmed[i] = (float) (a[i] * 0.5 + 0.3);
        }
        assertEquals(0.8172964721031399, new Ssim(1, h, w).ssim(a, 0, dimmed, 0), 1e-12);
    }

    @Test
    void three_channels_match_scipy_reference() {
        int h = 12, w = 20, plane = h * w;
        float[] a = new float[3 * plane];
        float[] b = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double m = ((x * (c + 1) + y * 2) % 17) / 16.0;
                    a[c * plane + y * w + x] = (float) m;
                    b[c * plane + y * w + x] = (float) Math.clamp(m * 0.9 + 0.05 * ((x * y + c) % 5) / 4.0, 0, 1);
                }
            }
        }
        assertEquals(0.9920262762446628, new Ssim(3, h, w).ssim(a, 0, b, 0), 1e-12);
    }

    @Test
    void separable_filter_matches_direct_window_sums() {
        SplittableRandom r = new SplittableRandom(7);
        int[][] shapes = {{1, 28, 28}, {3, 17, 23}, {1, 11, 11}, {2, 11, 30}};
        for (int[] s : shapes) {
            int size = s[0] * s[1] * s[2];
            float[] a = random(r, size + 5);
            float[] b = new float[size + 3];
            for (int i = 0; i < size; i++) {
                b[i + 3] = (float) Math.clamp(a[i + 5] + 0.2 * (r.nextDouble() - 0.5), 0, 1);
            }
            Ssim ssim = new Ssim(s[0], s[1], s[2]);
            double want = reference(a, 5, b, 3, s[0], s[1], s[2]);
            assertEquals(want, ssim.ssim(a, 5, b, 3), 1e-9);
            // The scratch is reused: a second call on the same instance gives the same bits.
            assertEquals(ssim.ssim(a, 5, b, 3), ssim.ssim(a, 5, b, 3));
        }
    }

    @Test
    void symmetric() {
        SplittableRandom r = new SplittableRandom(3);
        float[] a = random(r, 28 * 28);
        float[] b = random(r, 28 * 28);
        Ssim ssim = new Ssim(1, 28, 28);
        assertEquals(ssim.ssim(a, 0, b, 0), ssim.ssim(b, 0, a, 0), 1e-15);
    }

    @Test
    void constant_shift_lowers_it() {
        SplittableRandom r = new SplittableRandom(5);
        float[] a = new float[28 * 28];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (0.2 + 0.5 * r.nextDouble());
        }
        Ssim ssim = new Ssim(1, 28, 28);
        double previous = 1.0;
        for (float shift : new float[]{0.05f, 0.1f, 0.2f, 0.3f}) {
            float[] b = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                b[i] = a[i] + shift;
            }
            double s = ssim.ssim(a, 0, b, 0);
            assertTrue(s < previous, "shift " + shift + " gave " + s + ", not below " + previous);
            previous = s;
        }
    }

    @Test
    void mean_over_images() {
        SplittableRandom r = new SplittableRandom(11);
        int size = 2 * 14 * 13;
        float[] a = random(r, 3 * size);
        float[] b = random(r, 3 * size);
        Ssim ssim = new Ssim(2, 14, 13);
        double want = (ssim.ssim(a, 0, b, 0) + ssim.ssim(a, size, b, size) + ssim.ssim(a, 2 * size, b, 2 * size)) / 3;
        assertEquals(want, Ssim.meanSsim(a, b, 2, 14, 13), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> Ssim.meanSsim(a, new float[size], 2, 14, 13));
    }

    @Test
    void refuses_images_smaller_than_the_window() {
        assertThrows(IllegalArgumentException.class, () -> new Ssim(1, 10, 28));
        assertThrows(IllegalArgumentException.class, () -> new Ssim(1, 28, 10));
        assertThrows(IllegalArgumentException.class, () -> new Ssim(0, 28, 28));
        assertThrows(IndexOutOfBoundsException.class,
                () -> new Ssim(1, 11, 11).ssim(new float[121], 1, new float[121], 0));
    }
}
