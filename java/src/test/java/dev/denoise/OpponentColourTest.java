package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.io.ImageRows;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A colour photo goes through a grey residual model in opponent channels (mean and two
 * differences). A residual model whose weights are all zero is the identity, so what comes back
 * must be the photo itself: the transform and its inverse lose nothing and shift no channel.
 */
class OpponentColourTest {
    @Test
    void an_identity_model_returns_the_colour_photo() {
        Backend cpu = SharedCpu.get();
        int h = 70, w = 301;
        SplittableRandom rng = new SplittableRandom(4);
        float[] px = new float[3 * h * w];
        for (int i = 0; i < px.length; i++) px[i] = (float) (rng.nextInt(256) / 255.0);
        ModelConfig grey = ModelConfig.defaults(ModelKind.RESIDUAL, 1, 32, 32).withConvWidth(4);
        try (Autoencoder model = Autoencoder.create(cpu, grey, 1)) {
            cpu.fill(model.parameters().values(), 0f);
            Images.Image out;
            try (Denoiser d = new Denoiser(model)) {
                out = d.denoise(new Images.Image(3, h, w, px));
            }
            assertEquals(3, out.channels());
            assertArrayEquals(px, out.pixels(), 2e-6f);
        }
    }

    /**
     * The row-by-row colour step (a ring of rows for the blur's columns) gives the bits of the
     * whole-plane arithmetic it replaced: images taller and shorter than the blur's 49 rows, and
     * narrower than it, where the mirror repeats.
     */
    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"37, 53", "5, 300", "200, 7", "49, 20", "50, 21", "1, 1", "130, 40"})
    void rows_give_the_whole_plane_result(int h, int w) {
        int plane = h * w;
        SplittableRandom rng = new SplittableRandom(h * 1000L + w);
        float[][] p = new float[OpponentColour.PLANES][plane];
        for (float[] q : p) for (int i = 0; i < plane; i++) q[i] = (float) rng.nextDouble();
        // the whole-plane arithmetic: opponent result, then per channel + blur(channel − opponent)
        float[] want = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            float s = 3f * p[0][i], a = 2f * (p[1][i] - 0.5f), c = 4f * (p[2][i] - 0.5f);
            float g = (s - c) / 3f, rb = s - g;
            want[i] = (rb + a) / 2f;
            want[plane + i] = g;
            want[2 * plane + i] = (rb - a) / 2f;
        }
        for (int ch = 0; ch < 3; ch++) {
            float[] diff = p[3 + ch].clone();
            for (int i = 0; i < plane; i++) diff[i] -= want[ch * plane + i];
            Blur.gaussian(diff, h, w, OpponentColour.CAST_BLUR);
            for (int i = 0; i < plane; i++) want[ch * plane + i] = Math.clamp(want[ch * plane + i] + diff[i], 0f, 1f);
        }
        Images.Image got = new Images.Image(3, h, w, new float[3 * plane]);
        OpponentColour.Rows rows = new OpponentColour.Rows(h, w, ImageRows.into(got));
        float[][] row = new float[OpponentColour.PLANES][w];
        for (int y = 0; y < h; y++) {
            for (int k = 0; k < row.length; k++) System.arraycopy(p[k], y * w, row[k], 0, w);
            rows.row(y, row);
        }
        assertArrayEquals(want, got.pixels());
    }
}
