package dev.denoise.api;

import dev.denoise.BadInputException;
import dev.denoise.Denoiser;
import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.io.Images;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Denoiser.builder(): the model from a stream or by name, the device, calls at once, tile size. */
class DenoiserBuilderTest {
    static Images.Image picture(int c, int h, int w) {
        SplittableRandom rng = new SplittableRandom(c * 31L + h);
        float[] p = new float[c * h * w];
        for (int i = 0; i < p.length; i++) p[i] = (float) (rng.nextInt(256) / 255.0);
        return new Images.Image(c, h, w, p);
    }

    @Test
    void a_stream_a_name_and_options_give_the_shipped_models_results() throws Exception {
        CpuBackend cpu = SharedCpu.get();
        Images.Image pic = picture(1, 300, 520);
        float[] expected;
        try (Denoiser d = Denoiser.pretrained(cpu)) {
            expected = d.denoise(pic).pixels();
        }
        try (InputStream in = Denoiser.class.getResourceAsStream("/dev/denoise/models/photo.safetensors");
             Denoiser d = Denoiser.builder().model(in, "photo.safetensors").backend(cpu).concurrentCalls(1).build()) {
            assertArrayEquals(expected, d.denoise(pic).pixels(), "the same weights from a stream");
        }
        try (Denoiser d = Denoiser.builder().bundled("photo").device("cpu").build()) {
            assertArrayEquals(expected, d.denoise(pic).pixels(), "on a CPU backend of its own");
        }
        try (Denoiser d = Denoiser.builder().device("cpu").threads(1).build()) {
            assertEquals(1, ((CpuBackend) d.model().backend()).threads());
            assertArrayEquals(expected, d.denoise(pic).pixels(), "on one thread: the same bits");
        }
        try (Denoiser d = Denoiser.builder().backend(cpu).tileSize(256).build()) {
            float[] got = d.denoise(pic).pixels();   // other cuts, the same image up to rounding
            for (int i = 0; i < got.length; i++) assertTrue(Math.abs(got[i] - expected[i]) < 1e-4, "value " + i);
        }
    }

    @Test
    void bad_models_and_options_are_refused() {
        BadInputException e = assertThrows(BadInputException.class, () -> Denoiser.builder()
                .model(new ByteArrayInputStream(new byte[] {1, 2, 3}), "upload.safetensors").backend(SharedCpu.get()).build());
        assertTrue(e.getMessage().startsWith("upload.safetensors: "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Denoiser.builder().concurrentCalls(0));
        assertThrows(IllegalArgumentException.class, () -> Denoiser.builder().tileSize(0));
        assertThrows(IllegalArgumentException.class, () -> Denoiser.builder().threads(0));
        assertThrows(BadInputException.class, () -> Denoiser.builder().bundled("nosuch").backend(SharedCpu.get()).build());
    }
}
