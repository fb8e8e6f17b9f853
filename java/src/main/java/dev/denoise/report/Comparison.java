package dev.denoise.report;

import dev.denoise.io.Images;
import dev.denoise.train.EpochRecord;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a report shows, gathered by the caller after training and evaluation, so that
 * {@link Report} only lays it out and never has to run a model or compute a metric itself.
 *
 * <p>Maps keep the caller's order (the report lists baselines, models and config entries in that
 * order), and are copied so a caller that goes on changing its own maps cannot change a report
 * half-way through writing. Missing optional parts may be given as {@code null}: they read as empty.
 *
 * @param noisy        quality of the noisy input against the clean images: the level to beat
 * @param baselines    classical filters by display name, e.g. {@code "median3x3"}, {@code "gaussian(σ=0.9)"}
 * @param models       trained models by name, e.g. {@code "dense"}, {@code "vae"}, {@code "conv"}
 * @param config       run settings shown as given (dataset, epochs, noise, seed, device, ...)
 * @param rowNames     one label per entry of {@code rows}, e.g. clean, noisy, median3x3, dense
 * @param rows         the same test images as each row's source shows them
 * @param vaeSamples   images decoded from prior samples of the VAE latent; may be empty
 * @param vaeManifold  decodings of a regular grid over a 2-d VAE latent, row by row; may be empty
 * @param manifoldSide images per manifold row; 0 or less to derive it from the manifold's size
 */
public record Comparison(
        Quality noisy,
        Map<String, Quality> baselines,
        Map<String, ModelResult> models,
        Map<String, Object> config,
        List<String> rowNames,
        List<List<Images.Image>> rows,
        List<Images.Image> vaeSamples,
        List<Images.Image> vaeManifold,
        int manifoldSide) {

    public Comparison {
        Objects.requireNonNull(noisy, "noisy");
        baselines = orderedCopy(baselines, false);
        models = orderedCopy(models, false);
        config = orderedCopy(config, true);
        rowNames = rowNames == null ? List.of() : List.copyOf(rowNames);
        rows = rows == null ? List.of() : rows.stream().map(List::copyOf).toList();
        vaeSamples = vaeSamples == null ? List.of() : List.copyOf(vaeSamples);
        vaeManifold = vaeManifold == null ? List.of() : List.copyOf(vaeManifold);
        if (rowNames.size() != rows.size()) {
            throw new IllegalArgumentException(rowNames.size() + " row names for " + rows.size() + " rows");
        }
        for (int i = 0; i < rows.size(); i++) {
            if (rows.get(i).isEmpty()) {
                throw new IllegalArgumentException("row '" + rowNames.get(i) + "' has no images");
            }
        }
    }

    /** Quality of a set of outputs against the clean images, averaged over the test set. */
    public record Quality(double psnr, double ssim) {
    }

    /**
     * One trained model's quality, cost and training curve.
     *
     * @param model                 the model's name, as in the key of {@link Comparison#models()}
     * @param psnr                  mean PSNR in dB on the test set
     * @param ssim                  mean SSIM on the test set
     * @param trainSeconds          wall time of the whole training
     * @param trainImagesPerSecond  training throughput
     * @param inferImagesPerSecond  throughput of denoising alone, no gradients
     * @param history               one record per epoch, in order; may be empty
     */
    public record ModelResult(
            String model,
            double psnr,
            double ssim,
            double trainSeconds,
            double trainImagesPerSecond,
            double inferImagesPerSecond,
            List<EpochRecord> history) {

        public ModelResult {
            Objects.requireNonNull(model, "model");
            history = history == null ? List.of() : List.copyOf(history);
        }

        /** The quality part alone, to rank models together with baselines. */
        public Quality quality() {
            return new Quality(psnr, ssim);
        }
    }

    /** Copies keeping order; null values only where they mean something (an unset config entry). */
    private static <V> Map<String, V> orderedCopy(Map<String, V> map, boolean nullValues) {
        if (map == null) {
            return Map.of();
        }
        Map<String, V> copy = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            Objects.requireNonNull(k, "map key");
            if (v == null && !nullValues) {
                throw new NullPointerException("no value for '" + k + "'");
            }
            copy.put(k, v);
        });
        return Collections.unmodifiableMap(copy);
    }
}
