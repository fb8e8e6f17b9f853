package dev.denoise.backend;

/** One CPU backend for every test class (it holds no native resources of its own; tensors do). */
public final class SharedCpu {
    private static CpuBackend cpu;

    private SharedCpu() {}

    public static synchronized CpuBackend get() {
        if (cpu == null) cpu = new CpuBackend();
        return cpu;
    }
}
