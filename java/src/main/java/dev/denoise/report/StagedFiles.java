package dev.denoise.report;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The files of one report, first written under hidden temporary names in the report's folder and
 * only renamed to their real names once all of them are on disk.
 *
 * <p>Writing everything before renaming anything means a failure while encoding a chart or a full
 * disk leaves the previous report untouched instead of a mix of old and new files. The temporary
 * files live in the target folder, not in java.io.tmpdir, because an atomic rename only works
 * within one file system. Files are renamed in the order they were staged, so staging the HTML
 * page last means a page never appears before the pictures it shows. {@link #close()} removes
 * whatever was not committed, so callers use try-with-resources and cannot leak temporary files.
 */
final class StagedFiles implements AutoCloseable {
    private final Path dir;
    /** Final name → temporary file, in staging order. */
    private final Map<String, Path> staged = new LinkedHashMap<>();

    StagedFiles(Path dir) {
        this.dir = dir;
    }

    /** Writes {@code bytes} to a temporary file that {@link #commit()} will rename to {@code name}. */
    void stage(String name, byte[] bytes) throws IOException {
        if (name.contains("/") || name.contains("\\") || name.startsWith(".") || name.isEmpty()) {
            throw new IllegalArgumentException("not a plain file name: " + name);
        }
        if (staged.containsKey(name)) {
            throw new IllegalArgumentException("staged twice: " + name);
        }
        Path tmp = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        // Recorded before writing so that close() also removes a half-written file.
        staged.put(name, tmp);
        // CREATE_NEW, not createTempFile: the result keeps the usual umask permissions.
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            // On disk before the rename, or a crash could leave an empty file under the real name.
            ch.force(true);
        }
    }

    /** True when a file of that name is staged, so the page only links what will exist. */
    boolean has(String name) {
        return staged.containsKey(name);
    }

    /** Renames every staged file to its real name, replacing older ones, in staging order. */
    void commit() throws IOException {
        List<String> done = new ArrayList<>();
        for (Map.Entry<String, Path> e : staged.entrySet()) {
            Files.move(e.getValue(), dir.resolve(e.getKey()),
                    StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done.add(e.getKey());
        }
        done.forEach(staged::remove);
    }

    /** Deletes the temporary files of anything not committed; the first failure is rethrown. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Path tmp : staged.values()) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        staged.clear();
        if (first != null) {
            throw first;
        }
    }
}
