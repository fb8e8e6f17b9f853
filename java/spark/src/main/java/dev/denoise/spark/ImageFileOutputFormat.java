package dev.denoise.spark;

import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.BytesWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapreduce.RecordWriter;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.lib.output.FileOutputFormat;
import org.apache.hadoop.mapreduce.lib.output.PathOutputCommitter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Each record (relative name, file bytes) becomes a file of its own, written into the task
 * attempt's work folder: Hadoop's output committer (driven by Spark's commit protocol) moves a
 * task's files into the output only when the task commits, and writes _SUCCESS when the job does.
 * A failed or killed attempt leaves nothing in the output; a speculative duplicate's files are
 * dropped. The output folder must not exist (FileOutputFormat checks it before the job starts).
 */
public final class ImageFileOutputFormat extends FileOutputFormat<Text, BytesWritable> {
    @Override
    public RecordWriter<Text, BytesWritable> getRecordWriter(TaskAttemptContext job) throws IOException {
        Path work = ((PathOutputCommitter) getOutputCommitter(job)).getWorkPath();
        FileSystem fs = work.getFileSystem(job.getConfiguration());
        boolean local = fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem;
        return new RecordWriter<>() {
            @Override
            public void write(Text name, BytesWritable content) throws IOException {
                if (local) {
                    // Hadoop's local file system sets each new file's permissions by running chmod (twice,
                    // with its checksum file) where its native library is absent: 6 ms a picture.
                    java.nio.file.Path file = java.nio.file.Path.of(new Path(work, name.toString()).toUri());
                    Files.createDirectories(file.getParent());
                    Files.write(file, Arrays.copyOf(content.getBytes(), content.getLength()), StandardOpenOption.CREATE_NEW);
                    return;
                }
                try (FSDataOutputStream out = fs.create(new Path(work, name.toString()), false)) {
                    out.write(content.getBytes(), 0, content.getLength());
                }
            }

            @Override
            public void close(TaskAttemptContext context) {
                // each file is closed as it is written
            }
        };
    }
}
