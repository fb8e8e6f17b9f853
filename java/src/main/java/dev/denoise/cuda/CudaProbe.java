package dev.denoise.cuda;

/**
 * Whether the GPU backend can run here: either the device and library versions, or the one-line
 * reason it cannot (no libcuda.so.1, no device, no kernels in the jar, cuBLAS or cuDNN not found).
 *
 * @param computeCapability e.g. 90 for sm_90
 * @param driverVersion     the CUDA version the driver supports, e.g. 12080 for 12.8
 * @param cublasVersion     e.g. 120804 for cuBLAS 12.8.4
 * @param cudnnVersion      e.g. 90700 for cuDNN 9.7.0
 */
public record CudaProbe(boolean available, String reason, String deviceName, int computeCapability,
                        int driverVersion, int cublasVersion, long cudnnVersion) {

    static CudaProbe unavailable(String reason) {
        return new CudaProbe(false, reason, null, 0, 0, 0, 0);
    }

    /** One line for `denoise info` and the start of training. */
    public String describe() {
        if (!available) return "cuda: not available (" + reason + ")";
        return String.format("cuda: %s (sm_%d), driver CUDA %d.%d, cuBLAS %d.%d.%d, cuDNN %d.%d.%d", deviceName,
                computeCapability, driverVersion / 1000, driverVersion % 1000 / 10, cublasVersion / 10000,
                cublasVersion / 100 % 100, cublasVersion % 100, cudnnVersion / 10000, cudnnVersion / 100 % 100,
                cudnnVersion % 100);
    }
}
