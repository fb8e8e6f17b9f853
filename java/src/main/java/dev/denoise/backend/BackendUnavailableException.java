package dev.denoise.backend;

/** A backend cannot start on this machine; the message is one line saying why and what was tried. */
public class BackendUnavailableException extends RuntimeException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
