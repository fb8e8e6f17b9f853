package dev.denoise.bench;

import dev.denoise.backend.Abi;
import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Device;
import dev.denoise.backend.Tensor;
import dev.denoise.ffm.DenoiseNative;
import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.Blackhole;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * conv2d forward / backward-data / backward-filter at the conv autoencoder's shapes, batch 128, on
 * the CPU's Winograd and direct paths (algo; the direct path alone where Winograd does not fit).
 * FLOPs per call = 2·N·K·C·H·W·R·S (printed by {@link #flops}); GFLOP/s = flops / time.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ConvBench {
    /** C→K@H (H = W), the layers of the conv autoencoder on MNIST. */
    @Param({"1-32@28", "32-32@14", "32-32@7", "32-32@28", "32-1@28"})
    public String shape;

    @Param({"cpu"})
    public String backend;

    @Param({"128"})
    public int batch;

    /** The CPU's 3×3 algorithm: auto (Winograd F(2×2,3×3) where it fits) or direct; ignored on a GPU. */
    @Param({"auto", "direct"})
    public String algo;

    private Backend b;
    private Tensor x, w, bias, y, dy, dx, dw;

    @Setup
    public void setup() {
        b = BackendParam.open(backend);
        if (b.device() == Device.CPU) {
            DenoiseNative.runtime_set_conv_algo("direct".equals(algo) ? Abi.DN_CONV_DIRECT : Abi.DN_CONV_AUTO);
        }
        int[] s = parse(shape);
        int c = s[0], k = s[1], h = s[2];
        SplittableRandom rng = new SplittableRandom(1);
        x = rand(rng, batch, c, h, h);
        w = rand(rng, k, c, 3, 3);
        bias = rand(rng, k);
        y = b.allocate(batch, k, h, h);
        dy = rand(rng, batch, k, h, h);
        dx = b.allocate(batch, c, h, h);
        dw = b.allocate(k, c, 3, 3);
        System.out.printf("%n# conv2d %s batch %d: %.3f GFLOP per call (counted as direct convolution)%n", shape, batch,
                flops(batch, c, k, h) / 1e9);
    }

    static int[] parse(String shape) {
        String[] ck = shape.split("@")[0].split("-");
        return new int[] {Integer.parseInt(ck[0]), Integer.parseInt(ck[1]), Integer.parseInt(shape.split("@")[1])};
    }

    static double flops(int n, int c, int k, int h) {
        return 2.0 * n * k * c * h * h * 9;
    }

    private Tensor rand(SplittableRandom rng, int... shape) {
        Tensor t = b.allocate(shape);
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextDouble(-1, 1);
        b.write(t, v);
        return t;
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, w, bias, y, dy, dx, dw}) t.close();
        b.close();
    }

    @Benchmark
    public void forward(Blackhole bh) {
        b.conv2d_forward(y, x, w, bias, Activation.RELU);
        b.synchronize();
        bh.consume(y);
    }

    @Benchmark
    public void backward_data(Blackhole bh) {
        b.conv2d_backward_data(dx, dy, w);
        b.synchronize();
        bh.consume(dx);
    }

    @Benchmark
    public void backward_filter(Blackhole bh) {
        b.conv2d_backward_filter(dw, dy, x);
        b.synchronize();
        bh.consume(dw);
    }
}
