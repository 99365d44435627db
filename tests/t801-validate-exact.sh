#!/bin/bash
# `kdpinn validate` against numbers computed independently (t800-validate-setup, rank 0 alone, from the gathered fields,
# with the 3-point Gauss-Legendre rule written out by hand and the input/axis order spelled out per PDE): a Burgers case
# (inputs t,x = axes t,x) and a cavity case (inputs x,y = axes y,x; pressure with a non-zero mean compared up to a
# constant), each with random teacher, student and scratch networks on a 3-level reference, validated at 2 ranks.
# Checked for every row: rel_l2, max_err, per-field errors, residual_rms (on a regular subset: s = 4, 2, 1 on the three
# Burgers levels), the point errors of teacher@L<l>, level, params, point counts; and the distillation gain.
# Tolerance 1e-12 relative: the two computations differ only in the order of floating-point sums (across ranks and
# blocks) and by the rounding of the quadrature nodes (PetscDTGaussQuadrature vs sqrt(3/5)/2), both ~1e-15; a wrong
# point, weight, axis order or mean would be off by far more.
set -u
fail() { echo "FAIL: $*"; exit 1; }
SETUP=$1
for case in burgers cavity; do
  rm -rf $case
  "$MPIEXEC" -n 2 "$SETUP" -case $case -out $case -residual_points 50 > setup-$case.log 2>&1 || { cat setup-$case.log; fail "setup $case"; }
  "$MPIEXEC" -n 2 "$KDPINN" validate -kd_out $case -kd_pde $case -kd_validate_quad 3 -kd_validate_residual_points 50 \
    -kd_validate_repeats 2 -kd_validate_figures false > validate-$case.log 2>&1 || { cat validate-$case.log; fail "validate $case"; }
  cat validate-$case.log
  "$KD_PYTHON" - $case <<'EOF' || fail "$case: results.json differs from the independent computation"
import json, sys
d = sys.argv[1]
exp = json.load(open(d + "/expected.json"))
res = json.load(open(d + "/results.json"))
rows = {r["name"]: r for r in res["models"]}
names = [r["name"] for r in res["models"]]
assert names == ["teacher", "teacher@L1", "teacher@L2", "student_L1", "scratch_L1"], names
tol, worst = 1e-12, 0.0
def close(what, a, b):
    global worst
    assert a is not None, what + " is null"
    err = abs(a - b) / max(abs(b), 1e-300)
    worst = max(worst, err)
    assert err <= tol, "%s: %.17g vs expected %.17g (relative %.2e)" % (what, a, b, err)
for name, e in exp.items():
    r = rows[name]
    for k in ("level", "params", "points", "residual_points"):
        assert r[k] == e[k], "%s %s: %s vs %s" % (name, k, r[k], e[k])
    for k in ("rel_l2", "max_err", "residual_rms") + (("point_rel_l2", "point_max_err") if "point_rel_l2" in e else ()):
        close(name + " " + k, r[k], e[k])
    assert sorted(r["fields"]) == sorted(e["fields"]), (name, r["fields"].keys())
    for f, fe in e["fields"].items():
        close(name + " " + f + " rel_l2", r["fields"][f]["rel_l2"], fe["rel_l2"])
        close(name + " " + f + " max_err", r["fields"][f]["max_err"], fe["max_err"])
        assert r["fields"][f]["mean_removed"] == (f == "p"), (name, f)
    assert r["evaluation"] == ("cell_average" if "@" in name else "point"), name
gain = 1 - exp["student_L1"]["rel_l2"] / exp["scratch_L1"]["rel_l2"]
dist = res["distillation"]
assert len(dist) == 1 and dist[0]["level"] == 1, dist
close("gain", dist[0]["gain"], gain)
close("student_L1 gain_vs_scratch", rows["student_L1"]["gain_vs_scratch"], gain)
assert dist[0]["gain_target_met"] == (gain >= 0.4)
close("error ratio vs teacher", dist[0]["error_ratio_vs_teacher"], exp["student_L1"]["rel_l2"] / exp["teacher@L1"]["rel_l2"])
assert dist[0]["param_ratio_vs_teacher"] == exp["teacher"]["params"] / exp["student_L1"]["params"]
print("%s: %d rows agree with the independent computation, worst relative difference %.2e" % (d, len(exp), worst))
EOF
done
echo PASS
