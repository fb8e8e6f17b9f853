package dev.denoise.ffm;

/**
 * A CUDA driver, cuBLAS or cuDNN call returned an error. The message names the call and the status,
 * e.g. "cudnnConvolutionForward failed: CUDNN_STATUS_BAD_PARAM (2000)".
 */
public class CudaException extends NativeCallException {
    public CudaException(String call, int status, String statusName) {
        super(call + " failed: " + statusName + " (" + status + ")", call, status);
    }
}
