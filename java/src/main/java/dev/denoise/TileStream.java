package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An image's planes through a fully convolutional model in overlapping tiles, one row of tiles at
 * a time, each row of the result handed on as soon as no later tile reaches it. What it holds is
 * the blending sums of one band (planes × tile side × width floats) and one tile's input, never a
 * whole plane: a 6000 × 4000 colour photo through the grey photo model (6 planes, 448-px tiles)
 * keeps 7 · 448 · 6000 floats, 75 MB, where whole planes took 17 · 96 MB.
 *
 * <p>The planes are jobs × the model's channels: a colour model takes one job of 3 planes, a grey
 * model any number of 1-plane jobs (R, G and B; or the opponent planes and R, G, B). Each job of a
 * tile is one image of a batch, so all of a tile's jobs run before the next tile's.
 *
 * <p>Why the tiles give the whole-image answer: a tile's output is wrong only within the model's
 * receptive radius of a cut edge (there it sees zero padding instead of the neighbouring pixels),
 * so that margin gets weight 0 and the ramp between two tiles lies past it; tiles start at
 * multiples of 2^depth, so their pooling grid is the whole image's. For H and W divisible by
 * 2^depth the tiled result is the whole-image result up to rounding. Tiles are blended in the
 * same order whatever the band, so the bits do not depend on it either.
 */
final class TileStream {
    /** Where the planes' values come from: row y, columns [x, x + n), plane p into dst[p][0, n). */
    interface Source {
        void read(int y, int x, int n, float[][] dst);
    }

    /** Where the result goes, rows 0 to h − 1 in order: row y of plane p in planes[p] (w values, reused after). */
    interface Sink {
        void row(int y, float[][] planes);
    }

    /** Width of the linear ramp between tiles. */
    static final int BLEND = 8;
    /** Smallest tile side: large enough that the margins waste little of each tile. */
    static final int MIN_TILE = 256;
    /**
     * Tile side in margins, at least: a tile computes (tile / (tile − 2·margin − blend))² times the
     * pixels it keeps, 3.5× for the photo model's margin of 56 px in 256 px tiles, 1.9× in 448.
     */
    static final int MARGINS_PER_TILE = 8;

    /**
     * A picture at most this many preferred tiles on its longer side is one tile of its own size:
     * no cut, so nothing computed twice. Cut into tiles, a 512 × 512 picture computed four 448-px
     * tiles, 3.1 times its pixels.
     */
    static final double WHOLE_UP_TO = 1.25;

    /**
     * Where tiles are cut: tiles of height × width (squares, unless the picture is one tile),
     * multiples of 2^depth; margin, the receptive radius rounded up to a multiple of 2^depth
     * (outputs nearer a cut get weight 0); step, the distance between tile starts (a multiple of
     * 2^depth too).
     */
    record Tiling(int height, int width, int margin, int step, int multiple) {
        /**
         * The tiling of an h × w image: one tile of the image's size (rounded up to the pooling
         * grid) when its longer side is at most {@link #WHOLE_UP_TO} preferred tiles; else square
         * tiles of the preferred side (0: {@link #MARGINS_PER_TILE} margins), but no wider than the
         * image's shorter side (on the pooling grid) allows, so that a tile overhangs the image
         * (filled by edge replication) only where the image is narrower than four margins, as it
         * always could.
         */
        static Tiling of(ModelConfig c, int h, int w, int preferred) {
            int m = c.sizeMultiple();
            int margin = roundUp(c.receptiveRadius(), m);
            int least = Math.max(MIN_TILE, roundUp(4 * margin, m));
            int want = preferred > 0 ? roundUp(preferred, m) : roundUp(MARGINS_PER_TILE * margin, m);
            if (Math.max(h, w) <= WHOLE_UP_TO * Math.max(want, least)) {
                return new Tiling(roundUp(h, m), roundUp(w, m), margin, roundUp(Math.max(h, w), m), m);
            }
            int tile = Math.max(least, Math.min(want, Math.min(h, w) / m * m));
            return new Tiling(tile, tile, margin, tile - roundUp(2 * margin + BLEND, m), m);
        }

