/*
 * philox.h — Philox4x32-10 counter-based random numbers and the uniform/normal draws built on them,
 * shared verbatim by the C backend (noise.c, vae.c) and the CUDA kernels (cuda/noise.cu).
 *
 * Philox4x32-10: Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11,
 * as in the Random123 library (same constants, same key schedule, same Random123 known answers).
 * A counter-based generator needs no state: element i of a tensor simply hashes its own index, so
 * any thread (CPU or GPU) can produce any element, and the result cannot depend on the thread count.
 *
 * Stream layout (the contract of denoise.h): element i of a call with (seed, offset) uses
 *     ctr = { lo32(i), hi32(i), lo32(offset), hi32(offset) },  key = { lo32(seed), hi32(seed) }
 * and one 10-round block per element. Words used:
 *     philox_uniform: word 0 -> u = (w0 >> 8) * 2^-24 in [0, 1)
 *     philox_normal : one block per PAIR of elements: elements 2j and 2j+1 use the block of
 *                     counter j (not 2j, 2j+1), words 0, 1 -> Box-Muller's two normals
 *                     element 2j = r * cos(theta), element 2j+1 = r * sin(theta), with
 *                     u1 = ((w0 >> 8) + 1) * 2^-24 in (0, 1]   (never 0, so log(u1) is finite)
 *                     u2 = (w1 >> 8) * 2^-24 in [0, 1)          theta = 2 pi u2
 *                     r  = sqrt(-2 log u1)                      (|normal| <= 5.77)
 *                     sin(theta) is cos(theta - pi/2): the 24-bit angle moved back a quarter turn,
 *                     exactly, in integers. One block, log and sqrt per two normals.
 *
 * Bit-identical CPU/GPU floats. libm and CUDA's logf/cosf differ by ulps, and so would the noise. So
 * log and cos are computed here from IEEE operations that are correctly rounded on both sides:
 * float +, -, *, / and sqrt, in a fixed order, with NO fused multiply-add. On the GPU every op goes
 * through the _rn intrinsics (__fmul_rn, __fadd_rn, ...), which nvcc never contracts into an FMA,
 * whatever -fmad / -prec-div / -prec-sqrt say (--use_fast_math only adds flush-to-zero; see
 * below). In C the ops are plain operators, so gcc must get -ffp-contract=off for every file that
 * includes this header (the Makefile does so for noise.c and vae.c): with gcc's default
 * -ffp-contract=fast an FMA-capable -march (x86-64-v3, native) fuses a*b+c and changes last bits,
 * and so does -ffast-math (both checked). clang honours the STDC pragma below.
 * Integer -> float conversions here are all exact (|values| < 2^24), so rounding modes never enter.
 *
 * Accuracy, measured against long-double libm (x86-64 glibc):
 *     dn_log_u     : max 0.83 ulp over all 2^24 possible u1 (0.81 ulp on 2e7 random floats)
 *     dn_sin_core  : max 0.81 ulp, dn_cos_core: max 0.99 ulp, over every float in [0, pi/4]
 *     dn_cos2pi_24 : max 1.95 ulp over all 2^24 possible u2 (the extra is fl(2 pi) and y * 2 pi)
 *     philox_normal: max 3.3 ulp against sqrt(-2 log u1) cos(2 pi u2) of the same u1, u2 (2^24 draws)
 * A few ulps is irrelevant for noise; CPU/GPU bit equality is what matters, and it holds because
 * both evaluate the identical sequence of correctly rounded operations.
 * No intermediate is subnormal (the smallest nonzero one is s^4 >= 2^-100 in dn_log_u), so a
 * flush-to-zero mode on either side cannot change a bit either.
 */
#ifndef DENOISE_PHILOX_H
#define DENOISE_PHILOX_H

#include <stdint.h>
#include <string.h>  // memcpy: the C bit casts between float and uint32_t

#ifdef __CUDACC__
#define DN_HD static __host__ __device__ __forceinline__
#define DN_UNROLL _Pragma("unroll")
#else
#define DN_HD static inline
#define DN_UNROLL _Pragma("GCC unroll 10")
#endif

#if defined(__clang__) && !defined(__CUDACC__)
#pragma STDC FP_CONTRACT OFF
#endif

