#!/usr/bin/env python3
"""composite-study.py OUT: the report of a composite conduction study (docs/slurm.md, "Composite study").

Reads, for every case of the study, OUT/<case>/reference.h5 (attributes k1, k2, fraction, eps, K_eff, microstructure)
and OUT/<case>/results.json ("effective_conductivity", "models"), and writes
  OUT/study-keff.png  K_eff against the contrast k2/k1 (log axes): the cell problem's Kxx (and Kyy where it differs),
                      the tensors the homogenized students and their scratch twins learned (one marker per eps), the
                      Wiener and Hashin-Shtrikman bounds (and sqrt(k1 k2), Dykhne, for a checkerboard) as curves;
                      beside it the error of each learned tensor against the contrast
  OUT/study.md        tables: the cases, the cell-problem and learned tensors with their errors, the bounds, and the
                      field errors (rel_l2) of the teacher and of every student and scratch twin per level
  OUT/study.json      the same numbers
The cases are those of OUT/sweep.txt (the sweep file, copied there by jobs/composite-study.sh and slurm/submit
--sweep) in its order, then any other directory of OUT with a reference.h5. A case without reference.h5 is reported
as missing, one with a reference.h5 but no results.json as incomplete; neither is an error. The error of a learned
tensor is its largest entry error relative to the largest entry of the cell-problem tensor.
Exit status: 0 done; 1 no case in OUT at all, or OUT unreadable (one line); 2 usage; 3 numpy, h5py or matplotlib
missing.
"""
import json
import math
import os
import re
import sys

PROG = "composite-study.py"


def fail(msg, code=1):
    print("%s: %s" % (PROG, msg), file=sys.stderr)
    sys.exit(code)


def text(v):
    """An HDF5 string attribute as str (h5py gives bytes for fixed-length strings)."""
    if hasattr(v, "decode"):
        return v.decode()
    return str(v)


def read_sweep(path):
    """The cases of a sweep file as (name, options), the rule of kd_sweep_read in slurm/kdpinn-job.sh."""
    cases = []
    with open(path) as fp:
        for line in fp:
            words = line.split("#", 1)[0].split()
            if words:
                cases.append((words[0], words[1:]))
    return cases


def bounds(k1, k2, f2, checkerboard):
    """Wiener (arithmetic, harmonic) and 2-D Hashin-Shtrikman bounds of a two-phase composite, f2 the fraction of
    phase 2; the HS expressions take the lower conductivity as the matrix (the same formulas as KDCompositeBounds)."""
    f1 = 1 - f2
    b = {"wiener_harmonic": 1 / (f1 / k1 + f2 / k2), "wiener_arithmetic": f1 * k1 + f2 * k2}
    if k1 == k2:
        b["hs_lower"] = b["hs_upper"] = k1
    else:
        lo = k1 + f2 / (1 / (k2 - k1) + f1 / (2 * k1))
        hi = k2 + f1 / (1 / (k1 - k2) + f2 / (2 * k2))
        b["hs_lower"], b["hs_upper"] = min(lo, hi), max(lo, hi)
    if checkerboard:
        b["dykhne"] = math.sqrt(k1 * k2)
    return b


def tensor_error(K, Kc):
    """Largest entry error relative to the largest entry of the cell-problem tensor."""
    scale = max(abs(v) for row in Kc for v in row)
    return max(abs(K[i][j] - Kc[i][j]) for i in range(2) for j in range(2)) / scale if scale > 0 else float("nan")


def model_order(name):
    """student_L<l> before scratch_L<l>, by level."""
    m = re.match(r"(\w+?)_L(\d+)$", name)
    if not m:
        return (1 << 30, 2, name)
    return (int(m.group(2)), 0 if m.group(1) == "student" else 1, name)


def eps_label(eps):
    inv = 1 / eps
    return "1/%d" % round(inv) if abs(inv - round(inv)) < 1e-9 else "%g" % eps


