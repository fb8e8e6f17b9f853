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
