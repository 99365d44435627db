#!/usr/bin/env python3
"""Checks that kdpinn model files hold exactly the same parameters (tolerance 0: numpy array_equal per layer).

usage: model_equal.py A.h5 B.h5 [A2.h5 B2.h5 ...]
Exits 1 naming the first pair, layer and largest difference that is not exactly equal."""
import sys
import h5py
import numpy as np


def layers(f):
    return sorted((k for k in f if k.startswith("layer_")), key=lambda k: int(k.split("_")[1]))


def main(paths):
    if len(paths) < 2 or len(paths) % 2:
        sys.exit(__doc__)
    for a, b in zip(paths[::2], paths[1::2]):
        with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
            la, lb = layers(fa), layers(fb)
            if not la or la != lb:
                sys.exit("%s and %s have different layers: %s vs %s" % (a, b, la, lb))
            for k in la:
                for d in ("W", "b"):
                    x, y = fa[k][d][()], fb[k][d][()]
                    if x.shape != y.shape or not np.array_equal(x, y):
                        diff = np.abs(x - y).max() if x.shape == y.shape else float("nan")
                        sys.exit("%s differs from %s in %s/%s: max |diff| %.3e" % (b, a, k, d, diff))
        print("%s == %s (%d layers, exact)" % (b, a, len(la)))


if __name__ == "__main__":
    main(sys.argv[1:])
