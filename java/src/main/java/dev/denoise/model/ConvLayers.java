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
 * The layers of the conv and skip models, by stage. With depth D on C×H×W images: encoder stages
 * e1..eD at H, H/2, …, each followed by a MaxPool2; then the decoder stages d1 (at H/2^D) and,
 * after each Upsample2, d2..d(D+1). A stage is n = {@link ModelConfig#levelConvs} Conv3×3 ReLU
 * layers, named e1, e1_2, …, e1_n (PyTorch attribute names); the very last one, to C channels, is
 * linear (logits). Level l's maps have {@link ModelConfig#levelWidth} channels: an encoder stage
 * widens in its first conv, a decoder stage narrows in its last, to the width of the level it is
 * upsampled to. Depth 2, width 32, n = 1 of conv is the seed's model: e1, e2 | d1, d2, d3.
 */
final class ConvLayers implements AutoCloseable {
    /** encoder.get(i): stage i, at H/2^i; its last conv feeds pools.get(i). */
    final List<List<Conv2d>> encoder = new ArrayList<>();
    final List<MaxPool2> pools = new ArrayList<>();
    /** decoder.get(j): stage j, at H/2^(D-j); ups.get(j) right after it, for j < D. */
    final List<List<Conv2d>> decoder = new ArrayList<>();
    final List<Upsample2> ups = new ArrayList<>();

    ConvLayers(Backend backend, Parameters params, ModelConfig c, int maxBatch) {
        int d = c.convDepth(), h = c.height(), w = c.width();
        for (int i = 0; i < d; i++) {
            encoder.add(stage(params, c, "e" + (i + 1), encoderIn(c, i), c.levelWidth(i), true, h >> i, w >> i,
                    Activation.RELU, maxBatch));
            pools.add(new MaxPool2(backend, c.levelWidth(i), h >> i, w >> i, maxBatch));
        }
        for (int j = 0; j <= d; j++) {
            int level = d - j;
            decoder.add(stage(params, c, "d" + (j + 1), decoderIn(c, j), decoderOut(c, j), false, h >> level,
                    w >> level, j == d ? Activation.IDENTITY : Activation.RELU, maxBatch));
            if (j < d) ups.add(new Upsample2(backend, decoderOut(c, j), h >> level, w >> level, maxBatch));
        }
    }

    /** One conv of a stage: its weights' name prefix and channels. */
    private record Shape(String name, int cin, int cout) {}

    /**
     * The n convs of a stage cin → cout, named stage, stage_2, …: the first changes the width when
     * widenFirst, else the last does.
     */
    private static List<Shape> shapes(String stage, int cin, int cout, boolean widenFirst, int n) {
        int mid = widenFirst ? cout : cin;
        List<Shape> convs = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            convs.add(new Shape(k == 0 ? stage : stage + "_" + (k + 1), k == 0 ? cin : mid, k == n - 1 ? cout : mid));
        }
        return convs;
    }

    /** The stage's layers: ReLU convs, the last with activation last. */
    private static List<Conv2d> stage(Parameters p, ModelConfig c, String name, int cin, int cout, boolean widenFirst,
                                      int h, int w, Activation last, int maxBatch) {
        List<Shape> shapes = shapes(name, cin, cout, widenFirst, c.levelConvs());
        List<Conv2d> convs = new ArrayList<>(shapes.size());
        for (Shape sh : shapes) {
            convs.add(new Conv2d(p, sh.name(), sh.cin(), sh.cout(), h, w,
                    convs.size() == shapes.size() - 1 ? last : Activation.RELU, maxBatch));
        }
        return convs;
    }

    private static int encoderIn(ModelConfig c, int i) {
        return i == 0 ? c.channels() : c.levelWidth(i - 1);
    }

    /** Decoder stage j reads the pooled last encoder map (j = 0) or stage j−1's upsampled output. */
    private static int decoderIn(ModelConfig c, int j) {
        return c.levelWidth(Math.min(c.convDepth() - j, c.convDepth() - 1));
    }

    /**
     * Output channels of decoder stage j: the width of the level its upsampled output lands on (so a
     * skip can add that level's encoder map), the image's channels for the last.
     */
    private static int decoderOut(ModelConfig c, int j) {
        int d = c.convDepth();
        return j == d ? c.channels() : c.levelWidth(d - 1 - j);
    }

    /** The weights: the names of the PyTorch state_dict of the same model (e1.weight, …, d3.bias at depth 2). */
    static Parameters.Spec spec(ModelConfig c) {
        int d = c.convDepth(), n = c.levelConvs();
        Parameters.Spec s = new Parameters.Spec();
        for (int i = 0; i < d; i++) declareStage(s, "e" + (i + 1), encoderIn(c, i), c.levelWidth(i), true, n);
        for (int j = 0; j <= d; j++) declareStage(s, "d" + (j + 1), decoderIn(c, j), decoderOut(c, j), false, n);
        return s;
    }

    private static void declareStage(Parameters.Spec s, String name, int cin, int cout, boolean widenFirst, int n) {
        for (Shape sh : shapes(name, cin, cout, widenFirst, n)) Conv2d.declare(s, sh.name(), sh.cin(), sh.cout(), 3);
    }

    /** In forward order: e1…, pool, e2…, pool, …, d1…, up, d2…, up, …, d(D+1)…. */
    List<Layer> inOrder() {
        List<Layer> all = new ArrayList<>();
        for (int i = 0; i < encoder.size(); i++) {
            all.addAll(encoder.get(i));
            all.add(pools.get(i));
        }
        for (int j = 0; j < decoder.size(); j++) {
            all.addAll(decoder.get(j));
            if (j < ups.size()) all.add(ups.get(j));
        }
        return all;
    }

    @Override
    public void close() {
        inOrder().forEach(Layer::close);
    }
}
