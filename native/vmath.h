/*
 * vmath.h — exp and log1p for float written as plain arithmetic and bit operations, so gcc
 * vectorises the loops that call them (libm's expf/log1pf are calls, and keep a loop scalar).
 * Used by the memory-bound element-wise ops (sigmoid, BCE); not by the Philox noise, whose log and
 * cos must match the GPU bit for bit (philox.h).
 *
 * dn_expf: Cephes expf (x = n ln2 + r, |r| <= ln2/2, degree-7 polynomial), max ~2 ulp on the
 *   clamped range [-87.3, 88.7]; below it returns ~1.2e-38 instead of a subnormal or zero, above it
 *   ~3.4e38 instead of +inf (the callers only form 1/(1+e) and log(1+e), where that is harmless).
 * dn_log1pf: log(1 + e) for e in [0, 1] (the BCE's log(1 + exp(-|x|))), fdlibm's log kernel on
 *   u = 1 + e with the rounding error of 1 + e added back: ~1 ulp.
 * Napkin math: ~25 vector ops per 8 (AVX2) or 16 (AVX-512) values, ~1 ns per value on one core.
 */
#ifndef DENOISE_VMATH_H
#define DENOISE_VMATH_H

#include <stdint.h>
#include <string.h>

static inline float vm_u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t vm_f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static inline float dn_expf(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
    /* n = round(x / ln2) by the 1.5 * 2^23 trick (exact for |n| < 2^22) */
    const float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = (x - fn * 0.693359375f) - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const int32_t n = (int32_t)fn;   /* in [-126, 128]: 2^n is a normal float below 128 */
    const int32_t n1 = n >> 1;       /* 2^n as 2^n1 * 2^(n-n1) so n = 128 does not overflow the exponent */
    return p * vm_u2f((uint32_t)(n1 + 127) << 23) * vm_u2f((uint32_t)(n - n1 + 127) << 23);
}

/* log(1 + e) for 0 <= e <= 1 */
static inline float dn_log1pf(float e) {
    const float u = 1.0f + e;
    const float c = (e - (u - 1.0f)) / u;          /* log(u + d) ~ log(u) + d/u, d the rounding error of 1 + e */
    const int big = u > 1.41421356f;               /* u in [1, 2]: halve above sqrt 2 */
    const float m = big ? 0.5f * u : u;
    const float k = big ? 0.69314718056f : 0.0f;
    const float f = m - 1.0f;                      /* exact (Sterbenz) */
    const float s = f / (2.0f + f);
    const float z = s * s, w = z * z;
    const float R = z * (6.6666662693e-01f + w * 2.8498786688e-01f) + w * (4.0000972152e-01f + w * 2.4279078841e-01f);
    const float hfsq = 0.5f * f * f;
    return k + (f - (hfsq - s * (hfsq + R))) + c;
}

#endif
