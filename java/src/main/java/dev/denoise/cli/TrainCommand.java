package dev.denoise.cli;

import dev.denoise.backend.Backend;
import dev.denoise.data.Dataset;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelFiles;
import dev.denoise.model.ModelKind;
import dev.denoise.train.EpochRecord;
import dev.denoise.train.TrainConfig;
import dev.denoise.train.Trainer;
import dev.denoise.train.TrainingSet;
import dev.denoise.train.Noise;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** denoise train: one model, checkpointed every epoch, resumable. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train one autoencoder on noisy/clean pairs; writes OUT/model.safetensors, OUT/history.json "
                + "and OUT/checkpoint.safetensors (every epoch; --resume continues from it).")
final class TrainCommand implements Runnable {
    /** Largest --latent and --vae-latent: far above useful sizes, low enough to bound the weights' memory. */
    static final int MAX_LATENT = 4096;

    @Option(names = "--model", required = true, paramLabel = "dense|vae|conv|skip", description = "Which autoencoder.")
    String model;

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--train-size", defaultValue = "0",
            description = "Training images (0 = all but the " + DatasetChoice.VALIDATION + " held out for validation).")
    int trainSize;

    @Option(names = "--latent", description = "Latent size (default: 64 dense, 16 vae; 2 gives the VAE's manifold picture).")
    Integer latent;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of everything random. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Option(names = "--resume", description = "Continue from OUT/checkpoint.safetensors.")
    boolean resume;

    @Mixin
    Options.Data data;

    @Mixin
    Options.Device device;

    @Mixin
    Options.Recipe recipe;

    @Mixin
    Options.Architecture arch;

    @Mixin
    Options.Patches pictures;

    @Override
    public void run() {
        // Everything that can be refused is refused here, before data is read or OUT is made.
        ModelKind kind = Ranges.parse("--model", () -> ModelKind.parse(model));
        Path folder = data.folder();
        TrainConfig cfg = recipe.config(kind, epochs, seed, folder == null ? data.validate() : data.noise());
        Ranges.check("--train-size", trainSize, 0, Ranges.NO_LIMIT);
        if (latent != null) Ranges.check("--latent", latent, 1, MAX_LATENT);
        arch.validate();
        pictures.validate(List.of(kind), arch.convDepth);
        if (folder == null) arch.config(kind, DatasetChoice.CHANNELS, DatasetChoice.SIDE, DatasetChoice.SIDE, latent);
        device.validate();
        OutputDir.check("--out", out);
        if (folder == null) data.requireFiles();
        // Sizes beyond what the files hold are only known once they are read; OUT is still untouched then.
        TrainingSet train;
        Dataset val;
        if (folder == null) {
            Dataset[] split = DatasetChoice.split(DatasetChoice.train(data.dataset), trainSize);
            train = TrainingSet.of(split[0]);
            val = split[1];
        } else {
            Options.Patches.Split split = pictures.load(folder, seed);
            train = split.train();
            val = split.validation();
        }
        ModelConfig mc = arch.config(kind, train.channels(), train.height(), train.width(), latent);
        try (Backend backend = device.open()) {
            OutputDir.prepare(out);
            System.out.println("denoise train " + kind.id() + " on " + backend.describe() + device.note());
            train(backend, mc, train, val, cfg, out, resume, Map.of("dataset", data.dataset));
        }
    }

    /** Trains and writes model.safetensors and history.json into out; shared with compare. */
    static Result train(Backend backend, ModelConfig mc, TrainingSet train, Dataset val, TrainConfig cfg,
                        Path out, boolean resume, Map<String, String> meta) {
        try (Autoencoder m = Autoencoder.create(backend, mc, cfg.batch())) {
            Trainer t = new Trainer(m, train, val, cfg, out.resolve("checkpoint.safetensors"),
                    new ConsoleProgress(mc.kind().id(), System.out));
            List<EpochRecord> history = t.run(resume);
            java.util.Map<String, String> extra = new java.util.LinkedHashMap<>(meta);
            extra.put("noise", cfg.noise().toString());
            extra.put("epochs", Integer.toString(cfg.epochs()));
            ModelFiles.save(out.resolve("model.safetensors"), m, extra);
            OutputDir.writeJson(out.resolve("history.json"), history);
            double seconds = history.stream().mapToDouble(EpochRecord::seconds).sum();
            double images = (double) train.count() * history.size();
            return new Result(history, seconds, images / seconds);
        }
    }

    record Result(List<EpochRecord> history, double seconds, double imagesPerSecond) {}
}
