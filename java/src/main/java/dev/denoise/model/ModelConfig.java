package dev.denoise.model;

/**
 * The architecture of a model: kind, image shape and layer sizes. Defaults are the MNIST models of
 * the README (dense 256/64, vae 256/16, conv 32 channels, skip 16 doubling per level, depth 2);
 * every size can be changed.
 *
 * @param hidden    dense/vae hidden layer width
 * @param latent    dense code size or VAE latent size
 * @param convWidth conv channels; skip's at full resolution (they double per level)
 * @param convDepth conv/skip pooling levels: the image is pooled down to H/2^depth
 */
public record ModelConfig(ModelKind kind, int channels, int height, int width, int hidden, int latent, int convWidth,
                          int convDepth) {
    /** Deepest conv model: 2^6 = 64 pixels per bottleneck cell is far past what a 3×3 stack uses. */
    public static final int MAX_DEPTH = 6;
    public static final int DEFAULT_DEPTH = 2;
    /** Widest feature map of any level: beyond it one layer's weights pass half a gigabyte. */
    public static final int MAX_LEVEL_WIDTH = 4096;

    public ModelConfig {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("image shape must be positive, got " + channels + "x" + height + "x" + width);
        }
        if (hidden < 1 || latent < 1 || convWidth < 1) {
            throw new IllegalArgumentException("layer sizes must be positive");
        }
        if (convDepth < 1 || convDepth > MAX_DEPTH) {
            throw new IllegalArgumentException("conv depth must be 1.." + MAX_DEPTH + ", got " + convDepth);
        }
        if (kind == ModelKind.SKIP && ((long) convWidth << (convDepth - 1)) > MAX_LEVEL_WIDTH) {
            throw new IllegalArgumentException("the skip model's widths double per level: " + convWidth + " at depth "
                    + convDepth + " reaches " + ((long) convWidth << (convDepth - 1)) + " channels, over " + MAX_LEVEL_WIDTH);
        }
        if (kind.convolutional() && (height % sizeMultiple(convDepth) != 0 || width % sizeMultiple(convDepth) != 0)) {
            throw new IllegalArgumentException("the " + kind.id() + " model of depth " + convDepth
                    + " needs height and width divisible by " + sizeMultiple(convDepth) + ", got " + height + "x" + width);
        }
    }

    /** The seed's layer sizes (depth 2) for any image shape. */
    public static ModelConfig defaults(ModelKind kind, int channels, int height, int width) {
        return new ModelConfig(kind, channels, height, width, 256, kind == ModelKind.VAE ? 16 : 64,
                defaultWidth(kind), DEFAULT_DEPTH);
    }

    /**
     * 32 channels for the seed's conv; 16 (then 32 at the half-size level) for skip, which at
     * that size costs 55 % of conv's work per image and denoises better (bench/NOTES.md).
     */
    public static int defaultWidth(ModelKind kind) {
        return kind == ModelKind.SKIP ? 16 : 32;
    }

    public static ModelConfig mnist(ModelKind kind) {
        return defaults(kind, 1, 28, 28);
    }

    /** What H and W of a conv model of this depth must divide by: one halving per level. */
    public static int sizeMultiple(int depth) {
        return 1 << depth;
    }

    /**
     * How far (pixels) an output of a conv or skip model of this depth can see, 4·2^depth − 3: each
     * 3×3 conv at scale s adds s, each 2×2 pool at scale s adds s more (its window), nearest
     * upsampling none: 2+4+…+2^depth for the encoder, 2^depth for the bottleneck, 2^(depth−1)+…+1
     * for the decoder. The skips are shorter paths, inside the same radius.
     */
    public static int receptiveRadius(int depth) {
        return 4 * sizeMultiple(depth) - 3;
    }

    /**
     * Channels of the feature maps at pooling level l (0 = full resolution, depth − 1 = the
     * encoder's last): conv keeps convWidth at every level, as the seed; skip doubles it per level,
     * as U-Net does, since a halved map costs a quarter per channel.
     */
    public int levelWidth(int l) {
        return kind == ModelKind.SKIP ? convWidth << l : convWidth;
    }

    public int sizeMultiple() {
        return sizeMultiple(convDepth);
    }

    public int imageSize() {
        return channels * height * width;
    }

    public ModelConfig withLatent(int l) {
        return new ModelConfig(kind, channels, height, width, hidden, l, convWidth, convDepth);
    }

    public ModelConfig withHidden(int h) {
        return new ModelConfig(kind, channels, height, width, h, latent, convWidth, convDepth);
    }

    public ModelConfig withConvWidth(int w) {
        return new ModelConfig(kind, channels, height, width, hidden, latent, w, convDepth);
    }

    public ModelConfig withConvDepth(int d) {
        return new ModelConfig(kind, channels, height, width, hidden, latent, convWidth, d);
    }

    /** The same model for images of another size (a fully convolutional model's weights fit any). */
    public ModelConfig withSize(int h, int w) {
        return new ModelConfig(kind, channels, h, w, hidden, latent, convWidth, convDepth);
    }
}
