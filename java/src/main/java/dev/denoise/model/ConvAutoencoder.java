package dev.denoise.model;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

/**
 * The convolutional autoencoder (see {@link ConvLayers}): at depth 2, Conv3×3(C→F) ReLU, MaxPool2,
 * Conv3×3(F→F) ReLU, MaxPool2 | Conv3×3(F→F) ReLU, Upsample2, Conv3×3(F→F) ReLU, Upsample2,
 * Conv3×3(F→C) → logits. Fully convolutional: any H×W divisible by 2^depth.
 */
public final class ConvAutoencoder extends Autoencoder {
    private final ConvLayers[] layers;   // one set per lane
    private final Sequential[] nets;

    ConvAutoencoder(Backend backend, ModelConfig c, int maxBatch, int laneImages) {
        super(backend, c, ConvLayers.spec(c), maxBatch, laneImages);
        layers = new ConvLayers[lanes];
        nets = new Sequential[lanes];
        for (int i = 0; i < lanes; i++) {
            layers[i] = new ConvLayers(backend, laneParameters(i), c, this.laneImages);
            nets[i] = new Sequential(layers[i].inOrder());
        }
    }

    @Override
    protected Tensor forward(int lane, Tensor noisy, boolean training) {
        return nets[lane].forward(noisy);
    }

    @Override
    protected void backward(int lane, Tensor dlogits) {
        nets[lane].backward(dlogits, false);
    }

    @Override
    public void close() {
        for (ConvLayers l : layers) l.close();
        super.close();
    }
}
