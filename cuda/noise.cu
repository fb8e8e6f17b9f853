/*
 * noise.cu — GPU twins of native/noise.c: Gaussian (clipped), salt-and-pepper and standard-normal
 * noise from Philox4x32-10 (philox.h: normals 2j, 2j+1 from counter (j, offset), uniforms i from
 * counter (i, offset), key seed).
 *
 * The math is native/philox.h itself, compiled here as device code, so a (seed, offset) gives the
 * CPU's exact bits: philox.h uses only __fadd_rn/__fmul_rn/__fdiv_rn/__fsqrt_rn on the device, which
 * are correctly rounded, never fused into FMAs and immune to --use_fast_math. The one product and sum
 * written here (inp + sigma * normal) go through the same DN_MUL/DN_ADD for the same reason.
 *
 * Kernels are extern "C" with the names and argument order of the C functions (pointers, n, floats,
 * seed, offset, offset_at), so the Java side looks both up by one name. offset_at, when not NULL,
 * holds the offset in device memory: a replayed CUDA graph reads each step's offset from there. Launch: any 1-D grid; each thread walks
 * the elements with a grid-stride loop, so the result does not depend on the launch shape either.
 */
#include <stdint.h>
#include "../native/philox.h"

// out, inp (n); out may alias inp.
extern "C" __global__ void noise_gaussian(float *out, const float *inp, long long n, float sigma,
                                          unsigned long long seed, unsigned long long offset,
                                          const unsigned long long *offset_at) {
    if (offset_at) offset = *offset_at;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float v = DN_ADD(inp[i], DN_MUL(sigma, philox_normal(seed, offset, (uint64_t)i)));
        out[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);  // as noise.c, not fminf/fmaxf
    }
}

// out, inp (rows, d); out may alias inp. One sigma per row (native/denoise.h), drawn again by each
// thread that needs it: a Philox block, against the element's own.
extern "C" __global__ void noise_gaussian_range(float *out, const float *inp, long long rows, long long d,
                                                float sigma_lo, float span, unsigned long long seed,
                                                unsigned long long offset, const unsigned long long *offset_at) {
    if (offset_at) offset = *offset_at;
    const long long n = rows * d;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const uint64_t r = (uint64_t)(i / d);
        const float sigma = DN_ADD(sigma_lo, DN_MUL(span, philox_uniform(seed ^ (uint64_t)DN_SIGMA_KEY, offset, r)));
        float v = DN_ADD(inp[i], DN_MUL(sigma, philox_normal(seed, offset, (uint64_t)i)));
        out[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
}

// out, inp (n); out may alias inp. u in [0,1): u < p/2 -> 0, u < p -> 1, else inp.
extern "C" __global__ void noise_salt_pepper(float *out, const float *inp, long long n, float p,
                                             unsigned long long seed, unsigned long long offset,
                                             const unsigned long long *offset_at) {
    if (offset_at) offset = *offset_at;
    float half = DN_MUL(0.5f, p);
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float u = philox_uniform(seed, offset, (uint64_t)i);
        out[i] = u < half ? 0.0f : (u < p ? 1.0f : inp[i]);
    }
}

// out (n) = standard normals.
extern "C" __global__ void noise_normal(float *out, long long n, unsigned long long seed,
                                        unsigned long long offset, const unsigned long long *offset_at) {
    if (offset_at) offset = *offset_at;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        out[i] = philox_normal(seed, offset, (uint64_t)i);
    }
}
