#!/bin/bash
# The fisher PDE in laminate tissue through the whole pipeline at 2 ranks (solve 16^2 x 8, teacher, students of levels
# 1 and 2, validate) with tissue period 1/4, so that level 2 (4 x 4 cells) spans a period: student_L2 learns the
# homogenized diffusivity diag(Dxx, Dyy), student_L1 does not, and the twin keeps the initial tensor (without a teacher
# every diffusivity solves the PINN loss: learned, it went to zero); the model files carry the learned values,
# results.json has the entry effective_diffusivity with the cell problem's D_eff (reference.h5) and the learned
# tensors (off-diagonal entries zero), report.md its section, and every residual is finite. Budgets are a few hundred
# steps: this checks the wiring, not the accuracy (docs/benchmarks.md "Tumour growth" measures that). A reference
# without the tensor's parameters (an older file) is still trained on, distilled and validated; -student_infer
# Dxx=..,Dyy=.. starts the student there and fixes the twin's tensor.
set -uo pipefail
fail=0
common=(-kd_pde fisher -kd_out out -kd_levels 3 -fisher_n 16 -fisher_nt 8 -fisher_cell_n 64 -fisher_tissue laminate
  -fisher_eps 0.25 -fisher_fraction 0.5 -fisher_D 1e-2 -fisher_rho 3 -fisher_seed_width 0.1
  -teacher_widths 16,16 -teacher_ncol 400 -teacher_nic 100 -teacher_adam_steps 200 -teacher_lbfgs_steps 0
  -student_widths 8 -student_ncol 200 -student_nic 64 -student_distill_ncell 256 -student_distill_ncol 128
  -student_adam_steps 200 -student_distill_steps 50 -student_ramp_steps 50 -student_lbfgs_steps 20
  -kd_validate_figures false)
rm -rf out
if ! "$MPIEXEC" -n 2 "$KDPINN" run "${common[@]}" > run.txt 2>&1; then
  echo "FAIL: 2-rank run"; tail -20 run.txt; exit 1
fi
grep -q "student_L2 learned Dxx" run.txt || { echo "FAIL: student_L2 learned no Dxx"; fail=1; }
grep -q "student_L1 learned" run.txt && { echo "FAIL: student_L1 (cells smaller than a period) learned a tensor"; fail=1; }
grep -q "## Learned tensor: effective_diffusivity" out/report.md || { echo "FAIL: report.md has no tensor section"; fail=1; }
"$KD_PYTHON" - <<'PY' || fail=1
import h5py, json, math
r = json.load(open("out/results.json"))
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what); ok = False
ed = r.get("effective_diffusivity", {})
check("cell_problem" in ed, "results.json effective_diffusivity has no cell_problem")
check("student_L2" in ed, "effective_diffusivity lacks student_L2: %s" % list(ed))
check("scratch_L2" not in ed, "the twin learned a tensor: %s" % list(ed))
tw = h5py.File("out/scratch_L2.h5", "r")
check("inferred" not in tw, "scratch_L2.h5 has inferred parameters")
check(abs(float(tw.attrs["Dxx"]) - 0.03) < 1e-15 and abs(float(tw.attrs["Dyy"]) - 0.03) < 1e-15,
      "the twin's tensor is not the initial arithmetic mean 0.03: %s %s" % (tw.attrs["Dxx"], tw.attrs["Dyy"]))
check("student_L1" not in ed, "student_L1 is not homogenized")
deff = list(h5py.File("out/reference.h5", "r").attrs["D_eff"])
cp = sum(ed.get("cell_problem", [[0, 0], [0, 0]]), [])
check(len(deff) == 4 and all(abs(a - b) <= 1e-12 * abs(deff[0]) for a, b in zip(deff, cp)),
      "cell_problem %s differs from reference.h5 D_eff %s" % (cp, deff))
m = h5py.File("out/student_L2.h5", "r")
check("inferred" in m and all(n in m["inferred"].attrs for n in ("Dxx", "Dyy")), "student_L2.h5 has no inferred Dxx, Dyy")
check("inferred" not in m or all(n not in m["inferred"].attrs for n in ("D", "white_ratio")),
      "student_L2.h5 inferred D or white_ratio, which its formulation does not hold")
if "inferred" in m:
    v = m["inferred"].attrs["Dxx"]
    check(float(m.attrs["Dxx"]) == v[0] and v[0] > 0, "the Dxx root attribute is not the learned value")
    t = ed.get("student_L2", [[None, None], [None, None]])
    check(t[0][0] == v[0], "results.json's Dxx of student_L2 is not the model's")
    check(t[0][1] == 0 and t[1][0] == 0, "the learned tensor's off-diagonal is not zero: %s" % t)
    # the initial value is the isotropic arithmetic mean D ((1 - f) + f white_ratio) = 0.03: it moved
    check(abs(v[0] - 0.03) > 1e-6 or abs(m["inferred"].attrs["Dyy"][0] - 0.03) > 1e-6, "Dxx and Dyy did not move")
rows = {row["name"]: row for row in r["models"]}
check(all(math.isfinite(rows[n]["residual_rms"]) for n in ("student_L2", "scratch_L2", "student_L1")),
      "residuals not finite")
print("results.json effective_diffusivity:", json.dumps(ed))
raise SystemExit(0 if ok else 1)
PY
# A reference without Dxx, Dyy (written before the homogenized formulation existed) is still read: the learned
# tensor's parameters are not part of the problem.
rm -rf old && mkdir old && cp out/reference.h5 old/
"$KD_PYTHON" -c "
import h5py
f = h5py.File('old/reference.h5', 'r+')
for n in ('Dxx', 'Dyy', 'D_eff'): del f.attrs[n]" || fail=1
if ! "$KDPINN" train -kd_pde fisher -kd_out old -teacher_widths 8 -teacher_ncol 100 -teacher_nic 20 -teacher_adam_steps 5 \
    -teacher_lbfgs_steps 0 > old.txt 2>&1 ||
  ! "$KDPINN" distill -kd_pde fisher -kd_out old -kd_level 2 -kd_chain direct -student_widths 4 -student_ncol 50 -student_nic 20 \
    -student_distill_ncell 64 -student_distill_ncol 32 -student_adam_steps 5 -student_lbfgs_steps 0 >> old.txt 2>&1 ||
  ! "$KDPINN" validate -kd_pde fisher -kd_out old -kd_validate_figures false >> old.txt 2>&1; then
  echo "FAIL: a reference without Dxx, Dyy refused"; tail -3 old.txt; fail=1
fi

# -student_infer gives the homogenized student its start and its twin its fixed tensor.
if "$MPIEXEC" -n 2 "$KDPINN" distill "${common[@]}" -kd_level 2 -kd_force -student_infer Dxx=0.02,Dyy=0.04 > infer.txt 2>&1; then
  grep -q "student_L2 learned Dxx = .* (from 0.02)" infer.txt || { echo "FAIL: student_L2 did not start from Dxx 0.02"; fail=1; }
  "$KD_PYTHON" -c "
import h5py, sys
a = h5py.File('out/scratch_L2.h5', 'r').attrs
sys.exit(0 if float(a['Dxx']) == 0.02 and float(a['Dyy']) == 0.04 else 1)" ||
    { echo "FAIL: the twin does not keep Dxx 0.02, Dyy 0.04"; fail=1; }
else
  echo "FAIL: distill with -student_infer Dxx=0.02,Dyy=0.04"; tail -3 infer.txt; fail=1
fi
[ $fail -eq 0 ] && echo "t244: all checks passed"
exit $fail
