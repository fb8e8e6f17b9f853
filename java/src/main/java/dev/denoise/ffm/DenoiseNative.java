package dev.denoise.ffm;

import dev.denoise.backend.Abi;
import dev.denoise.backend.BackendUnavailableException;
import dev.denoise.backend.ChannelDims;
import dev.denoise.backend.ConvDims;
import dev.denoise.backend.GemmDims;
import dev.denoise.backend.ImageDims;
import dev.denoise.backend.Kernels;
import dev.denoise.backend.RowDims;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The FFM binding of libdenoise.so, and the CPU's raw op table: one wrapper per C function of
 * native/denoise.h, same name, a handle resolved once per symbol. Wrappers trust their arguments
 * ({@link dev.denoise.backend.Backend} checked them) and turn a status other than DN_OK into a
 * {@link NativeOpException} naming the op, its sizes and, when memory ran out, how much.
 */
@SuppressWarnings("checkstyle:MethodName") // the C names, on purpose: grep one name, find every implementation
public final class DenoiseNative implements Kernels {
    private static final NativeBinding LIB = NativeBinding.open("the denoise CPU library", NativeLibrary::open,
            "stale build? run make native");
    private static final DenoiseNative KERNELS = new DenoiseNative();

    private DenoiseNative() {}

    /** The raw table, after checking that the library loaded, has every symbol and the expected ABI version. */
    public static DenoiseNative kernels() {
        require();
        return KERNELS;
    }

    /** Throws the one-line reason the CPU library cannot be used, if it cannot. */
    public static void require() {
        LIB.require();
        int v = runtime_version();
        if (v != Abi.DENOISE_ABI_VERSION) {
            throw new BackendUnavailableException("denoise CPU library has ABI version " + v + ", this jar expects "
                    + Abi.DENOISE_ABI_VERSION + " (a stale denoise.native.lib?)");
        }
    }

    public static boolean available() {
        return LIB.available();
    }

    /** Throws unless status is DN_OK, naming the op and its element count (no boxing on success). */
    private static void check(int status, String op, long n) {
        if (status != Abi.DN_OK) check(status, op, (Object) ("n=" + n));
    }

    /** Throws unless status is DN_OK, naming the op and its sizes. */
    private static void check(int status, String op, Object sizes) {
        if (status == Abi.DN_OK) return;
        if (status == Abi.DN_ERR_NOMEM) {
            long bytes = runtime_error_bytes();
            throw new NativeOpException(op, sizes, status, "out of memory: " + bytes + " bytes of scratch could not be"
                    + " allocated", bytes);
        }
        throw new NativeOpException(op, sizes, status, "failed with status " + status, 0);
    }

    private static RuntimeException rethrow(Throwable t) {
        return NativeBinding.rethrow(t);
    }

    // ---- runtime ----

