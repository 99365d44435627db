#!/bin/bash
# At 2 ranks every bad input is reported in one line, by rank 0, however many ranks find it: errors found before MPI
# starts (an unknown stage, an options file that includes itself), option values PETSc cannot parse (which must name
# the option, not only the value), damaged files that every rank reads alike (reference.h5, a model file with an
# attribute missing or a flipped byte in a weight), and a teacher that does not fit the reference (another PDE
# parameter, an input box that does not cover the domain).
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
rm -rf out good bad-ref bad-model flip nu box; mkdir -p out

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
import numpy as np
# a flipped byte in a weight: found by the model file's checksum
for d in ["flip", "nu", "box"]:
    import os; os.makedirs(d, exist_ok=True)
    shutil.copy("good/reference.h5", d + "/reference.h5"); shutil.copy("good/teacher.h5", d + "/teacher.h5")
with h5py.File("flip/teacher.h5", "r") as f: off = f["layer_1/W"].id.get_offset()
with open("flip/teacher.h5", "r+b") as f:
    f.seek(off + 3); b = f.read(1); f.seek(off + 3); f.write(bytes([b[0] ^ 0x10]))
# a reference of another viscosity than the teacher was trained with
with h5py.File("nu/reference.h5", "a") as f: f.attrs["nu"] = 2 * f.attrs["nu"]
# a teacher (without a checksum, as another tool may write it) whose box ends before the domain does
with h5py.File("box/teacher.h5", "a") as f:
    del f.attrs["checksum"]; hi = f.attrs["input_hi"]; hi[0] = 0.5 * hi[0]; f.attrs["input_hi"] = hi
PYEOF
once "bad-ref/reference.h5: attribute 'axes' missing" validate "${tiny[@]}" -kd_out bad-ref
once "model file flip/teacher.h5: checksum mismatch" distill "${tiny[@]}" -kd_out flip
once "nu/teacher.h5 was trained with nu = 0.0031830988618379071, but nu/reference.h5 holds 0.0063661977236758142" distill "${tiny[@]}" -kd_out nu
once "box/teacher.h5 covers .* on input 0, but the domain of box/reference.h5 is" distill "${tiny[@]}" -kd_out box
once "model file bad-model/teacher.h5: attribute 'widths' missing" distill "${tiny[@]}" -kd_out bad-model
exit $fail
