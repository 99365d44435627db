#!/bin/bash
# `kdpinn train` on observations, with PDE parameters inferred, from an output directory without reference.h5:
#  - bad observation files and options, each one error line naming the file or the option, non-zero exit, no
#    teacher.h5: missing dataset, column count not matching the attribute, unknown input name, NaN, Inf, a point
#    outside the domain, a non-positive sigma, an unknown parameter in -teacher_infer, a negative initial nu;
#  - a short training writes teacher.h5 with the identified nu and advection as its parameter attributes and the
#    group inferred ([value, std, initial], std finite and positive after Gauss-Newton), and moves both parameters
#    from their initial values;
#  - 1 rank and 2 ranks agree on the identified values to 1e-8 relative (the same sums in another order, amplified by
#    about 100 steps of training);
#  - -teacher_gn_resample_every 2 draws new collocation points during Gauss-Newton (the run differs from one without);
#  - stopped during the Adam phase, during L-BFGS and during Gauss-Newton, and resumed each time, the run ends with the
#    uninterrupted run's teacher.h5 parameters and identified values bitwise (the inferred values are part of the
#    checkpointed parameter vector);
#  - validate without reference.h5 reports the misfits to the training and held-out observations and the identified
#    values (results.json in the schema, no predictions.h5), and refuses to run with neither a reference nor
#    observations.
set -u
fail() { echo "FAIL: $*"; exit 1; }
np=2
rm -rf out0 out1 out2 bad run stop
obs=obs.h5
"$KD_PYTHON" "$KD_SOURCE_DIR/jobs/burgers-observations.py" $obs --n 300 --noise 0.01 --seed 4 ||
  fail "cannot write observations"

# expect_error <name> <grep pattern> <train options...>
expect_error() {
  local name=$1 pattern=$2
  shift 2
  rm -rf bad
  "$MPIEXEC" -n $np "$KDPINN" train -kd_out bad -kd_pde burgers -teacher_widths 8 -teacher_adam_steps 2 \
    -teacher_lbfgs_steps 0 "$@" > "$name.log" 2>&1 && { cat "$name.log"; fail "$name: training succeeded"; }
  [ "$(grep -c '^kdpinn: error:' "$name.log")" -eq 1 ] && grep -q "^kdpinn: error: .*$pattern" "$name.log" ||
    { cat "$name.log"; fail "$name: expected one error line matching '$pattern'"; }
  [ ! -e bad/teacher.h5 ] || fail "$name: teacher.h5 written"
}
"$KD_PYTHON" - <<'EOF' || fail "cannot write the bad observation files"
import h5py, numpy as np
src = h5py.File("obs.h5", "r")
P, V = src["points"][...], src["values"][...]
def write(name, points=P, values=V, inputs="t,x", outputs="u", sigma=None, drop=None):
    with h5py.File(name, "w") as f:
        if drop != "points": f["points"] = points
        if drop != "values": f["values"] = values
        f.attrs["inputs"], f.attrs["outputs"] = inputs, outputs
        if sigma is not None: f["sigma"] = sigma
write("missing.h5", drop="values")
write("columns.h5", inputs="t")
write("name.h5", inputs="t,y")
p = P.copy(); p[7, 1] = np.nan; write("nan.h5", points=p)
v = V.copy(); v[11, 0] = np.inf; write("inf.h5", values=v)
p = P.copy(); p[5, 1] = 1.5; write("outside.h5", points=p)
s = np.full(V.shape, 0.01); s[3, 0] = 0.0; write("sigma.h5", sigma=s)
EOF
expect_error missing "observation file missing.h5: dataset 'values' missing" -teacher_observations missing.h5
expect_error columns "observation file columns.h5: attribute inputs names 1 columns (\"t\"), the dataset has 2" \
  -teacher_observations columns.h5
expect_error name "observation file name.h5: inputs names 'y', which is not one of the network's (t,x)" \
  -teacher_observations name.h5
