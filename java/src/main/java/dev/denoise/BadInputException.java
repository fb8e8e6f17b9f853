package dev.denoise;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A file or value given to denoise is unusable. The message is one line: "{@code file: problem}",
 * fit to print as it is; the CLI prints it and exits with status 2.
 */
public class BadInputException extends RuntimeException {
    private final transient Path file;

    /** Problem with file; the message is "{@code file: problem}". */
    public BadInputException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** Problem with file, found through cause (for example a failed read). */
    public BadInputException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** A problem not about a file (a bad value); the message is problem alone. */
    public BadInputException(String problem) {
        super(problem);
        this.file = null;
    }

    /**
     * The one line for a failure to read file: no such file, permission denied, a directory, or
     * the system's reason on one line.
     */
    public static BadInputException reading(Path file, IOException e) {
        String why;
        if (e instanceof NoSuchFileException || e instanceof FileNotFoundException) why = "no such file";
        else if (e instanceof AccessDeniedException) why = "permission denied";
        else if (Files.isDirectory(file)) why = "is a directory";
        else why = "cannot read: " + String.valueOf(e.getMessage()).replaceAll("\\s+", " ").strip();
        return new BadInputException(file, why, e);
    }

    /** The file the problem is in, or null when it is not about a file. */
    public Path file() {
        return file;
    }
}
