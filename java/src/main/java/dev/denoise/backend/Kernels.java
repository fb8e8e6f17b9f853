package dev.denoise.backend;

import java.lang.foreign.MemorySegment;

/**
 * The raw op table: native/denoise.h name for name, each op's pointers as segments (NULL where the
 * header allows NULL) and its sizes as named records. It trusts its arguments: {@link Backend}
 * checks every call once, before it gets here, so an implementation holds no checks of its own.
 *
 * <p>Per-step values (a noise offset, Adam's learning rate and corrections) may come from memory:
 * where the header has {@code offset_at} or {@code hyper}, a non-NULL segment replaces the by-value
 * argument, so a step recorded once (a CUDA graph) reads each replay's values.
 *
 * <p>Two implementations: {@link dev.denoise.ffm.DenoiseNative}, the FFM binding of libdenoise.so,
 * and the CUDA backend's table of kernel launches and cuDNN/cuBLAS calls. The semantics of each op
 * are written once, in native/denoise.h; the Javadoc of {@link Backend} repeats them for Java users.
 */
@SuppressWarnings("checkstyle:MethodName") // the C names, on purpose: grep one name, find every implementation
public interface Kernels {

    void gemm(GemmDims d, float alpha, MemorySegment a, MemorySegment b, float beta, MemorySegment c);

    void bias_act_forward(MemorySegment out, MemorySegment inp, MemorySegment bias, ChannelDims d, int act);

    void bias_act_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout, MemorySegment out,
                           ChannelDims d, int act);

    void conv2d_forward(MemorySegment out, MemorySegment inp, MemorySegment weight, MemorySegment bias, ConvDims d,
                        int act);

    void conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight, ConvDims d);

    void upsample2d_conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight, ConvDims d);

    void conv2d_backward_filter(MemorySegment dweight, MemorySegment dout, MemorySegment inp, ConvDims d);

    void conv2d_backward_bias(MemorySegment dbias, MemorySegment dout, ImageDims d);

    void maxpool2d_forward(MemorySegment out, MemorySegment inp, ImageDims d);

    void maxpool2d_backward(MemorySegment dinp, MemorySegment dout, MemorySegment inp, ImageDims d);

    void maxpool2d_relu_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout, MemorySegment dskip,
                                 MemorySegment inp, ImageDims d);

    void upsample2d_forward(MemorySegment out, MemorySegment inp, ImageDims d);

    void upsample2d_backward(MemorySegment dinp, MemorySegment dout, ImageDims d);

    void add(MemorySegment out, MemorySegment a, MemorySegment b, long n);

    void sigmoid_bce_forward(MemorySegment loss, MemorySegment logits, MemorySegment target, RowDims d);

    void sigmoid_bce_backward(MemorySegment dlogits, MemorySegment logits, MemorySegment target, RowDims d,
                              float scale);

    void mse_forward(MemorySegment loss, MemorySegment pred, MemorySegment target, RowDims d);

    void mse_backward(MemorySegment dpred, MemorySegment pred, MemorySegment target, RowDims d, float scale);

    void psnr_forward(MemorySegment psnr, MemorySegment pred, MemorySegment target, RowDims d);

    void reparam_forward(MemorySegment z, MemorySegment eps, MemorySegment mu, MemorySegment logvar, long n,
                         long seed, long offset, MemorySegment offsetAt);

    void reparam_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment dz, MemorySegment logvar,
                          MemorySegment eps, long n);

    void kl_forward(MemorySegment loss, MemorySegment mu, MemorySegment logvar, RowDims d);

    void kl_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment mu, MemorySegment logvar, RowDims d,
                     float scale);

    void adam_update(MemorySegment param, MemorySegment m, MemorySegment v, MemorySegment grad, long n, float lr,
                     float beta1, float beta2, float eps, int t, MemorySegment hyper);

    void noise_gaussian(MemorySegment out, MemorySegment inp, long n, float sigma, long seed, long offset,
                        MemorySegment offsetAt);

    void noise_salt_pepper(MemorySegment out, MemorySegment inp, long n, float p, long seed, long offset,
                           MemorySegment offsetAt);

    void noise_gaussian_range(MemorySegment out, MemorySegment inp, long rows, long d, float sigmaLo, float span,
                              long seed, long offset, MemorySegment offsetAt);

    void noise_normal(MemorySegment out, long n, long seed, long offset, MemorySegment offsetAt);

    /** batch: the gathered rows (B, D); rows: the data set's row count. */
    void gather_rows(MemorySegment out, MemorySegment inp, MemorySegment idx, RowDims batch, int rows);

    void sum_scaled(MemorySegment out, MemorySegment inp, long n, float scale, boolean accumulate);
}
