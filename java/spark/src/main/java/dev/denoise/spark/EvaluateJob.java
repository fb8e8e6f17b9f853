package dev.denoise.spark;

import dev.denoise.BadInputException;
import dev.denoise.Denoiser;
import dev.denoise.eval.Evaluation;
import dev.denoise.eval.PictureEvaluation;
import dev.denoise.io.Images;
import dev.denoise.train.Noise;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Distributed evaluation: the pictures of a folder (its own .png, .jpg and .jpeg files, as
 * {@code denoise evaluate --dataset DIR} takes them) each get noise added, are denoised on the
 * executors and scored (PSNR, SSIM) beside the noisy input and the baselines; the scores come back
 * to the driver, which sorts them by name and averages them as the single-machine command does.
 * Every picture's noise starts from the same seed (as on one machine), so any partitioning gives
 * the same noise and the same numbers, to the last printed digit. The noise is drawn on the
 * executor's CPU (the same Philox stream a GPU draws).
 *
 * <p>Each picture is taken at the model's channel count (a grey picture for a colour model is R = G
 * = B, as the single-machine command takes a folder with any colour picture in it); a damaged file
 * is reported and left out of the means.
 */
public final class EvaluateJob {
    /**
     * What to run.
     *
     * @param model  the model (see {@link ModelRef})
     * @param input  a folder URI
     * @param noise  gaussian:SIGMA, gaussian:LOW..HIGH or salt-pepper:P
     * @param device auto, cpu or cuda
     */
    public record Options(ModelRef model, String input, String noise, String device) implements Serializable {}

    /**
     * The outcome.
     *
     * @param pictures the scored pictures, by name
     * @param failed   the files that could not be scored, each with its one line
     */
    public record Result(List<PictureEvaluation.Picture> pictures, List<String> failed) {
        /** The table `denoise evaluate --dataset DIR` prints for these pictures. */
        public List<String> table() {
            return PictureEvaluation.table(pictures);
        }
    }

    /** One picture's scores, or its error, as they travel back. */
    record Scored(String name, List<String> methods, double[] psnr, double[] ssim, String error) implements Serializable {}

    private EvaluateJob() {}

    /** Runs the evaluation (see the class comment). */
    public static Result run(SparkSession spark, Options o) {
        Noise noise = Noise.parse(o.noise());
        String spec = o.noise(), requested = o.device();
        String root = InputFiles.root(o.input(), spark.sparkContext().hadoopConfiguration());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<ModelRef> model = jsc.broadcast(o.model());
        JavaRDD<Row> files = InputFiles.read(spark, o.input(), false).javaRDD();
        List<Scored> scored = files.mapPartitions(rows -> {
            Denoiser d = ExecutorModels.get(model.value(), requested);
            Noise n = Noise.parse(spec);
            return DenoiseJob.map(rows, r -> score(d, n, InputFiles.relative(r.getString(0), root), (byte[]) r.get(2)));
        }).collect();
        List<PictureEvaluation.Picture> pictures = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        scored.stream().sorted(Comparator.comparing(Scored::name)).forEach(s -> {
            if (s.error() != null) {
                failed.add(s.error());
                return;
            }
            Map<String, Evaluation.Scores> m = new LinkedHashMap<>();
            for (int i = 0; i < s.methods().size(); i++) m.put(s.methods().get(i), new Evaluation.Scores(s.psnr()[i], s.ssim()[i]));
            pictures.add(new PictureEvaluation.Picture(s.name(), m, List.of()));
        });
        if (pictures.isEmpty()) throw new BadInputException(Path.of(o.input()), "holds no picture that could be scored");
        return new Result(pictures, failed);
    }

    /** One picture scored as PictureEvaluation scores each picture of a folder. */
    static Scored score(Denoiser d, Noise noise, String name, byte[] content) {
        try {
            Images.Image clean = Images.withChannels(
                    Images.fromBufferedImage(Images.readPicture(content, Path.of(name), Denoiser.MAX_PIXELS)),
                    d.model().config().channels());
            PictureEvaluation.Picture p = PictureEvaluation.score(Map.of(d.model().config().kind().id(), d), name, clean,
                    noise, ExecutorModels.hostSide(d), 0, null);
            List<String> methods = new ArrayList<>(p.scores().keySet());
            double[] psnr = new double[methods.size()], ssim = new double[methods.size()];
            for (int i = 0; i < methods.size(); i++) {
                psnr[i] = p.scores().get(methods.get(i)).psnr();
                ssim[i] = p.scores().get(methods.get(i)).ssim();
            }
            return new Scored(name, methods, psnr, ssim, null);
        } catch (BadInputException | IllegalArgumentException e) {
            return new Scored(name, List.of(), new double[0], new double[0], e.getMessage());
        }
    }
}
