package dev.denoise.ffm;

import dev.denoise.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JVMs started at the same moment on a machine where the library was never extracted: each
 * extracts it (written beside and renamed into place, so none loads a half-written file) and
 * loads it; the cache ends with the one library and no temporary files.
 */
class ConcurrentExtractionTest {
    static final int JVMS = 4;

    @TempDir
    Path cache;

    @Test
    void jvms_started_together_all_load_the_library() throws Exception {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<Process> started = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int i = 0; i < JVMS; i++) {
            Path log = cache.resolveSibling(cache.getFileName() + "-jvm" + i + ".log");
            ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), Main.class.getName(), "info")
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("XDG_CACHE_HOME", cache.toString());   // a cache no JVM has filled
            pb.environment().remove("DENOISE_NATIVE_LIB");              // the jar's copy, extracted
            logs.add(log);
            started.add(pb.start());
        }
        for (int i = 0; i < JVMS; i++) {
            assertTrue(started.get(i).waitFor(120, TimeUnit.SECONDS), "JVM " + i + " did not end");
            String out = Files.readString(logs.get(i));
            assertEquals(0, started.get(i).exitValue(), "JVM " + i + ": " + out);
            assertTrue(out.matches("(?s).*cpu\\s+available.*"), "the CPU library loaded: " + out);
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(cache.resolve("denoise"))) {
            files = s.filter(Files::isRegularFile).toList();
        }
        assertEquals(1, files.size(), "one library and no temporary files: " + files);
        assertEquals("libdenoise.so", files.getFirst().getFileName().toString());
    }
}
