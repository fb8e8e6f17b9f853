package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;

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
 * Downcalls into libdenoise.so, one static wrapper per C function of native/denoise.h, same name.
 * Handles are resolved once at class initialisation; if the library cannot be loaded the handles
 * stay null and {@link #require()} throws the one-line reason. Wrappers trust their arguments:
 * {@link dev.denoise.backend.CpuBackend} checks shapes before calling.
 */
@SuppressWarnings("checkstyle:MethodName") // the C names, on purpose: grep one name, find every implementation
public final class DenoiseNative {
    private DenoiseNative() {}

    static final int ABI_VERSION = 1;
    private static final BackendUnavailableException UNAVAILABLE;
    private static final SymbolLookup LIB;

    static {
        SymbolLookup lib = null;
        BackendUnavailableException error = null;
        try {
            lib = NativeLibrary.open();
        } catch (BackendUnavailableException e) {
            error = e;
        }
        LIB = lib;
        UNAVAILABLE = error;
    }

    /** Symbols a loaded library lacks (a stale build); require() names them. */
    private static final List<String> MISSING = new ArrayList<>();

    private static final MethodHandle runtime_version$mh = handle("runtime_version", JAVA_INT);
    private static final MethodHandle runtime_set_threads$mh = handleVoid("runtime_set_threads", JAVA_INT);
    private static final MethodHandle runtime_threads$mh = handle("runtime_threads", JAVA_INT);
    private static final MethodHandle runtime_cpu_features$mh = handle("runtime_cpu_features", JAVA_INT);
    private static final MethodHandle gemm$mh = handleVoid("gemm", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT);
    private static final MethodHandle bias_act_forward$mh = handleVoid("bias_act_forward",
            ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle bias_act_backward$mh = handleVoid("bias_act_backward",
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle conv2d_forward$mh = handleVoid("conv2d_forward", ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle conv2d_backward_data$mh = handleVoid("conv2d_backward_data", ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle upsample2d_conv2d_backward_data$mh = handleVoid("upsample2d_conv2d_backward_data",
            ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle conv2d_backward_filter$mh = handleVoid("conv2d_backward_filter", ADDRESS,
            ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle conv2d_backward_bias$mh = handleVoid("conv2d_backward_bias", ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle maxpool2d_forward$mh = handleVoid("maxpool2d_forward", ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle maxpool2d_backward$mh = handleVoid("maxpool2d_backward", ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle maxpool2d_relu_backward$mh = handleVoid("maxpool2d_relu_backward", ADDRESS,
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle upsample2d_forward$mh = handleVoid("upsample2d_forward", ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle upsample2d_backward$mh = handleVoid("upsample2d_backward", ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle add$mh = handleVoid("add", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
    private static final MethodHandle sigmoid_bce_forward$mh = handleVoid("sigmoid_bce_forward", ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle sigmoid_bce_backward$mh = handleVoid("sigmoid_bce_backward", ADDRESS, ADDRESS,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_FLOAT);
    private static final MethodHandle mse_forward$mh = handleVoid("mse_forward", ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT);
    private static final MethodHandle mse_backward$mh = handleVoid("mse_backward", ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_FLOAT);
    private static final MethodHandle psnr_forward$mh = handleVoid("psnr_forward", ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT);
    private static final MethodHandle reparam_forward$mh = handleVoid("reparam_forward", ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle reparam_backward$mh = handleVoid("reparam_backward", ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS, JAVA_LONG);
    private static final MethodHandle kl_forward$mh = handleVoid("kl_forward", ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT);
    private static final MethodHandle kl_backward$mh = handleVoid("kl_backward", ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_FLOAT);
    private static final MethodHandle adam_update$mh = handleVoid("adam_update", ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            JAVA_LONG, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_INT);
    private static final MethodHandle noise_gaussian$mh = handleVoid("noise_gaussian", ADDRESS, ADDRESS, JAVA_LONG,
            JAVA_FLOAT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle noise_salt_pepper$mh = handleVoid("noise_salt_pepper", ADDRESS, ADDRESS,
            JAVA_LONG, JAVA_FLOAT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle noise_normal$mh = handleVoid("noise_normal", ADDRESS, JAVA_LONG, JAVA_LONG,
            JAVA_LONG);
    private static final MethodHandle philox4x32_10$mh = handleVoid("philox4x32_10", ADDRESS, ADDRESS, ADDRESS);

    /** Throws the reason the library is unusable, if it is. */
    public static void require() {
        if (UNAVAILABLE != null) throw new BackendUnavailableException(UNAVAILABLE.getMessage(), UNAVAILABLE);
        if (!MISSING.isEmpty()) {
            throw new BackendUnavailableException("the denoise CPU library lacks " + MISSING + " (stale build? run make native)");
        }
        int v = runtime_version();
        if (v != ABI_VERSION) {
            throw new BackendUnavailableException("denoise CPU library has ABI version " + v + ", this jar expects "
                    + ABI_VERSION + " (a stale denoise.native.lib?)");
        }
    }

    public static boolean available() {
        return UNAVAILABLE == null && MISSING.isEmpty();
    }

    private static MethodHandle handle(String name, MemoryLayout ret, MemoryLayout... args) {
        return lookup(name, FunctionDescriptor.of(ret, args));
    }

    private static MethodHandle handleVoid(String name, MemoryLayout... args) {
        return lookup(name, FunctionDescriptor.ofVoid(args));
    }

    private static MethodHandle lookup(String name, FunctionDescriptor fd) {
        if (LIB == null) return null;
        MemorySegment symbol = LIB.find(name).orElse(null);
        if (symbol == null) {
            MISSING.add(name);
            return null;
        }
        return Linker.nativeLinker().downcallHandle(symbol, fd);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // ---- runtime ----

    public static int runtime_version() {
        try { return (int) runtime_version$mh.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void runtime_set_threads(int n) {
        try { runtime_set_threads$mh.invokeExact(n); } catch (Throwable t) { throw rethrow(t); }
    }

    public static int runtime_threads() {
        try { return (int) runtime_threads$mh.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    public static int runtime_cpu_features() {
        try { return (int) runtime_cpu_features$mh.invokeExact(); } catch (Throwable t) { throw rethrow(t); }
    }

    // ---- ops ----

    public static void gemm(int ta, int tb, int m, int n, int k, float alpha, MemorySegment a, int lda,
                            MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try { gemm$mh.invokeExact(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void bias_act_forward(MemorySegment out, MemorySegment inp, MemorySegment bias, int n, int c, int hw, int act) {
        try { bias_act_forward$mh.invokeExact(out, inp, bias, n, c, hw, act); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void bias_act_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout, MemorySegment out,
                                         int n, int c, int hw, int act) {
        try { bias_act_backward$mh.invokeExact(dinp, dbias, dout, out, n, c, hw, act); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void conv2d_forward(MemorySegment out, MemorySegment inp, MemorySegment weight, MemorySegment bias,
                                      int n, int c, int h, int w, int k, int r, int s, int act) {
        try { conv2d_forward$mh.invokeExact(out, inp, weight, bias, n, c, h, w, k, r, s, act); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight,
                                            int n, int c, int h, int w, int k, int r, int s) {
        try { conv2d_backward_data$mh.invokeExact(dinp, dout, weight, n, c, h, w, k, r, s); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void conv2d_backward_filter(MemorySegment dweight, MemorySegment dout, MemorySegment inp,
                                              int n, int c, int h, int w, int k, int r, int s) {
        try { conv2d_backward_filter$mh.invokeExact(dweight, dout, inp, n, c, h, w, k, r, s); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void conv2d_backward_bias(MemorySegment dbias, MemorySegment dout, int n, int k, int h, int w) {
        try { conv2d_backward_bias$mh.invokeExact(dbias, dout, n, k, h, w); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void upsample2d_conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight,
                                                       int n, int c, int h, int w, int k, int r, int s) {
        try { upsample2d_conv2d_backward_data$mh.invokeExact(dinp, dout, weight, n, c, h, w, k, r, s); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void maxpool2d_forward(MemorySegment out, MemorySegment inp, int n, int c, int h, int w) {
        try { maxpool2d_forward$mh.invokeExact(out, inp, n, c, h, w); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void maxpool2d_backward(MemorySegment dinp, MemorySegment dout, MemorySegment inp, int n, int c, int h, int w) {
        try { maxpool2d_backward$mh.invokeExact(dinp, dout, inp, n, c, h, w); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void maxpool2d_relu_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout,
                                               MemorySegment dskip, MemorySegment inp, int n, int c, int h, int w) {
        try { maxpool2d_relu_backward$mh.invokeExact(dinp, dbias, dout, dskip, inp, n, c, h, w); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void upsample2d_forward(MemorySegment out, MemorySegment inp, int n, int c, int h, int w) {
        try { upsample2d_forward$mh.invokeExact(out, inp, n, c, h, w); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void upsample2d_backward(MemorySegment dinp, MemorySegment dout, int n, int c, int h, int w) {
        try { upsample2d_backward$mh.invokeExact(dinp, dout, n, c, h, w); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void add(MemorySegment out, MemorySegment a, MemorySegment b, long n) {
        try { add$mh.invokeExact(out, a, b, n); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void sigmoid_bce_forward(MemorySegment loss, MemorySegment logits, MemorySegment target, int n, int d) {
        try { sigmoid_bce_forward$mh.invokeExact(loss, logits, target, n, d); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void sigmoid_bce_backward(MemorySegment dlogits, MemorySegment logits, MemorySegment target, int n, int d, float scale) {
        try { sigmoid_bce_backward$mh.invokeExact(dlogits, logits, target, n, d, scale); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void mse_forward(MemorySegment loss, MemorySegment pred, MemorySegment target, int n, int d) {
        try { mse_forward$mh.invokeExact(loss, pred, target, n, d); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void mse_backward(MemorySegment dpred, MemorySegment pred, MemorySegment target, int n, int d, float scale) {
        try { mse_backward$mh.invokeExact(dpred, pred, target, n, d, scale); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void psnr_forward(MemorySegment psnr, MemorySegment pred, MemorySegment target, int n, int d) {
        try { psnr_forward$mh.invokeExact(psnr, pred, target, n, d); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void reparam_forward(MemorySegment z, MemorySegment eps, MemorySegment mu, MemorySegment logvar,
                                       long n, long seed, long offset) {
        try { reparam_forward$mh.invokeExact(z, eps, mu, logvar, n, seed, offset); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void reparam_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment dz, MemorySegment logvar,
                                        MemorySegment eps, long n) {
        try { reparam_backward$mh.invokeExact(dmu, dlogvar, dz, logvar, eps, n); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void kl_forward(MemorySegment loss, MemorySegment mu, MemorySegment logvar, int n, int l) {
        try { kl_forward$mh.invokeExact(loss, mu, logvar, n, l); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void kl_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment mu, MemorySegment logvar,
                                   int n, int l, float scale) {
        try { kl_backward$mh.invokeExact(dmu, dlogvar, mu, logvar, n, l, scale); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void adam_update(MemorySegment param, MemorySegment m, MemorySegment v, MemorySegment grad, long n,
                                   float lr, float beta1, float beta2, float eps, int step) {
        try { adam_update$mh.invokeExact(param, m, v, grad, n, lr, beta1, beta2, eps, step); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void noise_gaussian(MemorySegment out, MemorySegment inp, long n, float sigma, long seed, long offset) {
        try { noise_gaussian$mh.invokeExact(out, inp, n, sigma, seed, offset); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void noise_salt_pepper(MemorySegment out, MemorySegment inp, long n, float p, long seed, long offset) {
        try { noise_salt_pepper$mh.invokeExact(out, inp, n, p, seed, offset); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void noise_normal(MemorySegment out, long n, long seed, long offset) {
        try { noise_normal$mh.invokeExact(out, n, seed, offset); } catch (Throwable t) { throw rethrow(t); }
    }

    public static void philox4x32_10(MemorySegment out, MemorySegment ctr, MemorySegment key) {
        try { philox4x32_10$mh.invokeExact(out, ctr, key); } catch (Throwable t) { throw rethrow(t); }
    }
}
