/*
 * bias_act.c — bias + activation (identity, ReLU, sigmoid), forward and backward.
 * Memory-bound: forward reads and writes N*C*HW floats once; backward reads two, writes one.
 * Build: part of native/build/libdenoise.so (see ../Makefile).
 */
#include <math.h>
#include <stddef.h>
#include "denoise.h"

static inline float activate(float x, int act) {
    if (act == DN_ACT_RELU) return x > 0.0f ? x : 0.0f;
    if (act == DN_ACT_SIGMOID) return 1.0f / (1.0f + expf(-x));
    return x;
}

/* The derivative from the OUTPUT y, so the forward need not keep its input. */
static inline float activate_grad(float y, int act) {
    if (act == DN_ACT_RELU) return y > 0.0f ? 1.0f : 0.0f;
    if (act == DN_ACT_SIGMOID) return y * (1.0f - y);
    return 1.0f;
}

// out, inp (N,C,HW); bias (C) or NULL
__attribute__((target_clones("avx512f", "avx2", "default")))
void bias_act_forward(float *out, const float *inp, const float *bias, int N, int C, int HW, int act) {
    #pragma omp parallel for collapse(2) schedule(static) if ((long)N * C * HW > 32768)
    for (int n = 0; n < N; n++) {
        for (int c = 0; c < C; c++) {
            const float b = bias ? bias[c] : 0.0f;
            const float *x = inp + ((size_t)n * C + c) * HW;
            float *y = out + ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) y[i] = activate(x[i] + b, act);
        }
    }
}

// dinp, dout, out (N,C,HW); dbias (C) or NULL
__attribute__((target_clones("avx512f", "avx2", "default")))
void bias_act_backward(float *dinp, float *dbias, const float *dout, const float *out,
                       int N, int C, int HW, int act) {
    #pragma omp parallel for collapse(2) schedule(static) if ((long)N * C * HW > 32768)
    for (int n = 0; n < N; n++) {
        for (int c = 0; c < C; c++) {
            size_t base = ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) dinp[base + i] = dout[base + i] * activate_grad(out[base + i], act);
        }
    }
    if (!dbias) return;
    /* Split over channels, sum over n in order: the same bits for any thread count. */
    #pragma omp parallel for schedule(static) if ((long)N * C * HW > 32768)
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int n = 0; n < N; n++) {
            const float *g = dinp + ((size_t)n * C + c) * HW;
            float t = 0.0f;
            for (int i = 0; i < HW; i++) t += g[i];
            s += t;
        }
        dbias[c] = (float)s;
    }
}
