/*
 * denoise.h — the op table of the CPU backend (libdenoise.so), called from Java through FFM.
 *
 * Every function here has a twin of the same name in cuda/ (a kernel or a cuDNN/cuBLAS call) and one
 * method of the same name on dev.denoise.backend.Backend. Forward and backward sit side by side.
 *
 * Conventions (shared with the CUDA backend and the Java layer):
 *  - float32 everywhere, row-major, images NCHW (see Tensor.java for why NCHW).
 *  - Sizes are int (one image/layer dimension is < 2^31); flat element counts are int64_t.
 *  - Gradients are prefixed d (dinp, dweight, dout). Parameter gradients are OVERWRITTEN, not
 *    accumulated, unless the comment says "adds". dinp may not alias dout unless stated.
 *  - Arguments are validated in Java (dev.denoise.backend.Backend) before the call; C trusts them.
 *  - Every op returns DN_OK, or DN_ERR_NOMEM when its scratch memory could not be allocated (then its
 *    outputs are undefined, and runtime_error_bytes() on the same thread gives the size that failed).
 *    Nothing here aborts or exits: a library must not end its host process.
 *  - Results are identical for any thread count: threads split independent outputs, and every
 *    reduction runs in a fixed order inside one thread.
 *  - Activations: DN_ACT_* of denoise_abi.h (enum dev.denoise.backend.Activation).
 *  - Per-step values may live in memory: a noise offset (offset_at), Adam's learning rate and bias
 *    corrections (hyper). When such a pointer is not NULL the op reads the value from it and ignores
 *    the by-value argument, so a training step recorded once (a CUDA graph on the GPU) reads each
 *    replay's values; NULL keeps the by-value form.
 */
#ifndef DENOISE_H
#define DENOISE_H

#include <stdint.h>
#include "denoise_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- runtime (runtime.c) ---- */
int  runtime_version(void);              /* DENOISE_ABI_VERSION, checked by Java at load */
void runtime_set_threads(int n);         /* OpenMP threads for every following op on this thread; n >= 1 */
int  runtime_threads(void);
int  runtime_cpu_features(void);         /* DN_CPU_* bits */
/* The instruction set of the kernels that dispatch by hand (conv2d, gemm, adam): the best the CPU has,
 * capped at level (DN_ISA_*; a negative level lifts the cap). Process-wide; returns the level now in
 * effect. For tests that hold the AVX-512, AVX2 and portable paths against each other. Only those three
 * read the cap: the other ops' paths are picked once by the loader (target_clones), noise.c's by the
 * CPU alone. */
int  runtime_set_isa(int level);
int  runtime_isa(void);                  /* the level in effect */
/* The 3x3 convolutions' algorithm (DN_CONV_*): DN_CONV_AUTO (Winograd F(2x2,3x3) where it pays, see
 * conv2d.c) or DN_CONV_DIRECT. Process-wide; returns the previous one. For tests that hold both
 * against the reference, and for benchmarks. */
int  runtime_set_conv_algo(int algo);
/* The bytes of the allocation that made this thread's last op return DN_ERR_NOMEM. */
int64_t runtime_error_bytes(void);
/* For fault tests: from now on every scratch request of more than bytes fails as if the memory were
 * exhausted (whether or not a cached buffer could serve it); a negative value lifts the limit.
 * Process-wide. */
void runtime_set_alloc_limit(int64_t bytes);

/* ---- GEMM (gemm.c) ----
 * C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is (M,K), op(B) is (K,N), C is (M,N).
 * A is stored (M,K) with row stride lda, or (K,M) when transa. B is (K,N), or (N,K) when transb.
 * beta == 0 ignores C's old contents (NaN in C does not propagate). */
int gemm(int transa, int transb, int M, int N, int K, float alpha,
         const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* ---- bias + activation (bias_act.c) ----
 * inp, out (N,C,HW); bias (C) or NULL. out may alias inp. */
int bias_act_forward(float *out, const float *inp, const float *bias, int N, int C, int HW, int act);
/* dinp = dout * act'(out) where out is the forward's OUTPUT (post-activation); dbias (C) = sum over
 * N,HW of dinp, or skipped when NULL. dinp may alias dout. */
int bias_act_backward(float *dinp, float *dbias, const float *dout, const float *out,
                      int N, int C, int HW, int act);

/* ---- 2-D convolution, stride 1, 'same' zero padding (R, S odd) (conv2d.c) ----
 * inp (N,C,H,W), weight (K,C,R,S), bias (K) or NULL, out (N,K,H,W).
 * Forward also applies the activation (act) after the bias, so a conv layer is one call. */
int conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                   int N, int C, int H, int W, int K, int R, int S, int act);
/* dinp (N,C,H,W) from dout (N,K,H,W) and weight (K,C,R,S). */
int conv2d_backward_data(float *dinp, const float *dout, const float *weight,
                         int N, int C, int H, int W, int K, int R, int S);
