/*
 * gemm.c — single-precision GEMM of the CPU backend: C = alpha * op(A) * op(B) + beta * C, row-major.
 * Every dense layer (forward, dinp, dweight) and the convolutions' im2col products land here.
 * Build: part of native/build/libdenoise.so (see ../Makefile), gcc -O3 -march=x86-64-v2 -fopenmp.
 * The AVX-512 and AVX2+FMA paths are compiled per function (target attributes) and picked at run
 * time, so the library still loads on any x86-64.
 *
 * Napkin math: a Zen4 core retires one 512-bit FMA (or two 256-bit ones) per cycle = 32 flop/cycle,
 * ~117 GFLOP/s at 3.7 GHz; a 128x784x256 layer is 51 MFLOP, ~0.44 ms at peak on one core. Packing
 * moves each input element once or twice, ~1% of that, so the micro-kernel sets the pace.
 *
 * Design (the usual BLIS/GotoBLAS one):
 *  - op(A) is packed into MR-row slivers (k-major: a[k*MR + i]) and op(B) into NR-column slivers
 *    (b[k*NR + j]); the packing absorbs the transposes and leading dimensions, and pads the edges
 *    with zeros, so one micro-kernel serves all four transpose cases and every size.
 *  - The micro-kernel keeps an MR x NR tile of C in registers and does a rank-1 update per k:
 *    broadcast MR values of A, load NR values of B, MR*NR/16 FMAs (AVX-512).
 *  - K is cut into blocks of at most KC_MAX; the B panel (kc x NC) stays in L2, the A sliver
 *    (MR x kc) in L1 while the kernel sweeps the panel.
 *  - Threads split the OUTPUT into a grid of rectangles; each thread packs what it needs into its
 *    own buffers (duplicating some packing beats a barrier on two cores). K is never split across
 *    threads, and the K blocking depends on K only, so every element of C sees the same sequence
 *    of operations for any thread count: the results are bitwise identical.
 */
#include <omp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <immintrin.h>
#include "denoise.h"
#include "runtime.h"

/* K blocks: at most KC_MAX deep, sizes from K alone (never from the thread count). */
#define KC_MAX 384
/* Columns of a packed B panel: kc * NC_MAX * 4 bytes = 576 KB at kc = 384, about half of L2. */
#define NC_MAX 384
/* A is packed for MC rows at once (all of K): ~2 MB of packed A, reused over every B panel. */
#define MC_BYTES (2 << 20)
/* Multiply-adds per thread worth a parallel region: 128k FMAs are ~1.5 us on one core, about what
 * waking a team and joining it costs; smaller problems run on the calling thread. */
#define PAR_FMA_PER_THREAD (1 << 17)

/* ------------------------------------------------------------------------------------------------ */
/* Micro-kernels. Contract: kc >= 1, a = packed MR x kc sliver, b = packed kc x NR sliver; update the
 * top-left mr x nr corner of C (mr <= MR, nr <= NR):
 *   beta == 0: C = alpha*acc       (C is not read)
 *   beta == 1: C = alpha*acc + C   (one FMA)
 *   else:      C = alpha*acc + beta*C
 * where acc[i][j] = sum_k a[k][i]*b[k][j] accumulated in k order from zero (with FMAs on the SIMD
 * paths). Every path of one kernel does exactly these operations per element, so an element's value
 * does not depend on which tile, edge or thread computed it. */
typedef void (*kernel_fn)(int kc, const float *a, const float *b, float *c, int ldc,
                          int mr, int nr, float alpha, float beta);

/* ---- AVX-512: 8 x 32 (two zmm per row): 16 accumulators + 2 B vectors; per k 16 FMAs against
 * 2 vector loads and 8 broadcasts, well inside Zen4's two loads per cycle. 8 rows divide the batch
 * (128) and every layer width here, so M edges waste nothing. NV = 1 serves N edges of <= 16
 * columns (the same packed panel, the second half unread) at half the cost. ---- */
#define MR512 8
#define NR512 32

