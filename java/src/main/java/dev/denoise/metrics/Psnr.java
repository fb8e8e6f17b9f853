package dev.denoise.metrics;

/**
 * Peak signal-to-noise ratio for images with values in [0,1], so MAX = 1 and
 * PSNR = 10·log10(1 / MSE) decibels.
 *
 * <p>The squared error is accumulated in double so that the result does not depend on the
 * magnitude of the image (float sums of 784 small squares lose digits that matter at high PSNR).
 * Identical images have an infinite PSNR; they are reported as {@link #IDENTICAL_DB} instead, so
 * that a mean over a test set stays finite and comparable.
 */
public final class Psnr {
    /** The value reported for two identical images (MSE = 0), instead of +∞. */
    public static final double IDENTICAL_DB = 100.0;

    private Psnr() {
    }

    /**
     * PSNR in dB of {@code len} values of {@code a} from {@code aOff} against {@code b} from
     * {@code bOff}; {@link #IDENTICAL_DB} when they are equal.
     */
    public static double psnr(float[] a, int aOff, float[] b, int bOff, int len) {
        if (len <= 0) {
            throw new IllegalArgumentException("PSNR of an empty image");
        }
        java.util.Objects.checkFromIndexSize(aOff, len, a.length);
        java.util.Objects.checkFromIndexSize(bOff, len, b.length);
        double sum = 0;
        for (int i = 0; i < len; i++) {
            double d = (double) a[aOff + i] - b[bOff + i];
            sum += d * d;
        }
        return fromMse(sum / len);
    }

    /** PSNR in dB for a given mean squared error, with the {@link #IDENTICAL_DB} cap at zero. */
    public static double fromMse(double mse) {
        if (mse <= 0) {
            return IDENTICAL_DB;
        }
        return Math.min(IDENTICAL_DB, 10.0 * Math.log10(1.0 / mse));
    }

    /**
     * Mean of the per-image PSNR over the consecutive images of {@code imageSize} values that
     * {@code a} and {@code b} hold (the average of per-image dB, as papers report it, not the
     * PSNR of the pooled MSE).
     */
    public static double meanPsnr(float[] a, float[] b, int imageSize) {
        int count = imageCount(a, b, imageSize);
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += psnr(a, i * imageSize, b, i * imageSize, imageSize);
        }
        return sum / count;
    }

    static int imageCount(float[] a, float[] b, int imageSize) {
        if (imageSize <= 0) {
            throw new IllegalArgumentException("image size must be positive: " + imageSize);
        }
        if (a.length != b.length) {
            throw new IllegalArgumentException("arrays differ in length: " + a.length + " vs " + b.length);
        }
        if (a.length == 0 || a.length % imageSize != 0) {
            throw new IllegalArgumentException(
                    "length " + a.length + " is not a positive multiple of the image size " + imageSize);
        }
        return a.length / imageSize;
    }
}
