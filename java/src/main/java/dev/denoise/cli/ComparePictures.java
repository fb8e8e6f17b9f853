package dev.denoise.cli;

import dev.denoise.BadInputException;
import dev.denoise.Denoiser;
import dev.denoise.backend.Backend;
import dev.denoise.data.ImageFolder;
import dev.denoise.eval.Evaluation;
import dev.denoise.eval.PictureEvaluation;
import dev.denoise.io.Images;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import dev.denoise.report.Comparison;
import dev.denoise.report.Report;
import dev.denoise.train.TrainConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * compare --dataset DIR --test DIR: the fully convolutional models trained on patches of one folder
 * of pictures and scored on the whole pictures of another, beside the noisy input, a 3×3 median and
 * the oracle Gaussian blur; the report's picture shows the same centre crop of each test picture as
 * every method leaves it.
 */
final class ComparePictures {
    /** Side of the centre crops in the report (smaller pictures give all they have). */
    static final int CROP = 128;

    private ComparePictures() {}

    /** The checks that need no data: every model fully convolutional, the test folder present. */
    static void validate(List<ModelKind> kinds, Path test) {
        for (ModelKind k : kinds) {
            if (!k.convolutional()) {
                throw new IllegalArgumentException("--models: " + k.id() + " takes one image size only; with "
                        + "--dataset DIR compare conv and skip (the default)");
            }
        }
        if (test == null) throw new IllegalArgumentException("--test DIR is needed with --dataset DIR: the pictures to score");
        if (!Files.isDirectory(test)) {
            throw new BadInputException(test, "--test: not a folder of pictures");
        }
    }

    /** recipes: the models to train, each with its recipe (all with the same epochs, noise and seed). */
    static void run(Backend backend, String deviceNote, Map<ModelKind, TrainConfig> recipes, Options.Architecture arch,
                    Options.Patches pictures, Path trainDir, Path testDir, Path out) {
        List<ModelKind> kinds = List.copyOf(recipes.keySet());
        TrainConfig cfg = recipes.get(kinds.getFirst());
        Options.Patches.Split split = pictures.load(trainDir, cfg.seed());
        ImageFolder test = ImageFolder.load(testDir);
        if (test.channels() != split.train().channels()) {
            throw new IllegalArgumentException(testDir + " holds " + test.channels() + "-channel pictures, "
                    + trainDir + " " + split.train().channels() + "-channel ones");
        }
        List<ModelConfig> configs = new ArrayList<>();
        for (ModelKind k : kinds) {
            configs.add(arch.config(k, split.train().channels(), pictures.patch, pictures.patch, null));
        }
        OutputDir.prepare(out);
        System.out.println("denoise compare on " + backend.describe() + deviceNote);
        Map<String, TrainCommand.Result> trained = new LinkedHashMap<>();
        for (ModelConfig mc : configs) {
            Path dir = out.resolve(mc.kind().id());
            OutputDir.prepare(dir);
            trained.put(mc.kind().id(), TrainCommand.train(backend, mc, split.train(), split.validation(),
                    recipes.get(mc.kind()), dir, false,
                    Map.of("dataset", trainDir.toString())));
        }
        int side = CROP;
        for (Images.Image img : test.images()) side = Math.min(side, Math.min(img.height(), img.width()));
        Map<String, Denoiser> models = new LinkedHashMap<>();
        try {
            for (String name : trained.keySet()) {
                models.put(name, Denoiser.load(out.resolve(name).resolve("model.safetensors"), backend));
            }
            PictureEvaluation.Result r = PictureEvaluation.evaluate(models, test, cfg.noise(), backend, side);
            Map<String, Evaluation.Scores> mean = PictureEvaluation.mean(r.pictures());
            Map<String, Comparison.Quality> baselines = new LinkedHashMap<>();
            baselines.put("median3x3", quality(mean.get("median3x3")));
            baselines.put("gaussian (σ best per picture)", quality(mean.get("gaussian")));
            Map<String, Comparison.ModelResult> results = new LinkedHashMap<>();
            trained.forEach((name, t) -> {
                Evaluation.Scores s = mean.get(name);
                System.out.printf("%s: PSNR %.2f dB, SSIM %.4f on %d pictures%n", name, s.psnr(), s.ssim(), test.count());
                results.put(name, new Comparison.ModelResult(name, s.psnr(), s.ssim(), t.seconds(), t.imagesPerSecond(),
                        r.picturesPerSecond().get(name), t.history()));
            });
            List<String> rowNames = new ArrayList<>(List.of("clean", "noisy", "median3x3", "gaussian"));
            rowNames.addAll(trained.keySet());
            List<List<Images.Image>> rows = new ArrayList<>();
            for (int k = 0; k < rowNames.size(); k++) {
                List<Images.Image> row = new ArrayList<>();
                for (PictureEvaluation.Picture p : r.pictures()) row.add(p.crops().get(k));
                rows.add(row);
            }
            Map<String, Object> config = new LinkedHashMap<>();
            config.put("dataset", trainDir.toString());
            config.put("test", testDir + " (" + String.join(", ", test.names()) + ")");
            config.put("noise", cfg.noise().toString());
            config.put("epochs", cfg.epochs());
            config.put("patch", pictures.patch);
            config.put("patches_per_epoch", pictures.patches);
            config.put("val_files", pictures.valFiles);
            CompareCommand.describe(config, recipes, configs);
            config.put("seed", cfg.seed());
            config.put("crops", side + "×" + side + " from the centre of each test picture");
            config.put("device", backend.describe());
            Evaluation.Scores noisy = mean.get("noisy");
            Report.write(out, new Comparison(quality(noisy), baselines, results, config, rowNames, rows, null, null, 0));
            System.out.printf("noisy input: PSNR %.2f dB, SSIM %.4f; report: %s%n", noisy.psnr(), noisy.ssim(),
                    out.resolve("report.html"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report: " + e.getMessage(), e);
        } finally {
            models.values().forEach(Denoiser::close);
        }
    }

    private static Comparison.Quality quality(Evaluation.Scores s) {
        return new Comparison.Quality(s.psnr(), s.ssim());
    }
}
