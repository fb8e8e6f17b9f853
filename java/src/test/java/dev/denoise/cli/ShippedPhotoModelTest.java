package dev.denoise.cli;

import dev.denoise.io.Images;
import dev.denoise.io.ImagesTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `denoise denoise photo --out dir/` with the model the jar carries: noisy 8-bit pictures (clipped
 * and rounded, as users have them) come back cleaner, grey as grey and colour without a cast; every
 * bad input (a non-image, a truncated JPEG, a 100k × 100k header, a damaged or altered model file)
 * is one line, exit 2, and nothing written.
 */
class ShippedPhotoModelTest {
    @TempDir
    Path dir;

    /**
     * A synthetic photo: smooth shading, hard-edged discs and stripes (edges a denoiser must keep),
     * in colour or grey; values in [0.1, 0.9] so that σ 25/255 noise is rarely clipped.
     */
    static Images.Image scene(int channels, int h, int w) {
        float[] p = new float[channels * h * w];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    double v = 0.3 + 0.25 * Math.sin(x / 23.0 + c) * Math.cos(y / 31.0);
                    double dx = x - w * 0.35, dy = y - h * 0.5;
                    if (dx * dx + dy * dy < 40 * 40) v = 0.75 - 0.15 * c;
                    if (x > w * 0.7 && (y / 8) % 2 == 0) v = 0.15 + 0.1 * c;
                    p[(c * h + y) * w + x] = (float) Math.clamp(v, 0.1, 0.9);
                }
        return new Images.Image(channels, h, w, p);
    }

    /** img plus Gaussian noise of sigma (on 0-255), clipped and rounded to 8 bits. */
    static Images.Image noisy(Images.Image img, double sigma, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] p = img.pixels().clone();
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (Math.clamp(Math.rint(p[i] * 255 + sigma * rng.nextGaussian()), 0, 255) / 255);
        }
        return new Images.Image(img.channels(), img.height(), img.width(), p);
    }

    static double psnr(Images.Image a, Images.Image b) {
        double s = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            double e = Math.rint(a.pixels()[i] * 255) - Math.rint(b.pixels()[i] * 255);
            s += e * e;
        }
        return 10 * Math.log10(255.0 * 255 / (s / a.pixels().length));
    }

    /** Largest mean difference of a channel, output against clean, in levels of 255. */
    static double channelShift(Images.Image clean, Images.Image out) {
        int plane = clean.height() * clean.width();
        double worst = 0;
        for (int c = 0; c < clean.channels(); c++) {
            double s = 0;
            for (int i = 0; i < plane; i++) s += out.pixels()[c * plane + i] - clean.pixels()[c * plane + i];
            worst = Math.max(worst, Math.abs(s / plane * 255));
        }
        return worst;
    }

    @Test
    void denoises_colour_and_grey_with_no_model_file() throws Exception {
        Images.Image rgb = scene(3, 180, 260), grey = scene(1, 150, 203);
        Path in = Files.createDirectory(dir.resolve("in")), out = dir.resolve("out");
        Images.writePng(in.resolve("rgb.png"), noisy(rgb, 25, 1));
        Images.writeJpeg(in.resolve("grey.jpg"), noisy(grey, 25, 2), 98);
        InProcessCli.Run r = InProcessCli.run("denoise", in.resolve("rgb.png").toString(),
                in.resolve("grey.jpg").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Images.Image cleanRgb = Images.read(out.resolve("rgb.png"), 1 << 20);
        Images.Image cleanGrey = Images.read(out.resolve("grey.png"), 1 << 20);
        assertEquals(3, cleanRgb.channels());
        assertEquals(1, cleanGrey.channels(), "grey in, grey out");
        assertEquals(260, cleanRgb.width());
        assertEquals(203, cleanGrey.width());
        double before = psnr(rgb, noisy(rgb, 25, 1)), after = psnr(rgb, cleanRgb);
        assertTrue(after > before + 8, "colour: " + before + " dB noisy, " + after + " dB denoised");
        double greyBefore = psnr(grey, noisy(grey, 25, 2)), greyAfter = psnr(grey, cleanGrey);
        assertTrue(greyAfter > greyBefore + 8, "grey: " + greyBefore + " dB noisy, " + greyAfter + " dB denoised");
        assertTrue(channelShift(rgb, cleanRgb) < 1.0, "a channel shifted by " + channelShift(rgb, cleanRgb) + " levels");
    }

    @Test
    void strength_0_returns_the_input_and_in_between_lies_between() throws Exception {
        Images.Image noisy = noisy(scene(1, 64, 96), 25, 3);
        Path in = dir.resolve("n.png");
        Images.writePng(in, noisy);
        float[][] out = new float[3][];
        String[] strengths = {"0", "0.5", "1"};
        for (int k = 0; k < 3; k++) {
            Path o = dir.resolve("s" + k);
            InProcessCli.Run r = InProcessCli.run("denoise", "--strength", strengths[k], in.toString(), "--out", o.toString());
            assertEquals(0, r.code(), r.err());
            out[k] = Images.read(o.resolve("n.png"), 1 << 20).pixels();
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(noisy.pixels(), out[0], 1e-6f, "strength 0: the input");
        for (int i = 0; i < out[1].length; i++) {
            float mid = (out[0][i] + out[2][i]) / 2;
            assertTrue(Math.abs(out[1][i] - mid) <= 1.01f / 255, "value " + i + ": " + out[1][i] + " vs " + mid);
        }
    }

    @Test
    void bad_pictures_are_one_line_exit_2_and_nothing_written() throws Exception {
        Path text = Files.writeString(dir.resolve("notes.png"), "not a picture");
        Path jpeg = dir.resolve("cut.jpg");
        Images.writeJpeg(jpeg, scene(3, 64, 64), 90);
        byte[] whole = Files.readAllBytes(jpeg);
        Path cut = Files.write(dir.resolve("half.jpg"), Arrays.copyOf(whole, whole.length / 2));
        Path huge = Files.write(dir.resolve("huge.png"), ImagesTest.pngHeaderOnly(100_000, 100_000));
        Path good = dir.resolve("good.png");
        Images.writePng(good, scene(1, 40, 40));
        for (Path bad : new Path[] {text, cut, huge}) {
            Path out = dir.resolve("out-" + bad.getFileName());
            // the bad file after a good one: nothing is written for the good one either
            InProcessCli.Run r = InProcessCli.run("denoise", good.toString(), bad.toString(), "--out", out.toString());
            assertEquals(2, r.code(), bad + " → " + r.err());
            assertTrue(r.oneLineError().contains(bad.toString()), r.err());
            assertFalse(Files.exists(out), "nothing may be written for " + bad);
        }
    }

    @Test
    void damaged_or_altered_model_files_are_refused() throws Exception {
        Path picture = dir.resolve("p.png");
        Images.writePng(picture, scene(1, 40, 40));
        byte[] model;
        try (var s = getClass().getResourceAsStream("/dev/denoise/models/photo.safetensors")) {
            model = s.readAllBytes();
        }
        long headerLength = java.nio.ByteBuffer.wrap(model, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] altered = model.clone();
        int at = (int) (8 + headerLength + 4 * 1000);
        altered[at] ^= 0x01;                         // one weight, one mantissa bit: still a valid float
        Path alteredFile = Files.write(dir.resolve("altered.safetensors"), altered);
        Path truncated = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(model, model.length - 100));
        Path junk = Files.write(dir.resolve("junk.safetensors"), new ByteArrayOutputStream().toByteArray());
        String[][] cases = {{alteredFile.toString(), "checksum"}, {truncated.toString(), truncated.toString()},
                {junk.toString(), junk.toString()}};
        for (String[] c : cases) {
            Path out = dir.resolve("out");
            InProcessCli.Run r = InProcessCli.run("denoise", "--model-file", c[0], picture.toString(), "--out", out.toString());
            assertEquals(2, r.code(), c[0] + " → " + r.err());
            assertTrue(r.oneLineError().contains(c[1]), r.err());
            assertFalse(Files.exists(out), "nothing may be written with " + c[0]);
        }
        // the untouched copy loads
        Path copy = Files.write(dir.resolve("copy.safetensors"), model);
        InProcessCli.Run ok = InProcessCli.run("denoise", "--model-file", copy.toString(), picture.toString(),
                "--out", dir.resolve("ok").toString());
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void model_choice_errors() {
        Path out = dir.resolve("out");
        InProcessCli.Run r = InProcessCli.run("denoise", "--model", "nosuch", "x.png", "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.oneLineError().contains("--model: unknown model 'nosuch'"), r.err());
        r = InProcessCli.run("denoise", "--model", "photo", "--model-file", "m.safetensors", "x.png", "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.oneLineError().contains("give one"), r.err());
        assertFalse(Files.exists(out));
    }
}
