/*
 * upsample.cu — GPU twins of native/upsample.c: 2x nearest-neighbour upsample (NCHW).
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile).
 * Forward writes 4 floats per input float; backward reads 4 and writes 1, adding them in upsample.c's
 * order (r0[0] + r0[1]) + (r1[0] + r1[1]), so the GPU's dinp has the CPU's exact bits.
 */
#include "common.cuh"

// out (N,C,2H,2W), inp (N,C,H,W). One thread per output element (coalesced writes).
extern "C" __global__ void upsample2d_forward(float *out, const float *inp, int N, int C, int H, int W) {
    const int H2 = 2 * H, W2 = 2 * W;
    DN_GRID_STRIDE(o, (long long)N * C * H2 * W2) {
        long long p = o / ((long long)H2 * W2);
        int r = (int)(o - p * H2 * W2), y = r / W2, x = r - y * W2;
        out[o] = inp[p * H * W + (long long)(y / 2) * W + x / 2];
    }
}

// dinp (N,C,H,W), dout (N,C,2H,2W). One thread per dinp element.
extern "C" __global__ void upsample2d_backward(float *dinp, const float *dout, int N, int C, int H, int W) {
    const int W2 = 2 * W;
    DN_GRID_STRIDE(e, (long long)N * C * H * W) {
        long long p = e / ((long long)H * W);
        int r = (int)(e - p * H * W), i = r / W, j = r - i * W;
        const float *r0 = dout + p * 4 * H * W + (long long)(2 * i) * W2 + 2 * j, *r1 = r0 + W2;
        dinp[e] = (r0[0] + r0[1]) + (r1[0] + r1[1]);
    }
}
