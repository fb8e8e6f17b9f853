package dev.denoise.backend;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The shape rules of the op table, used only by {@link Backend}: each one checks the tensors of one
 * kind of op and returns the named sizes the raw kernels take. A wrong call is an
 * IllegalArgumentException naming the op and the tensor, thrown in Java before native code could read
 * out of bounds, and the same on every backend because there is only this one copy.
 */
final class Checks {
    private Checks() {}

    static IllegalArgumentException bad(String op, String what, Tensor t) {
        return new IllegalArgumentException(op + ": " + what + " has shape " + Arrays.toString(t.shape()));
    }

    static void same(String op, String name, Tensor t, Tensor ref) {
        if (!t.sameShape(ref)) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(ref.shape()));
        }
    }

    static void shape(String op, String name, Tensor t, int... expected) {
        if (!Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(expected));
        }
    }

    static int[] rank(String op, String name, Tensor t, int rank) {
        if (t.rank() != rank) throw bad(op, name + " (rank " + rank + " expected)", t);
        return t.shape();
    }

    static GemmDims gemm(boolean ta, boolean tb, Tensor a, Tensor b, Tensor c) {
        int[] as = rank("gemm", "a", a, 2), bs = rank("gemm", "b", b, 2), cs = rank("gemm", "c", c, 2);
        int m = ta ? as[1] : as[0], k = ta ? as[0] : as[1];
        int kb = tb ? bs[1] : bs[0], n = tb ? bs[0] : bs[1];
        if (k != kb || cs[0] != m || cs[1] != n) {
            throw new IllegalArgumentException("gemm: op(a) " + m + "x" + k + " times op(b) " + kb + "x" + n
                    + " into c " + Arrays.toString(cs));
        }
        return new GemmDims(ta, tb, m, n, k, as[1], bs[1], cs[1]);
    }

    /** out and inp (N, C, ...) of one shape, bias (C) or null. */
    static ChannelDims biasAct(String op, Tensor out, Tensor inp, Tensor bias) {
        same(op, "out", out, inp);
        if (inp.rank() < 2) throw bad(op, "inp (rank >= 2 expected)", inp);
        int n = inp.dim(0), c = inp.dim(1);
        if (bias != null) shape(op, "bias", bias, c);
        long hw = inp.numel() / Math.max(1L, (long) n * c);
        return new ChannelDims(n, c, Math.toIntExact(hw));
    }

    /** inp (N,C,H,W), weight (K,C,R,S) with R and S odd, out (N,K,H,W). */
    static ConvDims conv2d(String op, Tensor out, Tensor inp, Tensor weight) {
        int[] x = rank(op, "inp", inp, 4), w = rank(op, "weight", weight, 4);
        if (w[1] != x[1]) {
            throw new IllegalArgumentException(op + ": weight " + Arrays.toString(w) + " does not take "
                    + x[1] + " input channels");
        }
        if (w[2] % 2 == 0 || w[3] % 2 == 0) throw bad(op, "weight (odd kernel sizes expected)", weight);
        shape(op, "out", out, x[0], w[0], x[2], x[3]);
        return new ConvDims(x[0], x[1], x[2], x[3], w[0], w[2], w[3]);
    }

    /** A conv on an upsampled input: dout (N,K,H,W) with H and W even, weight (K,C,R,S), dinp (N,C,H/2,W/2). */
    static ConvDims upsampleConv2d(String op, Tensor dinp, Tensor dout, Tensor weight) {
        int[] x = rank(op, "dout", dout, 4), w = rank(op, "weight", weight, 4);
        if (w[0] != x[1] || (w[2] & 1) == 0 || (w[3] & 1) == 0 || (x[2] & 1) != 0 || (x[3] & 1) != 0)
            throw bad(op, "weight (K,C,R,S) with K = dout's channels, R and S odd, H and W even; weight", weight);
        shape(op, "dinp", dinp, x[0], w[1], x[2] / 2, x[3] / 2);
        return new ConvDims(x[0], w[1], x[2], x[3], x[1], w[2], w[3]);
    }

    /** The full-size side (N,C,H,W) of a 2x pool; small is (N,C,H/2,W/2). */
    static ImageDims pool2(String op, Tensor big, Tensor small) {
        int[] x = rank(op, "full-size tensor", big, 4);
        shape(op, "half-size tensor", small, x[0], x[1], x[2] / 2, x[3] / 2);
        return new ImageDims(x[0], x[1], x[2], x[3]);
    }

    /** The small side (N,C,H,W) of a 2x upsample; big is (N,C,2H,2W). */
    static ImageDims upsample2(String op, Tensor big, Tensor small) {
        int[] x = rank(op, "inp", small, 4);
        shape(op, "out", big, x[0], x[1], 2 * x[2], 2 * x[3]);
        return new ImageDims(x[0], x[1], x[2], x[3]);
    }

    /** Per-image tensors a and b (N, ...) of one shape, and loss (N) when given. */
    static RowDims perImage(String op, Tensor loss, Tensor a, Tensor b) {
        same(op, "target", b, a);
        int n = a.rank() == 0 ? 1 : a.dim(0);
        if (loss != null) shape(op, "loss", loss, n);
        return new RowDims(n, Math.toIntExact(a.numel() / Math.max(1, n)));
    }

    /** A 64-bit value in memory: a tensor of two floats' bytes, 8-byte aligned (see Backend.setLong). */
    static MemorySegment longSlot(String op, Tensor t) {
        if (t.numel() != 2 || t.memory().address() % Long.BYTES != 0) {
            throw bad(op, "offsetAt (two floats' bytes, 8-byte aligned, expected)", t);
        }
        return t.memory();
    }

    /** All tensors the same shape as the first; returns its element count. */
    static long sameAll(String op, Tensor first, Tensor... rest) {
        for (Tensor t : rest) same(op, "operand", t, first);
        return first.numel();
    }
}
