package dev.denoise.train;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Tensor;

/**
 * An epoch's loss as the host sees it. The device adds every step's loss into one total; the host
 * queues a copy of it at most once per interval and takes the copy at a later look if it has landed,
 * so the training loop never waits for the device mid-epoch. A NaN or infinity in the total (sums
 * keep them) stops training as soon as the host sees it.
 */
final class RunningLoss {
    /** Builds the exception for a non-finite total seen at epoch, summed over images. */
    interface Diverged {
        TrainingDivergedException at(double total, int epoch, int images);
    }

    private final Backend backend;
    private final Backend.Staging copy;
    private final Tensor total;
    private final long interval;
    private final int epoch;
    private long next;
    private int inFlight = -1; // images summed in the copy under way, or -1
    private double mean = Double.NaN, last;

    RunningLoss(Backend backend, Backend.Staging copy, Tensor total, long intervalNanos, int epoch) {
        this.backend = backend;
        this.copy = copy;
        this.total = total;
        this.interval = intervalNanos;
        this.epoch = epoch;
        this.next = after(System.nanoTime(), intervalNanos);
    }

    /** After the step that brings the queued images to queued: a look, if the interval has passed. */
    void poll(int queued, Diverged diverged) {
        long now = System.nanoTime();
        if (now < next) return;
        next = after(now, interval);
        if (inFlight >= 0 && copy.done()) take(diverged);
        if (inFlight < 0) {
            backend.download(copy, 0, total);
            inFlight = queued;
        }
    }

    /** t + interval, saturating: a huge interval means no look before the epoch's end. */
    private static long after(long t, long interval) {
        long n = t + interval;
        return n < t ? Long.MAX_VALUE : n;
    }

    /** The mean loss per image the host last saw; NaN before the first copy lands. */
    double mean() {
        return mean;
    }

    /** The epoch's total over its images: the one wait of the epoch, for the copy queued after its last step. */
    double total(int images, Diverged diverged) {
        backend.download(copy, 0, total);
        inFlight = images;
        copy.await();
        take(diverged);
        return last;
    }

    private void take(Diverged diverged) {
        double t = copy.get(0);
        if (!Double.isFinite(t)) throw diverged.at(t, epoch, inFlight);
        last = t;
        mean = t / inFlight;
        inFlight = -1;
    }
}
