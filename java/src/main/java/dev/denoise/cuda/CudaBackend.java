package dev.denoise.cuda;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.BackendUnavailableException;
import dev.denoise.backend.Checks;
import dev.denoise.backend.Device;
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
 * The op table on an NVIDIA GPU: each method runs the same {@link Checks} as
 * {@link dev.denoise.backend.CpuBackend}, then queues the kernel of the same name from cuda/ (loaded
 * from the jar's fatbin), a cuBLAS GEMM or a cuDNN convolution on the backend's one stream. Ops are
 * asynchronous; {@link #read} and {@link #synchronize} wait.
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
@SuppressWarnings("checkstyle:MethodName") // the op names of native/denoise.h, on purpose
public final class CudaBackend implements Backend {
    static final String FATBIN = "/dev/denoise/cuda/denoise.fatbin";
    /** DN_THREADS of cuda/common.cuh: the block size of every launch (reductions rely on it). */
    static final int THREADS = 256;
    /** cuBLAS' workspace: NVIDIA's recommendation for Hopper, ample for older GPUs. */
    private static final long CUBLAS_WORKSPACE = 32L << 20;
    /** Blocks up to 1 MiB are reused at 512-byte granularity, larger ones at 1 MiB. */
    private static final long SMALL_BLOCK = 1L << 20;

    /** Every kernel the backend launches; all are looked up when it opens, so a stale fatbin fails early. */
    static final List<String> KERNELS = List.of("bias_act_forward", "bias_act_backward", "bias_act_backward_dbias",
            "maxpool2d_forward", "maxpool2d_backward", "maxpool2d_relu_backward", "upsample2d_forward", "upsample2d_backward", "add",
            "sigmoid_bce_forward", "sigmoid_bce_backward", "mse_forward", "mse_backward", "psnr_forward",
            "reparam_forward", "reparam_backward", "kl_forward", "kl_backward", "adam_update", "noise_gaussian",
            "noise_salt_pepper", "noise_normal", "sum_scaled", "gather_rows");

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
    private final Map<String, CUfunction> kernels = new HashMap<>();
    private final Map<Long, ArrayDeque<Driver.DevicePointer>> freeBlocks = new HashMap<>();
    private final List<Driver.DevicePointer> blocks = new ArrayList<>();
    private boolean contextRetained, streamCreated, moduleLoaded, closed;
    private MemorySegment cublas, cudnn;
    private Driver.DevicePointer cublasWorkspace;
    private Convolutions convolutions;
    private List<Block> heldByCapture; // non-null while a graph is being captured
    private CudaProbe info;
    private int maxBlocks;

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
     * Whether the GPU backend can run here, and on what; tried once per JVM (a full open and close).
     * Never throws: every failure, including a missing libcuda.so.1 or JCuda native library, becomes
     * the reason of an unavailable probe.
     */
    public static synchronized CudaProbe probe() {
        if (probe == null) probe = probeNow();
        return probe;
    }

    private static CudaProbe probeNow() {
        try (CudaBackend b = open()) {
            return b.info;
        } catch (BackendUnavailableException e) {
            return CudaProbe.unavailable(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return CudaProbe.unavailable(e.getClass().getSimpleName() + ": " + firstLine(e));
        }
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
        for (String name : KERNELS) {
            CUfunction f = new CUfunction();
            if (JCudaDriver.cuModuleGetFunction(f, module, name) != CUresult.CUDA_SUCCESS) {
                throw new BackendUnavailableException("the GPU kernels in the jar lack " + name + " (stale build? run make cuda)");
            }
            kernels.put(name, f);
        }

        int sms = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        maxBlocks = Math.max(1, sms) * 32; // enough resident blocks to saturate memory; the loops stride the rest

        cublas = Cublas.cublasCreate_v2();
        Cublas.cublasSetStream_v2(cublas, stream.handle());
        Cublas.cublasSetMathMode(cublas, options.tf32() ? Cublas.CUBLAS_TF32_TENSOR_OP_MATH : Cublas.CUBLAS_DEFAULT_MATH);
        cublasWorkspace = deviceAlloc(CUBLAS_WORKSPACE);
        Cublas.cublasSetWorkspace_v2(cublas, MemorySegment.ofAddress(cublasWorkspace.address()), CUBLAS_WORKSPACE);
        cudnn = Cudnn.cudnnCreate();
        Cudnn.cudnnSetStream(cudnn, stream.handle());
        convolutions = new Convolutions(this, cudnn, options.tf32());

        byte[] name = new byte[256];
        Driver.check(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        int[] driver = {0};
        Driver.check(JCudaDriver.cuDriverGetVersion(driver), "cuDriverGetVersion");
        info = new CudaProbe(true, null, new String(name, 0, len, StandardCharsets.UTF_8),
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10
                        + attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                driver[0], Cublas.cublasGetVersion_v2(cublas), Cudnn.cudnnGetVersion());
    }

    private int attribute(int attribute) {
        int[] v = {0};
        Driver.check(JCudaDriver.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute");
        return v[0];
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

    private void enter(Tensor... ts) {
        if (closed) throw new IllegalStateException("CUDA backend is closed");
        Checks.sameBackend(this, ts);
        makeCurrent();
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
    public Tensor allocate(int... shape) {
        enter();
        long bytes = Math.multiplyExact(Tensor.numel(shape), (long) Float.BYTES);
        long size = blockSize(bytes);
        ArrayDeque<Driver.DevicePointer> free = freeBlocks.get(size);
        Driver.DevicePointer p = free == null || free.isEmpty() ? null : free.pop();
        if (p == null) {
            p = deviceAlloc(size);
            blocks.add(p);
        }
        Block block = new Block(size, p);
        Tensor t = new Tensor(this, MemorySegment.ofAddress(p.address()).reinterpret(bytes), shape, () -> release(block));
        fill(t, 0f);
        return t;
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
    public void write(Tensor dst, float[] src, int srcOffset) {
        enter(dst);
        long n = dst.numel();
        if (srcOffset < 0 || srcOffset + n > src.length) {
            throw new IndexOutOfBoundsException("write: " + n + " floats from offset " + srcOffset + " of " + src.length);
        }
        if (n == 0) return;
        synchronize(); // a plain copy from Java memory: let queued ops that read dst finish first
        Driver.check(JCudaDriver.cuMemcpyHtoD(Driver.DevicePointer.of(dst.memory()),
                Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES), n * Float.BYTES), "cuMemcpyHtoD");
    }

    @Override
    public void read(Tensor src, float[] dst) {
        enter(src);
        long n = src.numel();
        if (n > dst.length) throw new IndexOutOfBoundsException("read: " + n + " floats into an array of " + dst.length);
        synchronize();
        if (n == 0) return;
        Driver.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), Driver.DevicePointer.of(src.memory()), n * Float.BYTES),
                "cuMemcpyDtoH");
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        enter(dst, src);
        if (dst.numel() != src.numel()) throw new IllegalArgumentException("copy: " + src + " into " + dst);
        if (src.numel() == 0) return;
        Driver.check(JCudaDriver.cuMemcpyDtoDAsync(Driver.DevicePointer.of(dst.memory()),
                Driver.DevicePointer.of(src.memory()), src.byteSize(), stream), "cuMemcpyDtoDAsync");
    }

    @Override
    public void fill(Tensor t, float value) {
        enter(t);
        if (t.numel() == 0) return;
        Driver.check(JCudaDriver.cuMemsetD32Async(Driver.DevicePointer.of(t.memory()), Float.floatToRawIntBits(value),
                t.numel(), stream), "cuMemsetD32Async");
    }

    @Override
    public void synchronize() {
        if (closed) throw new IllegalStateException("CUDA backend is closed");
        makeCurrent();
        Driver.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    // ---- kernel launches ----

    /** An element-wise kernel over work elements: blocks of THREADS, grid capped (the kernels grid-stride). */
    private void launch(String kernel, long work, Object... args) {
        if (work <= 0) return;
        launchGrid(kernel, (int) Math.min((work + THREADS - 1) / THREADS, maxBlocks), args);
    }

    /** blocks blocks of exactly THREADS threads; args are Tensors (device pointers; null is NULL), Integer, Long, Float. */
    private void launchGrid(String kernel, int blocks, Object... args) {
        if (blocks <= 0) return;
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case null -> Pointer.to(new long[] {0L});
                case Tensor t -> Pointer.to(new long[] {t.memory().address()});
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException("kernel argument of type " + args[i].getClass());
            };
        }
        Driver.check(JCudaDriver.cuLaunchKernel(kernels.get(kernel), blocks, 1, 1, THREADS, 1, 1, 0, stream,
                Pointer.to(params), null), "cuLaunchKernel(" + kernel + ")");
    }

    // ---- GEMM ----

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        enter(a, b, c);
        int[] d = Checks.gemm(transA, transB, a, b, c);
        if (d[0] == 0 || d[1] == 0) return;
        Cublas.gemmRowMajor(cublas, transA, transB, d[0], d[1], d[2], alpha, a.memory(), d[3], b.memory(), d[4], beta,
                c.memory(), d[5]);
    }

    // ---- bias + activation ----

    @Override
    public void bias_act_forward(Tensor out, Tensor inp, Tensor bias, Activation act) {
        enter(out, inp, bias);
        int[] d = Checks.biasAct("bias_act_forward", out, inp, bias);
        launch("bias_act_forward", (long) d[0] * d[1] * d[2], out, inp, bias, d[0], d[1], d[2], act.code);
    }

    @Override
    public void bias_act_backward(Tensor dinp, Tensor dbias, Tensor dout, Tensor out, Activation act) {
        enter(dinp, dbias, dout, out);
        Checks.same("bias_act_backward", "dout", dout, out);
        int[] d = Checks.biasAct("bias_act_backward", dinp, out, dbias);
        launch("bias_act_backward", (long) d[0] * d[1] * d[2], dinp, dout, out, d[0], d[1], d[2], act.code);
        if (dbias != null) launchGrid("bias_act_backward_dbias", d[1], dbias, dinp, d[0], d[1], d[2]);
    }

    // ---- conv2d: cuDNN, then the bias_act kernel ----

    private static boolean anyZero(int[] d) {
        for (int v : d) if (v == 0) return true;
        return false;
    }

    @Override
    public void conv2d_forward(Tensor out, Tensor inp, Tensor weight, Tensor bias, Activation act) {
        enter(out, inp, weight, bias);
        int[] d = Checks.conv2d("conv2d_forward", out, inp, weight);
        if (bias != null) Checks.shape("conv2d_forward", "bias", bias, d[4]);
        if (anyZero(d)) {
            fill(out, 0f); // cuDNN rejects empty dimensions; an empty sum is 0
        } else {
            convolutions.forward(out, inp, weight, d);
        }
        if (bias != null || act != Activation.IDENTITY) {
            long hw = (long) d[2] * d[3];
            launch("bias_act_forward", (long) d[0] * d[4] * hw, out, out, bias, d[0], d[4], Math.toIntExact(hw), act.code);
        }
    }

    @Override
    public void conv2d_backward_data(Tensor dinp, Tensor dout, Tensor weight) {
        enter(dinp, dout, weight);
        int[] d = Checks.conv2d("conv2d_backward_data", dout, dinp, weight);
        if (anyZero(d)) {
            fill(dinp, 0f);
        } else {
            convolutions.backwardData(dinp, dout, weight, d);
        }
    }

    @Override
    public void upsample2d_conv2d_backward_data(Tensor dinp, Tensor dout, Tensor weight) {
        enter(dinp, dout, weight);
        int[] d = Checks.upsampleConv2d("upsample2d_conv2d_backward_data", dinp, dout, weight);
        /* cuDNN's backward data into a full-size temporary, then the upsample2d_backward kernel */
        try (Tensor full = allocate(d[0], d[1], d[2], d[3])) {
            conv2d_backward_data(full, dout, weight);
            upsample2d_backward(dinp, full);
        }
    }

    @Override
    public void conv2d_backward_filter(Tensor dweight, Tensor dout, Tensor inp) {
        enter(dweight, dout, inp);
        int[] d = Checks.conv2d("conv2d_backward_filter", dout, inp, dweight);
        if (anyZero(d)) {
            fill(dweight, 0f);
        } else {
            convolutions.backwardFilter(dweight, dout, inp, d);
        }
    }

    /** dbias (K) = channel sums of dout: the deterministic bias_act_backward_dbias kernel of cuda/bias_act.cu. */
    @Override
    public void conv2d_backward_bias(Tensor dbias, Tensor dout) {
        enter(dbias, dout);
        if (dout.rank() != 4) {
            throw new IllegalArgumentException("conv2d_backward_bias: dout (rank 4 expected) has shape "
                    + Arrays.toString(dout.shape()));
        }
        int[] x = dout.shape();
        Checks.shape("conv2d_backward_bias", "dbias", dbias, x[1]);
        launchGrid("bias_act_backward_dbias", x[1], dbias, dout, x[0], x[1], Math.multiplyExact(x[2], x[3]));
    }

    // ---- pool / upsample ----

    @Override
    public void maxpool2d_forward(Tensor out, Tensor inp) {
        enter(out, inp);
        int[] d = Checks.pool2("maxpool2d_forward", inp, out);
        launch("maxpool2d_forward", out.numel(), out, inp, d[0], d[1], d[2], d[3]);
    }

    @Override
    public void maxpool2d_backward(Tensor dinp, Tensor dout, Tensor inp) {
        enter(dinp, dout, inp);
        Checks.same("maxpool2d_backward", "dinp", dinp, inp);
        int[] d = Checks.pool2("maxpool2d_backward", inp, dout);
        launch("maxpool2d_backward", dinp.numel(), dinp, dout, inp, d[0], d[1], d[2], d[3]);
    }

    @Override
    public void maxpool2d_relu_backward(Tensor dinp, Tensor dbias, Tensor dout, Tensor dskip, Tensor inp) {
        enter(dinp, dbias, dout, dskip, inp);
        int[] d = Checks.maxpoolReluBackward(dinp, dbias, dout, dskip, inp);
        launch("maxpool2d_relu_backward", dinp.numel(), dinp, dout, dskip, inp, d[0], d[1], d[2], d[3]);
        if (dbias != null) launchGrid("bias_act_backward_dbias", d[1], dbias, dinp, d[0], d[1], Math.multiplyExact(d[2], d[3]));
    }

    @Override
    public void upsample2d_forward(Tensor out, Tensor inp) {
        enter(out, inp);
        int[] d = Checks.upsample2("upsample2d_forward", out, inp);
        launch("upsample2d_forward", out.numel(), out, inp, d[0], d[1], d[2], d[3]);
    }

    @Override
    public void upsample2d_backward(Tensor dinp, Tensor dout) {
        enter(dinp, dout);
        int[] d = Checks.upsample2("upsample2d_backward", dout, dinp);
        launch("upsample2d_backward", dinp.numel(), dinp, dout, d[0], d[1], d[2], d[3]);
    }

    // ---- losses: forward reductions are one block per image ----

    @Override
    public void add(Tensor out, Tensor a, Tensor b) {
        enter(out, a, b);
        Checks.add("add", out, a, b);
        launch("add", out.numel(), out, a, b, out.numel());
    }

    @Override
    public void sigmoid_bce_forward(Tensor loss, Tensor logits, Tensor target) {
        enter(loss, logits, target);
        int[] d = Checks.perImage("sigmoid_bce_forward", loss, logits, target);
        launchGrid("sigmoid_bce_forward", d[0], loss, logits, target, d[0], d[1]);
    }

    @Override
    public void sigmoid_bce_backward(Tensor dlogits, Tensor logits, Tensor target, float scale) {
        enter(dlogits, logits, target);
        Checks.same("sigmoid_bce_backward", "dlogits", dlogits, logits);
        int[] d = Checks.perImage("sigmoid_bce_backward", null, logits, target);
        launch("sigmoid_bce_backward", (long) d[0] * d[1], dlogits, logits, target, d[0], d[1], scale);
    }

    @Override
    public void mse_forward(Tensor loss, Tensor pred, Tensor target) {
        enter(loss, pred, target);
        int[] d = Checks.perImage("mse_forward", loss, pred, target);
        launchGrid("mse_forward", d[0], loss, pred, target, d[0], d[1]);
    }

    @Override
    public void mse_backward(Tensor dpred, Tensor pred, Tensor target, float scale) {
        enter(dpred, pred, target);
        Checks.same("mse_backward", "dpred", dpred, pred);
        int[] d = Checks.perImage("mse_backward", null, pred, target);
        launch("mse_backward", (long) d[0] * d[1], dpred, pred, target, d[0], d[1], scale);
    }

    @Override
    public void psnr_forward(Tensor psnr, Tensor pred, Tensor target) {
        enter(psnr, pred, target);
        int[] d = Checks.perImage("psnr_forward", psnr, pred, target);
        launchGrid("psnr_forward", d[0], psnr, pred, target, d[0], d[1]);
    }

    // ---- VAE ----

    @Override
    public void reparam_forward(Tensor z, Tensor eps, Tensor mu, Tensor logvar, long seed, long offset) {
        enter(z, eps, mu, logvar);
        long n = Checks.sameAll("reparam_forward", mu, logvar, z, eps);
        launch("reparam_forward", n, z, eps, mu, logvar, n, seed, offset);
    }

    @Override
    public void reparam_backward(Tensor dmu, Tensor dlogvar, Tensor dz, Tensor logvar, Tensor eps) {
        enter(dmu, dlogvar, dz, logvar, eps);
        long n = Checks.sameAll("reparam_backward", dz, dmu, dlogvar, logvar, eps);
        launch("reparam_backward", n, dmu, dlogvar, dz, logvar, eps, n);
    }

    @Override
    public void kl_forward(Tensor loss, Tensor mu, Tensor logvar) {
        enter(loss, mu, logvar);
        int[] d = Checks.perImage("kl_forward", loss, mu, logvar);
        launchGrid("kl_forward", d[0], loss, mu, logvar, d[0], d[1]);
    }

    @Override
    public void kl_backward(Tensor dmu, Tensor dlogvar, Tensor mu, Tensor logvar, float scale) {
        enter(dmu, dlogvar, mu, logvar);
        Checks.sameAll("kl_backward", mu, logvar, dmu, dlogvar);
        int[] d = Checks.perImage("kl_backward", null, mu, logvar);
        launch("kl_backward", (long) d[0] * d[1], dmu, dlogvar, mu, logvar, d[0], d[1], scale);
    }

    // ---- Adam ----

    /** Bias corrections as native/adam.c computes them: in double, then rounded to float. */
    static float[] adamCorrections(float beta1, float beta2, int t) {
        return new float[] {(float) (1.0 / (1.0 - Math.pow(beta1, t))), (float) (1.0 / (1.0 - Math.pow(beta2, t)))};
    }

    @Override
    public void adam_update(Tensor param, Tensor m, Tensor v, Tensor grad, float lr, float beta1, float beta2,
                            float eps, int t) {
        enter(param, m, v, grad);
        if (t < 1) throw new IllegalArgumentException("adam_update: step t must be >= 1, got " + t);
        long n = Checks.sameAll("adam_update", param, m, v, grad);
        float[] c = adamCorrections(beta1, beta2, t);
        launch("adam_update", n, param, m, v, grad, n, lr, beta1, beta2, eps, c[0], c[1]);
    }

    // ---- noise (cuda/noise.cu) ----

    @Override
    public void noise_gaussian(Tensor out, Tensor inp, float sigma, long seed, long offset) {
        enter(out, inp);
        long n = Checks.sameAll("noise_gaussian", inp, out);
        launch("noise_gaussian", n, out, inp, n, sigma, seed, offset);
    }

    @Override
    public void noise_salt_pepper(Tensor out, Tensor inp, float p, long seed, long offset) {
        enter(out, inp);
        long n = Checks.sameAll("noise_salt_pepper", inp, out);
        launch("noise_salt_pepper", n, out, inp, n, p, seed, offset);
    }

    @Override
    public void noise_normal(Tensor out, long seed, long offset) {
        enter(out);
        launch("noise_normal", out.numel(), out, out.numel(), seed, offset);
    }

    // ---- GPU-only helpers of the training loop ----

    /**
     * out (1) = (accumulate ? out : 0) + scale·sum(inp), on the device and deterministic: the loop
     * totals per-image losses here and reads the total back only every few steps.
     */
    public void sum_scaled(Tensor out, Tensor inp, float scale, boolean accumulate) {
        enter(out, inp);
        if (out.numel() != 1) throw new IllegalArgumentException("sum_scaled: out has shape " + Arrays.toString(out.shape())
                + ", expected one element");
        launchGrid("sum_scaled", 1, out, inp, inp.numel(), scale, accumulate ? 1 : 0);
    }

    /** The largest row index gather_rows accepts: indices travel as floats, exact below 2^24. */
    public static final int MAX_GATHER_ROWS = 1 << 24;

    /**
     * out (B, ...) = rows idx[0..B) of inp (rows, ...): a batch assembled on the device from a
     * device-resident data set. idx holds row numbers as floats (see {@link #writeIndices}); an
     * out-of-range one yields a row of NaN.
     */
    public void gather_rows(Tensor out, Tensor inp, Tensor idx) {
        enter(out, inp, idx);
        if (inp.rank() < 1 || idx.rank() != 1) {
            throw new IllegalArgumentException("gather_rows: inp " + Arrays.toString(inp.shape()) + " and idx "
                    + Arrays.toString(idx.shape()) + " (rank >= 1 and rank 1 expected)");
        }
        int rows = inp.dim(0), b = idx.dim(0);
        int[] expected = inp.shape();
        expected[0] = b;
        Checks.shape("gather_rows", "out", out, expected);
        long d = rows == 0 ? 0 : inp.numel() / rows;
        launch("gather_rows", (long) b * d, out, inp, idx, b, rows, d);
    }

    /** idx ← rows[from, from + idx.numel()) as floats, after checking each is in [0, MAX_GATHER_ROWS). */
    public void writeIndices(Tensor idx, int[] rows, int from) {
        int n = Math.toIntExact(idx.numel());
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            int r = rows[from + i];
            if (r < 0 || r >= MAX_GATHER_ROWS) throw new IllegalArgumentException("gather_rows: row index " + r + " out of range");
            f[i] = r;
        }
        write(idx, f);
    }

    // ---- CUDA graphs ----

    boolean capturing() {
        return heldByCapture != null;
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
            if (convolutions != null) run(errors, convolutions::close);
            if (cudnn != null) run(errors, () -> Cudnn.cudnnDestroy(cudnn));
            if (cublas != null) run(errors, () -> Cublas.cublasDestroy_v2(cublas));
            if (cublasWorkspace != null) run(errors, () -> free(cublasWorkspace));
            for (Driver.DevicePointer p : blocks) run(errors, () -> free(p));
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

    @Override
    public String toString() {
        return describe();
    }
}
