package dev.denoise.cli;

import dev.denoise.BadInputException;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelFiles;
import dev.denoise.model.VariationalAutoencoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** denoise generate: new images from a VAE, decoding z ~ N(0, I). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Decode random latent vectors z ~ N(0, I) with a VAE model into a grid of new images.")
final class GenerateCommand implements Runnable {
    @Option(names = "--model-file", required = true, description = "A VAE .safetensors model.")
    Path modelFile;

    @Option(names = "--count", defaultValue = "64", description = "Images. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of z. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", required = true, description = "Output PNG.")
    Path out;

    @Mixin
    Options.Device device;

    @Override
    public void run() {
        // Refused before the model is loaded; the PNG is written only once the images exist.
        Ranges.check("--count", count, 1, 10_000);
        device.validate();
        InputFiles.require("--model-file", modelFile);
        OutputDir.checkFile("--out", out);
        if (same(out, modelFile)) throw new BadInputException(out, "--out would overwrite the --model-file");
        try (Backend backend = device.open(); Autoencoder m = ModelFiles.load(modelFile, backend, 256)) {
            if (!(m instanceof VariationalAutoencoder vae)) {
                throw new IllegalArgumentException(modelFile + ": a " + m.config().kind().id()
                        + " model cannot generate; use a vae model");
            }
            java.util.List<Images.Image> imgs = samples(vae, count, seed);
            int cols = (int) Math.ceil(Math.sqrt(count));
            Path parent = out.toAbsolutePath().getParent();
            OutputDir.prepare(parent);
            Images.writePng(out, Images.fromBufferedImage(Images.grid(imgs, cols, 2, 2)));
            System.out.println("wrote " + out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /** Whether two paths name one file (by path; the second may not exist yet). */
    static boolean same(Path a, Path b) {
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }

    /** count images decoded from standard-normal latents drawn with the seed. */
    static java.util.List<Images.Image> samples(VariationalAutoencoder vae, int count, long seed) {
        Backend b = vae.backend();
        var c = vae.config();
        try (Tensor z = b.allocate(count, c.latent()); Tensor img = b.allocate(count, c.channels(), c.height(), c.width())) {
            b.noise_normal(z, seed, 0);
            vae.decodeTo(z, img);
            return split(img.toArray(), count, c.channels(), c.height(), c.width());
        }
    }

    static java.util.List<Images.Image> split(float[] all, int count, int ch, int h, int w) {
        java.util.List<Images.Image> out = new java.util.ArrayList<>();
        int size = ch * h * w;
        for (int i = 0; i < count; i++) {
            out.add(new Images.Image(ch, h, w, java.util.Arrays.copyOfRange(all, i * size, (i + 1) * size)));
        }
        return out;
    }
}
