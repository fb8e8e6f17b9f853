package dev.denoise.cli;

import dev.denoise.train.EpochRecord;
import dev.denoise.train.TrainListener;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;

/**
 * A progress bar per epoch (loss, images/s, ETA) on a terminal, and one summary line per epoch
 * everywhere. Without a terminal (CI, pipes) only the summary lines are printed.
 */
final class ConsoleProgress implements TrainListener {
    private final String model;
    private final PrintStream out;
    private final boolean bar;
    private ProgressBar pb;
    private int epochs;

    ConsoleProgress(String model, PrintStream out) {
        this.model = model;
        this.out = out;
        this.bar = System.console() != null && System.getenv("CI") == null;
    }

    @Override
    public void resumed(int epochsDone) {
        out.printf("%s: resuming after epoch %d%n", model, epochsDone);
    }

    @Override
    public void epochStarted(int epoch, int epochs, int images) {
        this.epochs = epochs;
        if (!bar) return;
        pb = new ProgressBarBuilder().setTaskName(String.format("%s %d/%d", model, epoch, epochs))
                .setInitialMax(images).setUnit(" img", 1).showSpeed().setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250).setMaxRenderedLength(110)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .setSpeedUnit(java.time.temporal.ChronoUnit.SECONDS).build();
    }

    @Override
    public void batchDone(int imagesDone, double runningLoss) {
        if (pb == null) return;
        pb.stepTo(imagesDone);
        if (!Double.isNaN(runningLoss)) pb.setExtraMessage(String.format("loss %.4f", runningLoss));
    }

    @Override
    public void epochDone(EpochRecord r) {
        if (pb != null) {
            pb.close();
            pb = null;
        }
        out.printf("%s epoch %d/%d  loss %.4f  val PSNR %.2f dB  %.1f s  %,.0f img/s%n", model, r.epoch(), epochs,
                r.loss(), r.valPsnr(), r.seconds(), r.imagesPerSecond());
        out.flush();
    }
}
