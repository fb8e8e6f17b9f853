package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Finds cuBLAS and cuDNN at run time and opens them for FFM ({@link Cublas}, {@link Cudnn}).
 *
 * <p>Neither library ships in the jar (hundreds of MB); they come from a CUDA install or from the
 * NVIDIA Python wheels. For CUDA 13: pip install nvidia-cublas nvidia-cudnn-cu13 nvidia-cuda-nvrtc
 * (cuBLAS, cuBLASLt and NVRTC land in site-packages/nvidia/cu13/lib, cuDNN in nvidia/cudnn/lib); the
 * CUDA 12 wheels (nvidia-cublas-cu12, nvidia-cudnn-cu12, nvidia-cuda-nvrtc-cu12) keep one folder per
 * package. Wanted files: libcublas.so.13, else libcublas.so.12 (each beside its libcublasLt of the
 * same version), libcudnn.so.9, and, optionally, libnvrtc.so.13 or .12. Folders are searched in this
 * order, the first folder holding a library wins:
 * <ol>
 *   <li>{@code DENOISE_CUDA_LIBS} (a ':'-separated list), then {@code LD_LIBRARY_PATH};</li>
 *   <li>/usr/local/cuda/lib64, /usr/local/cuda/targets/x86_64-linux/lib, /usr/lib/x86_64-linux-gnu;</li>
 *   <li>the {@code nvidia/*}{@code /lib} folders of Python site-packages, the chosen environment first:
 *       the Python named by {@code DENOISE_PYTHON} (its interpreter, or its environment's folder),
 *       {@code $VIRTUAL_ENV}, each {@code python3} on PATH,
 *       then ~/.local, /usr/local/lib (site- and dist-packages), /usr/lib; newest Python first.</li>
 * </ol>
 *
 * <p>A Python's site-packages are read off its location, never by running it: a python3 in a venv's
 * bin folder is usually a symlink to the system interpreter, and following it would land in the
 * system's packages, not the venv's. So the environment is the folder above bin when a pyvenv.cfg
 * lies there (plus the base interpreter's packages when that file says include-system-site-packages
 * = true); only a python outside any venv is followed, link by link, and every prefix on the way
 * is taken, the named one first.
 *
 * <p>Loading order matters. A library opened by full path finds its DT_NEEDED dependencies only on
 * the loader's path, which need not contain its folder; but the loader first matches a needed name
 * against the sonames of libraries already loaded (RTLD_LOCAL ones included). So libcublasLt is opened
 * before libcublas. cuDNN 9's libcudnn.so.9 is a thin front that dlopen()s its sub-libraries
 * (libcudnn_graph, _ops, _cnn, _engines_*, ...) by soname when first needed, and its runtime-compiled
 * engines dlopen() NVRTC the same way; NVRTC (with the libnvrtc-builtins it loads) is opened first,
 * from cuBLAS' folder when it is there, then those sub-libraries from cuDNN's folder, in dependency
 * order, so cuDNN finds them already loaded whatever LD_LIBRARY_PATH says. A missing NVRTC, or a
 * sub-library that fails to open (an optional one with a missing dependency), is noted in
 * {@link Loaded#notes()} and skipped; cuDNN reports its own error should it really need it.
 *
 * <p>The search ({@link #locate}) is pure file-system logic over an {@link Environment}, tested with
 * fake folder trees; {@link #load()} adds the dlopen and caches the outcome for the JVM's life.
 */
public final class CudaLibraries {
    private CudaLibraries() {}

    static final List<String> CUBLAS_NAMES = List.of("libcublas.so.13", "libcublas.so.12");
    static final String CUDNN_NAME = "libcudnn.so.9";
    /** cuDNN 9 for CUDA 13 wants NVRTC 13, for CUDA 12 NVRTC 12; the newer is preferred within a folder. */
    static final List<String> NVRTC_NAMES = List.of("libnvrtc.so.13", "libnvrtc.so.12");

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

    /**
     * The files to open: cuBLAS with its cuBLASLt, NVRTC's builtins and NVRTC (empty when none was
     * found), cuDNN with the sub-libraries beside it.
     */
    record Located(Path cublasLt, Path cublas, List<Path> nvrtc, Path cudnn, List<Path> cudnnParts) {
        /** Every file, in the order {@link #open} loads them: each after the ones it may look for by soname. */
        List<Path> loadOrder() {
            List<Path> out = new ArrayList<>(List.of(cublasLt, cublas));
            out.addAll(nvrtc);
            out.addAll(cudnnParts);
            out.add(cudnn);
            return out;
        }
    }

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

    /** Python site-packages folders, the chosen environment first, newest Python first in each place. */
    static List<Path> sitePackages(Environment e) {
        List<Path> out = new ArrayList<>();
        String python = e.get("DENOISE_PYTHON");
        if (python != null) out.addAll(pythonSitePackages(Path.of(python)));
        String venv = e.get("VIRTUAL_ENV");
        if (venv != null) out.addAll(prefixSitePackages(Path.of(venv)));
        String path = e.get("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (dir.isBlank()) continue;
                Path exe = Path.of(dir).resolve("python3");
                if (Files.isRegularFile(exe)) out.addAll(pythonSitePackages(exe));
            }
        }
        out.addAll(pythonLibs(e.home().resolve(".local/lib"), "site-packages"));
        out.addAll(pythonLibs(e.root().resolve("usr/local/lib"), "site-packages", "dist-packages"));
        out.addAll(pythonLibs(e.root().resolve("usr/lib"), "site-packages", "dist-packages"));
        return out.stream().distinct().toList();
    }

    /**
     * The site-packages of one Python, given as its interpreter or as its environment's folder. The
     * interpreter is followed link by link until a pyvenv.cfg lies above its bin folder (a venv's
     * python3 usually links to the system one, whose prefix holds none of the venv's packages); with
     * no venv on the way, every prefix passed is taken, the named one first.
     */
    static List<Path> pythonSitePackages(Path python) {
        if (Files.isDirectory(python)) return prefixSitePackages(python);
        List<Path> chain = linkChain(python);
        for (Path exe : chain) {
            Path prefix = prefixOf(exe);
            if (prefix != null && Files.isRegularFile(prefix.resolve("pyvenv.cfg"))) return prefixSitePackages(prefix);
        }
        List<Path> out = new ArrayList<>();
        for (Path exe : chain) {
            Path prefix = prefixOf(exe);
            if (prefix != null) out.addAll(prefixSitePackages(prefix));
        }
        return out;
    }

    /** The folder above an interpreter's bin folder, or null. */
    private static Path prefixOf(Path exe) {
        Path bin = exe.toAbsolutePath().getParent();
        return bin == null ? null : bin.getParent();
    }

    /** exe, then each symbolic link's target in turn (a bounded walk: a loop or a dead link ends it). */
    private static List<Path> linkChain(Path exe) {
        List<Path> chain = new ArrayList<>(List.of(exe));
        Path p = exe;
        for (int hops = 0; hops < 16 && Files.isSymbolicLink(p); hops++) {
            try {
                p = p.toAbsolutePath().resolveSibling(Files.readSymbolicLink(p)).normalize();
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                break;
            }
            if (chain.contains(p)) break;
            chain.add(p);
        }
        return chain;
    }

    /**
     * site-packages under an environment's folder: a venv's own (and its base interpreter's when its
     * pyvenv.cfg includes the system site-packages), or an installation's site- and dist-packages.
     */
    private static List<Path> prefixSitePackages(Path prefix) {
        Path cfg = prefix.resolve("pyvenv.cfg");
        if (!Files.isRegularFile(cfg)) return pythonLibs(prefix.resolve("lib"), "site-packages", "dist-packages");
        List<Path> out = new ArrayList<>(pythonLibs(prefix.resolve("lib"), "site-packages"));
        Map<String, String> settings = pyvenvSettings(cfg);
        Path baseBin = pathOrNull(settings.get("home")); // the base interpreter's bin folder
        if ("true".equalsIgnoreCase(settings.get("include-system-site-packages")) && baseBin != null
                && baseBin.getParent() != null) {
            out.addAll(pythonLibs(baseBin.getParent().resolve("lib"), "site-packages", "dist-packages"));
        }
        return out;
    }

    /** pyvenv.cfg's "key = value" lines; an unreadable file has none. */
    private static Map<String, String> pyvenvSettings(Path cfg) {
        Map<String, String> out = new HashMap<>();
        try {
            for (String line : Files.readAllLines(cfg)) {
                int eq = line.indexOf('=');
                if (eq > 0) out.put(line.substring(0, eq).trim().toLowerCase(Locale.ROOT), line.substring(eq + 1).trim());
            }
        } catch (IOException | UncheckedIOException e) {
            return Map.of();
        }
        return out;
    }

    private static Path pathOrNull(String s) {
        try {
            return s == null || s.isBlank() ? null : Path.of(s);
        } catch (InvalidPathException e) {
            return null;
        }
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

    /**
     * NVRTC and, before it, the libnvrtc-builtins of its version that it dlopen()s: from cuBLAS' folder
     * first (the CUDA 13 wheel and a CUDA install keep them together), then cuDNN's, then the search.
     */
    static List<Path> findNvrtc(List<Path> dirs, Path cublasDir, Path cudnnDir) {
        List<Path> order = new ArrayList<>(List.of(cublasDir, cudnnDir));
        order.addAll(dirs);
        Optional<Path> nvrtc = find(order.stream().distinct().toList(), NVRTC_NAMES);
        if (nvrtc.isEmpty()) return List.of();
        String major = nvrtc.get().getFileName().toString().substring("libnvrtc.so.".length());
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(nvrtc.get().getParent(), "libnvrtc-builtins.so." + major + "*")) {
            List<Path> builtins = new ArrayList<>();
            for (Path p : ds) if (Files.isRegularFile(p)) builtins.add(p);
            // a versioned file and its symlinks are one library: the shortest name is the soname NVRTC asks for
            builtins.stream().min(Comparator.comparing((Path p) -> p.getFileName().toString().length())
                    .thenComparing(Comparator.naturalOrder())).ifPresent(out::add);
        } catch (IOException e) {
            // NVRTC names its builtins itself if it misses them
        }
        out.add(nvrtc.get());
        return out;
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
                    + " (set DENOISE_CUDA_LIBS to the folder holding it or DENOISE_PYTHON to the python whose"
                    + " site-packages hold it, or pip install nvidia-cublas nvidia-cudnn-cu13 nvidia-cuda-nvrtc)");
        }
        Path cublasFile = cublas.get()[1], cudnnFile = cudnn.get();
        return new Located(cublas.get()[0], cublasFile, findNvrtc(dirs, cublasFile.getParent(), cudnnFile.getParent()),
                cudnnFile, cudnnParts(cudnnFile.getParent()));
    }

    // ---- the dlopen ----

    static Loaded open(Located l) {
        List<String> notes = new ArrayList<>();
        openLibrary(l.cublasLt());
        SymbolLookup cublas = openLibrary(l.cublas());
        if (l.nvrtc().isEmpty()) {
            notes.add("NVRTC (" + String.join(" or ", NVRTC_NAMES) + ") not found: cuDNN's runtime-compiled engines"
                    + " cannot load (pip install nvidia-cuda-nvrtc)");
        }
        // NVRTC, then cuDNN's parts: each only matters to some of cuDNN's engines, so a failure is a note
        List<Path> optional = new ArrayList<>(l.nvrtc());
        optional.addAll(l.cudnnParts());
        for (Path part : optional) {
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
