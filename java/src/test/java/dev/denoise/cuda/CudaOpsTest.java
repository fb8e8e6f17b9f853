package dev.denoise.cuda;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.Tensor;
import dev.denoise.backend.TestTensors;
import dev.denoise.ffm.DenoiseNative;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every op on the GPU against the same op on the CPU (native/, itself checked against the Java
 * reference by CpuOpsTest), on fresh random inputs: |gpu − cpu| ≤ atol + 1e-5·|cpu|, with atol
 * 1e-6 for element-wise ops and 1e-6·√terms for sums of products (GEMM, convolutions: both sides
 * round each of the terms, in different orders). Philox noise, max-pool, upsample and eps must be
 * bit-identical, and so must sum_scaled, whose CPU twin reproduces the GPU's summation tree. Inputs
 * are fresh on every run; a failure names its seed, and {@code -Ddenoise.test.seed=N} reruns it.
 * Skips with the probe's reason without a GPU (fails under -Dgpu.required=true).
 */
class CudaOpsTest {
    private static final double RTOL = 1e-5, ATOL = 1e-6;
    private static CudaBackend gpu;
    private static CpuBackend cpu;

    private final TestTensors tensors = new TestTensors(TestTensors.seed(System.nanoTime()));
    private final long seed = tensors.seed();
    private final SplittableRandom rng = tensors.rng();

    @BeforeAll
    static void open() {
        if (CudaBackend.probe().available()) gpu = CudaBackend.open();
        if (DenoiseNative.available()) cpu = new CpuBackend();
    }

    /** Per test rather than per class, so every skipped test is reported with its reason. */
    @BeforeEach
    void requireBoth() {
        GpuTests.requireCuda();
        if (cpu == null) {
            String reason = "the CPU library is not built (make native): nothing to compare the GPU with";
            if (GpuTests.gpuRequired()) fail(reason);
            Assumptions.assumeTrue(false, reason);
        }
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
        if (cpu != null) cpu.close();
    }

    @AfterEach
    void free() {
        tensors.close();
    }

    // ---- helpers ----

    interface Run {
        float[][] on(Backend b);
    }

    private float[] rand(int n, double lo, double hi) {
        return tensors.rand(n, lo, hi);
    }

    private float[] rand(int n) {
        return tensors.rand(n);
    }

    private Tensor up(Backend b, float[] data, int... shape) {
        return tensors.up(b, data, shape);
    }

    private Tensor zeros(Backend b, int... shape) {
        return tensors.zeros(b, shape);
    }

    private void compare(String op, Run run, double atol, double rtol) {
        float[][] want = run.on(cpu), got = run.on(gpu);
        for (int i = 0; i < want.length; i++) {
            String name = op + " output " + i + " (-Ddenoise.test.seed=" + seed + ")";
            assertEquals(want[i].length, got[i].length, name);
            for (int j = 0; j < want[i].length; j++) {
                double err = Math.abs(got[i][j] - want[i][j]), bound = atol + rtol * Math.abs(want[i][j]);
                if (!(err <= bound)) {
                    fail(String.format("%s [%d]: gpu %.9g, cpu %.9g (|diff| %.3g > %.3g)", name, j, got[i][j],
                            want[i][j], err, bound));
                }
            }
        }
    }

    private void identical(String op, Run run) {
        float[][] want = run.on(cpu), got = run.on(gpu);
        for (int i = 0; i < want.length; i++) assertArrayEquals(want[i], got[i], op + " output " + i + " (-Ddenoise.test.seed=" + seed + ")");
    }

    // ---- GEMM ----

    @Test
    void gemm_all_transposes() {
        for (int[] s : new int[][] {{1, 1, 1}, {15, 17, 33}, {33, 31, 17}, {128, 64, 256}, {7, 129, 32}}) {
            int m = s[0], n = s[1], k = s[2];
            for (int tr = 0; tr < 4; tr++) {
                boolean ta = (tr & 1) != 0, tb = (tr & 2) != 0;
                float[] a = rand(m * k), bb = rand(k * n), c = rand(m * n);
                compare("gemm " + Arrays.toString(s) + " ta=" + ta + " tb=" + tb, b -> {
                    Tensor tc = up(b, c, m, n);
                    b.gemm(ta, tb, 0.75f, up(b, a, ta ? k : m, ta ? m : k), up(b, bb, tb ? n : k, tb ? k : n), 0.5f, tc);
                    return new float[][] {tc.toArray()};
                }, ATOL * Math.sqrt(k), RTOL);
            }
        }
    }

    // ---- bias + activation ----

