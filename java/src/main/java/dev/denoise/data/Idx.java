package dev.denoise.data;

import dev.denoise.BadInputException;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * Reading and writing IDX files, the format MNIST and its relatives ship in, raw or gzipped.
 *
 * <p>An IDX file is two zero bytes, a data-type byte, a dimension-count byte, one big-endian uint32
 * per dimension, then the elements in big-endian order. Data files are downloaded, so every field
 * is checked and every problem becomes a {@link BadInputException} that names it: the magic, the
 * data type and dimension count against what the caller expects, each dimension (non-zero and
 * below 2<sup>31</sup>, so it fits a Java int), the element count against a cap, and the length,
 * which must be exact (a short file is truncated; extra bytes mean the header lies).
 *
 * <p>The element count is checked before anything is allocated, so a 20-byte file that claims
 * 10<sup>15</sup> elements costs nothing. Gzipped input is read as a stream into an array of the
 * size the (already checked) header announces; whatever follows is only counted, and counting stops
 * one byte past the cap, so a decompression bomb is never inflated in full. Gzip is recognised by
 * its 1f 8b magic whatever the name; a {@code .gz} name on a file that is not gzip is refused,
 * since it means the file is not what it claims to be. The stream is read to its end, which makes
 * {@link GZIPInputStream} check the trailer's CRC-32 and length.
 */
public final class Idx {
    /** Default cap on the elements of one file: 2<sup>28</sup>, five times the MNIST training images. */
    public static final long DEFAULT_MAX_ELEMENTS = 1L << 28;

    /** IDX dimensions are uint32, but Java arrays and ints stop below 2<sup>31</sup>. */
    private static final long MAX_DIMENSION = Integer.MAX_VALUE;

    /** The largest array the JVM reliably allocates. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private static final int GZIP_MAGIC_0 = 0x1f;
    private static final int GZIP_MAGIC_1 = 0x8b;

    private Idx() {
    }

    /** The element types IDX defines, with their type byte and size in bytes. */
    public enum DType {
        /** Unsigned byte, 0x08: MNIST's pixels and labels. */
        UBYTE(0x08, 1, "ubyte"),
        /** Signed byte, 0x09. */
        BYTE(0x09, 1, "byte"),
        /** Signed 16-bit integer, 0x0B. */
        SHORT(0x0B, 2, "short"),
        /** Signed 32-bit integer, 0x0C. */
        INT(0x0C, 4, "int"),
        /** 32-bit IEEE float, 0x0D. */
        FLOAT(0x0D, 4, "float"),
        /** 64-bit IEEE float, 0x0E. */
        DOUBLE(0x0E, 8, "double");

        private final int code;
        private final int size;
        private final String label;

        DType(int code, int size, String label) {
            this.code = code;
            this.size = size;
            this.label = label;
        }

        /** The type byte, the third byte of the magic. */
        public int code() {
            return code;
        }

        /** Bytes per element. */
        public int size() {
            return size;
        }

        /** The type with this type byte, or null when IDX defines none. */
        public static DType ofCode(int code) {
            for (DType t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s (0x%02X)", label, code);
        }
    }

    /**
     * The contents of an IDX file: its dimensions, outermost first, and its elements in file order
     * (for multi-byte types still big-endian). The arrays are shared, not copied; records compare
     * them by identity.
     */
    public record IdxArray(int[] dims, byte[] data) {
        /** Checks that there is at least one dimension. */
        public IdxArray {
            if (dims.length == 0) {
                throw new IllegalArgumentException("an IDX array needs at least one dimension");
            }
        }

        /** The first dimension: the number of items (images, labels) in the file. */
        public int count() {
            return dims[0];
        }

        /** The product of all dimensions. */
        public long elements() {
            long n = 1;
            for (int d : dims) {
                n *= d;
            }
            return n;
        }

        @Override
        public String toString() {
            return "IdxArray" + Arrays.toString(dims);
        }
    }

