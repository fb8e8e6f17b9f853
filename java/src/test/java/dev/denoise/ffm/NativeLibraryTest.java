package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    @Test
    void a_planted_copy_of_the_same_size_is_replaced_and_an_open_folder_passed_over() throws IOException {
        byte[] lib = "the library's bytes".getBytes();
        Path open = dir.resolve("open"), mine = dir.resolve("mine");
        Files.createDirectories(open);
        Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Path got = NativeLibrary.extract(lib, new Path[] {open, mine});
        assertTrue(got.startsWith(mine), "a folder others may write into is passed over: " + got);
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(got.getParent())));
        byte[] planted = "THE LIBRARY'S BYTES".getBytes(); // same size, other bytes
        Files.write(got, planted);
        assertEquals(got, NativeLibrary.extract(lib, new Path[] {mine}));
        assertArrayEquals(lib, Files.readAllBytes(got), "replaced by the jar's copy");
    }
}
