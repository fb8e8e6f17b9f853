/*
 * loss.cu — GPU twins of native/loss.c: fused sigmoid + BCE, MSE and PSNR, per image.
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile and common.cuh for launch rules).
 *
 * Forward kernels: one block of DN_THREADS threads per image (grid N). Each thread adds a fixed strided
 * subset of the image's D terms in double, as loss.c does, and the block adds the partial sums in a
 * fixed tree: the same bits on every run, a few ulps of float from the CPU's sequential double sum.
 * A 64-image MNIST batch reads 2 x 64 x 784 floats (400 KB): launch latency dominates, not bandwidth.
 */
#include "common.cuh"

// loss (N), logits (N,D), target (N,D): loss[n] = sum_d max(x,0) - x t + log1p(exp(-|x|)).
extern "C" __global__ void __launch_bounds__(DN_THREADS)
sigmoid_bce_forward(float *loss, const float *logits, const float *target, int N, int D) {
    const float *x = logits + (long long)blockIdx.x * D, *t = target + (long long)blockIdx.x * D;
    double s = 0.0;
    for (int d = threadIdx.x; d < D; d += DN_THREADS) {
        float v = x[d];
        s += (double)(fmaxf(v, 0.0f) - v * t[d] + log1pf(expf(-fabsf(v))));
    }
    s = dn_block_sum(s);
    if (threadIdx.x == 0) loss[blockIdx.x] = (float)s;
}

// dlogits, logits, target (N,D): dlogits = scale * (sigmoid(x) - t). Reads 2, writes 1 float each.
extern "C" __global__ void sigmoid_bce_backward(float *dlogits, const float *logits, const float *target,
                                                int N, int D, float scale) {
    DN_GRID_STRIDE(i, (long long)N * D) {
        dlogits[i] = scale * (1.0f / (1.0f + expf(-logits[i])) - target[i]);
    }
}

// loss (N), pred, target (N,D): loss[n] = mean_d (pred - target)^2, the difference taken in double.
extern "C" __global__ void __launch_bounds__(DN_THREADS)
mse_forward(float *loss, const float *pred, const float *target, int N, int D) {
    const float *p = pred + (long long)blockIdx.x * D, *t = target + (long long)blockIdx.x * D;
    double s = 0.0;
    for (int d = threadIdx.x; d < D; d += DN_THREADS) {
        double e = (double)p[d] - t[d];
        s += e * e;
    }
    s = dn_block_sum(s);
    if (threadIdx.x == 0) loss[blockIdx.x] = (float)(s / D);
}

// dpred, pred, target (N,D): dpred = (2 scale) (pred - target).
extern "C" __global__ void mse_backward(float *dpred, const float *pred, const float *target,
                                        int N, int D, float scale) {
    const float s2 = 2.0f * scale;
    DN_GRID_STRIDE(i, (long long)N * D) {
        dpred[i] = s2 * (pred[i] - target[i]);
    }
}

// psnr (N), pred, target (N,D): 10 log10(1 / mse) with MAX = 1; an exact match gives 100 dB.
extern "C" __global__ void __launch_bounds__(DN_THREADS)
psnr_forward(float *psnr, const float *pred, const float *target, int N, int D) {
    const float *p = pred + (long long)blockIdx.x * D, *t = target + (long long)blockIdx.x * D;
    double s = 0.0;
    for (int d = threadIdx.x; d < D; d += DN_THREADS) {
        double e = (double)p[d] - t[d];
        s += e * e;
    }
    s = dn_block_sum(s);
    if (threadIdx.x == 0) {
        double mse = s / D;
        psnr[blockIdx.x] = mse > 1e-10 ? (float)(-10.0 * log10(mse)) : 100.0f;
    }
}
