package dev.denoise.model;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.nn.Conv2d;

import java.util.List;

/**
 * Our own model: the conv autoencoder with additive skip connections, U-Net style. The layers are
 * {@link ConvAutoencoder}'s (same names), with the channels doubling per pooling level (see
 * {@link ModelConfig#levelWidth}), and each upsampled decoder map is summed with the encoder's
 * ReLU output of the same resolution before the next decoder conv (at depth 2: d2 sees up(d1) +
 * e2, d3 sees up(d2) + e1). The bottleneck still decides what is noise; the skips bring back the
 * detail pooling threw away, which the plain autoencoder can only guess (blurred edges, lost
 * strokes), and give the first layers a short path to the loss, so training converges sooner.
 * Wide maps where they are cheap (a halved map costs a quarter per channel) and narrow ones at
 * full resolution make it more accurate than the seed's conv model at less work per image.
 *
 * <p>Backward: a sum hands its gradient to both inputs, so the gradient at each skip's encoder end
 * is the pool's gradient plus the skip's; {@link Backend#maxpool2d_relu_backward} adds them on its
 * way through the pool and the ReLU. In the forward the sum ({@link Backend#add}) is written in
 * place into the upsample's output, which nothing else reads.
 */
public final class SkipAutoencoder extends Autoencoder {
    private final ConvLayers layers;
    private final Tensor[] encoded, skipGrad;

    SkipAutoencoder(Backend backend, ModelConfig c, int maxBatch) {
        super(backend, c, ConvLayers.spec(c), maxBatch);
        layers = new ConvLayers(backend, params, c, maxBatch);
        encoded = new Tensor[c.convDepth()];
        skipGrad = new Tensor[c.convDepth()];
    }

    @Override
    protected Tensor forward(Tensor x, boolean training) {
        List<Conv2d> enc = layers.encoder, dec = layers.decoder;
        int d = enc.size();
        for (int i = 0; i < d; i++) {
            encoded[i] = enc.get(i).forward(x);
            x = layers.pools.get(i).forward(encoded[i]);
        }
        Tensor y = dec.get(0).forward(x);
        for (int j = 0; j < d; j++) {
            Tensor s = layers.ups.get(j).forward(y);
            backend.add(s, s, encoded[d - 1 - j]);
            y = dec.get(j + 1).forward(s);
        }
        return y;
    }

    @Override
    protected void backward(Tensor dlogits) {
        List<Conv2d> enc = layers.encoder, dec = layers.decoder;
        int d = enc.size();
        Tensor g = dlogits;
        for (int j = d; j >= 1; j--) {
            Tensor gs = dec.get(j).backward(g, true);   // the gradient at the sum …
            skipGrad[d - j] = gs;                       // … goes down the skip unchanged
            g = layers.ups.get(j - 1).backward(gs, true);
        }
        g = dec.get(0).backward(g, true);
        for (int i = d - 1; i >= 0; i--) {
            /* the encoder output's two uses, pool and skip, summed inside the pool's ReLU backward */
            Conv2d e = enc.get(i);
            g = layers.pools.get(i).backwardThroughRelu(g, e.biasGradient(), skipGrad[i]);
            g = e.backwardPreActivation(g, i > 0);
        }
    }

    @Override
    public void close() {
        layers.close();
        super.close();
    }
}
