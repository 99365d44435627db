#!/usr/bin/env python3
"""kdpinn-report.py OUT: the figures of `kdpinn validate` (docs/validation.md).

Reads OUT/results.json, OUT/predictions.h5, OUT/reference.h5 and the checkpoints results.json names, and writes
OUT/figures/*.png:
  <row>.png              reference | prediction | error of each field of one row of results.json (3-D: last time slice)
  loss_<model>.png       the loss history of a model's checkpoint, total and per term (and the inferred parameters)
  error_vs_params.png    relative L2 error against parameter count of every row
Without a reference (results.json "reference": null, a teacher trained on observations alone) only the loss
histories are drawn. The stage runs it after writing results.json; it prints "figures: N" on success. Exit status 3: numpy, h5py or
matplotlib is missing (the stage then skips the figures with a warning).
"""
import json
import os
import sys


def text(v):
    """An HDF5 string attribute as str (h5py gives bytes for fixed-length strings)."""
    if hasattr(v, "decode"):
        return v.decode()
    return str(v)


def save(fig, path):
    """Writes a figure under a temporary name and renames it, so that no half-written PNG is left behind."""
    tmp = path + ".part"
    fig.savefig(tmp, format="png", dpi=110)
    os.replace(tmp, path)


def field_figure(plt, np, ref, pred, row, path):
    lev = ref["level_%d" % row["level"]]
    axes = text(lev.attrs["axes"]).split(",")
    coords = [lev[a][...] for a in axes]
    group = pred[row["predictions"]]
    fields = list(row["fields"].keys())
    fig, ax = plt.subplots(len(fields), 3, figsize=(13, 3.6 * len(fields)), squeeze=False)
    where = ""
    for k, f in enumerate(fields):
        r, p, e = lev[f][...], group[f][...], group[f + "_error"][...]
        if r.ndim == 3:
            # space-time: the last snapshot (last cell centre of axis 0)
            r, p, e = r[-1], p[-1], e[-1]
            where = ", %s = %.4g" % (axes[0], coords[0][-1])
            vert, horiz = coords[1], coords[2]
            vname, hname = axes[1], axes[2]
        else:
            vert, horiz = coords[0], coords[1]
            vname, hname = axes[0], axes[1]
        hv = (vert[1] - vert[0]) / 2 if len(vert) > 1 else 0.5
        hh = (horiz[1] - horiz[0]) / 2 if len(horiz) > 1 else 0.5
        extent = [horiz[0] - hh, horiz[-1] + hh, vert[0] - hv, vert[-1] + hv]
        lo, hi = float(min(r.min(), p.min())), float(max(r.max(), p.max()))
        emax = float(np.abs(e).max()) or 1.0
        panels = [(r, "reference", "viridis", lo, hi), (p, "prediction", "viridis", lo, hi), (e, "prediction - reference", "RdBu_r", -emax, emax)]
        for j, (a, title, cmap, vmin, vmax) in enumerate(panels):
            im = ax[k][j].imshow(a, origin="lower", extent=extent, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            ax[k][j].set_xlabel(hname)
            ax[k][j].set_ylabel(vname)
            ax[k][j].set_title("%s: %s" % (f, title))
            fig.colorbar(im, ax=ax[k][j])
    removed = [f for f, v in row["fields"].items() if v.get("mean_removed")]
    note = " (%s: mean removed)" % ", ".join(removed) if removed else ""
    fig.suptitle("%s, level %d, %s, %s: rel. L2 %.3e, max %.3e%s%s" % (row["name"], row["level"], row["trained_with"], row["evaluation"],
                 row["rel_l2"] if row["rel_l2"] is not None else float("nan"),
                 row["max_err"] if row["max_err"] is not None else float("nan"), where, note))
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)


def loss_figure(plt, np, h5py, ckpath, row, path, ref=None):
    """The loss history and, for a model with inferred PDE parameters, their values along training (divided by the
    reference's value where it has one, so that 1 is the truth)."""
    with h5py.File(ckpath, "r") as c:
        if "loss_history" not in c:
            return False
        h = c["loss_history"][...]
        terms = text(c.attrs["loss_terms"]).split(",")
        lbfgs = int(np.ravel(c.attrs["lbfgs_start"])[0]) if "lbfgs_start" in c.attrs else -1
        ih = c["inferred_history"][...] if "inferred_history" in c else None
        inames = text(c.attrs["inferred"]).split(",") if ih is not None else []
    if ih is None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
    else:
        fig, (ax, bx) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    steps = np.arange(1, h.shape[0] + 1)
    ax.semilogy(steps, h[:, 0], "k", lw=1.5, label="total")
    for j, t in enumerate(terms):
        if j + 1 < h.shape[1]:
            ax.semilogy(steps, h[:, j + 1], lw=1, label=t)
    if 0 <= lbfgs < h.shape[0]:
        ax.axvline(lbfgs + 0.5, color="gray", ls="--", lw=1, label="L-BFGS")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("%s (%s): loss history" % (row["model"], row["trained_with"]))
    ax.legend()
    if ih is not None:
        for j, name in enumerate(inames):
            truth = float(np.ravel(ref.attrs[name])[0]) if ref is not None and name in ref.attrs else None
            scale = truth if truth else 1.0
            bx.plot(steps, ih[:, j] / scale, lw=1.2, label=name + (" / truth" if truth else ""))
        bx.axhline(1.0, color="gray", ls=":", lw=1)
        bx.set_xlabel("step")
        bx.set_ylabel("inferred parameter")
        bx.set_title("inferred PDE parameters along training")
        bx.legend()
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
    return True


