/*
 * fma_peak.c — this machine's FP32 peak: every thread runs independent FMA chains on the widest
 * vectors the CPU has (AVX-512, else AVX2+FMA), enough of them to cover the FMA latency.
 * Build and run: bench/peers.sh does it (gcc -O2 -fopenmp -march=native).
 * FLOPs = threads × chains × lanes × 2 × iterations.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX2__)
#define LANES 8
#else
#define LANES 4
#endif
typedef float vf __attribute__((vector_size(LANES * 4)));
#define CHAINS 12 /* 2 FMA pipes × 4-cycle latency, with room */

int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 200000000L / LANES;
    int threads = omp_get_max_threads();
    double best = 0;
    for (int round = 0; round < 3; round++) {
        double t0 = omp_get_wtime();
        float sink = 0;
        #pragma omp parallel reduction(+ : sink)
        {
            vf acc[CHAINS], a, b;
            for (int l = 0; l < LANES; l++) { a[l] = 0.999999f; b[l] = 1e-7f; }
            for (int c = 0; c < CHAINS; c++) acc[c] = a * (float)(c + omp_get_thread_num());
            for (long i = 0; i < iters; i++) {
                #pragma GCC unroll 12
                for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * a + b;
            }
            for (int c = 0; c < CHAINS; c++) for (int l = 0; l < LANES; l++) sink += acc[c][l];
        }
        double s = omp_get_wtime() - t0;
        double gflops = (double)threads * CHAINS * LANES * 2 * iters / s / 1e9;
        if (gflops > best) best = gflops;
        if (sink == 42.0f) printf(" ");
    }
    printf("fp32 peak: %.1f GFLOP/s on %d threads (%d-lane FMA)\n", best, threads, LANES);
    return 0;
}
