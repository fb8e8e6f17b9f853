package dev.denoise.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.denoise.BadInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The JSON header of a safetensors file, parsed and checked against the byte buffer that follows
 * it, before a single tensor byte is touched.
 *
 * <p>The rules are those of the reference loader (huggingface/safetensors, Rust): every tensor is
 * an object of exactly {@code dtype}, {@code shape} and {@code data_offsets}; its byte length is
 * its element count times its dtype's size; sorted by offset the tensors tile the buffer exactly,
 * from 0 to its end, with neither gaps nor overlaps; {@code __metadata__} maps strings to strings.
 * Some checks are stricter than the reference, because a model file that bends them was not
 * written by any honest tool: duplicate keys (which serde would silently resolve to the last one)
 * and keys besides the three are refused. JSON is parsed by Jackson in strict mode with a small
 * nesting limit, so a hostile header cannot exhaust the stack, and duplicate detection runs on
 * decoded names, so {@code "a"} and {@code "\u0061"} are the same key.
 */
final class SafetensorsHeader {
    /** Nesting a valid header needs is 3 (root, entry, shape); the limit leaves room, not more. */
    static final int MAX_NESTING = 64;

    private static final String METADATA_KEY = "__metadata__";
    private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");

    private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    /** The element types of the format, with their size in bytes. */
    enum Dtype {
        BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2),
        I32(4), U32(4), F32(4), F64(8), I64(8), U64(8);

        final int size;

        Dtype(int size) {
            this.size = size;
        }

