package dev.denoise.backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.concurrent.atomic.LongAdder;

/**
 * The op table: everything layers and models may ask of a device, checked once. Each op validates
 * its tensors here, in Java, and hands pointers and named sizes to the raw {@link Kernels} table of
 * the backend: the C functions of native/ on the CPU ({@link CpuBackend}), kernel launches and
 * cuDNN/cuBLAS calls on the GPU. Every op has the same name in all three places (grep one name to
 * find them all), and a backend holds no argument checks of its own: a wrong call fails the same way
 * everywhere, as an {@link IllegalArgumentException} naming the op and the tensor.
 *
 * <p>Parameter gradients are overwritten, not accumulated, unless an op says it adds. Every op's
 * result has the same bits for any thread count. Ops are asynchronous on devices that queue work:
 * {@link #read} and {@link #synchronize} wait for them.
 *
 * <p>A backend supplies memory (allocate, copy in and out, fill, synchronize) and its kernel table.
 * Host round trips are what a GPU loop must avoid, so they are counted ({@link #traffic()}), and
 * the ways around them are here: per-step values written in stream order ({@link #set},
 * {@link #setLong}), copies through {@link Staging} memory that do not wait ({@link #upload},
 * {@link #download}), and steps recorded once and replayed ({@link #replayable}).
 */
@SuppressWarnings("checkstyle:MethodName") // the op names of native/denoise.h, on purpose
public abstract class Backend implements AutoCloseable {

    /** For subclasses: a backend supplies its memory and kernel table. */
    protected Backend() {}

    /** Where this backend's tensors live and its ops run. */
    public abstract Device device();

    /** A short description, e.g. "cpu (2 threads, AVX-512)". */
    public abstract String describe();

    /** The raw table, ready for a call from this thread (the CPU applies its thread count, the GPU its context). */
    protected abstract Kernels kernels();

    // ---- memory: checked here, moved by the backend ----

    /** A zero-filled tensor of bytes bytes, owned by the caller. */
    protected abstract Tensor allocateZeroed(int[] shape, long bytes);

    /** count floats from src[srcOffset..] into device memory dst, after queued work that reads dst. */
    protected abstract void copyIn(MemorySegment dst, float[] src, int srcOffset, int count);

    /** count floats from memory src into dst, after all queued work. */
    protected abstract void copyOut(MemorySegment src, float[] dst, int count);

    /** bytes bytes from src to dst, queued like an op. */
    protected abstract void copyRaw(MemorySegment dst, MemorySegment src, long bytes);

    /** count floats of dst set to value, queued like an op. */
    protected abstract void fillRaw(MemorySegment dst, long count, float value);

    /** The 32-bit word index of dst set to bits, queued like an op. */
    protected abstract void setWord(MemorySegment dst, long index, int bits);

    /** Waits for all queued work. */
    protected abstract void finish();

    /** Host memory for count floats that this backend copies to and from without waiting. */
    protected abstract Staging newStaging(long count);

    /** count floats from src (at srcOffset floats) to device memory dst, queued like an op. */
    protected abstract void uploadRaw(MemorySegment dst, Staging src, long srcOffset, long count);

    /** count floats from device memory src into dst (at dstOffset floats), queued like an op. */
    protected abstract void downloadRaw(Staging dst, long dstOffset, MemorySegment src, long count);

    @Override
    public abstract void close();

    // ---- host round trips, counted ----

    private final LongAdder writes = new LongAdder(), reads = new LongAdder(), syncs = new LongAdder(),
            uploads = new LongAdder(), downloads = new LongAdder();

    /**
     * The host round trips and copies asked of this backend so far: writes and reads (each waits for
     * queued work on a GPU), synchronizations, and the staged uploads and downloads (which do not
     * wait). A training loop shaped for a GPU keeps the first three bounded per epoch, however many
     * steps it has.
     */
    public record Traffic(long writes, long reads, long synchronizations, long uploads, long downloads) {
        /** The calls that make the host wait for the device. */
        public long roundTrips() {
            return writes + reads + synchronizations;
        }

