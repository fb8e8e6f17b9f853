package dev.denoise.spark;

import dev.denoise.BadInputException;
import dev.denoise.Denoiser;
import dev.denoise.io.Images;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.io.BytesWritable;
import org.apache.hadoop.io.Text;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Batch denoising of a collection of pictures: every file under the input URI (read with Spark's
 * binaryFile source: local, HDFS, S3 where the cluster has the connector) is denoised on the
 * executors, one Denoiser per executor JVM, and written under the output URI as
 * {@code <relative path without extension>.png}: the bytes {@code denoise denoise} writes for the
 * same file.
 *
 * <p>Beside the pictures, {@code OUTPUT/_manifest/} (Parquet) holds one row per input: its path and
 * size, the picture's width and height, the output path, the milliseconds it took, the device,
 * and a status ({@code ok} or {@code error}) with the error's one line. A damaged, foreign or
 * oversized file is such a row, and the job goes on; only the ok rows have pictures, so the counts
 * add up.
 *
 * <p>Committing: the pictures go through Hadoop's output committer (each task's files appear in the
 * output when the task commits; OUTPUT/_SUCCESS when all have), then the manifest through Spark's.
 * <b>The job is done when OUTPUT/_manifest/_SUCCESS exists.</b> A job that fails before its pictures
 * are committed leaves no output folder (the committer takes back its tasks' files; the empty
 * folder is removed), so it can simply run again. An output folder that exists is refused before
 * any work: a re-run never mixes with, or overwrites, an earlier run's output (delete it to run
 * again).
 */
public final class DenoiseJob {
    /** The manifest's columns. */
    public static final StructType MANIFEST = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("bytes", DataTypes.LongType, false)
            .add("width", DataTypes.IntegerType, true)
            .add("height", DataTypes.IntegerType, true)
            .add("output", DataTypes.StringType, true)
            .add("millis", DataTypes.LongType, false)
            .add("device", DataTypes.StringType, true)
            .add("status", DataTypes.StringType, false)
            .add("error", DataTypes.StringType, true);

    /**
     * What to run.
     *
     * @param model    the model (see {@link ModelRef})
     * @param input    a folder URI; every file under it is an input
     * @param output   a folder URI that must not exist yet
     * @param device   auto, cpu or cuda (a task given a GPU by the cluster uses that one)
     * @param strength 0 to 1, as {@code denoise denoise --strength}
     */
    public record Options(ModelRef model, String input, String output, String device, float strength) implements Serializable {}

    /**
     * How it went.
     *
     * @param inputs files read
     * @param ok     pictures written
     * @param failed inputs with an error row
     * @param millisPerPicture mean time of a picture denoised (decode, model, encode) on its executor thread
     */
    public record Summary(long inputs, long ok, long failed, double millisPerPicture) {}

    /** One input's outcome; png travels to the writer, the rest to the manifest. */
    record Outcome(String path, long bytes, Integer width, Integer height, String output, String name, long millis,
                   String device, String error, byte[] png) implements Serializable {
        Row row() {
            return RowFactory.create(path, bytes, width, height, error == null ? output : null, millis, device,
                    error == null ? "ok" : "error", error);
        }
    }

    private DenoiseJob() {}

