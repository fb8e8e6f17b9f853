package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Finds cuBLAS and cuDNN at run time and opens them for FFM ({@link Cublas}, {@link Cudnn}).
 *
 * <p>Neither library ships in the jar (hundreds of MB); they come from a CUDA install or from the
 * NVIDIA Python wheels (pip install nvidia-cublas-cu12 nvidia-cudnn-cu12). Wanted files:
 * libcublas.so.13, else libcublas.so.12 (each beside its libcublasLt of the same version), and
 * libcudnn.so.9. Folders are searched in this order, the first folder holding a library wins:
 * <ol>
 *   <li>{@code DENOISE_CUDA_LIBS} (a ':'-separated list), then {@code LD_LIBRARY_PATH};</li>
 *   <li>/usr/local/cuda/lib64, /usr/local/cuda/targets/x86_64-linux/lib, /usr/lib/x86_64-linux-gnu;</li>
 *   <li>the {@code nvidia/*}{@code /lib} folders of Python site-packages, the active environment first:
 *       {@code $VIRTUAL_ENV}, the {@code python3} first on PATH (lib/python3.* beside its bin folder),
 *       ~/.local, /usr/local/lib (site- and dist-packages), /usr/lib; newest Python first.</li>
 * </ol>
 *
 * <p>Loading order matters. A library opened by full path finds its DT_NEEDED dependencies only on
 * the loader's path, which need not contain its folder; but the loader first matches a needed name
 * against the sonames of libraries already loaded (RTLD_LOCAL ones included). So libcublasLt is opened
 * before libcublas. cuDNN 9's libcudnn.so.9 is a thin front that dlopen()s its sub-libraries
 * (libcudnn_graph, _ops, _cnn, _engines_*, ...) by soname when first needed; those are opened here
 * first, from the same folder, in dependency order, so cuDNN finds them already loaded whatever
 * LD_LIBRARY_PATH says. A sub-library that fails to open (an optional one with a missing dependency,
 * e.g. the runtime-compiled engines without NVRTC) is noted in {@link Loaded#notes()} and skipped;
 * cuDNN reports its own error should it really need it.
 *
 * <p>The search ({@link #locate}) is pure file-system logic over an {@link Environment}, tested with
 * fake folder trees; {@link #load()} adds the dlopen and caches the outcome for the JVM's life.
 */
public final class CudaLibraries {
    private CudaLibraries() {}

    static final List<String> CUBLAS_NAMES = List.of("libcublas.so.13", "libcublas.so.12");
    static final String CUDNN_NAME = "libcudnn.so.9";

    /** cuDNN 9 sub-libraries, each after the ones it links against; unknown ones follow, by name. */
    static final List<String> CUDNN_PARTS = List.of("libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
            "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9",
            "libcudnn_cnn.so.9", "libcudnn_adv.so.9");

    /** What the search reads from the outside world; absolute system folders are taken below root. */
    record Environment(Map<String, String> env, Path home, Path root) {
        static Environment current() {
            return new Environment(System.getenv(), Path.of(System.getProperty("user.home", "/nonexistent")), Path.of("/"));
        }

        String get(String name) {
            String v = env.get(name);
            return v == null || v.isBlank() ? null : v;
        }
    }

    /** The files to open: cuBLAS with its cuBLASLt, cuDNN with the sub-libraries beside it. */
    record Located(Path cublasLt, Path cublas, Path cudnn, List<Path> cudnnParts) {}

    /** Opened libraries, for the life of the JVM. */
    public record Loaded(SymbolLookup cublas, SymbolLookup cudnn, Path cublasFile, Path cudnnFile, List<String> notes) {}

    private static final class Holder {
        static final Object RESULT = tryLoad();

        private static Object tryLoad() {
            try {
                return open(locate(Environment.current()));
            } catch (BackendUnavailableException e) {
                return e;
            }
        }
    }

    /** Opens cuBLAS and cuDNN once per JVM, or throws the one-line reason (the same one every time). */
    public static Loaded load() {
        if (Holder.RESULT instanceof BackendUnavailableException e) {
            throw new BackendUnavailableException(e.getMessage(), e);
        }
        return (Loaded) Holder.RESULT;
    }

    // ---- the search ----

    /** Every folder searched, in order, without duplicates. */
    static List<Path> searchDirectories(Environment e) {
        Set<Path> dirs = new LinkedHashSet<>();
        addPathList(dirs, e.get("DENOISE_CUDA_LIBS"));
        addPathList(dirs, e.get("LD_LIBRARY_PATH"));
        dirs.add(e.root().resolve("usr/local/cuda/lib64"));
        dirs.add(e.root().resolve("usr/local/cuda/targets/x86_64-linux/lib"));
        dirs.add(e.root().resolve("usr/lib/x86_64-linux-gnu"));
        for (Path sitePackages : sitePackages(e)) dirs.addAll(nvidiaLibDirs(sitePackages));
        return List.copyOf(dirs);
    }

    /** Python site-packages folders, the active environment first, newest Python first in each place. */
    static List<Path> sitePackages(Environment e) {
        List<Path> out = new ArrayList<>();
        String venv = e.get("VIRTUAL_ENV");
        if (venv != null) out.addAll(pythonLibs(Path.of(venv).resolve("lib"), "site-packages"));
        String path = e.get("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (dir.isBlank()) continue;
                Path bin = Path.of(dir);
                if (Files.isRegularFile(bin.resolve("python3")) && bin.getParent() != null) {
                    out.addAll(pythonLibs(bin.getParent().resolve("lib"), "site-packages"));
                }
            }
        }
        out.addAll(pythonLibs(e.home().resolve(".local/lib"), "site-packages"));
        out.addAll(pythonLibs(e.root().resolve("usr/local/lib"), "site-packages", "dist-packages"));
        out.addAll(pythonLibs(e.root().resolve("usr/lib"), "site-packages", "dist-packages"));
        return out.stream().distinct().toList();
    }

    /** lib/python3.*&#47;{kinds} that exist, newest Python first. */
    private static List<Path> pythonLibs(Path lib, String... kinds) {
        List<Path> out = new ArrayList<>();
        for (Path py : children(lib, "python3*", Comparator.comparingInt(CudaLibraries::pythonMinor).reversed())) {
            for (String kind : kinds) {
                Path p = py.resolve(kind);
                if (Files.isDirectory(p)) out.add(p);
            }
        }
        return out;
    }

    private static int pythonMinor(Path p) {
        String name = p.getFileName().toString(); // python3.12
        try {
            return name.startsWith("python3.") ? Integer.parseInt(name.substring("python3.".length())) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** site-packages/nvidia/*&#47;lib folders (e.g. nvidia/cublas/lib, nvidia/cudnn/lib, nvidia/cu13/lib). */
    private static List<Path> nvidiaLibDirs(Path sitePackages) {
        List<Path> out = new ArrayList<>();
        for (Path pkg : children(sitePackages.resolve("nvidia"), "*", Comparator.naturalOrder())) {
            Path lib = pkg.resolve("lib");
            if (Files.isDirectory(lib)) out.add(lib);
        }
        return out;
    }

    private static List<Path> children(Path dir, String glob, Comparator<Path> order) {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            for (Path p : ds) if (Files.isDirectory(p)) out.add(p);
        } catch (IOException e) {
            return List.of(); // an unreadable folder holds nothing we can load
        }
        out.sort(order);
        return out;
    }

    private static void addPathList(Set<Path> dirs, String list) {
        if (list == null) return;
        for (String d : list.split(":")) if (!d.isBlank()) dirs.add(Path.of(d));
    }

    /** The first folder (in search order) holding one of names (preferred in list order), and the file. */
    static Optional<Path> find(List<Path> dirs, List<String> names) {
        for (Path dir : dirs) {
            for (String name : names) {
                Path f = dir.resolve(name);
                if (Files.isRegularFile(f)) return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /** libcublas with a libcublasLt of the same version in the same folder. */
    private static Optional<Path[]> findCublas(List<Path> dirs) {
        for (Path dir : dirs) {
            for (String name : CUBLAS_NAMES) {
                Path cublas = dir.resolve(name), lt = dir.resolve(name.replace("libcublas", "libcublasLt"));
                if (Files.isRegularFile(cublas) && Files.isRegularFile(lt)) return Optional.of(new Path[] {lt, cublas});
            }
        }
        return Optional.empty();
    }

    /** The cuDNN 9 sub-libraries in dir, in loading order. */
    static List<Path> cudnnParts(Path dir) {
        List<Path> known = new ArrayList<>(), other = new ArrayList<>();
        for (String name : CUDNN_PARTS) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) known.add(p);
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "libcudnn_*.so.9")) {
            for (Path p : ds) if (!CUDNN_PARTS.contains(p.getFileName().toString())) other.add(p);
        } catch (IOException e) {
            // the known parts are enough; cuDNN names anything else it misses
        }
        other.sort(Comparator.naturalOrder());
        known.addAll(other);
        return known;
    }

    /** Finds both libraries or throws one line naming what is missing and every folder searched. */
    static Located locate(Environment e) {
        List<Path> dirs = searchDirectories(e);
        Optional<Path[]> cublas = findCublas(dirs);
        Optional<Path> cudnn = find(dirs, List.of(CUDNN_NAME));
        if (cublas.isEmpty() || cudnn.isEmpty()) {
            List<String> missing = new ArrayList<>();
            if (cublas.isEmpty()) missing.add("cuBLAS (" + String.join(" or ", CUBLAS_NAMES) + " with its libcublasLt)");
            if (cudnn.isEmpty()) missing.add("cuDNN (" + CUDNN_NAME + ")");
            throw new BackendUnavailableException(String.join(" and ", missing) + " not found; searched "
                    + dirs.stream().map(Path::toString).collect(Collectors.joining(", "))
                    + " (set DENOISE_CUDA_LIBS to the folder holding it, or pip install nvidia-cublas-cu12 nvidia-cudnn-cu12)");
        }
        Path cudnnFile = cudnn.get();
        return new Located(cublas.get()[0], cublas.get()[1], cudnnFile, cudnnParts(cudnnFile.getParent()));
    }

    // ---- the dlopen ----

    static Loaded open(Located l) {
        List<String> notes = new ArrayList<>();
        openLibrary(l.cublasLt());
        SymbolLookup cublas = openLibrary(l.cublas());
        for (Path part : l.cudnnParts()) {
            try {
                openLibrary(part);
            } catch (BackendUnavailableException e) {
                notes.add(e.getMessage());
            }
        }
        SymbolLookup cudnn = openLibrary(l.cudnn());
        return new Loaded(cublas, cudnn, l.cublas(), l.cudnn(), List.copyOf(notes));
    }

    private static SymbolLookup openLibrary(Path file) {
        try {
            return SymbolLookup.libraryLookup(file, Arena.global());
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            throw new BackendUnavailableException("cannot load " + file + ": " + NativeLibrary.firstLine(e), e);
        }
    }
}