expect_error nan "observation file nan.h5: row 7 holds a NaN or Inf" -teacher_observations nan.h5
expect_error inf "observation file inf.h5: row 11 holds a NaN or Inf" -teacher_observations inf.h5
expect_error outside "observation file outside.h5: point 5 lies outside the domain \[0, 1\] x \[-1, 1\]" \
  -teacher_observations outside.h5
expect_error sigma "observation file sigma.h5: sigma of row 3 is not a positive number" -teacher_observations sigma.h5
expect_error nofile "cannot read nothere.h5: no such file" -teacher_observations nothere.h5
expect_error infer "-teacher_infer: PDE burgers has no parameter 'mu' (its parameters: nu, advection)" \
  -teacher_observations $obs -teacher_infer mu=0.1
expect_error negative "-teacher_infer: nu is positive, its initial value -0.01 is not" -teacher_observations $obs \
  -teacher_infer nu=-0.01
expect_error format "-teacher_infer: expected name=initial_value, got 'nu'" -teacher_observations $obs -teacher_infer nu
expect_error gnresample "-teacher_gn_resample_every must be >= 0" -teacher_observations $obs \
  -teacher_gn_resample_every -1
expect_error monitor "-kd_monitor_error: no reference.h5 in -kd_out to compare with" -teacher_observations $obs \
  -kd_monitor -kd_monitor_error

opts=(-kd_pde burgers -teacher_observations $obs -teacher_infer nu=0.01,advection=0.5 -teacher_w_ic 0 -teacher_w_bc 0
      -teacher_widths 10,10 -teacher_ncol 300 -teacher_adam_steps 60 -teacher_adam_lr 1e-2 -teacher_lbfgs_steps 40
      -teacher_gn_steps 4 -teacher_gn_resample_every 2 -teacher_checkpoint_every 20)
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out out2 "${opts[@]}" > out2.log 2>&1 || { cat out2.log; fail "2-rank training failed"; }
"$KDPINN" train -kd_out out1 "${opts[@]}" > out1.log 2>&1 || { cat out1.log; fail "1-rank training failed"; }
cat out2.log
"$KDPINN" train -kd_out out0 "${opts[@]}" -teacher_gn_resample_every 0 > out0.log 2>&1 || { cat out0.log; fail "training without Gauss-Newton resampling failed"; }
"$KD_PYTHON" - <<'EOF' || fail "identified values not as expected"
import h5py, numpy as np
a, b = h5py.File("out1/teacher.h5", "r"), h5py.File("out2/teacher.h5", "r")
for name, init in (("nu", 0.01), ("advection", 0.5)):
    v1, v2 = float(a.attrs[name]), float(b.attrs[name])
    inf = b["inferred"].attrs[name]
    assert inf[0] == v2 and inf[2] == init, (name, inf)
    assert np.isfinite(inf[1]) and inf[1] > 0, (name, "std", inf[1])
    assert abs(v2 - init) > 0.01 * init, (name, "did not move from", init, v2)
    assert abs(v1 - v2) <= 1e-8 * abs(v2), (name, "1 rank", v1, "2 ranks", v2)
    print("%s: 1 rank %.12g, 2 ranks %.12g, std %.3g, initial %g" % (name, v1, v2, inf[1], init))
v0 = float(h5py.File("out0/teacher.h5", "r").attrs["nu"])
assert v0 != float(a.attrs["nu"]), ("-teacher_gn_resample_every 2 changed nothing", v0)
print("without Gauss-Newton resampling nu = %.12g: the collocation set was drawn anew" % v0)
EOF

