#!/bin/bash
# The heat solver through the driver: bad microstructure files and bad -heat_* options give exactly one line on
# stderr, "kdpinn: error: ..." naming the file and line or the option, and a non-zero exit; a small 2-rank solve
# writes a reference.h5 that carries the problem (pde, parameters, microstructure string) and the t,y,x grid.
set -uo pipefail
fail=0
ms="$KD_SOURCE_DIR/meshes/inclusions.txt"

expect_error() { # expect_error <what the message must contain> <args...>
  local want=$1; shift
  rm -rf out-err
  "$KDPINN" solve -kd_pde heat -kd_out out-err -heat_n 16 -heat_nt 4 "$@" > stdout.txt 2> stderr.txt
  local rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL: exit 0 for: $*"; fail=1; return; fi
  if [ "$(grep -c . stderr.txt)" -ne 1 ] || ! grep -qF -- "$want" stderr.txt || ! grep -q "^kdpinn: error: " stderr.txt; then
    echo "FAIL: expected one line 'kdpinn: error: ...$want...' for: $*"; cat stderr.txt; fail=1; return
  fi
  if [ -e out-err/reference.h5 ]; then echo "FAIL: reference.h5 written for: $*"; fail=1; return; fi
  echo "ok: $* -> $(cat stderr.txt)"
}

printf 'k0 1\n# a comment\n0.5 0.5 0.1\n' > bad-line.txt
printf 'k0 1\n0.5 0.5 0.2 -0.8\n0.5 0.5 0.2 -0.8\n' > overlap.txt
expect_error "microstructure bad-line.txt line 3" -heat_microstructure bad-line.txt
expect_error "cannot read microstructure file no-such.txt" -heat_microstructure no-such.txt
expect_error "microstructure overlap.txt: k = " -heat_microstructure overlap.txt
expect_error "-heat_n" -heat_microstructure "$ms" -heat_n 1
expect_error "-heat_nt" -heat_microstructure "$ms" -heat_nt 0
expect_error "-heat_tfinal" -heat_microstructure "$ms" -heat_tfinal -1
expect_error "-heat_dt" -heat_microstructure "$ms" -heat_dt -0.1
expect_error "-heat_source_width" -heat_microstructure "$ms" -heat_source_width 0
expect_error "-heat_source_x" -heat_microstructure "$ms" -heat_source_x 1.5

# A small solve on 2 ranks and what reference.h5 carries.
rm -rf out
if ! "$MPIEXEC" -n 2 "$KDPINN" solve -kd_pde heat -heat_microstructure "$ms" -heat_n 32 -heat_nt 8 -kd_levels 2 -kd_out out > solve.txt 2>&1; then
  echo "FAIL: 2-rank solve"; cat solve.txt; fail=1
else
  "$KD_PYTHON" - <<'PY' || fail=1
import h5py, sys
f = h5py.File("out/reference.h5", "r")
a = f.attrs
dec = lambda v: v.decode() if isinstance(v, bytes) else str(v)
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what); ok = False
check(dec(a["pde"]) == "heat", "pde attribute")
for name in ["k0", "tfinal", "manufactured", "source_amplitude", "source_x", "source_y", "source_width"]:
    check(name in a, "parameter " + name)
check("microstructure" in a and dec(a["microstructure"]).startswith("k0 1\n"), "microstructure string")
check(dec(f["level_0"].attrs["axes"]) == "t,y,x", "axes t,y,x")
check(f["level_0/u"].shape == (8, 32, 32) and f["level_1/u"].shape == (4, 16, 16), "field shapes")
t = f["level_0/t"][...]
check(abs(t[0] - 0.1 / 16) < 1e-15 and abs(t[-1] - 0.1 * 15 / 16) < 1e-15, "snapshot times (k + 1/2) tfinal / nt")
print("ok: reference.h5 carries pde, parameters, microstructure, t,y,x grid" if ok else "")
sys.exit(0 if ok else 1)
PY
fi
exit $fail
