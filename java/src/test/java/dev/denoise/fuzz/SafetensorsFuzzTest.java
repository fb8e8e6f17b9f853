package dev.denoise.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.denoise.io.Safetensors;
import dev.denoise.io.TensorData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.nio.file.Path;

/**
 * Fuzzes {@link Safetensors#read}, the loader of model files that users download and share.
 *
 * <p>For any bytes, the loader must return a model or refuse the file with a one-line
 * {@code BadInputException} naming it (see {@link LoaderContract}). Every number in the file (the
 * 64-bit header length, shapes, offsets) comes from the attacker, so the target also bounds what one
 * call may allocate: a few megabytes of buffers plus a small multiple of the file's own size, since
 * the header and the tensors a valid file holds can never be larger than the file. A returned model
 * must keep the loader's promises: every tensor's values match its shape and are finite, and no
 * tensor is named {@code __metadata__}.
 *
 * <p>The seeds in {@code SafetensorsFuzzTestInputs/loadAnyBytes} run as regression tests in every
 * build; each is one way a file breaks the format (or a valid file).
 */
class SafetensorsFuzzTest {
    private static final long FIXED_BUDGET = 16L << 20;
    private static final long BUDGET_PER_INPUT_BYTE = 64;

    private static Path dir;

    @BeforeAll
    static void createDirectory() {
        dir = LoaderContract.createDirectory("safetensors-fuzz");
    }

    @AfterAll
    static void deleteDirectory() {
        LoaderContract.deleteRecursively(dir);
    }

    @FuzzTest(maxDuration = LoaderContract.FUZZ_TIME)
    void loadAnyBytes(byte[] input) {
        Path file = dir.resolve("model.safetensors");
        LoaderContract.write(file, input);
        Safetensors.Loaded loaded = LoaderContract.call(file,
                FIXED_BUDGET + BUDGET_PER_INPUT_BYTE * input.length, () -> Safetensors.read(file));
        if (loaded != null) {
            checkLoaded(loaded);
        }
    }

    private static void checkLoaded(Safetensors.Loaded loaded) {
        LoaderContract.require(!loaded.tensors().containsKey("__metadata__"),
                () -> "a tensor is named __metadata__");
        for (var e : loaded.tensors().entrySet()) {
            TensorData t = e.getValue();
            LoaderContract.require(t.name().equals(e.getKey()), () -> "tensor " + t.name() + " filed as " + e.getKey());
            long elements = 1;
            for (int d : t.shape()) {
                LoaderContract.require(d >= 0, () -> "tensor " + t.name() + " has a negative dimension");
                elements *= d;
            }
            long expected = elements;
            LoaderContract.require(expected == t.data().length,
                    () -> "tensor " + t.name() + " holds " + t.data().length + " values for " + expected + " elements");
            for (float v : t.data()) {
                LoaderContract.require(Float.isFinite(v), () -> "tensor " + t.name() + " holds " + v);
            }
        }
    }
}
