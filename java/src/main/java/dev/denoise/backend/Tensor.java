package dev.denoise.backend;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A float32 tensor: a shape and a block of off-heap memory owned by the backend that made it.
 *
 * <p>Layout: dense row-major, images NCHW. NCHW because it is the layout of a PyTorch state_dict
 * (weights load without transposes), cuDNN's best-supported fp32 layout, and, for this project's
 * shapes (C ≤ 32, W ≤ 256), the CPU kernels vectorise along W and over output channels without a
 * layout change between layers; a channel-blocked layout would only pay off for wide layers.
 *
 * <p>On the CPU {@link #memory()} is host memory; on CUDA it is a device address dressed as a
 * segment of the right size, valid only as a native-call argument. Views ({@link #view},
 * {@link #slice}) share memory and never free it; closing the owner frees it for all views, and a
 * later use fails with {@link IllegalStateException}. close is idempotent.
 */
public final class Tensor implements AutoCloseable {
    private final Backend backend;
    private final MemorySegment memory;
    private final int[] shape;
    private final long numel;
    private final AutoCloseable owner; // null for views
    private boolean closed;

    /** For backends: wrap memory of exactly numel(shape) floats; owner (may be null) frees it. */
    public Tensor(Backend backend, MemorySegment memory, int[] shape, AutoCloseable owner) {
        this.backend = backend;
        this.shape = shape.clone();
        this.numel = numel(this.shape);
        if (memory.byteSize() != numel * Float.BYTES) {
            throw new IllegalArgumentException("memory of " + memory.byteSize() + " bytes for shape "
                    + Arrays.toString(shape));
        }
        this.memory = memory;
        this.owner = owner;
    }

    /** The element count of shape: the product of its dimensions (1 for no dimensions). */
    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The backend whose memory this is and whose ops take it. */
    public Backend backend() { return backend; }
    /** The dimensions, outermost first (a copy). */
    public int[] shape() { return shape.clone(); }
    /** The number of dimensions. */
    public int rank() { return shape.length; }
    /** The number of elements. */
    public long numel() { return numel; }
    /** The size in bytes: 4 per element. */
    public long byteSize() { return numel * Float.BYTES; }

    /** Dimension i; negative i counts from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    /** The memory (on CUDA a device address; see the class comment); IllegalStateException once closed. */
    public MemorySegment memory() {
        if (closed) throw new IllegalStateException("tensor " + Arrays.toString(shape) + " is closed");
        return memory;
    }

    /** The same memory with another shape of the same element count. */
    public Tensor view(int... newShape) {
        if (numel(newShape) != numel) {
            throw new IllegalArgumentException("cannot view " + Arrays.toString(shape) + " as " + Arrays.toString(newShape));
        }
        return new Tensor(backend, memory(), newShape, null);
    }

    /** Elements [offset, offset + numel(newShape)) of this tensor, as a tensor of newShape. */
    public Tensor slice(long offset, int... newShape) {
        long n = numel(newShape);
        if (offset < 0 || offset + n > numel) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + (offset + n) + ") of " + numel);
        }
        return new Tensor(backend, memory().asSlice(offset * Float.BYTES, n * Float.BYTES), newShape, null);
    }

    /** Images [from, to) along the first dimension. */
    public Tensor rows(int from, int to) {
        int[] s = shape.clone();
        s[0] = to - from;
        long per = numel / Math.max(1, shape[0]);
        return slice(from * per, s);
    }

    /** Copies to a new Java array (synchronises the backend). */
    public float[] toArray() {
        float[] out = new float[Math.toIntExact(numel)];
        backend.read(this, out);
        return out;
    }

    /** Whether o has exactly this shape (same dimensions, not just the same element count). */
    public boolean sameShape(Tensor o) {
        return Arrays.equals(shape, o.shape);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (owner != null) {
            try {
                owner.close();
            } catch (Exception e) {
                throw new IllegalStateException("freeing tensor memory failed: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + "@" + backend.device();
    }
}
