package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Backends;
import dev.denoise.io.Safetensors;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.BundledModels;
import dev.denoise.model.ModelFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The options of a {@link Denoiser} that matter, from {@link Denoiser#builder()}:
 * <pre>{@code
 * try (Denoiser d = Denoiser.builder().bundled("photo").device("cpu").threads(8).concurrentCalls(4).build()) { … }
 * }</pre>
 * The model comes from one of {@link #modelFile}, {@link #model(InputStream)} or
 * {@link #bundled} (default: the shipped photo model). The backend is either given
 * ({@link #backend}, the caller's to close) or opened from {@link #device} and {@link #tf32}
 * (closed with the Denoiser).
 */
public final class DenoiserBuilder {
    private Path file;
    private byte[] bytes;
    private String bytesName;
    private String bundled;
    private Backend backend;
    private String device = "auto";
    private boolean tf32;
    private int calls, tile, threads;

    DenoiserBuilder() {}

    /** A .safetensors model file. */
    public DenoiserBuilder modelFile(Path modelFile) {
        clearModel();
        this.file = modelFile;
        return this;
    }

    /** A model read from a stream now (read whole, not closed here); name is what errors call it. */
    public DenoiserBuilder model(InputStream in, String name) {
        clearModel();
        try {
            this.bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the model " + name + ": " + e.getMessage(), e);
        }
        this.bytesName = name;
        return this;
    }

    /** A model read from a stream now (see {@link #model(InputStream, String)}). */
    public DenoiserBuilder model(InputStream in) {
        return model(in, "stream");
    }

    /** A model the jar carries ({@link BundledModels#NAMES}), checked against its sha256. */
    public DenoiserBuilder bundled(String name) {
        clearModel();
        this.bundled = name;
        return this;
    }

    /** Runs on this backend, which stays the caller's to close (after the Denoiser). */
    public DenoiserBuilder backend(Backend b) {
        this.backend = b;
        return this;
    }

    /** Opens this device when no backend is given: auto, cpu or cuda[:N] (see {@link Backends#open}). */
    public DenoiserBuilder device(String d) {
        this.device = d;
        return this;
    }

    /** TF32 tensor cores for the GPU's convolutions and GEMMs (default off: fp32; no effect on a CPU). */
    public DenoiserBuilder tf32(boolean on) {
        this.tf32 = on;
        return this;
    }

    /**
     * Threads of the CPU backend the builder opens (default: {@code DENOISE_THREADS}, else every
     * core); no effect on a given backend or a GPU.
     */
    public DenoiserBuilder threads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        this.threads = n;
        return this;
    }

    /** Calls that run at once, the others waiting (default: the CPU backend's threads, 1 on a GPU). */
    public DenoiserBuilder concurrentCalls(int n) {
        if (n < 1) throw new IllegalArgumentException("concurrent calls must be >= 1, got " + n);
        this.calls = n;
        return this;
    }

    /**
     * Preferred side of the tiles large images are cut into, in pixels (default: 8 receptive
     * margins, 448 for the photo model). Larger tiles waste less work on overlaps and take more
     * memory per call; the model's margins set a floor.
     */
    public DenoiserBuilder tileSize(int pixels) {
        if (pixels < 1) throw new IllegalArgumentException("tile size must be >= 1, got " + pixels);
        this.tile = pixels;
        return this;
    }

    /** The Denoiser; a backend it opened and the model it loaded are closed with it. */
    public Denoiser build() {
        Backend b = backend != null ? backend : Backends.open(device, tf32, threads);
        try {
            Autoencoder m;
            if (file != null) m = ModelFiles.load(file, b, 1);
            else if (bytes != null) {
                Path label = Path.of(bytesName);
                m = ModelFiles.load(label, Safetensors.read(label, bytes), b, 1);
            } else m = BundledModels.load(bundled != null ? bundled : BundledModels.PHOTO, b, 1);
            return new Denoiser(m, true, backend != null ? null : b, calls, tile);
        } catch (RuntimeException | Error e) {
            if (backend == null) b.close();
            throw e;
        }
    }

    private void clearModel() {
        file = null;
        bytes = null;
        bundled = null;
    }
}