    /** Reads an unsigned-byte file with {@link #DEFAULT_MAX_ELEMENTS} as the cap. */
    public static IdxArray readUnsignedBytes(Path file, int expectedNdims) {
        return readUnsignedBytes(file, expectedNdims, DEFAULT_MAX_ELEMENTS);
    }

    /**
     * Reads an unsigned-byte (type 0x08) file with {@code expectedNdims} dimensions, raw or gzipped.
     *
     * @param maxElements the most elements (product of the dimensions) accepted
     * @throws BadInputException when the file is missing, unreadable, or anything in it is wrong
     */
    public static IdxArray readUnsignedBytes(Path file, int expectedNdims, long maxElements) {
        return read(file, DType.UBYTE, expectedNdims, maxElements);
    }

    /**
     * Reads an IDX file of type {@code expected} with {@code expectedNdims} dimensions, raw or
     * gzipped; see the class comment for what is checked.
     *
     * @param maxElements the most elements (product of the dimensions) accepted
     * @throws BadInputException when the file is missing, unreadable, or anything in it is wrong
     */
    public static IdxArray read(Path file, DType expected, int expectedNdims, long maxElements) {
        if (expectedNdims < 1 || expectedNdims > 255) {
            throw new IllegalArgumentException("expectedNdims must be in 1..255: " + expectedNdims);
        }
        if (maxElements <= 0) {
            throw new IllegalArgumentException("maxElements must be positive: " + maxElements);
        }
        Spec spec = new Spec(expected, expectedNdims, maxElements);
        if (Files.isDirectory(file)) {
            throw new BadInputException(file, "is a directory, not an IDX file");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            in.mark(2);
            int b0 = in.read();
            int b1 = in.read();
            in.reset();
            boolean gzipMagic = b0 == GZIP_MAGIC_0 && b1 == GZIP_MAGIC_1;
            boolean gzipName = file.getFileName() != null
                    && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
            if (gzipName && !gzipMagic) {
                throw new BadInputException(file, b1 < 0
                        ? "named .gz but is not gzip (" + (b0 < 0 ? "empty" : "1 byte long") + ")"
                        : String.format(Locale.ROOT, "named .gz but is not gzip (starts 0x%02X%02X, expected 0x1F8B)",
                        b0, b1));
            }
            return gzipMagic ? readGzip(file, in, spec) : readRaw(file, in, Files.size(file), spec);
        } catch (IOException e) {
            throw BadInputException.reading(file, e);
        }
    }

    /** What the caller accepts. */
    private record Spec(DType type, int ndims, long maxElements) {
        int expectedMagic() {
            return type.code() << 8 | ndims;
        }
    }

    /** A validated header: dimensions and the byte counts they imply. */
    private record Header(int[] dims, long headerBytes, long dataBytes) {
        long totalBytes() {
            return headerBytes + dataBytes;
        }
    }

    private static IdxArray readRaw(Path file, InputStream in, long fileSize, Spec spec) throws IOException {
        Header header = readHeader(file, in, spec, fileSize, "");
        if (fileSize < header.totalBytes()) {
            throw new BadInputException(file, "truncated: expected " + header.totalBytes() + " bytes, found " + fileSize);
        }
        if (fileSize > header.totalBytes()) {
            throw new BadInputException(file, (fileSize - header.totalBytes()) + " trailing bytes after the data");
        }
        byte[] data = new byte[(int) header.dataBytes()];
        int n = in.readNBytes(data, 0, data.length);
        if (n < data.length) {
            // The file shrank while being read.
            throw new BadInputException(file, "truncated: expected " + header.totalBytes() + " bytes, found "
                    + (header.headerBytes() + n));
        }
        if (in.read() >= 0) {
            throw new BadInputException(file, "trailing bytes after the data (the file grew while being read)");
        }
        return new IdxArray(header.dims(), data);
    }

