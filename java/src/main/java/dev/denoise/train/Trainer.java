package dev.denoise.train;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.data.Dataset;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.Checkpoint;
import dev.denoise.model.ModelConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains one autoencoder on (noisy, clean) pairs made on the fly: every epoch reshuffles the
 * training images and draws fresh noise; everything derives from the config's seed, so a run,
 * and a run resumed from a checkpoint, repeat bit for bit. After each epoch: validation PSNR,
 * a history line, and an atomic checkpoint. A NaN/Inf loss stops the run and keeps the last good
 * checkpoint.
 */
public final class Trainer {
    private final Autoencoder model;
    private final TrainingSet train;
    private final Dataset val;
    private final TrainConfig cfg;
    private final Path checkpoint; // may be null: no checkpoints
    private final TrainListener listener;
    private final List<EpochRecord> history = new ArrayList<>();

    /**
     * A trainer of model on the fixed images train, validated on val (or null: no validation),
     * saving to checkpoint after each epoch (or null: no checkpoints); listener may be null.
     */
    public Trainer(Autoencoder model, Dataset train, Dataset val, TrainConfig cfg, Path checkpoint, TrainListener listener) {
        this(model, TrainingSet.of(train), val, cfg, checkpoint, listener);
    }

    /** Training images that may change every epoch (patches of pictures). */
    public Trainer(Autoencoder model, TrainingSet train, Dataset val, TrainConfig cfg, Path checkpoint,
                   TrainListener listener) {
        ModelConfig mc = model.config();
        requireShape(mc, train.channels(), train.height(), train.width());
        if (val != null) requireShape(mc, val.channels(), val.height(), val.width());
        if (train.count() < 1) throw new IllegalArgumentException("no training images");
        this.model = model;
        this.train = train;
        this.val = val;
        this.cfg = cfg;
        this.checkpoint = checkpoint;
        this.listener = listener == null ? TrainListener.NONE : listener;
    }

    private static void requireShape(ModelConfig mc, int c, int h, int w) {
        if (c != mc.channels() || h != mc.height() || w != mc.width()) {
            throw new IllegalArgumentException("images are " + c + "x" + h + "x" + w
                    + ", the model takes " + mc.channels() + "x" + mc.height() + "x" + mc.width());
        }
    }

    /** The epochs trained so far, resumed ones included (a copy). */
    public List<EpochRecord> history() {
        return List.copyOf(history);
    }

    /** Seed of the training noise, derived from the run seed. */
    static long noiseSeed(long seed) {
        return mix(seed, 0x4E01_5E00L);
    }

    static long mix(long a, long b) {
        return new SplittableRandom(a * 0x9E3779B97F4A7C15L + b).nextLong();
    }

    /**
     * How often the host looks at the running loss: it queues a copy of the device's total and
     * takes the previous one if it has landed, so it never waits for the device mid-epoch.
     */
    static final long PROGRESS_NANOS = 500_000_000L;

    private long progressNanos = PROGRESS_NANOS;

    /** Another interval between looks at the running loss (tests: a very long one gives epoch ends only). */
    public Trainer progressEvery(long nanos) {
        if (nanos < 0) throw new IllegalArgumentException("progress interval " + nanos + " ns");
        this.progressNanos = nanos;
        return this;
    }

