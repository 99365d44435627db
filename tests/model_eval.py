#!/usr/bin/env python3
"""Evaluates a kdpinn model file with numpy alone, from docs/model-format.md (the evaluator printed there).

usage: model_eval.py MODEL.h5 POINTS.txt [VALUES.txt [TOL]]
Prints the outputs at the points (one row per point); with VALUES.txt, compares instead and exits 1 if any value
differs by more than TOL (default 1e-12) relative to the largest magnitude of its output column."""
import sys
import h5py
import numpy as np


def cavity_corner_flow(x, param):
    """The lid-corner Stokes flow of both lid corners (u, v, p), cut off by exp(-r^2 / R^2)."""
    R, mu, xlo, xhi, yhi = param
    D = 1.0 / (1.0 - np.pi ** 2 / 4)
    C, A = D * np.pi / 2, -D * np.pi ** 2 / 4

    def corner(xi, eta):
        r2 = xi * xi + eta * eta
        at = r2 == 0
        r2 = np.where(at, 1.0, r2)
        th = np.arctan2(eta, xi)
        u = np.where(at, 1.0, A + C * th + (C * xi * eta + D * xi * xi) / r2)
        v = np.where(at, 0.0, D * th - (C * eta * eta + D * xi * eta) / r2)
        p = np.where(at, 0.0, 2 * mu * (D * xi + C * eta) / r2)
        chi = np.exp(-np.where(at, 0.0, r2) / R ** 2)
        return chi * u, chi * v, chi * p

    eta = yhi - x[:, 1]
    ul, vl, pl = corner(x[:, 0] - xlo, eta)
    ur, vr, pr = corner(xhi - x[:, 0], eta)
    return np.stack([ul + ur, vl - vr, pl - pr], 1)


ADDENDS = {"cavity_corner_flow": cavity_corner_flow}


def conduction_interfaces(x, param):
    """Level sets phi of the grid-aligned interfaces of a laminate or checkerboard, |phi|, and a mode in quadrature."""
    kind, eps, fraction, orientation = param
    w = 2 * np.pi / eps
    if kind == 0:  # laminate: phase 2 where phi > 0
        th = w * x[:, int(orientation)] - np.pi * fraction
        phi = np.cos(th) - np.cos(np.pi * fraction)
        return np.stack([phi, np.abs(phi), np.sin(th)], 1)
    feats = []  # checkerboard: phase 2 where phi_x phi_y < 0
    for axis in (0, 1):
        th = w * x[:, axis]
        feats += [np.sin(th), np.abs(np.sin(th)), np.cos(th)]
    return np.stack(feats, 1)


FEATURES = {"conduction_interfaces": conduction_interfaces}


def conduction_boundary(x, param):
    """16 a (1 - a) b (1 - b), a, b the inputs mapped to [0, 1] on the box: zero on its boundary; multiplies u."""
    xlo, xhi, ylo, yhi = param
    a, b = (x[:, 0] - xlo) / (xhi - xlo), (x[:, 1] - ylo) / (yhi - ylo)
    return 16 * a * (1 - a) * b * (1 - b), [0]


FACTORS = {"conduction_boundary": conduction_boundary}


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
        if "input_features" in a:  # known functions of x the first layer reads after the inputs
            name = a["input_features"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            feats = FEATURES[name](np.asarray(x, dtype=float), np.atleast_1d(a["input_features_params"]))
            h = np.concatenate([h, feats], 1)
        nlayers = len(widths) - 1
        for k in range(nlayers):
            W, b = f[f"layer_{k}/W"][...], f[f"layer_{k}/b"][...]
            h = h @ W.T + b
            if k < nlayers - 1:
                h = act(h)
        y = scale * h + shift
        if "output_factor" in a:  # a known function that multiplies some outputs (docs/model-format.md)
            name = a["output_factor"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            d, outputs = FACTORS[name](np.asarray(x, dtype=float), np.atleast_1d(a["output_factor_params"]))
            y[:, outputs] *= d[:, None]
        if "output_addend" in a:  # a known field added to the outputs (docs/model-format.md)
            name = a["output_addend"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            y = y + ADDENDS[name](np.asarray(x, dtype=float), np.atleast_1d(a["output_addend_params"]))
    return y


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
