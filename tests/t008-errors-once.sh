#!/bin/bash
# At 2 ranks every bad input is reported in one line, by rank 0, however many ranks find it: errors found before MPI
# starts (an unknown stage, an options file that includes itself), option values PETSc cannot parse (which must name
# the option, not only the value), and damaged files that every rank reads alike (reference.h5, a model file).
set -u
fail=0
once() { # once <what the one line must contain> <stage and options...>
  local want=$1; shift
  "$MPIEXEC" -n 2 "$KDPINN" "$@" > stdout.txt 2> stderr.txt && { echo "FAIL: exit 0 for: $*"; fail=1; return; }
  if [ "$(grep -c '^kdpinn: error:' stderr.txt)" -ne 1 ] || ! grep -q -- "^kdpinn: error: .*$want" stderr.txt; then
    echo "FAIL: expected one line 'kdpinn: error: ...$want...' for: $*"; cat stderr.txt; fail=1; return
  fi
  echo "ok: $* -> $(grep '^kdpinn: error:' stderr.txt)"
}
tiny=(-kd_pde burgers -kd_levels 2 -burgers_nx 64 -burgers_nt 32)
rm -rf out good bad-ref bad-model; mkdir -p out

once "unknown stage 'frobnicate'" frobnicate
[ "$(grep -c '^Stages:' stderr.txt)" -eq 1 ] || { echo "FAIL: the usage is printed $(grep -c '^Stages:' stderr.txt) times"; fail=1; }
echo "-options_file $PWD/self.opts" > self.opts
once "includes itself" solve -options_file "$PWD/self.opts" -kd_out out

# PETSc's own parsers name the value only; the line names the option.
once "-burgers_nx 12abc: not an integer" solve "${tiny[@]}" -burgers_nx 12abc -kd_out out
once "-burgers_nx 1.5: not an integer" solve "${tiny[@]}" -burgers_nx 1.5 -kd_out out
once "-burgers_nu fast: not a number" solve "${tiny[@]}" -burgers_nu fast -kd_out out
once "-kd_force maybe: not a truth value" solve "${tiny[@]}" -kd_force maybe -kd_out out
[ -z "$(ls out)" ] || { echo "FAIL: output left behind: $(ls out)"; fail=1; }

# Files every rank reads alike: the line names the file.
"$MPIEXEC" -n 2 "$KDPINN" solve "${tiny[@]}" -kd_out good > solve.log 2>&1 || { cat solve.log; echo "FAIL: solve"; exit 1; }
"$MPIEXEC" -n 2 "$KDPINN" train "${tiny[@]}" -kd_out good -teacher_widths 8,8 -teacher_ncol 200 -teacher_adam_steps 5 \
  -teacher_lbfgs_steps 0 > train.log 2>&1 || { cat train.log; echo "FAIL: train"; exit 1; }
once "-teacher_widths 20,x: x is not an integer" train "${tiny[@]}" -teacher_widths 20,x -kd_out good -kd_force
mkdir -p bad-ref bad-model
cp good/teacher.h5 bad-ref/ && cp good/reference.h5 bad-model/
"$KD_PYTHON" - << 'PYEOF' || { echo "FAIL: damaging the files"; exit 1; }
import h5py, shutil
shutil.copy("good/reference.h5", "bad-ref/reference.h5")
with h5py.File("bad-ref/reference.h5", "a") as f: del f.attrs["axes"]
shutil.copy("good/teacher.h5", "bad-model/teacher.h5")
with h5py.File("bad-model/teacher.h5", "a") as f: del f.attrs["widths"]
PYEOF
once "bad-ref/reference.h5: attribute 'axes' missing" validate "${tiny[@]}" -kd_out bad-ref
once "model file bad-model/teacher.h5: attribute 'widths' missing" distill "${tiny[@]}" -kd_out bad-model
exit $fail
