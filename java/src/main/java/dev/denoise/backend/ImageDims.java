package dev.denoise.backend;

/**
 * The sizes (n,c,h,w) of a batch of images in NCHW: for 2x2 max-pooling its full-size input, for 2x
 * nearest upsampling its half-size input, for a bias gradient the gradient it sums.
 */
public record ImageDims(int n, int c, int h, int w) {
    /** The number of values in all. */
    public long numel() {
        return (long) n * c * h * w;
    }
}
