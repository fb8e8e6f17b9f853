package dev.denoise.io;

import dev.denoise.BadInputException;
import dev.denoise.io.Images.Image;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class ImagesTest {
    private static final int LIMIT = 4096 * 4096;

    @TempDir
    Path dir;

    private static Image pattern(int c, int h, int w) {
        float[] p = new float[c * h * w];
        for (int i = 0; i < p.length; i++) {
            p[i] = ((i * 37) % 256) / 255f;
        }
        return new Image(c, h, w, p);
    }

    private static BadInputException refused(Path file) {
        return assertThrows(BadInputException.class, () -> Images.read(file, LIMIT));
    }

    private static void assertProblem(Path file, String problem) {
        BadInputException e = refused(file);
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertEquals(file, e.file());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void grey_png_round_trip() throws IOException {
        Image img = pattern(1, 5, 7);
        Path f = dir.resolve("grey.png");
        Images.writePng(f, img);
        Image back = Images.read(f, LIMIT);
        assertEquals(1, back.channels());
        assertEquals(5, back.height());
        assertEquals(7, back.width());
        assertArrayEquals(img.pixels(), back.pixels(), 1e-6f);
    }

    @Test
    void rgb_png_round_trip_and_overwrite_leave_no_temp_files() throws IOException {
        Image img = pattern(3, 4, 6);
        Path f = dir.resolve("rgb.png");
        Images.writePng(f, pattern(1, 2, 2));
        Images.writePng(f, img);
        Image back = Images.read(f, LIMIT);
        assertEquals(3, back.channels());
        assertArrayEquals(img.pixels(), back.pixels(), 1e-6f);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void read_can_convert_channels() throws IOException {
        Path f = dir.resolve("rgb.png");
        float[] p = new float[3 * 2 * 2];
        Arrays.fill(p, 0, 4, 1f); // pure red
        Images.writePng(f, new Image(3, 2, 2, p));
        Image grey = Images.read(f, LIMIT, 1);
        assertEquals(1, grey.channels());
        assertEquals(0.299f, grey.pixels()[0], 1e-6f);
        Path g = dir.resolve("grey.png");
        Images.writePng(g, pattern(1, 3, 3));
        Image rgb = Images.read(g, LIMIT, 3);
        assertEquals(3, rgb.channels());
        assertArrayEquals(Arrays.copyOfRange(rgb.pixels(), 0, 9), Arrays.copyOfRange(rgb.pixels(), 18, 27));
    }

    @Test
    void to_byte_rounds_and_clamps() {
        float[] p = {-0.5f, 1.5f, Float.NaN, 0.6f / 255f, 0.4f / 255f, 127.5f / 255f};
        BufferedImage bi = Images.toBufferedImage(new Image(1, 1, 6, p));
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, bi.getType());
        int[] bytes = bi.getRaster().getSamples(0, 0, 6, 1, 0, (int[]) null);
        assertArrayEquals(new int[]{0, 255, 0, 1, 0, 128}, bytes);
        BufferedImage rgb = Images.toBufferedImage(new Image(3, 1, 1, new float[]{1f, 0.5f, 0f}));
        assertEquals(BufferedImage.TYPE_INT_RGB, rgb.getType());
        assertEquals(0xFF8000, rgb.getRGB(0, 0) & 0xFFFFFF);
        assertThrows(IllegalArgumentException.class, () -> Images.toBufferedImage(new Image(2, 1, 1, new float[2])));
    }

    @Test
    void argb_and_indexed_pictures_give_three_channels_without_alpha() {
        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x80FF0000);
        argb.setRGB(1, 0, 0xFF0000FF);
        Image a = Images.fromBufferedImage(argb);
        assertEquals(3, a.channels());
        assertArrayEquals(new float[]{1, 0, 0, 0, 0, 1}, a.pixels());
        BufferedImage indexed = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED);
        indexed.setRGB(0, 0, 0xFFFFFF);
        assertEquals(3, Images.fromBufferedImage(indexed).channels());
    }

    @Test
    void jpeg_is_read_whatever_the_name() throws IOException {
        BufferedImage bi = new BufferedImage(32, 24, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 24; y++) {
            for (int x = 0; x < 32; x++) {
                bi.setRGB(x, y, (x * 8) << 16 | (y * 10) << 8 | 128);
            }
        }
        Path f = dir.resolve("photo.png"); // JPEG content: the name does not matter
        assertTrue(ImageIO.write(bi, "jpeg", f.toFile()));
        Image img = Images.read(f, LIMIT);
        assertEquals(3, img.channels());
        assertEquals(24, img.height());
        assertEquals(32, img.width());
        Image want = Images.fromBufferedImage(bi);
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.pixels()[i], img.pixels()[i], 0.08f, "value " + i);
        }

        BufferedImage grey = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        Path g = dir.resolve("grey.jpg");
        assertTrue(ImageIO.write(grey, "jpeg", g.toFile()));
        assertEquals(1, Images.read(g, LIMIT).channels());
    }

    @Test
    void bmp_and_gif_are_refused_even_when_named_png() throws IOException {
        BufferedImage bi = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        Path bmp = dir.resolve("bmp.png");
        Path gif = dir.resolve("gif.png");
        assertTrue(ImageIO.write(bi, "bmp", bmp.toFile()));
        assertTrue(ImageIO.write(bi, "gif", gif.toFile()));
        assertProblem(bmp, "not a PNG or JPEG image");
        assertProblem(gif, "not a PNG or JPEG image");
    }

    @Test
    void huge_header_is_refused_before_decoding() throws IOException {
        Path f = dir.resolve("bomb.png");
        Files.write(f, pngHeaderOnly(100_000, 100_000));
        long start = System.nanoTime();
        BadInputException e = refused(f);
        assertTrue(e.getMessage().contains("100000×100000"), e.getMessage());
        assertTrue(e.getMessage().contains("limit of " + LIMIT), e.getMessage());
        assertTrue(System.nanoTime() - start < 2_000_000_000L);
        // The same file with a small size gets as far as decoding, which fails for lack of pixel data:
        // so the refusal above came from the header alone.
        Path small = dir.resolve("small.png");
        Files.write(small, pngHeaderOnly(10, 10));
        assertProblem(small, "damaged or truncated PNG image");
        // Exactly at the limit is allowed through the size check.
        BadInputException at = assertThrows(BadInputException.class, () -> Images.read(small, 100));
        assertTrue(at.getMessage().contains("damaged"), at.getMessage());
        BadInputException over = assertThrows(BadInputException.class, () -> Images.read(small, 99));
        assertTrue(over.getMessage().contains("limit of 99"), over.getMessage());
    }

    @Test
    void truncated_png_and_jpeg_are_refused() throws IOException {
        byte[] png = noisyPng(64, 64);
        Path half = dir.resolve("half.png");
        Files.write(half, Arrays.copyOf(png, png.length / 2));
        assertProblem(half, "damaged or truncated PNG");
        Path header = dir.resolve("header.png");
        Files.write(header, Arrays.copyOf(png, 20));
        assertProblem(header, "damaged or truncated PNG header");
        Path magicOnly = dir.resolve("magic.png");
        Files.write(magicOnly, Arrays.copyOf(png, 8));
        assertProblem(magicOnly, "damaged or truncated PNG");

        byte[] jpeg = jpeg(64, 64);
        Path halfJpeg = dir.resolve("half.jpg");
        Files.write(halfJpeg, Arrays.copyOf(jpeg, jpeg.length / 2));
        assertProblem(halfJpeg, "damaged or truncated JPEG");
        Path shortJpeg = dir.resolve("short.jpg");
        Files.write(shortJpeg, Arrays.copyOf(jpeg, 3));
        assertProblem(shortJpeg, "damaged or truncated JPEG");
    }

    @Test
    void empty_random_and_missing_files_are_refused() throws IOException {
        Path empty = dir.resolve("empty.png");
        Files.write(empty, new byte[0]);
        assertProblem(empty, "empty file");
        Path random = dir.resolve("random.png");
        Files.write(random, randomBytes(new SplittableRandom(1), 4096));
        assertProblem(random, "not a PNG or JPEG image");
        Path missing = dir.resolve("missing.png");
        assertProblem(missing, "no such file");
        assertProblem(dir, "");
    }

    @Test
    void random_bytes_after_a_valid_signature_are_refused() throws IOException {
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 50; i++) {
            Path f = dir.resolve("r" + i);
            Files.write(f, randomAfterMagic(r, i));
            refused(f);
        }
    }

    @Test
    void a_thousand_malformed_files_leave_no_open_handles_or_temp_files() throws IOException {
        List<Path> bad = malformedFiles();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        for (Path f : bad) { // warm up: classes and decoders loaded before counting
            refused(f);
        }
        long fdsBefore = openFiles();
        Set<String> tmpBefore = imageIoTempFiles(tmp);
        for (int i = 0; i < 1000; i++) {
            refused(bad.get(i % bad.size()));
        }
        long fdsAfter = openFiles();
        assertTrue(fdsAfter <= fdsBefore + 3, "open files " + fdsBefore + " → " + fdsAfter);
        assertEquals(tmpBefore, imageIoTempFiles(tmp));
    }

    @Test
    void grid_tiles_and_scales() {
        Image a = new Image(1, 2, 3, new float[]{0, 0, 0, 0, 0, 0});
        Image b = new Image(1, 2, 3, new float[]{1, 1, 1, 1, 1, 0});
        BufferedImage g = Images.grid(List.of(a, b, a), 2, 1, 2);
        // 2 columns of 6 px + 3 pads; 2 rows of 4 px + 3 pads.
        assertEquals(2 * 6 + 3, g.getWidth());
        assertEquals(2 * 4 + 3, g.getHeight());
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, g.getType());
        int[] px = g.getRaster().getSamples(0, 0, g.getWidth(), g.getHeight(), 0, (int[]) null);
        int w = g.getWidth();
        assertEquals(255, px[0]);                 // padding is white
        assertEquals(0, px[1 * w + 1]);           // image a, top-left block
        assertEquals(0, px[4 * w + 6]);           // image a, bottom-right block (scaled 2×)
        assertEquals(255, px[1 * w + 8]);         // image b
        assertEquals(0, px[4 * w + 8 + 5]);       // image b's last pixel, scaled
        assertEquals(0, px[(1 + 4 + 1) * w + 1]); // third image, second row
        assertEquals(255, px[(1 + 4 + 1) * w + 8]); // empty cell stays white

        Image rgb = new Image(3, 2, 3, new float[18]);
        BufferedImage mixed = Images.grid(List.of(b, rgb), 5, 0, 1);
        assertEquals(BufferedImage.TYPE_INT_RGB, mixed.getType());
        assertEquals(6, mixed.getWidth());
        assertEquals(0xFFFFFF, mixed.getRGB(0, 0) & 0xFFFFFF);
        assertThrows(IllegalArgumentException.class, () -> Images.grid(List.of(a, new Image(1, 3, 3, new float[9])), 2, 0, 1));
    }

    // ---- helpers -------------------------------------------------------------------------

    /** Signature, a hand-made IHDR (8-bit grey) with a correct CRC, then IEND: no pixel data. */
    public static byte[] pngHeaderOnly(int width, int height) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(new byte[]{(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(ihdr);
        d.writeInt(width);
        d.writeInt(height);
        d.write(new byte[]{8, 0, 0, 0, 0}); // bit depth, colour type grey, deflate, adaptive, no interlace
        chunk(out, "IHDR", ihdr.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return bytes.toByteArray();
    }

    private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt(data.length);
        out.write(t);
        out.write(data);
        out.writeInt((int) crc.getValue());
    }

    private static byte[] noisyPng(int w, int h) throws IOException {
        SplittableRandom r = new SplittableRandom(3);
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                bi.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(bi, "png", out));
        return out.toByteArray();
    }

    private static byte[] jpeg(int w, int h) throws IOException {
        SplittableRandom r = new SplittableRandom(4);
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                bi.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(bi, "jpeg", out));
        return out.toByteArray();
    }

    private static byte[] randomBytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        if (b.length > 0 && (b[0] == (byte) 0x89 || b[0] == (byte) 0xFF)) {
            b[0] = 0;
        }
        return b;
    }

    private static byte[] randomAfterMagic(SplittableRandom r, int i) {
        byte[] magic = i % 2 == 0
                ? new byte[]{(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}
                : new byte[]{(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
        byte[] b = new byte[magic.length + 1 + r.nextInt(2000)];
        r.nextBytes(b);
        System.arraycopy(magic, 0, b, 0, magic.length);
        return b;
    }

    private List<Path> malformedFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        byte[] png = noisyPng(48, 48);
        byte[] jpeg = jpeg(48, 48);
        SplittableRandom r = new SplittableRandom(5);
        int n = 0;
        for (byte[] content : List.of(
                new byte[0],
                Arrays.copyOf(png, png.length / 2),
                Arrays.copyOf(png, 30),
                Arrays.copyOf(jpeg, jpeg.length / 2),
                Arrays.copyOf(jpeg, 100),
                randomBytes(r, 1000),
                randomAfterMagic(r, 0),
                randomAfterMagic(r, 1),
                pngHeaderOnly(100_000, 100_000),
                pngHeaderOnly(10, 10))) {
            Path f = dir.resolve("bad" + n++ + ".png");
            Files.write(f, content);
            files.add(f);
        }
        BufferedImage bi = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        Path gif = dir.resolve("bad-gif.png");
        ImageIO.write(bi, "gif", gif.toFile());
        files.add(gif);
        return files;
    }

    private static long openFiles() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /** ImageIO's cache files are named imageio*.tmp; other processes may use the same directory. */
    private static Set<String> imageIoTempFiles(Path tmp) throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(name -> name.startsWith("imageio"))
                    .collect(Collectors.toSet());
        }
    }
}
