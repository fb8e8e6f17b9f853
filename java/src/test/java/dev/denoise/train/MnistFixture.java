package dev.denoise.train;

import dev.denoise.data.Dataset;
import dev.denoise.data.Mnist;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Real MNIST for end-to-end tests: skipped with the reason when absent, unless denoise.data.required. */
public final class MnistFixture {
    private static Dataset train, test;

    private MnistFixture() {}

    public static synchronized Dataset train() {
        if (train == null) train = Mnist.load(dir(), Mnist.Split.TRAIN);
        return train;
    }

    public static synchronized Dataset test() {
        if (test == null) test = Mnist.load(dir(), Mnist.Split.TEST);
        return test;
    }

    private static Path dir() {
        Path d = Mnist.defaultDir();
        if (!Files.isDirectory(d) && !Boolean.getBoolean("denoise.data.required")) {
            assumeTrue(false, "MNIST not found at " + d + "; run make data");
        }
        return d;
    }
}
