#!/usr/bin/python3
"""Relative L2 error of a model file against a level of reference.h5, numpy + h5py only (docs/benchmarks.md).

usage: bench-teacher-error.py REFERENCE.h5 MODEL.h5 [LEVEL] [--exported FILE.c]
The model (docs/model-format.md, evaluated by tests/model_eval.py) is evaluated at every cell centre of the level
(default 0); inputs are matched to the reference axes by name. For every output that is a reference field it prints
  rel_l2 = ||model - ref||_2 / ||ref||_2   and   max_err = max |model - ref|
over the grid, then with several outputs a line `all:` over them together (the figure of kdpinn validate); a pressure
`p` is compared up to a constant (both means removed: the reference pressure has zero mean, the model's is pinned at
one point). With --exported, the code `kdpinn export` wrote for MODEL.h5 (f64, f32 or int8) is compiled by cc into a
shared library and evaluated instead of the model file, so an edge deployment is validated against the reference.
Prints one line per output and exits 0 (it measures, it does not judge).
"""
import ctypes
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_eval import evaluate  # noqa: E402


def text(a):
    return a.decode() if isinstance(a, bytes) else str(a)


def evaluate_exported(source, x):
    """Outputs (n x nout) of the exported code SOURCE at points x, through a shared library built by cc."""
    name = os.path.splitext(os.path.basename(source))[0]
    try:
        header = open(os.path.splitext(source)[0] + ".h").read()
        nout = int(header.split(f"#define {name.upper()}_NOUT ")[1].split()[0])
    except (OSError, IndexError, ValueError):
        sys.exit(f"bench-teacher-error.py: --exported {source}: not a file of kdpinn export (no {name}.h beside it "
                 f"defining {name.upper()}_NOUT)")
    real = ctypes.c_double if f"void {name}_eval(int n, const double *x" in header else ctypes.c_float
    with tempfile.TemporaryDirectory() as tmp:
        lib = os.path.join(tmp, name + ".so")
        if subprocess.run(["cc", "-O2", "-shared", "-fPIC", source, "-o", lib, "-lm"]).returncode:
            sys.exit(f"bench-teacher-error.py: --exported {source}: cc failed")
        f = getattr(ctypes.CDLL(lib), name + "_eval")
        n = len(x)
        xin = np.ascontiguousarray(x, dtype=np.float64 if real is ctypes.c_double else np.float32)
        y = np.zeros(nout * n, dtype=xin.dtype)
        f(ctypes.c_int(n), xin.ctypes.data_as(ctypes.POINTER(real)), y.ctypes.data_as(ctypes.POINTER(real)))
    return y.reshape(nout, n).T.astype(np.float64)


def main(argv):
    exported = None
    if "--exported" in argv:
        k = argv.index("--exported")
        if k + 1 >= len(argv):
            sys.exit("bench-teacher-error.py: --exported needs the exported FILE.c")
        exported = argv[k + 1]
        argv = argv[:k] + argv[k + 2 :]
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
    if exported:
        y = evaluate_exported(exported, x)
    else:
        y = np.concatenate([evaluate(argv[2], x[s : s + 65536]) for s in range(0, len(x), 65536)])
    num = den = 0.0
    for o, name in enumerate(outputs):
        if name not in fields:
            continue
        ref, val = fields[name].ravel(), y[:, o]
        if name == "p":
            ref, val = ref - ref.mean(), val - val.mean()
        err = val - ref
        num, den = num + np.sum(err * err), den + np.sum(ref * ref)
        print(f"{name}: rel_l2 {np.linalg.norm(err) / np.linalg.norm(ref):.4e} max_err {np.abs(err).max():.4e} "
              f"(level {level}, {ref.size} points{', up to a constant' if name == 'p' else ''})")
    if sum(name in fields for name in outputs) > 1:
        print(f"all: rel_l2 {np.sqrt(num / den):.4e} (level {level}, the outputs together)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
