package dev.denoise.train;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.data.Dataset;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The training images on the backend. A fixed set (MNIST) is written once. Patches, cut anew every
 * epoch, go through staging memory in one copy per epoch that the host does not wait for: queued
 * behind the last epoch's steps, which still read the old images.
 */
final class Uploads implements AutoCloseable {
    private final Backend backend;
    private final Tensor data;
    private Dataset current;
    private Backend.Staging stage; // made when a second set of images arrives

    Uploads(Backend backend, Tensor data) {
        this.backend = backend;
        this.data = data;
    }

    /** Makes data hold images (the same object as last time: nothing to do). */
    void epoch(Dataset images) {
        if (images == current) return;
        float[] src = images.images();
        if (current == null) {
            backend.write(data, src);
        } else {
            if (stage == null) stage = backend.staging(data.numel());
            stage.await(); // the last upload has left the staging memory
            MemorySegment.copy(src, 0, stage.memory(), ValueLayout.JAVA_FLOAT, 0, Math.toIntExact(data.numel()));
            backend.upload(data, stage, 0);
        }
        current = images;
    }

    @Override
    public void close() {
        if (stage != null) stage.close();
    }
}
