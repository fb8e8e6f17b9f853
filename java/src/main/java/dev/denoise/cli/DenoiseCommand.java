package dev.denoise.cli;

import dev.denoise.BadInputException;
import dev.denoise.Denoiser;
import dev.denoise.backend.Backend;
import dev.denoise.io.Images;
import dev.denoise.model.BundledModels;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** denoise denoise: PNG/JPEG files in, denoised PNGs out. */
@Command(name = "denoise", mixinStandardHelpOptions = true,
        description = "Denoise PNG/JPEG images with the shipped photo model or a model file; writes OUT/<name>.png "
                + "(or .jpg with --quality) for each input, grey or colour as the input is. "
                + "Conv models take any size (overlapping tiles); dense and vae models their training size.")
final class DenoiseCommand implements Runnable {
    /** Largest image accepted: 64 megapixels, checked from the header before decoding. */
    static final int MAX_PIXELS = Denoiser.MAX_PIXELS;

    @Option(names = "--model-file", description = "A .safetensors model (default: the shipped model of --model).")
    Path modelFile;

    @Option(names = "--model", paramLabel = "NAME",
            description = "A model the jar carries: photo, the blind photo denoiser (sigma 0-55/255, grey or "
                    + "colour). Default: photo, unless --model-file is given.")
    String bundled;

    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Option(names = "--quality", paramLabel = "Q",
            description = "Write JPEG of quality Q (1-100) as OUT/<name>.jpg instead of PNG.")
    Integer quality;

    @Option(names = "--strength", defaultValue = "1", paramLabel = "S",
            description = "How far to go from the input towards the model's result, 0-1: below 1 keeps some noise "
                    + "and the fine texture the model would smooth. Default: ${DEFAULT-VALUE}.")
    float strength;

    @Parameters(arity = "1..*", paramLabel = "IN", description = "Input images (PNG or JPEG).")
    List<Path> inputs;

    @Mixin
    Options.Device device;

    @Override
    public void run() {
        // Every input is checked, and every image decoded once, before OUT is made and the first
        // result written: a bad file late in a long list must not leave half the output behind.
        device.validate();
        if (quality != null) Ranges.check("--quality", quality, 1, 100);
        if (!(strength >= 0 && strength <= 1)) {
            throw new IllegalArgumentException("--strength must be in [0, 1], got " + strength);
        }
        if (modelFile != null && bundled != null) {
            throw new IllegalArgumentException("--model and --model-file: give one (a shipped model or a file)");
        }
        if (bundled == null) bundled = BundledModels.PHOTO;
        if (modelFile != null) InputFiles.require("--model-file", modelFile);
        else if (!BundledModels.NAMES.contains(bundled)) {
            throw new IllegalArgumentException("--model: unknown model '" + bundled + "' (the jar carries: "
                    + String.join(", ", BundledModels.NAMES) + ")");
        }
        Map<Path, Path> targets = targets();
        OutputDir.check("--out", out);
        try (Backend backend = device.open();
             Denoiser d = modelFile != null ? Denoiser.load(modelFile, backend) : Denoiser.load(bundled, backend)) {
            ModelConfig c = d.model().config();
            // each image keeps its own channels: grey in, grey out (see Denoiser.denoise)
            for (Path in : targets.keySet()) requireFits(in, Images.readPicture(in, MAX_PIXELS), c);
            OutputDir.prepare(out);
            for (Map.Entry<Path, Path> e : targets.entrySet()) {
                // 8-bit pictures in and out, streamed through the model: no float copy of a photo
                BufferedImage clean = d.denoise(Images.readPicture(e.getKey(), MAX_PIXELS), strength);
                if (quality == null) Images.writePng(e.getValue(), clean);
                else Images.writeJpeg(e.getValue(), clean, quality);
                System.out.println(e.getKey() + " -> " + e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** Input → OUT/<name>.png, refusing missing inputs, an input overwritten, or two inputs on one output. */
    private Map<Path, Path> targets() {
        Map<Path, Path> targets = new LinkedHashMap<>();
        Map<Path, Path> writers = new HashMap<>(); // normalized target → the input that writes it
        for (Path in : inputs) {
            InputFiles.require("input image", in);
            String name = in.getFileName().toString().replaceFirst("\\.[^.]*$", "") + (quality == null ? ".png" : ".jpg");
            Path target = out.resolve(name);
            Path key = target.toAbsolutePath().normalize();
            if (key.equals(in.toAbsolutePath().normalize())) {
                throw new BadInputException(in, "output would overwrite the input; choose another --out");
            }
            Path other = writers.putIfAbsent(key, in);
            if (other != null && !GenerateCommand.same(other, in)) {
                throw new BadInputException(in, "would be written to " + target + " as " + other + " is; rename one");
            }
            targets.putIfAbsent(in, target);
        }
        return targets;
    }

    /** Dense and vae models take their training size only; found here rather than mid-way through the list. */
    private static void requireFits(Path in, BufferedImage img, ModelConfig c) {
        if (!c.kind().convolutional() && (img.getHeight() != c.height() || img.getWidth() != c.width())) {
            throw new BadInputException(in, "a " + c.kind().id() + " model takes " + c.height() + "x" + c.width()
                    + " images only, this one is " + img.getHeight() + "x" + img.getWidth() + " (the conv and skip models take any size)");
        }
    }
}
