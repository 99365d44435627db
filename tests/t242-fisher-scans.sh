#!/bin/bash
# Scans of a tumour (jobs/tumour-scans.py) from a small fisher reference: without noise a scan at a snapshot time is
# the pixel means of that snapshot and one between two snapshots their linear interpolation (to 1e-15); the pixel
# centres and the attributes are those of the observation format; 2% noise has a standard deviation within 15% of
# 0.02 (512 samples: the estimate's own spread is 3%); bad input (a time outside the snapshots, pixels that do not
# divide the grid) is one line and a non-zero exit, and no file; a training on scans taken after -fisher_tfinal is
# refused in one line; jobs/tumour-forecast.py finds a reference exact against itself and refuses another grid.
set -uo pipefail
fail=0
scans="$KD_SOURCE_DIR/jobs/tumour-scans.py"

rm -rf ref
if ! "$KDPINN" solve -kd_pde fisher -fisher_n 32 -fisher_nt 8 -kd_levels 1 -kd_out ref > solve.txt 2>&1; then
  echo "FAIL: solve"; cat solve.txt; exit 1
fi
# snapshot times (k + 1/2) / 8: t_3 = 0.4375; between t_5 = 0.6875 and t_6 = 0.8125 at 0.75
"$KD_PYTHON" "$scans" ref/reference.h5 clean.h5 --times 0.4375,0.75 --pixels 16 --noise 0 > scans.txt 2>&1 || { echo "FAIL: scans"; cat scans.txt; fail=1; }
"$KD_PYTHON" "$scans" ref/reference.h5 noisy.h5 --times 0.4375,0.75 --pixels 16 --noise 0.02 --seed 3 > scans.txt 2>&1 || { echo "FAIL: noisy scans"; cat scans.txt; fail=1; }
"$KD_PYTHON" - <<'PY' || fail=1
import h5py, numpy as np, sys
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond
u = h5py.File("ref/reference.h5", "r")["level_0/u"][...]
img = u.reshape(8, 16, 2, 16, 2).mean(axis=(2, 4))
c = h5py.File("clean.h5", "r")
p, v = c["points"][...], c["values"][...]
dec = lambda s: s.decode() if isinstance(s, bytes) else str(s)
check(p.shape == (512, 3) and v.shape == (512, 1), "512 pixels in two scans, points t,x,y and values u")
check(dec(c.attrs["inputs"]) == "t,x,y" and dec(c.attrs["outputs"]) == "u" and "sigma" not in c.attrs,
      "attributes inputs, outputs, no sigma without noise")
check(np.allclose(p[:256, 0], 0.4375) and np.allclose(p[256:, 0], 0.75), "scan times")
xc = (np.arange(16) + 0.5) / 16
check(np.abs(p[:16, 1] - xc).max() < 1e-15 and np.abs(p[::16, 2][:16] - xc).max() < 1e-15, "pixel centres, x fastest")
check(np.abs(v[:256, 0] - img[3].ravel()).max() < 1e-15, "a scan at a snapshot time is its pixel means")
check(np.abs(v[256:, 0] - 0.5 * (img[5] + img[6]).ravel()).max() < 1e-15, "between two snapshots, their mean")
n = h5py.File("noisy.h5", "r")
s = float(np.std(n["values"][...] - v))
check(abs(s / 0.02 - 1) < 0.15 and float(n.attrs["sigma"]) == 0.02, "noise standard deviation %.4f (0.02)" % s)
sys.exit(0 if ok else 1)
PY

expect_fail() { # expect_fail <what the message must contain> <args...>
  local want=$1; shift
  rm -f bad.h5
  "$KD_PYTHON" "$scans" ref/reference.h5 bad.h5 "$@" > out.txt 2>&1
  local rc=$?
  if [ $rc -eq 0 ] || [ "$(grep -c . out.txt)" -ne 1 ] || ! grep -qF -- "$want" out.txt || [ -e bad.h5 ]; then
    echo "FAIL: expected one line '...$want...', a non-zero exit and no file for: $*"; cat out.txt; fail=1; return
  fi
  echo "ok: $* -> $(cat out.txt)"
}
expect_fail "scan time 1.5 is outside the stored snapshots" --times 0.5,1.5
expect_fail "--pixels 5 does not divide the 32 x 32 cells" --times 0.5 --pixels 5
expect_fail "--noise must be >= 0" --times 0.5 --noise -1

# the forecast comparison (jobs/tumour-forecast.py): a reference against itself is exact; other grids are refused
fc="$KD_SOURCE_DIR/jobs/tumour-forecast.py"
if "$KD_PYTHON" "$fc" ref/reference.h5 ref/reference.h5 --from 0 > fc.txt 2>&1 && [ "$(grep -c 'relative L2 0.000e+00' fc.txt)" -eq 8 ]; then
  echo "ok: forecast of a reference against itself: 8 snapshots, error 0"
else
  echo "FAIL: forecast of a reference against itself"; cat fc.txt; fail=1
fi
"$KDPINN" solve -kd_pde fisher -fisher_n 16 -fisher_nt 8 -kd_levels 1 -kd_out ref16 > /dev/null 2>&1
if "$KD_PYTHON" "$fc" ref/reference.h5 ref16/reference.h5 > fc.txt 2>&1 || ! grep -q "not on the same grid" fc.txt; then
  echo "FAIL: forecast on different grids not refused"; cat fc.txt; fail=1
else
  echo "ok: $(cat fc.txt)"
fi

# scans after the end of the problem the training poses: one line from kdpinn
rm -rf late
"$KDPINN" train -kd_pde fisher -fisher_tfinal 0.5 -teacher_observations clean.h5 -teacher_adam_steps 1 \
  -teacher_lbfgs_steps 0 -kd_out late > out.txt 2> err.txt
if [ $? -eq 0 ] || [ "$(grep -c . err.txt)" -ne 1 ] || ! grep -q "lies outside the domain" err.txt; then
  echo "FAIL: scans after -fisher_tfinal not refused in one line"; cat err.txt; fail=1
else
  echo "ok: scans after -fisher_tfinal -> $(cat err.txt)"
fi
exit $fail
