/*
 * conv2d.c — 2-D convolution, stride 1, 'same' zero padding (R, S odd), NCHW float32: forward
 * (with bias and activation fused), and the three backward passes (input, weights, bias).
 * Build: part of native/build/libdenoise.so (see ../Makefile), gcc -O3 -march=x86-64-v2 -fopenmp.
 * The AVX-512, AVX2+FMA and baseline paths are compiled per function (target attributes) and
 * picked at run time, so the library still loads on any x86-64. The kernels are written once, on
 * GCC vector types of the ISA's native width: this file includes itself once per ISA (see the end
 * of the common part), with the vector type and register blocking defined as macros.
 *
 * Napkin math: every direction is 2*N*K*C*H*W*R*S flops; the 32->32 3x3 layer at 28x28, batch 128,
 * is 1.85 GFLOP. A Zen4 core retires one 512-bit FMA per cycle = 32 flop/cycle, ~117 GFLOP/s at
 * 3.7 GHz, so ~16 ms per core at peak. Padding copies each input element once per 2*K*R*S = 576
 * flops of that layer: noise, except for K = 1.
 *
 * Design (direct convolution on a flattened, padded image):
 *  - Each image is copied into a zero-padded buffer P with row stride Wp = W + S - 1, channel after
 *    channel. Output pixel (y, x) is taken at the "wide" position o = y*Wp + x, and tap (r, s) of
 *    channel c reads P[c*plane + o + r*Wp + s]. Consecutive wide outputs therefore need one
 *    contiguous load per tap, whatever W is: the whole convolution is a 1-D one, vectorised over o.
 *    The S-1 wide columns past W in every row are computed and thrown away (7% at 28x28, 14% at
 *    14x14), much cheaper than masking rows of 28, 14 or 7 pixels into 16-lane vectors.
 *  - Forward micro-kernel: MK output channels x NV blocks of 16 wide pixels in registers (4 x 6 =
 *    24 zmm on AVX-512). Per tap (c, r, s): NV loads, MK broadcasts, MK*NV FMAs; taps come from an
 *    offset table, so one kernel serves every R, S and C, and a 3x3 tap costs one loop step.
 *  - backward_data is the forward of dout with the weights flipped in (r, s) and K, C swapped.
 *  - backward_filter reduces over pixels: each image chunk (a fixed number of images, from the
 *    shapes alone) keeps MK output channels x NT taps of lane-wise partial sums in registers over
 *    all its images, sums the lanes once and writes its own partial dweight; the chunks' partials
 *    are then added in chunk order.
 *  - 3x3 convolutions with enough channels on maps of 12 pixels or more take Winograd F(2x2, 3x3)
 *    instead (see wgeom_t and wino_fits): forward, backward data and, from 24 channels each way,
 *    backward filter. runtime_set_conv_algo(DN_CONV_DIRECT) turns it off (tests, benchmarks).
 *  - Every output element is computed by exactly one kernel call whose operation order depends only
 *    on the shapes, never on which thread ran it: the bits do not depend on the thread count.
 */
#ifndef CONV2D_ISA
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "denoise.h"
#include "runtime.h"

/* Layout unit: wide outputs go in blocks of 16 floats (one zmm, two ymm, four xmm). */
#define VL 16
#define INLINE static inline __attribute__((always_inline))
/* Register blocks are at most this big on any path (the arrays in the kernels are sized for them). */
#define MK_MAX 4
#define NV_MAX 6
#define NT_MAX 9

typedef float vf16 __attribute__((vector_size(64)));
typedef float vf8 __attribute__((vector_size(32)));
typedef float vf4 __attribute__((vector_size(16)));
typedef int vi16 __attribute__((vector_size(64)));
typedef int vi8 __attribute__((vector_size(32)));
typedef int vi4 __attribute__((vector_size(16)));
typedef float vf16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef float vf8u __attribute__((vector_size(32), aligned(4), may_alias));
typedef float vf4u __attribute__((vector_size(16), aligned(4), may_alias));

/* ------------------------------------------------------------------------------------------------ */
/* Per-thread scratch, grown on demand and kept for the life of the (pooled) thread. NULL when it
 * cannot be had: the caller reports DN_ERR_NOMEM (through a dn_fault_t inside a parallel region). */
enum { BUF_PAD, BUF_AUX, BUF_SHARED, BUF_OUT, BUF_COUNT };
static __thread dn_buf_t tls_buf[BUF_COUNT];

static void *scratch(int slot, size_t bytes) { return dn_buf_reserve(&tls_buf[slot], bytes); }

/* ------------------------------------------------------------------------------------------------ */
/* Geometry of one padded image. */
typedef struct {
    int C, H, W, R, S;
    int Wp;        /* padded row stride W + S - 1 */
    int V;         /* 16-float blocks covering the H*Wp wide outputs */
    size_t plane;  /* floats per padded channel, (H + R - 1) * Wp */
    size_t img;    /* floats per padded image: C planes + slack for the last block's overhang */
} geom_t;

static geom_t make_geom(int C, int H, int W, int R, int S) {
    geom_t g = {C, H, W, R, S, W + S - 1, 0, 0, 0};
    g.V = (int)(((size_t)H * g.Wp + VL - 1) / VL);
    g.plane = (size_t)(H + R - 1) * g.Wp;
    /* the last wide block ends < VL past H*Wp and its taps reach S-1 further */
    g.img = ((size_t)C * g.plane + VL + S + 15) & ~(size_t)15;
    return g;
}

/* Tap j = (c*R + r)*S + s of the padded input starts at off[j]. */
static void tap_offsets(int *off, const geom_t *g) {
    int j = 0;
    for (int c = 0; c < g->C; c++)
        for (int r = 0; r < g->R; r++)
            for (int s = 0; s < g->S; s++) off[j++] = (int)((size_t)c * g->plane + (size_t)r * g->Wp + s);
}

/* ---- Winograd F(2x2, 3x3) geometry ----
 * For 3x3 'same' convolutions with enough channels (see wino_fits): each 2x2 block of outputs comes
 * from a 4x4 input tile, V = B^T d B, times U = G g G^T element-wise per (input, output) channel and
 * summed over input channels (16 small GEMMs, one per tile element xi), then Y = A^T M A: 16 products
 * per 4 outputs instead of 36, 2.25x fewer FLOPs, paid for with the transforms.
 * Tiles are "wide" as the direct kernel's pixels are: the padded input is split into its four
 * (row, column) parity planes, (th + 1) x Wh each with Wh = tw + 1, so that element (r, s) of tile
 * t = ty*Wh + tx sits at plane(r&1, s&1)[t + (r>>1)*Wh + (s>>1)]: one contiguous vector load per
 * element for VW consecutive tiles. Column tx = tw is computed and dropped (1/Wh of the work). */
typedef struct {
    int C, H, W;
    int th, tw, Wh;   /* tile rows and columns; plane row stride */
    int Tp;           /* wide tiles th*Wh rounded up to whole 16-float blocks */
    size_t pl;        /* floats per parity plane, with slack for the last block's loads */
} wgeom_t;

/* Floats from one tile element's V (C, Tp) to the next: 16 floats more than C*Tp, so the 16 streams
 * the input transform writes do not all fall on the same L1 sets (C*Tp*4 is often a multiple of 4 KB). */
static inline size_t wino_xi_stride(const wgeom_t *g) { return (size_t)g->C * g->Tp + 16; }

static wgeom_t make_wgeom(int C, int H, int W) {
    wgeom_t g = {C, H, W, (H + 1) / 2, (W + 1) / 2, (W + 1) / 2 + 1, 0, 0};
    g.Tp = (g.th * g.Wh + VL - 1) / VL * VL;
    /* the last block reads up to Tp - 1 + Wh + 1 */
    size_t need = (size_t)(g.th + 1) * g.Wh + VL;   /* the rows' vector stores overrun by < VL */
    if (need < (size_t)(g.Tp + g.Wh + 1)) need = (size_t)(g.Tp + g.Wh + 1);
    g.pl = (need + 15) & ~(size_t)15;
    return g;
}

/* The per-ISA part: kernels on the native vector width, then the entry points for one image
 * (forward) or one image chunk (backward filter). PIN keeps a loaded vector in a register: left
 * alone, GCC folds the load into every FMA that uses it, and repeated unaligned loads make the
 * filter loop load-bound. */
#define CONV2D_ISA avx512
#define ISA_ATTR __attribute__((target("avx512f,avx2,fma")))
#define VEC vf16
#define VECU vf16u
#define VECI vi16
#define VW 16
#define FWD_MK 4   /* 4 x 6 zmm accumulators + 6 inputs + 1 weight */
#define FWD_NV 6
#define FWD_NV1 6  /* pixel blocks when only one output channel is left (K = 1) */
#define BWF_MK 3   /* 3 x 9 zmm accumulators + 3 douts + 1 input */
#define BWF_NT 9
#define BWW_MK 12  /* Winograd filter gradient: 12 x 2 zmm accumulators + 2 inputs + 1 dout */
#include "conv2d.c"
#undef CONV2D_ISA
#undef ISA_ATTR
#undef VEC
#undef VECU
#undef VECI
#undef VW
#undef FWD_MK
#undef FWD_NV
#undef FWD_NV1
#undef BWF_MK
#undef BWF_NT
#undef BWW_MK