# stop during Adam (step 30), during L-BFGS (step 75) and during Gauss-Newton (step 102, just before the collocation
# set is drawn anew; step 103, just after, with the new epoch in the checkpoint), resume each time; compare with the
# uninterrupted run
mkdir -p run
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out run "${opts[@]}" -teacher_stop_at_step 30 > stop1.log 2>&1
[ $? -eq 3 ] || { cat stop1.log; fail "stop at step 30: expected exit status 3"; }
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out run "${opts[@]}" -teacher_stop_at_step 75 -kd_restart > stop2.log 2>&1
[ $? -eq 3 ] || { cat stop2.log; fail "stop at step 75: expected exit status 3"; }
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out run "${opts[@]}" -teacher_stop_at_step 102 -kd_restart > stop3.log 2>&1
[ $? -eq 3 ] || { cat stop3.log; fail "stop at step 102: expected exit status 3"; }
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out run "${opts[@]}" -teacher_stop_at_step 103 -kd_restart > stop4.log 2>&1
[ $? -eq 3 ] || { cat stop4.log; fail "stop at step 103: expected exit status 3"; }
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out run "${opts[@]}" -kd_restart > resume.log 2>&1 || { cat resume.log; fail "resume failed"; }
"$KD_PYTHON" - <<'EOF' || fail "the resumed run differs from the uninterrupted one"
import h5py, numpy as np
a, b = h5py.File("out2/teacher.h5", "r"), h5py.File("run/teacher.h5", "r")
for k in a:
    if k.startswith("layer_"):
        for d in ("W", "b"):
            assert np.array_equal(a[k][d][...], b[k][d][...]), k + "/" + d
for name in ("nu", "advection"):
    assert a.attrs[name] == b.attrs[name], (name, a.attrs[name], b.attrs[name])
    assert np.array_equal(a["inferred"].attrs[name], b["inferred"].attrs[name]), name
print("stopped four times and resumed: parameters and identified values bitwise identical")
EOF
# validate without reference.h5: the misfits to the training and to held-out observations, the identified values,
# the schema; without observations either it refuses with one line naming reference.h5
"$KD_PYTHON" "$KD_SOURCE_DIR/jobs/burgers-observations.py" held.h5 --n 100 --noise 0.01 --seed 5 ||
  fail "cannot write held-out observations"
"$MPIEXEC" -n 2 "$KDPINN" validate -kd_out out2 -kd_pde burgers -teacher_observations $obs \
  -kd_validate_observations held.h5 -kd_validate_repeats 1 > validate.log 2>&1 || { cat validate.log; fail "validate failed"; }
cat validate.log
[ ! -e out2/predictions.h5 ] || fail "predictions.h5 written without a reference"
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/t80-jsonschema.py" "$KD_SOURCE_DIR/docs/results.schema.json" out2/results.json ||
  fail "results.json without a reference does not follow docs/results.schema.json"
"$KD_PYTHON" - <<'EOF' || fail "results.json without a reference not as expected"
import json, h5py
r = json.load(open("out2/results.json"))
assert r["reference"] is None and r["axes"] == "t,x" and r["fields"] == ["u"], (r["reference"], r["axes"], r["fields"])
(t,) = r["models"]
assert t["name"] == "teacher" and t["rel_l2"] is None and t["predictions"] is None, t
assert t["observations"]["n"] == 300 and t["heldout_observations"]["n"] == 100, t
# the misfit to 1%-noisy data cannot be below the noise (about 0.006), nor a trained teacher's far above the data (<= 1)
for key in ("observations", "heldout_observations"):
    assert 0.005 < t[key]["rms"] < 0.5, (key, t[key])
m = h5py.File("out2/teacher.h5", "r")
for name in ("nu", "advection"):
    assert t["inferred"][name]["value"] == float(m.attrs[name]), name
print("validate without reference: misfits", t["observations"]["rms"], t["heldout_observations"]["rms"])
EOF
grep -q "| teacher | nu |" out2/report.md || fail "report.md has no identified nu"
"$MPIEXEC" -n 2 "$KDPINN" validate -kd_out out2 -kd_pde burgers > noobs.log 2>&1 &&
  fail "validate without reference or observations succeeded"
[ "$(grep -c '^kdpinn: error:' noobs.log)" -eq 1 ] && grep -q "^kdpinn: error: .*reference.h5 not found" noobs.log ||
  { cat noobs.log; fail "validate without reference or observations: expected one error line naming reference.h5"; }
echo PASS
