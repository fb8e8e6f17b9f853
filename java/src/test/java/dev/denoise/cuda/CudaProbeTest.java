package dev.denoise.cuda;

import dev.denoise.backend.BackendUnavailableException;
import dev.denoise.ffm.Cudnn;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe never throws and explains itself; the host-side rules of the backend (no GPU needed). */
class CudaProbeTest {
    private static boolean libcudaLoads() {
        try {
            SymbolLookup.libraryLookup("libcuda.so.1", Arena.ofAuto());
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void probe_reports_availability_or_a_one_line_reason() {
        CudaProbe p = CudaBackend.probe();
        assertSame(p, CudaBackend.probe(), "probed once per JVM");
        if (p.available()) {
            assertNull(p.reason());
            assertTrue(p.describe().startsWith("cuda: " + p.deviceName() + " (sm_"), p.describe());
            return;
        }
        assertFalse(GpuTests.gpuRequired(), "gpu.required=true but CUDA is unavailable: " + p.reason());
        assertEquals(-1, p.reason().indexOf('\n'), "one line: " + p.reason());
        assertEquals("cuda: not available (" + p.reason() + ")", p.describe());
        if (!libcudaLoads()) assertEquals("no libcuda.so.1 (the NVIDIA driver is not installed)", p.reason());
    }

    @Test
    void open_without_a_gpu_throws_the_probe_reason() {
        CudaProbe p = CudaBackend.probe();
        if (p.available()) return;
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, CudaBackend::open);
        assertEquals(p.reason(), e.getMessage());
    }

    @Test
    void describe_formats_versions() {
        CudaProbe p = new CudaProbe(true, null, "NVIDIA H100 80GB HBM3", 90, 12080, 120804, 90700);
        assertEquals("cuda: NVIDIA H100 80GB HBM3 (sm_90), driver CUDA 12.8, cuBLAS 12.8.4, cuDNN 9.7.0", p.describe());
    }

    @Test
    void adam_bias_corrections_are_computed_in_double_like_adam_c() {
        float[] c = dev.denoise.backend.Backend.adamCorrections(0.9f, 0.999f, 3);
        assertEquals((float) (1.0 / (1.0 - Math.pow(0.9f, 3))), c[0]);
        assertEquals((float) (1.0 / (1.0 - Math.pow(0.999f, 3))), c[1]);
        // in float, 1 - 0.999^1 keeps only a few correct digits; the double route does not
        assertEquals(1000.0, dev.denoise.backend.Backend.adamCorrections(0.9f, 0.999f, 1)[1], 0.05);
    }

    @Test
    void allocator_rounds_blocks_so_sizes_are_reused() {
        assertEquals(512, CudaBackend.blockSize(0));
        assertEquals(512, CudaBackend.blockSize(4));
        assertEquals(1024, CudaBackend.blockSize(513));
        assertEquals(1L << 20, CudaBackend.blockSize((1L << 20) - 4));
        assertEquals(2L << 20, CudaBackend.blockSize((1L << 20) + 4));
        assertEquals(768, DeviceArena.alignUp(513, DeviceArena.ALIGN));
    }

    @Test
    void convolution_algorithms_must_succeed_be_deterministic_and_fit() {
        Cudnn.AlgoPerf fastNondet = new Cudnn.AlgoPerf(0, 0, 0.1f, 0, Cudnn.CUDNN_NON_DETERMINISTIC, 3);
        Cudnn.AlgoPerf failed = new Cudnn.AlgoPerf(2, 3000, 0.2f, 0, Cudnn.CUDNN_DETERMINISTIC, 3);
        Cudnn.AlgoPerf huge = new Cudnn.AlgoPerf(4, 0, 0.3f, Convolutions.WORKSPACE_LIMIT + 1, Cudnn.CUDNN_DETERMINISTIC, 3);
        Cudnn.AlgoPerf ok = new Cudnn.AlgoPerf(1, 0, 0.4f, 1024, Cudnn.CUDNN_DETERMINISTIC, 3);
        assertSame(ok, Convolutions.pick(List.of(fastNondet, failed, huge, ok), "[1, 1, 1, 1, 1, 3, 3]", "forward"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Convolutions.pick(List.of(fastNondet, failed), "[1, 1, 1, 1, 1, 3, 3]", "backward filter"));
        assertTrue(e.getMessage().startsWith("cuDNN offers no deterministic conv2d backward filter algorithm"), e.getMessage());
    }

    @Test
    void every_kernel_name_is_defined_in_cuda_sources() throws Exception {
        java.nio.file.Path cuda = java.nio.file.Path.of(System.getProperty("user.dir")).resolve("../cuda");
        if (!java.nio.file.Files.isDirectory(cuda)) return; // run outside the source tree
        StringBuilder all = new StringBuilder();
        try (var files = java.nio.file.Files.list(cuda)) {
            for (var f : files.filter(f -> f.toString().endsWith(".cu")).toList()) all.append(java.nio.file.Files.readString(f));
        }
        for (String k : CudaKernels.NAMES) {
            assertTrue(java.util.regex.Pattern.compile("extern \"C\" __global__[^;{]*?\\b" + k + "\\(").matcher(all).find(),
                    "no kernel " + k + " in cuda/*.cu");
        }
    }
}
