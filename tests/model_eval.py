#!/usr/bin/env python3
"""Evaluates a kdpinn model file with numpy alone, from docs/model-format.md (the evaluator printed there).

usage: model_eval.py MODEL.h5 POINTS.txt [VALUES.txt [TOL]]
Prints the outputs at the points (one row per point); with VALUES.txt, compares instead and exits 1 if any value
differs by more than TOL (default 1e-12) relative to the largest magnitude of its output column."""
import sys
import h5py
import numpy as np


def evaluate(path, x):
    """Outputs of the model at points x (shape n x nin), shape n x nout."""
    with h5py.File(path, "r") as f:
        a = f.attrs
        act = a["activation"]
        act = act.decode() if isinstance(act, bytes) else str(act)
        act = {"tanh": np.tanh, "sin": np.sin, "isru": lambda z: z / np.sqrt(1.0 + z * z)}[act]
        widths = np.atleast_1d(a["widths"])
        lo, hi = np.atleast_1d(a["input_lo"]), np.atleast_1d(a["input_hi"])
        scale, shift = np.atleast_1d(a["output_scale"]), np.atleast_1d(a["output_shift"])
        h = 2.0 * (np.asarray(x, dtype=float) - lo) / (hi - lo) - 1.0
        nlayers = len(widths) - 1
        for k in range(nlayers):
            W, b = f[f"layer_{k}/W"][...], f[f"layer_{k}/b"][...]
            h = h @ W.T + b
            if k < nlayers - 1:
                h = act(h)
    return scale * h + shift


def main(argv):
    x = np.atleast_2d(np.loadtxt(argv[2]))
    y = evaluate(argv[1], x)
    if len(argv) < 4:
        np.savetxt(sys.stdout, y, fmt="%.17g")
        return 0
    ref = np.loadtxt(argv[3]).reshape(y.shape)
    tol = float(argv[4]) if len(argv) > 4 else 1e-12
    err = np.max(np.abs(y - ref), axis=0) / np.max(np.abs(ref), axis=0)
    print(f"{argv[1]}: numpy vs KDNetEvaluate, largest relative difference per output {err} (tolerance {tol:g})")
    return 0 if np.all(err <= tol) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
