#!/usr/bin/python3
"""Scaling model of a data-parallel training step and of a Gauss-Newton step, calibrated on this machine.

Measures, on the machine it runs on:
  compute  `kdpinn train` (Burgers PINN, 10,000 collocation + 400 initial + 400 boundary points) at 1 and 2 ranks for
           the 8x20 and 8x128 networks, per step from -log_view: KDTrainEval (the loss and gradient on the rank's points: split
           over the ranks), KDTrainAdam (the update: every rank does all of it);
           tests/bench-net: the gradient's time per point of 8x20, 8x128 and 8x840 (4.9M parameters, the large teacher;
           too slow to train here), which scales the 8x128 figures to the large network;
  network  tests/bench-allreduce at 2 ranks: MPI_Allreduce time against message size, fitted by t = alpha + m beta;
  GN       (--gn) three Gauss-Newton steps of a 5081-parameter network at 1 and 2 ranks (-log_view: KDGNJacobian,
           KDGNNormalEq, KDGNSolve): the Jacobian's time per row and the rates of dsyrk and of the Cholesky factorization.
Then predicts the time of a step at P ranks with the model of docs/benchmarks.md ("Scaling model"):
  Adam/L-BFGS step  T(P) = E N / (N1 P) + A + R(8 (n + 4), P)
  GN step           T(P) = j rows / P + rows n^2 / (P F_syrk) + R(8 n^2, P) + trials (n^3 / (3 P F_chol) + C(P))
  allreduce         R(m, P) = min(ceil(log2 P) (alpha + m (beta + gamma)),
                                  2 ceil(log2 P) alpha + (P - 1) / P m (2 beta + gamma))
  Cholesky comm.    C(P) = (n / nb) 2 ceil(log2 P) alpha + (n^2 / sqrt(P)) ceil(log2 P) 8 beta  (P > 1; nb = 64)
checks it against the same runs at 2 ranks (the model with this machine's alpha and beta), and prints strong scaling
(fixed N) and weak scaling (N / P fixed) at 1 to 1024 ranks with a cluster's network, whose alpha, beta and gamma are
options: plug in your own. Writes markdown (--markdown) and a plot of the parallel efficiency (--plot, needs
matplotlib). Timing only: fails if a run fails, never on a time.

usage: bench-scaling.py --kdpinn PATH --allreduce PATH --bench-net PATH [--mpiexec PATH] [--quick] [--repeats R]
                        [--gn] [--alpha-us A] [--beta-ns B] [--gamma-ns G] [--markdown FILE] [--plot FILE.png]
"""
import argparse
import importlib.util
import json
import math
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_training", os.path.join(HERE, "bench-training.py"))
bt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bt)

NCOL, NBOUNDARY = 10000, 800  # the Burgers step of bench-training.py: collocation, initial + boundary points
NETS = {"8x20": 20, "8x128": 128, "8x840": 840}  # 8 hidden layers of this width; 8x840 is the 4.9M teacher
RANKS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
GN_STEPS = 3  # per-step figures are averages over these steps (the first also touches its buffers' pages first)
GN_EVENTS = ("KDGNJacobian", "KDGNNormalEq", "KDGNSolve")  # one GN step: Jacobian, J^T J, the trial factorizations
NB = 64  # ScaLAPACK block size of the GN factorization (-gn_block_size's default)


def nparams(width):
    return bt.nparams([width] * 8)


def log_events(path, stage, names):
    """{name: (count, max seconds over the ranks)} of the events in a -log_view ascii_info_detail file."""
    ev = bt.log_view_events(path, stage, names)
    missing = [n for n in names if n not in ev]
    if missing:
        raise SystemExit(f"bench-scaling: no events {', '.join(missing)} in {path}")
    return {n: (int(max(f["count"] for f in r.values())), max(f["time"] for f in r.values())) for n, r in ev.items()}


def fit_allreduce(data):
    """alpha (s), beta (s/byte) of t = alpha + m beta, least squares in relative error over every size."""
    pts = [(8.0 * d["doubles"], 1e-6 * d["median_us"]) for d in data["sizes"]]
    # minimize sum ((alpha + m beta - t) / t)^2: a 2x2 linear system
    s11 = sum(1 / t**2 for m, t in pts)
    s12 = sum(m / t**2 for m, t in pts)
    s22 = sum(m * m / t**2 for m, t in pts)
    r1 = sum(1 / t for m, t in pts)
    r2 = sum(m / t for m, t in pts)
    det = s11 * s22 - s12 * s12
    return (r1 * s22 - r2 * s12) / det, (s11 * r2 - s12 * r1) / det


