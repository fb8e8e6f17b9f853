package dev.denoise.backend;

import dev.denoise.ffm.DenoiseNative;
import dev.denoise.ffm.NativeOpException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scratch memory running out inside a native op is an exception naming the op, its sizes and the
 * bytes that could not be had, never an abort of the JVM; the backend then works as before. The
 * library's fault hook makes every scratch request above a limit fail, on any OpenMP thread.
 */
@Timeout(60)
class NativeFaultTest {

    /** Each op that needs scratch, on shapes large enough to need it, from seeded inputs. */
    private static float[][] ops(Backend b) {
        int n = 8, c = 16, h = 28, w = 28, k = 16;
        try (TestTensors ts = new TestTensors(7)) {
            Tensor x = ts.rand(b, n, c, h, w), wt = ts.rand(b, k, c, 3, 3), g = ts.rand(b, n, k, h, w);
            Tensor y = ts.zeros(b, n, k, h, w), dx = ts.zeros(b, n, c, h, w), dw = ts.zeros(b, k, c, 3, 3);
            Tensor half = ts.zeros(b, n, c, h / 2, w / 2), a = ts.rand(b, 300, 200), bm = ts.rand(b, 200, 150);
            Tensor cm = ts.zeros(b, 300, 150), pooled = ts.rand(b, n, c, h / 2, w / 2), dbias = ts.zeros(b, c);
            b.conv2d_forward(y, x, wt, null, Activation.RELU);
            b.conv2d_backward_data(dx, g, wt);
            b.conv2d_backward_filter(dw, g, x);
            b.upsample2d_conv2d_backward_data(half, g, wt);
            b.gemm(false, false, 1f, a, bm, 0f, cm);
            b.maxpool2d_relu_backward(dx, dbias, pooled, null, x);
            // 24 channels each way: the Winograd filter gradient (16 take the direct one above)
            Tensor x24 = ts.rand(b, 6, 24, 14, 14), g24 = ts.rand(b, 6, 24, 14, 14), dw24 = ts.zeros(b, 24, 24, 3, 3);
            b.conv2d_backward_filter(dw24, g24, x24);
            return new float[][] {y.toArray(), dx.toArray(), dw.toArray(), half.toArray(), cm.toArray(), dbias.toArray(),
                    dw24.toArray()};
        }
    }

    @Test
    void out_of_scratch_memory_names_op_and_size_and_the_backend_recovers() {
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend cpu = new CpuBackend(threads); TestTensors ts = new TestTensors(8)) {
                float[][] before = ops(cpu);
                DenoiseNative.runtime_set_alloc_limit(1024);
                try {
                    expectOutOfMemory(cpu, "conv2d_forward", b -> b.conv2d_forward(ts.zeros(b, 8, 16, 28, 28),
                            ts.rand(b, 8, 16, 28, 28), ts.rand(b, 16, 16, 3, 3), null, Activation.IDENTITY));
                    expectOutOfMemory(cpu, "conv2d_backward_data", b -> b.conv2d_backward_data(ts.zeros(b, 8, 16, 28, 28),
                            ts.rand(b, 8, 16, 28, 28), ts.rand(b, 16, 16, 3, 3)));
                    expectOutOfMemory(cpu, "conv2d_backward_filter", b -> b.conv2d_backward_filter(ts.zeros(b, 16, 16, 3, 3),
                            ts.rand(b, 8, 16, 28, 28), ts.rand(b, 8, 16, 28, 28)));
                    expectOutOfMemory(cpu, "conv2d_backward_filter", b -> b.conv2d_backward_filter(ts.zeros(b, 24, 24, 3, 3),
                            ts.rand(b, 6, 24, 14, 14), ts.rand(b, 6, 24, 14, 14)));
                    expectOutOfMemory(cpu, "upsample2d_conv2d_backward_data", b -> b.upsample2d_conv2d_backward_data(
                            ts.zeros(b, 8, 16, 14, 14), ts.rand(b, 8, 16, 28, 28), ts.rand(b, 16, 16, 3, 3)));
                    expectOutOfMemory(cpu, "gemm", b -> b.gemm(false, false, 1f, ts.rand(b, 300, 200), ts.rand(b, 200, 150),
                            0f, ts.zeros(b, 300, 150)));
                    expectOutOfMemory(cpu, "maxpool2d_relu_backward", b -> b.maxpool2d_relu_backward(
                            ts.zeros(b, 64, 16, 28, 28), ts.zeros(b, 16), ts.rand(b, 64, 16, 14, 14), null,
                            ts.rand(b, 64, 16, 28, 28)));
                } finally {
                    DenoiseNative.runtime_set_alloc_limit(-1);
                }
                float[][] after = ops(cpu);
                for (int i = 0; i < before.length; i++) {
                    assertArrayEquals(before[i], after[i], "output " + i + " after the failures, " + threads + " threads");
                }
            }
        }
    }

    private static void expectOutOfMemory(CpuBackend cpu, String op, Consumer<Backend> call) {
        NativeOpException e = assertThrows(NativeOpException.class, () -> call.accept(cpu), op);
        assertEquals(op, e.call());
        assertEquals(Abi.DN_ERR_NOMEM, e.status());
        assertTrue(e.bytes() > 1024, op + ": " + e.bytes() + " bytes reported");
        assertTrue(e.getMessage().startsWith(op + " ") && e.getMessage().contains(e.bytes() + " bytes"), e.getMessage());
    }
}
