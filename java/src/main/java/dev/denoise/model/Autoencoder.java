package dev.denoise.model;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.nn.Parameters;

/**
 * A denoising autoencoder on one backend: noisy images in, logits out, sigmoid for the image.
 * The last layer is linear (logits) so the loss can fuse sigmoid and cross-entropy stably.
 * Everything is sized for {@link #maxBatch()} at construction; nothing is allocated per step.
 */
public abstract class Autoencoder implements AutoCloseable {
    protected final Backend backend;
    protected final ModelConfig config;
    protected final Parameters params;
    protected final int maxBatch;
    private final Tensor loss, dlogits;
    private final float[] lossHost;

    protected Autoencoder(Backend backend, ModelConfig config, Parameters.Spec spec, int maxBatch) {
        if (maxBatch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + maxBatch);
        this.backend = backend;
        this.config = config;
        this.maxBatch = maxBatch;
        this.params = new Parameters(backend, spec);
        this.loss = backend.allocate(maxBatch);
        this.dlogits = backend.allocate(maxBatch, config.channels(), config.height(), config.width());
        this.lossHost = new float[maxBatch];
    }

    /** Builds the model of config.kind() (weights uninitialised: call {@link #initialise} or load). */
    public static Autoencoder create(Backend backend, ModelConfig config, int maxBatch) {
        return switch (config.kind()) {
            case DENSE -> new DenseAutoencoder(backend, config, maxBatch);
            case VAE -> new VariationalAutoencoder(backend, config, maxBatch);
            case CONV -> new ConvAutoencoder(backend, config, maxBatch);
            case SKIP -> new SkipAutoencoder(backend, config, maxBatch);
        };
    }

    public ModelConfig config() { return config; }
    public Parameters parameters() { return params; }
    public Backend backend() { return backend; }
    public int maxBatch() { return maxBatch; }

    /** PyTorch-default initialisation from a seed; also seeds the model's own sampling noise. */
    public void initialise(long seed) {
        params.initialise(seed);
    }

    /** Logits (B, C, H, W) for a batch; training selects sampling (VAE) and keeps state for backward. */
    protected abstract Tensor forward(Tensor noisy, boolean training);

    /** Backward from dlogits (overwritten), filling the parameter gradients. */
    protected abstract void backward(Tensor dlogits);

    /** The loss of the last forward against clean, its gradient into dlogits; returns the batch loss. */
    protected double lossAndGradient(Tensor logits, Tensor clean, Tensor loss, Tensor dlogits) {
        int n = logits.dim(0);
        long d = logits.numel() / n;
        backend.sigmoid_bce_forward(loss, logits, clean);
        backend.sigmoid_bce_backward(dlogits, logits, clean, 1f / (n * d));
        return sumLoss(loss) / ((double) n * d); // BCE, mean over pixels
    }

    /** Sum of a per-image loss vector, in image order (so the same on every device). */
    protected double sumLoss(Tensor perImage) {
        int n = perImage.dim(0);
        backend.read(perImage, lossHost);
        double s = 0;
        for (int i = 0; i < n; i++) s += lossHost[i];
        return s;
    }

    /** One training step: forward, loss, backward, Adam. Returns the batch loss (NaN/Inf left for the caller). */
    public double trainStep(Tensor noisy, Tensor clean, float lr) {
        double l = computeGradients(noisy, clean);
        params.adamStep(lr);
        return l;
    }

    /** Forward, loss and backward without updating: the gradients land in parameters().grads(). */
    public double computeGradients(Tensor noisy, Tensor clean) {
        int n = noisy.dim(0);
        if (n > maxBatch) throw new IllegalArgumentException("batch of " + n + " exceeds the model's " + maxBatch);
        Tensor logits = forward(noisy, true);
        Tensor dl = dlogits.rows(0, n);
        double l = lossAndGradient(logits, clean, loss.rows(0, n), dl);
        backward(dl);
        return l;
    }

    /** Loss of a batch without training (for validation). */
    public double evaluateLoss(Tensor noisy, Tensor clean) {
        int n = noisy.dim(0);
        Tensor logits = forward(noisy, false);
        return lossAndGradient(logits, clean, loss.rows(0, n), dlogits.rows(0, n));
    }

    /** Denoised images (sigmoid of the logits) for any number of images, in chunks of maxBatch. */
    public void reconstruct(Tensor noisy, Tensor out) {
        int total = noisy.dim(0);
        for (int i = 0; i < total; i += maxBatch) {
            int j = Math.min(total, i + maxBatch);
            Tensor logits = forward(noisy.rows(i, j), false);
            backend.bias_act_forward(out.rows(i, j), logits, null, Activation.SIGMOID);
        }
    }

    @Override
    public void close() {
        params.close();
        loss.close();
        dlogits.close();
    }
}
