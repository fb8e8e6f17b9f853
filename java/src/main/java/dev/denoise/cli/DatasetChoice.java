package dev.denoise.cli;

import dev.denoise.data.Dataset;
import dev.denoise.data.Mnist;

import java.nio.file.Path;

/** Named image sets, and the split of the training file into training and validation images. */
final class DatasetChoice {
    /** Validation images held out from the end of the training file (never trained on). */
    static final int VALIDATION = 1000;
    /** Both named sets are 28×28 grey: known before their files are read. */
    static final int CHANNELS = 1, SIDE = 28;

    private DatasetChoice() {}

    static Path dir(String name) {
        return switch (known(name)) {
            case "mnist" -> Mnist.defaultDir();
            default -> Mnist.fashionDir();
        };
    }

    /** The name's canonical form, checked without touching the disk; refuses unknown names. */
    static String known(String name) {
        return switch (name) {
            case "mnist" -> "mnist";
            case "fashion-mnist", "fashion" -> "fashion-mnist";
            default -> throw new IllegalArgumentException("unknown dataset '" + name
                    + "' (expected mnist, fashion-mnist, or for train, evaluate and compare a folder of PNG/JPEG pictures)");
        };
    }

    /** Whether name is one of the named sets (else it may be a folder of pictures). */
    static boolean isName(String name) {
        return switch (name) {
            case "mnist", "fashion-mnist", "fashion" -> true;
            default -> false;
        };
    }

    static Dataset train(String name) {
        return Mnist.load(dir(name), Mnist.Split.TRAIN);
    }

    static Dataset test(String name) {
        return Mnist.load(dir(name), Mnist.Split.TEST);
    }

    /** {training images, validation images}: validation is the last VALIDATION images of the file. */
    static Dataset[] split(Dataset all, int trainSize) {
        int usable = all.count() - VALIDATION;
        if (usable < 1) throw new IllegalArgumentException("the training file has only " + all.count() + " images");
        if (trainSize > usable) {
            throw new IllegalArgumentException("--train-size " + trainSize + " exceeds the " + usable
                    + " training images (" + VALIDATION + " more are held out for validation)");
        }
        int n = trainSize <= 0 ? usable : trainSize;
        return new Dataset[] {all.subset(0, n), all.subset(usable, all.count())};
    }
}
