package dev.denoise.model;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Device;
import dev.denoise.backend.Tensor;
import dev.denoise.nn.Parameters;

/**
 * A denoising autoencoder on one backend: noisy images in, logits out, sigmoid for the image.
 * The last layer is linear (logits) so the loss can fuse sigmoid and cross-entropy stably.
 * Everything is sized for {@link #maxBatch()}: the parameters at construction, each layer's
 * activations and input gradients when first used (a model that only runs forward never
 * allocates the gradients); nothing is allocated per step after the first.
 *
 * <p>A training step comes in two halves, so that a GPU can record the second once and replay it:
 * {@link #prepareStep} is host bookkeeping (Adam's step count, the VAE's sampling offset) written
 * into the model's step values in device memory, and {@link #runStep} only queues ops that read
 * them: forward, loss (added into a device accumulator, never read back here), backward, Adam.
 *
 * <p>Image lanes (the convolutional models on a CPU): the batch is cut into chunks of
 * {@link #laneImages()} images, and each chunk runs forward, loss and backward on its own set of
 * layers (lane), on its own thread ({@link Backend#forEachChunk}), computing its own partial
 * parameter gradients; the partials are then added in lane order. The chunk is small enough that a
 * lane's activations stay in the core's cache from one layer to the next, and a step has one wait
 * for the slowest thread instead of one per op. The chunk size comes from the model's shapes alone,
 * never from the thread count, so the results are the same bits on any number of threads.
 */
public abstract class Autoencoder implements AutoCloseable {
    /** The backend the model's tensors live on and its ops run on. */
    protected final Backend backend;
    /** The architecture. */
    protected final ModelConfig config;
    /** All weights, their gradients and Adam's moments, in one flat buffer each. */
    protected final Parameters params;
    /** The most images one forward or step takes: every buffer is sized for it. */
    protected final int maxBatch;
    /** Images per lane, and lanes: laneImages * lanes >= maxBatch; one lane of maxBatch unless laned. */
    protected final int laneImages, lanes;
    private final Tensor loss, dlogits, stepValues, stepLoss;
    /** Lanes 1 … lanes−1's partial gradients (lane 0 writes params' own), and each lane's loss sum. */
    private final Tensor laneGrads, laneLoss;

    /** A model of one lane. */
    protected Autoencoder(Backend backend, ModelConfig config, Parameters.Spec spec, int maxBatch) {
        this(backend, config, spec, maxBatch, maxBatch);
    }

    /** A model whose batches are cut into lanes of laneImages (see the class comment). */
    protected Autoencoder(Backend backend, ModelConfig config, Parameters.Spec spec, int maxBatch, int laneImages) {
        if (maxBatch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + maxBatch);
        if (laneImages < 1) throw new IllegalArgumentException("lanes of " + laneImages + " images");
        this.backend = backend;
        this.config = config;
        this.maxBatch = maxBatch;
        this.laneImages = Math.min(laneImages, maxBatch);
        this.lanes = (maxBatch + this.laneImages - 1) / this.laneImages;
        this.params = new Parameters(backend, spec);
        this.loss = backend.allocate(maxBatch);
        this.dlogits = backend.allocate(maxBatch, config.channels(), config.height(), config.width());
        this.stepValues = backend.allocate(8);
        this.stepLoss = backend.allocate(1);
        long count = Math.max(1, params.grads().numel());
        this.laneGrads = lanes > 1 ? backend.allocate(Math.toIntExact((lanes - 1) * count)) : null;
        this.laneLoss = backend.allocate(lanes);
    }

    /**
     * Images per lane for a convolutional model on backend: on a CPU, {@value #LANE_PIXELS} pixels'
     * worth (four 28×28 images, one 64×64 patch), or {@code denoise.cpu.lanePixels}; on a GPU the
     * whole batch. Small lanes leave a batch of 16 four lanes, so two or more threads stay busy to
     * the end of the step; a lane's fixed cost (weight packing, op calls) measured ≤ 2 % of a
     * step on one thread. Bigger lanes (up to 16 images) measured the same at batch 128.
     */
    static int laneImages(Backend backend, ModelConfig c, int maxBatch) {
        if (backend.device() != Device.CPU || !c.kind().convolutional()) return maxBatch;
        long pixels = (long) c.height() * c.width();
        return (int) Math.clamp(Long.getLong("denoise.cpu.lanePixels", LANE_PIXELS) / pixels, 1, maxBatch);
    }

    /** See {@link #laneImages(Backend, ModelConfig, int)}. */
    static final long LANE_PIXELS = 4 * 28 * 28;

    /** Lane's parameters: the model's own for lane 0, else a view writing that lane's partial gradients. */
    protected final Parameters laneParameters(int lane) {
        if (lane == 0) return params;
        long count = params.grads().numel();
        return params.withGrads(laneGrads.slice((lane - 1) * count, (int) count));
    }

    /** Images per lane (the whole batch when the model has one lane). */
    public int laneImages() { return laneImages; }

    /** Builds the model of config.kind() (weights uninitialised: call {@link #initialise} or load). */
    public static Autoencoder create(Backend backend, ModelConfig config, int maxBatch) {
        return create(backend, config, maxBatch, laneImages(backend, config, maxBatch));
    }

    /** create with the lane size given (the convolutional models; the others have one lane). */
    static Autoencoder create(Backend backend, ModelConfig config, int maxBatch, int laneImages) {
        return switch (config.kind()) {
            case DENSE -> new DenseAutoencoder(backend, config, maxBatch);
            case VAE -> new VariationalAutoencoder(backend, config, maxBatch);
            case CONV -> new ConvAutoencoder(backend, config, maxBatch, laneImages);
            case SKIP, RESIDUAL -> new SkipAutoencoder(backend, config, maxBatch, laneImages);
        };
    }

