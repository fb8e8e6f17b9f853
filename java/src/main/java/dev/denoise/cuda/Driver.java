package dev.denoise.cuda;

import dev.denoise.ffm.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

import java.lang.foreign.MemorySegment;

/**
 * The small glue between JCuda's driver API and the rest of the backend: status checks, and raw
 * addresses for device pointers and streams (cuBLAS/cuDNN take them through FFM, and a Tensor's
 * memory() is its device address dressed as a MemorySegment).
 *
 * <p>JCuda keeps a native handle in a protected field; the two subclasses below read it. JCuda's JNI
 * code passes a device pointer as its native value plus its byte offset, so a pointer made at
 * offset {@code address} from a null pointer is the raw address {@code address}.
 */
final class Driver {
    private Driver() {}

    /** Throws unless rc is CUDA_SUCCESS, naming the call and the driver's error name. */
    static void check(int rc, String call) {
        if (rc != CUresult.CUDA_SUCCESS) throw new CudaException(call, rc, CUresult.stringFor(rc));
    }

    /** A device pointer whose raw address Java can read. */
    static final class DevicePointer extends CUdeviceptr {
        DevicePointer() {
            super();
        }

        private DevicePointer(long address) {
            super(new CUdeviceptr(), address);
        }

        /** The pointer to a raw device address. */
        static DevicePointer at(long address) {
            return new DevicePointer(address);
        }

        static DevicePointer of(MemorySegment deviceMemory) {
            return new DevicePointer(deviceMemory.address());
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    /** Page-locked host memory from cuMemAllocHost, whose raw address Java can read. */
    static final class HostPointer extends Pointer {
        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    /** A stream whose raw CUstream handle Java can pass to cuBLAS and cuDNN. */
    static final class Stream extends CUstream {
        MemorySegment handle() {
            return MemorySegment.ofAddress(getNativePointer());
        }
    }
}
