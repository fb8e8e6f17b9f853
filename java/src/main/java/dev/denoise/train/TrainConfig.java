package dev.denoise.train;

/**
 * How to train: epochs, batch, Adam learning rate, noise and the seed everything derives from
 * (initial weights, shuffling, noise, VAE sampling).
 */
public record TrainConfig(int epochs, int batch, float lr, Noise noise, long seed) {
    public TrainConfig {
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (!(lr > 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("lr must be > 0, got " + lr);
    }

    /** Adam 1e-3, batch 128, Gaussian σ 0.5, seed 1. */
    public static TrainConfig defaults(int epochs) {
        return new TrainConfig(epochs, 128, 1e-3f, Noise.gaussian(0.5f), 1);
    }
}