#define CONV2D_ISA avx2
#define ISA_ATTR __attribute__((target("avx2,fma")))
#define VEC vf8
#define VECU vf8u
#define VECI vi8
#define VW 8
#define FWD_MK 3   /* 3 x 4 ymm accumulators + 3 weights + 1 input: 7 loads per 12 FMAs (4 x 2: 6 per 8) */
#define FWD_NV 2
#define FWD_NV1 3  /* K = 1: 1 x 6 ymm accumulators + 6 inputs, not 1 x 2 (latency-bound) */
#define BWF_MK 2   /* 2 x 6 ymm accumulators + 2 douts + 1 input */
#define BWF_NT 6
#define BWW_MK 6   /* 6 x 2 ymm accumulators + 2 inputs + 1 dout */
#include "conv2d.c"
#undef CONV2D_ISA
#undef ISA_ATTR
#undef VEC
#undef VECU
#undef VECI
#undef VW
#undef FWD_MK
#undef FWD_NV
#undef FWD_NV1
#undef BWF_MK
#undef BWF_NT
#undef BWW_MK

#define CONV2D_ISA generic
#define ISA_ATTR
#define VEC vf4
#define VECU vf4u
#define VECI vi4
#define VW 4
#define FWD_MK 2   /* 2 x 4 xmm accumulators (SSE has no FMA: a product temporary too) */
#define FWD_NV 1
#define FWD_NV1 2
#define BWF_MK 2
#define BWF_NT 4
#define BWW_MK 6
#include "conv2d.c"
#undef CONV2D_ISA
#undef ISA_ATTR
#undef VEC
#undef VECU
#undef VECI
#undef VW
#undef FWD_MK
#undef FWD_NV
#undef FWD_NV1
#undef BWF_MK
#undef BWF_NT
#undef BWW_MK

/* ------------------------------------------------------------------------------------------------ */
typedef void (*fwd_image_fn)(float *out, const float *x, float *P, const int *off, const float *wp,
                             const float *bias, int K, const geom_t *g, int act);
typedef void (*bwf_chunk_fn)(float *part, const float *x, const float *dy, float *P, float *D, const int *off,
                             int nb, const geom_t *g, int K, int OBV);
typedef void (*bwf_wino_fn)(float *part, const float *x, const float *dy, float *XT, float *X, float *VT, float *DM,
                            float *dU, int nb, const wgeom_t *g, int K);
typedef void (*wino_image_fn)(float *out, const float *x, float *X, float *V, float *Mt, const int *off,
                              const float *U, const float *bias, int K, const wgeom_t *g, int act, int down);
typedef struct {
    int fwd_mk;    /* forward channel block */
    int bwf_nt;    /* backward-filter tap group */
    fwd_image_fn fwd;
    bwf_chunk_fn bwf;
    float (*plane_sum)(const float *x, size_t n);
    wino_image_fn wino;
    bwf_wino_fn bwf_wino;
} isa_t;

/* The level of runtime_isa(): the best the CPU has, unless a test capped it. */
static isa_t pick_isa(void) {
    const int level = runtime_isa();
    if (level >= DN_ISA_AVX512)
        return (isa_t){fwd_mk_avx512, bwf_nt_avx512, fwd_image_avx512, bwf_chunk_avx512, plane_sum_avx512,
                       wino_image_avx512, bwf_wino_chunk_avx512};
    if (level == DN_ISA_AVX2)
        return (isa_t){fwd_mk_avx2, bwf_nt_avx2, fwd_image_avx2, bwf_chunk_avx2, plane_sum_avx2, wino_image_avx2,
                       bwf_wino_chunk_avx2};
    return (isa_t){fwd_mk_generic, bwf_nt_generic, fwd_image_generic, bwf_chunk_generic, plane_sum_generic,
                   wino_image_generic, bwf_wino_chunk_generic};
}

/* Packs the forward weights: block k0..k0+mk-1 (k0 a multiple of MK, the last block shorter) at
 * wp + k0*J, element [j*mk + k], so the kernel reads its broadcasts in order. flip: the
 * backward-data weights w'[c][k][r][s] = weight[k][c][R-1-r][S-1-s], with Ko = C output and Ci = K
 * input channels; otherwise weight (Ko, Ci, R, S) as is. */
static void pack_forward(float *wp, const float *weight, int Ko, int Ci, int R, int S, int MK, int flip) {
    const int RS = R * S, J = Ci * RS;
    for (int k0 = 0; k0 < Ko; k0 += MK) {
        const int mk = Ko - k0 < MK ? Ko - k0 : MK;
        for (int k = 0; k < mk; k++)
            for (int ci = 0; ci < Ci; ci++)
                for (int t = 0; t < RS; t++) {
                    const int j = ci * RS + t;
                    const float v = flip ? weight[((size_t)ci * Ko + k0 + k) * RS + (RS - 1 - t)]
                                         : weight[((size_t)(k0 + k) * Ci + ci) * RS + t];
                    wp[(size_t)k0 * J + (size_t)j * mk + k] = v;
                }
    }
}

/* ---- packed weights, kept per thread ----
 * A model's image lanes call each layer with the same weights once per lane, several times per
 * step, on the same thread; packing (and, for Winograd, transforming) them costs as much as a few
 * images' worth of products. So each thread keeps its last packings, keyed by the weights' address,
 * shape and layout and checked against a copy of the weights themselves: a weight updated in place
 * (Adam) differs from the copy and is packed again. A hit costs one memcmp of the weights. */
enum { PACK_DIRECT, PACK_WINOGRAD, PACK_ENTRIES = 32 };
typedef struct {
    const float *src;
    int Ko, Ci, R, S, mk, flip, kind;
    unsigned long used;   /* LRU clock */
    dn_buf_t copy, packed;
} pack_entry_t;
static __thread pack_entry_t pack_cache[PACK_ENTRIES];
static __thread unsigned long pack_clock;

static void pack_winograd(float *U, const float *weight, int Ko, int Ci, int MK, int flip);

/* The packed weights (pack_forward or pack_winograd layout), or NULL when memory ran out (*bytes
 * says how much was asked). Valid until this thread's next call. */
static const float *packed_weights(const float *weight, int Ko, int Ci, int R, int S, int mk, int flip, int kind,
                                   size_t *bytes) {
    const size_t n = (size_t)Ko * Ci * R * S, np = kind == PACK_WINOGRAD ? (size_t)16 * Ko * Ci : n;
    pack_entry_t *e = NULL, *lru = &pack_cache[0];
    for (int i = 0; i < PACK_ENTRIES; i++) {
        pack_entry_t *c = &pack_cache[i];
        if (c->src == weight && c->Ko == Ko && c->Ci == Ci && c->R == R && c->S == S && c->mk == mk &&
            c->flip == flip && c->kind == kind) { e = c; break; }
        if (c->used < lru->used) lru = c;
    }
    if (e && memcmp(e->copy.p, weight, sizeof(float) * n) == 0) {
        e->used = ++pack_clock;
        return e->packed.p;
    }
    if (!e) e = lru;
    e->src = NULL;   /* invalid until packed */
    if (!dn_buf_reserve(&e->copy, sizeof(float) * n)) { *bytes = sizeof(float) * n; return NULL; }
    if (!dn_buf_reserve(&e->packed, sizeof(float) * np)) { *bytes = sizeof(float) * np; return NULL; }
    memcpy(e->copy.p, weight, sizeof(float) * n);
    if (kind == PACK_WINOGRAD) pack_winograd(e->packed.p, weight, Ko, Ci, mk, flip);
    else pack_forward(e->packed.p, weight, Ko, Ci, R, S, mk, flip);
    *e = (pack_entry_t){weight, Ko, Ci, R, S, mk, flip, kind, ++pack_clock, e->copy, e->packed};
    return e->packed.p;
}

/* out (Ko,H/2,W/2) = the 2x2 block sums of y (Ko,H,W), as upsample2d_backward adds them */
static void sum2x2(float *restrict out, const float *restrict y, int Ko, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    for (int k = 0; k < Ko; k++)
        for (int i = 0; i < Ho; i++) {
            const float *r0 = y + ((size_t)k * H + 2 * i) * W, *r1 = r0 + W;
            float *o = out + ((size_t)k * Ho + i) * Wo;
            for (int j = 0; j < Wo; j++) o[j] = (r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1]);
        }
}

