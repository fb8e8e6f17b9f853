package dev.denoise;

import dev.denoise.backend.Backend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pictures go through a Denoiser a row of tiles at a time, read and written as 8-bit pixels. The
 * result is the picture of the float path's result, bit for bit, for every way through (the same
 * channels; grey through a colour model; colour through a grey model in opponent channels or one
 * channel at a time), every pixel layout and strength; and what a call allocates on the heap is
 * bounded by its band of tile rows, not by the picture.
 */
class StreamedPicturesTest {
    private static Autoencoder model(Backend cpu, ModelKind kind, int channels) {
        Autoencoder m = Autoencoder.create(cpu, ModelConfig.defaults(kind, channels, 32, 32).withConvDepth(2).withConvWidth(4), 1);
        m.initialise(7);
        return m;
    }

    private static BufferedImage picture(int type, int h, int w, long seed) {
        BufferedImage bi = new BufferedImage(w, h, type);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int v = (x * 255 / w + rng.nextInt(64)) & 0xFF; // a ramp with noise
                bi.setRGB(x, y, 0xFF000000 | v << 16 | (255 - v) << 8 | rng.nextInt(256));
            }
        return bi;
    }

    private static int[] pixels(BufferedImage bi) {
        return bi.getRGB(0, 0, bi.getWidth(), bi.getHeight(), null, 0, bi.getWidth());
    }

    @ParameterizedTest(name = "{0} ({1} ch), picture type {2}, strength {3}")
    @CsvSource({"residual, 1, 5, 1", "residual, 1, 10, 1", "residual, 1, 5, 0.4", "conv, 1, 5, 1", "conv, 3, 5, 1",
            "conv, 3, 10, 1", "skip, 3, 11, 0.7", "residual, 1, 2, 1", "residual, 1, 13, 1", "residual, 1, 11, 1"})
    void a_picture_comes_back_as_the_float_path_would_give_it(String kind, int channels, int type, float strength) {
        Backend cpu = SharedCpu.get();
        BufferedImage in = picture(type, 530, 301, type * 10L + channels); // two rows and two columns of tiles
        try (Autoencoder m = model(cpu, ModelKind.parse(kind), channels); Denoiser d = new Denoiser(m)) {
            BufferedImage got = d.denoise(in, strength);
            BufferedImage want = Images.toBufferedImage(d.denoise(Images.fromBufferedImage(in), strength));
            assertEquals(want.getType(), got.getType());
            assertArrayEquals(pixels(want), pixels(got));
        }
    }

    @Test
    void a_tall_photo_allocates_its_band_not_its_float_copy() {
        Backend cpu = SharedCpu.get();
        int h = 4000, w = 260;
        BufferedImage in = picture(BufferedImage.TYPE_3BYTE_BGR, h, w, 3);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Autoencoder m = model(cpu, ModelKind.RESIDUAL, 1); Denoiser d = new Denoiser(m)) {
            d.denoise(in); // the first call makes the tile model and compiles the code
            long before = threads.getCurrentThreadAllocatedBytes();
            BufferedImage out = d.denoise(in);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            long floatCopy = 3L * h * w * Float.BYTES, picture = (long) h * w * Integer.BYTES;
            // the output picture, the band's sums for six planes and the blur's rows: about 7 MB
            assertTrue(allocated < picture + floatCopy / 2, "the call allocated " + allocated / 1000 + " kB; a float copy of "
                    + "the photo is " + floatCopy / 1000 + " kB, the output picture " + picture / 1000 + " kB");
            assertEquals(h, out.getHeight());
        }
    }

    @Test
    void files_in_files_out(@TempDir Path dir) throws Exception {
        Backend cpu = SharedCpu.get();
        BufferedImage pic = picture(BufferedImage.TYPE_3BYTE_BGR, 300, 280, 9);
        Path in = dir.resolve("in.png");
        ImageIO.write(pic, "png", in.toFile());
        try (Autoencoder m = model(cpu, ModelKind.RESIDUAL, 1); Denoiser d = new Denoiser(m)) {
            d.denoise(in, dir.resolve("out.png"));
            assertArrayEquals(pixels(d.denoise(pic)), pixels(ImageIO.read(dir.resolve("out.png").toFile())));
            d.denoise(in, dir.resolve("out.JPG"), 0.5f);
            assertEquals(280, ImageIO.read(dir.resolve("out.JPG").toFile()).getWidth(), "a JPEG by its name");
            Path junk = Files.writeString(dir.resolve("junk.png"), "not a picture");
            BadInputException e = assertThrows(BadInputException.class, () -> d.denoise(junk, dir.resolve("junk-out.png")));
            assertTrue(e.getMessage().startsWith(junk.toString()), e.getMessage());
            assertFalse(Files.exists(dir.resolve("junk-out.png")), "nothing written for a bad input");
        }
    }
}
