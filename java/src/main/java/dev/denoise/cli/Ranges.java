package dev.denoise.cli;

/**
 * Range checks of option values, done before any work so that a bad value costs nothing and
 * writes nothing. A failure is an IllegalArgumentException whose one-line message names the option,
 * the range and the value; Main turns it into exit status 2.
 */
final class Ranges {
    /** Upper bound meaning "no limit": the message then says ">= lo" instead of a range. */
    static final int NO_LIMIT = Integer.MAX_VALUE;

    private Ranges() {}

    /** value when lo ≤ value ≤ hi (hi may be NO_LIMIT). */
    static int check(String option, int value, int lo, int hi) {
        if (value < lo || value > hi) {
            throw new IllegalArgumentException(option + " must be " + (hi == NO_LIMIT ? ">= " + lo : "in " + lo + ".." + hi)
                    + ", got " + value);
        }
        return value;
    }

    /** value when it is finite and 0 < value ≤ hi; NaN and infinities fail too. */
    static float positive(String option, float value, float hi) {
        if (!Float.isFinite(value) || !(value > 0) || value > hi) {
            throw new IllegalArgumentException(option + " must be a finite number > 0 and <= " + hi + ", got " + value);
        }
        return value;
    }

    /** value when it is a number in [lo, hi]; NaN fails too. */
    static float within(String option, float value, float lo, float hi) {
        if (!(value >= lo && value <= hi)) {
            throw new IllegalArgumentException(option + " must be in " + lo + ".." + hi + ", got " + value);
        }
        return value;
    }

    /** Runs a parser of an option's text, prefixing its IllegalArgumentException with the option. */
    static <T> T parse(String option, java.util.function.Supplier<T> parser) {
        try {
            return parser.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }
}
