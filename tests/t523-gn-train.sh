#!/bin/bash
# The Gauss-Newton phase of `kdpinn train` on a small Burgers reference, 2 ranks (1 x 2 BLACS grid):
#  - Adam, L-BFGS, then -teacher_gn_steps 60: the history has one row per step, the monitor shows "gn" rows with the
#    damping, and the loss after the GN phase is below the loss at the end of L-BFGS (every accepted LM step lowers
#    it; a phase that does nothing or takes bad steps fails);
#  - killed with SIGKILL after a checkpoint inside the GN phase (phase gn, with lambda and nu), -kd_restart finishes
#    with parameters and loss history bitwise identical to the uninterrupted run (tolerance: none);
#  - a finished run without GN (-teacher_gn_steps 0), restarted with -teacher_gn_steps 60 -kd_restart, adds the GN
#    phase and ends bitwise where the run with GN from the start ended (its checkpoint holds no damping: the GN
#    phase starts from the options, as it does in one run).
#  - -teacher_gn_precision mixed: the monitor shows the CG iterations and the phase lowers the loss; bad GN options
#    (mixed with redistribute, -teacher_gn_rtol 0, an unknown precision) are one line and a non-zero exit.
set -u
fail() { echo "FAIL: $*"; exit 1; }
np=2
rm -rf ref run
opts=(-kd_pde burgers -teacher_widths 10,10 -teacher_ncol 500 -teacher_adam_steps 60 -teacher_lbfgs_steps 20
      -teacher_gn_steps 60 -teacher_checkpoint_every 2 -kd_monitor -kd_monitor_every 1)
step_of() { "$KD_PYTHON" -c "import h5py,sys; print(int(h5py.File(sys.argv[1],'r').attrs['step']))" "$1" 2>/dev/null || echo 0; }

"$MPIEXEC" -n $np "$KDPINN" solve -kd_out ref -kd_pde burgers -kd_levels 2 -burgers_nx 256 -burgers_nt 64 > solve.log 2>&1 ||
  { cat solve.log; fail "kdpinn solve failed"; }
mkdir -p run && cp ref/reference.h5 run/
"$MPIEXEC" -n $np "$KDPINN" train -kd_out ref "${opts[@]}" > ref.log 2>&1 || { cat ref.log; fail "kdpinn train failed"; }
grep -E " teacher (lbfgs|gn) " ref.log | tail -12
grep -qE "^ +140 teacher gn +loss .* lambda [0-9.e+-]+ " ref.log || fail "no monitor line of GN step 140 with lambda"
"$KD_PYTHON" - <<'PY' || fail "loss history not as expected"
import h5py
c = h5py.File("ref/checkpoint_teacher.h5", "r")
h = c["loss_history"][...]
assert h.shape[0] == 140, h.shape
assert c.attrs["phase"] in (b"done", "done"), c.attrs["phase"]
print("loss: end of L-BFGS %.6e, after 60 GN steps %.6e" % (h[79, 0], h[139, 0]))
assert h[139, 0] < h[79, 0], "the GN phase did not lower the loss"
PY

# SIGKILL to every process once a checkpoint of the GN phase (steps 81-140) exists, then resume from it. The GN phase
# (60 steps at about 1.6 ms with their checkpoints) lasts about 0.1 s: with 10 steps (16 ms) all three attempts ended
# between two polls in one run of five. Polling uses h5dump (milliseconds), and a run that ends before the kill lands
# is tried again.
fast_step() { h5dump -a step "$1" 2>/dev/null | grep -oE '\(0\): [0-9]+' | grep -oE '[0-9]+$' || echo 0; }
stopped=0
for attempt in 1 2 3; do
  rm -rf run/checkpoint_teacher.h5 run/teacher.h5
  "$MPIEXEC" -n $np "$KDPINN" train -kd_out run "${opts[@]}" > run1.log 2>&1 &
  pid=$!
  step=0
  while kill -0 $pid 2>/dev/null; do
    [ -f run/checkpoint_teacher.h5 ] && step=$(fast_step run/checkpoint_teacher.h5)
    [ "$step" -ge 82 ] && break
    sleep 0.02
  done
  ranks=$(pgrep -P $pid)
  [ -n "$ranks" ] && kill -9 $ranks 2>/dev/null
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  stopped=$(step_of run/checkpoint_teacher.h5)
  [ ! -f run/teacher.h5 ] && [ "$stopped" -ge 82 ] && [ "$stopped" -lt 140 ] && break
  echo "attempt $attempt: the run ended before the kill (checkpoint step $stopped); again"
  stopped=0
