package dev.denoise.cli;

import dev.denoise.BadInputException;
import dev.denoise.backend.Backend;
import dev.denoise.backend.BackendUnavailableException;
import dev.denoise.backend.Backends;
import dev.denoise.cuda.CudaBackend;
import dev.denoise.cuda.CudaProbe;
import dev.denoise.data.Dataset;
import dev.denoise.data.ImageFolder;
import dev.denoise.data.PatchSampler;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import dev.denoise.train.Noise;
import dev.denoise.train.TrainConfig;
import dev.denoise.train.TrainingSet;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    /**
     * Batch and learning rate (train, compare). Each left unset takes the value the model's kind is
     * tuned for ({@link TrainConfig#defaults(ModelKind, int)}), so one compare trains every model
     * with its own recipe.
     */
    static final class Recipe {
        static final int MAX_BATCH = 65_536;

        @Option(names = "--batch", paramLabel = "N", description = "Batch size. Default: 16 for skip, 128 for the others.")
        Integer batch;

        @Option(names = "--lr", paramLabel = "LR",
                description = "Adam learning rate. Default: 2e-3 for skip, 1e-3 for the others.")
        Float lr;

        @Option(names = "--lr-decay", paramLabel = "F",
                description = "Decay the learning rate linearly to 0 over the last fraction F of the epochs "
                        + "(0 = constant). Default: 0.4 for skip, 0 for the others.")
        Float lrDecay;

        void validate() {
            if (batch != null) Ranges.check("--batch", batch, 1, MAX_BATCH);
            if (lr != null) Ranges.positive("--lr", lr, 10f);
            if (lrDecay != null) Ranges.within("--lr-decay", lrDecay, 0f, 1f);
        }

        /** The recipe for kind: what was given, the kind's own for the rest. */
        TrainConfig config(ModelKind kind, int epochs, long seed, Noise noise) {
            Ranges.check("--epochs", epochs, 1, 100_000);
            validate();
            return new TrainConfig(epochs, batch != null ? batch : TrainConfig.defaultBatch(kind),
                    lr != null ? lr : TrainConfig.defaultLr(kind), noise, seed,
                    lrDecay != null ? lrDecay : TrainConfig.defaultLrDecay(kind));
        }
    }

    /** The conv and skip models' layer sizes (dense and vae ignore them). */
    static final class Architecture {
        /** Widest --conv-width: beyond it one 256×256 tile's activations pass a gigabyte per layer. */
        static final int MAX_WIDTH = 1024;

        @Option(names = "--conv-width", paramLabel = "F",
                description = "Channels of the conv model's layers, and of the skip model's full-resolution ones "
                        + "(doubling per level). Default: 32 for conv, 12 for skip.")
        Integer convWidth;

        @Option(names = "--conv-depth", defaultValue = "2", paramLabel = "D",
                description = "Pooling levels of the conv and skip models: images (and --patch) must divide "
                        + "by 2^D. Default: ${DEFAULT-VALUE}.")
        int convDepth;

        @Option(names = "--level-convs", paramLabel = "N",
                description = "3x3 convolutions per stage of the conv and skip models: each encoder level, the "
                        + "bottleneck and each decoder level (U-Net has 2). Default: 1 for conv, 2 for skip.")
        Integer levelConvs;

        void validate() {
            if (convWidth != null) Ranges.check("--conv-width", convWidth, 1, MAX_WIDTH);
            Ranges.check("--conv-depth", convDepth, 1, ModelConfig.MAX_DEPTH);
            if (levelConvs != null) Ranges.check("--level-convs", levelConvs, 1, ModelConfig.MAX_LEVEL_CONVS);
        }

        /**
         * The model of kind for images c×h×w with these sizes (and the VAE/dense latent when not
         * null); an image size the depth does not divide is refused naming the option.
         */
        ModelConfig config(ModelKind kind, int c, int h, int w, Integer latent) {
            ModelConfig m = ModelConfig.defaults(kind, c, h, w);
            if (latent != null) m = m.withLatent(latent);
            if (!kind.convolutional()) return m;
            int mult = ModelConfig.sizeMultiple(convDepth);
            if (h % mult != 0 || w % mult != 0) {
                throw new IllegalArgumentException("--conv-depth " + convDepth + ": the " + kind.id() + " model needs "
                        + "images whose sides divide by " + mult + ", these are " + h + "x" + w);
            }
            return new ModelConfig(kind, c, h, w, m.hidden(), m.latent(),
                    convWidth != null ? convWidth : ModelConfig.defaultWidth(kind), convDepth,
                    levelConvs != null ? levelConvs : ModelConfig.defaultLevelConvs(kind));
        }
    }

    /** How a folder of pictures is cut into training patches and held-out pictures (train, compare). */
    static final class Patches {
        /** Fixed patches of the held-out pictures scored after every epoch. */
        static final int VALIDATION_PATCHES = 256;

        @Option(names = "--patch", defaultValue = "64",
                description = "With --dataset DIR: side of the square training patches (conv, skip: a multiple of "
                        + "2^depth). Default: ${DEFAULT-VALUE}.")
        int patch;

        @Option(names = "--patches", defaultValue = "2048",
                description = "With --dataset DIR: patches cut afresh every epoch. Default: ${DEFAULT-VALUE}.")
        int patches;

        @Option(names = "--val-files", defaultValue = "1",
                description = "With --dataset DIR: pictures held out for validation (the last in name order). "
                        + "Default: ${DEFAULT-VALUE}.")
        int valFiles;

        @Option(names = "--grey",
                description = "With --dataset DIR: train on the pictures' luma, a grey model (which still denoises "
                        + "colour photos, see `denoise denoise`).")
        boolean grey;

        /** The ranges, and a patch side the kinds' pooling divides (depth levels for conv and skip). */
        void validate(List<ModelKind> kinds, int depth) {
            int mult = 1;
            String which = null;
            for (ModelKind k : kinds) {
                if (k.convolutional()) {
                    mult = ModelConfig.sizeMultiple(depth);
                    which = k.id();
                }
            }
            Ranges.check("--patch", patch, mult, 4096);
            if (patch % mult != 0) {
                throw new IllegalArgumentException("--patch must be a multiple of " + mult + " for the " + which
                        + " model of depth " + depth + ", got " + patch);
            }
            Ranges.check("--patches", patches, 1, 1_000_000);
            Ranges.check("--val-files", valFiles, 0, Ranges.NO_LIMIT);
        }

        /** Training patches and fixed validation patches (null without --val-files) of a folder. */
        record Split(TrainingSet train, Dataset validation) {}

        Split load(Path folder, long seed) {
            ImageFolder all = ImageFolder.load(folder);
            ImageFolder[] split = (grey ? all.grey() : all).split(valFiles);
            TrainingSet train = TrainingSet.patches(new PatchSampler(split[0].images(), patch, patches, true), seed);
            Dataset val = valFiles == 0 ? null : new PatchSampler(split[1].images(), patch, VALIDATION_PATCHES, false)
                    .epoch(seed, -1); // an epoch number training never uses
            return new Split(train, val);
        }
    }

    static final class Data {
        @Option(names = "--dataset", defaultValue = "mnist", paramLabel = "mnist|fashion-mnist|DIR",
                description = "Image set; train, evaluate and compare also take a folder of PNG/JPEG pictures. "
                        + "Default: ${DEFAULT-VALUE}.")
        String dataset;

        @Option(names = "--noise", defaultValue = "gaussian:0.5", paramLabel = "gaussian:SIGMA|gaussian:LOW..HIGH|salt-pepper:P",
                description = "Noise added to clean images (on the 0-1 range); gaussian:LOW..HIGH gives each image its own "
                        + "sigma in that range (blind denoising, e.g. gaussian:0..0.2157 for 0-55/255). Default: ${DEFAULT-VALUE}.")
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