/* Which convolutions take the Winograd path: 3x3, enough input and output channels that the input
 * and output transforms are spread over many products (each input element is transformed once
 * for all Ko outputs, each output once for all Ci inputs), and maps of 14x14 or more (at 7x7 the
 * 4x4 tiles cover 8x8, and the dropped row and column cost more than the transform saves). */
static int wino_fits(int Ci, int Ko, int H, int W, int R, int S, int act) {
    return conv_algo() == DN_CONV_AUTO && R == 3 && S == 3 && Ci >= 8 && Ko >= 8 && H >= 12 && W >= 12
           && act != DN_ACT_SIGMOID;   /* a model's output layer only (Ko = 1): the direct path's scalar sigmoid */
}

/* U (16, Ko, Ci) packed per xi as pack_forward packs (blocks of MK output channels, [ci][k] inside):
 * G g G^T of each 3x3 filter, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. flip as in pack_forward. */
static void pack_winograd(float *U, const float *weight, int Ko, int Ci, int MK, int flip) {
    for (int k0 = 0; k0 < Ko; k0 += MK) {
        const int mk = Ko - k0 < MK ? Ko - k0 : MK;
        for (int k = 0; k < mk; k++)
            for (int ci = 0; ci < Ci; ci++) {
                float g[9], t[4][3], u[4][4];
                for (int i = 0; i < 9; i++)
                    g[i] = flip ? weight[((size_t)ci * Ko + k0 + k) * 9 + (8 - i)] : weight[((size_t)(k0 + k) * Ci + ci) * 9 + i];
                for (int j = 0; j < 3; j++) {   /* G g: rows */
                    t[0][j] = g[j];
                    t[1][j] = 0.5f * ((g[j] + g[3 + j]) + g[6 + j]);
                    t[2][j] = 0.5f * ((g[j] - g[3 + j]) + g[6 + j]);
                    t[3][j] = g[6 + j];
                }
                for (int i = 0; i < 4; i++) {   /* (G g) G^T: columns */
                    u[i][0] = t[i][0];
                    u[i][1] = 0.5f * ((t[i][0] + t[i][1]) + t[i][2]);
                    u[i][2] = 0.5f * ((t[i][0] - t[i][1]) + t[i][2]);
                    u[i][3] = t[i][2];
                }
                for (int xi = 0; xi < 16; xi++)
                    U[(size_t)xi * Ko * Ci + (size_t)k0 * Ci + (size_t)ci * mk + k] = u[xi / 4][xi % 4];
            }
    }
}

// as forward_common, for 3x3 convolutions that wino_fits
static int winograd_common(float *out, const float *inp, const float *weight, const float *bias,
                           int N, int Ci, int H, int W, int Ko, int act, int flip, int down) {
    const isa_t isa = pick_isa();
    const wgeom_t g = make_wgeom(Ci, H, W);
    size_t u_bytes = 0;
    const float *U = packed_weights(weight, Ko, Ci, 3, 3, isa.fwd_mk, flip, PACK_WINOGRAD, &u_bytes);
    if (!U) return dn_fail(u_bytes);
    const size_t sh_bytes = sizeof(int) * (size_t)Ci;
    int *off = scratch(BUF_SHARED, sh_bytes);
    if (!off) return dn_fail(sh_bytes);
    for (int c = 0; c < Ci; c++) off[c] = c * g.Tp;
    const double flops = 2.0 * N * Ko * Ci * 9.0 * H * W;
    dn_fault_t fault = DN_FAULT_INIT;
    #pragma omp parallel for schedule(static) if (N > 1 && flops > 4e6)
    for (int n = 0; n < N; n++) {
        if (dn_fault_hit(&fault)) continue;
        const size_t x_bytes = sizeof(float) * (4 * (size_t)Ci * g.pl + (size_t)H * (2 * g.Wh + 2 * VL)),
                     v_bytes = sizeof(float) * 16 * wino_xi_stride(&g),
                     m_bytes = sizeof(float) * 16 * (MK_MAX * NV_MAX * VL + VL);
        float *X = scratch(BUF_PAD, x_bytes), *V = X ? scratch(BUF_AUX, v_bytes) : NULL, *Mt = V ? scratch(BUF_OUT, m_bytes) : NULL;
        if (!X) { dn_fault_set(&fault, x_bytes); continue; }
        if (!V) { dn_fault_set(&fault, v_bytes); continue; }
        if (!Mt) { dn_fault_set(&fault, m_bytes); continue; }
        const size_t oimg = down ? (size_t)Ko * (H / 2) * (W / 2) : (size_t)Ko * H * W;
        isa.wino(out + n * oimg, inp + (size_t)n * Ci * H * W, X, V, Mt, off, U, bias, Ko, &g, act, down);
    }
    return dn_fault_status(&fault);
}

// out (N,Ko,H,W), or (N,Ko,H/2,W/2) when down (each image's 2x2 block sums), inp (N,Ci,H,W),
// weight (Ko,Ci,R,S) or, flipped, (Ci,Ko,R,S); bias (Ko) or NULL
static int forward_common(float *out, const float *inp, const float *weight, const float *bias,
                          int N, int Ci, int H, int W, int Ko, int R, int S, int act, int flip, int down) {
    if (wino_fits(Ci, Ko, H, W, R, S, act)) return winograd_common(out, inp, weight, bias, N, Ci, H, W, Ko, act, flip, down);
    const isa_t isa = pick_isa();
    const geom_t g = make_geom(Ci, H, W, R, S);
    const int J = Ci * R * S;
    /* shared, read-only inside the parallel region */
    size_t w_bytes = 0;
    const float *wp = packed_weights(weight, Ko, Ci, R, S, isa.fwd_mk, flip, PACK_DIRECT, &w_bytes);
    if (!wp) return dn_fail(w_bytes);
    const size_t sh_bytes = sizeof(int) * (size_t)J;
    int *off = scratch(BUF_SHARED, sh_bytes);
    if (!off) return dn_fail(sh_bytes);
    tap_offsets(off, &g);
    const double flops = 2.0 * N * Ko * J * H * W;
    dn_fault_t fault = DN_FAULT_INIT;
    #pragma omp parallel for schedule(static) if (N > 1 && flops > 4e6)
    for (int n = 0; n < N; n++) {
        if (dn_fault_hit(&fault)) continue;   /* the op fails: the rest is wasted work */
        const size_t p_bytes = sizeof(float) * g.img;
        float *P = scratch(BUF_PAD, p_bytes);
        if (!P) { dn_fault_set(&fault, p_bytes); continue; }
        if (down) {
            /* the full-size image stays in this thread's cache until it is summed down */
            const size_t y_bytes = sizeof(float) * ((size_t)Ko * H * W + VL);
            float *y = scratch(BUF_OUT, y_bytes);
            if (!y) { dn_fault_set(&fault, y_bytes); continue; }
            isa.fwd(y, inp + (size_t)n * Ci * H * W, P, off, wp, bias, Ko, &g, act);
            sum2x2(out + (size_t)n * Ko * (H / 2) * (W / 2), y, Ko, H, W);
        } else {
            isa.fwd(out + (size_t)n * Ko * H * W, inp + (size_t)n * Ci * H * W, P, off, wp, bias, Ko, &g, act);
        }
    }
    return dn_fault_status(&fault);
}

// out (N,K,H,W), inp (N,C,H,W), weight (K,C,R,S), bias (K) or NULL
int conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                   int N, int C, int H, int W, int K, int R, int S, int act) {
    return forward_common(out, inp, weight, bias, N, C, H, W, K, R, S, act, 0, 0);
}

// dinp (N,C,H,W), dout (N,K,H,W), weight (K,C,R,S)
int conv2d_backward_data(float *dinp, const float *dout, const float *weight,
                         int N, int C, int H, int W, int K, int R, int S) {
    /* dinp[c,y,x] = sum_{k,r,s} dout[k, y+r-pr, x+s-ps] * weight[k,c,R-1-r,S-1-s]: a 'same' conv */
    return forward_common(dinp, dout, weight, NULL, N, K, H, W, C, R, S, DN_ACT_IDENTITY, 1, 0);
}

// dinp (N,C,H/2,W/2), dout (N,K,H,W), weight (K,C,R,S); H, W even
int upsample2d_conv2d_backward_data(float *dinp, const float *dout, const float *weight,
                                    int N, int C, int H, int W, int K, int R, int S) {
    return forward_common(dinp, dout, weight, NULL, N, K, H, W, C, R, S, DN_ACT_IDENTITY, 1, 1);
}

/* The filter gradients' chunks go in rounds whose partials take ~16 MB at most (a whole training
 * set in one call must not allocate a partial per chunk): chunks per round, for partials of total
 * floats and nch chunks. */
static long partials_per_round(long total, int nch) {
    long per_round = (4l << 20) / total;
    per_round = per_round < 8 ? 8 : per_round > 256 ? 256 : per_round;
    return per_round > nch ? nch : per_round;
}

