/*
 * bias_act.cu — GPU twins of native/bias_act.c: bias + activation forward and backward, plus the
 * per-channel sum that gives dbias (also used for conv2d_backward_bias: cuDNN computes the
 * convolution itself, and its bias gradient is the same channel sum of dout).
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile and common.cuh for launch rules).
 *
 * Memory-bound. Forward reads and writes N*C*HW floats once: a 64x32x28x28 batch is 1.6 M floats,
 * 12.8 MB moved, ~6 us at 2 TB/s. Backward reads two and writes one (19 MB, ~10 us).
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

// dbias (C) = sum over n and hw of g (N,C,HW). Grid: C blocks of DN_THREADS threads. Thread t sums
// the (n, hw) pairs t, t + DN_THREADS, ... in double (pairs, not hw alone, so HW = 1 — a dense
// layer — still spreads over the block); the block adds them in a fixed tree: deterministic.
// Reads N*HW floats per channel; for 64x32x28x28 that is the 6.4 MB of g once.
extern "C" __global__ void __launch_bounds__(DN_THREADS)
bias_act_backward_dbias(float *dbias, const float *g, int N, int C, int HW) {
    const int c = blockIdx.x;
    const long long pairs = (long long)N * HW;
    double s = 0.0;
    for (long long k = threadIdx.x; k < pairs; k += DN_THREADS) {
        long long n = k / HW, j = k - n * HW;
        s += (double)g[(n * C + c) * HW + j];
    }
    s = dn_block_sum(s);
    if (threadIdx.x == 0) dbias[c] = (float)s;
}
