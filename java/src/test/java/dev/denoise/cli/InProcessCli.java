package dev.denoise.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the command line in this JVM with stdout and stderr captured, as a user would see them. */
public final class InProcessCli {
    public record Run(int code, String out, String err) {
        /** The error output, checked to be exactly one line and free of stack traces. */
        public String oneLineError() {
            String e = err.strip();
            assertFalse(e.isEmpty(), "an error message was expected; stdout: " + out);
            assertFalse(e.contains("\n"), "one line expected: " + e);
            assertFalse(e.contains("Exception") || e.contains("\tat "), "no stack trace expected: " + e);
            return e;
        }
    }

    private InProcessCli() {}

    public static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** A command line from strings and paths. */
    public static String[] args(Object... parts) {
        List<String> a = new ArrayList<>();
        for (Object p : parts) {
            if (p instanceof String[] many) a.addAll(List.of(many));
            else a.add(p.toString());
        }
        return a.toArray(String[]::new);
    }

    /** Asserts dir holds no hidden temp file ("." name ".tmp") left by an interrupted write. */
    public static void assertNoTempFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> temps = s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(".") && n.endsWith(".tmp")).toList();
            assertTrue(temps.isEmpty(), "temp files left in " + dir + ": " + temps);
        }
    }
}
