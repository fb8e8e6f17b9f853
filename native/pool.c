/*
 * pool.c — 2x2 max-pool, stride 2, forward and backward (NCHW).
 * Backward recomputes the argmax from the input instead of storing indices: one read of inp is
 * cheaper than writing and reading an index tensor, and it keeps the op table free of int tensors.
 * Build: part of native/build/libdenoise.so (see ../Makefile).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "denoise.h"
#include "runtime.h"

// out (N,C,H/2,W/2), inp (N,C,H,W)
__attribute__((target_clones("avx512f", "avx2", "default")))
int maxpool2d_forward(float *out, const float *inp, int N, int C, int H, int W) {
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
    return DN_OK;
}

static inline float relu_grad(float y) { return y > 0.0f ? 1.0f : 0.0f; }

/* One plane of maxpool2d_backward: d (H,W) from g (H/2,W/2) and x (H,W). With relu set, each
 * element is then multiplied by relu'(x) (x is a ReLU's output), after adding s (H,W), the
 * gradient of a skip connection that also reads x, when skip is set: d = (pooled + s) * relu'(x),
 * the operations of maxpool2d_backward, add and bias_act_backward in their order. Inlined into each
 * caller with relu and skip constants, so each gets its own loop. */
__attribute__((always_inline))
static inline void pool_backward_plane(float *d, const float *x, const float *g, const float *s,
                                       int H, int W, int relu, int skip) {
    const int Ho = H / 2, Wo = W / 2;
#define POOL_OUT(k, pooled) (skip ? ((pooled) + s[k]) * relu_grad(x[k]) : (pooled))
    /* every element of a window row pair is written (the winner gets the gradient, the rest 0);
     * an odd last row/column lies outside every window: 0, plus the skip's gradient */
    if (H & 1)
        for (size_t k = (size_t)(H - 1) * W; k < (size_t)H * W; k++) d[k] = POOL_OUT(k, 0.0f);
    for (int i = 0; i < Ho; i++) {
        const float *restrict r0 = x + (size_t)(2 * i) * W, *restrict r1 = r0 + W;
        const float *restrict gr = g + (size_t)i * Wo;
        float *restrict d0 = d + (size_t)(2 * i) * W, *restrict d1 = d0 + W;
        const size_t k0 = (size_t)(2 * i) * W, k1 = k0 + W;
        for (int j = 0; j < Wo; j++) {
            const float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], e = r1[2 * j + 1], v = gr[j];
            /* the same comparisons, in the same order, as the forward's first-maximum rule; the
             * gradient passes to the last window element that beat the running maximum */
            const float m1 = b > a ? b : a, m2 = c > m1 ? c : m1, m3 = e > m2 ? e : m2;
            /* without a skip only the winner can be non-zero, so only its relu' matters */
            float rest = relu && !skip ? (m3 > 0.0f ? v * 1.0f : v * 0.0f) : v;
            d1[2 * j + 1] = POOL_OUT(k1 + 2 * j + 1, e > m2 ? rest : 0.0f);
            rest = e > m2 ? 0.0f : rest;
            d1[2 * j] = POOL_OUT(k1 + 2 * j, c > m1 ? rest : 0.0f);
            rest = c > m1 ? 0.0f : rest;
            d0[2 * j + 1] = POOL_OUT(k0 + 2 * j + 1, b > a ? rest : 0.0f);
            d0[2 * j] = POOL_OUT(k0 + 2 * j, b > a ? 0.0f : rest);
        }
        if (W & 1) { d0[W - 1] = POOL_OUT(k0 + W - 1, 0.0f); d1[W - 1] = POOL_OUT(k1 + W - 1, 0.0f); }
    }
#undef POOL_OUT
}

// dinp (N,C,H,W), dout (N,C,H/2,W/2), inp (N,C,H,W)
__attribute__((target_clones("avx512f", "avx2", "default")))
int maxpool2d_backward(float *dinp, const float *dout, const float *inp, int N, int C, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    #pragma omp parallel for schedule(static) if ((long)N * C * H * W > 65536)
    for (long p = 0; p < (long)N * C; p++)
        pool_backward_plane(dinp + (size_t)p * H * W, inp + (size_t)p * H * W, dout + (size_t)p * Ho * Wo, NULL,
                            H, W, 0, 0);
    return DN_OK;
}

/* maxpool2d_backward followed by the ReLU backward of the layer that produced inp (inp is that
 * ReLU's output) and its bias gradient, in one pass per plane while the plane is in cache:
 * dinp = relu'(inp) * (maxpool2d_backward(dout, inp) + dskip), dskip (N,C,H,W) the gradient of a
 * skip connection from inp, or NULL for none; dbias (C) = sum over N,H,W of dinp (skipped
 * when NULL). Plane sums: element i into partial i % 8, added pairwise in a fixed order, then the
 * planes of a channel in order over n in double: the same numbers as maxpool2d_backward and then
 * bias_act_backward (ReLU), for any thread count. */
static float plane_sum8(const float *restrict g, int HW) {
    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= HW; i += 8)
        for (int l = 0; l < 8; l++) part[l] += g[i + l];
    for (int l = 0; i < HW; i++, l++) part[l] += g[i];
    return ((part[0] + part[4]) + (part[2] + part[6])) + ((part[1] + part[5]) + (part[3] + part[7]));
}

// dinp (N,C,H,W), dbias (C) or NULL, dout (N,C,H/2,W/2), inp (N,C,H,W)
__attribute__((target_clones("avx512f", "avx2", "default")))
int maxpool2d_relu_backward(float *dinp, float *dbias, const float *dout, const float *dskip,
                            const float *inp, int N, int C, int H, int W) {
    const int Ho = H / 2, Wo = W / 2, HW = H * W;
    /* a few KB, but it can be refused (and is, under the fault tests' limit) */
    const size_t sums_bytes = sizeof(float) * (size_t)N * C;
    float *sums = dbias ? dn_alloc(sums_bytes) : NULL;
    if (dbias && !sums) return dn_fail(sums_bytes);
    #pragma omp parallel for schedule(static) if ((long)N * C * H * W > 65536)
    for (long p = 0; p < (long)N * C; p++) {
        float *d = dinp + (size_t)p * HW;
        if (dskip) pool_backward_plane(d, inp + (size_t)p * HW, dout + (size_t)p * Ho * Wo, dskip + (size_t)p * HW, H, W, 1, 1);
        else pool_backward_plane(d, inp + (size_t)p * HW, dout + (size_t)p * Ho * Wo, NULL, H, W, 1, 0);
        if (sums) sums[p] = plane_sum8(d, HW);
    }
    if (!sums) return DN_OK;
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int n = 0; n < N; n++) s += sums[(size_t)n * C + c];
        dbias[c] = (float)s;
    }
    free(sums);
    return DN_OK;
}