/* dweight (total) = (first ? 0 : dweight) + the nc partials of a round, added in chunk order. */
static void add_partials(float *dweight, const float *part, long total, int nc, int first) {
    #pragma omp parallel for schedule(static) if (total * nc > 65536)
    for (long i = 0; i < total; i++) {
        float s = first ? part[i] : dweight[i] + part[i];
        for (int ch = 1; ch < nc; ch++) s += part[(size_t)ch * total + i];
        dweight[i] = s;
    }
}

// as conv2d_backward_filter, for 3x3 convolutions that wino_fits
static int winograd_backward_filter(float *dweight, const float *dout, const float *inp,
                                    int N, int C, int H, int W, int K) {
    const isa_t isa = pick_isa();
    const wgeom_t g = make_wgeom(C, H, W);
    const int Cp = (C + VL - 1) / VL * VL;   /* padded for the widest path; narrower ones use less */
    const size_t vimg = 16 * ((size_t)g.Tp * Cp + 16), dimg = 16 * ((size_t)K * g.Tp + 16);
    const size_t per_image = sizeof(float) * (vimg + dimg);
    /* Chunks from the shapes only: ~2 MB of transforms each (a lane's four 14x14 images of 32
     * channels in one), at least 8 for a large call. */
    int NB = (int)((2u << 20) / per_image);
    if (NB > N) NB = N;
    if (N >= 64 && NB > N / 8) NB = N / 8;
    if (NB < 1) NB = 1;
    const int nch = (N + NB - 1) / NB;
    const long total = (long)K * C * 9;
    const long per_round = partials_per_round(total, nch);
    const size_t sh_bytes = sizeof(float) * (size_t)per_round * total;
    float *part = scratch(BUF_SHARED, sh_bytes);
    if (!part) return dn_fail(sh_bytes);

    const double flops = 2.0 * N * K * C * 9.0 * H * W;
    dn_fault_t fault = DN_FAULT_INIT;
    for (int c0 = 0; c0 < nch; c0 += (int)per_round) {
        const int nc = nch - c0 < per_round ? nch - c0 : (int)per_round;
        #pragma omp parallel for schedule(static) if (nc > 1 && flops > 4e6)
        for (int ch = c0; ch < c0 + nc; ch++) {
            if (dn_fault_hit(&fault)) continue;
            const int n0 = ch * NB, nb = N - n0 < NB ? N - n0 : NB;
            const size_t xt_bytes = sizeof(float) * 4 * g.pl * (size_t)Cp,
                         x_bytes = sizeof(float) * (4 * (size_t)K * g.pl + (size_t)H * (2 * g.Wh + 2 * VL)),
                         t_bytes = sizeof(float) * ((size_t)nb * (vimg + dimg) + 16 * (size_t)K * Cp);
            float *XT = scratch(BUF_OUT, xt_bytes), *X = XT ? scratch(BUF_PAD, x_bytes) : NULL,
                  *T = X ? scratch(BUF_AUX, t_bytes) : NULL;
            if (!XT) { dn_fault_set(&fault, xt_bytes); continue; }
            if (!X) { dn_fault_set(&fault, x_bytes); continue; }
            if (!T) { dn_fault_set(&fault, t_bytes); continue; }
            isa.bwf_wino(part + (size_t)(ch - c0) * total, inp + (size_t)n0 * C * H * W, dout + (size_t)n0 * K * H * W,
                         XT, X, T, T + (size_t)nb * vimg, T + (size_t)nb * (vimg + dimg), nb, &g, K);
        }
        if (dn_fault_hit(&fault)) return dn_fault_status(&fault);
        add_partials(dweight, part, total, nc, c0 == 0);
    }
    return DN_OK;
}

// dweight (K,C,R,S), dout (N,K,H,W), inp (N,C,H,W)
int conv2d_backward_filter(float *dweight, const float *dout, const float *inp,
                           int N, int C, int H, int W, int K, int R, int S) {
    /* measured (one thread, 4 images): 1.5x at 32->32 and 1.7x at 48->48 on 14x14, 1.08x at 24->24;
     * slower with fewer channels (0.8x at 12->12 on 28x28), where its transforms outweigh the products */
    if (wino_fits(C, K, H, W, R, S, DN_ACT_IDENTITY) && C >= 24 && K >= 24)
        return winograd_backward_filter(dweight, dout, inp, N, C, H, W, K);
    const isa_t isa = pick_isa();
    const int NT = isa.bwf_nt;
    const geom_t g = make_geom(C, H, W, R, S);
    const int J = C * R * S, JG = (J + NT - 1) / NT, Lp = g.V * VL;
    const size_t per_image = sizeof(float) * (g.img + (size_t)K * Lp);
    /* Chunk size from the shapes only (never the thread count): enough images for ~192 blocks of
     * wide outputs, so the lane sums and the per-image setup are spread thin even at 7x7, but at
     * least 8 chunks for a large call (N >= 64, split among threads; a model's image lane calls
     * with a few images on one thread, and there one chunk of all of them costs least), and a few
     * MB of padded copies at most. */
    int NB = (192 + g.V - 1) / g.V;
    if (NB > N) NB = N;
    if (N >= 64 && NB > N / 8) NB = N / 8;
    if (NB > (int)((4u << 20) / per_image)) NB = (int)((4u << 20) / per_image);
    if (NB < 1) NB = 1;
    const int nch = (N + NB - 1) / NB;
    /* wide blocks per pass: the dout block of all K channels of the chunk stays within ~512 KB (L2) */
    int OBV = (int)((512u << 10) / ((size_t)NB * K * VL * sizeof(float)));
    if (OBV < 16) OBV = 16;
    /* chunks go in rounds (partials_per_round), each added to the total in chunk order */
    const long total = (long)K * J;
    const long per_round = partials_per_round(total, nch);

    const size_t sh_bytes = sizeof(float) * (size_t)per_round * total + sizeof(int) * (size_t)JG * NT;
    char *sh = scratch(BUF_SHARED, sh_bytes);
    if (!sh) return dn_fail(sh_bytes);
    float *part = (float *)sh;
    int *off = (int *)(sh + sizeof(float) * (size_t)per_round * total);
    tap_offsets(off, &g);
    for (int j = J; j < JG * NT; j++) off[j] = 0;

    const double flops = 2.0 * N * K * J * H * W;
    dn_fault_t fault = DN_FAULT_INIT;
    for (int c0 = 0; c0 < nch; c0 += (int)per_round) {
        const int nc = nch - c0 < per_round ? nch - c0 : (int)per_round;
        #pragma omp parallel for schedule(static) if (nc > 1 && flops > 4e6)
        for (int ch = c0; ch < c0 + nc; ch++) {
            if (dn_fault_hit(&fault)) continue;   /* the op fails: the rest is wasted work */
            const int n0 = ch * NB, nb = N - n0 < NB ? N - n0 : NB;
            const size_t p_bytes = sizeof(float) * g.img * nb, d_bytes = sizeof(float) * ((size_t)K * Lp * nb + VL);
            float *P = scratch(BUF_PAD, p_bytes);
            if (!P) { dn_fault_set(&fault, p_bytes); continue; }
            float *D = scratch(BUF_AUX, d_bytes);
            if (!D) { dn_fault_set(&fault, d_bytes); continue; }
            isa.bwf(part + (size_t)(ch - c0) * total, inp + (size_t)n0 * C * H * W, dout + (size_t)n0 * K * H * W,
                    P, D, off, nb, &g, K, OBV);
        }
        /* some chunks' partials were never computed: stop (dweight is undefined on failure) */
        if (dn_fault_hit(&fault)) return dn_fault_status(&fault);
        add_partials(dweight, part, total, nc, c0 == 0);
    }
    return DN_OK;
}

// dbias (K), dout (N,K,H,W)
int conv2d_backward_bias(float *dbias, const float *dout, int N, int K, int H, int W) {
    const isa_t isa = pick_isa();
    const size_t HW = (size_t)H * W;
    /* split over channels, sum over n in order: the same bits for any thread count */
    #pragma omp parallel for schedule(static) if ((long)N * K * HW > 65536)
    for (int k = 0; k < K; k++) {
        double s = 0.0;
        for (int n = 0; n < N; n++) s += isa.plane_sum(dout + ((size_t)n * K + k) * HW, HW);
        dbias[k] = (float)s;
    }
    return DN_OK;
}

#else /* CONV2D_ISA: the per-ISA part, included once per ISA from above */

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, CONV2D_ISA)
#define VLOAD(p) (*(const VECU *)(p))
#define VSTORE(p, v) (*(VECU *)(p) = (v))
#if VW == 16
#define SPLAT(x) ({ const float s_ = (x); (VEC){s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_, s_}; })
#elif VW == 8
#define SPLAT(x) ({ const float s_ = (x); (VEC){s_, s_, s_, s_, s_, s_, s_, s_}; })
#else
#define SPLAT(x) ({ const float s_ = (x); (VEC){s_, s_, s_, s_}; })
#endif
#define PIN(x) __asm__("" : "+v"(x))

