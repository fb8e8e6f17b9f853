package dev.denoise.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The op tests' tensors in one place: seeded random data, tensors made on any backend and freed
 * together on close. Each test class takes its seed from {@link #seed}, so a failure names the seed
 * and reruns with {@code -Ddenoise.test.seed=N}.
 */
public final class TestTensors implements AutoCloseable {
    private final List<Tensor> owned = new ArrayList<>();
    private final long seed;
    private final SplittableRandom rng;

    public TestTensors(long seed) {
        this.seed = seed;
        this.rng = new SplittableRandom(seed);
    }

    /** -Ddenoise.test.seed when set, else fallback (a fixed seed, or a fresh one for tests that want new inputs). */
    public static long seed(long fallback) {
        String s = System.getProperty("denoise.test.seed");
        return s == null || s.isBlank() ? fallback : Long.parseLong(s.trim());
    }

    public long seed() {
        return seed;
    }

    public SplittableRandom rng() {
        return rng;
    }

    /** n uniform floats in [lo, hi). */
    public float[] rand(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return a;
    }

    /** n uniform floats in [-1, 1). */
    public float[] rand(int n) {
        return rand(n, -1, 1);
    }

    /** A tensor of shape on b holding data (null: zeros), freed on close. */
    public Tensor up(Backend b, float[] data, int... shape) {
        Tensor t = b.allocate(shape);
        owned.add(t);
        if (data != null) b.write(t, data);
        return t;
    }

    public Tensor zeros(Backend b, int... shape) {
        return up(b, null, shape);
    }

    /** A tensor of uniform values in [-1, 1). */
    public Tensor rand(Backend b, int... shape) {
        return up(b, rand(Math.toIntExact(Tensor.numel(shape))), shape);
    }

    @Override
    public void close() {
        owned.forEach(Tensor::close);
        owned.clear();
    }
}
