package dev.denoise.backend;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static dev.denoise.backend.Numerics.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every backend must do, checked against the plain-Java {@link Reference}: forward results on
 * seeded random inputs (odd sizes included), and every backward op against central finite
 * differences of the double-precision reference ("gradient check").
 *
 * <p>Bounds: forward |x − ref| ≤ 1e-5 + 1e-4·|ref| (float32 sums of at most a few hundred terms);
 * gradients |g − fd| ≤ 2e-4·max|fd| + 2e-3·|fd| (float32 backward vs. double differences).
 */
abstract class OpsContract {
    protected abstract Backend backend();

    private final TestTensors tensors = new TestTensors(TestTensors.seed(20261125));
    protected final SplittableRandom rng = tensors.rng();

    @AfterEach
    void freeTensors() {
        tensors.close();
    }

    protected Tensor t(double[] data, int... shape) {
        return tensors.up(backend(), toFloat(data), shape);
    }

    protected Tensor zeros(int... shape) {
        return tensors.zeros(backend(), shape);
    }

    /** Uniform in [-1, 1), rounded to float so the reference and the op see the same inputs. */
    protected double[] rand(int n) {
        return toDouble(tensors.rand(n));
    }

    static final double F_ATOL = 1e-5, F_RTOL = 1e-4;

    // ---------------- GEMM ----------------

    static final int[][] GEMM_SHAPES = {{1, 1, 1}, {15, 17, 33}, {16, 16, 16}, {33, 31, 17}, {128, 64, 256},
            {7, 129, 32}, {64, 1, 5}};

    @Test
    void gemm_forward_all_transposes() {
        for (int[] s : GEMM_SHAPES) {
            int m = s[0], n = s[1], k = s[2];
            for (int tr = 0; tr < 4; tr++) {
                boolean ta = (tr & 1) != 0, tb = (tr & 2) != 0;
                double[] a = rand(m * k), b = rand(k * n), c = rand(m * n);
                for (double beta : new double[] {0, 0.5}) {
                    Tensor ta_ = t(a, ta ? k : m, ta ? m : k), tb_ = t(b, tb ? n : k, tb ? k : n);
                    double[] c0 = beta == 0 ? filled(m * n, Double.NaN) : c; // beta 0 ignores garbage
                    Tensor tc = t(c0, m, n);
                    backend().gemm(ta, tb, 0.75f, ta_, tb_, (float) beta, tc);
                    double[] ref = Reference.gemm(ta, tb, m, n, k, 0.75, a, b, beta, c0);
                    assertClose("gemm c " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " beta=" + beta,
                            tc.toArray(), ref, F_ATOL * Math.sqrt(k), F_RTOL);
                }
            }
        }
    }

    /** GEMM's backward is GEMM: for C = A·B, dA = dC·Bᵀ and dB = Aᵀ·dC. */
    @Test
    void gemm_gradient() {
        int m = 5, n = 7, k = 9;
        double[] a = rand(m * k), b = rand(k * n), g = rand(m * n);
        Tensor da = zeros(m, k), db = zeros(k, n);
        backend().gemm(false, true, 1f, t(g, m, n), t(b, k, n), 0f, da);
        backend().gemm(true, false, 1f, t(a, m, k), t(g, m, n), 0f, db);
        assertGradient("gemm dA", da.toArray(), numericGradient(a,
                x -> dot(g, Reference.gemm(false, false, m, n, k, 1, x, b, 0, null))));
        assertGradient("gemm dB", db.toArray(), numericGradient(b,
                x -> dot(g, Reference.gemm(false, false, m, n, k, 1, a, x, 0, null))));
    }

