#!/bin/bash
# `kdpinn train` stopped inside the L-BFGS phase and resumed ends with the uninterrupted run's teacher.h5, 2 ranks.
# The stop comes at a fixed step (-teacher_stop_at_step: the last rank acts as if it had caught SIGUSR1 during that
# step), so the test does not depend on the machine's speed. Steps: Adam 1-50 (checkpoints at 15, 30, 45), L-BFGS
# 51-100 in chunks 50-60, 60-75, 75-90, 90-100 (-teacher_checkpoint_every 15).
#  - stop during step 55: exit 3, the message names step 55 and a checkpoint at step 50 (the chunk's start, where no
#    checkpoint existed before), and the checkpoint file is at step 50;
#  - resume with a stop during step 82: exit 3, checkpoint at step 75 (the chunk boundary written on the way);
#  - resume to the end: every layer of teacher.h5 equal to the uninterrupted run's, tolerance 0 (numpy
#    array_equal): the resumed run repeats the arithmetic of the uninterrupted one at the same rank count, so any
#    difference is state the checkpoint lost.
set -u
fail() { echo "FAIL: $*"; exit 1; }
np=2
rm -rf ref run
"$MPIEXEC" -n $np "$KDPINN" solve -kd_out ref -kd_pde burgers -kd_levels 1 -burgers_nx 128 -burgers_nt 32 > solve.log 2>&1 ||
  { cat solve.log; fail "kdpinn solve failed"; }
mkdir run && cp ref/reference.h5 run/ || fail "cannot copy reference.h5"
opts=(-kd_pde burgers -teacher_widths 12,12 -teacher_ncol 400 -teacher_nic 50 -teacher_nbc 50 -teacher_adam_steps 50
      -teacher_adam_lr 1e-2 -teacher_resample_every 20 -teacher_lbfgs_steps 50 -teacher_checkpoint_every 15)
step_of() { "$KD_PYTHON" -c "import h5py,sys; print(int(h5py.File(sys.argv[1],'r').attrs['step']))" "$1"; }

"$MPIEXEC" -n $np "$KDPINN" train -kd_out ref "${opts[@]}" > ref.log 2>&1 || { cat ref.log; fail "uninterrupted run failed"; }
grep -q "100 steps" ref.log || { cat ref.log; fail "the uninterrupted run did not make 100 steps (L-BFGS stopped early?)"; }

# stop_run <log> <stop step> <checkpoint step> [options]: the run must exit 3 and checkpoint at the given step.
stop_run() {
  local log=$1 at=$2 ck=$3 status
  shift 3
  "$MPIEXEC" -n $np "$KDPINN" train -kd_out run "${opts[@]}" -teacher_stop_at_step "$at" "$@" > "$log" 2>&1
  status=$?
  [ $status -eq 3 ] || { cat "$log"; fail "stop at step $at: exit status $status, expected 3"; }
  grep -q "^kdpinn: error: teacher: stopped by a signal after step $at (lbfgs); checkpoint run/checkpoint_teacher.h5 at step $ck, the start of the L-BFGS chunk" "$log" ||
    { cat "$log"; fail "stop at step $at: expected a stop message naming step $at and a checkpoint at step $ck"; }
  [ "$(step_of run/checkpoint_teacher.h5)" -eq "$ck" ] || fail "stop at step $at: checkpoint not at step $ck"
}
stop_run stop1.log 55 50
stop_run stop2.log 82 75 -kd_restart
grep -q "restarting from checkpoint run/checkpoint_teacher.h5 at step 50 (lbfgs)" stop2.log || { cat stop2.log; fail "did not resume at step 50"; }
"$MPIEXEC" -n $np "$KDPINN" train -kd_out run "${opts[@]}" -kd_restart > resume.log 2>&1 || { cat resume.log; fail "resumed run failed"; }
grep -q "restarting from checkpoint run/checkpoint_teacher.h5 at step 75 (lbfgs)" resume.log || { cat resume.log; fail "did not resume at step 75"; }
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" ref/teacher.h5 run/teacher.h5 ||
  fail "the resumed teacher differs from the uninterrupted one"
echo PASS
