package dev.denoise.data;

import dev.denoise.BadInputException;
import dev.denoise.io.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Patches cut from pictures of any size, and folders of pictures read for training. */
class PatchSamplerTest {
    @TempDir
    Path dir;

    /** A picture whose every pixel value says where it is: (c, y, x) → c·10⁶ + y·10³ + x. */
    private static Images.Image coordinates(int c, int h, int w) {
        float[] p = new float[c * h * w];
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) p[(k * h + y) * w + x] = k * 1e6f + y * 1e3f + x;
        return new Images.Image(c, h, w, p);
    }

    @Test
    void every_patch_is_a_symmetry_of_a_square_window_of_one_picture() {
        Images.Image a = coordinates(3, 19, 23), b = coordinates(3, 8, 8);
        int s = 8;
        Dataset d = new PatchSampler(List.of(a, b), s, 500, true).epoch(7, 3);
        assertEquals(500, d.count());
        assertEquals(3, d.channels());
        Set<Integer> transforms = new HashSet<>();
        for (int k = 0; k < d.count(); k++) {
            float[] p = new float[3 * s * s];
            System.arraycopy(d.images(), k * p.length, p, 0, p.length);
            // the window's corner is the smallest (y, x) in the patch; plane 0 holds y·1000 + x
            float min = Float.MAX_VALUE;
            for (int i = 0; i < s * s; i++) min = Math.min(min, p[i]);
            int y0 = (int) (min / 1000), x0 = (int) (min % 1000);
            boolean matched = false;
            for (int t = 0; t < 8 && !matched; t++) {
                boolean ok = true;
                for (int c = 0; c < 3 && ok; c++)
                    for (int y = 0; y < s && ok; y++)
                        for (int x = 0; x < s && ok; x++) {
                            int sy = y, sx = x;
                            if ((t & 1) != 0) sx = s - 1 - sx;
                            if ((t & 2) != 0) sy = s - 1 - sy;
                            if ((t & 4) != 0) { int u = sy; sy = sx; sx = u; }
                            ok = p[(c * s + y) * s + x] == c * 1e6f + (y0 + sy) * 1e3f + x0 + sx;
                        }
                if (ok) { matched = true; transforms.add(t); }
            }
            assertTrue(matched, "patch " + k + " is no flipped/turned window at (" + y0 + ", " + x0 + ")");
            assertTrue(y0 + s <= 19 && x0 + s <= 23, "patch " + k + " inside the picture");
        }
        assertEquals(8, transforms.size(), "all 8 symmetries occur in 500 patches");
    }

    @Test
    void same_epoch_same_patches_other_epoch_other_patches() {
        PatchSampler ps = new PatchSampler(List.of(coordinates(1, 40, 33)), 12, 64, true);
        assertArrayEquals(ps.epoch(1, 4).images(), ps.epoch(1, 4).images());
        assertFalse(java.util.Arrays.equals(ps.epoch(1, 4).images(), ps.epoch(1, 5).images()));
        assertFalse(java.util.Arrays.equals(ps.epoch(1, 4).images(), ps.epoch(2, 4).images()));
    }

    @Test
    void without_augmentation_patches_are_upright_windows() {
        Dataset d = new PatchSampler(List.of(coordinates(1, 30, 30)), 4, 50, false).epoch(3, 0);
        for (int k = 0; k < d.count(); k++) {
            float first = d.images()[k * 16];
            assertEquals(first + 1, d.images()[k * 16 + 1]);
            assertEquals(first + 1000, d.images()[k * 16 + 4]);
        }
    }

    @Test
    void a_picture_smaller_than_the_patch_is_refused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PatchSampler(List.of(coordinates(1, 30, 30), coordinates(1, 10, 40)), 16, 4, true));
        assertTrue(e.getMessage().contains("smaller than the 16x16 patch"), e.getMessage());
    }

    @Test
    void folder_reads_pictures_in_name_order_in_one_channel_count() throws Exception {
        Images.writePng(dir.resolve("b.png"), coordinatesIn01(3, 20, 24));
        Images.writePng(dir.resolve("a.png"), coordinatesIn01(1, 16, 16));
        Files.writeString(dir.resolve("notes.txt"), "not a picture");
        ImageFolder f = ImageFolder.load(dir);
        assertEquals(List.of("a.png", "b.png"), f.names());
        assertEquals(3, f.channels(), "one colour picture makes the folder colour");
        assertEquals(3, f.images().getFirst().channels());
        ImageFolder[] split = f.split(1);
        assertEquals(List.of("a.png"), split[0].names());
        assertEquals(List.of("b.png"), split[1].names());
        assertThrows(IllegalArgumentException.class, () -> f.split(2));
    }

    @Test
    void a_folder_without_pictures_or_with_a_broken_one_names_the_file() throws Exception {
        BadInputException empty = assertThrows(BadInputException.class, () -> ImageFolder.load(dir));
        assertEquals(dir + ": holds no .png, .jpg or .jpeg files", empty.getMessage());
        Images.writePng(dir.resolve("a.png"), coordinatesIn01(1, 16, 16));
        Path broken = Files.write(dir.resolve("b.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        BadInputException e = assertThrows(BadInputException.class, () -> ImageFolder.load(dir));
        assertTrue(e.getMessage().startsWith(broken + ": "), e.getMessage());
    }

    private static Images.Image coordinatesIn01(int c, int h, int w) {
        Images.Image img = coordinates(c, h, w);
        float[] p = img.pixels();
        for (int i = 0; i < p.length; i++) p[i] = (i % 251) / 250f;
        return img;
    }
}
