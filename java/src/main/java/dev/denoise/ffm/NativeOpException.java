package dev.denoise.ffm;

/**
 * An op of libdenoise.so returned an error status instead of its result, e.g. "conv2d_forward
 * ConvDims[n=128, c=32, h=28, w=28, k=32, r=3, s=3]: out of memory: 14680064 bytes of scratch could
 * not be allocated". The op's outputs are undefined; its inputs are untouched and the backend stays
 * usable.
 */
public class NativeOpException extends NativeCallException {
    private final long bytes;

    public NativeOpException(String op, Object sizes, int status, String reason, long bytes) {
        super(op + " " + sizes + ": " + reason, op, status);
        this.bytes = bytes;
    }

    /** For an out-of-memory status, the size of the allocation that failed; else 0. */
    public long bytes() {
        return bytes;
    }
}
