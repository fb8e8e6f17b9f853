package dev.denoise.backend;

/**
 * The plain-Java reference of every op, in double precision: small, obviously right, slow.
 * The first link of the chain Java reference → C (CpuBackend) → CUDA: each is checked against
 * the one before. Layouts as the op table: row-major, NCHW.
 */
final class Reference {
    private Reference() {}

    static double act(double x, Activation a) {
        return switch (a) {
            case IDENTITY -> x;
            case RELU -> Math.max(x, 0);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case CLAMP01 -> Math.clamp(x, 0.0, 1.0);
        };
    }

    /** c(M,N) = alpha op(a) op(b) + beta c. */
    static double[] gemm(boolean ta, boolean tb, int m, int n, int k, double alpha, double[] a, double[] b,
                         double beta, double[] c) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[p * m + i] : a[i * k + p];
                    double bv = tb ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                out[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * n + j]);
            }
        }
        return out;
    }

    static double[] biasAct(double[] x, double[] bias, int n, int c, int hw, Activation a) {
        double[] y = new double[x.length];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < hw; p++) {
                    int idx = (i * c + ch) * hw + p;
                    y[idx] = act(x[idx] + (bias == null ? 0 : bias[ch]), a);
                }
        return y;
    }

    /** 'same' convolution, stride 1: x (N,C,H,W), w (K,C,R,S), bias (K) or null. */
    static double[] conv2d(double[] x, double[] w, double[] bias, int n, int c, int h, int wd, int k, int r, int s,
                           Activation a) {
        double[] y = new double[n * k * h * wd];
        int pr = (r - 1) / 2, ps = (s - 1) / 2;
        for (int i = 0; i < n; i++)
            for (int o = 0; o < k; o++)
                for (int yy = 0; yy < h; yy++)
                    for (int xx = 0; xx < wd; xx++) {
                        double acc = bias == null ? 0 : bias[o];
                        for (int ch = 0; ch < c; ch++)
                            for (int u = 0; u < r; u++)
                                for (int v = 0; v < s; v++) {
                                    int iy = yy + u - pr, ix = xx + v - ps;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    acc += x[((i * c + ch) * h + iy) * wd + ix] * w[((o * c + ch) * r + u) * s + v];
                                }
                        y[((i * k + o) * h + yy) * wd + xx] = act(acc, a);
                    }
        return y;
    }

    static double[] maxpool2(double[] x, int n, int c, int h, int w) {
        int ho = h / 2, wo = w / 2;
        double[] y = new double[n * c * ho * wo];
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < 2; u++)
                        for (int v = 0; v < 2; v++) m = Math.max(m, x[(p * h + 2 * i + u) * w + 2 * j + v]);
                    y[(p * ho + i) * wo + j] = m;
                }
        return y;
    }

    static double[] upsample2(double[] x, int n, int c, int h, int w) {
        double[] y = new double[n * c * 4 * h * w];
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < 2 * h; i++)
                for (int j = 0; j < 2 * w; j++) y[(p * 2 * h + i) * 2 * w + j] = x[(p * h + i / 2) * w + j / 2];
        return y;
    }

    /** Per-image sum of BCE(sigmoid(x), t). */
    static double[] sigmoidBce(double[] x, double[] t, int n, int d) {
        double[] loss = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double p = 1 / (1 + Math.exp(-x[i * d + j]));
                double tv = t[i * d + j];
                s -= tv * Math.log(p) + (1 - tv) * Math.log1p(-p);
            }
            loss[i] = s;
        }
        return loss;
    }

    static double[] mse(double[] p, double[] t, int n, int d) {
        double[] loss = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += (p[i * d + j] - t[i * d + j]) * (p[i * d + j] - t[i * d + j]);
            loss[i] = s / d;
        }
        return loss;
    }

    static double[] kl(double[] mu, double[] lv, int n, int l) {
        double[] loss = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < l; j++) {
                double m = mu[i * l + j], v = lv[i * l + j];
                s += 1 + v - m * m - Math.exp(v);
            }
            loss[i] = -0.5 * s;
        }
        return loss;
    }

    static double[] reparam(double[] mu, double[] lv, double[] eps) {
        double[] z = new double[mu.length];
        for (int i = 0; i < z.length; i++) z[i] = mu[i] + Math.exp(0.5 * lv[i]) * eps[i];
        return z;
    }

    /** One Adam step in double on copies; returns {param, m, v}. */
    static double[][] adam(double[] p0, double[] m0, double[] v0, double[] g, double lr, double b1, double b2,
                           double eps, int t) {
        double[] p = p0.clone(), m = m0.clone(), v = v0.clone();
        double c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
        for (int i = 0; i < p.length; i++) {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            p[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps);
        }
        return new double[][] {p, m, v};
    }
}
