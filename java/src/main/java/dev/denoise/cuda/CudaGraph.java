package dev.denoise.cuda;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.JCudaDriver;

import java.util.List;

/**
 * A captured sequence of GPU work (a training step) that replays with one launch: the CPU cost of
 * dozens of kernel launches and cuDNN/cuBLAS calls is paid once, at capture. Made by
 * {@link CudaBackend#captureGraph}.
 *
 * <p>A replay repeats the captured work exactly: same device addresses, same scalar arguments. A
 * value that changes from step to step (Adam's rate and corrections, a noise or sampling offset)
 * therefore reaches the ops through device memory written before {@link #launch()}
 * ({@link dev.denoise.backend.Backend#set}, {@link dev.denoise.backend.Backend#setLong}); the
 * training step is built that way, and {@link CudaBackend#replayable} records it.
 * close is idempotent; launch after close throws.
 */
public final class CudaGraph implements AutoCloseable {
    private final CudaBackend backend;
    private final CUgraph graph;
    private final CUgraphExec exec;
    private final List<CudaBackend.Block> held; // freed during capture, still used by the graph
    private boolean closed;

    CudaGraph(CudaBackend backend, CUgraph graph, CUgraphExec exec, List<CudaBackend.Block> held) {
        this.backend = backend;
        this.graph = graph;
        this.exec = exec;
        this.held = held;
    }

    /** Queues one replay on the backend's stream (asynchronous, like every op). */
    public void launch() {
        if (closed) throw new IllegalStateException("CUDA graph is closed");
        backend.launchGraph(exec);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        backend.makeCurrent();
        Driver.check(JCudaDriver.cuGraphExecDestroy(exec), "cuGraphExecDestroy");
        Driver.check(JCudaDriver.cuGraphDestroy(graph), "cuGraphDestroy");
        backend.releaseAll(held);
    }
}