        /** The traffic between before and this, counter by counter. */
        public Traffic since(Traffic before) {
            return new Traffic(writes - before.writes, reads - before.reads, synchronizations - before.synchronizations,
                    uploads - before.uploads, downloads - before.downloads);
        }
    }

    /** The counts so far; take two and subtract with {@link Traffic#since} to measure a stretch of work. */
    public final Traffic traffic() {
        return new Traffic(writes.sum(), reads.sum(), syncs.sum(), uploads.sum(), downloads.sum());
    }

    /** Waits for all queued work. */
    public final void synchronize() {
        syncs.increment();
        finish();
    }

    /** A zero-filled tensor owned by the caller (close it, or use try-with-resources). */
    public final Tensor allocate(int... shape) {
        return allocateZeroed(shape.clone(), Math.multiplyExact(Tensor.numel(shape), (long) Float.BYTES));
    }

    /** dst ← src[srcOffset, srcOffset + dst.numel()). */
    public final void write(Tensor dst, float[] src, int srcOffset) {
        own(dst);
        long n = dst.numel();
        if (srcOffset < 0 || srcOffset + n > src.length) {
            throw new IndexOutOfBoundsException("write: " + n + " floats from offset " + srcOffset + " of " + src.length);
        }
        writes.increment();
        if (n > 0) copyIn(dst.memory(), src, srcOffset, (int) n);
    }

    /** dst ← src[0, dst.numel()). */
    public final void write(Tensor dst, float[] src) {
        write(dst, src, 0);
    }

    /** dst[0, src.numel()) ← src, after all queued work. */
    public final void read(Tensor src, float[] dst) {
        own(src);
        long n = src.numel();
        if (n > dst.length) throw new IndexOutOfBoundsException("read: " + n + " floats into an array of " + dst.length);
        reads.increment();
        if (n > 0) {
            copyOut(src.memory(), dst, (int) n);
        } else {
            finish(); // read waits for queued work even when there is nothing to copy
        }
    }

    /** dst ← src, element counts equal (shapes may differ). */
    public final void copy(Tensor dst, Tensor src) {
        own(dst, src);
        if (dst.numel() != src.numel()) throw new IllegalArgumentException("copy: " + src + " into " + dst);
        if (src.numel() > 0) copyRaw(dst.memory(), src.memory(), src.byteSize());
    }

    /** Every element of t ← value, queued like an op. */
    public final void fill(Tensor t, float value) {
        own(t);
        if (t.numel() > 0) fillRaw(t.memory(), t.numel(), value);
    }

    // ---- per-step values, written in stream order ----

    /**
     * t ← values, queued like an op and without a host round trip: the per-step values (a learning
     * rate) that ops read from memory when they run, also inside a replayed step.
     */
    public final void set(Tensor t, float... values) {
        own(t);
        if (t.numel() != values.length) throw new IllegalArgumentException("set: " + values.length + " values into " + t);
        MemorySegment m = t.memory();
        for (int i = 0; i < values.length; i++) setWord(m, i, Float.floatToRawIntBits(values[i]));
    }

    /**
     * The 8 bytes of slot (two floats' room, 8-byte aligned) ← value, queued like an op: a 64-bit
     * offset that the noise and sampling ops read with their offsetAt argument.
     */
    public final void setLong(Tensor slot, long value) {
        own(slot);
        MemorySegment m = Checks.longSlot("setLong", slot);
        setWord(m, 0, (int) value); // little-endian, as both the host and the GPU read a uint64_t
        setWord(m, 1, (int) (value >>> 32));
    }

    // ---- staged copies: the host does not wait ----

    /**
     * Host memory the backend copies to and from without making the host wait (page-locked on a
     * GPU, plain memory on the CPU). After {@link #upload} or {@link #download}, the memory belongs to
     * the copy until {@link #done()} or {@link #await()}.
     */
    public abstract static class Staging implements AutoCloseable {
        /** For backends: each makes its own kind of host memory. */
        protected Staging() {}

        /** The host memory, count floats. */
        public abstract MemorySegment memory();

        /** Whether the last copy into or out of this memory has completed. */
        public abstract boolean done();

        /** Waits for the last copy into or out of this memory. */
        public abstract void await();

