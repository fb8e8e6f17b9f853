package dev.denoise.backend;

import dev.denoise.ffm.DenoiseNative;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernels that pick their instruction set by hand (conv2d, gemm, adam) on each path this CPU
 * has: the whole op contract again with the AVX2 and the portable paths forced (CpuOpsTest runs the
 * best one, AVX-512 where the CPU has it), the contract again with the 3x3 convolutions on their
 * direct path (the others take Winograd's where it fits), and Adam's bits equal on every path, as
 * they must be to equal the GPU's. A path the CPU lacks is skipped with that reason.
 */
class CpuIsaTest {
    private static final CpuBackend cpu = SharedCpu.get();

    /** The best level this CPU has (the cap lifted). */
    static int best() {
        return DenoiseNative.runtime_set_isa(-1);
    }

    static String name(int level) {
        return switch (level) {
            case Abi.DN_ISA_AVX512 -> "AVX-512";
            case Abi.DN_ISA_AVX2 -> "AVX2+FMA";
            default -> "portable";
        };
    }

    /** Caps the kernels at level for one test, or skips it where the CPU lacks that path. */
    static void cap(int level) {
        int best = best();
        assumeTrue(level <= best, "this CPU has no " + name(level) + " path (best: " + name(best) + ")");
        DenoiseNative.runtime_set_isa(level);
    }

    /** The op contract with the kernels capped at level() for each test. */
    abstract static class Capped extends OpsContract {
        abstract int level();

        @BeforeEach
        void capIsa() {
            cap(level());
        }

        @AfterEach
        void liftIsa() {
            best();
        }

        @Override
        protected Backend backend() {
            return cpu;
        }
    }

    @Nested
    class Avx2 extends Capped {
        @Override
        int level() {
            return Abi.DN_ISA_AVX2;
        }
    }

    @Nested
    class Portable extends Capped {
        @Override
        int level() {
            return Abi.DN_ISA_GENERIC;
        }
    }

    /** The op contract with the 3x3 convolutions forced onto the direct path (the others take Winograd's where it fits). */
    @Nested
    class Direct extends OpsContract {
        @BeforeEach
        void direct() {
            DenoiseNative.runtime_set_conv_algo(Abi.DN_CONV_DIRECT);
        }

        @AfterEach
        void auto() {
            DenoiseNative.runtime_set_conv_algo(Abi.DN_CONV_AUTO);
        }

        @Override
        protected Backend backend() {
            return cpu;
        }
    }

    /** adam.c is built without FP contraction: each path rounds every step as cuda/adam.cu does. */
    @Test
    void adam_gives_the_same_bits_on_every_path() {
        int n = 4099; // past every vector width, with a ragged tail
        float[][] reference = null;
        try (TestTensors ts = new TestTensors(TestTensors.seed(31))) {
            float[] p = ts.rand(n), g1 = ts.rand(n), g2 = ts.rand(n, -1e-3, 1e-3);
            for (int level = Abi.DN_ISA_GENERIC; level <= best(); level++) {
                DenoiseNative.runtime_set_isa(level);
                try {
                    Tensor tp = ts.up(cpu, p, n), tm = ts.zeros(cpu, n), tv = ts.zeros(cpu, n);
                    cpu.adam_update(tp, tm, tv, ts.up(cpu, g1, n), 1e-3f, 0.9f, 0.999f, 1e-8f, 1);
                    cpu.adam_update(tp, tm, tv, ts.up(cpu, g2, n), 3e-4f, 0.9f, 0.999f, 1e-8f, 2);
                    float[][] got = {tp.toArray(), tm.toArray(), tv.toArray()};
                    if (reference == null) {
                        reference = got;
                    } else {
                        for (int i = 0; i < got.length; i++) {
                            assertArrayEquals(reference[i], got[i], "adam output " + i + ": " + name(level)
                                    + " differs from the portable path");
                        }
                    }
                } finally {
                    best();
                }
            }
        }
    }
}
