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
void maxpool2d_forward(float *out, const float *inp, int N, int C, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    #pragma omp parallel for schedule(static) if ((long)N * C * H * W > 65536)
    for (long p = 0; p < (long)N * C; p++) {
        const float *x = inp + (size_t)p * H * W;
        float *y = out + (size_t)p * Ho * Wo;
        for (int i = 0; i < Ho; i++) {
            const float *r0 = x + (size_t)(2 * i) * W, *r1 = r0 + W;
            for (int j = 0; j < Wo; j++) {
                /* first maximum in window order (r0[0], r0[1], r1[0], r1[1]) wins, as PyTorch */
                float m = r0[2 * j];
                if (r0[2 * j + 1] > m) m = r0[2 * j + 1];
                if (r1[2 * j] > m) m = r1[2 * j];
                if (r1[2 * j + 1] > m) m = r1[2 * j + 1];
                y[(size_t)i * Wo + j] = m;
            }
        }
    }
}

// dinp (N,C,H,W), dout (N,C,H/2,W/2), inp (N,C,H,W)
void maxpool2d_backward(float *dinp, const float *dout, const float *inp, int N, int C, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    #pragma omp parallel for schedule(static) if ((long)N * C * H * W > 65536)
    for (long p = 0; p < (long)N * C; p++) {
        const float *x = inp + (size_t)p * H * W;
        const float *g = dout + (size_t)p * Ho * Wo;
        float *d = dinp + (size_t)p * H * W;
        memset(d, 0, sizeof(float) * (size_t)H * W); /* odd last row/column get no gradient */
        for (int i = 0; i < Ho; i++) {
            for (int j = 0; j < Wo; j++) {
                size_t a = (size_t)(2 * i) * W + 2 * j, best = a;
                float m = x[a];
                if (x[a + 1] > m) { m = x[a + 1]; best = a + 1; }
                if (x[a + W] > m) { m = x[a + W]; best = a + W; }
                if (x[a + W + 1] > m) { best = a + W + 1; }
                d[best] = g[(size_t)i * Wo + j];
            }
        }
    }
}
