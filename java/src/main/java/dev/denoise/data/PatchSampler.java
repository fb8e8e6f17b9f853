package dev.denoise.data;

import dev.denoise.io.Images;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Square patches cut at random from pictures of any size, as a {@link Dataset} the trainer reads
 * like MNIST. Each patch takes a picture with probability proportional to the number of places a
 * patch fits in it (so every pixel position is about equally likely), a uniform position, and,
 * when augmenting, one of the 8 flips/quarter turns of the square. Every patch is a function of
 * (seed, epoch, index) alone: an epoch's patches are the same on any machine and after a resume.
 */
public final class PatchSampler {
    private final List<Images.Image> images;
    private final int channels, size, count;
    private final boolean augment;
    private final long[] cumulativePlaces; // cumulativePlaces[i]: patch positions in images 0..i

    /**
     * @param images  pictures of one channel count, each at least size × size
     * @param size    patch side
     * @param count   patches per epoch
     * @param augment flips and quarter turns
     */
    public PatchSampler(List<Images.Image> images, int size, int count, boolean augment) {
        if (images.isEmpty()) throw new IllegalArgumentException("no pictures to cut patches from");
        if (size < 1 || count < 1) throw new IllegalArgumentException("patch size and count must be positive");
        this.images = List.copyOf(images);
        this.channels = images.getFirst().channels();
        this.size = size;
        this.count = count;
        this.augment = augment;
        this.cumulativePlaces = new long[images.size()];
        long total = 0;
        for (int i = 0; i < images.size(); i++) {
            Images.Image img = images.get(i);
            if (img.channels() != channels) throw new IllegalArgumentException("pictures differ in channel count");
            if (img.height() < size || img.width() < size) {
                throw new IllegalArgumentException("picture " + i + " is " + img.height() + "x" + img.width()
                        + ", smaller than the " + size + "x" + size + " patch");
            }
            total += (long) (img.height() - size + 1) * (img.width() - size + 1);
            cumulativePlaces[i] = total;
        }
    }

    /** Patches per epoch. */
    public int count() {
        return count;
    }

    /** Channels of every patch: those of the pictures. */
    public int channels() {
        return channels;
    }

    /** Side of the square patches in pixels. */
    public int size() {
        return size;
    }

    /** The patches of one epoch (fresh positions and transforms every epoch). */
    public Dataset epoch(long seed, int epoch) {
        int d = channels * size * size;
        float[] out = new float[Math.multiplyExact(count, d)];
        for (int k = 0; k < count; k++) {
            SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + ((long) epoch << 32) + k);
            cut(rng, out, k * d);
        }
        return new Dataset(count, channels, size, size, out, null);
    }

    private void cut(SplittableRandom rng, float[] out, int at) {
        long place = rng.nextLong(cumulativePlaces[cumulativePlaces.length - 1]);
        int i = 0;
        while (cumulativePlaces[i] <= place) i++;
        Images.Image img = images.get(i);
        long local = place - (i == 0 ? 0 : cumulativePlaces[i - 1]);
        int across = img.width() - size + 1;
        int y0 = (int) (local / across), x0 = (int) (local % across);
        int transform = augment ? rng.nextInt(8) : 0;
        int h = img.height(), w = img.width();
        float[] px = img.pixels();
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    // the source pixel of output (y, x) under one of the square's 8 symmetries
                    int sy = y, sx = x;
                    if ((transform & 1) != 0) sx = size - 1 - sx;            // mirror
                    if ((transform & 2) != 0) sy = size - 1 - sy;            // flip
                    if ((transform & 4) != 0) { int t = sy; sy = sx; sx = t; } // transpose
                    out[at + (c * size + y) * size + x] = px[(c * h + y0 + sy) * w + x0 + sx];
                }
            }
        }
    }
}
