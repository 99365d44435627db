#!/usr/bin/env python3
"""The tumour study's report: the tumour radius (the u = 0.5 contour) against time for the reference, the teacher and
the students of a run, and for a forecast against the solver with the true parameters; density maps at the scan
times; the identified parameters with their standard deviations. Writes OUT/tumour.md, OUT/tumour.json (the same
figures: radius curves, parameters), OUT/radius.png and OUT/density.png (with --scans), and prints tumour.md.

The radius of a density u is that of the disk of the same area as {u >= 0.5}: r = sqrt(A / pi), A the area of the
cells where u >= 0.5 (in heterogeneous tissue the region is not a disk; r is then its equivalent radius). Cells are
counted whole: for a round tumour r is within a fraction of a cell (the cells the circle cuts in and out of the region
largely cancel).

    tumour-report.py OUT --run DIR [--scans SCANS.h5] [--calibration DIR [--true D=2e-3,rho=4]]
                     [--truth REF.h5 --forecast REF.h5]

DIR is a run's output directory after kdpinn validate (reference.h5, predictions.h5); --calibration the output
directory of a calibration (its teacher.h5 holds the identified parameters), --true the values they are compared
with; --truth and --forecast the level 0 of the solver run with the true and with the identified parameters (past the
scans: -fisher_tfinal 1.5).
"""
import argparse
import json
import math
import os
import re
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    sys.exit(f"tumour-report.py: python module {e.name} missing (Debian: python3-numpy python3-h5py)")


def fail(msg):
    sys.exit(f"tumour-report.py: {msg}")


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def open_h5(path):
    try:
        return h5py.File(path, "r")
    except OSError as e:
        fail(f"cannot read {path}: {e}")


def read_levels(path):
    """The levels of a fisher reference.h5: {level: (t, y, x, u)}"""
    levels = {}
    with open_h5(path) as f:
        if text(f.attrs.get("pde", "")) != "fisher":
            fail(f"{path} is not a fisher reference (pde = {text(f.attrs.get('pde', ''))})")
        for name in sorted(f):
            m = re.fullmatch(r"level_(\d+)", name)
            if not m:
                continue
            g = f[name]
            try:
                if text(g.attrs["axes"]) != "t,y,x":
                    fail(f"{path}: {name} has axes {text(g.attrs['axes'])}, expected t,y,x")
                t, y, x, u = (g[k][...] for k in ("t", "y", "x", "u"))
            except KeyError as e:
                fail(f"{path}: {name} incomplete ({e})")
            if len(x) < 2 or len(y) < 2 or u.shape != (len(t), len(y), len(x)):
                fail(f"{path}: {name} is not a grid of at least 2 x 2 cells with u of shape t x y x x")
            if not np.isfinite(u).all():
                fail(f"{path}: {name}/u holds a NaN or Inf")
            levels[int(m.group(1))] = (t, y, x, u)
    if 0 not in levels:
        fail(f"{path} has no level_0")
    return levels


def radius(y, x, u):
    """Equivalent radius of {u >= 0.5} per snapshot (u: nt x ny x nx cell values)"""
    cell = (x[1] - x[0]) * (y[1] - y[0])
    return np.sqrt(np.count_nonzero(u >= 0.5, axis=(1, 2)) * cell / np.pi)


def at_time(t, u, s):
    """u at time s, linear between the snapshots around it (as tumour-scans.py takes a scan); None outside them"""
    if not t[0] <= s <= t[-1]:
        return None
    if len(t) == 1:
        return u[0]
    k = min(max(int(np.searchsorted(t, s, side="right")) - 1, 0), len(t) - 2)
    w = (s - t[k]) / (t[k + 1] - t[k])
    return (1 - w) * u[k] + w * u[k + 1]