    /** Runs the job (see the class comment). */
    public static Summary run(SparkSession spark, Options o) {
        if (!(o.strength() >= 0 && o.strength() <= 1)) throw new IllegalArgumentException("--strength must be in [0, 1], got " + o.strength());
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        requireNew(o.output(), hadoop);
        String root = InputFiles.root(o.input(), hadoop);
        Dataset<Row> files = InputFiles.read(spark, o.input(), true);
        InputFiles.Listing listing = InputFiles.list(o.input(), hadoop, true);
        Set<String> clashes = clashes(listing.relative());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<ModelRef> model = jsc.broadcast(o.model());
        Broadcast<Set<String>> taken = jsc.broadcast(clashes);
        String out = o.output().replaceAll("/+$", ""), requested = o.device();
        float strength = o.strength();
        JavaRDD<Outcome> outcomes = files.javaRDD().mapPartitions(rows -> { // the model travels in the broadcast only
            Denoiser d = ExecutorModels.get(model.value(), requested);
            String device = d.model().backend().describe();
            return map(rows, r -> denoise(d, device, r, root, out, strength, taken.value()));
        });
        List<Outcome> empty = listing.empty().stream().map(path -> {
            String relative = InputFiles.relative(path, root);
            return new Outcome(path, 0, null, null, null, outputName(relative), 0, null, relative + ": empty file", null);
        }).toList();
        if (!empty.isEmpty()) outcomes = outcomes.union(jsc.parallelize(empty, 1)); // the scan skips them; the manifest does not
        outcomes.persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            outcomes.filter(x -> x.error() == null)
                    .mapToPair(x -> new Tuple2<>(new Text(x.name()), new BytesWritable(x.png())))
                    .saveAsNewAPIHadoopFile(out, Text.class, BytesWritable.class, ImageFileOutputFormat.class, committing(hadoop));
            Dataset<Row> manifest = spark.createDataFrame(outcomes.map(Outcome::row), MANIFEST);
            // one file per 256 input partitions (about 8,000 rows): not one per partition of a few dozen
            manifest.coalesce(Math.max(1, outcomes.getNumPartitions() / 256)).write().parquet(out + "/_manifest");
            List<Row> counts = manifest.groupBy("status").agg(functions.count("*"), functions.sum("millis")).collectAsList();
            long ok = 0, failed = 0, millis = 0;
            for (Row r : counts) {
                if ("ok".equals(r.getString(0))) {
                    ok = r.getLong(1);
                    millis = r.getLong(2);
                } else {
                    failed += r.getLong(1);
                }
            }
            return new Summary(ok + failed, ok, failed, ok == 0 ? 0 : (double) millis / ok);
        } catch (Exception | Error e) { // SparkException is checked in Java's eyes, and thrown all the same
            removeIfEmpty(out, hadoop); // aborted: the committer has taken back its files, and the folder was ours
            throw e;
        } finally {
            outcomes.unpersist(false);
        }
    }

    /** One file: decoded, denoised and encoded, or the one line of why not. */
    static Outcome denoise(Denoiser d, String device, Row file, String root, String out, float strength, Set<String> clashes) {
        String path = file.getString(0);
        byte[] content = (byte[]) file.get(2);
        String relative = InputFiles.relative(path, root), name = outputName(relative);
        long t0 = System.nanoTime();
        Integer w = null, h = null;
        try {
            if (clashes.contains(name)) {
                throw new BadInputException(Path.of(relative), "would be written to " + name + " as another input is; rename one");
            }
            BufferedImage pic = Images.readPicture(content, Path.of(relative), Denoiser.MAX_PIXELS);
            w = pic.getWidth();
            h = pic.getHeight();
            byte[] png = png(d.denoise(pic, strength));
            return new Outcome(path, content.length, w, h, out + "/" + name, name, millis(t0), device, null, png);
        } catch (BadInputException | IllegalArgumentException e) {
            return new Outcome(path, content.length, w, h, null, name, millis(t0), device, e.getMessage(), null);
        }
    }

    /** relative path → the output's: the extension (if any) becomes .png, as `denoise denoise` names it. */
    static String outputName(String relative) {
        int slash = relative.lastIndexOf('/');
        return relative.substring(0, slash + 1) + relative.substring(slash + 1).replaceFirst("\\.[^.]*$", "") + ".png";
    }

    /** A picture's PNG bytes, as ImageIO writes them (and `denoise denoise` does). */
    static byte[] png(BufferedImage picture) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(picture, "png", bytes)) throw new IllegalStateException("this Java runtime has no PNG writer");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Output names more than one input would take. */
    static Set<String> clashes(List<String> relative) {
        Set<String> seen = new HashSet<>(), twice = new HashSet<>();
        for (String r : relative) if (!seen.add(outputName(r))) twice.add(outputName(r));
        return twice;
    }

    /**
     * The write's configuration: the committer's algorithm 1, whose task commits stay under
     * OUTPUT/_temporary until the job commits (algorithm 2 moves each task's files into the output
     * as the task commits, so a failed job would leave some pictures as if done).
     */
    private static Configuration committing(Configuration hadoop) {
        Configuration c = new Configuration(hadoop);
        c.set("mapreduce.fileoutputcommitter.algorithm.version", "1");
        return c;
    }

    /** Deletes the output folder this job made when nothing is in it (not even a committed picture). */
    private static void removeIfEmpty(String output, Configuration hadoop) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(output);
        try {
            FileSystem fs = p.getFileSystem(hadoop);
            if (fs.exists(p) && fs.listStatus(p).length == 0) fs.delete(p, false);
        } catch (IOException | RuntimeException ignored) {
            // left in place: a re-run says it exists
        }
    }

    /** Refuses an output folder that exists (before any work). */
    static void requireNew(String output, Configuration hadoop) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(output);
        try {
            FileSystem fs = p.getFileSystem(hadoop);
            if (fs.exists(p)) {
                throw new BadInputException(Path.of(output), "already exists: a job writes a new folder (delete it to run again)");
            }
        } catch (IOException e) {
            throw new BadInputException(Path.of(output), "cannot check the output folder: " + e.getMessage(), e);
        }
    }

    private static long millis(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** rows mapped lazily, one at a time (a partition's outputs are not all held at once). */
    static <A, B> Iterator<B> map(Iterator<A> rows, java.util.function.Function<A, B> f) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public B next() {
                return f.apply(rows.next());
            }
        };
    }
}
