package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import org.junit.jupiter.api.Test;

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
}
