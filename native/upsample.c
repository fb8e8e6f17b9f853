/*
 * upsample.c — 2x nearest-neighbour upsample, forward and backward (NCHW).
 * Build: part of native/build/libdenoise.so (see ../Makefile).
 */
#include <stddef.h>
#include "denoise.h"

// out (N,C,2H,2W), inp (N,C,H,W)
__attribute__((target_clones("avx512f", "avx2", "default")))
int upsample2d_forward(float *out, const float *inp, int N, int C, int H, int W) {
    const int W2 = 2 * W;
    #pragma omp parallel for schedule(static) if ((long)N * C * H * W > 16384)
    for (long p = 0; p < (long)N * C; p++) {
        const float *x = inp + (size_t)p * H * W;
        float *y = out + (size_t)p * 4 * H * W;
        for (int i = 0; i < H; i++) {
            float *r0 = y + (size_t)(2 * i) * W2, *r1 = r0 + W2;
            for (int j = 0; j < W; j++) {
                float v = x[(size_t)i * W + j];
                r0[2 * j] = v; r0[2 * j + 1] = v;
                r1[2 * j] = v; r1[2 * j + 1] = v;
            }
        }
    }
    return DN_OK;
}

// dinp (N,C,H,W), dout (N,C,2H,2W)
__attribute__((target_clones("avx512f", "avx2", "default")))
int upsample2d_backward(float *dinp, const float *dout, int N, int C, int H, int W) {
    const int W2 = 2 * W;
    #pragma omp parallel for schedule(static) if ((long)N * C * H * W > 16384)
    for (long p = 0; p < (long)N * C; p++) {
        const float *g = dout + (size_t)p * 4 * H * W;
        float *d = dinp + (size_t)p * H * W;
        for (int i = 0; i < H; i++) {
            const float *r0 = g + (size_t)(2 * i) * W2, *r1 = r0 + W2;
            for (int j = 0; j < W; j++)
                d[(size_t)i * W + j] = (r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1]);
        }
    }
    return DN_OK;
}
