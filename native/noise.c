/*
 * noise.c — the corruption half of a denoising autoencoder: additive Gaussian noise (clipped to the
 * [0,1] pixel range), salt-and-pepper noise, plain standard normals, and the raw Philox block for
 * known-answer tests.
 *
 * Elements 2j and 2j+1 share Philox4x32-10 block (counter (j, offset), key seed; philox.h), so
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

/* ------------------------------------------------------------------------------------------------
 * AVX2 path: eight elements at a time, the same operations as philox.h lane by lane, so the same bits.
 * Philox's 32x32->64 products come from two _mm256_mul_epu32 (even and odd lanes); the float steps
 * are single correctly rounded vector ops (add, sub, mul, div, sqrt), never fused: this file is
 * compiled with -ffp-contract=off, which also keeps gcc from fusing the intrinsics. Integer -> float
 * conversions are exact (values < 2^24 + 1), as in the scalar code.
 * Napkin math: ~250 vector ops per 16 normals (one Philox block, log and sqrt per pair), ~1 ns per
 * normal per core, against ~30 ns scalar.
 * ------------------------------------------------------------------------------------------------ */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NOISE_AVX2 1
#define AVX2_ATTR __attribute__((target("avx2,fma")))  /* fma only for the target; contraction is off */

// (hi, lo) of a * m for 8 unsigned 32-bit lanes
AVX2_ATTR static inline void mul_hilo_avx2(__m256i a, __m256i m, __m256i *hi, __m256i *lo) {
    __m256i pe = _mm256_mul_epu32(a, m);                          // lanes 0,2,4,6 -> 64-bit
    __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);   // lanes 1,3,5,7
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
    *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
}

// words 0 and 1 of the Philox blocks j0 .. j0+7 (philox_element, lane by lane)
AVX2_ATTR static inline void philox_w01_avx2(uint64_t seed, uint64_t offset, uint64_t j0, __m256i *w0, __m256i *w1) {
    uint32_t lo[8], hi[8];
    for (int l = 0; l < 8; l++) { uint64_t j = j0 + (uint64_t)l; lo[l] = (uint32_t)j; hi[l] = (uint32_t)(j >> 32); }
    __m256i c0 = _mm256_loadu_si256((const __m256i *)lo), c1 = _mm256_loadu_si256((const __m256i *)hi);
    __m256i c2 = _mm256_set1_epi32((int)(uint32_t)offset), c3 = _mm256_set1_epi32((int)(uint32_t)(offset >> 32));
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
    for (int r = 0; r < 10; r++) {
        __m256i hi0, lo0, hi1, lo1;
        mul_hilo_avx2(c0, m0, &hi0, &lo0);
        mul_hilo_avx2(c2, m1, &hi1, &lo1);
        c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)k0));
        c1 = lo1;
        c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)k1));
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    *w0 = c0;
    *w1 = c1;
}

// dn_log_u, lane by lane
AVX2_ATTR static inline __m256 log_u_avx2(__m256 x) {
    __m256i ix = _mm256_castps_si256(x);
    __m256i k = _mm256_sub_epi32(_mm256_srli_epi32(ix, 23), _mm256_set1_epi32(127));
    __m256i mb = _mm256_or_si256(_mm256_and_si256(ix, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f800000));
    __m256i big = _mm256_cmpgt_epi32(mb, _mm256_set1_epi32(0x3fb504f3));  // all values < 2^31: signed is fine
    mb = _mm256_sub_epi32(mb, _mm256_and_si256(big, _mm256_set1_epi32(0x00800000)));
    k = _mm256_sub_epi32(k, big);                                        // big is -1 where set
    __m256 m = _mm256_castsi256_ps(mb);
    __m256 f = _mm256_sub_ps(m, _mm256_set1_ps(1.0f));
    __m256 s = _mm256_div_ps(f, _mm256_add_ps(_mm256_set1_ps(2.0f), f));
    __m256 z = _mm256_mul_ps(s, s);
    __m256 w = _mm256_mul_ps(z, z);
    __m256 t1 = _mm256_mul_ps(w, _mm256_add_ps(_mm256_set1_ps(4.0000972152e-01f), _mm256_mul_ps(w, _mm256_set1_ps(2.4279078841e-01f))));
    __m256 t2 = _mm256_mul_ps(z, _mm256_add_ps(_mm256_set1_ps(6.6666662693e-01f), _mm256_mul_ps(w, _mm256_set1_ps(2.8498786688e-01f))));
    __m256 R = _mm256_add_ps(t2, t1);
    __m256 hfsq = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), f), f);
    __m256 dk = _mm256_cvtepi32_ps(k);
    __m256 t = _mm256_add_ps(_mm256_mul_ps(s, _mm256_add_ps(hfsq, R)), _mm256_mul_ps(dk, _mm256_set1_ps(9.0580006145e-06f)));
    return _mm256_sub_ps(_mm256_mul_ps(dk, _mm256_set1_ps(6.9313812256e-01f)), _mm256_sub_ps(_mm256_sub_ps(hfsq, t), f));
}

