package dev.denoise.nn;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

/** 2x2 max-pool, stride 2 (input H, W even in our models). */
public final class MaxPool2 implements Layer {
    private final Backend b;
    private final int c, h, w;
    private final Buffers y, dx;
    private Tensor x;

    /** Pooling of images (c, h, w) to (c, h/2, w/2), for batches of at most maxBatch. */
    public MaxPool2(Backend b, int c, int h, int w, int maxBatch) {
        this.b = b;
        this.c = c;
        this.h = h;
        this.w = w;
        this.y = new Buffers(b, maxBatch, new int[] {c, h / 2, w / 2});
        this.dx = new Buffers(b, maxBatch, new int[] {c, h, w});
    }

    @Override
    public int[] outputShape() {
        return new int[] {c, h / 2, w / 2};
    }

    @Override
    public Tensor forward(Tensor input) {
        x = input;
        Tensor out = y.rows(input.dim(0));
        b.maxpool2d_forward(out, input);
        return out;
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGrad) {
        if (!needInputGrad) return null;
        Tensor d = dx.rows(dy.dim(0));
        b.maxpool2d_backward(d, dy, x);
        return d;
    }

    /**
     * backward through this pool and the ReLU of the Conv2d before it (whose output was this pool's
     * input) in one op: the gradient before that ReLU, and its bias gradient into dbias. dskip: the
     * gradient of a skip connection that also reads this pool's input, added first; or null.
     */
    public Tensor backwardThroughRelu(Tensor dy, Tensor dbias, Tensor dskip) {
        Tensor d = dx.rows(dy.dim(0));
        b.maxpool2d_relu_backward(d, dbias, dy, dskip, x);
        return d;
    }

    /** The input of the last forward. */
    public Tensor input() {
        return x;
    }

    @Override
    public void close() {
        y.close();
        dx.close();
    }
}
