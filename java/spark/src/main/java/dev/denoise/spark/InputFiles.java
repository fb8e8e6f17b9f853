package dev.denoise.spark;

import dev.denoise.BadInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.function.FilterFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The input files of a job: Spark's binaryFile source over a folder URI, and names relative to it. */
final class InputFiles {
    private InputFiles() {}

    /**
     * Every file under folder (path, length, content); recursive: in sub-folders too, else only
     * the folder's own files ending in .png, .jpg or .jpeg in any case (as `denoise evaluate
     * --dataset DIR` lists them).
     */
    static Dataset<Row> read(SparkSession spark, String folder, boolean recursive) {
        Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(folder)
                .select("path", "length", "content");
        if (recursive) return files;
        String root = root(folder, spark.sparkContext().hadoopConfiguration());
        return files.filter((FilterFunction<Row>) r -> {
            String relative = relative(r.getString(0), root), name = relative.toLowerCase(Locale.ROOT);
            return !relative.contains("/") && (name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg"));
        });
    }

    /** The folder as the binaryFile source writes its files' paths, ending in '/'. */
    static String root(String folder, Configuration hadoop) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(folder);
        try {
            FileSystem fs = p.getFileSystem(hadoop);
            if (!fs.exists(p) || !fs.getFileStatus(p).isDirectory()) throw new BadInputException(Path.of(folder), "not a folder of pictures");
            String q = fs.makeQualified(p).toString();
            return q.endsWith("/") ? q : q + "/";
        } catch (IOException e) {
            throw new BadInputException(Path.of(folder), "cannot read the folder: " + e.getMessage(), e);
        }
    }

    /**
     * What the driver learns from one walk of the input's listing: the empty files (their paths as
     * the binaryFile source writes them), which the source's scan skips while a job must still
     * report every input; and every relative path, for the output names two inputs would share.
     */
    record Listing(List<String> empty, List<String> relative) {}

    /**
     * The listing of folder (recursive or not, hidden files left out as the binaryFile source
     * leaves them). Plain listings, not listFiles: on a local file system a located status asks
     * each file's permissions of a forked process (35 s for 10,000 files, measured). The driver
     * holds a path per file, as Spark's own file index does; on an object store the walk costs a
     * list request per 1,000 files.
     */
    static Listing list(String folder, Configuration hadoop, boolean recursive) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(folder);
        Listing out = new Listing(new ArrayList<>(), new ArrayList<>());
        try {
            FileSystem fs = p.getFileSystem(hadoop);
            org.apache.hadoop.fs.Path root = fs.makeQualified(p);
            walk(fs, root, root.toString().endsWith("/") ? root.toString() : root + "/", recursive, out);
        } catch (IOException e) {
            throw new BadInputException(Path.of(folder), "cannot list the folder: " + e.getMessage(), e);
        }
        return out;
    }

    private static void walk(FileSystem fs, org.apache.hadoop.fs.Path dir, String root, boolean recursive, Listing out)
            throws IOException {
        RemoteIterator<FileStatus> it = fs.listStatusIterator(dir);
        while (it.hasNext()) {
            FileStatus f = it.next();
            String name = f.getPath().getName();
            if (name.startsWith(".") || name.startsWith("_")) continue; // hidden, as the binaryFile source has them
            if (f.isDirectory()) {
                if (recursive) walk(fs, f.getPath(), root, true, out);
                continue;
            }
            String path = f.getPath().toString();
            out.relative().add(relative(path, root));
            if (f.getLen() == 0) out.empty().add(path);
        }
    }

    /** A file's path under root (root itself when it is not under it). */
    static String relative(String path, String root) {
        return path.startsWith(root) ? path.substring(root.length()) : path;
    }
}
