package dev.denoise.model;

import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.backend.Tensor;
import dev.denoise.nn.Parameters;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole-model gradient check: backward of each autoencoder (layers wired together, VAE heads and
 * KL included) against central differences of its own float loss on a tiny model. Float32 losses
 * make single-weight differences noisy and every step may cross a ReLU or max-pool kink, so each
 * parameter tensor is checked along one random unit direction d: |fd(d) − g·d| ≤ 0.2·‖g‖ (a bias shifts every pixel of a channel across kinks at once),
 * with h = 1e-3. A wiring mistake (a wrong transpose, a head's gradient dropped) is off by ~‖g‖.
 */
class ModelGradientTest {
    private static final CpuBackend cpu = SharedCpu.get();
    /**
     * A tensor whose gradient is below this fraction of the largest tensor's is not judged: float32
     * losses resolve directional derivatives only to ~1e-5 at h = 1e-3 (and its bias, moving every
     * pixel of a channel at once, crosses the most kinks), and at random initialisation the first
     * layers of a three-level conv stack get ~1e-5. Their wiring is the same code as the judged layers'.
     */
    private static final double UNRESOLVED = 3e-3;

    /** Every kind at its smallest; conv and skip also one and three levels deep, and with stages of 2 and 3 convs. */
    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of(ModelKind.DENSE, 2, 1), Arguments.of(ModelKind.VAE, 2, 1),
                Arguments.of(ModelKind.CONV, 1, 1), Arguments.of(ModelKind.CONV, 2, 1), Arguments.of(ModelKind.CONV, 3, 1),
                Arguments.of(ModelKind.CONV, 2, 2),
                Arguments.of(ModelKind.SKIP, 1, 1), Arguments.of(ModelKind.SKIP, 2, 1), Arguments.of(ModelKind.SKIP, 3, 1),
                Arguments.of(ModelKind.SKIP, 1, 3), Arguments.of(ModelKind.SKIP, 2, 2),
                Arguments.of(ModelKind.RESIDUAL, 2, 1), Arguments.of(ModelKind.RESIDUAL, 3, 2));
    }

    @ParameterizedTest(name = "{0} depth {1}, {2} per stage")
    @MethodSource("models")
    void backward_matches_finite_differences(ModelKind kind, int depth, int levelConvs) {
        int side = Math.max(8, 2 << depth); // a 2×2 bottleneck at least: a 1×1 one puts every pixel on one kink
        ModelConfig c = kind.convolutional() ? new ModelConfig(kind, 2, side, side, 16, 8, 4, depth, levelConvs)
                : new ModelConfig(kind, 1, 4, 8, 16, 8, 3, depth, levelConvs);
        int n = 3;
        try (Autoencoder m = Autoencoder.create(cpu, c, n);
             Tensor noisy = cpu.allocate(n, c.channels(), c.height(), c.width());
             Tensor clean = cpu.allocate(n, c.channels(), c.height(), c.width())) {
            m.initialise(13);
            SplittableRandom rng = new SplittableRandom(3);
            float[] x = new float[(int) noisy.numel()], y = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                y[i] = (float) rng.nextDouble();
                x[i] = (float) Math.min(1, Math.max(0, y[i] + 0.3 * rng.nextGaussian()));
            }
            cpu.write(noisy, x);
            cpu.write(clean, y);
            Parameters p = m.parameters();
            float[] w = p.values().toArray();
            m.computeGradients(noisy, clean);
            float[] g = p.grads().toArray();
            rng = new SplittableRandom(99);

            // per tensor: the derivative along a random direction in that tensor's weights
            double h = 1e-3;
            StringBuilder report = new StringBuilder();
            boolean ok = true;
            double largest = 0;
            for (Parameters.Entry e : p.entries()) largest = Math.max(largest, norm(g, (int) e.offset(), (int) (e.offset() + e.numel())));
            for (Parameters.Entry e : p.entries()) {
                int from = (int) e.offset(), to = (int) (e.offset() + e.numel());
                double[] dir = new double[to - from];
                double analytic = 0, len = 0;
                for (int i = 0; i < dir.length; i++) {
                    dir[i] = rng.nextGaussian();
                    len += dir[i] * dir[i];
                }
                len = Math.sqrt(len);
                for (int i = 0; i < dir.length; i++) {
                    dir[i] /= len;
                    analytic += dir[i] * g[from + i];
                }
                double fd = (lossAlong(m, noisy, clean, w, from, dir, h) - lossAlong(m, noisy, clean, w, from, dir, -h)) / (2 * h);
                double gnorm = norm(g, from, to);
                double rel = Math.abs(fd - analytic) / Math.max(gnorm, 1e-6);
                if (gnorm < UNRESOLVED * largest) { // vanished (the first layers of a deep conv stack)
                    report.append(String.format(" %s (|g| %.1e, unresolved)", e.name(), gnorm));
                    continue;
                }
                report.append(String.format(" %s %.3f", e.name(), rel));
                ok &= rel < 0.2;
            }
            assertTrue(ok, kind + " depth " + depth + ": relative gradient error per tensor:" + report);
        }
    }

    private static double norm(float[] a, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += (double) a[i] * a[i];
        return Math.sqrt(s);
    }

    /** The training loss at w + t·dir (dir over the weights [from, from + dir.length)). */
    private static double lossAlong(Autoencoder m, Tensor noisy, Tensor clean, float[] w, int from, double[] dir, double t) {
        float[] wi = w.clone();
        for (int i = 0; i < dir.length; i++) wi[from + i] = (float) (w[from + i] + t * dir[i]);
        m.backend().write(m.parameters().values(), wi);
        if (m instanceof VariationalAutoencoder vae) vae.setSampling(vae.samplingSeed(), 0);
        double l = m.computeGradients(noisy, clean);
        m.backend().write(m.parameters().values(), w);
        return l;
    }
}
