package dev.denoise.cuda;

import dev.denoise.backend.Backend;
import dev.denoise.backend.CpuBackend;
import dev.denoise.data.Dataset;
import dev.denoise.eval.Evaluation;
import dev.denoise.model.Autoencoder;
import dev.denoise.model.ModelConfig;
import dev.denoise.model.ModelKind;
import dev.denoise.train.MnistFixture;
import dev.denoise.train.Noise;
import dev.denoise.train.TrainConfig;
import dev.denoise.train.Trainer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One epoch of every model from the same seed on the CPU and on the GPU: the same Philox noise,
 * the same shuffling and initial weights, float32 sums in different orders, so the two runs drift
 * apart only by rounding; their test PSNRs must agree within 0.1 dB. Skips with the probe's reason
 * without a GPU (fails under -Dgpu.required=true).
 */
class CudaTrainingParityTest {
    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void one_epoch_on_cpu_and_gpu_ends_within_a_tenth_of_a_db(ModelKind kind) {
        GpuTests.requireCuda();
        Dataset train = MnistFixture.train().first(4096), test = MnistFixture.test().first(500);
        Noise noise = Noise.gaussian(0.5f);
        double[] psnr = new double[2];
        try (CpuBackend cpu = new CpuBackend(); CudaBackend gpu = CudaBackend.open()) {
            Backend[] backends = {cpu, gpu};
            for (int i = 0; i < 2; i++) {
                try (Autoencoder m = Autoencoder.create(backends[i], ModelConfig.mnist(kind), 128)) {
                    new Trainer(m, train, null, new TrainConfig(1, 128, 1e-3f, noise, 11), null, null).run(false);
                    float[] noisy = Evaluation.noisy(backends[i], test, noise);
                    psnr[i] = Evaluation.score(Evaluation.denoise(m, noisy, test.count()).images(), test).psnr();
                }
            }
        }
        assertEquals(psnr[0], psnr[1], 0.1, kind + ": CPU " + psnr[0] + " dB, GPU " + psnr[1] + " dB");
    }

    /**
     * On one GPU, an epoch whose steps are replayed CUDA graphs ends with the bits of the same epoch
     * run op by op: the graph reads each step's values (rate, offsets) from memory, so a value frozen
     * into it at capture would show here.
     */
    @ParameterizedTest
    @EnumSource(ModelKind.class)
    void replayed_steps_give_the_eager_steps_bits(ModelKind kind) {
        GpuTests.requireCuda();
        Dataset train = MnistFixture.train().first(1000); // 7 full steps of 128 and a short one
        float[][] weights = new float[2][];
        try (CudaBackend gpu = CudaBackend.open()) {
            for (int i = 0; i < 2; i++) {
                String before = System.getProperty("denoise.cuda.graphs");
                System.setProperty("denoise.cuda.graphs", i == 0 ? "false" : "true");
                try (Autoencoder m = Autoencoder.create(gpu, ModelConfig.mnist(kind), 128)) {
                    new Trainer(m, train, null, new TrainConfig(2, 128, 1e-3f, Noise.gaussian(0.5f), 11), null, null)
                            .run(false);
                    weights[i] = m.parameters().values().toArray();
                } finally {
                    if (before == null) System.clearProperty("denoise.cuda.graphs");
                    else System.setProperty("denoise.cuda.graphs", before);
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(weights[0], weights[1],
                kind + ": weights after two epochs, eager against replayed graphs");
    }
}
