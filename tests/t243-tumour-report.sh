#!/bin/bash
# The tumour study's report (jobs/tumour-report.py).
# 1. On a made-up run whose density is a sharp disk of radius 0.1 + 0.2 t on 64^2 cells (level 0) and 32^2 (level 1),
#    the reference's radius is 0.1 + 0.2 t to within half a cell of level 0 (1/128). Cells are counted whole: the
#    cells the circle cuts in and out of the disk largely cancel (for these radii the error is at most 0.12 cell, and
#    0.34 cell for radii in [0.05, 0.45]), while a wrong cell area or a missing square root is off by many cells.
#    A model equal to the reference of its level differs from it by exactly 0, one 0.03 larger by 0.03 to within a
#    cell of its level (1/32); tumour.md gives a level-1 model's radius at a level-0 time between its snapshots by
#    linear interpolation; the identified parameters and their errors against --true are those of the model file (a
#    NaN deviation, as without Gauss-Newton, shown as "-" and null); the forecast against the truth is 0 for a file
#    against itself; the figures are written; a group of predictions.h5 that is not a level is ignored.
# 2. On a real run (solve, a 20-step teacher, validate) the report runs and finds the reference's radius.
# 3. Bad input is one line and a non-zero exit.
set -uo pipefail
fail=0
report="$KD_SOURCE_DIR/jobs/tumour-report.py"

rm -rf made real rep rep2 nanrun
mkdir -p made
"$KD_PYTHON" - <<'PY' || { echo "FAIL: could not make the test files"; exit 1; }
import h5py, numpy as np
def disk(n, t, grow=0.0):  # u = 1 inside the circle of radius 0.1 + 0.2 t + grow, 0 outside
    c = (np.arange(n) + 0.5) / n
    Y, X = np.meshgrid(c, c, indexing="ij")
    d = np.hypot(X - 0.5, Y - 0.5)
    return c, np.stack([(d <= 0.1 + 0.2 * s + grow).astype(float) for s in t])
t0, t1 = (np.arange(8) + 0.5) / 8, (np.arange(4) + 0.5) / 4
with h5py.File("made/reference.h5", "w") as f:
    f.attrs["pde"] = "fisher"
    for lev, (n, t) in enumerate(((64, t0), (32, t1))):
        c, u = disk(n, t)
        g = f.create_group(f"level_{lev}")
        g.attrs["axes"] = "t,y,x"
        g["t"], g["y"], g["x"], g["u"] = t, c, c, u
with h5py.File("made/predictions.h5", "w") as f:
    f["level_0/teacher/u"] = disk(64, t0)[1]
    f["level_1/teacher/u"] = disk(32, t1)[1]
    f["level_1/student_L1/u"] = disk(32, t1)[1]
    f["level_1/scratch_L1/u"] = disk(32, t1, 0.03)[1]
    f["level_notes/readme"] = np.zeros(1)  # not a level: ignored
with h5py.File("made/teacher.h5", "w") as f:
    f.create_group("inferred").attrs["D"] = [2.1e-3, 1e-4, 1e-3]
    f["inferred"].attrs["rho"] = [3.9, 0.05, 2.0]
    f["inferred"].attrs["white_ratio"] = [4.5, np.nan, 2.0]
with h5py.File("made/scans.h5", "w") as f:
    c = (np.arange(8) + 0.5) / 8
    Y, X = np.meshgrid(c, c, indexing="ij")
    f["points"] = np.column_stack([np.full(64, 0.3), X.ravel(), Y.ravel()])
    f["values"] = np.zeros((64, 1))
PY
if ! "$KD_PYTHON" "$report" rep --run made --calibration made --true D=2e-3,rho=4 --scans made/scans.h5 \
    --truth made/reference.h5 --forecast made/reference.h5 > out.txt 2>&1; then
  echo "FAIL: report on the made-up run"; cat out.txt; fail=1
fi
"$KD_PYTHON" - <<'PY' || fail=1
import json, os, sys, numpy as np
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond
s = json.load(open("rep/tumour.json"))
r = s["radius"]
ref = r["reference"]
e = np.abs(np.array(ref["r"]) - (0.1 + 0.2 * np.array(ref["t"]))).max()
check(e < 0.5 / 64, f"reference radius 0.1 + 0.2 t to {e:.2e} (half a cell {0.5 / 64:.2e})")
check(np.array_equal(r["teacher"]["r"], ref["r"]), "teacher equal to the reference: the same radius")
check("teacher@L1" not in r and r["student_L1"]["level"] == 1, "students on their level, the teacher on level 0 only")
d = np.array(r["scratch_L1"]["r"]) - (0.1 + 0.2 * np.array(r["scratch_L1"]["t"]))
check(np.abs(d - 0.03).max() < 1 / 32, f"radius 0.03 larger found: {d.min():.4f} .. {d.max():.4f}")
check(np.array_equal(r["truth"]["r"], r["forecast"]["r"]), "forecast against itself: the same radius")
p = s["parameters"]
check(p["D"] == {"value": 2.1e-3, "std": 1e-4, "initial": 1e-3, "truth": 2e-3} and p["rho"]["truth"] == 4,
      "identified parameters and their truth")
