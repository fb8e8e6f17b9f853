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

    /**
     * Raw {@code gemm}: c = alpha·op(a)·op(b) + beta·c, sizes and transposes in d.
     * See {@link Backend#gemm}; arguments already checked.
     */
    void gemm(GemmDims d, float alpha, MemorySegment a, MemorySegment b, float beta, MemorySegment c);

    /**
     * Raw {@code bias_act_forward}: out = act(inp + bias), bias NULL for none.
     * See {@link Backend#bias_act_forward}; arguments already checked.
     */
    void bias_act_forward(MemorySegment out, MemorySegment inp, MemorySegment bias, ChannelDims d, int act);

    /**
     * Raw {@code bias_act_backward}: dinp = dout·act'(out), dbias summed or NULL.
     * See {@link Backend#bias_act_backward}; arguments already checked.
     */
    void bias_act_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout, MemorySegment out,
                           ChannelDims d, int act);

    /**
     * Raw {@code conv2d_forward}: out = act(conv(inp, weight) + bias).
     * See {@link Backend#conv2d_forward}; arguments already checked.
     */
    void conv2d_forward(MemorySegment out, MemorySegment inp, MemorySegment weight, MemorySegment bias, ConvDims d,
                        int act);

    /**
     * Raw {@code conv2d_backward_data}: dinp from dout and weight.
     * See {@link Backend#conv2d_backward_data}; arguments already checked.
     */
    void conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight, ConvDims d);

    /**
     * Raw {@code upsample2d_conv2d_backward_data}: conv2d_backward_data then upsample2d_backward in one op.
     * See {@link Backend#upsample2d_conv2d_backward_data}; arguments already checked.
     */
    void upsample2d_conv2d_backward_data(MemorySegment dinp, MemorySegment dout, MemorySegment weight, ConvDims d);

    /**
     * Raw {@code conv2d_backward_filter}: dweight from dout and inp.
     * See {@link Backend#conv2d_backward_filter}; arguments already checked.
     */
    void conv2d_backward_filter(MemorySegment dweight, MemorySegment dout, MemorySegment inp, ConvDims d);

    /**
     * Raw {@code conv2d_backward_bias}: dbias = the sum of dout (sized by d) over n, h, w.
     * See {@link Backend#conv2d_backward_bias}; arguments already checked.
     */
    void conv2d_backward_bias(MemorySegment dbias, MemorySegment dout, ImageDims d);

    /**
     * Raw {@code maxpool2d_forward}: 2x2 max-pooling of inp (sized by d).
     * See {@link Backend#maxpool2d_forward}; arguments already checked.
     */
    void maxpool2d_forward(MemorySegment out, MemorySegment inp, ImageDims d);

    /**
     * Raw {@code maxpool2d_backward}: dinp = dout at each block's first maximum, 0 elsewhere.
     * See {@link Backend#maxpool2d_backward}; arguments already checked.
     */
    void maxpool2d_backward(MemorySegment dinp, MemorySegment dout, MemorySegment inp, ImageDims d);

    /**
     * Raw {@code maxpool2d_relu_backward}: maxpool2d_backward, the skip gradient and the ReLU backward in one pass.
     * See {@link Backend#maxpool2d_relu_backward}; arguments already checked.
     */
    void maxpool2d_relu_backward(MemorySegment dinp, MemorySegment dbias, MemorySegment dout, MemorySegment dskip,
                                 MemorySegment inp, ImageDims d);

    /**
     * Raw {@code upsample2d_forward}: 2x nearest upsampling of inp (sized by d).
     * See {@link Backend#upsample2d_forward}; arguments already checked.
     */
    void upsample2d_forward(MemorySegment out, MemorySegment inp, ImageDims d);

    /**
     * Raw {@code upsample2d_backward}: dinp (sized by d) = the sums of dout's 2x2 blocks.
     * See {@link Backend#upsample2d_backward}; arguments already checked.
     */
    void upsample2d_backward(MemorySegment dinp, MemorySegment dout, ImageDims d);

    /** Raw {@code add}: out = a + b over n elements; see {@link Backend#add}; arguments already checked. */
    void add(MemorySegment out, MemorySegment a, MemorySegment b, long n);

    /**
     * Raw {@code sigmoid_bce_forward}: loss (n) = per-image sum of BCE(sigmoid(logits), target).
     * See {@link Backend#sigmoid_bce_forward}; arguments already checked.
     */
    void sigmoid_bce_forward(MemorySegment loss, MemorySegment logits, MemorySegment target, RowDims d);

    /**
     * Raw {@code sigmoid_bce_backward}: dlogits = scale·(sigmoid(logits) − target).
     * See {@link Backend#sigmoid_bce_backward}; arguments already checked.
     */
    void sigmoid_bce_backward(MemorySegment dlogits, MemorySegment logits, MemorySegment target, RowDims d,
                              float scale);

    /**
     * Raw {@code mse_forward}: loss (n) = per-image mean squared error.
     * See {@link Backend#mse_forward}; arguments already checked.
     */
    void mse_forward(MemorySegment loss, MemorySegment pred, MemorySegment target, RowDims d);

    /**
     * Raw {@code mse_backward}: dpred = scale·2·(pred − target).
     * See {@link Backend#mse_backward}; arguments already checked.
     */
    void mse_backward(MemorySegment dpred, MemorySegment pred, MemorySegment target, RowDims d, float scale);

    /**
     * Raw {@code psnr_forward}: psnr (n) in dB with MAX = 1.
     * See {@link Backend#psnr_forward}; arguments already checked.
     */
    void psnr_forward(MemorySegment psnr, MemorySegment pred, MemorySegment target, RowDims d);

    /**
     * Raw {@code reparam_forward}: z = mu + exp(logvar/2)·eps, with eps ← the Philox normals of (seed, offset);
     * offsetAt, unless NULL, replaces offset.
     * See {@link Backend#reparam_forward}; arguments already checked.
     */
    void reparam_forward(MemorySegment z, MemorySegment eps, MemorySegment mu, MemorySegment logvar, long n,
                         long seed, long offset, MemorySegment offsetAt);

    /**
     * Raw {@code reparam_backward}: dmu = dz, dlogvar = dz·eps·exp(logvar/2)/2.
     * See {@link Backend#reparam_backward}; arguments already checked.
     */
    void reparam_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment dz, MemorySegment logvar,
                          MemorySegment eps, long n);

    /**
     * Raw {@code kl_forward}: loss (n) = KL(N(mu, exp(logvar)) ‖ N(0, I)) per image.
     * See {@link Backend#kl_forward}; arguments already checked.
     */
    void kl_forward(MemorySegment loss, MemorySegment mu, MemorySegment logvar, RowDims d);

    /**
     * Raw {@code kl_backward}: ADDS scale times the KL gradients to dmu and dlogvar.
     * See {@link Backend#kl_backward}; arguments already checked.
     */
    void kl_backward(MemorySegment dmu, MemorySegment dlogvar, MemorySegment mu, MemorySegment logvar, RowDims d,
                     float scale);

    /**
     * Raw {@code adam_update}: one Adam step over n parameters; hyper, unless NULL, replaces lr and t.
     * See {@link Backend#adam_update}; arguments already checked.
     */
    void adam_update(MemorySegment param, MemorySegment m, MemorySegment v, MemorySegment grad, long n, float lr,
                     float beta1, float beta2, float eps, int t, MemorySegment hyper);

    /**
     * Raw {@code noise_gaussian}: out = clamp(inp + sigma·N(0,1), 0, 1); offsetAt, unless NULL, replaces offset.
     * See {@link Backend#noise_gaussian}; arguments already checked.
     */
    void noise_gaussian(MemorySegment out, MemorySegment inp, long n, float sigma, long seed, long offset,
                        MemorySegment offsetAt);

    /**
     * Raw {@code noise_salt_pepper}: out = 0 or 1 with probability p/2 each, else inp; offsetAt, unless NULL,
     * replaces offset.
     * See {@link Backend#noise_salt_pepper}; arguments already checked.
     */
    void noise_salt_pepper(MemorySegment out, MemorySegment inp, long n, float p, long seed, long offset,
                           MemorySegment offsetAt);

    /**
     * Raw {@code noise_gaussian_range}: Gaussian noise with a sigma per row, uniform in [sigmaLo, sigmaLo + span]
     * (the wrapper takes sigmaHi); offsetAt, unless NULL, replaces offset.
     * See {@link Backend#noise_gaussian_range}; arguments already checked.
     */
    void noise_gaussian_range(MemorySegment out, MemorySegment inp, long rows, long d, float sigmaLo, float span,
                              long seed, long offset, MemorySegment offsetAt);

    /**
     * Raw {@code noise_normal}: out (n) = standard normals; offsetAt, unless NULL, replaces offset.
     * See {@link Backend#noise_normal}; arguments already checked.
     */
    void noise_normal(MemorySegment out, long n, long seed, long offset, MemorySegment offsetAt);

    /** batch: the gathered rows (B, D); rows: the data set's row count. */
    void gather_rows(MemorySegment out, MemorySegment inp, MemorySegment idx, RowDims batch, int rows);

    /**
     * Raw {@code sum_scaled}: out[0] = (accumulate ? out[0] : 0) + scale·sum(inp (n)).
     * See {@link Backend#sum_scaled}; arguments already checked.
     */
    void sum_scaled(MemorySegment out, MemorySegment inp, long n, float scale, boolean accumulate);
}
