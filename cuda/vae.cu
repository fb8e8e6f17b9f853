/*
 * vae.cu — GPU twins of native/vae.c: reparameterisation z = mu + exp(logvar/2) eps and the KL term.
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile and common.cuh for launch rules).
 *
 * eps is philox_normal of native/philox.h compiled as device code: the CPU's exact bits for a (seed,
 * offset). The products and sums vae.c writes (compiled there with -ffp-contract=off) go through
 * DN_MUL/DN_ADD (__fmul_rn/__fadd_rn, never fused into an FMA) so only expf's last ulp may differ.
 * Element-wise kernels move 4-5 floats per latent value; with N x L = 64 x 32 launch time dominates.
 */
#include <stdint.h>
#include "common.cuh"
#include "../native/philox.h"

// z, eps, mu, logvar (n = N*L).
extern "C" __global__ void reparam_forward(float *z, float *eps, const float *mu, const float *logvar,
                                           long long n, unsigned long long seed, unsigned long long offset,
                                           const unsigned long long *offset_at) {
    if (offset_at) offset = *offset_at;
    DN_GRID_STRIDE(i, n) {
        float e = philox_normal(seed, offset, (uint64_t)i);
        eps[i] = e;
        z[i] = DN_ADD(mu[i], DN_MUL(expf(DN_MUL(0.5f, logvar[i])), e));
    }
}

// dmu, dlogvar, dz, logvar, eps (n). dmu may alias dz (dz is read first).
extern "C" __global__ void reparam_backward(float *dmu, float *dlogvar, const float *dz, const float *logvar,
                                            const float *eps, long long n) {
    DN_GRID_STRIDE(i, n) {
        float g = dz[i];
        dlogvar[i] = DN_MUL(DN_MUL(DN_MUL(g, eps[i]), 0.5f), expf(DN_MUL(0.5f, logvar[i])));
        dmu[i] = g;
    }
}

// loss (N), mu, logvar (N,L): loss[n] = -0.5 sum_l (1 + logvar - mu^2 - exp(logvar)), in double as
// vae.c. Grid: N blocks of DN_THREADS threads.
extern "C" __global__ void __launch_bounds__(DN_THREADS)
kl_forward(float *loss, const float *mu, const float *logvar, int N, int L) {
    const float *m = mu + (long long)blockIdx.x * L, *lv = logvar + (long long)blockIdx.x * L;
    double s = 0.0;
    for (int l = threadIdx.x; l < L; l += DN_THREADS) {
        s += 1.0 + lv[l] - (double)m[l] * m[l] - exp((double)lv[l]);
    }
    s = dn_block_sum(s);
    if (threadIdx.x == 0) loss[blockIdx.x] = (float)(-0.5 * s);
}

// dmu, dlogvar, mu, logvar (N,L). ADDS scale * mu to dmu and scale * 0.5 (exp(logvar) - 1) to dlogvar.
extern "C" __global__ void kl_backward(float *dmu, float *dlogvar, const float *mu, const float *logvar,
                                       int N, int L, float scale) {
    DN_GRID_STRIDE(i, (long long)N * L) {
        dmu[i] = DN_ADD(dmu[i], DN_MUL(scale, mu[i]));
        dlogvar[i] = DN_ADD(dlogvar[i], DN_MUL(DN_MUL(scale, 0.5f), DN_SUB(expf(logvar[i]), 1.0f)));
    }
}