def read_case(np, h5py, out, name, options):
    """One case as a dict; status ok, incomplete, missing or unreadable."""
    d = os.path.join(out, name)
    case = {"name": name, "options": options, "status": "missing"}
    ref_path, res_path = os.path.join(d, "reference.h5"), os.path.join(d, "results.json")
    exit_path = os.path.join(d, "logs", "run.exit")
    if os.path.isfile(exit_path):
        with open(exit_path) as fp:
            words = fp.read().split()
        if len(words) >= 2 and words[1] != "done":
            case["run"] = "run %s, exit %s: see %s/logs/run.log" % (words[1], words[0], name)
    if not os.path.isfile(ref_path):
        return case
    try:
        with h5py.File(ref_path, "r") as ref:
            a = ref.attrs
            if text(a.get("pde", "")) != "conduction":
                raise ValueError("pde is '%s', not conduction" % text(a.get("pde", "")))
            for key in ("k1", "k2", "fraction", "eps"):
                case[key] = float(np.ravel(a[key])[0])
            K = [float(v) for v in np.ravel(a["K_eff"])]
            if len(K) != 4:
                raise ValueError("K_eff has %d entries, not 4" % len(K))
            case["K_cell"] = [K[0:2], K[2:4]]
            first = text(a["microstructure"]).strip().splitlines()[0].split() if "microstructure" in a else []
            case["microstructure"] = first[1] if len(first) >= 2 and first[0] == "type" else "unknown"
            case["levels"] = int(np.ravel(a["levels"])[0])
            case["homogenized_level"] = None
            for lev in range(case["levels"]):
                g = ref.get("level_%d" % lev)
                spacing = np.ravel(g.attrs["spacing"]) if g is not None and "spacing" in g.attrs else []
                if len(spacing) and all(abs(h - case["eps"]) <= 1e-9 * case["eps"] for h in spacing):
                    case["homogenized_level"] = lev
    except (OSError, KeyError, ValueError, IndexError) as e:
        case["status"] = "unreadable"
        case["problem"] = "%s/reference.h5: %s" % (name, e)
        return case
    case["contrast"] = case["k2"] / case["k1"]
    case["bounds"] = bounds(case["k1"], case["k2"], case["fraction"], case["microstructure"] == "checkerboard")
    case["learned"] = {}
    case["rel_l2"] = {}
    if not os.path.isfile(res_path):
        case["status"] = "incomplete"
        return case
    try:
        with open(res_path) as fp:
            res = json.load(fp)
        ec = res.get("effective_conductivity") or {}
        for model in sorted((k for k in ec if k != "cell_problem"), key=model_order):
            K = [[float(v) for v in row] for row in ec[model]]
            m = re.match(r"(\w+?)_L(\d+)$", model)
            case["learned"][model] = {"K": K, "error": tensor_error(K, case["K_cell"]),
                                      "kind": m.group(1) if m else model, "level": int(m.group(2)) if m else None}
        for row in res.get("models", []):
            name_ = row.get("name", "")
            if name_ == "teacher" or re.match(r"(student|scratch)_L\d+$", name_):
                case["rel_l2"][name_] = row.get("rel_l2")
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        case["status"] = "unreadable"
        case["problem"] = "%s/results.json: %s" % (name, e)
        return case
    case["status"] = "ok"
    return case


def fmt(v, spec="%.4g"):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else spec % v


