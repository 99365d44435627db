#!/usr/bin/python3
"""Error against wall time, read off the output of runs with -kd_monitor -kd_monitor_error (docs/training.md).

usage: plot-error-time.py -o FIGURE.png [--title TEXT] [--target E] [--fields F,F] LABEL=LOG [LABEL=LOG ...]
Each LOG is what a `kdpinn train` or `kdpinn distill` run printed; every line
  `  step name error rel_l2 E [field E ...] level l at T s`
is a point (T, E) of the curve of model `name`; the curve is labelled `LABEL name` (LABEL alone when the log holds one
model); with --fields, one curve per named field instead, from the bracket (`LABEL u`, or `LABEL name u`), for targets
stated per field (the cavity's u and v); the phase of each point (adam, lbfgs, gn, quantize, from the progress line above it) is marked where it
starts; --target draws the error a target asks for. Prints the points as a table (step, time, error) too. Needs matplotlib; fails if a log holds no error line.
"""
import argparse
import re
import sys

ERROR = re.compile(r"^\s*(\d+) (\S+) error rel_l2 (\S+) \[(.*)\] level (\d+) at (\S+) s$")
PROGRESS = re.compile(r"^\s*(\d+) (\S+) (adam|lbfgs|gn|quantize)\s+loss ")


def read(path, fields=None):
    """{(model name, ""): [(step, seconds, rel_l2, phase)]} of one log; with fields, {(model name, field): [...]}, the
    field's relative L2 error in place of rel_l2 (a field missing from a line is an error)."""
    curves, phase = {}, {}
    with open(path) as f:
        for line in f:
            m = PROGRESS.match(line)
            if m:
                phase[m.group(2)] = m.group(3)
                continue
            m = ERROR.match(line)
            if m:
                name, step, seconds = m.group(2), int(m.group(1)), float(m.group(6))
                if not fields:
                    curves.setdefault((name, ""), []).append((step, seconds, float(m.group(3)), phase.get(name, "")))
                    continue
                words = m.group(4).split()
                byfield = dict(zip(words[0::2], words[1::2]))
                for f in fields:
                    if f not in byfield:
                        sys.exit(f"plot-error-time.py: {path}: no field '{f}' in the error line of step {step} "
                                 f"(it has: {', '.join(byfield) or 'none'})")
                    curves.setdefault((name, f), []).append((step, seconds, float(byfield[f]), phase.get(name, "")))
    return curves


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", required=True, help="the figure (PNG)")
    ap.add_argument("--title", default="")
    ap.add_argument("--target", type=float, help="a target error, drawn as a dashed line")
    ap.add_argument("--fields", help="comma-separated fields: one curve per field instead of all outputs together")
    ap.add_argument("runs", nargs="+", help="LABEL=LOG")
    args = ap.parse_args(argv[1:])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for run in args.runs:
        label, sep, path = run.partition("=")
        if not sep:
            sys.exit(f"plot-error-time.py: {run}: expected LABEL=LOG")
        try:
            curves = read(path, args.fields.split(",") if args.fields else None)
        except OSError as e:
            sys.exit(f"plot-error-time.py: cannot read {path}: {e.strerror}")
        except UnicodeDecodeError:
            sys.exit(f"plot-error-time.py: {path}: not a text log")
        if not curves:
            sys.exit(f"plot-error-time.py: {path}: no error lines (run with -kd_monitor -kd_monitor_error)")
        models = {name for name, _ in curves}
        for (name, field), pts in curves.items():
            full = " ".join(w for w in (label, name if len(models) > 1 else "", field) if w)
            print(f"# {full} ({path})\n# step seconds rel_l2 phase")
            for p in pts:
                print(f"{p[0]} {p[1]:.2f} {p[2]:.4e} {p[3]}")
            line, = ax.semilogy([p[1] for p in pts], [p[2] for p in pts], "-", label=full)
            for i, p in enumerate(pts):
                if p[3] and (i == 0 or pts[i - 1][3] != p[3]):
                    ax.annotate(p[3], (p[1], p[2]), textcoords="offset points", xytext=(4, 6), fontsize=8,
                                color=line.get_color())
                    ax.plot([p[1]], [p[2]], "o", ms=3, color=line.get_color())
    if args.target:
        ax.axhline(args.target, ls="--", color="grey", lw=1, label=f"target {args.target:g}")
    ax.set_xlabel("training wall time (s)")
    ax.set_ylabel("relative L2 error against the reference")
    if args.title:
        ax.set_title(args.title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.o, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