    @ParameterizedTest
    @EnumSource(Activation.class)
    void bias_act(Activation act) {
        for (int[] s : new int[][] {{1, 1, 1}, {3, 5, 7}, {4, 16, 33}, {64, 10, 1}}) {
            int n = s[0], c = s[1], hw = s[2];
            float[] x = rand(n * c * hw, -4, 4), bias = rand(c), g = rand(n * c * hw);
            compare("bias_act " + act + " " + Arrays.toString(s), b -> {
                Tensor out = zeros(b, n, c, hw), dinp = zeros(b, n, c, hw), dbias = zeros(b, c);
                b.bias_act_forward(out, up(b, x, n, c, hw), up(b, bias, c), act);
                b.bias_act_backward(dinp, dbias, up(b, g, n, c, hw), out, act);
                return new float[][] {out.toArray(), dinp.toArray(), dbias.toArray()};
            }, ATOL, RTOL);
        }
    }

    // ---- conv2d ----

    @Test
    void conv2d_forward_and_backward() {
        for (int[] s : new int[][] {{1, 1, 1, 1, 1, 3, 3}, {2, 3, 9, 17, 5, 3, 3}, {1, 2, 8, 16, 3, 5, 5},
                {4, 32, 14, 14, 32, 3, 3}, {3, 1, 28, 28, 8, 3, 3}, {1, 3, 13, 31, 4, 3, 5}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3], k = s[4], r = s[5], q = s[6];
            float[] x = rand(n * c * h * w), wt = rand(k * c * r * q), bias = rand(k), g = rand(n * k * h * w);
            for (Activation act : new Activation[] {Activation.IDENTITY, Activation.RELU, Activation.SIGMOID}) { // what conv fuses
                compare("conv2d_forward " + act + " " + Arrays.toString(s), b -> {
                    Tensor out = zeros(b, n, k, h, w);
                    b.conv2d_forward(out, up(b, x, n, c, h, w), up(b, wt, k, c, r, q), up(b, bias, k), act);
                    return new float[][] {out.toArray()};
                }, ATOL * Math.sqrt(c * r * q), RTOL);
            }
            compare("conv2d backward data " + Arrays.toString(s), b -> {
                Tensor dinp = zeros(b, n, c, h, w);
                b.conv2d_backward_data(dinp, up(b, g, n, k, h, w), up(b, wt, k, c, r, q));
                return new float[][] {dinp.toArray()};
            }, ATOL * Math.sqrt(k * r * q), RTOL);
            if (h % 2 == 0 && w % 2 == 0)
                compare("upsample2d_conv2d_backward_data " + Arrays.toString(s), b -> {
                    Tensor dinp = zeros(b, n, c, h / 2, w / 2);
                    b.fill(dinp, Float.NaN);
                    b.upsample2d_conv2d_backward_data(dinp, up(b, g, n, k, h, w), up(b, wt, k, c, r, q));
                    return new float[][] {dinp.toArray()};
                }, 4 * ATOL * Math.sqrt(k * r * q), RTOL);
            compare("conv2d backward filter/bias " + Arrays.toString(s), b -> {
                Tensor dw = zeros(b, k, c, r, q), db = zeros(b, k), tg = up(b, g, n, k, h, w);
                b.conv2d_backward_filter(dw, tg, up(b, x, n, c, h, w));
                b.conv2d_backward_bias(db, tg);
                return new float[][] {dw.toArray(), db.toArray()};
            }, ATOL * Math.sqrt(n * h * w), RTOL);
        }
    }

    // ---- pool / upsample: no arithmetic (or the same additions in the same order): identical ----

