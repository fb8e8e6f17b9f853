/*
 * adam.cu — GPU twin of native/adam.c: one Adam step over the model's flat parameter buffer.
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile).
 *
 * The bias corrections c1 = 1/(1 - beta1^t) and c2 = 1/(1 - beta2^t) are computed on the host in
 * double and rounded to float exactly as adam.c does, then passed in (so the kernel never needs t and
 * a captured CUDA graph only has to update two floats). Every operation is written out with the
 * correctly rounded _rn intrinsics, in adam.c's order, so nvcc cannot fuse a*b + c into an FMA that
 * the C build does not use: with the same inputs the GPU produces adam.c's bits.
 * Memory-bound: reads 4 and writes 3 floats per parameter (28 B); 1 M parameters at 2 TB/s ~ 14 us.
 */
#include "common.cuh"

// param, m, v, grad (n); hyper (3) or NULL: {lr, c1, c2} in device memory, read by a replayed graph.
extern "C" __global__ void adam_update(float *param, float *m, float *v, const float *grad, long long n,
                                       float lr, float beta1, float beta2, float eps, float c1, float c2,
                                       const float *hyper) {
    if (hyper) {
        lr = hyper[0];
        c1 = hyper[1];
        c2 = hyper[2];
    }
    const float a1 = __fsub_rn(1.0f, beta1), a2 = __fsub_rn(1.0f, beta2);
    DN_GRID_STRIDE(i, n) {
        float g = grad[i];
        float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(a1, g));
        float vi = __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(a2, g), g));
        m[i] = mi;
        v[i] = vi;
        float step = __fdiv_rn(__fmul_rn(lr, __fmul_rn(mi, c1)), __fadd_rn(__fsqrt_rn(__fmul_rn(vi, c2)), eps));
        param[i] = __fsub_rn(param[i], step);
    }
}