    @Test
    void gemm_rejects_mismatched_shapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend().gemm(false, false, 1f, zeros(3, 4), zeros(5, 6), 0f, zeros(3, 6)));
        assertEquals(true, e.getMessage().startsWith("gemm:"), e.getMessage());
    }

    // ---------------- bias + activation ----------------

    @ParameterizedTest
    @EnumSource(Activation.class)
    void bias_act_forward(Activation act) {
        for (int[] s : new int[][] {{1, 1, 1}, {3, 5, 7}, {2, 32, 17}, {4, 16, 33}}) {
            int n = s[0], c = s[1], hw = s[2];
            double[] x = rand(n * c * hw), b = rand(c);
            Tensor out = zeros(n, c, hw);
            backend().bias_act_forward(out, t(x, n, c, hw), t(b, c), act);
            assertClose("bias_act out " + act, out.toArray(), Reference.biasAct(x, b, n, c, hw, act), F_ATOL, F_RTOL);
        }
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void bias_act_gradient(Activation act) {
        int n = 3, c = 4, hw = 5;
        double[] x = rand(n * c * hw), b = rand(c), g = rand(n * c * hw);
        Tensor out = zeros(n, c, hw), dinp = zeros(n, c, hw), dbias = zeros(c);
        backend().bias_act_forward(out, t(x, n, c, hw), t(b, c), act);
        backend().bias_act_backward(dinp, dbias, t(g, n, c, hw), out, act);
        assertGradient("bias_act dinp " + act, dinp.toArray(),
                numericGradient(x, v -> dot(g, Reference.biasAct(v, b, n, c, hw, act))));
        assertGradient("bias_act dbias " + act, dbias.toArray(),
                numericGradient(b, v -> dot(g, Reference.biasAct(x, v, n, c, hw, act))));
    }

    // ---------------- conv2d ----------------

    /**
     * {N, C, H, W, K, R, S}: 1x1 images, odd sizes, widths around vector widths, the model's layers;
     * the last three take the CPU's Winograd path (3x3, ≥ 8 channels each way, ≥ 12 pixels each way),
     * with odd sides and channel counts off the register blocking.
     */
    static final int[][] CONV_SHAPES = {
            {1, 1, 1, 1, 1, 3, 3}, {2, 1, 7, 5, 4, 3, 3}, {2, 3, 9, 17, 5, 3, 3}, {1, 4, 6, 15, 3, 1, 1},
            {1, 2, 8, 16, 3, 5, 5}, {2, 5, 4, 33, 2, 3, 3}, {1, 32, 7, 7, 32, 3, 3}, {2, 1, 28, 28, 32, 3, 3},
            {1, 32, 14, 14, 1, 3, 3}, {1, 3, 13, 31, 4, 3, 5},
            {2, 32, 14, 14, 32, 3, 3}, {2, 9, 13, 15, 10, 3, 3}, {1, 12, 28, 29, 13, 3, 3}};

    /** What conv2d_forward fuses: every activation but the clamp (a residual model's output op alone). */
    static final Activation[] CONV_ACTIVATIONS = {Activation.IDENTITY, Activation.RELU, Activation.SIGMOID};

    @Test
    void conv2d_forward_refuses_the_clamp() {
        assertThrows(IllegalArgumentException.class, () -> backend().conv2d_forward(zeros(1, 2, 4, 4),
                zeros(1, 3, 4, 4), zeros(2, 3, 3, 3), null, Activation.CLAMP01));
    }

    @Test
    void conv2d_forward() {
        for (int[] s : CONV_SHAPES) {
            int n = s[0], c = s[1], h = s[2], w = s[3], k = s[4], r = s[5], q = s[6];
            double[] x = rand(n * c * h * w), wt = rand(k * c * r * q), b = rand(k);
            for (Activation act : CONV_ACTIVATIONS) {
                Tensor out = zeros(n, k, h, w);
                backend().conv2d_forward(out, t(x, n, c, h, w), t(wt, k, c, r, q), t(b, k), act);
                assertClose("conv2d out " + java.util.Arrays.toString(s) + " " + act, out.toArray(),
                        Reference.conv2d(x, wt, b, n, c, h, w, k, r, q, act), F_ATOL * Math.sqrt(c * r * q), F_RTOL);
            }
            Tensor out = zeros(n, k, h, w);
            backend().conv2d_forward(out, t(x, n, c, h, w), t(wt, k, c, r, q), null, Activation.IDENTITY);
            assertClose("conv2d out (no bias) " + java.util.Arrays.toString(s), out.toArray(),
                    Reference.conv2d(x, wt, null, n, c, h, w, k, r, q, Activation.IDENTITY),
                    F_ATOL * Math.sqrt(c * r * q), F_RTOL);
        }
    }

    @Test
    void conv2d_gradients() {
        for (int[] s : new int[][] {{2, 3, 5, 7, 4, 3, 3}, {1, 2, 6, 4, 3, 5, 5}, {2, 1, 3, 9, 2, 3, 1},
                {1, 2, 1, 1, 3, 3, 3}, {1, 9, 12, 13, 8, 3, 3}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3], k = s[4], r = s[5], q = s[6];
            String name = java.util.Arrays.toString(s);
            double[] x = rand(n * c * h * w), wt = rand(k * c * r * q), g = rand(n * k * h * w);
            Tensor dinp = zeros(n, c, h, w), dw = zeros(k, c, r, q), db = zeros(k);
            Tensor tg = t(g, n, k, h, w);
            backend().conv2d_backward_data(dinp, tg, t(wt, k, c, r, q));
            backend().conv2d_backward_filter(dw, tg, t(x, n, c, h, w));
            backend().conv2d_backward_bias(db, tg);
            double[] zeroBias = new double[k];
            assertGradient("conv2d dinp " + name, dinp.toArray(), numericGradient(x,
                    v -> dot(g, Reference.conv2d(v, wt, null, n, c, h, w, k, r, q, Activation.IDENTITY))));
            assertGradient("conv2d dweight " + name, dw.toArray(), numericGradient(wt,
                    v -> dot(g, Reference.conv2d(x, v, null, n, c, h, w, k, r, q, Activation.IDENTITY))));
            assertGradient("conv2d dbias " + name, db.toArray(), numericGradient(zeroBias,
                    v -> dot(g, Reference.conv2d(x, wt, v, n, c, h, w, k, r, q, Activation.IDENTITY))));
        }
    }

    /** A conv on an upsampled input: loss = dot(g, conv(upsample2(x), w)); (h, w) is the conv's size. */
    @Test
    void upsample2d_conv2d_backward_data_gradient_and_two_op_equivalence() {
        for (int[] s : new int[][] {{2, 3, 4, 6, 2, 3, 3}, {1, 2, 6, 2, 3, 5, 5}, {2, 32, 14, 14, 32, 3, 3},
                {2, 32, 28, 28, 1, 3, 3}, {1, 1, 8, 8, 4, 3, 1}, {1, 8, 12, 16, 9, 3, 3}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3], k = s[4], r = s[5], q = s[6];
            String name = java.util.Arrays.toString(s);
            double[] x = rand(n * c * (h / 2) * (w / 2)), wt = rand(k * c * r * q), g = rand(n * k * h * w);
            Tensor tg = t(g, n, k, h, w), tw = t(wt, k, c, r, q), dinp = zeros(n, c, h / 2, w / 2);
            fillNaN(dinp); // must write every element
            backend().upsample2d_conv2d_backward_data(dinp, tg, tw);
            // the two ops it replaces give the same numbers
            Tensor full = zeros(n, c, h, w), d2 = zeros(n, c, h / 2, w / 2);
            backend().conv2d_backward_data(full, tg, tw);
            backend().upsample2d_backward(d2, full);
            assertClose("fused dinp " + name, dinp.toArray(), Numerics.toDouble(d2.toArray()), 0, 0);
            if (n * c * h * w > 400) continue; // the FD below is quadratic
            assertGradient("fused dinp FD " + name, dinp.toArray(), numericGradient(x, v -> dot(g,
                    Reference.conv2d(Reference.upsample2(v, n, c, h / 2, w / 2), wt, null, n, c, h, w, k, r, q,
                            Activation.IDENTITY))));
        }
        assertThrows(IllegalArgumentException.class, () -> backend().upsample2d_conv2d_backward_data(
                zeros(1, 2, 2, 2), zeros(1, 3, 5, 4), zeros(3, 2, 3, 3)));
    }

    @Test
    void conv2d_rejects_even_kernel_and_channel_mismatch() {
        assertThrows(IllegalArgumentException.class, () -> backend().conv2d_forward(zeros(1, 2, 4, 4),
                zeros(1, 3, 4, 4), zeros(2, 3, 2, 2), null, Activation.IDENTITY));
        assertThrows(IllegalArgumentException.class, () -> backend().conv2d_forward(zeros(1, 2, 4, 4),
                zeros(1, 3, 4, 4), zeros(2, 4, 3, 3), null, Activation.IDENTITY));
    }

    // ---------------- pool / upsample ----------------

    @Test
    void maxpool2d_forward_and_gradient() {
        for (int[] s : new int[][] {{1, 1, 2, 2}, {2, 3, 8, 6}, {1, 2, 7, 5}, {2, 4, 28, 28}, {1, 1, 1, 3}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3];
            double[] x = rand(n * c * h * w);
            Tensor tx = t(x, n, c, h, w), out = zeros(n, c, h / 2, w / 2);
            backend().maxpool2d_forward(out, tx);
            assertClose("maxpool out", out.toArray(), Reference.maxpool2(x, n, c, h, w), 0, 0);
            if (n * c * h * w > 400) continue; // the FD below is quadratic
            double[] g = rand(n * c * (h / 2) * (w / 2));
            Tensor dinp = zeros(n, c, h, w);
            fillNaN(dinp); // backward must write every element
            backend().maxpool2d_backward(dinp, t(g, n, c, h / 2, w / 2), tx);
            assertGradient("maxpool dinp " + java.util.Arrays.toString(s), dinp.toArray(),
                    numericGradient(x, v -> dot(g, Reference.maxpool2(v, n, c, h, w))));
        }
    }

    /** The pool after a ReLU conv: loss = dot(g, maxpool2(relu(x + b))), gradients in x and b. */
    @Test
    void maxpool2d_relu_backward_gradient_and_two_op_equivalence() {
        for (int[] s : new int[][] {{1, 1, 2, 2}, {2, 3, 8, 6}, {1, 2, 7, 5}, {2, 4, 28, 28}, {3, 5, 14, 14}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3];
            double[] x = rand(n * c * h * w), b = rand(c), g = rand(n * c * (h / 2) * (w / 2));
            Tensor y = zeros(n, c, h, w), tg = t(g, n, c, h / 2, w / 2);
            backend().bias_act_forward(y, t(x, n, c, h, w), t(b, c), Activation.RELU);
            Tensor dinp = zeros(n, c, h, w), dbias = zeros(c);
            fillNaN(dinp); // must write every element
            backend().maxpool2d_relu_backward(dinp, dbias, tg, null, y);
            // the two ops it replaces give the same numbers
            Tensor d2 = zeros(n, c, h, w), db2 = zeros(c);
            backend().maxpool2d_backward(d2, tg, y);
            backend().bias_act_backward(d2, db2, d2, y, Activation.RELU);
            assertClose("fused dinp " + java.util.Arrays.toString(s), dinp.toArray(), Numerics.toDouble(d2.toArray()), 0, 0);
            assertClose("fused dbias " + java.util.Arrays.toString(s), dbias.toArray(), Numerics.toDouble(db2.toArray()), 0, 0);
            Tensor d3 = zeros(n, c, h, w);
            backend().maxpool2d_relu_backward(d3, null, tg, null, y);
            assertClose("fused dinp, no dbias", d3.toArray(), Numerics.toDouble(d2.toArray()), 0, 0);
            // with a skip gradient: the three ops maxpool2d_backward, add, bias_act_backward
            double[] sk = rand(n * c * h * w);
            Tensor tsk = t(sk, n, c, h, w), d4 = zeros(n, c, h, w), db4 = zeros(c), d5 = zeros(n, c, h, w), db5 = zeros(c);
            fillNaN(d4);
            backend().maxpool2d_relu_backward(d4, db4, tg, tsk, y);
            backend().maxpool2d_backward(d5, tg, y);
            backend().add(d5, d5, tsk);
            backend().bias_act_backward(d5, db5, d5, y, Activation.RELU);
            assertClose("fused dinp, skip " + java.util.Arrays.toString(s), d4.toArray(), Numerics.toDouble(d5.toArray()), 0, 0);
            assertClose("fused dbias, skip " + java.util.Arrays.toString(s), db4.toArray(), Numerics.toDouble(db5.toArray()), 0, 0);
            if (n * c * h * w > 400) continue; // the FD below is quadratic
            /* skip: loss = dot(g, maxpool2(relu(x + b))) + dot(sk, relu(x + b)) */
            assertGradient("fused dinp, skip, FD " + java.util.Arrays.toString(s), d4.toArray(), numericGradient(x, v -> {
                double[] r = Reference.biasAct(v, b, n, c, h * w, Activation.RELU);
                return dot(g, Reference.maxpool2(r, n, c, h, w)) + dot(sk, r);
            }));
            assertGradient("fused dinp FD " + java.util.Arrays.toString(s), dinp.toArray(), numericGradient(x,
                    v -> dot(g, Reference.maxpool2(Reference.biasAct(v, b, n, c, h * w, Activation.RELU), n, c, h, w))));
            assertGradient("fused dbias FD " + java.util.Arrays.toString(s), dbias.toArray(), numericGradient(b,
                    v -> dot(g, Reference.maxpool2(Reference.biasAct(x, v, n, c, h * w, Activation.RELU), n, c, h, w))));
        }
    }

    @Test
    void upsample2d_forward_and_gradient() {
        for (int[] s : new int[][] {{1, 1, 1, 1}, {2, 3, 4, 5}, {1, 2, 7, 7}, {2, 32, 14, 14}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3];
            double[] x = rand(n * c * h * w), g = rand(n * c * 4 * h * w);
            Tensor out = zeros(n, c, 2 * h, 2 * w), dinp = zeros(n, c, h, w);
            backend().upsample2d_forward(out, t(x, n, c, h, w));
            assertClose("upsample out", out.toArray(), Reference.upsample2(x, n, c, h, w), 0, 0);
            backend().upsample2d_backward(dinp, t(g, n, c, 2 * h, 2 * w));
            if (n * c * h * w > 200) continue;
            assertGradient("upsample dinp", dinp.toArray(),
                    numericGradient(x, v -> dot(g, Reference.upsample2(v, n, c, h, w))));
        }
    }

    // ---------------- elementwise sum ----------------

    @Test
    void add_forward_gradient_and_aliasing() {
        for (int[] s : new int[][] {{1}, {3, 5}, {2, 3, 7, 9}, {4, 32, 14, 14}}) {
            int n = (int) Tensor.numel(s);
            double[] a = rand(n), b = rand(n), g = rand(n);
            Tensor ta = t(a, s), tb = t(b, s), out = zeros(s);
            backend().add(out, ta, tb);
            double[] ref = new double[n];
            for (int i = 0; i < n; i++) ref[i] = (float) ((float) a[i] + (float) b[i]);
            assertClose("add out " + java.util.Arrays.toString(s), out.toArray(), ref, 0, 0);
            backend().add(ta, ta, tb); // in place, as at a gradient fork
            assertClose("add in place " + java.util.Arrays.toString(s), ta.toArray(), ref, 0, 0);
            if (n > 200) continue;
            /* the backward is dout for both inputs: what the finite differences of dot(g, a + b) say */
            assertGradient("add da", toFloat(g), numericGradient(a, v -> dot(g, sumOf(v, b))));
            assertGradient("add db", toFloat(g), numericGradient(b, v -> dot(g, sumOf(a, v))));
        }
        assertThrows(IllegalArgumentException.class, () -> backend().add(zeros(2, 3), zeros(2, 3), zeros(3, 2)));
    }

    private static double[] sumOf(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i] + b[i];
        return r;
    }

    // ---------------- losses ----------------

    @Test
    void sigmoid_bce_forward_and_gradient() {
        int n = 3, d = 37;
        double[] x = asFloatValues(uniform(rng, n * d, -6, 6)), tg = asFloatValues(uniform(rng, n * d, 0, 1));
        Tensor loss = zeros(n), dx = zeros(n, d), tx = t(x, n, d), tt = t(tg, n, d);
        backend().sigmoid_bce_forward(loss, tx, tt);
        assertClose("bce loss", loss.toArray(), Reference.sigmoidBce(x, tg, n, d), 1e-4, 1e-5);
        float scale = 1f / (n * d);
        backend().sigmoid_bce_backward(dx, tx, tt, scale);
        assertGradient("bce dlogits", dx.toArray(),
                numericGradient(x, v -> scale * sum(Reference.sigmoidBce(v, tg, n, d))));
    }

    @Test
    void sigmoid_bce_is_stable_for_large_logits() {
        double[] x = {80, -80, 0, 30}, tg = {1, 0, 0.5, 0};
        Tensor loss = zeros(1);
        backend().sigmoid_bce_forward(loss, t(x, 1, 4), t(tg, 1, 4));
        assertClose("bce loss, large logits", loss.toArray(), new double[] {Math.log(2) + 30}, 1e-4, 1e-5);
    }

    @Test
    void mse_and_psnr() {
        int n = 4, d = 29;
        double[] p = rand(n * d), tg = rand(n * d);
        Tensor loss = zeros(n), dp = zeros(n, d), psnr = zeros(n), tp = t(p, n, d), tt = t(tg, n, d);
        backend().mse_forward(loss, tp, tt);
        double[] ref = Reference.mse(p, tg, n, d);
        assertClose("mse loss", loss.toArray(), ref, 1e-6, 1e-5);
        backend().mse_backward(dp, tp, tt, 0.5f);
        // scale multiplies the summed squared error: mse_backward(s) = ∂(s·Σ(p−t)²)/∂p = ∂(s·D·Σ mse_n)/∂p
        assertGradient("mse dpred", dp.toArray(), numericGradient(p, v -> 0.5 * d * sum(Reference.mse(v, tg, n, d))));
        backend().psnr_forward(psnr, tp, tt);
        double[] refPsnr = new double[n];
        for (int i = 0; i < n; i++) refPsnr[i] = 10 * Math.log10(1 / ref[i]);
        assertClose("psnr", psnr.toArray(), refPsnr, 1e-4, 1e-5);
        backend().psnr_forward(psnr, tp, tp);
        assertClose("psnr of identical images", psnr.toArray(), filled(n, 100), 0, 0);
    }

    // ---------------- VAE ----------------

    @Test
    void reparam_forward_uses_philox_normals() {
        int n = 5, l = 7;
        double[] mu = rand(n * l), lv = rand(n * l);
        Tensor z = zeros(n, l), eps = zeros(n, l), normals = zeros(n, l);
        backend().reparam_forward(z, eps, t(mu, n, l), t(lv, n, l), 99, 1234);
        backend().noise_normal(normals, 99, 1234);
        assertArrayEquals(normals.toArray(), eps.toArray(), "reparam eps = noise_normal of the same (seed, offset)");
        assertClose("reparam z", z.toArray(), Reference.reparam(mu, lv, toDouble(eps.toArray())), 1e-6, 1e-5);
    }

    @Test
    void reparam_and_kl_gradients() {
        int n = 3, l = 4;
        double[] mu = rand(n * l), lv = rand(n * l), g = rand(n * l);
        Tensor tmu = t(mu, n, l), tlv = t(lv, n, l), z = zeros(n, l), eps = zeros(n, l);
        backend().reparam_forward(z, eps, tmu, tlv, 7, 0);
        double[] e = toDouble(eps.toArray());
        Tensor dmu = zeros(n, l), dlv = zeros(n, l);
        backend().reparam_backward(dmu, dlv, t(g, n, l), tlv, eps);
        assertGradient("reparam dmu", dmu.toArray(), numericGradient(mu, v -> dot(g, Reference.reparam(v, lv, e))));
        assertGradient("reparam dlogvar", dlv.toArray(), numericGradient(lv, v -> dot(g, Reference.reparam(mu, v, e))));

        Tensor kl = zeros(n);
        backend().kl_forward(kl, tmu, tlv);
        assertClose("kl loss", kl.toArray(), Reference.kl(mu, lv, n, l), 1e-6, 1e-5);
        double[] base = rand(n * l);
        Tensor kmu = t(base, n, l), klv = t(base, n, l);
        float scale = 1f / n;
        backend().kl_backward(kmu, klv, tmu, tlv, scale); // adds
        double[] gmu = numericGradient(mu, v -> scale * sum(Reference.kl(v, lv, n, l)));
        double[] glv = numericGradient(lv, v -> scale * sum(Reference.kl(mu, v, n, l)));
        for (int i = 0; i < base.length; i++) {
            gmu[i] += base[i];
            glv[i] += base[i];
        }
        assertGradient("kl dmu (added)", kmu.toArray(), gmu);
        assertGradient("kl dlogvar (added)", klv.toArray(), glv);
    }

    // ---------------- Adam ----------------

    @Test
    void adam_update_matches_reference_over_steps() {
        int n = 1037;
        double[] p = rand(n), m = new double[n], v = new double[n];
        Tensor tp = t(p, n), tm = zeros(n), tv = zeros(n);
        for (int step = 1; step <= 3; step++) {
            double[] g = rand(n);
            backend().adam_update(tp, tm, tv, t(g, n), 1e-3f, 0.9f, 0.999f, 1e-8f, step);
            double[][] r = Reference.adam(p, m, v, g, 1e-3, 0.9, 0.999, 1e-8, step);
            p = r[0];
            m = r[1];
            v = r[2];
            assertClose("adam param, step " + step, tp.toArray(), p, 1e-6, 1e-5);
            assertClose("adam m, step " + step, tm.toArray(), m, 1e-7, 1e-5);
            assertClose("adam v, step " + step, tv.toArray(), v, 1e-9, 1e-4);
        }
    }

    // ---------------- device-resident data ----------------

    @Test
    void gather_rows_copies_indexed_rows_and_fills_bad_ones_with_nan() {
        int rows = 50, h = 3, w = 5, d = h * w;
        double[] data = rand(rows * d);
        int[] pick = {7, 0, 49, 7, 3};
        Tensor set = t(data, rows, h, w), idx = zeros(pick.length), out = zeros(pick.length, h, w);
        backend().writeIndices(idx, pick, 0);
        backend().gather_rows(out, set, idx);
        double[] want = new double[pick.length * d];
        for (int b = 0; b < pick.length; b++) System.arraycopy(data, pick[b] * d, want, b * d, d);
        assertClose("gather_rows out", out.toArray(), want, 0, 0);

        backend().write(idx, new float[] {50, 1.5f, -1, Float.NaN, 3});
        backend().gather_rows(out, set, idx);
        double[] bad = filled(pick.length * d, Double.NaN);
        System.arraycopy(data, 3 * d, bad, 4 * d, d);
        float[] got = out.toArray();
        for (int i = 0; i < got.length; i++) {
            assertEquals(Double.isNaN(bad[i]), Float.isNaN(got[i]), "gather_rows element " + i + ": NaN exactly where"
                    + " the index is out of range or not an integer");
            if (!Double.isNaN(bad[i])) assertEquals((float) bad[i], got[i]);
        }
        assertThrows(IllegalArgumentException.class, () -> backend().writeIndices(idx, new int[] {0, 1, 2, 3, -1}, 0));
        assertThrows(IllegalArgumentException.class,
                () -> backend().writeIndices(idx, new int[] {0, 1, 2, 3, Abi.DN_MAX_GATHER_ROWS}, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend().gather_rows(zeros(pick.length, w, h), set, idx));
        assertEquals(true, e.getMessage().startsWith("gather_rows:"), e.getMessage());
        backend().gather_rows(zeros(0, h, w), set, zeros(0)); // an empty batch is nothing to do
    }

    /** Sizes around the 256 partial sums of the summation tree, and one far above it. */
    @Test
    void sum_scaled_totals_in_double_and_accumulates() {
        for (int n : new int[] {1, 255, 256, 257, 1000, 100_003}) {
            double[] a = rand(n), c = rand(7);
            Tensor total = zeros(1);
            backend().sum_scaled(total, t(a, n), 0.5f, false);
            double want = (float) (0.5 * sum(a));
            assertClose("sum_scaled of " + n, total.toArray(), new double[] {want}, 1e-7, 1e-7);
            backend().sum_scaled(total, t(c, 7), 2f, true);
            assertClose("sum_scaled accumulated onto " + n, total.toArray(), new double[] {want + 2 * sum(c)}, 1e-6, 1e-6);
        }
        assertThrows(IllegalArgumentException.class, () -> backend().sum_scaled(zeros(2), zeros(3), 1f, false));
    }

    // ---------------- blind-denoising noise ----------------

    /**
     * noise_gaussian_range: a sigma per image inside the range, the normals of noise_gaussian (an
     * empty range gives its bits), rows not aligned to any vector width, an offset from memory.
     */
    @Test
    void noise_gaussian_range_draws_a_sigma_per_image() {
        int rows = 48, d = 2053; // odd: row starts fall anywhere in the vector blocks
        double[] x = new double[rows * d];
        java.util.Arrays.fill(x, 0.5);
        Tensor tx = t(x, rows, d), out = zeros(rows, d), same = zeros(rows, d);
        float lo = 0.01f, hi = 0.1f; // at most 5 sigma from 0.5: no clipping to speak of
        backend().noise_gaussian_range(out, tx, lo, hi, 42, 7);
        float[] v = out.toArray();
        double[] sigma = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += Math.pow(v[r * d + k] - 0.5, 2);
            sigma[r] = Math.sqrt(s / d);
            // the estimate of a row's sigma from 2,053 normals is within ~5 % of it
            assertTrue(sigma[r] > lo * 0.9 && sigma[r] < hi * 1.1, "row " + r + " sigma " + sigma[r]);
        }
        double min = java.util.Arrays.stream(sigma).min().orElseThrow(), max = java.util.Arrays.stream(sigma).max().orElseThrow();
        assertTrue(max - min > 0.5 * (hi - lo), "sigmas spread over the range: " + min + " .. " + max);

        backend().noise_gaussian_range(out, tx, 0.3f, 0.3f, 42, 7);
        backend().noise_gaussian(same, tx, 0.3f, 42, 7);
        assertArrayEquals(same.toArray(), out.toArray(), "an empty range is noise_gaussian");

        Tensor at = zeros(2), fromMemory = zeros(rows, d);
        backend().setLong(at, 7);
        backend().noise_gaussian_range(out, tx, lo, hi, 42, 7);
        backend().noise_gaussian_range(fromMemory, tx, lo, hi, 42, at);
        assertArrayEquals(out.toArray(), fromMemory.toArray(), "offset from memory");
        assertThrows(IllegalArgumentException.class, () -> backend().noise_gaussian_range(out, tx, 0.2f, 0.1f, 1, 0));
    }

    // ---------------- per-step values in memory, staged copies, replayed steps ----------------

    /** An offset read from memory when the op runs gives the by-value op's bits. */
    @Test
    void offsets_and_adam_hyper_from_memory_match_the_by_value_ops() {
        int n = 1001;
        double[] x = asFloatValues(uniform(rng, n, 0, 1)), mu = rand(n), lv = rand(n);
        long offset = (1L << 33) + 12345;
        Tensor at = zeros(2);
        backend().setLong(at, offset);
        Tensor a = zeros(n), b = zeros(n), tx = t(x, n);
        backend().noise_gaussian(a, tx, 0.3f, 77, offset);
        backend().noise_gaussian(b, tx, 0.3f, 77, at);
        assertArrayEquals(a.toArray(), b.toArray(), "noise_gaussian, offset from memory");
        backend().noise_salt_pepper(a, tx, 0.2f, 77, offset);
        backend().noise_salt_pepper(b, tx, 0.2f, 77, at);
        assertArrayEquals(a.toArray(), b.toArray(), "noise_salt_pepper, offset from memory");
        Tensor z1 = zeros(n), e1 = zeros(n), z2 = zeros(n), e2 = zeros(n), tmu = t(mu, n), tlv = t(lv, n);
        backend().reparam_forward(z1, e1, tmu, tlv, 5, offset);
        backend().reparam_forward(z2, e2, tmu, tlv, 5, at);
        assertArrayEquals(z1.toArray(), z2.toArray(), "reparam_forward, offset from memory");

        double[] p = rand(n), g = rand(n);
        Tensor p1 = t(p, n), m1 = zeros(n), v1 = zeros(n), p2 = t(p, n), m2 = zeros(n), v2 = zeros(n), tg = t(g, n);
        Tensor hyper = zeros(3);
        for (int step = 1; step <= 3; step++) {
            backend().adam_update(p1, m1, v1, tg, 2e-3f, 0.9f, 0.999f, 1e-8f, step);
            backend().set(hyper, Backend.adamHyper(2e-3f, 0.9f, 0.999f, step));
            backend().adam_update(p2, m2, v2, tg, hyper, 0.9f, 0.999f, 1e-8f);
        }
        assertArrayEquals(p1.toArray(), p2.toArray(), "adam_update, rate and corrections from memory");
        assertArrayEquals(v1.toArray(), v2.toArray(), "adam_update v, rate and corrections from memory");
        assertThrows(IllegalArgumentException.class, () -> backend().setLong(zeros(3), 1));
        assertThrows(IllegalArgumentException.class, () -> backend().set(zeros(2), 1f));
    }

    @Test
    void staged_copies_round_trip() {
        int n = 777;
        double[] x = rand(n);
        try (Backend.Staging up = backend().staging(n + 10); Backend.Staging down = backend().staging(n)) {
            java.lang.foreign.MemorySegment.copy(toFloat(x), 0, up.memory(), java.lang.foreign.ValueLayout.JAVA_FLOAT,
                    10L * Float.BYTES, n);
            Tensor dst = zeros(n);
            backend().upload(dst, up, 10);
            backend().download(down, 0, dst);
            down.await();
            assertEquals(true, down.done());
            float[] got = new float[n];
            java.lang.foreign.MemorySegment.copy(down.memory(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, got, 0, n);
            assertClose("staged round trip", got, x, 0, 0);
            assertThrows(IndexOutOfBoundsException.class, () -> backend().upload(zeros(n), up, 11));
            assertThrows(IndexOutOfBoundsException.class, () -> backend().download(down, 1, dst));
        }
    }

    /**
     * A replayed step reads each run's values from memory: on a GPU the first run is eager, the
     * second is captured and launched, the rest are replays, and all must equal the ops run one by one.
     */
    @Test
    void a_replayed_step_reads_each_runs_values() {
        int n = 513;
        double[] x = asFloatValues(uniform(rng, n, 0, 1));
        Tensor tx = t(x, n), out = zeros(n), at = zeros(2), acc = zeros(1), ref = zeros(n), refAcc = zeros(1);
        try (Backend.Replay step = backend().replayable(() -> {
            backend().noise_gaussian(out, tx, 0.4f, 9, at);
            backend().sum_scaled(acc, out, 0.5f, true);
        })) {
            for (int run = 0; run < 4; run++) {
                long offset = 1000L * run * run + 7;
                backend().setLong(at, offset);
                step.run();
                backend().noise_gaussian(ref, tx, 0.4f, 9, offset);
                backend().sum_scaled(refAcc, ref, 0.5f, true);
                assertArrayEquals(ref.toArray(), out.toArray(), "run " + run + " of the replayed step");
                assertArrayEquals(refAcc.toArray(), acc.toArray(), "running total after run " + run);
            }
        }
    }

    @Test
    void traffic_counts_round_trips_and_staged_copies() {
        Tensor x = zeros(4);
        Backend.Traffic before = backend().traffic();
        backend().write(x, new float[4]);
        backend().read(x, new float[4]);
        backend().synchronize();
        backend().set(x, 1, 2, 3, 4); // in stream order: no round trip
        try (Backend.Staging s = backend().staging(4)) {
            backend().download(s, 0, x);
            s.await();
            backend().upload(x, s, 0);
        }
        assertEquals(new Backend.Traffic(1, 1, 1, 1, 1), backend().traffic().since(before));
    }

    // ---------------- helpers ----------------

    static double[] filled(int n, double v) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private void fillNaN(Tensor x) {
        backend().fill(x, Float.NaN);
    }
}
