#!/bin/bash
# The cavity's lid-corner flow through the stages, 2 ranks, on a small cavity (docs/losses.md "Lid corners"):
#  - `kdpinn train -teacher_cavity_corner_flow 0.2 -teacher_cavity_corner_weight 0.05` writes a teacher.h5 that
#    carries the output addend cavity_corner_flow with [R, 1/Re, x_lo, x_hi, y_hi] = [0.2, 0.01, 0, 1, 1];
#  - `kdpinn validate` evaluates it with the addend: the teacher's rel_l2 in results.json equals the numpy evaluator's
#    (tests/bench-teacher-error.py, from docs/model-format.md) to 1e-4 relative (both print 4-5 digits of the same
#    sums), and differs from the figure of the same weights without the addend by more than 1e-2 relative (the
#    addend is O(1) in the lid corners);
#  - students distilled from it carry no addend, and `kdpinn export` writes C for the student but refuses the teacher
#    with one error line; `kdpinn bench` leaves the teacher out of its default models, with a line;
#  - a negative, NaN, infinite, non-numeric or missing radius or weight is one error line naming the option and
#    writes no teacher (the error cases at 1 rank: mpiexec adds lines).
set -u
fail() { echo "FAIL: $*"; exit 1; }
np=2
rm -rf out bad
run() { "$MPIEXEC" -n $np "$KDPINN" "$@"; }
cav=(-kd_pde cavity -cavity_n 32 -kd_levels 2)
run solve -kd_out out "${cav[@]}" > solve.log 2>&1 || { cat solve.log; fail "solve"; }
train=(-kd_pde cavity -teacher_widths 16,16 -teacher_ncol 600 -teacher_nbc 200 -teacher_adam_steps 100
       -teacher_lbfgs_steps 50 -teacher_checkpoint_every 0 -teacher_cavity_corner_flow 0.2
       -teacher_cavity_corner_weight 0.05)
run train -kd_out out "${train[@]}" > train.log 2>&1 || { cat train.log; fail "train"; }
run distill -kd_out out "${cav[@]}" -student_widths 8,8 -student_ncol 300 -student_adam_steps 40 -student_distill_steps 20 \
  -student_ramp_steps 10 -student_lbfgs_steps 10 -student_checkpoint_every 0 > distill.log 2>&1 ||
  { cat distill.log; fail "distill"; }
run validate -kd_out out "${cav[@]}" -kd_validate_figures 0 > validate.log 2>&1 || { cat validate.log; fail "validate"; }
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/bench-teacher-error.py" out/reference.h5 out/teacher.h5 0 > numpy.txt ||
  fail "bench-teacher-error.py"
"$KD_PYTHON" - <<'EOF' || fail "teacher.h5, results.json or the numpy figure not as expected"
import json, re, sys
import h5py
import numpy as np
with h5py.File("out/teacher.h5", "r") as f:
    name = f.attrs["output_addend"]
    name = name.decode() if isinstance(name, bytes) else str(name)
    par = np.atleast_1d(f.attrs["output_addend_params"])
    assert name == "cavity_corner_flow", name
    assert np.allclose(par, [0.2, 0.01, 0.0, 1.0, 1.0], rtol=0, atol=1e-15), par
for s in ("out/student_L1.h5", "out/scratch_L1.h5"):
    with h5py.File(s, "r") as f:
        assert "output_addend" not in f.attrs, s + " carries an addend"
res = {m["name"]: m for m in json.load(open("out/results.json"))["models"]}
numpy_all = float(re.search(r"all: rel_l2 ([0-9.e+-]+)", open("numpy.txt").read()).group(1))
v = res["teacher"]["rel_l2"]
print(f"teacher rel_l2: validate {v:.6e}, numpy evaluator {numpy_all:.6e}")
assert abs(v - numpy_all) <= 1e-4 * numpy_all, "validate and the numpy evaluator disagree"
# the same weights without the addend
sys.path.insert(0, __import__("os").environ["KD_SOURCE_DIR"] + "/tests")
import model_eval
with h5py.File("out/reference.h5", "r") as r:
    g = r["level_0"]
    y, x = g["y"][...], g["x"][...]
    ref = [g[k][...] for k in ("u", "v", "p")]
Y, X = np.meshgrid(y, x, indexing="ij")
pts = np.stack([X.ravel(), Y.ravel()], 1)
model_eval.ADDENDS["cavity_corner_flow"] = lambda x, p: np.zeros((len(x), 3))
out = model_eval.evaluate("out/teacher.h5", pts)
err, nrm = 0.0, 0.0
for k, r in enumerate(ref):
    m = out[:, k].reshape(r.shape)
    if k == 2:
        m = m - m.mean() + r.mean()
    err += np.sum((m - r) ** 2)
    nrm += np.sum(r ** 2)
bare = np.sqrt(err / nrm)
print(f"the same weights without the addend: {bare:.6e}")
assert abs(bare - v) > 1e-2 * v, "the addend makes no difference to validate's figure"
EOF
run export -kd_out out -kd_model out/student_L1.h5 -kd_precision f32 > export.log 2>&1 || { cat export.log; fail "export student"; }
"$KDPINN" export -kd_out out -kd_model out/teacher.h5 > teacher-export.out 2> teacher-export.err &&
  fail "the teacher with its addend was exported"
[ "$(grep -c . teacher-export.err)" -eq 1 ] &&
  grep -q "^kdpinn: error: .*output addend 'cavity_corner_flow', which the exported C code does not compute" teacher-export.err ||
  { cat teacher-export.err; fail "teacher export: expected one error line naming the addend"; }
# kdpinn bench leaves the teacher out of its default models with a line, and measures the students
"$KDPINN" bench -kd_out out -kd_bench_variants f64 -kd_bench_sample_ms 1 > bench.log 2>&1 || { cat bench.log; fail "bench"; }
grep -q "out/teacher.h5 left out: it carries the output addend 'cavity_corner_flow'" bench.log &&
  grep -q "^kdpinn bench: student_L1 " bench.log || { cat bench.log; fail "bench: teacher not left out, or no student measured"; }
for opt in -teacher_cavity_corner_flow -teacher_cavity_corner_weight; do
  for value in -0.1 nan inf abc ""; do
    rm -rf bad && mkdir -p bad && cp out/reference.h5 bad/
    "$KDPINN" train -kd_out bad -kd_pde cavity -teacher_adam_steps 1 -teacher_lbfgs_steps 0 $opt $value \
      > bad.out 2> bad.err && fail "$opt '$value' accepted"
    [ "$(grep -c . bad.err)" -eq 1 ] && grep -q "^kdpinn: error: .*$opt" bad.err ||
      { cat bad.err; fail "$opt '$value': expected one error line naming the option"; }
    [ ! -e bad/teacher.h5 ] || fail "$opt '$value': a teacher was written"
  done
done
echo "ok"
