package dev.denoise.nn;

import dev.denoise.backend.Tensor;

/**
 * One step of a network on a batch. A layer owns its output and input-gradient buffers, sized for
 * the largest batch once at construction (no allocation per step); a smaller batch uses the first
 * rows. forward keeps what backward needs (its input and output views).
 */
public interface Layer extends AutoCloseable {
    /** Per-image output shape for a per-image input shape. */
    int[] outputShape();

    /** y for a batch x (B, ...inputShape); the returned tensor is this layer's buffer, valid until the next call. */
    Tensor forward(Tensor x);

    /**
     * From dy (the gradient of the loss by this layer's output), writes parameter gradients and
     * returns dx, or null when needInputGrad is false (the first layer).
     * dy may be overwritten.
     */
    Tensor backward(Tensor dy, boolean needInputGrad);

    @Override
    void close();
}
