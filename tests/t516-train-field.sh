#!/bin/bash
# A coefficient field learned from observations through the stages, 2 ranks, on a small heat case:
#  - `kdpinn train -teacher_infer_field k` writes teacher.h5 and teacher_field_k.h5 (a model file of log k with the
#    spatial inputs x,y and output log_k) and prints the field's error against the reference's; a training that moves
#    the field must change that error from the initial k = 1's; with -kd_monitor it prints that error under each
#    progress line, and the trained models are bitwise those of the unmonitored run;
#  - an unknown field name is one error line naming the PDE's fields;
#  - `kdpinn validate` with held-out observations reports the field (results.json inferred_fields, with the same
#    error the train stage printed: the same grid and arithmetic, equal to the 4 digits printed, 5e-4 relative) and
#    the teacher's misfits to the training and held-out observations; results.json validates against docs/results.schema.json, and predictions.h5
#    holds the two grids of the field;
#  - distill refuses -student_infer_field; its students use the learned field in their physics (their loss terms
#    differ from those of students distilled with the PDE's own k).
set -u
fail() { echo "FAIL: $*"; exit 1; }
np=2
rm -rf out bad mon own
cp -r "$KD_SOURCE_DIR/meshes" .
run() { "$MPIEXEC" -n $np "$KDPINN" "$@"; }
heat=(-kd_pde heat -heat_n 32 -heat_nt 8 -kd_levels 2)
run solve -kd_out out "${heat[@]}" > solve.log 2>&1 || { cat solve.log; fail "solve"; }
"$KD_PYTHON" "$KD_SOURCE_DIR/jobs/reference-observations.py" out/reference.h5 obs.h5 --n 300 --noise 0.01 ||
  fail "observations"
"$KD_PYTHON" "$KD_SOURCE_DIR/jobs/reference-observations.py" out/reference.h5 held.h5 --n 100 --seed 5 ||
  fail "held-out observations"

mkdir -p bad && cp out/reference.h5 bad/
run train -kd_out bad -kd_pde heat -teacher_infer_field q -teacher_adam_steps 1 -teacher_lbfgs_steps 0 > bad.log 2>&1 &&
  fail "an unknown field was accepted"
[ "$(grep -c '^kdpinn: error:' bad.log)" -eq 1 ] && grep -q "PDE heat has no coefficient field 'q' (its fields: k)" bad.log ||
  { cat bad.log; fail "unknown field: expected one error line naming the fields"; }

train=(-kd_pde heat -teacher_widths 16,16 -teacher_ncol 400 -teacher_nic 100 -teacher_nbc 100 -teacher_observations obs.h5
       -teacher_infer_field k -teacher_field_widths 6,6 -teacher_adam_steps 80 -teacher_adam_lr 3e-3
       -teacher_lbfgs_steps 20 -teacher_checkpoint_every 0)
run train -kd_out out "${train[@]}" -teacher_adam_steps 0 -teacher_lbfgs_steps 0 > init.log 2>&1 || { cat init.log; fail "untrained"; }
run train -kd_out out "${train[@]}" > train.log 2>&1 || { cat train.log; fail "train"; }
cat train.log
e0=$(sed -nE 's/.*learned field k: relative L2 error ([0-9.e+-]+),.*/\1/p' init.log)
e1=$(sed -nE 's/.*learned field k: relative L2 error ([0-9.e+-]+),.*/\1/p' train.log)
[ -n "$e0" ] && [ -n "$e1" ] || fail "no field error printed"
[ "$e0" != "$e1" ] || fail "training did not move the field (error $e0 before and after)"
# -kd_monitor prints the field's error under its lines (in Adam and L-BFGS) and changes no number of the training
mkdir -p mon && cp out/reference.h5 mon/
run train -kd_out mon "${train[@]}" -kd_monitor -kd_monitor_every 7 > mon.log 2>&1 || { cat mon.log; fail "monitored train"; }
[ "$(grep -c '^ *field k: relative L2 error' mon.log)" -ge 14 ] || { cat mon.log; fail "no field error under the monitor lines"; }
"$KD_PYTHON" - <<'EOF' || fail "the monitored training differs from the unmonitored one"
import h5py, numpy as np
for name in ("teacher.h5", "teacher_field_k.h5"):
    a, b = h5py.File("out/" + name, "r"), h5py.File("mon/" + name, "r")
    for k in a:
        if k.startswith("layer_"):
            for d in ("W", "b"):
                assert np.array_equal(a[k][d][...], b[k][d][...]), name + " " + k + "/" + d
