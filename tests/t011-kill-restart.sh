#!/bin/bash
# t011-kill-restart.sh <kills>: `kdpinn run` (solve, train, distill, validate) at 2 ranks killed with SIGKILL at
# random moments and resumed with -kd_restart. In rounds of three: a fresh output directory, a run killed, resumed
# and killed again three times (so kills land in every stage and optimizer phase, the later ones in what is left),
# then resumed to its end; after each round the reference is byte-identical to an uninterrupted run's and the
# teacher, student and scratch twin hold bitwise the same parameters (tolerance 0: a resumed training repeats the
# same arithmetic from the checkpointed state; model_equal.py), and nothing is left under a temporary name. The
# moments come from $RANDOM seeded with <kills>, so a failure reproduces.
set -u
fail() { echo "FAIL: $*"; exit 1; }
kills=${1:-3}
opts=(-kd_pde burgers -kd_levels 2 -burgers_nx 64 -burgers_nt 32
      -teacher_widths 16,16 -teacher_ncol 1000 -teacher_adam_steps 3000 -teacher_lbfgs_steps 300
      -teacher_checkpoint_every 137
      -student_widths 8 -student_ncol 500 -student_adam_steps 1500 -student_distill_steps 300 -student_ramp_steps 300
      -student_lbfgs_steps 200 -student_checkpoint_every 71)
rm -rf ref killed
start=$(date +%s.%N)
"$MPIEXEC" -n 2 "$KDPINN" run "${opts[@]}" -kd_out ref > ref.log 2>&1 || { cat ref.log; fail "uninterrupted run"; }
full=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
echo "uninterrupted run: $full s"
RANDOM=$kills
for k in $(seq "$kills"); do
  [ $(((k - 1) % 3)) -eq 0 ] && rm -rf killed
  at=$(awk -v f="$full" -v r=$((RANDOM % 100)) 'BEGIN {printf "%.2f", f * r / 100}')
  setsid "$MPIEXEC" -n 2 "$KDPINN" run "${opts[@]}" -kd_out "$PWD/killed" -kd_restart > "kill$k.log" 2>&1 &
  pid=$!
  sleep "$at"
  # the ranks too: Open MPI starts them in process groups of their own (the absolute path: only this test's)
  pkill -KILL -f -- "-kd_out $PWD/killed -kd_restart" && what="killed" || what="had finished"
  kill -KILL -- -"$pid" 2> /dev/null
  wait "$pid" 2> /dev/null
  for _ in $(seq 100); do pgrep -f -- "-kd_out $PWD/killed -kd_restart" > /dev/null || break; sleep 0.1; done
  echo "kill $k: $what after $at s; last line: $(grep . "kill$k.log" | tail -1 | cut -c1-100)"
  if [ $((k % 3)) -eq 0 ] || [ "$k" -eq "$kills" ]; then
    "$MPIEXEC" -n 2 "$KDPINN" run "${opts[@]}" -kd_out killed -kd_restart > final.log 2>&1 || { cat final.log; fail "resumed run"; }
    cmp ref/reference.h5 killed/reference.h5 || fail "reference.h5 differs"
    "$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" ref/teacher.h5 killed/teacher.h5 ref/student_L1.h5 \
      killed/student_L1.h5 ref/scratch_L1.h5 killed/scratch_L1.h5 || fail "models differ after kill $k"
    [ -z "$(find killed -name '*.part*')" ] || fail "left behind: $(find killed -name '*.part*')"
    echo "round ending at kill $k: the same reference and models"
  fi
done
echo "ok: $kills kills"
