package dev.denoise.spark;

import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A task's device: the GPU the cluster gave it (local mode never gives one, so this is the only
 * check of that path without a cluster), unless the job asked for the CPU.
 */
class ExecutorModelsTest {
    private static Map<String, ResourceInformation> gpus(String... addresses) {
        return Map.of("gpu", new ResourceInformation("gpu", addresses));
    }

    @Test
    void a_task_runs_on_the_gpu_its_resources_name() {
        assertEquals("cuda:3", ExecutorModels.device("auto", gpus("3")));
        assertEquals("cuda:3", ExecutorModels.device("cuda", gpus("3", "5")));
        assertEquals("cpu", ExecutorModels.device("cpu", gpus("3")), "--device cpu wins");
        assertEquals("auto", ExecutorModels.device("auto", Map.of()), "no GPU given: the job's device");
        assertEquals("auto", ExecutorModels.device("auto", gpus()));
        assertEquals("auto", ExecutorModels.device("auto"), "outside a task (the driver)");
    }
}
