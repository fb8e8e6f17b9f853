package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.backend.Tensor;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Large pictures run through the conv model in overlapping tiles; for sizes the whole-image model
 * can take (H, W divisible by 4) the tiled result is that model's result: no seams, no border
 * effects at the cuts. 1e-5 absolute allows for the blend's rounding (outputs are in [0, 1]).
 */
class TilingTest {
    @ParameterizedTest(name = "{0}x{1}x{2}")
    @CsvSource({"1, 300, 412", "3, 260, 256", "1, 520, 604"})
    void tiled_equals_whole_image(int c, int h, int w) {
        Backend cpu = SharedCpu.get();
        SplittableRandom rng = new SplittableRandom(h * 31L + w);
        float[] px = new float[c * h * w];
        for (int i = 0; i < px.length; i++) px[i] = (float) rng.nextDouble();
        ModelConfig small = ModelConfig.defaults(ModelKind.CONV, c, 28, 28);
        try (Autoencoder model = Autoencoder.create(cpu, small, 1);
             Autoencoder whole = Autoencoder.create(cpu, ModelConfig.defaults(ModelKind.CONV, c, h, w), 1);
             Denoiser tiles = new Denoiser(model)) {
            model.initialise(5);
            cpu.copy(whole.parameters().values(), model.parameters().values());
            float[] tiled = tiles.denoise(new Images.Image(c, h, w, px)).pixels();
            float[] direct;
            try (Tensor in = cpu.allocate(1, c, h, w); Tensor out = cpu.allocate(1, c, h, w)) {
                cpu.write(in, px);
                whole.reconstruct(in, out);
                direct = out.toArray();
            }
            double worst = 0;
            int at = -1;
            for (int i = 0; i < px.length; i++) {
                double d = Math.abs(tiled[i] - direct[i]);
                if (d > worst) { worst = d; at = i; }
            }
            int fi = at;
            double fw = worst;
            assertTrue(worst <= 1e-5, () -> "tiled differs from whole at (c,y,x) = (" + fi / (h * w) + ", "
                    + fi % (h * w) / w + ", " + fi % w + "): " + tiled[fi] + " vs " + direct[fi] + " (" + fw + ")");
        }
    }
}
