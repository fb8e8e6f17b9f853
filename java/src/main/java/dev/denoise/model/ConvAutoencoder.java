package dev.denoise.model;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

/**
 * The convolutional autoencoder (see {@link ConvLayers}): at depth 2, Conv3×3(C→F) ReLU, MaxPool2,
 * Conv3×3(F→F) ReLU, MaxPool2 | Conv3×3(F→F) ReLU, Upsample2, Conv3×3(F→F) ReLU, Upsample2,
 * Conv3×3(F→C) → logits. Fully convolutional: any H×W divisible by 2^depth.
 */
public final class ConvAutoencoder extends Autoencoder {
    private final ConvLayers layers;
    private final Sequential net;

    ConvAutoencoder(Backend backend, ModelConfig c, int maxBatch) {
        super(backend, c, ConvLayers.spec(c), maxBatch);
        layers = new ConvLayers(backend, params, c, maxBatch);
        net = new Sequential(layers.inOrder());
    }

    @Override
    protected Tensor forward(Tensor noisy, boolean training) {
        return net.forward(noisy);
    }

    @Override
    protected void backward(Tensor dlogits) {
        net.backward(dlogits, false);
    }

    @Override
    public void close() {
        layers.close();
        super.close();
    }
}
