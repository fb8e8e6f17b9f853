/*
 * gather.c — the host twins of cuda/gather.cu and cuda/sum.cu: assembling a batch from the rows of a
 * resident data set, and the deterministic scaled sum the training loop keeps its loss in. The CPU
 * backend runs the same training loop as the GPU one, so these give the GPU kernels' results
 * exactly: gather_rows the same rows and the same NaN rows, sum_scaled the same bits.
 * Build: part of native/build/libdenoise.so, with -ffp-contract=off (see ../Makefile).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "denoise.h"

// out (B,D), inp (rows,D), idx (B)
int gather_rows(float *out, const float *inp, const float *idx, int B, int rows, int64_t D) {
    const union { uint32_t u; float f; } qnan = {0x7fc00000u};   /* the GPU kernel's NaN */
    #pragma omp parallel for schedule(static) if ((int64_t)B * D > 65536)
    for (int b = 0; b < B; b++) {
        const float f = idx[b];
        float *o = out + (size_t)b * (size_t)D;
        /* The range is checked before the conversion, which is undefined in C outside int (the GPU's
         * saturates): for an index in range the two agree. NaN fails both comparisons; -0.0 is row 0
         * on both. */
        if (f >= 0.0f && (double)f < (double)rows && (float)(int)f == f) {
            memcpy(o, inp + (size_t)(int)f * (size_t)D, sizeof(float) * (size_t)D);
        } else {
            for (int64_t j = 0; j < D; j++) o[j] = qnan.f;
        }
    }
    return DN_OK;
}

// out (1), inp (n)
int sum_scaled(float *out, const float *inp, int64_t n, float scale, int accumulate) {
    /* cuda/sum.cu's one block, replayed: "thread" t adds inp[t], inp[t + DN_THREADS], ... in double
     * in that order (walked here block by block of DN_THREADS elements, which keeps each partial's
     * order), then dn_block_sum's tree adds s[t + k] into s[t] for k = DN_THREADS/2, ..., 1. */
    double s[DN_THREADS];
    for (int t = 0; t < DN_THREADS; t++) s[t] = 0.0;
    int64_t i0 = 0;
    for (; i0 + DN_THREADS <= n; i0 += DN_THREADS)
        for (int t = 0; t < DN_THREADS; t++) s[t] += (double)inp[i0 + t];
    for (int t = 0; i0 + t < n; t++) s[t] += (double)inp[i0 + t];
    for (int k = DN_THREADS / 2; k > 0; k >>= 1)
        for (int t = 0; t < k; t++) s[t] += s[t + k];
    /* a product, then a sum, each rounded (no FMA: this file is built without contraction, and the
     * kernel spells out __dmul_rn and __dadd_rn), then one rounding to float */
    const double prev = accumulate ? (double)out[0] : 0.0;
    out[0] = (float)(prev + (double)scale * s[0]);
    return DN_OK;
}
