package dev.denoise.data;

import dev.denoise.BadInputException;
import dev.denoise.io.Images;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A folder of PNG/JPEG pictures of any size, grey or colour, read with the guarded image loader.
 * All pictures get one channel count: 3 when any of them is in colour (greys are repeated), else 1.
 * Files are taken in name order, so a split by file is the same on every machine.
 *
 * @param dir    the folder
 * @param names  file names, sorted
 * @param images the pictures, in the order of names
 */
public record ImageFolder(Path dir, List<String> names, List<Images.Image> images) {
    /** Largest picture accepted: 64 megapixels, checked from the header before decoding. */
    public static final int MAX_PIXELS = 64 << 20;

    /** Copies the lists; names and images must match one to one. */
    public ImageFolder {
        names = List.copyOf(names);
        images = List.copyOf(images);
        if (names.size() != images.size()) throw new IllegalArgumentException("one name per image");
    }

    /**
     * Reads every .png, .jpg and .jpeg file directly in dir (not in sub-folders).
     *
     * @throws BadInputException when dir is not a folder, holds no pictures, or a picture is damaged
     *                           (the message names that file)
     */
    public static ImageFolder load(Path dir) {
        if (!Files.isDirectory(dir)) throw new BadInputException(dir, "not a folder of images");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).filter(ImageFolder::isPicture).sorted().toList();
        } catch (IOException e) {
            throw new BadInputException(dir, "cannot list the folder (" + e.getMessage() + ")", e);
        }
        if (files.isEmpty()) throw new BadInputException(dir, "holds no .png, .jpg or .jpeg files");
        List<Images.Image> read = new ArrayList<>(files.size());
        boolean colour = false;
        for (Path f : files) {
            Images.Image img = Images.read(f, MAX_PIXELS);
            colour |= img.channels() == 3;
            read.add(img);
        }
        int channels = colour ? 3 : 1;
        List<Images.Image> images = read.stream().map(i -> withChannels(i, channels)).toList();
        return new ImageFolder(dir, files.stream().map(f -> f.getFileName().toString()).toList(), images);
    }

    /** The number of pictures. */
    public int count() {
        return images.size();
    }

    /** Channels of every picture: 3 when any file is in colour, else 1. */
    public int channels() {
        return images.getFirst().channels();
    }

    /** The same pictures in grey: colour ones become their luma (0.299 R + 0.587 G + 0.114 B). */
    public ImageFolder grey() {
        return new ImageFolder(dir, names, images.stream().map(i -> Images.withChannels(i, 1)).toList());
    }

    /** The pictures from index from (inclusive) to to (exclusive), for a split by file. */
    public ImageFolder files(int from, int to) {
        return new ImageFolder(dir, names.subList(from, to), images.subList(from, to));
    }

    /**
     * {training files, held-out files}: the last heldOut files (in name order) are held out.
     *
     * @throws IllegalArgumentException when that would leave no training file
     */
    public ImageFolder[] split(int heldOut) {
        if (heldOut < 0 || heldOut >= count()) {
            throw new IllegalArgumentException(dir + ": " + count() + " pictures cannot keep " + heldOut
                    + " held out and still train on one");
        }
        return new ImageFolder[] {files(0, count() - heldOut), files(count() - heldOut, count())};
    }

    private static boolean isPicture(Path f) {
        String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    /** Grey repeated into three channels when the folder is in colour; colour images stay. */
    private static Images.Image withChannels(Images.Image img, int channels) {
        if (img.channels() == channels) return img;
        int plane = img.height() * img.width();
        float[] rgb = new float[3 * plane];
        for (int c = 0; c < 3; c++) System.arraycopy(img.pixels(), 0, rgb, c * plane, plane);
        return new Images.Image(3, img.height(), img.width(), rgb);
    }
}
