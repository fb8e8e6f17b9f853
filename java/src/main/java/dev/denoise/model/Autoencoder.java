package dev.denoise.model;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.nn.Parameters;

/**
 * A denoising autoencoder on one backend: noisy images in, logits out, sigmoid for the image.
 * The last layer is linear (logits) so the loss can fuse sigmoid and cross-entropy stably.
 * Everything is sized for {@link #maxBatch()} at construction; nothing is allocated per step.
 *
 * <p>A training step comes in two halves, so that a GPU can record the second once and replay it:
 * {@link #prepareStep} is host bookkeeping (Adam's step count, the VAE's sampling offset) written
 * into the model's step values in device memory, and {@link #runStep} only queues ops that read
 * them: forward, loss (added into a device accumulator, never read back here), backward, Adam.
 */
public abstract class Autoencoder implements AutoCloseable {
    protected final Backend backend;
    protected final ModelConfig config;
    protected final Parameters params;
    protected final int maxBatch;
    private final Tensor loss, dlogits, stepValues, stepLoss;

    protected Autoencoder(Backend backend, ModelConfig config, Parameters.Spec spec, int maxBatch) {
        if (maxBatch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + maxBatch);
        this.backend = backend;
        this.config = config;
        this.maxBatch = maxBatch;
        this.params = new Parameters(backend, spec);
        this.loss = backend.allocate(maxBatch);
        this.dlogits = backend.allocate(maxBatch, config.channels(), config.height(), config.width());
        this.stepValues = backend.allocate(8);
        this.stepLoss = backend.allocate(1);
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

    /** Adam's {lr, corrections} for the coming step, in device memory: words 0..2 of the step values. */
    private Tensor adamHyper() {
        return stepValues.slice(0, 3);
    }

    /** A 64-bit offset the coming step reads (words 4..5 of the step values, 8-byte aligned). */
    protected Tensor stepOffset() {
        return stepValues.slice(4, 2);
    }

    /** Logits (B, C, H, W) for a batch; training selects sampling (VAE) and keeps state for backward. */
    protected abstract Tensor forward(Tensor noisy, boolean training);

    /** Backward from dlogits (overwritten), filling the parameter gradients. */
    protected abstract void backward(Tensor dlogits);

    /**
     * The loss of the last forward against clean and its gradient into dlogits; lossSum (1) gains
     * the batch's sum of per-image losses, each per pixel (BCE averaged over an image's values).
     */
    protected void lossAndGradient(Tensor logits, Tensor clean, Tensor loss, Tensor dlogits, Tensor lossSum) {
        int n = logits.dim(0);
        long d = logits.numel() / n;
        backend.sigmoid_bce_forward(loss, logits, clean);
        backend.sigmoid_bce_backward(dlogits, logits, clean, 1f / (n * d));
        backend.sum_scaled(lossSum, loss, 1f / d, true);
    }

    /** Host side of the sampling noise of a step of n images (the VAE's offset); nothing here. */
    protected void prepareSampling(int n) {}

    /**
     * The host half of a training step of n images at learning rate lr: counts the Adam step and
     * writes the step's values (Adam's rate and corrections, sampling offsets) in stream order.
     */
    public void prepareStep(int n, float lr) {
        checkBatch(n);
        params.prepareAdamStep(adamHyper(), lr);
        prepareSampling(n);
    }

    /**
     * The device half: forward, loss, backward and Adam, reading the values {@link #prepareStep}
     * wrote; lossSum (1) gains the batch's summed per-image loss. Only queues ops (no read, write,
     * synchronize or allocation), so {@link Backend#replayable} can record it.
     */
    public void runStep(Tensor noisy, Tensor clean, Tensor lossSum) {
        gradients(noisy, clean, lossSum);
        params.adamStepFrom(adamHyper());
    }

    private void gradients(Tensor noisy, Tensor clean, Tensor lossSum) {
        int n = noisy.dim(0);
        Tensor logits = forward(noisy, true);
        Tensor dl = dlogits.rows(0, n);
        lossAndGradient(logits, clean, loss.rows(0, n), dl, lossSum);
        backward(dl);
    }

    private void checkBatch(int n) {
        if (n < 1 || n > maxBatch) throw new IllegalArgumentException("batch of " + n + " for a model of batch " + maxBatch);
    }

    /**
     * One training step, eagerly, and its mean per-image loss: a host read every step, for tests,
     * benchmarks and callers outside the training loop ({@link dev.denoise.train.Trainer} keeps its
     * losses on the device).
     */
    public double trainStep(Tensor noisy, Tensor clean, float lr) {
        int n = noisy.dim(0);
        prepareStep(n, lr);
        backend.fill(stepLoss, 0f);
        runStep(noisy, clean, stepLoss);
        return stepLoss.toArray()[0] / n;
    }

    /** Forward, loss and backward without updating: the gradients land in parameters().grads(). */
    public double computeGradients(Tensor noisy, Tensor clean) {
        int n = noisy.dim(0);
        checkBatch(n);
        prepareSampling(n);
        backend.fill(stepLoss, 0f);
        gradients(noisy, clean, stepLoss);
        return stepLoss.toArray()[0] / n;
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
        stepValues.close();
        stepLoss.close();
    }
}