__attribute__((target("avx512f"), always_inline))
static inline void kernel_avx512_tpl(int NV, int kc, const float *restrict a, const float *restrict b,
                                     float *restrict c, int ldc, int mr, int nr, float alpha, float beta) {
    __m512 acc[MR512][2];
    #pragma GCC unroll 8
    for (int i = 0; i < MR512; i++) { acc[i][0] = _mm512_setzero_ps(); acc[i][1] = _mm512_setzero_ps(); }
    for (int p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(b);
        const __m512 b1 = NV > 1 ? _mm512_load_ps(b + 16) : b0;
        #pragma GCC unroll 8
        for (int i = 0; i < MR512; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            if (NV > 1) acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += MR512;
        b += NR512;
    }
    /* column masks handle the N edge; masked-off lanes are neither read nor written */
    __mmask16 mk[2];
    mk[0] = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    mk[1] = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    #pragma GCC unroll 8
    for (int i = 0; i < MR512; i++) {
        if (i >= mr) break;
        float *cr = c + (size_t)i * ldc;
        #pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            __m512 r;
            if (beta == 0.0f) r = _mm512_mul_ps(acc[i][v], va);
            else if (beta == 1.0f) r = _mm512_fmadd_ps(acc[i][v], va, _mm512_maskz_loadu_ps(mk[v], cr + 16 * v));
            else r = _mm512_fmadd_ps(acc[i][v], va, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mk[v], cr + 16 * v)));
            _mm512_mask_storeu_ps(cr + 16 * v, mk[v], r);
        }
    }
}

__attribute__((target("avx512f")))
static void kernel_avx512(int kc, const float *restrict a, const float *restrict b, float *restrict c,
                          int ldc, int mr, int nr, float alpha, float beta) {
    if (nr > 16) kernel_avx512_tpl(2, kc, a, b, c, ldc, mr, nr, alpha, beta);
    else kernel_avx512_tpl(1, kc, a, b, c, ldc, mr, nr, alpha, beta);
}

/* ---- AVX2+FMA: 6 x 16 (two ymm per row): 12 accumulators + 2 B + 1 broadcast of 16 ymm. ---- */
#define MR256 6
#define NR256 16

