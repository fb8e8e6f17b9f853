package dev.denoise.cuda;

import dev.denoise.backend.Abi;
import dev.denoise.backend.Backend;
import dev.denoise.backend.ChannelDims;
import dev.denoise.backend.ConvDims;
import dev.denoise.backend.GemmDims;
import dev.denoise.backend.ImageDims;
import dev.denoise.backend.Kernels;
import dev.denoise.backend.RowDims;
import dev.denoise.ffm.Cublas;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * The raw op table on the GPU: kernel launches from cuda/ (same names), cuBLAS GEMMs and cuDNN
 * convolutions ({@link Convolutions}), all queued on the backend's one stream. Nothing is checked
 * here ({@link dev.denoise.backend.Backend} did that); each launch sits beside the rule its kernel
 * assumes (element-wise kernels grid-stride over any grid, reductions take exactly DN_THREADS).
 */
@SuppressWarnings("checkstyle:MethodName") // the op names of native/denoise.h, on purpose
final class CudaKernels implements Kernels {
    /** Every kernel launched here; all are looked up when the backend opens, so a stale fatbin fails early. */
    static final List<String> NAMES = List.of("bias_act_forward", "bias_act_backward",
            "bias_act_backward_dbias_partial", "bias_act_backward_dbias", "maxpool2d_forward", "maxpool2d_backward",
            "maxpool2d_relu_backward",
            "upsample2d_forward", "upsample2d_backward", "add", "sigmoid_bce_forward", "sigmoid_bce_backward",
            "mse_forward", "mse_backward", "psnr_forward", "reparam_forward", "reparam_backward", "kl_forward",
            "kl_backward", "adam_update", "noise_gaussian", "noise_salt_pepper", "noise_normal",
            "noise_gaussian_range", "sum_scaled",
            "gather_rows");

    private final CudaBackend backend;
    private final Driver.Stream stream;
    private final Map<String, CUfunction> functions;
    private final int maxBlocks;
    private final MemorySegment cublas;
    private final Convolutions convolutions;
    private final Scratch upsampleScratch;
    private final Scratch dbiasPartials;

    CudaKernels(CudaBackend backend, Driver.Stream stream, Map<String, CUfunction> functions, int maxBlocks,
                MemorySegment cublas, Convolutions convolutions) {
        this.backend = backend;
        this.stream = stream;
        this.functions = functions;
        this.maxBlocks = maxBlocks;
        this.cublas = cublas;
        this.convolutions = convolutions;
        this.upsampleScratch = new Scratch(backend, "upsample2d_conv2d_backward_data");
        this.dbiasPartials = new Scratch(backend, "the bias gradient's channel sums");
    }

    /** Frees the scratch the table keeps; idempotent. */
    void close() {
        upsampleScratch.close();
        dbiasPartials.close();
    }

    // ---- launches ----

    /** An element-wise kernel over work elements: blocks of DN_THREADS, grid capped (the kernels grid-stride). */
    private void launch(String kernel, long work, Object... args) {
        if (work <= 0) return;
        launchGrid(kernel, (int) Math.min((work + Abi.DN_THREADS - 1) / Abi.DN_THREADS, maxBlocks), args);
    }

