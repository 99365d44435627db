#!/bin/bash
# Stop on a signal and resume: SIGUSR1 sent to ONE of 2 ranks at a random Adam step makes both ranks stop at the same
# step boundary, write the checkpoint and exit with status 3 (KD_EXIT_REQUEUE); -kd_restart then finishes the run with
# final parameters bitwise identical to an uninterrupted run (tolerance: none, `cmp`: the restart promise is exact,
# any difference is a lost piece of state). SIGTERM in the L-BFGS phase stops the same way, but the checkpoint holds
# the start of the L-BFGS chunk the signal fell in (the chunk's L-BFGS memory cannot be saved), and the resumed run,
# which repeats the chunk, must again end bitwise equal to the uninterrupted run. SIGHUP (what a lost login session
# sends) stops as SIGUSR1 does.
# Usage: t511-train-signal.sh <t500-trainer executable>
set -u
exe=$1
np=2
opts=(-test_mode train -test_fit 1 -test_rosenbrock 0.01 -test_n 24 -test_points 400 -train_adam_steps 120
      -train_adam_lr 1e-2 -train_resample_every 25 -train_lbfgs_steps 60 -train_checkpoint_every 10 -test_delay_ms 20)
# Each phase lasts well over a second (20 ms a step), so that polling the checkpoint (a Python start each time) cannot
# overshoot the phase it aims at: the signal lands at least 75 Adam steps, or 50 L-BFGS steps, before the phase ends.
fail() { echo "FAIL: $*"; exit 1; }
step_of() { "$KD_PYTHON" -c "import h5py,sys; print(int(h5py.File(sys.argv[1],'r').attrs['step']))" "$1" 2>/dev/null || echo 0; }

rm -rf ref run ref.bin run.bin
"$MPIEXEC" -n $np "$exe" "${opts[@]}" -kd_out ref -test_out ref.bin > ref.log 2>&1 || { cat ref.log; fail "uninterrupted run failed"; }

# signal_run <signal> <first step to wait for> <log>: sends the signal to one rank once a checkpoint at or beyond
# that step exists; the run must exit with status 3, name the step it stopped after ($stopped) and the step of the
# checkpoint ($resume_at): the same step in the Adam phase, the start of the chunk (a multiple of 10) in L-BFGS.
signal_run() {
  local sig=$1 target=$2 log=$3 pid step=0 rank status
  "$MPIEXEC" -n $np "$exe" "${opts[@]}" -kd_out run -test_out run.bin -kd_restart > "$log" 2>&1 &
  pid=$!
  while kill -0 $pid 2>/dev/null; do
    [ -f run/checkpoint_train.h5 ] && step=$(step_of run/checkpoint_train.h5)
    [ "$step" -ge "$target" ] && break
    sleep 0.1
  done
  rank=$(pgrep -P $pid | tail -n 1)
  [ -n "$rank" ] && kill -s "$sig" "$rank"
  wait $pid
  status=$?
  [ $status -eq 3 ] || { cat "$log"; fail "$sig: exit status $status, expected 3 (KD_EXIT_REQUEUE)"; }
  grep -E "^kdpinn: error: train: stopped by a signal after step [0-9]+" "$log" || { cat "$log"; fail "$sig: no stop message"; }
  stopped=$(grep -oE "stopped by a signal after step [0-9]+" "$log" | grep -oE "[0-9]+$")
  resume_at=$(grep -oE "checkpoint run/checkpoint_train.h5 at step [0-9]+" "$log" | grep -oE "[0-9]+$")
  [ -n "$resume_at" ] || { cat "$log"; fail "$sig: the stop message does not name the checkpoint's step"; }
  [ "$(step_of run/checkpoint_train.h5)" -eq "$resume_at" ] || fail "$sig: checkpoint is not at step $resume_at"
}

signal_run USR1 $((15 + RANDOM % 31)) run1.log   # Adam phase: steps 1-120
"$MPIEXEC" -n $np "$exe" "${opts[@]}" -kd_out run -test_out run.bin -kd_restart > run2.log 2>&1 || { cat run2.log; fail "resumed run failed"; }
[ "$resume_at" -eq "$stopped" ] || fail "USR1 in Adam: checkpoint at step $resume_at, not at the stop step $stopped"
grep "restarting from checkpoint run/checkpoint_train.h5 at step $stopped (adam)" run2.log || { cat run2.log; fail "did not resume at step $stopped"; }
cmp ref.bin run.bin || fail "final parameters after a SIGUSR1 stop differ from the uninterrupted run"
echo "SIGUSR1 stop in the Adam phase: final parameters bitwise identical"

rm -rf run run.bin
signal_run HUP $((15 + RANDOM % 31)) runh.log   # SIGHUP (a lost login session) stops as SIGUSR1 does
"$MPIEXEC" -n $np "$exe" "${opts[@]}" -kd_out run -test_out run.bin -kd_restart > runh2.log 2>&1 || { cat runh2.log; fail "resumed run failed"; }
[ "$resume_at" -eq "$stopped" ] || fail "HUP in Adam: checkpoint at step $resume_at, not at the stop step $stopped"
cmp ref.bin run.bin || fail "final parameters after a SIGHUP stop differ from the uninterrupted run"
echo "SIGHUP stop in the Adam phase: final parameters bitwise identical"

rm -rf run run.bin
signal_run TERM 130 run3.log                     # L-BFGS phase: steps 121-180
"$MPIEXEC" -n $np "$exe" "${opts[@]}" -kd_out run -test_out run.bin -kd_restart > run4.log 2>&1 || { cat run4.log; fail "resumed run failed"; }
[ $((resume_at % 10)) -eq 0 ] && [ "$resume_at" -le "$stopped" ] && [ "$resume_at" -gt $((stopped - 10)) ] ||
  fail "TERM in L-BFGS after step $stopped: checkpoint at step $resume_at, not the start of its chunk"
grep "restarting from checkpoint run/checkpoint_train.h5 at step $resume_at (lbfgs)" run4.log || { cat run4.log; fail "did not resume at step $resume_at"; }
cmp ref.bin run.bin || fail "final parameters after a SIGTERM stop in L-BFGS differ from the uninterrupted run"
echo "SIGTERM stop in the L-BFGS phase after step $stopped, resumed from step $resume_at: final parameters bitwise identical"
echo "PASS"