    private static final MethodHandle runtime_version$mh = LIB.function("runtime_version", JAVA_INT);
    public static int runtime_version() {
        try { return (int) runtime_version$mh.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    private static final MethodHandle runtime_set_threads$mh = LIB.function("runtime_set_threads", null, JAVA_INT);
    public static void runtime_set_threads(int n) {
        try { runtime_set_threads$mh.invokeExact(n); } catch (Throwable t) { throw rethrow(t); }
    }

    private static final MethodHandle runtime_threads$mh = LIB.function("runtime_threads", JAVA_INT);
    public static int runtime_threads() {
        try { return (int) runtime_threads$mh.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    private static final MethodHandle runtime_cpu_features$mh = LIB.function("runtime_cpu_features", JAVA_INT);
    public static int runtime_cpu_features() {
        try { return (int) runtime_cpu_features$mh.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    private static final MethodHandle runtime_set_isa$mh = LIB.function("runtime_set_isa", JAVA_INT, JAVA_INT);
    /** Caps the hand-dispatched kernels (conv2d, gemm, adam) at a DN_ISA_* level (negative: no cap); process-wide. */
    public static int runtime_set_isa(int level) {
        try { return (int) runtime_set_isa$mh.invokeExact(level); } catch (Throwable t) { throw rethrow(t); }
    }

    private static final MethodHandle runtime_set_conv_algo$mh = LIB.function("runtime_set_conv_algo", JAVA_INT, JAVA_INT);
    /** The 3x3 convolutions' algorithm, DN_CONV_AUTO (Winograd where it pays) or DN_CONV_DIRECT; process-wide; returns the previous one. */
    public static int runtime_set_conv_algo(int algo) {
        try { return (int) runtime_set_conv_algo$mh.invokeExact(algo); } catch (Throwable t) { throw rethrow(t); }
    }

    private static final MethodHandle runtime_isa$mh = LIB.function("runtime_isa", JAVA_INT);
    public static int runtime_isa() {
        try { return (int) runtime_isa$mh.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    private static final MethodHandle runtime_error_bytes$mh = LIB.function("runtime_error_bytes", JAVA_LONG);
    public static long runtime_error_bytes() {
        try { return (long) runtime_error_bytes$mh.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    private static final MethodHandle runtime_set_alloc_limit$mh = LIB.function("runtime_set_alloc_limit", null, JAVA_LONG);
    /** For fault tests: scratch requests above bytes fail from now on (negative: no limit); process-wide. */
    public static void runtime_set_alloc_limit(long bytes) {
        try { runtime_set_alloc_limit$mh.invokeExact(bytes); } catch (Throwable t) { throw rethrow(t); }
    }

    private static final MethodHandle philox4x32_10$mh = LIB.function("philox4x32_10", null, ADDRESS, ADDRESS, ADDRESS);
    /** One raw Philox4x32-10 block, for known-answer tests: out[4] = philox(ctr[4], key[2]). */
    public static void philox4x32_10(MemorySegment out, MemorySegment ctr, MemorySegment key) {
        try { philox4x32_10$mh.invokeExact(out, ctr, key); } catch (Throwable t) { throw rethrow(t); }
    }

    // ---- ops ----

    private static final MethodHandle gemm$mh = LIB.status("gemm", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT);
    @Override
    public void gemm(GemmDims d, float alpha, MemorySegment a, MemorySegment b, float beta, MemorySegment c) {
        try {
            check((int) gemm$mh.invokeExact(d.transA() ? 1 : 0, d.transB() ? 1 : 0, d.m(), d.n(), d.k(), alpha, a, d.lda(),
                    b, d.ldb(), beta, c, d.ldc()), "gemm", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle bias_act_forward$mh = LIB.status("bias_act_forward",
            ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void bias_act_forward(MemorySegment out, MemorySegment inp, MemorySegment bias, ChannelDims d, int act) {
        try {
            check((int) bias_act_forward$mh.invokeExact(out, inp, bias, d.n(), d.c(), d.hw(), act), "bias_act_forward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle bias_act_backward$mh = LIB.status("bias_act_backward",
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void bias_act_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout, MemorySegment out,
                                  ChannelDims d, int act) {
        try {
            check((int) bias_act_backward$mh.invokeExact(dinp, dbias, dout, out, d.n(), d.c(), d.hw(), act),
                    "bias_act_backward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle conv2d_forward$mh = LIB.status("conv2d_forward", ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void conv2d_forward(MemorySegment out, MemorySegment inp, MemorySegment weight, MemorySegment bias,
                               ConvDims d, int act) {
        try {
            check((int) conv2d_forward$mh.invokeExact(out, inp, weight, bias, d.n(), d.c(), d.h(), d.w(), d.k(), d.r(),
                    d.s(), act), "conv2d_forward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle conv2d_backward_data$mh = LIB.status("conv2d_backward_data", ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight, ConvDims d) {
        try {
            check((int) conv2d_backward_data$mh.invokeExact(dinp, dout, weight, d.n(), d.c(), d.h(), d.w(), d.k(), d.r(),
                    d.s()), "conv2d_backward_data", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle upsample2d_conv2d_backward_data$mh = LIB.status("upsample2d_conv2d_backward_data",
            ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void upsample2d_conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight,
                                                ConvDims d) {
        try {
            check((int) upsample2d_conv2d_backward_data$mh.invokeExact(dinp, dout, weight, d.n(), d.c(), d.h(), d.w(),
                    d.k(), d.r(), d.s()), "upsample2d_conv2d_backward_data", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle conv2d_backward_filter$mh = LIB.status("conv2d_backward_filter", ADDRESS,
            ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void conv2d_backward_filter(MemorySegment dweight, MemorySegment dout, MemorySegment inp, ConvDims d) {
        try {
            check((int) conv2d_backward_filter$mh.invokeExact(dweight, dout, inp, d.n(), d.c(), d.h(), d.w(), d.k(),
                    d.r(), d.s()), "conv2d_backward_filter", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle conv2d_backward_bias$mh = LIB.status("conv2d_backward_bias", ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void conv2d_backward_bias(MemorySegment dbias, MemorySegment dout, ImageDims d) {
        try {
            check((int) conv2d_backward_bias$mh.invokeExact(dbias, dout, d.n(), d.c(), d.h(), d.w()),
                    "conv2d_backward_bias", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle maxpool2d_forward$mh = LIB.status("maxpool2d_forward", ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void maxpool2d_forward(MemorySegment out, MemorySegment inp, ImageDims d) {
        try {
            check((int) maxpool2d_forward$mh.invokeExact(out, inp, d.n(), d.c(), d.h(), d.w()), "maxpool2d_forward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle maxpool2d_backward$mh = LIB.status("maxpool2d_backward", ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void maxpool2d_backward(MemorySegment dinp, MemorySegment dout, MemorySegment inp, ImageDims d) {
        try {
            check((int) maxpool2d_backward$mh.invokeExact(dinp, dout, inp, d.n(), d.c(), d.h(), d.w()),
                    "maxpool2d_backward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle maxpool2d_relu_backward$mh = LIB.status("maxpool2d_relu_backward", ADDRESS,
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void maxpool2d_relu_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout, MemorySegment dskip,
                                        MemorySegment inp, ImageDims d) {
        try {
            check((int) maxpool2d_relu_backward$mh.invokeExact(dinp, dbias, dout, dskip, inp, d.n(), d.c(), d.h(), d.w()),
                    "maxpool2d_relu_backward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle upsample2d_forward$mh = LIB.status("upsample2d_forward", ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void upsample2d_forward(MemorySegment out, MemorySegment inp, ImageDims d) {
        try {
            check((int) upsample2d_forward$mh.invokeExact(out, inp, d.n(), d.c(), d.h(), d.w()), "upsample2d_forward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle upsample2d_backward$mh = LIB.status("upsample2d_backward", ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    @Override
    public void upsample2d_backward(MemorySegment dinp, MemorySegment dout, ImageDims d) {
        try {
            check((int) upsample2d_backward$mh.invokeExact(dinp, dout, d.n(), d.c(), d.h(), d.w()), "upsample2d_backward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle add$mh = LIB.status("add", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
    @Override
    public void add(MemorySegment out, MemorySegment a, MemorySegment b, long n) {
        try {
            check((int) add$mh.invokeExact(out, a, b, n), "add", n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle sigmoid_bce_forward$mh = LIB.status("sigmoid_bce_forward", ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT);
    @Override
    public void sigmoid_bce_forward(MemorySegment loss, MemorySegment logits, MemorySegment target, RowDims d) {
        try {
            check((int) sigmoid_bce_forward$mh.invokeExact(loss, logits, target, d.n(), d.d()), "sigmoid_bce_forward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle sigmoid_bce_backward$mh = LIB.status("sigmoid_bce_backward", ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_FLOAT);
    @Override
    public void sigmoid_bce_backward(MemorySegment dlogits, MemorySegment logits, MemorySegment target, RowDims d,
                                     float scale) {
        try {
            check((int) sigmoid_bce_backward$mh.invokeExact(dlogits, logits, target, d.n(), d.d(), scale),
                    "sigmoid_bce_backward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle mse_forward$mh = LIB.status("mse_forward", ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT);
    @Override
    public void mse_forward(MemorySegment loss, MemorySegment pred, MemorySegment target, RowDims d) {
        try {
            check((int) mse_forward$mh.invokeExact(loss, pred, target, d.n(), d.d()), "mse_forward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle mse_backward$mh = LIB.status("mse_backward", ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_FLOAT);
    @Override
    public void mse_backward(MemorySegment dpred, MemorySegment pred, MemorySegment target, RowDims d, float scale) {
        try {
            check((int) mse_backward$mh.invokeExact(dpred, pred, target, d.n(), d.d(), scale), "mse_backward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle psnr_forward$mh = LIB.status("psnr_forward", ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT);
    @Override
    public void psnr_forward(MemorySegment psnr, MemorySegment pred, MemorySegment target, RowDims d) {
        try {
            check((int) psnr_forward$mh.invokeExact(psnr, pred, target, d.n(), d.d()), "psnr_forward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle reparam_forward$mh = LIB.status("reparam_forward", ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
    @Override
    public void reparam_forward(MemorySegment z, MemorySegment eps, MemorySegment mu, MemorySegment logvar, long n,
                                long seed, long offset, MemorySegment offsetAt) {
        try {
            check((int) reparam_forward$mh.invokeExact(z, eps, mu, logvar, n, seed, offset, offsetAt), "reparam_forward",
                    n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle reparam_backward$mh = LIB.status("reparam_backward", ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS, JAVA_LONG);
    @Override
    public void reparam_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment dz, MemorySegment logvar,
                                 MemorySegment eps, long n) {
        try {
            check((int) reparam_backward$mh.invokeExact(dmu, dlogvar, dz, logvar, eps, n), "reparam_backward", n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle kl_forward$mh = LIB.status("kl_forward", ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT);
    @Override
    public void kl_forward(MemorySegment loss, MemorySegment mu, MemorySegment logvar, RowDims d) {
        try {
            check((int) kl_forward$mh.invokeExact(loss, mu, logvar, d.n(), d.d()), "kl_forward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle kl_backward$mh = LIB.status("kl_backward", ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_FLOAT);
    @Override
    public void kl_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment mu, MemorySegment logvar, RowDims d,
                            float scale) {
        try {
            check((int) kl_backward$mh.invokeExact(dmu, dlogvar, mu, logvar, d.n(), d.d(), scale), "kl_backward", d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle adam_update$mh = LIB.status("adam_update", ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            JAVA_LONG, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_INT, ADDRESS);
    @Override
    public void adam_update(MemorySegment param, MemorySegment m, MemorySegment v, MemorySegment grad, long n, float lr,
                            float beta1, float beta2, float eps, int t, MemorySegment hyper) {
        try {
            check((int) adam_update$mh.invokeExact(param, m, v, grad, n, lr, beta1, beta2, eps, t, hyper), "adam_update",
                    n);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private static final MethodHandle noise_gaussian_range$mh = LIB.status("noise_gaussian_range", ADDRESS, ADDRESS,
            JAVA_LONG, JAVA_LONG, JAVA_FLOAT, JAVA_FLOAT, JAVA_LONG, JAVA_LONG, ADDRESS);
    @Override
    public void noise_gaussian_range(MemorySegment out, MemorySegment inp, long rows, long d, float sigmaLo, float span,
                                     long seed, long offset, MemorySegment offsetAt) {
        try {
            check((int) noise_gaussian_range$mh.invokeExact(out, inp, rows, d, sigmaLo, span, seed, offset, offsetAt),
                    "noise_gaussian_range", rows * d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle noise_gaussian$mh = LIB.status("noise_gaussian", ADDRESS, ADDRESS, JAVA_LONG,
            JAVA_FLOAT, JAVA_LONG, JAVA_LONG, ADDRESS);
    @Override
    public void noise_gaussian(MemorySegment out, MemorySegment inp, long n, float sigma, long seed, long offset,
                               MemorySegment offsetAt) {
        try {
            check((int) noise_gaussian$mh.invokeExact(out, inp, n, sigma, seed, offset, offsetAt), "noise_gaussian", n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle noise_salt_pepper$mh = LIB.status("noise_salt_pepper", ADDRESS, ADDRESS,
            JAVA_LONG, JAVA_FLOAT, JAVA_LONG, JAVA_LONG, ADDRESS);
    @Override
    public void noise_salt_pepper(MemorySegment out, MemorySegment inp, long n, float p, long seed, long offset,
                                  MemorySegment offsetAt) {
        try {
            check((int) noise_salt_pepper$mh.invokeExact(out, inp, n, p, seed, offset, offsetAt), "noise_salt_pepper", n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle noise_normal$mh = LIB.status("noise_normal", ADDRESS, JAVA_LONG, JAVA_LONG,
            JAVA_LONG, ADDRESS);
    @Override
    public void noise_normal(MemorySegment out, long n, long seed, long offset, MemorySegment offsetAt) {
        try {
            check((int) noise_normal$mh.invokeExact(out, n, seed, offset, offsetAt), "noise_normal", n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle gather_rows$mh = LIB.status("gather_rows", ADDRESS, ADDRESS, ADDRESS, JAVA_INT,
            JAVA_INT, JAVA_LONG);
    @Override
    public void gather_rows(MemorySegment out, MemorySegment inp, MemorySegment idx, RowDims batch, int rows) {
        try {
            check((int) gather_rows$mh.invokeExact(out, inp, idx, batch.n(), rows, (long) batch.d()), "gather_rows", batch);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final MethodHandle sum_scaled$mh = LIB.status("sum_scaled", ADDRESS, ADDRESS, JAVA_LONG, JAVA_FLOAT,
            JAVA_INT);
    @Override
    public void sum_scaled(MemorySegment out, MemorySegment inp, long n, float scale, boolean accumulate) {
        try {
            check((int) sum_scaled$mh.invokeExact(out, inp, n, scale, accumulate ? 1 : 0), "sum_scaled", n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