    /** The architecture. */
    public ModelConfig config() { return config; }
    /** The weights, their gradients and Adam's state. */
    public Parameters parameters() { return params; }
    /** The backend the model runs on. */
    public Backend backend() { return backend; }
    /** The most images one step takes; more images are reconstructed in chunks of this size. */
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

    /**
     * Logits (B, C, H, W) for a batch of at most laneImages on lane's layers; training selects
     * sampling (VAE) and keeps state for backward.
     */
    protected abstract Tensor forward(int lane, Tensor noisy, boolean training);

    /** Backward on lane's layers from dlogits (overwritten), filling that lane's parameter gradients. */
    protected abstract void backward(int lane, Tensor dlogits);

    /**
     * The loss of the last forward against clean and its gradient into dlogits; lossSum (1) gains
     * the batch's sum of per-image losses, each per pixel (BCE averaged over an image's values).
     */
    protected void lossAndGradient(Tensor logits, Tensor clean, Tensor loss, Tensor dlogits, Tensor lossSum) {
        imageLoss(logits, clean, loss, dlogits, lossSum, logits.dim(0), true);
    }

    /**
     * The model's per-image loss of rows of a batch of batchImages: BCE of the sigmoid logits, or,
     * for a residual model, the mean squared error of its output (see {@link #bce}).
     */
    private void imageLoss(Tensor out, Tensor clean, Tensor loss, Tensor dout, Tensor lossSum, int batchImages,
                           boolean accumulate) {
        if (!config.kind().residual()) {
            bce(out, clean, loss, dout, lossSum, batchImages, accumulate);
            return;
        }
        long d = out.numel() / out.dim(0);
        backend.mse_forward(loss, out, clean);                        // per image: the mean over its values
        backend.mse_backward(dout, out, clean, 1f / (batchImages * d));
        backend.sum_scaled(lossSum, loss, 1f, accumulate);
    }

    /**
     * Sigmoid + BCE of rows of a batch of batchImages: per-image losses into loss, their sum into
     * lossSum (added when accumulate), the gradient of the batch's mean into dlogits.
     */
    private void bce(Tensor logits, Tensor clean, Tensor loss, Tensor dlogits, Tensor lossSum, int batchImages,
                     boolean accumulate) {
        long d = logits.numel() / logits.dim(0);
        backend.sigmoid_bce_forward(loss, logits, clean);
        backend.sigmoid_bce_backward(dlogits, logits, clean, 1f / (batchImages * d));
        backend.sum_scaled(lossSum, loss, 1f / d, accumulate);
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
     * synchronize, or allocation after the first run), so {@link Backend#replayable} can record it.
     */
    public void runStep(Tensor noisy, Tensor clean, Tensor lossSum) {
        gradients(noisy, clean, lossSum);
        params.adamStepFrom(adamHyper());
    }

    private void gradients(Tensor noisy, Tensor clean, Tensor lossSum) {
        int n = noisy.dim(0);
        if (lanes == 1) {
            Tensor logits = forward(0, noisy, true);
            Tensor dl = dlogits.rows(0, n);
            lossAndGradient(logits, clean, loss.rows(0, n), dl, lossSum);
            backward(0, dl);
            return;
        }
        // laned models (conv, skip) keep the base loss: a lane's share of the batch's mean
        int used = (n + laneImages - 1) / laneImages;
        backend.forEachChunk(used, lane -> {
            int r0 = lane * laneImages, r1 = Math.min(n, r0 + laneImages);
            Tensor logits = forward(lane, noisy.rows(r0, r1), true);
            Tensor dl = dlogits.rows(r0, r1);
            imageLoss(logits, clean.rows(r0, r1), loss.rows(r0, r1), dl, laneLoss.slice(lane, 1), n, false);
            backward(lane, dl);
        });
        // the partials in lane order: the same additions whichever thread ran which lane
        long count = params.grads().numel();
        for (int lane = 1; lane < used; lane++) {
            backend.add(params.grads(), params.grads(), laneGrads.slice((lane - 1) * count, (int) count));
        }
        backend.sum_scaled(lossSum, laneLoss.slice(0, used), 1f, true);
    }

    /**
     * Runs ops (a step's ops around {@link #runStep}, e.g. the batch's noise, and runStep itself) as
     * this model's step wants them: a laned model runs every op outside its lanes on the calling
     * thread alone ({@link Backend#serially}), so no op starts threads that would compete with the
     * lanes'. Others just run them.
     */
    public void inStep(Runnable ops) {
        if (lanes > 1) backend.serially(ops);
        else ops.run();
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

    /**
     * Denoised images (sigmoid of the logits) for any number of images, in chunks of maxBatch, each
     * spread over the lanes.
     */
    public void reconstruct(Tensor noisy, Tensor out) {
        int total = noisy.dim(0);
        for (int i = 0; i < total; i += maxBatch) {
            int i0 = i, n = Math.min(total, i + maxBatch) - i;
            backend.forEachChunk((n + laneImages - 1) / laneImages, lane -> {
                int r0 = i0 + lane * laneImages, r1 = Math.min(i0 + n, r0 + laneImages);
                Tensor logits = forward(lane, noisy.rows(r0, r1), false);
                backend.bias_act_forward(out.rows(r0, r1), logits, null, outputActivation());
            });
        }
    }

    /** What turns the last layer's output into the image: sigmoid, or clamp to [0, 1] for a residual model. */
    private Activation outputActivation() {
        return config.kind().residual() ? Activation.CLAMP01 : Activation.SIGMOID;
    }

    @Override
    public void close() {
        params.close();
        loss.close();
        dlogits.close();
        stepValues.close();
        stepLoss.close();
        if (laneGrads != null) laneGrads.close();
        laneLoss.close();
    }
}
