package dev.denoise.cli;

import dev.denoise.Denoiser;
import dev.denoise.backend.Backend;
import dev.denoise.data.Dataset;
import dev.denoise.data.ImageFolder;
import dev.denoise.eval.Evaluation;
import dev.denoise.eval.PictureEvaluation;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelFiles;
import dev.denoise.train.Noise;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** denoise evaluate: PSNR/SSIM of a model on the test set, beside the noisy input and a median filter. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Score a model file on the test set (mean per-image PSNR and SSIM), beside the noisy input.")
final class EvaluateCommand implements Runnable {
    @Option(names = "--model-file", required = true, description = "A .safetensors model written by train or compare.")
    Path modelFile;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--limit", defaultValue = "0", description = "Only the first N test images (0 = all).")
    int limit;

    @Mixin
    Options.Data data;

    @Mixin
    Options.Device device;

    @Option(names = "--crops", description = "With --dataset DIR: also write a PNG of the same centre crop of each "
            + "picture: clean, noisy, median, Gaussian blur, model.")
    Path crops;

    @Override
    public void run() {
        // Refused before anything is read; then the model (small, and often the thing that is wrong)
        // is loaded before the test set.
        Ranges.check("--limit", limit, 0, Ranges.NO_LIMIT);
        Path folder = data.folder();
        if (folder != null) {
            evaluatePictures(folder);
            return;
        }
        if (crops != null) throw new IllegalArgumentException("--crops goes with --dataset DIR (a folder of pictures)");
        Noise noise = data.validate();
        device.validate();
        InputFiles.require("--model-file", modelFile);
        try (Backend backend = device.open(); Autoencoder m = ModelFiles.load(modelFile, backend, 256)) {
            Dataset test = DatasetChoice.test(data.dataset);
            if (limit > 0) test = test.first(Math.min(limit, test.count()));
            if (m.config().imageSize() != test.channels() * test.height() * test.width()) {
                throw new IllegalArgumentException(modelFile + ": the model takes " + m.config().channels() + "x"
                        + m.config().height() + "x" + m.config().width() + " images, the dataset has "
                        + test.channels() + "x" + test.height() + "x" + test.width());
            }
            float[] noisy = Evaluation.noisy(backend, test, noise);
            Map<String, Evaluation.Scores> rows = new LinkedHashMap<>();
            rows.put("noisy", Evaluation.score(noisy, test));
            rows.put("median3x3", Evaluation.score(Evaluation.median3x3(noisy, test.count(), test.channels(),
                    test.height(), test.width()), test));
            Evaluation.Denoised d = Evaluation.denoise(m, noisy, test.count());
            rows.put(m.config().kind().id(), Evaluation.score(d.images(), test));
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                rows.forEach((k, v) -> o.put(k, Map.of("psnr", v.psnr(), "ssim", v.ssim())));
                o.put("config", Map.of("dataset", data.dataset, "noise", noise.toString(), "images", test.count(),
                        "model_file", modelFile.toString(), "infer_images_per_second", d.imagesPerSecond()));
                System.out.println(OutputDir.JSON.writeValueAsString(o));
            } else {
                System.out.printf("%-12s %9s %7s%n", "", "PSNR dB", "SSIM");
                rows.forEach((k, v) -> System.out.printf("%-12s %9.2f %7.4f%n", k, v.psnr(), v.ssim()));
                System.out.printf("%d test images, %s noise, %,.0f images/s on %s%n", test.count(), noise,
                        d.imagesPerSecond(), backend.describe());
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whole pictures of any size: each scored, then the mean; conv models tile, others need their own size. */
    private void evaluatePictures(Path folder) {
        Noise noise = data.noise();
        device.validate();
        InputFiles.require("--model-file", modelFile);
        if (crops != null) OutputDir.checkFile("--crops", crops);
        try (Backend backend = device.open(); Denoiser d = Denoiser.load(modelFile, backend)) {
            ImageFolder pictures = ImageFolder.load(folder);
            if (limit > 0) pictures = pictures.files(0, Math.min(limit, pictures.count()));
            if (pictures.channels() != d.model().config().channels()) {
                throw new IllegalArgumentException(modelFile + ": the model takes " + d.model().config().channels()
                        + "-channel pictures, " + folder + " holds " + pictures.channels() + "-channel ones");
            }
            int side = CROP;
            for (Images.Image img : pictures.images()) side = Math.min(side, Math.min(img.height(), img.width()));
            List<PictureEvaluation.Picture> rows = PictureEvaluation.evaluate(d, pictures, noise, backend, side);
            Map<String, Evaluation.Scores> mean = PictureEvaluation.mean(rows);
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                mean.forEach((k, v) -> o.put(k, Map.of("psnr", v.psnr(), "ssim", v.ssim())));
                List<Object> per = new ArrayList<>();
                for (PictureEvaluation.Picture p : rows) {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("file", p.name());
                    p.scores().forEach((k, v) -> r.put(k, Map.of("psnr", v.psnr(), "ssim", v.ssim())));
                    per.add(r);
                }
                o.put("pictures", per);
                o.put("config", Map.of("dataset", folder.toString(), "noise", noise.toString(),
                        "images", rows.size(), "model_file", modelFile.toString()));
                System.out.println(OutputDir.JSON.writeValueAsString(o));
            } else {
                PictureEvaluation.table(rows).forEach(System.out::println);
                System.out.printf("%d pictures, %s noise, on %s%n", rows.size(), noise, backend.describe());
            }
            if (crops != null) {
                List<Images.Image> cells = new ArrayList<>();
                rows.forEach(p -> cells.addAll(p.crops()));
                Path parent = crops.toAbsolutePath().getParent();
                OutputDir.prepare(parent);
                Images.writePng(crops, Images.fromBufferedImage(Images.grid(cells, 5, 2, 1)));
                System.out.println("crops (clean, noisy, median, gaussian, model per row): " + crops);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e.getMessage(), e);
        }
    }

    /** Centre crop side for --crops. */
    static final int CROP = 128;
}
