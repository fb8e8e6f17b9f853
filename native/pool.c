/*
 * pool.c — 2x2 max-pool, stride 2, forward and backward (NCHW).
 * Backward recomputes the argmax from the input instead of storing indices: one read of inp is
 * cheaper than writing and reading an index tensor, and it keeps the op table free of int tensors.
 * Build: part of native/build/libdenoise.so (see ../Makefile).
 */
#include <stddef.h>
#include <string.h>
#include "denoise.h"

// out (N,C,H/2,W/2), inp (N,C,H,W)
__attribute__((target_clones("avx512f", "avx2", "default")))
void maxpool2d_forward(float *out, const float *inp, int N, int C, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    #pragma omp parallel for schedule(static) if ((long)N * C * H * W > 65536)
    for (long p = 0; p < (long)N * C; p++) {
        const float *x = inp + (size_t)p * H * W;
        float *y = out + (size_t)p * Ho * Wo;
        for (int i = 0; i < Ho; i++) {
            const float *restrict r0 = x + (size_t)(2 * i) * W, *restrict r1 = r0 + W;
            float *restrict yr = y + (size_t)i * Wo;
            for (int j = 0; j < Wo; j++) {
                /* first maximum in window order (r0[0], r0[1], r1[0], r1[1]) wins, as PyTorch;
                 * selects rather than branches, so the row vectorises */
                float m = r0[2 * j];
                m = r0[2 * j + 1] > m ? r0[2 * j + 1] : m;
                m = r1[2 * j] > m ? r1[2 * j] : m;
                m = r1[2 * j + 1] > m ? r1[2 * j + 1] : m;
                yr[j] = m;
            }
        }
    }
}

// dinp (N,C,H,W), dout (N,C,H/2,W/2), inp (N,C,H,W)
__attribute__((target_clones("avx512f", "avx2", "default")))
void maxpool2d_backward(float *dinp, const float *dout, const float *inp, int N, int C, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    #pragma omp parallel for schedule(static) if ((long)N * C * H * W > 65536)
    for (long p = 0; p < (long)N * C; p++) {
        const float *x = inp + (size_t)p * H * W;
        const float *g = dout + (size_t)p * Ho * Wo;
        float *d = dinp + (size_t)p * H * W;
        /* every element of a window row pair is written (the winner gets the gradient, the rest 0);
         * only an odd last row/column, outside every window, needs clearing */
        if (H & 1) memset(d + (size_t)(H - 1) * W, 0, sizeof(float) * (size_t)W);
        for (int i = 0; i < Ho; i++) {
            const float *restrict r0 = x + (size_t)(2 * i) * W, *restrict r1 = r0 + W;
            const float *restrict gr = g + (size_t)i * Wo;
            float *restrict d0 = d + (size_t)(2 * i) * W, *restrict d1 = d0 + W;
            for (int j = 0; j < Wo; j++) {
                const float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], e = r1[2 * j + 1], v = gr[j];
                /* the same comparisons, in the same order, as the forward's first-maximum rule; the
                 * gradient passes to the last window element that beat the running maximum */
                const float m1 = b > a ? b : a, m2 = c > m1 ? c : m1;
                float rest = v;
                d1[2 * j + 1] = e > m2 ? rest : 0.0f;
                rest = e > m2 ? 0.0f : rest;
                d1[2 * j] = c > m1 ? rest : 0.0f;
                rest = c > m1 ? 0.0f : rest;
                d0[2 * j + 1] = b > a ? rest : 0.0f;
                d0[2 * j] = b > a ? 0.0f : rest;
            }
            if (W & 1) { d0[W - 1] = 0.0f; d1[W - 1] = 0.0f; }
        }
    }
}
