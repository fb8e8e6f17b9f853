package dev.denoise.cli;

import dev.denoise.backend.Abi;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.data.Dataset;
import dev.denoise.ffm.DenoiseNative;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import dev.denoise.train.Noise;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * denoise speed — training and inference throughput, measured as bench/peers/torch_models.py
 * measures PyTorch (same batch, steps, rounds, noise in the step), so bench/peers.sh can put the
 * two side by side.
 */
@Command(name = "speed", mixinStandardHelpOptions = true,
        description = "Measure training images/s (best of rounds of steps, noise included) and inference images/s.")
final class SpeedCommand implements Runnable {
    /** Largest --infer: two device tensors of that many 28×28 images, about 0.6 GB in all. */
    static final int MAX_INFER = 100_000;

    /** Images cycled through by the timed steps when eight batches would be more. */
    static final int POOL = 65_536;

    @Option(names = "--model", required = true, paramLabel = "dense|vae|conv|skip")
    String model;

    @Option(names = "--batch", defaultValue = "128")
    int batch;

    @Option(names = "--steps", defaultValue = "50", description = "Timed training steps per round.")
    int steps;

    @Option(names = "--rounds", defaultValue = "3")
    int rounds;

    @Option(names = "--warmup", defaultValue = "5")
    int warmup;

    @Option(names = "--infer", defaultValue = "1000", description = "Images for the inference timing (0 = none).")
    int infer;

    @Option(names = "--size", defaultValue = "28", description = "Image side (conv and skip: e.g. 64 for picture patches). Default: 28.")
    int size;

    @Option(names = "--channels", defaultValue = "1", description = "Image channels (conv and skip: 3 for RGB). Default: 1.")
    int channels;

    @Option(names = "--cpu-isa", defaultValue = "best", paramLabel = "best|avx2|portable",
            description = "The CPU kernels' instruction set: the best this CPU has, or AVX2+FMA or the portable "
                    + "path forced, to measure a path a machine without AVX-512 would take. Default: best.")
    String cpuIsa;

    @Option(names = "--cpu-conv", defaultValue = "auto", paramLabel = "auto|direct",
            description = "The CPU's 3x3 convolutions: auto (Winograd F(2x2,3x3) where it pays) or direct, "
                    + "to measure one against the other. Default: auto.")
    String cpuConv;

    @Mixin
    Options.Architecture arch;

    @Mixin
    Options.Device device;

