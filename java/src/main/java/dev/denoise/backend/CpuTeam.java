package dev.denoise.backend;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The CPU backend's threads for {@link Backend#forEachChunk}: the calling thread and threads − 1
 * workers take chunk indices from one counter until none are left.
 *
 * <p>Why not one OpenMP region per op: a conv training step is some 60 ops, each ending at a barrier
 * where every thread waits for the slowest. When another process takes a core, the thread it
 * preempts holds every one of those barriers for a scheduler time slice (ms), and the waiting
 * threads spin on; throughput collapsed to a third with one busy process on two cores. Here a step
 * has one such wait: a preempted thread holds back only the chunk it is on, and the others take
 * the rest. Small batches gain the same way: the serial stretches between ops run on every thread
 * at once, on different chunks.
 *
 * <p>Waiting: workers spin for {@link #SPIN_NANOS} after their last chunk (the next step's chunks
 * usually come sooner), then park; the caller spins as long, then parks until the thread that
 * finishes the last chunk wakes it, leaving its core to whichever thread still has a chunk.
 */
final class CpuTeam implements AutoCloseable {
    /** How long an idle thread spins before it parks or yields: about one small op. */
    static final long SPIN_NANOS = 50_000;

    /** One forEachChunk call. */
    private static final class Job {
        final IntConsumer body;
        final int count;
        final Thread caller = Thread.currentThread();
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(IntConsumer body, int count) {
            this.body = body;
            this.count = count;
        }

        /** Runs chunks until none is left to claim; a failed chunk stops the claiming of new ones. */
        void work() {
            for (int c; (c = next.getAndIncrement()) < count; ) {
                try {
                    if (failure == null) body.accept(c);
                } catch (Throwable t) {
                    synchronized (this) {
                        if (failure == null) failure = t;
                        else if (failure != t) failure.addSuppressed(t);
                    }
                } finally {
                    if (done.incrementAndGet() == count) LockSupport.unpark(caller);
                }
            }
        }
    }

    private final Thread[] workers;
    private final AtomicBoolean busy = new AtomicBoolean(); // not reentrant: one job at a time
    private volatile Job job;
    private volatile boolean closed;

    /** threads − 1 daemon workers, started now; each runs its ops on itself alone (see onWorker). */
    CpuTeam(int threads, Runnable onWorker) {
        workers = new Thread[Math.max(0, threads - 1)];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().daemon().name("denoise-cpu-" + (i + 1)).unstarted(() -> {
                onWorker.run();
                loop();
            });
            workers[i].start();
        }
    }

    /**
     * Runs body(0 … count−1), each index once, then returns; rethrows the first failure (later ones
     * suppressed in it). Returns false, having run nothing, when the team is busy with another job: the
     * caller runs the chunks itself.
     */
    boolean run(int count, IntConsumer body) {
        if (!busy.compareAndSet(false, true)) return false;
        try {
            Job j = new Job(body, count);
            job = j;
            for (Thread w : workers) LockSupport.unpark(w);
            j.work();
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (j.done.get() < count) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 1_000_000); // the last chunk's thread unparks it
            }
            job = null;
            Throwable t = j.failure;
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
            return true;
        } finally {
            busy.set(false);
        }
    }

    private void loop() {
        Job seen = null;
        while (!closed) {
            Job j = job;
            if (j != null && j != seen) {
                seen = j;
                j.work();
                continue;
            }
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (job == j && !closed && System.nanoTime() < spinUntil) Thread.onSpinWait();
            if (job == j && !closed) LockSupport.park(this);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
