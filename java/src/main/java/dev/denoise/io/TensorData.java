package dev.denoise.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * One named float32 tensor as stored in a safetensors file: its shape and its values in row-major
 * (C) order, the layout PyTorch uses for a contiguous tensor, so a state_dict entry maps onto it
 * one to one.
 *
 * <p>A scalar has shape {@code []} and one value; a tensor with a dimension of 0 has no values.
 * The shape is copied on the way in and out because the record's invariant (values = product of
 * the dimensions) depends on it; the values are shared, not copied, since weights can be large.
 * Equality compares the values bit for bit ({@link Float#floatToIntBits}), which is what a
 * round-trip through a file must preserve.
 */
public record TensorData(String name, int[] shape, float[] data) {

    /** Copies the shape and checks it: no negative dimension, and one value per element. */
    public TensorData {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        // Saturates above 2^31 (no array holds more) but still sees a later 0, which empties it.
        long elements = 1;
        boolean empty = false;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has negative dimension in shape "
                        + Arrays.toString(shape));
            }
            if (d == 0) {
                empty = true;
            } else if (elements <= Integer.MAX_VALUE) {
                elements *= d;
            }
        }
        if (empty) {
            elements = 0;
        }
        if (elements != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "' of shape " + Arrays.toString(shape)
                    + " needs " + (elements > Integer.MAX_VALUE ? "more than 2^31" : String.valueOf(elements))
                    + " values, got " + data.length);
        }
    }

    /** A copy of the shape; changing it cannot break the tensor. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of dimensions; 0 for a scalar. */
    public int rank() {
        return shape.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && name.equals(t.name) && Arrays.equals(shape, t.shape)
                && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(shape), Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return "TensorData[" + name + " " + Arrays.toString(shape) + "]";
    }
}
