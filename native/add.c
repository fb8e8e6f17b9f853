/*
 * add.c — elementwise sum of two tensors of one shape.
 * A skip connection's forward (decoder features + encoder features) and, at the fork where the
 * encoder output feeds both the pool and the skip, its backward: the sum of the two gradients.
 * The backward of add itself is dout for both inputs, so it needs no op of its own.
 * Memory-bound: reads 2n floats, writes n. out may alias a or b.
 * Build: part of native/build/libdenoise.so (see ../Makefile).
 */
#include <stdint.h>
#include "denoise.h"

__attribute__((target_clones("avx512f", "avx2", "default")))
int add(float *out, const float *a, const float *b, int64_t n) {
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
    return DN_OK;
}
