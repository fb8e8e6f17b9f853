package dev.denoise.nn;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * All weights of a model in ONE flat buffer, with gradients and Adam moments in three more of the
 * same size. One buffer means one Adam call per step, one copy for a checkpoint, and one allocation
 * per model on a GPU. Each named parameter is a slice, named as a PyTorch state_dict would name it
 * ({@code e1.weight} (out,in), conv weights (out,in,kh,kw)).
 */
public final class Parameters implements AutoCloseable {
    /** A named parameter: shape and offset (in floats) into the flat buffers. */
    public record Entry(String name, int[] shape, long offset, long numel, int fanIn) {}

    /** Declares parameters before the buffers exist. */
    public static final class Spec {
        private final List<Entry> entries = new ArrayList<>();
        private long total;

        /** An empty declaration, to {@link #add} to. */
        public Spec() {}

        /** A weight whose init bound is 1/sqrt(fanIn). */
        public Spec add(String name, int fanIn, int... shape) {
            for (Entry e : entries) {
                if (e.name.equals(name)) throw new IllegalArgumentException("duplicate parameter " + name);
            }
            long n = Tensor.numel(shape);
            entries.add(new Entry(name, shape.clone(), total, n, fanIn));
            total += n;
            return this;
        }

        /** Floats declared so far: the size of each flat buffer. */
        public long total() {
            return total;
        }
    }

    private final Backend backend;
    private final List<Entry> entries;
    private final Map<String, Entry> byName = new LinkedHashMap<>();
    private final Tensor values, grads, m, v;
    private final boolean owner; // false for a view made by withGrads
    private int step; // Adam steps taken

    /** Zero-filled buffers on backend for the parameters of spec; call {@link #initialise} or load weights. */
    public Parameters(Backend backend, Spec spec) {
        this.backend = backend;
        this.entries = List.copyOf(spec.entries);
        for (Entry e : entries) byName.put(e.name, e);
        int n = Math.toIntExact(Math.max(1, spec.total));
        Tensor a = null, b = null, c = null, d = null;
        try {
            a = backend.allocate(n);
            b = backend.allocate(n);
            c = backend.allocate(n);
            d = backend.allocate(n);
        } catch (RuntimeException | Error e) {
            for (Tensor t : new Tensor[] {a, b, c, d}) if (t != null) t.close();
            throw e;
        }
        values = a;
        grads = b;
        m = c;
        v = d;
        owner = true;
    }

    private Parameters(Parameters base, Tensor grads) {
        this.backend = base.backend;
        this.entries = base.entries;
        this.byName.putAll(base.byName);
        this.values = base.values;
        this.grads = grads;
        this.m = base.m;
        this.v = base.v;
        this.owner = false;
    }

    /**
     * The same values (and Adam state) with gradients written into grads (count() floats) instead:
     * what a model's further image lanes compute their partial gradients into. Closing the view
     * closes nothing; grads stays the caller's.
     */
    public Parameters withGrads(Tensor grads) {
        if (grads.numel() != this.grads.numel()) {
            throw new IllegalArgumentException("gradients of " + grads.numel() + " floats for " + this.grads.numel() + " values");
        }
        return new Parameters(this, grads);
    }

    /** The backend the buffers live on. */
    public Backend backend() { return backend; }
    /** The named parameters, in declaration order (read-only). */
    public List<Entry> entries() { return Collections.unmodifiableList(entries); }
    /** Floats of all parameters together; 0 when there are none. */
    public long count() { return entries.isEmpty() ? 0 : values.numel(); }
    /** The flat buffer of all weights and biases. */
    public Tensor values() { return values; }
    /** The flat buffer of the gradients, laid out as {@link #values()}. */
    public Tensor grads() { return grads; }
    /** Adam's first moments, laid out as {@link #values()}. */
    public Tensor adamM() { return m; }
    /** Adam's second moments, laid out as {@link #values()}. */
    public Tensor adamV() { return v; }
    /** Adam steps taken: the t of the last bias correction. */
    public int step() { return step; }
    /** Sets the Adam step count (from a checkpoint, or 0 for a loaded model). */
    public void setStep(int step) { this.step = step; }

    /** The parameter called name; IllegalArgumentException if there is none. */
    public Entry entry(String name) {
        Entry e = byName.get(name);
        if (e == null) throw new IllegalArgumentException("no parameter " + name);
        return e;
    }

    /** The values of parameter name, a view of {@link #values()} in its shape. */
    public Tensor value(String name) {
        Entry e = entry(name);
        return values.slice(e.offset, e.shape);
    }

    /** The gradient of parameter name, a view of {@link #grads()} in its shape. */
    public Tensor grad(String name) {
        Entry e = entry(name);
        return grads.slice(e.offset, e.shape);
    }

    /** PyTorch's default for Linear and Conv2d: kaiming_uniform(a=√5) weights and bias both give U(±1/√fan_in). */
    public void initialise(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] all = new float[Math.toIntExact(values.numel())];
        for (Entry e : entries) {
            double bound = 1.0 / Math.sqrt(e.fanIn);
            for (long i = 0; i < e.numel; i++) all[(int) (e.offset + i)] = (float) rng.nextDouble(-bound, bound);
        }
        backend.write(values, all);
        backend.fill(m, 0f);
        backend.fill(v, 0f);
        step = 0;
    }

    static final float BETA1 = 0.9f, BETA2 = 0.999f, EPS = 1e-8f;

    /**
     * The host half of an Adam step: counts it and writes {lr, 1/(1 − β1^t), 1/(1 − β2^t)} into hyper
     * (3) in stream order, for {@link #adamStepFrom} to read when it runs.
     */
    public void prepareAdamStep(Tensor hyper, float lr) {
        step++;
        backend.set(hyper, Backend.adamHyper(lr, BETA1, BETA2, step));
    }

    /** The device half: the Adam update with its learning rate and corrections read from hyper. */
    public void adamStepFrom(Tensor hyper) {
        backend.adam_update(values, m, v, grads, hyper, BETA1, BETA2, EPS);
    }

    /** Copies every value, gradient-free, into a host array (for saving). */
    public float[] read(Tensor flat) {
        return flat.toArray();
    }

    @Override
    public void close() {
        if (!owner) return;
        values.close();
        grads.close();
        m.close();
        v.close();
    }
}
