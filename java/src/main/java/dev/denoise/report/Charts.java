package dev.denoise.report;

import dev.denoise.train.EpochRecord;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The training-curve charts: loss per epoch and validation PSNR per epoch, one line per model.
 *
 * <p>The losses of the models are not on one scale: dense and conv report binary cross-entropy
 * averaged over pixels (about 0.1), the VAE its cross-entropy summed over an image's pixels plus
 * the KL term (about 100). Rather than a chart per model or a rescaling that hides the real values,
 * all losses share one chart with a logarithmic y axis: both scales fit, each curve keeps its shape
 * (a given relative improvement is the same height everywhere), and the values can still be read
 * off. A linear axis is used instead when some loss is zero or negative, which a log axis cannot
 * show. PSNR is on one scale for every model, so its chart is linear, with the noisy input's PSNR
 * as a flat reference line: the height above it is what the model gained.
 *
 * <p>Non-finite values (a NaN validation PSNR when there was no validation set, a diverged loss)
 * are left out point by point; a model left with no point gets no line, and a chart with no line
 * at all is not drawn ({@code null}), since an empty frame says nothing.
 */
final class Charts {
    static final int WIDTH = 700;
    static final int HEIGHT = 400;

    private Charts() {
    }

    /** PNG of the training loss per epoch, or null when no model has a finite loss. */
    static byte[] loss(Map<String, Comparison.ModelResult> models) throws IOException {
        Map<String, double[][]> lines = lines(models, EpochRecord::loss);
        if (lines.isEmpty()) {
            return null;
        }
        boolean positive = lossIsLogarithmic(models);
        XYChart chart = chart(positive ? "Training loss (log scale: models differ in scale)" : "Training loss",
                "loss");
        chart.getStyler().setYAxisLogarithmic(positive);
        lines.forEach((name, xy) -> add(chart, name, xy));
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }

    /** Whether {@link #loss} draws a logarithmic axis: only when every finite loss is positive. */
    static boolean lossIsLogarithmic(Map<String, Comparison.ModelResult> models) {
        return lines(models, EpochRecord::loss).values().stream()
                .allMatch(xy -> Arrays.stream(xy[1]).allMatch(v -> v > 0));
    }

    /**
     * PNG of the validation PSNR per epoch with the noisy input's PSNR as a reference, or null when
     * no model has a finite validation PSNR.
     */
    static byte[] psnr(Map<String, Comparison.ModelResult> models, double noisyPsnr) throws IOException {
        Map<String, double[][]> lines = lines(models, EpochRecord::valPsnr);
        if (lines.isEmpty()) {
            return null;
        }
        XYChart chart = chart("Validation PSNR", "PSNR (dB)");
        lines.forEach((name, xy) -> add(chart, name, xy));
        if (Double.isFinite(noisyPsnr)) {
            double first = Double.POSITIVE_INFINITY;
            double last = Double.NEGATIVE_INFINITY;
            for (double[][] xy : lines.values()) {
                first = Math.min(first, xy[0][0]);
                last = Math.max(last, xy[0][xy[0].length - 1]);
            }
            String name = "noisy input";
            while (lines.containsKey(name)) {
                name += " ";
            }
            XYSeries reference = chart.addSeries(name, new double[]{first, last}, new double[]{noisyPsnr, noisyPsnr});
            reference.setMarker(SeriesMarkers.NONE);
            reference.setLineColor(Color.GRAY);
            reference.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT,
                    BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
        }
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }

    /** Per model: {epochs, values} of the finite points, in history order; models with none left out. */
    private static Map<String, double[][]> lines(Map<String, Comparison.ModelResult> models,
                                                 ToDoubleFunction<EpochRecord> value) {
        Map<String, double[][]> lines = new LinkedHashMap<>();
        models.forEach((name, m) -> {
            List<double[]> points = new ArrayList<>();
            for (EpochRecord r : m.history()) {
                double v = value.applyAsDouble(r);
                if (Double.isFinite(v)) {
                    points.add(new double[]{r.epoch(), v});
                }
            }
            if (!points.isEmpty()) {
                double[] x = new double[points.size()];
                double[] y = new double[points.size()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = points.get(i)[0];
                    y[i] = points.get(i)[1];
                }
                lines.put(name, new double[][]{x, y});
            }
        });
        return lines;
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        Styler styler = chart.getStyler();
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setLegendPosition(Styler.LegendPosition.OutsideE);
        styler.setAntiAlias(true);
        styler.setMarkerSize(7);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        // Epochs are whole numbers; without this the axis may read 1.0, 1.5, 2.0.
        chart.getStyler().setXAxisDecimalPattern("0.#");
        return chart;
    }

    private static void add(XYChart chart, String name, double[][] xy) {
        // Markers on every point, so a one-epoch run, a single point, is still visible.
        chart.addSeries(name, xy[0], xy[1]).setMarker(SeriesMarkers.CIRCLE);
    }
}