    @Override
    public void run() {
        ModelKind kind = Ranges.parse("--model", () -> ModelKind.parse(model));
        Ranges.check("--batch", batch, 1, 65_536);
        Ranges.check("--steps", steps, 1, 1_000_000);
        Ranges.check("--rounds", rounds, 1, 1_000);
        Ranges.check("--warmup", warmup, 0, 1_000_000);
        Ranges.check("--infer", infer, 0, MAX_INFER);
        Ranges.check("--size", size, 1, 4096);
        Ranges.check("--channels", channels, 1, 4);
        if ((size != 28 || channels != 1) && !kind.convolutional()) {
            throw new IllegalArgumentException("--size, --channels: the " + kind.id() + " model takes 1x28x28 images only");
        }
        arch.validate();
        ModelConfig config = arch.config(kind, channels, size, size, null); // refuses a depth the size does not divide
        device.validate();
        int isa = Ranges.parse("--cpu-isa", () -> switch (cpuIsa) {
            case "best" -> -1;
            case "avx2" -> Abi.DN_ISA_AVX2;
            case "portable" -> Abi.DN_ISA_GENERIC;
            default -> throw new IllegalArgumentException("expected best, avx2 or portable, got '" + cpuIsa + "'");
        });
        int algo = Ranges.parse("--cpu-conv", () -> switch (cpuConv) {
            case "auto" -> Abi.DN_CONV_AUTO;
            case "direct" -> Abi.DN_CONV_DIRECT;
            default -> throw new IllegalArgumentException("expected auto or direct, got '" + cpuConv + "'");
        });
        // Eight batches to cycle through, as the PyTorch peer does, but no more than POOL images
        // once batches are large; never fewer than one batch or the inference images.
        int d = channels * size * size;
        float[] pool = images(Math.max(Math.max(batch, infer), Math.min(batch * 8, POOL * 784 / d)), d);
        int poolImages = pool.length / d;
        // this process only runs the benchmark: the process-wide switches are its own
        if (algo != Abi.DN_CONV_AUTO) DenoiseNative.runtime_set_conv_algo(algo);
        if (isa >= 0) DenoiseNative.runtime_set_isa(isa);
        try (Backend b = device.open(); Autoencoder m = Autoencoder.create(b, config, batch);
             Tensor all = b.allocate(poolImages, channels, size, size); Tensor clean = b.allocate(batch, channels, size, size);
             Tensor noisy = b.allocate(batch, channels, size, size); Tensor offset = b.allocate(2); Tensor loss = b.allocate(1)) {
            m.initialise(1);
            b.write(all, pool);
            Noise noise = Noise.gaussian(0.5f);
            // the training loop's step: batch copied into place, per-step values through memory, the
            // rest recorded once and replayed on a GPU, the loss kept on the device
            Backend.Replay replay = b.replayable(() -> {
                noise.apply(b, noisy, clean, 1, offset);
                m.runStep(noisy, clean, loss);
            });
            double[] rates = new double[rounds];
            try {
                long[] step = {0};
                Runnable trainStep = () -> m.inStep(() -> {
                    int i = (int) ((step[0] * batch) % (poolImages - batch + 1));
                    b.copy(clean, all.rows(i, i + batch));
                    b.setLong(offset, step[0]++ * batch * d);
                    m.prepareStep(batch, 1e-3f);
                    replay.run();
                });
                for (int k = 0; k < warmup; k++) trainStep.run();
                b.synchronize();
                for (int r = 0; r < rounds; r++) {
                    long t0 = System.nanoTime();
                    for (int k = 0; k < steps; k++) trainStep.run();
                    b.synchronize();
                    rates[r] = (double) steps * batch / ((System.nanoTime() - t0) / 1e9);
                }
            } finally {
                replay.close();
            }
            double[] sorted = rates.clone();
            Arrays.sort(sorted);
            System.out.printf("denoise  %s  %s  train: %d x %d steps of %d: best %.0f, median %.0f images/s%n", kind.id(),
                    b.describe(), rounds, steps, batch, sorted[rounds - 1], sorted[rounds / 2]);
            if (infer > 0) {
                try (Tensor in = b.allocate(infer, channels, size, size); Tensor out = b.allocate(infer, channels, size, size);
                     Autoencoder im = Autoencoder.create(b, config, Math.min(infer, 1000))) {
                    b.copy(im.parameters().values(), m.parameters().values());
                    noise.apply(b, in, all.rows(0, infer), 2, 0);
                    im.reconstruct(in, out);
                    double best = Double.MAX_VALUE;
                    for (int r = 0; r < 5; r++) {
                        long t0 = System.nanoTime();
                        im.reconstruct(in, out);
                        b.synchronize();
                        best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                    }
                    System.out.printf("denoise  %s  %s  infer: %d images (batch %d) in %.3f s = %.0f images/s%n",
                            kind.id(), b.describe(), infer, im.maxBatch(), best, infer / best);
                }
            }
        }
    }

    /**
     * n MNIST training images when present and d is theirs (speed may depend on values through
     * ReLU sparsity), repeated when n is more than the file holds; else n uniform random images of d.
     */
    private static float[] images(int n, int d) {
        if (d == 784) {
            try {
                Dataset train = DatasetChoice.train("mnist");
                float[] all = train.images(), v = new float[n * 784];
                for (int i = 0; i < v.length; i += all.length) System.arraycopy(all, 0, v, i, Math.min(all.length, v.length - i));
                return v;
            } catch (RuntimeException missing) {
                // uniform noise below
            }
        }
        SplittableRandom rng = new SplittableRandom(1);
        float[] v = new float[Math.multiplyExact(n, d)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextDouble();
        return v;
    }
}
