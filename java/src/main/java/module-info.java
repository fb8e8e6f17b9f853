/**
 * denoise: image denoising with autoencoders on NVIDIA GPUs and plain CPUs.
 *
 * <p><b>The API</b> is {@link dev.denoise.Denoiser} (made by {@link dev.denoise.Denoiser#builder()}
 * or its factories), the {@link dev.denoise.backend.Backend} it runs on (opened by
 * {@link dev.denoise.backend.Backends}), and the image types of {@code dev.denoise.io}.
 *
 * <p><b>The advanced API</b>, exported for programs that train and evaluate models themselves and
 * less stable between versions: the models ({@code dev.denoise.model}), their layers
 * ({@code dev.denoise.nn}), training ({@code dev.denoise.train}), datasets ({@code dev.denoise.data}),
 * metrics and evaluation ({@code dev.denoise.metrics}, {@code dev.denoise.eval}), and the op table
 * every backend implements ({@link dev.denoise.backend.Backend}'s op methods).
 *
 * <p>Internal: the command line ({@code dev.denoise.cli}, on top of the same API), the CUDA backend
 * ({@code dev.denoise.cuda}), the native bindings ({@code dev.denoise.ffm}) and reports.
 *
 * <p>The CPU backend calls its C library through the foreign-function API: run with
 * {@code --enable-native-access=dev.denoise} on the module path ({@code ALL-UNNAMED} on the class
 * path), or the JVM warns on the first call.
 */
module dev.denoise {
    requires transitive java.desktop;            // BufferedImage in the API, ImageIO
    requires com.fasterxml.jackson.databind;     // model file headers, checkpoints, metrics
    requires info.picocli;                       // the command line
    requires me.tongfei.progressbar;
    requires org.knowm.xchart;                   // report charts
    requires jcuda;                              // the CUDA driver API (loaded only when a GPU is asked for)

    exports dev.denoise;
    exports dev.denoise.io;
    exports dev.denoise.backend;
    exports dev.denoise.model;
    exports dev.denoise.nn;
    exports dev.denoise.train;
    exports dev.denoise.data;
    exports dev.denoise.metrics;
    exports dev.denoise.eval;

    // reflection: picocli fills the commands' fields, Jackson reads and writes records
    opens dev.denoise.cli to info.picocli;
    opens dev.denoise.io to com.fasterxml.jackson.databind;
    opens dev.denoise.model to com.fasterxml.jackson.databind;
    opens dev.denoise.train to com.fasterxml.jackson.databind;
    opens dev.denoise.report to com.fasterxml.jackson.databind;
}
