package dev.denoise.metrics;

import java.util.Arrays;
import java.util.Objects;

/**
 * Classical denoisers that a learned model has to beat: a 3×3 median filter (good on salt and
 * pepper noise) and a Gaussian blur (good on Gaussian noise, with σ tuned on validation images).
 *
 * <p>Both work on one image of shape (C, H, W), channel planes one after the other, each channel on
 * its own. Outside the image the nearest edge pixel is repeated (scipy.ndimage's
 * {@code mode='nearest'}), so the border is neither darkened, as zero padding would, nor mirrored.
 */
public final class Baselines {
    private static final double[] SIGMA_GRID = buildSigmaGrid();

    private Baselines() {
    }

    /**
     * 3×3 median of every pixel of the image at {@code in[off..]} into {@code out[outOff..]}.
     * The two ranges must not overlap.
     */
    public static void median3x3(float[] in, int off, float[] out, int outOff, int C, int H, int W) {
        int size = checkShape(C, H, W);
        Objects.checkFromIndexSize(off, size, in.length);
        Objects.checkFromIndexSize(outOff, size, out.length);
        float[] window = new float[9];
        int plane = H * W;
        for (int c = 0; c < C; c++) {
            int src = off + c * plane;
            int dst = outOff + c * plane;
            for (int y = 0; y < H; y++) {
                int up = src + Math.max(y - 1, 0) * W;
                int mid = src + y * W;
                int down = src + Math.min(y + 1, H - 1) * W;
                for (int x = 0; x < W; x++) {
                    int l = Math.max(x - 1, 0);
                    int r = Math.min(x + 1, W - 1);
                    window[0] = in[up + l];
                    window[1] = in[up + x];
                    window[2] = in[up + r];
                    window[3] = in[mid + l];
                    window[4] = in[mid + x];
                    window[5] = in[mid + r];
                    window[6] = in[down + l];
                    window[7] = in[down + x];
                    window[8] = in[down + r];
                    out[dst + y * W + x] = median9(window);
                }
            }
        }
    }

    /**
     * Gaussian blur of the image at {@code in[off..]} into {@code out[outOff..]} with standard
     * deviation {@code sigma} pixels, truncated at radius ⌈3σ⌉ and normalised to sum 1; σ ≤ 0
     * copies. Separable, in double; {@code out} may be the same range as {@code in}.
     */
    public static void gaussianBlur(float[] in, int off, float[] out, int outOff, int C, int H, int W,
                                    double sigma) {
        int size = checkShape(C, H, W);
        Objects.checkFromIndexSize(off, size, in.length);
        Objects.checkFromIndexSize(outOff, size, out.length);
        if (!(sigma > 0)) {
            System.arraycopy(in, off, out, outOff, size);
            return;
        }
        blur(in, off, out, outOff, C, H, W, gaussianKernel(sigma), new double[H * W]);
    }

    /**
     * The σ of {@link #sigmaGrid()} whose Gaussian blur of the {@code count} noisy images gives the
     * highest mean PSNR against the clean ones (the smallest such σ on a tie), so the baseline is
     * tuned on validation data the same way a model would be.
     */
    public static double chooseGaussianSigma(float[] noisy, float[] clean, int count, int C, int H, int W) {
        int size = checkShape(C, H, W);
        if (count <= 0) {
            throw new IllegalArgumentException("no validation images");
        }
        long total = (long) size * count;
        if (noisy.length < total || clean.length < total) {
            throw new IllegalArgumentException("fewer than " + count + " images of " + size + " values");
        }
        float[] blurred = new float[size];
        double[] scratch = new double[H * W];
        double best = Double.NaN;
        double bestPsnr = Double.NEGATIVE_INFINITY;
        for (double sigma : SIGMA_GRID) {
            double[] kernel = gaussianKernel(sigma);
            double sum = 0;
            for (int i = 0; i < count; i++) {
                blur(noisy, i * size, blurred, 0, C, H, W, kernel, scratch);
                sum += Psnr.psnr(blurred, 0, clean, i * size, size);
            }
            double mean = sum / count;
            if (mean > bestPsnr) {
                bestPsnr = mean;
                best = sigma;
            }
        }
        return best;
    }

    /** exp(-t²/2σ²) for t in [-⌈3σ⌉, ⌈3σ⌉], normalised to sum 1. */
    static double[] gaussianKernel(double sigma) {
        int r = (int) Math.ceil(3 * sigma);
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int t = -r; t <= r; t++) {
            k[t + r] = Math.exp(-0.5 * t * t / (sigma * sigma));
            sum += k[t + r];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        return k;
    }

    private static void blur(float[] in, int off, float[] out, int outOff, int C, int H, int W,
                             double[] kernel, double[] tmp) {
        int r = kernel.length / 2;
        int plane = H * W;
        for (int c = 0; c < C; c++) {
            int src = off + c * plane;
            int dst = outOff + c * plane;
            for (int y = 0; y < H; y++) {
                int row = src + y * W;
                for (int x = 0; x < W; x++) {
                    double s = 0;
                    for (int t = -r; t <= r; t++) {
                        s += kernel[t + r] * in[row + clamp(x + t, W)];
                    }
                    tmp[y * W + x] = s;
                }
            }
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    double s = 0;
                    for (int t = -r; t <= r; t++) {
                        s += kernel[t + r] * tmp[clamp(y + t, H) * W + x];
                    }
                    out[dst + y * W + x] = (float) s;
                }
            }
        }
    }

    private static int clamp(int i, int n) {
        return i < 0 ? 0 : (i >= n ? n - 1 : i);
    }

    private static float median9(float[] v) {
        // Insertion sort of nine values: small enough that a network would not pay off here.
        for (int i = 1; i < 9; i++) {
            float x = v[i];
            int j = i - 1;
            while (j >= 0 && v[j] > x) {
                v[j + 1] = v[j];
                j--;
            }
            v[j + 1] = x;
        }
        return v[4];
    }

    private static int checkShape(int C, int H, int W) {
        if (C <= 0 || H <= 0 || W <= 0) {
            throw new IllegalArgumentException("bad image shape " + C + "×" + H + "×" + W);
        }
        return Math.multiplyExact(Math.multiplyExact(C, H), W);
    }

    private static double[] buildSigmaGrid() {
        double[] g = new double[18];
        for (int i = 0; i < g.length; i++) {
            g[i] = (i + 3) / 10.0;
        }
        return g;
    }

    /** The σ values {@link #chooseGaussianSigma} tries: 0.3, 0.4, …, 2.0 (a copy). */
    public static double[] sigmaGrid() {
        return Arrays.copyOf(SIGMA_GRID, SIGMA_GRID.length);
    }
}
