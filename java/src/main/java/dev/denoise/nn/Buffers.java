package dev.denoise.nn;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

/**
 * Batch-sized activation buffers of a layer: allocated for maxBatch when first used, viewed per
 * batch. First use, not construction: a model that only runs forward (a Denoiser's) never
 * allocates its layers' input gradients, half of its activation memory. A training step's first
 * run is eager (a GPU captures a step into a graph on its second run), so nothing is allocated
 * while a graph is captured.
 */
final class Buffers implements AutoCloseable {
    private final Backend backend;
    private final int maxBatch;
    private final int[] perImage;
    private Tensor full;

    Buffers(Backend backend, int maxBatch, int[] perImage) {
        this.backend = backend;
        this.maxBatch = maxBatch;
        this.perImage = perImage.clone();
    }

    /** The first `batch` images. */
    Tensor rows(int batch) {
        if (batch > maxBatch) {
            throw new IllegalArgumentException("batch " + batch + " exceeds the buffers' " + maxBatch);
        }
        if (full == null) {
            int[] shape = new int[perImage.length + 1];
            shape[0] = maxBatch;
            System.arraycopy(perImage, 0, shape, 1, perImage.length);
            full = backend.allocate(shape);
        }
        return batch == maxBatch ? full : full.rows(0, batch);
    }

    @Override
    public void close() {
        if (full != null) full.close();
    }
}
