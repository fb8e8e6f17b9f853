package dev.denoise.cuda;

import dev.denoise.Denoiser;
import dev.denoise.backend.CpuBackend;
import dev.denoise.io.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped photo model through a Denoiser on the GPU: the CPU's picture within rounding (grey
 * and colour, one tile and many, the opponent path), and four threads sharing one GPU Denoiser get
 * each the lone call's bits (the pool gives the GPU one call at a time). Skips with the probe's
 * reason without a GPU (fails under -Dgpu.required=true).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class CudaDenoiserTest {
    private static Images.Image picture(int c, int h, int w, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] p = new float[c * h * w];
        for (int i = 0; i < p.length; i++) {
            int y = i / w % h, x = i % w;
            p[i] = (float) Math.clamp(0.5 + 0.3 * Math.sin(x / 17.0 + y / 29.0) + rng.nextGaussian() * 0.1, 0, 1);
        }
        return new Images.Image(c, h, w, p);
    }

    @Test
    void the_gpu_gives_the_cpus_pictures_and_shares_one_denoiser_across_threads() throws Exception {
        GpuTests.requireCuda();
        List<Images.Image> pics = List.of(picture(1, 300, 420, 1), picture(3, 257, 333, 2), picture(1, 600, 900, 3),
                picture(3, 480, 700, 4));
        try (CpuBackend cpu = new CpuBackend(); CudaBackend gpu = CudaBackend.open();
             Denoiser onCpu = Denoiser.pretrained(cpu); Denoiser onGpu = Denoiser.pretrained(gpu)) {
            List<float[]> lone = new ArrayList<>();
            for (Images.Image p : pics) {
                float[] g = onGpu.denoise(p).pixels(), c = onCpu.denoise(p).pixels();
                double worst = 0;
                for (int i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - c[i]));
                assertTrue(worst < 2e-3, p + ": GPU and CPU differ by " + worst);
                lone.add(g);
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int thread = t;
                    done.add(pool.submit(() -> {
                        for (int k = 0; k < 6; k++) {
                            int i = (thread + k) % pics.size();
                            assertArrayEquals(lone.get(i), onGpu.denoise(pics.get(i)).pixels(), "thread " + thread + ", picture " + i);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) f.get(240, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            BufferedImage out = onGpu.denoise(Images.toBufferedImage(pics.get(1)));
            assertEquals(333, out.getWidth());
        }
    }
}
