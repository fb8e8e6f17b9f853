package dev.denoise.eval;

import dev.denoise.Denoiser;
import dev.denoise.backend.Backend;
import dev.denoise.data.Dataset;
import dev.denoise.data.ImageFolder;
import dev.denoise.io.Images;
import dev.denoise.metrics.Baselines;
import dev.denoise.train.Noise;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores a model on whole pictures of any size (tiled by {@link Denoiser}), beside the noisy input
 * and the classical baselines, and cuts the same crop of each for a side-by-side picture.
 *
 * <p>The Gaussian blur's σ is chosen per picture against its clean version (an oracle): the
 * baseline gets the best it could possibly do, so a model that beats it beats any tuned blur.
 */
public final class PictureEvaluation {
    /** Baseline names in table order; the models' rows follow. */
    public static final List<String> BASELINES = List.of("noisy", "median3x3", "gaussian");

    /** Scores per method (noisy, median3x3, gaussian, then each model) for one picture, and its crops in that order after the clean one. */
    public record Picture(String name, Map<String, Evaluation.Scores> scores, List<Images.Image> crops) {}

    /** What the models took: pictures per second of denoising, by model name. */
    public record Result(List<Picture> pictures, Map<String, Double> picturesPerSecond) {}

    private PictureEvaluation() {}

    /** One model, named by its kind. */
    public static List<Picture> evaluate(Denoiser denoiser, ImageFolder folder, Noise noise, Backend b, int cropSide) {
        return evaluate(Map.of(denoiser.model().config().kind().id(), denoiser), folder, noise, b, cropSide).pictures();
    }

    /**
     * Every model on the same noisy pictures, beside the baselines.
     *
     * @param models   by display name, in table order
     * @param cropSide side of the square crop taken from each picture's centre (clipped to the picture)
     */
    public static Result evaluate(Map<String, Denoiser> models, ImageFolder folder, Noise noise, Backend b, int cropSide) {
        List<Picture> out = new ArrayList<>();
        Map<String, Long> nanos = new LinkedHashMap<>();
        models.keySet().forEach(k -> nanos.put(k, 0L));
        for (int i = 0; i < folder.count(); i++) {
            out.add(score(models, folder.names().get(i), folder.images().get(i), noise, b, cropSide, nanos));
        }
        Map<String, Double> rate = new LinkedHashMap<>();
        nanos.forEach((k, ns) -> rate.put(k, folder.count() / (Math.max(ns, 1) * 1e-9)));
        return new Result(out, rate);
    }

    /**
     * One picture: its noisy copy (the same noise whatever else is scored and in whatever order:
     * every picture's starts from {@link Noise#TEST_SEED}), the baselines and every model, scored
     * against it; as {@link #evaluate} does for each picture of a folder, so that a picture scored
     * alone (on another machine) gives the same numbers.
     *
     * @param cropSide side of the centre crops kept for a report (0: none)
     * @param nanos    time spent in each model, added to (null: not timed)
     */
    public static Picture score(Map<String, Denoiser> models, String name, Images.Image clean, Noise noise, Backend b,
                                int cropSide, Map<String, Long> nanos) {
        int c = clean.channels(), h = clean.height(), w = clean.width();
        Dataset one = new Dataset(1, c, h, w, clean.pixels(), null);
        float[] noisy = Evaluation.noisy(b, one, noise);
        float[] median = Evaluation.median3x3(noisy, 1, c, h, w);
        double sigma = Baselines.chooseGaussianSigma(noisy, clean.pixels(), 1, c, h, w);
        float[] blur = Evaluation.gaussian(noisy, 1, c, h, w, sigma);
        Map<String, Evaluation.Scores> scores = new LinkedHashMap<>();
        scores.put("noisy", Evaluation.score(noisy, one));
        scores.put("median3x3", Evaluation.score(median, one));
        scores.put("gaussian", Evaluation.score(blur, one));
        List<float[]> shown = new ArrayList<>(List.of(clean.pixels(), noisy, median, blur));
        for (Map.Entry<String, Denoiser> m : models.entrySet()) {
            long t0 = System.nanoTime();
            float[] denoised = m.getValue().denoise(new Images.Image(c, h, w, noisy)).pixels();
            if (nanos != null) nanos.merge(m.getKey(), System.nanoTime() - t0, Long::sum);
            scores.put(m.getKey(), Evaluation.score(denoised, one));
            shown.add(denoised);
        }
        List<Images.Image> crops = new ArrayList<>();
        if (cropSide > 0) for (float[] px : shown) crops.add(crop(new Images.Image(c, h, w, px), cropSide));
        return new Picture(name, scores, crops);
    }

    /**
     * The table `denoise evaluate --dataset DIR` prints: a head line, a line per picture and the
     * mean (PSNR dB and SSIM per method); printed alike wherever the pictures were scored.
     */
    public static List<String> table(List<Picture> pictures) {
        Map<String, Evaluation.Scores> mean = mean(pictures);
        List<String> lines = new ArrayList<>();
        StringBuilder head = new StringBuilder(String.format("%-24s", "PSNR dB / SSIM"));
        mean.keySet().forEach(k -> head.append(String.format(" %16s", k)));
        lines.add(head.toString());
        for (Picture p : pictures) lines.add(line(p.name(), p.scores()));
        lines.add(line("mean", mean));
        return lines;
    }

    private static String line(String name, Map<String, Evaluation.Scores> scores) {
        StringBuilder sb = new StringBuilder(String.format("%-24s", name));
        scores.values().forEach(v -> sb.append(String.format(" %8.2f %7.4f", v.psnr(), v.ssim())));
        return sb.toString();
    }

    /** Mean PSNR and SSIM of each method over the pictures. */
    public static Map<String, Evaluation.Scores> mean(List<Picture> pictures) {
        Map<String, Evaluation.Scores> m = new LinkedHashMap<>();
        for (String k : pictures.getFirst().scores().keySet()) {
            double p = 0, s = 0;
            for (Picture pic : pictures) {
                p += pic.scores().get(k).psnr();
                s += pic.scores().get(k).ssim();
            }
            m.put(k, new Evaluation.Scores(p / pictures.size(), s / pictures.size()));
        }
        return m;
    }

    /** The centre side × side square of img (smaller pictures give all they have). */
    static Images.Image crop(Images.Image img, int side) {
        int ch = Math.min(side, img.height()), cw = Math.min(side, img.width());
        int y0 = (img.height() - ch) / 2, x0 = (img.width() - cw) / 2;
        float[] p = new float[img.channels() * ch * cw];
        for (int c = 0; c < img.channels(); c++)
            for (int y = 0; y < ch; y++)
                System.arraycopy(img.pixels(), (c * img.height() + y0 + y) * img.width() + x0,
                        p, (c * ch + y) * cw, cw);
        return new Images.Image(img.channels(), ch, cw, p);
    }
}
