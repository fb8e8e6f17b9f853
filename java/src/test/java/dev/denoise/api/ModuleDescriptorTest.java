package dev.denoise.api;

import dev.denoise.Denoiser;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URL;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The jar's module descriptor: the API and the advanced API exported, the command line, the CUDA
 * backend, the native bindings and the reports kept inside (see module-info.java). `make example`
 * runs the library on the module path.
 */
class ModuleDescriptorTest {
    @Test
    void only_the_api_packages_are_exported() throws Exception {
        ModuleDescriptor d;
        // the library's own classes (a folder under test, a jar when installed), not the JDK's first module-info
        URL url = new URL(Denoiser.class.getProtectionDomain().getCodeSource().getLocation(), "module-info.class");
        try (InputStream in = url.openStream()) {
            assertNotNull(in, "module-info.class beside the library's classes");
            d = ModuleDescriptor.read(in);
        }
        assertEquals("dev.denoise", d.name());
        Set<String> exported = new TreeSet<>();
        for (ModuleDescriptor.Exports e : d.exports()) {
            assertEquals(false, e.isQualified(), e.source() + " exported to everyone or not at all");
            exported.add(e.source());
        }
        assertEquals(new TreeSet<>(Set.of("dev.denoise", "dev.denoise.io", "dev.denoise.backend", "dev.denoise.model",
                "dev.denoise.nn", "dev.denoise.train", "dev.denoise.data", "dev.denoise.metrics", "dev.denoise.eval")), exported);
        for (ModuleDescriptor.Opens o : d.opens()) {
            assertEquals(true, o.isQualified(), o.source() + " opened for reflection to named modules only, not to all");
        }
    }
}
