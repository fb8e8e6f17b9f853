package dev.denoise.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.denoise.train.EpochRecord;

import java.util.List;

/**
 * The JSON files of a report. metrics.json is built node by node rather than by serialising the
 * records, so that its schema is fixed here, in one place, and does not change when a record gains
 * a field: scripts that compare runs read it. Non-finite numbers (an infinite PSNR of a perfect
 * output, a NaN of an empty validation set) are written as Jackson writes them by default, the
 * strings "Infinity" and "NaN", which Jackson reads back as doubles.
 */
final class MetricsJson {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private MetricsJson() {
    }

    /**
     * {@code {"noisy": {psnr, ssim}, "baselines": {name: {psnr, ssim}}, "models": {name: {psnr,
     * ssim, train_seconds, train_images_per_second, infer_images_per_second}}, "config": {...}}}.
     */
    static byte[] metrics(Comparison c) throws JsonProcessingException {
        ObjectNode root = MAPPER.createObjectNode();
        quality(root.putObject("noisy"), c.noisy());
        ObjectNode baselines = root.putObject("baselines");
        c.baselines().forEach((name, q) -> quality(baselines.putObject(name), q));
        ObjectNode models = root.putObject("models");
        c.models().forEach((name, m) -> {
            ObjectNode node = models.putObject(name);
            quality(node, m.quality());
            node.put("train_seconds", m.trainSeconds());
            node.put("train_images_per_second", m.trainImagesPerSecond());
            node.put("infer_images_per_second", m.inferImagesPerSecond());
        });
        // Config values are whatever the caller put there (numbers, strings, lists); Jackson maps them.
        root.set("config", MAPPER.valueToTree(c.config()));
        return MAPPER.writeValueAsBytes(root);
    }

    /** One model's epoch records as a JSON array, in the format the training writes. */
    static byte[] history(List<EpochRecord> history) throws JsonProcessingException {
        return MAPPER.writeValueAsBytes(history);
    }

    private static void quality(ObjectNode node, Comparison.Quality q) {
        node.put("psnr", q.psnr());
        node.put("ssim", q.ssim());
    }
}
