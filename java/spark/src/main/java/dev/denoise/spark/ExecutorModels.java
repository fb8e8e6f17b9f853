package dev.denoise.spark;

import dev.denoise.Denoiser;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One Denoiser per model and device per executor JVM, shared by all of its task threads (a
 * Denoiser is thread-safe: calls run side by side up to the CPU backend's threads, one at a time
 * on a GPU). It lives as long as the executor: building it again per task would load the model
 * and warm a CUDA context for every partition.
 *
 * <p>The device: a task that was given a GPU (a cluster with {@code spark.task.resource.gpu.amount})
 * runs on the GPU its resources name, unless the job asked for the CPU; otherwise the job's
 * {@code --device} as it is ({@code auto}: a GPU when this machine can run one, else the CPU;
 * local mode never hands out GPUs).
 */
final class ExecutorModels {
    private static final Map<String, Denoiser> OPEN = new ConcurrentHashMap<>();

    private ExecutorModels() {}

    /** The Denoiser of model on the device this task should use (see the class comment). */
    static Denoiser get(ModelRef model, String requested) {
        String device = device(requested);
        return OPEN.computeIfAbsent(model.key() + "@" + device, k -> model.open(device));
    }

    /**
     * Where the small host-side work around d's calls runs (the evaluation's noise): d's own
     * backend when it is a CPU one, else a CPU backend of the executor's own, since a GPU
     * backend's one stream belongs to its Denoiser's calls.
     */
    static synchronized dev.denoise.backend.Backend hostSide(Denoiser d) {
        dev.denoise.backend.Backend b = d.model().backend();
        if (b.device() == dev.denoise.backend.Device.CPU) return b;
        if (cpu == null) cpu = new dev.denoise.backend.CpuBackend();
        return cpu;
    }

    private static dev.denoise.backend.Backend cpu;

    /** The device a task runs on: its GPU resource as cuda:N, or the requested device. */
    static String device(String requested) {
        TaskContext task = TaskContext.get();
        return task == null ? requested : device(requested, task.resourcesJMap());
    }

    /** The device for a task with these resources (see the class comment). */
    static String device(String requested, Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources.get("gpu");
        if ("cpu".equals(requested) || gpu == null || gpu.addresses().length == 0) return requested;
        return "cuda:" + gpu.addresses()[0];
    }
}
