/*
 * add.cu — GPU twin of native/add.c: out = a + b elementwise (a skip connection's forward, and the
 * sum of the two gradients at its fork). One float addition per element: the CPU's exact bits.
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile).
 */
#include "common.cuh"

// out, a, b (n). out may alias a or b.
extern "C" __global__ void add(float *out, const float *a, const float *b, long long n) {
    DN_GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}
