package dev.denoise.spark;

import dev.denoise.BadInputException;
import dev.denoise.Denoiser;
import dev.denoise.io.Images;
import dev.denoise.train.Noise;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.nio.file.Path;

import static org.apache.spark.sql.functions.udf;

/**
 * Denoising as column functions, for pipelines of one's own: a column of PNG/JPEG bytes (the
 * binaryFile source's {@code content}, or images from any table) to a struct of the denoised PNG
 * bytes and an error, and one to quality scores. The model goes to each executor once (a
 * broadcast) and runs on the executor's shared Denoiser ({@link ExecutorModels}).
 *
 * <pre>{@code
 * SparkSession spark = SparkSession.builder().getOrCreate();
 * UserDefinedFunction denoise = DenoiseFunctions.denoise(spark, "photo", "auto");
 * Dataset<Row> clean = spark.read().format("binaryFile").load("s3a://bucket/photos")
 *         .withColumn("denoised", denoise.apply(col("content")))
 *         .select(col("path"), col("denoised.png"), col("denoised.error"));
 * }</pre>
 *
 * A bad picture gives a null {@code png} and its one-line {@code error}; nothing throws for it.
 */
public final class DenoiseFunctions {
    /** What {@link #denoise} returns: the PNG, or the error. */
    public static final StructType DENOISED = new StructType()
            .add("png", DataTypes.BinaryType, true)
            .add("error", DataTypes.StringType, true);

    /** What {@link #scores} returns: PSNR (dB) and SSIM of the noisy copy and of the model's result. */
    public static final StructType SCORES = new StructType()
            .add("noisy_psnr", DataTypes.DoubleType, true)
            .add("noisy_ssim", DataTypes.DoubleType, true)
            .add("psnr", DataTypes.DoubleType, true)
            .add("ssim", DataTypes.DoubleType, true)
            .add("error", DataTypes.StringType, true);

    private DenoiseFunctions() {}

    /**
     * PNG/JPEG bytes → struct&lt;png: binary, error: string&gt;: the picture denoised by model (a
     * bundled name or a model file's URI) on device (auto, cpu or cuda), as PNG bytes.
     */
    public static UserDefinedFunction denoise(SparkSession spark, String model, String device) {
        Broadcast<ModelRef> ref = broadcast(spark, model);
        return udf((UDF1<byte[], Row>) content -> {
            try {
                Denoiser d = ExecutorModels.get(ref.value(), device);
                return RowFactory.create(DenoiseJob.png(d.denoise(picture(content))), null);
            } catch (BadInputException | IllegalArgumentException e) {
                return RowFactory.create(null, e.getMessage());
            }
        }, DENOISED);
    }

    /**
     * Clean PNG/JPEG bytes → struct of scores: noise (gaussian:SIGMA, …) added from the evaluation
     * seed, denoised by model, and PSNR/SSIM of the noisy copy and the result against the clean
     * picture, taken at the model's channels (as {@link EvaluateJob}).
     */
    public static UserDefinedFunction scores(SparkSession spark, String model, String noise, String device) {
        Noise.parse(noise); // refused here, not on the executors
        Broadcast<ModelRef> ref = broadcast(spark, model);
        return udf((UDF1<byte[], Row>) content -> {
            try {
                Denoiser d = ExecutorModels.get(ref.value(), device);
                if (content == null) throw new BadInputException("no picture (null)");
                EvaluateJob.Scored s = EvaluateJob.score(d, Noise.parse(noise), "picture", content);
                if (s.error() != null) return RowFactory.create(null, null, null, null, s.error());
                int model0 = s.methods().indexOf(d.model().config().kind().id()), noisy = s.methods().indexOf("noisy");
                return RowFactory.create(s.psnr()[noisy], s.ssim()[noisy], s.psnr()[model0], s.ssim()[model0], null);
            } catch (BadInputException | IllegalArgumentException e) {
                return RowFactory.create(null, null, null, null, e.getMessage());
            }
        }, SCORES);
    }

    private static java.awt.image.BufferedImage picture(byte[] content) {
        if (content == null) throw new BadInputException("no picture (null)");
        return Images.readPicture(content, Path.of("picture"), Denoiser.MAX_PIXELS);
    }

    private static Broadcast<ModelRef> broadcast(SparkSession spark, String model) {
        return JavaSparkContext.fromSparkContext(spark.sparkContext())
                .broadcast(ModelRef.of(model, spark.sparkContext().hadoopConfiguration()));
    }
}
