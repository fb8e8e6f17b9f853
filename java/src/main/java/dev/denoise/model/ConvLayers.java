package dev.denoise.model;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.nn.Conv2d;
import dev.denoise.nn.Layer;
import dev.denoise.nn.MaxPool2;
import dev.denoise.nn.Parameters;
import dev.denoise.nn.Upsample2;

import java.util.ArrayList;
import java.util.List;

/**
 * The layers of the conv and skip models, by level. With depth D on C×H×W images: encoder
 * e1..eD (Conv3×3 ReLU at H, H/2, …, each followed by a MaxPool2), then the decoder d1 (Conv3×3
 * ReLU at H/2^D) and, after each Upsample2, d2..d(D+1), the last one to C channels, linear
 * (logits). Level l's maps have {@link ModelConfig#levelWidth} channels, and each decoder conv
 * outputs the width of the level it is upsampled to. Depth 2, width 32 of conv is the seed's
 * model: e1, e2 | d1, d2, d3.
 */
final class ConvLayers implements AutoCloseable {
    /** encoder.get(i) at H/2^i; pools.get(i) right after it. */
    final List<Conv2d> encoder = new ArrayList<>();
    final List<MaxPool2> pools = new ArrayList<>();
    /** decoder.get(j) at H/2^(D-j); ups.get(j) right after decoder.get(j), for j < D. */
    final List<Conv2d> decoder = new ArrayList<>();
    final List<Upsample2> ups = new ArrayList<>();

    ConvLayers(Backend backend, Parameters params, ModelConfig c, int maxBatch) {
        int d = c.convDepth(), h = c.height(), w = c.width();
        for (int i = 0; i < d; i++) {
            int f = c.levelWidth(i);
            encoder.add(new Conv2d(params, "e" + (i + 1), i == 0 ? c.channels() : c.levelWidth(i - 1), f, h >> i, w >> i,
                    Activation.RELU, maxBatch));
            pools.add(new MaxPool2(backend, f, h >> i, w >> i, maxBatch));
        }
        for (int j = 0; j <= d; j++) {
            int level = d - j, cin = c.levelWidth(Math.min(level, d - 1)), cout = outWidth(c, j);
            decoder.add(new Conv2d(params, "d" + (j + 1), cin, cout, h >> level, w >> level,
                    j == d ? Activation.IDENTITY : Activation.RELU, maxBatch));
            if (j < d) ups.add(new Upsample2(backend, cout, h >> level, w >> level, maxBatch));
        }
    }

    /**
     * Output channels of decoder conv j: the width of the level its upsampled output lands on (so a
     * skip can add that level's encoder map), the image's channels for the last.
     */
    private static int outWidth(ModelConfig c, int j) {
        int d = c.convDepth();
        return j == d ? c.channels() : c.levelWidth(d - 1 - j);
    }

    /** The weights: the names of the PyTorch state_dict of the same model (e1.weight, …, d3.bias at depth 2). */
    static Parameters.Spec spec(ModelConfig c) {
        int d = c.convDepth();
        Parameters.Spec s = new Parameters.Spec();
        for (int i = 0; i < d; i++) Conv2d.declare(s, "e" + (i + 1), i == 0 ? c.channels() : c.levelWidth(i - 1), c.levelWidth(i), 3);
        for (int j = 0; j <= d; j++) Conv2d.declare(s, "d" + (j + 1), c.levelWidth(Math.min(d - j, d - 1)), outWidth(c, j), 3);
        return s;
    }

    /** In forward order: e1, pool, e2, pool, …, d1, up, d2, up, …, d(D+1). */
    List<Layer> inOrder() {
        List<Layer> all = new ArrayList<>();
        for (int i = 0; i < encoder.size(); i++) {
            all.add(encoder.get(i));
            all.add(pools.get(i));
        }
        for (int j = 0; j < decoder.size(); j++) {
            all.add(decoder.get(j));
            if (j < ups.size()) all.add(ups.get(j));
        }
        return all;
    }

    @Override
    public void close() {
        inOrder().forEach(Layer::close);
    }
}
