/*
 * noise.c — the corruption half of a denoising autoencoder: additive Gaussian noise (clipped to the
 * [0,1] pixel range), salt-and-pepper noise, plain standard normals, and the raw Philox block for
 * known-answer tests.
 *
 * Every element draws from its own Philox4x32-10 block (counter (i, offset), key seed; philox.h), so
 * the output is a pure function of (seed, offset, i): independent of the thread count and of how
 * the loop is split, and bit-identical to the CUDA kernels of the same names in cuda/noise.cu.
 * That bit equality needs this file compiled with -ffp-contract=off (see philox.h and ../Makefile):
 * the sigma * normal + inp below must round twice, as __fmul_rn/__fadd_rn do on the GPU.
 *
 * Checked once outside the build: the Random123 kat_vectors for philox4x32-10 match; the float log/cos
 * of philox.h are within 2 ulp of libm over all their inputs; 1e6 normals have the mean, std, tails
 * and clip rates of N(0,1); outputs are identical for 1..64 OpenMP threads and with out == inp.
 * The JUnit suite keeps the known answers and the CPU/GPU parity check.
 */
#include <stdint.h>
#include "denoise.h"
#include "philox.h"

// Below this many elements the OpenMP fork/join costs more than the work (a Philox block is ~100 ops).
#define NOISE_PAR_MIN 16384

// out, inp (n); out may alias inp: each element is read once, then written.
void noise_gaussian(float *out, const float *inp, int64_t n, float sigma, uint64_t seed, uint64_t offset) {
    #pragma omp parallel for schedule(static) if (n > NOISE_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float v = DN_ADD(inp[i], DN_MUL(sigma, philox_normal(seed, offset, (uint64_t)i)));
        // comparisons rather than fminf/fmaxf so the NaN/zero handling is spelled out the same as on the GPU
        out[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
}

// out, inp (n); out may alias inp. u in [0,1): u < p/2 -> 0 (pepper), u < p -> 1 (salt), else inp.
void noise_salt_pepper(float *out, const float *inp, int64_t n, float p, uint64_t seed, uint64_t offset) {
    float half = DN_MUL(0.5f, p);  // exact
    #pragma omp parallel for schedule(static) if (n > NOISE_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float u = philox_uniform(seed, offset, (uint64_t)i);
        out[i] = u < half ? 0.0f : (u < p ? 1.0f : inp[i]);
    }
}

// out (n) = standard normals (the same numbers as reparam_forward's eps for equal seed/offset).
void noise_normal(float *out, int64_t n, uint64_t seed, uint64_t offset) {
    #pragma omp parallel for schedule(static) if (n > NOISE_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        out[i] = philox_normal(seed, offset, (uint64_t)i);
    }
}

// out (4) = Philox4x32-10(ctr (4), key (2)), for the known-answer tests of the Java suite.
void philox4x32_10(uint32_t *out, const uint32_t *ctr, const uint32_t *key) {
    philox4x32_10_block(out, ctr, key);
}
