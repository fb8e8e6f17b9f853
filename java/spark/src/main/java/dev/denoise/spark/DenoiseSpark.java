package dev.denoise.spark;

import dev.denoise.BadInputException;
import dev.denoise.backend.BackendUnavailableException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * The jobs' command line, for spark-submit:
 * <pre>
 * spark-submit --class dev.denoise.spark.DenoiseSpark denoise-spark.jar denoise --model photo \
 *     --input hdfs:///photos --output hdfs:///photos-clean [--device auto|cpu|cuda] [--strength S]
 * spark-submit --class dev.denoise.spark.DenoiseSpark denoise-spark.jar evaluate --model FILE \
 *     --input hdfs:///clean --noise gaussian:0.1
 * </pre>
 * Exit status 0 when the job ran (inputs it could not read are rows of the manifest), 2 with a
 * one-line error for bad options, a missing input, or an output that exists, 1 for other failures.
 */
@Command(name = "denoise-spark", mixinStandardHelpOptions = true, subcommands = {DenoiseSpark.Denoise.class, DenoiseSpark.Evaluate.class},
        description = "Denoise or evaluate image collections on Apache Spark.")
public final class DenoiseSpark {
    private DenoiseSpark() {}

    /** Runs a command line in the session spark-submit made; exits with its status. */
    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().appName("denoise").getOrCreate();
        int status;
        try {
            status = run(spark, args);
        } finally {
            spark.stop();
        }
        System.exit(status);
    }

    /** Runs a command line in a given session and returns the exit status (for tests and notebooks). */
    public static int run(SparkSession spark, String... args) {
        CommandLine cl = new CommandLine(new DenoiseSpark(), new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == Denoise.class) return cls.cast(new Denoise(spark));
                if (cls == Evaluate.class) return cls.cast(new Evaluate(spark));
                return CommandLine.defaultFactory().create(cls);
            }
        });
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            boolean bad = e instanceof BadInputException || e instanceof IllegalArgumentException
                    || e instanceof BackendUnavailableException;
            cmd.getErr().println("denoise-spark: " + String.valueOf(e.getMessage()).replaceAll("\\s+", " ").strip());
            if (!bad) e.printStackTrace(cmd.getErr());
            return bad ? 2 : 1;
        });
        return cl.execute(args);
    }

    @Command(name = "denoise", mixinStandardHelpOptions = true,
            description = "Denoise every file under --input into --output (PNG), with a Parquet manifest in --output/_manifest.")
    static final class Denoise extends JobCommand {
        @Option(names = "--output", required = true, paramLabel = "URI", description = "New folder for the pictures and the manifest.")
        String output;
        @Option(names = "--strength", defaultValue = "1", paramLabel = "S", description = "0-1, as denoise denoise --strength.")
        float strength;

        Denoise(SparkSession spark) {
            super(spark);
        }

        @Override
        public Integer call() {
            DenoiseJob.Summary s = DenoiseJob.run(spark, new DenoiseJob.Options(job.model(spark), job.input, output, job.device, strength));
            System.out.printf("%d inputs: %d denoised, %d failed (see %s/_manifest); %.2f ms per picture on an executor thread%n",
                    s.inputs(), s.ok(), s.failed(), output, s.millisPerPicture());
            return 0;
        }
    }

    @Command(name = "evaluate", mixinStandardHelpOptions = true,
            description = "PSNR/SSIM of a model on a folder of clean pictures with noise added, as denoise evaluate --dataset DIR prints them.")
    static final class Evaluate extends JobCommand {
        @Option(names = "--noise", defaultValue = "gaussian:0.5", paramLabel = "gaussian:SIGMA|gaussian:LOW..HIGH|salt-pepper:P",
                description = "Noise added to the clean pictures. Default: ${DEFAULT-VALUE}.")
        String noise;

        Evaluate(SparkSession spark) {
            super(spark);
        }

        @Override
        public Integer call() {
            dev.denoise.train.Noise.parse(noise);
            EvaluateJob.Result r = EvaluateJob.run(spark, new EvaluateJob.Options(job.model(spark), job.input, noise, job.device));
            r.table().forEach(System.out::println);
            System.out.printf("%d pictures, %s noise, on spark (%s)%n", r.pictures().size(), noise, spark.sparkContext().master());
            r.failed().forEach(f -> System.out.println("not scored: " + f));
            return 0;
        }
    }

    /** A job's command: the session it runs in, and the options every job takes. */
    abstract static class JobCommand implements Callable<Integer> {
        final SparkSession spark;
        @Mixin
        Job job;

        JobCommand(SparkSession spark) {
            this.spark = spark;
        }
    }

    /** What every job takes: the model, the input folder and the device. */
    static final class Job {
        @Option(names = "--model", required = true, paramLabel = "NAME|URI", description = "A model the jar carries (photo) or a .safetensors file's URI.")
        String model;
        @Option(names = "--input", required = true, paramLabel = "URI",
                description = "Folder of pictures: denoise takes every file under it, evaluate its own .png/.jpg/.jpeg files.")
        String input;
        @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda", description = "Default: ${DEFAULT-VALUE}.")
        String device;

        /** The model, read on the driver (and refused there when it is not one), after the device is checked. */
        ModelRef model(SparkSession spark) {
            if (!device.matches("auto|cpu|cuda")) throw new IllegalArgumentException("--device: expected auto, cpu or cuda, got '" + device + "'");
            return ModelRef.of(model, spark.sparkContext().hadoopConfiguration());
        }
    }
}
