package dev.denoise.cuda;

import dev.denoise.backend.BackendUnavailableException;
import dev.denoise.backend.Backends;
import dev.denoise.backend.Device;
import dev.denoise.ffm.DenoiseNative;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backend selection: "cuda" fails with the probe's reason, "auto" falls back to the CPU and says why. */
class BackendsTest {
    @Test
    void cuda_without_a_gpu_is_a_one_line_error() {
        CudaProbe p = CudaBackend.probe();
        Assumptions.assumeTrue(!p.available(), "CUDA is available here");
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.open("cuda"));
        assertEquals("CUDA not available: " + p.reason(), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'));
    }

    @Test
    void auto_falls_back_to_the_cpu_with_a_reason() {
        CudaProbe p = CudaBackend.probe();
        Assumptions.assumeTrue(DenoiseNative.available(), "the CPU library is not built (make native)");
        Backends.Selection s = Backends.select("auto", false);
        try (var b = s.backend()) {
            if (p.available()) {
                assertEquals(Device.CUDA, b.device());
                assertNull(s.fallbackReason());
            } else {
                assertEquals(Device.CPU, b.device());
                assertEquals("CUDA not available: " + p.reason(), s.fallbackReason());
            }
        }
    }

    @Test
    void unknown_devices_are_refused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.open("tpu"));
        assertEquals("unknown device 'tpu' (expected auto, cpu, cuda or cuda:N)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Backends.open("cuda:x"));
        // a device index past the last (or no GPU at all) is unavailable, with its reason
        assertThrows(BackendUnavailableException.class, () -> Backends.open("cuda:999"));
    }

    @Test
    void status_line_for_info() {
        assertTrue(Backends.cudaStatus().startsWith("cuda: "), Backends.cudaStatus());
    }
}
