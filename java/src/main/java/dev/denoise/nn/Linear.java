package dev.denoise.nn;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

/**
 * y = act(x·Wᵀ + b), W (out, in) as PyTorch's Linear. Input images of any shape are flattened.
 * Backward: dpre = dy·act'(y); dW = dpreᵀ·x; db = Σ dpre; dx = dpre·W.
 */
public final class Linear implements Layer {
    private final Backend b;
    private final Tensor weight, bias, dweight, dbias;
    private final int in, out;
    private final Activation act;
    private final Buffers y, dx;
    private Tensor x, yb;

    /**
     * The layer over p's parameters name.weight (out, in) and name.bias (see {@link #declare}), for
     * batches of at most maxBatch.
     */
    public Linear(Parameters p, String name, int in, int out, Activation act, int maxBatch) {
        this.b = p.backend();
        this.in = in;
        this.out = out;
        this.act = act;
        this.weight = p.value(name + ".weight");
        this.bias = p.value(name + ".bias");
        this.dweight = p.grad(name + ".weight");
        this.dbias = p.grad(name + ".bias");
        this.y = new Buffers(b, maxBatch, new int[] {out});
        this.dx = new Buffers(b, maxBatch, new int[] {in});
    }

    /** Declares this layer's parameters. */
    public static void declare(Parameters.Spec spec, String name, int in, int out) {
        spec.add(name + ".weight", in, out, in).add(name + ".bias", in, out);
    }

    @Override
    public int[] outputShape() {
        return new int[] {out};
    }

    @Override
    public Tensor forward(Tensor input) {
        int batch = input.dim(0);
        x = input.rank() == 2 ? input : input.view(batch, in);
        yb = y.rows(batch);
        b.gemm(false, true, 1f, x, weight, 0f, yb);
        b.bias_act_forward(yb, yb, bias, act);
        return yb;
    }

    @Override
    public Tensor backward(Tensor dy, boolean needInputGrad) {
        Tensor d = needInputGrad ? dx.rows(dy.dim(0)) : null;
        backwardInto(dy, d, 0f);
        return d;
    }

    /**
     * Parameter gradients from dy, and dx = dpre·W + beta·dx into the given buffer (or none when
     * null). beta = 1 lets two heads reading the same input sum their gradients in one buffer.
     */
    public void backwardInto(Tensor dy, Tensor dxOut, float beta) {
        b.bias_act_backward(dy, dbias, dy, yb, act);
        b.gemm(true, false, 1f, dy, x, 0f, dweight);
        if (dxOut != null) b.gemm(false, false, 1f, dy, weight, beta, dxOut);
    }

    /** This layer's input-gradient buffer for a batch. */
    public Tensor inputGrad(int batch) {
        return dx.rows(batch);
    }

    @Override
    public void close() {
        y.close();
        dx.close();
    }
}
