package dev.denoise.model;

/**
 * The architecture of a model: kind, image shape and layer sizes. Defaults are the MNIST models of
 * the README (dense 256/64, vae 256/16, conv 32 channels, skip 12 doubling per level with two
 * convolutions per stage, depth 2); every size can be changed.
 *
 * @param hidden    dense/vae hidden layer width
 * @param latent    dense code size or VAE latent size
 * @param convWidth conv channels; skip's at full resolution (they double per level)
 * @param convDepth conv/skip pooling levels: the image is pooled down to H/2^depth
 * @param levelConvs conv/skip 3×3 convolutions per stage: each encoder level, the bottleneck and
 *                   each decoder level (1: the seed's model; U-Net has 2)
 */
public record ModelConfig(ModelKind kind, int channels, int height, int width, int hidden, int latent, int convWidth,
                          int convDepth, int levelConvs) {
    /** Deepest conv model: 2^6 = 64 pixels per bottleneck cell is far past what a 3×3 stack uses. */
    public static final int MAX_DEPTH = 6;
    /** The seed's depth: two poolings, 28×28 down to 7×7. */
    public static final int DEFAULT_DEPTH = 2;
    /** Most convolutions per stage: deeper stacks without normalisation layers train poorly. */
    public static final int MAX_LEVEL_CONVS = 8;
    /** Widest feature map of any level: beyond it one layer's weights pass half a gigabyte. */
    public static final int MAX_LEVEL_WIDTH = 4096;

    /** Checks the sizes and that a conv model's image divides by 2^convDepth. */
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
        if (levelConvs < 1 || levelConvs > MAX_LEVEL_CONVS) {
            throw new IllegalArgumentException("convolutions per level must be 1.." + MAX_LEVEL_CONVS + ", got " + levelConvs);
        }
        if (kind.unet() && ((long) convWidth << (convDepth - 1)) > MAX_LEVEL_WIDTH) {
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
                defaultWidth(kind), DEFAULT_DEPTH, defaultLevelConvs(kind));
    }

    /**
     * One convolution per stage for the seed's conv; two for skip, as U-Net: the second makes each
     * stage's output a nonlinear mix of what the skip and the upsampled path bring, and in conv's
     * training time that gains more than the extra epochs a single conv would have (bench/NOTES.md).
     */
    public static int defaultLevelConvs(ModelKind kind) {
        return kind.unet() ? 2 : 1;
    }

    /**
     * 32 channels for the seed's conv; 12 (then 24 at the half-size level) for skip, the width
     * that, with two convolutions per stage, denoised best in conv's training time (bench/NOTES.md).
     */
    public static int defaultWidth(ModelKind kind) {
        return kind.unet() ? 12 : 32;
    }

    /** The default model of kind for MNIST: 1 × 28 × 28 images. */
    public static ModelConfig mnist(ModelKind kind) {
        return defaults(kind, 1, 28, 28);
    }

    /** What H and W of a conv model of this depth must divide by: one halving per level. */
    public static int sizeMultiple(int depth) {
        return 1 << depth;
    }

    /**
     * How far (pixels) an output of a conv or skip model of this depth, with n convolutions per
     * stage, can see: each 3×3 conv at scale s adds s, each 2×2 pool at scale s adds s more (its
     * window), nearest upsampling none. With S = 2^depth: n(S−1) + (S−1) for the encoder's convs and
     * pools, nS for the bottleneck, n(S−1) for the decoder, so n(3S−2) + S−1 (4S−3 for the seed's
     * n = 1). The skips are shorter paths, inside the same radius.
     */
    public static int receptiveRadius(int depth, int n) {
        int s = sizeMultiple(depth);
        return n * (3 * s - 2) + s - 1;
    }

    /** This model's receptive radius in pixels; see {@link #receptiveRadius(int, int)}. */
    public int receptiveRadius() {
        return receptiveRadius(convDepth, levelConvs);
    }

    /**
     * Channels of the feature maps at pooling level l (0 = full resolution, depth − 1 = the
     * encoder's last): conv keeps convWidth at every level, as the seed; skip doubles it per level,
     * as U-Net does, since a halved map costs a quarter per channel.
     */
    public int levelWidth(int l) {
        return kind.unet() ? convWidth << l : convWidth;
    }

    /** What this model's H and W must divide by: 2^convDepth. */
    public int sizeMultiple() {
        return sizeMultiple(convDepth);
    }

    /** Values in one image: channels × height × width. */
    public int imageSize() {
        return channels * height * width;
    }

    /** The same model with latent l. */
    public ModelConfig withLatent(int l) {
        return new ModelConfig(kind, channels, height, width, hidden, l, convWidth, convDepth, levelConvs);
    }

    /** The same model with hidden h. */
    public ModelConfig withHidden(int h) {
        return new ModelConfig(kind, channels, height, width, h, latent, convWidth, convDepth, levelConvs);
    }

    /** The same model with convWidth w. */
    public ModelConfig withConvWidth(int w) {
        return new ModelConfig(kind, channels, height, width, hidden, latent, w, convDepth, levelConvs);
    }

    /** The same model with convDepth d. */
    public ModelConfig withConvDepth(int d) {
        return new ModelConfig(kind, channels, height, width, hidden, latent, convWidth, d, levelConvs);
    }

    /** The same model with levelConvs n. */
    public ModelConfig withLevelConvs(int n) {
        return new ModelConfig(kind, channels, height, width, hidden, latent, convWidth, convDepth, n);
    }

    /** The same model for images of another size (a fully convolutional model's weights fit any). */
    public ModelConfig withSize(int h, int w) {
        return new ModelConfig(kind, channels, h, w, hidden, latent, convWidth, convDepth, levelConvs);
    }
}
