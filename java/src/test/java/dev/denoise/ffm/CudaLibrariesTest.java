package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where cuBLAS and cuDNN are looked for, on fake folder trees (empty files named like the libraries):
 * the search order, the version preference, the Python wheel layouts (CUDA 12 and 13), venvs found
 * through their python, NVRTC's place in the loading order, cuDNN's sub-library order and the
 * one-line message naming every folder searched.
 */
class CudaLibrariesTest {
    @TempDir
    Path tmp;

    private final Map<String, String> env = new HashMap<>();

    private CudaLibraries.Environment environment() {
        return new CudaLibraries.Environment(env, tmp.resolve("home"), tmp.resolve("root"));
    }

    private Path root(String path) {
        return tmp.resolve("root").resolve(path);
    }

    private static Path touch(Path dir, String... names) throws IOException {
        Files.createDirectories(dir);
        for (String n : names) Files.createFile(dir.resolve(n));
        return dir;
    }

    private static void cublas(Path dir, String version) throws IOException {
        touch(dir, "libcublas.so." + version, "libcublasLt.so." + version);
    }

    @Test
    void search_order_env_then_ld_path_then_cuda_then_python_environments() throws IOException {
        Path mine = Files.createDirectories(tmp.resolve("mine")), ld = Files.createDirectories(tmp.resolve("ld"));
        env.put("DENOISE_CUDA_LIBS", mine + "::" + tmp.resolve("absent"));
        env.put("LD_LIBRARY_PATH", ld + ":" + mine);
        Path venv = tmp.resolve("venv");
        Path venvLib = Files.createDirectories(venv.resolve("lib/python3.11/site-packages/nvidia/cudnn/lib"));
        env.put("VIRTUAL_ENV", venv.toString());
        Path conda = tmp.resolve("conda");
        touch(conda.resolve("bin"), "python3");
        Path condaLib = Files.createDirectories(conda.resolve("lib/python3.12/site-packages/nvidia/cublas/lib"));
        env.put("PATH", tmp.resolve("nopython") + ":" + conda.resolve("bin"));
        Path user9 = Files.createDirectories(tmp.resolve("home/.local/lib/python3.9/site-packages/nvidia/cu13/lib"));
        Path user12 = Files.createDirectories(tmp.resolve("home/.local/lib/python3.12/site-packages/nvidia/cu13/lib"));
        Path local = Files.createDirectories(root("usr/local/lib/python3.10/dist-packages/nvidia/cudnn/lib"));
        Path sys = Files.createDirectories(root("usr/lib/python3.10/site-packages/nvidia/cublas/lib"));
        Files.createDirectories(root("usr/lib/python3.10/site-packages/nvidia/nolib")); // no lib/ inside: skipped

        List<Path> dirs = CudaLibraries.searchDirectories(environment());
        assertEquals(List.of(mine, tmp.resolve("absent"), ld, root("usr/local/cuda/lib64"),
                root("usr/local/cuda/targets/x86_64-linux/lib"), root("usr/lib/x86_64-linux-gnu"),
                venvLib, condaLib, user12, user9, local, sys), dirs);
    }

    @Test
    void the_first_folder_wins_and_prefers_cublas_13_within_a_folder() throws IOException {
        Path mine = tmp.resolve("mine");
        cublas(mine, "12");
        touch(mine, "libcudnn.so.9");
        cublas(root("usr/local/cuda/lib64"), "13");
        env.put("DENOISE_CUDA_LIBS", mine.toString());
        CudaLibraries.Located l = CudaLibraries.locate(environment());
        assertEquals(mine.resolve("libcublas.so.12"), l.cublas(), "an explicit folder beats a newer version elsewhere");
        assertEquals(mine.resolve("libcublasLt.so.12"), l.cublasLt());

        cublas(mine, "13");
        assertEquals(mine.resolve("libcublas.so.13"), CudaLibraries.locate(environment()).cublas());
    }

    @Test
    void cublas_without_its_cublasLt_is_passed_over() throws IOException {
        Path half = touch(tmp.resolve("half"), "libcublas.so.13", "libcudnn.so.9");
        cublas(root("usr/lib/x86_64-linux-gnu"), "12");
        env.put("LD_LIBRARY_PATH", half.toString());
        CudaLibraries.Located l = CudaLibraries.locate(environment());
        assertEquals(root("usr/lib/x86_64-linux-gnu/libcublas.so.12"), l.cublas());
        assertEquals(half.resolve("libcudnn.so.9"), l.cudnn());
    }

