package dev.denoise.backend;

/**
 * The sizes of a stride-1 'same' convolution: input (n,c,h,w), weight (k,c,r,s) with r and s odd,
 * output (n,k,h,w). For upsample2d_conv2d_backward_data, h and w are the upsampled (full) size.
 */
public record ConvDims(int n, int c, int h, int w, int k, int r, int s) {
    /** Multiply-adds of one direction (forward, backward data or backward filter): n·k·c·h·w·r·s. */
    public long macs() {
        return (long) n * k * c * h * w * r * s;
    }

    /** Whether some dimension is 0 (an empty sum: outputs are 0). */
    public boolean empty() {
        return n == 0 || c == 0 || h == 0 || w == 0 || k == 0;
    }
}
