/*
 * adam.c — Adam over one flat parameter buffer (all weights and biases of a model, back to back).
 * Memory-bound: reads 4 and writes 3 floats per parameter (28 B); 1M parameters at ~20 GB/s ≈ 1.4 ms.
 * Build: part of native/build/libdenoise.so, with -ffp-contract=off (see ../Makefile).
 *
 * Every step is one correctly rounded float operation, in the order cuda/adam.cu spells out with
 * _rn intrinsics, and nothing may be fused into an FMA (hence no contraction): each path below, and
 * the GPU, then gives the same bits. The paths are picked by runtime_isa() rather than target_clones
 * so that a test can cap the level and hold each one against the others.
 */
#include <math.h>
#include <stddef.h>
#include "denoise.h"
#include "runtime.h"

/* The loop of every path: instantiated in each targeted function, so that the loop OpenMP outlines
 * is compiled for that function's instruction set. (lr * (mi * c1)) / (sqrtf(vi * c2) + eps) and
 * (a2 * g) * g are adam.cu's groupings; sqrtf is the correctly rounded instruction (-fno-math-errno). */
#define ADAM_LOOP                                                                            \
    _Pragma("omp parallel for schedule(static) if (n > 65536)")                              \
    for (int64_t i = 0; i < n; i++) {                                                        \
        const float g = grad[i];                                                             \
        const float mi = beta1 * m[i] + a1 * g;                                              \
        const float vi = beta2 * v[i] + (a2 * g) * g;                                        \
        m[i] = mi;                                                                           \
        v[i] = vi;                                                                           \
        const float step = (lr * (mi * c1)) / (sqrtf(vi * c2) + eps);                        \
        param[i] = param[i] - step;                                                          \
    }

#define ADAM_ARGS float *param, float *m, float *v, const float *grad, \
                  int64_t n, float lr, float beta1, float beta2, float eps, float a1, float a2, float c1, float c2

__attribute__((target("avx512f"))) static void adam_avx512(ADAM_ARGS) { ADAM_LOOP }
__attribute__((target("avx2,fma"))) static void adam_avx2(ADAM_ARGS) { ADAM_LOOP }
static void adam_generic(ADAM_ARGS) { ADAM_LOOP }

// param, m, v, grad (n); hyper (3) or NULL
int adam_update(float *param, float *m, float *v, const float *grad, int64_t n,
                float lr, float beta1, float beta2, float eps, int t, const float *hyper) {
    /* bias corrections in double: 1 - 0.999^t loses most of its digits in float for small t; the
     * GPU gets these two floats from the host, computed the same way, and so does hyper */
    float c1, c2;
    if (hyper) {
        lr = hyper[0];
        c1 = hyper[1];
        c2 = hyper[2];
    } else {
        c1 = (float)(1.0 / (1.0 - pow((double)beta1, t)));
        c2 = (float)(1.0 / (1.0 - pow((double)beta2, t)));
    }
    const float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
    const int level = runtime_isa();
    if (level >= DN_ISA_AVX512) adam_avx512(param, m, v, grad, n, lr, beta1, beta2, eps, a1, a2, c1, c2);
    else if (level == DN_ISA_AVX2) adam_avx2(param, m, v, grad, n, lr, beta1, beta2, eps, a1, a2, c1, c2);
    else adam_generic(param, m, v, grad, n, lr, beta1, beta2, eps, a1, a2, c1, c2);
    return DN_OK;
}
