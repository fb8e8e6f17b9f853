/*
 * runtime.c — threads and CPU features of libdenoise.so (the CPU backend).
 * Build: part of native/build/libdenoise.so (see ../Makefile), gcc -O3 -fopenmp.
 */
#include <omp.h>
#include "denoise.h"

int runtime_version(void) { return DENOISE_ABI_VERSION; }

/* Java reads DENOISE_THREADS and calls this once; OpenMP's own variables are left to OpenMP. */
void runtime_set_threads(int n) { omp_set_num_threads(n > 0 ? n : 1); }

int runtime_threads(void) { return omp_get_max_threads(); }

int runtime_cpu_features(void) {
    __builtin_cpu_init();
    int f = 0;
    if (__builtin_cpu_supports("sse4.2")) f |= 1;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= 2;
    if (__builtin_cpu_supports("avx512f")) f |= 4;
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) f |= 8;
    return f;
}
