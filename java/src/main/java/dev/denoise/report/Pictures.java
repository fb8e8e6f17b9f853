package dev.denoise.report;

import dev.denoise.io.Images;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** The image pictures of a report: the labelled comparison grid and plain tiles of VAE outputs. */
final class Pictures {
    private static final int PAD = 2;
    private static final int LABEL_GAP = 8;
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 14);

    private Pictures() {
    }

    /**
     * Small images are enlarged so a 28×28 digit is readable on a screen; large ones are left as
     * they are so the picture stays a sensible size.
     */
    static int scaleFor(Images.Image image) {
        int side = Math.max(image.height(), image.width());
        return side <= 32 ? 3 : side <= 64 ? 2 : 1;
    }

    /**
     * One strip of images per row with the row's name to its left. Each row is tiled on its own
     * rather than all images in one grid, so a row that is shorter than the others cannot shift
     * the images of the rows below it into the wrong line.
     */
    static BufferedImage labelledRows(List<String> names, List<List<Images.Image>> rows) {
        int scale = scaleFor(rows.getFirst().getFirst());
        List<BufferedImage> strips = new ArrayList<>();
        for (List<Images.Image> row : rows) {
            strips.add(Images.grid(row, row.size(), PAD, scale));
        }
        // A scratch image only to measure the labels with the font that will draw them.
        Graphics2D probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        probe.setFont(LABEL_FONT);
        FontMetrics fm = probe.getFontMetrics();
        int labelWidth = 0;
        for (String name : names) {
            labelWidth = Math.max(labelWidth, fm.stringWidth(name));
        }
        probe.dispose();
        int left = LABEL_GAP + labelWidth + LABEL_GAP;
        int width = left;
        int height = 0;
        for (BufferedImage strip : strips) {
            width = Math.max(width, left + strip.getWidth());
            height += strip.getHeight();
        }

        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(LABEL_FONT);
            g.setColor(Color.BLACK);
            int y = 0;
            for (int i = 0; i < strips.size(); i++) {
                BufferedImage strip = strips.get(i);
                g.drawImage(strip, left, y, null);
                // Right-aligned next to the images and centred on the strip's height.
                String name = names.get(i);
                int baseline = y + (strip.getHeight() + fm.getAscent() - fm.getDescent()) / 2;
                g.drawString(name, left - LABEL_GAP - fm.stringWidth(name), baseline);
                y += strip.getHeight();
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    /** Images tiled {@code columns} to a row, enlarged like the comparison grid. */
    static BufferedImage tiles(List<Images.Image> images, int columns) {
        return Images.grid(images, columns, PAD, scaleFor(images.getFirst()));
    }

    /** Columns for a roughly square tiling of {@code n} images. */
    static int squareColumns(int n) {
        return Math.max(1, (int) Math.ceil(Math.sqrt(n)));
    }

    static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", bytes)) {
            throw new IOException("this Java runtime has no PNG writer");
        }
        return bytes.toByteArray();
    }
}
