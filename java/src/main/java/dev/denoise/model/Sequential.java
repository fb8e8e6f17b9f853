package dev.denoise.model;

import dev.denoise.backend.Tensor;
import dev.denoise.nn.Layer;

import java.util.List;

/** Layers run in order; backward in reverse, skipping the input gradient of the first layer. */
final class Sequential implements AutoCloseable {
    private final List<Layer> layers;

    Sequential(List<Layer> layers) {
        this.layers = List.copyOf(layers);
    }

    Tensor forward(Tensor x) {
        for (Layer l : layers) x = l.forward(x);
        return x;
    }

    /** Returns dx of the first layer when needInputGrad, else null. */
    Tensor backward(Tensor dy, boolean needInputGrad) {
        for (int i = layers.size() - 1; i >= 0; i--) {
            dy = layers.get(i).backward(dy, i > 0 || needInputGrad);
        }
        return dy;
    }

    @Override
    public void close() {
        layers.forEach(Layer::close);
    }
}
