/*
 * runtime.c — threads, CPU features, the instruction-set cap and scratch-memory failures of
 * libdenoise.so (the CPU backend).
 * Build: part of native/build/libdenoise.so (see ../Makefile), gcc -O3 -fopenmp.
 */
#include <omp.h>
#include <stdlib.h>
#include "denoise.h"
#include "runtime.h"

int runtime_version(void) { return DENOISE_ABI_VERSION; }

/* Java reads DENOISE_THREADS and calls this once; OpenMP's own variables are left to OpenMP. */
void runtime_set_threads(int n) { omp_set_num_threads(n > 0 ? n : 1); }

int runtime_threads(void) { return omp_get_max_threads(); }

int runtime_cpu_features(void) {
    __builtin_cpu_init();
    int f = 0;
    if (__builtin_cpu_supports("sse4.2")) f |= DN_CPU_SSE42;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= DN_CPU_AVX2_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= DN_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) f |= DN_CPU_AVX512BW_VL;
    return f;
}

/* ---- instruction-set level of the hand-dispatched kernels ---- */

/* Negative: no cap. Read on every op, so a test's cap applies from the next call on. */
static int isa_cap = -1;

static int isa_best(void) {
    const int f = runtime_cpu_features();
    if (f & DN_CPU_AVX512F) return DN_ISA_AVX512;
    if (f & DN_CPU_AVX2_FMA) return DN_ISA_AVX2;
    return DN_ISA_GENERIC;
}

int runtime_isa(void) {
    const int best = isa_best(), cap = __atomic_load_n(&isa_cap, __ATOMIC_RELAXED);
    return cap >= 0 && cap < best ? cap : best;
}

int runtime_set_isa(int level) {
    __atomic_store_n(&isa_cap, level < 0 ? -1 : level, __ATOMIC_RELAXED);
    return runtime_isa();
}

/* ---- the convolution algorithm ---- */

static int conv_algo_now = DN_CONV_AUTO;

int conv_algo(void) { return __atomic_load_n(&conv_algo_now, __ATOMIC_RELAXED); }

int runtime_set_conv_algo(int algo) {
    return __atomic_exchange_n(&conv_algo_now, algo == DN_CONV_DIRECT ? DN_CONV_DIRECT : DN_CONV_AUTO, __ATOMIC_RELAXED);
}

/* ---- scratch memory and its failures ---- */

/* Not reset by a successful op: it describes the last DN_ERR_NOMEM of this thread. */
static __thread int64_t error_bytes;
/* Fault-test limit in bytes; negative: none. */
static int64_t alloc_limit = -1;

int64_t runtime_error_bytes(void) { return error_bytes; }

void runtime_set_alloc_limit(int64_t bytes) {
    __atomic_store_n(&alloc_limit, bytes < 0 ? -1 : bytes, __ATOMIC_RELAXED);
}

static int refused(size_t bytes) {
    const int64_t limit = __atomic_load_n(&alloc_limit, __ATOMIC_RELAXED);
    return limit >= 0 && (uint64_t)bytes > (uint64_t)limit;
}

int dn_fail(size_t bytes) {
    error_bytes = bytes > (size_t)INT64_MAX ? INT64_MAX : (int64_t)bytes;
    return DN_ERR_NOMEM;
}

void *dn_buf_reserve(dn_buf_t *b, size_t bytes) {
    if (refused(bytes)) return NULL;
    if (bytes > b->cap || !b->p) {
        free(b->p);
        b->p = NULL;
        b->cap = 0;
        if (bytes > SIZE_MAX - 63) return NULL;
        const size_t rounded = ((bytes ? bytes : 1) + 63) & ~(size_t)63;
        b->p = aligned_alloc(64, rounded);
        if (!b->p) return NULL;
        b->cap = rounded;
    }
    return b->p;
}

void *dn_alloc(size_t bytes) {
    if (refused(bytes)) return NULL;
    return malloc(bytes ? bytes : 1);
}
