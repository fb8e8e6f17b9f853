package dev.denoise.nn;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

/**
 * y = act(conv(x, W) + b), 'same' padding, stride 1; W (out, in, k, k) as PyTorch's Conv2d.
 * The forward is one fused op; backward: dpre = dy·act'(y) (with db), then dW and dx.
 */
public final class Conv2d implements Layer {
    private final Backend b;
    private final Tensor weight, bias, dweight, dbias;
    private final int cout, h, w;
    private final Activation act;
    private final Buffers y, dx;
    private Tensor x, yb;

    /**
     * The layer over p's parameters name.weight and name.bias (see {@link #declare}), for images
     * (cin, h, w) in batches of at most maxBatch.
     */
    public Conv2d(Parameters p, String name, int cin, int cout, int h, int w, Activation act, int maxBatch) {
        this.b = p.backend();
        this.cout = cout;
        this.h = h;
        this.w = w;
        this.act = act;
        this.weight = p.value(name + ".weight");
        this.bias = p.value(name + ".bias");
        this.dweight = p.grad(name + ".weight");
        this.dbias = p.grad(name + ".bias");
        this.y = new Buffers(b, maxBatch, new int[] {cout, h, w});
        this.dx = new Buffers(b, maxBatch, new int[] {cin, h, w});
    }

    /** Declares name.weight (cout, cin, k, k) and name.bias (cout) in spec, with fan-in cin·k·k. */
    public static void declare(Parameters.Spec spec, String name, int cin, int cout, int k) {
        int fanIn = cin * k * k;
        spec.add(name + ".weight", fanIn, cout, cin, k, k).add(name + ".bias", fanIn, cout);
    }

    @Override
    public int[] outputShape() {
        return new int[] {cout, h, w};
    }

    @Override
    public Tensor forward(Tensor input) {
        x = input;
        yb = y.rows(input.dim(0));
        b.conv2d_forward(yb, x, weight, bias, act);
        return yb;
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGrad) {
        b.bias_act_backward(dy, dbias, dy, yb, act);
        return backwardPreActivation(dy, needInputGrad);
    }

    /** The input of the last forward. */
    public Tensor input() {
        return x;
    }

    /**
     * backward when the input came from an Upsample2: the parameter gradients, and the input
     * gradient of that upsample (its input's shape) in one op, into up's buffer.
     */
    public Tensor backwardThroughUpsample(Tensor dy, Upsample2 up) {
        b.bias_act_backward(dy, dbias, dy, yb, act);
        b.conv2d_backward_filter(dweight, dy, x);
        Tensor d = up.inputGradient(dy.dim(0));
        b.upsample2d_conv2d_backward_data(d, dy, weight);
        return d;
    }

    /** Whether the activation is ReLU, so a following max-pool may take its backward (see MaxPool2). */
    public boolean relu() {
        return act == Activation.RELU;
    }

    /** The bias gradient, for a following layer that computes it (MaxPool2.backwardThroughRelu). */
    public Tensor biasGradient() {
        return dbias;
    }

    /** The output of the last forward (the ReLU output, when relu()). */
    public Tensor output() {
        return yb;
    }

    /** backward from dpre = dy·act'(y), with the bias gradient already written. */
    public Tensor backwardPreActivation(Tensor dy, boolean needInputGrad) {
        b.conv2d_backward_filter(dweight, dy, x);
        if (!needInputGrad) return null;
        Tensor d = dx.rows(dy.dim(0));
        b.conv2d_backward_data(d, dy, weight);
        return d;
    }

    @Override
    public void close() {
        y.close();
        dx.close();
    }
}
