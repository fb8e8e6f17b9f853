/*
 * pool.cu — GPU twins of native/pool.c: 2x2 max-pool, stride 2, forward and backward (NCHW).
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile).
 *
 * Ties: the first maximum in window order r0[0], r0[1], r1[0], r1[1] wins, exactly as pool.c (and
 * PyTorch), so CPU and GPU route a tied gradient to the same element. Backward recomputes the argmax
 * from inp (no index tensor). Forward moves 1.25 floats per input element, backward about 2.25.
 */
#include "common.cuh"

// Offset within the window (0: r0[0], 1: r0[1], 2: r1[0], 3: r1[1]) of its first maximum.
static __device__ __forceinline__ int pool_argmax(const float *r0, const float *r1) {
    float m = r0[0];
    int best = 0;
    if (r0[1] > m) { m = r0[1]; best = 1; }
    if (r1[0] > m) { m = r1[0]; best = 2; }
    if (r1[1] > m) { best = 3; }
    return best;
}

// out (N,C,H/2,W/2), inp (N,C,H,W). One thread per output element.
extern "C" __global__ void maxpool2d_forward(float *out, const float *inp, int N, int C, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    DN_GRID_STRIDE(o, (long long)N * C * Ho * Wo) {
        long long p = o / ((long long)Ho * Wo);
        int r = (int)(o - p * Ho * Wo), i = r / Wo, j = r - i * Wo;
        const float *r0 = inp + p * H * W + (long long)(2 * i) * W + 2 * j, *r1 = r0 + W;
        float m = r0[0];
        if (r0[1] > m) m = r0[1];
        if (r1[0] > m) m = r1[0];
        if (r1[1] > m) m = r1[1];
        out[o] = m;
    }
}

// The gradient of dinp element e (one thread each, so every element is written exactly once: no
// races, no memset): the window's argmax gets dout, the rest 0, and an odd last row/column
// (outside every window) gets 0.
__device__ __forceinline__ float pool_backward_element(long long e, const float *dout, const float *inp,
                                                       int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    long long p = e / ((long long)H * W);
    int r = (int)(e - p * H * W), h = r / W, w = r - h * W;
    int i = h / 2, j = w / 2;
    if (i >= Ho || j >= Wo) return 0.0f;
    const float *r0 = inp + p * H * W + (long long)(2 * i) * W + 2 * j;
    if (pool_argmax(r0, r0 + W) != 2 * (h - 2 * i) + (w - 2 * j)) return 0.0f;
    return dout[p * Ho * Wo + i * Wo + j];
}

// dinp (N,C,H,W), dout (N,C,H/2,W/2), inp (N,C,H,W)
extern "C" __global__ void maxpool2d_backward(float *dinp, const float *dout, const float *inp,
                                              int N, int C, int H, int W) {
    DN_GRID_STRIDE(e, (long long)N * C * H * W) dinp[e] = pool_backward_element(e, dout, inp, H, W);
}

// maxpool2d_backward, plus the skip gradient dskip (N,C,H,W) when not NULL, then the ReLU backward
// of the layer whose ReLU output is inp: (pooled + dskip) * relu'(inp), pool.c's operations in its
// order. The bias gradient is the channel sum of bias_act.cu over dinp afterwards (CudaKernels).
extern "C" __global__ void maxpool2d_relu_backward(float *dinp, const float *dout, const float *dskip,
                                                   const float *inp, int N, int C, int H, int W) {
    DN_GRID_STRIDE(e, (long long)N * C * H * W) {
        float g = pool_backward_element(e, dout, inp, H, W);
        if (dskip) g = g + dskip[e];
        dinp[e] = g * (inp[e] > 0.0f ? 1.0f : 0.0f);
    }
}
