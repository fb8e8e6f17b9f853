package dev.denoise.api;

import dev.denoise.Denoiser;
import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One Denoiser shared by a pool of threads, as a service shares it across requests: 8 threads ×
 * 50 calls of mixed sizes (28×28, 64×64, 300×200, 1000×700), grey and colour, each result the same
 * bits as the lone call on the same picture; native memory within the pool's cap, RSS outside the
 * heap flat, and every byte freed when the Denoiser closes.
 */
class ConcurrentDenoiserTest {
    static final int THREADS = 8, CALLS = 50;
    static final int[][] SIZES = {{28, 28}, {64, 64}, {200, 300}, {700, 1000}};

    static List<Images.Image> pictures() {
        List<Images.Image> all = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(7);
        for (int[] s : SIZES)
            for (int c : new int[] {1, 3}) {
                float[] p = new float[c * s[0] * s[1]];
                for (int i = 0; i < p.length; i++) p[i] = (float) (rng.nextInt(256) / 255.0);
                all.add(new Images.Image(c, s[0], s[1], p));
            }
        return all;
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void shared_by_8_threads_every_result_is_the_lone_calls() throws Exception {
        CpuBackend cpu = SharedCpu.get();
        List<Images.Image> pics = pictures();
        // a small residual model: colour photos take its opponent path, all sizes its tiles
        ModelConfig c = ModelConfig.defaults(ModelKind.RESIDUAL, 1, 32, 32).withConvWidth(4);
        try (Autoencoder m = Autoencoder.create(cpu, c, 1)) {
            m.initialise(3);
            long before = cpu.liveBytes();
            try (Denoiser d = new Denoiser(m)) {
                List<float[]> lone = new ArrayList<>();
                for (Images.Image p : pics) lone.add(d.denoise(p).pixels());
                ExecutorService pool = Executors.newFixedThreadPool(THREADS);
                try {
                    run(pool, d, pics, lone, pics.size());                  // a first round: models made
                    /* Models are pooled per shape (a tile, or a small picture's own size; one image or
                     * a batch), a slot's worth each, the idle ones capped: which stay idle depends on
                     * the threads' order, so the native bytes move within the cap, never beyond it. */
                    long live = cpu.liveBytes();
                    run(pool, d, pics, lone, CALLS / 2);
                    assertTrue(cpu.liveBytes() <= 2 * live, "native memory " + cpu.liveBytes() + " after the calls, " + live + " after the first round");
                    /* RSS: the first ~30 calls per thread settle the allocator's per-thread arenas and
                     * touch the heap's pages (measured: it rises for 3–4 rounds of 8, then stays
                     * within 2 MiB); the second half must not grow it. The Java heap may still grow
                     * towards its limit (the pictures are arrays): only what lies outside it counts. */
                    long outsideHeap = rss() - heapCommitted();
                    run(pool, d, pics, lone, CALLS - CALLS / 2);
                    assertTrue(cpu.liveBytes() <= 2 * live, "native memory " + cpu.liveBytes() + " after the calls, " + live + " after the first round");
                    long grown = rss() - heapCommitted() - outsideHeap;
                    assertTrue(grown < 32L << 20, "RSS outside the heap grew by " + (grown >> 20) + " MiB over "
                            + THREADS * (CALLS - CALLS / 2) + " calls");
                } finally {
                    pool.shutdownNow();
                }
            }
            // closed: every model it made, idle or not, freed to the byte
            assertEquals(before, cpu.liveBytes(), "native memory once the Denoiser is closed");
        }
    }

    /** calls calls on each of THREADS threads, each checked against the lone call's bits. */
    private static void run(ExecutorService pool, Denoiser d, List<Images.Image> pics, List<float[]> lone, int calls)
            throws Exception {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                for (int k = 0; k < calls; k++) {
                    int i = (thread * 3 + k) % pics.size();
                    assertArrayEquals(lone.get(i), d.denoise(pics.get(i)).pixels(),
                            "thread " + thread + ", call " + k + ": picture " + i);
                }
                return null;
            }));
        }
        for (Future<?> f : done) f.get(200, TimeUnit.SECONDS);
    }

    @Test
    void a_closed_denoiser_refuses_calls() {
        CpuBackend cpu = SharedCpu.get();
        ModelConfig c = ModelConfig.defaults(ModelKind.RESIDUAL, 1, 32, 32).withConvWidth(4);
        try (Autoencoder m = Autoencoder.create(cpu, c, 1)) {
            m.initialise(3);
            long before = cpu.liveBytes();
            Denoiser d = new Denoiser(m);
            d.denoise(pictures().get(2));
            d.close();
            assertEquals(before, cpu.liveBytes(), "close frees every model the calls made");
            assertThrows(IllegalStateException.class, () -> d.denoise(pictures().get(2)));
        }
    }

    static long heapCommitted() {
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    }

    /** Resident set size of this process (Linux), in bytes; 0 elsewhere. */
    static long rss() throws Exception {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) return 0;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
        }
        return 0;
    }
}
