package dev.denoise.bench;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.Blackhole;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Whole models: one training step at batch 128 (forward, loss, backward, Adam) and inference of
 * 1,000 images. Images/s = batch / step time, and 1000 / inference time.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ModelBench {
    @Param({"dense", "vae", "conv", "skip"})
    public String model;

    @Param({"cpu"})
    public String backend;

    @Param({"128"})
    public int batch;

    private Backend b;
    private Autoencoder m;
    private Tensor noisy, clean, inferIn, inferOut;

    @Setup
    public void setup() {
        b = BackendParam.open(backend);
        m = Autoencoder.create(b, ModelConfig.mnist(ModelKind.parse(model)), batch);
        m.initialise(1);
        SplittableRandom rng = new SplittableRandom(2);
        noisy = b.allocate(batch, 1, 28, 28);
        clean = b.allocate(batch, 1, 28, 28);
        inferIn = b.allocate(1000, 1, 28, 28);
        inferOut = b.allocate(1000, 1, 28, 28);
        float[] v = new float[1000 * 784];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextDouble();
        b.write(inferIn, v);
        b.write(clean, v);
        b.noise_gaussian(noisy, clean, 0.5f, 1, 0);
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[] {noisy, clean, inferIn, inferOut}) t.close();
        m.close();
        b.close();
    }

    @Benchmark
    public double train_step() {
        double loss = m.trainStep(noisy, clean, 1e-3f);
        b.synchronize();
        return loss;
    }

    @Benchmark
    public void infer_1000(Blackhole bh) {
        m.reconstruct(inferIn, inferOut);
        b.synchronize();
        bh.consume(inferOut);
    }
}
