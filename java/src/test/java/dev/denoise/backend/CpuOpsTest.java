package dev.denoise.backend;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The op table on the CPU (native/ through FFM) against the Java reference; thread-count independence. */
class CpuOpsTest extends OpsContract {
    private static final CpuBackend cpu = SharedCpu.get();

    @Override
    protected Backend backend() {
        return cpu;
    }

    /** Every op that reduces or splits work gives the same bits on 1 and on 2 threads. */
    @Test
    void results_do_not_depend_on_thread_count() {
        try (CpuBackend one = new CpuBackend(1); CpuBackend two = new CpuBackend(2)) {
            same(one, two, (b, out) -> run(b, out));
        }
    }

    private static void same(CpuBackend one, CpuBackend two, BiConsumer<Backend, float[][]> ops) {
        float[][] a = new float[8][], b = new float[8][];
        ops.accept(one, a);
        ops.accept(two, b);
        for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i], "output " + i + " differs between 1 and 2 threads");
    }

    private static void run(Backend b, float[][] out) {
        SplittableRandom rng = new SplittableRandom(5);
        int n = 16, c = 8, h = 14, w = 14, k = 8;
        try (Tensor x = rand(b, rng, n, c, h, w); Tensor wt = rand(b, rng, k, c, 3, 3);
             Tensor g = rand(b, rng, n, k, h, w); Tensor y = b.allocate(n, k, h, w); Tensor dw = b.allocate(k, c, 3, 3);
             Tensor dx = b.allocate(n, c, h, w); Tensor db = b.allocate(k);
             Tensor a2 = rand(b, rng, 300, 200); Tensor b2 = rand(b, rng, 200, 150); Tensor c2 = b.allocate(300, 150);
             Tensor dbias = b.allocate(k); Tensor loss = b.allocate(n); Tensor noisy = b.allocate(n, c, h, w)) {
            b.conv2d_forward(y, x, wt, null, Activation.RELU);
            b.conv2d_backward_filter(dw, g, x);
            b.conv2d_backward_data(dx, g, wt);
            b.conv2d_backward_bias(db, g);
            b.gemm(false, false, 1f, a2, b2, 0f, c2);
            b.bias_act_backward(g, dbias, g, y, Activation.RELU);
            b.sigmoid_bce_forward(loss, x, x);
            b.noise_gaussian(noisy, x, 0.5f, 3, 4);
            out[0] = y.toArray();
            out[1] = dw.toArray();
            out[2] = dx.toArray();
            out[3] = db.toArray();
            out[4] = c2.toArray();
            out[5] = dbias.toArray();
            out[6] = loss.toArray();
            out[7] = noisy.toArray();
        }
    }

    private static Tensor rand(Backend b, SplittableRandom rng, int... shape) {
        Tensor t = b.allocate(shape);
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextDouble(-1, 1);
        b.write(t, v);
        return t;
    }
}