md = open("rep/tumour.md").read()
check("| D | 0.0021 | 0.0001 | 0.001 | 0.002 | +5.00% | 1.00 |" in md, "error and error / std of D in tumour.md")
check(p["white_ratio"]["std"] is None and "| white_ratio | 4.5 | - | 2 | | | |" in md, "a NaN deviation: null and -")
# the table row of t = t0[3] = 0.4375 (level 0): student_L1 between its snapshots 0.375 and 0.625
cols = [c.strip() for c in md.split("\n| t |")[1].split("\n")[0].split("|")[:-1]]
row = [c.strip() for c in md.split("\n| 0.4375 |")[1].split("\n")[0].split("|")[:-1]]
want = np.interp(0.4375, r["student_L1"]["t"], r["student_L1"]["r"])
check(abs(float(row[cols.index("student_L1")]) - want) < 1e-4, f"student_L1 at t = 0.4375 interpolated: {want:.4f}")
check("| student_L1 | 1 | 0.0000 |" in md, "no radius difference for a model equal to its reference in tumour.md")
check(s["scan_times"] == [0.3], "scan times")
for f in ("radius.png", "density.png"):
    check(os.path.getsize("rep/" + f) > 1000, f"figure {f}")
check(not [f for f in os.listdir("rep") if f.endswith(".tmp")], "no temporary file left")
sys.exit(0 if ok else 1)
PY

# a real run: the files of kdpinn solve and validate, as the report reads them
if "$KDPINN" solve -kd_pde fisher -fisher_n 32 -fisher_nt 8 -kd_levels 2 -kd_out real > real.txt 2>&1 &&
  "$KDPINN" train -kd_pde fisher -teacher_widths 8,8 -teacher_ncol 256 -teacher_nic 64 -teacher_adam_steps 20 \
    -teacher_lbfgs_steps 0 -kd_out real >> real.txt 2>&1 &&
  "$KDPINN" validate -kd_pde fisher -kd_out real >> real.txt 2>&1 &&
  "$KD_PYTHON" "$report" rep2 --run real > out.txt 2>&1 && grep -q "^| 0.0625 | 0.0[0-9]* | " out.txt; then
  echo "ok: report of a real run: $(grep '^| 0.0625' out.txt)"
else
  echo "FAIL: report of a real run"; cat real.txt out.txt; fail=1
fi

expect_fail() { # expect_fail <what the message must contain> <args...>
  local want=$1; shift
  "$KD_PYTHON" "$report" bad "$@" > out.txt 2>&1
  local rc=$?
  if [ $rc -eq 0 ] || [ "$(grep -c . out.txt)" -ne 1 ] || ! grep -qF -- "$want" out.txt; then
    echo "FAIL: expected one line '...$want...' and a non-zero exit for: $*"; cat out.txt; fail=1; return
  fi
  echo "ok: $* -> $(cat out.txt)"
}
expect_fail "cannot read nowhere/reference.h5" --run nowhere
expect_fail "--truth and --forecast go together" --run made --truth made/reference.h5
expect_fail "--true nu: not identified" --run made --calibration made --true nu=4
expect_fail "has no identified parameters" --run made --calibration real
expect_fail "--true needs --calibration" --run made --true D=1
expect_fail "is not name=value" --run made --calibration made --true D
"$KD_PYTHON" -c "import h5py; f = h5py.File('flat.h5', 'w'); f['points'] = [0.3, 0.5, 0.5]; f['values'] = [0.1]"
expect_fail "flat.h5: no points t,x,y and values" --run made --scans flat.h5
expect_fail "a true value must be finite and nonzero" --run made --calibration made --true D=0
expect_fail "a true value must be finite and nonzero" --run made --calibration made --true D=nan
mkdir -p nanrun && cp made/predictions.h5 nanrun/ && "$KD_PYTHON" -c "
import h5py, numpy as np
f = h5py.File('made/reference.h5', 'r'); g = h5py.File('nanrun/reference.h5', 'w'); g.attrs['pde'] = 'fisher'
for lev in ('level_0', 'level_1'): f.copy(lev, g)
g['level_0/u'][0, 0, 0] = np.nan"
expect_fail "nanrun/reference.h5: level_0/u holds a NaN or Inf" --run nanrun
exit $fail
