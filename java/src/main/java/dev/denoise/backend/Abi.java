package dev.denoise.backend;

/**
 * Java's copies of the constants of native/denoise_abi.h, the one header that C, CUDA and Java
 * share. Names are the header's; AbiHeaderTest parses the header and fails when a value here differs
 * or a name is missing on either side.
 */
public final class Abi {
    private Abi() {}

    /** The version of native/denoise.h's signatures; a library of another version is refused. */
    public static final int DENOISE_ABI_VERSION = 3;

    /** Status of every native op. */
    public static final int DN_OK = 0, DN_ERR_NOMEM = 1;

    /** Activation codes ({@link Activation#code}). */
    public static final int DN_ACT_IDENTITY = 0, DN_ACT_RELU = 1, DN_ACT_SIGMOID = 2, DN_ACT_CLAMP01 = 3;

    /** Bits of runtime_cpu_features(). */
    public static final int DN_CPU_SSE42 = 1, DN_CPU_AVX2_FMA = 2, DN_CPU_AVX512F = 4, DN_CPU_AVX512BW_VL = 8;

    /** Instruction-set levels of runtime_set_isa(). */
    public static final int DN_ISA_GENERIC = 0, DN_ISA_AVX2 = 1, DN_ISA_AVX512 = 2;

    /** Convolution algorithms of runtime_set_conv_algo(). */
    public static final int DN_CONV_AUTO = 0, DN_CONV_DIRECT = 1;

    /** Key (xored into the seed) of the Philox stream of noise_gaussian_range's per-row sigma. */
    public static final int DN_SIGMA_KEY = 1640531527;

    /** Threads per block of every CUDA launch; the GPU reductions' fixed tree assumes exactly this many. */
    public static final int DN_THREADS = 256;

    /** gather_rows reads row numbers from floats, exact below 2^24. */
    public static final int DN_MAX_GATHER_ROWS = 1 << 24;
}
