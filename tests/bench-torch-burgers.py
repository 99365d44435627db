#!/usr/bin/python3
"""The Burgers PINN of `kdpinn train` written in PyTorch, for the training-step benchmark (docs/benchmarks.md).

Same network and loss as kdpinn's teacher on jobs/burgers.opts (docs/losses.md):
  inputs (t, x) on [0, 1] x [-1, 1], mapped affinely to [-1, 1]; hidden tanh layers; linear output;
  L = mean_col r^2 + mean_ic (u - u0)^2 + mean_bc u^2,   r = u_t + u u_x - nu u_xx,  nu = 0.01/pi,
  u0 = -sin(pi x) at t = 0, u = 0 at x = +-1; ncol interior points, 400 initial, 400 boundary (kdpinn's defaults).
float64 throughout; u_t, u_x and u_xx by torch.autograd.grad with create_graph (the usual PINN formulation), one
step = zero_grad + loss + backward + Adam update.

usage: bench-torch-burgers.py [--widths 20,20,...] [--threads T] [--ncol N] [--steps S] [--warmup W]
Prints one line: `torch-burgers widths=... threads=T ncol=N steps=S median_ms=... mean_ms=... min_ms=... loss=...`.
The thread count of the BLAS PyTorch calls (OpenBLAS through libblas.so.3 on Debian) follows OPENBLAS_NUM_THREADS,
which the caller should set to T as well; bench-training.sh does.
"""
import argparse
import math
import statistics
import sys
import time

try:
    import torch
except ImportError:  # the caller reports it; exit status 3 tells "not installed" from a failure
    print("torch-burgers: PyTorch not found (Debian: apt-get install python3-torch)")
    sys.exit(3)


def make_net(widths, lo, hi):
    """The MLP of docs/model-format.md: affine input map to [-1, 1], tanh hidden layers, linear output."""
    layers = []
    sizes = [2] + widths + [1]
    for k in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[k], sizes[k + 1])
        torch.nn.init.xavier_normal_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if k < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    mlp = torch.nn.Sequential(*layers)
    lo, hi = torch.tensor(lo), torch.tensor(hi)

    def net(X):
        return mlp(2.0 * (X - lo) / (hi - lo) - 1.0)

    return net, mlp.parameters()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", default="20,20,20,20,20,20,20,20")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ncol", type=int, default=10000)
    ap.add_argument("--nic", type=int, default=400)
    ap.add_argument("--nbc", type=int, default=400)
    ap.add_argument("--steps", type=int, default=20, help="timed steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(1)
    widths = [int(w) for w in args.widths.split(",")]
    nu = 0.01 / math.pi
    net, params = make_net(widths, [0.0, -1.0], [1.0, 1.0])
    opt = torch.optim.Adam(params, lr=1e-3)

    # points, columns (t, x) as kdpinn orders the inputs
    g = torch.Generator().manual_seed(2)
    Xc = torch.rand(args.ncol, 2, generator=g) * torch.tensor([1.0, 2.0]) - torch.tensor([0.0, 1.0])
    Xc.requires_grad_(True)
    xi = torch.rand(args.nic, 1, generator=g) * 2 - 1
    Xi = torch.cat([torch.zeros_like(xi), xi], dim=1)
    ui = -torch.sin(math.pi * xi)
    tb = torch.rand(args.nbc, 1, generator=g)
    sb = torch.where(torch.rand(args.nbc, 1, generator=g) < 0.5, -1.0, 1.0)
    Xb = torch.cat([tb, sb], dim=1)

    def step():
        opt.zero_grad(set_to_none=True)
        u = net(Xc)
        du = torch.autograd.grad(u, Xc, torch.ones_like(u), create_graph=True)[0]
        u_t, u_x = du[:, 0:1], du[:, 1:2]
        u_xx = torch.autograd.grad(u_x, Xc, torch.ones_like(u_x), create_graph=True)[0][:, 1:2]
        r = u_t + u * u_x - nu * u_xx
        loss = (r**2).mean() + ((net(Xi) - ui) ** 2).mean() + (net(Xb) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    loss = float("nan")
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(1e3 * (time.perf_counter() - t0))
    print(
        f"torch-burgers widths={args.widths} threads={args.threads} ncol={args.ncol} steps={args.steps} "
        f"median_ms={statistics.median(times):.3f} mean_ms={statistics.fmean(times):.3f} min_ms={min(times):.3f} "
        f"loss={loss:.6e} torch={torch.__version__}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
