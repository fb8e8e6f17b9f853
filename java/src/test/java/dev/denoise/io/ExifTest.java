package dev.denoise.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** JPEG EXIF orientation: found in big- and little-endian TIFF, applied as each of the 8 values says. */
class ExifTest {
    @TempDir
    Path dir;

    /** A JPEG of a 6×4 (w×h) grey ramp with an APP1 Exif segment saying orientation o (none when 0). */
    private static byte[] jpeg(int o, boolean little) throws Exception {
        BufferedImage bi = new BufferedImage(6, 4, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 4; y++) for (int x = 0; x < 6; x++) bi.getRaster().setSample(x, y, 0, 10 * (y * 6 + x));
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        ImageIO.write(bi, "jpeg", plain);
        byte[] j = plain.toByteArray();
        if (o == 0) return j;
        byte[] tiff = little
                ? new byte[] {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte) o, 0, 0, 0, 0, 0, 0, 0}
                : new byte[] {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte) o, 0, 0, 0, 0, 0, 0};
        int len = 2 + 6 + tiff.length;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(j, 0, 2); // SOI
        out.write(new byte[] {(byte) 0xFF, (byte) 0xE1, (byte) (len >> 8), (byte) len, 'E', 'x', 'i', 'f', 0, 0});
        out.write(tiff);
        out.write(j, 2, j.length - 2);
        return out.toByteArray();
    }

    @Test
    void every_orientation_is_applied_and_unreadable_metadata_means_as_stored() throws Exception {
        Path plain = dir.resolve("plain.jpg");
        Files.write(plain, jpeg(0, false));
        Images.Image stored = Images.read(plain, 1 << 20);
        assertEquals(4, stored.height());
        for (int o = 1; o <= 8; o++) {
            for (boolean little : new boolean[] {false, true}) {
                Path f = dir.resolve("o" + o + little + ".jpg");
                Files.write(f, jpeg(o, little));
                assertEquals(o, Exif.orientation(f), "orientation " + o + (little ? " (II)" : " (MM)"));
                Images.Image img = Images.read(f, 1 << 20);
                Images.Image want = Exif.apply(stored, o);
                assertEquals(o >= 5 ? 6 : 4, img.height(), "orientation " + o);
                assertArrayEquals(want.pixels(), img.pixels(), "orientation " + o);
            }
        }
        // 6: turned a quarter clockwise; the stored bottom-left pixel is shown top-left
        Images.Image six = Exif.apply(stored, 6);
        assertEquals(stored.pixels()[3 * 6], six.pixels()[0]);
        // 8: a quarter anticlockwise; the stored top-right pixel is shown top-left
        assertEquals(stored.pixels()[5], Exif.apply(stored, 8).pixels()[0]);
        // damaged metadata is ignored, the photo is read as stored
        byte[] bad = jpeg(6, false);
        bad[12] = 'X'; // TIFF byte order mark
        assertEquals(1, Exif.orientation(bad));
        assertEquals(1, Exif.orientation(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE1, 0, 1}));
    }

    @Test
    void a_colour_picture_turns_as_its_float_image_does() {
        BufferedImage bi = new BufferedImage(5, 3, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 3; y++) for (int x = 0; x < 5; x++) bi.setRGB(x, y, (17 * y + x) << 16 | (3 * x) << 8 | 40 * y);
        Images.Image stored = Images.fromBufferedImage(bi);
        for (int o = 1; o <= 8; o++) {
            BufferedImage turned = Exif.apply(bi, o);
            assertEquals(BufferedImage.TYPE_3BYTE_BGR, turned.getType(), "orientation " + o);
            assertEquals(Exif.apply(stored, o), Images.fromBufferedImage(turned), "orientation " + o);
        }
    }
}
