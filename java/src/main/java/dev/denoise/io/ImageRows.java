package dev.denoise.io;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;

/**
 * Images read and written a row at a time as floats in [0,1], so that code which streams an image
 * (the {@link dev.denoise.Denoiser}'s tiles) holds a few rows, not a float copy of the whole
 * picture: a 6000×4000 colour photo is 72 MB as a decoded picture and 288 MB as float planes.
 *
 * <p>The values are those of {@link Images#fromBufferedImage} and the pictures those of
 * {@link Images#toBufferedImage}, which are written with these.
 */
public final class ImageRows {
    private ImageRows() {}

    /** An image read in row segments: all its channels at once. */
    public interface Reader {
        /** Channels per pixel: 1 for grey, 3 for colour. */
        int channels();

        /** Rows of the image. */
        int height();

        /** Columns of the image: values per row and channel. */
        int width();

        /** Row y's values at columns [x, x + n), channel c into dst[c][0, n). */
        void read(int y, int x, int n, float[][] dst);
    }

    /** An image written row after row. */
    public interface Writer {
        /** Row y, channel c's width values in row[c]; the arrays are the caller's again on return. */
        void write(int y, float[][] row);
    }

    /** The rows of a float image (no copy). */
    public static Reader of(Images.Image img) {
        int h = img.height(), w = img.width(), plane = h * w;
        float[] p = img.pixels();
        return new Sized(img.channels(), h, w) {
            @Override
            public void read(int y, int x, int n, float[][] dst) {
                for (int c = 0; c < channels; c++) System.arraycopy(p, c * plane + y * w + x, dst[c], 0, n);
            }
        };
    }

    /**
     * The rows of a picture: grey pictures (any bit depth, alpha or not) give 1 channel read from
     * the raster as stored, all others 3 sRGB channels; alpha is dropped. Palette pictures count as
     * colour even when the palette is grey, since the colour model is what is known before looking
     * at the pixels.
     */
    public static Reader of(BufferedImage bi) {
        int h = bi.getHeight(), w = bi.getWidth();
        ColorModel cm = bi.getColorModel();
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            // straight from the raster: getRGB would apply the linear-grey to sRGB curve
            Raster raster = bi.getRaster();
            int type = raster.getDataBuffer().getDataType();
            if (type == DataBuffer.TYPE_FLOAT || type == DataBuffer.TYPE_DOUBLE) {
                return new Sized(1, h, w) {
                    @Override
                    public void read(int y, int x, int n, float[][] dst) {
                        raster.getSamples(x, y, n, 1, 0, dst[0]);
                    }
                };
            }
            double max = (1L << cm.getComponentSize(0)) - 1;
            return new Sized(1, h, w) {
                private int[] samples = new int[0];

                @Override
                public void read(int y, int x, int n, float[][] dst) {
                    if (samples.length < n) samples = new int[n];
                    raster.getSamples(x, y, n, 1, 0, samples);
                    for (int i = 0; i < n; i++) dst[0][i] = (float) (samples[i] / max);
                }
            };
        }
        return new Sized(3, h, w) {
            private int[] argb = new int[0];

            @Override
            public void read(int y, int x, int n, float[][] dst) {
                if (argb.length < n) argb = new int[n];
                bi.getRGB(x, y, n, 1, argb, 0, n);
                for (int i = 0; i < n; i++) {
                    dst[0][i] = ((argb[i] >> 16) & 0xFF) / 255f;
                    dst[1][i] = ((argb[i] >> 8) & 0xFF) / 255f;
                    dst[2][i] = (argb[i] & 0xFF) / 255f;
                }
            }
        };
    }

    /** Writes into a float image's planes. */
    public static Writer into(Images.Image img) {
        int c = img.channels(), w = img.width(), plane = img.height() * w;
        float[] p = img.pixels();
        return (y, row) -> {
            for (int ch = 0; ch < c; ch++) System.arraycopy(row[ch], 0, p, ch * plane + y * w, w);
        };
    }

    /**
     * A picture for an image of channels (1 or 3) × h × w: TYPE_BYTE_GRAY or TYPE_INT_RGB, black
     * until written by {@link #into(BufferedImage)}.
     */
    public static BufferedImage picture(int channels, int h, int w) {
        return switch (channels) {
            case 1 -> new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            case 3 -> new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            default -> throw new IllegalArgumentException("only 1- and 3-channel images have a picture, not " + channels);
        };
    }

    /**
     * Writes into a picture made by {@link #picture}: values clamped to [0,1] and rounded to the
     * nearest of 256 levels, NaN becoming 0.
     */
    public static Writer into(BufferedImage bi) {
        int w = bi.getWidth();
        WritableRaster raster = bi.getRaster();
        // straight into the pixel array when the raster is a whole array of its own (not a sub-image's window)
        boolean whole = raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0
                && raster.getParent() == null && raster.getDataBuffer().getOffset() == 0
                && raster.getDataBuffer().getSize() == w * bi.getHeight();
        if (bi.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            if (!whole) {
                int[] samples = new int[w];
                return (y, row) -> {
                    for (int x = 0; x < w; x++) samples[x] = toByte(row[0][x]);
                    raster.setSamples(0, y, w, 1, 0, samples);
                };
            }
            byte[] data = ((DataBufferByte) raster.getDataBuffer()).getData();
            return (y, row) -> {
                for (int x = 0; x < w; x++) data[y * w + x] = (byte) toByte(row[0][x]);
            };
        }
        if (bi.getType() == BufferedImage.TYPE_INT_RGB) {
            if (!whole) {
                int[] rgb = new int[w];
                return (y, row) -> {
                    for (int x = 0; x < w; x++) rgb[x] = toByte(row[0][x]) << 16 | toByte(row[1][x]) << 8 | toByte(row[2][x]);
                    bi.setRGB(0, y, w, 1, rgb, 0, w);
                };
            }
            int[] data = ((DataBufferInt) raster.getDataBuffer()).getData();
            return (y, row) -> {
                for (int x = 0; x < w; x++) data[y * w + x] = toByte(row[0][x]) << 16 | toByte(row[1][x]) << 8 | toByte(row[2][x]);
            };
        }
        throw new IllegalArgumentException("writes TYPE_BYTE_GRAY and TYPE_INT_RGB pictures (see picture), not type " + bi.getType());
    }

    /** The nearest of 256 levels to v clamped to [0,1]; NaN is 0. */
    static int toByte(float v) {
        if (!(v > 0)) return 0;
        if (v >= 1) return 255;
        return (int) Math.round(v * 255.0);
    }

    private abstract static class Sized implements Reader {
        final int channels, height, width;

        Sized(int channels, int height, int width) {
            this.channels = channels;
            this.height = height;
            this.width = width;
        }

        @Override
        public int channels() {
            return channels;
        }

        @Override
        public int height() {
            return height;
        }

        @Override
        public int width() {
            return width;
        }
    }
}
