package dev.denoise.backend;

/** A backend cannot start on this machine; the message is one line saying why and what was tried. */
public class BackendUnavailableException extends RuntimeException {
    /** An exception with this one-line message. */
    public BackendUnavailableException(String message) {
        super(message);
    }

    /** An exception with this one-line message, caused by cause (a failed load or call). */
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