/* conv2d_backward_data and then upsample2d_backward, for a conv whose input was upsampled:
 * dinp (N,C,H/2,W/2) = the 2x2 block sums of conv2d_backward_data(dout (N,K,H,W), weight); H, W
 * even. The full-size gradient never leaves the cache; the same numbers as the two ops. */
int upsample2d_conv2d_backward_data(float *dinp, const float *dout, const float *weight,
                                    int N, int C, int H, int W, int K, int R, int S);
/* dweight (K,C,R,S) from dout (N,K,H,W) and inp (N,C,H,W). */
int conv2d_backward_filter(float *dweight, const float *dout, const float *inp,
                           int N, int C, int H, int W, int K, int R, int S);
/* dbias (K) = sum over N,H,W of dout (N,K,H,W). */
int conv2d_backward_bias(float *dbias, const float *dout, int N, int K, int H, int W);

/* ---- 2x2 max-pool, stride 2 (pool.c) ----
 * inp (N,C,H,W), out (N,C,H/2,W/2) (floor, as PyTorch). Backward recomputes the argmax from inp
 * (first maximum in row-major window order wins, as PyTorch) and writes every element of dinp. */
int maxpool2d_forward(float *out, const float *inp, int N, int C, int H, int W);
int maxpool2d_backward(float *dinp, const float *dout, const float *inp, int N, int C, int H, int W);
/* maxpool2d_backward and then the ReLU backward (with bias gradient) of the layer whose ReLU output
 * is inp, in one pass: dinp = relu'(inp) * (maxpool2d_backward(dout, inp) + dskip), where dskip
 * (N,C,H,W) is the gradient of a skip connection that also reads inp, or NULL for none; dbias (C) =
 * sum over N,H,W of dinp, or skipped when NULL. The same numbers as maxpool2d_backward, add and
 * bias_act_backward one after the other. */
int maxpool2d_relu_backward(float *dinp, float *dbias, const float *dout, const float *dskip,
                            const float *inp, int N, int C, int H, int W);

/* ---- 2x nearest upsample (upsample.c) ----
 * inp (N,C,H,W), out (N,C,2H,2W); dinp (N,C,H,W) = sum of the 2x2 block of dout. */
int upsample2d_forward(float *out, const float *inp, int N, int C, int H, int W);
int upsample2d_backward(float *dinp, const float *dout, int N, int C, int H, int W);

/* ---- elementwise sum (add.c) ----
 * out (n) = a + b; out may alias a or b. A skip connection's forward; its backward is dout for both
 * inputs, and at the fork the two gradients are summed with add again. */
int add(float *out, const float *a, const float *b, int64_t n);

/* ---- losses (loss.c) ----
 * Fused sigmoid + binary cross-entropy on logits x, target t in [0,1], both (N,D):
 * loss[n] = sum_d ( max(x,0) - x*t + log(1 + exp(-|x|)) )  (per-image SUM, numerically stable).
 * Mean BCE = sum(loss)/(N*D) with scale 1/(N*D); per-image sum averaged over the batch: scale 1/N.
 * dlogits = scale * (sigmoid(x) - t). */
int sigmoid_bce_forward(float *loss, const float *logits, const float *target, int N, int D);
int sigmoid_bce_backward(float *dlogits, const float *logits, const float *target, int N, int D, float scale);
/* loss[n] = mean_d (pred - target)^2 ; dpred = scale * 2 * (pred - target). */
int mse_forward(float *loss, const float *pred, const float *target, int N, int D);
int mse_backward(float *dpred, const float *pred, const float *target, int N, int D, float scale);
/* psnr[n] = 10 log10(1 / mse_n) with MAX = 1; an exact match gives +inf... clamped to 100 dB. */
int psnr_forward(float *psnr, const float *pred, const float *target, int N, int D);

