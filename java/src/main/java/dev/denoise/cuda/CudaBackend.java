package dev.denoise.cuda;

import dev.denoise.backend.Backend;
import dev.denoise.backend.BackendUnavailableException;
import dev.denoise.backend.Device;
import dev.denoise.backend.Kernels;
import dev.denoise.backend.Tensor;
import dev.denoise.ffm.Cublas;
import dev.denoise.ffm.Cudnn;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The op table on an NVIDIA GPU: {@link Backend} checks each call and hands it to {@link CudaKernels},
 * which queues the kernel of the same name from cuda/ (loaded from the jar's fatbin), a cuBLAS GEMM or
 * a cuDNN convolution on the backend's one stream. This class holds the device: context, stream,
 * memory, graphs. Ops are asynchronous; {@link #read} and {@link #synchronize} wait.
 *
 * <p>Driver API through JCuda (which needs only libcuda.so.1), cuBLAS and cuDNN through FFM
 * ({@link Cublas}, {@link Cudnn}, found at run time by {@link dev.denoise.ffm.CudaLibraries}).
 * A tensor's memory() is its device address dressed as a MemorySegment: Java never dereferences it.
 *
 * <p>Memory: {@link #allocate} keeps freed blocks for reuse by size (all work is on one stream, so a
 * block freed by one op and reused by the next is safe), so a steady training loop stops calling
 * cuMemAlloc after its first step; {@link #arena(long)} gives one block carved into tensors for a
 * model's whole run. Precision: fp32 everywhere unless {@link Options#tf32()}, which lets cuBLAS and
 * cuDNN use TF32 tensor cores (faster on Ampere+, ~1e-3 relative error).
 *
 * <p>Not thread-safe: use one backend from one thread at a time. close is idempotent and frees every
 * tensor, arena and cached plan the backend made; graphs must be closed first.
 */
public final class CudaBackend extends Backend {
    static final String FATBIN = "/dev/denoise/cuda/denoise.fatbin";
    /** cuBLAS' workspace: NVIDIA's recommendation for Hopper, ample for older GPUs. */
    private static final long CUBLAS_WORKSPACE = 32L << 20;
    /** Blocks up to 1 MiB are reused at 512-byte granularity, larger ones at 1 MiB. */
    private static final long SMALL_BLOCK = 1L << 20;

    /** Which GPU, and whether fp32 GEMMs/convolutions may use TF32 tensor cores. */
    public record Options(int device, boolean tf32) {
        public static final Options DEFAULT = new Options(0, false);
    }

    private static CudaProbe probe;
    private static final ThreadLocal<CudaBackend> CURRENT = new ThreadLocal<>();

    private final Options options;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final Driver.Stream stream = new Driver.Stream();
    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<Long, ArrayDeque<Driver.DevicePointer>> freeBlocks = new HashMap<>();
    private final List<Driver.DevicePointer> blocks = new ArrayList<>();
    private boolean contextRetained, streamCreated, moduleLoaded, closed;
    private MemorySegment cublas, cudnn;
    private Driver.DevicePointer cublasWorkspace;
    private Convolutions convolutions;
    private List<Block> heldByCapture; // non-null while a graph is being captured
    private final List<CudaStaging> stagings = new ArrayList<>(); // freed with the context if still open
    private final List<Driver.DevicePointer> retired = new ArrayList<>(); // may be read by a live graph
    private long captures;
    private CudaProbe info;
    private CudaKernels kernels;

    /** A cached device block of the allocator. */
    record Block(long size, Driver.DevicePointer pointer) {}

    // ---- opening ----

    /** The default GPU in fp32. */
    public static CudaBackend open() {
        return open(Options.DEFAULT);
    }

    /** Opens the GPU backend or throws a {@link BackendUnavailableException} with a one-line reason. */
    public static CudaBackend open(Options options) {
        loadDriver();
        byte[] fatbin = fatbin();
        Cublas.require();
        Cudnn.require();
        return new CudaBackend(options, fatbin);
    }

    /**
     * Whether the GPU backend can run here, and on what; tried once per JVM, without a CUDA context or
     * a cuBLAS or cuDNN handle (see {@link #probeNow}). Never throws: every failure, including a missing
     * libcuda.so.1 or JCuda native library, becomes the reason of an unavailable probe.
     */
    public static synchronized CudaProbe probe() {
        if (probe == null) probe = probeNow();
        return probe;
    }

    /**
     * The checks {@link #open} makes before it creates anything, in its order and with its reasons
     * (driver, kernels in the jar, cuBLAS and cuDNN loaded with every symbol bound), then what can be
     * read without a context: cuInit, the device count, device 0's name and compute capability, the
     * driver's CUDA version, and the library versions from cublasGetProperty and cudnnGetVersion. So a
     * process that probes and then opens starts CUDA, cuBLAS and cuDNN once, in open; what only a
     * context can tell (the kernels load on this GPU, memory suffices) open reports, and Backends'
     * "auto" falls back to the CPU on it.
     */
    private static CudaProbe probeNow() {
        try {
            loadDriver();
            fatbin(); // only whether the jar has kernels; open reads them again for the module
            Cublas.require();
            Cudnn.require();
            return deviceInfo(Options.DEFAULT.device());
        } catch (BackendUnavailableException e) {
            return CudaProbe.unavailable(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return CudaProbe.unavailable(e.getClass().getSimpleName() + ": " + firstLine(e));
        }
    }

    /** The device and versions of a probe, from driver and library queries that need no context. */
    private static CudaProbe deviceInfo(int ordinal) {
        try {
            int[] count = {0};
            Driver.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
            if (ordinal >= count[0]) {
                throw new BackendUnavailableException("no CUDA device " + ordinal + " (" + count[0] + " found)");
            }
            CUdevice device = new CUdevice();
            Driver.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet");
            byte[] name = new byte[256];
            Driver.check(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
            int len = 0;
            while (len < name.length && name[len] != 0) len++;
            int[] driver = {0};
            Driver.check(JCudaDriver.cuDriverGetVersion(driver), "cuDriverGetVersion");
            return new CudaProbe(true, null, new String(name, 0, len, StandardCharsets.UTF_8),
                    deviceAttribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10
                            + deviceAttribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                    driver[0], Cublas.libraryVersion(), Cudnn.cudnnGetVersion());
        } catch (BackendUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new BackendUnavailableException("cannot start CUDA: " + firstLine(e), e); // as open words it
        }
    }

    private static int deviceAttribute(CUdevice device, int attribute) {
        int[] v = {0};
        Driver.check(JCudaDriver.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute");
        return v[0];
    }

    private static boolean driverLoaded;

    /**
     * Opens libcuda.so.1 with FFM first: JCuda's JNI library links against it, and loading that would
     * end in an UnsatisfiedLinkError stack; this way a machine without the NVIDIA driver gets a plain
     * reason. Once libcuda is loaded, the JNI library resolves against it by soname.
     */
    private static synchronized void loadDriver() {
        if (driverLoaded) return;
        try {
            SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            throw new BackendUnavailableException("no libcuda.so.1 (the NVIDIA driver is not installed)");
        }
        int rc;
        try {
            JCudaDriver.setExceptionsEnabled(false);
            rc = JCudaDriver.cuInit(0);
        } catch (LinkageError e) {
            throw new BackendUnavailableException("cannot load JCuda's driver library: " + firstLine(e), e);
        }
        if (rc == CUresult.CUDA_ERROR_NO_DEVICE) throw new BackendUnavailableException("no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)");
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new BackendUnavailableException("cuInit failed: " + CUresult.stringFor(rc) + " (" + rc + ")");
        }
        driverLoaded = true;
    }

    private static byte[] fatbin() {
        try (InputStream in = CudaBackend.class.getResourceAsStream(FATBIN)) {
            if (in == null) {
                throw new BackendUnavailableException("no GPU kernels in the jar (" + FATBIN
                        + "): it was built without nvcc; run `make cuda` and rebuild");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new BackendUnavailableException("cannot read " + FATBIN + ": " + e.getMessage(), e);
        }
    }

    private CudaBackend(Options options, byte[] fatbin) {
        this.options = options;
        try {
            init(fatbin);
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof BackendUnavailableException) throw e;
            throw new BackendUnavailableException("cannot start CUDA: " + firstLine(e), e);
        }
    }

    private void init(byte[] fatbin) {
        int[] count = {0};
        Driver.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (options.device() < 0 || options.device() >= count[0]) {
            throw new BackendUnavailableException("no CUDA device " + options.device() + " (" + count[0] + " found)");
        }
        Driver.check(JCudaDriver.cuDeviceGet(device, options.device()), "cuDeviceGet");
        Driver.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        contextRetained = true;
        makeCurrent();
        Driver.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
        streamCreated = true;

        int rc = JCudaDriver.cuModuleLoadData(module, fatbin);
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new BackendUnavailableException("cannot load the GPU kernels: " + CUresult.stringFor(rc) + " (" + rc
                    + "); the fatbin holds code for sm_75 to sm_90 and PTX for newer GPUs, built by CUDA 13, which"
                    + " needs an NVIDIA driver for CUDA 13 (R580 or newer)");
        }
        moduleLoaded = true;
        for (String name : CudaKernels.NAMES) {
            CUfunction f = new CUfunction();
            if (JCudaDriver.cuModuleGetFunction(f, module, name) != CUresult.CUDA_SUCCESS) {
                throw new BackendUnavailableException("the GPU kernels in the jar lack " + name + " (stale build? run make cuda)");
            }
            functions.put(name, f);
        }

        int sms = deviceAttribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        int maxBlocks = Math.max(1, sms) * 32; // enough resident blocks to saturate memory; the loops stride the rest

        cublas = Cublas.cublasCreate_v2();
        Cublas.cublasSetStream_v2(cublas, stream.handle());
        Cublas.cublasSetMathMode(cublas, options.tf32() ? Cublas.CUBLAS_TF32_TENSOR_OP_MATH : Cublas.CUBLAS_DEFAULT_MATH);
        cublasWorkspace = deviceAlloc(CUBLAS_WORKSPACE);
        Cublas.cublasSetWorkspace_v2(cublas, MemorySegment.ofAddress(cublasWorkspace.address()), CUBLAS_WORKSPACE);
        cudnn = Cudnn.cudnnCreate();
        Cudnn.cudnnSetStream(cudnn, stream.handle());
        convolutions = new Convolutions(this, cudnn, options.tf32());
        kernels = new CudaKernels(this, stream, functions, maxBlocks, cublas, convolutions);

        info = deviceInfo(options.device()); // the probe's own queries, so both describe the device alike
    }

    /** The device and library versions this backend runs on. */
    public CudaProbe info() {
        return info;
    }

    public Options options() {
        return options;
    }

    /** The driver API keeps a current context per thread: set ours before any call on this thread. */
    void makeCurrent() {
        if (CURRENT.get() == this) return;
        Driver.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
        CURRENT.set(this);
    }

    /** Every call: refuse a closed backend, and make its context current on this thread. */
    private void enter() {
        if (closed) throw new IllegalStateException("CUDA backend is closed");
        makeCurrent();
    }

    @Override
    protected Kernels kernels() {
        enter();
        return kernels;
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String describe() {
        return "cuda (" + (info == null ? "starting" : info.deviceName() + ", sm_" + info.computeCapability())
                + ", " + (options.tf32() ? "tf32" : "fp32") + ")";
    }

    // ---- memory ----

    Driver.DevicePointer deviceAlloc(long bytes) {
        makeCurrent();
        Driver.DevicePointer p = new Driver.DevicePointer();
        Driver.check(JCudaDriver.cuMemAlloc(p, Math.max(bytes, 1)), "cuMemAlloc(" + bytes + " bytes)");
        return p;
    }

    /** Frees a block now; cuMemFree waits for work that may still use it. */
    void free(Driver.DevicePointer p) {
        if (closed) return; // the context's memory is gone already
        makeCurrent();
        Driver.check(JCudaDriver.cuMemFree(p), "cuMemFree");
    }

    static long blockSize(long bytes) {
        long b = Math.max(bytes, 1);
        return DeviceArena.alignUp(b, b <= SMALL_BLOCK ? 512 : SMALL_BLOCK);
    }

    @Override
    protected Tensor allocateZeroed(int[] shape, long bytes) {
        enter();
        long size = blockSize(bytes);
        ArrayDeque<Driver.DevicePointer> free = freeBlocks.get(size);
        Driver.DevicePointer p = free == null || free.isEmpty() ? null : free.pop();
        if (p == null) {
            p = deviceAlloc(size);
            blocks.add(p);
        }
        Block block = new Block(size, p);
        MemorySegment memory = MemorySegment.ofAddress(p.address()).reinterpret(bytes);
        if (bytes > 0) fillRaw(memory, bytes / Float.BYTES, 0f);
        return new Tensor(this, memory, shape, () -> release(block));
    }

    private void release(Block b) {
        if (closed) return;
        if (heldByCapture != null) {
            heldByCapture.add(b); // a graph being captured may use it; it returns when the graph closes
        } else {
            freeBlocks.computeIfAbsent(b.size(), k -> new ArrayDeque<>()).push(b.pointer());
        }
    }

    void releaseAll(List<Block> held) {
        for (Block b : held) release(b);
    }

    /**
     * One device block of the given size, carved into zero-filled tensors by {@link DeviceArena#allocate};
     * for a model's parameters, gradients, optimizer state and activations over a whole run.
     */
    public DeviceArena arena(long bytes) {
        enter();
        if (bytes <= 0) throw new IllegalArgumentException("arena size must be positive, got " + bytes);
        Driver.DevicePointer p = deviceAlloc(bytes);
        return new DeviceArena(this, p, bytes);
    }

    @Override
    protected void copyIn(MemorySegment dst, float[] src, int srcOffset, int count) {
        enter();
        finish(); // a plain copy from Java memory: let queued ops that read dst finish first
        Driver.check(JCudaDriver.cuMemcpyHtoD(Driver.DevicePointer.of(dst),
                Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES), (long) count * Float.BYTES), "cuMemcpyHtoD");
    }

    @Override
    protected void copyOut(MemorySegment src, float[] dst, int count) {
        enter();
        finish();
        Driver.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), Driver.DevicePointer.of(src), (long) count * Float.BYTES),
                "cuMemcpyDtoH");
    }

    @Override
    protected void copyRaw(MemorySegment dst, MemorySegment src, long bytes) {
        enter();
        Driver.check(JCudaDriver.cuMemcpyDtoDAsync(Driver.DevicePointer.of(dst), Driver.DevicePointer.of(src), bytes, stream),
                "cuMemcpyDtoDAsync");
    }

    @Override
    protected void fillRaw(MemorySegment dst, long count, float value) {
        enter();
        Driver.check(JCudaDriver.cuMemsetD32Async(Driver.DevicePointer.of(dst), Float.floatToRawIntBits(value), count,
                stream), "cuMemsetD32Async");
    }

    /** One 32-bit memset queued on the stream: a per-step value written without a host round trip. */
    @Override
    protected void setWord(MemorySegment dst, long index, int bits) {
        enter();
        Driver.check(JCudaDriver.cuMemsetD32Async(Driver.DevicePointer.at(dst.address() + index * Integer.BYTES), bits, 1,
                stream), "cuMemsetD32Async");
    }

    @Override
    protected void finish() {
        enter();
        Driver.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    // ---- staged copies: page-locked host memory, asynchronous on the stream ----

    @Override
    protected Staging newStaging(long count) {
        enter();
        CudaStaging s = new CudaStaging(this, count);
        stagings.add(s);
        return s;
    }

    void forget(CudaStaging s) {
        stagings.remove(s);
    }

    @Override
    protected void uploadRaw(MemorySegment dst, Staging src, long srcOffset, long count) {
        enter();
        CudaStaging s = (CudaStaging) src;
        Driver.check(JCudaDriver.cuMemcpyHtoDAsync(Driver.DevicePointer.of(dst), s.pointer(srcOffset * Float.BYTES),
                count * Float.BYTES, stream), "cuMemcpyHtoDAsync");
        s.recordOn(stream);
    }

    @Override
    protected void downloadRaw(Staging dst, long dstOffset, MemorySegment src, long count) {
        enter();
        CudaStaging s = (CudaStaging) dst;
        Driver.check(JCudaDriver.cuMemcpyDtoHAsync(s.pointer(dstOffset * Float.BYTES), Driver.DevicePointer.of(src),
                count * Float.BYTES, stream), "cuMemcpyDtoHAsync");
        s.recordOn(stream);
    }

    // ---- steps recorded once: CUDA graphs ----

    /** -Ddenoise.cuda.graphs=false runs every step eagerly (to tell a graph fault from an op fault). */
    static boolean graphsEnabled() {
        return !"false".equalsIgnoreCase(System.getProperty("denoise.cuda.graphs", "true"));
    }

    /**
     * The first run is eager, so cuDNN chooses its algorithms and every workspace reaches its size
     * outside capture; the second captures the step into a CUDA graph and launches it; later runs
     * launch the graph: one call instead of dozens of launches and cuDNN/cuBLAS calls.
     */
    @Override
    public Replay replayable(Runnable step) {
        if (!graphsEnabled()) return super.replayable(step);
        return new Replay() {
            private int runs;
            private CudaGraph graph;

            @Override
            public void run() {
                if (graph != null) {
                    graph.launch();
                } else if (runs++ == 0) {
                    step.run();
                } else {
                    graph = captureGraph(step);
                    graph.launch();
                }
            }

            @Override
            public void close() {
                if (graph != null) graph.close();
                graph = null;
            }
        };
    }

    // ---- CUDA graphs ----

    boolean capturing() {
        return heldByCapture != null;
    }

    /** Graphs captured so far: a block allocated before the last capture may be in a graph. */
    long captures() {
        return captures;
    }

    /** A block a captured graph may still point at: kept until the backend closes instead of freed. */
    void retire(Driver.DevicePointer p) {
        retired.add(p);
    }

    /**
     * Records the GPU work of step (which must only queue ops: no read, write or synchronize) into a
     * graph that {@link CudaGraph#launch()} replays with one call. Run the step once eagerly first, so
     * every cuDNN algorithm and workspace is chosen; a first use during capture throws. Tensors freed
     * during the capture stay reserved for the graph until it closes.
     */
    public CudaGraph captureGraph(Runnable step) {
        enter();
        if (capturing()) throw new IllegalStateException("a CUDA graph is already being captured");
        Driver.check(JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture");
        List<Block> held = new ArrayList<>();
        heldByCapture = held;
        captures++;
        CUgraph graph = new CUgraph();
        try {
            step.run();
        } catch (RuntimeException | Error e) {
            heldByCapture = null;
            if (JCudaDriver.cuStreamEndCapture(stream, graph) == CUresult.CUDA_SUCCESS) JCudaDriver.cuGraphDestroy(graph);
            releaseAll(held);
            throw e;
        }
        heldByCapture = null;
        Driver.check(JCudaDriver.cuStreamEndCapture(stream, graph), "cuStreamEndCapture");
        CUgraphExec exec = new CUgraphExec();
        int rc = JCudaDriver.cuGraphInstantiate(exec, graph, 0);
        if (rc != CUresult.CUDA_SUCCESS) {
            JCudaDriver.cuGraphDestroy(graph);
            releaseAll(held);
            Driver.check(rc, "cuGraphInstantiate");
        }
        return new CudaGraph(this, graph, exec, held);
    }

    void launchGraph(CUgraphExec exec) {
        enter();
        Driver.check(JCudaDriver.cuGraphLaunch(exec, stream), "cuGraphLaunch");
    }

    // ---- closing ----

    @Override
    public void close() {
        if (closed) return;
        List<RuntimeException> errors = new ArrayList<>();
        if (contextRetained) {
            run(errors, this::makeCurrent);
            if (streamCreated) run(errors, () -> Driver.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize"));
            for (CudaStaging s : List.copyOf(stagings)) run(errors, s::close);
            if (kernels != null) run(errors, kernels::close);
            if (convolutions != null) run(errors, convolutions::close);
            if (cudnn != null) run(errors, () -> Cudnn.cudnnDestroy(cudnn));
            if (cublas != null) run(errors, () -> Cublas.cublasDestroy_v2(cublas));
            if (cublasWorkspace != null) run(errors, () -> free(cublasWorkspace));
            for (Driver.DevicePointer p : blocks) run(errors, () -> free(p));
            for (Driver.DevicePointer p : retired) run(errors, () -> free(p));
            if (moduleLoaded) run(errors, () -> Driver.check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload"));
            if (streamCreated) run(errors, () -> Driver.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy"));
            run(errors, () -> Driver.check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease"));
        }
        closed = true;
        blocks.clear();
        freeBlocks.clear();
        if (CURRENT.get() == this) CURRENT.remove();
        if (!errors.isEmpty()) throw errors.getFirst();
    }

    private static void run(List<RuntimeException> errors, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            errors.add(e);
        }
    }

    static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

}
