package dev.denoise.api;

import dev.denoise.Denoiser;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Backends;
import dev.denoise.data.Dataset;
import dev.denoise.data.Mnist;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelFiles;
import dev.denoise.model.ModelKind;
import dev.denoise.train.MnistFixture;
import dev.denoise.train.TrainConfig;
import dev.denoise.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's Java example, compiled and run as it stands there (smaller data, same calls). */
class ReadmeExampleTest {
    @TempDir
    Path dir;

    @Test
    void the_readme_example_runs() throws Exception {
        MnistFixture.train(); // skips without MNIST
        float[] noisyImage = Arrays.copyOf(MnistFixture.test().images(), 784);
        BufferedImage photo = new BufferedImage(50, 37, BufferedImage.TYPE_BYTE_GRAY);
        Path saved = dir.resolve("conv.safetensors");
        float[] clean;
        BufferedImage cleanPhoto;
        // ---- as in README.md ----
        try (Backend backend = Backends.open("auto");
             Autoencoder model = Autoencoder.create(backend, ModelConfig.mnist(ModelKind.CONV), 128)) {
            Dataset all = Mnist.load(Mnist.defaultDir(), Mnist.Split.TRAIN);
            new Trainer(model, all.subset(0, 1_000), null, TrainConfig.defaults(ModelKind.CONV, 1), null, null).run(false);
            ModelFiles.save(saved, model, Map.of());
            try (Denoiser denoiser = new Denoiser(model)) {
                clean = denoiser.denoise(noisyImage);            // 28×28 floats in [0,1]
                cleanPhoto = denoiser.denoise(photo);             // any size: tiled
            }
        }
        // ---- end ----
        assertEquals(784, clean.length);
        assertEquals(50, cleanPhoto.getWidth());
        assertEquals(37, cleanPhoto.getHeight());
        assertTrue(Files.size(saved) > 100_000);
        String readme = Files.readString(Path.of(System.getProperty("user.dir")).resolve("../README.md"));
        assertTrue(readme.contains("new Trainer(model, all.subset(0, 10_000), null, TrainConfig.defaults(ModelKind.CONV, 2), null, null).run(false);"),
                "README shows the example this test runs");
    }

    @Test
    void the_readme_photo_example_runs() throws Exception {
        Path photoFile = dir.resolve("photo.jpg"), outFile = dir.resolve("clean.png");
        BufferedImage noisy = new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB);
        java.util.SplittableRandom rng = new java.util.SplittableRandom(1);
        for (int y = 0; y < 200; y++)
            for (int x = 0; x < 300; x++) noisy.setRGB(x, y, 0x808080 + rng.nextInt(0x202020));
        javax.imageio.ImageIO.write(noisy, "jpg", photoFile.toFile());
        // ---- as in README.md ----
        try (Backend backend = Backends.open("auto"); Denoiser denoiser = Denoiser.pretrained(backend)) {
            BufferedImage clean = denoiser.denoise(ImageIO.read(photoFile.toFile()));
            ImageIO.write(clean, "png", outFile.toFile());
        }
        // ---- end ----
        BufferedImage back = ImageIO.read(outFile.toFile());
        assertEquals(300, back.getWidth());
        assertEquals(200, back.getHeight());
        String readme = Files.readString(Path.of(System.getProperty("user.dir")).resolve("../README.md"));
        assertTrue(readme.contains("try (Backend backend = Backends.open(\"auto\"); Denoiser denoiser = Denoiser.pretrained(backend)) {"),
                "README shows the photo example this test runs");
    }
}
