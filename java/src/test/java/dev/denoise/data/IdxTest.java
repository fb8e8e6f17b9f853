package dev.denoise.data;

import dev.denoise.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IDX files as downloads can leave them: each malformed file must fail with a one-line message that
 * starts with the file and names the problem, and nothing large may be allocated or inflated on the
 * strength of a header.
 */
class IdxTest {
    @TempDir
    Path dir;

    // ---- round trips -------------------------------------------------------------------------

    @Test
    void rawRoundTrip() {
        byte[] data = pattern(3 * 4 * 5);
        Path file = dir.resolve("a-idx3-ubyte");
        Idx.writeUnsignedBytes(file, new int[] {3, 4, 5}, data, false);
        assertEquals(4 + 12 + 60, size(file));
        Idx.IdxArray read = Idx.readUnsignedBytes(file, 3, 1000);
        assertArrayEquals(new int[] {3, 4, 5}, read.dims());
        assertArrayEquals(data, read.data());
        assertEquals(3, read.count());
        assertEquals(60, read.elements());
    }

    @Test
    void gzipRoundTrip() {
        byte[] data = pattern(7 * 9 * 2);
        Path file = dir.resolve("a-idx3-ubyte.gz");
        Idx.writeUnsignedBytes(file, new int[] {7, 9, 2}, data, true);
        Idx.IdxArray read = Idx.readUnsignedBytes(file, 3, 1000);
        assertArrayEquals(new int[] {7, 9, 2}, read.dims());
        assertArrayEquals(data, read.data());
    }

    @Test
    void gzipIsRecognisedByMagicWhateverTheName() {
        byte[] data = pattern(10);
        Path file = dir.resolve("labels-idx1-ubyte");
        Idx.writeUnsignedBytes(file, new int[] {10}, data, true);
        assertArrayEquals(data, Idx.readUnsignedBytes(file, 1).data());
    }

    @Test
    void otherTypesReadAsBigEndianBytes() {
        byte[] data = {0, 0, 0, 1, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFE};
        Path file = dir.resolve("ints");
        Idx.write(file, Idx.DType.INT, new int[] {2}, data, false);
        Idx.IdxArray read = Idx.read(file, Idx.DType.INT, 1, 10);
        assertArrayEquals(data, read.data());
    }

    // ---- header ------------------------------------------------------------------------------

    @Test
    void zeroMagicIsNotIdx() {
        Path file = raw("zeros", new byte[20]);
        expect(file, () -> Idx.readUnsignedBytes(file, 3),
                "not an IDX file (magic 0x00000000, expected 0x00000803)");
    }

