package dev.denoise;

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

    /** The file the problem is in, or null when it is not about a file. */
    public Path file() {
        return file;
    }
}
