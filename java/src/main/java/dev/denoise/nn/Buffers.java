package dev.denoise.nn;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

/** Batch-sized activation buffers of a layer: allocated once for maxBatch, viewed per batch. */
final class Buffers implements AutoCloseable {
    private final Tensor full;
    private final int[] perImage;

    Buffers(Backend backend, int maxBatch, int[] perImage) {
        this.perImage = perImage.clone();
        int[] shape = new int[perImage.length + 1];
        shape[0] = maxBatch;
        System.arraycopy(perImage, 0, shape, 1, perImage.length);
        this.full = backend.allocate(shape);
    }

    /** The first `batch` images. */
    Tensor rows(int batch) {
        if (batch > full.dim(0)) {
            throw new IllegalArgumentException("batch " + batch + " exceeds the buffers' " + full.dim(0));
        }
        return batch == full.dim(0) ? full : full.rows(0, batch);
    }

    int[] perImage() {
        return perImage.clone();
    }

    @Override
    public void close() {
        full.close();
    }
}
