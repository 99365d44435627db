#!/bin/bash
# `kdpinn distill` with quantization in the loop (-student_quantize_steps) on a tiny Burgers case:
#  - student and scratch twin: after L-BFGS and Gauss-Newton, the layers after the first are rounded one at a time to
#    the int8 grid of kdpinn export and frozen while Gauss-Newton refits the rest. At the end every row of those
#    layers lies on its grid, W[o][i] = (max_i |W[o][i]| / 127) q with q an integer, to 1e-9 (the product of two
#    doubles, a few ulp from the integer); a frozen weight moved by Gauss-Newton (a Jacobian column left unmasked)
#    would leave the grid. The first layer, free to the end, is not on it.
#  - the int8 export of the quantized student loses at most 1e-3 relative L2 against its f64 model on the calibration
#    points: the weights round to themselves, so only the 16-bit activation levels (1/32767 of a layer's range, a few
#    1e-5 at the output of this 2 x 8 network) and the float32 first layer remain; 1e-3 is a 10x margin. The same
#    student without the quantization phase is exported too, for the comparison printed beside it.
#  - the same student with -student_quantize_rounding compensated (each weight rounded in turn, the free parameters
#    moved by the inverse Gauss-Newton matrix after each): its layers after the first are on the grid to 1e-9 too (a
#    compensation that moved a weight already rounded would leave it), and its int8 export is within 1e-3 as well.
#  - a run stopped inside the quantization phase (-student_stop_at_step) and resumed (-kd_restart) ends with the same
#    model, bit for bit, as the run that was not stopped: the checkpoint keeps the layers rounded so far and the step
#    their refit ends.
set -u
fail() { echo "FAIL: $*"; exit 1; }
rm -rf out plain resumed comp
"$MPIEXEC" -n 2 "$KDPINN" solve -kd_out out -kd_pde burgers -kd_levels 2 -burgers_nx 256 -burgers_nt 64 > solve.log 2>&1 ||
  { cat solve.log; fail "kdpinn solve failed"; }
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out out -kd_pde burgers -teacher_widths 16,16 -teacher_ncol 500 -teacher_adam_steps 100 \
  -teacher_lbfgs_steps 20 > train.log 2>&1 || { cat train.log; fail "kdpinn train failed"; }
cp -r out plain
cp -r out resumed
cp -r out comp

q=3
opts=(-kd_pde burgers -student_widths 8,8 -student_ncol 400 -student_nic 100 -student_nbc 100 -student_distill_ncell 300
      -student_distill_ncol 300 -student_adam_steps 50 -student_distill_steps 10 -student_ramp_steps 20
      -student_lbfgs_steps 20 -student_gn_steps 4 -student_w_physics 0.3 -student_checkpoint_every 1000 -kd_monitor
      -kd_monitor_every 1)
"$MPIEXEC" -n 2 "$KDPINN" distill -kd_out out "${opts[@]}" -student_quantize_steps $q > distill.log 2>&1 ||
  { cat distill.log; fail "distill with quantization failed"; }
grep -E " (student|scratch)_L1 quantize " distill.log
for m in student_L1 scratch_L1; do
  n=$(grep -cE "^ +[0-9]+ $m quantize +loss .* layer [12] lambda " distill.log)
  [ "$n" -ge 2 ] && [ "$n" -le $((2 * q)) ] || { cat distill.log; fail "$m: expected 2 to $((2 * q)) quantize monitor lines, got $n"; }
done
"$MPIEXEC" -n 2 "$KDPINN" distill -kd_out plain "${opts[@]}" -kd_distill_models student > plain.log 2>&1 ||
  { cat plain.log; fail "distill without quantization failed"; }

"$MPIEXEC" -n 2 "$KDPINN" distill -kd_out comp "${opts[@]}" -student_quantize_steps $q -kd_distill_models student \
  -student_quantize_rounding compensated > comp.log 2>&1 || { cat comp.log; fail "distill with compensated rounding failed"; }

for d in out plain comp; do
  "$MPIEXEC" -n 1 "$KDPINN" export -kd_out $d -kd_model $d/student_L1.h5 -kd_precision int8 -kd_export_dir $d/export \
    > export-$d.log 2>&1 || { cat export-$d.log; fail "int8 export ($d) failed"; }
done
grep -h "int8" export-out.log export-plain.log export-comp.log

# stopped inside the quantization phase (74 steps of Adam, L-BFGS and GN, then 2 x q), after the second layer's
# rounding; resumed
"$MPIEXEC" -n 2 "$KDPINN" distill -kd_out resumed "${opts[@]}" -student_quantize_steps $q -kd_distill_models student \
  -student_stop_at_step $((74 + q + 1)) > stop.log 2>&1
rc=$?
[ $rc -eq 3 ] || { cat stop.log; fail "the stopped run exited with $rc, expected 3"; }
grep -q "(quantize)" stop.log || { cat stop.log; fail "the stop did not happen in the quantization phase"; }
"$MPIEXEC" -n 2 "$KDPINN" distill -kd_out resumed "${opts[@]}" -student_quantize_steps $q -kd_distill_models student \
  -kd_restart > resume.log 2>&1 || { cat resume.log; fail "the resumed run failed"; }
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" out/student_L1.h5 resumed/student_L1.h5 ||
  fail "the resumed run's model differs from the uninterrupted run's"

"$KD_PYTHON" - <<'EOF' || fail "the quantized layers are not on the int8 grid, or the int8 loss is too large"
import re, h5py, numpy as np
for name in ("out/student_L1", "out/scratch_L1", "comp/student_L1"):
    f = h5py.File("%s.h5" % name, "r")
    nl = len([k for k in f if k.startswith("layer_")])
    for k in range(nl):
        W = f["layer_%d/W" % k][...]
        q = W / np.max(np.abs(W), axis=1, keepdims=True) * 127
        off = np.max(np.abs(q - np.rint(q)))
        print("%s layer %d: largest distance of a weight from the int8 grid %.2e levels" % (name, k, off))
        if k == 0:
            assert off > 1e-3, (name, "the first layer is free, yet on the grid")
        else:
            assert off <= 1e-9, (name, k, off)
def int8_error(log):
    m = re.search(r"relative L2 error vs f64 there ([0-9.eE+-]+)", open(log).read())
    assert m, ("no int8 error in", log)
    return float(m.group(1))
eq, ep, ec = int8_error("export-out.log"), int8_error("export-plain.log"), int8_error("export-comp.log")
print("int8 export vs f64 model: %.2e with the quantization phase, %.2e with compensated rounding, %.2e without" %
      (eq, ec, ep))
assert eq <= 1e-3 and ec <= 1e-3, (eq, ec)
EOF
echo PASS
