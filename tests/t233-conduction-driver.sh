#!/bin/bash
# The conduction solver through the driver: bad microstructures and -conduction_* options give exactly one line on
# stderr, "kdpinn: error: ..." naming the option or the file, a non-zero exit and no reference.h5; a 2-rank solve of
# the committed image (meshes/inclusion.pgm) writes a reference.h5 with the y,x grid, the microstructure string and
# the root array K_eff (4 values, symmetric, the line the solver printed); -teacher_conduction_interface_features on
# that image (no grid-aligned interfaces) stops train with one line, and so do -teacher_conduction_corner_features and
# -teacher_conduction_corner_refine 2 (a checkerboard's corners), and -teacher_conduction_corner_refine 0.5 (below 1).
set -uo pipefail
fail=0
img="$KD_SOURCE_DIR/meshes/inclusion.pgm"

expect_error() { # expect_error <what the message must contain> <args...>
  local want=$1; shift
  rm -rf out-err
  "$KDPINN" solve -kd_pde conduction -kd_out out-err -conduction_n 32 -conduction_cell_n 16 -kd_levels 1 "$@" \
    > stdout.txt 2> stderr.txt
  local rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL: exit 0 for: $*"; fail=1; return; fi
  if [ "$(grep -c . stderr.txt)" -ne 1 ] || ! grep -qF -- "$want" stderr.txt || ! grep -q "^kdpinn: error: " stderr.txt; then
    echo "FAIL: expected one line 'kdpinn: error: ...$want...' for: $*"; cat stderr.txt; fail=1; return
  fi
  if [ -e out-err/reference.h5 ]; then echo "FAIL: reference.h5 written for: $*"; fail=1; return; fi
  echo "ok: $* -> $(cat stderr.txt)"
}

printf 'P2\n2 2\n255\n0 0\n0 0\n' > black.pgm
expect_error "cannot read microstructure image lamnate: No such file or directory" -conduction_microstructure lamnate
expect_error "microstructure image black.pgm: every pixel is phase 1" -conduction_microstructure black.pgm
expect_error "-conduction_k1 must be positive, got -1" -conduction_k1 -1
expect_error "-conduction_fraction must be in (0, 1), got 1.5" -conduction_microstructure laminate -conduction_fraction 1.5
expect_error "-conduction_eps must be 1/m for an integer m, got 0.3" -conduction_eps 0.3
expect_error "-conduction_eps 0.125 does not divide the 100-cell grid of -conduction_n: eps N must be an integer" \
  -conduction_n 100
expect_error "does not divide the 24-cell grid of level 2 of -conduction_n" -conduction_n 96 -conduction_eps 0.0625 \
  -kd_levels 3
expect_error "-conduction_cell_n must be in [4, 65536], got 2" -conduction_cell_n 2

# A small solve of the image on 2 ranks, and what reference.h5 carries.
rm -rf out
if ! "$MPIEXEC" -n 2 "$KDPINN" solve -kd_pde conduction -conduction_microstructure "$img" -conduction_eps 0.25 \
     -conduction_n 64 -conduction_cell_n 64 -kd_levels 2 -kd_out out -kd_monitor > solve.txt 2>&1; then
  echo "FAIL: 2-rank solve"; cat solve.txt; fail=1
else
  cat solve.txt
  grep -q "^conduction: K_eff (cell problem, 64^2 cells) = \[\[" solve.txt || { echo "FAIL: no K_eff line"; fail=1; }
  "$KD_PYTHON" - <<'PY' || fail=1
import h5py, re, sys
f = h5py.File("out/reference.h5", "r")
a = f.attrs
dec = lambda v: v.decode() if isinstance(v, bytes) else str(v)
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what); ok = False
check(dec(a["pde"]) == "conduction", "pde attribute")
check("microstructure" in a and dec(a["microstructure"]).startswith("type image\n"), "microstructure string")
K = a["K_eff"]
check(K.shape == (4,), "K_eff is an array of 4 values")
check(K[1] == K[2] and K[0] > 0 and K[3] > 0 and K[0] * K[3] > K[1] * K[2], "K_eff symmetric positive definite")
line = [l for l in open("solve.txt") if l.startswith("conduction: K_eff")][0]
printed = [float(v) for v in re.findall(r"[-+0-9.e]+(?=[],])", line.split("=")[1])]
check(len(printed) == 4 and all(abs(p - k) <= 1e-9 * abs(K[0]) for p, k in zip(printed, K)), "printed K_eff")
check(dec(f["level_0"].attrs["axes"]) == "y,x", "axes y,x")
check(f["level_0/u"].shape == (64, 64) and f["level_1/u"].shape == (32, 32), "field shapes")
print("ok: reference.h5 carries pde, microstructure, K_eff =", list(K), "and the y,x grid" if ok else "")
sys.exit(0 if ok else 1)
PY
  # The interfaces' features need grid-aligned interfaces, the corner modes a checkerboard: on the image, train stops
  # with one line and no teacher.
  # So does collocation graded towards the corners, and a grading exponent below 1 anywhere.
  for feat in "interface_features|: laminate and checkerboard" "corner_features|: a checkerboard's corners" \
    "corner_refine 2|: a checkerboard's corners" "corner_refine 0.5| must be in \[1, 8\], got 0.5"; do
    opt="-teacher_conduction_${feat%%|*}"
    name=${opt%% *}
    # shellcheck disable=SC2086 # the option and its value, if any, are two words
    "$KDPINN" train -kd_pde conduction -kd_out out $opt -teacher_adam_steps 1 -teacher_lbfgs_steps 0 \
      > train.txt 2> train-err.txt && { echo "FAIL: $opt accepted on an image"; fail=1; }
    if [ "$(grep -c . train-err.txt)" -ne 1 ] || ! grep -q "^kdpinn: error: $name${feat#*|}" train-err.txt ||
      [ -e out/teacher.h5 ]; then
      echo "FAIL: $opt on an image: expected one error line and no teacher.h5"; cat train-err.txt; fail=1
    else
      echo "ok: $opt on an image -> $(cat train-err.txt)"
    fi
  done
fi
exit $fail
