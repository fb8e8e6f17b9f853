package dev.denoise.train;

import dev.denoise.data.Dataset;
import dev.denoise.data.PatchSampler;

/**
 * The training images of each epoch: one fixed set (MNIST), or patches cut afresh every epoch from
 * pictures of any size. Every epoch has the same count and shape.
 */
public interface TrainingSet {
    /** Images in each epoch. */
    int count();

    /** Channels of each image: 1 for grey, 3 for colour. */
    int channels();

    /** Height of each image in pixels. */
    int height();

    /** Width of each image in pixels. */
    int width();

    /** The images of epoch e (0-based); the same for the same e, so a resumed run repeats. */
    Dataset epoch(int e);

    /** The same images d every epoch. */
    static TrainingSet of(Dataset d) {
        return new TrainingSet() {
            public int count() { return d.count(); }
            public int channels() { return d.channels(); }
            public int height() { return d.height(); }
            public int width() { return d.width(); }
            public Dataset epoch(int e) { return d; }
        };
    }

    /** Patches from sampler, fresh every epoch, derived from seed. */
    static TrainingSet patches(PatchSampler sampler, long seed) {
        return new TrainingSet() {
            public int count() { return sampler.count(); }
            public int channels() { return sampler.channels(); }
            public int height() { return sampler.size(); }
            public int width() { return sampler.size(); }
            public Dataset epoch(int e) { return sampler.epoch(seed, e); }
        };
    }
}
