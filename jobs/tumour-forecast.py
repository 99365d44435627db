#!/usr/bin/env python3
"""A forecast against the truth: the relative L2 difference of u between two fisher references on the same grid (level
0), snapshot by snapshot, e.g. the solver run with calibrated D and rho against the solver run with the true ones,
both past the scans (-fisher_tfinal 1.5). Prints one line per snapshot whose time is at or after --from, and the last.

    tumour-forecast.py TRUE.h5 FORECAST.h5 [--from 1.0]
"""
import argparse
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    sys.exit(f"tumour-forecast.py: python module {e.name} missing (Debian: python3-numpy python3-h5py)")


def load(path):
    try:
        with h5py.File(path, "r") as f:
            g = f["level_0"]
            return g["t"][...], g["x"][...], g["y"][...], g["u"][...]
    except (OSError, KeyError) as e:
        sys.exit(f"tumour-forecast.py: cannot read level 0 of {path}: {e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("truth")
    ap.add_argument("forecast")
    ap.add_argument("--from", dest="start", type=float, default=1.0, help="first time to report")
    a = ap.parse_args()
    t, x, y, u = load(a.truth)
    t2, x2, y2, v = load(a.forecast)
    if u.shape != v.shape or not (np.array_equal(t, t2) and np.array_equal(x, x2) and np.array_equal(y, y2)):
        sys.exit(f"tumour-forecast.py: {a.truth} and {a.forecast} are not on the same grid ({u.shape}, {v.shape})")
    for k in range(len(t)):
        if t[k] >= a.start or k == len(t) - 1:
            e = np.linalg.norm(v[k] - u[k]) / np.linalg.norm(u[k])
            print(f"t = {t[k]:.4f}  relative L2 {e:.3e}")


if __name__ == "__main__":
    main()
