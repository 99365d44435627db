#!/usr/bin/python3
"""Where a cavity model's error sits: near the lid corners or in the bulk (docs/benchmarks.md "Teacher accuracy").

usage: cavity-error-map.py REFERENCE.h5 MODEL.h5 [LEVEL] [--corner D]
The model (tests/model_eval.py) is evaluated at every cell centre of the level (default 0) of a cavity reference
(axes y,x; fields u, v, p; p compared up to a constant, as kdpinn validate does). For each field it prints the
relative L2 error over the whole cavity, the same error without the two D x D squares at the lid corners (default
0.2) and those squares' share of the squared error, then the RMS error over a 4 x 4 grid of blocks, top row first.
It measures and exits 0; a reference that is not a cavity's is one error line.
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_eval import evaluate  # noqa: E402


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
        sys.exit(__doc__.splitlines()[2])
    level = int(args[2]) if len(args) == 3 else 0
    try:
        ref = h5py.File(args[0], "r")[f"level_{level}"]
        axes = ref.attrs["axes"]
        axes = axes.decode() if isinstance(axes, bytes) else str(axes)
        if axes != "y,x" or any(f not in ref for f in ("u", "v", "p")):
            raise KeyError("not a cavity reference")
        y, x = ref["y"][...], ref["x"][...]
    except (OSError, KeyError) as e:
        sys.exit(f"cavity-error-map.py: {args[0]} level {level}: {e}")
    Y, X = np.meshgrid(y, x, indexing="ij")
    out = evaluate(args[1], np.stack([X.ravel(), Y.ravel()], 1))
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
