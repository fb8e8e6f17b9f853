/*
 * runtime.h — helpers shared by the .c files of libdenoise.so: scratch allocation that can fail,
 * the failure reporting behind DN_ERR_NOMEM, and the instruction-set level of the hand-dispatched
 * kernels. Internal to the library (hidden symbols); not part of the ABI of denoise.h.
 *
 * How an op that needs scratch fails:
 *  - on the calling thread: dn_fail(bytes) records the size for runtime_error_bytes() and returns
 *    DN_ERR_NOMEM, which the op returns at once;
 *  - inside an OpenMP region the worker cannot return for the op: it calls dn_fault_set() on a
 *    dn_fault_t shared by the region, every thread skips its remaining work once dn_fault_hit(), and
 *    after the region the entry function returns dn_fault_status(), which records the size on the
 *    calling thread (runtime_error_bytes() is thread-local, and the worker may be another thread).
 */
#ifndef DENOISE_RUNTIME_H
#define DENOISE_RUNTIME_H

#include <stddef.h>
#include <stdint.h>
#include "denoise.h"

#define DN_INTERNAL __attribute__((visibility("hidden")))

/* A scratch buffer kept between calls (normally thread-local): 64-byte aligned, cap bytes long. */
typedef struct {
    void *p;
    size_t cap;
} dn_buf_t;

/* b's memory grown to hold at least bytes, or NULL when the allocation fails or the fault-test limit
 * of runtime_set_alloc_limit() refuses the request (even when the buffer is already big enough).
 * A failed growth leaves b empty (the old contents are released first, so peak memory is what the
 * new size needs); a refusal by the limit leaves b as it was. */
DN_INTERNAL void *dn_buf_reserve(dn_buf_t *b, size_t bytes);

/* The convolution algorithm in effect (DN_CONV_*, see runtime_set_conv_algo). */
DN_INTERNAL int conv_algo(void);

/* malloc(bytes) under the same limit; NULL when refused. Release with free(). */
DN_INTERNAL void *dn_alloc(size_t bytes);

/* Records bytes as this thread's failed allocation (runtime_error_bytes()); returns DN_ERR_NOMEM. */
DN_INTERNAL int dn_fail(size_t bytes);

/* A failure shared by the threads of one op: bytes of the first allocation that failed, 0 for none. */
typedef struct {
    int64_t bytes;
} dn_fault_t;

#define DN_FAULT_INIT {0}

static inline void dn_fault_set(dn_fault_t *f, size_t bytes) {
    int64_t none = 0;
    /* the first failure is the one reported; a zero-byte request cannot fail, so 0 stays "none" */
    __atomic_compare_exchange_n(&f->bytes, &none, (int64_t)(bytes ? bytes : 1), 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
}

static inline int dn_fault_hit(const dn_fault_t *f) {
    return __atomic_load_n(&f->bytes, __ATOMIC_RELAXED) != 0;
}

/* After the parallel region (its implicit barrier orders the workers' stores before this load):
 * DN_OK, or the recorded failure reported on the calling thread. */
static inline int dn_fault_status(const dn_fault_t *f) {
    const int64_t bytes = __atomic_load_n(&f->bytes, __ATOMIC_RELAXED);
    return bytes ? dn_fail((size_t)bytes) : DN_OK;
}

#endif