// Correctly rounded float ops that the compiler may not fuse or reorder. Device code uses the _rn
// intrinsics (never contracted); host code relies on -ffp-contract=off (see the header comment).
#ifdef __CUDA_ARCH__
#define DN_ADD(a, b) __fadd_rn((a), (b))
#define DN_SUB(a, b) __fsub_rn((a), (b))
#define DN_MUL(a, b) __fmul_rn((a), (b))
#define DN_DIV(a, b) __fdiv_rn((a), (b))
#define DN_SQRT(a) __fsqrt_rn(a)
#else
#define DN_ADD(a, b) ((a) + (b))
#define DN_SUB(a, b) ((a) - (b))
#define DN_MUL(a, b) ((a) * (b))
#define DN_DIV(a, b) ((a) / (b))
#define DN_SQRT(a) __builtin_sqrtf(a)
#endif

// ----------------------------------------------------------------------------
// Philox4x32-10 block

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u  // golden ratio, the Weyl key increment of Random123
#define PHILOX_W1 0xBB67AE85u  // sqrt(3) - 1

DN_HD uint32_t philox_mulhi(uint32_t a, uint32_t b) {
#ifdef __CUDA_ARCH__
    return __umulhi(a, b);
#else
    return (uint32_t)(((uint64_t)a * b) >> 32);
#endif
}

