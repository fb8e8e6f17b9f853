package dev.denoise.model;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.nn.Conv2d;

import java.util.List;

/**
 * Our own model: the conv autoencoder with additive skip connections, U-Net style. The layers are
 * {@link ConvLayers}'s, with the channels doubling per pooling level (see
 * {@link ModelConfig#levelWidth}) and, by default, two convolutions per stage. Each upsampled
 * decoder map is summed with the encoder stage's ReLU output of the same resolution before the
 * next decoder stage (at depth 2: d2 sees up(d1) + e2, d3 sees up(d2) + e1). The bottleneck still
 * decides what is noise; the skips bring back the detail pooling threw away, which the plain
 * autoencoder can only guess (blurred edges, lost strokes), and give the first layers a short path
 * to the loss, so training converges sooner. The second convolution of a stage makes its output a
 * nonlinear mix of skip and context (with one, the last layer is linear in their sum: the context
 * cannot gate what a pixel's neighbourhood says). Wide maps where they are cheap (a halved map
 * costs a quarter per channel) and narrow ones at full resolution keep the work per image near
 * the seed's conv model.
 *
 * <p>{@link ModelKind#RESIDUAL} is this model with the input added to its last layer's output.
 *
 * <p>Backward: a sum hands its gradient to both inputs, so the gradient at each skip's encoder end
 * is the pool's gradient plus the skip's; {@link Backend#maxpool2d_relu_backward} adds them on its
 * way through the pool and the ReLU. In the forward the sum ({@link Backend#add}) is written in
 * place into the upsample's output, which nothing else reads.
 */
public final class SkipAutoencoder extends Autoencoder {
    private final ConvLayers[] laneLayers;          // one set per lane
    private final Tensor[][] laneEncoded, laneSkipGrad;

    SkipAutoencoder(Backend backend, ModelConfig c, int maxBatch, int laneImages) {
        super(backend, c, ConvLayers.spec(c), maxBatch, laneImages);
        laneLayers = new ConvLayers[lanes];
        for (int i = 0; i < lanes; i++) laneLayers[i] = new ConvLayers(backend, laneParameters(i), c, this.laneImages);
        laneEncoded = new Tensor[lanes][c.convDepth()];
        laneSkipGrad = new Tensor[lanes][c.convDepth()];
    }

    @Override
    protected Tensor forward(int lane, Tensor x, boolean training) {
        ConvLayers layers = laneLayers[lane];
        Tensor[] encoded = laneEncoded[lane];
        List<List<Conv2d>> enc = layers.encoder, dec = layers.decoder;
        int d = enc.size();
        Tensor noisy = x;
        for (int i = 0; i < d; i++) {
            encoded[i] = run(enc.get(i), x);
            x = layers.pools.get(i).forward(encoded[i]);
        }
        Tensor y = run(dec.get(0), x);
        for (int j = 0; j < d; j++) {
            Tensor s = layers.ups.get(j).forward(y);
            backend.add(s, s, encoded[d - 1 - j]);
            y = run(dec.get(j + 1), s);
        }
        /* residual: the last layer's linear output is the correction; its gradient is the output's
         * (the input is no parameter), so backward needs nothing more */
        if (config.kind().residual()) backend.add(y, y, noisy);
        return y;
    }

    private static Tensor run(List<Conv2d> stage, Tensor x) {
        for (Conv2d c : stage) x = c.forward(x);
        return x;
    }

    @Override
    protected void backward(int lane, Tensor dlogits) {
        ConvLayers layers = laneLayers[lane];
        Tensor[] skipGrad = laneSkipGrad[lane];
        List<List<Conv2d>> enc = layers.encoder, dec = layers.decoder;
        int d = enc.size();
        Tensor g = dlogits;
        for (int j = d; j >= 1; j--) {
            Tensor gs = backward(dec.get(j), dec.get(j).size(), g, true);   // the gradient at the sum …
            skipGrad[d - j] = gs;                                           // … goes down the skip unchanged
            g = layers.ups.get(j - 1).backward(gs, true);
        }
        g = backward(dec.get(0), dec.get(0).size(), g, true);
        for (int i = d - 1; i >= 0; i--) {
            /* the stage's output has two uses, pool and skip, summed inside the pool's ReLU backward */
            List<Conv2d> stage = enc.get(i);
            int n = stage.size();
            g = layers.pools.get(i).backwardThroughRelu(g, stage.getLast().biasGradient(), skipGrad[i]);
            g = stage.getLast().backwardPreActivation(g, n > 1 || i > 0);
            g = backward(stage, n - 1, g, i > 0);
        }
    }

    /** Backward through convs end−1 … 0 of a stage; conv 0's input gradient when needInputGrad. */
    private static Tensor backward(List<Conv2d> stage, int end, Tensor g, boolean needInputGrad) {
        for (int k = end - 1; k >= 0; k--) g = stage.get(k).backward(g, k > 0 || needInputGrad);
        return g;
    }

    @Override
    public void close() {
        for (ConvLayers l : laneLayers) l.close();
        super.close();
    }
}
