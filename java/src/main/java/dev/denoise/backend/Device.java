package dev.denoise.backend;

/** Where a backend's tensors live and its ops run. */
public enum Device {
    CPU, CUDA
}