    @Test
    void python_wheels_are_found_in_the_venv() throws IOException {
        Path sp = tmp.resolve("venv/lib/python3.12/site-packages");
        cublas(sp.resolve("nvidia/cublas/lib"), "12");
        Path cudnn = touch(sp.resolve("nvidia/cudnn/lib"), "libcudnn.so.9", "libcudnn_cnn.so.9", "libcudnn_ops.so.9",
                "libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_zzz_new.so.9");
        env.put("VIRTUAL_ENV", tmp.resolve("venv").toString());
        CudaLibraries.Located l = CudaLibraries.locate(environment());
        assertEquals(sp.resolve("nvidia/cublas/lib/libcublas.so.12"), l.cublas());
        assertEquals(cudnn.resolve("libcudnn.so.9"), l.cudnn());
        assertEquals(List.of(cudnn.resolve("libcudnn_graph.so.9"), cudnn.resolve("libcudnn_engines_precompiled.so.9"),
                cudnn.resolve("libcudnn_ops.so.9"), cudnn.resolve("libcudnn_cnn.so.9"),
                cudnn.resolve("libcudnn_zzz_new.so.9")), l.cudnnParts(), "dependency order, unknown parts last");
    }

    /** The CUDA 13 wheels: cuBLAS, cuBLASLt and NVRTC share nvidia/cu13/lib; cuDNN has nvidia/cudnn/lib. */
    @Test
    void cuda_13_wheels_are_found_with_nvrtc_loaded_before_cudnn() throws IOException {
        Path sp = tmp.resolve("venv/lib/python3.12/site-packages");
        Path cu13 = touch(sp.resolve("nvidia/cu13/lib"), "libcublas.so.13", "libcublasLt.so.13", "libnvrtc.so.13",
                "libnvrtc-builtins.so.13.0", "libnvrtc-builtins.so.12.9", "libcudart.so.13");
        Path cudnn = touch(sp.resolve("nvidia/cudnn/lib"), "libcudnn.so.9", "libcudnn_graph.so.9",
                "libcudnn_engines_runtime_compiled.so.9", "libcudnn_ops.so.9");
        env.put("VIRTUAL_ENV", tmp.resolve("venv").toString());
        CudaLibraries.Located l = CudaLibraries.locate(environment());
        assertEquals(cu13.resolve("libcublas.so.13"), l.cublas());
        assertEquals(cu13.resolve("libcublasLt.so.13"), l.cublasLt());
        assertEquals(cudnn.resolve("libcudnn.so.9"), l.cudnn());
        assertEquals(List.of(cu13.resolve("libnvrtc-builtins.so.13.0"), cu13.resolve("libnvrtc.so.13")), l.nvrtc(),
                "the builtins of NVRTC's own version, then NVRTC");
        assertEquals(List.of(cu13.resolve("libcublasLt.so.13"), cu13.resolve("libcublas.so.13"),
                cu13.resolve("libnvrtc-builtins.so.13.0"), cu13.resolve("libnvrtc.so.13"),
                cudnn.resolve("libcudnn_graph.so.9"), cudnn.resolve("libcudnn_engines_runtime_compiled.so.9"),
                cudnn.resolve("libcudnn_ops.so.9"), cudnn.resolve("libcudnn.so.9")), l.loadOrder(),
                "NVRTC before the cuDNN parts that dlopen it");
    }

