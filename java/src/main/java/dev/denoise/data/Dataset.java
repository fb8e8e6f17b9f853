package dev.denoise.data;

import java.util.Arrays;

/**
 * A set of same-sized images held in memory, with an optional class label per image.
 *
 * <p>Images are one float array in NCHW order (image after image, each channel after channel, each
 * row after row) with values in [0,1], the layout the backends take directly, so a batch is a plain
 * range of the array and needs no repacking. The arrays are shared, not copied: the constructor and
 * the accessors hand out the same arrays, which nobody should change once the set is built. A
 * 60,000-image set is 188 MB of floats; copying it on every access would cost more than the
 * protection is worth. {@link #subset} and {@link #first} do copy their range, since Java arrays
 * have no views.
 *
 * @param count    number of images, at least 1
 * @param channels channels per image
 * @param height   rows per image
 * @param width    columns per image
 * @param images   {@code count × channels × height × width} values in [0,1], NCHW
 * @param labels   one class label per image, or null for an unlabelled set
 */
public record Dataset(int count, int channels, int height, int width, float[] images, byte[] labels) {
    /** Checks the shape, and that images and labels have one entry per value and per image. */
    public Dataset {
        if (count <= 0 || channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("bad dataset shape " + count + "×" + channels + "×" + height + "×" + width);
        }
        long size = (long) count * channels * height * width;
        if (images == null || images.length != size) {
            throw new IllegalArgumentException("dataset " + count + "×" + channels + "×" + height + "×" + width
                    + " needs " + size + " values, got " + (images == null ? "null" : images.length));
        }
        if (labels != null && labels.length != count) {
            throw new IllegalArgumentException(count + " images but " + labels.length + " labels");
        }
    }

    /** Values in one image: channels × height × width. */
    public int imageSize() {
        return channels * height * width;
    }

    /** Whether every image has a label. */
    public boolean hasLabels() {
        return labels != null;
    }

    /**
     * The label of image {@code i}, read as unsigned (0..255).
     *
     * @throws IllegalStateException when the set is unlabelled
     */
    public int label(int i) {
        if (labels == null) {
            throw new IllegalStateException("the dataset has no labels");
        }
        return labels[i] & 0xFF;
    }

    /** Images {@code from} (inclusive) to {@code to} (exclusive), copied into a new set. */
    public Dataset subset(int from, int to) {
        if (from < 0 || to > count || from >= to) {
            throw new IndexOutOfBoundsException("subset [" + from + ", " + to + ") of " + count + " images");
        }
        if (from == 0 && to == count) {
            return this;
        }
        int size = imageSize();
        float[] part = Arrays.copyOfRange(images, from * size, to * size);
        byte[] partLabels = labels == null ? null : Arrays.copyOfRange(labels, from, to);
        return new Dataset(to - from, channels, height, width, part, partLabels);
    }

    /** The first {@code n} images, or all of them when there are fewer; handy to cap a run's size. */
    public Dataset first(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("n must be positive: " + n);
        }
        return subset(0, Math.min(n, count));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dataset d && d.count == count && d.channels == channels && d.height == height
                && d.width == width && Arrays.equals(d.images, images) && Arrays.equals(d.labels, labels);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(new int[] {count, channels, height, width}) + Arrays.hashCode(images))
                + Arrays.hashCode(labels);
    }

    @Override
    public String toString() {
        return "Dataset[" + count + "×" + channels + "×" + height + "×" + width
                + (labels == null ? ", unlabelled]" : ", labelled]");
    }
}
