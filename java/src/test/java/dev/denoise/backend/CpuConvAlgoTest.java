package dev.denoise.backend;

import dev.denoise.ffm.DenoiseNative;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU's Winograd F(2x2, 3x3) convolutions against its direct ones (which the op contract holds
 * to finite differences), on every instruction-set path this CPU has: forward with bias and ReLU,
 * backward data, its upsampled twin and backward filter, on shapes that take the Winograd path (odd
 * sides, channel counts off the register blocks, one image and many, lanes and whole batches).
 * Both compute the same sums in another order: they agree to a few ulps of the largest value.
 */
class CpuConvAlgoTest {
    private static final CpuBackend cpu = SharedCpu.get();
    /** {N, C, H, W, K} */
    private static final int[][] SHAPES = {{4, 32, 14, 14, 32}, {1, 9, 13, 15, 10}, {3, 25, 12, 17, 40},
            {2, 48, 14, 14, 48}, {70, 24, 12, 12, 24}, {2, 12, 28, 29, 13}};

    @AfterEach
    void restore() {
        DenoiseNative.runtime_set_conv_algo(Abi.DN_CONV_AUTO);
        DenoiseNative.runtime_set_isa(-1);
    }

    @Test
    void winograd_agrees_with_direct_on_every_path() {
        int best = DenoiseNative.runtime_set_isa(-1);
        try (TestTensors ts = new TestTensors(TestTensors.seed(7))) {
            for (int level = Abi.DN_ISA_GENERIC; level <= best; level++) {
                DenoiseNative.runtime_set_isa(level);
                for (int[] s : SHAPES) {
                    int n = s[0], c = s[1], h = s[2], w = s[3], k = s[4];
                    float[] x = ts.rand(n * c * h * w), wt = ts.rand(k * c * 9), b = ts.rand(k), g = ts.rand(n * k * h * w);
                    float[][] auto = run(ts, x, wt, b, g, s), direct;
                    DenoiseNative.runtime_set_conv_algo(Abi.DN_CONV_DIRECT);
                    try {
                        direct = run(ts, x, wt, b, g, s);
                    } finally {
                        DenoiseNative.runtime_set_conv_algo(Abi.DN_CONV_AUTO);
                    }
                    String[] names = {"forward", "backward data", "upsampled backward data", "backward filter"};
                    for (int i = 0; i < names.length; i++) {
                        if (auto[i] == null) continue;
                        double max = 0, diff = 0;
                        for (int j = 0; j < auto[i].length; j++) {
                            max = Math.max(max, Math.abs(direct[i][j]));
                            diff = Math.max(diff, Math.abs(auto[i][j] - direct[i][j]));
                        }
                        assertTrue(diff <= 4e-6 * max, names[i] + " " + Arrays.toString(s) + " at ISA level " + level
                                + ": differs by " + diff + " (largest " + max + ")");
                    }
                }
            }
        }
    }

    private static float[][] run(TestTensors ts, float[] x, float[] wt, float[] b, float[] g, int[] s) {
        int n = s[0], c = s[1], h = s[2], w = s[3], k = s[4];
        Tensor tx = ts.up(cpu, x, n, c, h, w), tw = ts.up(cpu, wt, k, c, 3, 3), tg = ts.up(cpu, g, n, k, h, w);
        Tensor y = ts.zeros(cpu, n, k, h, w), dx = ts.zeros(cpu, n, c, h, w), dw = ts.zeros(cpu, k, c, 3, 3);
        cpu.conv2d_forward(y, tx, tw, ts.up(cpu, b, k), Activation.RELU);
        cpu.conv2d_backward_data(dx, tg, tw);
        cpu.conv2d_backward_filter(dw, tg, tx);
        float[] up = null;
        if (h % 2 == 0 && w % 2 == 0) {
            Tensor d2 = ts.zeros(cpu, n, c, h / 2, w / 2);
            cpu.upsample2d_conv2d_backward_data(d2, tg, tw);
            up = d2.toArray();
        }
        return new float[][] {y.toArray(), dx.toArray(), up, dw.toArray()};
    }
}