def allreduce_time(m, P, alpha, beta, gamma):
    if P == 1:
        return 0.0
    lg = math.ceil(math.log2(P))
    return min(lg * (alpha + m * (beta + gamma)), 2 * lg * alpha + (P - 1) / P * m * (2 * beta + gamma))


def step_time(E, A, n, N, P, net):
    """E: loss + gradient time at 1 rank for N1 = NCOL + NBOUNDARY points, A: update time, net = (alpha, beta, gamma)."""
    return E * N / (NCOL + NBOUNDARY) / P + A + allreduce_time(8.0 * (n + 4), P, *net)


def gn_time(g, P, net):
    alpha, beta, gamma = net
    n, rows = g["n"], g["rows"]
    lg = math.ceil(math.log2(P)) if P > 1 else 0
    chol = n**3 / (3 * P * g["F_chol"]) + ((n / NB) * 2 * lg * alpha + n * n / math.sqrt(P) * lg * 8 * beta)
    return (g["j"] * rows / P + rows * n * n / (P * g["F_syrk"]) + allreduce_time(8.0 * n * n, P, alpha, beta, gamma)
            + g["trials"] * chol)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kdpinn", required=True)
    ap.add_argument("--allreduce", required=True, help="tests/bench-allreduce")
    ap.add_argument("--bench-net", required=True, help="tests/bench-net")
    ap.add_argument("--mpiexec", default=os.environ.get("MPIEXEC", "mpiexec"))
    ap.add_argument("--quick", action="store_true", help="one repeat, shorter runs, no GN (the CTest case)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each measurement; the tables give medians")
    ap.add_argument("--gn", action="store_true", help="also measure and model a Gauss-Newton step (about 2 min with 3 repeats)")
    ap.add_argument("--alpha-us", type=float, default=2.0, help="cluster: allreduce latency per hop (us)")
    ap.add_argument("--beta-ns", type=float, default=0.08, help="cluster: network time per byte (ns; 0.08 = 12.5 GB/s)")
    ap.add_argument("--gamma-ns", type=float, default=0.05, help="cluster: reduction time per byte (ns)")
    ap.add_argument("--workdir", default="bench-scaling-out")
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--plot", default=None)
    args = ap.parse_args()
    args.ncol = NCOL
    if args.quick:
        args.repeats = 1
    os.makedirs(args.workdir, exist_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    start, load0 = time.time(), os.getloadavg()
    cluster = (1e-6 * args.alpha_us, 1e-9 * args.beta_ns, 1e-9 * args.gamma_ns)

    # network: allreduce at 2 ranks
    js = os.path.join(args.workdir, "allreduce.json")
    bt.run([args.mpiexec, "-n", "2", args.allreduce, "-bench_time", "0.05" if args.quick else "0.2", "-bench_json", js],
           env, "bench-allreduce")
    with open(js) as f:
        ar = json.load(f)
    alpha2, beta2 = fit_allreduce(ar)
    local = (alpha2, beta2, 0.0)  # at P = 2 the fit is the model (gamma folded into beta)

    # gradient time per point, 8x20 / 8x128 at NCOL points, the large network at 100 points
    per_point = {}
    for name, w in NETS.items():
        pts, reps = (100, 2) if w > 200 else (NCOL, 4 if args.quick else 12)
        out = bt.run([args.bench_net, "-bench_widths", str(w), "-bench_points", str(pts), "-bench_reps", str(reps)], env,
                     "bench-net")
        m = re.search(r"points:\s+([0-9.]+) ms per KDNetLossGradient", out)
        per_point[name] = 1e-3 * float(m.group(1)) / pts

    # kdpinn train at 1 and 2 ranks: events per step
    bt.run([args.mpiexec, "-n", "1", args.kdpinn, "solve", "-kd_pde", "burgers", "-burgers_nu", "0.0031830988618379067",
            "-burgers_nx", "256", "-burgers_nt", "32", "-kd_levels", "1", "-kd_out", args.workdir, "-kd_force"], env,
           "kdpinn solve")
    runs = {}
    for rep in range(args.repeats):
        for name in ("8x20", "8x128"):
            widths, every, _, _ = bt.CONFIGS[name]
            for P in ((1, 2) if rep % 2 == 0 else (2, 1)):  # alternate, as bench-training.py does
                tag = f"scaling_{name}_np{P}"
                ms, _ = bt.kdpinn_step(args, env, widths, every, 2 if args.quick else 4, P, tag)
                ev = log_events(os.path.join(args.workdir, f"log_{tag}.txt"), "Train", ("KDTrainEval", "KDTrainAdam"))
                steps = ev["KDTrainAdam"][0]
                runs.setdefault((name, P), []).append({"ms": ms, "E": ev["KDTrainEval"][1] / steps,
                                                       "A": ev["KDTrainAdam"][1] / steps})
    meas = {k: {f: statistics.median(r[f] for r in v) for f in v[0]} for k, v in runs.items()}
    calib = {name: (meas[name, 1]["E"], meas[name, 1]["A"], nparams(NETS[name])) for name in ("8x20", "8x128")}
    # the large network: 8x128's figures scaled by the gradient time per point and by the parameter count
    E128, A128, n128 = calib["8x128"]
    n840 = nparams(840)
    calib["8x840"] = (E128 * per_point["8x840"] / per_point["8x128"], A128 * n840 / n128, n840)

    gn = None
    if args.gn and not args.quick:
        gdir = os.path.join(args.workdir, "gn")
        os.makedirs(gdir, exist_ok=True)
        bt.run([args.mpiexec, "-n", "1", args.kdpinn, "solve", "-kd_out", gdir, "-kd_pde", "burgers", "-kd_levels", "2",
                "-burgers_nx", "256", "-burgers_nt", "64", "-kd_force"], env, "kdpinn solve (GN)")
        gmeas = {}
        for rep in range(args.repeats):
            for P in ((1, 2) if rep % 2 == 0 else (2, 1)):
                log = os.path.join(gdir, f"log_np{P}.txt")
                bt.run([args.mpiexec, "-n", str(P), args.kdpinn, "train", "-kd_out", gdir, "-kd_pde", "burgers",
                        "-teacher_widths", "40,40,40,40", "-teacher_ncol", "5000", "-teacher_adam_steps", "0",
                        "-teacher_lbfgs_steps", "0", "-teacher_gn_steps", str(GN_STEPS), "-teacher_checkpoint_every", "0",
                        "-log_view", f":{log}:ascii_info_detail"], env, f"kdpinn train (GN, {P} rank(s))")
                ev = log_events(log, "Train", GN_EVENTS)
                gmeas.setdefault(P, []).append({e: ev[e][1] / GN_STEPS for e in GN_EVENTS}
                                               | {"trials": ev["KDGNSolve"][0] / GN_STEPS})
        g1 = {f: statistics.median(r[f] for r in gmeas[1]) for f in gmeas[1][0]}
        n, rows, trials = bt.nparams([40] * 4), 5000 + 800, g1["trials"]
        gn = {"n": n, "rows": rows, "trials": trials, "j": g1["KDGNJacobian"] / rows,
              "F_syrk": rows * n * n / g1["KDGNNormalEq"], "F_chol": trials * n**3 / 3 / g1["KDGNSolve"],
              "measured": {P: statistics.median(sum(r[e] for e in GN_EVENTS) for r in gmeas[P]) for P in (1, 2)},
              "trials_at": {P: statistics.median(r["trials"] for r in gmeas[P]) for P in (1, 2)}}

    lines = [f"Scaling model, calibrated on: {bt.cpu_model()}, {os.cpu_count()} cores; load average {load0[0]:.2f} at "
             f"start, {os.getloadavg()[0]:.2f} at end; {time.time() - start:.0f} s", ""]
    lines.append(f"allreduce at 2 ranks (shared memory): alpha = {1e6 * alpha2:.2f} us, beta = {1e9 * beta2:.3f} ns/byte "
                 f"({1e-9 / beta2:.2f} GB/s); cluster (assumed, options): alpha = {args.alpha_us:g} us, beta = "
                 f"{args.beta_ns:g} ns/byte ({1 / args.beta_ns:.1f} GB/s), gamma = {args.gamma_ns:g} ns/byte")
    lines.append("")
    lines.append("| network | params | gradient us/point | E: loss + gradient, 1 rank (ms) | A: update (ms) | "
                 "step 1 rank measured (ms) | step 2 ranks measured (ms) | model (ms) | model / measured |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in NETS:
        E, A, n = calib[name]
        if name in ("8x20", "8x128"):
            m1, m2 = meas[name, 1]["ms"], meas[name, 2]["ms"]
            model2 = 1e3 * step_time(E, A, n, NCOL + NBOUNDARY, 2, local)
            lines.append(f"| {name} | {n} | {1e6 * per_point[name]:.2f} | {1e3 * E:.1f} | {1e3 * A:.3f} | {m1:.1f} | "
                         f"{m2:.1f} | {model2:.1f} | {model2 / m2:.2f} |")
        else:
            lines.append(f"| {name} | {n} | {1e6 * per_point[name]:.2f} | {1e3 * E:.0f} (scaled) | {1e3 * A:.2f} (scaled) "
                         f"| - | - | {1e3 * step_time(E, A, n, NCOL + NBOUNDARY, 2, local):.0f} | - |")
    lines.append("")
    series = {}
    for title, kind, N0 in (("Strong scaling, N = 10,800 points per step (the Burgers teacher's)", "strong", NCOL + NBOUNDARY),
                            ("Strong scaling, N = 1,080,000 points per step", "strong", 100 * (NCOL + NBOUNDARY)),
                            ("Weak scaling, 1,000 points per rank", "weak", 1000)):
        lines.append(f"{title}: predicted step time (ms) and parallel efficiency, cluster network")
        lines.append("")
        lines.append("| ranks | " + " | ".join(f"{k} ms | {k} eff." for k in NETS) + " |")
        lines.append("| ---: | " + " | ".join("---: | ---:" for _ in NETS) + " |")
        for P in RANKS:
            row = [str(P)]
            for name in NETS:
                E, A, n = calib[name]
                t1 = step_time(E, A, n, N0, 1, cluster)
                tP = step_time(E, A, n, N0 * (P if kind == "weak" else 1), P, cluster)
                eff = t1 / (P * tP) if kind == "strong" else t1 / tP
                series.setdefault((title, name), []).append(eff)
                row += [f"{1e3 * tP:.3g}", f"{eff:.2f}"]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    if gn:
        lines.append(f"Gauss-Newton step, {gn['n']} parameters, {gn['rows']} rows, {gn['trials']:.3g} trial "
                     f"factorization(s) per step (average of {GN_STEPS} steps; measured at 1 rank: Jacobian {1e6 * gn['j']:.1f} us/row, dsyrk "
                     f"{1e-9 * gn['F_syrk']:.1f} GFLOP/s, Cholesky {1e-9 * gn['F_chol']:.1f} GFLOP/s)")
        lines.append("")
        lines.append("| ranks | model, this machine (s) | measured (s) | model, cluster network (s) |")
        lines.append("| ---: | ---: | ---: | ---: |")
        for P in RANKS:
            # the model at the trial count of that run (round-off may change how many trials a step takes)
            here = f"{gn_time(dict(gn, trials=gn['trials_at'][P]), P, local):.2f}" if P <= 2 else "-"
            got = f"{gn['measured'][P]:.2f}" if P in gn["measured"] else "-"
            lines.append(f"| {P} | {here} | {got} | {gn_time(gn, P, cluster):.3g} |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    if args.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("bench-scaling: matplotlib not found (Debian: python3-matplotlib): no plot")
            return 0
        titles = list(dict.fromkeys(t for t, _ in series))  # in the order of the tables
        fig, axes = plt.subplots(1, len(titles), figsize=(5 * len(titles), 4), sharey=True)
        for ax, t in zip(axes, titles):
            for name in NETS:
                ax.semilogx(RANKS, series[t, name], "o-", base=2, label=f"{name} ({calib[name][2]} params)")
            ax.set_title(t.split(":")[0].replace(", ", "\n", 1), fontsize=9)
            ax.set_xlabel("ranks")
            ax.grid(True, which="both", alpha=0.3)
        axes[0].set_ylabel("parallel efficiency (model)")
        axes[0].legend(fontsize=8)
        fig.suptitle(f"kdpinn step time model: alpha {args.alpha_us:g} us, beta {args.beta_ns:g} ns/B, "
                     f"gamma {args.gamma_ns:g} ns/B", fontsize=9)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=90)
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
