package dev.denoise.backend;

/** The sizes of a tensor (n,c,...) seen as (n,c,hw) for a per-channel bias: hw = the product of the rest. */
public record ChannelDims(int n, int c, int hw) {
    /** The number of values in all. */
    public long numel() {
        return (long) n * c * hw;
    }
}
