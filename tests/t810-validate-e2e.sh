#!/bin/bash
# The pipeline up to validation at 2 ranks on a small Burgers case: solve (128 x 32 cells, 2 levels), train a teacher
# (a few steps), then stand-ins for the distilled student and its scratch twin (small networks trained the same way,
# relabelled as level-1 models by t800-validate-setup -relabel; the student's checkpoint is copied next to it, the
# scratch twin's is not), then `kdpinn validate`. Checks that results.json has the four rows with every field of docs/validation.md,
# that the training time comes from the checkpoint holding the model's parameters (student: its copied checkpoint's
# train_seconds exactly; scratch twin: none, so null), and that report.md, figures/*.png (one per row, the loss curves,
# error vs parameters), predictions.h5 and the prediction_*.xmf sidecars exist.
set -u
fail() { echo "FAIL: $*"; exit 1; }
SETUP=$1
np=2
rm -rf out small1 small2
run() { "$MPIEXEC" -n $np "$KDPINN" "$@"; }
run solve -kd_out out -kd_pde burgers -kd_levels 2 -burgers_nx 128 -burgers_nt 32 > solve.log 2>&1 || { cat solve.log; fail "solve"; }
train=(-kd_pde burgers -teacher_ncol 500 -teacher_nic 100 -teacher_nbc 100 -teacher_checkpoint_every 30)
run train -kd_out out "${train[@]}" -teacher_widths 16,16 -teacher_adam_steps 40 -teacher_lbfgs_steps 20 > train.log 2>&1 ||
  { cat train.log; fail "train teacher"; }
for k in 1 2; do
  mkdir -p small$k && cp out/reference.h5 small$k/
  run train -kd_out small$k "${train[@]}" -kd_seed $k -teacher_widths 6 -teacher_adam_steps 30 -teacher_lbfgs_steps 10 > train$k.log 2>&1 ||
    { cat train$k.log; fail "train stand-in $k"; }
done
"$MPIEXEC" -n $np "$SETUP" -relabel small1/teacher.h5 -relabel_out out/student_L1.h5 -level 1 -trained_with distill || fail "relabel student"
"$MPIEXEC" -n $np "$SETUP" -relabel small2/teacher.h5 -relabel_out out/scratch_L1.h5 -level 1 -trained_with scratch || fail "relabel scratch"
cp small1/checkpoint_teacher.h5 out/checkpoint_student_L1.h5

run validate -kd_out out -kd_pde burgers -kd_validate_python "$KD_PYTHON" > validate.log 2>&1 || { cat validate.log; fail "validate"; }
cat validate.log
grep -q warning validate.log && fail "unexpected warning"
"$KD_PYTHON" - <<'EOF' || fail "validate outputs incomplete"
import json, os, h5py
res = json.load(open("out/results.json"))
rows = {r["name"]: r for r in res["models"]}
assert list(rows) == ["teacher", "teacher@L1", "student_L1", "scratch_L1"], list(rows)
for r in res["models"]:
    for k in ("name", "level", "params", "rel_l2", "max_err", "residual_rms", "infer_ms", "train_s", "trained_with"):
        assert k in r, (r["name"], k)
    for k in ("rel_l2", "max_err", "residual_rms", "infer_ms"):
        assert isinstance(r[k], float) and r[k] > 0, (r["name"], k, r[k])
    assert os.path.getsize(os.path.join("out", r["figure"])) > 1000, r["figure"]
    assert os.path.exists(os.path.join("out", r["xmf"])), r["xmf"]
assert [rows[n]["trained_with"] for n in rows] == ["pinn", "pinn", "distill", "scratch"]
ck = lambda p: float(h5py.File(p, "r").attrs["train_seconds"])
assert rows["teacher"]["checkpoint"] == "checkpoint_teacher.h5" and rows["teacher"]["train_s"] == ck("out/checkpoint_teacher.h5")
assert rows["student_L1"]["checkpoint"] == "checkpoint_student_L1.h5", rows["student_L1"]["checkpoint"]
assert rows["student_L1"]["train_s"] == ck("out/checkpoint_student_L1.h5")
assert rows["scratch_L1"]["checkpoint"] is None and rows["scratch_L1"]["train_s"] is None
for f in ("figures/error_vs_params.png", "figures/loss_teacher.png", "figures/loss_student_L1.png", "report.md", "predictions.h5"):
    assert os.path.getsize(os.path.join("out", f)) > 500, f
with h5py.File("out/predictions.h5", "r") as p:
    for path in ("level_0/teacher/u", "level_1/teacher/u", "level_1/student_L1/u", "level_1/scratch_L1/u"):
        assert path in p, path
d = res["distillation"][0]
print("student_L1 rel_l2 %.3e, scratch %.3e, gain %.1f%%, teacher@L1 %.3e, speedup %.1f, params ratio %.1f" %
      (d["student_rel_l2"], d["scratch_rel_l2"], 100 * d["gain"], d["teacher_rel_l2"], d["speedup_vs_teacher"], d["param_ratio_vs_teacher"]))
EOF
echo PASS