    private static IdxArray readGzip(Path file, InputStream compressed, Spec spec) throws IOException {
        GZIPInputStream in;
        try {
            in = new GZIPInputStream(compressed, 1 << 16);
        } catch (EOFException e) {
            throw new BadInputException(file, "gzip stream truncated in its header", e);
        } catch (ZipException e) {
            throw new BadInputException(file, "gzip stream corrupt: " + e.getMessage(), e);
        }
        try (in) {
            String after = " after decompression";
            Header header = readHeader(file, in, spec, -1, after);
            byte[] data = new byte[(int) header.dataBytes()];
            int n = in.readNBytes(data, 0, data.length);
            if (n < data.length) {
                throw new BadInputException(file, "truncated: expected " + header.totalBytes() + " bytes" + after
                        + ", found " + (header.headerBytes() + n));
            }
            // Count what follows without keeping it, up to the cap and one byte beyond.
            long capBytes = spec.maxElements() > (Long.MAX_VALUE / 2 - header.headerBytes()) / spec.type().size()
                    ? Long.MAX_VALUE / 2
                    : header.headerBytes() + spec.maxElements() * spec.type().size();
            long allowedTrailing = Math.max(0, capBytes - header.totalBytes());
            long trailing = 0;
            byte[] scratch = new byte[8192];
            while (true) {
                int want = (int) Math.min(scratch.length, allowedTrailing + 1 - trailing);
                int got = in.read(scratch, 0, want);
                if (got < 0) {
                    break;
                }
                trailing += got;
                if (trailing > allowedTrailing) {
                    throw new BadInputException(file, "gzip stream decompresses to more than " + capBytes
                            + " bytes, beyond the cap of " + spec.maxElements() + " elements (stopped reading there)");
                }
            }
            if (trailing > 0) {
                throw new BadInputException(file, trailing + " trailing bytes after the data (decompressed)");
            }
            return new IdxArray(header.dims(), data);
        } catch (EOFException e) {
            throw new BadInputException(file, "gzip stream truncated: the compressed data ends early", e);
        } catch (ZipException e) {
            String problem = e.getMessage() != null && e.getMessage().contains("trailer")
                    ? "the CRC-32 or length in the gzip trailer does not match the data (" + e.getMessage() + ")"
                    : e.getMessage();
            throw new BadInputException(file, "gzip stream corrupt: " + problem, e);
        }
    }

