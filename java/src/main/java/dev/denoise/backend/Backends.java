package dev.denoise.backend;

import dev.denoise.cuda.CudaBackend;
import dev.denoise.cuda.CudaProbe;

import java.util.Locale;

/**
 * Picks the backend named on the command line: "cpu", "cuda", or "auto" (CUDA when it can run here,
 * else the CPU). A fallback keeps its reason, so `denoise info` and the start of training can say why
 * the GPU was not used.
 */
public final class Backends {
    private Backends() {}

    /** The opened backend and, when "auto" fell back to the CPU, why (else null). */
    public record Selection(Backend backend, String fallbackReason) {}

    /** {@link #select(String, boolean)} in fp32, keeping only the backend. */
    public static Backend open(String device) {
        return select(device, false).backend();
    }

    public static Backend open(String device, boolean tf32) {
        return select(device, tf32).backend();
    }

    /**
     * Opens "cpu", "cuda" or "auto". "cuda" throws a {@link BackendUnavailableException} with the
     * probe's one-line reason when the GPU path cannot run; "auto" then falls back to the CPU.
     * tf32 lets cuBLAS/cuDNN use TF32 tensor cores (ignored on the CPU).
     */
    public static Selection select(String device, boolean tf32) {
        String d = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
        return switch (d) {
            case "cpu" -> new Selection(new CpuBackend(), null);
            case "cuda" -> new Selection(openCuda(tf32), null);
            case "auto" -> {
                CudaProbe probe = CudaBackend.probe();
                if (probe.available()) {
                    try {
                        yield new Selection(openCuda(tf32), null);
                    } catch (BackendUnavailableException e) {
                        yield new Selection(new CpuBackend(), e.getMessage());
                    }
                }
                yield new Selection(new CpuBackend(), "CUDA not available: " + probe.reason());
            }
            default -> throw new IllegalArgumentException("unknown device '" + device + "' (expected auto, cpu or cuda)");
        };
    }

    private static Backend openCuda(boolean tf32) {
        CudaProbe probe = CudaBackend.probe();
        if (!probe.available()) throw new BackendUnavailableException("CUDA not available: " + probe.reason());
        return CudaBackend.open(new CudaBackend.Options(0, tf32));
    }

    /** One line on the GPU path for `denoise info`: the device and versions, or why it is unavailable. */
    public static String cudaStatus() {
        return CudaBackend.probe().describe();
    }
}