// dn_cos2pi_24 of the 24-bit integers k and of k moved back a quarter turn (= sin), lane by lane.
// The quarter turn adds 6 to the octant and keeps the low 21 bits, so both share one core angle a.
AVX2_ATTR static inline void cos_sin_2pi_24_avx2(__m256i k, __m256 *cos_out, __m256 *sin_out) {
    const __m256i one = _mm256_set1_epi32(1), seven = _mm256_set1_epi32(7);
    __m256i o = _mm256_srli_epi32(k, 21);
    __m256i r = _mm256_and_si256(k, _mm256_set1_epi32(0x1fffff));
    __m256i odd = _mm256_cmpeq_epi32(_mm256_and_si256(o, one), one);
    r = _mm256_blendv_epi8(r, _mm256_sub_epi32(_mm256_set1_epi32(0x200000), r), odd);
    __m256 a = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(r), _mm256_set1_ps(DN_2POW_M24)),
                             _mm256_set1_ps(6.28318530717958647692f));
    __m256 z = _mm256_mul_ps(a, a);
    // dn_sin_core
    __m256 ps = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(-1.9515295891e-4f), z), _mm256_set1_ps(8.3321608736e-3f));
    ps = _mm256_sub_ps(_mm256_mul_ps(ps, z), _mm256_set1_ps(1.6666654611e-1f));
    __m256 sn = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(ps, z), a), a);
    // dn_cos_core
    __m256 pc = _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(2.443315711809948e-5f), z), _mm256_set1_ps(1.388731625493765e-3f));
    pc = _mm256_add_ps(_mm256_mul_ps(pc, z), _mm256_set1_ps(4.166664568298827e-2f));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(pc, z), z);
    y = _mm256_sub_ps(y, _mm256_mul_ps(_mm256_set1_ps(0.5f), z));
    __m256 cs = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
    for (int q = 0; q < 2; q++) {
        __m256i oq = q == 0 ? o : _mm256_and_si256(_mm256_add_epi32(o, _mm256_set1_epi32(6)), seven);
        // octant -> core and sign, as dn_cos2pi_24
        __m256i use_sin = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_srli_epi32(_mm256_add_epi32(oq, one), 1), one), one);
        __m256 v = _mm256_blendv_ps(cs, sn, _mm256_castsi256_ps(use_sin));
        __m256i neg = _mm256_slli_epi32(_mm256_and_si256(_mm256_add_epi32(oq, _mm256_set1_epi32(2)), _mm256_set1_epi32(4)), 29);
        v = _mm256_xor_ps(v, _mm256_castsi256_ps(neg));             // bit 2 -> the sign bit
        if (q == 0) *cos_out = v; else *sin_out = v;
    }
}

