package dev.denoise.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.denoise.report.Html.escape;
import static dev.denoise.report.Html.number;

/**
 * report.html: one self-contained page, readable offline and from an archive years later. Styles
 * are inline and nothing is fetched from elsewhere; pictures are referenced by their relative file
 * names in the same folder, and the caller passes only pictures it has written, so every link works.
 * Every string from the caller goes through {@link Html#escape}.
 */
final class HtmlPage {
    /** A picture of the report: its file name beside the page, a short title and what it shows. */
    record Figure(String file, String title, String caption) {
    }

    private static final String STYLE = """
            body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
                   color: #222; line-height: 1.45; }
            h1 { font-size: 1.6rem; margin-bottom: 0.3rem; }
            h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
            table { border-collapse: collapse; margin: 0.5rem 0; }
            th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #e5e5e5; text-align: left; }
            td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
            tr.model td:first-child { font-weight: 600; }
            figure { margin: 1rem 0 1.5rem 0; }
            figure img { max-width: 100%; border: 1px solid #eee; image-rendering: pixelated; }
            figcaption { color: #555; font-size: 0.9rem; }
            .note { color: #555; font-size: 0.9rem; }
            """;

    private HtmlPage() {
    }

    static String render(Comparison c, List<Figure> figures, List<String> dataFiles) {
        StringBuilder h = new StringBuilder(8192);
        Object dataset = c.config().get("dataset");
        String title = "Denoising autoencoders" + (dataset == null ? "" : " on " + dataset);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>").append(escape(title)).append("</title>\n")
                .append("<style>\n").append(STYLE).append("</style>\n</head>\n<body>\n")
                .append("<h1>").append(escape(title)).append("</h1>\n")
                .append("<p class=\"note\">Each model learns to map a noisy image to its clean original; ")
                .append("it is compared with the noisy input itself and with classical filters.</p>\n");
        results(h, c);
        config(h, c.config());
        for (Figure f : figures) {
            h.append("<h2>").append(escape(f.title())).append("</h2>\n<figure>\n<img src=\"")
                    .append(escape(f.file())).append("\" alt=\"").append(escape(f.title())).append("\">\n")
                    .append("<figcaption>").append(escape(f.caption())).append("</figcaption>\n</figure>\n");
        }
        models(h, c);
        if (!dataFiles.isEmpty()) {
            h.append("<h2>Data</h2>\n<ul>\n");
            for (String file : dataFiles) {
                h.append("<li><a href=\"").append(escape(file)).append("\">").append(escape(file)).append("</a></li>\n");
            }
            h.append("</ul>\n");
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    /** Noisy input, baselines and models in one table, so the gain of each is read at a glance. */
    private static void results(StringBuilder h, Comparison c) {
        double best = Double.NEGATIVE_INFINITY;
        List<Double> all = new ArrayList<>();
        all.add(c.noisy().psnr());
        c.baselines().values().forEach(q -> all.add(q.psnr()));
        c.models().values().forEach(m -> all.add(m.psnr()));
        for (double p : all) {
            // NaN never wins; an infinite PSNR (a perfect output) does.
            if (p > best) {
                best = p;
            }
        }
        h.append("<h2>Results</h2>\n<table>\n<tr><th></th><th class=\"num\">PSNR (dB)</th><th class=\"num\">SSIM</th>")
                .append("<th class=\"num\">train seconds</th><th class=\"num\">train images/s</th>")
                .append("<th class=\"num\">inference images/s</th></tr>\n");
        row(h, "", "noisy input", c.noisy(), best, Double.NaN, Double.NaN, Double.NaN);
        for (Map.Entry<String, Comparison.Quality> e : c.baselines().entrySet()) {
            row(h, "", e.getKey(), e.getValue(), best, Double.NaN, Double.NaN, Double.NaN);
        }
        for (Map.Entry<String, Comparison.ModelResult> e : c.models().entrySet()) {
            Comparison.ModelResult m = e.getValue();
            row(h, "model", e.getKey(), m.quality(), best, m.trainSeconds(), m.trainImagesPerSecond(),
                    m.inferImagesPerSecond());
        }
        h.append("</table>\n<p class=\"note\">PSNR and SSIM are means over the test images against the clean ")
                .append("originals; higher is better, the best PSNR is in bold. ")
                .append("Filters need no training, so their cost columns are empty.</p>\n");
    }

    private static void row(StringBuilder h, String cssClass, String name, Comparison.Quality q, double best,
                            double trainSeconds, double trainRate, double inferRate) {
        String psnr = number(q.psnr(), 2);
        if (q.psnr() == best) {
            psnr = "<strong>" + psnr + "</strong>";
        }
        h.append(cssClass.isEmpty() ? "<tr>" : "<tr class=\"" + cssClass + "\">")
                .append("<td>").append(escape(name)).append("</td>")
                .append("<td class=\"num\">").append(psnr).append("</td>")
                .append("<td class=\"num\">").append(number(q.ssim(), 4)).append("</td>")
                .append("<td class=\"num\">").append(number(trainSeconds, 1)).append("</td>")
                .append("<td class=\"num\">").append(number(trainRate, 0)).append("</td>")
                .append("<td class=\"num\">").append(number(inferRate, 0)).append("</td></tr>\n");
    }

    private static void config(StringBuilder h, Map<String, Object> config) {
        if (config.isEmpty()) {
            return;
        }
        h.append("<h2>Configuration</h2>\n<table>\n");
        config.forEach((k, v) -> h.append("<tr><th>").append(escape(k)).append("</th><td>")
                .append(escape(v == null ? "unset" : v)).append("</td></tr>\n"));
        h.append("</table>\n");
    }

    /** What each known model is, for readers who know autoencoders only by name. */
    private static void models(StringBuilder h, Comparison c) {
        List<String> known = new ArrayList<>();
        for (String name : c.models().keySet()) {
            String about = about(name);
            if (about != null) {
                known.add("<dt>" + escape(name) + "</dt><dd>" + about + "</dd>\n");
            }
        }
        if (known.isEmpty()) {
            return;
        }
        h.append("<h2>The models</h2>\n<dl>\n");
        known.forEach(h::append);
        h.append("</dl>\n");
    }

    private static String about(String model) {
        return switch (model.toLowerCase(Locale.ROOT)) {
            case "dense" -> "A fully connected autoencoder: the image is flattened and squeezed through two "
                    + "smaller layers (a code of a few dozen numbers), then expanded back to every pixel. "
                    + "It learns what digits look like as a whole, so noise that does not fit that shape "
                    + "is dropped; it knows nothing of which pixels are neighbours. Trained with "
                    + "cross-entropy between its output and the clean image.";
            case "vae" -> "A variational autoencoder: the encoder gives a mean and a spread for each latent "
                    + "dimension, a code is drawn from them during training, and a Kullback&ndash;Leibler "
                    + "term pulls the codes towards a standard normal distribution. That makes the latent "
                    + "space smooth, so new digits can be decoded from random codes (the samples) and a "
                    + "2-d latent can be mapped (the manifold); denoising uses the mean code. The extra "
                    + "term trades some sharpness for that structure.";
            case "conv" -> "A convolutional autoencoder: small 3&times;3 filters, shared across the image, "
                    + "with two rounds of pooling down and upsampling back. It looks at local "
                    + "neighbourhoods, as noise removal needs, has far fewer weights than the dense model "
                    + "and works on any image size divisible by 4.";
            case "skip" -> "The convolutional autoencoder with skip connections: after each upsampling, the "
                    + "decoder adds the encoder's features of the same resolution. The bottleneck still "
                    + "decides what is noise, but edges and thin strokes that pooling blurred come back "
                    + "through the skips instead of being guessed, and the gradient reaches the first "
                    + "layers directly, so it also learns faster. Its channels double at each halving, as in "
                    + "U-Net: wide where maps are small and cheap, narrow at full resolution.";
            default -> null;
        };
    }
}
