package dev.denoise.cuda;

import dev.denoise.backend.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One cuMemAlloc carved into tensors by bumping an offset: a model's parameters, gradients,
 * optimizer state and activations for a run come from one block, so the training loop never calls
 * cuMemAlloc (which can synchronise the device) and a CUDA graph sees fixed addresses.
 *
 * <p>Tensors are 256-byte aligned (cuDNN's and cuBLAS' preferred alignment) and zero-filled. Closing
 * one of them does nothing; closing the arena frees them all, and must come after their last use.
 * Made by {@link CudaBackend#arena(long)}; close is idempotent.
 */
public final class DeviceArena implements AutoCloseable {
    static final long ALIGN = 256;

    private final CudaBackend backend;
    private final Driver.DevicePointer base;
    private final long capacity;
    private long used;
    private boolean closed;

    DeviceArena(CudaBackend backend, Driver.DevicePointer base, long capacity) {
        this.backend = backend;
        this.base = base;
        this.capacity = capacity;
    }

    /** A zero-filled tensor from the arena; throws if the arena is full. */
    public Tensor allocate(int... shape) {
        if (closed) throw new IllegalStateException("device arena is closed");
        long bytes = Math.multiplyExact(Tensor.numel(shape), (long) Float.BYTES);
        long offset = alignUp(used, ALIGN);
        if (offset + bytes > capacity) {
            throw new IllegalStateException("device arena of " + capacity + " bytes is full: " + Arrays.toString(shape)
                    + " needs " + bytes + " more bytes at offset " + offset);
        }
        used = offset + bytes;
        MemorySegment memory = MemorySegment.ofAddress(base.address() + offset).reinterpret(bytes);
        Tensor t = new Tensor(backend, memory, shape, () -> { });
        backend.fill(t, 0f);
        return t;
    }

    public long used() {
        return used;
    }

    public long capacity() {
        return capacity;
    }

    static long alignUp(long x, long a) {
        return (x + a - 1) / a * a;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        backend.free(base);
    }
}