/* the blocking the common part packs for */
enum { FN(fwd_mk) = FWD_MK, FN(bwf_nt) = BWF_NT };

/* The padding copies run on whole-vector stores that may overrun their row by up to VW-1 floats:
 * every overrun lands on floats of the same buffer that are written again later in the same pass
 * (regions are filled in increasing address order), which is cheaper than a libc call per row of
 * 7 to 28 floats. Reads never pass src_end. */
INLINE ISA_ATTR void FN(copy_over)(float *dst, const float *src, int n, const float *src_end) {
    for (int i = 0; i < n; i += VW) {
        if (src + i + VW <= src_end) VSTORE(dst + i, VLOAD(src + i));
        else for (int l = i; l < n; l++) dst[l] = src[l];
    }
}
INLINE ISA_ATTR void FN(zero_over)(float *dst, size_t n) {
    for (size_t i = 0; i < n; i += VW) VSTORE(dst + i, (VEC){0});
}

// P (g.img), x (C,H,W)
INLINE ISA_ATTR void FN(pad_image)(float *P, const float *x, const geom_t *g) {
    const int pr = (g->R - 1) / 2, ps = (g->S - 1) / 2, W = g->W, Wp = g->Wp;
    const float *xend = x + (size_t)g->C * g->H * W;
    for (int c = 0; c < g->C; c++) {
        float *p = P + (size_t)c * g->plane;
        const float *xc = x + (size_t)c * g->H * W;
        FN(zero_over)(p, (size_t)pr * Wp + ps);
        for (int y = 0; y < g->H; y++) {
            float *row = p + (size_t)(pr + y) * Wp + ps;
            FN(copy_over)(row, xc + (size_t)y * W, W, xend);
            FN(zero_over)(row + W, 2 * ps);   /* right pad of this row, left pad of the next */
        }
        FN(zero_over)(p + (size_t)(pr + g->H) * Wp + ps, (size_t)(g->R - 1 - pr) * Wp);
    }
    /* slack: the overruns above stop < VW past C*plane, inside it */
    for (size_t i = (size_t)g->C * g->plane; i < g->img; i++) P[i] = 0.0f;
}

// D (K, Lp) wide layout (writes up to VW floats past K*Lp), dy (K,H,W)
INLINE ISA_ATTR void FN(pad_dout)(float *D, const float *dy, int K, const geom_t *g) {
    const int Lp = g->V * VL, W = g->W, Wp = g->Wp;
    const float *dend = dy + (size_t)K * g->H * W;
    for (int k = 0; k < K; k++) {
        float *d = D + (size_t)k * Lp;
        const float *s = dy + (size_t)k * g->H * W;
        for (int y = 0; y < g->H; y++) {
            FN(copy_over)(d + (size_t)y * Wp, s + (size_t)y * W, W, dend);
            FN(zero_over)(d + (size_t)y * Wp + W, Wp - W);
        }
        FN(zero_over)(d + (size_t)g->H * Wp, Lp - (size_t)g->H * Wp);
    }
}

/* ---- forward ---- */

/* tile[k][i] = sum_j w[j*MK + k] * P[off[j] + i] (+ bias, ReLU) for MK channels and NV blocks of
 * wide outputs; j runs over all J = C*R*S taps in order. */
INLINE ISA_ATTR void FN(fwd_kernel)(float *tile, const float *P, const int *off, const float *w, int J,
                                    const float *bk, int relu, const int MK, const int NV) {
    const int NQ = NV * (VL / VW);   /* native vectors per channel */
    VEC acc[MK_MAX][NV_MAX * (VL / VW)];
    for (int k = 0; k < MK; k++)
        for (int q = 0; q < NQ; q++) acc[k][q] = (VEC){0};
    for (int j = 0; j < J; j++) {
        const float *p = P + off[j];
#if VW == 8
        /* AVX2 (16 registers): MK weights in registers, then one input vector at a time, so the
         * 3 x 4 block fits (MK + 1 + MK*NQ = 16); the order of the sums is the same either way */
        VEC wk[MK_MAX];
        for (int k = 0; k < MK; k++) wk[k] = SPLAT(w[j * MK + k]);
        for (int q = 0; q < NQ; q++) {
            const VEC x = VLOAD(p + q * VW);
            for (int k = 0; k < MK; k++) acc[k][q] += wk[k] * x;
        }
#else
        VEC x[NV_MAX * (VL / VW)];
        for (int q = 0; q < NQ; q++) x[q] = VLOAD(p + q * VW);
        for (int k = 0; k < MK; k++) {
            const VEC wk = SPLAT(w[j * MK + k]);
            for (int q = 0; q < NQ; q++) acc[k][q] += wk * x[q];
        }
#endif
    }
    for (int k = 0; k < MK; k++) {
        const VEC b = SPLAT(bk ? bk[k] : 0.0f);
        for (int q = 0; q < NQ; q++) {
            VEC a = acc[k][q] + b;
            if (relu) a = (VEC)((VECI)a & (a > 0.0f));   /* NaN -> 0, like bias_act */
            VSTORE(tile + k * (NV_MAX * VL) + q * VW, a);
        }
    }
}

/* Wide outputs [o0, o0+n) of one channel from tile t into the compact (H,W) plane y. Rows go out as
 * whole-vector stores even when shorter: the lanes past a row's end land on later pixels of the
 * same plane, which are written (correctly) afterwards, since a plane is filled in increasing order
 * by one thread. Only stores that would leave the plane fall back to scalars. t is readable for VW
 * floats past n. */
INLINE ISA_ATTR void FN(scatter_wide)(float *y, const float *t, int o0, int n, const geom_t *g) {
    const int Wp = g->Wp, W = g->W;
    const float *yend = y + (size_t)g->H * W;
    int row = o0 / Wp, x = o0 - row * Wp, o = o0;
    const int end = o0 + n;
    while (o < end && row < g->H) {
        const int len = W - x < end - o ? W - x : end - o;
        float *dst = y + (size_t)row * W + x;
        const float *src = t + (o - o0);
        for (int i = 0; i < len; i += VW) {
            if (dst + i + VW <= yend) VSTORE(dst + i, VLOAD(src + i));
            else for (int l = i; l < len; l++) dst[l] = src[l];
        }
        o += Wp - x;
        x = 0;
        row++;
    }
}

/* One image: out (K,H,W) from x (C,H,W), padded into P (g->img); wp packed (see pack_forward),
 * bias (K) or NULL. */
ISA_ATTR static void FN(fwd_image)(float *out, const float *x, float *P, const int *off, const float *wp,
                                   const float *bias, int K, const geom_t *g, int act) {
    enum { MK = FWD_MK };
    /* one output channel (the last layer): wider pixel tiles keep enough FMAs in flight */
    const int NV = K == 1 ? FWD_NV1 : FWD_NV;
    float tile[MK_MAX * NV_MAX * VL + VL] __attribute__((aligned(64)));   /* + overhang read by scatter_wide */
    const int J = g->C * g->R * g->S, relu = act == DN_ACT_RELU, sigm = act == DN_ACT_SIGMOID;
    const size_t HW = (size_t)g->H * g->W;
    FN(pad_image)(P, x, g);
    /* near-equal tiles: 14 blocks go 5+5+4 rather than 6+6+2 */
    const int ntiles = (g->V + NV - 1) / NV;
    /* Tiles go in groups whose input window (C channels x R rows) fits ~16 KB of L1; each channel
     * block sweeps a whole group, so with few input channels (C = 1 or 3) the output is written as
     * a few long streams rather than K short ones at a time (K streams stall on write misses). */
    int group = (4096 / g->C - (g->R - 1) * g->Wp) / (NV * VL);
    if (group < 1) group = 1;
    for (int t0 = 0; t0 < ntiles; t0 += group) {
        const int t1 = ntiles - t0 < group ? ntiles : t0 + group;
        for (int k0 = 0; k0 < K; k0 += MK) {
            const int mk = K - k0 < MK ? K - k0 : MK;
            const float *w = wp + (size_t)k0 * J;
            const float *bk = bias ? bias + k0 : NULL;
            for (int t = t0; t < t1; t++) {
                const int v0 = (int)((long)g->V * t / ntiles), nv = (int)((long)g->V * (t + 1) / ntiles) - v0;
                const float *Pt = P + (size_t)v0 * VL;
                #define FWD_CASE(m, n) case (m) * 8 + (n): \
                    if ((m) <= MK && (n) <= ((m) == 1 && FWD_NV1 > FWD_NV ? FWD_NV1 : FWD_NV)) { FN(fwd_kernel)(tile, Pt, off, w, J, bk, relu, m, n); } break;
                #define FWD_ROW(m) FWD_CASE(m, 1) FWD_CASE(m, 2) FWD_CASE(m, 3) FWD_CASE(m, 4) FWD_CASE(m, 5) FWD_CASE(m, 6)
                switch (mk * 8 + nv) { FWD_ROW(1) FWD_ROW(2) FWD_ROW(3) FWD_ROW(4) }
                #undef FWD_ROW
                #undef FWD_CASE
                if (sigm)   /* the output layer only: scalar expf is fine */
                    for (int k = 0; k < mk; k++)
                        for (int i = 0; i < nv * VL; i++) {
                            float *tk = tile + k * (NV_MAX * VL);
                            tk[i] = 1.0f / (1.0f + expf(-tk[i]));
                        }
                for (int k = 0; k < mk; k++)
                    FN(scatter_wide)(out + (size_t)(k0 + k) * HW, tile + k * (NV_MAX * VL), v0 * VL, nv * VL, g);
            }
        }
    }
}

