package dev.denoise.data;

import dev.denoise.BadInputException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Loads datasets in the MNIST layout: a directory with {@code train-images-idx3-ubyte},
 * {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte} and {@code t10k-labels-idx1-ubyte},
 * each raw or gzipped ({@code .gz}). MNIST itself and Fashion-MNIST share it, so one loader serves
 * both.
 *
 * <p>Image size is taken from the file rather than assumed to be 28×28, so look-alike sets with
 * other sizes load too. Images and labels must agree in count and labels must be digits 0..9; a
 * set where either fails would train silently wrong, so it is refused with the file named.
 */
public final class Mnist {
    /** The class count of MNIST and Fashion-MNIST. */
    public static final int CLASSES = 10;

    /** Where Debian's dataset-fashion-mnist package and similar layouts put the files. */
    private static final List<Path> FASHION_SYSTEM_DIRS = List.of(
            Path.of("/usr/share/datasets/fashion-mnist"),
            Path.of("/usr/share/dataset-fashion-mnist"),
            Path.of("/usr/share/fashion-mnist"),
            Path.of("/usr/local/share/datasets/fashion-mnist"));

    /** Pixel byte to [0,1], precomputed: the same division 47 million times is wasted work. */
    private static final float[] UNIT = new float[256];

    static {
        for (int i = 0; i < UNIT.length; i++) {
            UNIT[i] = i / 255f;
        }
    }

    private Mnist() {
    }

    /** The two halves every MNIST-layout set comes in; the file prefix tells them apart. */
    public enum Split {
        /** The training images, files {@code train-*}. */
        TRAIN("train"),
        /** The test images, files {@code t10k-*}. */
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        /** Base name of the image file, without {@code .gz}. */
        public String imagesName() {
            return prefix + "-images-idx3-ubyte";
        }

        /** Base name of the label file, without {@code .gz}. */
        public String labelsName() {
            return prefix + "-labels-idx1-ubyte";
        }
    }

    /**
     * Loads one split as a labelled 1-channel dataset with pixels scaled to [0,1].
     *
     * @throws BadInputException when the directory or a file is missing, or a file is malformed,
     *                           or images and labels do not match
     */
    public static Dataset load(Path dir, Split split) {
        if (!Files.isDirectory(dir)) {
            throw new BadInputException(dir, "MNIST not found; run `make data`");
        }
        Path imagesFile = find(dir, split.imagesName());
        Path labelsFile = find(dir, split.labelsName());
        Idx.IdxArray images = Idx.readUnsignedBytes(imagesFile, 3);
        Idx.IdxArray labels = Idx.readUnsignedBytes(labelsFile, 1);
        if (images.count() != labels.count()) {
            throw new BadInputException(labelsFile, "images (" + images.count() + ") and labels (" + labels.count()
                    + ") differ in count");
        }
        byte[] labelBytes = labels.data();
        for (int i = 0; i < labelBytes.length; i++) {
            int label = labelBytes[i] & 0xFF;
            if (label >= CLASSES) {
                throw new BadInputException(labelsFile, "label " + label + " at index " + i + " is not in 0.."
                        + (CLASSES - 1));
            }
        }
        byte[] pixels = images.data();
        float[] values = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            values[i] = UNIT[pixels[i] & 0xFF];
        }
        int[] dims = images.dims();
        return new Dataset(dims[0], 1, dims[1], dims[2], values, labelBytes);
    }

    /** The raw file when present (no inflating needed), else the gzipped one. */
    private static Path find(Path dir, String name) {
        Path raw = dir.resolve(name);
        if (Files.exists(raw)) {
            return raw;
        }
        Path gz = dir.resolve(name + ".gz");
        if (Files.exists(gz)) {
            return gz;
        }
        throw new BadInputException(dir, "neither " + name + " nor " + name + ".gz is there; run `make data`");
    }

    /**
     * Where MNIST is looked for: {@code <root>/mnist}, the root being the system property
     * {@code denoise.data}, else the environment variable {@code DENOISE_DATA}, else {@code ./data}
     * (where {@code make data} puts it).
     */
    public static Path defaultDir() {
        return dataRoot().resolve("mnist");
    }

    /**
     * The directory that holds Fashion-MNIST: {@code <root>/fashion-mnist} under the data root of
     * {@link #defaultDir()} when present, else where Debian's {@code dataset-fashion-mnist} package
     * installs it. A directory counts only when it has the training images.
     *
     * @throws BadInputException when none is found, with how to install it
     */
    public static Path fashionDir() {
        Set<Path> candidates = new LinkedHashSet<>();
        candidates.add(dataRoot().resolve("fashion-mnist"));
        candidates.addAll(FASHION_SYSTEM_DIRS);
        List<Path> searched = new ArrayList<>();
        for (Path dir : candidates) {
            String images = Split.TRAIN.imagesName();
            if (Files.isRegularFile(dir.resolve(images)) || Files.isRegularFile(dir.resolve(images + ".gz"))) {
                return dir;
            }
            searched.add(dir);
        }
        throw new BadInputException("Fashion-MNIST not found in " + searched
                + "; install it with: sudo apt-get install dataset-fashion-mnist");
    }

    private static Path dataRoot() {
        String property = System.getProperty("denoise.data");
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        String env = System.getenv("DENOISE_DATA");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of("./data");
    }
}
