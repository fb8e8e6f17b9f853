package dev.denoise.io;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Rows written into a picture land where they belong: in a whole picture's own pixel array, and
 * in a window of a larger one (a sub-image shares its parent's array at an offset), where only the
 * window changes.
 */
class ImageRowsTest {
    @Test
    void rows_go_into_a_window_of_a_larger_picture_and_nowhere_else() {
        for (int type : new int[] {BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_BYTE_GRAY}) {
            int channels = type == BufferedImage.TYPE_INT_RGB ? 3 : 1;
            BufferedImage big = ImageRows.picture(channels, 9, 11);
            BufferedImage window = big.getSubimage(3, 2, 5, 4);
            ImageRows.Writer out = ImageRows.into(window);
            float[][] row = new float[channels][5];
            for (int y = 0; y < 4; y++) {
                for (int c = 0; c < channels; c++) for (int x = 0; x < 5; x++) row[c][x] = (10 * y + x + 1) / 255f;
                out.write(y, row);
            }
            for (int y = 0; y < 9; y++)
                for (int x = 0; x < 11; x++) {
                    boolean inside = y >= 2 && y < 6 && x >= 3 && x < 8;
                    int want = inside ? 10 * (y - 2) + (x - 3) + 1 : 0;
                    assertEquals(want, big.getRaster().getSample(x, y, 0), "type " + type + " at (" + y + ", " + x + ")");
                }
            // and a whole picture's rows read back as written
            BufferedImage whole = ImageRows.picture(channels, 4, 5);
            ImageRows.into(whole).write(1, row);
            float[][] back = new float[channels][5];
            ImageRows.of(whole).read(1, 0, 5, back);
            for (int c = 0; c < channels; c++) for (int x = 0; x < 5; x++) assertEquals(row[c][x], back[c][x], 1e-6f);
        }
        assertThrows(IllegalArgumentException.class, () -> ImageRows.into(new BufferedImage(2, 2, BufferedImage.TYPE_3BYTE_BGR)));
    }
}
