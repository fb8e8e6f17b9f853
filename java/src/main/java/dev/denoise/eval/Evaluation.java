package dev.denoise.eval;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.data.Dataset;
import dev.denoise.metrics.Baselines;
import dev.denoise.metrics.Psnr;
import dev.denoise.metrics.Ssim;
import dev.denoise.model.Autoencoder;
import dev.denoise.train.Noise;

/**
 * Scoring on a test set: the same noisy images for every model (noise drawn with
 * {@link Noise#TEST_SEED}), mean per-image PSNR (MAX = 1) and SSIM, for the noisy input, the
 * classical baselines and the models.
 */
public final class Evaluation {
    private Evaluation() {}

    public record Scores(double psnr, double ssim) {}

    /** Model output and how fast it came. */
    public record Denoised(float[] images, double seconds, double imagesPerSecond) {}

    /** The test set's noisy twin: the same images for the same noise on every backend. */
    public static float[] noisy(Backend b, Dataset ds, Noise noise) {
        try (Tensor clean = b.allocate(ds.count(), ds.channels(), ds.height(), ds.width());
             Tensor out = b.allocate(ds.count(), ds.channels(), ds.height(), ds.width())) {
            b.write(clean, ds.images());
            noise.apply(b, out, clean, Noise.TEST_SEED, 0);
            return out.toArray();
        }
    }

    public static Scores score(float[] images, Dataset clean) {
        int size = clean.channels() * clean.height() * clean.width();
        double psnr = Psnr.meanPsnr(images, clean.images(), size);
        double ssim = Ssim.meanSsim(images, clean.images(), clean.channels(), clean.height(), clean.width());
        return new Scores(psnr, ssim);
    }

    /** Runs the model over all images (after one warm-up batch, so the timing is steady state). */
    public static Denoised denoise(Autoencoder model, float[] noisy, int count) {
        Backend b = model.backend();
        int c = model.config().channels(), h = model.config().height(), w = model.config().width();
        try (Tensor in = b.allocate(count, c, h, w); Tensor out = b.allocate(count, c, h, w)) {
            b.write(in, noisy);
            int warm = Math.min(count, model.maxBatch());
            model.reconstruct(in.rows(0, warm), out.rows(0, warm));
            b.synchronize();
            long t0 = System.nanoTime();
            model.reconstruct(in, out);
            b.synchronize();
            double s = (System.nanoTime() - t0) / 1e9;
            return new Denoised(out.toArray(), s, count / s);
        }
    }

    public static float[] median3x3(float[] noisy, int count, int c, int h, int w) {
        int size = c * h * w;
        float[] out = new float[noisy.length];
        for (int i = 0; i < count; i++) Baselines.median3x3(noisy, i * size, out, i * size, c, h, w);
        return out;
    }

    public static float[] gaussian(float[] noisy, int count, int c, int h, int w, double sigma) {
        int size = c * h * w;
        float[] out = new float[noisy.length];
        for (int i = 0; i < count; i++) Baselines.gaussianBlur(noisy, i * size, out, i * size, c, h, w, sigma);
        return out;
    }
}
