package dev.denoise;

/** A separable Gaussian blur, mirrored at the edges (scipy's 'reflect'). */
final class Blur {
    private Blur() {}

    /** plane (h × w) blurred in place with a Gaussian of sigma pixels, truncated at 3σ: rows, then columns. */
    static void gaussian(float[] plane, int h, int w, double sigma) {
        float[] k = kernel(sigma);
        float[] line = new float[Math.max(h, w)];
        for (int y = 0; y < h; y++) line(plane, y * w, 1, w, k, line);   // rows
        for (int x = 0; x < w; x++) line(plane, x, w, h, k, line);       // columns
    }

    /** The normalized taps of a Gaussian of sigma, truncated at radius ⌈3σ⌉ (2·radius + 1 of them). */
    static float[] kernel(double sigma) {
        int r = (int) Math.ceil(3 * sigma);
        float[] k = new float[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) sum += k[i + r] = (float) Math.exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < k.length; i++) k[i] /= (float) sum;
        return k;
    }

    /** One line of n values at start, stride apart, convolved in place with k; line: scratch of n. */
    static void line(float[] p, int start, int stride, int n, float[] k, float[] line) {
        int r = k.length / 2;
        for (int i = 0; i < n; i++) line[i] = p[start + i * stride];
        for (int i = 0; i < n; i++) {
            float s = 0;
            for (int j = -r; j <= r; j++) s += k[j + r] * line[mirror(i + j, n)];
            p[start + i * stride] = s;
        }
    }

    /** i reflected into [0, n): … 1 0 | 0 1 … n−1 | n−1 n−2 …, repeated for lines shorter than the kernel. */
    static int mirror(int i, int n) {
        int period = 2 * n;
        int m = Math.floorMod(i, period);
        return m < n ? m : period - 1 - m;
    }
}
