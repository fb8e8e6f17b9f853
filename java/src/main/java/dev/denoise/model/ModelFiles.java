package dev.denoise.model;

import dev.denoise.BadInputException;
import dev.denoise.backend.Backend;
import dev.denoise.io.Safetensors;
import dev.denoise.io.Sha256;
import dev.denoise.io.TensorData;
import dev.denoise.nn.Parameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model files: safetensors whose tensors are named and shaped as the state_dict of the same
 * architecture in PyTorch (bench/peers/torch_models.py loads them), with the architecture in
 * {@code __metadata__}. Written atomically; loading checks every name and shape against the model.
 */
public final class ModelFiles {
    /** The "format" metadata value of a model file. */
    public static final String FORMAT = "denoise-model";
    /** The "version" metadata value written into model files. */
    public static final String VERSION = "1";

    private ModelFiles() {}

    /** Metadata describing the architecture (plus any extra entries, e.g. the noise trained on). */
    public static Map<String, String> metadata(ModelConfig c, Map<String, String> extra) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("model", c.kind().id());
        m.put("channels", Integer.toString(c.channels()));
        m.put("height", Integer.toString(c.height()));
        m.put("width", Integer.toString(c.width()));
        m.put("hidden", Integer.toString(c.hidden()));
        m.put("latent", Integer.toString(c.latent()));
        m.put("conv_width", Integer.toString(c.convWidth()));
        m.put("conv_depth", Integer.toString(c.convDepth()));
        m.put("level_convs", Integer.toString(c.levelConvs()));
        if (extra != null) m.putAll(extra);
        return m;
    }

    /** The model's weights as named tensors (copied to the host). */
    public static List<TensorData> tensors(Autoencoder model) {
        Parameters p = model.parameters();
        float[] all = p.values().toArray();
        List<TensorData> out = new ArrayList<>();
        for (Parameters.Entry e : p.entries()) {
            out.add(new TensorData(e.name(), e.shape(),
                    Arrays.copyOfRange(all, (int) e.offset(), (int) (e.offset() + e.numel()))));
        }
        return out;
    }

    /** Writes the model atomically; NaN/Inf weights are refused, so they never replace a good file. */
    public static void save(Path file, Autoencoder model, Map<String, String> extra) {
        List<TensorData> tensors = tensors(model);
        Map<String, String> meta = metadata(model.config(), extra);
        meta.put(WEIGHTS_SHA256, weightsSha256(tensors));
        write(file, meta, tensors);
    }

    /**
     * Metadata entry holding {@link #weightsSha256} of the file's tensors: loading refuses a file
     * whose weights were altered or damaged after it was written (the format's own checks catch a
     * broken structure, not a changed value). Files without it (older ones) load unchecked.
     */
    public static final String WEIGHTS_SHA256 = "weights_sha256";

    /** SHA-256 of the tensors in order: each name, its shape and its float32 values, little-endian. */
    public static String weightsSha256(java.util.Collection<TensorData> tensors) {
        java.security.MessageDigest md = Sha256.digest();
        for (TensorData t : tensors) {
            md.update(t.name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + 4 * t.shape().length + 4 * t.data().length)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putInt(t.shape().length);
            for (int d : t.shape()) b.putInt(d);
            for (float v : t.data()) b.putFloat(v);
            md.update(b.array());
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    /** Refuses a file whose metadata names a weights checksum its tensors do not have. */
    static void checkWeights(Path file, Safetensors.Loaded f) {
        String want = f.metadata().get(WEIGHTS_SHA256);
        if (want != null && !want.equals(weightsSha256(f.tensors().values()))) {
            throw new BadInputException(file, "the weights do not match the checksum in the file's metadata "
                    + "(the file was altered or damaged after it was written)");
        }
    }

    static void write(Path file, Map<String, String> metadata, List<TensorData> tensors) {
        try {
            Safetensors.write(file, metadata, tensors);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The architecture recorded in a file's metadata. */
    public static ModelConfig config(Path file, Map<String, String> meta) {
        String fmt = meta.get("format");
        if (fmt == null || !(fmt.equals(FORMAT) || fmt.equals(Checkpoint.FORMAT))) {
            throw new BadInputException(file, "not a denoise model file (metadata format is " + fmt + ")");
        }
        try {
            return new ModelConfig(ModelKind.parse(need(file, meta, "model")), intOf(file, meta, "channels"),
                    intOf(file, meta, "height"), intOf(file, meta, "width"), intOf(file, meta, "hidden"),
                    intOf(file, meta, "latent"), intOf(file, meta, "conv_width"),
                    /* files written before the depth was configurable are all depth 2 */
                    meta.containsKey("conv_depth") ? intOf(file, meta, "conv_depth") : ModelConfig.DEFAULT_DEPTH,
                    /* … and have one convolution per stage */
                    meta.containsKey("level_convs") ? intOf(file, meta, "level_convs") : 1);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(file, "bad model metadata: " + e.getMessage());
        }
    }

    /** Loads a model file onto a backend, sized for maxBatch. */
    public static Autoencoder load(Path file, Backend backend, int maxBatch) {
        return load(file, Safetensors.read(file), backend, maxBatch);
    }

    /** Loads a model read from file (or named so, for one inside the jar) onto a backend, sized for maxBatch. */
    public static Autoencoder load(Path file, Safetensors.Loaded f, Backend backend, int maxBatch) {
        ModelConfig c = config(file, f.metadata());
        checkWeights(file, f);
        Autoencoder model = Autoencoder.create(backend, c, maxBatch);
        try {
            setWeights(file, model, f.tensors(), false);
            model.parameters().setStep(0);
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Writes named tensors into the model, refusing missing, extra or wrongly shaped ones. */
    static void setWeights(Path file, Autoencoder model, Map<String, TensorData> tensors, boolean allowExtra) {
        Parameters p = model.parameters();
        float[] all = new float[Math.toIntExact(p.values().numel())];
        for (Parameters.Entry e : p.entries()) {
            TensorData t = tensors.get(e.name());
            if (t == null) throw new BadInputException(file, "tensor '" + e.name() + "' is missing");
            if (!Arrays.equals(t.shape(), e.shape())) {
                throw new BadInputException(file, "tensor '" + e.name() + "' has shape " + Arrays.toString(t.shape())
                        + ", the " + model.config().kind().id() + " model needs " + Arrays.toString(e.shape()));
            }
            System.arraycopy(t.data(), 0, all, (int) e.offset(), t.data().length);
        }
        if (!allowExtra) {
            for (String name : tensors.keySet()) {
                try {
                    p.entry(name);
                } catch (IllegalArgumentException unknown) {
                    throw new BadInputException(file, "unexpected tensor '" + name + "' for a "
                            + model.config().kind().id() + " model");
                }
            }
        }
        model.backend().write(p.values(), all);
    }

    private static String need(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new BadInputException(file, "metadata lacks '" + key + "'");
        return v;
    }

    private static int intOf(Path file, Map<String, String> meta, String key) {
        String v = need(file, meta, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new BadInputException(file, "metadata '" + key + "' is not an integer: " + v);
        }
    }
}