def finite(v):
    """v with every NaN or infinity replaced by None (JSON has neither)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [finite(x) for x in v]
    return v


def write_atomic(path, data):
    tmp = path + ".part"
    with open(tmp, "w") as fp:
        fp.write(data)
    os.replace(tmp, path)


def figure(np, plt, cases, path):
    from matplotlib.lines import Line2D

    present = [c for c in cases if "K_cell" in c]
    eps_values = sorted({c["eps"] for c in present}, reverse=True)
    markers = dict(zip(eps_values, "osD^v<>ph"))
    # a small horizontal offset per eps keeps the markers of one contrast apart on the log axis
    shift = {e: 10 ** (0.025 * (k - (len(eps_values) - 1) / 2)) for k, e in enumerate(eps_values)}
    colors = {"student": "C0", "scratch": "C3"}
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    contrasts = [c["contrast"] for c in present]
    lo, hi = min(contrasts + [1.0]), max(contrasts + [1.0])
    grid = np.geomspace(lo / 1.2 if lo < 1 else 1.0, hi * 1.2, 200)
    handles = []
    # bounds, normalized by k1, one set per fraction (and per microstructure for Dykhne's value)
    groups = sorted({(c["fraction"], c["microstructure"] == "checkerboard") for c in present})
    several = len({g[0] for g in groups}) > 1
    for f2, checker in groups:
        b = [bounds(1.0, r, f2, checker) for r in grid]
        tag = " (fraction %g)" % f2 if several else ""
        ax.plot(grid, [x["wiener_arithmetic"] for x in b], color="0.45", ls=":", lw=1.3)
        ax.plot(grid, [x["wiener_harmonic"] for x in b], color="0.45", ls=":", lw=1.3)
        handles.append(Line2D([], [], color="0.45", ls=":", lw=1.3, label="Wiener bounds" + tag))
        ax.fill_between(grid, [x["hs_lower"] for x in b], [x["hs_upper"] for x in b], color="C2", alpha=0.12, lw=0)
        ax.plot(grid, [x["hs_lower"] for x in b], color="C2", ls="--", lw=1.2)
        ax.plot(grid, [x["hs_upper"] for x in b], color="C2", ls="--", lw=1.2)
        handles.append(Line2D([], [], color="C2", ls="--", lw=1.2, label="Hashin-Shtrikman bounds" + tag))
        if checker:
            ax.plot(grid, np.sqrt(grid), color="C1", ls="-.", lw=1.2)
            handles.append(Line2D([], [], color="C1", ls="-.", lw=1.2, label="checkerboard: sqrt(k1 k2) (Dykhne)"))
    # the cell problem: one line through the mean over the cases of each contrast
    for comp, (i, j), ls in (("Kxx", (0, 0), "-"), ("Kyy", (1, 1), "--")):
        if comp == "Kyy" and all(abs(c["K_cell"][1][1] - c["K_cell"][0][0]) <= 1e-6 * abs(c["K_cell"][0][0]) for c in present):
            continue
        xs = sorted(set(contrasts))
        ys = [np.mean([c["K_cell"][i][j] / c["k1"] for c in present if c["contrast"] == x]) for x in xs]
        ax.plot(xs, ys, "k" + ls, marker="*", ms=11, lw=1.4, zorder=4)
        handles.append(Line2D([], [], color="k", ls=ls, marker="*", ms=11, label="cell problem " + comp))
    # the learned tensors: colour = model, marker = eps, filled = Kxx, open = Kyy
    kinds = set()
    for c in present:
        x = c["contrast"] * shift[c["eps"]]
        for model, m in c.get("learned", {}).items():
            color = colors.get(m["kind"], "C4")
            kinds.add(m["kind"])
            z = 6 if m["kind"] == "student" else 5
            ax.plot(x, m["K"][0][0] / c["k1"], markers[c["eps"]], color=color, mec=color, ms=7, zorder=z)
            ax.plot(x, m["K"][1][1] / c["k1"], markers[c["eps"]], color=color, mec=color, mfc="none", ms=7, zorder=z)
            bx.loglog(x, max(m["error"], 1e-16), markers[c["eps"]], color=color, mec=color, ms=7, zorder=z)
    order = sorted(kinds, key=lambda k: (k != "student", k))
    names = {"student": "homogenized student", "scratch": "scratch twin"}
    kind_handles = [Line2D([], [], color=colors.get(k, "C4"), lw=6, label=names.get(k, k)) for k in order]
    fill_handles = [Line2D([], [], ls="none", label="markers: filled Kxx, open Kyy")] if kinds else []
    eps_handles = [Line2D([], [], color="0.3", marker=markers[e], ls="none", ms=7, label="eps = " + eps_label(e))
                   for e in eps_values]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("contrast k2 / k1")
    ax.set_ylabel("effective conductivity / k1")
    ax.set_title("K_eff against contrast")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(handles=handles + kind_handles + fill_handles + eps_handles, fontsize=8, loc="upper left")
    bx.set_xscale("log")
    bx.set_xlim(ax.get_xlim())
    bx.set_xlabel("contrast k2 / k1")
    bx.set_ylabel("error of the learned K (relative, largest entry)")
    bx.set_title("error of the learned tensors")
    bx.grid(True, which="both", alpha=0.3)
    if kinds:
        bx.legend(handles=kind_handles + eps_handles, fontsize=8)
    # plain numbers on the log axes (6, not 6 x 10^0); minor ticks labelled when an axis spans little more than a decade
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def __call__(self, x, pos=None):
            return "%g" % x if super().__call__(x, pos) else ""

    for axis in (ax.xaxis, ax.yaxis, bx.xaxis, bx.yaxis):
        axis.set_major_formatter(Plain())
        axis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(1.2, 0.6)))
    fig.tight_layout()
    tmp = path + ".part"
    fig.savefig(tmp, format="png", dpi=110)
    os.replace(tmp, path)
    plt.close(fig)


def code(options):
    return "`%s`" % " ".join(options) if options else ""


def markdown(cases, sweep_path):
    present = [c for c in cases if "K_cell" in c]
    L = ["# Composite study", ""]
    L.append("Written by `jobs/composite-study.py` from the cases' `reference.h5` and `results.json`%s. "
             "Figure: [study-keff.png](study-keff.png); numbers: [study.json](study.json)."
             % (" (cases of `sweep.txt`)" if sweep_path else ""))
    L.append("")
    L.append("![K_eff against contrast](study-keff.png)")
    L.append("")
    counts = {}
    for c in cases:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    L.append("%d case(s): %s." % (len(cases), ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items()))))
    L.append("")
    L.append("## Cases")
    L.append("")
    L.append("| case | status | microstructure | k1 | k2 | k2/k1 | fraction | eps | levels | homogenized level | options |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for c in cases:
        notes = [c[k] for k in ("run", "problem") if k in c]
        status = c["status"] + (" (%s)" % "; ".join(notes) if notes else "")
        if "K_cell" in c:
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d | %s | %s |" % (
                c["name"], status, c["microstructure"], fmt(c["k1"]), fmt(c["k2"]), fmt(c["contrast"]), fmt(c["fraction"]),
                eps_label(c["eps"]), c["levels"], fmt(c["homogenized_level"], "%d"), code(c["options"])))
        else:
            L.append("| %s | %s | | | | | | | | | %s |" % (c["name"], status, code(c["options"])))
    L.append("")
    L.append("## Effective conductivity")
    L.append("")
    L.append("The periodic cell problem's tensor (`reference.h5` K_eff) and the tensors learned by the homogenized "
             "students and their scratch twins (`results.json` effective_conductivity). Error: the largest entry error "
             "relative to the largest entry of the cell problem's tensor.")
    L.append("")
    L.append("| case | k2/k1 | eps | model | Kxx | Kxy | Kyx | Kyy | error |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for c in present:
        K = c["K_cell"]
        L.append("| %s | %s | %s | cell problem | %s | %s | %s | %s | |" % (
            c["name"], fmt(c["contrast"]), eps_label(c["eps"]), fmt(K[0][0]), fmt(K[0][1]), fmt(K[1][0]), fmt(K[1][1])))
        for model, m in c["learned"].items():
            K = m["K"]
            L.append("| %s | | | %s | %s | %s | %s | %s | %s |" % (
                c["name"], model, fmt(K[0][0]), fmt(K[0][1]), fmt(K[1][0]), fmt(K[1][1]), fmt(100 * m["error"], "%.3g%%")))
        if c["status"] == "ok" and not c["learned"]:
            L.append("| %s | | | (no model learned the tensor) | | | | | |" % c["name"])
    L.append("")
    L.append("## Bounds")
    L.append("")
    L.append("Wiener: harmonic 1/((1-f)/k1 + f/k2) and arithmetic (1-f) k1 + f k2; Hashin-Shtrikman for 2-D isotropic "
             "composites (k1 < k2, f the fraction of phase 2): k1 + f/(1/(k2-k1) + (1-f)/(2 k1)) and "
             "k2 + (1-f)/(1/(k1-k2) + f/(2 k2)); Dykhne: sqrt(k1 k2), exact for a checkerboard. The last column says "
             "whether the cell problem's Kxx and Kyy lie within the Hashin-Shtrikman bounds (which hold for isotropic "
             "tensors only).")
    L.append("")
    L.append("| case | harmonic | HS lower | sqrt(k1 k2) | HS upper | arithmetic | cell K within HS |")
    L.append("| --- | --- | --- | --- | --- | --- | --- |")
    for c in present:
        b, K = c["bounds"], c["K_cell"]
        isotropic = abs(K[0][0] - K[1][1]) <= 1e-6 * abs(K[0][0]) and abs(K[0][1]) <= 1e-6 * abs(K[0][0])
        tol = 1e-9 * b["hs_upper"]
        inside = all(b["hs_lower"] - tol <= K[i][i] <= b["hs_upper"] + tol for i in range(2))
        L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            c["name"], fmt(b["wiener_harmonic"]), fmt(b["hs_lower"]), fmt(b.get("dykhne")), fmt(b["hs_upper"]),
            fmt(b["wiener_arithmetic"]), ("yes" if inside else "no") if isotropic else "anisotropic"))
    L.append("")
    L.append("## Field errors per level")
    L.append("")
    L.append("Relative L2 error of u against the reference of the model's level (`results.json` models): the teacher "
             "on level 0, then per level the student and its scratch twin (student / scratch); (h) marks the "
             "homogenized level.")
    L.append("")
    nlev = max([c["levels"] for c in present] + [1])
    L.append("| case | teacher L0 | " + " | ".join("L%d student / scratch" % l for l in range(1, nlev)) + " |")
    L.append("| --- | --- |" + " --- |" * (nlev - 1))
    for c in present:
        r = c["rel_l2"]
        if c["status"] != "ok":
            L.append("| %s | (%s) |%s" % (c["name"], c["status"], " |" * (nlev - 1)))
            continue
        cells = []
        for l in range(1, nlev):
            if l >= c["levels"]:
                cells.append("")
                continue
            cell = "%s / %s" % (fmt(r.get("student_L%d" % l), "%.3e"), fmt(r.get("scratch_L%d" % l), "%.3e"))
            cells.append(cell + (" (h)" if l == c["homogenized_level"] else ""))
        L.append("| %s | %s | %s |" % (c["name"], fmt(r.get("teacher"), "%.3e"), " | ".join(cells)))
    L.append("")
    return "\n".join(L)


def main():
    if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print("usage: %s OUT (-h: what it reads and writes)" % PROG, file=sys.stderr)
        return 2
    out = sys.argv[1]
    if not os.path.isdir(out):
        fail("'%s' is not a directory" % out)
    try:
        import numpy as np
        import h5py
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        fail("python module %s missing (the study report needs numpy, h5py, matplotlib)" % (e.name or e), 3)
    sweep_path = os.path.join(out, "sweep.txt")
    listed = []
    if os.path.isfile(sweep_path):
        try:
            listed = read_sweep(sweep_path)
        except (OSError, UnicodeDecodeError) as e:
            fail("cannot read %s: %s" % (sweep_path, e))
    else:
        sweep_path = None
    names = {n for n, _ in listed}
    try:
        others = sorted(n for n in os.listdir(out) if n not in names and os.path.isfile(os.path.join(out, n, "reference.h5")))
    except OSError as e:
        fail("cannot list '%s': %s" % (out, e))
    cases = [read_case(np, h5py, out, n, o) for n, o in listed + [(n, []) for n in others]]
    for c in cases:
        if "problem" in c:
            print("%s: warning: case %s: %s" % (PROG, c["name"], c["problem"]), file=sys.stderr)
    present = [c for c in cases if "K_cell" in c]
    if not present:
        if listed:
            fail("no case in '%s': none of the %d case(s) of %s has a reference.h5" % (out, len(listed), sweep_path))
        fail("no case in '%s': no <case>/reference.h5 (run jobs/composite-study.sh or slurm/submit --sweep first)" % out)
    figure(np, plt, cases, os.path.join(out, "study-keff.png"))
    write_atomic(os.path.join(out, "study.md"), markdown(cases, sweep_path))
    study = {"kind": "composite-study", "cases": cases, "missing": [c["name"] for c in cases if c["status"] == "missing"],
             "error_definition": "max_ij |K_ij - K_cell_ij| / max_ij |K_cell_ij|"}
    write_atomic(os.path.join(out, "study.json"), json.dumps(finite(study), indent=1, allow_nan=False) + "\n")
    counts = {}
    for c in cases:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    print("%s: %d case(s) (%s); wrote %s" % (PROG, len(cases), ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items())),
                                             ", ".join(os.path.join(out, f) for f in ("study.md", "study.json", "study-keff.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