// out = Philox4x32-10(ctr, key). Rounds as Random123: round r uses key + r * (W0, W1).
DN_HD void philox4x32_10_block(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    DN_UNROLL
    for (int r = 0; r < 10; r++) {
        uint32_t hi0 = philox_mulhi(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        uint32_t hi1 = philox_mulhi(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

// The block of element i of the (seed, offset) stream: the one place the stream layout is defined.
DN_HD void philox_element(uint32_t out[4], uint64_t seed, uint64_t offset, uint64_t i) {
    uint32_t ctr[4] = { (uint32_t)i, (uint32_t)(i >> 32), (uint32_t)offset, (uint32_t)(offset >> 32) };
    uint32_t key[2] = { (uint32_t)seed, (uint32_t)(seed >> 32) };
    philox4x32_10_block(out, ctr, key);
}

// ----------------------------------------------------------------------------
// uniforms from the top 24 bits of a word (24 = float's significand: every value is exact)

#define DN_2POW_M24 5.9604644775390625e-08f  // 2^-24

DN_HD float philox_u01_co(uint32_t w) { return DN_MUL((float)(w >> 8), DN_2POW_M24); }      // [0, 1)
DN_HD float philox_u01_oc(uint32_t w) { return DN_MUL((float)((w >> 8) + 1u), DN_2POW_M24); } // (0, 1]

// ----------------------------------------------------------------------------
// portable float math: only DN_ADD/SUB/MUL/DIV/SQRT, so both compilers round every step alike

DN_HD uint32_t dn_f2u(float x) {
#ifdef __CUDA_ARCH__
    return __float_as_uint(x);
#else
    uint32_t u; memcpy(&u, &x, 4); return u;
#endif
}
DN_HD float dn_u2f(uint32_t u) {
#ifdef __CUDA_ARCH__
    return __uint_as_float(u);
#else
    float x; memcpy(&x, &u, 4); return x;
#endif
}

// Natural log of a positive normal float (here u1 in [2^-24, 1]), after fdlibm's e_logf.c:
// x = 2^k * m with m in [sqrt(2)/2, sqrt(2)); f = m - 1 is exact (Sterbenz); s = f / (2 + f);
// log(m) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2)), with fdlibm's minimax R (|err| < 2^-34 rel),
// and k*ln2 split into a hi part with trailing zero bits (k * ln2_hi is exact) plus a lo part.
DN_HD float dn_log_u(float x) {
    uint32_t ix = dn_f2u(x);
    int k = (int)(ix >> 23) - 127;
    uint32_t mb = (ix & 0x007fffffu) | 0x3f800000u;   // m in [1, 2)
    if (mb > 0x3fb504f3u) { mb -= 0x00800000u; k += 1; } // m > sqrt(2): halve it
    float m = dn_u2f(mb);
    float f = DN_SUB(m, 1.0f);
    float s = DN_DIV(f, DN_ADD(2.0f, f));
    float z = DN_MUL(s, s);
    float w = DN_MUL(z, z);
    float t1 = DN_MUL(w, DN_ADD(4.0000972152e-01f, DN_MUL(w, 2.4279078841e-01f)));
    float t2 = DN_MUL(z, DN_ADD(6.6666662693e-01f, DN_MUL(w, 2.8498786688e-01f)));
    float R = DN_ADD(t2, t1);
    float hfsq = DN_MUL(DN_MUL(0.5f, f), f);
    float dk = (float)k;                                  // exact, |k| <= 128
    // log x = k ln2_hi - ((hfsq - (s (hfsq + R) + k ln2_lo)) - f)
    float t = DN_ADD(DN_MUL(s, DN_ADD(hfsq, R)), DN_MUL(dk, 9.0580006145e-06f));
    return DN_SUB(DN_MUL(dk, 6.9313812256e-01f), DN_SUB(DN_SUB(hfsq, t), f));
}

// sin and cos on [0, pi/4] (cephes sinf/cosf minimax polynomials, z = a^2).
DN_HD float dn_sin_core(float a) {
    float z = DN_MUL(a, a);
    float p = DN_ADD(DN_MUL(-1.9515295891e-4f, z), 8.3321608736e-3f);
    p = DN_SUB(DN_MUL(p, z), 1.6666654611e-1f);
    return DN_ADD(DN_MUL(DN_MUL(p, z), a), a);
}
DN_HD float dn_cos_core(float a) {
    float z = DN_MUL(a, a);
    float p = DN_SUB(DN_MUL(2.443315711809948e-5f, z), 1.388731625493765e-3f);
    p = DN_ADD(DN_MUL(p, z), 4.166664568298827e-2f);
    float y = DN_MUL(DN_MUL(p, z), z);
    y = DN_SUB(y, DN_MUL(0.5f, z));
    return DN_ADD(y, 1.0f);
}

// cos(2 pi k / 2^24) for a 24-bit integer k. Reducing in integer "turns" is exact: octant o = k >> 21,
// and the angle left over is y or (1/8 - y) turns, i.e. a in [0, pi/4] with a's only error the one
// rounding of y * 2pi. Odd octants reflect (use 1/8 - y) so the core argument never exceeds pi/4.
DN_HD float dn_cos2pi_24(uint32_t k) {
    uint32_t o = k >> 21;
    uint32_t r = k & 0x1fffffu;
    if (o & 1u) r = 0x200000u - r;                    // 1/8 turn - y, in (0, 1/8]
    float a = DN_MUL(DN_MUL((float)r, DN_2POW_M24), 6.28318530717958647692f);
    // octant -> cos(2 pi u):  0 cos a, 1 sin a', 2 -sin a, 3 -cos a', 4 -cos a, 5 -sin a', 6 sin a, 7 cos a'
    float v = (((o + 1u) >> 1) & 1u) ? dn_sin_core(a) : dn_cos_core(a);
    return ((o + 2u) & 4u) ? -v : v;
}

// ----------------------------------------------------------------------------
// the draws of element i

// Uniform in [0, 1) from word 0.
DN_HD float philox_uniform(uint64_t seed, uint64_t offset, uint64_t i) {
    uint32_t w[4];
    philox_element(w, seed, offset, i);
    return philox_u01_co(w[0]);
}

// Standard normal, Box-Muller on words 0 and 1 of block i/2: the cos branch for even i, sin for odd.
DN_HD float philox_normal(uint64_t seed, uint64_t offset, uint64_t i) {
    uint32_t w[4];
    philox_element(w, seed, offset, i >> 1);
    float u1 = philox_u01_oc(w[0]);
    float r = DN_SQRT(DN_MUL(-2.0f, dn_log_u(u1)));  // -2 * log is exact; u1 = 1 gives r = 0
    uint32_t k = w[1] >> 8;
    if (i & 1u) k = (k + 0xC00000u) & 0xFFFFFFu;     // sin(2 pi u) = cos(2 pi (u - 1/4)), 2^24 turns
    return DN_MUL(r, dn_cos2pi_24(k));
}

#endif // DENOISE_PHILOX_H
