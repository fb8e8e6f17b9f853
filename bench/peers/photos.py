#!/usr/bin/env python3
"""
photos.py — classical photo denoisers against which denoise's photo models are measured.

Held-out photos (scikit-image's chelsea, RGB, and camera, grey) get Gaussian noise at sigma = 15,
25 and 50 on 0-255, clipped and rounded to 8 bits as users have them (seeded per photo and sigma).
Each classical peer is tuned per photo and sigma for its best PSNR against the clean photo (an
oracle setting: no user could pick it, which makes the peers as strong as they can be), then
scored with PSNR and SSIM on 0-255:

    nlm-opencv   OpenCV fastNlMeansDenoising(Colored), h (and hColor) over a grid
    nlm-skimage  scikit-image denoise_nl_means (fast mode, patch 7, distance 11), h over a grid
    tv           scikit-image denoise_tv_chambolle, weight over a grid
    wavelet      scikit-image denoise_wavelet (BayesShrink, YCbCr for colour), sigma over a grid

Directories of our own outputs (the same file names as the noisy inputs) are scored beside them,
with the largest mean shift of a channel against the clean photo (a colour cast shows there) and
their shape checked against the photo's (grey in, grey out).

    python3 bench/peers/photos.py noisy --out runs/bench-photos
    python3 bench/peers/photos.py score --out runs/bench-photos [--ours NAME=DIR ...] [--json F] [--crops F]

--crops writes one picture: the same crop of each photo at sigma 25 (and 50) per method, side by side.

Needs Debian's python3-skimage and python3-opencv (`make bench-photos` installs them).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from skimage import data, io
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

PHOTOS = {"chelsea": data.chelsea, "camera": data.camera}
SIGMAS = (15, 25, 50)
# strength grids, as multiples of sigma (nlm, wavelet) or absolute (tv weight on 0-1 images)
# (a best setting on a grid's edge is reported: the grid would have to grow)
NLM_OPENCV = (0.25, 0.35, 0.45, 0.55, 0.7, 0.85, 1.0, 1.2)
NLM_SKIMAGE = (0.06, 0.1, 0.15, 0.25, 0.35, 0.45, 0.55, 0.7, 0.85, 1.0)
TV_WEIGHTS = (0.015, 0.025, 0.04, 0.06, 0.08, 0.11, 0.15, 0.2, 0.27, 0.36, 0.5)
WAVELET = (0.5, 0.75, 1.0, 1.25, 1.5)


def noisy_name(photo, sigma):
    return f"{photo}-s{sigma}.png"


def make_noisy(clean, sigma, seed):
    rng = np.random.default_rng(seed)
    noisy = clean.astype(np.float64) + rng.normal(0.0, sigma, clean.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def score(clean, out):
    """PSNR and SSIM on 0-255 of an 8-bit result against the clean 8-bit photo."""
    rgb = clean.ndim == 3
    psnr = peak_signal_noise_ratio(clean, out, data_range=255)
    ssim = structural_similarity(clean, out, data_range=255, channel_axis=2 if rgb else None)
    return float(psnr), float(ssim)


def colour_shift(clean, out):
    """Largest mean difference of a channel, output against clean, in levels of 255 (a colour cast)."""
    diff = out.astype(np.float64) - clean.astype(np.float64)
    if diff.ndim == 2:
        return float(abs(diff.mean()))
    return float(np.abs(diff.reshape(-1, diff.shape[2]).mean(axis=0)).max())


def to_u8(x01):
    return np.clip(np.rint(np.asarray(x01) * 255.0), 0, 255).astype(np.uint8)


def peers(noisy, sigma):
    """(name, setting, 8-bit result) for every peer and every setting of its grid."""
    import cv2  # python3-opencv
    rgb = noisy.ndim == 3
    x01 = noisy.astype(np.float64) / 255.0
    s01 = sigma / 255.0
    for k in NLM_OPENCV:
        h = float(k * sigma)
        if rgb:
            bgr = cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR)
            out = cv2.cvtColor(cv2.fastNlMeansDenoisingColored(bgr, None, h, h, 7, 21), cv2.COLOR_BGR2RGB)
        else:
            out = cv2.fastNlMeansDenoising(noisy, None, h, 7, 21)
        yield "nlm-opencv", f"h={h:.1f}", out
    for k in NLM_SKIMAGE:
        out = denoise_nl_means(x01, h=k * s01, sigma=s01, patch_size=7, patch_distance=11, fast_mode=True,
                               channel_axis=2 if rgb else None)
        yield "nlm-skimage", f"h={k:.2f}σ", to_u8(out)
    for w in TV_WEIGHTS:
        out = denoise_tv_chambolle(x01, weight=w, channel_axis=2 if rgb else None)
        yield "tv", f"weight={w}", to_u8(out)
    for method in ("BayesShrink", "VisuShrink"):
        for k in WAVELET:
            out = denoise_wavelet(x01, sigma=k * s01, method=method, mode="soft", rescale_sigma=True,
                                  convert2ycbcr=rgb, channel_axis=2 if rgb else None)
            yield "wavelet", f"{method} sigma={k:.2f}σ", to_u8(out)


# (top, left) of each photo's crop: the cat's eye and whiskers, the cameraman's face and camera
CROPS = {"chelsea": (40, 150), "camera": (60, 190)}
CROP, ZOOM = 112, 2


def write_crops(path, out_dir, ours, methods, sigmas=(25, 50)):
    """One picture: a row per photo and sigma, a column per method, each the same crop zoomed 2x."""
    import cv2  # python3-opencv, for the labels
    folders = {"clean": None, "noisy": None, **{m: out_dir for m in methods if m not in ("noisy",) and m not in ours},
               **ours}
    label_h, rows = 22, []
    for photo in PHOTOS:
        for sigma in sigmas:
            tiles = []
            for name, folder in folders.items():
                if name == "clean":
                    img = io.imread(os.path.join(out_dir, f"{photo}-clean.png"))
                elif name == "noisy":
                    img = io.imread(os.path.join(out_dir, noisy_name(photo, sigma)))
                elif name in ours:
                    img = io.imread(os.path.join(folder, noisy_name(photo, sigma)))
                else:
                    img = io.imread(os.path.join(folder, f"{name}-{noisy_name(photo, sigma)}"))
                if img.ndim == 2:
                    img = np.stack([img] * 3, axis=2)
                y, x = CROPS[photo]
                crop = img[y:y + CROP, x:x + CROP, :3].repeat(ZOOM, axis=0).repeat(ZOOM, axis=1)
                label = np.full((label_h, crop.shape[1], 3), 255, np.uint8)
                text = name if name in ("clean",) else f"{name} s{sigma}"
                cv2.putText(label, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
                tiles.append(np.concatenate([label, crop], axis=0))
                tiles.append(np.full((tiles[-1].shape[0], 4, 3), 255, np.uint8))
            rows.append(np.concatenate(tiles[:-1], axis=1))
            rows.append(np.full((4, rows[-1].shape[1], 3), 255, np.uint8))
    io.imsave(path, np.concatenate(rows[:-1], axis=0), check_contrast=False)
    print(f"crops: {path}")


def cmd_noisy(args):
    os.makedirs(args.out, exist_ok=True)
    for i, (photo, load) in enumerate(PHOTOS.items()):
        clean = load()
        io.imsave(os.path.join(args.out, f"{photo}-clean.png"), clean, check_contrast=False)
        for sigma in SIGMAS:
            io.imsave(os.path.join(args.out, noisy_name(photo, sigma)), make_noisy(clean, sigma, 1000 * i + sigma),
                      check_contrast=False)
    print(f"noisy photos in {args.out}")


def cmd_score(args):
    ours = dict(o.split("=", 1) for o in args.ours)
    rows, t0 = [], time.perf_counter()
    for photo, load in PHOTOS.items():
        clean = load()
        for sigma in SIGMAS:
            path = os.path.join(args.out, noisy_name(photo, sigma))
            if not os.path.exists(path):
                sys.exit(f"{path}: missing (run the noisy command first)")
            noisy = io.imread(path)
            best, tried = {}, {}
            for name, setting, out in peers(noisy, sigma):
                psnr, ssim = score(clean, out)
                tried.setdefault(name, []).append(setting)
                if name not in best or psnr > best[name]["psnr"]:
                    best[name] = {"psnr": psnr, "ssim": ssim, "setting": setting}
                    io.imsave(os.path.join(args.out, f"{name}-{noisy_name(photo, sigma)}"), out, check_contrast=False)
            for name, r in best.items():
                if name != "wavelet" and r["setting"] in (tried[name][0], tried[name][-1]):
                    print(f"note: {name} on {photo} at sigma {sigma} is best at its grid's edge ({r['setting']})")
            psnr, ssim = score(clean, noisy)
            rows.append({"photo": photo, "sigma": sigma, "method": "noisy", "psnr": psnr, "ssim": ssim})
            for name, r in best.items():
                rows.append({"photo": photo, "sigma": sigma, "method": name, **r})
            for name, folder in ours.items():
                out = io.imread(os.path.join(folder, noisy_name(photo, sigma)))
                if out.shape != clean.shape:
                    sys.exit(f"{name}: {noisy_name(photo, sigma)} is {out.shape}, the photo {clean.shape} (grey in, grey out)")
                psnr, ssim = score(clean, out)
                shift = colour_shift(clean, out)
                rows.append({"photo": photo, "sigma": sigma, "method": name, "psnr": psnr, "ssim": ssim,
                             "channel_shift": shift})
                if shift > 1.0:
                    print(f"note: {name} shifts a channel of {photo} at sigma {sigma} by {shift:.2f} levels (a colour cast)")
    methods = list(dict.fromkeys(r["method"] for r in rows))
    print(f"\nPSNR dB / SSIM on 0-255 (peers tuned per photo and sigma for their best PSNR; {time.perf_counter() - t0:.0f} s)")
    header = "| method | " + " | ".join(f"{p} σ{s}" for p in PHOTOS for s in SIGMAS) + " | mean σ15 | mean σ25 | mean σ50 |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for m in methods:
        cells, means = [], []
        for p in PHOTOS:
            for s in SIGMAS:
                r = next(r for r in rows if r["method"] == m and r["photo"] == p and r["sigma"] == s)
                cells.append(f"{r['psnr']:.2f} / {r['ssim']:.3f}")
        for s in SIGMAS:
            means.append(np.mean([r["psnr"] for r in rows if r["method"] == m and r["sigma"] == s]))
        print(f"| {m} | " + " | ".join(cells) + " | " + " | ".join(f"{v:.2f}" for v in means) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if args.crops:
        write_crops(args.crops, args.out, ours, methods)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("noisy", help="write the clean and noisy held-out photos")
    n.add_argument("--out", required=True)
    s = sub.add_parser("score", help="tune and score the peers, and score our outputs beside them")
    s.add_argument("--out", required=True, help="the noisy command's folder; the peers' best results go there too")
    s.add_argument("--ours", action="append", default=[], help="NAME=DIR of our outputs (same file names)")
    s.add_argument("--json", help="also write every row to this JSON file")
    s.add_argument("--crops", help="also write the same crop of each photo per method to this PNG")
    args = ap.parse_args()
    {"noisy": cmd_noisy, "score": cmd_score}[args.cmd](args)


if __name__ == "__main__":
    main()
