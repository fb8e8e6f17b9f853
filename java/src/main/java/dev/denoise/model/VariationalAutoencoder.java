package dev.denoise.model;

import dev.denoise.backend.Activation;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.nn.Linear;
import dev.denoise.nn.Parameters;

/**
 * The variational autoencoder: D→hidden (ReLU)→ μ, logσ² (latent each); z = μ + exp(½·logσ²)·ε;
 * z→hidden (ReLU)→D logits. Loss per image: summed BCE + KL(q(z|x) ‖ N(0, I)), averaged over the
 * batch. At evaluation z = μ. ε comes from Philox keyed by (sampling seed, step), so a run is
 * reproducible and the same on every device.
 */
public final class VariationalAutoencoder extends Autoencoder {
    private final Linear e1, mu, logvar, d1, d2;
    private final Tensor z, eps, kl, dmuBuf, dlogvarBuf;
    private Tensor muB, logvarB, epsB;
    private boolean sampled;
    private long samplingSeed;
    private long draws; // latent draws so far: the Philox offset of the next one

    VariationalAutoencoder(Backend backend, ModelConfig c, int maxBatch) {
        super(backend, c, spec(c), maxBatch);
        int d = c.imageSize(), h = c.hidden(), l = c.latent();
        e1 = new Linear(params, "e1", d, h, Activation.RELU, maxBatch);
        mu = new Linear(params, "mu", h, l, Activation.IDENTITY, maxBatch);
        logvar = new Linear(params, "logvar", h, l, Activation.IDENTITY, maxBatch);
        d1 = new Linear(params, "d1", l, h, Activation.RELU, maxBatch);
        d2 = new Linear(params, "d2", h, d, Activation.IDENTITY, maxBatch);
        z = backend.allocate(maxBatch, l);
        eps = backend.allocate(maxBatch, l);
        kl = backend.allocate(maxBatch);
        dmuBuf = backend.allocate(maxBatch, l);
        dlogvarBuf = backend.allocate(maxBatch, l);
    }

    static Parameters.Spec spec(ModelConfig c) {
        Parameters.Spec s = new Parameters.Spec();
        Linear.declare(s, "e1", c.imageSize(), c.hidden());
        Linear.declare(s, "mu", c.hidden(), c.latent());
        Linear.declare(s, "logvar", c.hidden(), c.latent());
        Linear.declare(s, "d1", c.latent(), c.hidden());
        Linear.declare(s, "d2", c.hidden(), c.imageSize());
        return s;
    }

    @Override
    public void initialise(long seed) {
        super.initialise(seed);
        setSampling(seed ^ 0x5EEDL, 0);
    }

    /** Where the ε stream continues: restored from checkpoints so a resumed run draws the same ε. */
    public void setSampling(long seed, long draws) {
        this.samplingSeed = seed;
        this.draws = draws;
    }

    /** The Philox key of the ε stream. */
    public long samplingSeed() { return samplingSeed; }
    /** Latent values drawn so far: the Philox offset of the next ε. */
    public long samplingDraws() { return draws; }

    @Override
    protected Tensor forward(int lane, Tensor noisy, boolean training) {
        int n = noisy.dim(0);
        Tensor h = e1.forward(noisy);
        muB = mu.forward(h);
        logvarB = logvar.forward(h);
        Tensor code = muB;
        sampled = training;
        if (training) {
            Tensor zb = z.rows(0, n);
            epsB = eps.rows(0, n);
            backend.reparam_forward(zb, epsB, muB, logvarB, samplingSeed, stepOffset()); // prepareSampling's offset
            code = zb;
        }
        return decode(code);
    }

    private Tensor decode(Tensor code) {
        int n = code.dim(0);
        return d2.forward(d1.forward(code)).view(n, config.channels(), config.height(), config.width());
    }

    /** The ε of the coming step start where the last one ended: offset in memory, so a replayed step reads it. */
    @Override
    protected void prepareSampling(int n) {
        backend.setLong(stepOffset(), draws);
        draws += (long) n * config.latent();
    }

    /** Per image: summed BCE + KL; lossSum gains both sums over the batch. */
    @Override
    protected void lossAndGradient(Tensor logits, Tensor clean, Tensor loss, Tensor dlogits, Tensor lossSum) {
        int n = logits.dim(0);
        backend.sigmoid_bce_forward(loss, logits, clean);
        backend.sigmoid_bce_backward(dlogits, logits, clean, 1f / n);
        backend.sum_scaled(lossSum, loss, 1f, true);
        Tensor klb = kl.rows(0, n);
        backend.kl_forward(klb, muB, logvarB);
        backend.sum_scaled(lossSum, klb, 1f, true);
    }

    @Override
    protected void backward(int lane, Tensor dlogits) {
        int n = dlogits.dim(0);
        if (!sampled) throw new IllegalStateException("backward after an evaluation forward");
        Tensor dzb = d1.backward(d2.backward(dlogits.view(n, config.imageSize()), true), true);
        Tensor dmu = dmuBuf.rows(0, n), dlv = dlogvarBuf.rows(0, n);
        backend.reparam_backward(dmu, dlv, dzb, logvarB, epsB);
        backend.kl_backward(dmu, dlv, muB, logvarB, 1f / n); // adds the KL term's gradient
        Tensor dh = mu.backward(dmu, true);
        logvar.backwardInto(dlv, dh, 1f); // both heads read h: their gradients sum
        e1.backward(dh, false);
    }

    /** Images decoded from z (N, latent) — e.g. prior samples — as probabilities in out (N, C, H, W). */
    public void decodeTo(Tensor latent, Tensor out) {
        int total = latent.dim(0);
        for (int i = 0; i < total; i += maxBatch) {
            int j = Math.min(total, i + maxBatch);
            Tensor logits = decode(latent.rows(i, j));
            backend.bias_act_forward(out.rows(i, j), logits, null, Activation.SIGMOID);
        }
    }

    /** μ and logσ² of the encoder for noisy images (N, C, H, W) into mean and logVar (N, latent). */
    public void encode(Tensor images, Tensor mean, Tensor logVar) {
        int total = images.dim(0);
        for (int i = 0; i < total; i += maxBatch) {
            int j = Math.min(total, i + maxBatch);
            Tensor h = e1.forward(images.rows(i, j));
            backend.copy(mean.rows(i, j), mu.forward(h));
            backend.copy(logVar.rows(i, j), logvar.forward(h));
        }
    }

    @Override
    public void close() {
        for (AutoCloseable c : new AutoCloseable[] {e1, mu, logvar, d1, d2, z, eps, kl, dmuBuf, dlogvarBuf}) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing tensors and layers does not throw
            }
        }
        super.close();
    }
}
