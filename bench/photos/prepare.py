#!/usr/bin/env python3
"""
prepare.py — the training photographs of bench/photos/SOURCES.tsv, from their Debian packages, as
PNGs downscaled to at most --side pixels on the long side (anti-aliased: it also shrinks the
cameras' own noise and JPEG blocks, which the clean targets must not teach), into --out.

    python3 bench/photos/prepare.py --out data/photos-train [--side 1024]

Run by `make photos-train`, which installs the packages first.
"""
import argparse
import os
import sys

import numpy as np
from skimage import io, transform

ROOTS = {"mate-backgrounds": "/usr/share/backgrounds/mate", "python3-skimage": "/usr/lib/python3/dist-packages/skimage/data"}


def sources(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            file, package, *_ = line.rstrip("\n").split("\t")
            yield file, package.split()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--side", type=int, default=1024)
    ap.add_argument("--list", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "SOURCES.tsv"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for file, package in sources(args.list):
        src = os.path.join(ROOTS[package], file)
        if not os.path.exists(src):
            sys.exit(f"{src}: missing (is {package} installed?)")
        img = io.imread(src)
        if img.ndim == 3:
            img = img[:, :, :3]  # alpha dropped
        scale = min(1.0, args.side / max(img.shape[:2]))
        if scale < 1.0:
            img = transform.rescale(img, scale, anti_aliasing=True, channel_axis=2 if img.ndim == 3 else None)
            img = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
        name = os.path.splitext(file.replace("/", "-"))[0] + ".png"
        io.imsave(os.path.join(args.out, name), img, check_contrast=False)
        print(f"{name}: {img.shape[1]}x{img.shape[0]} from {package}")


if __name__ == "__main__":
    main()
