#!/bin/bash
# Runs that share an output directory: a run that would write a file another live run is writing (two solves into one
# -kd_out) stops in one line naming the file and the holder, before it computes anything, and changes nothing; runs
# that write different files (the distill tasks of a job array, one per level or kind of model) are not in each
# other's way; a temporary file that a killed writer left behind is removed by the next run that takes its lock.
# The other run is played by a process that holds the lock the way kdpinn does (fcntl, .<file>.lock); then two real
# solves race for one directory.
set -u
fail() { echo "FAIL: $*"; exit 1; }
tiny=(-kd_pde burgers -kd_levels 2 -burgers_nx 64 -burgers_nt 32)
rm -rf out; mkdir -p out
# hold <file in out/> <seconds>: holds its lock in the background; ready once out/held exists
hold() {
  rm -f out/held
  "$KD_PYTHON" -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.ftruncate(fd, 0); os.write(fd, b"pid %d on testhost, since now\n" % os.getpid())
open("out/held", "w").close()
time.sleep(float(sys.argv[2]))' "out/.$1.lock" "$2" &
  holder=$!
  for _ in $(seq 100); do [ -e out/held ] && return; sleep 0.1; done
  fail "the lock holder did not start"
}

# A solve while another holds reference.h5: one line naming the file and the holder, nothing written.
hold reference.h5 60
"$MPIEXEC" -n 2 "$KDPINN" solve "${tiny[@]}" -kd_out out > busy.log 2>&1 && fail "a solve ran while reference.h5 was locked"
[ "$(grep -c '^kdpinn: error:' busy.log)" -eq 1 ] &&
  grep -q "^kdpinn: error: out/reference.h5 is being written by another run (pid $holder on testhost" busy.log ||
  { cat busy.log; fail "expected one line naming out/reference.h5 and its holder"; }
[ ! -e out/reference.h5 ] || fail "the refused solve wrote reference.h5"
kill $holder; wait $holder 2> /dev/null

# The holder is gone (the kernel released its lock): a leftover reference.h5.part is removed, the solve runs.
echo "half a file" > out/reference.h5.part
"$MPIEXEC" -n 2 "$KDPINN" solve "${tiny[@]}" -kd_out out > solve.log 2>&1 || { cat solve.log; fail "solve after the holder ended"; }
[ ! -e out/reference.h5.part ] || fail "a stale reference.h5.part was left"
"$MPIEXEC" -n 2 "$KDPINN" train "${tiny[@]}" -kd_out out -teacher_widths 8,8 -teacher_ncol 200 -teacher_adam_steps 5 \
  -teacher_lbfgs_steps 0 > train.log 2>&1 || { cat train.log; fail "train"; }

# A distill task that writes the scratch twin of level 1 runs while another task holds the student's files.
dist=(-student_widths 6 -student_ncol 100 -student_adam_steps 4 -student_distill_steps 2 -student_ramp_steps 2
      -student_lbfgs_steps 0 -kd_level 1)
hold student_L1.h5 60
"$MPIEXEC" -n 2 "$KDPINN" distill "${tiny[@]}" -kd_out out "${dist[@]}" -kd_distill_models scratch > scratch.log 2>&1 ||
  { cat scratch.log; fail "distilling the scratch twin while the student's file is locked"; }
"$MPIEXEC" -n 2 "$KDPINN" distill "${tiny[@]}" -kd_out out "${dist[@]}" -kd_distill_models student > student.log 2>&1 &&
  fail "a second writer of student_L1.h5 ran"
grep -q "^kdpinn: error: out/student_L1.h5 is being written by another run" student.log || { cat student.log; fail "student lock"; }
kill $holder; wait $holder 2> /dev/null

# Two real solves into one directory at once (viscosities 0.01 and 0.02), four times: a run that exits 0 published
# its own reference (the nu attribute), and one that failed said it was the lock.
for trial in 1 2 3 4; do
  rm -rf race
  "$MPIEXEC" -n 1 "$KDPINN" solve "${tiny[@]}" -burgers_nu 0.01 -kd_out race > a.log 2>&1 & a=$!
  "$MPIEXEC" -n 1 "$KDPINN" solve "${tiny[@]}" -burgers_nu 0.02 -kd_out race > b.log 2>&1 & b=$!
  wait $a; ra=$?
  wait $b; rb=$?
  nu=$("$KD_PYTHON" -c 'import h5py; print(h5py.File("race/reference.h5", "r").attrs["nu"])')
  for r in "$ra a.log 0.01" "$rb b.log 0.02"; do
    set -- $r
    if [ "$1" -ne 0 ]; then
      grep -q "race/reference.h5 is being written by another run" "$2" || { cat "$2"; fail "trial $trial: a failed run did not name the lock"; }
    fi
  done
  [ $ra -eq 0 ] || [ $rb -eq 0 ] || fail "trial $trial: neither run succeeded"
  if [ $ra -eq 0 ] && [ $rb -ne 0 ]; then [ "$nu" = 0.01 ] || fail "trial $trial: the successful run (nu 0.01) published nu $nu"; fi
  if [ $rb -eq 0 ] && [ $ra -ne 0 ]; then [ "$nu" = 0.02 ] || fail "trial $trial: the successful run (nu 0.02) published nu $nu"; fi
  echo "trial $trial: exits $ra $rb, reference nu $nu"
done
echo "ok"
