package dev.denoise.spark;

import dev.denoise.BadInputException;
import dev.denoise.Denoiser;
import dev.denoise.io.Sha256;
import dev.denoise.model.BundledModels;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;

/**
 * The model a job runs, as it travels to the executors: a name the jar carries ({@code photo}), or
 * the bytes of a .safetensors file read once on the driver from any Hadoop URI and sent to each
 * executor once (in a broadcast). Executors build their Denoiser from it ({@link ExecutorModels}).
 *
 * @param bundled a model the jar carries, or null
 * @param label   what errors call the model (the name or the file's URI)
 * @param bytes   the model file's bytes when not bundled, else null
 * @param key     identifies the weights: the bundled name, or the file's SHA-256
 */
public record ModelRef(String bundled, String label, byte[] bytes, String key) implements Serializable {
    /** A bundled model's name or a model file's URI (local path, hdfs://, s3a://, …). */
    public static ModelRef of(String nameOrUri, Configuration hadoop) {
        if (BundledModels.NAMES.contains(nameOrUri)) return new ModelRef(nameOrUri, nameOrUri, null, nameOrUri);
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(nameOrUri);
        byte[] bytes;
        try {
            FileSystem fs = p.getFileSystem(hadoop);
            if (!fs.exists(p)) {
                throw new BadInputException(java.nio.file.Path.of(nameOrUri), "no such model file (and no model of that name: the jar carries "
                        + String.join(", ", BundledModels.NAMES) + ")");
            }
            long length = fs.getFileStatus(p).getLen();
            if (length > Integer.MAX_VALUE - 16) throw new BadInputException(java.nio.file.Path.of(nameOrUri), "model file too large");
            bytes = new byte[(int) length];
            try (FSDataInputStream in = fs.open(p)) {
                in.readFully(bytes);
            }
        } catch (IOException e) {
            throw new BadInputException(java.nio.file.Path.of(nameOrUri), "cannot read the model file: " + e.getMessage(), e);
        }
        ModelRef ref = new ModelRef(null, nameOrUri, bytes, Sha256.hex(bytes));
        ref.open("cpu").close(); // refused here, on the driver, if it is not a model
        return ref;
    }

    /** A Denoiser of this model on device (auto, cpu, cuda, cuda:N), with a backend of its own. */
    Denoiser open(String device) {
        var b = Denoiser.builder().device(device);
        if (bundled != null) b.bundled(bundled);
        else b.model(new ByteArrayInputStream(bytes), label);
        return b.build();
    }

}