// philox_normal of elements 2 j0 .. 2 j0 + 15, in order, from blocks j0 .. j0+7
AVX2_ATTR static inline void normal16_avx2(uint64_t seed, uint64_t offset, uint64_t j0, __m256 *lo, __m256 *hi) {
    __m256i w0, w1;
    philox_w01_avx2(seed, offset, j0, &w0, &w1);
    __m256 u1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_srli_epi32(w0, 8), _mm256_set1_epi32(1))),
                              _mm256_set1_ps(DN_2POW_M24));
    __m256 r = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), log_u_avx2(u1)));
    __m256 c, s;
    cos_sin_2pi_24_avx2(_mm256_srli_epi32(w1, 8), &c, &s);
    __m256 e = _mm256_mul_ps(r, c), o = _mm256_mul_ps(r, s);        // elements 2j, 2j+1
    __m256 t0 = _mm256_unpacklo_ps(e, o), t1 = _mm256_unpackhi_ps(e, o);
    *lo = _mm256_permute2f128_ps(t0, t1, 0x20);
    *hi = _mm256_permute2f128_ps(t0, t1, 0x31);
}

AVX2_ATTR static inline __m256 clamp01_avx2(__m256 v) {
    v = _mm256_blendv_ps(v, _mm256_setzero_ps(), _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
    return _mm256_blendv_ps(v, _mm256_set1_ps(1.0f), _mm256_cmp_ps(v, _mm256_set1_ps(1.0f), _CMP_GT_OQ));
}

AVX2_ATTR static void noise_gaussian_avx2(float *out, const float *inp, int64_t n, float sigma, uint64_t seed, uint64_t offset) {
    const int64_t nb = n / 16;
    #pragma omp parallel for schedule(static) if (n > NOISE_PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t i = b * 16;
        const __m256 vs = _mm256_set1_ps(sigma);
        __m256 lo, hi;
        normal16_avx2(seed, offset, (uint64_t)(b * 8), &lo, &hi);
        lo = clamp01_avx2(_mm256_add_ps(_mm256_loadu_ps(inp + i), _mm256_mul_ps(vs, lo)));
        hi = clamp01_avx2(_mm256_add_ps(_mm256_loadu_ps(inp + i + 8), _mm256_mul_ps(vs, hi)));
        _mm256_storeu_ps(out + i, lo);
        _mm256_storeu_ps(out + i + 8, hi);
    }
    for (int64_t i = nb * 16; i < n; i++) {
        float v = DN_ADD(inp[i], DN_MUL(sigma, philox_normal(seed, offset, (uint64_t)i)));
        out[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
}

// blocks of 16 elements whose first normal pair is Philox block j0 (noise_gaussian_range's rows)
AVX2_ATTR static void gaussian_blocks_avx2(float *out, const float *inp, int64_t blocks, float sigma, uint64_t seed,
                                           uint64_t offset, uint64_t j0) {
    const __m256 vs = _mm256_set1_ps(sigma);
    for (int64_t b = 0; b < blocks; b++) {
        __m256 lo, hi;
        normal16_avx2(seed, offset, j0 + (uint64_t)(b * 8), &lo, &hi);
        lo = clamp01_avx2(_mm256_add_ps(_mm256_loadu_ps(inp + b * 16), _mm256_mul_ps(vs, lo)));
        hi = clamp01_avx2(_mm256_add_ps(_mm256_loadu_ps(inp + b * 16 + 8), _mm256_mul_ps(vs, hi)));
        _mm256_storeu_ps(out + b * 16, lo);
        _mm256_storeu_ps(out + b * 16 + 8, hi);
    }
}

AVX2_ATTR static void noise_normal_avx2(float *out, int64_t n, uint64_t seed, uint64_t offset) {
    const int64_t nb = n / 16;
    #pragma omp parallel for schedule(static) if (n > NOISE_PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        __m256 lo, hi;
        normal16_avx2(seed, offset, (uint64_t)(b * 8), &lo, &hi);
        _mm256_storeu_ps(out + b * 16, lo);
        _mm256_storeu_ps(out + b * 16 + 8, hi);
    }
    for (int64_t i = nb * 16; i < n; i++) out[i] = philox_normal(seed, offset, (uint64_t)i);
}

static int have_avx2(void) {
    static int cached = -1;  // racing first callers store the same value
    int c = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (c < 0) {
        __builtin_cpu_init();
        c = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        __atomic_store_n(&cached, c, __ATOMIC_RELAXED);
    }
    return c;
}
#else
#define NOISE_AVX2 0
static int have_avx2(void) { return 0; }
#endif

// out, inp (n); out may alias inp: each element is read once, then written.
int noise_gaussian(float *out, const float *inp, int64_t n, float sigma, uint64_t seed, uint64_t offset,
                   const uint64_t *offset_at) {
    if (offset_at) offset = *offset_at;
#if NOISE_AVX2
    if (have_avx2()) { noise_gaussian_avx2(out, inp, n, sigma, seed, offset); return DN_OK; }
#endif
    #pragma omp parallel for schedule(static) if (n > NOISE_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float v = DN_ADD(inp[i], DN_MUL(sigma, philox_normal(seed, offset, (uint64_t)i)));
        // comparisons rather than fminf/fmaxf so the NaN/zero handling is spelled out the same as on the GPU
        out[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    return DN_OK;
}

// out, inp (rows, d); out may alias inp. See denoise.h: one sigma per row, normals as noise_gaussian's.
int noise_gaussian_range(float *out, const float *inp, int64_t rows, int64_t d, float sigma_lo, float span,
                         uint64_t seed, uint64_t offset, const uint64_t *offset_at) {
    if (offset_at) offset = *offset_at;
    #pragma omp parallel for schedule(static) if (rows > 1 && rows * d > NOISE_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float sigma = DN_ADD(sigma_lo, DN_MUL(span, philox_uniform(seed ^ (uint64_t)DN_SIGMA_KEY, offset, (uint64_t)r)));
        int64_t i = r * d;
        const int64_t end = i + d;
#if NOISE_AVX2
        if (have_avx2()) {
            /* whole 16-element blocks of the global index take the vector path, as in noise_gaussian */
            for (; i < end && (i & 15); i++) {
                float v = DN_ADD(inp[i], DN_MUL(sigma, philox_normal(seed, offset, (uint64_t)i)));
                out[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
            }
            const int64_t blocks = (end - i) / 16;
            gaussian_blocks_avx2(out + i, inp + i, blocks, sigma, seed, offset, (uint64_t)(i / 2));
            i += blocks * 16;
        }
#endif
        for (; i < end; i++) {
            float v = DN_ADD(inp[i], DN_MUL(sigma, philox_normal(seed, offset, (uint64_t)i)));
            out[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
        }
    }
    return DN_OK;
}

// out, inp (n); out may alias inp. u in [0,1): u < p/2 -> 0 (pepper), u < p -> 1 (salt), else inp.
int noise_salt_pepper(float *out, const float *inp, int64_t n, float p, uint64_t seed, uint64_t offset,
                      const uint64_t *offset_at) {
    if (offset_at) offset = *offset_at;
    float half = DN_MUL(0.5f, p);  // exact
    #pragma omp parallel for schedule(static) if (n > NOISE_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float u = philox_uniform(seed, offset, (uint64_t)i);
        out[i] = u < half ? 0.0f : (u < p ? 1.0f : inp[i]);
    }
    return DN_OK;
}

// out (n) = standard normals (the same numbers as reparam_forward's eps for equal seed/offset).
int noise_normal(float *out, int64_t n, uint64_t seed, uint64_t offset, const uint64_t *offset_at) {
    if (offset_at) offset = *offset_at;
#if NOISE_AVX2
    if (have_avx2()) { noise_normal_avx2(out, n, seed, offset); return DN_OK; }
#endif
    #pragma omp parallel for schedule(static) if (n > NOISE_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        out[i] = philox_normal(seed, offset, (uint64_t)i);
    }
    return DN_OK;
}

// out (4) = Philox4x32-10(ctr (4), key (2)), for the known-answer tests of the Java suite.
void philox4x32_10(uint32_t *out, const uint32_t *ctr, const uint32_t *key) {
    philox4x32_10_block(out, ctr, key);
}
