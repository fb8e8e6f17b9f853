package dev.denoise.cli;

import dev.denoise.backend.Backend;
import dev.denoise.backend.Backends;
import dev.denoise.backend.CpuBackend;
import picocli.CommandLine.Command;

/** denoise info: what this machine offers. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the available backends: CPU features and threads; GPU, driver, cuBLAS and cuDNN, or why not.")
final class InfoCommand implements Runnable {
    @Override
    public void run() {
        System.out.println("java    " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")");
        try (CpuBackend cpu = new CpuBackend()) {
            System.out.println("cpu     available: " + cpu.threads() + " threads (DENOISE_THREADS), "
                    + CpuBackend.cpuFeatures());
        } catch (RuntimeException e) {
            System.out.println("cpu     not available: " + Main.oneLine(e.getMessage()));
        }
        System.out.println("cuda    " + Backends.cudaStatus().replaceFirst("^cuda: ", ""));
        try (Backend auto = Backends.open("auto")) {
            System.out.println("auto    selects " + auto.device().name().toLowerCase(java.util.Locale.ROOT));
        } catch (RuntimeException e) {
            System.out.println("auto    nothing usable: " + Main.oneLine(e.getMessage()));
        }
    }
}
