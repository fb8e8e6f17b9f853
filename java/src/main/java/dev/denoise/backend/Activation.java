package dev.denoise.backend;

/** Element-wise activation after a bias; the code is DN_ACT_* of native/denoise_abi.h. */
public enum Activation {
    IDENTITY(Abi.DN_ACT_IDENTITY), RELU(Abi.DN_ACT_RELU), SIGMOID(Abi.DN_ACT_SIGMOID),
    /** min(max(x, 0), 1): a residual model's output as an image. */
    CLAMP01(Abi.DN_ACT_CLAMP01);

    public final int code;

    Activation(int code) {
        this.code = code;
    }
}