done
[ "$stopped" -gt 0 ] || fail "could not kill a run inside its GN phase in 3 attempts"
"$MPIEXEC" -n $np "$KDPINN" train -kd_out run "${opts[@]}" -kd_restart > run2.log 2>&1 || { cat run2.log; fail "resumed run failed"; }
grep -q "restarting from checkpoint run/checkpoint_teacher.h5 at step $stopped (gn)" run2.log || { cat run2.log; fail "did not resume at step $stopped"; }
"$KD_PYTHON" - <<'PY' || fail "resumed run differs from the uninterrupted one"
import h5py, numpy as np
a, b = h5py.File("ref/teacher.h5", "r"), h5py.File("run/teacher.h5", "r")
for k in a:
    if k.startswith("layer_"):
        for d in ("W", "b"):
            assert np.array_equal(a[k][d][...], b[k][d][...]), k + "/" + d
ha = h5py.File("ref/checkpoint_teacher.h5", "r")["loss_history"][...]
hb = h5py.File("run/checkpoint_teacher.h5", "r")["loss_history"][...]
assert np.array_equal(ha, hb), "loss history"
print("resumed run: parameters and loss history bitwise identical")
PY
# A finished run without GN, extended by a restart with GN steps.
rm -rf ext && mkdir -p ext && cp ref/reference.h5 ext/
"$MPIEXEC" -n $np "$KDPINN" train -kd_out ext "${opts[@]}" -teacher_gn_steps 0 > ext1.log 2>&1 || { cat ext1.log; fail "run without GN failed"; }
[ "$(step_of ext/checkpoint_teacher.h5)" = 80 ] || fail "the run without GN did not end at step 80"
"$MPIEXEC" -n $np "$KDPINN" train -kd_out ext "${opts[@]}" -kd_restart > ext2.log 2>&1 || { cat ext2.log; fail "restart with GN steps failed"; }
grep -q "restarting from checkpoint ext/checkpoint_teacher.h5 at step 80 (gn)" ext2.log || { cat ext2.log; fail "the finished run was not resumed in the GN phase"; }
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" ref/teacher.h5 ext/teacher.h5 || fail "GN added by a restart differs from GN in one run"
# -gn_precision mixed (J^T J factored in single precision, the step by CG in double): the monitor lines show the CG
# iterations and the phase lowers the loss below the end of L-BFGS, as in double precision.
rm -rf mix && mkdir -p mix && cp ref/reference.h5 mix/
"$MPIEXEC" -n $np "$KDPINN" train -kd_out mix "${opts[@]}" -teacher_gn_precision mixed > mix.log 2>&1 ||
  { cat mix.log; fail "mixed-precision run failed"; }
grep -E " teacher gn " mix.log | tail -3
grep -qE "^ +140 teacher gn +loss .* lambda [0-9.e+-]+ cg [0-9]+ " mix.log || fail "no monitor line of GN step 140 with its CG iterations"
grep -q "option -teacher_gn_precision is not read" mix.log && fail "-teacher_gn_precision reported as not read"
"$KD_PYTHON" - <<'PY' || fail "mixed-precision GN did not lower the loss"
import h5py
h = h5py.File("mix/checkpoint_teacher.h5", "r")["loss_history"][...]
print("mixed precision: end of L-BFGS %.6e, after 60 GN steps %.6e" % (h[79, 0], h[139, 0]))
assert h.shape[0] == 140 and h[139, 0] < h[79, 0]
PY
# bad Gauss-Newton options: one line naming the option, a non-zero exit, before any training
for bad in "-teacher_gn_precision mixed -teacher_gn_normal_matrix redistribute:-teacher_gn_precision mixed" \
           "-teacher_gn_rtol 0:-teacher_gn_rtol" "-teacher_gn_precision single:-teacher_gn_precision"; do
  args=${bad%%:*}; name=${bad#*:}
  "$MPIEXEC" -n $np "$KDPINN" train -kd_out mix "${opts[@]}" $args > bad.out 2> bad.err &&
    fail "train accepted $args"
  { [ "$(grep -c '^kdpinn' bad.err)" = 1 ] && grep -q -- "$name" bad.err && ! grep -q " teacher adam " bad.out; } ||
    { cat bad.out bad.err; fail "expected one line naming $name for $args"; }
done
echo "PASS (killed after the checkpoint at step $stopped; GN added to a finished run by a restart; mixed precision)"
