package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;
import dev.denoise.io.Sha256;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * Finds libdenoise.so and opens it for FFM. The jar carries the library for linux-x86_64; it is
 * extracted once into a cache folder named by its SHA-256 (so versions never overwrite each other,
 * and a half-written copy is never loaded: the file is written beside and renamed into place).
 * {@code -Ddenoise.native.lib=PATH} or {@code DENOISE_NATIVE_LIB=PATH} loads a given file instead.
 *
 * <p>The cache is private: its folders are made owner-only (0700), a folder that another user owns
 * or may write into is passed over (the shared temp folder is the fallback), and a copy already
 * there is loaded only when its bytes are the jar's, so nobody can plant a library for this JVM
 * to load. Many JVMs may extract at once (each writes its own temporary file; the renames agree).
 *
 * <p>The library stays loaded for the JVM's life, as the JDK's own libraries do: backends free its
 * memory and stop its threads when closed, but unloading code that threads have run (with
 * thread-local caches whose destructors point into it) is not safe.
 */
public final class NativeLibrary {
    static final String RESOURCE = "/dev/denoise/native/linux-x86_64/libdenoise.so";

    private NativeLibrary() {}

    /** Opens the library for the life of the JVM, or throws a one-line reason. */
    public static SymbolLookup open() {
        Path file = locate();
        try {
            return SymbolLookup.libraryLookup(file, Arena.global());
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            throw new BackendUnavailableException("cannot load the denoise CPU library " + file + ": " + firstLine(e), e);
        }
    }

    /** The library file to load: the override, or the jar's copy extracted to the cache. */
    static Path locate() {
        String override = System.getProperty("denoise.native.lib", System.getenv("DENOISE_NATIVE_LIB"));
        if (override != null && !override.isBlank()) {
            Path p = Path.of(override);
            if (!Files.isRegularFile(p)) {
                throw new BackendUnavailableException("denoise CPU library " + p + " (from denoise.native.lib / "
                        + "DENOISE_NATIVE_LIB) does not exist");
            }
            return p;
        }
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new BackendUnavailableException("the denoise CPU library is built for linux-x86_64; this is "
                    + os + "-" + arch);
        }
        byte[] bytes;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new BackendUnavailableException("the denoise CPU library is missing from the class path ("
                        + RESOURCE + "); build it with `make native`");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new BackendUnavailableException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
        return extract(bytes);
    }

    private static Path extract(byte[] bytes) {
        return extract(bytes, cacheRoots());
    }

    /** The library's bytes in the first private cache root that takes them. */
    static Path extract(byte[] bytes, Path[] roots) {
        String hash = Sha256.hex(bytes).substring(0, 16);
        IOException last = null;
        for (Path root : roots) {
            Path dir = root.resolve(hash);
            Path file = dir.resolve("libdenoise.so");
            try {
                privateDirectory(root);
                privateDirectory(dir);
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && Files.size(file) == bytes.length
                        && Arrays.equals(Files.readAllBytes(file), bytes)) {
                    return file;
                }
                Path tmp = Files.createTempFile(dir, ".libdenoise", ".tmp");
                try {
                    Files.write(tmp, bytes);
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(tmp);
                }
                return file;
            } catch (IOException e) {
                last = e;
            }
        }
        throw new BackendUnavailableException("cannot extract the denoise CPU library to a cache folder: "
                + (last == null ? "none writable" : last.getMessage()), last);
    }

    /**
     * dir, made owner-only when missing; refused (IOException) when it is a link, or another user
     * owns it, or its group or others may write into it.
     */
    private static void privateDirectory(Path dir) throws IOException {
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            throw new IOException(dir + " is not a folder", e);
        }
        if (Files.isSymbolicLink(dir)) throw new IOException(dir + " is a symbolic link");
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        UserPrincipal me;
        try {
            me = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(System.getProperty("user.name"));
        } catch (UserPrincipalNotFoundException e) {
            me = null; // a user with no name (a container's arbitrary uid): the permissions still count
        }
        if (me != null && !a.owner().equals(me)) throw new IOException(dir + " belongs to " + a.owner().getName() + ", not to this user");
        Set<PosixFilePermission> p = a.permissions();
        if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException(dir + " may be written by other users (" + PosixFilePermissions.toString(p) + ")");
        }
    }

    private static Path[] cacheRoots() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path home = Path.of(System.getProperty("user.home", "/nonexistent"));
        Path user = xdg != null && !xdg.isBlank() ? Path.of(xdg, "denoise") : home.resolve(".cache/denoise");
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "denoise-" + System.getProperty("user.name", "user"));
        return new Path[] {user, tmp};
    }


    static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