/* ---- forward, Winograd F(2x2, 3x3) (see wgeom_t) ---- */

/* X (4 planes per channel, g->pl floats each, order (row parity, column parity)) from x (C,H,W):
 * plane(a,b)[y][x'] = x[2y + a - shift][2x' + b - shift], zero outside the image and in the slack
 * (shift 1: the padded input of the tiles; shift 0: a dout's 2x2 blocks). A
 * channel's rows are first copied into rows (one zero, the row, zeros: RW = 2*Wh + 2*VL floats
 * each, H of them), then split into even and odd columns with vector shuffles: splitting straight
 * after each row's copy made every load wait for the copy's stores (a store-forwarding stall on
 * each vector). Rows' whole-vector stores overrun into the next row or the slack, both written
 * afterwards. */
INLINE ISA_ATTR void FN(wino_planes)(float *X, float *rows, const float *x, const wgeom_t *g, int C, int shift) {
    const int H = g->H, W = g->W, Wh = g->Wh, RW = 2 * Wh + 2 * VL;
    for (size_t i = 0; i < (size_t)H * RW; i++) rows[i] = 0.0f;
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * H * W;
        float *pc = X + (size_t)c * 4 * g->pl;
        for (int y = 0; y < H; y++) memcpy(rows + (size_t)y * RW + shift, xc + (size_t)y * W, sizeof(float) * W);
        for (int yp = 0; yp < 2 * (g->th + 1); yp++) {
            const int sy = yp - shift, a = yp & 1;
            float *ev = pc + (size_t)(a * 2) * g->pl + (size_t)(yp >> 1) * Wh, *od = ev + g->pl;
            if (sy < 0 || sy >= H) {
                FN(zero_over)(ev, Wh);
                FN(zero_over)(od, Wh);
                continue;
            }
            const float *prow = rows + (size_t)sy * RW;   /* prow[shift + x] = x[sy][x] */
            for (int i = 0; i < Wh; i += VW) {
                const VEC lo = VLOAD(prow + 2 * i), hi = VLOAD(prow + 2 * i + VW);
#if VW == 16
                VSTORE(ev + i, __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
                VSTORE(od + i, __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31));
#elif VW == 8
                VSTORE(ev + i, __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14));
                VSTORE(od + i, __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15));
#else
                VSTORE(ev + i, __builtin_shufflevector(lo, hi, 0, 2, 4, 6));
                VSTORE(od + i, __builtin_shufflevector(lo, hi, 1, 3, 5, 7));
#endif
            }
        }
        for (int p = 0; p < 4; p++)
            for (size_t i = (size_t)(g->th + 1) * Wh; i < g->pl; i++) pc[(size_t)p * g->pl + i] = 0.0f;
    }
}

/* V (16, C, Tp) = B^T d B of every wide tile, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
INLINE ISA_ATTR void FN(wino_input)(float *V, const float *X, const wgeom_t *g) {
    const int Wh = g->Wh, Tp = g->Tp;
    const size_t xi_stride = wino_xi_stride(g);
    for (int c = 0; c < g->C; c++) {
        const float *pc = X + (size_t)c * 4 * g->pl;
        for (int t = 0; t < Tp; t += VW) {
            VEC e[4][4];
            for (int s = 0; s < 4; s++) {   /* B^T down each column s of the tile */
                VEC d[4];
                for (int r = 0; r < 4; r++)
                    d[r] = VLOAD(pc + (size_t)((r & 1) * 2 + (s & 1)) * g->pl + t + (r >> 1) * Wh + (s >> 1));
                e[0][s] = d[0] - d[2];
                e[1][s] = d[1] + d[2];
                e[2][s] = d[2] - d[1];
                e[3][s] = d[1] - d[3];
            }
            float *v = V + (size_t)c * Tp + t;
            for (int i = 0; i < 4; i++) {   /* ... then B along each row i */
                VSTORE(v + (size_t)(i * 4 + 0) * xi_stride, e[i][0] - e[i][2]);
                VSTORE(v + (size_t)(i * 4 + 1) * xi_stride, e[i][1] + e[i][2]);
                VSTORE(v + (size_t)(i * 4 + 2) * xi_stride, e[i][2] - e[i][1]);
                VSTORE(v + (size_t)(i * 4 + 3) * xi_stride, e[i][1] - e[i][3]);
            }
        }
    }
}

/* One image through the Winograd path: out (K,H,W), or (K,H/2,W/2) 2x2 block sums when down, from
 * x (C,H,W); X, V, Mt this thread's scratch (see winograd_common), U packed (pack_winograd). The
 * 16 products of a block of tiles use the direct kernel (fwd_kernel) with the input channels as its
 * taps; Y = A^T M A, A^T = [1 1 1 0; 0 1 -1 -1], then bias and activation as bias_act. */
ISA_ATTR static void FN(wino_image)(float *out, const float *x, float *X, float *V, float *Mt, const int *off,
                                    const float *U, const float *bias, int K, const wgeom_t *g, int act, int down) {
    enum { MK = FWD_MK };
    const int C = g->C, H = g->H, W = g->W, Wh = g->Wh, tw = g->tw, relu = act == DN_ACT_RELU;
    const int TS = MK_MAX * NV_MAX * VL + VL;   /* floats per xi in Mt */
    FN(wino_planes)(X, X + 4 * (size_t)C * g->pl, x, g, C, 1);
    FN(wino_input)(V, X, g);
    const int V16 = g->Tp / VL, ntiles = (V16 + FWD_NV - 1) / FWD_NV;
    float y[4][NV_MAX * VL] __attribute__((aligned(64)));
    for (int tg = 0; tg < ntiles; tg++) {
        const int v0 = (int)((long)V16 * tg / ntiles), nv = (int)((long)V16 * (tg + 1) / ntiles) - v0;
        for (int k0 = 0; k0 < K; k0 += MK) {
            const int mk = K - k0 < MK ? K - k0 : MK;
            for (int xi = 0; xi < 16; xi++) {
                const float *Vx = V + (size_t)xi * wino_xi_stride(g) + (size_t)v0 * VL;
                const float *w = U + (size_t)xi * K * C + (size_t)k0 * C;
                float *tile = Mt + (size_t)xi * TS;
                #define WINO_CASE(m, n) case (m) * 8 + (n): \
                    if ((m) <= MK && (n) <= FWD_NV) { FN(fwd_kernel)(tile, Vx, off, w, C, NULL, 0, m, n); } break;
                #define WINO_ROW(m) WINO_CASE(m, 1) WINO_CASE(m, 2) WINO_CASE(m, 3) WINO_CASE(m, 4) WINO_CASE(m, 5) WINO_CASE(m, 6)
                switch (mk * 8 + nv) { WINO_ROW(1) WINO_ROW(2) WINO_ROW(3) WINO_ROW(4) }
                #undef WINO_ROW
                #undef WINO_CASE
            }
            for (int k = 0; k < mk; k++) {
                const VEC bk = SPLAT(bias ? bias[k0 + k] : 0.0f);
                for (int i = 0; i < nv * VL; i += VW) {
                    VEC m[16], a[2][4];
                    for (int xi = 0; xi < 16; xi++) m[xi] = VLOAD(Mt + (size_t)xi * TS + k * (NV_MAX * VL) + i);
                    for (int j = 0; j < 4; j++) {   /* A^T down each column */
                        a[0][j] = (m[j] + m[4 + j]) + m[8 + j];
                        a[1][j] = (m[4 + j] - m[8 + j]) - m[12 + j];
                    }
                    for (int r = 0; r < 2; r++) {   /* ... then A along each row */
                        VEC y0 = (a[r][0] + a[r][1]) + a[r][2], y1 = (a[r][1] - a[r][2]) - a[r][3];
                        if (!down) {
                            y0 += bk;
                            y1 += bk;
                            if (relu) {
                                y0 = (VEC)((VECI)y0 & (y0 > 0.0f));   /* NaN -> 0, like bias_act */
                                y1 = (VEC)((VECI)y1 & (y1 > 0.0f));
                            }
                        }
                        VSTORE(&y[r * 2][i], y0);
                        VSTORE(&y[r * 2 + 1][i], y1);
                    }
                }
                /* the wide tiles [v0*VL, (v0+nv)*VL) of this channel into the output, row by row */
                const int t0 = v0 * VL, t1 = t0 + nv * VL;
                for (int ty = t0 / Wh; ty < g->th && ty * Wh < t1; ty++) {
                    const int a0 = ty * Wh < t0 ? t0 - ty * Wh : 0, a1 = (ty + 1) * Wh > t1 ? t1 - ty * Wh : tw;
                    const int b1 = a1 < tw ? a1 : tw;
                    const float *y00 = &y[0][ty * Wh - t0], *y01 = &y[1][ty * Wh - t0];
                    const float *y10 = &y[2][ty * Wh - t0], *y11 = &y[3][ty * Wh - t0];
                    if (down) {   /* the 2x2 block sums, as sum2x2 adds them */
                        float *o = out + ((size_t)(k0 + k) * (H / 2) + ty) * (W / 2);
                        for (int tx = a0; tx < b1; tx++) o[tx] = (y00[tx] + y01[tx]) + (y10[tx] + y11[tx]);
                        continue;
                    }
                    float *o0 = out + ((size_t)(k0 + k) * H + 2 * ty) * W, *o1 = o0 + W;
                    const int last = 2 * ty + 1 < H;
                    for (int tx = a0; tx < b1; tx++) {
                        o0[2 * tx] = y00[tx];
                        if (2 * tx + 1 < W) o0[2 * tx + 1] = y01[tx];
                        if (last) {
                            o1[2 * tx] = y10[tx];
                            if (2 * tx + 1 < W) o1[2 * tx + 1] = y11[tx];
                        }
                    }
                }
            }
        }
    }
}

