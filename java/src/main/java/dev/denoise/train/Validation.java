package dev.denoise.train;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.data.Dataset;
import dev.denoise.model.Autoencoder;

/** Held-out images with fixed noise, uploaded once; mean PSNR of the model's output on them. */
final class Validation implements AutoCloseable {
    static final long SEED = Noise.TEST_SEED ^ 0x5A11DL;

    private final Autoencoder model;
    private final Tensor clean, noisy, out, psnr;
    private final float[] host;

    Validation(Autoencoder model, Dataset val, Noise noise) {
        this.model = model;
        Backend b = model.backend();
        int n = val.count();
        clean = b.allocate(n, val.channels(), val.height(), val.width());
        noisy = b.allocate(n, val.channels(), val.height(), val.width());
        out = b.allocate(n, val.channels(), val.height(), val.width());
        psnr = b.allocate(n);
        host = new float[n];
        b.write(clean, val.images(), 0);
        noise.apply(b, noisy, clean, SEED, 0);
    }

    double meanPsnr() {
        Backend b = model.backend();
        model.reconstruct(noisy, out);
        b.psnr_forward(psnr, out, clean);
        b.read(psnr, host);
        double s = 0;
        for (float v : host) s += v;
        return s / host.length;
    }

    @Override
    public void close() {
        clean.close();
        noisy.close();
        out.close();
        psnr.close();
    }
}
