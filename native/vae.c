/*
 * vae.c — VAE reparameterisation z = mu + exp(logvar/2) * eps and the KL term, forward and backward.
 * eps comes from the same Philox stream as the CUDA kernel (philox.h), so a seed gives one z on both.
 * Build: part of native/build/libdenoise.so, with -ffp-contract=off like noise.c (see ../Makefile).
 */
#include <math.h>
#include <stddef.h>
#include "denoise.h"
#include "philox.h"

// z, eps, mu, logvar (n = N*L)
int reparam_forward(float *z, float *eps, const float *mu, const float *logvar, int64_t n,
                    uint64_t seed, uint64_t offset, const uint64_t *offset_at) {
    if (offset_at) offset = *offset_at;
    #pragma omp parallel for schedule(static) if (n > 16384)
    for (int64_t i = 0; i < n; i++) {
        float e = philox_normal(seed, offset, (uint64_t)i);
        eps[i] = e;
        z[i] = mu[i] + expf(0.5f * logvar[i]) * e;
    }
    return DN_OK;
}

// dmu, dlogvar, dz, logvar, eps (n)
int reparam_backward(float *dmu, float *dlogvar, const float *dz, const float *logvar, const float *eps,
                     int64_t n) {
    #pragma omp parallel for schedule(static) if (n > 16384)
    for (int64_t i = 0; i < n; i++) {
        float g = dz[i];
        dlogvar[i] = g * eps[i] * 0.5f * expf(0.5f * logvar[i]);
        dmu[i] = g;
    }
    return DN_OK;
}

// loss (N), mu, logvar (N,L)
int kl_forward(float *loss, const float *mu, const float *logvar, int N, int L) {
    for (int n = 0; n < N; n++) {
        const float *m = mu + (size_t)n * L, *lv = logvar + (size_t)n * L;
        double s = 0.0;
        for (int l = 0; l < L; l++) s += 1.0 + lv[l] - (double)m[l] * m[l] - exp((double)lv[l]);
        loss[n] = (float)(-0.5 * s);
    }
    return DN_OK;
}

// dmu, dlogvar, mu, logvar (N,L); ADDS to dmu and dlogvar
int kl_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar, int N, int L, float scale) {
    for (long i = 0; i < (long)N * L; i++) {
        dmu[i] += scale * mu[i];
        dlogvar[i] += scale * 0.5f * (expf(logvar[i]) - 1.0f);
    }
    return DN_OK;
}
