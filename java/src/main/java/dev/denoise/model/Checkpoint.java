package dev.denoise.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.denoise.BadInputException;
import dev.denoise.io.Safetensors;
import dev.denoise.io.TensorData;
import dev.denoise.nn.Parameters;
import dev.denoise.train.EpochRecord;
import dev.denoise.train.TrainConfig;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training checkpoint: the model file's tensors plus Adam's moments ("adam.m", "adam.v", flat)
 * and, in the metadata, the step, epochs done, the VAE's sampling position, the history and the
 * settings that must match on resume. Written atomically (temp file, fsync, rename, directory
 * fsync) by {@link Safetensors#write}, so a crash mid-save leaves the previous checkpoint intact.
 */
public final class Checkpoint {
    /** The "format" metadata value of a checkpoint (a model file has {@link ModelFiles#FORMAT}). */
    public static final String FORMAT = "denoise-checkpoint";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoint() {}

    /**
     * Where a loaded checkpoint leaves a run.
     *
     * @param epochsDone epochs trained so far
     * @param history    one record per epoch done
     */
    public record State(int epochsDone, List<EpochRecord> history) {}

    /** Writes model's weights and Adam state with the run's settings, epochsDone and history, atomically. */
    public static void save(Path file, Autoencoder model, TrainConfig cfg, int epochsDone, List<EpochRecord> history) {
        Parameters p = model.parameters();
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("format", FORMAT);
        extra.put("epochs_done", Integer.toString(epochsDone));
        extra.put("adam_step", Integer.toString(p.step()));
        extra.put("seed", Long.toString(cfg.seed()));
        extra.put("batch", Integer.toString(cfg.batch()));
        extra.put("lr", Float.toString(cfg.lr()));
        extra.put("lr_decay", Float.toString(cfg.lrDecay()));
        extra.put("epochs", Integer.toString(cfg.epochs()));
        extra.put("noise", cfg.noise().toString());
        if (model instanceof VariationalAutoencoder v) {
            extra.put("vae_sampling_seed", Long.toString(v.samplingSeed()));
            extra.put("vae_sampling_draws", Long.toString(v.samplingDraws()));
        }
        try {
            extra.put("history", JSON.writeValueAsString(history));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        List<TensorData> tensors = new ArrayList<>(ModelFiles.tensors(model));
        int n = Math.toIntExact(p.values().numel());
        tensors.add(new TensorData("adam.m", new int[] {n}, p.adamM().toArray()));
        tensors.add(new TensorData("adam.v", new int[] {n}, p.adamV().toArray()));
        ModelFiles.write(file, ModelFiles.metadata(model.config(), extra), tensors);
    }

    /** Restores model weights, Adam state and sampling position; checks the settings match. */
    public static State load(Path file, Autoencoder model, TrainConfig cfg) {
        Safetensors.Loaded f = Safetensors.read(file);
        Map<String, String> meta = f.metadata();
        if (!FORMAT.equals(meta.get("format"))) throw new BadInputException(file, "not a denoise checkpoint");
        ModelConfig c = ModelFiles.config(file, meta);
        if (!c.equals(model.config())) {
            throw new BadInputException(file, "checkpoint is for " + c + ", not " + model.config());
        }
        expect(file, meta, "seed", Long.toString(cfg.seed()), "--seed");
        expect(file, meta, "batch", Integer.toString(cfg.batch()), "--batch");
        expect(file, meta, "noise", cfg.noise().toString(), "--noise");
        expectSameSchedule(file, meta, cfg);
        ModelFiles.setWeights(file, model, f.tensors(), true);
        Parameters p = model.parameters();
        long n = p.values().numel();
        for (String name : new String[] {"adam.m", "adam.v"}) {
            TensorData t = f.tensors().get(name);
            if (t == null || t.data().length != n) throw new BadInputException(file, "tensor '" + name + "' missing or wrong size");
        }
        model.backend().write(p.adamM(), f.tensors().get("adam.m").data());
        model.backend().write(p.adamV(), f.tensors().get("adam.v").data());
        try {
            p.setStep(Integer.parseInt(meta.get("adam_step")));
            if (model instanceof VariationalAutoencoder v) {
                v.setSampling(Long.parseLong(meta.get("vae_sampling_seed")), Long.parseLong(meta.get("vae_sampling_draws")));
            }
            List<EpochRecord> history = JSON.readValue(meta.getOrDefault("history", "[]"), new TypeReference<>() {});
            return new State(Integer.parseInt(meta.get("epochs_done")), history);
        } catch (NumberFormatException | JsonProcessingException | NullPointerException e) {
            throw new BadInputException(file, "checkpoint metadata is damaged: " + e.getMessage());
        }
    }

    private static void expect(Path file, Map<String, String> meta, String key, String want, String option) {
        String got = meta.get(key);
        if (!want.equals(got)) {
            throw new BadInputException(file, "checkpoint was made with " + option + " " + got + ", not " + want
                    + "; resume with the same settings or start a new --out");
        }
    }

    /*
     * Under a decay the rate at every step depends on --epochs, so a resumed run with other epochs
     * or another decay would follow a schedule no uninterrupted run has (a finished run extended
     * this way jumps back up to a high rate). Resuming with --lr-decay 0 asks for a constant rate
     * and is allowed. Checkpoints from before "epochs" was recorded are not checked.
     */
    private static void expectSameSchedule(Path file, Map<String, String> meta, TrainConfig cfg) {
        if (cfg.lrDecay() == 0) return;
        String decay = meta.getOrDefault("lr_decay", "0.0"), epochs = meta.get("epochs");
        boolean sameDecay = decay.equals(Float.toString(cfg.lrDecay()));
        if (sameDecay && (epochs == null || epochs.equals(Integer.toString(cfg.epochs())))) return;
        throw new BadInputException(file, "checkpoint was made with --epochs " + (epochs == null ? "?" : epochs)
                + " --lr-decay " + decay + ", and the learning rate's schedule follows both; resume with the same"
                + " values, or with --lr-decay 0 to go on at a constant rate");
    }

    /** Deletes temp files a killed save left beside the checkpoint (".name*.tmp"). */
    public static void removeStaleTemps(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        String prefix = "." + file.getFileName();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, prefix + "*.tmp")) {
            for (Path p : ds) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: a stray temp file wastes space but harms nothing
        }
    }
}
