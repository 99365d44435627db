#!/usr/bin/env python3
"""Writes observations of Burgers' equation for jobs/burgers-inverse.opts: n points drawn without replacement from
Raissi et al.'s 100 x 256 grid (t = 0, 0.01, ..., 0.99; x = 256 equispaced points on [-1, 1]), with the values of the
exact solution of u_t + u u_x = nu u_xx, u(0, x) = -sin(pi x), u(t, +-1) = 0 (the Cole-Hopf transform, evaluated by
Gauss-Hermite quadrature as solvers/burgers.c does), plus Gaussian noise of standard deviation noise * std(u) as in
Raissi et al. 2019. The file is the observation format of docs/inverse.md (points, values, attributes inputs and
outputs; with --sigma also the noise's standard deviation as the attribute sigma).

    burgers-observations.py OUT.h5 [--n 2000] [--noise 0.01] [--seed 0] [--noise_seed S] [--nu 0.0031831] [--sigma]
"""
import argparse
import math
import os
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    sys.exit(f"burgers-observations.py: python module {e.name} missing (Debian: python3-numpy python3-h5py)")


def exact(nu, t, x, nodes=256):
    """u(t, x) for arrays t, x of one shape."""
    z, w = np.polynomial.hermite.hermgauss(nodes)
    t, x = np.broadcast_arrays(np.asarray(t, float), np.asarray(x, float))
    u = -np.sin(np.pi * x)
    m = t > 0
    c = np.sqrt(4.0 * nu * t[m])[:, None]
    y = x[m][:, None] - c * z[None, :]
    e = np.log(w)[None, :] - np.cos(np.pi * y) / (2.0 * np.pi * nu)
    f = np.exp(e - e.max(axis=1, keepdims=True))
    u[m] = -(np.sin(np.pi * y) * f).sum(axis=1) / f.sum(axis=1)
    return u


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=2000, help="observations (at most 25600)")
    ap.add_argument("--noise", type=float, default=0.0, help="noise level, relative to the standard deviation of u")
    ap.add_argument("--seed", type=int, default=0, help="seed of the points")
    ap.add_argument("--noise_seed", type=int, default=None, help="seed of the noise (default: --seed)")
    ap.add_argument("--nu", type=float, default=0.01 / math.pi, help="viscosity of the truth")
    ap.add_argument("--sigma", action="store_true", help="store the noise's standard deviation as attribute sigma")
    a = ap.parse_args()
    if not 0 < a.n <= 25600 or a.noise < 0 or a.nu <= 0:
        sys.exit("burgers-observations.py: need 0 < n <= 25600, noise >= 0, nu > 0")
    t, x = np.linspace(0.0, 0.99, 100), np.linspace(-1.0, 1.0, 256)
    T, X = np.meshgrid(t, x, indexing="ij")
    U = exact(a.nu, T, X)
    pick = np.random.default_rng(a.seed).choice(U.size, size=a.n, replace=False)
    noise = np.random.default_rng(a.seed if a.noise_seed is None else a.noise_seed + 1000003)
    s = a.noise * np.std(U)
    values = U.ravel()[pick] + s * noise.standard_normal(a.n)
    tmp = a.out + ".tmp"
    with h5py.File(tmp, "w") as f:
        f["points"] = np.stack([T.ravel()[pick], X.ravel()[pick]], axis=1)
        f["values"] = values[:, None]
        f.attrs["inputs"] = "t,x"
        f.attrs["outputs"] = "u"
        if a.sigma and s > 0:
            f.attrs["sigma"] = s
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
