package dev.denoise.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.denoise.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class SafetensorsTest {
    @TempDir
    Path dir;

    // ---------------------------------------------------------------- helpers

    /** A file of a declared header length, the given header bytes, then the data bytes. */
    private Path raw(long declaredLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header).put(data);
        Path f = dir.resolve("t" + System.nanoTime() + ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    /** A file whose header is {@code json} (its true length) followed by {@code data}. */
    private Path raw(String json, byte[] data) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return raw(h.length, h, data);
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private static byte[] zeros(int n) {
        return new byte[n];
    }

    private static String entry(String dtype, String shape, long begin, long end) {
        return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    /** Reading {@code f} fails with a one-line message "f: ..." that contains {@code fragment}. */
    private static BadInputException assertBad(Path f, String fragment) {
        BadInputException e = assertThrows(BadInputException.class, () -> Safetensors.read(f));
        String m = e.getMessage();
        assertTrue(m.startsWith(f + ": "), m);
        assertTrue(m.contains(fragment), () -> "expected '" + fragment + "' in: " + m);
        assertFalse(m.contains("\n"), m);
        assertEquals(f, e.file());
        return e;
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private List<String> tmpFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
        }
    }

    private static List<TensorData> sample() {
        float[] special = {-0.0f, 0.0f, Float.MIN_VALUE, -Float.MAX_VALUE, Float.MAX_VALUE, 1e-40f, 1f / 3, -2.5f};
        return List.of(
                new TensorData("scale", new int[0], new float[]{3.25f}),
                new TensorData("empty", new int[]{0, 3}, new float[0]),
                new TensorData("special", new int[]{8}, special),
                new TensorData("e1.weight", new int[]{2, 3, 4}, random(24, 1)),
                new TensorData("conv.weight", new int[]{4, 1, 3, 3}, random(36, 2)),
                new TensorData("e1.bias", new int[]{3}, random(3, 3)));
    }

    // ---------------------------------------------------------------- round trip and layout

    @Test
    void roundTripKeepsMetadataOrderAndBits() throws IOException {
        Path f = dir.resolve("model.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("model", "{\"kind\":\"conv\",\"channels\":[16,32]}");
        meta.put("note", "ünïcode ✓");
        List<TensorData> tensors = sample();
        Safetensors.write(f, meta, tensors);

        Safetensors.Loaded loaded = Safetensors.read(f);
        assertEquals(meta, loaded.metadata());
        assertEquals(tensors.stream().map(TensorData::name).toList(), new ArrayList<>(loaded.tensors().keySet()));
        for (TensorData t : tensors) {
            TensorData back = loaded.tensors().get(t.name());
            assertArrayEquals(t.shape(), back.shape(), t.name());
            assertEquals(t.data().length, back.data().length);
            for (int i = 0; i < t.data().length; i++) {
                assertEquals(Float.floatToRawIntBits(t.data()[i]), Float.floatToRawIntBits(back.data()[i]),
                        t.name() + "[" + i + "]");
            }
            assertEquals(t, back);
        }
        assertEquals(0, loaded.tensors().get("scale").rank());
        assertEquals(List.of(), tmpFiles());
    }

    @Test
    void emptyMetadataAndNoTensorsRoundTrip() throws IOException {
        Path f = dir.resolve("empty.safetensors");
        Safetensors.write(f, Map.of(), List.of());
        Safetensors.Loaded loaded = Safetensors.read(f);
        assertTrue(loaded.metadata().isEmpty());
        assertTrue(loaded.tensors().isEmpty());
        assertEquals(16, Files.size(f)); // "{}" padded to 8, plus the length field
    }

    @Test
    void outputFollowsTheReferenceLayout() throws IOException {
        Path f = dir.resolve("model.safetensors");
        List<TensorData> tensors = sample();
        Safetensors.write(f, Map.of("format", "pt"), tensors);
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);

        long n = b.getLong(0);
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"), header);
        String json = header.stripTrailing();
        assertTrue(json.endsWith("}"));
        assertEquals(" ".repeat(header.length() - json.length()), header.substring(json.length()));
        assertTrue(header.length() - json.length() < 8);

        JsonNode root = new ObjectMapper().readTree(json);
        List<String> keys = new ArrayList<>();
        root.fieldNames().forEachRemaining(keys::add);
        List<String> expected = new ArrayList<>(List.of("__metadata__"));
        tensors.forEach(t -> expected.add(t.name()));
        assertEquals(expected, keys);
        assertEquals("pt", root.get("__metadata__").get("format").textValue());

        long offset = 0;
        long dataStart = 8 + n;
        for (TensorData t : tensors) {
            JsonNode e = root.get(t.name());
            List<String> fields = new ArrayList<>();
            e.fieldNames().forEachRemaining(fields::add);
            assertEquals(Set.of("dtype", "shape", "data_offsets"), Set.copyOf(fields));
            assertEquals(3, fields.size());
            assertEquals("F32", e.get("dtype").textValue());
            int[] shape = new int[e.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = e.get("shape").get(i).intValue();
            }
            assertArrayEquals(t.shape(), shape);
            assertEquals(offset, e.get("data_offsets").get(0).longValue(), t.name());
            long end = e.get("data_offsets").get(1).longValue();
            assertEquals(4L * t.data().length, end - offset);
            for (int i = 0; i < t.data().length; i++) {
                assertEquals(Float.floatToRawIntBits(t.data()[i]),
                        b.getInt((int) (dataStart + offset + 4L * i)), "little-endian float32");
            }
            offset = end;
        }
        assertEquals(bytes.length, dataStart + offset, "no bytes after the last tensor");
    }

    @Test
    void writeReplacesAnExistingFile() throws IOException {
        Path f = dir.resolve("m.safetensors");
        Safetensors.write(f, Map.of("v", "1"), sample());
        Safetensors.write(f, Map.of("v", "2"), List.of(new TensorData("w", new int[]{1}, new float[]{7})));
        Safetensors.Loaded loaded = Safetensors.read(f);
        assertEquals(Map.of("v", "2"), loaded.metadata());
        assertEquals(Set.of("w"), loaded.tensors().keySet());
        assertEquals(List.of(), tmpFiles());
    }

    // ---------------------------------------------------------------- accepted variants

    @Test
    void acceptsHeaderPaddedWithSpaces() throws IOException {
        Path f = raw("{\"w\":" + entry("F32", "[2]", 0, 8) + "}" + " ".repeat(37), floats(1, 2));
        assertArrayEquals(new float[]{1, 2}, Safetensors.read(f).tensors().get("w").data());
    }

    @Test
    void acceptsZeroSizeTensorsAndScalars() throws IOException {
        Path f = raw("{\"z\":" + entry("F32", "[0]", 0, 0)
                + ",\"s\":" + entry("F32", "[]", 0, 4)
                + ",\"y\":" + entry("F32", "[4,0,2]", 4, 4)
                + ",\"__metadata__\":{\"a\":\"b\"}}", floats(5));
        Safetensors.Loaded l = Safetensors.read(f);
        assertEquals(List.of("z", "s", "y"), new ArrayList<>(l.tensors().keySet()));
        assertArrayEquals(new int[0], l.tensors().get("s").shape());
        assertArrayEquals(new float[]{5}, l.tensors().get("s").data());
        assertArrayEquals(new int[]{4, 0, 2}, l.tensors().get("y").shape());
        assertEquals(0, l.tensors().get("y").data().length);
        assertEquals(Map.of("a", "b"), l.metadata());
    }

    @Test
    void tensorsComeInOffsetOrderWhateverTheHeaderOrder() throws IOException {
        Path f = raw("{\"b\":" + entry("F32", "[1]", 4, 8) + ",\"a\":" + entry("F32", "[1]", 0, 4) + "}",
                floats(1, 2));
        Safetensors.Loaded l = Safetensors.read(f);
        assertEquals(List.of("a", "b"), new ArrayList<>(l.tensors().keySet()));
        assertArrayEquals(new float[]{2}, l.tensors().get("b").data());
    }

    @Test
    void acceptsAnEmptyFileOfTensorsAndNullMetadata() throws IOException {
        Path f = raw("{\"__metadata__\":null}", zeros(0));
        assertTrue(Safetensors.read(f).tensors().isEmpty());
    }

    // ---------------------------------------------------------------- length field and header bytes

    @Test
    void refusesFileShorterThanTheLengthField() throws IOException {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[5]);
        assertBad(f, "file is 5 bytes long, shorter than the 8-byte header length");
    }

    @Test
    void refusesMissingFile() {
        assertBad(dir.resolve("absent.safetensors"), "no such file");
    }

    @Test
    void reportsHeaderLengthTwoToTheSixtyFourMinusOneUnsigned() throws IOException {
        Path f = raw(-1L, "{}".getBytes(StandardCharsets.US_ASCII), zeros(0));
        assertBad(f, "header length 18446744073709551615 exceeds the limit of 100000000 bytes");
    }

    @Test
    void refusesHeaderLengthJustOverTheLimit() throws IOException {
        Path f = raw(100_000_001L, "{}".getBytes(StandardCharsets.US_ASCII), zeros(0));
        assertBad(f, "header length 100000001 exceeds the limit of 100000000 bytes");
    }

    @Test
    void refusesHeaderRunningPastTheEnd() throws IOException {
        Path f = raw(100, "{}".getBytes(StandardCharsets.US_ASCII), zeros(4));
        assertBad(f, "header length 100 runs past the end of the file: only 6 bytes follow");
    }

    @Test
    void refusesHeaderThatIsNotUtf8() throws IOException {
        byte[] h = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        assertBad(raw(h.length, h, zeros(0)), "header is not valid UTF-8 (bad byte sequence at file offset 10)");
    }

    @Test
    void refusesHeaderThatIsNotJson() throws IOException {
        assertBad(raw("{not json}", zeros(0)), "header is not JSON:");
        assertBad(raw("", zeros(0)), "header is not JSON");
        assertBad(raw("{\"w\":" + entry("F32", "[1]", 0, 4) + "} x", floats(1)), "header is not JSON");
    }

    @Test
    void refusesHeaderThatIsNotAnObject() throws IOException {
        assertBad(raw("[1, 2]", zeros(0)), "header is an array, not a JSON object");
        assertBad(raw("\"text\"", zeros(0)), "header is a string, not a JSON object");
    }

    @Test
    void refusesDeeplyNestedHeader() throws IOException {
        String json = "{\"w\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}";
        assertBad(raw(json, zeros(0)), "header JSON nests deeper than 64 levels");
    }

    // ---------------------------------------------------------------- entries

    @Test
    void refusesEntryThatIsNotAnObject() throws IOException {
        assertBad(raw("{\"w\":[1,2]}", zeros(0)), "tensor 'w' is an array, not an object");
    }

    @Test
    void refusesEntryWithExtraOrMissingKeys() throws IOException {
        assertBad(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", floats(1)),
                "tensor 'w' has unexpected key 'x'");
        assertBad(raw("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", floats(1)), "tensor 'w' lacks shape");
    }

    @Test
    void refusesUnknownDtype() throws IOException {
        assertBad(raw("{\"w\":" + entry("F7", "[1]", 0, 4) + "}", floats(1)), "tensor 'w' has unknown dtype 'F7'");
    }

    @Test
    void refusesF16WithAClearMessage() throws IOException {
        BadInputException e = assertBad(raw("{\"x\":" + entry("F16", "[2]", 0, 4) + "}", zeros(4)), "");
        assertTrue(e.getMessage().endsWith(": tensor 'x' has dtype F16; only F32 is supported"), e.getMessage());
    }

    @Test
    void refusesOverlappingOffsets() throws IOException {
        Path f = raw("{\"a\":" + entry("F32", "[4]", 0, 16) + ",\"b\":" + entry("F32", "[4]", 8, 24) + "}", zeros(24));
        assertBad(f, "tensor 'b' [8, 24) overlaps tensor 'a' [0, 16)");
    }

    @Test
    void refusesGapBetweenTensors() throws IOException {
        Path f = raw("{\"a\":" + entry("F32", "[2]", 0, 8) + ",\"b\":" + entry("F32", "[2]", 12, 20) + "}", zeros(20));
        assertBad(f, "gap of 4 bytes between tensor 'a' [0, 8) and tensor 'b' [12, 20)");
    }

    @Test
    void refusesReversedOffsets() throws IOException {
        assertBad(raw("{\"a\":" + entry("F32", "[1]", 8, 4) + "}", zeros(8)),
                "tensor 'a' data_offsets [8, 4] end before they begin");
    }

    @Test
    void refusesFirstOffsetOtherThanZero() throws IOException {
        assertBad(raw("{\"a\":" + entry("F32", "[2]", 4, 12) + "}", zeros(12)),
                "first tensor 'a' begins at byte 4 of the data, not 0");
    }

    @Test
    void refusesByteLengthThatDoesNotMatchTheShape() throws IOException {
        assertBad(raw("{\"a\":" + entry("F32", "[2,2]", 0, 12) + "}", zeros(12)),
                "tensor 'a' data_offsets [0, 12] span 12 bytes, but shape [2, 2] of F32 needs 16");
    }

    @Test
    void refusesShapeWhoseProductOverflows() throws IOException {
        long big = Integer.MAX_VALUE;
        String shape = "[" + big + "," + big + "," + big + ",4]";
        assertBad(raw("{\"a\":" + entry("F32", shape, 0, 4) + "}", zeros(4)), "overflows");
        // the element count fits, the byte count does not
        assertBad(raw("{\"a\":" + entry("F64", "[4611686018427387904]", 0, 8) + "}", zeros(8)),
                "byte length does not fit in 64 bits");
    }

    @Test
    void refusesNegativeDimension() throws IOException {
        assertBad(raw("{\"a\":" + entry("F32", "[-1,2]", 0, 8) + "}", zeros(8)),
                "tensor 'a' shape dimension 0 is -1, negative");
    }

    @Test
    void refusesNonIntegerNumbers() throws IOException {
        assertBad(raw("{\"a\":" + entry("F32", "[1.5]", 0, 4) + "}", zeros(4)), "not a non-negative integer");
        assertBad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", zeros(4)),
                "tensor 'a' data_offsets end is a number 4.0, not a non-negative integer");
        assertBad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", zeros(4)),
                "not an array of two integers");
        assertBad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}",
                zeros(4)), "tensor 'a' data_offsets end is 99999999999999999999, too large");
    }

    @Test
    void refusesTrailingBytesAfterTheLastTensor() throws IOException {
        assertBad(raw("{\"a\":" + entry("F32", "[2]", 0, 8) + "}", zeros(12)),
                "4 bytes trailing after the last tensor");
        assertBad(raw("{}", zeros(1)), "1 byte trailing after the last tensor");
    }

    @Test
    void refusesDataShortByTwoBytes() throws IOException {
        assertBad(raw("{\"a\":" + entry("F32", "[2]", 0, 8) + "}", zeros(6)),
                "data is 2 bytes short: the header describes 8 bytes of data, the file holds 6");
    }

    @Test
    void refusesDuplicateTensorNames() throws IOException {
        String e = entry("F32", "[1]", 0, 4);
        assertBad(raw("{\"a\":" + e + ",\"a\":" + e + "}", zeros(4)), "header has duplicate key 'a'");
    }

    @Test
    void refusesDuplicateNamesSpelledWithAnEscape() throws IOException {
        String e = entry("F32", "[1]", 0, 4);
        assertBad(raw("{\"a\":" + e + ",\"\\u0061\":" + e + "}", zeros(4)), "header has duplicate key 'a'");
    }

    @Test
    void refusesDuplicateKeysInsideAnEntry() throws IOException {
        assertBad(raw("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", zeros(4)),
                "header has duplicate key 'dtype'");
    }

    @Test
    void refusesNonStringMetadata() throws IOException {
        assertBad(raw("{\"__metadata__\":{\"epochs\":3}}", zeros(0)),
                "__metadata__ value of 'epochs' is a number, not a string");
        assertBad(raw("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", zeros(0)), "is an object, not a string");
        assertBad(raw("{\"__metadata__\":[\"a\"]}", zeros(0)), "__metadata__ is an array, not an object of strings");
    }

    @Test
    void escapesControlCharactersInNames() throws IOException {
        BadInputException e = assertBad(raw("{\"a\\nb\":" + entry("F7", "[1]", 0, 4) + "}", zeros(4)),
                "tensor 'a\\u000ab' has unknown dtype");
        assertFalse(e.getMessage().contains("\n"));
    }

    // ---------------------------------------------------------------- values

    @Test
    void refusesNaNNamingTensorAndIndex() throws IOException {
        Path f = raw("{\"e1.weight\":" + entry("F32", "[2,2]", 0, 16) + "}", floats(0, 1, 2, Float.NaN));
        BadInputException e = assertBad(f, "");
        assertTrue(e.getMessage().endsWith(": tensor 'e1.weight' holds NaN at index 3"), e.getMessage());
    }

    @Test
    void refusesInfinities() throws IOException {
        assertBad(raw("{\"w\":" + entry("F32", "[2]", 0, 8) + "}", floats(0, Float.POSITIVE_INFINITY)),
                "tensor 'w' holds Infinity at index 1");
        assertBad(raw("{\"w\":" + entry("F32", "[2]", 0, 8) + "}", floats(Float.NEGATIVE_INFINITY, 0)),
                "tensor 'w' holds -Infinity at index 0");
    }

    @Test
    void writeRefusesNonFiniteValuesAndBadNames() throws IOException {
        Path f = dir.resolve("m.safetensors");
        TensorData nan = new TensorData("w", new int[]{2}, new float[]{1, Float.NaN});
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(f, Map.of(), List.of(nan)));
        TensorData a = new TensorData("a", new int[]{1}, new float[]{1});
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(f, Map.of(), List.of(a, a)));
        TensorData meta = new TensorData("__metadata__", new int[]{1}, new float[]{1});
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(f, Map.of(), List.of(meta)));
        assertFalse(Files.exists(f));
        assertEquals(List.of(), tmpFiles());
    }

    @Test
    void tensorDataChecksItsShape() {
        assertThrows(IllegalArgumentException.class, () -> new TensorData("w", new int[]{2, 2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> new TensorData("w", new int[]{-1}, new float[0]));
        assertEquals(0, new TensorData("w", new int[]{65536, 65536, 0}, new float[0]).data().length);
        int[] shape = {2};
        TensorData t = new TensorData("w", shape, new float[2]);
        shape[0] = 5;
        t.shape()[0] = 7;
        assertArrayEquals(new int[]{2}, t.shape());
    }

    // ---------------------------------------------------------------- atomic write

    @Test
    void failedIterationLeavesThePreviousFileAndNoTemporaryFile() throws IOException {
        Path f = dir.resolve("m.safetensors");
        Safetensors.write(f, Map.of("v", "1"), sample());
        byte[] before = Files.readAllBytes(f);
        List<TensorData> failing = new AbstractList<>() {
            @Override
            public TensorData get(int i) {
                if (i == 2) {
                    throw new IllegalStateException("broken list");
                }
                return sample().get(i);
            }

            @Override
            public int size() {
                return 4;
            }
        };
        assertThrows(IllegalStateException.class, () -> Safetensors.write(f, Map.of("v", "2"), failing));
        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of(), tmpFiles());
    }

    @Test
    void failedRenameRemovesTheTemporaryFile() throws IOException {
        // A non-empty directory cannot be replaced by a file: the data is written, the rename fails.
        Path target = dir.resolve("taken");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "keep");
        assertThrows(IOException.class, () -> Safetensors.write(target, Map.of(), sample()));
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
        assertEquals(List.of(), tmpFiles());
    }

    @Test
    void readOnlyDirectoryLeavesThePreviousFileIntact() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("ro"));
        Path f = sub.resolve("m.safetensors");
        Safetensors.write(f, Map.of("v", "1"), sample());
        byte[] before = Files.readAllBytes(f);
        Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            // Root ignores directory permissions; the test means nothing there.
            assumeFalse(Files.isWritable(sub), "directory permissions are not enforced for this user");
            assertThrows(IOException.class, () -> Safetensors.write(f, Map.of("v", "2"), sample()));
            assertArrayEquals(before, Files.readAllBytes(f));
            try (Stream<Path> s = Files.list(sub)) {
                assertEquals(List.of("m.safetensors"), s.map(p -> p.getFileName().toString()).toList());
            }
        } finally {
            Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void refusesAFileThatHoldsOnlyHalfTheSampleWrittenByHand() throws IOException {
        // A file cut short after the header: the reader must say so before reading any tensor.
        Path f = dir.resolve("m.safetensors");
        Safetensors.write(f, Map.of(), sample());
        byte[] all = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(all, all.length - 2));
        assertBad(cut, "data is 2 bytes short");
    }
}
