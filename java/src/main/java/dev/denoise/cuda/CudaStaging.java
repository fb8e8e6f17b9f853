package dev.denoise.cuda;

import dev.denoise.backend.Backend;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Page-locked host memory (cuMemAllocHost) with the event of the last copy queued into or out of it.
 * Only page-locked memory lets cuMemcpy*Async return at once; from pageable memory the driver stages
 * the copy itself and the host waits. The segment is bound to a shared arena that closes before the
 * memory is freed, so a use after close throws instead of touching freed memory.
 */
final class CudaStaging extends Backend.Staging {
    private final CudaBackend backend;
    private final Driver.HostPointer host = new Driver.HostPointer();
    private final CUevent event = new CUevent();
    private final Arena scope = Arena.ofShared();
    private final MemorySegment memory;
    private boolean recorded, closed;

    CudaStaging(CudaBackend backend, long count) {
        this.backend = backend;
        long bytes = count * Float.BYTES;
        Driver.check(JCudaDriver.cuMemAllocHost(host, bytes), "cuMemAllocHost(" + bytes + " bytes)");
        int rc = JCudaDriver.cuEventCreate(event, CUevent_flags.CU_EVENT_DISABLE_TIMING);
        if (rc != CUresult.CUDA_SUCCESS) {
            JCudaDriver.cuMemFreeHost(host);
            Driver.check(rc, "cuEventCreate");
        }
        memory = MemorySegment.ofAddress(host.address()).reinterpret(bytes, scope, null);
    }

    /** The host address at byteOffset, as the copy calls take it. */
    Pointer pointer(long byteOffset) {
        if (closed) throw new IllegalStateException("staging memory is closed");
        return host.withByteOffset(byteOffset);
    }

    /** Marks the end of the copy just queued on stream. */
    void recordOn(Driver.Stream stream) {
        Driver.check(JCudaDriver.cuEventRecord(event, stream), "cuEventRecord");
        recorded = true;
    }

    @Override
    public MemorySegment memory() {
        if (closed) throw new IllegalStateException("staging memory is closed");
        return memory;
    }

    @Override
    public boolean done() {
        if (!recorded || closed) return true;
        backend.makeCurrent();
        int rc = JCudaDriver.cuEventQuery(event);
        if (rc == CUresult.CUDA_ERROR_NOT_READY) return false;
        Driver.check(rc, "cuEventQuery");
        return true;
    }

    @Override
    public void await() {
        if (!recorded || closed) return;
        backend.makeCurrent();
        Driver.check(JCudaDriver.cuEventSynchronize(event), "cuEventSynchronize");
    }

    /** Waits for the last copy (the memory may not be freed under it), then frees event and memory. */
    @Override
    public void close() {
        if (closed) return;
        try {
            await();
        } finally {
            closed = true;
            scope.close();
            backend.makeCurrent();
            JCudaDriver.cuEventDestroy(event);
            Driver.check(JCudaDriver.cuMemFreeHost(host), "cuMemFreeHost");
            backend.forget(this);
        }
    }
}
