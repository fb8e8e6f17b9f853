package dev.denoise.model;

import dev.denoise.BadInputException;
import dev.denoise.backend.CpuBackend;
import dev.denoise.backend.SharedCpu;
import dev.denoise.io.Safetensors;
import dev.denoise.io.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Model files against the model they claim to be: every tensor present with the PyTorch
 * state_dict name and shape, nothing extra, architecture metadata readable; a bad file is one
 * BadInputException naming the file and the tensor.
 */
class ModelFilesTest {
    private static final CpuBackend cpu = SharedCpu.get();

    @TempDir
    Path dir;

    private List<TensorData> tensorsOf(ModelKind kind) {
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(kind), 4)) {
            m.initialise(1);
            return new ArrayList<>(ModelFiles.tensors(m));
        }
    }

    private Path write(String name, Map<String, String> meta, List<TensorData> tensors) throws Exception {
        Path f = dir.resolve(name);
        Safetensors.write(f, meta, tensors);
        return f;
    }

    private void refused(Path f, String expect) {
        BadInputException e = assertThrows(BadInputException.class, () -> ModelFiles.load(f, cpu, 4));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(expect), e.getMessage());
        assertTrue(e.getMessage().indexOf('\n') < 0, "one line");
    }

    @Test
    void names_and_shapes_are_the_pytorch_state_dict() {
        List<String> dense = tensorsOf(ModelKind.DENSE).stream().map(TensorData::name).toList();
        assertTrue(dense.equals(List.of("e1.weight", "e1.bias", "e2.weight", "e2.bias", "d1.weight", "d1.bias",
                "d2.weight", "d2.bias")), dense.toString());
        TensorData e1 = tensorsOf(ModelKind.DENSE).get(0);
        assertArrayEquals(new int[] {256, 784}, e1.shape(), "Linear weight is (out, in)");
        TensorData conv = tensorsOf(ModelKind.CONV).get(0);
        assertArrayEquals(new int[] {32, 1, 3, 3}, conv.shape(), "Conv2d weight is (out, in, kh, kw)");
        List<String> vae = tensorsOf(ModelKind.VAE).stream().map(TensorData::name).toList();
        assertTrue(vae.containsAll(List.of("mu.weight", "logvar.weight", "mu.bias", "logvar.bias")), vae.toString());
    }

    @Test
    void missing_extra_and_misshapen_tensors_are_refused() throws Exception {
        Map<String, String> meta = ModelFiles.metadata(ModelConfig.mnist(ModelKind.DENSE), Map.of());
        List<TensorData> t = tensorsOf(ModelKind.DENSE);

        List<TensorData> missing = new ArrayList<>(t);
        missing.remove(3);
        refused(write("missing.safetensors", meta, missing), "tensor 'e2.bias' is missing");

        List<TensorData> extra = new ArrayList<>(t);
        extra.add(new TensorData("e9.weight", new int[] {2}, new float[2]));
        refused(write("extra.safetensors", meta, extra), "unexpected tensor 'e9.weight'");

        List<TensorData> shaped = new ArrayList<>(t);
        shaped.set(0, new TensorData("e1.weight", new int[] {784, 256}, t.get(0).data()));
        refused(write("shape.safetensors", meta, shaped), "tensor 'e1.weight' has shape [784, 256]");
    }

    @Test
    void weights_altered_after_saving_are_refused() throws Exception {
        Path f = dir.resolve("m.safetensors");
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(ModelKind.CONV), 4)) {
            m.initialise(1);
            ModelFiles.save(f, m, Map.of());
        }
        Safetensors.Loaded saved = Safetensors.read(f);
        assertTrue(saved.metadata().containsKey(ModelFiles.WEIGHTS_SHA256));
        ModelFiles.load(f, cpu, 4).close();
        // the same tensors, one value changed, under the saved metadata: a valid file, not the saved weights
        List<TensorData> t = new ArrayList<>(saved.tensors().values());
        float[] w = t.get(0).data().clone();
        w[5] = Math.nextUp(w[5]);
        t.set(0, new TensorData(t.get(0).name(), t.get(0).shape(), w));
        refused(write("altered.safetensors", saved.metadata(), t), "do not match the checksum");
        // files written before the checksum load as before
        Map<String, String> old = new LinkedHashMap<>(saved.metadata());
        old.remove(ModelFiles.WEIGHTS_SHA256);
        ModelFiles.load(write("old.safetensors", old, t), cpu, 4).close();
    }

    @Test
    void bundled_weights_must_match_their_committed_sha256() {
        byte[] bytes = "anything".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Path label = Path.of("jar:x.safetensors");
        BadInputException e = assertThrows(BadInputException.class,
                () -> BundledModels.verified(label, bytes, "00".repeat(32)));
        assertTrue(e.getMessage().contains("does not match the committed"), e.getMessage());
        // the jar's own photo model matches (read() checks it) and is the residual model, grey
        assertTrue(BundledModels.available(BundledModels.PHOTO));
        ModelConfig c = ModelFiles.config(label, BundledModels.read(BundledModels.PHOTO).metadata());
        assertTrue(c.kind() == ModelKind.RESIDUAL && c.channels() == 1, c.toString());
        e = assertThrows(BadInputException.class, () -> BundledModels.load("nosuch", cpu, 1));
        assertTrue(e.getMessage().contains("no such bundled model"), e.getMessage());
    }

    @Test
    void metadata_must_describe_a_denoise_model() throws Exception {
        List<TensorData> t = tensorsOf(ModelKind.DENSE);
        refused(write("nometa.safetensors", Map.of(), t), "not a denoise model file");
        Map<String, String> meta = new LinkedHashMap<>(ModelFiles.metadata(ModelConfig.mnist(ModelKind.DENSE), Map.of()));
        meta.put("hidden", "lots");
        refused(write("hidden.safetensors", meta, t), "metadata 'hidden' is not an integer");
        meta.put("hidden", "256");
        meta.put("model", "resnet");
        refused(write("kind.safetensors", meta, t), "unknown model 'resnet'");
        // a conv model claiming 30x30 images (not divisible by 4)
        Map<String, String> conv = new LinkedHashMap<>(ModelFiles.metadata(ModelConfig.mnist(ModelKind.CONV), Map.of()));
        conv.put("height", "30");
        refused(write("conv30.safetensors", conv, tensorsOf(ModelKind.CONV)), "divisible by 4");
    }

    @Test
    void skip_and_deeper_models_round_trip_and_old_files_read_as_depth_2() throws Exception {
        ModelConfig deep = ModelConfig.defaults(ModelKind.SKIP, 3, 32, 32).withConvDepth(3).withConvWidth(16)
                .withLevelConvs(1);
        Path f = dir.resolve("skip3.safetensors");
        try (Autoencoder m = Autoencoder.create(cpu, deep, 2)) {
            m.initialise(4);
            ModelFiles.save(f, m, Map.of());
            List<String> names = ModelFiles.tensors(m).stream().map(TensorData::name).toList();
            assertTrue(names.containsAll(List.of("e3.weight", "d4.bias")), names.toString());
            assertArrayEquals(new int[] {64, 32, 3, 3}, ModelFiles.tensors(m).get(4).shape(), "e3: 32 → 64 channels");
            try (Autoencoder back = ModelFiles.load(f, cpu, 2)) {
                assertEquals(deep, back.config());
                assertArrayEquals(m.parameters().values().toArray(), back.parameters().values().toArray());
            }
        }
        // written before conv_depth and level_convs existed: a depth-2 conv model of one conv per stage
        Map<String, String> old = new LinkedHashMap<>(ModelFiles.metadata(ModelConfig.mnist(ModelKind.CONV), Map.of()));
        old.remove("conv_depth");
        old.remove("level_convs");
        try (Autoencoder back = ModelFiles.load(write("old.safetensors", old, tensorsOf(ModelKind.CONV)), cpu, 2)) {
            assertEquals(ModelConfig.mnist(ModelKind.CONV), back.config());
        }
    }

    @Test
    void stages_of_two_convs_round_trip_under_the_pytorch_names() throws Exception {
        ModelConfig u = ModelConfig.mnist(ModelKind.SKIP).withConvWidth(16).withLevelConvs(2);
        Path f = dir.resolve("skip-2.safetensors");
        try (Autoencoder m = Autoencoder.create(cpu, u, 2)) {
            m.initialise(6);
            ModelFiles.save(f, m, Map.of());
            Map<String, int[]> shapes = new LinkedHashMap<>();
            ModelFiles.tensors(m).forEach(t -> shapes.put(t.name(), t.shape()));
            assertEquals(List.of("e1", "e1_2", "e2", "e2_2", "d1", "d1_2", "d2", "d2_2", "d3", "d3_2"),
                    shapes.keySet().stream().filter(n -> n.endsWith(".weight")).map(n -> n.replace(".weight", "")).toList());
            assertArrayEquals(new int[] {16, 1, 3, 3}, shapes.get("e1.weight"), "an encoder stage widens first");
            assertArrayEquals(new int[] {16, 16, 3, 3}, shapes.get("e1_2.weight"));
            assertArrayEquals(new int[] {32, 32, 3, 3}, shapes.get("d2.weight"), "a decoder stage narrows last");
            assertArrayEquals(new int[] {16, 32, 3, 3}, shapes.get("d2_2.weight"));
            assertArrayEquals(new int[] {1, 16, 3, 3}, shapes.get("d3_2.weight"));
            try (Autoencoder back = ModelFiles.load(f, cpu, 2)) {
                assertEquals(u, back.config());
                assertArrayEquals(m.parameters().values().toArray(), back.parameters().values().toArray());
            }
        }
    }

    @Test
    void saving_over_a_good_file_with_nan_weights_keeps_the_good_file() throws Exception {
        Path f = dir.resolve("model.safetensors");
        try (Autoencoder m = Autoencoder.create(cpu, ModelConfig.mnist(ModelKind.DENSE), 4)) {
            m.initialise(1);
            ModelFiles.save(f, m, Map.of());
            byte[] good = Files.readAllBytes(f);
            cpu.fill(m.parameters().values(), Float.NaN);
            assertThrows(IllegalArgumentException.class, () -> ModelFiles.save(f, m, Map.of()));
            assertArrayEquals(good, Files.readAllBytes(f));
        }
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp file left");
        }
    }
}