def save(plt, fig, out, name, dpi):
    """A figure written under a temporary name and renamed"""
    try:
        fig.savefig(os.path.join(out, name + ".tmp"), format="png", dpi=dpi)
        os.replace(os.path.join(out, name + ".tmp"), os.path.join(out, name))
    except OSError as e:
        fail(f"cannot write {name} in {out}: {e}")
    finally:
        plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="directory of the report (created)")
    ap.add_argument("--run", required=True, help="output directory of a run, after kdpinn validate")
    ap.add_argument("--scans", help="observation file of the scans (jobs/tumour-scans.py): density maps at its times")
    ap.add_argument("--calibration", help="output directory of a calibration (its teacher.h5)")
    ap.add_argument("--true", help="true values of the identified parameters, name=value,... (with --calibration)")
    ap.add_argument("--truth", help="reference.h5 of the solver with the true parameters (the forecast's peer)")
    ap.add_argument("--forecast", help="reference.h5 of the solver with the identified parameters")
    a = ap.parse_args()
    if (a.truth is None) != (a.forecast is None):
        fail("--truth and --forecast go together")

    ref = read_levels(os.path.join(a.run, "reference.h5"))
    curves = []  # (label, t, r, level)
    t0, y0, x0, u0 = ref[0]
    curves.append(("reference", t0, radius(y0, x0, u0), 0))
    fields = {}  # (model, level) -> u on that level
    with open_h5(os.path.join(a.run, "predictions.h5")) as p:
        for name in sorted(p):
            m = re.fullmatch(r"level_(\d+)", name)
            if not m:
                continue
            lev = int(m.group(1))
            if lev not in ref:
                fail(f"{a.run}/predictions.h5 has {name}, reference.h5 does not")
            t, y, x, _ = ref[lev]
            for model in sorted(p[name]):
                if "u" not in p[name][model]:
                    continue
                u = p[name][model]["u"][...]
                if u.shape != ref[lev][3].shape:
                    fail(f"{a.run}/predictions.h5: {name}/{model}/u is {u.shape}, the reference {ref[lev][3].shape}")
                if not np.isfinite(u).all():
                    fail(f"{a.run}/predictions.h5: {name}/{model}/u holds a NaN or Inf")
                fields[(model, lev)] = u
                # a teacher evaluated on a coarser level adds nothing to its own curve
                if model != "teacher" or lev == 0:
                    curves.append((model if lev == 0 or model.endswith(f"_L{lev}") else f"{model}@L{lev}", t,
                                   radius(y, x, u), lev))
    if a.truth:
        for label, path in (("truth", a.truth), ("forecast", a.forecast)):
            t, y, x, u = read_levels(path)[0]
            curves.append((label, t, radius(y, x, u), 0))

    true = {}
    if a.true:
        if not a.calibration:
            fail("--true needs --calibration")
        for item in a.true.split(","):
            k, _, v = item.partition("=")
            try:
                true[k.strip()] = float(v)
            except ValueError:
                fail(f"--true {a.true}: {item} is not name=value")
            if not math.isfinite(true[k.strip()]) or true[k.strip()] == 0:
                fail(f"--true {a.true}: {item}: a true value must be finite and nonzero (errors are relative to it)")
    params = {}
    if a.calibration:
        with open_h5(os.path.join(a.calibration, "teacher.h5")) as m:
            if "inferred" not in m:
                fail(f"{a.calibration}/teacher.h5 has no identified parameters (group inferred)")
            for k, v in m["inferred"].attrs.items():
                v = np.atleast_1d(v)
                if len(v) != 3:
                    fail(f"{a.calibration}/teacher.h5: inferred/{k} is not [value, std, initial]")
                params[k] = {"value": float(v[0]), "std": float(v[1]), "initial": float(v[2])}
        for k in true:
            if k not in params:
                fail(f"--true {k}: not identified in {a.calibration}/teacher.h5 (identified: {', '.join(params)})")

    scans, images = [], {}
    if a.scans:
        with open_h5(a.scans) as s:
            try:
                pts, vals = s["points"][...], s["values"][...]
                if pts.ndim != 2 or vals.ndim != 2 or len(pts) != len(vals) or pts.shape[1] != 3:
                    raise ValueError(f"points {pts.shape}, values {vals.shape}")
                scans = sorted(set(float(v) for v in pts[:, 0]))
            except (KeyError, IndexError, ValueError) as e:
                fail(f"{a.scans}: no points t,x,y and values ({e})")
        for s in scans:
            sel = pts[:, 0] == s
            n = int(round(np.sqrt(np.count_nonzero(sel))))
            if n * n == np.count_nonzero(sel):  # a square scan, x fastest (tumour-scans.py)
                images[s] = vals[sel, 0].reshape(n, n)
            if not t0[0] <= s <= t0[-1]:
                fail(f"scan time {s} of {a.scans} is outside the snapshots [{t0[0]}, {t0[-1]}] of the run")

    try:
        os.makedirs(a.out, exist_ok=True)
    except OSError as e:
        fail(f"cannot create the report directory {a.out}: {e}")
    lines = ["# Tumour growth report", "", f"Run: `{a.run}`.", ""]
    lines += ["## Tumour radius (u = 0.5)", "",
              "Equivalent radius sqrt(A / pi) of the region u >= 0.5, at the reference's level-0 snapshots; each model "
              "on the grid of its level, its radius interpolated linearly in time between the snapshots of that level "
              "(blank outside them). Below, the largest difference from the reference of the model's level over its "
              "snapshots.", ""]
    run_curves = [c for c in curves if c[0] not in ("truth", "forecast")]
    lines.append("| t | " + " | ".join(c[0] for c in run_curves) + " |")
    lines.append("| ---: |" + " ---: |" * len(run_curves))
    step = max(1, len(t0) // 8)
    for k in list(range(0, len(t0), step)) + ([len(t0) - 1] if (len(t0) - 1) % step else []):
        row = [f"{t0[k]:.4f}"]
        for _, t, r, _ in run_curves:
            row.append(f"{np.interp(t0[k], t, r):.4f}" if t[0] <= t0[k] <= t[-1] else "")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "| model | level | largest radius difference from the reference of its level |",
              "| --- | ---: | ---: |"]
    for label, t, r, lev in run_curves[1:]:
        _, y, x, u = ref[lev]
        lines.append(f"| {label} | {lev} | {np.max(np.abs(r - radius(y, x, u))):.4f} |")
    if a.truth:
        (_, tt, rt, _), (_, tf, rf, _) = curves[-2], curves[-1]
        if not np.array_equal(tt, tf):
            fail(f"{a.truth} and {a.forecast} have different snapshots")
        lines += ["", "## Forecast", "",
                  "The solver with the identified parameters against the solver with the true ones, to "
                  f"t = {tt[-1]:.4f}: radius {rf[-1]:.4f} against {rt[-1]:.4f} at the last snapshot; largest "
                  f"difference {np.max(np.abs(rf - rt)):.4f}."]
    if params:
        lines += ["", "## Identified parameters", "",
                  "| parameter | value | std | initial | truth | error | error / std |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for k, v in params.items():
            known = math.isfinite(v["std"]) and v["std"] > 0  # NaN when no Gauss-Newton phase ran
            std = f"{v['std']:.2g}" if known else "-"
            row = f"| {k} | {v['value']:.6g} | {std} | {v['initial']:.6g} |"
            if k in true:
                e = v["value"] - true[k]
                ratio = f"{abs(e) / v['std']:.2f}" if known else "-"
                row += f" {true[k]:.6g} | {100 * e / true[k]:+.2f}% | {ratio} |"
            else:
                row += " | | |"
            lines.append(row)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("tumour-report.py: matplotlib missing (Debian: python3-matplotlib): no figures", file=sys.stderr)
        plt = None
    if plt:
        lines += ["", "Radius against time: radius.png."]
        if scans:
            lines += [f"Density maps at the scan times {', '.join(f'{s:g}' for s in scans)}: density.png (blank "
                      "where a level has no snapshots around the time)."]
        fig, ax = plt.subplots(figsize=(6, 4))
        for label, t, r, lev in curves:
            ax.plot(t, r, "-" if lev == 0 else "--", label=label)
        for s in scans:
            ax.axvline(s, color="0.7", lw=0.8)
        ax.set_xlabel("t")
        ax.set_ylabel("radius of u >= 0.5")
        ax.legend(fontsize=7)
        fig.tight_layout()
        save(plt, fig, a.out, "radius.png", 120)
        if scans:
            cols = [("scan", None, None)] * bool(images) + [("reference", 0, u0)]
            cols += [(m if lv == 0 else f"{m} (L{lv})", lv, u) for (m, lv), u in fields.items()
                     if m != "teacher" or lv == 0]
            dx, dy = x0[1] - x0[0], y0[1] - y0[0]
            box = (x0[0] - dx / 2, x0[-1] + dx / 2, y0[0] - dy / 2, y0[-1] + dy / 2)
            fig, axs = plt.subplots(len(scans), len(cols), figsize=(2.2 * len(cols), 2.2 * len(scans)),
                                    squeeze=False)
            for i, s in enumerate(scans):
                for j, (label, lev, u) in enumerate(cols):
                    img = images.get(s) if lev is None else at_time(ref[lev][0], u, s)
                    if img is not None:
                        axs[i][j].imshow(img, origin="lower", extent=box, vmin=0, vmax=1, cmap="magma")
                    axs[i][j].set_title(f"{label}, t = {s:g}", fontsize=7)
                    axs[i][j].set_xticks([])
                    axs[i][j].set_yticks([])
            fig.tight_layout()
            save(plt, fig, a.out, "density.png", 100)
    lines.append("")
    finite = lambda v: v if math.isfinite(v) else None  # JSON has no NaN (as results.json: null)
    summary = {"radius": {label: {"level": lev, "t": t.tolist(), "r": r.tolist()} for label, t, r, lev in curves},
               "parameters": {k: {**{q: finite(w) for q, w in v.items()}, **({"truth": true[k]} if k in true else {})}
                              for k, v in params.items()},
               "scan_times": scans}
    try:
        for name, body in (("tumour.md", "\n".join(lines)), ("tumour.json", json.dumps(summary, indent=1))):
            with open(os.path.join(a.out, name + ".tmp"), "w") as f:
                f.write(body)
            os.replace(os.path.join(a.out, name + ".tmp"), os.path.join(a.out, name))
    except OSError as e:
        fail(f"cannot write the report in {a.out}: {e}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
