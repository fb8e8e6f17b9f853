package dev.denoise.backend;

import dev.denoise.cuda.CudaBackend;
import dev.denoise.cuda.CudaProbe;

import java.util.Locale;

/**
 * Picks the backend by name: "cpu", "cuda", "cuda:N", or "auto" (CUDA when it can run here,
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

    /** {@link #select(String, boolean)}, keeping only the backend. */
    public static Backend open(String device, boolean tf32) {
        return select(device, tf32).backend();
    }

    /** {@link #select(String, boolean, int)}, keeping only the backend. */
    public static Backend open(String device, boolean tf32, int cpuThreads) {
        return select(device, tf32, cpuThreads).backend();
    }

    /**
     * Opens "cpu", "cuda" (device 0), "cuda:N" (device N) or "auto". "cuda" throws a {@link BackendUnavailableException} with the
     * probe's one-line reason when the GPU path cannot run; "auto" then falls back to the CPU.
     * tf32 lets cuBLAS/cuDNN use TF32 tensor cores (ignored on the CPU).
     */
    public static Selection select(String device, boolean tf32) {
        return select(device, tf32, 0);
    }

    /**
     * {@link #select(String, boolean)} with cpuThreads threads for a CPU backend (0: {@link
     * CpuBackend#defaultThreads()}), also when "auto" falls back to it.
     */
    public static Selection select(String device, boolean tf32, int cpuThreads) {
        if (cpuThreads < 0) throw new IllegalArgumentException("cpuThreads must be >= 0 (0: the default), got " + cpuThreads);
        String d = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
        java.util.function.Supplier<Backend> cpu = () -> cpuThreads > 0 ? new CpuBackend(cpuThreads) : new CpuBackend();
        if (d.matches("cuda:\\d{1,4}")) return new Selection(openCuda(Integer.parseInt(d.substring(5)), tf32), null);
        return switch (d) {
            case "cpu" -> new Selection(cpu.get(), null);
            case "cuda" -> new Selection(openCuda(0, tf32), null);
            case "auto" -> {
                CudaProbe probe = CudaBackend.probe();
                if (probe.available()) {
                    try {
                        yield new Selection(openCuda(0, tf32), null);
                    } catch (BackendUnavailableException e) {
                        yield new Selection(cpu.get(), e.getMessage());
                    }
                }
                yield new Selection(cpu.get(), "CUDA not available: " + probe.reason());
            }
            default -> throw new IllegalArgumentException("unknown device '" + device + "' (expected auto, cpu, cuda or cuda:N)");
        };
    }

    /** GPU ordinal (as CUDA numbers the visible devices). */
    private static Backend openCuda(int ordinal, boolean tf32) {
        CudaProbe probe = CudaBackend.probe();
        if (!probe.available()) throw new BackendUnavailableException("CUDA not available: " + probe.reason());
        return CudaBackend.open(new CudaBackend.Options(ordinal, tf32));
    }

    /** One line on the GPU path for `denoise info`: the device and versions, or why it is unavailable. */
    public static String cudaStatus() {
        return CudaBackend.probe().describe();
    }
}
