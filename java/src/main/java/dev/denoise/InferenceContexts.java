package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * The models a {@link Denoiser}'s calls run on: one per call in flight, each at the input shape
 * that call needs (a tile, or the model's own size), all holding a copy of the same weights. A
 * model's activations are written by every forward pass, so two calls never share one: a call
 * borrows a model, runs, and gives it back.
 *
 * <p>At most {@code slots} calls run at once (the rest wait for a slot, in arrival order), so at
 * most that many models of a shape exist. Idle models are kept for the next call of their shape,
 * at most 2·slots + 4 of them over all shapes; past that the least recently used is closed,
 * so a stream of ever new image sizes does not hold memory for every size it has seen.
 */
final class InferenceContexts implements AutoCloseable {
    private record Shape(int height, int width, int batch) {}

    private final Backend backend;
    private final ModelConfig config;
    private final Tensor weights;
    private final int slots, maxIdle;
    private final Semaphore free;
    /** Idle models by shape, least recently used first. */
    private final LinkedHashMap<Shape, ArrayDeque<Autoencoder>> idle = new LinkedHashMap<>(16, 0.75f, true);
    private int idleCount;
    private boolean closed;

    /** Models of config on backend with the values of weights (copied; weights may be closed after). */
    InferenceContexts(Backend backend, ModelConfig config, Tensor weights, int slots) {
        if (slots < 1) throw new IllegalArgumentException("at least one call at a time, got " + slots);
        this.backend = backend;
        this.config = config;
        this.slots = slots;
        // every slot's model of two shapes (a grey picture's tiles, a colour one's: one image or a
        // batch of them), the model's own size, and spares for pictures of a tile or less, whose
        // one tile is their own size
        this.maxIdle = 2 * slots + 4;
        this.free = new Semaphore(slots, true);
        this.weights = backend.allocate(Math.toIntExact(weights.numel()));
        backend.copy(this.weights, weights);
    }

    /**
     * A model for images of h × w in batches of up to batch, for this thread alone until given back
     * with {@link #giveBack}; waits while every slot is taken.
     *
     * @throws IllegalStateException when closed
     */
    Autoencoder borrow(int h, int w, int batch) {
        free.acquireUninterruptibly();
        try {
            Shape shape = new Shape(h, w, batch);
            synchronized (this) {
                if (closed) throw new IllegalStateException("the Denoiser is closed");
                ArrayDeque<Autoencoder> q = idle.get(shape);
                if (q != null && !q.isEmpty()) {
                    idleCount--;
                    return q.pop();
                }
            }
            Autoencoder m = Autoencoder.create(backend, config.withSize(h, w), batch);
            backend.copy(m.parameters().values(), weights);
            return m;
        } catch (RuntimeException | Error e) {
            free.release();
            throw e;
        }
    }

    /** Returns a borrowed model: kept for the next call of its shape, or closed past maxIdle. */
    void giveBack(Autoencoder m) {
        List<Autoencoder> evicted = new ArrayList<>();
        try {
            synchronized (this) {
                if (closed) {
                    evicted.add(m);
                } else {
                    Shape shape = new Shape(m.config().height(), m.config().width(), m.maxBatch());
                    idle.computeIfAbsent(shape, s -> new ArrayDeque<>()).push(m);
                    idleCount++;
                    for (Iterator<Map.Entry<Shape, ArrayDeque<Autoencoder>>> it = idle.entrySet().iterator();
                         idleCount > maxIdle && it.hasNext(); ) {
                        ArrayDeque<Autoencoder> q = it.next().getValue();
                        while (idleCount > maxIdle && !q.isEmpty()) {
                            evicted.add(q.removeLast());
                            idleCount--;
                        }
                        if (q.isEmpty()) it.remove();
                    }
                }
            }
            evicted.forEach(Autoencoder::close);
        } finally {
            free.release();
        }
    }

    /** Waits for the calls in flight, then frees every model and the weights. */
    @Override
    public void close() {
        free.acquireUninterruptibly(slots);
        try {
            synchronized (this) {
                if (closed) return;
                closed = true;
                idle.values().forEach(q -> q.forEach(Autoencoder::close));
                idle.clear();
                idleCount = 0;
                weights.close();
            }
        } finally {
            free.release(slots);
        }
    }
}
