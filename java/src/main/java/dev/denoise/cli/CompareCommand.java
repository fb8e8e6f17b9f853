package dev.denoise.cli;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.data.Dataset;
import dev.denoise.eval.Evaluation;
import dev.denoise.io.Images;
import dev.denoise.metrics.Baselines;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelFiles;
import dev.denoise.model.ModelKind;
import dev.denoise.model.VariationalAutoencoder;
import dev.denoise.report.Comparison;
import dev.denoise.report.Report;
import dev.denoise.train.Noise;
import dev.denoise.train.TrainConfig;
import dev.denoise.train.TrainingSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * denoise compare — the main job: trains dense, vae, conv and skip, each with its recipe, scores them and the
 * classical baselines on the same noisy test images, and writes report.html, metrics.json and the
 * pictures. Defaults finish in a few minutes on two CPU cores.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Train dense, vae, conv and skip, evaluate them and the classical baselines on the test set, "
                + "and write OUT/report.html, OUT/metrics.json and pictures.")
final class CompareCommand implements Runnable {
    static final int SAMPLES = 8;

    @Option(names = "--epochs", defaultValue = "5", description = "Epochs per model. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--train-size", defaultValue = "0",
            description = "Training images per model (0 = all). Default: ${DEFAULT-VALUE}.")
    int trainSize;

    @Option(names = "--test-size", defaultValue = "0", description = "Test images scored (0 = all).")
    int testSize;

    @Option(names = "--vae-latent", defaultValue = "16",
            description = "VAE latent size; 2 also draws the latent manifold. Default: ${DEFAULT-VALUE}.")
    int vaeLatent;

    @Option(names = "--models", split = ",", paramLabel = "M,M,...",
            description = "Models to compare. Default: dense,vae,conv,skip; with --dataset DIR conv,skip.")
    List<String> models;

    @Option(names = "--test", paramLabel = "DIR",
            description = "With --dataset DIR: the folder of pictures to score (whole pictures, tiled).")
    Path testDir;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of everything random. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Mixin
    Options.Data data;

    @Mixin
    Options.Device device;

    @Mixin
    Options.Recipe recipe;

    @Mixin
    Options.Architecture arch;

    @Mixin
    Options.Patches pictures;

    /**
     * The recipes, and the conv and skip models' sizes, in the report's configuration: one value
     * when every model has it, else each model's ("conv 128, skip 32").
     */
    static void describe(Map<String, Object> config, Map<ModelKind, TrainConfig> recipes, List<ModelConfig> models) {
        config.put("batch", perModel(recipes, TrainConfig::batch));
        config.put("lr", perModel(recipes, TrainConfig::lr));
        config.put("lr_decay", perModel(recipes, TrainConfig::lrDecay));
        Map<ModelKind, ModelConfig> convolutional = new LinkedHashMap<>();
        for (ModelConfig m : models) if (m.kind().convolutional()) convolutional.put(m.kind(), m);
        if (convolutional.isEmpty()) return;
        config.put("conv_width", perModel(convolutional, ModelConfig::convWidth));
        config.put("conv_depth", perModel(convolutional, ModelConfig::convDepth));
        config.put("level_convs", perModel(convolutional, ModelConfig::levelConvs));
    }

    private static <T> Object perModel(Map<ModelKind, T> byKind, Function<T, Object> value) {
        if (byKind.values().stream().map(value).distinct().count() == 1) return value.apply(byKind.values().iterator().next());
        return byKind.entrySet().stream().map(e -> e.getKey().id() + " " + value.apply(e.getValue()))
                .collect(Collectors.joining(", "));
    }

