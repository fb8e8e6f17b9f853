package dev.denoise.nn;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

/** 2x nearest-neighbour upsample. */
public final class Upsample2 implements Layer {
    private final Backend b;
    private final int c, h, w;
    private final Buffers y, dx;
    private Tensor out;

    /** Upsampling of images (c, h, w) to (c, 2h, 2w), for batches of at most maxBatch. */
    public Upsample2(Backend b, int c, int h, int w, int maxBatch) {
        this.b = b;
        this.c = c;
        this.h = h;
        this.w = w;
        this.y = new Buffers(b, maxBatch, new int[] {c, 2 * h, 2 * w});
        this.dx = new Buffers(b, maxBatch, new int[] {c, h, w});
    }

    @Override
    public int[] outputShape() {
        return new int[] {c, 2 * h, 2 * w};
    }

    @Override
    public Tensor forward(Tensor input) {
        out = y.rows(input.dim(0));
        b.upsample2d_forward(out, input);
        return out;
    }

    /** The output of the last forward. */
    public Tensor output() {
        return out;
    }

    /** The buffer for the input gradient of n images (see Conv2d.backwardThroughUpsample). */
    Tensor inputGradient(int n) {
        return dx.rows(n);
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGrad) {
        if (!needInputGrad) return null;
        Tensor d = dx.rows(dy.dim(0));
        b.upsample2d_backward(d, dy);
        return d;
    }

    @Override
    public void close() {
        y.close();
        dx.close();
    }
}
