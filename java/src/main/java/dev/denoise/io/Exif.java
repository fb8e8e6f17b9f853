package dev.denoise.io;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The EXIF orientation of a JPEG (tag 0x0112 of IFD0 in its APP1 "Exif" segment), which cameras
 * and phones set instead of rotating the pixels, and its application to decoded pixels. Java's
 * JPEG reader ignores it, so a portrait photo would come back lying on its side.
 *
 * <p>Only the segments before the image data are read (at most {@link #MAX_BYTES}). Missing,
 * damaged or out-of-range metadata means orientation 1 (as stored): a photo is never refused for
 * its metadata.
 */
final class Exif {
    /** Header bytes read at most: APP1 is limited to 64 KB and comes first in practice. */
    static final int MAX_BYTES = 256 << 10;

    private Exif() {}

    /** Orientation 1-8 of a JPEG file (1 when it has none or it cannot be read). */
    static int orientation(Path jpeg) {
        byte[] head;
        try (InputStream in = Files.newInputStream(jpeg)) {
            head = in.readNBytes(MAX_BYTES);
        } catch (IOException e) {
            return 1;
        }
        return orientation(head);
    }

    static int orientation(byte[] b) {
        if (b.length < 4 || (b[0] & 0xFF) != 0xFF || (b[1] & 0xFF) != 0xD8) return 1;
        int p = 2;
        while (p + 4 <= b.length && (b[p] & 0xFF) == 0xFF) {
            int marker = b[p + 1] & 0xFF, len = u16(b, p + 2, false);
            if (marker == 0xDA || marker == 0xD9 || len < 2) return 1; // image data, or end: no EXIF before it
            int start = p + 4, end = Math.min(b.length, p + 2 + len);
            if (marker == 0xE1 && end - start >= 14 && b[start] == 'E' && b[start + 1] == 'x' && b[start + 2] == 'i'
                    && b[start + 3] == 'f' && b[start + 4] == 0 && b[start + 5] == 0) {
                int o = tiffOrientation(b, start + 6, end);
                if (o != 0) return o;
            }
            p += 2 + len;
        }
        return 1;
    }

    /** Tag 0x0112 of IFD0 of the TIFF structure at [t, end), or 0. */
    private static int tiffOrientation(byte[] b, int t, int end) {
        boolean little;
        if (b[t] == 'I' && b[t + 1] == 'I') little = true;
        else if (b[t] == 'M' && b[t + 1] == 'M') little = false;
        else return 0;
        if (u16(b, t + 2, little) != 42) return 0;
        long ifd = u32(b, t + 4, little);
        if (ifd < 8 || t + ifd + 2 > end) return 0;
        int p = (int) (t + ifd), count = u16(b, p, little);
        for (int i = 0; i < count; i++) {
            int e = p + 2 + 12 * i;
            if (e + 12 > end) return 0;
            if (u16(b, e, little) == 0x0112 && u16(b, e + 2, little) == 3) { // SHORT
                int v = u16(b, e + 8, little);
                return v >= 1 && v <= 8 ? v : 0;
            }
        }
        return 0;
    }

    private static int u16(byte[] b, int p, boolean little) {
        int x = b[p] & 0xFF, y = b[p + 1] & 0xFF;
        return little ? x | y << 8 : x << 8 | y;
    }

    private static long u32(byte[] b, int p, boolean little) {
        long hi = u16(b, p + (little ? 2 : 0), little), lo = u16(b, p + (little ? 0 : 2), little);
        return hi << 16 | lo;
    }

    /** img as it should be seen, for EXIF orientation 1-8 (2-8 mirror and/or turn it). */
    static Images.Image apply(Images.Image img, int orientation) {
        if (orientation <= 1 || orientation > 8) return img;
        int c = img.channels(), h = img.height(), w = img.width();
        boolean swap = orientation >= 5;
        int oh = swap ? w : h, ow = swap ? h : w;
        float[] in = img.pixels(), out = new float[in.length];
        for (int ch = 0; ch < c; ch++) {
            int base = ch * h * w;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) out[base + y * ow + x] = in[base + stored(orientation, h, w, y, x)];
        }
        return new Images.Image(c, oh, ow, out);
    }

    /** A picture as it should be seen, for EXIF orientation 1-8: a new one of the same layout, turned. */
    static BufferedImage apply(BufferedImage bi, int orientation) {
        if (orientation <= 1 || orientation > 8) return bi;
        int h = bi.getHeight(), w = bi.getWidth();
        boolean swap = orientation >= 5;
        int oh = swap ? w : h, ow = swap ? h : w;
        ColorModel cm = bi.getColorModel();
        int type = bi.getType();
        // the same standard type where there is one (readers have fast paths for those), else the same model
        BufferedImage turned = type == BufferedImage.TYPE_CUSTOM || type == BufferedImage.TYPE_BYTE_BINARY
                || type == BufferedImage.TYPE_BYTE_INDEXED
                ? new BufferedImage(cm, cm.createCompatibleWritableRaster(ow, oh), cm.isAlphaPremultiplied(), null)
                : new BufferedImage(ow, oh, type);
        WritableRaster out = turned.getRaster();
        Raster in = bi.getRaster();
        Object pixel = null;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                int s = stored(orientation, h, w, y, x);
                pixel = in.getDataElements(s % w, s / w, pixel);
                out.setDataElements(x, y, pixel);
            }
        return turned;
    }

    /**
     * Where the pixel shown at (y, x) is stored, as sy·w + sx, for an h × w stored image seen in
     * orientation 2-8 (5-8 exchange rows and columns).
     */
    private static int stored(int orientation, int h, int w, int y, int x) {
        int sy, sx;
        switch (orientation) {
            case 2 -> { sy = y; sx = w - 1 - x; }
            case 3 -> { sy = h - 1 - y; sx = w - 1 - x; }
            case 4 -> { sy = h - 1 - y; sx = x; }
            case 5 -> { sy = x; sx = y; }
            case 6 -> { sy = h - 1 - x; sx = y; }
            case 7 -> { sy = h - 1 - x; sx = w - 1 - y; }
            default -> { sy = x; sx = w - 1 - y; } // 8
        }
        return sy * w + sx;
    }
}