    /**
     * Trains from scratch, or, when resume is set and the checkpoint exists, from where it ends.
     * Returns the full history (resumed epochs included).
     *
     * <p>Shaped for a device: the training images live on the backend (uploaded once, or once per
     * epoch for patches, in one copy), each epoch uploads only its order, a step gathers its batch
     * and draws its noise there, and its loss is added into a device total that the host reads at
     * progress points and at the epoch's end. Per-step values (the noise offset, Adam's rate) reach
     * the step through memory, so a GPU records each batch shape's step once and replays it.
     */
    public List<EpochRecord> run(boolean resume) {
        int start = 0;
        if (resume && checkpoint != null && Files.exists(checkpoint)) {
            Checkpoint.State s = Checkpoint.load(checkpoint, model, cfg);
            start = s.epochsDone();
            history.addAll(s.history());
            listener.resumed(start);
        } else {
            model.initialise(cfg.seed());
        }
        if (checkpoint != null) Checkpoint.removeStaleTemps(checkpoint);
        Backend b = model.backend();
        int bs = Math.min(cfg.batch(), model.maxBatch());
        int c = model.config().channels(), h = model.config().height(), w = model.config().width();
        int d = c * h * w, n = train.count();
        long seed = noiseSeed(cfg.seed());
        Map<Integer, Backend.Replay> steps = new HashMap<>();
        try (Tensor data = b.allocate(n, c, h, w); Tensor order = b.allocate(n);
             Tensor clean = b.allocate(bs, c, h, w); Tensor noisy = b.allocate(bs, c, h, w);
             Tensor noiseOffset = b.allocate(2); Tensor lossSum = b.allocate(1);
             Backend.Staging lossCopy = b.staging(1);
             Validation validation = val == null || val.count() == 0 ? null : new Validation(model, val, cfg.noise())) {
            Uploads uploads = new Uploads(b, data);
            try {
                for (int epoch = start; epoch < cfg.epochs(); epoch++) {
                    listener.epochStarted(epoch + 1, cfg.epochs(), n);
                    long t0 = System.nanoTime();
                    uploads.epoch(train.epoch(epoch));
                    b.writeIndices(order, permutation(n, mix(cfg.seed(), epoch + 1)), 0);
                    b.fill(lossSum, 0f);
                    RunningLoss running = new RunningLoss(b, lossCopy, lossSum, progressNanos, epoch + 1);
                    for (int s = 0; s < n; s += bs) {
                        int m = Math.min(bs, n - s);
                        Tensor cb = m == bs ? clean : clean.rows(0, m), nb = m == bs ? noisy : noisy.rows(0, m);
                        int s0 = s, e = epoch;
                        model.inStep(() -> {
                            b.gather_rows(cb, data, order.rows(s0, s0 + m));
                            b.setLong(noiseOffset, ((long) e * n + s0) * d);
                            double progress = ((double) e * n + s0) / ((double) cfg.epochs() * n);
                            model.prepareStep(m, cfg.lrAt(progress));
                            steps.computeIfAbsent(m, k -> b.replayable(() -> {
                                cfg.noise().apply(b, nb, cb, seed, noiseOffset);
                                model.runStep(nb, cb, lossSum);
                            })).run();
                        });
                        running.poll(s + m, this::diverged);
                        listener.batchDone(s + m, running.mean());
                    }
                    double loss = running.total(n, this::diverged) / n;
                    requireFinite(epoch + 1);
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double valPsnr = validation == null ? Double.NaN : validation.meanPsnr();
                    EpochRecord rec = new EpochRecord(epoch + 1, loss, valPsnr, seconds, n / seconds);
                    history.add(rec);
                    if (checkpoint != null) Checkpoint.save(checkpoint, model, cfg, epoch + 1, history);
                    listener.epochDone(rec);
                }
            } finally {
                steps.values().forEach(Backend.Replay::close);
                uploads.close();
            }
        }
        return history();
    }

    /** The exception for a non-finite running loss seen at epoch, after images of it. */
    private TrainingDivergedException diverged(double total, int epoch, int images) {
        return new TrainingDivergedException("training diverged: the loss is " + total + " at epoch " + epoch
                + " (by image " + images + "); " + (checkpoint != null && Files.exists(checkpoint)
                ? "the last good checkpoint (" + checkpoint + ", epoch " + (epoch - 1) + ") was kept"
                : "nothing was saved") + "; try a smaller --lr");
    }

    /** A finite loss can still hide overflowed weights or Adam moments: never checkpoint those. */
    private void requireFinite(int epoch) {
        var p = model.parameters();
        String[] names = {"weights", "Adam first moments", "Adam second moments"};
        Tensor[] ts = {p.values(), p.adamM(), p.adamV()};
        for (int k = 0; k < ts.length; k++) {
            float[] v = ts[k].toArray();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new TrainingDivergedException("training diverged: the " + names[k] + " hold " + v[i]
                            + " after epoch " + epoch + "; " + (checkpoint != null && Files.exists(checkpoint)
                            ? "the last good checkpoint (" + checkpoint + ") was kept" : "nothing was saved")
                            + "; try a smaller --lr");
                }
            }
        }
    }

    /** Fisher–Yates from a seed: the epoch's order of the training images. */
    static int[] permutation(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
