package dev.denoise.backend;

/** Where a backend's tensors live and its ops run. */
public enum Device {
    /** Host memory; ops run on the CPU through the native library. */
    CPU,
    /** GPU memory; ops run as CUDA kernels. */
    CUDA
}
