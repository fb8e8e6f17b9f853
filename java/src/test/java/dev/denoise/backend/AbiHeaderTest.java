package dev.denoise.backend;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * native/denoise_abi.h is the one copy of the constants C, CUDA and Java share: Java's copies in
 * {@link Abi} (and the codes of {@link Activation}) must equal it name for name, cuda/ must take them
 * from it rather than restate them, and no C or CUDA source may end the host process.
 */
class AbiHeaderTest {
    private static final Pattern DEFINE = Pattern.compile("(?m)^#define\\s+((?:DN|DENOISE)_\\w+)\\s+(\\S+)");

    private static Path source(String dir) {
        Path p = Path.of(System.getProperty("user.dir")).resolve("..").resolve(dir).normalize();
        assumeTrue(Files.isDirectory(p), "not run from the source tree: no " + p);
        return p;
    }

    static Map<String, Long> header() throws IOException {
        String text = Files.readString(source("native").resolve("denoise_abi.h"));
        Map<String, Long> out = new TreeMap<>();
        Matcher m = DEFINE.matcher(text);
        while (m.find()) {
            if (m.group(1).equals("DENOISE_ABI_H")) continue; // the include guard
            try {
                out.put(m.group(1), Long.parseLong(m.group(2)));
            } catch (NumberFormatException e) {
                throw new AssertionError("denoise_abi.h: " + m.group(1) + " is '" + m.group(2)
                        + "'; every shared constant must be a plain decimal integer", e);
            }
        }
        return out;
    }

    static Map<String, Long> java() throws IllegalAccessException {
        Map<String, Long> out = new TreeMap<>();
        for (Field f : Abi.class.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (Modifier.isStatic(mod) && Modifier.isPublic(mod) && f.getType() == int.class) {
                out.put(f.getName(), (long) f.getInt(null));
            }
        }
        return out;
    }

    @Test
    void java_copies_equal_the_header_name_for_name() throws Exception {
        Map<String, Long> header = header();
        assertTrue(header.size() >= 10, "parsed only " + header);
        assertEquals(header, java(), "dev.denoise.backend.Abi against native/denoise_abi.h");
    }

    @Test
    void activation_codes_are_the_headers() throws Exception {
        Map<String, Long> header = header();
        for (Activation a : Activation.values()) {
            assertEquals(header.get("DN_ACT_" + a.name()), (long) a.code, "Activation." + a);
        }
    }

    /** Restating a shared constant in cuda/ is how copies drift: it must come from the header. */
    @Test
    void cuda_takes_the_shared_constants_from_the_header() throws Exception {
        Map<String, Long> header = header();
        String common = Files.readString(source("cuda").resolve("common.cuh"));
        assertTrue(common.contains("#include \"denoise_abi.h\""), "cuda/common.cuh must include denoise_abi.h");
        List<String> restated = new ArrayList<>();
        for (Path f : files("cuda", "native")) {
            if (f.getFileName().toString().equals("denoise_abi.h")) continue;
            Matcher m = DEFINE.matcher(Files.readString(f));
            while (m.find()) if (header.containsKey(m.group(1))) restated.add(f.getFileName() + ": " + m.group(1));
        }
        assertEquals(List.of(), restated, "shared constants defined outside native/denoise_abi.h");
    }

    /** A library must not end its host JVM: errors are returned as status codes (DN_ERR_*). */
    @Test
    void native_code_never_aborts_or_exits() throws Exception {
        Pattern end = Pattern.compile("\\b(abort|exit|_exit|_Exit|quick_exit)\\s*\\(");
        List<String> found = new ArrayList<>();
        for (Path f : files("native", "cuda")) {
            String code = stripComments(Files.readString(f));
            Matcher m = end.matcher(code);
            while (m.find()) found.add(f.getFileName() + ": " + m.group(1) + "()");
        }
        assertEquals(List.of(), found, "calls that would end the host process");
    }

    private static List<Path> files(String... dirs) throws IOException {
        List<Path> out = new ArrayList<>();
        for (String d : dirs) {
            try (Stream<Path> s = Files.list(source(d))) {
                s.filter(p -> p.toString().matches(".*\\.(c|h|cu|cuh)$")).sorted().forEach(out::add);
            }
        }
        return out;
    }

    private static String stripComments(String c) {
        return c.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
    }
}
