/*
 * bias_act.cu — GPU twins of native/bias_act.c: bias + activation forward and backward, plus the
 * per-channel sum that gives dbias (also used for conv2d_backward_bias: cuDNN computes the
 * convolution itself, and its bias gradient is the same channel sum of dout).
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile and common.cuh for launch rules).
 *
 * Memory-bound. Forward reads and writes N*C*HW floats once: a 64x32x28x28 batch is 1.6 M floats,
 * 12.8 MB moved, ~6 us at 2 TB/s. Backward reads two and writes one (19 MB, ~10 us).
 *
 * dbias is two launches, so the sum spreads over the whole GPU yet its bits depend on the shapes only:
 *  - bias_act_backward_dbias_partial: S slices per channel, S*C blocks of DN_THREADS. Channel c's
 *    P = N*HW values, in (n, hw) order, are cut into S runs of L = ceil(P/S); block s*C + c sums run s
 *    into part[s*C + c] (double). S = clamp(ceil(P/4096), 1, 256), chosen by CudaKernels from N and HW
 *    alone, never from the device, so every GPU adds the same numbers in the same order.
 *  - bias_act_backward_dbias: one thread per channel adds its S partials in s order, rounds once.
 * Napkin math, 128x32x28x28 (the first conv of MNIST at batch 128): 3.2 M floats, 12.8 MB. The old
 * kernel ran 32 blocks (one per channel) on an H200's 132 SMs with a 64-bit division per element:
 * ~1/4 of the SMs, one load in flight per thread, a few hundred us. Now P = 100352, S = 25, 800 blocks
 * of 4015 values (~16 loads a thread, issued four at a time): 12.8 MB at ~4 TB/s is ~3 us, plus ~2 us
 * for the second launch, which reads 25*32 doubles. Scratch: 8*S*C bytes, at most 2 KiB a channel.
 */
#include "common.cuh"

// out, inp (N,C,HW); bias (C) or NULL. out may alias inp (each element is read, then written).
extern "C" __global__ void bias_act_forward(float *out, const float *inp, const float *bias,
                                            int N, int C, int HW, int act) {
    DN_GRID_STRIDE(i, (long long)N * C * HW) {
        float b = bias ? bias[(i / HW) % C] : 0.0f;
        out[i] = dn_activate(inp[i] + b, act);
    }
}

// dinp, dout, out (N,C,HW). dinp = dout * act'(out); dinp may alias dout. The dbias half of the C
// function is bias_act_backward_dbias, launched after this kernel on the same stream.
extern "C" __global__ void bias_act_backward(float *dinp, const float *dout, const float *out,
                                             int N, int C, int HW, int act) {
    DN_GRID_STRIDE(i, (long long)N * C * HW) {
        dinp[i] = dout[i] * dn_activate_grad(out[i], act);
    }
}

// Pass 1 of dbias (C) = sum over n and hw of g (N,C,HW). Grid: exactly S*C blocks of DN_THREADS;
// block b = s*C + c writes part[b], the sum of pairs [s*L, min((s+1)*L, N*HW)) of channel c, where
// pair k is (n, hw) = (k / HW, k % HW) and L = ceil(N*HW / S). Thread t sums pairs t, t + DN_THREADS,
// ... of that run in double, in order; the block adds the threads' sums in dn_block_sum's fixed tree.
// Neighbouring threads read neighbouring hw of a plane (coalesced). A thread divides once, for its
// first pair, then steps DN_THREADS pairs at a time by adds and one compare, which also keeps small
// planes (7x7, or HW = 1 of a dense layer) spread over the whole block. Loads go four at a time ahead
// of their adds, which still come in pair order, so unrolling changes no bit.
extern "C" __global__ void __launch_bounds__(DN_THREADS)
bias_act_backward_dbias_partial(double *part, const float *__restrict__ g, int N, int C, int HW, int S) {
    const int c = blockIdx.x % C, s = blockIdx.x / C;
    const long long pairs = (long long)N * HW, len = (pairs + S - 1) / S;
    const long long begin = min(pairs, s * len), end = min(pairs, begin + len);
    double sum = 0.0;
    long long k = begin + threadIdx.x;
    if (k < end) {
        const long long plane = (long long)C * HW;     // from (n, hw) to (n + 1, hw)
        const long long q = DN_THREADS / HW;           // a step of DN_THREADS pairs: q planes
        const int r = DN_THREADS % HW;                 // and r elements more, r < HW
        long long n = k / HW;
        int j = (int)(k - n * HW);
        long long at = n * plane + (long long)c * HW + j;
        auto step = [&] {
            at += q * plane + r;
            j += r;
            if (j >= HW) {
                j -= HW;
                at += plane - HW;
            }
        };
        for (; k + 3 * DN_THREADS < end; k += 4 * DN_THREADS) {
            float v[4];
#pragma unroll
            for (int u = 0; u < 4; u++) {
                v[u] = g[at];
                step();
            }
#pragma unroll
            for (int u = 0; u < 4; u++) sum += (double)v[u];
        }
        for (; k < end; k += DN_THREADS) {
            sum += (double)g[at];
            step();
        }
    }
    sum = dn_block_sum(sum);
    if (threadIdx.x == 0) part[blockIdx.x] = sum;
}

// Pass 2: dbias[c] = part[c] + part[C + c] + ... + part[(S-1)*C + c], in that order in double, then
// rounded once. One thread per channel over any grid (grid-stride); neighbouring threads read
// neighbouring partials.
extern "C" __global__ void __launch_bounds__(DN_THREADS)
bias_act_backward_dbias(float *dbias, const double *part, int C, int S) {
    DN_GRID_STRIDE(c, C) {
        double sum = 0.0;
        for (int s = 0; s < S; s++) sum += part[(long long)s * C + c];
        dbias[c] = (float)sum;
    }
}
