#!/usr/bin/env python3
"""PyTorch reference ("peer") of the denoise autoencoders, for side-by-side comparison on the CPU.

The three MNIST models of the Java project (dense, vae, conv) are rebuilt here with the same
architectures, the same state_dict names and shapes, and the same training recipe, so that
speed (images/s) and quality (test PSNR) can be compared with an established framework, and
model files written by either side can be evaluated by the other.

    dense  e1 Linear(784,256) ReLU, e2 Linear(256,64) ReLU | d1 Linear(64,256) ReLU, d2 Linear(256,784)
    vae    e1 Linear(784,256) ReLU, mu / logvar Linear(256,L) | z = mu + exp(logvar/2)*eps |
           d1 Linear(L,256) ReLU, d2 Linear(256,784)                  (L = 16; z = mu when evaluating)
    conv   e1 Conv3x3(1,32) ReLU, MaxPool2, e2 Conv3x3(32,32) ReLU, MaxPool2 |
           d1 Conv3x3(32,32) ReLU, Upsample2, d2 Conv3x3(32,32) ReLU, Upsample2, d3 Conv3x3(32,1)
    skip   e1 Conv3x3(1,16) ReLU, MaxPool2, e2 Conv3x3(16,32) ReLU, MaxPool2 |
           d1 Conv3x3(32,32) ReLU, Upsample2 + e2, d2 Conv3x3(32,16) ReLU, Upsample2 + e1, d3 Conv3x3(16,1)

Every model outputs logits; the denoised image is their sigmoid. Recipe: Adam (lr 1e-3,
betas 0.9/0.999, eps 1e-8), batch 128, reshuffled every epoch, fresh Gaussian noise (sigma 0.5,
clipped to [0,1]) on the clean training images every epoch, target = the clean image; loss is
BCE-with-logits (mean) for dense/conv, and for the VAE the per-image summed BCE plus
KL(q||N(0,I)), both averaged over the batch. Quality is the mean per-image PSNR (MAX = 1) over
the 10,000 test images, noised with sigma 0.5 from a fixed seed, of the denoised output and,
as the baseline, of the noisy input.

Usage (from the repository root; needs torch and numpy, and MNIST IDX files from `make data`):

    python3 bench/peers/torch_models.py train --model dense --epochs 10 --threads 1 --data data/mnist
    python3 bench/peers/torch_models.py train --model vae --epochs 1 --train-size 60000 --json vae.json
    python3 bench/peers/torch_models.py train --model conv --epochs 1 --save conv.safetensors
    python3 bench/peers/torch_models.py speed --model conv --threads 2 --batch 128 --steps 50 --infer 1000
    python3 bench/peers/torch_models.py eval  --weights runs/demo/dense.safetensors --data data/mnist

`train` prints one line per epoch (loss, seconds, images/s; with --eval-each also the test
PSNR) and the final test PSNR; `speed` times training (best and median of --rounds rounds of
--steps optimiser steps, after a warm-up) and inference over --infer images; `eval` loads a
safetensors model file (as written by the Java side or by `train --save`) and prints its test
PSNR. `--json FILE` writes the same results as JSON.

Speed needs an optimised BLAS. Debian's python3-torch runs Linear layers on whatever
libblas.so.3 the system selects; with the reference libblas3 they are about 40x slower than with
OpenBLAS (apt-get install libopenblas0-openmp, which matches torch's OpenMP threading). The BLAS
in use is recorded in the JSON and a warning is printed when it is the reference one.
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGE_SHAPE = (1, 28, 28)
IMAGE_SIZE = 28 * 28
NOISE_SIGMA = 0.5
# The Java side evaluates every model on noise drawn from this seed; the generators differ
# (Philox there, torch's CPU generator here), so the noisy test images are statistically, not
# bitwise, the same. The PSNR of the noisy input is printed so the two baselines can be compared.
TEST_NOISE_SEED = 0x7E575EED
# Identical images have an infinite PSNR; capped as in dev.denoise.metrics.Psnr so means stay finite.
IDENTICAL_DB = 100.0


# ---------------------------------------------------------------- data

def _open_idx(path):
    # Accept the raw files as `make data` leaves them and the .gz files of the original site.
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            return gzip.open(candidate, "rb") if candidate.endswith(".gz") else open(candidate, "rb")
    raise FileNotFoundError(f"{path} (or {path}.gz) not found; run `make data` or pass --data DIR")


def read_idx_images(path):
    """An IDX3 image file as float32 (N, 1, H, W) in [0, 1]."""
    with _open_idx(path) as f:
        raw = f.read()
    magic, n, h, w = struct.unpack(">IIII", raw[:16])
    if magic != 0x00000803:
        raise ValueError(f"{path}: not an IDX3 unsigned-byte image file (magic {magic:#010x})")
    if len(raw) != 16 + n * h * w:
        raise ValueError(f"{path}: {len(raw)} bytes, expected {16 + n * h * w} for {n} images of {h}x{w}")
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 1, h, w)
    return pixels.astype(np.float32) / np.float32(255.0)


def load_mnist(data_dir, split):
    name = "train-images-idx3-ubyte" if split == "train" else "t10k-images-idx3-ubyte"
    return torch.from_numpy(read_idx_images(os.path.join(data_dir, name)))


def add_gaussian_noise(clean, sigma, generator):
    """clean + N(0, sigma^2), clipped to [0, 1] so the noisy image is still a valid image."""
    noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype)
    return (clean + sigma * noise).clamp_(0.0, 1.0)


# ---------------------------------------------------------------- models

class DenseAE(nn.Module):
    def __init__(self, hidden=256, latent=64):
        super().__init__()
        self.e1 = nn.Linear(IMAGE_SIZE, hidden)
        self.e2 = nn.Linear(hidden, latent)
        self.d1 = nn.Linear(latent, hidden)
        self.d2 = nn.Linear(hidden, IMAGE_SIZE)

    def forward(self, x):
        n = x.shape[0]
        h = F.relu(self.e2(F.relu(self.e1(x.reshape(n, IMAGE_SIZE)))))
        return self.d2(F.relu(self.d1(h))).reshape(n, *IMAGE_SHAPE)

    def loss(self, x, target):
        return F.binary_cross_entropy_with_logits(self(x), target)


class VAE(nn.Module):
    def __init__(self, hidden=256, latent=16):
        super().__init__()
        self.e1 = nn.Linear(IMAGE_SIZE, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.d1 = nn.Linear(latent, hidden)
        self.d2 = nn.Linear(hidden, IMAGE_SIZE)

    def encode(self, x):
        h = F.relu(self.e1(x.reshape(x.shape[0], IMAGE_SIZE)))
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.d2(F.relu(self.d1(z))).reshape(z.shape[0], *IMAGE_SHAPE)

    def forward(self, x):
        # Evaluation is deterministic: the mean of q(z|x) is the best single code for denoising.
        mu, _ = self.encode(x)
        return self.decode(mu)

    def loss(self, x, target):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # reparameterisation trick
        logits = self.decode(z)
        n = x.shape[0]
        # Summed over pixels and latents per image, averaged over the batch: the ELBO per image,
        # so the KL term keeps its proper weight against the 784-pixel reconstruction term.
        bce = F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / n
        kl = -0.5 * torch.sum(1.0 + logvar - mu * mu - torch.exp(logvar)) / n
        return bce + kl


def _stage(module, name, cin, cout, n, widen_first):
    """n 3x3 convs cin -> cout named name, name_2, ..., name_n (as the Java model's weights): an
    encoder stage widens in its first conv, a decoder stage narrows in its last."""
    mid = cout if widen_first else cin
    for k in range(n):
        setattr(module, name if k == 0 else f"{name}_{k + 1}",
                nn.Conv2d(cin if k == 0 else mid, cout if k == n - 1 else mid, 3, padding=1))


def _run(module, name, n, x, linear_last=False):
    for k in range(n):
        x = getattr(module, name if k == 0 else f"{name}_{k + 1}")(x)
        if not (linear_last and k == n - 1):
            x = F.relu(x)
    return x


def _up(x):
    return F.interpolate(x, scale_factor=2, mode="nearest")


class ConvAE(nn.Module):
    """The seed's conv autoencoder (level_convs=1): e1, pool, e2, pool | d1, up, d2, up, d3."""

    def __init__(self, width=32, level_convs=1, channels=1):
        super().__init__()
        self.n = level_convs
        _stage(self, "e1", channels, width, self.n, True)
        _stage(self, "e2", width, width, self.n, True)
        _stage(self, "d1", width, width, self.n, False)
        _stage(self, "d2", width, width, self.n, False)
        _stage(self, "d3", width, channels, self.n, False)

    def forward(self, x):
        h = F.max_pool2d(_run(self, "e1", self.n, x), 2)          # 28 -> 14
        h = F.max_pool2d(_run(self, "e2", self.n, h), 2)          # 14 -> 7
        h = _up(_run(self, "d1", self.n, h))                      # 7 -> 14
        h = _up(_run(self, "d2", self.n, h))                      # 14 -> 28
        return _run(self, "d3", self.n, h, linear_last=True)

    def loss(self, x, target):
        return F.binary_cross_entropy_with_logits(self(x), target)


class SkipAE(nn.Module):
    """Additive skips, U-Net style: each upsampled decoder map plus the encoder's ReLU map of its
    size; channels double per level (width at 28x28, 2*width at 14x14 and 7x7); level_convs 3x3
    convs per stage."""

    def __init__(self, width=12, level_convs=2, channels=1):
        super().__init__()
        self.n = level_convs
        _stage(self, "e1", channels, width, self.n, True)
        _stage(self, "e2", width, 2 * width, self.n, True)
        _stage(self, "d1", 2 * width, 2 * width, self.n, False)
        _stage(self, "d2", 2 * width, width, self.n, False)
        _stage(self, "d3", width, channels, self.n, False)

    def forward(self, x):
        s1 = _run(self, "e1", self.n, x)                          # 28
        s2 = _run(self, "e2", self.n, F.max_pool2d(s1, 2))        # 14
        h = _run(self, "d1", self.n, F.max_pool2d(s2, 2))         # 7
        h = _run(self, "d2", self.n, _up(h) + s2)
        return _run(self, "d3", self.n, _up(h) + s1, linear_last=True)

    def loss(self, x, target):
        return F.binary_cross_entropy_with_logits(self(x), target)


def make_model(kind, hidden=256, latent=None, conv_width=None, level_convs=None, channels=1):
    if channels != 1 and kind in ("dense", "vae"):
        raise ValueError(f"{kind}: 1x28x28 images only")
    if kind == "dense":
        return DenseAE(hidden, 64 if latent is None else latent)
    if kind == "vae":
        return VAE(hidden, 16 if latent is None else latent)
    if kind == "conv":
        return ConvAE(32 if conv_width is None else conv_width, 1 if level_convs is None else level_convs, channels)
    if kind == "skip":
        return SkipAE(12 if conv_width is None else conv_width, 2 if level_convs is None else level_convs, channels)
    raise ValueError(f"unknown model {kind!r} (expected dense, vae, conv or skip)")


# The recipe each Java model trains with by default (dev.denoise.train.TrainConfig): batch, Adam
# learning rate, and the fraction of training at the end over which the rate falls linearly to 0.
RECIPES = {"dense": (128, 1e-3, 0.0), "vae": (128, 1e-3, 0.0), "conv": (128, 1e-3, 0.0), "skip": (16, 2e-3, 0.4)}


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)


