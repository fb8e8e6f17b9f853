package dev.denoise.train;

import dev.denoise.backend.Backend;
import dev.denoise.backend.CpuBackend;
import dev.denoise.data.Dataset;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training loop is shaped for a device: the host waits for it (a write, a read, a
 * synchronization) a fixed number of times per epoch, however many steps the epoch has, and the
 * running loss comes back by copies that do not wait. Counted on the CPU backend, which runs the
 * same loop and counts the same calls as a GPU would see.
 */
class TrainerTrafficTest {

    /** One run of epochs on images, its round trips and staged copies. */
    private static Backend.Traffic run(ModelKind kind, TrainingSet images, int epochs, long progressNanos) {
        try (CpuBackend cpu = new CpuBackend(); Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(kind), 32)) {
            Backend.Traffic before = cpu.traffic();
            new Trainer(m, images, null, new TrainConfig(epochs, 32, 1e-3f, Noise.gaussian(0.5f), 5), null, null)
                    .progressEvery(progressNanos).run(false);
            return cpu.traffic().since(before);
        }
    }

    /** Patches: a new set of images every epoch, as a picture folder gives. */
    private static TrainingSet changing(Dataset a, Dataset b) {
        return new TrainingSet() {
            public int count() { return a.count(); }
            public int channels() { return a.channels(); }
            public int height() { return a.height(); }
            public int width() { return a.width(); }
            public Dataset epoch(int e) { return e % 2 == 0 ? a : b; }
        };
    }

    @ParameterizedTest
    @EnumSource(value = ModelKind.class, names = {"DENSE", "VAE"})
    void host_round_trips_per_epoch_do_not_grow_with_the_steps(ModelKind kind) {
        Dataset all = MnistFixture.train();
        Backend.Traffic few = run(kind, TrainingSet.of(all.first(128)), 2, Long.MAX_VALUE);  // 4 steps an epoch
        Backend.Traffic many = run(kind, TrainingSet.of(all.first(1024)), 2, Long.MAX_VALUE); // 32 steps an epoch
        assertEquals(few.roundTrips(), many.roundTrips(), kind + ": " + few + " for 4 steps, " + many + " for 32");
        assertTrue(many.roundTrips() <= 2 * 6, kind + ": " + many + " over 2 epochs");
        assertEquals(2, many.downloads(), "one copy of the loss total per epoch: " + many);
    }

    @ParameterizedTest
    @EnumSource(value = ModelKind.class, names = {"DENSE", "CONV"})
    void progress_points_and_new_patches_add_copies_not_round_trips(ModelKind kind) {
        Dataset all = MnistFixture.train();
        TrainingSet patches = changing(all.first(256), all.subset(256, 512));
        Backend.Traffic quiet = run(kind, patches, 3, Long.MAX_VALUE);
        Backend.Traffic busy = run(kind, patches, 3, 0); // a look after every step
        assertEquals(quiet.roundTrips(), busy.roundTrips(), kind + ": " + quiet + " against " + busy);
        assertEquals(2, quiet.uploads(), "the second and third epochs' images, one staged copy each: " + quiet);
        assertTrue(busy.downloads() > quiet.downloads() && busy.downloads() <= 3 * (256 / 32 + 1),
                "at most one copy of the loss in flight per look: " + busy);
    }
}
