package dev.denoise.metrics;

import java.util.Objects;

/**
 * Structural similarity (Wang, Bovik, Sheikh and Simoncelli 2004) for images with values in [0,1].
 *
 * <p>The definition is the one scikit-image's {@code structural_similarity} uses with
 * {@code gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1}: local
 * means, variances and covariance are weighted by an 11×11 Gaussian window (σ = 1.5, weights
 * summing to 1), K1 = 0.01, K2 = 0.03, L = 1, and
 * <pre>
 *   SSIM = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),  C1 = (K1 L)², C2 = (K2 L)²
 * </pre>
 * averaged over the positions where the window lies wholly inside the image (the "valid" region of
 * the original MATLAB {@code ssim_index}; no padding, so the border does not depend on a padding
 * rule). For several channels the result is the mean of the per-channel values.
 *
 * <p>The window is separable, so each channel is filtered along rows and then along columns, in
 * double. An instance owns the scratch buffers for one image size and allocates nothing per image,
 * because the metric runs over whole test sets (10,000 images per model); it is therefore not
 * thread-safe: use one instance per thread.
 */
public final class Ssim {
    /** Side of the square window. */
    public static final int WINDOW = 11;
    /** Standard deviation of the Gaussian window, in pixels. */
    public static final double SIGMA = 1.5;
    /** Constant of the luminance term: C1 = (K1 L)². */
    public static final double K1 = 0.01;
    /** Constant of the contrast-structure term: C2 = (K2 L)². */
    public static final double K2 = 0.03;
    /** Dynamic range of the pixel values. */
    public static final double L = 1.0;
    static final double C1 = (K1 * L) * (K1 * L);
    static final double C2 = (K2 * L) * (K2 * L);

    private static final double[] KERNEL = gaussianKernel();

    private final int channels;
    private final int height;
    private final int width;
    private final int outHeight;
    private final int outWidth;
    // Row-filtered x, y, x², y², xy for one channel: height × outWidth each.
    private final double[] rx;
    private final double[] ry;
    private final double[] rxx;
    private final double[] ryy;
    private final double[] rxy;

    /**
     * Prepares SSIM for images of the given shape.
     *
     * @throws IllegalArgumentException when there is no channel or the image is smaller than the
     *                                  11×11 window (no valid position)
     */
    public Ssim(int channels, int height, int width) {
        if (channels <= 0) {
            throw new IllegalArgumentException("channels must be positive: " + channels);
        }
        if (height < WINDOW || width < WINDOW) {
            throw new IllegalArgumentException(
                    "SSIM needs images of at least " + WINDOW + "×" + WINDOW + ", got " + height + "×" + width);
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.outHeight = height - WINDOW + 1;
        this.outWidth = width - WINDOW + 1;
        int n = Math.multiplyExact(height, outWidth);
        rx = new double[n];
        ry = new double[n];
        rxx = new double[n];
        ryy = new double[n];
        rxy = new double[n];
    }

    /** Values in one image: channels × height × width. */
    public int imageSize() {
        return channels * height * width;
    }

    /**
     * SSIM of the image at {@code a[aOff..]} against the one at {@code b[bOff..]} (both NCHW,
     * channel planes one after the other); 1 for identical images.
     */
    public double ssim(float[] a, int aOff, float[] b, int bOff) {
        int size = imageSize();
        Objects.checkFromIndexSize(aOff, size, a.length);
        Objects.checkFromIndexSize(bOff, size, b.length);
        int plane = height * width;
        double sum = 0;
        for (int c = 0; c < channels; c++) {
            sum += channel(a, aOff + c * plane, b, bOff + c * plane);
        }
        return sum / channels;
    }

    /**
     * Mean SSIM over the consecutive images of shape (channels, height, width) in {@code a} and
     * {@code b}.
     */
    public double meanSsim(float[] a, float[] b) {
        int size = imageSize();
        int count = Psnr.imageCount(a, b, size);
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += ssim(a, i * size, b, i * size);
        }
        return sum / count;
    }

    /** Mean SSIM over consecutive images; see {@link #meanSsim(float[], float[])}. */
    public static double meanSsim(float[] a, float[] b, int channels, int height, int width) {
        return new Ssim(channels, height, width).meanSsim(a, b);
    }

    private double channel(float[] a, int aOff, float[] b, int bOff) {
        double[] k = KERNEL;
        // Along rows: every row, only the columns where the window fits.
        for (int y = 0; y < height; y++) {
            int ia = aOff + y * width;
            int ib = bOff + y * width;
            int o = y * outWidth;
            for (int x = 0; x < outWidth; x++) {
                double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
                for (int t = 0; t < WINDOW; t++) {
                    double w = k[t];
                    double va = a[ia + x + t];
                    double vb = b[ib + x + t];
                    double wa = w * va;
                    double wb = w * vb;
                    sx += wa;
                    sy += wb;
                    sxx += wa * va;
                    syy += wb * vb;
                    sxy += wa * vb;
                }
                rx[o + x] = sx;
                ry[o + x] = sy;
                rxx[o + x] = sxx;
                ryy[o + x] = syy;
                rxy[o + x] = sxy;
            }
        }
        // Along columns, then the SSIM of each valid position.
        double total = 0;
        for (int y = 0; y < outHeight; y++) {
            for (int x = 0; x < outWidth; x++) {
                double mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
                int i = y * outWidth + x;
                for (int t = 0; t < WINDOW; t++, i += outWidth) {
                    double w = k[t];
                    mx += w * rx[i];
                    my += w * ry[i];
                    mxx += w * rxx[i];
                    myy += w * ryy[i];
                    mxy += w * rxy[i];
                }
                double vx = mxx - mx * mx;
                double vy = myy - my * my;
                double vxy = mxy - mx * my;
                total += ((2 * mx * my + C1) * (2 * vxy + C2))
                        / ((mx * mx + my * my + C1) * (vx + vy + C2));
            }
        }
        return total / ((double) outHeight * outWidth);
    }

    /** The 1-D Gaussian of the separable window: exp(-t²/2σ²) for t in [-5, 5], summing to 1. */
    static double[] gaussianKernel() {
        int r = WINDOW / 2;
        double[] k = new double[WINDOW];
        double sum = 0;
        for (int t = -r; t <= r; t++) {
            k[t + r] = Math.exp(-0.5 * t * t / (SIGMA * SIGMA));
            sum += k[t + r];
        }
        for (int t = 0; t < WINDOW; t++) {
            k[t] /= sum;
        }
        return k;
    }
}
