package dev.denoise.train;

/** Progress of a training run, for progress bars and logs. Every method has a no-op default. */
public interface TrainListener {
    default void epochStarted(int epoch, int epochs, int images) {}

    /**
     * imagesDone: images whose steps are queued; runningLoss: the mean loss the host last saw (it
     * reads the device's total only every half second or so, without waiting), NaN before the first.
     */
    default void batchDone(int imagesDone, double runningLoss) {}

    default void epochDone(EpochRecord record) {}

    default void resumed(int epochsDone) {}

    TrainListener NONE = new TrainListener() {};
}