    @Test
    void maxpool2d_and_upsample2d() {
        for (int[] s : new int[][] {{1, 1, 2, 2}, {2, 3, 8, 6}, {1, 2, 7, 5}, {2, 4, 28, 28}, {1, 1, 1, 3}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3];
            float[] x = rand(n * c * h * w), gp = rand(n * c * (h / 2) * (w / 2)), gu = rand(n * c * 4 * h * w);
            float[] ties = new float[x.length];
            for (int i = 0; i < ties.length; i++) ties[i] = rng.nextInt(3); // many ties: the tie rule must match
            for (float[] in : new float[][] {x, ties}) {
                identical("maxpool2d " + Arrays.toString(s), b -> {
                    Tensor tx = up(b, in, n, c, h, w), out = zeros(b, n, c, h / 2, w / 2), dinp = zeros(b, n, c, h, w);
                    b.fill(dinp, Float.NaN);
                    b.maxpool2d_forward(out, tx);
                    b.maxpool2d_backward(dinp, up(b, gp, n, c, h / 2, w / 2), tx);
                    return new float[][] {out.toArray(), dinp.toArray()};
                });
            }
            for (float[] in : new float[][] {x, ties}) {
                float[] bias = rand(c);
                float[] skip = rand(n * c * h * w);
                compare("maxpool2d_relu_backward " + Arrays.toString(s), b -> {
                    Tensor y = zeros(b, n, c, h, w), dinp = zeros(b, n, c, h, w), dbias = zeros(b, c);
                    b.bias_act_forward(y, up(b, in, n, c, h, w), up(b, bias, c), Activation.RELU);
                    b.fill(dinp, Float.NaN);
                    b.maxpool2d_relu_backward(dinp, dbias, up(b, gp, n, c, h / 2, w / 2), null, y);
                    /* with a skip connection's gradient added before the ReLU backward */
                    Tensor dskip = zeros(b, n, c, h, w), dbias2 = zeros(b, c);
                    b.maxpool2d_relu_backward(dskip, dbias2, up(b, gp, n, c, h / 2, w / 2), up(b, skip, n, c, h, w), y);
                    return new float[][] {dinp.toArray(), dbias.toArray(), dskip.toArray(), dbias2.toArray()};
                }, ATOL, RTOL);
            }
            identical("upsample2d " + Arrays.toString(s), b -> {
                Tensor out = zeros(b, n, c, 2 * h, 2 * w), dinp = zeros(b, n, c, h, w);
                b.upsample2d_forward(out, up(b, x, n, c, h, w));
                b.upsample2d_backward(dinp, up(b, gu, n, c, 2 * h, 2 * w));
                return new float[][] {out.toArray(), dinp.toArray()};
            });
        }
    }

    // ---- elementwise sum: one float addition per element, so identical ----

    @Test
    void add() {
        for (int[] s : new int[][] {{1}, {3, 5}, {2, 3, 7, 9}, {128, 32, 28, 28}}) {
            int n = Math.toIntExact(Tensor.numel(s));
            float[] a = rand(n), c = rand(n);
            identical("add " + Arrays.toString(s), b -> {
                Tensor ta = up(b, a, s), tc = up(b, c, s), out = zeros(b, s);
                b.add(out, ta, tc);
                b.add(ta, ta, tc);
                return new float[][] {out.toArray(), ta.toArray()};
            });
        }
    }

    // ---- losses ----

    @Test
    void losses() {
        for (int[] s : new int[][] {{1, 1}, {3, 37}, {64, 784}, {2, 1000}}) {
            int n = s[0], d = s[1];
            float[] x = rand(n * d, -8, 8), t = rand(n * d, 0, 1), p = rand(n * d, 0, 1);
            compare("losses " + Arrays.toString(s), b -> {
                Tensor tx = up(b, x, n, d), tt = up(b, t, n, d), tp = up(b, p, n, d);
                Tensor bce = zeros(b, n), dx = zeros(b, n, d), mse = zeros(b, n), dp = zeros(b, n, d), psnr = zeros(b, n),
                        same = zeros(b, n);
                b.sigmoid_bce_forward(bce, tx, tt);
                b.sigmoid_bce_backward(dx, tx, tt, 1f / (n * d));
                b.mse_forward(mse, tp, tt);
                b.mse_backward(dp, tp, tt, 0.5f);
                b.psnr_forward(psnr, tp, tt);
                b.psnr_forward(same, tt, tt);
                return new float[][] {bce.toArray(), dx.toArray(), mse.toArray(), dp.toArray(), psnr.toArray(), same.toArray()};
            }, ATOL, RTOL);
        }
    }

    // ---- VAE ----

    @Test
    void vae() {
        int n = 64, l = 33;
        float[] mu = rand(n * l), lv = rand(n * l, -3, 2), g = rand(n * l), base = rand(n * l);
        long s = rng.nextLong(), off = rng.nextLong(1L << 40);
        identical("reparam eps", b -> {
            Tensor z = zeros(b, n, l), eps = zeros(b, n, l);
            b.reparam_forward(z, eps, up(b, mu, n, l), up(b, lv, n, l), s, off);
            return new float[][] {eps.toArray()};
        });
        compare("vae", b -> {
            Tensor tmu = up(b, mu, n, l), tlv = up(b, lv, n, l), z = zeros(b, n, l), eps = zeros(b, n, l);
            b.reparam_forward(z, eps, tmu, tlv, s, off);
            Tensor dmu = zeros(b, n, l), dlv = zeros(b, n, l), kl = zeros(b, n);
            b.reparam_backward(dmu, dlv, up(b, g, n, l), tlv, eps);
            b.kl_forward(kl, tmu, tlv);
            Tensor kmu = up(b, base, n, l), klv = up(b, base, n, l);
            b.kl_backward(kmu, klv, tmu, tlv, 1f / n);
            return new float[][] {z.toArray(), dmu.toArray(), dlv.toArray(), kl.toArray(), kmu.toArray(), klv.toArray()};
        }, ATOL, RTOL);
    }

