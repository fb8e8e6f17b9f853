package dev.denoise.backend;

import dev.denoise.ffm.DenoiseNative;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;


/**
 * The op table on the CPU: each method checks shapes ({@link Checks}) and calls the C function of
 * the same name in native/ (OpenMP inside). Tensors are 64-byte aligned off-heap memory, each in its
 * own shared Arena so it may be used from any thread and freed on close.
 *
 * <p>Threads: {@code DENOISE_THREADS}, else every core. OpenMP keeps the thread count per calling
 * thread, so it is applied lazily on each Java thread that calls an op.
 */
public final class CpuBackend implements Backend {
    private static final ThreadLocal<int[]> APPLIED_THREADS = ThreadLocal.withInitial(() -> new int[] {0});

    private final int threads;

    /** Threads from DENOISE_THREADS, else every core. */
    public CpuBackend() {
        this(defaultThreads());
    }

    public CpuBackend(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        DenoiseNative.require();
        this.threads = threads;
    }

    /** DENOISE_THREADS when set (a positive integer), else the number of cores. */
    public static int defaultThreads() {
        String env = System.getenv("DENOISE_THREADS");
        if (env == null || env.isBlank()) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(env.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("DENOISE_THREADS must be a positive integer, got '" + env + "'");
    }

    public int threads() {
        return threads;
    }

    /** CPU features the kernels can use, as names. */
    public static String cpuFeatures() {
        int f = DenoiseNative.runtime_cpu_features();
        StringBuilder sb = new StringBuilder();
        if ((f & 1) != 0) sb.append("SSE4.2 ");
        if ((f & 2) != 0) sb.append("AVX2 FMA ");
        if ((f & 4) != 0) sb.append("AVX-512F ");
        if ((f & 8) != 0) sb.append("AVX-512BW/VL ");
        return sb.toString().trim();
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String describe() {
        return "cpu (" + threads + " threads, " + cpuFeatures() + ")";
    }

    private void enter(Tensor... ts) {
        Checks.sameBackend(this, ts);
        int[] applied = APPLIED_THREADS.get();
        if (applied[0] != threads) {
            DenoiseNative.runtime_set_threads(threads);
            applied[0] = threads;
        }
    }

    private static MemorySegment mem(Tensor t) {
        return t == null ? MemorySegment.NULL : t.memory();
    }

    // ---- memory ----

    /** Bytes held by this backend's tensors that are not closed yet: flat over a long run, or something leaks. */
    private final AtomicLong liveBytes = new AtomicLong();

    public long liveBytes() {
        return liveBytes.get();
    }

    @Override
    public Tensor allocate(int... shape) {
        long bytes = Math.multiplyExact(Tensor.numel(shape), (long) Float.BYTES);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment m = arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes); // allocate zero-fills
            liveBytes.addAndGet(bytes);
            return new Tensor(this, m, shape, () -> {
                arena.close();
                liveBytes.addAndGet(-bytes);
            });
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public void write(Tensor dst, float[] src, int srcOffset) {
        Checks.sameBackend(this, dst);
        MemorySegment.copy(src, srcOffset, dst.memory(), ValueLayout.JAVA_FLOAT, 0, Math.toIntExact(dst.numel()));
    }

    @Override
    public void read(Tensor src, float[] dst) {
        Checks.sameBackend(this, src);
        MemorySegment.copy(src.memory(), ValueLayout.JAVA_FLOAT, 0, dst, 0, Math.toIntExact(src.numel()));
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        Checks.sameBackend(this, dst, src);
        if (dst.numel() != src.numel()) throw new IllegalArgumentException("copy: " + src + " into " + dst);
        MemorySegment.copy(src.memory(), 0, dst.memory(), 0, src.byteSize());
    }

    @Override
    public void fill(Tensor t, float value) {
        Checks.sameBackend(this, t);
        if (value == 0.0f) {
            t.memory().fill((byte) 0);
        } else {
            MemorySegment m = t.memory();
            for (long i = 0; i < t.numel(); i++) m.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
        }
    }

    @Override
    public void synchronize() {
        // every CPU op has finished when it returns
    }

    // ---- ops ----

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        enter(a, b, c);
        int[] d = Checks.gemm(transA, transB, a, b, c);
        DenoiseNative.gemm(transA ? 1 : 0, transB ? 1 : 0, d[0], d[1], d[2], alpha, a.memory(), d[3],
                b.memory(), d[4], beta, c.memory(), d[5]);
    }

    @Override
    public void bias_act_forward(Tensor out, Tensor inp, Tensor bias, Activation act) {
        enter(out, inp, bias);
        int[] d = Checks.biasAct("bias_act_forward", out, inp, bias);
        DenoiseNative.bias_act_forward(out.memory(), inp.memory(), mem(bias), d[0], d[1], d[2], act.code);
    }

    @Override
    public void bias_act_backward(Tensor dinp, Tensor dbias, Tensor dout, Tensor out, Activation act) {
        enter(dinp, dbias, dout, out);
        Checks.same("bias_act_backward", "dout", dout, out);
        int[] d = Checks.biasAct("bias_act_backward", dinp, out, dbias);
        DenoiseNative.bias_act_backward(dinp.memory(), mem(dbias), dout.memory(), out.memory(), d[0], d[1], d[2], act.code);
    }

    @Override
    public void conv2d_forward(Tensor out, Tensor inp, Tensor weight, Tensor bias, Activation act) {
        enter(out, inp, weight, bias);
        int[] d = Checks.conv2d("conv2d_forward", out, inp, weight);
        if (bias != null) Checks.shape("conv2d_forward", "bias", bias, d[4]);
        DenoiseNative.conv2d_forward(out.memory(), inp.memory(), weight.memory(), mem(bias),
                d[0], d[1], d[2], d[3], d[4], d[5], d[6], act.code);
    }

    @Override
    public void conv2d_backward_data(Tensor dinp, Tensor dout, Tensor weight) {
        enter(dinp, dout, weight);
        int[] d = Checks.conv2d("conv2d_backward_data", dout, dinp, weight);
        DenoiseNative.conv2d_backward_data(dinp.memory(), dout.memory(), weight.memory(),
                d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
    }

    @Override
    public void upsample2d_conv2d_backward_data(Tensor dinp, Tensor dout, Tensor weight) {
        enter(dinp, dout, weight);
        int[] d = Checks.upsampleConv2d("upsample2d_conv2d_backward_data", dinp, dout, weight);
        DenoiseNative.upsample2d_conv2d_backward_data(dinp.memory(), dout.memory(), weight.memory(),
                d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
    }

    @Override
    public void conv2d_backward_filter(Tensor dweight, Tensor dout, Tensor inp) {
        enter(dweight, dout, inp);
        int[] d = Checks.conv2d("conv2d_backward_filter", dout, inp, dweight);
        DenoiseNative.conv2d_backward_filter(dweight.memory(), dout.memory(), inp.memory(),
                d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
    }

    @Override
    public void conv2d_backward_bias(Tensor dbias, Tensor dout) {
        enter(dbias, dout);
        int[] x = Checks.rank("conv2d_backward_bias", "dout", dout, 4);
        Checks.shape("conv2d_backward_bias", "dbias", dbias, x[1]);
        DenoiseNative.conv2d_backward_bias(dbias.memory(), dout.memory(), x[0], x[1], x[2], x[3]);
    }

    @Override
    public void maxpool2d_forward(Tensor out, Tensor inp) {
        enter(out, inp);
        int[] d = Checks.pool2("maxpool2d_forward", inp, out);
        DenoiseNative.maxpool2d_forward(out.memory(), inp.memory(), d[0], d[1], d[2], d[3]);
    }

    @Override
    public void maxpool2d_backward(Tensor dinp, Tensor dout, Tensor inp) {
        enter(dinp, dout, inp);
        Checks.same("maxpool2d_backward", "dinp", dinp, inp);
        int[] d = Checks.pool2("maxpool2d_backward", inp, dout);
        DenoiseNative.maxpool2d_backward(dinp.memory(), dout.memory(), inp.memory(), d[0], d[1], d[2], d[3]);
    }

    @Override
    public void maxpool2d_relu_backward(Tensor dinp, Tensor dbias, Tensor dout, Tensor dskip, Tensor inp) {
        enter(dinp, dbias, dout, dskip, inp);
        int[] d = Checks.maxpoolReluBackward(dinp, dbias, dout, dskip, inp);
        DenoiseNative.maxpool2d_relu_backward(dinp.memory(), mem(dbias), dout.memory(), mem(dskip), inp.memory(),
                d[0], d[1], d[2], d[3]);
    }

    @Override
    public void upsample2d_forward(Tensor out, Tensor inp) {
        enter(out, inp);
        int[] d = Checks.upsample2("upsample2d_forward", out, inp);
        DenoiseNative.upsample2d_forward(out.memory(), inp.memory(), d[0], d[1], d[2], d[3]);
    }

    @Override
    public void upsample2d_backward(Tensor dinp, Tensor dout) {
        enter(dinp, dout);
        int[] d = Checks.upsample2("upsample2d_backward", dout, dinp);
        DenoiseNative.upsample2d_backward(dinp.memory(), dout.memory(), d[0], d[1], d[2], d[3]);
    }

    @Override
    public void add(Tensor out, Tensor a, Tensor b) {
        enter(out, a, b);
        Checks.add("add", out, a, b);
        DenoiseNative.add(out.memory(), a.memory(), b.memory(), out.numel());
    }

    @Override
    public void sigmoid_bce_forward(Tensor loss, Tensor logits, Tensor target) {
        enter(loss, logits, target);
        int[] d = Checks.perImage("sigmoid_bce_forward", loss, logits, target);
        DenoiseNative.sigmoid_bce_forward(loss.memory(), logits.memory(), target.memory(), d[0], d[1]);
    }

    @Override
    public void sigmoid_bce_backward(Tensor dlogits, Tensor logits, Tensor target, float scale) {
        enter(dlogits, logits, target);
        Checks.same("sigmoid_bce_backward", "dlogits", dlogits, logits);
        int[] d = Checks.perImage("sigmoid_bce_backward", null, logits, target);
        DenoiseNative.sigmoid_bce_backward(dlogits.memory(), logits.memory(), target.memory(), d[0], d[1], scale);
    }

    @Override
    public void mse_forward(Tensor loss, Tensor pred, Tensor target) {
        enter(loss, pred, target);
        int[] d = Checks.perImage("mse_forward", loss, pred, target);
        DenoiseNative.mse_forward(loss.memory(), pred.memory(), target.memory(), d[0], d[1]);
    }

    @Override
    public void mse_backward(Tensor dpred, Tensor pred, Tensor target, float scale) {
        enter(dpred, pred, target);
        Checks.same("mse_backward", "dpred", dpred, pred);
        int[] d = Checks.perImage("mse_backward", null, pred, target);
        DenoiseNative.mse_backward(dpred.memory(), pred.memory(), target.memory(), d[0], d[1], scale);
    }

    @Override
    public void psnr_forward(Tensor psnr, Tensor pred, Tensor target) {
        enter(psnr, pred, target);
        int[] d = Checks.perImage("psnr_forward", psnr, pred, target);
        DenoiseNative.psnr_forward(psnr.memory(), pred.memory(), target.memory(), d[0], d[1]);
    }

    @Override
    public void reparam_forward(Tensor z, Tensor eps, Tensor mu, Tensor logvar, long seed, long offset) {
        enter(z, eps, mu, logvar);
        long n = Checks.sameAll("reparam_forward", mu, logvar, z, eps);
        DenoiseNative.reparam_forward(z.memory(), eps.memory(), mu.memory(), logvar.memory(), n, seed, offset);
    }

    @Override
    public void reparam_backward(Tensor dmu, Tensor dlogvar, Tensor dz, Tensor logvar, Tensor eps) {
        enter(dmu, dlogvar, dz, logvar, eps);
        long n = Checks.sameAll("reparam_backward", dz, dmu, dlogvar, logvar, eps);
        DenoiseNative.reparam_backward(dmu.memory(), dlogvar.memory(), dz.memory(), logvar.memory(), eps.memory(), n);
    }

    @Override
    public void kl_forward(Tensor loss, Tensor mu, Tensor logvar) {
        enter(loss, mu, logvar);
        int[] d = Checks.perImage("kl_forward", loss, mu, logvar);
        DenoiseNative.kl_forward(loss.memory(), mu.memory(), logvar.memory(), d[0], d[1]);
    }

    @Override
    public void kl_backward(Tensor dmu, Tensor dlogvar, Tensor mu, Tensor logvar, float scale) {
        enter(dmu, dlogvar, mu, logvar);
        Checks.sameAll("kl_backward", mu, logvar, dmu, dlogvar);
        int[] d = Checks.perImage("kl_backward", null, mu, logvar);
        DenoiseNative.kl_backward(dmu.memory(), dlogvar.memory(), mu.memory(), logvar.memory(), d[0], d[1], scale);
    }

    @Override
    public void adam_update(Tensor param, Tensor m, Tensor v, Tensor grad, float lr, float beta1, float beta2,
                            float eps, int t) {
        enter(param, m, v, grad);
        if (t < 1) throw new IllegalArgumentException("adam_update: step t must be >= 1, got " + t);
        long n = Checks.sameAll("adam_update", param, m, v, grad);
        DenoiseNative.adam_update(param.memory(), m.memory(), v.memory(), grad.memory(), n, lr, beta1, beta2, eps, t);
    }

    @Override
    public void noise_gaussian(Tensor out, Tensor inp, float sigma, long seed, long offset) {
        enter(out, inp);
        long n = Checks.sameAll("noise_gaussian", inp, out);
        DenoiseNative.noise_gaussian(out.memory(), inp.memory(), n, sigma, seed, offset);
    }

    @Override
    public void noise_salt_pepper(Tensor out, Tensor inp, float p, long seed, long offset) {
        enter(out, inp);
        long n = Checks.sameAll("noise_salt_pepper", inp, out);
        DenoiseNative.noise_salt_pepper(out.memory(), inp.memory(), n, p, seed, offset);
    }

    @Override
    public void noise_normal(Tensor out, long seed, long offset) {
        enter(out);
        DenoiseNative.noise_normal(out.memory(), out.numel(), seed, offset);
    }

    @Override
    public void close() {
        // tensors own their memory; the library stays loaded for the JVM's life
    }

    @Override
    public String toString() {
        return describe();
    }
}
