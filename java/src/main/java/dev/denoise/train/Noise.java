package dev.denoise.train;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

import java.util.Locale;

/**
 * The corruption applied to clean images: Gaussian (σ, clipped to [0,1]) or salt-and-pepper (p).
 * Drawn from Philox keyed by (seed, offset), so the same spec and seed give the same noisy images
 * on every backend and thread count. Written as "gaussian:0.5" or "salt-pepper:0.2"; a Gaussian
 * range "gaussian:0..0.2157" gives each image its own σ, uniform in the range (blind denoising: a
 * model trained so needs no σ from its user).
 */
public record Noise(Kind kind, float level, float high) {
    /** The kind of corruption. */
    public enum Kind {
        /** Additive Gaussian noise of standard deviation σ, the result clipped to [0,1]. */
        GAUSSIAN,
        /** Each value set to 0 or to 1, each with probability p/2. */
        SALT_PEPPER
    }

    /** Seed of the test-set noise: every model is evaluated on the same noisy images. */
    public static final long TEST_SEED = 0x7E57_5EEDL;

    /** Checks the level: finite and ≥ 0, high ≥ level, and for salt-and-pepper one p in [0,1]. */
    public Noise {
        if (!(level >= 0) || !Float.isFinite(level)) {
            throw new IllegalArgumentException("noise level must be a finite number >= 0, got " + level);
        }
        if (!(high >= level) || !Float.isFinite(high)) {
            throw new IllegalArgumentException("noise range must run from low to high, got " + level + ".." + high);
        }
        if (kind == Kind.SALT_PEPPER && high != level) {
            throw new IllegalArgumentException("salt-pepper noise takes one probability, not a range");
        }
        if (kind == Kind.SALT_PEPPER && level > 1) {
            throw new IllegalArgumentException("salt-pepper probability must be in [0, 1], got " + level);
        }
    }

    /** One level (σ or p) for every image. */
    public Noise(Kind kind, float level) {
        this(kind, level, level);
    }

    /** Gaussian noise of standard deviation sigma for every image. */
    public static Noise gaussian(float sigma) {
        return new Noise(Kind.GAUSSIAN, sigma);
    }

    /** Whether each image draws its own σ from [level, high]. */
    public boolean isRange() {
        return high > level;
    }

    /**
     * Reads "gaussian:SIGMA", "gaussian:LOW..HIGH" or "salt-pepper:P" (also "gauss", "sp",
     * "salt-and-pepper"; case ignored); without a level, σ 0.5 or p 0.2.
     */
    public static Noise parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon);
        Kind kind = switch (name) {
            case "gaussian", "gauss" -> Kind.GAUSSIAN;
            case "salt-pepper", "salt-and-pepper", "sp" -> Kind.SALT_PEPPER;
            default -> throw new IllegalArgumentException("unknown noise '" + spec
                    + "' (expected gaussian:SIGMA or salt-pepper:P)");
        };
        float level = kind == Kind.GAUSSIAN ? 0.5f : 0.2f, high = level;
        if (colon >= 0) {
            String v = s.substring(colon + 1);
            int dots = v.indexOf("..");
            try {
                level = Float.parseFloat(dots < 0 ? v : v.substring(0, dots));
                high = dots < 0 ? level : Float.parseFloat(v.substring(dots + 2));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("noise level in '" + spec + "' is not a number (or LOW..HIGH)");
            }
        }
        return new Noise(kind, level, high);
    }

    /**
     * out = noisy version of clean, element i drawn at (seed, offset + i) with the offset read from
     * offsetAt (see {@link Backend#setLong}) when the op runs: a step recorded once reads each
     * replay's offset.
     */
    public void apply(Backend b, Tensor out, Tensor clean, long seed, Tensor offsetAt) {
        if (isRange()) {
            b.noise_gaussian_range(out, clean, level, high, seed, offsetAt);
        } else if (kind == Kind.GAUSSIAN) {
            b.noise_gaussian(out, clean, level, seed, offsetAt);
        } else {
            b.noise_salt_pepper(out, clean, level, seed, offsetAt);
        }
    }

    /** out = noisy version of clean, element i drawn at (seed, offset + i). */
    public void apply(Backend b, Tensor out, Tensor clean, long seed, long offset) {
        if (isRange()) {
            b.noise_gaussian_range(out, clean, level, high, seed, offset);
        } else if (kind == Kind.GAUSSIAN) {
            b.noise_gaussian(out, clean, level, seed, offset);
        } else {
            b.noise_salt_pepper(out, clean, level, seed, offset);
        }
    }

    @Override
    public String toString() {
        return (kind == Kind.GAUSSIAN ? "gaussian:" : "salt-pepper:") + level + (isRange() ? ".." + high : "");
    }
}
