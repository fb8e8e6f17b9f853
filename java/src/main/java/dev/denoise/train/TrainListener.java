package dev.denoise.train;

/** Progress of a training run, for progress bars and logs. Every method has a no-op default. */
public interface TrainListener {
    /** An epoch starts: epoch (1-based) of epochs, over images training images. */
    default void epochStarted(int epoch, int epochs, int images) {}

    /**
     * imagesDone: images whose steps are queued; runningLoss: the mean loss the host last saw (it
     * reads the device's total only every half second or so, without waiting), NaN before the first.
     */
    default void batchDone(int imagesDone, double runningLoss) {}

    /** An epoch ended and its checkpoint, if any, is saved; record is its line of history. */
    default void epochDone(EpochRecord record) {}

    /** The run resumed from a checkpoint with epochsDone epochs already trained. */
    default void resumed(int epochsDone) {}

    /** A listener that ignores everything. */
    TrainListener NONE = new TrainListener() {};
}
