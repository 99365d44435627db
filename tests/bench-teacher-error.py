#!/usr/bin/python3
"""Relative L2 error of a model file against a level of reference.h5, numpy + h5py only (docs/benchmarks.md).

usage: bench-teacher-error.py REFERENCE.h5 MODEL.h5 [LEVEL]
The model (docs/model-format.md, evaluated by tests/model_eval.py) is evaluated at every cell centre of the level
(default 0); inputs are matched to the reference axes by name. For every output that is a reference field it prints
  rel_l2 = ||model - ref||_2 / ||ref||_2   and   max_err = max |model - ref|
over the grid; a pressure `p` is compared up to a constant (both means removed: the reference pressure has zero
mean, the model's is pinned at one point). Prints one line per output and exits 0 (it measures, it does not judge).
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_eval import evaluate  # noqa: E402


def text(a):
    return a.decode() if isinstance(a, bytes) else str(a)


def main(argv):
    level = int(argv[3]) if len(argv) > 3 else 0
    with h5py.File(argv[1], "r") as f:
        lev = f[f"level_{level}"]
        axes = text(lev.attrs["axes"]).split(",")
        coords = [lev[a][...] for a in axes]
        fields = {k: lev[k][...] for k in lev.keys() if k not in axes}
    with h5py.File(argv[2], "r") as f:
        inputs = text(f.attrs["inputs"]).split(",")
        outputs = text(f.attrs["outputs"]).split(",")
    grids = np.meshgrid(*coords, indexing="ij")  # grid[d][i0, i1, ...] = coordinate of axis d
    x = np.stack([grids[axes.index(name)].ravel() for name in inputs], axis=1)
    y = np.concatenate([evaluate(argv[2], x[s : s + 65536]) for s in range(0, len(x), 65536)])
    for o, name in enumerate(outputs):
        if name not in fields:
            continue
        ref, val = fields[name].ravel(), y[:, o]
        if name == "p":
            ref, val = ref - ref.mean(), val - val.mean()
        err = val - ref
        print(f"{name}: rel_l2 {np.linalg.norm(err) / np.linalg.norm(ref):.4e} max_err {np.abs(err).max():.4e} "
              f"(level {level}, {ref.size} points{', up to a constant' if name == 'p' else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
