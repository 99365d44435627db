#!/bin/bash
# Checkpoint/restart is exact: a 2-rank training run on the synthetic objective is killed with SIGKILL twice, at
# random steps (once in the Adam phase, once in the L-BFGS phase), and resumed with -kd_restart each time; its final
# parameters must be bitwise identical to those of an uninterrupted run with the same rank count (tolerance: none,
# `cmp`), and so must its whole loss history (exact equality). Usage: t510-train-restart.sh <t500-trainer executable>
set -u
exe=$1
np=2
opts=(-test_mode train -test_fit 1 -test_rosenbrock 0.01 -test_n 24 -test_points 400 -train_adam_steps 120
      -train_adam_lr 1e-2 -train_resample_every 25 -train_lbfgs_steps 80 -train_checkpoint_every 10 -test_delay_ms 20)
fail() { echo "FAIL: $*"; exit 1; }
step_of() { "$KD_PYTHON" -c "import h5py,sys; print(int(h5py.File(sys.argv[1],'r').attrs['step']))" "$1" 2>/dev/null || echo 0; }

rm -rf ref run ref.bin run.bin
"$MPIEXEC" -n $np "$exe" "${opts[@]}" -kd_out ref -test_out ref.bin > ref.log 2>&1 || { cat ref.log; fail "uninterrupted run failed"; }

# Starts a run in the background, waits until it has written a checkpoint at or beyond step $1, then kills every
# rank and the launcher with SIGKILL (no chance to clean up: the test is what a node failure does).
run_and_kill() {
  local target=$1 log=$2 pid step=0 ranks
  "$MPIEXEC" -n $np "$exe" "${opts[@]}" -kd_out run -test_out run.bin -kd_restart > "$log" 2>&1 &
  pid=$!
  while kill -0 $pid 2>/dev/null; do
    [ -f run/checkpoint_train.h5 ] && step=$(step_of run/checkpoint_train.h5)
    [ "$step" -ge "$target" ] && break
    sleep 0.1
  done
  ranks=$(pgrep -P $pid)
  [ -n "$ranks" ] && kill -9 $ranks 2>/dev/null
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  [ -f run.bin ] && { cat "$log"; fail "the run finished before it could be killed (checkpoint step $step, target $target)"; }
  [ "$step" -gt 1 ] || { cat "$log"; fail "no checkpoint beyond step 1 before the kill"; }
  echo "killed with SIGKILL after the checkpoint at step $step (target $target, latest checkpoint step $(step_of run/checkpoint_train.h5))"
}

run_and_kill $((20 + RANDOM % 61)) run1.log   # Adam phase: steps 1-120 (targets leave 40 steps, 0.8 s, for polling)
run_and_kill $((130 + RANDOM % 31)) run2.log  # L-BFGS phase: steps 121-200
grep -q "restarting from checkpoint run/checkpoint_train.h5 at step" run2.log || { cat run2.log; fail "second run did not restart"; }
"$MPIEXEC" -n $np "$exe" "${opts[@]}" -kd_out run -test_out run.bin -kd_restart > run3.log 2>&1 || { cat run3.log; fail "restarted run failed"; }
grep "restarting from checkpoint" run3.log || { cat run3.log; fail "final run did not restart"; }

cmp ref.bin run.bin || fail "final parameters differ from the uninterrupted run"
"$KD_PYTHON" - <<'EOF' || fail "final checkpoints differ"
import h5py, numpy as np
a, b = h5py.File("ref/checkpoint_train.h5", "r"), h5py.File("run/checkpoint_train.h5", "r")
for name in ("parameters", "adam_m", "adam_v", "loss_history"):
    assert a[name].shape == b[name].shape and np.array_equal(a[name][...], b[name][...]), name
for attr in ("step", "epoch", "adam_step", "lbfgs_start", "phase"):
    assert a.attrs[attr] == b.attrs[attr], attr
print("final checkpoints: parameters, Adam state, loss history (%d steps) identical" % a["loss_history"].shape[0])
EOF
grep "final loss" ref.log run3.log
echo "PASS: restarted twice after SIGKILL, final parameters bitwise identical"
