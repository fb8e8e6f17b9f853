package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading the C library fails with a one-line reason, never an UnsatisfiedLinkError stack. */
class NativeLibraryTest {
    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        System.clearProperty("denoise.native.lib");
    }

    @Test
    void missing_override_file_is_named() {
        System.setProperty("denoise.native.lib", dir.resolve("nope.so").toString());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, NativeLibrary::open);
        assertTrue(e.getMessage().contains("nope.so") && e.getMessage().contains("does not exist"), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line");
    }

    @Test
    void a_file_that_is_not_a_library_is_refused_cleanly() throws IOException {
        Path junk = Files.writeString(dir.resolve("libjunk.so"), "not an ELF file");
        System.setProperty("denoise.native.lib", junk.toString());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, NativeLibrary::open);
        assertTrue(e.getMessage().startsWith("cannot load the denoise CPU library " + junk), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line");
    }

    @Test
    void the_jar_copy_is_extracted_once_and_loads() {
        Path first = NativeLibrary.locate();
        assertEquals(first, NativeLibrary.locate(), "same cached file on the second call");
        DenoiseNative.require();
        assertEquals(dev.denoise.backend.Abi.DENOISE_ABI_VERSION, DenoiseNative.runtime_version());
    }
}
