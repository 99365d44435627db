#!/usr/bin/env python3
"""The effective conductivity a conduction model's own field and flux say, period cell by period cell.

usage: composite-keff.py MODEL.h5 [EPS [F]]     (defaults: the model's eps and f attributes)

For every period cell of the unit square the averages of grad u and of the flux q = f (x, y) / 2 + curl psi are edge
integrals (the mean of u, psi along opposite edges, 400 points each, divided by the cell width), exact for the model's
u and psi whatever their kinks inside the cell. K is then fitted by least squares to -<q> = K <grad u> (K symmetric:
Kxx, Kxy, Kyy) over all cells, over the cells at least one cell from the boundary (ring >= 1), at least two (ring >=
2), and over the boundary ring alone: the homogenized law holds away from the boundary layer, about one period wide
(docs/distillation.md, "Homogenized students"). The model is evaluated with tests/model_eval.py (docs/model-format.md).
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_eval import evaluate  # noqa: E402


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    path = argv[1]
    with h5py.File(path, "r") as f:
        eps = float(argv[2]) if len(argv) > 2 else float(f.attrs["eps"])
        src = float(argv[3]) if len(argv) > 3 else float(f.attrs["f"])
    n, m = int(round(1 / eps)), 400
    s = (np.arange(m) + 0.5) / m * eps
    rows = []
    for i in range(n):
        for j in range(n):
            x0, y0 = i * eps, j * eps
            left = evaluate(path, np.stack([np.full(m, x0), y0 + s], 1))
            right = evaluate(path, np.stack([np.full(m, x0 + eps), y0 + s], 1))
            bottom = evaluate(path, np.stack([x0 + s, np.full(m, y0)], 1))
            top = evaluate(path, np.stack([x0 + s, np.full(m, y0 + eps)], 1))
            ux, uy = (right[:, 0] - left[:, 0]).mean() / eps, (top[:, 0] - bottom[:, 0]).mean() / eps
            px, py = (right[:, 1] - left[:, 1]).mean() / eps, (top[:, 1] - bottom[:, 1]).mean() / eps
            qx, qy = src * (x0 + eps / 2) / 2 + py, src * (y0 + eps / 2) / 2 - px
            rows.append((min(i, j, n - 1 - i, n - 1 - j), ux, uy, qx, qy))
    rows = np.array(rows)

    def fit(sel):
        r = rows[sel]
        a = np.zeros((2 * len(r), 3))
        b = np.zeros(2 * len(r))
        a[0::2, 0], a[0::2, 1], a[1::2, 1], a[1::2, 2] = r[:, 1], r[:, 2], r[:, 1], r[:, 2]
        b[0::2], b[1::2] = -r[:, 3], -r[:, 4]
        return np.linalg.lstsq(a, b, rcond=None)[0]

    print(f"{path}: K = [Kxx, Kxy, Kyy] from the period-cell averages of its flux against its gradient ({n}x{n} cells)")
    for name, sel in (("all cells", rows[:, 0] >= 0), ("ring >= 1", rows[:, 0] >= 1),
                      ("ring >= 2", rows[:, 0] >= 2), ("boundary ring", rows[:, 0] == 0)):
        if sel.any():
            k = fit(sel)
            print(f"  {name:14s} {k[0]:.4f} {k[1]:+.4f} {k[2]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
