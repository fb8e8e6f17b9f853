package dev.denoise.cli;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Backends;
import dev.denoise.train.Noise;
import picocli.CommandLine.Option;

/** Options shared by several commands (picocli mixins). */
final class Options {
    private Options() {}

    static final class Device {
        @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda",
                description = "Where to run: auto (a GPU when usable, else the CPU), cpu or cuda. Default: ${DEFAULT-VALUE}.")
        String device;

        @Option(names = "--tf32", description = "Allow TF32 tensor-core math on the GPU (faster, ~1e-3 relative error).")
        boolean tf32;

        @Option(names = "--debug", description = "Print stack traces of errors.")
        boolean debug;

        /** Why "auto" did not use the GPU, when it did not (set by open). */
        String fallbackReason;

        Backend open() {
            Backends.Selection s = Backends.select(device, tf32);
            fallbackReason = s.fallbackReason();
            return s.backend();
        }

        /** " (GPU not used: reason)" after an auto fallback, else "". */
        String note() {
            return fallbackReason == null ? "" : " (GPU not used: " + fallbackReason + ")";
        }
    }

    static final class Data {
        @Option(names = "--dataset", defaultValue = "mnist", paramLabel = "mnist|fashion-mnist",
                description = "Image set. Default: ${DEFAULT-VALUE}.")
        String dataset;

        @Option(names = "--noise", defaultValue = "gaussian:0.5", paramLabel = "gaussian:SIGMA|salt-pepper:P",
                description = "Noise added to clean images. Default: ${DEFAULT-VALUE}.")
        String noise;

        Noise noise() {
            return Noise.parse(noise);
        }
    }
}
