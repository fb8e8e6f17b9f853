package dev.denoise.backend;

/** Element-wise activation after a bias; the code is DN_ACT_* of native/denoise_abi.h. */
public enum Activation {
    /** x unchanged: no activation. */
    IDENTITY(Abi.DN_ACT_IDENTITY),
    /** max(x, 0). */
    RELU(Abi.DN_ACT_RELU),
    /** 1 / (1 + exp(-x)): values in (0,1). */
    SIGMOID(Abi.DN_ACT_SIGMOID),
    /** min(max(x, 0), 1): a residual model's output as an image. */
    CLAMP01(Abi.DN_ACT_CLAMP01);

    /** The DN_ACT_* value the native ops take for this activation. */
    public final int code;

    Activation(int code) {
        this.code = code;
    }
}
