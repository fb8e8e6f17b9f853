package example;

import dev.denoise.Denoiser;
import dev.denoise.backend.Backend;
import dev.denoise.backend.Backends;

import javax.imageio.ImageIO;
import java.io.File;

/** Denoises a photo with the model the library ships: java example.CleanPhoto in.jpg out.png */
public class CleanPhoto {
    public static void main(String[] args) throws Exception {
        try (Backend backend = Backends.open("auto"); Denoiser denoiser = Denoiser.pretrained(backend)) {
            ImageIO.write(denoiser.denoise(ImageIO.read(new File(args[0]))), "png", new File(args[1]));
        }
    }
}
