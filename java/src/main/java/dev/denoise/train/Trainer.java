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
import java.util.List;
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
     * Trains from scratch, or, when resume is set and the checkpoint exists, from where it ends.
     * Returns the full history (resumed epochs included).
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
        float[] host = new float[bs * d];
        try (Tensor clean = b.allocate(bs, c, h, w); Tensor noisy = b.allocate(bs, c, h, w);
             Validation validation = val == null || val.count() == 0 ? null : new Validation(model, val, cfg.noise())) {
            for (int epoch = start; epoch < cfg.epochs(); epoch++) {
                listener.epochStarted(epoch + 1, cfg.epochs(), n);
                long t0 = System.nanoTime();
                Dataset images = train.epoch(epoch);
                int[] order = permutation(n, mix(cfg.seed(), epoch + 1));
                double lossSum = 0;
                for (int s = 0; s < n; s += bs) {
                    int m = Math.min(bs, n - s);
                    gather(images, order, s, m, host);
                    Tensor cb = m == bs ? clean : clean.rows(0, m), nb = m == bs ? noisy : noisy.rows(0, m);
                    b.write(cb, host);
                    cfg.noise().apply(b, nb, cb, noiseSeed(cfg.seed()), ((long) epoch * n + s) * d);
                    double progress = ((double) epoch * n + s) / ((double) cfg.epochs() * n);
                    double loss = model.trainStep(nb, cb, cfg.lrAt(progress));
                    if (!Double.isFinite(loss)) {
                        throw new TrainingDivergedException("training diverged: loss is " + loss + " at epoch "
                                + (epoch + 1) + ", images " + s + ".." + (s + m) + "; "
                                + (checkpoint != null && Files.exists(checkpoint)
                                ? "the last good checkpoint (" + checkpoint + ", epoch " + epoch + ") was kept"
                                : "nothing was saved") + "; try a smaller --lr");
                    }
                    lossSum += (double) loss * m;
                    listener.batchDone(s + m, lossSum / (s + m));
                }
                b.synchronize();
                requireFinite(epoch + 1);
                double seconds = (System.nanoTime() - t0) / 1e9;
                double valPsnr = validation == null ? Double.NaN : validation.meanPsnr();
                EpochRecord rec = new EpochRecord(epoch + 1, lossSum / n, valPsnr, seconds, n / seconds);
                history.add(rec);
                if (checkpoint != null) Checkpoint.save(checkpoint, model, cfg, epoch + 1, history);
                listener.epochDone(rec);
            }
        }
        return history();
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

    private static void gather(Dataset ds, int[] order, int from, int count, float[] into) {
        int d = ds.channels() * ds.height() * ds.width();
        float[] src = ds.images();
        for (int i = 0; i < count; i++) System.arraycopy(src, order[from + i] * d, into, i * d, d);
    }
}