/* ---- backward filter ---- */

/* Lane sum in a fixed order (halves first). */
INLINE ISA_ATTR float FN(hsum)(VEC a) {
#if VW == 16
    vf8 b = __builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7) +
            __builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15);
    vf4 c = __builtin_shufflevector(b, b, 0, 1, 2, 3) + __builtin_shufflevector(b, b, 4, 5, 6, 7);
#elif VW == 8
    vf4 c = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
#else
    vf4 c = a;
#endif
    return (c[0] + c[2]) + (c[1] + c[3]);
}

/* sums[k*NT + t] = sum over images i < nb and wide outputs o in [v0*VL, v1*VL) of
 * D[i][k][o] * P[i][off[t] + o], for MK channels (rows of D, Lp apart) and NT taps. */
INLINE ISA_ATTR void FN(bwf_kernel)(float *sums, const float *P, const float *D, const int *off, int nb,
                                    size_t img, size_t dimg, int Lp, int v0, int v1, const int MK, const int NT) {
    VEC acc[MK_MAX][NT_MAX];
    for (int k = 0; k < MK; k++)
        for (int t = 0; t < NT; t++) acc[k][t] = (VEC){0};
    for (int i = 0; i < nb; i++) {
        const float *Pi = P + i * img, *Di = D + i * dimg;
        const float *pt[NT_MAX];
        for (int t = 0; t < NT; t++) pt[t] = Pi + off[t];
        for (int o = v0 * VL; o < v1 * VL; o += VW) {
            VEC d[MK_MAX];
            for (int k = 0; k < MK; k++) d[k] = VLOAD(Di + (size_t)k * Lp + o);
            for (int t = 0; t < NT; t++) {
                VEC x = VLOAD(pt[t] + o);
                PIN(x);
                for (int k = 0; k < MK; k++) acc[k][t] += d[k] * x;
            }
        }
    }
    for (int k = 0; k < MK; k++)
        for (int t = 0; t < NT; t++) sums[k * NT + t] = FN(hsum)(acc[k][t]);
}

/* ---- backward filter, Winograd F(2x2, 3x3) ----
 * dU_xi (K, C) = sum over images and tiles of DM_xi[k][t] V_xi[c][t], then dW = G^T dU G. The sum
 * runs over tiles, so V is kept tile-major here (VT[xi][t][c], channels innermost): the products
 * vectorise over c with each DM value broadcast, and the accumulators are the result, with no
 * lane sums (the tile-vectorised layout of the forward needed one per (k, c, xi) per lane of
 * images, which cost as much as the products). */

/* XT (4 planes of g->pl positions, Cp floats each: channels innermost, zero past C) from x (C,H,W):
 * plane(a,b) position y*Wh + x' holds x[2y + a - 1][2x' + b - 1] (see wino_planes, shift 1). */
INLINE ISA_ATTR void FN(wino_planes_t)(float *XT, const float *x, const wgeom_t *g, int Cp) {
    const int H = g->H, W = g->W, Wh = g->Wh;
    const size_t HW = (size_t)H * W;
    memset(XT, 0, sizeof(float) * 4 * g->pl * (size_t)Cp);
    for (int y = 0; y < H; y++)
        for (int xx = 0; xx < W; xx++) {   /* one position's channels: contiguous writes, strided reads */
            const int yp = y + 1, xp = xx + 1, p = (yp & 1) * 2 + (xp & 1);
            float *dst = XT + ((size_t)p * g->pl + (size_t)(yp >> 1) * Wh + (xp >> 1)) * Cp;
            const float *src = x + (size_t)y * W + xx;
            for (int c = 0; c < g->C; c++) dst[c] = src[c * HW];
        }
}

/* VT (16, Tp, Cp), xi stride vs = Tp*Cp + 16: B^T d B of every wide tile, channels innermost. */
INLINE ISA_ATTR void FN(wino_input_t)(float *VT, const float *XT, const wgeom_t *g, int Cp, size_t vs) {
    const int Wh = g->Wh;
    for (int t = 0; t < g->Tp; t++)
        for (int c0 = 0; c0 < Cp; c0 += VW) {
            VEC e[4][4];
            for (int s = 0; s < 4; s++) {
                VEC d[4];
                for (int r = 0; r < 4; r++)
                    d[r] = VLOAD(XT + ((size_t)((r & 1) * 2 + (s & 1)) * g->pl + t + (r >> 1) * Wh + (s >> 1)) * Cp + c0);
                e[0][s] = d[0] - d[2];
                e[1][s] = d[1] + d[2];
                e[2][s] = d[2] - d[1];
                e[3][s] = d[1] - d[3];
            }
            float *v = VT + (size_t)t * Cp + c0;
            for (int i = 0; i < 4; i++) {
                VSTORE(v + (size_t)(i * 4 + 0) * vs, e[i][0] - e[i][2]);
                VSTORE(v + (size_t)(i * 4 + 1) * vs, e[i][1] + e[i][2]);
                VSTORE(v + (size_t)(i * 4 + 2) * vs, e[i][2] - e[i][1]);
                VSTORE(v + (size_t)(i * 4 + 3) * vs, e[i][1] - e[i][3]);
            }
        }
}

/* DM (16, K, Tp), xi stride ds = K*Tp + 16: A dY A^T of every wide tile's 2x2 block of dout,
 * A = [1 0; 1 1; 1 -1; 0 -1]; X holds dout's planes (wino_planes, shift 0). */
INLINE ISA_ATTR void FN(wino_dout)(float *DM, const float *X, const wgeom_t *g, int K, size_t ds) {
    const int Tp = g->Tp;
    for (int k = 0; k < K; k++) {
        const float *pk = X + (size_t)k * 4 * g->pl;
        for (int t = 0; t < Tp; t += VW) {
            VEC q[4][2];
            for (int b = 0; b < 2; b++) {   /* A down each column b of the block */
                const VEC y0 = VLOAD(pk + (size_t)b * g->pl + t), y1 = VLOAD(pk + (size_t)(2 + b) * g->pl + t);
                q[0][b] = y0;
                q[1][b] = y0 + y1;
                q[2][b] = y0 - y1;
                q[3][b] = -y1;
            }
            float *d = DM + (size_t)k * Tp + t;
            for (int i = 0; i < 4; i++) {   /* ... then A^T along each row */
                VSTORE(d + (size_t)(i * 4 + 0) * ds, q[i][0]);
                VSTORE(d + (size_t)(i * 4 + 1) * ds, q[i][0] + q[i][1]);
                VSTORE(d + (size_t)(i * 4 + 2) * ds, q[i][0] - q[i][1]);
                VSTORE(d + (size_t)(i * 4 + 3) * ds, -q[i][1]);
            }
        }
    }
}