        static Dtype named(String name) {
            for (Dtype d : values()) {
                if (d.name().equals(name)) {
                    return d;
                }
            }
            return null;
        }
    }

    /**
     * One tensor as the header describes it. The shape is kept as longs because the format allows
     * dimensions a Java array cannot have (in a tensor with another dimension of 0).
     */
    record Entry(String name, Dtype dtype, long[] shape, long elements, long begin, long end) {
        long byteLength() {
            return end - begin;
        }
    }

    /** The checked header: metadata, and the tensors in offset order (header order among ties). */
    record Parsed(Map<String, String> metadata, List<Entry> entries) {
    }

    private SafetensorsHeader() {
    }

    /**
     * Parses the header bytes and checks them against a buffer of {@code bufferLength} bytes.
     *
     * @throws BadInputException naming the first problem found
     */
    static Parsed parse(Path file, byte[] header, long bufferLength) {
        JsonNode root = readJson(file, decodeUtf8(file, header));
        if (!root.isObject()) {
            throw new BadInputException(file, "header is " + describe(root) + ", not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA_KEY)) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                entries.add(readEntry(file, field.getKey(), field.getValue()));
            }
        }
        // List.sort is stable: tensors at the same offset (only zero-size ones can be) keep header order.
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        checkLayout(file, entries, bufferLength);
        return new Parsed(metadata, entries);
    }

    private static String decodeUtf8(Path file, byte[] header) {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(header);
        try {
            CharBuffer chars = utf8.decode(in);
            return chars.toString();
        } catch (CharacterCodingException e) {
            // decode() leaves the buffer at the start of the bad sequence; +8 makes it a file offset.
            throw new BadInputException(file, "header is not valid UTF-8 (bad byte sequence at file offset "
                    + (8 + in.position()) + ")", e);
        }
    }

    private static JsonNode readJson(Path file, String text) {
        try {
            JsonNode root = JSON.readTree(text);
            if (root == null || root.isMissingNode()) {
                throw new BadInputException(file, "header is not JSON: it holds no value");
            }
            return root;
        } catch (StreamConstraintsException e) {
            String msg = String.valueOf(e.getOriginalMessage());
            if (msg.contains("nesting depth")) {
                throw new BadInputException(file, "header JSON nests deeper than " + MAX_NESTING + " levels", e);
            }
            throw new BadInputException(file, "header JSON exceeds a parser limit: " + oneLine(msg), e);
        } catch (StreamReadException e) {
            // Jackson has no exception type of its own for a duplicate key; its message is the only sign.
            if (e instanceof JsonParseException && String.valueOf(e.getOriginalMessage()).startsWith("Duplicate")
                    && e.getProcessor() instanceof JsonParser p) {
                throw new BadInputException(file, "header has duplicate key " + quote(currentName(p)), e);
            }
            throw new BadInputException(file, "header is not JSON: " + oneLine(String.valueOf(e.getOriginalMessage()))
                    + location(e), e);
        } catch (IOException e) {
            // Databind-level failures (such as a duplicate key it detects itself) and nothing else: the input is a String.
            String msg = String.valueOf(e.getMessage());
            if (msg.startsWith("Duplicate")) {
                throw new BadInputException(file, "header has duplicate key: " + oneLine(msg), e);
            }
            throw new BadInputException(file, "header is not JSON: " + oneLine(msg), e);
        }
    }

    /** The key the parser stopped at, which for a duplicate is the repeated one. */
    private static String currentName(JsonParser p) {
        try {
            return String.valueOf(p.currentName());
        } catch (IOException e) {
            return "?";
        }
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> metadata) {
        if (node.isNull()) {
            return; // the reference loader reads null as "no metadata"
        }
        if (!node.isObject()) {
            throw new BadInputException(file, METADATA_KEY + " is " + describe(node)
                    + ", not an object of strings");
        }
        for (Map.Entry<String, JsonNode> kv : node.properties()) {
            if (!kv.getValue().isTextual()) {
                throw new BadInputException(file, METADATA_KEY + " value of " + quote(kv.getKey()) + " is "
                        + describe(kv.getValue()) + ", not a string");
            }
            metadata.put(kv.getKey(), kv.getValue().textValue());
        }
    }

    private static Entry readEntry(Path file, String name, JsonNode node) {
        String what = "tensor " + quote(name);
        if (!node.isObject()) {
            throw new BadInputException(file, what + " is " + describe(node)
                    + ", not an object with dtype, shape and data_offsets");
        }
        for (Map.Entry<String, JsonNode> kv : node.properties()) {
            if (!ENTRY_KEYS.contains(kv.getKey())) {
                throw new BadInputException(file, what + " has unexpected key " + quote(kv.getKey())
                        + " (allowed: dtype, shape, data_offsets)");
            }
        }
        for (String key : List.of("dtype", "shape", "data_offsets")) {
            if (!node.has(key)) {
                throw new BadInputException(file, what + " lacks " + key);
            }
        }

        JsonNode dtypeNode = node.get("dtype");
        if (!dtypeNode.isTextual()) {
            throw new BadInputException(file, what + " dtype is " + describe(dtypeNode) + ", not a string");
        }
        Dtype dtype = Dtype.named(dtypeNode.textValue());
        if (dtype == null) {
            throw new BadInputException(file, what + " has unknown dtype " + quote(dtypeNode.textValue()));
        }

        JsonNode shapeNode = node.get("shape");
        if (!shapeNode.isArray()) {
            throw new BadInputException(file, what + " shape is " + describe(shapeNode)
                    + ", not an array of integers");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegative(file, what + " shape dimension " + i, shapeNode.get(i));
        }
        long elements = 1;
        long bytes;
        try {
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
        } catch (ArithmeticException e) {
            throw new BadInputException(file, what + " shape " + Arrays.toString(shape)
                    + " overflows: its element count does not fit in 64 bits");
        }
        try {
            bytes = Math.multiplyExact(elements, dtype.size);
        } catch (ArithmeticException e) {
            throw new BadInputException(file, what + " shape " + Arrays.toString(shape) + " of " + dtype
                    + " overflows: its byte length does not fit in 64 bits");
        }

        JsonNode offsets = node.get("data_offsets");
        if (!offsets.isArray() || offsets.size() != 2) {
            throw new BadInputException(file, what + " data_offsets is "
                    + (offsets.isArray() ? "an array of " + offsets.size() + " values" : describe(offsets))
                    + ", not an array of two integers [begin, end]");
        }
        long begin = nonNegative(file, what + " data_offsets begin", offsets.get(0));
        long end = nonNegative(file, what + " data_offsets end", offsets.get(1));
        if (end < begin) {
            throw new BadInputException(file, what + " data_offsets [" + begin + ", " + end
                    + "] end before they begin");
        }
        if (end - begin != bytes) {
            throw new BadInputException(file, what + " data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin) + " bytes, but shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + bytes);
        }
        return new Entry(name, dtype, shape, elements, begin, end);
    }

    /** A JSON integer in [0, 2^63); the format's values are unsigned and a file that big cannot exist. */
    private static long nonNegative(Path file, String what, JsonNode n) {
        if (!n.isIntegralNumber()) {
            throw new BadInputException(file, what + " is " + describe(n) + " " + oneLine(n.toString())
                    + ", not a non-negative integer");
        }
        if (n.bigIntegerValue().signum() < 0) {
            throw new BadInputException(file, what + " is " + n.bigIntegerValue() + ", negative");
        }
        if (!n.canConvertToLong()) {
            throw new BadInputException(file, what + " is " + n.bigIntegerValue() + ", too large");
        }
        return n.longValue();
    }

    /** Sorted by offset, the tensors must cover [0, bufferLength) exactly once. */
    private static void checkLayout(Path file, List<Entry> sorted, long bufferLength) {
        long at = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin() != at) {
                if (previous == null) {
                    throw new BadInputException(file, "first tensor " + quote(e.name()) + " begins at byte "
                            + e.begin() + " of the data, not 0");
                }
                if (e.begin() < at) {
                    throw new BadInputException(file, "tensor " + quote(e.name()) + " " + span(e)
                            + " overlaps tensor " + quote(previous.name()) + " " + span(previous));
                }
                throw new BadInputException(file, "gap of " + bytes(e.begin() - at) + " between tensor "
                        + quote(previous.name()) + " " + span(previous) + " and tensor " + quote(e.name()) + " "
                        + span(e));
            }
            at = e.end();
            previous = e;
        }
        if (at < bufferLength) {
            throw new BadInputException(file, bytes(bufferLength - at) + " trailing after the last tensor: the header"
                    + " describes " + at + " bytes of data, the file holds " + bufferLength);
        }
        if (at > bufferLength) {
            throw new BadInputException(file, "data is " + bytes(at - bufferLength) + " short: the header describes "
                    + at + " bytes of data, the file holds " + bufferLength);
        }
    }

    private static String bytes(long n) {
        return n == 1 ? "1 byte" : n + " bytes";
    }

    private static String span(Entry e) {
        return "[" + e.begin() + ", " + e.end() + ")";
    }

    private static String describe(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> "a " + n.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }

    private static String location(StreamReadException e) {
        var loc = e.getLocation();
        return loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }

    /**
     * A name from the file in single quotes, with control and line-break characters escaped so that
     * a hostile name cannot split the one-line message or hide its end; long names are cut short.
     */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 200) + 2).append('\'');
        for (int i = 0; i < s.length(); i++) {
            if (b.length() > 200) {
                b.append("…");
                break;
            }
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || c == '\'' || c == '\\') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('\'').toString();
    }

    private static String oneLine(String s) {
        String line = s.replaceAll("\\s+", " ").strip();
        return line.length() > 200 ? line.substring(0, 200) + "…" : line;
    }
}
