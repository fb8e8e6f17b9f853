package dev.denoise.train;

/** The loss became NaN or infinite; the last good checkpoint was kept. */
public class TrainingDivergedException extends RuntimeException {
    /** An exception with this message: where the loss went bad and what was kept. */
    public TrainingDivergedException(String message) {
        super(message);
    }
}
