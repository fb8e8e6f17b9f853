/*
 * denoise_abi.h — the constants that C (native/), CUDA (cuda/) and Java share, in one place.
 *
 * Included by native/denoise.h and cuda/common.cuh. Java keeps its copies in
 * dev.denoise.backend.Abi, and AbiHeaderTest parses this file and fails when a copy differs, so
 * every line below that defines a DN_ or DENOISE_ name is `#define NAME <decimal integer>` and
 * nothing else (the test reads no expressions).
 */
#ifndef DENOISE_ABI_H
#define DENOISE_ABI_H

/* Bumped whenever a signature of denoise.h changes; Java refuses a library of another version. */
#define DENOISE_ABI_VERSION 3

/* Status of every op of denoise.h (and of the helpers that can fail). */
#define DN_OK 0
#define DN_ERR_NOMEM 1 /* scratch could not be allocated: runtime_error_bytes() says how much */

/* Activation codes (the enum dev.denoise.backend.Activation). */
#define DN_ACT_IDENTITY 0
#define DN_ACT_RELU 1
#define DN_ACT_SIGMOID 2
#define DN_ACT_CLAMP01 3 /* min(max(x, 0), 1): a residual model's image */

/* Bits of runtime_cpu_features(). */
#define DN_CPU_SSE42 1
#define DN_CPU_AVX2_FMA 2
#define DN_CPU_AVX512F 4
#define DN_CPU_AVX512BW_VL 8

/* Instruction-set levels of runtime_set_isa() and runtime_isa(). */
#define DN_ISA_GENERIC 0
#define DN_ISA_AVX2 1
#define DN_ISA_AVX512 2

/* Convolution algorithms of runtime_set_conv_algo(): the fastest that fits each call, or direct only. */
#define DN_CONV_AUTO 0
#define DN_CONV_DIRECT 1

/* Key (xored into the seed) of the Philox stream that draws noise_gaussian_range's per-row sigma. */
#define DN_SIGMA_KEY 1640531527

/* Threads per block of every CUDA launch; the reductions' fixed summation tree assumes exactly this
 * many, and CPU twins that promise the GPU's bits (sum_scaled) reproduce that tree. */
#define DN_THREADS 256

/* gather_rows reads row numbers from a float tensor: integers are exact in a float below 2^24. */
#define DN_MAX_GATHER_ROWS 16777216

#endif
