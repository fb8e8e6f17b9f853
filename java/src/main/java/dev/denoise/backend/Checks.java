package dev.denoise.backend;

import java.util.Arrays;

/**
 * Shape checks shared by every backend, so a wrong call fails the same way on the CPU and the GPU,
 * in Java, before native code could read out of bounds. Each returns the sizes the native op needs.
 */
public final class Checks {
    private Checks() {}

    static IllegalArgumentException bad(String op, String what, Tensor t) {
        return new IllegalArgumentException(op + ": " + what + " has shape " + Arrays.toString(t.shape()));
    }

    public static void same(String op, String name, Tensor t, Tensor ref) {
        if (!t.sameShape(ref)) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(ref.shape()));
        }
    }

    public static void shape(String op, String name, Tensor t, int... expected) {
        if (!Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(expected));
        }
    }

    public static void sameBackend(Backend b, Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.backend() != b) {
                throw new IllegalArgumentException(t + " belongs to another backend than " + b.describe());
            }
        }
    }

    static int[] rank(String op, String name, Tensor t, int rank) {
        if (t.rank() != rank) throw bad(op, name + " (rank " + rank + " expected)", t);
        return t.shape();
    }

    /** {M, N, K, lda, ldb, ldc}. */
    public static int[] gemm(boolean ta, boolean tb, Tensor a, Tensor b, Tensor c) {
        int[] as = rank("gemm", "a", a, 2), bs = rank("gemm", "b", b, 2), cs = rank("gemm", "c", c, 2);
        int m = ta ? as[1] : as[0], k = ta ? as[0] : as[1];
        int kb = tb ? bs[1] : bs[0], n = tb ? bs[0] : bs[1];
        if (k != kb || cs[0] != m || cs[1] != n) {
            throw new IllegalArgumentException("gemm: op(a) " + m + "x" + k + " times op(b) " + kb + "x" + n
                    + " into c " + Arrays.toString(cs));
        }
        return new int[] {m, n, k, as[1], bs[1], cs[1]};
    }

    /** out, a and b of one shape (an elementwise op). */
    public static void add(String op, Tensor out, Tensor a, Tensor b) {
        same(op, "a", a, out);
        same(op, "b", b, out);
    }

    /** {N, C, HW}: tensors (N, C, ...) with bias (C). */
    public static int[] biasAct(String op, Tensor out, Tensor inp, Tensor bias) {
        same(op, "out", out, inp);
        if (inp.rank() < 2) throw bad(op, "inp (rank >= 2 expected)", inp);
        int n = inp.dim(0), c = inp.dim(1);
        if (bias != null) shape(op, "bias", bias, c);
        long hw = inp.numel() / Math.max(1L, (long) n * c);
        return new int[] {n, c, Math.toIntExact(hw)};
    }

    /**
     * {N, C, H, W, K, R, S} of a conv on an upsampled input: dout (N,K,H,W), weight (K,C,R,S) with R,
     * S odd, H and W even, dinp (N,C,H/2,W/2).
     */
    public static int[] upsampleConv2d(String op, Tensor dinp, Tensor dout, Tensor weight) {
        int[] x = rank(op, "dout", dout, 4), w = rank(op, "weight", weight, 4);
        if (w[0] != x[1] || (w[2] & 1) == 0 || (w[3] & 1) == 0 || (x[2] & 1) != 0 || (x[3] & 1) != 0)
            throw bad(op, "weight (K,C,R,S) with K = dout's channels, R and S odd, H and W even; weight", weight);
        shape(op, "dinp", dinp, x[0], w[1], x[2] / 2, x[3] / 2);
        return new int[] {x[0], w[1], x[2], x[3], x[1], w[2], w[3]};
    }

    /** {N, C, H, W, K, R, S} for inp (N,C,H,W), weight (K,C,R,S), out (N,K,H,W). */
    public static int[] conv2d(String op, Tensor out, Tensor inp, Tensor weight) {
        int[] x = rank(op, "inp", inp, 4), w = rank(op, "weight", weight, 4);
        if (w[1] != x[1]) {
            throw new IllegalArgumentException(op + ": weight " + Arrays.toString(w) + " does not take "
                    + x[1] + " input channels");
        }
        if (w[2] % 2 == 0 || w[3] % 2 == 0) throw bad(op, "weight (odd kernel sizes expected)", weight);
        shape(op, "out", out, x[0], w[0], x[2], x[3]);
        return new int[] {x[0], x[1], x[2], x[3], w[0], w[2], w[3]};
    }

    /** {N, C, H, W} of the full-resolution side of a 2x pool/upsample. */
    public static int[] pool2(String op, Tensor big, Tensor small) {
        int[] x = rank(op, "full-size tensor", big, 4);
        shape(op, "half-size tensor", small, x[0], x[1], x[2] / 2, x[3] / 2);
        return x;
    }

    /** {N, C, H, W} of maxpool2d_relu_backward: dinp and dskip (or null) inp's shape, dbias (C) or null. */
    public static int[] maxpoolReluBackward(Tensor dinp, Tensor dbias, Tensor dout, Tensor dskip, Tensor inp) {
        String op = "maxpool2d_relu_backward";
        same(op, "dinp", dinp, inp);
        if (dskip != null) same(op, "dskip", dskip, inp);
        int[] d = pool2(op, inp, dout);
        if (dbias != null) shape(op, "dbias", dbias, d[1]);
        return d;
    }

    /** {N, C, H, W} of the small side of an upsample: big is (N, C, 2H, 2W). */
    public static int[] upsample2(String op, Tensor big, Tensor small) {
        int[] x = rank(op, "inp", small, 4);
        shape(op, "out", big, x[0], x[1], 2 * x[2], 2 * x[3]);
        return x;
    }

    /** {N, D} of per-image tensors (N, ...), loss (N) when given. */
    public static int[] perImage(String op, Tensor loss, Tensor a, Tensor b) {
        same(op, "target", b, a);
        int n = a.rank() == 0 ? 1 : a.dim(0);
        if (loss != null) shape(op, "loss", loss, n);
        return new int[] {n, Math.toIntExact(a.numel() / Math.max(1, n))};
    }

    /** All tensors the same shape as the first; returns its element count. */
    public static long sameAll(String op, Tensor first, Tensor... rest) {
        for (Tensor t : rest) same(op, "operand", t, first);
        return first.numel();
    }
}
