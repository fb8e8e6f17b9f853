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
    SKIP;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Fully convolutional: takes any image size divisible by 2^depth, with weights of any size. */
    public boolean convolutional() {
        return this == CONV || this == SKIP;
    }

    public static ModelKind parse(String s) {
        for (ModelKind k : values()) if (k.id().equals(s.toLowerCase(Locale.ROOT))) return k;
        throw new IllegalArgumentException("unknown model '" + s + "' (expected dense, vae, conv or skip)");
    }
}
