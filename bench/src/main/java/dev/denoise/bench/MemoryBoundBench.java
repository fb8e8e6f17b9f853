package dev.denoise.bench;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.Blackhole;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The memory-bound ops at the conv autoencoder's shapes (batch 128, 32 channels, 28×28 ↔ 14×14)
 * and Adam over the dense and conv models' parameter counts. Each prints the bytes one call must
 * move at least (read once, written once), so GB/s = bytes / time; the floor is bytes / DRAM
 * bandwidth where the tensors do not fit in cache.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class MemoryBoundBench {
    @Param({"cpu"})
    public String backend;

    /** Adam's flat buffer: 435536 = dense AE, 28353 = conv AE. */
    @Param({"435536", "28353"})
    public int params;

    private static final int N = 128, C = 32, H = 28;

    private Backend b;
    private Tensor big, small, dbig, dsmall, dbias, p, m, v, g;

    @Setup
    public void setup() {
        b = BackendParam.open(backend);
        SplittableRandom rng = new SplittableRandom(1);
        big = rand(rng, N, C, H, H);
        small = rand(rng, N, C, H / 2, H / 2);
        dbig = b.allocate(N, C, H, H);
        dsmall = rand(rng, N, C, H / 2, H / 2);
        dbias = b.allocate(C);
        p = rand(rng, params);
        m = b.allocate(params);
        v = b.allocate(params);
        g = rand(rng, params);
        long bigBytes = 4L * N * C * H * H;
        System.out.printf("%n# bytes per call: pool forward %.1f MB, pool backward %.1f MB, "
                        + "pool+relu backward %.1f MB, upsample forward/backward %.1f MB, adam(%d) %.1f MB%n",
                1.25 * bigBytes / 1e6, 2.25 * bigBytes / 1e6, 2.25 * bigBytes / 1e6, 1.25 * bigBytes / 1e6,
                params, 28.0 * params / 1e6);
    }

    private Tensor rand(SplittableRandom rng, int... shape) {
        Tensor t = b.allocate(shape);
        float[] x = new float[(int) t.numel()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble(0, 1);
        b.write(t, x);
        return t;
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[] {big, small, dbig, dsmall, dbias, p, m, v, g}) t.close();
        b.close();
    }

    @Benchmark
    public void maxpool2d_forward(Blackhole bh) {
        b.maxpool2d_forward(small, big);
        b.synchronize();
        bh.consume(small);
    }

    @Benchmark
    public void maxpool2d_backward(Blackhole bh) {
        b.maxpool2d_backward(dbig, dsmall, big);
        b.synchronize();
        bh.consume(dbig);
    }

    @Benchmark
    public void maxpool2d_relu_backward(Blackhole bh) {
        b.maxpool2d_relu_backward(dbig, dbias, dsmall, null, big);
        b.synchronize();
        bh.consume(dbig);
    }

    @Benchmark
    public void upsample2d_forward(Blackhole bh) {
        b.upsample2d_forward(dbig, small);
        b.synchronize();
        bh.consume(dbig);
    }

    @Benchmark
    public void upsample2d_backward(Blackhole bh) {
        b.upsample2d_backward(dsmall, big);
        b.synchronize();
        bh.consume(dsmall);
    }

    @Benchmark
    public void adam_update(Blackhole bh) {
        b.adam_update(p, m, v, g, 1e-3f, 0.9f, 0.999f, 1e-8f, 10);
        b.synchronize();
        bh.consume(p);
    }
}
