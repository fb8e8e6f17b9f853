package dev.denoise.backend;

import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/** Seeded inputs, closeness checks that name tensor, index and values, and finite differences. */
final class Numerics {
    private Numerics() {}

    static double[] uniform(SplittableRandom rng, int n, double lo, double hi) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.nextDouble();
        return a;
    }

    /** Rounded to float, so the reference and the op see the same inputs. */
    static double[] asFloatValues(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = (float) a[i];
        return r;
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** |actual − expected| ≤ atol + rtol·|expected| for every element, else fail naming the first bad one. */
    static void assertClose(String tensor, float[] actual, double[] expected, double atol, double rtol) {
        if (actual.length != expected.length) {
            fail(tensor + ": length " + actual.length + ", expected " + expected.length);
        }
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            double bound = atol + rtol * Math.abs(expected[i]);
            if (!(err <= bound)) {
                if (first < 0) first = i;
                bad++;
                worst = Math.max(worst, err / bound);
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements off (atol %.1e, rtol %.1e); first at [%d]: got %.8g, expected %.8g;"
                    + " worst error %.2f× its bound", tensor, bad, actual.length, atol, rtol, first, actual[first],
                    expected[first], worst));
        }
    }

    /** Gradient bound relative to the tensor's largest reference value: float32 rounding over the sums. */
    static void assertGradient(String tensor, float[] analytic, double[] numeric) {
        double scale = 0;
        for (double v : numeric) scale = Math.max(scale, Math.abs(v));
        assertClose(tensor, analytic, numeric, 2e-4 * Math.max(scale, 1e-3), 2e-3);
    }

    /**
     * Central differences in double: ∂loss/∂x[i] for every i, where loss(x) is evaluated by the
     * double reference. h = 1e-4 keeps the truncation error ~1e-8, far below float rounding.
     */
    static double[] numericGradient(double[] x, Function<double[], Double> loss) {
        double h = 1e-4;
        double[] g = new double[x.length];
        double[] xp = x.clone();
        for (int i = 0; i < x.length; i++) {
            double old = xp[i];
            xp[i] = old + h;
            double up = loss.apply(xp);
            xp[i] = old - h;
            double down = loss.apply(xp);
            xp[i] = old;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double sum(double[] a) {
        double s = 0;
        for (double v : a) s += v;
        return s;
    }
}
