/*
 * sum.cu — a deterministic sum on the device: out[0] = (accumulate ? out[0] : 0) + scale * sum(inp).
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile and common.cuh for launch rules).
 *
 * The training loop adds each step's per-image losses into a device scalar with this kernel and reads
 * the scalar back only every N steps: a device-to-host read waits for the whole queue, so reading
 * every step would stall the GPU once per step. One block of DN_THREADS threads, double partial sums
 * in a fixed order: the same bits on every run, and the same as native/gather.c's sum_scaled, which
 * replays this block's order on the host. inp is tiny (N losses), so one block is plenty.
 */
#include "common.cuh"

// out (1), inp (n). Grid: exactly one block of DN_THREADS threads.
extern "C" __global__ void __launch_bounds__(DN_THREADS)
sum_scaled(float *out, const float *inp, long long n, float scale, int accumulate) {
    double s = 0.0;
    for (long long i = threadIdx.x; i < n; i += DN_THREADS) s += (double)inp[i];
    s = dn_block_sum(s);
    if (threadIdx.x == 0) {
        // spelled out with _rn intrinsics so nvcc cannot fuse them into an FMA: native/gather.c's
        // sum_scaled does the same two roundings and gets the same bits
        double prev = accumulate ? (double)out[0] : 0.0;
        out[0] = (float)__dadd_rn(prev, __dmul_rn((double)scale, s));
    }
}
