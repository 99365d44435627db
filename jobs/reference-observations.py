#!/usr/bin/env python3
"""Draws observations from a level of reference.h5, as a measurement would give them: n cell centres chosen without
replacement, the values of the fields there, plus Gaussian noise of standard deviation noise * std(field). The file is
the observation format of docs/inverse.md (points with columns named by the level's axes, values, attributes inputs
and outputs; with --sigma the noise's standard deviation as the attribute sigma), for -teacher_observations.

    reference-observations.py REFERENCE.h5 OUT.h5 [--n 1000] [--noise 0.01] [--seed 0] [--level 0] [--fields u]
                              [--sigma]
"""
import argparse
import os
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    sys.exit(f"reference-observations.py: python module {e.name} missing (Debian: python3-numpy python3-h5py)")


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reference")
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=1000, help="observations")
    ap.add_argument("--noise", type=float, default=0.0, help="noise level, relative to the standard deviation of a field")
    ap.add_argument("--seed", type=int, default=0, help="seed of the points and the noise")
    ap.add_argument("--level", type=int, default=0, help="reference level")
    ap.add_argument("--fields", default=None, help="observed fields, comma separated (default: all)")
    ap.add_argument("--sigma", action="store_true", help="store the noise's standard deviation as dataset sigma")
    a = ap.parse_args()
    with h5py.File(a.reference, "r") as f:
        g = f["level_%d" % a.level]
        axes = text(g.attrs["axes"]).split(",")
        fields = a.fields.split(",") if a.fields else text(f.attrs["fields"]).split(",")
        coords = [g[ax][...] for ax in axes]
        data = [g[name][...] for name in fields]
    shape = data[0].shape
    if a.n <= 0 or a.n > data[0].size or a.noise < 0:
        sys.exit("reference-observations.py: need 0 < n <= %d cells and noise >= 0" % data[0].size)
    rng = np.random.default_rng(a.seed)
    pick = rng.choice(data[0].size, size=a.n, replace=False)
    idx = np.unravel_index(pick, shape)
    points = np.stack([coords[d][idx[d]] for d in range(len(axes))], axis=1)
    s = np.array([a.noise * np.std(u) for u in data])
    values = np.stack([u.ravel()[pick] for u in data], axis=1) + s[None, :] * rng.standard_normal((a.n, len(fields)))
    tmp = a.out + ".tmp"
    with h5py.File(tmp, "w") as f:
        f["points"] = points
        f["values"] = values
        f.attrs["inputs"] = ",".join(axes)
        f.attrs["outputs"] = ",".join(fields)
        if a.sigma and np.all(s > 0):
            f["sigma"] = np.broadcast_to(s, values.shape).copy()
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