    /**
     * Reads and checks the magic and dimensions, and the element count against the cap, before any
     * data is read or allocated.
     *
     * @param knownSize the file's size when it is raw, -1 when only a stream is at hand
     * @param where     text that tells, in messages, which bytes are counted
     */
    private static Header readHeader(Path file, InputStream in, Spec spec, long knownSize, String where)
            throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new BadInputException(file, magic.length == 0 && where.isEmpty()
                    ? "empty file, not an IDX file"
                    : "truncated: the IDX header needs at least 4 bytes" + where + ", found " + magic.length);
        }
        int magicValue = (magic[0] & 0xFF) << 24 | (magic[1] & 0xFF) << 16 | (magic[2] & 0xFF) << 8 | (magic[3] & 0xFF);
        String magicText = String.format(Locale.ROOT, "magic 0x%08X, expected 0x%08X", magicValue, spec.expectedMagic());
        int typeCode = magic[2] & 0xFF;
        int ndims = magic[3] & 0xFF;
        if (magic[0] != 0 || magic[1] != 0 || typeCode == 0) {
            throw new BadInputException(file, "not an IDX file (" + magicText + ")");
        }
        DType type = DType.ofCode(typeCode);
        if (type == null) {
            throw new BadInputException(file, String.format(Locale.ROOT, "unknown IDX data type 0x%02X (%s)",
                    typeCode, magicText));
        }
        if (type != spec.type()) {
            throw new BadInputException(file, "data type is " + type + ", expected " + spec.type() + " (" + magicText + ")");
        }
        if (ndims != spec.ndims()) {
            throw new BadInputException(file, ndims + " dimensions, expected " + spec.ndims() + " (" + magicText + ")");
        }
        long headerBytes = 4L + 4L * ndims;
        byte[] dimBytes = in.readNBytes(4 * ndims);
        if (dimBytes.length < 4 * ndims) {
            long found = knownSize >= 0 ? knownSize : 4 + dimBytes.length;
            throw new BadInputException(file, "truncated: the IDX header needs " + headerBytes + " bytes" + where
                    + ", found " + found);
        }
        int[] dims = new int[ndims];
        BigInteger elements = BigInteger.ONE;
        for (int i = 0; i < ndims; i++) {
            int o = 4 * i;
            long d = ((long) (dimBytes[o] & 0xFF) << 24) | (dimBytes[o + 1] & 0xFF) << 16
                    | (dimBytes[o + 2] & 0xFF) << 8 | (dimBytes[o + 3] & 0xFF);
            if (d == 0) {
                throw new BadInputException(file, "dimension " + (i + 1) + " of " + ndims + " is 0");
            }
            if (d > MAX_DIMENSION) {
                throw new BadInputException(file, "dimension " + (i + 1) + " of " + ndims + " is " + d
                        + ", above the limit of " + MAX_DIMENSION);
            }
            dims[i] = (int) d;
            elements = elements.multiply(BigInteger.valueOf(d));
        }
        if (elements.compareTo(BigInteger.valueOf(spec.maxElements())) > 0) {
            throw new BadInputException(file, elements + " elements exceed the cap of " + spec.maxElements());
        }
        long dataBytes = elements.longValueExact() * type.size();
        if (dataBytes > MAX_ARRAY) {
            throw new BadInputException(file, dataBytes + " bytes of data do not fit in one array (at most "
                    + MAX_ARRAY + ")");
        }
        return new Header(dims, headerBytes, dataBytes);
    }

    /**
     * Writes an unsigned-byte IDX file, gzipped when {@code gzip} is true, replacing any file there.
     *
     * @throws IllegalArgumentException when the dimensions are not 1 to 255 positive values whose
     *                                  product is {@code data.length}
     * @throws UncheckedIOException     when the file cannot be written
     */
    public static void writeUnsignedBytes(Path file, int[] dims, byte[] data, boolean gzip) {
        write(file, DType.UBYTE, dims, data, gzip);
    }

    /**
     * Writes an IDX file of any type; {@code data} holds the elements already in big-endian order.
     *
     * @throws IllegalArgumentException when the dimensions are not 1 to 255 positive values whose
     *                                  product times the element size is {@code data.length}
     * @throws UncheckedIOException     when the file cannot be written
     */
    public static void write(Path file, DType type, int[] dims, byte[] data, boolean gzip) {
        if (dims.length < 1 || dims.length > 255) {
            throw new IllegalArgumentException("IDX needs 1 to 255 dimensions, got " + dims.length);
        }
        long elements = 1;
        for (int d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("dimensions must be positive: " + Arrays.toString(dims));
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (elements * type.size() != data.length) {
            throw new IllegalArgumentException("dimensions " + Arrays.toString(dims) + " of " + type + " need "
                    + elements * type.size() + " bytes, got " + data.length);
        }
        byte[] header = new byte[4 + 4 * dims.length];
        header[2] = (byte) type.code();
        header[3] = (byte) dims.length;
        for (int i = 0; i < dims.length; i++) {
            int o = 4 + 4 * i;
            header[o] = (byte) (dims[i] >>> 24);
            header[o + 1] = (byte) (dims[i] >>> 16);
            header[o + 2] = (byte) (dims[i] >>> 8);
            header[o + 3] = (byte) dims[i];
        }
        try (OutputStream file0 = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
             OutputStream out = gzip ? new GZIPOutputStream(file0, 1 << 16) : file0) {
            out.write(header);
            out.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
