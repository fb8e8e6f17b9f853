/*
 * loss.c — fused sigmoid + binary cross-entropy, mean squared error and PSNR, per image.
 * Per-image losses are summed in double inside one thread, so the batch loss that Java forms from
 * them has the same bits for any thread count.
 * Build: part of native/build/libdenoise.so (see ../Makefile).
 */
#include <math.h>
#include <stddef.h>
#include "denoise.h"
#include "vmath.h"

/* Terms of one image in blocks of BCE_BLK floats (vectorised), then summed in double in a fixed
 * order: 8 running partial sums (element d goes to partial d % 8), added up 0..7 at the end. */
#define BCE_BLK 256

/* term = log(1+e^x) - x t, written so neither exp overflows nor log loses small terms */
static inline __attribute__((always_inline))
void bce_terms(float *restrict term, const float *restrict x, const float *restrict t, int len) {
    for (int d = 0; d < len; d++) {
        const float v = x[d];
        term[d] = ((v > 0.0f ? v : 0.0f) - v * t[d]) + dn_log1pf(dn_expf(-fabsf(v)));
    }
}

// loss (N), logits (N,D), target (N,D)
__attribute__((target_clones("avx512f", "avx2", "default")))
int sigmoid_bce_forward(float *loss, const float *logits, const float *target, int N, int D) {
    #pragma omp parallel for schedule(static) if ((long)N * D > 16384)
    for (int n = 0; n < N; n++) {
        const float *x = logits + (size_t)n * D, *t = target + (size_t)n * D;
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        float term[BCE_BLK];
        for (int d0 = 0; d0 < D; d0 += BCE_BLK) {
            const int len = D - d0 < BCE_BLK ? D - d0 : BCE_BLK;
            bce_terms(term, x + d0, t + d0, len);
            int d = 0;
            for (; d + 8 <= len; d += 8)
                for (int j = 0; j < 8; j++) acc[j] += (double)term[d + j];
            for (; d < len; d++) acc[(d0 + d) & 7] += (double)term[d];   /* only the image's last block is ragged */
        }
        double s = 0.0;
        for (int j = 0; j < 8; j++) s += acc[j];
        loss[n] = (float)s;
    }
    return DN_OK;
}

// dlogits, logits, target (N,D)
__attribute__((target_clones("avx512f", "avx2", "default")))
int sigmoid_bce_backward(float *dlogits, const float *logits, const float *target, int N, int D, float scale) {
    #pragma omp parallel for schedule(static) if ((long)N * D > 16384)
    for (long i = 0; i < (long)N * D; i++)
        dlogits[i] = scale * (1.0f / (1.0f + dn_expf(-logits[i])) - target[i]);
    return DN_OK;
}

// loss (N), pred, target (N,D)
int mse_forward(float *loss, const float *pred, const float *target, int N, int D) {
    #pragma omp parallel for schedule(static) if ((long)N * D > 16384)
    for (int n = 0; n < N; n++) {
        const float *p = pred + (size_t)n * D, *t = target + (size_t)n * D;
        double s = 0.0;
        for (int d = 0; d < D; d++) { double e = (double)p[d] - t[d]; s += e * e; }
        loss[n] = (float)(s / D);
    }
    return DN_OK;
}

// dpred, pred, target (N,D)
int mse_backward(float *dpred, const float *pred, const float *target, int N, int D, float scale) {
    const float s2 = 2.0f * scale;
    #pragma omp parallel for schedule(static) if ((long)N * D > 16384)
    for (long i = 0; i < (long)N * D; i++) dpred[i] = s2 * (pred[i] - target[i]);
    return DN_OK;
}

// psnr (N), pred, target (N,D); MAX = 1, an exact match reports 100 dB instead of +inf
int psnr_forward(float *psnr, const float *pred, const float *target, int N, int D) {
    #pragma omp parallel for schedule(static) if ((long)N * D > 16384)
    for (int n = 0; n < N; n++) {
        const float *p = pred + (size_t)n * D, *t = target + (size_t)n * D;
        double s = 0.0;
        for (int d = 0; d < D; d++) { double e = (double)p[d] - t[d]; s += e * e; }
        double mse = s / D;
        psnr[n] = mse > 1e-10 ? (float)(-10.0 * log10(mse)) : 100.0f;
    }
    return DN_OK;
}