/* dU[k][c0 + q*VW ...] (rows Cp apart) = sum over images i < nb and tiles t < T of DM[i][k][t] *
 * VT[i][t][c0 + ...], for MK channels k (rows Tp apart in DM) and NC vectors of c. */
INLINE ISA_ATTR void FN(bww_kernel)(float *dU, const float *VT, const float *DM, int nb, size_t vimg, size_t dimg,
                                    int T, int Tp, int Cp, const int MK, const int NC) {
    VEC acc[16][2];
    for (int k = 0; k < MK; k++)
        for (int q = 0; q < NC; q++) acc[k][q] = (VEC){0};
    for (int i = 0; i < nb; i++) {
        const float *v = VT + i * vimg, *d = DM + i * dimg;
        for (int t = 0; t < T; t++) {
            VEC x[2];
            for (int q = 0; q < NC; q++) x[q] = VLOAD(v + (size_t)t * Cp + q * VW);
            for (int k = 0; k < MK; k++) {
                const VEC dk = SPLAT(d[(size_t)k * Tp + t]);
                for (int q = 0; q < NC; q++) acc[k][q] += dk * x[q];
            }
        }
    }
    for (int k = 0; k < MK; k++)
        for (int q = 0; q < NC; q++) VSTORE(dU + (size_t)k * Cp + q * VW, acc[k][q]);
}

/* One chunk of nb images through Winograd: part (K, C, 3, 3) = its share of dweight, from x
 * (nb,C,H,W) and dy (nb,K,H,W). XT: one image's tile-major planes; X: one dout's planes (and rows);
 * VT, DM: all nb images' transforms; dU: 16 x K x Cp. */
ISA_ATTR static void FN(bwf_wino_chunk)(float *part, const float *x, const float *dy, float *XT, float *X, float *VT,
                                        float *DM, float *dU, int nb, const wgeom_t *g, int K) {
    enum { MK = BWW_MK };
    const int C = g->C, Cp = (C + VW - 1) / VW * VW, Tp = g->Tp, T = g->th * g->Wh;
    const size_t HW = (size_t)g->H * g->W, vs = (size_t)Tp * Cp + 16, ds = (size_t)K * Tp + 16;
    const size_t vimg = 16 * vs, dimg = 16 * ds;
    for (int i = 0; i < nb; i++) {
        FN(wino_planes_t)(XT, x + (size_t)i * C * HW, g, Cp);
        FN(wino_input_t)(VT + i * vimg, XT, g, Cp, vs);
        FN(wino_planes)(X, X + 4 * (size_t)K * g->pl, dy + (size_t)i * K * HW, g, K, 0);
        FN(wino_dout)(DM + i * dimg, X, g, K, ds);
    }
    for (int xi = 0; xi < 16; xi++) {
        const float *V = VT + (size_t)xi * vs, *D = DM + (size_t)xi * ds;
        float *U = dU + (size_t)xi * K * Cp;
        for (int c0 = 0; c0 < Cp; c0 += 2 * VW) {
            const int nc = Cp - c0 >= 2 * VW ? 2 : 1;
            for (int k0 = 0; k0 < K; k0 += MK) {
                const int mk = K - k0 < MK ? K - k0 : MK;
                #define BWW_CASE(m, n) case (m) * 4 + (n): \
                    if ((m) <= MK) { FN(bww_kernel)(U + (size_t)k0 * Cp + c0, V + c0, D + (size_t)k0 * Tp, nb, vimg, dimg, T, Tp, Cp, m, n); } break;
                #define BWW_ROW(m) BWW_CASE(m, 1) BWW_CASE(m, 2)
                switch (mk * 4 + nc) {
                    BWW_ROW(1) BWW_ROW(2) BWW_ROW(3) BWW_ROW(4) BWW_ROW(5) BWW_ROW(6)
                    BWW_ROW(7) BWW_ROW(8) BWW_ROW(9) BWW_ROW(10) BWW_ROW(11) BWW_ROW(12)
                }
                #undef BWW_ROW
                #undef BWW_CASE
            }
        }
    }
    /* dW = G^T dU G, G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1], VW channels at a time, each
     * tap's VW values then scattered to part's (k, c, 3, 3) layout */
    const VEC half = SPLAT(0.5f);
    float wt[9][VW] __attribute__((aligned(64)));
    for (int k = 0; k < K; k++)
        for (int c0 = 0; c0 < C; c0 += VW) {
            VEC u[4][4], t[3][4];
            for (int xi = 0; xi < 16; xi++) u[xi / 4][xi % 4] = VLOAD(dU + ((size_t)xi * K + k) * Cp + c0);
            for (int j = 0; j < 4; j++) {
                t[0][j] = u[0][j] + half * (u[1][j] + u[2][j]);
                t[1][j] = half * (u[1][j] - u[2][j]);
                t[2][j] = half * (u[1][j] + u[2][j]) + u[3][j];
            }
            for (int r = 0; r < 3; r++) {
                VSTORE(wt[r * 3 + 0], t[r][0] + half * (t[r][1] + t[r][2]));
                VSTORE(wt[r * 3 + 1], half * (t[r][1] - t[r][2]));
                VSTORE(wt[r * 3 + 2], half * (t[r][1] + t[r][2]) + t[r][3]);
            }
            for (int l = 0; l < VW && c0 + l < C; l++)
                for (int j = 0; j < 9; j++) part[((size_t)k * C + c0 + l) * 9 + j] = wt[j][l];
        }
}

/* One chunk of nb images: part (K, J) = its share of dweight, from x (nb,C,H,W) and dy (nb,K,H,W).
 * They are padded into P: nb images g.img apart, and D: nb douts K*Lp apart, zero at the wide
 * columns past W and past H*Wp. off: the tap offsets padded to whole groups of NT (the extra taps
 * read valid memory and are dropped). */
INLINE ISA_ATTR void FN(bwf_sweep)(float *part, const float *P, const float *D, const int *off, int nb,
                                   const geom_t *g, int K, int OBV, const int MK, const int NT) {
    const int J = g->C * g->R * g->S, JG = (J + NT - 1) / NT, Lp = g->V * VL;
    const size_t dimg = (size_t)K * Lp;
    float sums[MK_MAX * NT_MAX];
    for (int v0 = 0; v0 < g->V; v0 += OBV) {
        const int v1 = g->V - v0 < OBV ? g->V : v0 + OBV;
        for (int jg = 0; jg < JG; jg++) {
            const int *o = off + jg * NT;
            for (int k0 = 0; k0 < K;) {
                const int mk = K - k0 >= MK ? MK : 1;
                const float *Dk = D + (size_t)k0 * Lp;
                if (mk == MK) FN(bwf_kernel)(sums, P, Dk, o, nb, g->img, dimg, Lp, v0, v1, MK, NT);
                else FN(bwf_kernel)(sums, P, Dk, o, nb, g->img, dimg, Lp, v0, v1, 1, NT);
                for (int k = 0; k < mk; k++)
                    for (int t = 0; t < NT && jg * NT + t < J; t++) {
                        float *dst = part + (size_t)(k0 + k) * J + jg * NT + t;
                        *dst = (v0 == 0 ? 0.0f : *dst) + sums[k * NT + t];
                    }
                k0 += mk;
            }
        }
    }
}

ISA_ATTR static void FN(bwf_chunk)(float *part, const float *x, const float *dy, float *P, float *D,
                                   const int *off, int nb, const geom_t *g, int K, int OBV) {
    const int Lp = g->V * VL;
    const size_t dimg = (size_t)K * Lp, HW = (size_t)g->H * g->W;
    for (int i = 0; i < nb; i++) {
        FN(pad_image)(P + i * g->img, x + (size_t)i * g->C * HW, g);
        FN(pad_dout)(D + i * dimg, dy + (size_t)i * K * HW, K, g);
    }
#if VW == 8
    /* one input channel, 3x3 (the first layer): 9 taps are one and a half groups of 6 (a third of
     * the FMAs wasted); 3 channels x 3 taps (13 ymm) cover them exactly */
    if (g->C * g->R * g->S == 9 && K >= 3) {
        FN(bwf_sweep)(part, P, D, off, nb, g, K, OBV, 3, 3);
        return;
    }
#endif
    FN(bwf_sweep)(part, P, D, off, nb, g, K, OBV, BWF_MK, BWF_NT);
}

/* ---- backward bias ---- */

// x (n)
ISA_ATTR static float FN(plane_sum)(const float *x, size_t n) {
    VEC a0 = {0}, a1 = {0};
    size_t i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        a0 += VLOAD(x + i);
        a1 += VLOAD(x + i + VW);
    }
    float s = FN(hsum)(a0 + a1);
    for (; i < n; i++) s += x[i];
    return s;
}

#undef CAT2
#undef CAT
#undef FN
#undef VLOAD
#undef VSTORE
#undef SPLAT
#undef PIN
#endif /* CONV2D_ISA */
