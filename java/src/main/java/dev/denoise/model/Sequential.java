package dev.denoise.model;

import dev.denoise.backend.Tensor;
import dev.denoise.nn.Conv2d;
import dev.denoise.nn.Layer;
import dev.denoise.nn.MaxPool2;
import dev.denoise.nn.Upsample2;

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
            /* a ReLU conv followed by a max-pool: the pool's backward, the ReLU's and the bias
             * gradient in one pass (the same numbers as one after the other) */
            if (i > 0 && layers.get(i) instanceof MaxPool2 pool && layers.get(i - 1) instanceof Conv2d conv
                    && conv.relu() && pool.input() == conv.output()) {
                dy = pool.backwardThroughRelu(dy, conv.biasGradient(), null);
                dy = conv.backwardPreActivation(dy, i - 1 > 0 || needInputGrad);
                i--;
                continue;
            }
            /* a conv on an upsampled input: its input gradient and the upsample's in one op */
            if (i > 1 || (i == 1 && needInputGrad)) {
                if (layers.get(i) instanceof Conv2d conv && layers.get(i - 1) instanceof Upsample2 up
                        && conv.input() == up.output()) {
                    dy = conv.backwardThroughUpsample(dy, up);
                    i--;
                    continue;
                }
            }
            dy = layers.get(i).backward(dy, i > 0 || needInputGrad);
        }
        return dy;
    }

    @Override
    public void close() {
        layers.forEach(Layer::close);
    }
}
