package dev.denoise.eval;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.data.Dataset;
import dev.denoise.metrics.Baselines;
import dev.denoise.metrics.Psnr;
import dev.denoise.metrics.Ssim;
import dev.denoise.model.Autoencoder;
import dev.denoise.train.Noise;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scoring on a test set: the same noisy images for every model (noise drawn with
 * {@link Noise#TEST_SEED}), mean per-image PSNR (MAX = 1) and SSIM, for the noisy input, the
 * classical baselines and the models.
 */
public final class Evaluation {
    private Evaluation() {}

    /**
     * Mean per-image scores of a set of images against the clean ones.
     *
     * @param psnr mean PSNR in dB (MAX = 1)
     * @param ssim mean SSIM, 1 for identical images
     */
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

    /** Scores of images (NCHW, the shape of clean) against clean. */
    public static Scores score(float[] images, Dataset clean) {
        int size = clean.channels() * clean.height() * clean.width();
        double psnr = Psnr.meanPsnr(images, clean.images(), size);
        double ssim = Ssim.meanSsim(images, clean.images(), clean.channels(), clean.height(), clean.width());
        return new Scores(psnr, ssim);
    }

    /**
     * Runs the model over all images, batch by batch, and times it end to end: uploads, the model
     * and downloads. Batches stream through two pairs of staging buffers (page-locked on a GPU), so
     * the host fills batch k + 1 and empties batch k − 1 while the device works on batch k, and
     * never waits for it except where a buffer is still in use. Every batch shape (the full one and
     * the last, shorter one) runs once before the timing, so cuDNN's algorithm choice is not timed.
     */
    public static Denoised denoise(Autoencoder model, float[] noisy, int count) {
        Backend b = model.backend();
        int c = model.config().channels(), h = model.config().height(), w = model.config().width(), d = c * h * w;
        int bs = Math.min(count, model.maxBatch());
        float[] result = new float[Math.multiplyExact(count, d)];
        if (count == 0) return new Denoised(result, 0, 0);
        try (Tensor in = b.allocate(bs, c, h, w); Tensor out = b.allocate(bs, c, h, w);
             Backend.Staging in0 = b.staging((long) bs * d); Backend.Staging in1 = b.staging((long) bs * d);
             Backend.Staging out0 = b.staging((long) bs * d); Backend.Staging out1 = b.staging((long) bs * d)) {
            for (int shape : new int[] {bs, count % bs}) {
                if (shape > 0) model.reconstruct(in.rows(0, shape), out.rows(0, shape));
            }
            b.synchronize();
            Backend.Staging[] ins = {in0, in1}, outs = {out0, out1};
            int[] pendingAt = {-1, -1}, pendingCount = {0, 0};
            long t0 = System.nanoTime();
            for (int k = 0, i = 0; i < count; k++, i += bs) {
                int m = Math.min(bs, count - i), slot = k & 1;
                Tensor tin = in.rows(0, m), tout = out.rows(0, m);
                ins[slot].await(); // its upload two batches ago has left it
                MemorySegment.copy(noisy, i * d, ins[slot].memory(), ValueLayout.JAVA_FLOAT, 0, m * d);
                b.upload(tin, ins[slot], 0);
                model.reconstruct(tin, tout);
                collect(outs[slot], pendingAt[slot], pendingCount[slot] * d, result);
                b.download(outs[slot], 0, tout);
                pendingAt[slot] = i * d;
                pendingCount[slot] = m;
            }
            for (int slot = 0; slot < 2; slot++) collect(outs[slot], pendingAt[slot], pendingCount[slot] * d, result);
            double s = (System.nanoTime() - t0) / 1e9;
            return new Denoised(result, s, count / s);
        }
    }

    /** Waits for the download into stage (if any) and copies its n values to result at at. */
    private static void collect(Backend.Staging stage, int at, int n, float[] result) {
        if (at < 0) return;
        stage.await();
        MemorySegment.copy(stage.memory(), ValueLayout.JAVA_FLOAT, 0, result, at, n);
    }

    /** The 3×3 median filter baseline over count images of (c, h, w), each on its own. */
    public static float[] median3x3(float[] noisy, int count, int c, int h, int w) {
        int size = c * h * w;
        float[] out = new float[noisy.length];
        for (int i = 0; i < count; i++) Baselines.median3x3(noisy, i * size, out, i * size, c, h, w);
        return out;
    }

    /** The Gaussian blur baseline with sigma in pixels over count images of (c, h, w), each on its own. */
    public static float[] gaussian(float[] noisy, int count, int c, int h, int w, double sigma) {
        int size = c * h * w;
        float[] out = new float[noisy.length];
        for (int i = 0; i < count; i++) Baselines.gaussianBlur(noisy, i * size, out, i * size, c, h, w, sigma);
        return out;
    }
}