        /** The size in floats. */
        public long count() {
            return memory().byteSize() / Float.BYTES;
        }

        /** Float i of the memory; wait for a download first ({@link #done()} or {@link #await()}). */
        public float get(long i) {
            return memory().getAtIndex(ValueLayout.JAVA_FLOAT, i);
        }

        @Override
        public abstract void close();
    }

    /** Staging memory for count floats (at least 1), owned by the caller. */
    public final Staging staging(long count) {
        if (count < 1) throw new IllegalArgumentException("staging memory of " + count + " floats");
        return newStaging(count);
    }

    /** dst ← src[srcOffset, srcOffset + dst.numel()), queued like an op; src is the copy's until src.done(). */
    public final void upload(Tensor dst, Staging src, long srcOffset) {
        own(dst);
        if (srcOffset < 0 || srcOffset + dst.numel() > src.count()) {
            throw new IndexOutOfBoundsException("upload: " + dst.numel() + " floats from offset " + srcOffset + " of "
                    + src.count());
        }
        uploads.increment();
        if (dst.numel() > 0) uploadRaw(dst.memory(), src, srcOffset, dst.numel());
    }

    /** dst[dstOffset, dstOffset + src.numel()) ← src, queued like an op; the values are there once dst.done(). */
    public final void download(Staging dst, long dstOffset, Tensor src) {
        own(src);
        if (dstOffset < 0 || dstOffset + src.numel() > dst.count()) {
            throw new IndexOutOfBoundsException("download: " + src.numel() + " floats to offset " + dstOffset + " of "
                    + dst.count());
        }
        downloads.increment();
        if (src.numel() > 0) downloadRaw(dst, dstOffset, src.memory(), src.numel());
    }

    // ---- steps recorded once ----

    /** A step run as one unit; see {@link #replayable}. */
    public interface Replay extends AutoCloseable {
        /** Runs the step (on a GPU, by replaying its recording once there is one). */
        void run();

        @Override
        void close();
    }

    /**
     * step as one replayable unit. step may only queue ops: no read, write, synchronize or
     * allocation (after its first run, which is always eager: layers allocate their buffers when
     * first used), and no host-side state that changes from run to run (values that change reach
     * its ops through memory: {@link #set}, {@link #setLong}). On the CPU every run is the plain
     * call; a GPU records it once (see CudaBackend) and replays it.
     */
    public Replay replayable(Runnable step) {
        return new Replay() {
            @Override
            public void run() {
                step.run();
            }

            @Override
            public void close() {
                // nothing recorded
            }
        };
    }

    // ---- independent chunks of a step ----

    /**
     * Runs body(0 … count−1): chunks of a step that touch disjoint memory (a model's image lanes,
     * see {@link dev.denoise.model.Autoencoder}). On the CPU they are spread over the backend's
     * threads, each op inside running on the one thread that calls it; on a GPU they are queued one
     * after another on its stream (body only queues ops there). The results must not depend on
     * which thread runs which chunk: each chunk writes only its own outputs.
     */
    public void forEachChunk(int count, IntConsumer body) {
        for (int c = 0; c < count; c++) body.accept(c);
    }

    /**
     * Runs ops with every op on the calling thread alone (CPU): for the few ops of a step around its
     * {@link #forEachChunk}s, which would otherwise start a team of threads that keeps spinning
     * after each op, on the cores the chunks run on. On a GPU, just runs them.
     */
    public void serially(Runnable ops) {
        ops.run();
    }

