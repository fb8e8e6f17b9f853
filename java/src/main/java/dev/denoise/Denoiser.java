package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelFiles;
import dev.denoise.model.ModelKind;

import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * Denoises single images with a trained model: float arrays (C·H·W, NCHW, [0,1]),
 * {@link Images.Image}s or {@link BufferedImage}s. Dense and VAE models take exactly their
 * training size; the conv model is fully convolutional, so any size goes: large images run in
 * overlapping tiles blended with linear ramps (no seams), small ones padded by edge replication.
 *
 * <p>Why the tiles give the whole-image answer: a tile's output is wrong only within the model's
 * receptive radius of a cut edge (there it sees zero padding instead of the neighbouring pixels),
 * so that {@link #MARGIN} gets weight 0 and the ramp between two tiles lies past it; tiles start
 * at multiples of 4, so their pooling grid is the whole image's. For H and W divisible by 4 the
 * tiled result is the whole-image result up to rounding.
 */
public final class Denoiser implements AutoCloseable {
    /**
     * Tile side for the conv model (a multiple of 4). MARGIN: at least the receptive radius of the
     * conv autoencoder (3×3 convolutions at scales 1, 2, 4, 2, 1, and the pool windows: 19 pixels),
     * rounded up to a multiple of 4. BLEND: width of the linear ramp between tiles.
     */
    static final int TILE = 256, MARGIN = 24, BLEND = 8, OVERLAP = 2 * MARGIN + BLEND;

    private final Autoencoder model;
    private final boolean owned;
    private Autoencoder tiler; // conv model sized TILE×TILE sharing the weights, made on first use

    public Denoiser(Autoencoder model) {
        this(model, false);
    }

    private Denoiser(Autoencoder model, boolean owned) {
        this.model = model;
        this.owned = owned;
    }

    /** Loads a model file on a backend; closing the Denoiser closes the model. */
    public static Denoiser load(Path modelFile, Backend backend) {
        return new Denoiser(ModelFiles.load(modelFile, backend, 64), true);
    }

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
        return run(model, image, c.channels(), c.height(), c.width());
    }

    public BufferedImage denoise(BufferedImage image) {
        return Images.toBufferedImage(denoise(Images.fromBufferedImage(image)));
    }

    /** Any size for the conv model; the model's size for dense and vae. */
    public Images.Image denoise(Images.Image img) {
        ModelConfig c = model.config();
        if (img.channels() != c.channels()) {
            throw new IllegalArgumentException("image has " + img.channels() + " channels, the model takes " + c.channels());
        }
        if (img.height() == c.height() && img.width() == c.width()) {
            return new Images.Image(img.channels(), img.height(), img.width(), denoise(img.pixels()));
        }
        if (c.kind() != ModelKind.CONV) {
            throw new IllegalArgumentException("a " + c.kind().id() + " model takes " + c.height() + "x" + c.width()
                    + " images only, this one is " + img.height() + "x" + img.width() + " (the conv model takes any size)");
        }
        return new Images.Image(img.channels(), img.height(), img.width(), tiled(img));
    }

    private float[] tiled(Images.Image img) {
        int ch = img.channels(), h = img.height(), w = img.width();
        if (tiler == null) tiler = sharingWeights(TILE, TILE);
        float[] acc = new float[ch * h * w], wsum = new float[h * w];
        float[] tile = new float[ch * TILE * TILE];
        int step = TILE - OVERLAP;
        for (int y0 = 0; y0 < h; y0 += step) {
            for (int x0 = 0; x0 < w; x0 += step) {
                int ty = Math.min(y0, Math.max(0, h - TILE)), tx = Math.min(x0, Math.max(0, w - TILE));
                for (int c = 0; c < ch; c++)
                    for (int y = 0; y < TILE; y++)
                        for (int x = 0; x < TILE; x++) {
                            int sy = Math.min(h - 1, ty + y), sx = Math.min(w - 1, tx + x); // replicate past the edge
                            tile[(c * TILE + y) * TILE + x] = img.pixels()[(c * h + sy) * w + sx];
                        }
                float[] out = run(tiler, tile, ch, TILE, TILE);
                for (int y = 0; y < TILE && ty + y < h; y++) {
                    float wy = ramp(y, ty > 0, ty + TILE < h);
                    for (int x = 0; x < TILE && tx + x < w; x++) {
                        float wt = wy * ramp(x, tx > 0, tx + TILE < w);
                        wsum[(ty + y) * w + tx + x] += wt;
                        for (int c = 0; c < ch; c++) acc[(c * h + ty + y) * w + tx + x] += wt * out[(c * TILE + y) * TILE + x];
                    }
                }
                if (x0 >= w - TILE) break;
            }
            if (y0 >= h - TILE) break;
        }
        for (int c = 0; c < ch; c++)
            for (int i = 0; i < h * w; i++) acc[c * h * w + i] /= wsum[i];
        return acc;
    }

    /**
     * Blend weight at position p of a tile, on sides that have a neighbour: 0 within MARGIN of the
     * cut, then a ramp over BLEND pixels. Two neighbours' ramps sum to 1 where tiles sit a step apart.
     */
    static float ramp(int p, boolean before, boolean after) {
        float r = 1f;
        if (before) r = Math.min(r, Math.clamp((p - MARGIN + 0.5f) / BLEND, 0f, 1f));
        if (after) r = Math.min(r, Math.clamp((TILE - MARGIN - p - 0.5f) / BLEND, 0f, 1f));
        return r;
    }

    private Autoencoder sharingWeights(int h, int w) {
        ModelConfig c = model.config();
        ModelConfig t = new ModelConfig(c.kind(), c.channels(), h, w, c.hidden(), c.latent(), c.convWidth());
        Autoencoder m = Autoencoder.create(model.backend(), t, 1);
        model.backend().copy(m.parameters().values(), model.parameters().values());
        return m;
    }

    private static float[] run(Autoencoder m, float[] image, int c, int h, int w) {
        Backend b = m.backend();
        try (Tensor in = b.allocate(1, c, h, w); Tensor out = b.allocate(1, c, h, w)) {
            b.write(in, image);
            m.reconstruct(in, out);
            return out.toArray();
        }
    }

    @Override
    public void close() {
        if (tiler != null) tiler.close();
        if (owned) model.close();
    }
}
