package dev.denoise.cuda;

import dev.denoise.backend.ConvDims;
import dev.denoise.ffm.Cudnn;
import dev.denoise.ffm.Cudnn.AlgoPerf;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cuDNN side of conv2d_forward / conv2d_backward_data / conv2d_backward_filter: one plan per
 * shape (N,C,H,W,K,R,S) holding the descriptors and, per direction, the algorithm chosen on first use
 * with cudnnFind*Algorithm (it times every candidate once, so the choice is made outside the training
 * loop and outside CUDA graph capture, then cached).
 *
 * <p>Choice rule: the fastest candidate that succeeded, is deterministic (CUDNN_DETERMINISTIC: the same
 * bits on every run, which rules out the atomics-based backward algorithms) and needs at most
 * {@link #WORKSPACE_LIMIT}. Math: CUDNN_FMA_MATH unless TF32 was asked for, because cuDNN 8/9 may
 * otherwise run fp32 convolutions on TF32 tensor cores (10-bit mantissa products) on Ampere and newer,
 * which would break fp32 parity with the CPU. One workspace buffer serves every plan; it only grows
 * while an algorithm is being chosen.
 */
final class Convolutions implements AutoCloseable {
    static final long WORKSPACE_LIMIT = 512L << 20;
    private static final int CANDIDATES = 16;

    private final CudaBackend backend;
    private final MemorySegment cudnn;
    private final boolean tf32;
    private final Map<ConvDims, Plan> plans = new HashMap<>();
    private Driver.DevicePointer workspace;
    private long workspaceBytes;

    Convolutions(CudaBackend backend, MemorySegment cudnn, boolean tf32) {
        this.backend = backend;
        this.cudnn = cudnn;
        this.tf32 = tf32;
    }

    /** Descriptors of one shape; algo -1 until chosen. One convolution descriptor per direction,
     *  because each direction's chosen algorithm may want its own math type. */
    private final class Plan {
        final ConvDims shape;
        final MemorySegment x, y, w, convFwd, convData, convFilter;
        int fwdAlgo = -1, dataAlgo = -1, filterAlgo = -1;
        long fwdBytes, dataBytes, filterBytes;

        Plan(ConvDims d) {
            shape = d;
            x = tensor(d.n(), d.c(), d.h(), d.w());
            y = tensor(d.n(), d.k(), d.h(), d.w());
            w = Cudnn.cudnnCreateFilterDescriptor();
            Cudnn.cudnnSetFilter4dDescriptor(w, Cudnn.CUDNN_DATA_FLOAT, Cudnn.CUDNN_TENSOR_NCHW, d.k(), d.c(), d.r(), d.s());
            convFwd = conv(d.r(), d.s());
            convData = conv(d.r(), d.s());
            convFilter = conv(d.r(), d.s());
        }

        void destroy() {
            Cudnn.cudnnDestroyTensorDescriptor(x);
            Cudnn.cudnnDestroyTensorDescriptor(y);
            Cudnn.cudnnDestroyFilterDescriptor(w);
            Cudnn.cudnnDestroyConvolutionDescriptor(convFwd);
            Cudnn.cudnnDestroyConvolutionDescriptor(convData);
            Cudnn.cudnnDestroyConvolutionDescriptor(convFilter);
        }
    }

    private static MemorySegment tensor(int n, int c, int h, int w) {
        MemorySegment t = Cudnn.cudnnCreateTensorDescriptor();
        Cudnn.cudnnSetTensor4dDescriptor(t, Cudnn.CUDNN_TENSOR_NCHW, Cudnn.CUDNN_DATA_FLOAT, n, c, h, w);
        return t;
    }

    /** 'same' padding for odd R, S; stride 1, dilation 1; cross-correlation, as native/conv2d.c. */
    private MemorySegment conv(int r, int s) {
        MemorySegment c = Cudnn.cudnnCreateConvolutionDescriptor();
        Cudnn.cudnnSetConvolution2dDescriptor(c, (r - 1) / 2, (s - 1) / 2, 1, 1, 1, 1, Cudnn.CUDNN_CROSS_CORRELATION,
                Cudnn.CUDNN_DATA_FLOAT);
        Cudnn.cudnnSetConvolutionMathType(c, tf32 ? Cudnn.CUDNN_DEFAULT_MATH : Cudnn.CUDNN_FMA_MATH);
        return c;
    }

    private Plan plan(ConvDims d) {
        return plans.computeIfAbsent(d, Plan::new);
    }

    /** Every dimension of d positive (the raw table handles empty ones). */
    void forward(MemorySegment out, MemorySegment inp, MemorySegment weight, ConvDims d) {
        Plan p = plan(d);
        if (p.fwdAlgo < 0) {
            beforeChoosing(p, "forward");
            AlgoPerf a = pick(Cudnn.cudnnFindConvolutionForwardAlgorithm(cudnn, p.x, p.w, p.convFwd, p.y, CANDIDATES), p, "forward");
            mathType(p.convFwd, a);
            p.fwdBytes = Cudnn.cudnnGetConvolutionForwardWorkspaceSize(cudnn, p.x, p.w, p.convFwd, p.y, a.algo());
            growWorkspace(p.fwdBytes);
            p.fwdAlgo = a.algo();
        }
        Cudnn.cudnnConvolutionForward(cudnn, 1f, p.x, inp, p.w, weight, p.convFwd, p.fwdAlgo,
                workspace(), p.fwdBytes, 0f, p.y, out);
    }

    void backwardData(MemorySegment dinp, MemorySegment dout, MemorySegment weight, ConvDims d) {
        Plan p = plan(d);
        if (p.dataAlgo < 0) {
            beforeChoosing(p, "backward data");
            AlgoPerf a = pick(Cudnn.cudnnFindConvolutionBackwardDataAlgorithm(cudnn, p.w, p.y, p.convData, p.x, CANDIDATES),
                    p, "backward data");
            mathType(p.convData, a);
            p.dataBytes = Cudnn.cudnnGetConvolutionBackwardDataWorkspaceSize(cudnn, p.w, p.y, p.convData, p.x, a.algo());
            growWorkspace(p.dataBytes);
            p.dataAlgo = a.algo();
        }
        Cudnn.cudnnConvolutionBackwardData(cudnn, 1f, p.w, weight, p.y, dout, p.convData, p.dataAlgo,
                workspace(), p.dataBytes, 0f, p.x, dinp);
    }

    void backwardFilter(MemorySegment dweight, MemorySegment dout, MemorySegment inp, ConvDims d) {
        Plan p = plan(d);
        if (p.filterAlgo < 0) {
            beforeChoosing(p, "backward filter");
            AlgoPerf a = pick(Cudnn.cudnnFindConvolutionBackwardFilterAlgorithm(cudnn, p.x, p.y, p.convFilter, p.w,
                    CANDIDATES), p, "backward filter");
            mathType(p.convFilter, a);
            p.filterBytes = Cudnn.cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnn, p.x, p.y, p.convFilter, p.w, a.algo());
            growWorkspace(p.filterBytes);
            p.filterAlgo = a.algo();
        }
        // beta 0: the filter gradient is overwritten, as denoise.h specifies
        Cudnn.cudnnConvolutionBackwardFilter(cudnn, 1f, p.x, inp, p.y, dout, p.convFilter,
                p.filterAlgo, workspace(), p.filterBytes, 0f, p.w, dweight);
    }

    private void beforeChoosing(Plan p, String direction) {
        if (backend.capturing()) {
            throw new IllegalStateException("conv2d " + direction + " of shape " + p.shape + " is first used during CUDA"
                    + " graph capture; run the step once before captureGraph so cuDNN can choose its algorithm");
        }
    }

    /** With TF32 allowed, run the algorithm in the math type it was timed with; otherwise keep FMA. */
    private void mathType(MemorySegment conv, AlgoPerf a) {
        if (tf32) Cudnn.cudnnSetConvolutionMathType(conv, a.mathType());
    }

    static AlgoPerf pick(List<AlgoPerf> candidates, Object shape, String direction) {
        for (AlgoPerf a : candidates) {
            if (a.status() == 0 && a.determinism() == Cudnn.CUDNN_DETERMINISTIC && a.memory() <= WORKSPACE_LIMIT) return a;
        }
        throw new IllegalStateException("cuDNN offers no deterministic conv2d " + direction + " algorithm for shape "
                + shape + " within " + (WORKSPACE_LIMIT >> 20) + " MiB of workspace; candidates: " + candidates);
    }

    private static AlgoPerf pick(List<AlgoPerf> candidates, Plan p, String direction) {
        return pick(candidates, p.shape, direction);
    }

    private void growWorkspace(long bytes) {
        if (bytes <= workspaceBytes) return;
        long size = DeviceArena.alignUp(bytes, 1L << 20);
        backend.synchronize(); // the old buffer may still be in use by queued work
        if (workspace != null) backend.free(workspace);
        workspace = null;
        workspaceBytes = 0;
        workspace = backend.deviceAlloc(size);
        workspaceBytes = size;
    }

    private MemorySegment workspace() {
        return workspace == null ? MemorySegment.NULL : MemorySegment.ofAddress(workspace.address());
    }

    @Override
    public void close() {
        List<RuntimeException> errors = new ArrayList<>();
        for (Plan p : plans.values()) {
            try {
                p.destroy();
            } catch (RuntimeException e) {
                errors.add(e);
            }
        }
        plans.clear();
        if (workspace != null) {
            backend.free(workspace);
            workspace = null;
            workspaceBytes = 0;
        }
        if (!errors.isEmpty()) throw errors.getFirst();
    }
}
