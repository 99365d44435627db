#!/usr/bin/env python3
"""Forward pass of kdpinn model files in PyTorch (float64, one thread): the baseline of `kdpinn bench`.

For each model file: the same MLP (input map to [-1, 1], Linear + tanh/sin layers, output scaling) built from the file
as docs/model-format.md describes it, evaluated under torch.no_grad() on the points kdpinn bench uses: one point, 1024
points (every (n/1024)-th point of the field), and the full field (2-D models: the 256 x 256 cell centres of the input
box; space-time models: the cell centres of the model's level in reference.h5, axes matched to the inputs by name).
Median of --repeats timed calls after --warmup untimed ones; the result is checked against tests/model_eval.py.

Prints one JSON object: {"torch": version, "threads": 1, "models": {name: {"latency_1_us", "batch_1024_ms", "field_ms",
"field_points"}}}.

Usage: bench-torch-infer.py [--reference reference.h5] [--field 256] [--repeats 21] [--warmup 3] model.h5 ...
"""
import argparse
import json
import os
import sys
import time


def openblas_kernels():
    """Give OpenBLAS (PyTorch's BLAS on Debian) the kernel family kdpinn's driver picks on CPUs it does not know, so that
    neither side is measured with the generic fallback kernels. Must run before torch is imported."""
    if "OPENBLAS_CORETYPE" in os.environ:
        return
    try:
        flags = open("/proc/cpuinfo").read().split("flags")[1].split("\n")[0].split()
    except (OSError, IndexError):
        return
    if all(f in flags for f in ("avx512f", "avx512dq", "avx512bw", "avx512vl")):
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    elif "avx2" in flags and "fma" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"


openblas_kernels()
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_eval import evaluate  # noqa: E402


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class MLP(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        with h5py.File(path, "r") as f:
            a = f.attrs
            self.act = {"tanh": torch.tanh, "sin": torch.sin, "isru": lambda z: z * torch.rsqrt(1.0 + z * z)}[text(a["activation"])]
            widths = [int(w) for w in np.atleast_1d(a["widths"])]
            lo, hi = np.atleast_1d(a["input_lo"]), np.atleast_1d(a["input_hi"])
            self.register_buffer("a", torch.tensor(2.0 / (hi - lo), dtype=torch.float64))
            self.register_buffer("c", torch.tensor(-2.0 * lo / (hi - lo) - 1.0, dtype=torch.float64))
            self.register_buffer("scale", torch.tensor(np.atleast_1d(a["output_scale"]), dtype=torch.float64))
            self.register_buffer("shift", torch.tensor(np.atleast_1d(a["output_shift"]), dtype=torch.float64))
            self.layers = torch.nn.ModuleList()
            for k in range(len(widths) - 1):
                lin = torch.nn.Linear(widths[k], widths[k + 1]).to(torch.float64)
                lin.weight.data = torch.tensor(f[f"layer_{k}/W"][...], dtype=torch.float64)
                lin.bias.data = torch.tensor(f[f"layer_{k}/b"][...], dtype=torch.float64)
                self.layers.append(lin)
            self.inputs = text(a["inputs"]).split(",")
            self.level = int(np.ravel(a["level"])[0])
            self.lo, self.hi = lo, hi

    def forward(self, x):
        h = x * self.a + self.c
        for lin in self.layers[:-1]:
            h = self.act(lin(h))
        return self.layers[-1](h) * self.scale + self.shift


def field_points(model, reference, field):
    """The full field of kdpinn bench (KDBenchFieldPoints): level grid for space-time models, else a box grid."""
    if "t" in model.inputs and reference:
        with h5py.File(reference, "r") as r:
            g = r[f"level_{model.level}"]
            axes = text(g.attrs["axes"]).split(",")
            coords = [g[ax][...] for ax in axes]
        mesh = np.meshgrid(*coords, indexing="ij")  # natural order: the last axis fastest
        cols = {ax: m.ravel() for ax, m in zip(axes, mesh)}
        return np.stack([cols[i] for i in model.inputs], axis=1)
    nin = len(model.inputs)
    m = int(np.ceil((field * field) ** (1.0 / nin) - 1e-9))
    axes = [model.lo[i] + (np.arange(m) + 0.5) * (model.hi[i] - model.lo[i]) / m for i in range(nin)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([g.ravel() for g in mesh], axis=1)


def median_time(fn, x, repeats, warmup, sample_s=2e-3):
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(max(warmup, 1)):
            fn(x)
        one = (time.perf_counter() - t0) / max(warmup, 1)
        m = max(1, min(100000, int(np.ceil(sample_s / one)))) if one > 0 else 100000
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(m):
                fn(x)
            ts.append((time.perf_counter() - t0) / m)
    return float(np.median(ts))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--reference", default="")
    p.add_argument("--field", type=int, default=256)
    p.add_argument("--repeats", type=int, default=21)
    p.add_argument("--warmup", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(1)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "dtype": "float64",
           "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""), "models": {}}
    for path in args.models:
        model = MLP(path).eval()
        x = field_points(model, args.reference if os.path.exists(args.reference) else "", args.field)
        n = len(x)
        xt = torch.tensor(x, dtype=torch.float64)
        with torch.no_grad():
            y = model(xt).numpy()
        ref = evaluate(path, x)
        err = np.abs(y - ref).max() / max(np.abs(ref).max(), 1e-300)
        assert err < 1e-12, f"{path}: the torch model differs from model_eval.py by {err:.3e}"
        batch = xt[(np.arange(1024) * n) // 1024].contiguous()
        one = xt[n // 2 : n // 2 + 1].contiguous()
        name = os.path.splitext(os.path.basename(path))[0]
        out["models"][name] = {
            "latency_1_us": 1e6 * median_time(model, one, args.repeats, args.warmup),
            "batch_1024_ms": 1e3 * median_time(model, batch, args.repeats, args.warmup),
            "field_ms": 1e3 * median_time(model, xt, args.repeats, args.warmup),
            "field_points": n,
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
