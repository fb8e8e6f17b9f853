package dev.denoise.backend;

/**
 * The op table: everything layers and models may ask of a device. {@link CpuBackend} implements it
 * with the C functions of native/ and the CUDA backend with the kernels of cuda/ and cuDNN/cuBLAS;
 * every op has the same name in all three places (grep one name to find them all).
 *
 * <p>Shapes are read from the tensors and checked in Java before any native call (see
 * {@link Checks}); a wrong shape is an {@link IllegalArgumentException} naming the op and tensor.
 * Parameter gradients are overwritten, not accumulated, unless an op says it adds. Every op's
 * result has the same bits for any thread count. Ops are asynchronous on devices that queue work:
 * {@link #read} and {@link #synchronize} wait for them.
 */
public interface Backend extends AutoCloseable {

    Device device();

    /** A short description, e.g. "cpu (2 threads, AVX-512)". */
    String describe();

    // ---- memory ----

    /** A zero-filled tensor owned by the caller (close it, or use try-with-resources). */
    Tensor allocate(int... shape);

    /** dst ← src[srcOffset, srcOffset + dst.numel()). */
    void write(Tensor dst, float[] src, int srcOffset);

    default void write(Tensor dst, float[] src) {
        write(dst, src, 0);
    }

    /** dst[0, src.numel()) ← src, after all queued work. */
    void read(Tensor src, float[] dst);

    void copy(Tensor dst, Tensor src);

    void fill(Tensor t, float value);

    /** Waits for all queued work. */
    void synchronize();

    // ---- GEMM: c = alpha op(a) op(b) + beta c, all rank 2, row-major ----

    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    // ---- bias + activation: inp/out (N, C, ...) , bias (C) or null ----

    void bias_act_forward(Tensor out, Tensor inp, Tensor bias, Activation act);

    /** dinp = dout·act'(out) from the forward's output; dbias (C) or null. dinp may be dout. */
    void bias_act_backward(Tensor dinp, Tensor dbias, Tensor dout, Tensor out, Activation act);

    // ---- conv2d, stride 1, 'same' padding, odd kernel: inp (N,C,H,W), weight (K,C,R,S) ----

    /** out (N,K,H,W) = act(conv(inp, weight) + bias); bias (K) or null. */
    void conv2d_forward(Tensor out, Tensor inp, Tensor weight, Tensor bias, Activation act);

    void conv2d_backward_data(Tensor dinp, Tensor dout, Tensor weight);

    /**
     * conv2d_backward_data, then upsample2d_backward, for a conv whose input was upsampled: dinp
     * (N,C,H/2,W/2) from dout (N,K,H,W) and weight (K,C,R,S); the same numbers as the two ops, without
     * the full-size gradient in between.
     */
    void upsample2d_conv2d_backward_data(Tensor dinp, Tensor dout, Tensor weight);

    void conv2d_backward_filter(Tensor dweight, Tensor dout, Tensor inp);

    void conv2d_backward_bias(Tensor dbias, Tensor dout);

    // ---- 2x2 max-pool and 2x nearest upsample (NCHW) ----

    void maxpool2d_forward(Tensor out, Tensor inp);

    void maxpool2d_backward(Tensor dinp, Tensor dout, Tensor inp);

    /**
     * maxpool2d_backward, then the ReLU backward of the layer whose ReLU output is inp: dinp =
     * relu'(inp) * (maxpool2d_backward(dout, inp) + dskip), dbias (C) = its sum over N, H, W (or
     * null). dskip (inp's shape) is the gradient of a skip connection that also reads inp, or null.
     * One pass instead of three over the (larger) unpooled gradient; the same numbers as
     * maxpool2d_backward, add and bias_act_backward.
     */
    void maxpool2d_relu_backward(Tensor dinp, Tensor dbias, Tensor dout, Tensor dskip, Tensor inp);

    void upsample2d_forward(Tensor out, Tensor inp);

    void upsample2d_backward(Tensor dinp, Tensor dout);

    // ---- elementwise sum ----

    /**
     * out = a + b, all one shape; out may be a or b. A skip connection's forward; its backward hands
     * dout to both inputs unchanged, and where a tensor feeds two layers, add sums their gradients.
     */
    void add(Tensor out, Tensor a, Tensor b);

    // ---- losses, per image: first dimension N, the rest flattened to D ----

    /** loss (N) = per-image sum of BCE(sigmoid(logits), target). */
    void sigmoid_bce_forward(Tensor loss, Tensor logits, Tensor target);

    /** dlogits = scale·(sigmoid(logits) − target); scale 1/(N·D) for the mean, 1/N for sums. */
    void sigmoid_bce_backward(Tensor dlogits, Tensor logits, Tensor target, float scale);

    /** loss (N) = per-image mean squared error. */
    void mse_forward(Tensor loss, Tensor pred, Tensor target);

    void mse_backward(Tensor dpred, Tensor pred, Tensor target, float scale);

    /** psnr (N) in dB with MAX = 1 (100 dB for an exact match). */
    void psnr_forward(Tensor psnr, Tensor pred, Tensor target);

    // ---- VAE: mu, logvar, eps, z (N, L) ----

    /** z = mu + exp(logvar/2)·eps with eps the Philox normals of (seed, offset), stored in eps. */
    void reparam_forward(Tensor z, Tensor eps, Tensor mu, Tensor logvar, long seed, long offset);

    void reparam_backward(Tensor dmu, Tensor dlogvar, Tensor dz, Tensor logvar, Tensor eps);

    /** loss (N) = KL(N(mu, exp(logvar)) ‖ N(0, I)) per image. */
    void kl_forward(Tensor loss, Tensor mu, Tensor logvar);

    /** ADDS scale·∂KL/∂mu to dmu and scale·∂KL/∂logvar to dlogvar. */
    void kl_backward(Tensor dmu, Tensor dlogvar, Tensor mu, Tensor logvar, float scale);

    // ---- Adam over one flat parameter buffer ----

    /** One Adam step t ≥ 1 (bias-corrected) on param, m, v with grad, all the same size. */
    void adam_update(Tensor param, Tensor m, Tensor v, Tensor grad, float lr, float beta1, float beta2,
                     float eps, int t);

    // ---- noise, from Philox 4x32-10 keyed by (seed, offset + element): same noise on every device ----

    /** out = clamp(inp + sigma·N(0,1), 0, 1). out may be inp. */
    void noise_gaussian(Tensor out, Tensor inp, float sigma, long seed, long offset);

    /** out = 0 with probability p/2, 1 with p/2, else inp. out may be inp. */
    void noise_salt_pepper(Tensor out, Tensor inp, float p, long seed, long offset);

    /** out = standard normal draws. */
    void noise_normal(Tensor out, long seed, long offset);

    @Override
    void close();
}
