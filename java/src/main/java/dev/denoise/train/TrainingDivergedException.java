package dev.denoise.train;

/** The loss became NaN or infinite; the last good checkpoint was kept. */
public class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
