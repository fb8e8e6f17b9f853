package dev.denoise.cli;

import dev.denoise.BadInputException;
import dev.denoise.backend.Backend;
import dev.denoise.backend.BackendUnavailableException;
import dev.denoise.backend.Backends;
import dev.denoise.cuda.CudaBackend;
import dev.denoise.cuda.CudaProbe;
import dev.denoise.train.Noise;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

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

        /**
         * Refuses an unknown device, and "cuda" where CUDA cannot run, before any work. The probe
         * is cached, so open() does not pay for it twice.
         */
        void validate() {
            String d = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
            switch (d) {
                case "auto", "cpu" -> { }
                case "cuda" -> {
                    CudaProbe probe = CudaBackend.probe();
                    if (!probe.available()) {
                        throw new BackendUnavailableException("--device cuda: CUDA not available: " + probe.reason());
                    }
                }
                default -> throw new IllegalArgumentException("--device: unknown device '" + device
                        + "' (expected auto, cpu or cuda)");
            }
        }

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
        @Option(names = "--dataset", defaultValue = "mnist", paramLabel = "mnist|fashion-mnist|DIR",
                description = "Image set; train and evaluate also take a folder of PNG/JPEG pictures. Default: ${DEFAULT-VALUE}.")
        String dataset;

        @Option(names = "--noise", defaultValue = "gaussian:0.5", paramLabel = "gaussian:SIGMA|salt-pepper:P",
                description = "Noise added to clean images. Default: ${DEFAULT-VALUE}.")
        String noise;

        Noise noise() {
            return Ranges.parse("--noise", () -> Noise.parse(noise));
        }

        /** The noise, with the data set's name checked too; neither looks at the disk. */
        Noise validate() {
            Ranges.parse("--dataset", () -> DatasetChoice.known(dataset));
            return noise();
        }

        /** The folder of pictures --dataset names, or null for a named set; a name that is neither fails. */
        Path folder() {
            if (DatasetChoice.isName(dataset)) return null;
            Path dir = Path.of(dataset);
            if (!Files.isDirectory(dir)) Ranges.parse("--dataset", () -> DatasetChoice.known(dataset));
            return dir;
        }

        /**
         * Refuses a data set that is not installed, before the output directory is made; the files
         * themselves are read (and checked) later.
         */
        void requireFiles() {
            Path dir = DatasetChoice.dir(dataset);
            if (!Files.isDirectory(dir)) {
                throw new BadInputException(dir, "--dataset " + dataset + " not found; run `make data`");
            }
        }
    }
}
