package dev.denoise.backend;

/** n rows of d values: a batch of images (n, ...) flattened per image, for per-image losses and gathers. */
public record RowDims(int n, int d) {
    /** The number of values in all. */
    public long numel() {
        return (long) n * d;
    }
}
