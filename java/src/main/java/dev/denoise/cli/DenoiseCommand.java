package dev.denoise.cli;

import dev.denoise.BadInputException;
import dev.denoise.Denoiser;
import dev.denoise.backend.Backend;
import dev.denoise.io.Images;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** denoise denoise: PNG/JPEG files in, denoised PNGs out. */
@Command(name = "denoise", mixinStandardHelpOptions = true,
        description = "Denoise PNG/JPEG images with a model file; writes OUT/<name>.png for each input. "
                + "Conv models take any size (overlapping tiles); dense and vae models their training size.")
final class DenoiseCommand implements Runnable {
    /** Largest image accepted: 64 megapixels, checked from the header before decoding. */
    static final int MAX_PIXELS = 64 << 20;

    @Option(names = "--model-file", required = true, description = "A .safetensors model.")
    Path modelFile;

    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "IN", description = "Input images (PNG or JPEG).")
    List<Path> inputs;

    @Mixin
    Options.Device device;

    @Override
    public void run() {
        OutputDir.prepare(out);
        try (Backend backend = device.open(); Denoiser d = Denoiser.load(modelFile, backend)) {
            int channels = d.model().config().channels();
            for (Path in : inputs) {
                Images.Image img = Images.read(in, MAX_PIXELS, channels);
                Images.Image clean = d.denoise(img);
                String name = in.getFileName().toString().replaceFirst("\\.[^.]*$", "") + ".png";
                Path target = out.resolve(name);
                if (target.toAbsolutePath().normalize().equals(in.toAbsolutePath().normalize())) {
                    throw new BadInputException(in, "output would overwrite the input; choose another --out");
                }
                Images.writePng(target, clean);
                System.out.println(in + " -> " + target);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }
}
