package dev.denoise.model;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.nn.Linear;
import dev.denoise.nn.Parameters;

import java.util.List;

/** The basic autoencoder: D→hidden→latent (ReLU) | latent→hidden (ReLU)→D logits. */
public final class DenseAutoencoder extends Autoencoder {
    private final Sequential net;

    DenseAutoencoder(Backend backend, ModelConfig c, int maxBatch) {
        super(backend, c, spec(c), maxBatch);
        int d = c.imageSize();
        net = new Sequential(List.of(
                new Linear(params, "e1", d, c.hidden(), Activation.RELU, maxBatch),
                new Linear(params, "e2", c.hidden(), c.latent(), Activation.RELU, maxBatch),
                new Linear(params, "d1", c.latent(), c.hidden(), Activation.RELU, maxBatch),
                new Linear(params, "d2", c.hidden(), d, Activation.IDENTITY, maxBatch)));
    }

    static Parameters.Spec spec(ModelConfig c) {
        Parameters.Spec s = new Parameters.Spec();
        Linear.declare(s, "e1", c.imageSize(), c.hidden());
        Linear.declare(s, "e2", c.hidden(), c.latent());
        Linear.declare(s, "d1", c.latent(), c.hidden());
        Linear.declare(s, "d2", c.hidden(), c.imageSize());
        return s;
    }

    @Override
    protected Tensor forward(int lane, Tensor noisy, boolean training) {
        int n = noisy.dim(0);
        return net.forward(noisy).view(n, config.channels(), config.height(), config.width());
    }

    @Override
    protected void backward(int lane, Tensor dlogits) {
        net.backward(dlogits.view(dlogits.dim(0), config.imageSize()), false);
    }

    @Override
    public void close() {
        net.close();
        super.close();
    }
}
