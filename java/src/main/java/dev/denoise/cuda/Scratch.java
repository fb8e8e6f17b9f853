package dev.denoise.cuda;

import java.lang.foreign.MemorySegment;

/**
 * A device buffer that an op reuses on every call instead of allocating: it grows to the largest
 * size asked, in whole MiB, and only outside CUDA graph capture (a graph keeps the address it saw,
 * and capture may not allocate). Run a step once eagerly before capturing it, and every scratch
 * it needs has its size. A block outgrown after a graph was captured may still be read by that graph,
 * so it is kept until the backend closes rather than freed.
 */
final class Scratch implements AutoCloseable {
    private final CudaBackend backend;
    private final String user;
    private Driver.DevicePointer block;
    private long capacity, capturesAtAlloc;

    Scratch(CudaBackend backend, String user) {
        this.backend = backend;
        this.user = user;
    }

    /** At least bytes of device memory, valid until the next larger request or close. */
    MemorySegment get(long bytes) {
        if (bytes > capacity) {
            if (backend.capturing()) {
                throw new IllegalStateException(user + " needs " + bytes + " bytes of scratch during CUDA graph capture,"
                        + " more than the " + capacity + " it has; run the step once before capturing it");
            }
            if (block != null && backend.captures() > capturesAtAlloc) {
                backend.retire(block); // a graph captured since may read it: freed with the backend
                block = null;
            }
            close(); // cuMemFree waits for queued work that may still read the old block
            long size = DeviceArena.alignUp(Math.max(bytes, 1), 1L << 20);
            block = backend.deviceAlloc(size);
            capacity = size;
            capturesAtAlloc = backend.captures();
        }
        return MemorySegment.ofAddress(block.address()).reinterpret(bytes);
    }

    @Override
    public void close() {
        if (block != null) backend.free(block);
        block = null;
        capacity = 0;
    }
}
