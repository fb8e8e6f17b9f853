package dev.denoise.model;

/**
 * The architecture of a model: kind, image shape and layer sizes. Defaults are the MNIST models of
 * the README (dense 256/64, vae 256/16, conv 32 channels); every size can be changed.
 *
 * @param hidden    dense/vae hidden layer width
 * @param latent    dense code size or VAE latent size
 * @param convWidth conv channels
 */
public record ModelConfig(ModelKind kind, int channels, int height, int width, int hidden, int latent, int convWidth) {
    public ModelConfig {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("image shape must be positive, got " + channels + "x" + height + "x" + width);
        }
        if (hidden < 1 || latent < 1 || convWidth < 1) {
            throw new IllegalArgumentException("layer sizes must be positive");
        }
        if (kind == ModelKind.CONV && (height % 4 != 0 || width % 4 != 0)) {
            throw new IllegalArgumentException("the conv model needs height and width divisible by 4, got "
                    + height + "x" + width);
        }
    }

    public static ModelConfig defaults(ModelKind kind, int channels, int height, int width) {
        return new ModelConfig(kind, channels, height, width, 256, kind == ModelKind.VAE ? 16 : 64, 32);
    }

    public static ModelConfig mnist(ModelKind kind) {
        return defaults(kind, 1, 28, 28);
    }

    public int imageSize() {
        return channels * height * width;
    }

    public ModelConfig withLatent(int l) {
        return new ModelConfig(kind, channels, height, width, hidden, l, convWidth);
    }

    public ModelConfig withHidden(int h) {
        return new ModelConfig(kind, channels, height, width, h, latent, convWidth);
    }

    public ModelConfig withConvWidth(int w) {
        return new ModelConfig(kind, channels, height, width, hidden, latent, w);
    }
}
