package dev.denoise.model;

import dev.denoise.BadInputException;
import dev.denoise.backend.Backend;
import dev.denoise.io.Safetensors;
import dev.denoise.io.Sha256;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The models inside the jar: {@code dev/denoise/models/NAME.safetensors}, each beside
 * {@code NAME.safetensors.sha256} (sha256sum's line), both committed by {@code make pretrained}.
 * A model whose bytes do not hash to its committed sum is refused: a jar rebuilt around altered
 * or truncated weights fails on load instead of denoising badly. MODEL.md beside them is the card
 * (data, noise, training command and time, scores).
 */
public final class BundledModels {
    /** The blind photo denoiser (a grey residual U-Net, σ 0–55/255; colour through opponent channels). */
    public static final String PHOTO = "photo";
    /** Every bundled name. */
    public static final List<String> NAMES = List.of(PHOTO);

    private static final String DIR = "/dev/denoise/models/";

    private BundledModels() {}

    /** Whether the jar carries the model name (a build without `make pretrained` may not). */
    public static boolean available(String name) {
        return NAMES.contains(name) && BundledModels.class.getResource(DIR + name + ".safetensors") != null;
    }

    /**
     * Loads bundled model name onto backend, sized for maxBatch.
     *
     * @throws BadInputException when name is unknown, missing from this jar, or does not match its sha256
     */
    public static Autoencoder load(String name, Backend backend, int maxBatch) {
        return ModelFiles.load(label(name), read(name), backend, maxBatch);
    }

    /** The bundled model name's file, read and checked against its committed sha256. */
    static Safetensors.Loaded read(String name) {
        Path label = label(name);
        if (!NAMES.contains(name)) {
            throw new BadInputException(label, "no such bundled model (there are: " + String.join(", ", NAMES) + ")");
        }
        byte[] bytes = resource(label, DIR + name + ".safetensors");
        String line = new String(resource(label, DIR + name + ".safetensors.sha256"), StandardCharsets.US_ASCII);
        return verified(label, bytes, line.strip().split("\\s+")[0]);
    }

    /** bytes parsed as a model file after their SHA-256 is found equal to expectedHex. */
    static Safetensors.Loaded verified(Path label, byte[] bytes, String expectedHex) {
        String actual = Sha256.hex(bytes);
        if (!actual.equals(expectedHex.toLowerCase(Locale.ROOT))) {
            throw new BadInputException(label, "sha256 " + actual + " does not match the committed " + expectedHex
                    + " (the bundled weights were altered or damaged; rebuild the jar from a clean checkout)");
        }
        return Safetensors.read(label, bytes);
    }

    /** What errors call a bundled model: its place in the jar. */
    private static Path label(String name) {
        return Path.of("jar:" + DIR.substring(1) + name + ".safetensors");
    }

    private static byte[] resource(Path label, String path) {
        try (InputStream in = BundledModels.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new BadInputException(label, "not in this jar (" + path.substring(1) + " is missing; "
                        + "`make pretrained` makes it, a clean checkout has it)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + " from the jar: " + e.getMessage(), e);
        }
    }
}
