#!/usr/bin/python3
"""Where a cavity model's error sits: near the lid corners or in the bulk (docs/benchmarks.md, "Cavity: where the
error sits").

usage: cavity-error-map.py REFERENCE.h5 MODEL.h5 [LEVEL] [--corner D]
The model (tests/model_eval.py) is evaluated at every cell centre of the level (default 0) of a cavity reference
(axes y,x; fields u, v, p; p compared up to a constant, as kdpinn validate does). For each field it prints the
relative L2 error over the whole cavity, the same error without the two D x D squares at the lid corners (default
0.2) and those squares' share of the squared error, then the RMS error over a 4 x 4 grid of blocks, top row first.
It measures and exits 0; a reference or model that is not a cavity's is one error line.
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_eval import evaluate  # noqa: E402


def text(a):
    return a.decode() if isinstance(a, bytes) else str(a)


def message(e):
    """One line for an exception of h5py or of the checks below."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e.args[0]) if e.args else str(e)


def main(argv):
    args, corner = [], 0.2
    it = iter(argv[1:])
    for a in it:
        if a == "--corner":
            try:
                corner = float(next(it))
            except (StopIteration, ValueError):
                sys.exit("cavity-error-map.py: --corner needs a number")
        else:
            args.append(a)
    if len(args) not in (2, 3):
        sys.exit(__doc__.splitlines()[3])
    try:
        level = int(args[2]) if len(args) == 3 else 0
    except ValueError:
        sys.exit(f"cavity-error-map.py: LEVEL {args[2]} is not an integer")
    try:
        ref = h5py.File(args[0], "r")[f"level_{level}"]
        axes = text(ref.attrs["axes"])
        if axes != "y,x" or any(f not in ref for f in ("u", "v", "p")):
            raise ValueError("not a cavity reference (axes y,x and fields u, v, p)")
        y, x = ref["y"][...], ref["x"][...]
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"cavity-error-map.py: {args[0]} level {level}: {message(e)}")
    try:
        with h5py.File(args[1], "r") as f:
            inputs, outputs = text(f.attrs["inputs"]), text(f.attrs["outputs"])
        if inputs != "x,y" or outputs != "u,v,p":
            raise ValueError(f"inputs {inputs}, outputs {outputs}: not a cavity model (x,y -> u,v,p)")
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"cavity-error-map.py: {args[1]}: {message(e)}")
    Y, X = np.meshgrid(y, x, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel()], 1)
    out = np.concatenate([evaluate(args[1], pts[s : s + 65536]) for s in range(0, len(pts), 65536)])
    xlo, xhi, yhi = x[0] - 0.5 * (x[1] - x[0]), x[-1] + 0.5 * (x[1] - x[0]), y[-1] + 0.5 * (y[1] - y[0])
    bulk = ~((Y > yhi - corner) & ((X < xlo + corner) | (X > xhi - corner)))
    for k, name in enumerate(("u", "v", "p")):
        r = ref[name][...]
        m = out[:, k].reshape(r.shape)
        if name == "p":
            m = m - m.mean() + r.mean()
        e = m - r
        ny, nx = (r.shape[0] // 4) * 4, (r.shape[1] // 4) * 4
        blocks = np.sqrt((e[:ny, :nx].reshape(4, ny // 4, 4, nx // 4) ** 2).mean(axis=(1, 3)))
        print(f"{name}: rel_l2 {np.linalg.norm(e) / np.linalg.norm(r):.3e}, without the lid corners "
              f"{np.linalg.norm(e[bulk]) / np.linalg.norm(r[bulk]):.3e} (corners {corner:g} x {corner:g}: "
              f"{1 - np.sum(e[bulk] ** 2) / np.sum(e ** 2):.2f} of the squared error)")
        print("   RMS error by block, top row first: " +
              " / ".join(" ".join(f"{v:.1e}" for v in blocks[i]) for i in range(3, -1, -1)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
