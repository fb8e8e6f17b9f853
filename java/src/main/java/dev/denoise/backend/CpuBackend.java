package dev.denoise.backend;

import dev.denoise.ffm.DenoiseNative;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * The op table on the CPU: {@link Backend} checks each call and hands it to the C function of the
 * same name in native/ (OpenMP inside), through the FFM binding {@link DenoiseNative}. Tensors are
 * 64-byte aligned off-heap memory, each in its own shared Arena so it may be used from any thread and
 * freed on close.
 *
 * <p>Threads: {@code DENOISE_THREADS}, else every core. OpenMP keeps the thread count per calling
 * thread, so it is applied lazily on each Java thread that calls an op.
 */
public final class CpuBackend extends Backend {
    private static final ThreadLocal<int[]> APPLIED_THREADS = ThreadLocal.withInitial(() -> new int[] {0});
    /**
     * Per thread: [SERIAL] while its ops run on it alone ({@link #serially}, and always in a chunk);
     * [IN_CHUNK] while it runs chunks of {@link #forEachChunk} (a nested call then runs its chunks
     * itself). The team's workers have both set for life.
     */
    private static final ThreadLocal<boolean[]> MODE = ThreadLocal.withInitial(() -> new boolean[2]);
    private static final int SERIAL = 0, IN_CHUNK = 1;

    private final int threads;
    private final DenoiseNative kernels;
    /** Bytes held by this backend's tensors that are not closed yet: flat over a long run, or something leaks. */
    private final AtomicLong liveBytes = new AtomicLong();

    /** Threads from DENOISE_THREADS, else every core. */
    public CpuBackend() {
        this(defaultThreads());
    }

    /** A backend that runs its ops on this many threads (at least 1). */
    public CpuBackend(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.kernels = DenoiseNative.kernels();
        this.threads = threads;
    }

    /** DENOISE_THREADS when set (a positive integer), else the number of cores. */
    public static int defaultThreads() {
        String env = System.getenv("DENOISE_THREADS");
        if (env == null || env.isBlank()) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(env.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("DENOISE_THREADS must be a positive integer, got '" + env + "'");
    }

    /** Threads the ops run on. */
    public int threads() {
        return threads;
    }

    /** CPU features the kernels can use, as names. */
    public static String cpuFeatures() {
        int f = DenoiseNative.runtime_cpu_features();
        StringBuilder sb = new StringBuilder();
        if ((f & Abi.DN_CPU_SSE42) != 0) sb.append("SSE4.2 ");
        if ((f & Abi.DN_CPU_AVX2_FMA) != 0) sb.append("AVX2 FMA ");
        if ((f & Abi.DN_CPU_AVX512F) != 0) sb.append("AVX-512F ");
        if ((f & Abi.DN_CPU_AVX512BW_VL) != 0) sb.append("AVX-512BW/VL ");
        return sb.toString().trim();
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String describe() {
        int isa = DenoiseNative.runtime_isa();
        String kernels = isa == Abi.DN_ISA_AVX512 ? "AVX-512" : isa == Abi.DN_ISA_AVX2 ? "AVX2" : "portable";
        return "cpu (" + threads + " threads, " + cpuFeatures() + "; " + kernels + " kernels)";
    }

    @Override
    protected Kernels kernels() {
        int want = MODE.get()[SERIAL] ? 1 : threads;
        int[] applied = APPLIED_THREADS.get();
        if (applied[0] != want) {
            DenoiseNative.runtime_set_threads(want);
            applied[0] = want;
        }
        return kernels;
    }

    // ---- chunks ----

    private final Object teamLock = new Object();
    private CpuTeam team; // started on the first forEachChunk with more than one chunk

    @Override
    public void forEachChunk(int count, IntConsumer body) {
        boolean[] mode = MODE.get();
        if (threads == 1 || count <= 1 || mode[IN_CHUNK]) {
            super.forEachChunk(count, body); // nothing to share, or nested in a chunk: this thread runs them
            return;
        }
        mode[IN_CHUNK] = true;
        try {
            serially(() -> {
                if (!team().run(count, body)) super.forEachChunk(count, body); // the team is busy
            });
        } finally {
            mode[IN_CHUNK] = false;
        }
    }

    @Override
    public void serially(Runnable ops) {
        boolean[] mode = MODE.get();
        if (mode[SERIAL]) {
            ops.run();
            return;
        }
        mode[SERIAL] = true;
        try {
            ops.run();
        } finally {
            mode[SERIAL] = false;
        }
    }

    private CpuTeam team() {
        synchronized (teamLock) {
            if (team == null) team = new CpuTeam(threads, () -> Arrays.fill(MODE.get(), true));
            return team;
        }
    }

    // ---- memory ----

    /** Bytes held by this backend's tensors not closed yet: flat over a long run, or something leaks. */
    public long liveBytes() {
        return liveBytes.get();
    }

    @Override
    protected Tensor allocateZeroed(int[] shape, long bytes) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment m = arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes); // allocate zero-fills
            liveBytes.addAndGet(bytes);
            return new Tensor(this, m, shape, () -> {
                arena.close();
                liveBytes.addAndGet(-bytes);
            });
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    @Override
    protected void copyIn(MemorySegment dst, float[] src, int srcOffset, int count) {
        MemorySegment.copy(src, srcOffset, dst, ValueLayout.JAVA_FLOAT, 0, count);
    }

    @Override
    protected void copyOut(MemorySegment src, float[] dst, int count) {
        MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, 0, dst, 0, count);
    }

    @Override
    protected void copyRaw(MemorySegment dst, MemorySegment src, long bytes) {
        MemorySegment.copy(src, 0, dst, 0, bytes);
    }

    @Override
    protected void fillRaw(MemorySegment dst, long count, float value) {
        if (Float.floatToRawIntBits(value) == 0) { // +0.0 only: -0.0 has a bit set
            dst.fill((byte) 0);
        } else {
            for (long i = 0; i < count; i++) dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
        }
    }

    @Override
    protected void setWord(MemorySegment dst, long index, int bits) {
        dst.setAtIndex(ValueLayout.JAVA_INT, index, bits);
    }

    @Override
    protected void finish() {
        // every CPU op has finished when it returns
    }

    /** Plain off-heap memory: every copy has finished when it returns. */
    @Override
    protected Staging newStaging(long count) {
        Arena arena = Arena.ofShared();
        MemorySegment memory = arena.allocate(count * Float.BYTES, 64);
        return new Staging() {
            @Override
            public MemorySegment memory() {
                return memory;
            }

            @Override
            public boolean done() {
                return true;
            }

            @Override
            public void await() {
                // copies are synchronous here
            }

            @Override
            public void close() {
                if (arena.scope().isAlive()) arena.close();
            }
        };
    }

    @Override
    protected void uploadRaw(MemorySegment dst, Staging src, long srcOffset, long count) {
        MemorySegment.copy(src.memory(), srcOffset * Float.BYTES, dst, 0, count * Float.BYTES);
    }

    @Override
    protected void downloadRaw(Staging dst, long dstOffset, MemorySegment src, long count) {
        MemorySegment.copy(src, 0, dst.memory(), dstOffset * Float.BYTES, count * Float.BYTES);
    }

    @Override
    public void close() {
        // tensors own their memory; the library stays loaded for the JVM's life; the team's threads end
        synchronized (teamLock) {
            if (team != null) team.close();
            team = null;
        }
    }
}
