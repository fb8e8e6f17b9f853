package dev.denoise.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.denoise.data.Idx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.nio.file.Path;

/**
 * Fuzzes {@link Idx#readUnsignedBytes(Path, int, long)}, the loader of downloaded MNIST-style
 * datasets, raw or gzipped.
 *
 * <p>Each input is written twice, as {@code data.idx} and as {@code data.idx.gz}, because the loader
 * treats a {@code .gz} name differently (it must then hold gzip), and each is read with the
 * dimension count images have (3) and with the count the input's own header claims, so both the
 * mismatch checks and the dimension parsing are reached. For any bytes the loader must return an
 * array or refuse the file with a one-line {@code BadInputException} naming it (see
 * {@link LoaderContract}); with a cap of {@value #MAX_ELEMENTS} elements it must never allocate more
 * than that cap plus its stream buffers, however many elements the header claims and however far the
 * gzip stream would inflate. A returned array has the expected dimension count, positive
 * dimensions, and exactly as many bytes as their product, which is within the cap.
 */
class IdxFuzzTest {
    static final long MAX_ELEMENTS = 1L << 20;
    private static final long FIXED_BUDGET = 8L << 20;
    private static final long BUDGET_PER_INPUT_BYTE = 8;
    private static final int IMAGE_NDIMS = 3;

    private static Path dir;

    @BeforeAll
    static void createDirectory() {
        dir = LoaderContract.createDirectory("idx-fuzz");
    }

    @AfterAll
    static void deleteDirectory() {
        LoaderContract.deleteRecursively(dir);
    }

    @FuzzTest(maxDuration = LoaderContract.FUZZ_TIME)
    void loadAnyBytes(byte[] input) {
        int claimedNdims = input.length > 3 ? input[3] & 0xFF : 0;
        for (String name : new String[]{"data.idx", "data.idx.gz"}) {
            Path file = dir.resolve(name);
            LoaderContract.write(file, input);
            load(file, input.length, IMAGE_NDIMS);
            if (claimedNdims >= 1 && claimedNdims != IMAGE_NDIMS) {
                load(file, input.length, claimedNdims);
            }
        }
    }

    private static void load(Path file, int inputLength, int ndims) {
        long budget = MAX_ELEMENTS + FIXED_BUDGET + BUDGET_PER_INPUT_BYTE * inputLength;
        Idx.IdxArray array = LoaderContract.call(file, budget,
                () -> Idx.readUnsignedBytes(file, ndims, MAX_ELEMENTS));
        if (array != null) {
            LoaderContract.require(array.dims().length == ndims,
                    () -> "asked for " + ndims + " dimensions, got " + array);
            long elements = 1;
            for (int d : array.dims()) {
                LoaderContract.require(d > 0, () -> "non-positive dimension in " + array);
                elements *= d;
            }
            long expected = elements;
            LoaderContract.require(expected <= MAX_ELEMENTS, () -> array + " exceeds the cap");
            LoaderContract.require(expected == array.data().length,
                    () -> array + " holds " + array.data().length + " bytes");
        }
    }
}
