package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Downcalls into cuDNN 9 (found by {@link CudaLibraries}): the legacy convolution API of cudnn_ops.h
 * and cudnn_cnn.h, one wrapper per C function, same name. Handles and descriptors are opaque
 * pointers. Every wrapper checks the returned cudnnStatus_t and throws a {@link CudaException}
 * naming the call and cuDNN's own status text; out-parameters come back as return values. If cuDNN
 * cannot be loaded the handles stay null and {@link #require()} throws the one-line reason.
 *
 * <p>alpha and beta are host pointers to floats (the FLOAT data type's scaling type), read when the
 * call is made, so a temporary is enough, also during CUDA graph capture.
 */
@SuppressWarnings("checkstyle:MethodName") // the C names, on purpose
public final class Cudnn {
    private Cudnn() {}

    public static final int CUDNN_TENSOR_NCHW = 0;
    public static final int CUDNN_DATA_FLOAT = 0;
    public static final int CUDNN_CROSS_CORRELATION = 1;
    /** cudnnMathType_t. FMA_MATH forbids tensor cores, so fp32 convolutions never drop to TF32. */
    public static final int CUDNN_DEFAULT_MATH = 0, CUDNN_TENSOR_OP_MATH = 1,
            CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2, CUDNN_FMA_MATH = 3;
    public static final int CUDNN_NON_DETERMINISTIC = 0, CUDNN_DETERMINISTIC = 1;

    /**
     * cudnnConvolutionFwdAlgoPerf_t (and the BwdData/BwdFilter twins, same layout):
     * {int algo; cudnnStatus_t status; float time; size_t memory; cudnnDeterminism_t determinism;
     * cudnnMathType_t mathType; int reserved[3];} — 48 bytes with the padding C inserts.
     */
    static final StructLayout ALGO_PERF = MemoryLayout.structLayout(
            JAVA_INT.withName("algo"), JAVA_INT.withName("status"), JAVA_FLOAT.withName("time"),
            MemoryLayout.paddingLayout(4), JAVA_LONG.withName("memory"), JAVA_INT.withName("determinism"),
            JAVA_INT.withName("mathType"), MemoryLayout.sequenceLayout(3, JAVA_INT).withName("reserved"),
            MemoryLayout.paddingLayout(4));

    /** One entry of a cudnnFind*Algorithm answer. */
    public record AlgoPerf(int algo, int status, float timeMs, long memory, int determinism, int mathType) {}

    private static final NativeBinding LIB = NativeBinding.open("cuDNN", () -> CudaLibraries.load().cudnn(), null);

    private static final MethodHandle cudnnGetVersion$mh = LIB.function("cudnnGetVersion", JAVA_LONG);
    private static final MethodHandle cudnnGetErrorString$mh = LIB.function("cudnnGetErrorString", ADDRESS, JAVA_INT);
    private static final MethodHandle cudnnCreate$mh = LIB.status("cudnnCreate", ADDRESS);
    private static final MethodHandle cudnnDestroy$mh = LIB.status("cudnnDestroy", ADDRESS);
    private static final MethodHandle cudnnSetStream$mh = LIB.status("cudnnSetStream", ADDRESS, ADDRESS);
    private static final MethodHandle cudnnCreateTensorDescriptor$mh = LIB.status("cudnnCreateTensorDescriptor", ADDRESS);
    private static final MethodHandle cudnnSetTensor4dDescriptor$mh = LIB.status("cudnnSetTensor4dDescriptor", ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle cudnnDestroyTensorDescriptor$mh = LIB.status("cudnnDestroyTensorDescriptor", ADDRESS);
    private static final MethodHandle cudnnCreateFilterDescriptor$mh = LIB.status("cudnnCreateFilterDescriptor", ADDRESS);
    private static final MethodHandle cudnnSetFilter4dDescriptor$mh = LIB.status("cudnnSetFilter4dDescriptor", ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle cudnnDestroyFilterDescriptor$mh = LIB.status("cudnnDestroyFilterDescriptor", ADDRESS);
    private static final MethodHandle cudnnCreateConvolutionDescriptor$mh = LIB.status("cudnnCreateConvolutionDescriptor", ADDRESS);
    private static final MethodHandle cudnnSetConvolution2dDescriptor$mh = LIB.status("cudnnSetConvolution2dDescriptor",
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle cudnnSetConvolutionMathType$mh = LIB.status("cudnnSetConvolutionMathType", ADDRESS, JAVA_INT);
    private static final MethodHandle cudnnDestroyConvolutionDescriptor$mh = LIB.status("cudnnDestroyConvolutionDescriptor", ADDRESS);
    private static final MethodHandle cudnnFindConvolutionForwardAlgorithm$mh = LIB.status("cudnnFindConvolutionForwardAlgorithm",
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle cudnnFindConvolutionBackwardDataAlgorithm$mh = LIB.status(
            "cudnnFindConvolutionBackwardDataAlgorithm", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle cudnnFindConvolutionBackwardFilterAlgorithm$mh = LIB.status(
            "cudnnFindConvolutionBackwardFilterAlgorithm", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle cudnnGetConvolutionForwardWorkspaceSize$mh = LIB.status(
            "cudnnGetConvolutionForwardWorkspaceSize", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
    private static final MethodHandle cudnnGetConvolutionBackwardDataWorkspaceSize$mh = LIB.status(
            "cudnnGetConvolutionBackwardDataWorkspaceSize", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
    private static final MethodHandle cudnnGetConvolutionBackwardFilterWorkspaceSize$mh = LIB.status(
            "cudnnGetConvolutionBackwardFilterWorkspaceSize", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
    private static final MethodHandle cudnnConvolutionForward$mh = LIB.status("cudnnConvolutionForward", ADDRESS, ADDRESS,
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS);
    private static final MethodHandle cudnnConvolutionBackwardData$mh = LIB.status("cudnnConvolutionBackwardData", ADDRESS,
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS);
    private static final MethodHandle cudnnConvolutionBackwardFilter$mh = LIB.status("cudnnConvolutionBackwardFilter", ADDRESS,
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS);

    /** Throws the reason cuDNN is unusable, if it is. */
    public static void require() {
        LIB.require();
    }

    /** Throws unless status is CUDNN_STATUS_SUCCESS, with cuDNN's text for the status. */
    public static void check(int status, String call) {
        if (status != 0) throw new CudaException(call, status, errorString(status));
    }

    private static String errorString(int status) {
        try {
            MemorySegment s = (MemorySegment) cudnnGetErrorString$mh.invokeExact(status);
            return s.equals(MemorySegment.NULL) ? "CUDNN_STATUS_" + status : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "CUDNN_STATUS_" + status;
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        return NativeBinding.rethrow(t);
    }

    // ---- library and handle ----

    /** CUDNN_VERSION of the loaded library: major * 10000 + minor * 100 + patch for cuDNN 9 (90100 = 9.1.0). */
    public static long cudnnGetVersion() {
        try { return (long) cudnnGetVersion$mh.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    public static MemorySegment cudnnCreate() {
        return create(cudnnCreate$mh, "cudnnCreate");
    }

    public static void cudnnDestroy(MemorySegment handle) {
        destroy(cudnnDestroy$mh, handle, "cudnnDestroy");
    }

    public static void cudnnSetStream(MemorySegment handle, MemorySegment stream) {
        try { check((int) cudnnSetStream$mh.invokeExact(handle, stream), "cudnnSetStream"); } catch (Throwable t) { throw rethrow(t); }
    }

    // ---- descriptors ----

    public static MemorySegment cudnnCreateTensorDescriptor() {
        return create(cudnnCreateTensorDescriptor$mh, "cudnnCreateTensorDescriptor");
    }

    public static void cudnnSetTensor4dDescriptor(MemorySegment desc, int format, int dataType, int n, int c, int h, int w) {
        try {
            check((int) cudnnSetTensor4dDescriptor$mh.invokeExact(desc, format, dataType, n, c, h, w), "cudnnSetTensor4dDescriptor");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void cudnnDestroyTensorDescriptor(MemorySegment desc) {
        destroy(cudnnDestroyTensorDescriptor$mh, desc, "cudnnDestroyTensorDescriptor");
    }

    public static MemorySegment cudnnCreateFilterDescriptor() {
        return create(cudnnCreateFilterDescriptor$mh, "cudnnCreateFilterDescriptor");
    }

    /** Note the argument order: data type BEFORE format here (the tensor version has format first). */
    public static void cudnnSetFilter4dDescriptor(MemorySegment desc, int dataType, int format, int k, int c, int h, int w) {
        try {
            check((int) cudnnSetFilter4dDescriptor$mh.invokeExact(desc, dataType, format, k, c, h, w), "cudnnSetFilter4dDescriptor");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void cudnnDestroyFilterDescriptor(MemorySegment desc) {
        destroy(cudnnDestroyFilterDescriptor$mh, desc, "cudnnDestroyFilterDescriptor");
    }

    public static MemorySegment cudnnCreateConvolutionDescriptor() {
        return create(cudnnCreateConvolutionDescriptor$mh, "cudnnCreateConvolutionDescriptor");
    }

    public static void cudnnSetConvolution2dDescriptor(MemorySegment desc, int padH, int padW, int strideH, int strideW,
                                                       int dilationH, int dilationW, int mode, int computeType) {
        try {
            check((int) cudnnSetConvolution2dDescriptor$mh.invokeExact(desc, padH, padW, strideH, strideW, dilationH,
                    dilationW, mode, computeType), "cudnnSetConvolution2dDescriptor");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void cudnnSetConvolutionMathType(MemorySegment desc, int mathType) {
        try {
            check((int) cudnnSetConvolutionMathType$mh.invokeExact(desc, mathType), "cudnnSetConvolutionMathType");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void cudnnDestroyConvolutionDescriptor(MemorySegment desc) {
        destroy(cudnnDestroyConvolutionDescriptor$mh, desc, "cudnnDestroyConvolutionDescriptor");
    }

    // ---- algorithm choice (runs every candidate once: call outside CUDA graph capture) ----

    /** Candidates for y = conv(x, w), fastest first. */
    public static List<AlgoPerf> cudnnFindConvolutionForwardAlgorithm(MemorySegment handle, MemorySegment xDesc,
            MemorySegment wDesc, MemorySegment convDesc, MemorySegment yDesc, int requested) {
        return find(cudnnFindConvolutionForwardAlgorithm$mh, "cudnnFindConvolutionForwardAlgorithm",
                handle, xDesc, wDesc, convDesc, yDesc, requested);
    }

    /** Candidates for dx from dy and w, fastest first. */
    public static List<AlgoPerf> cudnnFindConvolutionBackwardDataAlgorithm(MemorySegment handle, MemorySegment wDesc,
            MemorySegment dyDesc, MemorySegment convDesc, MemorySegment dxDesc, int requested) {
        return find(cudnnFindConvolutionBackwardDataAlgorithm$mh, "cudnnFindConvolutionBackwardDataAlgorithm",
                handle, wDesc, dyDesc, convDesc, dxDesc, requested);
    }

    /** Candidates for dw from x and dy, fastest first. */
    public static List<AlgoPerf> cudnnFindConvolutionBackwardFilterAlgorithm(MemorySegment handle, MemorySegment xDesc,
            MemorySegment dyDesc, MemorySegment convDesc, MemorySegment dwDesc, int requested) {
        return find(cudnnFindConvolutionBackwardFilterAlgorithm$mh, "cudnnFindConvolutionBackwardFilterAlgorithm",
                handle, xDesc, dyDesc, convDesc, dwDesc, requested);
    }

    private static List<AlgoPerf> find(MethodHandle mh, String call, MemorySegment handle, MemorySegment d1,
                                       MemorySegment d2, MemorySegment conv, MemorySegment d3, int requested) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(JAVA_INT), perf = a.allocate(ALGO_PERF, requested);
            check((int) mh.invokeExact(handle, d1, d2, conv, d3, requested, count, perf), call);
            return readPerf(perf, count.get(JAVA_INT, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static List<AlgoPerf> readPerf(MemorySegment perf, int count) {
        List<AlgoPerf> out = new ArrayList<>(count);
        long size = ALGO_PERF.byteSize();
        for (int i = 0; i < count; i++) {
            MemorySegment p = perf.asSlice(i * size, size);
            out.add(new AlgoPerf(p.get(JAVA_INT, 0), p.get(JAVA_INT, 4), p.get(JAVA_FLOAT, 8), p.get(JAVA_LONG, 16),
                    p.get(JAVA_INT, 24), p.get(JAVA_INT, 28)));
        }
        return out;
    }

    public static long cudnnGetConvolutionForwardWorkspaceSize(MemorySegment handle, MemorySegment xDesc,
            MemorySegment wDesc, MemorySegment convDesc, MemorySegment yDesc, int algo) {
        return workspace(cudnnGetConvolutionForwardWorkspaceSize$mh, "cudnnGetConvolutionForwardWorkspaceSize",
                handle, xDesc, wDesc, convDesc, yDesc, algo);
    }

    public static long cudnnGetConvolutionBackwardDataWorkspaceSize(MemorySegment handle, MemorySegment wDesc,
            MemorySegment dyDesc, MemorySegment convDesc, MemorySegment dxDesc, int algo) {
        return workspace(cudnnGetConvolutionBackwardDataWorkspaceSize$mh, "cudnnGetConvolutionBackwardDataWorkspaceSize",
                handle, wDesc, dyDesc, convDesc, dxDesc, algo);
    }

    public static long cudnnGetConvolutionBackwardFilterWorkspaceSize(MemorySegment handle, MemorySegment xDesc,
            MemorySegment dyDesc, MemorySegment convDesc, MemorySegment dwDesc, int algo) {
        return workspace(cudnnGetConvolutionBackwardFilterWorkspaceSize$mh, "cudnnGetConvolutionBackwardFilterWorkspaceSize",
                handle, xDesc, dyDesc, convDesc, dwDesc, algo);
    }

    private static long workspace(MethodHandle mh, String call, MemorySegment handle, MemorySegment d1,
                                  MemorySegment d2, MemorySegment conv, MemorySegment d3, int algo) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment bytes = a.allocate(JAVA_LONG);
            check((int) mh.invokeExact(handle, d1, d2, conv, d3, algo, bytes), call);
            return bytes.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- the convolutions: alpha * op + beta * out, device pointers, FLOAT scaling ----

    public static void cudnnConvolutionForward(MemorySegment handle, float alpha, MemorySegment xDesc, MemorySegment x,
            MemorySegment wDesc, MemorySegment w, MemorySegment convDesc, int algo, MemorySegment workspace,
            long workspaceBytes, float beta, MemorySegment yDesc, MemorySegment y) {
        try (Arena a = Arena.ofConfined()) {
            check((int) cudnnConvolutionForward$mh.invokeExact(handle, a.allocateFrom(JAVA_FLOAT, alpha), xDesc, x, wDesc,
                    w, convDesc, algo, workspace, workspaceBytes, a.allocateFrom(JAVA_FLOAT, beta), yDesc, y),
                    "cudnnConvolutionForward");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void cudnnConvolutionBackwardData(MemorySegment handle, float alpha, MemorySegment wDesc,
            MemorySegment w, MemorySegment dyDesc, MemorySegment dy, MemorySegment convDesc, int algo,
            MemorySegment workspace, long workspaceBytes, float beta, MemorySegment dxDesc, MemorySegment dx) {
        try (Arena a = Arena.ofConfined()) {
            check((int) cudnnConvolutionBackwardData$mh.invokeExact(handle, a.allocateFrom(JAVA_FLOAT, alpha), wDesc, w,
                    dyDesc, dy, convDesc, algo, workspace, workspaceBytes, a.allocateFrom(JAVA_FLOAT, beta), dxDesc, dx),
                    "cudnnConvolutionBackwardData");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void cudnnConvolutionBackwardFilter(MemorySegment handle, float alpha, MemorySegment xDesc,
            MemorySegment x, MemorySegment dyDesc, MemorySegment dy, MemorySegment convDesc, int algo,
            MemorySegment workspace, long workspaceBytes, float beta, MemorySegment dwDesc, MemorySegment dw) {
        try (Arena a = Arena.ofConfined()) {
            check((int) cudnnConvolutionBackwardFilter$mh.invokeExact(handle, a.allocateFrom(JAVA_FLOAT, alpha), xDesc, x,
                    dyDesc, dy, convDesc, algo, workspace, workspaceBytes, a.allocateFrom(JAVA_FLOAT, beta), dwDesc, dw),
                    "cudnnConvolutionBackwardFilter");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- helpers ----

    private static MemorySegment create(MethodHandle mh, String call) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) mh.invokeExact(out), call);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void destroy(MethodHandle mh, MemorySegment object, String call) {
        try { check((int) mh.invokeExact(object), call); } catch (Throwable t) { throw rethrow(t); }
    }
}