__attribute__((target("avx2,fma")))
static void kernel_avx2_full(int kc, const float *restrict a, const float *restrict b, float *restrict c,
                             int ldc, float alpha, float beta) {
    __m256 acc[MR256][2];
    #pragma GCC unroll 8
    for (int i = 0; i < MR256; i++) { acc[i][0] = _mm256_setzero_ps(); acc[i][1] = _mm256_setzero_ps(); }
    for (int p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(b);
        const __m256 b1 = _mm256_load_ps(b + 8);
        #pragma GCC unroll 8
        for (int i = 0; i < MR256; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += MR256;
        b += NR256;
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    #pragma GCC unroll 8
    for (int i = 0; i < MR256; i++) {
        float *cr = c + (size_t)i * ldc;
        __m256 r0, r1;
        if (beta == 0.0f) {
            r0 = _mm256_mul_ps(acc[i][0], va);
            r1 = _mm256_mul_ps(acc[i][1], va);
        } else if (beta == 1.0f) {
            r0 = _mm256_fmadd_ps(acc[i][0], va, _mm256_loadu_ps(cr));
            r1 = _mm256_fmadd_ps(acc[i][1], va, _mm256_loadu_ps(cr + 8));
        } else {
            r0 = _mm256_fmadd_ps(acc[i][0], va, _mm256_mul_ps(vb, _mm256_loadu_ps(cr)));
            r1 = _mm256_fmadd_ps(acc[i][1], va, _mm256_mul_ps(vb, _mm256_loadu_ps(cr + 8)));
        }
        _mm256_storeu_ps(cr, r0);
        _mm256_storeu_ps(cr + 8, r1);
    }
}

/* Edge tiles run the same full kernel on a copy of the C corner, so the arithmetic is identical. */
__attribute__((target("avx2,fma")))
static void kernel_avx2(int kc, const float *restrict a, const float *restrict b, float *restrict c,
                        int ldc, int mr, int nr, float alpha, float beta) {
    if (mr == MR256 && nr == NR256) { kernel_avx2_full(kc, a, b, c, ldc, alpha, beta); return; }
    float t[MR256 * NR256];
    if (beta != 0.0f)
        for (int i = 0; i < mr; i++) memcpy(t + i * NR256, c + (size_t)i * ldc, (size_t)nr * sizeof(float));
    kernel_avx2_full(kc, a, b, t, NR256, alpha, beta);
    for (int i = 0; i < mr; i++) memcpy(c + (size_t)i * ldc, t + i * NR256, (size_t)nr * sizeof(float));
}

/* ---- portable (SSE4.2 at the baseline): 4 x 8, plain C that the compiler vectorises. ---- */
#define MRGEN 4
#define NRGEN 8

static void kernel_generic(int kc, const float *restrict a, const float *restrict b, float *restrict c,
                           int ldc, int mr, int nr, float alpha, float beta) {
    float acc[MRGEN][NRGEN] = {{0}};
    for (int p = 0; p < kc; p++) {
        for (int i = 0; i < MRGEN; i++)
            for (int j = 0; j < NRGEN; j++) acc[i][j] += a[i] * b[j];
        a += MRGEN;
        b += NRGEN;
    }
    for (int i = 0; i < mr; i++) {
        float *cr = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++) {
            if (beta == 0.0f) cr[j] = alpha * acc[i][j];
            else if (beta == 1.0f) cr[j] = alpha * acc[i][j] + cr[j];
            else cr[j] = alpha * acc[i][j] + beta * cr[j];
        }
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* Packing. The edges are zero-padded to whole slivers so the kernel never branches on size. */

/* The transposing cases (A not transposed, B transposed: the forward of a Linear layer) move 8x8
 * blocks through registers; scalar, they cost ~10% of a 128x256x784 product. */
/* Rows r[0..7] in, columns out: column j is returned as c[j]. */
__attribute__((target("avx"), always_inline))
static inline void transpose8_regs(const __m256 r[8], __m256 c[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        c[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        c[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

__attribute__((target("avx"), always_inline))
static inline void transpose8x8(const float *src, size_t ld, float *dst, size_t dld) {
    __m256 r[8], c[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * ld);
    transpose8_regs(r, c);
    for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + i * dld, c[i]);
}

/* Software prefetch distance of the transposing pack, in floats (4 cache lines). */
#define PF_AHEAD 64

/* The same for slivers narrower than 8 (R <= RS <= 8: the AVX2 kernel's 6-row A slivers): rows
 * past R are zeros, each transposed column goes out as one masked store of RS floats. Without it
 * every element of those slivers moved on its own (~4 cycles each: 0.4 ms for a 128x784 input). */
__attribute__((target("avx2")))
static void pack_transpose_narrow_avx(const float *src, size_t ld, int R, int RS, int kc, float *dst) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(RS), lane);
    int p = 0;
    for (; p + 8 <= kc; p += 8) {
        __m256 r[8], c[8];
        for (int i = 0; i < 8; i++) r[i] = i < R ? _mm256_loadu_ps(src + (size_t)i * ld + p) : _mm256_setzero_ps();
        transpose8_regs(r, c);
        for (int i = 0; i < 8; i++) _mm256_maskstore_ps(dst + (size_t)(p + i) * RS, mask, c[i]);
    }
    for (; p < kc; p++)
        for (int r = 0; r < RS; r++) dst[(size_t)p * RS + r] = r < R ? src[(size_t)r * ld + p] : 0.0f;
}

/* rows src + r*ld, r < R, k < kc  ->  dst[p*RS + r]: 8x8 blocks for the first R & ~7 rows, then the
 * leftover rows one by one, then zeros up to RS */
__attribute__((target("avx")))
static void pack_transpose_avx(const float *src, size_t ld, int R, int RS, int kc, float *dst) {
    const int R8 = R & ~7;
    int p = 0;
    for (; p + 8 <= kc; p += 8) {
        /* one line ahead per row every 16 columns: the rows are read as R parallel streams, too
         * many for the hardware prefetchers when the operand is cold */
        if ((p & 15) == 0)
            for (int r = 0; r < R8; r++) _mm_prefetch((const char *)(src + (size_t)r * ld + p + PF_AHEAD), _MM_HINT_T0);
        for (int r = 0; r < R8; r += 8) transpose8x8(src + (size_t)r * ld + p, ld, dst + (size_t)p * RS + r, RS);
    }
    for (; p < kc; p++)
        for (int r = 0; r < R8; r++) dst[(size_t)p * RS + r] = src[(size_t)r * ld + p];
    for (int r = R8; r < R; r++)
        for (p = 0; p < kc; p++) dst[(size_t)p * RS + r] = src[(size_t)r * ld + p];
    for (p = 0; p < kc; p++)
        for (int r = R; r < RS; r++) dst[(size_t)p * RS + r] = 0.0f;
}

/* kc rows of R contiguous floats, src + p*ld  ->  dst[p*RS + r], zeros for R <= r < RS */
__attribute__((target("avx")))
static void pack_copy_avx(const float *src, size_t ld, int R, int RS, int kc, float *dst) {
    const int R8 = R & ~7;
    for (int p = 0; p < kc; p++) {
        const float *s = src + (size_t)p * ld;
        float *d = dst + (size_t)p * RS;
        int r = 0;
        for (; r < R8; r += 8) _mm256_storeu_ps(d + r, _mm256_loadu_ps(s + r));
        for (; r < R; r++) d[r] = s[r];
        for (; r < RS; r++) d[r] = 0.0f;
    }
}

/* kc rows of R contiguous floats, src + p*ld  ->  slivers of RS columns, sliver q at dst + q*sstride
 * holding dst[q*sstride + p*RS + r] (zeros past R). Row by row across all slivers, so src streams
 * through memory in order: packing one sliver at a time walks kc rows ld apart, which defeats the
 * prefetchers (a 1 KB stride leaves each 4 KB page after 4 lines) and costs a DRAM latency per
 * line when the operand is cold (a weight matrix, or an activation written several ops ago). */
__attribute__((target("avx")))
static void pack_copy_panel_avx(const float *src, size_t ld, int R, int RS, int kc, float *dst, size_t sstride) {
    const int nq = (R + RS - 1) / RS;
    for (int p = 0; p < kc; p++) {
        const float *s = src + (size_t)p * ld;
        for (int q = 0; q < nq; q++) {
            const int r0 = q * RS, w = R - r0 < RS ? R - r0 : RS, w8 = w & ~7;
            float *d = dst + (size_t)q * sstride + (size_t)p * RS;
            int r = 0;
            for (; r < w8; r += 8) _mm256_storeu_ps(d + r, _mm256_loadu_ps(s + r0 + r));
            for (; r < w; r++) d[r] = s[r0 + r];
            for (; r < RS; r++) d[r] = 0.0f;
        }
    }
}

/* the same three, portable */
static void pack_copy_panel(const float *src, size_t ld, int R, int RS, int kc, float *dst, size_t sstride) {
    const int nq = (R + RS - 1) / RS;
    for (int p = 0; p < kc; p++) {
        const float *s = src + (size_t)p * ld;
        for (int q = 0; q < nq; q++) {
            const int r0 = q * RS, w = R - r0 < RS ? R - r0 : RS;
            float *d = dst + (size_t)q * sstride + (size_t)p * RS;
            for (int r = 0; r < w; r++) d[r] = s[r0 + r];
            for (int r = w; r < RS; r++) d[r] = 0.0f;
        }
    }
}
static void pack_copy(const float *src, size_t ld, int R, int RS, int kc, float *dst) {
    for (int p = 0; p < kc; p++) {
        const float *s = src + (size_t)p * ld;
        float *d = dst + (size_t)p * RS;
        for (int r = 0; r < R; r++) d[r] = s[r];
        for (int r = R; r < RS; r++) d[r] = 0.0f;
    }
}

static void pack_transpose(const float *src, size_t ld, int R, int RS, int kc, float *dst) {
    for (int r = 0; r < R; r++)
        for (int p = 0; p < kc; p++) dst[(size_t)p * RS + r] = src[(size_t)r * ld + p];
    for (int p = 0; p < kc; p++)
        for (int r = R; r < RS; r++) dst[(size_t)p * RS + r] = 0.0f;
}

/* op(A)[i0:i0+mr, k0:k0+kc] -> dst[p*MR + i]. A row-major (M,K) needs a transpose into the sliver;
 * A stored (K,M) is a plain copy. */
static void pack_a(int transa, const float *A, int lda, int i0, int mr, int k0, int kc, int MR, int avx, float *dst) {
    const float *src = transa ? A + (size_t)k0 * lda + i0 : A + (size_t)i0 * lda + k0;
    if (transa) (avx ? pack_copy_avx : pack_copy)(src, (size_t)lda, mr, MR, kc, dst);
    else if (avx && MR < 8) pack_transpose_narrow_avx(src, (size_t)lda, mr, MR, kc, dst);
    else (avx ? pack_transpose_avx : pack_transpose)(src, (size_t)lda, mr, MR, kc, dst);
}

/* op(B)[k0:k0+kc, j0:j0+nr] -> dst[p*NR + j]. B stored (N,K), as a Linear layer's weight, needs a
 * transpose; B stored (K,N) is a plain copy. */
static void pack_b(int transb, const float *B, int ldb, int k0, int kc, int j0, int nr, int NR, int avx, float *dst) {
    const float *src = transb ? B + (size_t)j0 * ldb + k0 : B + (size_t)k0 * ldb + j0;
    if (transb) (avx ? pack_transpose_avx : pack_transpose)(src, (size_t)ldb, nr, NR, kc, dst);
    else (avx ? pack_copy_avx : pack_copy)(src, (size_t)ldb, nr, NR, kc, dst);
}

/* ------------------------------------------------------------------------------------------------ */
/* Per-thread packing buffers, grown on demand and kept for the life of the (pooled) thread. */
static __thread dn_buf_t tls_abuf, tls_bbuf;

typedef struct {
    int MR, NR;
    int NU;        /* column granularity of the thread split: NR, or 16 where a half-width tile is cheap */
    kernel_fn kernel;
} isa_t;

/* The level of runtime_isa(): the best the CPU has, unless a test capped it. */
static isa_t pick_isa(void) {
    const int isa = runtime_isa();
    if (isa >= DN_ISA_AVX512) return (isa_t){MR512, NR512, 16, kernel_avx512};
    if (isa == DN_ISA_AVX2) return (isa_t){MR256, NR256, NR256, kernel_avx2};
    return (isa_t){MRGEN, NRGEN, NRGEN, kernel_generic};
}

typedef struct {
    int transa, transb, M, N, K;
    float alpha, beta;
    const float *A, *B;
    int lda, ldb, ldc;
    float *C;
    int kc, nkb;   /* K blocking: nkb blocks of kc (the last one may be shorter) */
    isa_t isa;
    int avx;       /* AVX (part of both SIMD paths) for the packing */
} job_t;

/* C[m0:m1, n0:n1] on the calling thread. When its packing buffers cannot be had it records the size
 * in fault; that, or another thread's failure already in fault, leaves C unfinished. */
static void gemm_rect(const job_t *g, int m0, int m1, int n0, int n1, dn_fault_t *fault) {
    const int MR = g->isa.MR, NR = g->isa.NR, K = g->K;
    if (m0 >= m1 || n0 >= n1) return;
    /* MC rows of A packed over all of K, so each A sliver is packed once per MC block */
    int mc = (int)(MC_BYTES / ((size_t)K * sizeof(float)));
    mc = mc < MR ? MR : mc / MR * MR;
    const int nc_max = NC_MAX / NR * NR;
    const size_t kpad = (size_t)g->nkb * g->kc;   /* >= K, for sliver offsets per K block */
    const size_t a_bytes = sizeof(float) * (size_t)(mc < m1 - m0 ? mc : (m1 - m0 + MR - 1) / MR * MR) * kpad;
    const size_t b_bytes = sizeof(float) * (size_t)g->kc * nc_max;
    float *abuf = dn_buf_reserve(&tls_abuf, a_bytes);
    if (!abuf) { dn_fault_set(fault, a_bytes); return; }
    float *bbuf = dn_buf_reserve(&tls_bbuf, b_bytes);
    if (!bbuf) { dn_fault_set(fault, b_bytes); return; }

    for (int ic = m0; ic < m1; ic += mc) {
        if (dn_fault_hit(fault)) return;   /* the op fails: the rest is wasted work */
        const int mcb = m1 - ic < mc ? m1 - ic : mc;
        const int nsl = (mcb + MR - 1) / MR;
        /* sliver s, K block b lives at abuf + (s*nkb + b)*kc*MR */
        for (int s = 0; s < nsl; s++) {
            const int i0 = ic + s * MR, mr = m1 - i0 < MR ? m1 - i0 : MR;
            for (int b = 0; b < g->nkb; b++) {
                const int k0 = b * g->kc, kcb = K - k0 < g->kc ? K - k0 : g->kc;
                pack_a(g->transa, g->A, g->lda, i0, mr, k0, kcb, MR, g->avx, abuf + ((size_t)s * g->nkb + b) * g->kc * MR);
            }
        }
        for (int jc = n0; jc < n1; jc += nc_max) {
            const int ncb = n1 - jc < nc_max ? n1 - jc : nc_max;
            for (int b = 0; b < g->nkb; b++) {
                const int k0 = b * g->kc, kcb = K - k0 < g->kc ? K - k0 : g->kc;
                /* the first K block applies beta; the later ones add to what it left */
                const float beta = b == 0 ? g->beta : 1.0f;
                if (!g->transb)   /* B stored (K,N): whole rows of the panel, all slivers at once */
                    (g->avx ? pack_copy_panel_avx : pack_copy_panel)(g->B + (size_t)k0 * g->ldb + jc, (size_t)g->ldb,
                            ncb, NR, kcb, bbuf, (size_t)NR * kcb);
                else
                for (int jr = 0; jr < ncb; jr += NR) {
                    const int nr = ncb - jr < NR ? ncb - jr : NR;
                    pack_b(g->transb, g->B, g->ldb, k0, kcb, jc + jr, nr, NR, g->avx, bbuf + (size_t)jr * kcb);
                }
                for (int s = 0; s < nsl; s++) {
                    const int i0 = ic + s * MR, mr = m1 - i0 < MR ? m1 - i0 : MR;
                    const float *as = abuf + ((size_t)s * g->nkb + b) * g->kc * MR;
                    float *crow = g->C + (size_t)i0 * g->ldc + jc;
                    for (int jr = 0; jr < ncb; jr += NR) {
                        const int nr = ncb - jr < NR ? ncb - jr : NR;
                        g->isa.kernel(kcb, as, bbuf + (size_t)jr * kcb, crow + jr, g->ldc, mr, nr, g->alpha, beta);
                    }
                }
            }
        }
    }
}

/* Split mt x nt units (MR rows x NU columns) over nth threads as a tm x tn grid: least work on the
 * busiest thread, where work = its FMAs plus the packing it does (A rows and B columns, times K). */
static void split_grid(int nth, int mt, int nt, int MR, int NU, int *tm_out, int *tn_out) {
    double best = 1e300;
    int btm = 1, btn = nth;
    for (int tm = 1; tm <= nth; tm++) {
        if (nth % tm) continue;
        const int tn = nth / tm;
        const int rows = (mt + tm - 1) / tm, cols = (nt + tn - 1) / tn;
        /* FMAs per cycle ~ 16 lanes; packing ~ 1 element per cycle */
        const double cost = (double)rows * cols * MR * NU / 16.0 + (double)rows * MR + (double)cols * NU;
        if (cost < best) { best = cost; btm = tm; btn = tn; }
    }
    *tm_out = btm;
    *tn_out = btn;
}

int gemm(int transa, int transb, int M, int N, int K, float alpha,
         const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return DN_OK;
    if (K <= 0 || alpha == 0.0f) {
        /* no product: C = beta*C, and beta == 0 clears C without reading it */
        for (int i = 0; i < M; i++) {
            float *cr = C + (size_t)i * ldc;
            if (beta == 0.0f) memset(cr, 0, (size_t)N * sizeof(float));
            else if (beta != 1.0f) for (int j = 0; j < N; j++) cr[j] *= beta;
        }
        return DN_OK;
    }
    job_t g = {transa, transb, M, N, K, alpha, beta, A, B, lda, ldb, ldc, C, 0, 0, pick_isa(), 0};
    g.avx = g.isa.kernel != kernel_generic;
    /* near-equal K blocks (784 -> 262 + 262 + 260, not 384 + 384 + 16), from K alone */
    g.nkb = (K + KC_MAX - 1) / KC_MAX;
    g.kc = (K + g.nkb - 1) / g.nkb;

    const int MR = g.isa.MR, NU = g.isa.NU;
    const int mt = (M + MR - 1) / MR, nt = (N + NU - 1) / NU;
    /* threads only for problems that keep each one busy for several microseconds */
    const int64_t fma = (int64_t)M * N * K;
    int nth = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (nth > fma / PAR_FMA_PER_THREAD) nth = (int)(fma / PAR_FMA_PER_THREAD);
    if ((int64_t)nth > (int64_t)mt * nt) nth = (int)((int64_t)mt * nt);
    dn_fault_t fault = DN_FAULT_INIT;
    if (nth <= 1) {
        gemm_rect(&g, 0, M, 0, N, &fault);
        return dn_fault_status(&fault);
    }

    #pragma omp parallel num_threads(nth)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        int tm, tn;
        split_grid(T, mt, nt, MR, NU, &tm, &tn);
        const int ti = t / tn, tj = t % tn;
        /* unit ranges, balanced to within one unit */
        const int r0 = (int)((int64_t)mt * ti / tm), r1 = (int)((int64_t)mt * (ti + 1) / tm);
        const int c0 = (int)((int64_t)nt * tj / tn), c1 = (int)((int64_t)nt * (tj + 1) / tn);
        const int m0 = r0 * MR, m1 = r1 * MR < M ? r1 * MR : M;
        const int n0 = c0 * NU, n1 = c1 * NU < N ? c1 * NU : N;
        gemm_rect(&g, m0, m1, n0, n1, &fault);
    }
    return dn_fault_status(&fault);
}
