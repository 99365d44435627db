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


def corner_modes(ka, kb):
    """The two singular modes of a corner whose squares have ka, kb, ka, kb counter-clockwise from the north-east
    one, by diagonal ((1,1), then (-1,1)): (lambda, a, b) with Phi = a_m cos(lambda t) + b_m sin(lambda t) in
    quadrant m, t = theta - m pi/2."""
    lam1 = 4 / np.pi * np.arctan(np.sqrt(min(kb / ka, ka / kb)))  # sin(lam pi / 2) = 2 sqrt(rho) / (1 + rho)
    modes = [None, None]
    for lam in (lam1, 2 - lam1):
        c, s = np.cos(lam * np.pi / 2), np.sin(lam * np.pi / 2)
        P = np.array([[c * c - s * s * ka / kb + 1, c * s * (1 / ka + 1 / kb) / lam],
                      [-lam * c * s * (ka + kb), c * c - s * s * kb / ka + 1]])  # P + I, P = M_kb M_ka
        row = P[0] if P[0] @ P[0] >= P[1] @ P[1] else P[1]
        v, a, b = np.array([row[1], -row[0]]), [], []  # (Phi, k Phi') at theta = 0
        for q in range(4):
            k = kb if q % 2 else ka
            a.append(v[0])
            b.append(v[1] / (k * lam))
            v = np.array([c * v[0] + s / (k * lam) * v[1], -k * lam * s * v[0] + c * v[1]])
        a, b = np.array(a), np.array(b)
        phi = a[:2] * np.cos(lam * np.pi / 4) + b[:2] * np.sin(lam * np.pi / 4)  # on the diagonals
        d = 0 if abs(phi[0]) >= abs(phi[1]) else 1
        scale = np.sign(phi[d]) / np.max(np.hypot(a, b))
        modes[d] = (lam, a * scale, b * scale)
    return modes


def checkerboard_corners(x, eps, k1, k2):
    """Per diagonal, the corner mode of that diagonal at the nearest corner, (r/h)^lambda Phi, h = eps/2, cut off by
    (1 - r^2/R^2)^3 at R = h/2."""
    h = eps / 2
    i, j = np.floor(x[:, 0] / h + 0.5), np.floor(x[:, 1] / h + 0.5)
    dx, dy = x[:, 0] - i * h, x[:, 1] - j * h
    r = np.hypot(dx, dy)
    th = np.arctan2(dy, dx)
    th = np.where(th < 0, th + 2 * np.pi, th)
    m = np.clip(np.nan_to_num(th / (np.pi / 2)).astype(int), 0, 3)
    t = th - m * np.pi / 2
    ne = np.abs(i + j) % 2 == 1  # the north-east square in phase 2
    cut = np.where(r < h / 2, (1 - (r / (h / 2)) ** 2) ** 3, 0.0)
    modes = (corner_modes(k1, k2), corner_modes(k2, k1))
    feats = []
    for d in (0, 1):
        f = np.zeros(len(x))
        for n, sel in ((0, ~ne), (1, ne)):
            lam, a, b = modes[n][d]
            f[sel] = (r[sel] / h) ** lam * (a[m[sel]] * np.cos(lam * t[sel]) + b[m[sel]] * np.sin(lam * t[sel]))
        feats.append(cut * f)
    return feats


def conduction_interfaces(x, param):
    """Level sets phi of the grid-aligned interfaces of a laminate or checkerboard, |phi|, a mode in quadrature, and
    with 6 parameters a checkerboard's corner modes."""
    kind, eps, fraction, orientation = param[:4]
    w = 2 * np.pi / eps
    if kind == 0:  # laminate: phase 2 where phi > 0
        th = w * x[:, int(orientation)] - np.pi * fraction
        phi = np.cos(th) - np.cos(np.pi * fraction)
        return np.stack([phi, np.abs(phi), np.sin(th)], 1)
    feats = []  # checkerboard: phase 2 where phi_x phi_y < 0
    for axis in (0, 1):
        th = w * x[:, axis]
        feats += [np.sin(th), np.abs(np.sin(th)), np.cos(th)]
    if len(param) == 6:
        feats += checkerboard_corners(x, eps, param[4], param[5])
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
