package dev.denoise.bench;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Backends;
import dev.denoise.backend.BackendUnavailableException;

/** Opens the benchmark's backend by name ("cpu" or "cuda"); a missing GPU skips with its reason. */
final class BackendParam {
    private BackendParam() {}

    static Backend open(String name) {
        try {
            return Backends.open(name);
        } catch (BackendUnavailableException e) {
            throw new IllegalStateException("skipping backend " + name + ": " + e.getMessage(), e);
        }
    }
}