    @Test
    void nvrtc_comes_from_cublas_folder_first_and_is_optional() throws IOException {
        Path old = touch(tmp.resolve("old"), "libnvrtc.so.12", "libnvrtc-builtins.so.12.4");
        Path cuda = root("usr/local/cuda/lib64");
        cublas(cuda, "13");
        touch(cuda, "libnvrtc.so.13", "libnvrtc-builtins.so.13.0", "libnvrtc-builtins.so.13.0.48", "libcudnn.so.9");
        env.put("DENOISE_CUDA_LIBS", old.toString());
        assertEquals(List.of(cuda.resolve("libnvrtc-builtins.so.13.0"), cuda.resolve("libnvrtc.so.13")),
                CudaLibraries.locate(environment()).nvrtc(), "beside cuBLAS beats an earlier folder; one builtins file");

        Files.delete(cuda.resolve("libnvrtc.so.13"));
        assertEquals(List.of(old.resolve("libnvrtc-builtins.so.12.4"), old.resolve("libnvrtc.so.12")),
                CudaLibraries.locate(environment()).nvrtc(), "else the search order");

        Files.delete(old.resolve("libnvrtc.so.12"));
        CudaLibraries.Located l = CudaLibraries.locate(environment());
        assertEquals(List.of(), l.nvrtc(), "no NVRTC is not a failure");
        assertEquals(List.of(cuda.resolve("libcublasLt.so.13"), cuda.resolve("libcublas.so.13"), cuda.resolve("libcudnn.so.9")),
                l.loadOrder());
    }

    /**
     * A venv's python3 is a symlink to the system interpreter: the venv is found by the pyvenv.cfg
     * above its bin folder, never by following the link to the system's packages.
     */
    @Test
    void a_venv_python_on_path_gives_the_venv_site_packages_not_its_interpreters() throws IOException {
        Path sys = tmp.resolve("sys");
        Path sysPython = touch(sys.resolve("bin"), "python3.12").resolve("python3.12");
        Path sysSp = Files.createDirectories(sys.resolve("lib/python3.12/site-packages"));
        cublas(sysSp.resolve("nvidia/cublas/lib"), "12");
        Path venv = tmp.resolve("torch/.venv");
        Path venvSp = venv(venv, sys.resolve("bin"), false, sysPython);
        Path cu13 = venvSp.resolve("nvidia/cu13/lib");
        cublas(cu13, "13");
        touch(venvSp.resolve("nvidia/cudnn/lib"), "libcudnn.so.9");
        env.put("PATH", tmp.resolve("nopython") + ":" + venv.resolve("bin"));

        assertEquals(List.of(venvSp), CudaLibraries.sitePackages(environment()), "the venv's own, not the system's");
        assertEquals(cu13.resolve("libcublas.so.13"), CudaLibraries.locate(environment()).cublas());

        // a python3 on PATH that links into the venv finds the venv one hop down the chain
        Path links = Files.createDirectories(tmp.resolve("links/bin"));
        Files.createSymbolicLink(links.resolve("python3"), venv.resolve("bin/python3"));
        env.put("PATH", links.toString());
        assertEquals(List.of(venvSp), CudaLibraries.sitePackages(environment()));

        // a plain interpreter (no venv anywhere on its chain) gives its installation's packages
        env.put("PATH", sys.resolve("bin").toString());
        Files.createSymbolicLink(sys.resolve("bin/python3"), Path.of("python3.12"));
        assertEquals(List.of(sysSp), CudaLibraries.sitePackages(environment()));
    }

    @Test
    void denoise_python_is_searched_first_with_its_base_packages_when_the_venv_includes_them() throws IOException {
        Path sys = tmp.resolve("sys");
        Path sysPython = touch(sys.resolve("bin"), "python3.12").resolve("python3.12");
        Path sysDist = Files.createDirectories(sys.resolve("lib/python3.12/dist-packages"));
        Path torch = tmp.resolve("opt/torch/.venv");
        Path torchSp = venv(torch, sys.resolve("bin"), true, sysPython);
        Path other = tmp.resolve("other");
        Path otherSp = Files.createDirectories(other.resolve("lib/python3.11/site-packages"));
        cublas(torchSp.resolve("nvidia/cu13/lib"), "13");
        touch(torchSp.resolve("nvidia/cudnn/lib"), "libcudnn.so.9");
        cublas(otherSp.resolve("nvidia/cublas/lib"), "12");
        touch(otherSp.resolve("nvidia/cudnn/lib"), "libcudnn.so.9");
        env.put("VIRTUAL_ENV", other.toString());
        env.put("DENOISE_PYTHON", torch.resolve("bin/python3").toString());

        assertEquals(List.of(torchSp, sysDist, otherSp), CudaLibraries.sitePackages(environment()));
        CudaLibraries.Located l = CudaLibraries.locate(environment());
        assertEquals(torchSp.resolve("nvidia/cu13/lib/libcublas.so.13"), l.cublas());
        assertEquals(torchSp.resolve("nvidia/cudnn/lib/libcudnn.so.9"), l.cudnn());

        env.put("DENOISE_PYTHON", torch.toString()); // the environment's folder will do too
        assertEquals(List.of(torchSp, sysDist, otherSp), CudaLibraries.sitePackages(environment()));
    }

