package dev.denoise.model;

import java.util.Locale;

/** The autoencoders compared by denoise: the three of the seed and one of our own (skip). */
public enum ModelKind {
    /** 784→256→64 | 64→256→784, ReLU, sigmoid output. */
    DENSE,
    /** Variational: 784→256→(μ, logσ²) of 16 | z→256→784; loss = summed BCE + KL. */
    VAE,
    /** Conv3×3 + max-pool down, conv3×3 + nearest upsample back. */
    CONV,
    /** CONV with additive skips: each upsampled decoder map plus the encoder map of its resolution. */
    SKIP,
    /**
     * SKIP's layers predicting the noise, not the image: clean = noisy + f(noisy), trained with the
     * mean squared error. The photo denoiser: learning the residual (DnCNN's choice) keeps the
     * identity for free, so the layers spend themselves on the noise, whatever its level.
     */
    RESIDUAL;

    /** The lower-case name used on the command line and in model files ("dense", "vae", ...). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Fully convolutional: takes any image size divisible by 2^depth, with weights of any size. */
    public boolean convolutional() {
        return this == CONV || this == SKIP || this == RESIDUAL;
    }

    /** U-Net shaped: SKIP's layers, channels doubling per level, skip connections (SKIP, RESIDUAL). */
    public boolean unet() {
        return this == SKIP || this == RESIDUAL;
    }

    /** Outputs the image itself plus a correction, trained with MSE (RESIDUAL); else sigmoid logits, BCE. */
    public boolean residual() {
        return this == RESIDUAL;
    }

    /** The kind whose {@link #id()} is s, ignoring case; IllegalArgumentException if none. */
    public static ModelKind parse(String s) {
        for (ModelKind k : values()) if (k.id().equals(s.toLowerCase(Locale.ROOT))) return k;
        throw new IllegalArgumentException("unknown model '" + s + "' (expected dense, vae, conv, skip or residual)");
    }
}
