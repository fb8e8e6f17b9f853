/*
 * gather.cu — gather_rows: copy the rows (images) named by an index list from a device-resident data
 * set into one contiguous batch, so a shuffled batch is assembled on the GPU and no image crosses
 * PCIe during training (MNIST's 60000 x 784 floats, 188 MB, are uploaded once).
 * Build: part of cuda/build/denoise.fatbin (see ../Makefile).
 *
 * Indices are floats holding exact integers (below DN_MAX_GATHER_ROWS, checked on the host), so the
 * op table keeps to float tensors. A kernel cannot throw: an index that is out of range or not an
 * integer fills its row with NaN, which shows up in the loss instead of reading outside the data set.
 * Copy-bound: reads and writes B x D floats; a 64 x 784 batch is 400 KB, ~1 us of bandwidth.
 */
#include "common.cuh"

static_assert(DN_MAX_GATHER_ROWS <= (1 << 24), "every row number must be exact in a float");

// out (B,D), inp (rows,D), idx (B).
extern "C" __global__ void gather_rows(float *out, const float *inp, const float *idx, int B, int rows,
                                       long long D) {
    DN_GRID_STRIDE(e, (long long)B * D) {
        long long b = e / D, j = e - b * D;
        float f = idx[b];
        int r = (int)f;
        out[e] = (r >= 0 && r < rows && (float)r == f) ? inp[(long long)r * D + j] : __int_as_float(0x7fc00000);
    }
}
