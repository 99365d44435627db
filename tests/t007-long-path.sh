#!/bin/bash
# Long output paths, as clusters have them: solve, train (with a checkpoint) and validate at 2 ranks into a -kd_out
# whose absolute path is over 400 characters (Open MPI's MPI-IO aborted with "buffer overflow detected" inside
# H5Fcreate from about 245 characters of file path). Every stage must succeed and write its files.
set -u
fail() { echo "FAIL: $*"; exit 1; }
rm -rf long
out="$PWD/long/$(printf 'a%.0s' $(seq 1 200))/$(printf 'b%.0s' $(seq 1 200))"
[ ${#out} -gt 400 ] || fail "path of ${#out} characters is not long enough"
mkdir -p "$out"
run() { "$MPIEXEC" -n 2 "$KDPINN" "$@" -kd_out "$out" > "$1.log" 2>&1 || { cat "$1.log"; fail "$1 into a path of ${#out} characters"; }; }
run solve -kd_pde burgers -kd_levels 2 -burgers_nx 64 -burgers_nt 32
run train -kd_pde burgers -teacher_widths 4 -teacher_adam_steps 5 -teacher_lbfgs_steps 0 -teacher_checkpoint_every 5
run validate -kd_pde burgers -kd_validate_figures false -kd_validate_repeats 1
for f in reference.h5 teacher.h5 checkpoint_teacher.h5 results.json predictions.h5; do
  [ -s "$out/$f" ] || fail "$f missing in the long -kd_out"
done
echo "solve, train, validate into a -kd_out of ${#out} characters: PASS"
