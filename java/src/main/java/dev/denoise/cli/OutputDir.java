package dev.denoise.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.denoise.BadInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Output directories checked before any work, and JSON files written atomically into them. */
final class OutputDir {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private OutputDir() {}

    /**
     * Refuses an output directory that could not be made or written, without creating anything:
     * commands call this before loading data or models, and {@link #prepare} only once all other
     * checks have passed, so a refused command line leaves no empty directory behind. The option
     * names the flag in the message.
     */
    static void check(String option, Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs)) {
            if (!Files.isDirectory(abs)) throw new BadInputException(dir, "exists and is not a directory (" + option + ")");
            if (!Files.isWritable(abs)) throw new BadInputException(dir, "output directory is not writable (" + option + ")");
            return;
        }
        // The nearest existing ancestor decides: createDirectories fails under a regular file or a
        // directory it cannot write into (isWritable also sees a read-only file system, even as root).
        Path parent = abs.getParent();
        while (parent != null && !Files.exists(parent)) parent = parent.getParent();
        if (parent == null) throw new BadInputException(dir, "cannot create the output directory (" + option + ")");
        if (!Files.isDirectory(parent)) {
            throw new BadInputException(dir, "cannot create the output directory: " + parent + " is not a directory ("
                    + option + ")");
        }
        if (!Files.isWritable(parent)) {
            throw new BadInputException(dir, "cannot create the output directory: " + parent + " is not writable ("
                    + option + ")");
        }
    }

    /**
     * Refuses an output file (a PNG) that could not be written: an existing directory, or a parent
     * directory that could not be made or written. Creates nothing.
     */
    static void checkFile(String option, Path file) {
        if (Files.isDirectory(file)) throw new BadInputException(file, "is a directory; " + option + " takes a file name");
        if (Files.exists(file) && !Files.isWritable(file)) {
            throw new BadInputException(file, "exists and is not writable (" + option + ")");
        }
        check(option, file.toAbsolutePath().getParent());
    }

    /** Creates dir if needed; refuses a file or an unwritable directory before training starts. */
    static void prepare(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new BadInputException(dir, "exists and is not a directory");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new BadInputException(dir, "cannot create the output directory (" + e.getMessage() + ")");
        }
        if (!Files.isWritable(dir)) throw new BadInputException(dir, "output directory is not writable");
        try {
            Path probe = Files.createTempFile(dir, ".denoise-probe", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new BadInputException(dir, "output directory is not writable (" + e.getMessage() + ")");
        }
    }

    static void writeJson(Path file, Object value) {
        try {
            Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
            try {
                JSON.writeValue(tmp.toFile(), value);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
