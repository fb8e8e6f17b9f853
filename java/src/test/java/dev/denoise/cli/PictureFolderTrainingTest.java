package dev.denoise.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.denoise.io.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `train --dataset DIR`: a conv model trained on patches of colour pictures of any size; `compare
 * --dataset DIR --test DIR`: conv and skip side by side in a report.
 */
class PictureFolderTrainingTest {
    @TempDir
    Path dir;

    /** A smooth colour picture (gradients and a disc), different for each index. */
    private static Images.Image picture(int index, int h, int w) {
        float[] p = new float[3 * h * w];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    double r = Math.hypot(y - h / 2.0, x - w / 3.0 - index * 5);
                    double v = 0.2 + 0.5 * ((x + index * 7 + c * 13) % w) / w + (r < h / 4.0 ? 0.3 : 0);
                    p[(c * h + y) * w + x] = (float) Math.min(1, v);
                }
        return new Images.Image(3, h, w, p);
    }

    @Test
    void trains_on_patches_then_denoises_a_whole_picture() throws Exception {
        Path photos = Files.createDirectory(dir.resolve("photos"));
        for (int i = 0; i < 4; i++) Images.writePng(photos.resolve("p" + i + ".png"), picture(i, 60 + 7 * i, 72 - 3 * i));
        Path out = dir.resolve("run");
        InProcessCli.Run r = InProcessCli.run("train", "--model", "conv", "--dataset", photos.toString(),
                "--patch", "32", "--patches", "128", "--batch", "32", "--epochs", "2", "--device", "cpu",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode history = new ObjectMapper().readTree(out.resolve("history.json").toFile());
        assertEquals(2, history.size());
        assertTrue(Double.isFinite(history.get(1).get("val_psnr").asDouble()), history.toString());

        Path crops = dir.resolve("report/crops.png");
        InProcessCli.Run e = InProcessCli.run("evaluate", "--model-file", out.resolve("model.safetensors").toString(),
                "--dataset", photos.toString(), "--json", "--crops", crops.toString(), "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        String json = e.out().substring(0, e.out().lastIndexOf('}') + 1);
        JsonNode scores = new ObjectMapper().readTree(json);
        for (String k : new String[] {"noisy", "median3x3", "gaussian", "conv"}) {
            assertTrue(scores.get(k).get("psnr").asDouble() > 0, k + " in " + json);
        }
        assertEquals(4, scores.get("pictures").size());
        assertTrue(scores.get("conv").get("psnr").asDouble() > scores.get("noisy").get("psnr").asDouble(), json);
        Images.Image grid = Images.read(crops, 1 << 22);
        assertTrue(grid.width() > 5 * 50, "five crops per row: " + grid);

        Path noisy = dir.resolve("whole.png");
        Images.writePng(noisy, picture(9, 90, 100));
        InProcessCli.Run d = InProcessCli.run("denoise", "--model-file", out.resolve("model.safetensors").toString(),
                noisy.toString(), "--out", dir.resolve("clean").toString());
        assertEquals(0, d.code(), d.err());
        Images.Image back = Images.read(dir.resolve("clean/whole.png"), 1 << 20);
        assertEquals(3, back.channels());
        assertEquals(90, back.height());
        assertEquals(100, back.width());

        // grey in, grey out through the colour model; JPEG out with --quality
        Path grey = dir.resolve("grey.png");
        Images.writePng(grey, Images.withChannels(picture(3, 64, 80), 1));
        InProcessCli.Run g = InProcessCli.run("denoise", "--model-file", out.resolve("model.safetensors").toString(),
                grey.toString(), noisy.toString(), "--quality", "90", "--out", dir.resolve("jpeg").toString());
        assertEquals(0, g.code(), g.err());
        assertEquals(1, Images.read(dir.resolve("jpeg/grey.jpg"), 1 << 20).channels());
        assertEquals(3, Images.read(dir.resolve("jpeg/whole.jpg"), 1 << 20).channels());
        InProcessCli.Run q = InProcessCli.run("denoise", "--model-file", out.resolve("model.safetensors").toString(),
                grey.toString(), "--quality", "0", "--out", dir.resolve("bad-quality").toString());
        assertEquals(2, q.code(), q.err());
        assertFalse(Files.exists(dir.resolve("bad-quality")), "nothing made for a refused option");
    }

    @Test
    void a_broken_picture_or_bad_patch_is_refused_before_out_is_made() throws Exception {
        Path photos = Files.createDirectory(dir.resolve("photos"));
        Images.writePng(photos.resolve("a.png"), picture(0, 40, 40));
        Images.writePng(photos.resolve("b.png"), picture(1, 40, 40));
        Path out = dir.resolve("run");
        InProcessCli.Run r = InProcessCli.run("train", "--model", "conv", "--dataset", photos.toString(),
                "--patch", "30", "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.oneLineError().contains("--patch must be a multiple of 4"), r.err());

        r = InProcessCli.run("train", "--model", "conv", "--dataset", photos.toString(), "--patch", "64",
                "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.oneLineError().contains("smaller than the 64x64 patch"), r.err());

        Path broken = Files.writeString(photos.resolve("c.jpg"), "not a jpeg");
        r = InProcessCli.run("train", "--model", "conv", "--dataset", photos.toString(), "--patch", "16",
                "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.oneLineError().contains(broken.toString()), r.err());
        assertFalse(Files.exists(out), "nothing written for a refused run");
    }

    @Test
    void compare_on_picture_folders_writes_a_report_with_crops() throws Exception {
        Path train = Files.createDirectory(dir.resolve("train")), test = Files.createDirectory(dir.resolve("test"));
        for (int i = 0; i < 3; i++) Images.writePng(train.resolve("p" + i + ".png"), picture(i, 60 + 7 * i, 72 - 3 * i));
        Images.writePng(test.resolve("t0.png"), picture(5, 70, 90));
        Images.writePng(test.resolve("t1.png"), picture(6, 64, 64));
        Path out = dir.resolve("cmp");
        InProcessCli.Run r = InProcessCli.run("compare", "--dataset", train.toString(), "--test", test.toString(),
                "--patch", "32", "--patches", "64", "--batch", "32", "--epochs", "1", "--device", "cpu",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        String page = Files.readString(out.resolve("report.html"));
        for (String s : new String[] {"conv", "skip", "median3x3", "grid.png", "t0.png"}) {
            assertTrue(page.contains(s), "report mentions " + s);
        }
        JsonNode metrics = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertTrue(metrics.toString().contains("\"skip\""), metrics.toString());
        Images.Image grid = Images.read(out.resolve("grid.png"), 1 << 22);
        assertTrue(grid.height() > 6 * 64 && grid.width() > 2 * 64, "six rows of two 64-pixel crops: " + grid);
        assertTrue(Files.exists(out.resolve("skip/model.safetensors")));
    }

    @Test
    void compare_on_pictures_refuses_fixed_size_models_and_a_missing_test_folder() throws Exception {
        Path train = Files.createDirectory(dir.resolve("train"));
        Images.writePng(train.resolve("a.png"), picture(0, 40, 40));
        Path out = dir.resolve("cmp");
        InProcessCli.Run r = InProcessCli.run("compare", "--dataset", train.toString(), "--test", train.toString(),
                "--models", "dense,conv", "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.oneLineError().contains("dense takes one image size only"), r.err());
        r = InProcessCli.run("compare", "--dataset", train.toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.oneLineError().contains("--test DIR is needed"), r.err());
        r = InProcessCli.run("compare", "--dataset", train.toString(), "--test", dir.resolve("none").toString(),
                "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.oneLineError().contains("none"), r.err());
        r = InProcessCli.run("compare", "--dataset", train.toString(), "--test", train.toString(), "--conv-depth", "3",
                "--patch", "20", "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.oneLineError().contains("--patch must be a multiple of 8"), r.err());
        assertFalse(Files.exists(out), "nothing written for a refused run");
    }
}
