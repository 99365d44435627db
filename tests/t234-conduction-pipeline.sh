#!/bin/bash
# The conduction PDE through the whole pipeline at 2 ranks (solve 32^2, teacher, students of levels 1 and 2,
# validate) with eps = 1/8, so that level 2 (8 x 8 cells) spans a period: student_L2 and its twin learn Kxx, Kxy,
# Kyy (the homogenized formulation), student_L1 does not; the model files carry the learned values (group inferred),
# results.json has the entry effective_conductivity with the cell problem's K_eff and the learned tensors, report.md
# its section, and every residual is finite. The checkerboard teacher reads the interfaces' features and imposes
# u = 0 on the boundary exactly (-teacher_conduction_interface_features, -teacher_conduction_exact_bc): its file
# carries both, distillation and validation evaluate it, the students carry neither, and the standalone export
# refuses it with one line. Budgets are a few hundred steps: this checks the wiring, not the accuracy
# (docs/benchmarks.md "Composite conduction" measures that).
set -uo pipefail
fail=0
common=(-kd_pde conduction -kd_out out -kd_levels 3 -conduction_n 32 -conduction_cell_n 64 -conduction_eps 0.125
  -teacher_widths 16,16 -teacher_ncol 400 -teacher_nbc 100 -teacher_adam_steps 200 -teacher_lbfgs_steps 0
  -conduction_microstructure checkerboard -teacher_conduction_interface_features -teacher_conduction_exact_bc
  -student_widths 8 -student_ncol 200 -student_nbc 64 -student_distill_ncell 256 -student_distill_ncol 128
  -student_adam_steps 200 -student_distill_steps 50 -student_ramp_steps 50 -student_lbfgs_steps 20
  -kd_validate_figures false)
rm -rf out
if ! "$MPIEXEC" -n 2 "$KDPINN" run "${common[@]}" > run.txt 2>&1; then
  echo "FAIL: 2-rank run"; tail -20 run.txt; exit 1
fi
grep -q "student_L2 learned Kxx" run.txt || { echo "FAIL: student_L2 learned no Kxx"; fail=1; }
grep -q "student_L1 learned" run.txt && { echo "FAIL: student_L1 (cells smaller than a period) learned a tensor"; fail=1; }
grep -q "## Learned tensor: effective_conductivity" out/report.md || { echo "FAIL: report.md has no tensor section"; fail=1; }
# A restart of the teacher without the boundary factor is refused in one line: its checkpoint's parameters were
# fitted with it (the parameter count alone does not tell).
nofactor=()
for o in "${common[@]}"; do [ "$o" != -teacher_conduction_exact_bc ] && nofactor+=("$o"); done
"$KDPINN" train "${nofactor[@]}" -kd_restart -teacher_adam_steps 210 > restart.txt 2> restart-err.txt &&
  { echo "FAIL: restart without the factor accepted"; fail=1; }
if [ "$(grep -c . restart-err.txt)" -ne 1 ] ||
  ! grep -q "^kdpinn: error: refusing to restart from checkpoint .*its network carries 'factor conduction_boundary" \
    restart-err.txt; then
  echo "FAIL: restart without the factor: expected one error line"; cat restart-err.txt; fail=1
fi
# The teacher reads the interfaces' features and carries the boundary factor (the students do not); the standalone
# export refuses it in one line.
"$KDPINN" export -kd_out out -kd_model out/teacher.h5 > export.txt 2> export-err.txt && { echo "FAIL: teacher exported"; fail=1; }
if [ "$(grep -c . export-err.txt)" -ne 1 ] ||
  ! grep -q "^kdpinn: error: model out/teacher.h5 carries the output factor 'conduction_boundary'" export-err.txt; then
  echo "FAIL: export of a teacher with a factor and features: expected one error line"; cat export-err.txt; fail=1
fi
"$KD_PYTHON" - <<'PY' || fail=1
import h5py, json, math
r = json.load(open("out/results.json"))
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what); ok = False
ec = r.get("effective_conductivity", {})
check("cell_problem" in ec, "results.json effective_conductivity has no cell_problem")
check("student_L2" in ec and "scratch_L2" in ec, "effective_conductivity lacks student_L2 or scratch_L2: %s" % list(ec))
check("student_L1" not in ec, "student_L1 is not homogenized")
keff = list(h5py.File("out/reference.h5", "r").attrs["K_eff"])
cp = sum(ec.get("cell_problem", [[0, 0], [0, 0]]), [])
check(len(keff) == 4 and all(abs(a - b) <= 1e-12 * abs(keff[0]) for a, b in zip(keff, cp)),
      "cell_problem %s differs from reference.h5 K_eff %s" % (cp, keff))
t = h5py.File("out/teacher.h5", "r")
check(t.attrs.get("input_features", b"") in (b"conduction_interfaces", "conduction_interfaces"),
      "teacher.h5 does not carry the input features")
check(t.attrs.get("output_factor", b"") in (b"conduction_boundary", "conduction_boundary"),
      "teacher.h5 does not carry the output factor")
s1 = h5py.File("out/student_L1.h5", "r").attrs
check("input_features" not in s1 and "output_factor" not in s1, "student_L1 carries input features or a factor")
m = h5py.File("out/student_L2.h5", "r")
check("inferred" in m and all(n in m["inferred"].attrs for n in ("Kxx", "Kxy", "Kyy")),
      "student_L2.h5 has no inferred Kxx, Kxy, Kyy")
if "inferred" in m:
    v = m["inferred"].attrs["Kxx"]
    check(float(m.attrs["Kxx"]) == v[0] and v[0] > 0, "the Kxx root attribute is not the learned value")
    check(ec.get("student_L2", [[None]])[0][0] == v[0], "results.json's Kxx of student_L2 is not the model's")
rows = {row["name"]: row for row in r["models"]}
check(all(math.isfinite(rows[n]["residual_rms"]) for n in ("student_L2", "scratch_L2", "student_L1")),
      "residuals not finite")
print("results.json effective_conductivity:", json.dumps(ec))
raise SystemExit(0 if ok else 1)
PY
[ $fail -eq 0 ] && echo "t234: all checks passed"
exit $fail
