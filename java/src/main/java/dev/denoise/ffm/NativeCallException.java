package dev.denoise.ffm;

/** A native call (a C op of libdenoise.so, the CUDA driver, cuBLAS or cuDNN) returned an error status. */
public class NativeCallException extends RuntimeException {
    private final String call;
    private final int status;

    protected NativeCallException(String message, String call, int status) {
        super(message);
        this.call = call;
        this.status = status;
    }

    /** The C function that failed. */
    public String call() {
        return call;
    }

    /** Its status code. */
    public int status() {
        return status;
    }
}
