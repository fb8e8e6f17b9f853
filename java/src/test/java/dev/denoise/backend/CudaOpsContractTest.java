package dev.denoise.backend;

import dev.denoise.cuda.CudaBackend;
import dev.denoise.cuda.GpuTests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** The op table on the GPU against the Java reference; skips without CUDA (fails under gpu.required). */
class CudaOpsContractTest extends OpsContract {
    private static CudaBackend cuda;

    @BeforeAll
    static void open() {
        if (CudaBackend.probe().available()) cuda = CudaBackend.open();
    }

    /** Per test rather than per class, so every skipped test is reported with its reason. */
    @BeforeEach
    void requireCuda() {
        GpuTests.requireCuda();
    }

    @AfterAll
    static void close() {
        if (cuda != null) cuda.close();
    }

    @Override
    protected Backend backend() {
        return cuda;
    }
}
