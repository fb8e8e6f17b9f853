package dev.denoise.fuzz;

import dev.denoise.BadInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The contract every file loader keeps for input from users, checked on one call: it returns a
 * result, or it throws {@link BadInputException} whose message is one line that starts with the
 * file's path. Anything else it throws (NullPointerException, ArrayIndexOutOfBoundsException,
 * OutOfMemoryError, IllegalArgumentException, ...) escapes from {@link #call} and fails the fuzz
 * test, and so does allocating more than a budget on the calling thread, which is how a loader that
 * trusts a size field shows itself even when the machine has memory enough to survive it.
 */
final class LoaderContract {
    /** How long `make fuzz` (JAZZER_FUZZ=1) fuzzes each target; regression runs ignore it. */
    static final String FUZZ_TIME = "3m";

    private static final com.sun.management.ThreadMXBean THREADS = threads();

    private LoaderContract() {
    }

    /**
     * Runs {@code load} on {@code file}; returns its result, or null when it refused the file with a
     * well-formed {@link BadInputException}.
     *
     * <p>The first call that meets a new code path loads and initialises classes (and, under the
     * fuzzer, instruments them), which allocates far more than the call itself. So a call over the
     * budget is repeated once, and only a repeat over it too counts: a loader that allocates by a
     * size field in the file does so every time.
     *
     * @param maxAllocatedBytes the most bytes the call may allocate on this thread
     * @throws AssertionError when the refusal's message breaks the contract or the call allocated
     *                        more than allowed
     */
    static <T> T call(Path file, long maxAllocatedBytes, Supplier<T> load) {
        Measured<T> m = measure(file, load);
        if (m.allocated() > maxAllocatedBytes) {
            m = measure(file, load);
            if (m.allocated() > maxAllocatedBytes) {
                throw new AssertionError("loading a file of " + size(file) + " bytes allocated " + m.allocated()
                        + " bytes, more than the budget of " + maxAllocatedBytes);
            }
        }
        return m.result();
    }

    /** The result of one call (null for a refusal) and the bytes it allocated on this thread (-1: unknown). */
    private record Measured<T>(T result, long allocated) {
    }

    private static <T> Measured<T> measure(Path file, Supplier<T> load) {
        long before = allocatedBytes();
        T result;
        try {
            result = load.get();
        } catch (BadInputException e) {
            checkMessage(file, e);
            result = null;
        }
        long after = allocatedBytes();
        return new Measured<>(result, before < 0 || after < 0 ? -1 : after - before);
    }

    /** A refusal names the file first and fits on one line, so the CLI can print it as it is. */
    static void checkMessage(Path file, BadInputException e) {
        String m = e.getMessage();
        if (m == null || !m.startsWith(file + ": ")) {
            throw new AssertionError("message does not start with the path " + file + ": " + m, e);
        }
        if (m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
            throw new AssertionError("message spans more than one line: " + m, e);
        }
        if (m.length() == (file + ": ").length()) {
            throw new AssertionError("message names no problem: " + m, e);
        }
    }

    /** A fact about a loaded result that must hold; fails the fuzz test when it does not. */
    static void require(boolean fact, Supplier<String> what) {
        if (!fact) {
            throw new AssertionError(what.get());
        }
    }

    /** Replaces {@code file}'s content with {@code bytes}. */
    static void write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh directory for one fuzz test class's input files. */
    static Path createDirectory(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes {@code dir} and what is in it; null is ignored. */
    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }

    private static long allocatedBytes() {
        return THREADS == null ? -1 : THREADS.getCurrentThreadAllocatedBytes();
    }

    private static com.sun.management.ThreadMXBean threads() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                && t.isThreadAllocatedMemorySupported()) {
            t.setThreadAllocatedMemoryEnabled(true);
            return t;
        }
        return null;
    }
}
