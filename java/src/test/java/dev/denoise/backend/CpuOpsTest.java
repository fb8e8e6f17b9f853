package dev.denoise.backend;

import org.junit.jupiter.api.Test;

import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The op table on the CPU (native/ through FFM) against the Java reference; thread-count independence. */
class CpuOpsTest extends OpsContract {
    private static final CpuBackend cpu = SharedCpu.get();

    @Override
    protected Backend backend() {
        return cpu;
    }

    /**
     * Every op that reduces or splits work gives the same bits on 1 and on 2 threads, on the direct
     * and the Winograd convolution paths.
     */
    @Test
    void results_do_not_depend_on_thread_count() {
        try (CpuBackend one = new CpuBackend(1); CpuBackend two = new CpuBackend(2)) {
            same(one, two, (b, out) -> run(b, out));
        }
    }

    private static void same(CpuBackend one, CpuBackend two, BiConsumer<Backend, float[][]> ops) {
        float[][] a = new float[11][], b = new float[11][];
        ops.accept(one, a);
        ops.accept(two, b);
        for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i], "output " + i + " differs between 1 and 2 threads");
    }

    private static void run(Backend b, float[][] out) {
        int n = 16, c = 8, h = 14, w = 14, k = 8;
        try (TestTensors ts = new TestTensors(5)) {
            Tensor x = ts.rand(b, n, c, h, w), wt = ts.rand(b, k, c, 3, 3), g = ts.rand(b, n, k, h, w);
            Tensor y = ts.zeros(b, n, k, h, w), dw = ts.zeros(b, k, c, 3, 3), dx = ts.zeros(b, n, c, h, w);
            Tensor db = ts.zeros(b, k), a2 = ts.rand(b, 300, 200), b2 = ts.rand(b, 200, 150), c2 = ts.zeros(b, 300, 150);
            Tensor dbias = ts.zeros(b, k), loss = ts.zeros(b, n), noisy = ts.zeros(b, n, c, h, w);
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
            // the Winograd filter gradient (24+ channels each way), over a call split into chunks
            Tensor x3 = ts.rand(b, 70, 24, 14, 14), g3 = ts.rand(b, 70, 32, 14, 14), w3 = ts.rand(b, 32, 24, 3, 3);
            Tensor dw3 = ts.zeros(b, 32, 24, 3, 3), y3 = ts.zeros(b, 70, 32, 14, 14);
            b.conv2d_backward_filter(dw3, g3, x3);
            b.conv2d_forward(y3, x3, w3, null, Activation.IDENTITY);
            out[8] = dw3.toArray();
            out[9] = y3.toArray();
            Tensor rows = ts.zeros(b, 70, 24 * 14 * 14);
            b.noise_gaussian_range(rows, x3.view(70, 24 * 14 * 14), 0f, 0.2f, 3, 4);
            out[10] = rows.toArray();
        }
    }
}
