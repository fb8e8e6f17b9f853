package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.Tensor;
import dev.denoise.io.ImageRows;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.BundledModels;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelFiles;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Denoises single images with a trained model: float arrays (C·H·W, NCHW, [0,1]),
 * {@link Images.Image}s or {@link BufferedImage}s. Dense and VAE models take exactly their
 * training size; the conv model is fully convolutional, so any size goes: large images run in
 * overlapping tiles blended with linear ramps (no seams), small ones padded by edge replication.
 *
 * <p>Memory: an image goes through in rows of tiles (see {@link TileStream}), each row of the
 * result written as soon as it is done, so a call holds the input and output images and a working
 * set of one band of tile rows (a few planes × 448 rows × the width) and the model's activations
 * for a few tiles, never float copies of the whole picture. Calls on {@link BufferedImage}s read
 * and write 8-bit pixels directly: a 6000 × 4000 colour photo is 72 MB in and 96 MB out.
 *
 * <p>Thread safety: every method may be called from any number of threads at once, and each call
 * returns exactly the bits it would return alone. The Denoiser holds a copy of the weights (taken
 * when it is made) and runs each call on a model of its own borrowed from {@link InferenceContexts}:
 * on a CPU as many calls run at once as the backend has threads (a call spreads its tiles over
 * the threads when it has them to itself), on a GPU one; the others wait their turn. Idle models
 * stay for the next call of their shape, a few at most. {@link #close} waits for the calls in
 * flight; later calls throw IllegalStateException.
 */
public final class Denoiser implements AutoCloseable {
    /**
     * Tiles denoised together, at most: a CPU runs them on its threads at once (one image lane
     * each), a GPU as one batch. Each tile's result does not depend on how many go together.
     */
    static final int TILE_BATCH = 4;

    private final Autoencoder model;
    private final boolean owned;
    private final Backend ownedBackend;
    private final InferenceContexts contexts;
    private final int tileSide;

    /**
     * A Denoiser with model's weights as they are now (copied: training the model further does
     * not change this Denoiser). The model stays the caller's to close.
     */
    public Denoiser(Autoencoder model) {
        this(model, false, null, 0, 0);
    }

    /**
     * model's weights; owned: closed with the Denoiser, and ownedBackend too (or null); calls: how
     * many run at once (0: {@link #concurrentCalls}); tileSide: the preferred tile (0: 8 margins).
     */
    Denoiser(Autoencoder model, boolean owned, Backend ownedBackend, int calls, int tileSide) {
        this.model = model;
        this.owned = owned;
        this.ownedBackend = ownedBackend;
        this.tileSide = tileSide;
        int slots = calls > 0 ? calls : concurrentCalls(model.backend());
        this.contexts = new InferenceContexts(model.backend(), model.config(), model.parameters().values(), slots);
    }

    /** Options for a Denoiser: model (file, stream or bundled name), device, calls at once, tile size. */
    public static DenoiserBuilder builder() {
        return new DenoiserBuilder();
    }

    /**
     * Calls that run at once: on a CPU one per backend thread (a call spreads its tiles over the
     * threads when it has them to itself, and runs them on its own thread when others are busy,
     * so the cores fill either way); on a GPU one, since calls share its one stream.
     */
    private static int concurrentCalls(Backend b) {
        return b instanceof CpuBackend cpu ? cpu.threads() : 1;
    }

    /** Loads a model file on a backend; closing the Denoiser closes the model. */
    public static Denoiser load(Path modelFile, Backend backend) {
        return new Denoiser(ModelFiles.load(modelFile, backend, 1), true, null, 0, 0);
    }

    /**
     * Loads a model the jar carries ({@link BundledModels#NAMES}), checked against its committed
     * sha256; closing the Denoiser closes the model.
     */
    public static Denoiser load(String bundledName, Backend backend) {
        return new Denoiser(BundledModels.load(bundledName, backend, 1), true, null, 0, 0);
    }

    /**
     * The shipped photo denoiser ({@link BundledModels#PHOTO}): any photo, grey or colour, any
     * size, Gaussian-like noise up to σ 55/255 without being told the level.
     */
    public static Denoiser pretrained(Backend backend) {
        return load(BundledModels.PHOTO, backend);
    }

    /**
     * The model the weights came from (its config says what images it takes). Not used by the
     * Denoiser's calls, which run on copies; not to be run by the caller while a Denoiser it owns
     * (one from {@code load} or {@code pretrained}) is open.
     */
    public Autoencoder model() {
        return model;
    }

    /** One image of the model's own size. */
    public float[] denoise(float[] image) {
        ModelConfig c = model.config();
        if (image.length != c.imageSize()) {
            throw new IllegalArgumentException("image has " + image.length + " values, the model takes "
                    + c.channels() + "x" + c.height() + "x" + c.width() + " = " + c.imageSize());
        }
        return run(image, c.channels(), c.height(), c.width());
    }

    /**
     * A picture (any layout ImageIO decodes: grey of any depth, RGB, ARGB, palette; alpha is
     * dropped) as a new TYPE_BYTE_GRAY or TYPE_INT_RGB picture, grey or colour as it is: read and
     * written a row at a time, with no float copy of the whole picture (see
     * {@link #denoise(Images.Image)} for what goes through which model).
     */
    public BufferedImage denoise(BufferedImage image) {
        return denoise(image, 1f);
    }

    /** {@link #denoise(BufferedImage)} at a strength from 0 to 1, as {@link #denoise(Images.Image, float)}. */
    public BufferedImage denoise(BufferedImage image, float strength) {
        checkStrength(strength);
        ImageRows.Reader in = ImageRows.of(image);
        BufferedImage out = ImageRows.picture(in.channels(), in.height(), in.width());
        stream(in, ImageRows.into(out), strength);
        return out;
    }

    /** Largest picture {@link #denoise(Path, Path)} reads: 64 megapixels, checked from the header before decoding. */
    public static final int MAX_PIXELS = 64 << 20;

    /**
     * Denoises a PNG or JPEG file (a JPEG's EXIF orientation applied) into a PNG, or a JPEG of
     * quality 95 when output's name ends in .jpg or .jpeg. The picture is streamed as
     * {@link #denoise(BufferedImage)} does; the output is written beside and renamed into place,
     * so it is whole or absent, and an existing file is replaced only by a complete one.
     *
     * @throws BadInputException when input is missing, not a PNG or JPEG, damaged, or larger than
     *                           {@link #MAX_PIXELS}
     * @throws IOException       when output cannot be written
     */
    public void denoise(Path input, Path output) throws IOException {
        denoise(input, output, 1f);
    }

    /** {@link #denoise(Path, Path)} at a strength from 0 to 1, as {@link #denoise(Images.Image, float)}. */
    public void denoise(Path input, Path output, float strength) throws IOException {
        checkStrength(strength);
        BufferedImage clean = denoise(Images.readPicture(input, MAX_PIXELS), strength);
        String name = output.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".jpg") || name.endsWith(".jpeg")) Images.writeJpeg(output, clean, 95);
        else Images.writePng(output, clean);
    }

    /**
     * {@link #denoise(Images.Image)} at a strength from 0 (the image as it is) to 1 (the model's
     * result): the result moved that far from the input towards the model's, per value. Below 1 it
     * keeps some of the noise, and with it fine texture the model would smooth away (a photo
     * editor's "amount").
     */
    public Images.Image denoise(Images.Image img, float strength) {
        checkStrength(strength);
        Images.Image out = new Images.Image(img.channels(), img.height(), img.width(), new float[img.size()]);
        stream(ImageRows.of(img), ImageRows.into(out), strength);
        return out;
    }

    /**
     * Any size for the conv model; the model's size for dense and vae. The result has the image's
     * channels: a grey image through a colour model comes back grey (denoised as R = G = B, then
     * luma), a colour image through a grey model comes back in colour (each channel on its own, or,
     * for a residual model, in opponent channels: see {@link OpponentColour}).
     */
    public Images.Image denoise(Images.Image img) {
        return denoise(img, 1f);
    }

    private static void checkStrength(float strength) {
        if (!(strength >= 0 && strength <= 1)) throw new IllegalArgumentException("strength must be in [0, 1], got " + strength);
    }

    /** The image from in, denoised (and moved back towards in below strength 1), row by row into out. */
    private void stream(ImageRows.Reader in, ImageRows.Writer out, float strength) {
        ModelConfig c = model.config();
        int ic = in.channels(), h = in.height(), w = in.width();
        ImageRows.Writer result = strength == 1 ? out : towardsInput(in, out, strength);
        if (ic == c.channels()) {
            planes(1, ic, h, w, in::read, result::write);
        } else if (ic == 1 && c.channels() == 3) {
            // grey in, grey out: the colour model sees R = G = B and its result goes back to luma
            float[][] grey = new float[1][w], luma = new float[1][w];
            planes(1, 3, h, w, (y, x, n, dst) -> {
                in.read(y, x, n, grey);
                for (int ch = 0; ch < 3; ch++) System.arraycopy(grey[0], 0, dst[ch], 0, n);
            }, (y, rgb) -> {
                for (int i = 0; i < w; i++) luma[0][i] = (float) (0.299 * rgb[0][i] + 0.587 * rgb[1][i] + 0.114 * rgb[2][i]);
                result.write(y, luma);
            });
        } else if (ic == 3 && c.channels() == 1 && c.kind().residual()) {
            planes(OpponentColour.PLANES, 1, h, w, OpponentColour.planes(in), new OpponentColour.Rows(h, w, result));
        } else if (ic == 3 && c.channels() == 1) {
            planes(3, 1, h, w, in::read, result::write); // each channel on its own: the colour kept
        } else {
            throw new IllegalArgumentException("image has " + ic + " channels, the model takes " + c.channels());
        }
    }

    /** out's rows moved back towards in's: in + strength · (result − in), per value. */
    private static ImageRows.Writer towardsInput(ImageRows.Reader in, ImageRows.Writer out, float strength) {
        int w = in.width();
        float[][] was = new float[in.channels()][w];
        return (y, row) -> {
            in.read(y, 0, w, was);
            for (int c = 0; c < row.length; c++)
                for (int x = 0; x < w; x++) row[c][x] = was[c][x] + strength * (row[c][x] - was[c][x]);
            out.write(y, row);
        };
    }

    /**
     * jobs images of the model's channels, h × w, read from source and handed to sink: whole when
     * they are the model's size, else (conv models) in tiles.
     */
    private void planes(int jobs, int channels, int h, int w, TileStream.Source source, TileStream.Sink sink) {
        ModelConfig c = model.config();
        if (h == c.height() && w == c.width()) {
            whole(jobs, channels, h, w, source, sink);
            return;
        }
        if (!c.kind().convolutional()) {
            throw new IllegalArgumentException("a " + c.kind().id() + " model takes " + c.height() + "x" + c.width()
                    + " images only, this one is " + h + "x" + w + " (the conv and skip models take any size)");
        }
        TileStream.Tiling g = TileStream.Tiling.of(c, h, w, tileSide);
        TileStream stream = new TileStream(g, jobs, channels, h, w, source, sink);
        Backend b = model.backend();
        int batch = b instanceof CpuBackend cpu ? Math.min(TILE_BATCH, cpu.threads()) : TILE_BATCH;
        batch = Math.min(batch, stream.images()); // a model for more images than there are would hold memory for nothing
        Autoencoder tiler = contexts.borrow(g.height(), g.width(), batch);
        try {
            stream.run(tiler, batch);
        } finally {
            contexts.giveBack(tiler);
        }
    }

    /** Images of the model's own size: each job run whole, then handed on row by row. */
    private void whole(int jobs, int channels, int h, int w, TileStream.Source source, TileStream.Sink sink) {
        int planes = jobs * channels, plane = h * w;
        float[][] in = new float[planes][plane], row = new float[planes][w];
        for (int y = 0; y < h; y++) {
            source.read(y, 0, w, row);
            for (int p = 0; p < planes; p++) System.arraycopy(row[p], 0, in[p], y * w, w);
        }
        float[][] out = new float[planes][];
        for (int j = 0; j < jobs; j++) {
            float[] image = new float[channels * plane];
            for (int c = 0; c < channels; c++) System.arraycopy(in[j * channels + c], 0, image, c * plane, plane);
            float[] result = run(image, channels, h, w);
            for (int c = 0; c < channels; c++) out[j * channels + c] = Arrays.copyOfRange(result, c * plane, (c + 1) * plane);
        }
        for (int y = 0; y < h; y++) {
            for (int p = 0; p < planes; p++) System.arraycopy(out[p], y * w, row[p], 0, w);
            sink.row(y, row);
        }
    }

    /** One image of the model's own size, on a borrowed model. */
    private float[] run(float[] image, int c, int h, int w) {
        Autoencoder m = contexts.borrow(h, w, 1);
        try {
            Backend b = m.backend();
            try (Tensor in = b.allocate(1, c, h, w); Tensor out = b.allocate(1, c, h, w)) {
                b.write(in, image);
                m.reconstruct(in, out);
                return out.toArray();
            }
        } finally {
            contexts.giveBack(m);
        }
    }

    /** Waits for the calls in flight, then frees the Denoiser's models (and the loaded model, when it loaded it). */
    @Override
    public void close() {
        contexts.close();
        if (owned) model.close();
        if (ownedBackend != null) ownedBackend.close();
    }
}