        /**
         * Blend weight at position p of a tile side of length n, on sides that have a neighbour: 0
         * within the margin of the cut, then a ramp over BLEND pixels. Outputs are divided by the
         * summed weights, so tiles that overlap by more than a step (the last of a row) still blend
         * exactly.
         */
        float ramp(int p, int n, boolean before, boolean after) {
            float r = 1f;
            if (before) r = Math.min(r, Math.clamp((p - margin + 0.5f) / BLEND, 0f, 1f));
            if (after) r = Math.min(r, Math.clamp((n - margin - p - 0.5f) / BLEND, 0f, 1f));
            return r;
        }

        /**
         * Tile origins (y, x) over an h × w image, row by row: a step apart, the last of a row or
         * column pulled back to the edge, kept on the pooling grid (so it may overhang the edge by
         * less than 2^depth pixels, filled by replication).
         */
        List<int[]> origins(int h, int w) {
            int lastY = roundUp(Math.max(0, h - height), multiple), lastX = roundUp(Math.max(0, w - width), multiple);
            List<int[]> origins = new ArrayList<>();
            for (int y0 = 0; ; y0 += step) {
                int ty = Math.min(y0, lastY);
                for (int x0 = 0; ; x0 += step) {
                    int tx = Math.min(x0, lastX);
                    origins.add(new int[] {ty, tx});
                    if (tx == lastX) break;
                }
                if (ty == lastY) break;
            }
            return origins;
        }

        private static int roundUp(int v, int m) {
            return (v + m - 1) / m * m;
        }
    }

    private final Tiling g;
    private final int jobs, channels, h, w, th, tw, bandRows;
    private final Source source;
    private final Sink sink;
    private final List<int[]> origins;
    /** Weighted sums of the band's rows [top, top + bandRows), per plane, and their weights. */
    private final float[][] acc;
    private final float[] wsum;
    private int top;
    /** The input of tile tileRead, all planes (planes × th × tw), read once for all its jobs. */
    private final float[] tile;
    private int tileRead = -1;
    private final float[][] rowIn, rowOut;
    /** Blending scratch, a tile row long: column weights, their products with a row's, one row of output. */
    private final float[] wx, wt, row;

    /** An h × w image of jobs × channels planes (channels: the model's), tiled by g. */
    TileStream(Tiling g, int jobs, int channels, int h, int w, Source source, Sink sink) {
        this.g = g;
        this.jobs = jobs;
        this.channels = channels;
        this.h = h;
        this.w = w;
        this.th = g.height();
        this.tw = g.width();
        this.bandRows = Math.min(th, h);
        this.source = source;
        this.sink = sink;
        this.origins = g.origins(h, w);
        int planes = jobs * channels;
        this.acc = new float[planes][bandRows * w];
        this.wsum = new float[bandRows * w];
        this.tile = new float[planes * th * tw];
        this.rowIn = new float[planes][tw];
        this.rowOut = new float[planes][w];
        this.wx = new float[tw];
        this.wt = new float[tw];
        this.row = new float[tw];
    }

    /** Images to run: a tile's jobs, for every tile. */
    int images() {
        return origins.size() * jobs;
    }

    /**
     * Runs every tile on tiler (a model of tile × tile in batches of up to batch images) and hands
     * every row to the sink. A pipeline over two staging slots: while the device denoises group k
     * of images, the host cuts group k + 1 into one slot and blends group k − 1 out of the other;
     * it waits only for a slot.
     */
    void run(Autoencoder tiler, int batch) {
        Backend b = tiler.backend();
        int size = channels * th * tw, images = images();
        int groups = (images + batch - 1) / batch;
        try (Tensor in = b.allocate(batch, channels, th, tw); Tensor out = b.allocate(batch, channels, th, tw);
             Backend.Staging in0 = b.staging((long) batch * size); Backend.Staging in1 = b.staging((long) batch * size);
             Backend.Staging out0 = b.staging((long) batch * size); Backend.Staging out1 = b.staging((long) batch * size)) {
            Backend.Staging[] ins = {in0, in1}, outs = {out0, out1};
            int[] pending = {-1, -1};
            for (int k = 0; k < groups; k++) {
                int slot = k & 1, first = k * batch, n = Math.min(batch, images - first);
                ins[slot].await();
                for (int j = 0; j < n; j++) stage(first + j, ins[slot].memory(), (long) j * size);
                Tensor tin = in.rows(0, n), tout = out.rows(0, n);
                b.upload(tin, ins[slot], 0);
                tiler.reconstruct(tin, tout);
                if (pending[slot] >= 0) blendGroup(outs[slot], pending[slot], batch, images);
                b.download(outs[slot], 0, tout);
                pending[slot] = k;
            }
            for (int k = Math.max(0, groups - 2); k < groups; k++) blendGroup(outs[k & 1], k, batch, images);
        }
        flush(h);
    }

