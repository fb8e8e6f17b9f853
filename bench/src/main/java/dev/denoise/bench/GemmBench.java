package dev.denoise.bench;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * GEMM at the dense autoencoder's layer shapes, batch 128, in the three forms training uses:
 * forward y = x·Wᵀ (NT), input gradient dx = dy·W (NN), weight gradient dW = dyᵀ·x (TN).
 * FLOPs = 2·M·N·K.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class GemmBench {
    /** in→out of a Linear layer. */
    @Param({"784-256", "256-64", "64-256", "256-784", "256-16"})
    public String layer;

    @Param({"cpu"})
    public String backend;

    @Param({"128"})
    public int batch;

    private Backend b;
    private Tensor x, w, y, dy, dx, dw;

    @Setup
    public void setup() {
        b = BackendParam.open(backend);
        String[] p = layer.split("-");
        int in = Integer.parseInt(p[0]), out = Integer.parseInt(p[1]);
        x = b.allocate(batch, in);
        w = b.allocate(out, in);
        y = b.allocate(batch, out);
        dy = b.allocate(batch, out);
        dx = b.allocate(batch, in);
        dw = b.allocate(out, in);
        b.fill(x, 0.5f);
        b.fill(w, 0.01f);
        b.fill(dy, 0.1f);
        System.out.printf("%n# gemm %s batch %d: %.4f GFLOP per call%n", layer, batch, 2.0 * batch * in * out / 1e9);
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, w, y, dy, dx, dw}) t.close();
        b.close();
    }

    @Benchmark
    public void forward_nt(Blackhole bh) {
        b.gemm(false, true, 1f, x, w, 0f, y);
        b.synchronize();
        bh.consume(y);
    }

    @Benchmark
    public void input_grad_nn(Blackhole bh) {
        b.gemm(false, false, 1f, dy, w, 0f, dx);
        b.synchronize();
        bh.consume(dx);
    }

    @Benchmark
    public void weight_grad_tn(Blackhole bh) {
        b.gemm(true, false, 1f, dy, x, 0f, dw);
        b.synchronize();
        bh.consume(dw);
    }
}
