package dev.denoise.model;

import java.util.Locale;

/** The three autoencoders compared by denoise. */
public enum ModelKind {
    /** 784→256→64 | 64→256→784, ReLU, sigmoid output. */
    DENSE,
    /** Variational: 784→256→(μ, logσ²) of 16 | z→256→784; loss = summed BCE + KL. */
    VAE,
    /** Conv3×3 + max-pool down, conv3×3 + nearest upsample back. */
    CONV;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ModelKind parse(String s) {
        for (ModelKind k : values()) if (k.id().equals(s.toLowerCase(Locale.ROOT))) return k;
        throw new IllegalArgumentException("unknown model '" + s + "' (expected dense, vae or conv)");
    }
}
