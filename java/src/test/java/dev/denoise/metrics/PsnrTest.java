package dev.denoise.metrics;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PsnrTest {
    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void known_values() {
        // MSE 0.25 → 10·log10(4) dB; MSE 0.01 → 20 dB; MSE 1 → 0 dB.
        assertEquals(10 * Math.log10(4), Psnr.psnr(filled(16, 0), 0, filled(16, 0.5f), 0, 16), 1e-12);
        assertEquals(20.0, Psnr.psnr(filled(16, 0.2f), 0, filled(16, 0.3f), 0, 16), 1e-5);
        assertEquals(0.0, Psnr.psnr(filled(9, 0), 0, filled(9, 1), 0, 9), 1e-12);
        // One pixel of four off by 0.5: MSE 0.0625 → 12.04 dB.
        float[] a = {0, 0, 0, 0};
        float[] b = {0, 0.5f, 0, 0};
        assertEquals(10 * Math.log10(16), Psnr.psnr(a, 0, b, 0, 4), 1e-12);
    }

    @Test
    void identical_images_are_capped() {
        float[] a = {0.1f, 0.7f, 0.3f};
        assertEquals(Psnr.IDENTICAL_DB, Psnr.psnr(a, 0, a.clone(), 0, 3));
        assertEquals(100.0, Psnr.IDENTICAL_DB);
    }

    @Test
    void offsets_select_the_image() {
        float[] a = {9, 9, 0, 0, 0, 0};
        float[] b = {0, 0.5f, 0, 0, 7};
        assertEquals(10 * Math.log10(16), Psnr.psnr(a, 2, b, 0, 4), 1e-12);
    }

    @Test
    void mean_is_the_mean_of_per_image_values() {
        // Image 0: MSE 0.01 (20 dB); image 1: MSE 0.0001 (40 dB) → 30, not the PSNR of the pooled MSE.
        float[] clean = new float[8];
        float[] noisy = new float[8];
        Arrays.fill(noisy, 0, 4, 0.1f);
        Arrays.fill(noisy, 4, 8, 0.01f);
        assertEquals(30.0, Psnr.meanPsnr(noisy, clean, 4), 1e-5);
    }

    @Test
    void refuses_mismatched_arrays() {
        assertThrows(IllegalArgumentException.class, () -> Psnr.meanPsnr(new float[8], new float[4], 4));
        assertThrows(IllegalArgumentException.class, () -> Psnr.meanPsnr(new float[6], new float[6], 4));
        assertThrows(IllegalArgumentException.class, () -> Psnr.meanPsnr(new float[0], new float[0], 4));
        assertThrows(IllegalArgumentException.class, () -> Psnr.psnr(new float[4], 0, new float[4], 0, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> Psnr.psnr(new float[4], 1, new float[4], 0, 4));
    }
}
