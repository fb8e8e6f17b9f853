package dev.denoise.report;

import dev.denoise.io.Images;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the comparison report of a run into one folder: metrics.json (the numbers, for scripts),
 * history-&lt;model&gt;.json (epoch records), grid.png (the same test images as each source shows
 * them), loss.png and psnr.png (training curves), vae-samples.png and manifold.png (when given), and
 * report.html, a page that shows them all and needs nothing but the folder.
 *
 * <p>Every file is first written in full under a temporary name and only then renamed into place,
 * all of them after all are written, so a failure or a crash part-way leaves the previous report
 * as it was and no temporary files behind (see {@link StagedFiles}).
 */
public final class Report {
    public static final String METRICS = "metrics.json";
    public static final String GRID = "grid.png";
    public static final String LOSS = "loss.png";
    public static final String PSNR = "psnr.png";
    public static final String VAE_SAMPLES = "vae-samples.png";
    public static final String MANIFOLD = "manifold.png";
    public static final String PAGE = "report.html";

    private Report() {
    }

    /**
     * Writes the report of {@code c} into {@code dir}, creating the folder if needed and replacing
     * the files of an earlier report there. Charts are left out when no model has a finite point to
     * draw, the VAE pictures when none are given; the page links only files written.
     *
     * @throws IOException              when a file cannot be written; nothing of this report is then left
     * @throws IllegalArgumentException when images of one picture differ in size or are neither grey nor RGB
     */
    public static void write(Path dir, Comparison c) throws IOException {
        Files.createDirectories(dir);
        List<HtmlPage.Figure> figures = new ArrayList<>();
        List<String> dataFiles = new ArrayList<>();
        try (StagedFiles files = new StagedFiles(dir)) {
            files.stage(METRICS, MetricsJson.metrics(c));
            dataFiles.add(METRICS);
            Map<String, String> historyOwner = new HashMap<>();
            for (Map.Entry<String, Comparison.ModelResult> e : c.models().entrySet()) {
                String name = historyFile(e.getKey());
                String other = historyOwner.putIfAbsent(name, e.getKey());
                if (other != null) {
                    throw new IllegalArgumentException("models '" + other + "' and '" + e.getKey()
                            + "' would share the file " + name);
                }
                files.stage(name, MetricsJson.history(e.getValue().history()));
                dataFiles.add(name);
            }

            if (!c.rows().isEmpty()) {
                files.stage(GRID, Pictures.png(Pictures.labelledRows(c.rowNames(), c.rows())));
                Object crops = c.config().get("crops");
                figures.add(new HtmlPage.Figure(GRID, "Test images", (crops == null ? "The same test images"
                        : "The same crops (" + crops + ")") + " in every row: " + String.join(", ", c.rowNames()) + "."));
            }
            byte[] loss = Charts.loss(c.models());
            if (loss != null) {
                files.stage(LOSS, loss);
                figures.add(new HtmlPage.Figure(LOSS, "Training loss",
                        "Mean training loss per epoch. Dense, conv and skip report pixel-averaged cross-entropy, the VAE "
                                + "per-image cross-entropy plus KL term; "
                                + (Charts.lossIsLogarithmic(c.models())
                                ? "the logarithmic axis fits both scales." : "some loss is not positive, so the axis is linear.")));
            }
            byte[] psnr = Charts.psnr(c.models(), c.noisy().psnr());
            if (psnr != null) {
                files.stage(PSNR, psnr);
                figures.add(new HtmlPage.Figure(PSNR, "Validation PSNR",
                        "PSNR on the validation images after each epoch; the dashed line is the noisy input."));
            }
            if (!c.vaeSamples().isEmpty()) {
                List<Images.Image> samples = c.vaeSamples();
                files.stage(VAE_SAMPLES, Pictures.png(Pictures.tiles(samples, Pictures.squareColumns(samples.size()))));
                figures.add(new HtmlPage.Figure(VAE_SAMPLES, "VAE samples",
                        "New images decoded from latent codes drawn from the standard normal prior."));
            }
            if (!c.vaeManifold().isEmpty()) {
                int side = c.manifoldSide() > 0 ? c.manifoldSide() : Pictures.squareColumns(c.vaeManifold().size());
                files.stage(MANIFOLD, Pictures.png(Pictures.tiles(c.vaeManifold(), side)));
                figures.add(new HtmlPage.Figure(MANIFOLD, "VAE latent manifold",
                        "Images decoded from a regular grid over the two latent dimensions."));
            }

            // Staged last, so renamed last: the page never shows up before its pictures.
            files.stage(PAGE, HtmlPage.render(c, figures, dataFiles).getBytes(StandardCharsets.UTF_8));
            files.commit();
        }
    }

    /**
     * history-&lt;model&gt;.json, with anything but letters, digits, dot, dash and underscore in the
     * model's name replaced, so that a name can never point outside the folder.
     */
    public static String historyFile(String model) {
        return "history-" + model.replaceAll("[^A-Za-z0-9._-]", "_") + ".json";
    }
}