print("monitored and unmonitored trainings bitwise identical")
EOF
"$KD_PYTHON" - <<'EOF' || fail "teacher_field_k.h5 not as expected"
import h5py
f = h5py.File("out/teacher_field_k.h5", "r")
s = lambda v: v.decode() if isinstance(v, bytes) else str(v)
assert s(f.attrs["kind"]) == "model" and s(f.attrs["inputs"]) == "x,y" and s(f.attrs["outputs"]) == "log_k", dict(f.attrs)
assert list(f.attrs["widths"]) == [2, 6, 6, 1], f.attrs["widths"]
EOF

run distill -kd_out out "${heat[@]}" -student_infer_field k -student_widths 4 -student_adam_steps 1 \
  -student_lbfgs_steps 0 > distill.log 2>&1 && fail "distill accepted -student_infer_field"
grep -q "^kdpinn: error: -student_infer_field: students take their teacher's physics" distill.log ||
  { cat distill.log; fail "-student_infer_field: expected its error line"; }

# students use the learned field in their physics: said once per student, and their training differs from one with
# the PDE's own k (the field file moved away), the same options and seeds otherwise
dist=(-kd_pde heat -student_widths 4 -student_ncol 200 -student_adam_steps 3 -student_lbfgs_steps 0
      -kd_distill_models student -kd_monitor -kd_monitor_every 3)
run distill -kd_out out "${dist[@]}" > dfield.log 2>&1 || { cat dfield.log; fail "distill with the learned field"; }
grep -q "^kdpinn distill: the students' physics uses the field k the teacher learned (teacher_field_k.h5)" dfield.log ||
  { cat dfield.log; fail "distill did not say it uses the learned field"; }
mkdir -p own && cp out/reference.h5 out/teacher.h5 own/
run distill -kd_out own "${dist[@]}" > downk.log 2>&1 || { cat downk.log; fail "distill with the PDE's own k"; }
! grep -q "uses the field" downk.log || fail "distill without teacher_field_k.h5 claims a learned field"
l1=$(grep " student_L1 adam " dfield.log | tail -1 | sed -E 's/.*\[([^]]*)\].*/\1/')
l2=$(grep " student_L1 adam " downk.log | tail -1 | sed -E 's/.*\[([^]]*)\].*/\1/')
[ -n "$l1" ] && [ -n "$l2" ] && [ "$l1" != "$l2" ] ||
  fail "the students' loss terms do not depend on the learned field ('$l1' and '$l2')"
echo "student_L1 terms with the learned field: $l1; with the PDE's own k: $l2"

run validate -kd_out out -kd_pde heat -teacher_observations obs.h5 -kd_validate_observations held.h5 \
  -kd_validate_figures false -kd_validate_repeats 1 > validate.log 2>&1 || { cat validate.log; fail "validate"; }
cat validate.log
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/t80-jsonschema.py" "$KD_SOURCE_DIR/docs/results.schema.json" out/results.json ||
  fail "results.json does not follow the schema"
"$KD_PYTHON" - "$e1" <<'EOF' || fail "results.json or predictions.h5 not as expected"
import json, sys, h5py
r = json.load(open("out/results.json"))
t = [m for m in r["models"] if m["name"] == "teacher"][0]
f = t["inferred_fields"]["k"]
assert f["file"] == "teacher_field_k.h5" and f["grid"] == 128, f
assert abs(f["rel_l2"] - float(sys.argv[1])) <= 5e-4 * f["rel_l2"], (f["rel_l2"], sys.argv[1])
assert t["observations"]["n"] == 300 and t["heldout_observations"]["n"] == 100, (t["observations"], t["heldout_observations"])
g = h5py.File("out/predictions.h5", "r")["field_k"]
assert g["true"].shape == (128, 128) and g["learned"].shape == (128, 128)
print("results.json: field k rel_l2 %.4e, misfits %.3e (training) %.3e (held out)" % (f["rel_l2"], t["observations"]["rms"], t["heldout_observations"]["rms"]))
EOF
echo PASS
