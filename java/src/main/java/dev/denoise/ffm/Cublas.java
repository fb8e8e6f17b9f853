package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Downcalls into cuBLAS (found by {@link CudaLibraries}), one wrapper per C function of cublas_api.h,
 * same name. Handles are opaque pointers. Every wrapper checks the returned cublasStatus_t and throws
 * a {@link CudaException} naming the call; out-parameters come back as return values. If cuBLAS cannot
 * be loaded the handles stay null and {@link #require()} throws the one-line reason.
 *
 * <p>Scalars (alpha, beta) are passed by host pointer (cuBLAS' default pointer mode): cuBLAS reads
 * them when the call is made, so a temporary is enough, also during CUDA graph capture.
 */
@SuppressWarnings("checkstyle:MethodName") // the C names, on purpose
public final class Cublas {
    private Cublas() {}

    public static final int CUBLAS_OP_N = 0, CUBLAS_OP_T = 1;
    /** cublasMath_t: plain fp32 FMA; TF32 tensor cores (about 10 mantissa bits in the products). */
    public static final int CUBLAS_DEFAULT_MATH = 0, CUBLAS_TF32_TENSOR_OP_MATH = 3;
    /** libraryPropertyType (library_types.h), the parts of a version that cublasGetProperty reports. */
    public static final int MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2;

    private static final NativeBinding LIB = NativeBinding.open("cuBLAS", () -> CudaLibraries.load().cublas(), null);

    private static final MethodHandle cublasCreate_v2$mh = LIB.status("cublasCreate_v2", ADDRESS);
    private static final MethodHandle cublasDestroy_v2$mh = LIB.status("cublasDestroy_v2", ADDRESS);
    private static final MethodHandle cublasSetStream_v2$mh = LIB.status("cublasSetStream_v2", ADDRESS, ADDRESS);
    private static final MethodHandle cublasSetMathMode$mh = LIB.status("cublasSetMathMode", ADDRESS, JAVA_INT);
    private static final MethodHandle cublasSetWorkspace_v2$mh = LIB.status("cublasSetWorkspace_v2", ADDRESS, ADDRESS, JAVA_LONG);
    private static final MethodHandle cublasGetProperty$mh = LIB.status("cublasGetProperty", JAVA_INT, ADDRESS);
    private static final MethodHandle cublasSgemm_v2$mh = LIB.status("cublasSgemm_v2", ADDRESS, JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);

    /** Throws the reason cuBLAS is unusable, if it is. */
    public static void require() {
        LIB.require();
    }

    /** Throws unless status is CUBLAS_STATUS_SUCCESS. */
    public static void check(int status, String call) {
        if (status != 0) throw new CudaException(call, status, statusName(status));
    }

    static String statusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "CUBLAS_STATUS_" + status;
        };
    }

    private static RuntimeException rethrow(Throwable t) {
        return NativeBinding.rethrow(t);
    }

    // ---- wrappers ----

    /** A new handle, bound to the CUDA context current on this thread. */
    public static MemorySegment cublasCreate_v2() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) cublasCreate_v2$mh.invokeExact(out), "cublasCreate_v2");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void cublasDestroy_v2(MemorySegment handle) {
        try { check((int) cublasDestroy_v2$mh.invokeExact(handle), "cublasDestroy_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    /** stream: a CUstream (the same object as a cudaStream_t). */
    public static void cublasSetStream_v2(MemorySegment handle, MemorySegment stream) {
        try { check((int) cublasSetStream_v2$mh.invokeExact(handle, stream), "cublasSetStream_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void cublasSetMathMode(MemorySegment handle, int mode) {
        try { check((int) cublasSetMathMode$mh.invokeExact(handle, mode), "cublasSetMathMode"); } catch (Throwable t) { throw rethrow(t); }
    }

    /** A caller-owned workspace, so cuBLAS never allocates one itself (which graph capture forbids). */
    public static void cublasSetWorkspace_v2(MemorySegment handle, MemorySegment workspace, long bytes) {
        try { check((int) cublasSetWorkspace_v2$mh.invokeExact(handle, workspace, bytes), "cublasSetWorkspace_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    /** One part of the loaded library's version (type: a libraryPropertyType); needs no handle and no CUDA context. */
    public static int cublasGetProperty(int type) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) cublasGetProperty$mh.invokeExact(type, out), "cublasGetProperty");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The loaded library's version, major * 10000 + minor * 100 + patch (e.g. 130100), without a handle. */
    public static int libraryVersion() {
        return cublasGetProperty(MAJOR_VERSION) * 10000 + cublasGetProperty(MINOR_VERSION) * 100
                + cublasGetProperty(PATCH_LEVEL);
    }

    /**
     * Column-major C(m,n) = alpha op(A) op(B) + beta C on device pointers a, b, c (cuBLAS' own
     * argument order; see {@link #gemmRowMajor} for the row-major form the backend uses).
     */
    public static void cublasSgemm_v2(MemorySegment handle, int transa, int transb, int m, int n, int k, float alpha,
                                      MemorySegment a, int lda, MemorySegment b, int ldb, float beta,
                                      MemorySegment c, int ldc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment al = arena.allocateFrom(JAVA_FLOAT, alpha), be = arena.allocateFrom(JAVA_FLOAT, beta);
            check((int) cublasSgemm_v2$mh.invokeExact(handle, transa, transb, m, n, k, al, a, lda, b, ldb, be, c, ldc),
                    "cublasSgemm_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Row-major C(M,N) = alpha op(A) op(B) + beta C, as native/gemm.c. A row-major matrix is the
     * column-major matrix of its transpose, so C^T = op(B)^T op(A)^T: swap the operands (and M with
     * N) and keep each one's transpose flag and leading dimension. beta == 0 never reads C.
     */
    public static void gemmRowMajor(MemorySegment handle, boolean transA, boolean transB, int m, int n, int k,
                                    float alpha, MemorySegment a, int lda, MemorySegment b, int ldb, float beta,
                                    MemorySegment c, int ldc) {
        // a zero-size dimension gives a leading dimension of 0, which cuBLAS rejects even when unused
        cublasSgemm_v2(handle, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k,
                alpha, b, Math.max(1, ldb), a, Math.max(1, lda), beta, c, Math.max(1, ldc));
    }
}