    /** A venv at dir made by python -m venv: bin/python3 linking to python, pyvenv.cfg, site-packages. */
    private static Path venv(Path dir, Path home, boolean systemSitePackages, Path python) throws IOException {
        Files.createDirectories(dir.resolve("bin"));
        Files.createSymbolicLink(dir.resolve("bin/python3"), python);
        Files.writeString(dir.resolve("pyvenv.cfg"), "home = " + home + "\ninclude-system-site-packages = "
                + systemSitePackages + "\nversion = 3.12.3\n");
        return Files.createDirectories(dir.resolve("lib/python3.12/site-packages"));
    }

    @Test
    void a_missing_library_is_one_line_naming_every_folder_searched() throws IOException {
        cublas(root("usr/local/cuda/lib64"), "12");
        env.put("DENOISE_CUDA_LIBS", tmp.resolve("mine").toString());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> CudaLibraries.locate(environment()));
        String m = e.getMessage();
        assertEquals(-1, m.indexOf('\n'), "one line");
        assertTrue(m.startsWith("cuDNN (libcudnn.so.9) not found; searched "), m);
        for (Path d : CudaLibraries.searchDirectories(environment())) assertTrue(m.contains(d.toString()), m);
        assertTrue(m.contains("DENOISE_CUDA_LIBS"), m);
        assertTrue(m.contains("pip install nvidia-cublas nvidia-cudnn-cu13 nvidia-cuda-nvrtc"), m);

        Files.delete(root("usr/local/cuda/lib64/libcublas.so.12"));
        String both = assertThrows(BackendUnavailableException.class, () -> CudaLibraries.locate(environment())).getMessage();
        assertTrue(both.startsWith("cuBLAS (libcublas.so.13 or libcublas.so.12 with its libcublasLt) and cuDNN"), both);
    }

    @Test
    void loading_on_this_machine_succeeds_or_says_why_in_one_line() {
        try {
            CudaLibraries.Loaded l = CudaLibraries.load();
            assertTrue(Files.isRegularFile(l.cublasFile()) && Files.isRegularFile(l.cudnnFile()));
        } catch (BackendUnavailableException e) {
            assertEquals(-1, e.getMessage().indexOf('\n'), e.getMessage());
            assertEquals(e.getMessage(), assertThrows(BackendUnavailableException.class, CudaLibraries::load).getMessage(),
                    "the same reason every time");
        }
    }

    /** cudnnConvolutionFwdAlgoPerf_t: 48 bytes, memory at offset 16 after the padding C inserts. */
    @Test
    void algo_perf_layout_matches_the_c_struct() {
        assertEquals(48, Cudnn.ALGO_PERF.byteSize());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Cudnn.ALGO_PERF, 2);
            MemorySegment second = s.asSlice(48);
            second.set(JAVA_INT, 0, 6);
            second.set(JAVA_INT, 4, 0);
            second.set(JAVA_FLOAT, 8, 0.25f);
            second.set(JAVA_LONG, 16, 1L << 33);
            second.set(JAVA_INT, 24, Cudnn.CUDNN_DETERMINISTIC);
            second.set(JAVA_INT, 28, Cudnn.CUDNN_FMA_MATH);
            assertEquals(new Cudnn.AlgoPerf(6, 0, 0.25f, 1L << 33, 1, 3), Cudnn.readPerf(s, 2).get(1));
        }
    }

    @Test
    void library_errors_name_the_call_and_status() {
        CudaException e = assertThrows(CudaException.class, () -> Cublas.check(13, "cublasSgemm_v2"));
        assertEquals("cublasSgemm_v2 failed: CUBLAS_STATUS_EXECUTION_FAILED (13)", e.getMessage());
        Cublas.check(0, "cublasSgemm_v2");
    }
}
