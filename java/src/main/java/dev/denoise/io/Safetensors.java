package dev.denoise.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.denoise.BadInputException;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Model files in the safetensors format, the format PyTorch state_dicts are shared in, so that a
 * model trained here loads in PyTorch ({@code safetensors.torch.load_file}) and the other way round.
 *
 * <p>Layout: an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} plus an optional
 * {@code "__metadata__"} object of strings, then the tensor bytes, offsets counted from the end of
 * the header. Only float32 ({@code F32}) tensors are stored here, but files are parsed and checked
 * in full first (see {@link SafetensorsHeader}), so a damaged file is told apart from a valid one of
 * another dtype.
 *
 * <p>Files come from users, so {@link #read} trusts no number in them: the header length is checked
 * against a 100 MB limit and the file's size before anything is allocated, and every tensor's
 * offsets against its shape and the data actually present, before any tensor is read. Each problem
 * becomes a {@link BadInputException} with a one-line reason.
 */
public final class Safetensors {
    /** The reference loader's limit; a header this large is an attack or an accident, not a model. */
    public static final long MAX_HEADER_LENGTH = 100_000_000L;

    private static final int LENGTH_FIELD = 8;
    private static final int CHUNK = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {
    }

    /**
     * The content of a file: its {@code __metadata__} (empty when absent) and its tensors in the
     * order their data lies in the file. Both maps are read-only and keep that order.
     */
    public record Loaded(Map<String, String> metadata, Map<String, TensorData> tensors) {
        /** Copies both maps, read-only and in their given order. */
        public Loaded {
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        }
    }

    /**
     * Reads a safetensors file of float32 tensors.
     *
     * <p>Policy on values: a tensor holding NaN or ±Infinity is refused, naming the tensor and the
     * first such index. No weight of a usable model is non-finite; such a file comes from a run that
     * diverged, and loading it would only produce NaN images further on, far from the cause.
     *
     * @throws BadInputException when the file is missing or unreadable, breaks the format in any
     *                           way, holds a dtype other than F32, or holds a non-finite value
     */
    public static Loaded read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(file, ch);
        } catch (IOException e) {
            throw BadInputException.reading(file, e);
        }
    }

    /**
     * {@link #read(Path)} of a file's bytes held in memory (a model inside the jar); name is what
     * the errors call it.
     */
    public static Loaded read(Path name, byte[] bytes) {
        try {
            return read(name, new BytesChannel(bytes));
        } catch (IOException e) {
            throw new BadInputException(name, "cannot read: " + e.getMessage(), e);
        }
    }

    private static Loaded read(Path file, SeekableByteChannel ch) throws IOException {
        try {
            long size = ch.size();
            if (size < LENGTH_FIELD) {
                throw new BadInputException(file, "file is " + size
                        + " bytes long, shorter than the 8-byte header length of a safetensors file");
            }
            ByteBuffer lengthField = ByteBuffer.allocate(LENGTH_FIELD).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lengthField, 0);
            long headerLength = lengthField.getLong(0); // unsigned: compare and print it as such
            if (Long.compareUnsigned(headerLength, MAX_HEADER_LENGTH) > 0) {
                throw new BadInputException(file, "header length " + Long.toUnsignedString(headerLength)
                        + " exceeds the limit of " + MAX_HEADER_LENGTH + " bytes");
            }
            if (headerLength > size - LENGTH_FIELD) {
                throw new BadInputException(file, "header length " + headerLength
                        + " runs past the end of the file: only " + (size - LENGTH_FIELD)
                        + " bytes follow the length field");
            }
            byte[] header = new byte[(int) headerLength];
            readFully(ch, ByteBuffer.wrap(header), LENGTH_FIELD);
            long dataStart = LENGTH_FIELD + headerLength;
            SafetensorsHeader.Parsed parsed = SafetensorsHeader.parse(file, header, size - dataStart);

            for (SafetensorsHeader.Entry e : parsed.entries()) {
                if (e.dtype() != SafetensorsHeader.Dtype.F32) {
                    throw new BadInputException(file, "tensor " + SafetensorsHeader.quote(e.name()) + " has dtype "
                            + e.dtype() + "; only F32 is supported");
                }
            }
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK, size - dataStart))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (SafetensorsHeader.Entry e : parsed.entries()) {
                int[] shape = arrayShape(file, e);
                float[] values = new float[(int) e.elements()];
                readFloats(ch, dataStart + e.begin(), values, chunk);
                requireFinite(file, e.name(), values);
                tensors.put(e.name(), new TensorData(e.name(), shape, values));
            }
            return new Loaded(parsed.metadata(), tensors);
        } catch (EOFException e) {
            throw new BadInputException(file, "file ended early; it changed while being read", e);
        }
    }

    /** A read-only channel over a byte array, for the bytes of a file held in memory. */
    private static final class BytesChannel implements SeekableByteChannel {
        private final byte[] bytes;
        private long position;

        BytesChannel(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (position >= bytes.length) return -1;
            int n = (int) Math.min(dst.remaining(), bytes.length - position);
            dst.put(bytes, (int) position, n);
            position += n;
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            throw new java.nio.channels.NonWritableChannelException();
        }

        @Override
        public long position() {
            return position;
        }

        @Override
        public SeekableByteChannel position(long p) {
            position = p;
            return this;
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public SeekableByteChannel truncate(long size) {
            throw new java.nio.channels.NonWritableChannelException();
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    }

    /**
     * Writes float32 tensors and string metadata as a safetensors file, replacing {@code file}.
     *
     * <p>Tensors are stored in list order, their data back to back in that order; the header is
     * padded with spaces to a multiple of 8 bytes, as the reference writer does, so the data is
     * aligned. {@code __metadata__} is left out when {@code metadata} is empty.
     *
     * <p>The write is atomic: the bytes go to a hidden temporary file in the same directory, are
     * forced to disk, and the file is then renamed over the target and the directory synced. A reader
     * sees the old file or the new one, never a mix, and a failure at any step (including a crash)
     * leaves the old file as it was; the temporary file is deleted on failure.
     *
     * @throws IllegalArgumentException when two tensors share a name, a name is {@code __metadata__},
     *                                  or a value is NaN or infinite (such a file could not be read back)
     * @throws IOException              when the file cannot be written; the message names {@code file}
     *                                  (e.g. "{@code path: No space left on device}")
     */
    public static void write(Path file, Map<String, String> metadata, List<TensorData> tensors) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(metadata, "metadata");
        // One snapshot, so the header and the data are written from the same tensors.
        List<TensorData> list = List.copyOf(tensors);
        byte[] header = header(metadata, list);

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = dir.resolve("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            // CREATE_NEW, not createTempFile: the result keeps the usual umask permissions.
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer head = ByteBuffer.allocate(LENGTH_FIELD + header.length).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(header.length).put(header).flip();
                writeFully(ch, head);
                ByteBuffer chunk = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
                for (TensorData t : list) {
                    writeFloats(ch, t.data(), chunk);
                }
                // On disk before the rename, or a crash could leave a short file under the real name.
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable failure) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            if (failure.getClass() == IOException.class) {
                // A bare IOException (ENOSPC, EIO) names no file; callers print the message alone.
                throw naming(target, (IOException) failure);
            }
            throw failure;
        }
        syncDirectory(dir);
    }

    /** The failure as a FileSystemException whose message is "file: reason". */
    private static FileSystemException naming(Path file, IOException failure) {
        FileSystemException e = new FileSystemException(file.toString(), null,
                failure.getMessage() == null ? "write failed" : failure.getMessage());
        e.initCause(failure);
        for (Throwable s : failure.getSuppressed()) e.addSuppressed(s);
        return e;
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes. */
    private static byte[] header(Map<String, String> metadata, List<TensorData> tensors) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach((k, v) -> meta.put(Objects.requireNonNull(k, "metadata key"),
                    Objects.requireNonNull(v, () -> "metadata value of '" + k + "'")));
        }
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (TensorData t : tensors) {
            if (t.name().equals("__metadata__")) {
                throw new IllegalArgumentException("a tensor cannot be named __metadata__");
            }
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("two tensors are named '" + t.name() + "'");
            }
            requireFinite(t.name(), t.data());
            ObjectNode entry = root.putObject(t.name());
            entry.put("dtype", "F32");
            ArrayNode shape = entry.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            long end = offset + 4L * t.data().length;
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            // Only a string that is not valid Unicode (a lone surrogate) can fail to encode.
            throw new IllegalArgumentException("tensor names and metadata must be valid Unicode: " + e.getOriginalMessage(), e);
        }
        int padded = (json.length + 7) & ~7;
        if (padded > MAX_HEADER_LENGTH) {
            throw new IllegalArgumentException("header of " + padded + " bytes exceeds the limit of "
                    + MAX_HEADER_LENGTH);
        }
        byte[] header = new byte[padded];
        System.arraycopy(json, 0, header, 0, json.length);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    /** The shape as Java ints; only a zero-size tensor can have a dimension beyond them. */
    private static int[] arrayShape(Path file, SafetensorsHeader.Entry e) {
        if (e.elements() > Integer.MAX_VALUE - 8) {
            throw new BadInputException(file, "tensor " + SafetensorsHeader.quote(e.name()) + " has " + e.elements()
                    + " elements, more than one Java array holds");
        }
        int[] shape = new int[e.shape().length];
        for (int i = 0; i < shape.length; i++) {
            if (e.shape()[i] > Integer.MAX_VALUE) {
                throw new BadInputException(file, "tensor " + SafetensorsHeader.quote(e.name()) + " has dimension "
                        + e.shape()[i] + ", larger than " + Integer.MAX_VALUE);
            }
            shape[i] = (int) e.shape()[i];
        }
        return shape;
    }

    private static void requireFinite(Path file, String name, float[] values) {
        int i = firstNonFinite(values);
        if (i >= 0) {
            throw new BadInputException(file, "tensor " + SafetensorsHeader.quote(name) + " holds " + values[i]
                    + " at index " + i);
        }
    }

    private static void requireFinite(String name, float[] values) {
        int i = firstNonFinite(values);
        if (i >= 0) {
            throw new IllegalArgumentException("tensor '" + name + "' holds " + values[i] + " at index " + i
                    + "; a file with it could not be read back");
        }
    }

    private static int firstNonFinite(float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    private static void readFloats(SeekableByteChannel ch, long position, float[] values, ByteBuffer chunk) throws IOException {
        int done = 0;
        while (done < values.length) {
            int n = Math.min(values.length - done, chunk.capacity() / Float.BYTES);
            chunk.clear().limit(n * Float.BYTES);
            readFully(ch, chunk, position + (long) done * Float.BYTES);
            chunk.flip();
            chunk.asFloatBuffer().get(values, done, n);
            done += n;
        }
    }

    private static void writeFloats(FileChannel ch, float[] values, ByteBuffer chunk) throws IOException {
        int done = 0;
        while (done < values.length) {
            int n = Math.min(values.length - done, chunk.capacity() / Float.BYTES);
            chunk.clear();
            chunk.asFloatBuffer().put(values, done, n);
            chunk.limit(n * Float.BYTES);
            writeFully(ch, chunk);
            done += n;
        }
    }

    private static void readFully(SeekableByteChannel ch, ByteBuffer buf, long position) throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            int n = ch.position(at).read(buf);
            if (n < 0) {
                throw new EOFException();
            }
            at += n;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Makes the rename durable; some platforms (Windows) cannot open a directory, and need not. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // The file is in place; only its survival of a power cut right now is less certain.
        }
    }
}
