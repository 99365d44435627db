#!/usr/bin/env python3
"""Writes the manufactured solution of the Darcy example (jobs/darcy/darcy.c),
u(x, y) = sin(pi x) cos(pi y / 3) + x y / 2, at the cell centres of an n x n grid on [0, 1]^2, in the layout
`kdpinn import` reads (docs/reference-format.md, "Importing reference data"): a group with the string attribute
axes = "y,x", the 1-D cell-centre coordinates y and x, and the field u with dims (y, x). It stands for another
solver's output; `kdpinn import -kd_pde darcy -kd_import_file FILE[:/group] ...` makes reference.h5 from it.

    darcy-reference.py OUT.h5 [--n 64] [--group /darcy]
"""
import argparse
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    sys.exit(f"darcy-reference.py: python module {e.name} missing (Debian: python3-numpy python3-h5py)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=64, help="cells per side")
    ap.add_argument("--group", default="/", help="group to write the level into")
    a = ap.parse_args()
    c = (np.arange(a.n) + 0.5) / a.n
    y, x = np.meshgrid(c, c, indexing="ij")
    u = np.sin(np.pi * x) * np.cos(np.pi * y / 3) + 0.5 * x * y
    with h5py.File(a.out, "w") as f:
        g = f.require_group(a.group)
        g.attrs["axes"] = "y,x"
        g["y"] = c
        g["x"] = c
        g["u"] = u


if __name__ == "__main__":
    main()