/* ---- VAE (vae.c) ----
 * mu, logvar, eps, z (N,L) flattened to n = N*L. eps[i] = standard normal from Philox (seed, offset + i)
 * (philox_normal in philox.h, the same numbers as the CUDA kernel); z = mu + exp(0.5*logvar) * eps.
 * offset_at (1) or NULL: the offset, read from memory. */
int reparam_forward(float *z, float *eps, const float *mu, const float *logvar, int64_t n,
                    uint64_t seed, uint64_t offset, const uint64_t *offset_at);
/* dmu = dz; dlogvar = dz * eps * 0.5 * exp(0.5*logvar). dmu may alias dz. */
int reparam_backward(float *dmu, float *dlogvar, const float *dz, const float *logvar, const float *eps,
                     int64_t n);
/* loss[n] = -0.5 * sum_l (1 + logvar - mu^2 - exp(logvar)) : KL(q(z|x) || N(0,I)) per image. */
int kl_forward(float *loss, const float *mu, const float *logvar, int N, int L);
/* ADDS scale * dKL/dmu = scale*mu to dmu and scale * 0.5*(exp(logvar) - 1) to dlogvar. */
int kl_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar, int N, int L, float scale);

/* ---- Adam over one flat parameter buffer (adam.c) ----
 * param, m, v, grad (n). step t >= 1 (bias correction 1 - beta^t computed in double).
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; param -= lr * mhat / (sqrt(vhat) + eps).
 * hyper (3) or NULL: {lr, 1/(1 - beta1^t), 1/(1 - beta2^t)} read from memory (the corrections
 * computed as here: in double, rounded to float); then lr and t are ignored. */
int adam_update(float *param, float *m, float *v, const float *grad, int64_t n,
                float lr, float beta1, float beta2, float eps, int t, const float *hyper);

/* ---- noise (noise.c; Philox 4x32-10 in philox.h, shared with cuda/) ----
 * Normals come in Box-Muller pairs: elements 2j and 2j+1 share the Philox block of counter (j, offset)
 * and key seed; uniforms use counter (i, offset) for element i (see philox.h). So the same
 * (seed, offset) gives the same noise on the CPU and the GPU, for any thread count.
 * Gaussian: out = clamp(inp + sigma * normal, 0, 1). Salt-and-pepper: with probability p/2 -> 0,
 * p/2 -> 1, else inp. out may alias inp. offset_at (1) or NULL: the offset, read from memory. */
int noise_gaussian(float *out, const float *inp, int64_t n, float sigma, uint64_t seed, uint64_t offset,
                   const uint64_t *offset_at);
int noise_salt_pepper(float *out, const float *inp, int64_t n, float p, uint64_t seed, uint64_t offset,
                      const uint64_t *offset_at);
/* Blind-denoising noise: out, inp (rows, d); row r gets sigma_r = sigma_lo + span * u_r, u_r the
 * uniform of counter (r, offset) under key seed ^ DN_SIGMA_KEY, then element i (of all rows * d) is
 * clamp(inp + sigma_r * normal_i, 0, 1) with normal_i as noise_gaussian's: span 0 gives its bits. */
int noise_gaussian_range(float *out, const float *inp, int64_t rows, int64_t d, float sigma_lo, float span,
                         uint64_t seed, uint64_t offset, const uint64_t *offset_at);
/* out (n) = standard normals, element i as above. */
int noise_normal(float *out, int64_t n, uint64_t seed, uint64_t offset, const uint64_t *offset_at);

/* ---- device-resident data (gather.c): the same ops on the host as on the GPU ----
 * out (B,D) = the rows idx[0..B) of inp (rows,D): a training batch assembled where the data set
 * lives. idx holds row numbers as floats (exact integers below DN_MAX_GATHER_ROWS, as the GPU reads
 * them); an index out of range or not an integer fills its row with NaN (a kernel cannot throw). */
int gather_rows(float *out, const float *inp, const float *idx, int B, int rows, int64_t D);
/* out[0] = (accumulate ? out[0] : 0) + scale * sum(inp (n)), summed in double exactly as the GPU's
 * one block does (DN_THREADS strided partial sums, then a fixed tree): the same bits on both. */
int sum_scaled(float *out, const float *inp, int64_t n, float scale, int accumulate);

/* One raw Philox4x32-10 block (for known-answer tests): out[4] = philox(ctr[4], key[2]). */
void philox4x32_10(uint32_t *out, const uint32_t *ctr, const uint32_t *key);

#ifdef __cplusplus
}
#endif
#endif
