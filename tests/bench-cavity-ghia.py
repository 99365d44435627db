#!/usr/bin/python3
"""A cavity model against the centreline velocities of Ghia, Ghia & Shin (1982), Re = 100 (docs/benchmarks.md,
"Cavity: the lid-corner flow").

usage: bench-cavity-ghia.py MODEL.h5 [MODEL.h5 ...]
Evaluates each model (tests/model_eval.py, with its output addend) at the tabulated points of tests/t22-ghia1982.dat,
u on the vertical centreline x = 0.5 and v on the horizontal one y = 0.5 of the unit cavity, and prints the largest
deviation and where. It measures and exits 0; a model that is not a cavity's (x,y -> u,v,p) is one error line.
"""
import os
import sys

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from model_eval import evaluate  # noqa: E402


def text(a):
    return a.decode() if isinstance(a, bytes) else str(a)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__.splitlines()[3])
    rows = []
    with open(os.path.join(here, "t22-ghia1982.dat")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                c, re, s, v = line.split()
                if re == "100":
                    rows.append((c, float(s), float(v)))
    for path in argv[1:]:
        try:
            with h5py.File(path, "r") as f:
                inputs, outputs = text(f.attrs["inputs"]), text(f.attrs["outputs"])
        except (OSError, KeyError) as e:
            sys.exit(f"bench-cavity-ghia.py: {path}: {e}")
        if inputs != "x,y" or outputs != "u,v,p":
            sys.exit(f"bench-cavity-ghia.py: {path}: inputs {inputs}, outputs {outputs}: not a cavity model")
        pts = np.array([[0.5, s] if c == "u" else [s, 0.5] for c, s, _ in rows])
        y = evaluate(path, pts)
        dev = np.array([abs(y[i, 0 if c == "u" else 1] - v) for i, (c, _, v) in enumerate(rows)])
        i = int(np.argmax(dev))
        print(f"{path}: largest deviation from Ghia et al. (Re = 100, {len(rows)} points) {dev[i]:.4f} at "
              f"{rows[i][0]}({'x = 0.5, y' if rows[i][0] == 'u' else 'x'} = {rows[i][1]:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
