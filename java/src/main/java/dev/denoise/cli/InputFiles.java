package dev.denoise.cli;

import dev.denoise.BadInputException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Input files checked before any work: a missing model file or image should fail at once, not
 * after the data set is loaded or the output directory made.
 */
final class InputFiles {
    private InputFiles() {}

    /** file when it is an existing, readable regular file; else one line naming it and the option. */
    static Path require(String option, Path file) {
        if (!Files.exists(file)) throw new BadInputException(file, "no such file (" + option + ")");
        if (Files.isDirectory(file)) throw new BadInputException(file, "is a directory, not a file (" + option + ")");
        if (!Files.isRegularFile(file)) throw new BadInputException(file, "not a regular file (" + option + ")");
        if (!Files.isReadable(file)) throw new BadInputException(file, "permission denied (" + option + ")");
        return file;
    }
}
