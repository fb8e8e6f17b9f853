package dev.denoise.train;

/** Progress of a training run, for progress bars and logs. Every method has a no-op default. */
public interface TrainListener {
    default void epochStarted(int epoch, int epochs, int images) {}

    default void batchDone(int imagesDone, double runningLoss) {}

    default void epochDone(EpochRecord record) {}

    default void resumed(int epochsDone) {}

    TrainListener NONE = new TrainListener() {};
}