    /** Throws unless every tensor (null allowed) belongs to this backend. */
    protected final void own(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.backend() != this) {
                throw new IllegalArgumentException(t + " belongs to another backend than " + describe());
            }
        }
    }

    private static MemorySegment mem(Tensor t) {
        return t == null ? MemorySegment.NULL : t.memory();
    }

    // ---- GEMM: c = alpha op(a) op(b) + beta c, all rank 2, row-major ----

    /** beta 0 ignores c's old contents (NaN in c does not propagate). */
    public final void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        own(a, b, c);
        GemmDims d = Checks.gemm(transA, transB, a, b, c);
        if (d.m() == 0 || d.n() == 0) return; // no output element
        kernels().gemm(d, alpha, a.memory(), b.memory(), beta, c.memory());
    }

    // ---- bias + activation: inp/out (N, C, ...), bias (C) or null ----

    /** out = act(inp + bias); out may be inp. */
    public final void bias_act_forward(Tensor out, Tensor inp, Tensor bias, Activation act) {
        own(out, inp, bias);
        ChannelDims d = Checks.biasAct("bias_act_forward", out, inp, bias);
        kernels().bias_act_forward(out.memory(), inp.memory(), mem(bias), d, act.code);
    }

    /** dinp = dout·act'(out) from the forward's output; dbias (C) or null. dinp may be dout. */
    public final void bias_act_backward(Tensor dinp, Tensor dbias, Tensor dout, Tensor out, Activation act) {
        own(dinp, dbias, dout, out);
        Checks.same("bias_act_backward", "dout", dout, out);
        ChannelDims d = Checks.biasAct("bias_act_backward", dinp, out, dbias);
        kernels().bias_act_backward(dinp.memory(), mem(dbias), dout.memory(), out.memory(), d, act.code);
    }

    // ---- conv2d, stride 1, 'same' padding, odd kernel: inp (N,C,H,W), weight (K,C,R,S) ----

    /** out (N,K,H,W) = act(conv(inp, weight) + bias); bias (K) or null; act identity, ReLU or sigmoid. */
    public final void conv2d_forward(Tensor out, Tensor inp, Tensor weight, Tensor bias, Activation act) {
        own(out, inp, weight, bias);
        if (act == Activation.CLAMP01) throw new IllegalArgumentException("conv2d_forward: clamp is not fused (use bias_act_forward)");
        ConvDims d = Checks.conv2d("conv2d_forward", out, inp, weight);
        if (bias != null) Checks.shape("conv2d_forward", "bias", bias, d.k());
        kernels().conv2d_forward(out.memory(), inp.memory(), weight.memory(), mem(bias), d, act.code);
    }

    /** dinp (N,C,H,W) from dout (N,K,H,W) and weight (K,C,R,S). */
    public final void conv2d_backward_data(Tensor dinp, Tensor dout, Tensor weight) {
        own(dinp, dout, weight);
        ConvDims d = Checks.conv2d("conv2d_backward_data", dout, dinp, weight);
        kernels().conv2d_backward_data(dinp.memory(), dout.memory(), weight.memory(), d);
    }

    /**
     * conv2d_backward_data, then upsample2d_backward, for a conv whose input was upsampled: dinp
     * (N,C,H/2,W/2) from dout (N,K,H,W) and weight (K,C,R,S); the same numbers as the two ops, without
     * the full-size gradient in between.
     */
    public final void upsample2d_conv2d_backward_data(Tensor dinp, Tensor dout, Tensor weight) {
        own(dinp, dout, weight);
        ConvDims d = Checks.upsampleConv2d("upsample2d_conv2d_backward_data", dinp, dout, weight);
        kernels().upsample2d_conv2d_backward_data(dinp.memory(), dout.memory(), weight.memory(), d);
    }

    /** dweight (K,C,R,S) from dout (N,K,H,W) and inp (N,C,H,W). */
    public final void conv2d_backward_filter(Tensor dweight, Tensor dout, Tensor inp) {
        own(dweight, dout, inp);
        ConvDims d = Checks.conv2d("conv2d_backward_filter", dout, inp, dweight);
        kernels().conv2d_backward_filter(dweight.memory(), dout.memory(), inp.memory(), d);
    }

    /** dbias (K) = the sum of dout (N,K,H,W) over N, H, W. */
    public final void conv2d_backward_bias(Tensor dbias, Tensor dout) {
        own(dbias, dout);
        int[] x = Checks.rank("conv2d_backward_bias", "dout", dout, 4);
        Checks.shape("conv2d_backward_bias", "dbias", dbias, x[1]);
        kernels().conv2d_backward_bias(dbias.memory(), dout.memory(), new ImageDims(x[0], x[1], x[2], x[3]));
    }

    // ---- 2x2 max-pool and 2x nearest upsample (NCHW) ----

    /** out (N,C,H/2,W/2) = the maxima of inp's 2x2 blocks (floor, as PyTorch). */
    public final void maxpool2d_forward(Tensor out, Tensor inp) {
        own(out, inp);
        ImageDims d = Checks.pool2("maxpool2d_forward", inp, out);
        kernels().maxpool2d_forward(out.memory(), inp.memory(), d);
    }

    /** dinp (inp's shape) = dout at each block's first maximum, 0 elsewhere. */
    public final void maxpool2d_backward(Tensor dinp, Tensor dout, Tensor inp) {
        own(dinp, dout, inp);
        Checks.same("maxpool2d_backward", "dinp", dinp, inp);
        ImageDims d = Checks.pool2("maxpool2d_backward", inp, dout);
        kernels().maxpool2d_backward(dinp.memory(), dout.memory(), inp.memory(), d);
    }

    /**
     * maxpool2d_backward, then the ReLU backward of the layer whose ReLU output is inp: dinp =
     * relu'(inp) * (maxpool2d_backward(dout, inp) + dskip), dbias (C) = its sum over N, H, W (or
     * null). dskip (inp's shape) is the gradient of a skip connection that also reads inp, or null.
     * One pass instead of three over the (larger) unpooled gradient; the same numbers as
     * maxpool2d_backward, add and bias_act_backward.
     */
    public final void maxpool2d_relu_backward(Tensor dinp, Tensor dbias, Tensor dout, Tensor dskip, Tensor inp) {
        String op = "maxpool2d_relu_backward";
        own(dinp, dbias, dout, dskip, inp);
        Checks.same(op, "dinp", dinp, inp);
        if (dskip != null) Checks.same(op, "dskip", dskip, inp);
        ImageDims d = Checks.pool2(op, inp, dout);
        if (dbias != null) Checks.shape(op, "dbias", dbias, d.c());
        kernels().maxpool2d_relu_backward(dinp.memory(), mem(dbias), dout.memory(), mem(dskip), inp.memory(), d);
    }

    /** out (N,C,2H,2W) = each element of inp (N,C,H,W) repeated over a 2x2 block. */
    public final void upsample2d_forward(Tensor out, Tensor inp) {
        own(out, inp);
        ImageDims d = Checks.upsample2("upsample2d_forward", out, inp);
        kernels().upsample2d_forward(out.memory(), inp.memory(), d);
    }

    /** dinp (N,C,H,W) = the sums of dout's 2x2 blocks. */
    public final void upsample2d_backward(Tensor dinp, Tensor dout) {
        own(dinp, dout);
        ImageDims d = Checks.upsample2("upsample2d_backward", dout, dinp);
        kernels().upsample2d_backward(dinp.memory(), dout.memory(), d);
    }

    // ---- elementwise sum ----

    /**
     * out = a + b, all one shape; out may be a or b. A skip connection's forward; its backward hands
     * dout to both inputs unchanged, and where a tensor feeds two layers, add sums their gradients.
     */
    public final void add(Tensor out, Tensor a, Tensor b) {
        own(out, a, b);
        long n = Checks.sameAll("add", out, a, b);
        kernels().add(out.memory(), a.memory(), b.memory(), n);
    }

    // ---- losses, per image: first dimension N, the rest flattened to D ----

    /** loss (N) = per-image sum of BCE(sigmoid(logits), target). */
    public final void sigmoid_bce_forward(Tensor loss, Tensor logits, Tensor target) {
        own(loss, logits, target);
        RowDims d = Checks.perImage("sigmoid_bce_forward", loss, logits, target);
        kernels().sigmoid_bce_forward(loss.memory(), logits.memory(), target.memory(), d);
    }

    /** dlogits = scale·(sigmoid(logits) − target); scale 1/(N·D) for the mean, 1/N for sums. */
    public final void sigmoid_bce_backward(Tensor dlogits, Tensor logits, Tensor target, float scale) {
        own(dlogits, logits, target);
        Checks.same("sigmoid_bce_backward", "dlogits", dlogits, logits);
        RowDims d = Checks.perImage("sigmoid_bce_backward", null, logits, target);
        kernels().sigmoid_bce_backward(dlogits.memory(), logits.memory(), target.memory(), d, scale);
    }

    /** loss (N) = per-image mean squared error. */
    public final void mse_forward(Tensor loss, Tensor pred, Tensor target) {
        own(loss, pred, target);
        RowDims d = Checks.perImage("mse_forward", loss, pred, target);
        kernels().mse_forward(loss.memory(), pred.memory(), target.memory(), d);
    }

    /** dpred = scale·2·(pred − target). */
    public final void mse_backward(Tensor dpred, Tensor pred, Tensor target, float scale) {
        own(dpred, pred, target);
        Checks.same("mse_backward", "dpred", dpred, pred);
        RowDims d = Checks.perImage("mse_backward", null, pred, target);
        kernels().mse_backward(dpred.memory(), pred.memory(), target.memory(), d, scale);
    }

    /** psnr (N) in dB with MAX = 1 (100 dB for an exact match). */
    public final void psnr_forward(Tensor psnr, Tensor pred, Tensor target) {
        own(psnr, pred, target);
        RowDims d = Checks.perImage("psnr_forward", psnr, pred, target);
        kernels().psnr_forward(psnr.memory(), pred.memory(), target.memory(), d);
    }

    // ---- VAE: mu, logvar, eps, z (N, L) ----

    /** z = mu + exp(logvar/2)·eps with eps the Philox normals of (seed, offset), stored in eps. */
    public final void reparam_forward(Tensor z, Tensor eps, Tensor mu, Tensor logvar, long seed, long offset) {
        own(z, eps, mu, logvar);
        long n = Checks.sameAll("reparam_forward", mu, logvar, z, eps);
        kernels().reparam_forward(z.memory(), eps.memory(), mu.memory(), logvar.memory(), n, seed, offset,
                MemorySegment.NULL);
    }

    /** reparam_forward with the offset read from offsetAt (see {@link #setLong}) when the op runs. */
    public final void reparam_forward(Tensor z, Tensor eps, Tensor mu, Tensor logvar, long seed, Tensor offsetAt) {
        own(z, eps, mu, logvar, offsetAt);
        long n = Checks.sameAll("reparam_forward", mu, logvar, z, eps);
        kernels().reparam_forward(z.memory(), eps.memory(), mu.memory(), logvar.memory(), n, seed, 0,
                Checks.longSlot("reparam_forward", offsetAt));
    }

    /** dmu = dz; dlogvar = dz·eps·exp(logvar/2)/2. dmu may be dz. */
    public final void reparam_backward(Tensor dmu, Tensor dlogvar, Tensor dz, Tensor logvar, Tensor eps) {
        own(dmu, dlogvar, dz, logvar, eps);
        long n = Checks.sameAll("reparam_backward", dz, dmu, dlogvar, logvar, eps);
        kernels().reparam_backward(dmu.memory(), dlogvar.memory(), dz.memory(), logvar.memory(), eps.memory(), n);
    }

    /** loss (N) = KL(N(mu, exp(logvar)) ‖ N(0, I)) per image. */
    public final void kl_forward(Tensor loss, Tensor mu, Tensor logvar) {
        own(loss, mu, logvar);
        RowDims d = Checks.perImage("kl_forward", loss, mu, logvar);
        kernels().kl_forward(loss.memory(), mu.memory(), logvar.memory(), d);
    }

    /** ADDS scale·∂KL/∂mu to dmu and scale·∂KL/∂logvar to dlogvar. */
    public final void kl_backward(Tensor dmu, Tensor dlogvar, Tensor mu, Tensor logvar, float scale) {
        own(dmu, dlogvar, mu, logvar);
        Checks.sameAll("kl_backward", mu, logvar, dmu, dlogvar);
        RowDims d = Checks.perImage("kl_backward", null, mu, logvar);
        kernels().kl_backward(dmu.memory(), dlogvar.memory(), mu.memory(), logvar.memory(), d, scale);
    }

    // ---- Adam over one flat parameter buffer ----

    /** One Adam step t ≥ 1 (bias-corrected) on param, m, v with grad, all the same size. */
    public final void adam_update(Tensor param, Tensor m, Tensor v, Tensor grad, float lr, float beta1, float beta2,
                                  float eps, int t) {
        own(param, m, v, grad);
        if (t < 1) throw new IllegalArgumentException("adam_update: step t must be >= 1, got " + t);
        long n = Checks.sameAll("adam_update", param, m, v, grad);
        kernels().adam_update(param.memory(), m.memory(), v.memory(), grad.memory(), n, lr, beta1, beta2, eps, t,
                MemorySegment.NULL);
    }

    /**
     * adam_update with the learning rate and the bias corrections read from hyper (3) when the op runs:
     * {lr, 1/(1 − beta1^t), 1/(1 − beta2^t)}, as {@link #adamHyper} gives them.
     */
    public final void adam_update(Tensor param, Tensor m, Tensor v, Tensor grad, Tensor hyper, float beta1,
                                  float beta2, float eps) {
        own(param, m, v, grad, hyper);
        long n = Checks.sameAll("adam_update", param, m, v, grad);
        Checks.shape("adam_update", "hyper", hyper, 3);
        kernels().adam_update(param.memory(), m.memory(), v.memory(), grad.memory(), n, 0f, beta1, beta2, eps, 1,
                hyper.memory());
    }

    /** Adam's bias corrections 1/(1 − beta^t) as native/adam.c computes them: in double, rounded to float. */
    public static float[] adamCorrections(float beta1, float beta2, int t) {
        return new float[] {(float) (1.0 / (1.0 - Math.pow(beta1, t))), (float) (1.0 / (1.0 - Math.pow(beta2, t)))};
    }

    /** {lr, 1/(1 − beta1^t), 1/(1 − beta2^t)}: the hyper tensor of step t. */
    public static float[] adamHyper(float lr, float beta1, float beta2, int t) {
        if (t < 1) throw new IllegalArgumentException("adam_update: step t must be >= 1, got " + t);
        float[] c = adamCorrections(beta1, beta2, t);
        return new float[] {lr, c[0], c[1]};
    }

    // ---- noise, from Philox 4x32-10 keyed by (seed, offset + element): same noise on every device ----

    /** out = clamp(inp + sigma·N(0,1), 0, 1). out may be inp. */
    public final void noise_gaussian(Tensor out, Tensor inp, float sigma, long seed, long offset) {
        own(out, inp);
        long n = Checks.sameAll("noise_gaussian", inp, out);
        kernels().noise_gaussian(out.memory(), inp.memory(), n, sigma, seed, offset, MemorySegment.NULL);
    }

    /** noise_gaussian with the offset read from offsetAt (see {@link #setLong}) when the op runs. */
    public final void noise_gaussian(Tensor out, Tensor inp, float sigma, long seed, Tensor offsetAt) {
        own(out, inp, offsetAt);
        long n = Checks.sameAll("noise_gaussian", inp, out);
        kernels().noise_gaussian(out.memory(), inp.memory(), n, sigma, seed, 0,
                Checks.longSlot("noise_gaussian", offsetAt));
    }

    /**
     * Blind-denoising noise: each image (row of dim 0) gets its own sigma, uniform in [sigmaLo,
     * sigmaHi] from Philox (counter (row, offset), key seed ^ DN_SIGMA_KEY), then out = clamp(inp +
     * sigma·N(0,1), 0, 1) with noise_gaussian's normals: sigmaLo == sigmaHi gives its bits. out may be inp.
     */
    public final void noise_gaussian_range(Tensor out, Tensor inp, float sigmaLo, float sigmaHi, long seed, long offset) {
        own(out, inp);
        gaussianRange(out, inp, sigmaLo, sigmaHi, seed, offset, MemorySegment.NULL);
    }

    /** noise_gaussian_range with the offset read from offsetAt (see {@link #setLong}) when the op runs. */
    public final void noise_gaussian_range(Tensor out, Tensor inp, float sigmaLo, float sigmaHi, long seed, Tensor offsetAt) {
        own(out, inp, offsetAt);
        gaussianRange(out, inp, sigmaLo, sigmaHi, seed, 0, Checks.longSlot("noise_gaussian_range", offsetAt));
    }

    private void gaussianRange(Tensor out, Tensor inp, float sigmaLo, float sigmaHi, long seed, long offset,
                               MemorySegment offsetAt) {
        long n = Checks.sameAll("noise_gaussian_range", inp, out);
        if (!(sigmaLo >= 0 && sigmaHi >= sigmaLo && Float.isFinite(sigmaHi))) {
            throw new IllegalArgumentException("noise_gaussian_range: sigma range [" + sigmaLo + ", " + sigmaHi + "]");
        }
        if (n == 0) return;
        long rows = inp.dim(0);
        kernels().noise_gaussian_range(out.memory(), inp.memory(), rows, n / rows, sigmaLo, sigmaHi - sigmaLo, seed,
                offset, offsetAt);
    }

    /** out = 0 with probability p/2, 1 with p/2, else inp. out may be inp. */
    public final void noise_salt_pepper(Tensor out, Tensor inp, float p, long seed, long offset) {
        own(out, inp);
        long n = Checks.sameAll("noise_salt_pepper", inp, out);
        kernels().noise_salt_pepper(out.memory(), inp.memory(), n, p, seed, offset, MemorySegment.NULL);
    }

    /** noise_salt_pepper with the offset read from offsetAt (see {@link #setLong}) when the op runs. */
    public final void noise_salt_pepper(Tensor out, Tensor inp, float p, long seed, Tensor offsetAt) {
        own(out, inp, offsetAt);
        long n = Checks.sameAll("noise_salt_pepper", inp, out);
        kernels().noise_salt_pepper(out.memory(), inp.memory(), n, p, seed, 0,
                Checks.longSlot("noise_salt_pepper", offsetAt));
    }

    /** out = standard normal draws. */
    public final void noise_normal(Tensor out, long seed, long offset) {
        own(out);
        kernels().noise_normal(out.memory(), out.numel(), seed, offset, MemorySegment.NULL);
    }

    // ---- device-resident data: batches gathered and losses totalled where the data lives ----

    /**
     * out (B, ...) = rows idx[0..B) of inp (rows, ...): a batch assembled from a data set kept on
     * the device. idx holds row numbers as floats (see {@link #writeIndices}); one out of range or
     * not an integer yields a row of NaN.
     */
    public final void gather_rows(Tensor out, Tensor inp, Tensor idx) {
        own(out, inp, idx);
        if (inp.rank() < 1 || idx.rank() != 1) {
            throw new IllegalArgumentException("gather_rows: inp " + Arrays.toString(inp.shape()) + " and idx "
                    + Arrays.toString(idx.shape()) + " (rank >= 1 and rank 1 expected)");
        }
        int rows = inp.dim(0), b = idx.dim(0);
        int[] expected = inp.shape();
        expected[0] = b;
        Checks.shape("gather_rows", "out", out, expected);
        int d = rows == 0 ? 0 : Math.toIntExact(inp.numel() / rows);
        kernels().gather_rows(out.memory(), inp.memory(), idx.memory(), new RowDims(b, d), rows);
    }

    /** idx ← rows[from, from + idx.numel()) as floats, after checking each is in [0, DN_MAX_GATHER_ROWS). */
    public final void writeIndices(Tensor idx, int[] rows, int from) {
        int n = Math.toIntExact(idx.numel());
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            int r = rows[from + i];
            if (r < 0 || r >= Abi.DN_MAX_GATHER_ROWS) {
                throw new IllegalArgumentException("gather_rows: row index " + r + " out of range");
            }
            f[i] = r;
        }
        write(idx, f);
    }

    /**
     * out (1) = (accumulate ? out : 0) + scale·sum(inp), deterministic and with the same bits on
     * every backend: a training loop totals per-image losses here and reads the total back rarely.
     */
    public final void sum_scaled(Tensor out, Tensor inp, float scale, boolean accumulate) {
        own(out, inp);
        if (out.numel() != 1) {
            throw new IllegalArgumentException("sum_scaled: out has shape " + Arrays.toString(out.shape())
                    + ", expected one element");
        }
        kernels().sum_scaled(out.memory(), inp.memory(), inp.numel(), scale, accumulate);
    }

    @Override
    public String toString() {
        return describe();
    }
}
