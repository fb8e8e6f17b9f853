package dev.denoise.data;

import dev.denoise.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real MNIST and Fashion-MNIST files. The label histograms are the published ones, so a
 * damaged or substituted download fails here rather than in training. Without the files the tests
 * are skipped, unless {@code -Ddenoise.data.required=true} demands them (as CI does after
 * {@code make data}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MnistTest {
    private static final int[] TRAIN_HISTOGRAM = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    private static final int[] TEST_HISTOGRAM = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};

    private Dataset train;
    private Dataset test;

    @Test
    void trainingSet() {
        Dataset set = train();
        assertEquals(60000, set.count());
        assertShape(set);
        assertArrayEquals(TRAIN_HISTOGRAM, histogram(set));
        assertPixelRange(set);
    }

    @Test
    void testSet() {
        Dataset set = test();
        assertEquals(10000, set.count());
        assertShape(set);
        assertArrayEquals(TEST_HISTOGRAM, histogram(set));
        assertPixelRange(set);
    }

    @Test
    void firstAndSubsetKeepImagesAndLabelsTogether() {
        Dataset set = test();
        Dataset part = set.subset(100, 110);
        assertEquals(10, part.count());
        for (int i = 0; i < 10; i++) {
            assertEquals(set.label(100 + i), part.label(i));
        }
        int size = set.imageSize();
        for (int k = 0; k < size; k++) {
            assertEquals(set.images()[105 * size + k], part.images()[5 * size + k]);
        }
        assertEquals(1000, set.first(1000).count());
    }

    @Test
    void fashionMnistWhenInstalled() {
        Path dir;
        try {
            dir = Mnist.fashionDir();
        } catch (BadInputException e) {
            assumeTrue(false, e.getMessage());
            return;
        }
        Dataset fashionTest = Mnist.load(dir, Mnist.Split.TEST);
        assertEquals(10000, fashionTest.count());
        assertShape(fashionTest);
        int[] expected = new int[10];
        java.util.Arrays.fill(expected, 1000);
        assertArrayEquals(expected, histogram(fashionTest));
        assertPixelRange(fashionTest);
        Dataset fashionTrain = Mnist.load(dir, Mnist.Split.TRAIN);
        assertEquals(60000, fashionTrain.count());
        java.util.Arrays.fill(expected, 6000);
        assertArrayEquals(expected, histogram(fashionTrain));
    }

    private Dataset train() {
        if (train == null) {
            train = Mnist.load(requireMnist(), Mnist.Split.TRAIN);
        }
        return train;
    }

    private Dataset test() {
        if (test == null) {
            test = Mnist.load(requireMnist(), Mnist.Split.TEST);
        }
        return test;
    }

    /** The MNIST directory; skips the test when it is missing, or fails when the data is required. */
    private static Path requireMnist() {
        Path dir = Mnist.defaultDir();
        if (!Files.isDirectory(dir)) {
            String reason = "MNIST not found at " + dir.toAbsolutePath().normalize() + "; run make data";
            if (Boolean.getBoolean("denoise.data.required")) {
                fail(reason + " (denoise.data.required=true)");
            }
            assumeTrue(false, reason);
        }
        return dir;
    }

    private static void assertShape(Dataset set) {
        assertEquals(1, set.channels());
        assertEquals(28, set.height());
        assertEquals(28, set.width());
        assertEquals((long) set.count() * 28 * 28, set.images().length);
        assertTrue(set.hasLabels());
    }

    private static int[] histogram(Dataset set) {
        int[] counts = new int[Mnist.CLASSES];
        for (int i = 0; i < set.count(); i++) {
            counts[set.label(i)]++;
        }
        return counts;
    }

    /** All values in [0,1], and both ends reached: pixels were scaled by 255, not left as bytes. */
    private static void assertPixelRange(Dataset set) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : set.images()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
    }
}
