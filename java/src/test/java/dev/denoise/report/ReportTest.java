package dev.denoise.report;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.denoise.io.Images;
import dev.denoise.train.EpochRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern IMG_SRC = Pattern.compile("<img\\s[^>]*src=\"([^\"]*)\"");
    private static final String NASTY = "<b>x</b> & \"q\" 'a'";

    @TempDir
    Path dir;

    private final Random random = new Random(42);

    private Images.Image image() {
        float[] p = new float[28 * 28];
        for (int i = 0; i < p.length; i++) {
            p[i] = random.nextFloat();
        }
        return new Images.Image(1, 28, 28, p);
    }

    private List<Images.Image> images(int n) {
        List<Images.Image> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(image());
        }
        return list;
    }

    private static EpochRecord epoch(int e, double loss, double psnr) {
        return new EpochRecord(e, loss, psnr, 1.5, 4000);
    }

    private Comparison comparison(boolean vaePictures) {
        Map<String, Comparison.Quality> baselines = new LinkedHashMap<>();
        baselines.put("median3x3", new Comparison.Quality(17.1, 0.61));
        baselines.put("gaussian(σ=0.9)", new Comparison.Quality(16.4, 0.55));
        baselines.put(NASTY, new Comparison.Quality(12.0, 0.40));
        Map<String, Comparison.ModelResult> models = new LinkedHashMap<>();
        // Dense: three epochs, one without a validation PSNR.
        models.put("dense", new Comparison.ModelResult("dense", 20.5, 0.80, 12.0, 5000, 90000, List.of(
                epoch(1, 0.21, 18.0), epoch(2, 0.15, Double.NaN), epoch(3, 0.12, 20.5))));
        // VAE: two epochs on a scale a thousand times larger.
        models.put("vae", new Comparison.ModelResult("vae", 19.0, 0.75, 15.0, 4000, 80000, List.of(
                epoch(1, 140.0, 17.5), epoch(2, 110.0, 19.0))));
        // Conv: a single epoch.
        models.put("conv", new Comparison.ModelResult("conv", 22.25, 0.88, 40.0, 1500, 30000, List.of(
                epoch(1, 0.09, 22.25))));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("dataset", "mnist");
        config.put("epochs", 3);
        config.put("train_size", 60000);
        config.put("noise", "gaussian σ=0.5");
        config.put("seed", 7L);
        config.put("lr", 0.001);
        config.put("device", NASTY);
        config.put("threads", null);
        List<String> names = List.of("clean", "noisy", "median3x3", "dense", "vae", "conv " + NASTY);
        List<List<Images.Image>> rows = new ArrayList<>();
        for (int r = 0; r < names.size(); r++) {
            rows.add(images(8));
        }
        return new Comparison(new Comparison.Quality(14.2, 0.35), baselines, models, config, names, rows,
                vaePictures ? images(16) : List.of(), vaePictures ? images(25) : List.of(), vaePictures ? 5 : 0);
    }

    private String html() throws IOException {
        return Files.readString(dir.resolve(Report.PAGE), StandardCharsets.UTF_8);
    }

    private static List<String> imgSources(String html) {
        List<String> srcs = new ArrayList<>();
        Matcher m = IMG_SRC.matcher(html);
        while (m.find()) {
            srcs.add(m.group(1));
        }
        return srcs;
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private BufferedImage png(String name) throws IOException {
        Path file = dir.resolve(name);
        assertTrue(Files.isRegularFile(file), name + " missing");
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, name + " is not a readable image");
        return image;
    }

    private List<String> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".") || n.endsWith(".tmp")).toList();
        }
    }

    @Test
    void writesEveryFileOfTheReport() throws IOException {
        Report.write(dir, comparison(true));
        for (String name : List.of(Report.GRID, Report.LOSS, Report.PSNR, Report.VAE_SAMPLES, Report.MANIFOLD)) {
            png(name);
        }
        for (String name : List.of(Report.METRICS, "history-dense.json", "history-vae.json", "history-conv.json",
                Report.PAGE)) {
            assertTrue(Files.isRegularFile(dir.resolve(name)), name + " missing");
        }
        assertEquals(List.of(), leftovers());
    }

    @Test
    void gridHasALabelColumnLeftOfTheImages() throws IOException {
        Report.write(dir, comparison(false));
        BufferedImage grid = png(Report.GRID);
        // Eight 28×28 images per row, scaled 3×, plus padding: the rest of the width is labels.
        int strip = 8 * 28 * 3 + 9 * 2;
        assertTrue(grid.getWidth() > strip + 20, "no room for labels: " + grid.getWidth());
        assertEquals(6 * (28 * 3 + 2 * 2), grid.getHeight());
        // Some dark label pixels in the left column.
        boolean ink = false;
        for (int y = 0; y < grid.getHeight() && !ink; y++) {
            for (int x = 0; x < grid.getWidth() - strip && !ink; x++) {
                ink = (grid.getRGB(x, y) & 0xFF) < 128;
            }
        }
        assertTrue(ink, "labels were not drawn");
    }

    @Test
    void metricsJsonHasExactlyTheSchema() throws IOException {
        Comparison c = comparison(true);
        Report.write(dir, c);
        JsonNode root = JSON.readTree(dir.resolve(Report.METRICS).toFile());
        assertEquals(Set.of("noisy", "baselines", "models", "config"), fieldNames(root));
        assertEquals(Set.of("psnr", "ssim"), fieldNames(root.get("noisy")));
        assertEquals(14.2, root.get("noisy").get("psnr").asDouble());
        assertEquals(c.baselines().keySet(), fieldNames(root.get("baselines")));
        for (JsonNode b : root.get("baselines")) {
            assertEquals(Set.of("psnr", "ssim"), fieldNames(b));
        }
        // Models in the caller's order.
        List<String> order = new ArrayList<>();
        root.get("models").fieldNames().forEachRemaining(order::add);
        assertEquals(List.of("dense", "vae", "conv"), order);
        for (JsonNode m : root.get("models")) {
            assertEquals(Set.of("psnr", "ssim", "train_seconds", "train_images_per_second", "infer_images_per_second"),
                    fieldNames(m));
        }
        JsonNode conv = root.get("models").get("conv");
        assertEquals(22.25, conv.get("psnr").asDouble());
        assertEquals(0.88, conv.get("ssim").asDouble());
        assertEquals(40.0, conv.get("train_seconds").asDouble());
        assertEquals(1500.0, conv.get("train_images_per_second").asDouble());
        assertEquals(30000.0, conv.get("infer_images_per_second").asDouble());
        JsonNode config = root.get("config");
        assertEquals(c.config().keySet(), fieldNames(config));
        assertEquals("mnist", config.get("dataset").asText());
        assertEquals(3, config.get("epochs").asInt());
        assertTrue(config.get("threads").isNull());
    }

    @Test
    void historyFilesReadBackAsEpochRecords() throws IOException {
        Comparison c = comparison(false);
        Report.write(dir, c);
        for (Map.Entry<String, Comparison.ModelResult> e : c.models().entrySet()) {
            Path file = dir.resolve("history-" + e.getKey() + ".json");
            List<EpochRecord> back = JSON.readValue(file.toFile(), new TypeReference<>() {
            });
            assertEquals(e.getValue().history(), back);
            JsonNode first = JSON.readTree(file.toFile()).get(0);
            assertEquals(Set.of("epoch", "loss", "val_psnr", "seconds", "images_per_second"), fieldNames(first));
        }
        // The NaN validation PSNR survives the round trip.
        List<EpochRecord> dense = JSON.readValue(dir.resolve("history-dense.json").toFile(), new TypeReference<>() {
        });
        assertTrue(Double.isNaN(dense.get(1).valPsnr()));
    }

    @Test
    void everyPictureOfThePageExistsAndNothingIsFetched() throws IOException {
        Report.write(dir, comparison(true));
        String html = html();
        List<String> srcs = imgSources(html);
        assertEquals(Set.of(Report.GRID, Report.LOSS, Report.PSNR, Report.VAE_SAMPLES, Report.MANIFOLD),
                new HashSet<>(srcs));
        for (String src : srcs) {
            assertFalse(src.contains("/"), src);
            png(src);
        }
        assertFalse(html.contains("http://"));
        assertFalse(html.contains("https://"));
        assertFalse(html.toLowerCase().contains("<script"));
        assertFalse(html.toLowerCase().contains("<link"));
        for (String href : Pattern.compile("href=\"([^\"]*)\"").matcher(html).results().map(r -> r.group(1)).toList()) {
            assertTrue(Files.isRegularFile(dir.resolve(href)), href);
        }
    }

    @Test
    void callerStringsAreEscaped() throws IOException {
        Report.write(dir, comparison(false));
        String html = html();
        assertFalse(html.contains(NASTY));
        assertFalse(html.contains("<b>x</b>"));
        assertTrue(html.contains("&lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot; &#39;a&#39;"));
        assertTrue(html.contains("gaussian(σ=0.9)"));
        // In the picture captions too, where the row names are listed.
        assertTrue(html.contains("conv &lt;b&gt;"));
    }

    @Test
    void resultsTableShowsEverySourceWithTheBestPsnrInBold() throws IOException {
        Report.write(dir, comparison(false));
        String html = html();
        for (String label : List.of("noisy input", "median3x3", "dense", "vae", "conv")) {
            assertTrue(html.contains("<td>" + label + "</td>"), label);
        }
        assertTrue(html.contains("<strong>22.25</strong>"), "best PSNR not bold");
        assertEquals(1, html.split("<strong>", -1).length - 1, "only one best PSNR");
        assertTrue(html.contains("<td>mnist</td>"));
        assertTrue(html.contains("Denoising autoencoders on mnist"));
    }

    @Test
    void withoutVaePicturesThereAreNoneOnThePage() throws IOException {
        Report.write(dir, comparison(false));
        assertFalse(Files.exists(dir.resolve(Report.VAE_SAMPLES)));
        assertFalse(Files.exists(dir.resolve(Report.MANIFOLD)));
        List<String> srcs = imgSources(html());
        assertEquals(List.of(Report.GRID, Report.LOSS, Report.PSNR), srcs);
    }

    @Test
    void oneEpochHistoriesStillGiveCharts() throws IOException {
        Comparison base = comparison(false);
        Map<String, Comparison.ModelResult> models = new LinkedHashMap<>();
        base.models().forEach((k, m) -> models.put(k, new Comparison.ModelResult(k, m.psnr(), m.ssim(),
                m.trainSeconds(), m.trainImagesPerSecond(), m.inferImagesPerSecond(), m.history().subList(0, 1))));
        Report.write(dir, new Comparison(base.noisy(), base.baselines(), models, base.config(), base.rowNames(),
                base.rows(), List.of(), List.of(), 0));
        png(Report.LOSS);
        png(Report.PSNR);
    }

    @Test
    void noFinitePsnrMeansNoPsnrChart() throws IOException {
        Comparison base = comparison(false);
        Map<String, Comparison.ModelResult> models = new LinkedHashMap<>();
        models.put("dense", new Comparison.ModelResult("dense", 20, 0.8, 1, 1, 1,
                List.of(epoch(1, 0.2, Double.NaN))));
        models.put("vae", new Comparison.ModelResult("vae", 19, 0.7, 1, 1, 1, List.of()));
        Report.write(dir, new Comparison(base.noisy(), Map.of(), models, Map.of(), List.of(), List.of(),
                null, null, 0));
        png(Report.LOSS);
        assertFalse(Files.exists(dir.resolve(Report.PSNR)));
        assertFalse(Files.exists(dir.resolve(Report.GRID)));
        assertEquals(List.of(Report.LOSS), imgSources(html()));
        assertTrue(Files.isRegularFile(dir.resolve("history-vae.json")));
    }

    @Test
    void nonPositiveLossFallsBackToALinearAxis() throws IOException {
        Map<String, Comparison.ModelResult> models = Map.of("vae", new Comparison.ModelResult("vae", 19, 0.7, 1, 1, 1,
                List.of(epoch(1, -3.0, 15), epoch(2, Double.POSITIVE_INFINITY, 16), epoch(3, 0.0, 17))));
        assertFalse(Charts.lossIsLogarithmic(models));
        Report.write(dir, new Comparison(new Comparison.Quality(Double.NaN, Double.NaN), null, models, null,
                null, null, null, null, 0));
        png(Report.LOSS);
        png(Report.PSNR);
    }

    @Test
    void aFailureLeavesTheEarlierReportAndNoTemporaryFiles() throws IOException {
        Report.write(dir, comparison(false));
        byte[] metrics = Files.readAllBytes(dir.resolve(Report.METRICS));
        byte[] page = Files.readAllBytes(dir.resolve(Report.PAGE));

        // The manifold is drawn after the JSON and the charts are staged; images of two sizes fail it.
        Comparison good = comparison(true);
        List<Images.Image> mixed = new ArrayList<>(good.vaeManifold());
        mixed.add(new Images.Image(1, 14, 14, new float[14 * 14]));
        Map<String, Comparison.ModelResult> models = new LinkedHashMap<>(good.models());
        models.remove("conv");
        Comparison bad = new Comparison(new Comparison.Quality(1, 0.1), good.baselines(), models, good.config(),
                good.rowNames(), good.rows(), good.vaeSamples(), mixed, 5);
        assertThrows(IllegalArgumentException.class, () -> Report.write(dir, bad));

        assertEquals(List.of(), leftovers());
        assertArrayEquals(metrics, Files.readAllBytes(dir.resolve(Report.METRICS)));
        assertArrayEquals(page, Files.readAllBytes(dir.resolve(Report.PAGE)));
        assertFalse(Files.exists(dir.resolve(Report.VAE_SAMPLES)));
    }

    @Test
    void aSecondReportReplacesTheFirst() throws IOException {
        Report.write(dir, comparison(false));
        Comparison c = comparison(true);
        Report.write(dir, c);
        png(Report.MANIFOLD);
        assertTrue(html().contains(Report.MANIFOLD));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void createsMissingFolders() throws IOException {
        Path nested = dir.resolve("a/b/report");
        Report.write(nested, comparison(false));
        assertTrue(Files.isRegularFile(nested.resolve(Report.PAGE)));
    }

    @Test
    void modelNamesCannotLeaveTheFolder() {
        assertEquals("history-.._.._etc_x.json", Report.historyFile("../../etc/x"));
        assertEquals("history-conv.json", Report.historyFile("conv"));
    }

    @Test
    void rowNamesMustMatchRows() {
        assertThrows(IllegalArgumentException.class, () -> new Comparison(new Comparison.Quality(1, 1), null, null,
                null, List.of("clean"), List.of(), null, null, 0));
    }

    @Test
    void escapeCoversMarkupAndQuotes() {
        assertEquals("&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;",
                Html.escape("<a href=\"x\">O'Neil & co</a>"));
        assertEquals("null", Html.escape(null));
    }
}