    // ---- Adam ----

    @Test
    void adam_over_steps() {
        int n = 100_003;
        float[] p = rand(n);
        float[][] grads = {rand(n), rand(n), rand(n)};
        compare("adam_update", b -> {
            Tensor tp = up(b, p, n), tm = zeros(b, n), tv = zeros(b, n);
            for (int t = 1; t <= grads.length; t++) b.adam_update(tp, tm, tv, up(b, grads[t - 1], n), 1e-3f, 0.9f, 0.999f, 1e-8f, t);
            return new float[][] {tp.toArray(), tm.toArray(), tv.toArray()};
        }, 1e-9, RTOL);
    }

    // ---- noise: Philox on both sides, bit for bit ----

    @Test
    void noise_is_bit_identical() {
        int n = 4097;
        float[] x = rand(n, 0, 1);
        long s = rng.nextLong(), off = rng.nextLong(1L << 40);
        identical("noise", b -> {
            Tensor g = zeros(b, n), sp = zeros(b, n), z = zeros(b, n), tx = up(b, x, n);
            b.noise_gaussian(g, tx, 0.3f, s, off);
            b.noise_salt_pepper(sp, tx, 0.2f, s, off);
            b.noise_normal(z, s, off);
            Tensor rows = zeros(b, 17, 241), tr = up(b, java.util.Arrays.copyOf(x, 17 * 241), 17, 241);
            b.noise_gaussian_range(rows, tr, 0f, 0.2157f, s, off);
            return new float[][] {g.toArray(), sp.toArray(), z.toArray(), rows.toArray()};
        });
    }

    // ---- device-resident data ----

    @Test
    void sum_scaled_is_bit_identical() {
        float[] a = rand(1000), c = rand(3), big = rand(100_003);
        identical("sum_scaled", b -> {
            Tensor total = zeros(b, 1), other = zeros(b, 1);
            b.sum_scaled(total, up(b, a, 1000), 0.5f, false);
            b.sum_scaled(total, up(b, c, 3), 2f, true);
            b.sum_scaled(other, up(b, big, 100_003), 1f / 3, false);
            return new float[][] {total.toArray(), other.toArray()};
        });
    }

    @Test
    void gather_rows_is_bit_identical_bad_indices_included() {
        int rows = 50, h = 3, w = 5;
        float[] data = rand(rows * h * w);
        identical("gather_rows", b -> {
            Tensor set = up(b, data, rows, h, w), idx = zeros(b, 4), out = zeros(b, 4, h, w), bad = zeros(b, 4, h, w);
            b.writeIndices(idx, new int[] {7, 0, 49, 7}, 0);
            b.gather_rows(out, set, idx);
            b.write(idx, new float[] {50, 1.5f, -1, 3});
            b.gather_rows(bad, set, idx);
            return new float[][] {out.toArray(), bad.toArray()};
        });
    }

    // ---- GPU-only: arenas and graphs ----

    @Test
    void arena_tensors_are_zeroed_aligned_and_usable() {
        try (DeviceArena arena = gpu.arena(1 << 20)) {
            Tensor a = arena.allocate(3, 7), b = arena.allocate(5);
            assertEquals(0, a.memory().address() % DeviceArena.ALIGN);
            assertEquals(0, b.memory().address() % DeviceArena.ALIGN);
            assertArrayEquals(new float[21], a.toArray());
            gpu.fill(b, 2.5f);
            assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f, 2.5f, 2.5f}, b.toArray());
        }
    }

    @Test
    void a_captured_graph_replays_the_step() {
        int n = 4, c = 3, h = 8, w = 8, k = 5;
        float[] x = rand(n * c * h * w), wt = rand(k * c * 9);
        Tensor tx = up(gpu, x, n, c, h, w), tw = up(gpu, wt, k, c, 3, 3), y = zeros(gpu, n, k, h, w),
                pooled = zeros(gpu, n, k, h / 2, w / 2), acc = zeros(gpu, 1);
        Runnable step = () -> {
            gpu.conv2d_forward(y, tx, tw, null, Activation.RELU);
            gpu.maxpool2d_forward(pooled, y);
            gpu.sum_scaled(acc, pooled, 1f, true);
        };
        step.run(); // chooses the cuDNN algorithm outside the capture
        float once = acc.toArray()[0];
        try (CudaGraph graph = gpu.captureGraph(step)) {
            graph.launch();
            graph.launch();
        }
        assertEquals(3 * once, acc.toArray()[0], 1e-4 * Math.abs(once) + 1e-5);
    }
}