def lr_at(lr, decay, progress):
    """As TrainConfig.lrAt: constant, then linear to 0 over the last `decay` of training."""
    return lr if decay == 0 else lr * min(1.0, max(0.0, (1.0 - progress) / decay))


# ---------------------------------------------------------------- safetensors (no extra dependency)

def save_safetensors(path, model, metadata):
    """Writes the state_dict as little-endian float32 safetensors, atomically (temp file + rename)."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, t in model.state_dict().items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # the format recommends 8-byte alignment of the data
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_safetensors(path):
    """(metadata dict, {name: float32 tensor}) of a safetensors file holding F32 tensors."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}, only F32 is supported")
        start, end = info["data_offsets"]
        arr = np.frombuffer(raw, dtype="<f4", count=(end - start) // 4, offset=base + start)
        tensors[name] = torch.from_numpy(arr.astype(np.float32).reshape(info["shape"]))
    return meta, tensors


def load_model_file(path):
    meta, tensors = read_safetensors(path)
    kind = meta.get("model")
    if kind is None:
        raise ValueError(f"{path}: no 'model' entry in the safetensors metadata")
    if meta.get("channels", "1") != "1" or meta.get("height", "28") != "28" or meta.get("width", "28") != "28":
        raise ValueError(f"{path}: only 1x28x28 (MNIST) models are supported here")
    if meta.get("conv_depth", "2") != "2":
        raise ValueError(f"{path}: only depth-2 conv and skip models are supported here")
    model = make_model(kind, int(meta.get("hidden", 256)), int(meta["latent"]) if "latent" in meta else None,
                       int(meta["conv_width"]) if "conv_width" in meta else None, int(meta.get("level_convs", 1)))  # files before level_convs: 1
    # A training checkpoint also carries optimiser state (e.g. adam.m / adam.v): only the weights matter.
    wanted = model.state_dict().keys()
    model.load_state_dict({k: v for k, v in tensors.items() if k in wanted}, strict=True)
    return kind, model


def model_metadata(kind, model):
    sd = model.state_dict()
    if kind in ("conv", "skip"):
        hidden, latent, width = 256, 64, sd["e1.weight"].shape[0]
    else:
        hidden = sd["e1.weight"].shape[0]
        latent = sd["mu.weight" if kind == "vae" else "e2.weight"].shape[0]
        width = 32
    return {"format": "denoise-model", "version": "1", "model": kind, "channels": 1, "height": 28,
            "width": 28, "hidden": hidden, "latent": latent, "conv_width": width, "conv_depth": 2,
            "level_convs": getattr(model, "n", 1),
            "noise": f"gaussian:{NOISE_SIGMA}", "trained_by": f"torch {torch.__version__}"}


# ---------------------------------------------------------------- evaluation

def mean_psnr(a, b):
    """Mean over images of 10*log10(1/MSE) (MAX = 1); per-image MSE accumulated in float64."""
    n = a.shape[0]
    mse = ((a.reshape(n, -1).double() - b.reshape(n, -1).double()) ** 2).mean(dim=1)
    db = torch.where(mse > 0, 10.0 * torch.log10(1.0 / mse.clamp_min(1e-300)), torch.full_like(mse, IDENTICAL_DB))
    return float(db.clamp_max(IDENTICAL_DB).mean())


@torch.no_grad()
def denoise(model, noisy, batch=1000):
    model.eval()
    out = torch.empty_like(noisy)
    for i in range(0, noisy.shape[0], batch):
        out[i:i + batch] = torch.sigmoid(model(noisy[i:i + batch]))
    return out


def evaluate(model, test_clean):
    noisy = add_gaussian_noise(test_clean, NOISE_SIGMA, torch.Generator().manual_seed(TEST_NOISE_SEED))
    return {"psnr_denoised_db": mean_psnr(denoise(model, noisy), test_clean),
            "psnr_noisy_db": mean_psnr(noisy, test_clean), "test_images": int(test_clean.shape[0])}


# ---------------------------------------------------------------- commands

def blas_library():
    """The BLAS shared library this process has loaded (Linear layers run on it), or None.

    Debian's torch links libblas.so.3, which resolves to whichever BLAS the system provides; the
    reference (netlib) one is some 40x slower than OpenBLAS on these matrix sizes, which would make
    any speed comparison meaningless, so it is reported with every result and warned about."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
    except OSError:
        return None
    libs = sorted(os.path.realpath(x) for x in libs if x.startswith("/"))
    return ", ".join(libs) if libs else None


def warn_if_reference_blas():
    lib = blas_library()
    if lib and "openblas" not in lib and "mkl" not in lib and "blis" not in lib:
        print(f"warning: torch uses the reference BLAS ({lib}); Linear layers will be very slow. "
              "Install an optimised one (apt-get install libopenblas0) before comparing speed.",
              file=sys.stderr, flush=True)
    return lib


def configure_threads(threads):
    torch.set_num_threads(threads)
    # Inter-op parallelism would add threads beyond T; the comparison is at a fixed thread count.
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # may only be set once, before any parallel work; harmless if already set


def train_epoch(model, opt, clean, batch, generator, schedule=None):
    """schedule(i): the learning rate before the step at image i of this epoch, or None (constant)."""
    model.train()
    n = clean.shape[0]
    perm = torch.randperm(n, generator=generator)
    total, seen = 0.0, 0
    for i in range(0, n, batch):
        if schedule is not None:
            for group in opt.param_groups:
                group["lr"] = schedule(i)
        target = clean[perm[i:i + batch]]
        # Fresh noise for every batch of every epoch: the model never sees the same corruption twice.
        noisy = add_gaussian_noise(target, NOISE_SIGMA, generator)
        opt.zero_grad(set_to_none=True)
        loss = model.loss(noisy, target)
        loss.backward()
        opt.step()
        total += float(loss) * target.shape[0]
        seen += target.shape[0]
    return total / seen


def cmd_train(args):
    configure_threads(args.threads)
    torch.manual_seed(args.seed)  # initialisation and VAE sampling
    generator = torch.Generator().manual_seed(args.seed + 1)  # shuffling and training noise
    train = load_mnist(args.data, "train")
    if args.train_size:
        train = train[:args.train_size].contiguous()
    test = load_mnist(args.data, "test")
    model = make_model(args.model, level_convs=args.level_convs)
    batch, lr, decay = RECIPES[args.model]
    batch = args.batch or batch
    opt = make_optimizer(model, lr)
    blas = warn_if_reference_blas()
    print(f"torch {torch.__version__}  model {args.model}  params {sum(p.numel() for p in model.parameters())}  "
          f"train {train.shape[0]}  batch {batch}  lr {lr} (decay {decay})  threads {torch.get_num_threads()}",
          flush=True)
    n = train.shape[0]
    epochs = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        schedule = lambda i, e=epoch - 1: lr_at(lr, decay, (e * n + i) / (args.epochs * n))
        loss = train_epoch(model, opt, train, batch, generator, schedule)
        secs = time.perf_counter() - t0
        if not math.isfinite(loss):
            sys.exit(f"epoch {epoch}: loss is {loss}, training diverged")
        rec = {"epoch": epoch, "loss": loss, "seconds": secs, "images_per_s": train.shape[0] / secs}
        line = f"epoch {epoch:3d}  loss {loss:.5f}  {secs:7.2f} s  {rec['images_per_s']:9.0f} images/s"
        if args.eval_each and epoch < args.epochs:  # the last epoch is evaluated below anyway
            rec["psnr_denoised_db"] = evaluate(model, test)["psnr_denoised_db"]
            line += f"  test PSNR {rec['psnr_denoised_db']:.3f} dB"
        epochs.append(rec)
        print(line, flush=True)
    t0 = time.perf_counter()
    result = evaluate(model, test)
    if epochs:
        epochs[-1]["psnr_denoised_db"] = result["psnr_denoised_db"]
    print(f"test PSNR  denoised {result['psnr_denoised_db']:.3f} dB  noisy {result['psnr_noisy_db']:.3f} dB  "
          f"({result['test_images']} images, {time.perf_counter() - t0:.1f} s)", flush=True)
    if args.save:
        save_safetensors(args.save, model, model_metadata(args.model, model))
        print(f"saved {args.save}")
    write_json(args.json, {"command": "train", "torch": torch.__version__, "model": args.model,
                           "threads": torch.get_num_threads(), "batch": batch, "lr": lr, "lr_decay": decay,
                           "seed": args.seed,
                           "train_images": int(train.shape[0]), "noise": f"gaussian:{NOISE_SIGMA}", "blas": blas,
                           "epochs": epochs, **result})


def cmd_speed(args):
    configure_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed + 1)
    # Real images when they are there (speed should not, but might, depend on the values, e.g.
    # through denormals or ReLU sparsity); uniform random images otherwise.
    path = os.path.join(args.data, "train-images-idx3-ubyte")
    shape = (args.channels, args.size, args.size)
    if shape == IMAGE_SHAPE and (os.path.exists(path) or os.path.exists(path + ".gz")):
        pool = load_mnist(args.data, "train")[:max(args.batch * 8, args.infer)]
    else:  # other sizes (picture patches): uniform random images, as denoise speed takes them
        pool = torch.rand((max(args.batch * 8, args.infer),) + shape, generator=generator)
    dev = torch.device(args.device)
    # plain FP32 unless asked, as denoise without --tf32: PyTorch lets cuDNN convolutions use TF32 by default
    torch.backends.cudnn.allow_tf32 = bool(args.tf32)
    torch.backends.cuda.matmul.allow_tf32 = bool(args.tf32)
    pool = pool.to(dev)
    model = make_model(args.model, level_convs=args.level_convs, channels=args.channels).to(dev)
    opt = make_optimizer(model)
    compiled = bool(args.compile) and hasattr(torch, "compile")  # 2.x has it; 1.x runs eager
    if compiled:
        model.forward = torch.compile(model.forward)
    model.train()
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def noise(target):
        if dev.type == "cuda":  # the device's own RNG: a CPU generator cannot draw device tensors
            return (target + NOISE_SIGMA * torch.randn_like(target)).clamp_(0, 1)
        return add_gaussian_noise(target, NOISE_SIGMA, generator)

    def step(k):
        i = (k * args.batch) % (pool.shape[0] - args.batch + 1)
        target = pool[i:i + args.batch]
        noisy = noise(target)  # as in training: noise is part of a step
        opt.zero_grad(set_to_none=True)
        loss = model.loss(noisy, target)
        loss.backward()
        opt.step()

    for k in range(args.warmup):  # first steps allocate buffers and pick kernels
        step(k)
    sync()
    # Several timed rounds: on a shared machine one descheduled thread stalls every OpenMP barrier,
    # so single timings scatter widely; the best round is the closest to the machine's capability.
    rounds = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for k in range(args.steps):
            step(k)
        sync()
        rounds.append(args.steps * args.batch / (time.perf_counter() - t0))
    blas = warn_if_reference_blas()
    result = {"command": "speed", "torch": torch.__version__, "blas": blas, "model": args.model,
              "device": str(dev), "compiled": compiled, "tf32": bool(args.tf32),
              "threads": torch.get_num_threads(), "batch": args.batch, "steps": args.steps,
              "warmup_steps": args.warmup, "train_rounds_images_per_s": rounds,
              "train_images_per_s": max(rounds), "train_images_per_s_median": float(np.median(rounds))}
    print(f"torch {torch.__version__}  {args.model}  threads {torch.get_num_threads()}  train: {args.rounds} x "
          f"{args.steps} steps of {args.batch}: best {max(rounds):.0f}, median {np.median(rounds):.0f} images/s",
          flush=True)
    if args.infer:
        ib = args.infer_batch or 1000
        x = noise(pool[:args.infer])
        denoise(model, x[:min(ib, args.infer)], ib)  # warm-up
        sync()
        best = float("inf")
        for _ in range(args.repeats):  # best of several: the machine is shared
            t0 = time.perf_counter()
            denoise(model, x, ib)
            sync()
            best = min(best, time.perf_counter() - t0)
        result.update({"infer_images": args.infer, "infer_batch": ib, "infer_seconds": best,
                       "infer_images_per_s": args.infer / best})
        print(f"torch {torch.__version__}  {args.model}  threads {torch.get_num_threads()}  infer: {args.infer} "
              f"images (batch {ib}) in {best:.3f} s = {result['infer_images_per_s']:.0f} images/s", flush=True)
    write_json(args.json, result)


def cmd_eval(args):
    configure_threads(args.threads)
    kind, model = load_model_file(args.weights)
    result = evaluate(model, load_mnist(args.data, "test"))
    print(f"{args.weights} ({kind})  test PSNR  denoised {result['psnr_denoised_db']:.3f} dB  "
          f"noisy {result['psnr_noisy_db']:.3f} dB", flush=True)
    write_json(args.json, {"command": "eval", "torch": torch.__version__, "model": kind,
                           "weights": args.weights, **result})


def write_json(path, obj):
    if path:
        with open(path, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch reference of the denoise autoencoders (CPU).")
    sub = p.add_subparsers(dest="command", required=True)

    def common(s):
        s.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
        s.add_argument("--data", default="data/mnist", help="directory of the MNIST IDX files")
        s.add_argument("--json", help="also write the results to this JSON file")

    def model_choice(s):
        s.add_argument("--model", choices=["dense", "vae", "conv", "skip"], required=True)
        s.add_argument("--level-convs", type=int, help="conv and skip: 3x3 convs per stage (default 1 conv, 2 skip)")

    t = sub.add_parser("train", help="train one model and report the test PSNR")
    model_choice(t)
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--train-size", type=int, default=0, help="first N training images (default all 60000)")
    t.add_argument("--batch", type=int, help="default: the Java model's (32 skip, 128 the others)")
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--eval-each", action="store_true",
                   help="test PSNR after every epoch too (not counted in the epoch time)")
    t.add_argument("--save", help="write the trained model as safetensors")
    common(t)

    s = sub.add_parser("speed", help="training and inference throughput")
    model_choice(s)
    s.add_argument("--batch", type=int, default=128)
    s.add_argument("--size", type=int, default=28, help="image side (conv, skip: e.g. 64 for picture patches)")
    s.add_argument("--channels", type=int, default=1, help="image channels (conv, skip: 3 for RGB patches)")
    s.add_argument("--steps", type=int, default=50, help="timed training steps")
    s.add_argument("--warmup", type=int, default=5, help="untimed training steps first")
    s.add_argument("--infer", type=int, default=0, help="also time inference on N images")
    s.add_argument("--infer-batch", type=int, default=0, help="inference batch (default 1000)")
    s.add_argument("--rounds", type=int, default=3, help="timed rounds of --steps steps (best and median reported)")
    s.add_argument("--repeats", type=int, default=5, help="inference timings, the best is reported")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--device", default="cpu", help="cpu or cuda")
    s.add_argument("--compile", action="store_true", help="torch.compile the model (PyTorch 2.x)")
    s.add_argument("--tf32", action="store_true", help="allow TF32 in cuDNN convolutions and matmuls (GPU)")
    common(s)

    e = sub.add_parser("eval", help="test PSNR of a safetensors model file")
    e.add_argument("--weights", required=True)
    common(e)

    args = p.parse_args(argv)
    if getattr(args, "threads", 1) < 1:
        p.error("--threads must be >= 1")
    {"train": cmd_train, "speed": cmd_speed, "eval": cmd_eval}[args.command](args)


if __name__ == "__main__":
    main()
