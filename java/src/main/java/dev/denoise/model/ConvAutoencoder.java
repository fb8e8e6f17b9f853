package dev.denoise.model;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.nn.Conv2d;
import dev.denoise.nn.MaxPool2;
import dev.denoise.nn.Parameters;
import dev.denoise.nn.Upsample2;

import java.util.List;

/**
 * The convolutional autoencoder: Conv3×3(C→F) ReLU, MaxPool2, Conv3×3(F→F) ReLU, MaxPool2 |
 * Conv3×3(F→F) ReLU, Upsample2, Conv3×3(F→F) ReLU, Upsample2, Conv3×3(F→C) → logits.
 * Fully convolutional: any H×W divisible by 4.
 */
public final class ConvAutoencoder extends Autoencoder {
    private final Sequential net;

    ConvAutoencoder(Backend backend, ModelConfig c, int maxBatch) {
        super(backend, c, spec(c), maxBatch);
        int ch = c.channels(), f = c.convWidth(), h = c.height(), w = c.width();
        net = new Sequential(List.of(
                new Conv2d(params, "e1", ch, f, h, w, Activation.RELU, maxBatch),
                new MaxPool2(backend, f, h, w, maxBatch),
                new Conv2d(params, "e2", f, f, h / 2, w / 2, Activation.RELU, maxBatch),
                new MaxPool2(backend, f, h / 2, w / 2, maxBatch),
                new Conv2d(params, "d1", f, f, h / 4, w / 4, Activation.RELU, maxBatch),
                new Upsample2(backend, f, h / 4, w / 4, maxBatch),
                new Conv2d(params, "d2", f, f, h / 2, w / 2, Activation.RELU, maxBatch),
                new Upsample2(backend, f, h / 2, w / 2, maxBatch),
                new Conv2d(params, "d3", f, ch, h, w, Activation.IDENTITY, maxBatch)));
    }

    static Parameters.Spec spec(ModelConfig c) {
        int ch = c.channels(), f = c.convWidth();
        Parameters.Spec s = new Parameters.Spec();
        Conv2d.declare(s, "e1", ch, f, 3);
        Conv2d.declare(s, "e2", f, f, 3);
        Conv2d.declare(s, "d1", f, f, 3);
        Conv2d.declare(s, "d2", f, f, 3);
        Conv2d.declare(s, "d3", f, ch, 3);
        return s;
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
        net.close();
        super.close();
    }
}
