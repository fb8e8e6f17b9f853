package dev.denoise.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.denoise.io.Images;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Fuzzes {@link Images#read(Path, int)}, the loader of the pictures users hand to the denoiser.
 *
 * <p>The JDK's PNG and JPEG decoders throw more than IOException on malformed input, and a PNG or
 * JPEG header can claim any size; the loader promises to turn all of that into a one-line
 * {@code BadInputException} naming the file (see {@link LoaderContract}), to check the size against
 * the pixel limit ({@value #MAX_PIXELS} here) before decoding, and to close the file on every path.
 * So for any bytes this target checks: the contract on the outcome; an allocation budget that fits a
 * decoded image at the limit (at most 8 bytes a pixel for the decoder, 12 for the float planes) plus
 * a small multiple of the file, and no more; that a returned image has 1 or 3 channels, at most
 * {@value #MAX_PIXELS} pixels and only values in [0,1]; and, where {@code /proc/self/fd} exists,
 * that no descriptor is left open on the file afterwards.
 */
class ImagesFuzzTest {
    static final int MAX_PIXELS = 1 << 20;
    private static final long FIXED_BUDGET = 64L << 20;
    private static final long BUDGET_PER_PIXEL = 24;
    private static final long BUDGET_PER_INPUT_BYTE = 64;
    private static final Path OPEN_FILES = Path.of("/proc/self/fd");

    private static Path dir;

    @BeforeAll
    static void createDirectory() {
        dir = LoaderContract.createDirectory("images-fuzz");
    }

    @AfterAll
    static void deleteDirectory() {
        LoaderContract.deleteRecursively(dir);
    }

    @FuzzTest(maxDuration = LoaderContract.FUZZ_TIME)
    void loadAnyBytes(byte[] input) {
        Path file = dir.resolve("picture");
        LoaderContract.write(file, input);
        long budget = FIXED_BUDGET + BUDGET_PER_PIXEL * MAX_PIXELS + BUDGET_PER_INPUT_BYTE * input.length;
        Images.Image image = LoaderContract.call(file, budget, () -> Images.read(file, MAX_PIXELS));
        if (image != null) {
            checkImage(image);
        }
        LoaderContract.require(!isOpen(file), () -> "a descriptor is still open on " + file);
    }

    private static void checkImage(Images.Image image) {
        LoaderContract.require(image.channels() == 1 || image.channels() == 3,
                () -> image.channels() + " channels");
        LoaderContract.require((long) image.width() * image.height() <= MAX_PIXELS,
                () -> image.width() + "×" + image.height() + " is over the pixel limit");
        for (float v : image.pixels()) {
            LoaderContract.require(v >= 0 && v <= 1, () -> "pixel value " + v + " outside [0,1]");
        }
    }

    /** Whether this process holds a descriptor on {@code file}; false where that cannot be seen. */
    private static boolean isOpen(Path file) {
        if (!Files.isDirectory(OPEN_FILES)) {
            return false;
        }
        Path real;
        try {
            real = file.toRealPath();
        } catch (IOException e) {
            real = file.toAbsolutePath();
        }
        Path target = real;
        try (Stream<Path> fds = Files.list(OPEN_FILES)) {
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(target);
                } catch (IOException | UnsupportedOperationException e) {
                    return false; // closed between listing and reading, or not a link
                }
            });
        } catch (IOException e) {
            return false;
        }
    }
}