    /** Image i (tile i / jobs, job i % jobs) into staging memory at value offset base. */
    private void stage(int i, MemorySegment memory, long base) {
        int t = i / jobs, job = i % jobs, size = channels * th * tw;
        if (t != tileRead) readTile(t);
        MemorySegment.copy(tile, job * size, memory, ValueLayout.JAVA_FLOAT, base * Float.BYTES, size);
    }

    /** Tile t's input for every plane; rows past the image's edge repeat the last, columns the last column. */
    private void readTile(int t) {
        int ty = origins.get(t)[0], tx = origins.get(t)[1], inside = Math.min(tw, w - tx);
        for (int y = 0; y < th; y++) {
            source.read(Math.min(h - 1, ty + y), tx, inside, rowIn);
            for (int p = 0; p < rowIn.length; p++) {
                int dst = (p * th + y) * tw;
                System.arraycopy(rowIn[p], 0, tile, dst, inside);
                Arrays.fill(tile, dst + inside, dst + tw, rowIn[p][inside - 1]);
            }
        }
        tileRead = t;
    }

    /** Blends group k's images (batch per group) out of staging memory. */
    private void blendGroup(Backend.Staging staged, int k, int batch, int images) {
        staged.await();
        int first = k * batch, n = Math.min(batch, images - first);
        for (int j = 0; j < n; j++) blend(staged.memory(), (long) j * channels * th * tw, first + j);
    }

    /**
     * Adds image i's denoised tile (at base in out) into the band, weighted by the tiling's ramps.
     * The first image of a tile that starts a new row of tiles first hands on the rows above it:
     * no tile after it reaches them.
     */
    private void blend(MemorySegment out, long base, int i) {
        int t = i / jobs, job = i % jobs, ty = origins.get(t)[0], tx = origins.get(t)[1], cols = Math.min(tw, w - tx);
        if (job == 0 && ty > top) flush(ty);
        for (int x = 0; x < cols; x++) wx[x] = g.ramp(x, tw, tx > 0, tx + tw < w);
        for (int y = 0; y < th && ty + y < h; y++) {
            float wy = g.ramp(y, th, ty > 0, ty + th < h);
            int o = (ty + y - top) * w + tx;
            for (int x = 0; x < cols; x++) wt[x] = wy * wx[x];
            if (job == 0) for (int x = 0; x < cols; x++) wsum[o + x] += wt[x];
            for (int c = 0; c < channels; c++) {
                MemorySegment.copy(out, ValueLayout.JAVA_FLOAT, (base + (long) (c * th + y) * tw) * Float.BYTES, row, 0, cols);
                float[] a = acc[job * channels + c];
                for (int x = 0; x < cols; x++) a[o + x] += wt[x] * row[x];
            }
        }
    }

    /** Hands on rows [top, until) (their sums divided by their weights) and moves the band down to until. */
    private void flush(int until) {
        for (int r = top; r < until; r++) {
            int o = (r - top) * w;
            for (int p = 0; p < acc.length; p++)
                for (int x = 0; x < w; x++) rowOut[p][x] = acc[p][o + x] / wsum[o + x];
            sink.row(r, rowOut);
        }
        if (until == h) return; // the last rows: nothing below them
        int shift = (until - top) * w, kept = bandRows * w - shift;
        for (float[] a : acc) {
            System.arraycopy(a, shift, a, 0, kept);
            Arrays.fill(a, kept, a.length, 0f);
        }
        System.arraycopy(wsum, shift, wsum, 0, kept);
        Arrays.fill(wsum, kept, wsum.length, 0f);
        top = until;
    }
}