def learned_field_figure(plt, np, ref, pred, row, name, info, out):
    """The PDE's coefficient field, the one the model learned from data, and their difference."""
    g = pred["field_" + name]
    true, learned = g["true"][...], g["learned"][...]
    lev = ref["level_0"]
    box = [float(lev["x"][0]), float(lev["x"][-1]), float(lev["y"][0]), float(lev["y"][-1])] if "x" in lev and "y" in lev else None
    fig, ax = plt.subplots(1, 3, figsize=(13, 4))
    lo, hi = min(true.min(), learned.min()), max(true.max(), learned.max())
    for k, (a, title) in enumerate(((true, "PDE's"), (learned, "learned"), (learned - true, "learned - PDE's"))):
        im = ax[k].imshow(a, origin="lower", extent=box, vmin=None if k == 2 else lo, vmax=None if k == 2 else hi,
                          cmap="RdBu_r" if k == 2 else "viridis")
        ax[k].set_title("%s: %s" % (name, title))
        fig.colorbar(im, ax=ax[k])
    fig.suptitle("%s: coefficient field %s learned from data, rel. L2 %.3e, max %.3e" % (row["name"], name,
                 info["rel_l2"] if info["rel_l2"] is not None else float("nan"),
                 info["max_err"] if info["max_err"] is not None else float("nan")))
    fig.tight_layout()
    save(fig, os.path.join(out, info["figure"]))
    plt.close(fig)


def params_figure(plt, res, path):
    fig, ax = plt.subplots(figsize=(7, 5))
    styles = {"pinn": ("o", "C0"), "distill": ("s", "C2"), "scratch": ("^", "C3")}
    seen = set()
    for row in res["models"]:
        if row["rel_l2"] is None or row["rel_l2"] <= 0:
            continue
        marker, color = styles.get(row["trained_with"], ("D", "C4"))
        label = {"pinn": "teacher", "distill": "student", "scratch": "scratch twin"}.get(row["trained_with"], row["trained_with"])
        coarser = row["level"] != row["model_level"]  # the teacher on level 0 of a coarsened reference is its own level
        if coarser:
            label = "teacher on a coarser level"
        face = "none" if coarser else color
        ax.loglog(row["params"], row["rel_l2"], marker, mec=color, mfc=face, ms=8, label=None if label in seen else label)
        seen.add(label)
        ax.annotate(row["name"], (row["params"], row["rel_l2"]), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xlabel("parameters")
    ax.set_ylabel("relative L2 error vs the reference of the level")
    ax.set_title("%s: error vs parameters" % res["pde"])
    ax.grid(True, which="both", alpha=0.3)
    if seen:
        ax.legend()
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)


def main():
    if len(sys.argv) != 2:
        print("usage: kdpinn-report.py OUT_DIR", file=sys.stderr)
        return 2
    try:
        import numpy as np
        import h5py
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print("python module %s missing (figures need numpy, h5py, matplotlib)" % (e.name or e), file=sys.stderr)
        return 3
    out = sys.argv[1]
    with open(os.path.join(out, "results.json")) as fp:
        res = json.load(fp)
    os.makedirs(os.path.join(out, "figures"), exist_ok=True)
    count = 0
    if res.get("reference") is None:
        # a teacher trained on observations alone: nothing to draw against a reference, only its loss history
        for row in res["models"]:
            if row.get("loss_figure") and row.get("checkpoint"):
                if loss_figure(plt, np, h5py, os.path.join(out, row["checkpoint"]), row, os.path.join(out, row["loss_figure"])):
                    count += 1
        print("figures: %d" % count)
        return 0
    with h5py.File(os.path.join(out, "reference.h5"), "r") as ref, h5py.File(os.path.join(out, "predictions.h5"), "r") as pred:
        for row in res["models"]:
            field_figure(plt, np, ref, pred, row, os.path.join(out, row["figure"]))
            for name, info in row.get("inferred_fields", {}).items():
                learned_field_figure(plt, np, ref, pred, row, name, info, out)
                count += 1
            count += 1
            if row.get("loss_figure") and row.get("checkpoint"):
                if loss_figure(plt, np, h5py, os.path.join(out, row["checkpoint"]), row, os.path.join(out, row["loss_figure"]), ref):
                    count += 1
    params_figure(plt, res, os.path.join(out, "figures", "error_vs_params.png"))
    count += 1
    print("figures: %d" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
