package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.Tensor;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.BundledModels;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelFiles;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Denoises single images with a trained model: float arrays (C·H·W, NCHW, [0,1]),
 * {@link Images.Image}s or {@link BufferedImage}s. Dense and VAE models take exactly their
 * training size; the conv model is fully convolutional, so any size goes: large images run in
 * overlapping tiles blended with linear ramps (no seams), small ones padded by edge replication.
 *
 * <p>Why the tiles give the whole-image answer: a tile's output is wrong only within the model's
 * receptive radius of a cut edge (there it sees zero padding instead of the neighbouring pixels),
 * so that margin gets weight 0 and the ramp between two tiles lies past it; tiles start at
 * multiples of 2^depth, so their pooling grid is the whole image's. For H and W divisible by
 * 2^depth the tiled result is the whole-image result up to rounding.
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
    /** Width of the linear ramp between tiles. */
    static final int BLEND = 8;
    /** Smallest tile side: large enough that the margins waste little of each tile. */
    static final int MIN_TILE = 256;
    /**
     * Tile side in margins, at least: a tile computes (tile / (tile − 2·margin − blend))² times the
     * pixels it keeps, 3.5× for the photo model's margin of 56 px in 256 px tiles, 1.9× in 448.
     */
    static final int MARGINS_PER_TILE = 8;
    /**
     * Tiles denoised together, at most: a CPU runs them on its threads at once (one image lane
     * each), a GPU as one batch. Each tile's result does not depend on how many go together.
     */
    static final int TILE_BATCH = 4;

    /**
     * Where tiles are cut for a conv model: margin, the receptive radius rounded up to
     * a multiple of 2^depth (outputs nearer a cut get weight 0); tile, a multiple of 2^depth at least
     * four margins wide; step, the distance between tile starts (a multiple of 2^depth too).
     */
    record Tiling(int tile, int margin, int step) {
        /**
         * The tiling of an h × w image: tiles of the preferred side (0: {@link #MARGINS_PER_TILE}
         * margins), but no wider than the image's shorter side (on the pooling grid) allows, so
         * that a tile overhangs the image (filled by edge replication) only where the image is
         * narrower than four margins, as it always could.
         */
        static Tiling of(ModelConfig c, int h, int w, int preferred) {
            int m = c.sizeMultiple();
            int margin = roundUp(c.receptiveRadius(), m);
            int least = Math.max(MIN_TILE, roundUp(4 * margin, m));
            int want = preferred > 0 ? roundUp(preferred, m) : roundUp(MARGINS_PER_TILE * margin, m);
            int tile = Math.max(least, Math.min(want, Math.min(h, w) / m * m));
            return new Tiling(tile, margin, tile - roundUp(2 * margin + BLEND, m));
        }

        /**
         * Blend weight at position p of a tile, on sides that have a neighbour: 0 within the margin
         * of the cut, then a ramp over BLEND pixels. Outputs are divided by the summed weights, so
         * tiles that overlap by more than a step (the last of a row) still blend exactly.
         */
        float ramp(int p, boolean before, boolean after) {
            float r = 1f;
            if (before) r = Math.min(r, Math.clamp((p - margin + 0.5f) / BLEND, 0f, 1f));
            if (after) r = Math.min(r, Math.clamp((tile - margin - p - 0.5f) / BLEND, 0f, 1f));
            return r;
        }

        private static int roundUp(int v, int m) {
            return (v + m - 1) / m * m;
        }
    }

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

    public BufferedImage denoise(BufferedImage image) {
        return Images.toBufferedImage(denoise(Images.fromBufferedImage(image)));
    }

    /**
     * {@link #denoise(Images.Image)} at a strength from 0 (the image as it is) to 1 (the model's
     * result): the result moved that far from the input towards the model's, per value. Below 1 it
     * keeps some of the noise, and with it fine texture the model would smooth away (a photo
     * editor's "amount").
     */
    public Images.Image denoise(Images.Image img, float strength) {
        if (!(strength >= 0 && strength <= 1)) throw new IllegalArgumentException("strength must be in [0, 1], got " + strength);
        Images.Image full = denoise(img);
        if (strength == 1) return full;
        float[] in = img.pixels(), out = full.pixels();
        for (int i = 0; i < out.length; i++) out[i] = in[i] + strength * (out[i] - in[i]);
        return full;
    }

    /**
     * Any size for the conv model; the model's size for dense and vae. The result has the image's
     * channels: a grey image through a colour model comes back grey (denoised as R = G = B, then
     * luma), a colour image through a grey model comes back in colour (each channel on its own, or,
     * for a residual model, in opponent channels: see {@link #throughOpponent}).
     */
    public Images.Image denoise(Images.Image img) {
        ModelConfig c = model.config();
        if (img.channels() == 1 && c.channels() == 3) {
            // grey in, grey out: the colour model sees R = G = B and its result goes back to luma
            return Images.withChannels(denoise(Images.withChannels(img, 3)), 1);
        }
        if (img.channels() == 3 && c.channels() == 1 && c.kind().residual()) return throughOpponent(img);
        if (img.channels() == 3 && c.channels() == 1) return eachChannel(img); // the colour kept
        if (img.channels() != c.channels()) {
            throw new IllegalArgumentException("image has " + img.channels() + " channels, the model takes " + c.channels());
        }
        if (img.height() == c.height() && img.width() == c.width()) {
            return new Images.Image(img.channels(), img.height(), img.width(), denoise(img.pixels()));
        }
        if (!c.kind().convolutional()) {
            throw new IllegalArgumentException("a " + c.kind().id() + " model takes " + c.height() + "x" + c.width()
                    + " images only, this one is " + img.height() + "x" + img.width()
                    + " (the conv and skip models take any size)");
        }
        return new Images.Image(img.channels(), img.height(), img.width(), tiled(img));
    }

    /**
     * A colour image through a blind grey model, in an opponent colour space (CBM3D's): the mean
     * L = (R + G + B)/3 and the two differences D1 = (R − B)/2 + ½, D2 = (R − 2G + B)/4 + ½. The
     * three weightings are orthogonal, so noise that is independent and equal in R, G and B stays
     * independent in L, D1 and D2, each a grey image with Gaussian noise the blind model knows:
     * weaker than the photo's (σ/√3 in L, σ/√2 and σ·√6/4 in the differences), where denoising
     * R, G and B apart would face σ three times and keep their noise's colour. Nearly all of the
     * detail lies in L; the differences are smooth.
     *
     * <p>One thing the opponent channels hide: clipping. Noise clipped at 0 and 255 in a channel
     * raises (or lowers) that channel's mean where it is dark (or bright): chelsea's blue by 2.2
     * levels at σ 50. The model learned to undo that on grey pictures, where it sees the clipped
     * values, but in the opponent channels the bias is spread thin and looks like signal, and
     * comes back as a colour cast. So R, G and B also go through the model each on its own, and
     * the result takes their low frequencies: opponent + blur(per channel − opponent), a Gaussian
     * blur of σ {@value #CAST_BLUR} px that keeps the cast's correction and drops the per-channel
     * results' extra noise. Measured on chelsea at σ 50: the cast from 2.07 to 0.37 levels and
     * +0.2 dB; at σ 15 and 25 the same PSNR (bench/NOTES.md). It doubles a colour photo's time.
     */
    private Images.Image throughOpponent(Images.Image img) {
        int h = img.height(), w = img.width(), plane = h * w;
        /* one plane at a time, each dropped once used: about nine image planes at the peak, where
         * holding them all took seventeen */
        float[] ol = denoise(new Images.Image(1, h, w, opponent(img, 0))).pixels();
        float[] o1 = denoise(new Images.Image(1, h, w, opponent(img, 1))).pixels();
        float[] o2 = denoise(new Images.Image(1, h, w, opponent(img, 2))).pixels();
        float[] rgb = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            float s = 3f * ol[i], a = 2f * (o1[i] - 0.5f), c = 4f * (o2[i] - 0.5f);
            float g = (s - c) / 3f, rb = s - g;                  // R + B = s − G
            rgb[i] = (rb + a) / 2f;
            rgb[plane + i] = g;
            rgb[2 * plane + i] = (rb - a) / 2f;
        }
        ol = o1 = o2 = null;
        for (int ch = 0; ch < 3; ch++) {
            int o = ch * plane;
            float[] diff = denoiseChannel(img, ch);                             // this channel on its own …
            for (int i = 0; i < plane; i++) diff[i] -= rgb[o + i];             // … less the opponent result
            Blur.gaussian(diff, h, w, CAST_BLUR);
            for (int i = 0; i < plane; i++) rgb[o + i] = Math.clamp(rgb[o + i] + diff[i], 0f, 1f);
        }
        return new Images.Image(3, h, w, rgb);
    }

    /** Opponent plane k of a colour image: 0 the mean L, 1 D1 = (R − B)/2 + ½, 2 D2 = (R − 2G + B)/4 + ½. */
    private static float[] opponent(Images.Image img, int k) {
        int plane = img.height() * img.width();
        float[] p = img.pixels(), out = new float[plane];
        for (int i = 0; i < plane; i++) {
            float r = p[i], g = p[plane + i], b = p[2 * plane + i];
            out[i] = k == 0 ? (r + g + b) / 3f : k == 1 ? (r - b) / 2f + 0.5f : (r - 2f * g + b) / 4f + 0.5f;
        }
        return out;
    }

    /** σ (pixels) of the blur that keeps only the per-channel results' low frequencies (see throughOpponent). */
    static final double CAST_BLUR = 8;

    /** A colour image through a grey model, each channel on its own. */
    private Images.Image eachChannel(Images.Image img) {
        int plane = img.height() * img.width();
        float[] rgb = new float[3 * plane];
        for (int ch = 0; ch < 3; ch++) System.arraycopy(denoiseChannel(img, ch), 0, rgb, ch * plane, plane);
        return new Images.Image(3, img.height(), img.width(), rgb);
    }

    /** Channel ch of a colour image through the grey model, as a plane. */
    private float[] denoiseChannel(Images.Image img, int ch) {
        int plane = img.height() * img.width();
        float[] one = java.util.Arrays.copyOfRange(img.pixels(), ch * plane, (ch + 1) * plane);
        return denoise(new Images.Image(1, img.height(), img.width(), one)).pixels();
    }

    private float[] tiled(Images.Image img) {
        Tiling g = Tiling.of(model.config(), img.height(), img.width(), tileSide);
        Backend b = model.backend();
        int batch = b instanceof CpuBackend cpu ? Math.min(TILE_BATCH, cpu.threads()) : TILE_BATCH;
        Autoencoder tiler = contexts.borrow(g.tile(), g.tile(), batch);
        try {
            return tiled(img, g, tiler, batch);
        } finally {
            contexts.giveBack(tiler);
        }
    }

    private float[] tiled(Images.Image img, Tiling g, Autoencoder tiler, int batch) {
        int ch = img.channels(), h = img.height(), w = img.width();
        int side = g.tile(), size = ch * side * side;
        Backend b = tiler.backend();
        float[] acc = new float[ch * h * w], wsum = new float[h * w];
        /* the last tile of a row or column is pulled back to the edge, kept on the pooling grid
         * (so it may overhang the edge by less than 2^depth pixels, filled by replication) */
        int lastY = alignUp(Math.max(0, h - side)), lastX = alignUp(Math.max(0, w - side));
        List<int[]> origins = new ArrayList<>();
        for (int y0 = 0; ; y0 += g.step()) {
            int ty = Math.min(y0, lastY);
            for (int x0 = 0; ; x0 += g.step()) {
                int tx = Math.min(x0, lastX);
                origins.add(new int[] {ty, tx});
                if (tx == lastX) break;
            }
            if (ty == lastY) break;
        }
        /* A pipeline over two staging slots: while the device denoises group k of tiles, the host
         * cuts group k + 1 into one slot and blends group k − 1 out of the other; it waits only for
         * a slot. */
        int groups = (origins.size() + batch - 1) / batch;
        try (Tensor in = b.allocate(batch, ch, side, side); Tensor out = b.allocate(batch, ch, side, side);
             Backend.Staging in0 = b.staging((long) batch * size); Backend.Staging in1 = b.staging((long) batch * size);
             Backend.Staging out0 = b.staging((long) batch * size); Backend.Staging out1 = b.staging((long) batch * size)) {
            Backend.Staging[] ins = {in0, in1}, outs = {out0, out1};
            int[] pending = {-1, -1};
            for (int k = 0; k < groups; k++) {
                int slot = k & 1, first = k * batch, n = Math.min(batch, origins.size() - first);
                ins[slot].await();
                MemorySegment tiles = ins[slot].memory();
                for (int j = 0; j < n; j++) {
                    int ty = origins.get(first + j)[0], tx = origins.get(first + j)[1], inside = Math.min(side, w - tx);
                    long base = (long) j * size;
                    for (int c = 0; c < ch; c++)
                        for (int y = 0; y < side; y++) {
                            int src = (c * h + Math.min(h - 1, ty + y)) * w + tx; // rows past the edge replicate the last
                            long dst = base + (long) (c * side + y) * side;
                            MemorySegment.copy(img.pixels(), src, tiles, ValueLayout.JAVA_FLOAT, dst * Float.BYTES, inside);
                            float edge = img.pixels()[src + inside - 1]; // and columns past it the last column
                            for (int x = inside; x < side; x++) tiles.setAtIndex(ValueLayout.JAVA_FLOAT, dst + x, edge);
                        }
                }
                Tensor tin = in.rows(0, n), tout = out.rows(0, n);
                b.upload(tin, ins[slot], 0);
                tiler.reconstruct(tin, tout);
                if (pending[slot] >= 0) blendGroup(outs[slot], pending[slot], batch, origins, g, ch, h, w, acc, wsum);
                b.download(outs[slot], 0, tout);
                pending[slot] = k;
            }
            for (int k = Math.max(0, groups - 2); k < groups; k++) {
                blendGroup(outs[k & 1], k, batch, origins, g, ch, h, w, acc, wsum);
            }
        }
        for (int c = 0; c < ch; c++)
            for (int i = 0; i < h * w; i++) acc[c * h * w + i] /= wsum[i];
        return acc;
    }

    /** Blends group k's tiles (batch per group) out of staging tiles. */
    private static void blendGroup(Backend.Staging tiles, int k, int batch, List<int[]> origins, Tiling g, int ch, int h,
                                   int w, float[] acc, float[] wsum) {
        tiles.await();
        int first = k * batch, n = Math.min(batch, origins.size() - first);
        for (int j = 0; j < n; j++) {
            blend(tiles.memory(), (long) j * ch * g.tile() * g.tile(), origins.get(first + j), g, ch, h, w, acc, wsum);
        }
    }

    /** Adds a denoised tile (at base in out) at origin (ty, tx), weighted by the tiling's ramps, into acc and wsum. */
    private static void blend(MemorySegment out, long base, int[] origin, Tiling g, int ch, int h, int w, float[] acc,
                              float[] wsum) {
        int side = g.tile(), ty = origin[0], tx = origin[1], cols = Math.min(side, w - tx);
        float[] wx = new float[cols], wt = new float[cols], row = new float[cols];
        for (int x = 0; x < cols; x++) wx[x] = g.ramp(x, tx > 0, tx + side < w);
        for (int y = 0; y < side && ty + y < h; y++) {
            float wy = g.ramp(y, ty > 0, ty + side < h);
            int o = (ty + y) * w + tx;
            for (int x = 0; x < cols; x++) {
                wt[x] = wy * wx[x];
                wsum[o + x] += wt[x];
            }
            for (int c = 0; c < ch; c++) {
                MemorySegment.copy(out, ValueLayout.JAVA_FLOAT, (base + (long) (c * side + y) * side) * Float.BYTES, row, 0, cols);
                int co = c * h * w + o;
                for (int x = 0; x < cols; x++) acc[co + x] += wt[x] * row[x];
            }
        }
    }

    /** Up to the model's pooling grid (tile starts must lie on it). */
    private int alignUp(int v) {
        return Tiling.roundUp(v, model.config().sizeMultiple());
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
