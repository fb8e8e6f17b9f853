package dev.denoise.backend;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Backend#forEachChunk} on the CPU: every chunk once, failures reported, callers from many threads. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CpuTeamTest {
    @Test
    void every_chunk_runs_once_and_ops_inside_run_on_one_thread() {
        try (CpuBackend cpu = new CpuBackend(3); Tensor t = cpu.allocate(64)) {
            for (int round = 0; round < 200; round++) {
                AtomicIntegerArray hits = new AtomicIntegerArray(37);
                cpu.forEachChunk(37, c -> {
                    hits.incrementAndGet(c);
                    if (c == 0) cpu.fill(t, 1f); // an op from inside a chunk
                });
                for (int c = 0; c < 37; c++) assertEquals(1, hits.get(c), "chunk " + c + " in round " + round);
            }
            assertEquals(1f, t.toArray()[63]);
        }
    }

    /** A step's ops around its chunks run serially; its chunks still spread over the threads. */
    @Test
    void chunks_spread_over_threads_inside_serial_ops_and_nested_chunks_stay_on_their_thread() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            ConcurrentHashMap<Thread, Boolean> outer = new ConcurrentHashMap<>();
            AtomicInteger strayed = new AtomicInteger();
            cpu.serially(() -> cpu.forEachChunk(20, c -> {
                outer.put(Thread.currentThread(), true);
                Thread self = Thread.currentThread();
                cpu.forEachChunk(3, inner -> { if (Thread.currentThread() != self) strayed.incrementAndGet(); });
                try {
                    Thread.sleep(2); // long enough that the worker, woken at the start, takes some
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertEquals(2, outer.size(), "chunks ran on " + outer.keySet());
            assertEquals(0, strayed.get(), "nested chunks left their thread");
        }
    }

    @Test
    void a_failing_chunk_is_rethrown_after_the_others_and_the_team_still_works() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            IllegalStateException boom = new IllegalStateException("chunk 5");
            AtomicInteger ran = new AtomicInteger();
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> cpu.forEachChunk(20, c -> {
                ran.incrementAndGet();
                if (c == 5) throw boom;
            }));
            assertSame(boom, thrown);
            assertTrue(ran.get() >= 6, "chunks before the failure ran");
            AtomicInteger after = new AtomicInteger();
            cpu.forEachChunk(10, c -> after.incrementAndGet());
            assertEquals(10, after.get());
        }
    }

    @Test
    void nested_and_concurrent_callers_each_get_all_their_chunks() throws InterruptedException {
        try (CpuBackend cpu = new CpuBackend(2)) {
            ConcurrentHashMap<String, Integer> seen = new ConcurrentHashMap<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> callers = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int k = 0; k < 4; k++) {
                int caller = k;
                callers.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        for (int round = 0; round < 50; round++) {
                            int r = round;
                            cpu.forEachChunk(6, c -> cpu.forEachChunk(3, inner ->
                                    seen.merge(caller + "/" + r + "/" + c + "/" + inner, 1, Integer::sum)));
                        }
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }));
            }
            start.countDown();
            for (Thread t : callers) t.join();
            assertTrue(failures.isEmpty(), failures.toString());
            assertEquals(4 * 50 * 6 * 3, seen.size());
            assertTrue(seen.values().stream().allMatch(v -> v == 1));
        }
    }
}
