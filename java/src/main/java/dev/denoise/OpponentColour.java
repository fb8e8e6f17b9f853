package dev.denoise;

import dev.denoise.io.ImageRows;

/**
 * A colour image through a blind grey model, in an opponent colour space (CBM3D's): the mean
 * L = (R + G + B)/3 and the two differences D1 = (R − B)/2 + ½, D2 = (R − 2G + B)/4 + ½. The three
 * weightings are orthogonal, so noise that is independent and equal in R, G and B stays independent
 * in L, D1 and D2, each a grey image with Gaussian noise the blind model knows: weaker than the
 * photo's (σ/√3 in L, σ/√2 and σ·√6/4 in the differences), where denoising R, G and B apart would
 * face σ three times and keep their noise's colour. Nearly all of the detail lies in L; the
 * differences are smooth.
 *
 * <p>One thing the opponent channels hide: clipping. Noise clipped at 0 and 255 in a channel raises
 * (or lowers) that channel's mean where it is dark (or bright): chelsea's blue by 2.2 levels at
 * σ 50. The model learned to undo that on grey pictures, where it sees the clipped values, but in
 * the opponent channels the bias is spread thin and looks like signal, and comes back as a colour
 * cast. So R, G and B also go through the model each on its own, and the result takes their low
 * frequencies: opponent + blur(per channel − opponent), a Gaussian blur of σ {@value #CAST_BLUR} px
 * that keeps the cast's correction and drops the per-channel results' extra noise. Measured on
 * chelsea at σ 50: the cast from 2.07 to 0.37 levels and +0.2 dB; at σ 15 and 25 the same PSNR
 * (bench/NOTES.md). It doubles a colour photo's time.
 *
 * <p>So the model sees six planes (L, D1, D2, R, G, B: {@link #planes}) and {@link Rows} turns
 * their results back into colour a row at a time, holding 2·⌈3σ⌉ + 1 rows for the blur's columns.
 */
final class OpponentColour {
    /** σ (pixels) of the blur that keeps only the per-channel results' low frequencies. */
    static final double CAST_BLUR = 8;
    /** Planes the model sees per colour pixel. */
    static final int PLANES = 6;

    private OpponentColour() {}

    /** The six planes of a colour image: L, D1, D2, then R, G and B as they are. */
    static TileStream.Source planes(ImageRows.Reader rgb) {
        float[][] t = new float[3][0];
        return (y, x, n, dst) -> {
            if (t[0].length < n) for (int c = 0; c < 3; c++) t[c] = new float[n];
            rgb.read(y, x, n, t);
            for (int i = 0; i < n; i++) {
                float r = t[0][i], g = t[1][i], b = t[2][i];
                dst[0][i] = (r + g + b) / 3f;
                dst[1][i] = (r - b) / 2f + 0.5f;
                dst[2][i] = (r - 2f * g + b) / 4f + 0.5f;
                dst[3][i] = r;
                dst[4][i] = g;
                dst[5][i] = b;
            }
        };
    }

    /**
     * The six planes' results, row by row, back to R, G and B: the opponent result plus the blurred
     * difference of the per-channel results from it, clamped to [0,1]. Each row goes out once the
     * rows its column blur reaches have come in.
     */
    static final class Rows implements TileStream.Sink {
        private final int h, w, radius, ring;
        private final float[] kernel, line;
        private final ImageRows.Writer out;
        /** By row y % ring: the opponent result in R, G, B and the row-blurred differences. */
        private final float[][][] opponent, diff;
        private final float[][] result;
        private int next;

        Rows(int h, int w, ImageRows.Writer out) {
            this.h = h;
            this.w = w;
            this.out = out;
            this.kernel = Blur.kernel(CAST_BLUR);
            this.radius = kernel.length / 2;
            this.ring = kernel.length;
            this.line = new float[w];
            this.opponent = new float[ring][3][w];
            this.diff = new float[ring][3][w];
            this.result = new float[3][w];
        }

        @Override
        public void row(int y, float[][] p) {
            float[][] o = opponent[y % ring], d = diff[y % ring];
            for (int i = 0; i < w; i++) {
                float s = 3f * p[0][i], a = 2f * (p[1][i] - 0.5f), c = 4f * (p[2][i] - 0.5f);
                float g = (s - c) / 3f, rb = s - g;                  // R + B = s − G
                o[0][i] = (rb + a) / 2f;
                o[1][i] = g;
                o[2][i] = (rb - a) / 2f;
            }
            for (int ch = 0; ch < 3; ch++) {
                for (int i = 0; i < w; i++) d[ch][i] = p[3 + ch][i] - o[ch][i]; // this channel on its own, less the opponent result
                Blur.line(d[ch], 0, 1, w, kernel, line);
            }
            int ready = y == h - 1 ? h : y - radius + 1;               // rows whose column blur has all it reaches
            for (; next < ready; next++) emit(next);
        }

        /** Row y: the column blur of the differences (mirrored at the edges, as Blur's) added to the opponent result. */
        private void emit(int y) {
            for (int ch = 0; ch < 3; ch++) {
                float[] s = result[ch];
                java.util.Arrays.fill(s, 0f);
                for (int j = -radius; j <= radius; j++) {
                    float k = kernel[j + radius];
                    float[] src = diff[Blur.mirror(y + j, h) % ring][ch];
                    for (int i = 0; i < w; i++) s[i] += k * src[i];
                }
                float[] o = opponent[y % ring][ch];
                for (int i = 0; i < w; i++) s[i] = Math.clamp(o[i] + s[i], 0f, 1f);
            }
            out.write(y, result);
        }
    }
}
