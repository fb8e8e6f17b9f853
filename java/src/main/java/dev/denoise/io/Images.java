package dev.denoise.io;

import dev.denoise.BadInputException;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reading and writing images as float arrays in NCHW layout with values in [0,1], guarded for files
 * that come from users.
 *
 * <p>Only PNG and JPEG are read, and the format is told by the file's first bytes, never by its
 * name: each extra decoder is more attack surface and more odd behaviour to test. The width and
 * height are read from the header and checked against a pixel limit before any pixel is decoded, so
 * a small file that claims to be enormous costs nothing. Every failure of a damaged, truncated or
 * foreign file becomes a {@link BadInputException} with a one-line reason; the decoders' own
 * exceptions (IIOException, and the NullPointer or ArrayIndexOutOfBounds exceptions they throw on
 * some malformed input) never escape. Decoders are disposed and files closed on every path, and
 * ImageIO's disk cache is off, so reading many bad files leaves no open handles or temp files.
 */
public final class Images {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    private static final byte[] JPEG_MAGIC = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};

    static {
        // Streams then buffer in memory instead of in files under java.io.tmpdir.
        ImageIO.setUseCache(false);
    }

    private Images() {
    }

    /**
     * One image: {@code channels} planes of {@code height × width} values in [0,1], plane after
     * plane (CHW). The array is shared, not copied.
     */
    public record Image(int channels, int height, int width, float[] pixels) {
        /** Checks that the shape is positive and pixels holds exactly channels × height × width values. */
        public Image {
            if (channels <= 0 || height <= 0 || width <= 0) {
                throw new IllegalArgumentException("bad image shape " + channels + "×" + height + "×" + width);
            }
            if ((long) channels * height * width != pixels.length) {
                throw new IllegalArgumentException("image " + channels + "×" + height + "×" + width
                        + " needs " + (long) channels * height * width + " values, got " + pixels.length);
            }
        }

        /** Values in the image: channels × height × width. */
        public int size() {
            return pixels.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Image i && i.channels == channels && i.height == height && i.width == width
                    && Arrays.equals(i.pixels, pixels);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * (31 * channels + height) + width) + Arrays.hashCode(pixels);
        }

        @Override
        public String toString() {
            return "Image[" + channels + "×" + height + "×" + width + "]";
        }
    }

    private enum Format {
        PNG("png"), JPEG("jpeg");

        final String imageIoName;

        Format(String imageIoName) {
            this.imageIoName = imageIoName;
        }
    }

    /**
     * Reads a PNG or JPEG file: grey images give 1 channel, colour ones (RGB, ARGB, palette) 3
     * channels; alpha is dropped; a JPEG's EXIF orientation is applied (a portrait photo comes
     * back upright, its height and width exchanged where the camera stored it turned).
     *
     * @param maxPixels largest width × height accepted
     * @throws BadInputException when the file is missing, unreadable, not a PNG or JPEG, larger than
     *                           {@code maxPixels}, or damaged
     */
    public static Image read(Path file, int maxPixels) {
        return read(file, maxPixels, 0);
    }

    /**
     * Reads a PNG or JPEG file as {@link #read(Path, int)} does, then converts it to
     * {@code channels} channels: 1 (colour becomes luma 0.299 R + 0.587 G + 0.114 B), 3 (grey is
     * repeated in each channel), or 0 to keep what the file holds. A model trained on one channel
     * count can so take any picture.
     */
    public static Image read(Path file, int maxPixels, int channels) {
        if (channels != 0 && channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 0, 1 or 3: " + channels);
        }
        Image image = fromBufferedImage(readPicture(file, maxPixels));
        return channels == 0 ? image : withChannels(image, channels);
    }

    /**
     * Reads a PNG or JPEG file as {@link #read(Path, int)} does, as a picture (what the decoder
     * gives, a quarter of the float image's bytes for 8-bit pixels): for code that streams it with
     * {@link ImageRows}. A JPEG's EXIF orientation is applied.
     *
     * @throws BadInputException as {@link #read(Path, int)}, and for a pixel layout
     *                           {@link ImageRows#of(BufferedImage)} cannot read
     */
    public static BufferedImage readPicture(Path file, int maxPixels) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive: " + maxPixels);
        }
        Format format = sniff(file);
        ImageInputStream in;
        try {
            in = new FileImageInputStream(file.toFile());
        } catch (IOException e) {
            throw new BadInputException(file, "cannot open: " + oneLine(e), e);
        }
        return decode(file, format, in, maxPixels, () -> Exif.orientation(file));
    }

    /**
     * A PNG or JPEG file's bytes (read elsewhere: an object store, a message, a Spark row) as a
     * picture, with every check and error of {@link #readPicture(Path, int)}; name is what errors
     * call it.
     */
    public static BufferedImage readPicture(byte[] content, Path name, int maxPixels) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive: " + maxPixels);
        }
        if (content.length == 0) throw new BadInputException(name, "empty file");
        Format format = sniff(name, content);
        ImageInputStream in = new javax.imageio.stream.MemoryCacheImageInputStream(new java.io.ByteArrayInputStream(content));
        return decode(name, format, in, maxPixels, () -> Exif.orientation(content));
    }

    /** Decodes in (closed here) as format, checked as readPicture says; orientation is asked of JPEGs only. */
    private static BufferedImage decode(Path file, Format format, ImageInputStream in, int maxPixels,
                                        java.util.function.IntSupplier orientation) {
        ImageReader reader = null;
        try {
            reader = readerFor(format);
            reader.setInput(in, true, true);
            int width;
            int height;
            try {
                width = reader.getWidth(0);
                height = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw new BadInputException(file, "damaged or truncated " + format + " header (" + oneLine(e) + ")", e);
            }
            if (width <= 0 || height <= 0) {
                throw new BadInputException(file, format + " header gives an empty size " + width + "×" + height);
            }
            if ((long) width * height > maxPixels) {
                throw new BadInputException(file, width + "×" + height + " image has more pixels than the limit of "
                        + maxPixels);
            }
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            BufferedImage decoded;
            try {
                decoded = reader.read(0);
            } catch (IOException | RuntimeException e) {
                throw new BadInputException(file, "damaged or truncated " + format + " image (" + oneLine(e) + ")", e);
            }
            if (!warnings.isEmpty()) {
                // The JPEG decoder fills what it could not read with grey and only warns.
                throw new BadInputException(file, "damaged or truncated " + format + " image ("
                        + oneLine(warnings.getFirst()) + ")");
            }
            if (decoded == null || decoded.getWidth() != width || decoded.getHeight() != height) {
                throw new BadInputException(file, format + " image decodes to a size other than its header's");
            }
            try {
                ImageRows.of(decoded).read(0, 0, width, new float[3][width]); // a layout it cannot read fails here
            } catch (IllegalArgumentException | ClassCastException | ArrayIndexOutOfBoundsException e) {
                throw new BadInputException(file, "unsupported " + format + " pixel layout (" + oneLine(e) + ")", e);
            }
            return format == Format.JPEG ? Exif.apply(decoded, orientation.getAsInt()) : decoded; // as the camera meant it
        } finally {
            if (reader != null) {
                reader.dispose();
            }
            try {
                in.close();
            } catch (IOException ignored) {
                // Read-only input: nothing was lost.
            }
        }
    }

    /** The format from the file's first bytes; refuses anything that is not PNG or JPEG. */
    private static Format sniff(Path file) {
        byte[] head;
        try (InputStream s = Files.newInputStream(file)) {
            head = s.readNBytes(PNG_MAGIC.length);
        } catch (IOException e) {
            throw BadInputException.reading(file, e);
        }
        if (head.length == 0) {
            throw new BadInputException(file, "empty file");
        }
        return sniff(file, head);
    }

    /** The format from a file's first bytes (head); refuses anything that is not PNG or JPEG. */
    private static Format sniff(Path file, byte[] head) {
        if (startsWith(head, PNG_MAGIC)) {
            return Format.PNG;
        }
        if (startsWith(head, JPEG_MAGIC)) {
            return Format.JPEG;
        }
        throw new BadInputException(file, "not a PNG or JPEG image");
    }

    private static boolean startsWith(byte[] head, byte[] magic) {
        return head.length >= magic.length && Arrays.equals(head, 0, magic.length, magic, 0, magic.length);
    }

    private static ImageReader readerFor(Format format) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.imageIoName);
        if (!readers.hasNext()) {
            throw new IllegalStateException("this Java runtime has no " + format + " reader");
        }
        return readers.next();
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage();
        return oneLine(m == null ? e.getClass().getSimpleName() : m);
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s+", " ").strip();
    }

    /**
     * Writes {@code img} (1 or 3 channels) as a PNG. The bytes go to a new file beside the target,
     * are forced to disk and then renamed over it, so a reader never sees half a file and a crash
     * leaves the old one in place.
     */
    public static void writePng(Path file, Image img) throws IOException {
        writePng(file, toBufferedImage(img));
    }

    /** Writes a picture as a PNG, as {@link #writePng(Path, Image)} does. */
    public static void writePng(Path file, BufferedImage picture) throws IOException {
        writeAtomically(file, out -> {
            if (!ImageIO.write(picture, "png", out)) throw new IOException("this Java runtime has no PNG writer");
        });
    }

    /** Writes {@code img} (1 or 3 channels) as a baseline JPEG of quality 1–100, as writePng does. */
    public static void writeJpeg(Path file, Image img, int quality) throws IOException {
        writeJpeg(file, toBufferedImage(img), quality);
    }

    /** Writes a picture as a baseline JPEG of quality 1–100, as writePng does. */
    public static void writeJpeg(Path file, BufferedImage picture, int quality) throws IOException {
        if (quality < 1 || quality > 100) throw new IllegalArgumentException("JPEG quality must be 1 to 100, got " + quality);
        writeAtomically(file, stream -> {
            javax.imageio.ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            try (javax.imageio.stream.ImageOutputStream out = ImageIO.createImageOutputStream(stream)) {
                writer.setOutput(out);
                javax.imageio.ImageWriteParam param = writer.getDefaultWriteParam();
                param.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(quality / 100f);
                writer.write(null, new javax.imageio.IIOImage(picture, null, null), param);
            } finally {
                writer.dispose();
            }
        });
    }

    /** What writes a file's bytes to a stream (closed by the caller). */
    private interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * content into a new file beside the target (streamed, not held in memory), forced to disk and
     * renamed over the target; the new file is deleted when anything fails.
     */
    private static void writeAtomically(Path file, Content content) throws IOException {
        Path target = file.toAbsolutePath();
        Path tmp = target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean moved = false;
        try {
            // CREATE_NEW, not createTempFile: the result keeps the usual umask permissions.
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /**
     * The picture of a 1-channel (TYPE_BYTE_GRAY) or 3-channel (TYPE_INT_RGB) image; values are
     * clamped to [0,1] and rounded to the nearest of 256 levels, NaN becoming 0.
     */
    public static BufferedImage toBufferedImage(Image img) {
        BufferedImage bi = ImageRows.picture(img.channels(), img.height(), img.width());
        ImageRows.Reader rows = ImageRows.of(img);
        ImageRows.Writer out = ImageRows.into(bi);
        float[][] row = new float[img.channels()][img.width()];
        for (int y = 0; y < img.height(); y++) {
            rows.read(y, 0, img.width(), row);
            out.write(y, row);
        }
        return bi;
    }

    /**
     * The image of a picture: grey pictures (any bit depth, alpha or not) give 1 channel read from
     * the raster as stored, all others 3 sRGB channels; alpha is dropped (see {@link ImageRows#of(BufferedImage)}).
     */
    public static Image fromBufferedImage(BufferedImage bi) {
        ImageRows.Reader rows = ImageRows.of(bi);
        int c = rows.channels(), h = rows.height(), w = rows.width();
        Image img = new Image(c, h, w, new float[Math.multiplyExact(c, Math.multiplyExact(h, w))]);
        ImageRows.Writer out = ImageRows.into(img);
        float[][] row = new float[c][w];
        for (int y = 0; y < h; y++) {
            rows.read(y, 0, w, row);
            out.write(y, row);
        }
        return img;
    }

    /**
     * Tiles same-size images into one picture for reports: {@code columns} per row, {@code pad}
     * white pixels around and between them, each pixel drawn as a {@code scale}×{@code scale}
     * block (nearest neighbour, so 28×28 digits stay crisp). Grey if every image is grey, else RGB
     * with grey images repeated in each channel.
     */
    public static BufferedImage grid(List<Image> images, int columns, int pad, int scale) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to tile");
        }
        if (columns <= 0 || pad < 0 || scale <= 0) {
            throw new IllegalArgumentException("need columns > 0, pad ≥ 0, scale > 0; got "
                    + columns + ", " + pad + ", " + scale);
        }
        Image first = images.getFirst();
        int h = first.height();
        int w = first.width();
        int channels = 1;
        for (Image img : images) {
            if (img.height() != h || img.width() != w) {
                throw new IllegalArgumentException("images differ in size: " + h + "×" + w + " and "
                        + img.height() + "×" + img.width());
            }
            if (img.channels() != 1 && img.channels() != 3) {
                throw new IllegalArgumentException("only 1- and 3-channel images can be tiled, not " + img.channels());
            }
            channels = Math.max(channels, img.channels());
        }
        int cols = Math.min(columns, images.size());
        int rows = (images.size() + cols - 1) / cols;
        int cellW = Math.multiplyExact(w, scale);
        int cellH = Math.multiplyExact(h, scale);
        int outW = Math.addExact(Math.multiplyExact(cols, cellW), Math.multiplyExact(cols + 1, pad));
        int outH = Math.addExact(Math.multiplyExact(rows, cellH), Math.multiplyExact(rows + 1, pad));
        int outPlane = Math.multiplyExact(outW, outH);
        float[] out = new float[Math.multiplyExact(channels, outPlane)];
        Arrays.fill(out, 1f);
        for (int n = 0; n < images.size(); n++) {
            Image img = images.get(n);
            int left = pad + (n % cols) * (cellW + pad);
            int top = pad + (n / cols) * (cellH + pad);
            for (int c = 0; c < channels; c++) {
                int src = img.channels() == 1 ? 0 : c * h * w;
                for (int y = 0; y < cellH; y++) {
                    int srcRow = src + (y / scale) * w;
                    int dstRow = c * outPlane + (top + y) * outW + left;
                    for (int x = 0; x < cellW; x++) {
                        out[dstRow + x] = img.pixels()[srcRow + x / scale];
                    }
                }
            }
        }
        return toBufferedImage(new Image(channels, outH, outW, out));
    }

    /**
     * img with 1 or 3 channels: grey repeated into R, G and B, or colour to luma (0.299 R + 0.587 G
     * + 0.114 B).
     */
    public static Image withChannels(Image img, int channels) {
        if (img.channels() == channels) {
            return img;
        }
        int plane = img.height() * img.width();
        float[] p = img.pixels();
        if (channels == 3) {
            float[] rgb = new float[3 * plane];
            for (int c = 0; c < 3; c++) {
                System.arraycopy(p, 0, rgb, c * plane, plane);
            }
            return new Image(3, img.height(), img.width(), rgb);
        }
        float[] grey = new float[plane];
        for (int i = 0; i < plane; i++) {
            grey[i] = (float) (0.299 * p[i] + 0.587 * p[plane + i] + 0.114 * p[2 * plane + i]);
        }
        return new Image(1, img.height(), img.width(), grey);
    }
}
