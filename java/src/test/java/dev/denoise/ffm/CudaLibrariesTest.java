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
 * the search order, the version preference, the Python wheel layouts, cuDNN's sub-library order and
 * the one-line message naming every folder searched.
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
