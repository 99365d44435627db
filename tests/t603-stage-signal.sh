#!/bin/bash
# Stages that cannot checkpoint stop on a signal too: SIGTERM to one of 2 ranks during a heat solve, SIGUSR1 during a
# validation, each makes both ranks stop at the next unit of work (snapshot, model) with exit status 3
# (KD_EXIT_REQUEUE: a requeued job runs the stage again), one error line saying so, and nothing written under a final
# name nor left as a temporary (before, both stages ignored the signal and ran to their end).
set -u
fail() { echo "FAIL: $*"; exit 1; }
rm -rf solve val
cp -r "$KD_SOURCE_DIR/meshes" .

# signal_when <log pattern> <signal> <log> <args...>: runs the stage at 2 ranks, signals one rank once the log shows
# the pattern, and checks the stop
signal_when() {
  local pattern=$1 sig=$2 log=$3 pid rank status
  shift 3
  "$MPIEXEC" -n 2 "$KDPINN" "$@" > "$log" 2>&1 &
  pid=$!
  while kill -0 $pid 2>/dev/null && ! grep -q "$pattern" "$log"; do sleep 0.05; done
  rank=$(pgrep -P $pid | tail -n 1)
  [ -n "$rank" ] || { cat "$log"; fail "$log: the stage ended before the signal"; }
  kill -s "$sig" "$rank"
  wait $pid
  status=$?
  [ $status -eq 3 ] || { cat "$log"; fail "$log: exit status $status, expected 3"; }
  [ "$(grep -c '^kdpinn: error:' "$log")" -eq 1 ] && grep -q "stopped by a signal; nothing written" "$log" ||
    { cat "$log"; fail "$log: expected one error line saying the stage stopped"; }
}

signal_when "^heat: " TERM solve.log solve -kd_pde heat -kd_levels 2 -heat_n 256 -heat_nt 64 -kd_monitor -kd_out solve
[ ! -e solve/reference.h5 ] || fail "reference.h5 written by a stopped solve"
[ -z "$(find solve -name '*.part')" ] || fail "a stopped solve left a temporary file"

"$MPIEXEC" -n 2 "$KDPINN" solve -kd_out val -kd_pde burgers -kd_levels 3 -burgers_nx 512 -burgers_nt 128 > vs.log 2>&1 ||
  { cat vs.log; fail "solve"; }
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out val -kd_pde burgers -teacher_widths 32,32 -teacher_adam_steps 2 \
  -teacher_lbfgs_steps 0 > vt.log 2>&1 || { cat vt.log; fail "train"; }
signal_when "^kdpinn validate: burgers" USR1 val.log validate -kd_out val -kd_pde burgers -kd_validate_repeats 300 \
  -kd_validate_figures false
for f in results.json report.md predictions.h5; do [ ! -e val/$f ] || fail "$f written by a stopped validation"; done
[ -z "$(find val -name '*.part')" ] || fail "a stopped validation left a temporary file"
echo PASS