    @Test
    void foreignFileIsNotIdx() {
        Path file = raw("png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 0});
        expect(file, () -> Idx.readUnsignedBytes(file, 1),
                "not an IDX file (magic 0x89504E47, expected 0x00000801)");
    }

    @Test
    void unknownDataType() {
        Path file = raw("dtype", concat(header(0x07, 1), data(5)));
        expect(file, () -> Idx.readUnsignedBytes(file, 1),
                "unknown IDX data type 0x07 (magic 0x00000701, expected 0x00000801)");
    }

    @Test
    void otherDataTypeThanExpected() {
        Path file = raw("floats", concat(header(0x0D, 1), new byte[] {0, 0, 0, 1, 0, 0, 0, 0}));
        expect(file, () -> Idx.readUnsignedBytes(file, 1),
                "data type is float (0x0D), expected ubyte (0x08) (magic 0x00000D01, expected 0x00000801)");
    }

    @Test
    void wrongDimensionCount() {
        Path file = dir.resolve("labels");
        Idx.writeUnsignedBytes(file, new int[] {4}, pattern(4), false);
        expect(file, () -> Idx.readUnsignedBytes(file, 3),
                "1 dimensions, expected 3 (magic 0x00000801, expected 0x00000803)");
    }

    @Test
    void zeroDimension() {
        Path file = raw("zero-dim", concat(header(0x08, 3, 5, 0, 28), data(0)));
        expect(file, () -> Idx.readUnsignedBytes(file, 3), "dimension 2 of 3 is 0");
    }

    @Test
    void dimensionAtOrAbove2To31() {
        Path file = raw("huge-dim", header(0x08, 1, 1L << 31));
        expect(file, () -> Idx.readUnsignedBytes(file, 1),
                "dimension 1 of 1 is 2147483648, above the limit of 2147483647");
        Path max = raw("max-dim", header(0x08, 2, 3, 0xFFFF_FFFFL));
        expect(max, () -> Idx.readUnsignedBytes(max, 2),
                "dimension 2 of 2 is 4294967295, above the limit of 2147483647");
    }

    /** 10^15 elements claimed in 16 bytes: refused on the header alone, before any allocation. */
    @Test
    void elementCountOverTheCapFailsFast() {
        Path file = raw("bomb-header", header(0x08, 3, 100_000, 100_000, 100_000));
        assertEquals(16, size(file));
        long start = System.nanoTime();
        expect(file, () -> Idx.readUnsignedBytes(file, 3),
                "1000000000000000 elements exceed the cap of 268435456");
        assertTrue(System.nanoTime() - start < 2_000_000_000L, "the check must not touch the claimed data");
        // Past even a long: the count is still reported exactly.
        Path huge = raw("bomb-header-2", header(0x08, 3, 0x7FFF_FFFF, 0x7FFF_FFFF, 0x7FFF_FFFF));
        expect(huge, () -> Idx.readUnsignedBytes(huge, 3),
                "9903520300447984150353281023 elements exceed the cap of 268435456");
    }

    @Test
    void configurableCap() {
        Path file = dir.resolve("images");
        Idx.writeUnsignedBytes(file, new int[] {10, 28, 28}, new byte[7840], false);
        expect(file, () -> Idx.readUnsignedBytes(file, 3, 7839), "7840 elements exceed the cap of 7839");
        assertEquals(7840, Idx.readUnsignedBytes(file, 3, 7840).data().length);
    }

    // ---- length ------------------------------------------------------------------------------

    @Test
    void emptyFile() {
        Path file = raw("empty", new byte[0]);
        expect(file, () -> Idx.readUnsignedBytes(file, 1), "empty file, not an IDX file");
    }

    @Test
    void truncatedHeader() {
        byte[] full = header(0x08, 3, 60000, 28, 28);
        Path file = raw("short-header", Arrays.copyOf(full, 10));
        expect(file, () -> Idx.readUnsignedBytes(file, 3), "truncated: the IDX header needs 16 bytes, found 10");
    }

    @Test
    void truncatedData() {
        Path file = raw("train-images", concat(header(0x08, 3, 60000, 28, 28), data(84)));
        expect(file, () -> Idx.readUnsignedBytes(file, 3), "truncated: expected 47040016 bytes, found 100");
    }

    @Test
    void trailingBytes() {
        Path file = raw("labels", concat(header(0x08, 1, 5), data(8)));
        expect(file, () -> Idx.readUnsignedBytes(file, 1), "3 trailing bytes after the data");
    }

    // ---- gzip --------------------------------------------------------------------------------

    @Test
    void gzNameWithoutGzipContent() {
        Path file = dir.resolve("labels.gz");
        Idx.writeUnsignedBytes(file, new int[] {4}, pattern(4), false);
        expect(file, () -> Idx.readUnsignedBytes(file, 1), "named .gz but is not gzip (starts 0x0000, expected 0x1F8B)");
    }

    @Test
    void truncatedGzip() throws IOException {
        Path file = dir.resolve("images.gz");
        Idx.writeUnsignedBytes(file, new int[] {50, 28, 28}, pattern(50 * 28 * 28), true);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        expect(file, () -> Idx.readUnsignedBytes(file, 3), "gzip stream truncated: the compressed data ends early");
    }

    @Test
    void gzipMissingItsTrailer() throws IOException {
        Path file = dir.resolve("labels.gz");
        Idx.writeUnsignedBytes(file, new int[] {100}, pattern(100), true);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 4));
        expect(file, () -> Idx.readUnsignedBytes(file, 1), "gzip stream truncated: the compressed data ends early");
    }

    @Test
    void gzipWithBadCrc() throws IOException {
        Path file = dir.resolve("images.gz");
        Idx.writeUnsignedBytes(file, new int[] {3, 28, 28}, pattern(3 * 28 * 28), true);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 8] ^= 0x5A; // first byte of the CRC-32 in the trailer
        Files.write(file, bytes);
        expect(file, () -> Idx.readUnsignedBytes(file, 3),
                "gzip stream corrupt: the CRC-32 or length in the gzip trailer does not match the data");
    }

    @Test
    void gzipWithCorruptDeflateData() throws IOException {
        Path file = dir.resolve("labels.gz");
        byte[] garbage = new byte[64];
        Arrays.fill(garbage, (byte) 0xFF);
        // A valid gzip header (deflate, no flags) followed by bytes that are no deflate stream.
        byte[] header = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xFF};
        Files.write(file, concat(header, garbage));
        expect(file, () -> Idx.readUnsignedBytes(file, 1), "gzip stream corrupt: ");
    }

    @Test
    void gzipTruncatedInItsHeader() throws IOException {
        Path file = dir.resolve("labels.gz");
        Files.write(file, new byte[] {0x1f, (byte) 0x8b, 8, 0});
        expect(file, () -> Idx.readUnsignedBytes(file, 1), "gzip stream truncated in its header");
    }

    /**
     * A valid header for 7840 bytes followed by 8 MB of zeros (8 KB compressed): with the cap at
     * the header's size, reading stops one byte past it instead of inflating everything.
     */
    @Test
    void gzipBombBeyondTheCap() throws IOException {
        Path file = dir.resolve("bomb.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(header(0x08, 3, 10, 28, 28));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 8; i++) {
                out.write(zeros);
            }
        }
        assertTrue(size(file) < 100_000, "the bomb is small on disk");
        expect(file, () -> Idx.readUnsignedBytes(file, 3, 7840),
                "gzip stream decompresses to more than 7856 bytes, beyond the cap of 7840 elements (stopped reading there)");
        // With room under the cap, the same excess is reported as exact trailing bytes.
        expect(file, () -> Idx.readUnsignedBytes(file, 3, 10_000_000),
                "8380768 trailing bytes after the data (decompressed)");
        // A broken trailer goes unseen by the capped read: proof that it stopped early.
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 8] ^= 0x5A;
        Files.write(file, bytes);
        expect(file, () -> Idx.readUnsignedBytes(file, 3, 7840), "gzip stream decompresses to more than 7856 bytes");
        expect(file, () -> Idx.readUnsignedBytes(file, 3, 10_000_000), "gzip stream corrupt: ");
    }

    @Test
    void gzipWithTruncatedContent() throws IOException {
        Path file = dir.resolve("images.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(header(0x08, 3, 2, 28, 28));
            out.write(data(100));
        }
        expect(file, () -> Idx.readUnsignedBytes(file, 3),
                "truncated: expected 1584 bytes after decompression, found 116");
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("nope");
        expect(file, () -> Idx.readUnsignedBytes(file, 1), "no such file");
    }

    // ---- MNIST-level checks on small synthetic sets ------------------------------------------

    @Test
    void mnistLoadsSyntheticSetMixingRawAndGzip() {
        byte[] pixels = {0, (byte) 255, (byte) 128, 1, 2, 3};
        Idx.writeUnsignedBytes(dir.resolve("t10k-images-idx3-ubyte.gz"), new int[] {2, 1, 3}, pixels, true);
        Idx.writeUnsignedBytes(dir.resolve("t10k-labels-idx1-ubyte"), new int[] {2}, new byte[] {9, 0}, false);
        Dataset set = Mnist.load(dir, Mnist.Split.TEST);
        assertEquals(2, set.count());
        assertEquals(1, set.channels());
        assertEquals(1, set.height());
        assertEquals(3, set.width());
        assertEquals(0f, set.images()[0]);
        assertEquals(1f, set.images()[1]);
        assertEquals(128 / 255f, set.images()[2]);
        assertEquals(9, set.label(0));
        Dataset second = set.subset(1, 2);
        assertArrayEquals(new float[] {1 / 255f, 2 / 255f, 3 / 255f}, second.images());
        assertArrayEquals(new byte[] {0}, second.labels());
        assertEquals(set, set.first(5));
    }

    @Test
    void countMismatch() {
        Idx.writeUnsignedBytes(dir.resolve("train-images-idx3-ubyte"), new int[] {3, 2, 2}, pattern(12), false);
        Path labels = dir.resolve("train-labels-idx1-ubyte");
        Idx.writeUnsignedBytes(labels, new int[] {2}, new byte[] {1, 2}, false);
        expect(labels, () -> Mnist.load(dir, Mnist.Split.TRAIN), "images (3) and labels (2) differ in count");
    }

    @Test
    void labelAboveNine() {
        Idx.writeUnsignedBytes(dir.resolve("train-images-idx3-ubyte"), new int[] {6, 2, 2}, pattern(24), false);
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        Idx.writeUnsignedBytes(labels, new int[] {6}, new byte[] {0, 1, 9, 3, 4, 10}, true);
        expect(labels, () -> Mnist.load(dir, Mnist.Split.TRAIN), "label 10 at index 5 is not in 0..9");
    }

    @Test
    void mnistMissing() {
        Path missing = dir.resolve("mnist");
        expect(missing, () -> Mnist.load(missing, Mnist.Split.TRAIN), "MNIST not found; run `make data`");
        expect(dir, () -> Mnist.load(dir, Mnist.Split.TEST),
                "neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz is there; run `make data`");
    }

    @Test
    void datasetWithoutLabels() {
        Dataset set = new Dataset(2, 1, 1, 2, new float[4], null);
        assertNull(set.first(1).labels());
        assertThrows(IllegalArgumentException.class, () -> new Dataset(2, 1, 1, 2, new float[3], null));
        assertThrows(IndexOutOfBoundsException.class, () -> set.subset(1, 3));
    }

    // ---- helpers -----------------------------------------------------------------------------

    /** Asserts a BadInputException about {@code file} whose message is "file: " then {@code problem}. */
    private static void expect(Path file, org.junit.jupiter.api.function.Executable read, String problem) {
        BadInputException e = assertThrows(BadInputException.class, read);
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file + ": " + problem),
                () -> "expected \"" + file + ": " + problem + "…\", got \"" + e.getMessage() + "\"");
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line");
    }

    private Path raw(String name, byte[] bytes) {
        Path file = dir.resolve(name);
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return file;
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** An IDX header: two zero bytes, the type, the dimension count, then each dimension. */
    private static byte[] header(int type, int ndims, long... dims) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(0);
        out.write(type);
        out.write(ndims);
        for (long d : dims) {
            out.write((int) (d >>> 24));
            out.write((int) (d >>> 16));
            out.write((int) (d >>> 8));
            out.write((int) d);
        }
        return out.toByteArray();
    }

    private static byte[] data(int n) {
        return pattern(n);
    }

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 37 + 11);
        }
        return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
