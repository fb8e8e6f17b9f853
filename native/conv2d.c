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

/* ------------------------------------------------------------------------------------------------ */
typedef void (*fwd_image_fn)(float *out, const float *x, float *P, const int *off, const float *wp,
                             const float *bias, int K, const geom_t *g, int act);
typedef void (*bwf_chunk_fn)(float *part, const float *x, const float *dy, float *P, float *D, const int *off,
                             int nb, const geom_t *g, int K, int OBV);
typedef struct {
    int fwd_mk;    /* forward channel block */
    int bwf_nt;    /* backward-filter tap group */
    fwd_image_fn fwd;
    bwf_chunk_fn bwf;
    float (*plane_sum)(const float *x, size_t n);
} isa_t;

/* The level of runtime_isa(): the best the CPU has, unless a test capped it. */
static isa_t pick_isa(void) {
    const int level = runtime_isa();
    if (level >= DN_ISA_AVX512)
        return (isa_t){fwd_mk_avx512, bwf_nt_avx512, fwd_image_avx512, bwf_chunk_avx512, plane_sum_avx512};
    if (level == DN_ISA_AVX2)
        return (isa_t){fwd_mk_avx2, bwf_nt_avx2, fwd_image_avx2, bwf_chunk_avx2, plane_sum_avx2};
    return (isa_t){fwd_mk_generic, bwf_nt_generic, fwd_image_generic, bwf_chunk_generic, plane_sum_generic};
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

// out (N,Ko,H,W), or (N,Ko,H/2,W/2) when down (each image's 2x2 block sums), inp (N,Ci,H,W),
// weight (Ko,Ci,R,S) or, flipped, (Ci,Ko,R,S); bias (Ko) or NULL
static int forward_common(float *out, const float *inp, const float *weight, const float *bias,
                          int N, int Ci, int H, int W, int Ko, int R, int S, int act, int flip, int down) {
    const isa_t isa = pick_isa();
    const geom_t g = make_geom(Ci, H, W, R, S);
    const int J = Ci * R * S;
    /* shared, read-only inside the parallel region */
    const size_t sh_bytes = sizeof(float) * (size_t)Ko * J + sizeof(int) * (size_t)J;
    char *sh = scratch(BUF_SHARED, sh_bytes);
    if (!sh) return dn_fail(sh_bytes);
    float *wp = (float *)sh;
    int *off = (int *)(sh + sizeof(float) * (size_t)Ko * J);
    pack_forward(wp, weight, Ko, Ci, R, S, isa.fwd_mk, flip);
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

// dweight (K,C,R,S), dout (N,K,H,W), inp (N,C,H,W)
int conv2d_backward_filter(float *dweight, const float *dout, const float *inp,
                           int N, int C, int H, int W, int K, int R, int S) {
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
    /* Chunks go in rounds whose partials take ~16 MB at most (a whole training set in one call
     * must not allocate a partial per chunk); each round is added to the total in chunk order. */
    const long total = (long)K * J;
    long per_round = (4l << 20) / total;
    per_round = per_round < 8 ? 8 : per_round > 256 ? 256 : per_round;
    if (per_round > nch) per_round = nch;

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
        #pragma omp parallel for schedule(static) if (total * nc > 65536)
        for (long i = 0; i < total; i++) {
            float s = c0 == 0 ? part[i] : dweight[i] + part[i];
            for (int ch = 1; ch < nc; ch++) s += part[(size_t)ch * total + i];
            dweight[i] = s;
        }
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
