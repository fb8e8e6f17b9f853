/*
 * common.cuh — launch conventions and helpers shared by every kernel file in cuda/.
 *
 * All of cuda/*.cu is compiled as ONE translation unit (the Makefile writes cuda/build/all.cu that
 * #includes each file), so helpers live here, once, behind an include guard, and file-local names
 * must not collide across files.
 *
 * Launch conventions (dev.denoise.cuda.CudaBackend follows them):
 *  - element-wise kernels: a 1-D grid of DN_THREADS-thread blocks of any size; every kernel walks its
 *    elements with a grid-stride loop, so the result never depends on the grid size;
 *  - reduction kernels: EXACTLY DN_THREADS threads per block (the tree in dn_block_sum assumes it),
 *    one block per output value; each thread sums a fixed, strided subset in double and the block
 *    adds the partial sums in a fixed tree order, so a result has the same bits on every run.
 */
#ifndef DENOISE_COMMON_CUH
#define DENOISE_COMMON_CUH

#include <stdint.h>

// DN_THREADS, DN_ACT_*, DN_MAX_GATHER_ROWS: the numbers C, CUDA and Java share (nvcc gets -Inative)
#include "denoise_abi.h"

// for (i over [0, n)) split over the whole grid; n is 64-bit so a tensor may exceed 2^31 elements.
#define DN_GRID_STRIDE(i, n)                                                            \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
         i += (long long)gridDim.x * blockDim.x)

// The activations of native/bias_act.c, with the same formulas (expf, not the fast __expf).
static __device__ __forceinline__ float dn_activate(float x, int act) {
    if (act == DN_ACT_RELU) return x > 0.0f ? x : 0.0f;
    if (act == DN_ACT_SIGMOID) return 1.0f / (1.0f + expf(-x));
    if (act == DN_ACT_CLAMP01) return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f;
    return x;
}

// The derivative from the activation's OUTPUT y, as bias_act.c.
static __device__ __forceinline__ float dn_activate_grad(float y, int act) {
    if (act == DN_ACT_RELU) return y > 0.0f ? 1.0f : 0.0f;
    if (act == DN_ACT_SIGMOID) return y * (1.0f - y);
    if (act == DN_ACT_CLAMP01) return y > 0.0f && y < 1.0f ? 1.0f : 0.0f;
    return 1.0f;
}

// Sum of one value per thread over a block of exactly DN_THREADS threads, in a fixed tree order.
// Every thread gets the total. Safe to call several times in one kernel (the last barrier keeps the
// next call from overwriting s[0] before everyone has read it).
static __device__ __forceinline__ double dn_block_sum(double v) {
    __shared__ double s[DN_THREADS];
    s[threadIdx.x] = v;
    __syncthreads();
#pragma unroll
    for (int k = DN_THREADS / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) s[threadIdx.x] += s[threadIdx.x + k];
        __syncthreads();
    }
    double total = s[0];
    __syncthreads();
    return total;
}

#endif
