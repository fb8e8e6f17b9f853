package dev.denoise.backend;

/** Element-wise activation after a bias; the code is the one native/denoise.h and cuda/ use. */
public enum Activation {
    IDENTITY(0), RELU(1), SIGMOID(2);

    public final int code;

    Activation(int code) {
        this.code = code;
    }
}
