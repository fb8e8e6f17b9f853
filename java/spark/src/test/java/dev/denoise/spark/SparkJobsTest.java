package dev.denoise.spark;

import dev.denoise.backend.CpuBackend;
import dev.denoise.cli.Main;
import dev.denoise.data.Dataset;
import dev.denoise.data.Mnist;
import dev.denoise.io.Images;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelFiles;
import dev.denoise.model.ModelKind;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Spark jobs in local[2], on a few dozen real pictures (MNIST digits written as PNG, crops of
 * scikit-image's photographs where the package is installed, else drawn ones) and damaged files:
 * the pictures are the bytes `denoise denoise` writes, the manifest holds every input with its
 * status, the distributed evaluation prints what `denoise evaluate` prints, a re-run is refused,
 * and the column functions agree with the job.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SparkJobsTest {
    private static final Path SKIMAGE = Path.of("/usr/lib/python3/dist-packages/skimage/data");
    private static SparkSession spark;
    private static Path dir, in, grey, model;
    private static final List<String> DAMAGED = List.of("truncated.jpg", "notes.txt", "empty.png", "huge.png");

    @BeforeAll
    static void start() throws Exception {
        Path mnist = Mnist.defaultDir();
        assumeTrue(Files.isDirectory(mnist) || Boolean.getBoolean("denoise.data.required"), "MNIST not found at " + mnist + "; run make data");
        dir = Files.createTempDirectory("denoise-spark");
        in = Files.createDirectories(dir.resolve("in"));
        grey = Files.createDirectories(dir.resolve("grey"));
        Dataset digits = Mnist.load(mnist, Mnist.Split.TEST);
        for (int i = 0; i < 12; i++) {
            Images.Image d = new Images.Image(1, 28, 28, Arrays.copyOfRange(digits.images(), i * 784, (i + 1) * 784));
            Images.writePng(in.resolve("digit" + i + ".png"), d);
            Images.writePng(grey.resolve("digit" + i + ".png"), d);
        }
        List<BufferedImage> photos = photos();
        for (int i = 0; i < photos.size(); i++) {
            ImageIO.write(photos.get(i), "png", in.resolve("photo" + i + ".png").toFile());
            if (photos.get(i).getType() == BufferedImage.TYPE_BYTE_GRAY) ImageIO.write(photos.get(i), "png", grey.resolve("photo" + i + ".png").toFile());
        }
        ImageIO.write(photos.getFirst(), "jpeg", in.resolve("photo-jpeg.jpg").toFile());
        Files.createDirectories(in.resolve("sub"));
        ImageIO.write(photos.getLast(), "png", in.resolve("sub/nested.png").toFile());
        byte[] jpeg = Files.readAllBytes(in.resolve("photo-jpeg.jpg"));
        Files.write(in.resolve("truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 3));
        Files.writeString(in.resolve("notes.txt"), "not a picture");
        Files.write(in.resolve("empty.png"), new byte[0]);
        Files.write(in.resolve("huge.png"), hugePng());
        model = dir.resolve("residual.safetensors");
        try (CpuBackend cpu = new CpuBackend();
             Autoencoder m = Autoencoder.create(cpu, ModelConfig.defaults(ModelKind.RESIDUAL, 1, 32, 32).withConvDepth(2).withConvWidth(4), 1)) {
            m.initialise(5);
            ModelFiles.save(model, m, Map.of());
        }
        spark = SparkSession.builder().master("local[2]").appName("denoise-test")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.host", "127.0.0.1").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** Crops of scikit-image's photographs (grey and colour) where installed, else drawn pictures. */
    private static List<BufferedImage> photos() throws Exception {
        List<BufferedImage> out = new ArrayList<>();
        for (String name : List.of("camera.png", "chelsea.png", "coffee.png", "astronaut.png")) {
            Path f = SKIMAGE.resolve(name);
            if (!Files.isRegularFile(f)) continue;
            BufferedImage bi = ImageIO.read(f.toFile());
            for (int k = 0; k < 3; k++) out.add(bi.getSubimage(37 * k, 23 * k, 96 + 13 * k, 72 + 9 * k));
        }
        SplittableRandom rng = new SplittableRandom(4);
        while (out.size() < 8) {
            boolean colour = out.size() % 2 == 0;
            BufferedImage bi = new BufferedImage(90 + out.size(), 70, colour ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < bi.getHeight(); y++)
                for (int x = 0; x < bi.getWidth(); x++) bi.setRGB(x, y, (x * 2 + rng.nextInt(40)) << 16 | (y * 3) << 8 | rng.nextInt(256));
            out.add(bi);
        }
        return out;
    }

    /** A PNG whose header claims 100,000 × 100,000 pixels. */
    private static byte[] hugePng() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY), "png", b);
        byte[] png = b.toByteArray();
        java.nio.ByteBuffer.wrap(png, 16, 8).putInt(100_000).putInt(100_000); // IHDR width, height (CRC left wrong)
        return png;
    }

    private static List<Path> pictures(Path folder) throws Exception {
        try (Stream<Path> s = Files.walk(folder)) {
            return s.filter(Files::isRegularFile).filter(p -> !DAMAGED.contains(p.getFileName().toString())).sorted().toList();
        }
    }

    @Test
    void the_job_writes_what_the_command_line_writes_and_a_manifest_of_every_input() throws Exception {
        Path out = dir.resolve("out");
        assertEquals(0, DenoiseSpark.run(spark, "denoise", "--model", model.toString(), "--input", in.toString(),
                "--output", out.toString(), "--device", "cpu"));
        assertTrue(Files.exists(out.resolve("_SUCCESS")) && Files.exists(out.resolve("_manifest/_SUCCESS")), "both commits done");
        // the same files through denoise denoise: the same bytes
        Path cli = dir.resolve("cli");
        List<String> args = new ArrayList<>(List.of("denoise", "--model-file", model.toString(), "--out", cli.toString(), "--device", "cpu"));
        List<Path> good = pictures(in);
        good.forEach(p -> args.add(p.toString()));
        assertEquals(0, Main.run(args.toArray(String[]::new)));
        for (Path p : good) {
            String rel = in.relativize(p).toString(), name = rel.replaceFirst("\\.[^.]*$", "") + ".png";
            assertArrayEquals(Files.readAllBytes(cli.resolve(p.getFileName().toString().replaceFirst("\\.[^.]*$", "") + ".png")),
                    Files.readAllBytes(out.resolve(name)), rel);
        }
        // the manifest: one row per input, ok rows with an output, damaged ones with their one line
        List<Row> rows = spark.read().parquet(out.resolve("_manifest").toString()).collectAsList();
        assertEquals(good.size() + DAMAGED.size(), rows.size());
        Map<String, Row> byName = new HashMap<>();
        rows.forEach(r -> byName.put(Path.of(java.net.URI.create(r.getString(r.fieldIndex("path")))).getFileName().toString(), r));
        for (String bad : DAMAGED) {
            Row r = byName.get(bad);
            assertEquals("error", r.getString(r.fieldIndex("status")), bad);
            String error = r.getString(r.fieldIndex("error"));
            assertTrue(error.startsWith(bad + ": ") && !error.contains("\n"), error);
            assertNull(r.get(r.fieldIndex("output")));
        }
        assertTrue(byName.get("huge.png").getString(byName.get("huge.png").fieldIndex("error")).contains("more pixels than the limit"));
        long ok = rows.stream().filter(r -> "ok".equals(r.getString(r.fieldIndex("status")))).count();
        assertEquals(good.size(), ok);
        try (Stream<Path> s = Files.walk(out)) {
            assertEquals(good.size(), s.filter(p -> p.toString().endsWith(".png")).count(), "a picture for every ok row, no more");
        }
        Row digit = byName.get("digit0.png");
        assertEquals(28, digit.getInt(digit.fieldIndex("width")));
        assertTrue(digit.getString(digit.fieldIndex("device")).startsWith("cpu"), digit.getString(digit.fieldIndex("device")));
        // a second run into the same output is refused before any work, and the first run's output stays
        long before = Files.getLastModifiedTime(out.resolve("_manifest/_SUCCESS")).toMillis();
        assertEquals(2, DenoiseSpark.run(spark, "denoise", "--model", model.toString(), "--input", in.toString(),
                "--output", out.toString(), "--device", "cpu"));
        assertEquals(before, Files.getLastModifiedTime(out.resolve("_manifest/_SUCCESS")).toMillis());
    }

    @Test
    void the_distributed_evaluation_prints_what_evaluate_prints() throws Exception {
        // what `evaluate --dataset DIR` leaves out, the job leaves out too: other files, sub-folders
        Files.writeString(grey.resolve("README.txt"), "not a picture");
        Files.createDirectories(grey.resolve("more"));
        Files.copy(grey.resolve("digit1.png"), grey.resolve("more/digit1.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(grey.resolve("digit2.png"), grey.resolve("DIGIT2-UPPER.PNG"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true));
        try {
            assertEquals(0, Main.run("evaluate", "--model-file", model.toString(), "--dataset", grey.toString(),
                    "--noise", "gaussian:0.1", "--device", "cpu"));
        } finally {
            System.setOut(stdout);
        }
        List<String> single = captured.toString().lines().toList();
        EvaluateJob.Result spread = EvaluateJob.run(spark, new EvaluateJob.Options(
                ModelRef.of(model.toString(), spark.sparkContext().hadoopConfiguration()), grey.toString(), "gaussian:0.1", "cpu"));
        List<String> table = spread.table();
        assertEquals(single.subList(0, table.size()), table);
        assertTrue(table.getLast().startsWith("mean"), table.getLast());
        assertTrue(spread.failed().isEmpty(), spread.failed().toString());
    }

    @Test
    void the_column_functions_agree_with_the_job() throws Exception {
        UserDefinedFunction denoise = DenoiseFunctions.denoise(spark, model.toString(), "cpu");
        List<Row> rows = spark.read().format("binaryFile").load(in.toString())
                .withColumn("d", denoise.apply(col("content"))).select(col("path"), col("d.png"), col("d.error")).collectAsList();
        Path out = dir.resolve("out-udf");
        DenoiseJob.run(spark, new DenoiseJob.Options(ModelRef.of(model.toString(), spark.sparkContext().hadoopConfiguration()),
                in.toString(), out.toString(), "cpu", 1f));
        int checked = 0;
        for (Row r : rows) {
            String name = Path.of(java.net.URI.create(r.getString(0))).getFileName().toString();
            if (DAMAGED.contains(name)) {
                assertNull(r.get(1), name);
                assertNotNull(r.getString(2), name);
                continue;
            }
            assertNull(r.get(2), name);
            assertArrayEquals(Files.readAllBytes(out.resolve(name.replaceFirst("\\.[^.]*$", "") + ".png")), (byte[]) r.get(1), name);
            checked++;
        }
        assertTrue(checked > 10, "checked " + checked);
        UserDefinedFunction scores = DenoiseFunctions.scores(spark, model.toString(), "gaussian:0.1", "cpu");
        Row s = spark.read().format("binaryFile").load(grey.resolve("digit0.png").toString())
                .select(scores.apply(col("content")).as("s")).select("s.*").first();
        assertNull(s.get(4));
        assertTrue(s.getDouble(0) > 15 && s.getDouble(0) < 25, "noisy PSNR at sigma 0.1: " + s.getDouble(0));
    }

    @Test
    void the_shipped_model_runs_by_name() {
        UserDefinedFunction denoise = DenoiseFunctions.denoise(spark, "photo", "auto");
        Row r = spark.read().format("binaryFile").load(in.resolve("digit3.png").toString())
                .select(denoise.apply(col("content")).as("d")).select("d.png", "d.error").first();
        assertNull(r.get(1));
        assertFalse(((byte[]) r.get(0)).length == 0);
        assertEquals(2, DenoiseSpark.run(spark, "denoise", "--model", "nosuch", "--input", in.toString(),
                "--output", dir.resolve("never").toString()));
        assertFalse(Files.exists(dir.resolve("never")));
        assertNotNull(new File(in.toString()));
    }

    @Test
    void a_job_stopped_half_way_leaves_nothing_that_looks_done() throws Exception {
        Path many = Files.createDirectories(dir.resolve("many"));
        Dataset digits = Mnist.load(Mnist.defaultDir(), Mnist.Split.TEST);
        for (int i = 0; i < 3000; i++) {
            Images.writePng(many.resolve(String.format("d%05d.png", i)),
                    new Images.Image(1, 28, 28, Arrays.copyOfRange(digits.images(), i * 784, (i + 1) * 784)));
        }
        Path out = dir.resolve("stopped");
        Thread stopper = new Thread(() -> {
            // once the first task has committed its pictures (under _temporary), stop every job
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                try (Stream<Path> s = Files.exists(out) ? Files.walk(out) : Stream.empty()) {
                    if (s.anyMatch(p -> p.toString().contains("/task_") && p.toString().endsWith(".png"))) break;
                } catch (Exception ignored) {
                    // the committer moves folders while this looks: look again
                }
                Thread.onSpinWait();
            }
            spark.sparkContext().cancelAllJobs();
        });
        stopper.start();
        Exception failed = null;
        try {
            DenoiseJob.run(spark, new DenoiseJob.Options(ModelRef.of(model.toString(), spark.sparkContext().hadoopConfiguration()),
                    many.toString(), out.toString(), "cpu", 1f));
        } catch (Exception e) {
            failed = e;
        }
        stopper.join();
        assumeTrue(failed != null, "the job finished before it could be stopped");
        // the committer took back the committed tasks' pictures (they waited under _temporary for the
        // job's commit), and the empty folder is gone: nothing looks done
        if (Files.exists(out)) {
            try (Stream<Path> s = Files.walk(out)) {
                org.junit.jupiter.api.Assertions.fail("the stopped job left " + s.map(Path::toString).toList() + " after " + failed);
            }
        }
        // so the same command simply runs again, to the end
        assertEquals(0, DenoiseSpark.run(spark, "denoise", "--model", model.toString(), "--input", many.toString(),
                "--output", out.toString(), "--device", "cpu"));
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(3000, s.filter(p -> p.toString().endsWith(".png")).count());
        }
    }
}
