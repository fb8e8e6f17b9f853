package dev.denoise;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Gaussian blur of the colour path: constants stay, an impulse keeps its sum, mirroring is scipy's. */
class BlurTest {
    @Test
    void constants_stay_and_an_impulse_keeps_its_sum() {
        float[] flat = new float[5 * 7];
        Arrays.fill(flat, 0.25f);
        Blur.gaussian(flat, 5, 7, 8);          // a kernel far wider than the plane: mirrored many times
        for (float v : flat) assertEquals(0.25f, v, 1e-6f);
        int h = 101, w = 90;
        float[] dot = new float[h * w];
        dot[50 * w + 45] = 1;
        Blur.gaussian(dot, h, w, 4);
        double sum = 0;
        for (float v : dot) sum += v;
        assertEquals(1.0, sum, 1e-5);
        assertEquals(dot[50 * w + 41], dot[50 * w + 49], 1e-9f, "symmetric");
        assertEquals(dot[46 * w + 45], dot[50 * w + 41], 1e-9f, "the same along rows and columns");
    }

    @Test
    void mirror_reflects_about_the_edges() {
        int[] got = new int[9];
        for (int i = -4; i <= 4; i++) got[i + 4] = Blur.mirror(i + 2, 3); // positions -2..6 of a line of 3
        assertEquals("[1, 0, 0, 1, 2, 2, 1, 0, 0]", Arrays.toString(got));
    }
}