    @Override
    public void run() {
        // Everything that can be refused is refused here, before data is read or OUT is made.
        Path folder = data.folder();
        List<ModelKind> kinds = kinds(models != null ? models
                : folder == null ? List.of("dense", "vae", "conv", "skip") : List.of("conv", "skip"));
        Noise noise = folder == null ? data.validate() : data.noise();
        Map<ModelKind, TrainConfig> recipes = new LinkedHashMap<>();
        for (ModelKind k : kinds) recipes.put(k, recipe.config(k, epochs, seed, noise));
        if (folder != null) {
            ComparePictures.validate(kinds, testDir);
            arch.validate();
            pictures.validate(kinds, arch.convDepth);
            device.validate();
            OutputDir.check("--out", out);
            try (Backend backend = device.open()) {
                ComparePictures.run(backend, device.note(), recipes, arch, pictures, folder, testDir, out);
            }
            return;
        }
        if (testDir != null) throw new IllegalArgumentException("--test goes with --dataset DIR (a folder of pictures)");
        Ranges.check("--train-size", trainSize, 0, Ranges.NO_LIMIT);
        Ranges.check("--test-size", testSize, 0, Ranges.NO_LIMIT);
        Ranges.check("--vae-latent", vaeLatent, 1, TrainCommand.MAX_LATENT);
        arch.validate();
        List<ModelConfig> configs = new ArrayList<>();
        for (ModelKind kind : kinds) {
            configs.add(arch.config(kind, DatasetChoice.CHANNELS, DatasetChoice.SIDE, DatasetChoice.SIDE,
                    kind == ModelKind.VAE ? vaeLatent : null));
        }
        device.validate();
        OutputDir.check("--out", out);
        data.requireFiles();
        Dataset[] split = DatasetChoice.split(DatasetChoice.train(data.dataset), trainSize);
        Dataset test = DatasetChoice.test(data.dataset);
        if (testSize > 0) test = test.first(Math.min(testSize, test.count()));
        int c = test.channels(), h = test.height(), w = test.width();

        try (Backend backend = device.open()) {
            OutputDir.prepare(out);
            System.out.println("denoise compare on " + backend.describe() + device.note());
            float[] noisy = Evaluation.noisy(backend, test, noise);
            float[] median = Evaluation.median3x3(noisy, test.count(), c, h, w);
            float[] valNoisy = Evaluation.noisy(backend, split[1], noise);
            double sigma = Baselines.chooseGaussianSigma(valNoisy, split[1].images(), split[1].count(), c, h, w);
            float[] blur = Evaluation.gaussian(noisy, test.count(), c, h, w, sigma);

            Map<String, Comparison.Quality> baselines = new LinkedHashMap<>();
            baselines.put("median3x3", quality(Evaluation.score(median, test)));
            baselines.put(String.format("gaussian(σ=%.1f)", sigma), quality(Evaluation.score(blur, test)));

            List<String> rowNames = new ArrayList<>(List.of("clean", "noisy", "median3x3"));
            List<List<Images.Image>> rows = new ArrayList<>();
            rows.add(first(test.images(), c, h, w));
            rows.add(first(noisy, c, h, w));
            rows.add(first(median, c, h, w));

            Map<String, Comparison.ModelResult> results = new LinkedHashMap<>();
            List<Images.Image> samples = List.of(), manifold = List.of();
            int side = 0;
            for (ModelConfig mc : configs) {
                ModelKind kind = mc.kind();
                Path dir = out.resolve(kind.id());
                OutputDir.prepare(dir);
                TrainCommand.Result r = TrainCommand.train(backend, mc, TrainingSet.of(split[0]), split[1],
                        recipes.get(kind), dir, false, Map.of("dataset", data.dataset));
                try (Autoencoder m = ModelFiles.load(dir.resolve("model.safetensors"), backend, 256)) {
                    Evaluation.Denoised d = Evaluation.denoise(m, noisy, test.count());
                    Evaluation.Scores s = Evaluation.score(d.images(), test);
                    System.out.printf("%s: PSNR %.2f dB, SSIM %.4f, %,.0f images/s inference%n", kind.id(), s.psnr(),
                            s.ssim(), d.imagesPerSecond());
                    results.put(kind.id(), new Comparison.ModelResult(kind.id(), s.psnr(), s.ssim(), r.seconds(),
                            r.imagesPerSecond(), d.imagesPerSecond(), r.history()));
                    rowNames.add(kind.id());
                    rows.add(first(d.images(), c, h, w));
                    if (m instanceof VariationalAutoencoder vae) {
                        samples = GenerateCommand.samples(vae, 64, seed);
                        if (vae.config().latent() == 2) {
                            side = 15;
                            manifold = manifold(vae, side);
                        }
                    }
                }
            }
            Comparison.Quality noisyQ = quality(Evaluation.score(noisy, test));
            Map<String, Object> config = new LinkedHashMap<>();
            config.put("dataset", data.dataset);
            config.put("noise", noise.toString());
            config.put("epochs", epochs);
            config.put("train_size", split[0].count());
            config.put("validation_size", split[1].count());
            config.put("test_size", test.count());
            describe(config, recipes, configs);
            config.put("seed", seed);
            config.put("vae_latent", vaeLatent);
            config.put("device", backend.describe());
            Report.write(out, new Comparison(noisyQ, baselines, results, config, rowNames, rows, samples, manifold, side));
            System.out.printf("noisy input: PSNR %.2f dB, SSIM %.4f; report: %s%n", noisyQ.psnr(), noisyQ.ssim(),
                    out.resolve("report.html"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report: " + e.getMessage(), e);
        }
    }

    /** The --models list: known names, none empty, at least one; repeats count once. */
    static List<ModelKind> kinds(List<String> names) {
        if (names == null || names.isEmpty()) {
            throw new IllegalArgumentException("--models: no model given (expected dense, vae, conv or skip)");
        }
        List<ModelKind> kinds = new ArrayList<>();
        for (String name : names) {
            if (name.isBlank()) {
                throw new IllegalArgumentException("--models: empty entry in '" + String.join(",", names)
                        + "' (expected a comma-separated list of dense, vae, conv, skip)");
            }
            ModelKind k = Ranges.parse("--models", () -> ModelKind.parse(name.trim()));
            if (!kinds.contains(k)) kinds.add(k);
        }
        return kinds;
    }

    private static Comparison.Quality quality(Evaluation.Scores s) {
        return new Comparison.Quality(s.psnr(), s.ssim());
    }

    private static List<Images.Image> first(float[] all, int c, int h, int w) {
        return GenerateCommand.split(all, SAMPLES, c, h, w);
    }

    /** Decoded images over a side×side grid of latent points at standard-normal quantiles. */
    private static List<Images.Image> manifold(VariationalAutoencoder vae, int side) {
        Backend b = vae.backend();
        var cfg = vae.config();
        float[] z = new float[side * side * 2];
        for (int i = 0; i < side; i++)
            for (int j = 0; j < side; j++) {
                z[(i * side + j) * 2] = (float) normalQuantile((j + 0.5) / side);
                z[(i * side + j) * 2 + 1] = (float) normalQuantile(1 - (i + 0.5) / side);
            }
        try (Tensor tz = b.allocate(side * side, 2);
             Tensor img = b.allocate(side * side, cfg.channels(), cfg.height(), cfg.width())) {
            b.write(tz, z);
            vae.decodeTo(tz, img);
            return GenerateCommand.split(img.toArray(), side * side, cfg.channels(), cfg.height(), cfg.width());
        }
    }

    /** Inverse standard-normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
    static double normalQuantile(double p) {
        double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                -3.066479806614716e+01, 2.506628277459239e+00};
        double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                -1.328068155288572e+01};
        double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                4.374664141464968e+00, 2.938163982698783e+00};
        double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
        if (p < 0.02425) {
            double q = Math.sqrt(-2 * Math.log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                    / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - 0.02425) return -normalQuantile(1 - p);
        double q = p - 0.5, r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
}
