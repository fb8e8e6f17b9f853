package dev.denoise.cuda;

import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The guard of every GPU test: skips loudly (with the probe's reason) where CUDA cannot run, unless
 * -Dgpu.required=true, which turns the skip into a failure so a GPU run can never pass by skipping.
 */
public final class GpuTests {
    private GpuTests() {}

    public static boolean gpuRequired() {
        return Boolean.getBoolean("gpu.required");
    }

    /** Returns when CUDA is usable; otherwise skips the test, or fails it under gpu.required. */
    public static void requireCuda() {
        CudaProbe p = CudaBackend.probe();
        if (p.available()) return;
        String reason = "CUDA not available: " + p.reason();
        if (gpuRequired()) fail(reason + " (and -Dgpu.required=true)");
        Assumptions.assumeTrue(false, reason);
    }
}
