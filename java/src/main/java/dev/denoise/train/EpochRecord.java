package dev.denoise.train;

import com.fasterxml.jackson.annotation.JsonProperty;

/** One line of history.json. */
public record EpochRecord(
        @JsonProperty("epoch") int epoch,
        @JsonProperty("loss") double loss,
        @JsonProperty("val_psnr") double valPsnr,
        @JsonProperty("seconds") double seconds,
        @JsonProperty("images_per_second") double imagesPerSecond) {}
