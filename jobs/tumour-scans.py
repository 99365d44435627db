#!/usr/bin/env python3
"""Scans of a tumour, as an imaging modality gives them: the density u of a fisher reference.h5 at a few times,
averaged over the pixels of a coarse image (each pixel the mean of the level-0 cells it covers), plus Gaussian noise
of standard deviation noise (u is a density in [0, 1]: 0.02 is 2% of its range). A time between two stored snapshots
is interpolated linearly. The file is the observation format of docs/inverse.md (points t,x,y at the pixel centres,
values u, the noise's standard deviation as the attribute sigma if it is not 0), for -teacher_observations.

    tumour-scans.py REFERENCE.h5 OUT.h5 --times 0.3,0.6 [--pixels 32] [--noise 0.02] [--seed 0]
"""
import argparse
import os
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    sys.exit(f"tumour-scans.py: python module {e.name} missing (Debian: python3-numpy python3-h5py)")


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def fail(msg):
    sys.exit(f"tumour-scans.py: {msg}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reference")
    ap.add_argument("out")
    ap.add_argument("--times", required=True, help="scan times, comma separated")
    ap.add_argument("--pixels", type=int, default=32, help="pixels per side of a scan")
    ap.add_argument("--noise", type=float, default=0.02, help="standard deviation of the noise (u in [0, 1])")
    ap.add_argument("--seed", type=int, default=0, help="seed of the noise")
    a = ap.parse_args()
    try:
        times = [float(t) for t in a.times.split(",")]
    except ValueError:
        fail(f"--times {a.times}: not a comma-separated list of numbers")
    if a.noise < 0:
        fail(f"--noise must be >= 0, got {a.noise}")
    try:
        f = h5py.File(a.reference, "r")
    except OSError as e:
        fail(f"cannot read {a.reference}: {e}")
    with f:
        if text(f.attrs.get("pde", "")) != "fisher":
            fail(f"{a.reference} is not a fisher reference (pde = {text(f.attrs.get('pde', ''))})")
        try:
            g = f["level_0"]
            if text(g.attrs["axes"]) != "t,y,x":
                fail(f"{a.reference}: level 0 has axes {text(g.attrs['axes'])}, expected t,y,x")
            t, y, x, u = g["t"][...], g["y"][...], g["x"][...], g["u"][...]
        except KeyError as e:
            fail(f"{a.reference}: level 0 incomplete ({e})")
    n = len(x)
    if a.pixels < 1 or n % a.pixels or len(y) != n:
        fail(f"--pixels {a.pixels} does not divide the {len(y)} x {n} cells of level 0")
    b = n // a.pixels
    # pixel images: mean over b x b blocks of cells, then linear interpolation between the snapshots around t
    img = u.reshape(len(t), a.pixels, b, a.pixels, b).mean(axis=(2, 4))
    xc = x.reshape(a.pixels, b).mean(axis=1)
    yc = y.reshape(a.pixels, b).mean(axis=1)
    rng = np.random.default_rng(a.seed)
    pts, vals = [], []
    for s in times:
        if not t[0] <= s <= t[-1]:
            fail(f"scan time {s} is outside the stored snapshots [{t[0]}, {t[-1]}] of {a.reference}")
        if len(t) == 1:  # one snapshot: its time only (the check above)
            scan = img[0]
        else:
            k = min(int(np.searchsorted(t, s, side="right")) - 1, len(t) - 2)
            w = (s - t[k]) / (t[k + 1] - t[k])
            scan = (1 - w) * img[k] + w * img[k + 1]
        scan = scan + a.noise * rng.standard_normal(scan.shape)
        yy, xx = np.meshgrid(yc, xc, indexing="ij")
        pts.append(np.column_stack([np.full(xx.size, s), xx.ravel(), yy.ravel()]))
        vals.append(scan.reshape(-1, 1))
    tmp = a.out + ".tmp"
    with h5py.File(tmp, "w") as o:
        o["points"] = np.vstack(pts)
        o["values"] = np.vstack(vals)
        o.attrs["inputs"] = "t,x,y"
        o.attrs["outputs"] = "u"
        if a.noise > 0:  # a sigma must be positive: noise-free scans carry none
            o.attrs["sigma"] = a.noise
    os.replace(tmp, a.out)
    print(f"tumour-scans.py: {len(times)} scan(s) of {a.pixels} x {a.pixels} pixels at t = {a.times}, noise "
          f"{a.noise}: {a.out}")


if __name__ == "__main__":
    main()
