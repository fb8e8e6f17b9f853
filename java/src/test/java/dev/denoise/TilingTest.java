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
 * Large pictures run through the conv and skip models in overlapping tiles; for sizes the
 * whole-image model can take (H, W divisible by 2^depth) the tiled result is that model's result:
 * no seams, no border effects at the cuts, for every depth (the margin grows with the receptive
 * field). 1e-5 absolute allows for the blend's rounding (outputs are in [0, 1]).
 */
class TilingTest {
    @ParameterizedTest(name = "{0} depth {1}, {5} per stage, {2}x{3}x{4}")
    @CsvSource({"conv, 2, 1, 300, 412, 1", "conv, 2, 3, 260, 356, 1", "conv, 2, 1, 520, 604, 1", "skip, 2, 3, 300, 412, 1",
            "skip, 1, 1, 270, 402, 1", "skip, 3, 1, 520, 608, 1", "conv, 2, 1, 300, 412, 2", "skip, 2, 3, 532, 300, 2",
            "skip, 3, 1, 600, 520, 3", "residual, 3, 1, 600, 520, 2", "residual, 2, 1, 300, 412, 1"})
    void tiled_equals_whole_image(String kind, int depth, int c, int h, int w, int levelConvs) {
        Backend cpu = SharedCpu.get();
        SplittableRandom rng = new SplittableRandom(h * 31L + w);
        float[] px = new float[c * h * w];
        for (int i = 0; i < px.length; i++) px[i] = (float) rng.nextDouble();
        ModelConfig small = ModelConfig.defaults(ModelKind.parse(kind), c, 32, 32).withConvDepth(depth).withConvWidth(8)
                .withLevelConvs(levelConvs);
        try (Autoencoder model = Autoencoder.create(cpu, small, 1);
             Autoencoder whole = Autoencoder.create(cpu, small.withSize(h, w), 1)) {
            model.initialise(5);
            cpu.copy(whole.parameters().values(), model.parameters().values());
            float[] tiled;
            try (Denoiser tiles = new Denoiser(model)) { // the weights as they are now
                tiled = tiles.denoise(new Images.Image(c, h, w, px)).pixels();
            }
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