    /** blocks blocks of exactly DN_THREADS threads; args are device pointers (segments; NULL is 0), Integer, Long, Float. */
    private void launchGrid(String kernel, int blocks, Object... args) {
        if (blocks <= 0) return;
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case MemorySegment m -> Pointer.to(new long[] {m.address()});
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException("kernel argument of type " + args[i].getClass());
            };
        }
        Driver.check(JCudaDriver.cuLaunchKernel(functions.get(kernel), blocks, 1, 1, Abi.DN_THREADS, 1, 1, 0, stream,
                Pointer.to(params), null), "cuLaunchKernel(" + kernel + ")");
    }

    private void zero(MemorySegment t, long count) {
        backend.fillRaw(t, count, 0f);
    }

    // ---- GEMM (cuBLAS) ----

    @Override
    public void gemm(GemmDims d, float alpha, MemorySegment a, MemorySegment b, float beta, MemorySegment c) {
        Cublas.gemmRowMajor(cublas, d.transA(), d.transB(), d.m(), d.n(), d.k(), alpha, a, d.lda(), b, d.ldb(), beta, c,
                d.ldc());
    }

    // ---- bias + activation ----

    @Override
    public void bias_act_forward(MemorySegment out, MemorySegment inp, MemorySegment bias, ChannelDims d, int act) {
        launch("bias_act_forward", d.numel(), out, inp, bias, d.n(), d.c(), d.hw(), act);
    }

    /** The element-wise kernel, then the deterministic per-channel sums for dbias ({@link #channelSums}). */
    @Override
    public void bias_act_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout, MemorySegment out,
                                  ChannelDims d, int act) {
        launch("bias_act_backward", d.numel(), dinp, dout, out, d.n(), d.c(), d.hw(), act);
        if (!dbias.equals(MemorySegment.NULL)) channelSums(dbias, dinp, d.n(), d.c(), d.hw());
    }

    /** Values of one channel that a dbias block sums at least (16 a thread), and the most blocks per channel. */
    private static final int DBIAS_SLICE = 4096, DBIAS_MAX_SLICES = 256;

    /**
     * How many blocks sum one channel of n planes of hw values: from the shapes alone, never from the
     * device, so the sums have the same bits on every GPU. At most 256 slices keep the partials at
     * 2 KiB a channel: the scratch's first MiB serves any layer up to 512 channels.
     */
    static int dbiasSlices(int n, int hw) {
        long values = (long) n * hw;
        return (int) Math.max(1, Math.min(DBIAS_MAX_SLICES, (values + DBIAS_SLICE - 1) / DBIAS_SLICE));
    }

    /**
     * dbias (c) = the sums over n and hw of g (n, c, hw), the two passes of cuda/bias_act.cu: slices of
     * each channel into double partials, then each channel's partials added in order. The partials live
     * in scratch kept between calls, so a recorded step allocates nothing (it grows only outside capture).
     */
    private void channelSums(MemorySegment dbias, MemorySegment g, int n, int c, int hw) {
        if (c == 0) return;
        int slices = dbiasSlices(n, hw);
        MemorySegment partials = dbiasPartials.get((long) slices * c * Double.BYTES);
        launchGrid("bias_act_backward_dbias_partial", Math.multiplyExact(slices, c), partials, g, n, c, hw, slices);
        launch("bias_act_backward_dbias", c, dbias, partials, c, slices);
    }

    // ---- conv2d: cuDNN, then the bias_act kernel; cuDNN rejects empty dimensions, whose sums are 0 ----

    @Override
    public void conv2d_forward(MemorySegment out, MemorySegment inp, MemorySegment weight, MemorySegment bias,
                               ConvDims d, int act) {
        long hw = (long) d.h() * d.w();
        if (d.empty()) {
            zero(out, (long) d.n() * d.k() * hw);
        } else {
            convolutions.forward(out, inp, weight, d);
        }
        if (!bias.equals(MemorySegment.NULL) || act != Abi.DN_ACT_IDENTITY) {
            launch("bias_act_forward", (long) d.n() * d.k() * hw, out, out, bias, d.n(), d.k(), Math.toIntExact(hw), act);
        }
    }

    @Override
    public void conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight, ConvDims d) {
        if (d.empty()) {
            zero(dinp, (long) d.n() * d.c() * d.h() * d.w());
        } else {
            convolutions.backwardData(dinp, dout, weight, d);
        }
    }

    /**
     * cuDNN's backward data into a full-size gradient, then the upsample2d_backward kernel. The
     * full-size gradient lives in scratch kept between calls, so a recorded step allocates nothing.
     */
    @Override
    public void upsample2d_conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight,
                                                ConvDims d) {
        MemorySegment full = upsampleScratch.get((long) d.n() * d.c() * d.h() * d.w() * Float.BYTES);
        conv2d_backward_data(full, dout, weight, d);
        upsample2d_backward(dinp, full, new ImageDims(d.n(), d.c(), d.h() / 2, d.w() / 2));
    }

    @Override
    public void conv2d_backward_filter(MemorySegment dweight, MemorySegment dout, MemorySegment inp, ConvDims d) {
        if (d.empty()) {
            zero(dweight, (long) d.k() * d.c() * d.r() * d.s());
        } else {
            convolutions.backwardFilter(dweight, dout, inp, d);
        }
    }

    /** dbias = channel sums of dout: the deterministic two-pass sum of cuda/bias_act.cu ({@link #channelSums}). */
    @Override
    public void conv2d_backward_bias(MemorySegment dbias, MemorySegment dout, ImageDims d) {
        channelSums(dbias, dout, d.n(), d.c(), Math.multiplyExact(d.h(), d.w()));
    }

    // ---- pool / upsample ----

    @Override
    public void maxpool2d_forward(MemorySegment out, MemorySegment inp, ImageDims d) {
        launch("maxpool2d_forward", (long) d.n() * d.c() * (d.h() / 2) * (d.w() / 2), out, inp, d.n(), d.c(), d.h(), d.w());
    }

    @Override
    public void maxpool2d_backward(MemorySegment dinp, MemorySegment dout, MemorySegment inp, ImageDims d) {
        launch("maxpool2d_backward", d.numel(), dinp, dout, inp, d.n(), d.c(), d.h(), d.w());
    }

    @Override
    public void maxpool2d_relu_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout, MemorySegment dskip,
                                        MemorySegment inp, ImageDims d) {
        launch("maxpool2d_relu_backward", d.numel(), dinp, dout, dskip, inp, d.n(), d.c(), d.h(), d.w());
        if (!dbias.equals(MemorySegment.NULL)) channelSums(dbias, dinp, d.n(), d.c(), Math.multiplyExact(d.h(), d.w()));
    }

    @Override
    public void upsample2d_forward(MemorySegment out, MemorySegment inp, ImageDims d) {
        launch("upsample2d_forward", 4 * d.numel(), out, inp, d.n(), d.c(), d.h(), d.w());
    }

    @Override
    public void upsample2d_backward(MemorySegment dinp, MemorySegment dout, ImageDims d) {
        launch("upsample2d_backward", d.numel(), dinp, dout, d.n(), d.c(), d.h(), d.w());
    }

    @Override
    public void add(MemorySegment out, MemorySegment a, MemorySegment b, long n) {
        launch("add", n, out, a, b, n);
    }

    // ---- losses: forward reductions are one block per image ----

    @Override
    public void sigmoid_bce_forward(MemorySegment loss, MemorySegment logits, MemorySegment target, RowDims d) {
        launchGrid("sigmoid_bce_forward", d.n(), loss, logits, target, d.n(), d.d());
    }

    @Override
    public void sigmoid_bce_backward(MemorySegment dlogits, MemorySegment logits, MemorySegment target, RowDims d,
                                     float scale) {
        launch("sigmoid_bce_backward", d.numel(), dlogits, logits, target, d.n(), d.d(), scale);
    }

    @Override
    public void mse_forward(MemorySegment loss, MemorySegment pred, MemorySegment target, RowDims d) {
        launchGrid("mse_forward", d.n(), loss, pred, target, d.n(), d.d());
    }

    @Override
    public void mse_backward(MemorySegment dpred, MemorySegment pred, MemorySegment target, RowDims d, float scale) {
        launch("mse_backward", d.numel(), dpred, pred, target, d.n(), d.d(), scale);
    }

    @Override
    public void psnr_forward(MemorySegment psnr, MemorySegment pred, MemorySegment target, RowDims d) {
        launchGrid("psnr_forward", d.n(), psnr, pred, target, d.n(), d.d());
    }

    // ---- VAE ----

    @Override
    public void reparam_forward(MemorySegment z, MemorySegment eps, MemorySegment mu, MemorySegment logvar, long n,
                                long seed, long offset, MemorySegment offsetAt) {
        launch("reparam_forward", n, z, eps, mu, logvar, n, seed, offset, offsetAt);
    }

    @Override
    public void reparam_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment dz, MemorySegment logvar,
                                 MemorySegment eps, long n) {
        launch("reparam_backward", n, dmu, dlogvar, dz, logvar, eps, n);
    }

    @Override
    public void kl_forward(MemorySegment loss, MemorySegment mu, MemorySegment logvar, RowDims d) {
        launchGrid("kl_forward", d.n(), loss, mu, logvar, d.n(), d.d());
    }

    @Override
    public void kl_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment mu, MemorySegment logvar, RowDims d,
                            float scale) {
        launch("kl_backward", d.numel(), dmu, dlogvar, mu, logvar, d.n(), d.d(), scale);
    }

    // ---- Adam ----

    @Override
    public void adam_update(MemorySegment param, MemorySegment m, MemorySegment v, MemorySegment grad, long n, float lr,
                            float beta1, float beta2, float eps, int t, MemorySegment hyper) {
        // with hyper the kernel reads the corrections from memory: no need to compute them per step
        float[] c = hyper.equals(MemorySegment.NULL) ? Backend.adamCorrections(beta1, beta2, t) : new float[2];
        launch("adam_update", n, param, m, v, grad, n, lr, beta1, beta2, eps, c[0], c[1], hyper);
    }

    // ---- noise (cuda/noise.cu) ----

    @Override
    public void noise_gaussian(MemorySegment out, MemorySegment inp, long n, float sigma, long seed, long offset,
                               MemorySegment offsetAt) {
        launch("noise_gaussian", n, out, inp, n, sigma, seed, offset, offsetAt);
    }

    @Override
    public void noise_gaussian_range(MemorySegment out, MemorySegment inp, long rows, long d, float sigmaLo, float span,
                                     long seed, long offset, MemorySegment offsetAt) {
        launch("noise_gaussian_range", rows * d, out, inp, rows, d, sigmaLo, span, seed, offset, offsetAt);
    }

    @Override
    public void noise_salt_pepper(MemorySegment out, MemorySegment inp, long n, float p, long seed, long offset,
                                  MemorySegment offsetAt) {
        launch("noise_salt_pepper", n, out, inp, n, p, seed, offset, offsetAt);
    }

    @Override
    public void noise_normal(MemorySegment out, long n, long seed, long offset, MemorySegment offsetAt) {
        launch("noise_normal", n, out, n, seed, offset, offsetAt);
    }

    // ---- device-resident data ----

    @Override
    public void gather_rows(MemorySegment out, MemorySegment inp, MemorySegment idx, RowDims batch, int rows) {
        launch("gather_rows", batch.numel(), out, inp, idx, batch.n(), rows, (long) batch.d());
    }

    /** One block of exactly DN_THREADS threads: the fixed tree that native/gather.c reproduces. */
    @Override
    public void sum_scaled(MemorySegment out, MemorySegment inp, long n, float scale, boolean accumulate) {
        launchGrid("sum_scaled", 1, out, inp, n, scale, accumulate ? 1 : 0);
    }
}
