#!/bin/bash
# The Fisher-KPP solver through the driver: bad problem, tissue and grid options give exactly one line on stderr,
# "kdpinn: error: ..." naming the option or the file, a non-zero exit and no reference.h5; the same problem solved at 1,
# 2 and 3 ranks gives the same reference.h5 bit for bit (h5diff without a tolerance: the solver has no
# partition-dependent sum, solvers/fisher.c), in homogeneous and heterogeneous tissue; the file carries the problem
# and the t,y,x grid; in a sharp laminate the effective diffusivity D_eff is exact.
set -uo pipefail
fail=0

expect_error() { # expect_error <what the message must contain> <args...>
  local want=$1; shift
  rm -rf out-err
  "$KDPINN" solve -kd_pde fisher -kd_out out-err -fisher_n 16 -fisher_nt 4 "$@" > stdout.txt 2> stderr.txt
  local rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL: exit 0 for: $*"; fail=1; return; fi
  if [ "$(grep -c . stderr.txt)" -ne 1 ] || ! grep -qF -- "$want" stderr.txt || ! grep -q "^kdpinn: error: " stderr.txt; then
    echo "FAIL: expected one line 'kdpinn: error: ...$want...' for: $*"; cat stderr.txt; fail=1; return
  fi
  if [ -e out-err/reference.h5 ]; then echo "FAIL: reference.h5 written for: $*"; fail=1; return; fi
  echo "ok: $* -> $(cat stderr.txt)"
}

expect_error "-fisher_D must be positive" -fisher_D 0
expect_error "-fisher_D must be positive" -fisher_D -1e-3
expect_error "-fisher_rho must be positive" -fisher_rho 0
expect_error "-fisher_seed_x must be in [0, 1]" -fisher_seed_x 1.2
expect_error "-fisher_seed_y must be in [0, 1]" -fisher_seed_y -0.1
expect_error "-fisher_seed_amp must be in (0, 1]" -fisher_seed_amp 1.5
expect_error "-fisher_seed_width must be positive" -fisher_seed_width 0
expect_error "-fisher_tfinal must be positive" -fisher_tfinal 0
expect_error "-fisher_n" -fisher_n 1
expect_error "-fisher_nt" -fisher_nt 0
expect_error "-fisher_dt" -fisher_dt -0.1
expect_error "-fisher_white_ratio must be positive" -fisher_white_ratio 0
expect_error "cannot read" -fisher_tissue no-such-tissue.pgm
expect_error "-fisher_tissue must be none, laminate, disks or a PGM file" -fisher_tissue checkerboard
expect_error "-fisher_fraction must be in (0, 1)" -fisher_tissue laminate -fisher_fraction 1
expect_error "-fisher_eps must be 1/m for an integer m" -fisher_tissue laminate -fisher_eps 0.3
expect_error "-fisher_interface_width must be >= 0" -fisher_tissue disks -fisher_interface_width -0.1
expect_error "-fisher_disk_seed must be >= 0" -fisher_tissue disks -fisher_disk_seed -1
expect_error "-fisher_eps 0.25 does not divide the 50-cell grid of -fisher_n" -fisher_tissue laminate -fisher_n 50
expect_error "-fisher_cell_n must be in [4, 65536]" -fisher_tissue laminate -fisher_cell_n 2

# The effective diffusivity of a sharp laminate (white fraction 0.25, interfaces on the cell grid, ratio 4, D 2e-3): D times the harmonic mean of
# the diffusivities across the layers and the arithmetic mean along them, to 1e-10 relative (the cell problem's
# harmonic face means make it exact up to the solver tolerance, 1e-12), and zero off the diagonal; both orientations.
for o in x y; do
  rm -rf "lam-$o"
  if "$KDPINN" solve -kd_pde fisher -fisher_n 16 -fisher_nt 4 -kd_levels 2 -fisher_tissue laminate -fisher_orientation $o \
      -fisher_interface_width 0 -fisher_fraction 0.25 -fisher_white_ratio 4 -fisher_D 2e-3 -fisher_cell_n 64 \
      -kd_out "lam-$o" > "lam-$o.txt" 2>&1; then
    "$KD_PYTHON" - "$o" <<'PY' || fail=1
import h5py, sys
o = sys.argv[1]
a = h5py.File("lam-%s/reference.h5" % o, "r").attrs
D, f, r = 2e-3, 0.25, 4.0
harm, arith = D / ((1 - f) + f / r), D * ((1 - f) + f * r)
dxx, dyy = (harm, arith) if o == "x" else (arith, harm)
d = [float(v) for v in a["D_eff"]]
err = max(abs(d[0] - dxx) / dxx, abs(d[3] - dyy) / dyy, abs(d[1]) / dxx, abs(d[2]) / dxx)
ok = err <= 1e-10 and float(a["Dxx"]) == d[0] and float(a["Dyy"]) == d[3]
print("%s: laminate normal to %s: D_eff %s against [%.10g, 0, 0, %.10g], worst relative error %.1e" %
      ("ok" if ok else "FAIL", o, d, dxx, dyy, err))
sys.exit(0 if ok else 1)
PY
  else
    echo "FAIL: laminate solve ($o)"; cat "lam-$o.txt"; fail=1
  fi
done

# One problem at 1, 2 and 3 ranks: the seed off-centre so that no symmetry hides a partition error; homogeneous
# tissue, then white-matter disks (smooth) and the committed image (sharp).
same_at_ranks() { # same_at_ranks <name> <args...>
  local name=$1; shift
  for np in 1 2 3; do
    rm -rf "$name-$np"
    if ! "$MPIEXEC" -n $np --oversubscribe "$KDPINN" solve -kd_pde fisher -fisher_n 48 -fisher_nt 6 -kd_levels 2 \
        -fisher_seed_x 0.3 -fisher_seed_y 0.6 -fisher_D 2e-3 "$@" -kd_out "$name-$np" > "solve-$name-$np.txt" 2>&1; then
      echo "FAIL: $name: solve at $np rank(s)"; cat "solve-$name-$np.txt"; fail=1; return
    fi
  done
  for np in 2 3; do
    if h5diff "$name-1/reference.h5" "$name-$np/reference.h5" > diff.txt 2>&1; then
      echo "ok: $name: reference.h5 at $np ranks equals the 1-rank one bit for bit"
    else
      echo "FAIL: $name: reference.h5 at $np ranks differs from the 1-rank one"; head -20 diff.txt; fail=1
    fi
  done
}
same_at_ranks out
grep -q "D_eff" solve-out-1.txt && { echo "FAIL: D_eff printed in homogeneous tissue"; fail=1; }
same_at_ranks disks -fisher_tissue disks -fisher_white_ratio 4
same_at_ranks image -fisher_tissue "$KD_SOURCE_DIR/meshes/inclusion.pgm"
if [ -e out-1/reference.h5 ]; then
  "$KD_PYTHON" - <<'PY' || fail=1
import h5py, sys
f = h5py.File("out-1/reference.h5", "r")
a = f.attrs
dec = lambda v: v.decode() if isinstance(v, bytes) else str(v)
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what); ok = False
check(dec(a["pde"]) == "fisher", "pde attribute")
for name, v in [("D", 2e-3), ("rho", 5.0), ("seed_x", 0.3), ("seed_y", 0.6), ("seed_amp", 0.5), ("seed_width", 0.05),
                ("tfinal", 1.0), ("white_ratio", 5.0)]:
    check(name in a and abs(float(a[name]) - v) < 1e-15, "parameter " + name)
check(dec(a["tissue"]) == "none", "tissue attribute none")
check(dec(h5py.File("disks-1/reference.h5", "r").attrs["tissue"]).startswith("type disks"), "tissue attribute disks")
check(dec(f["level_0"].attrs["axes"]) == "t,y,x", "axes t,y,x")
check(f["level_0/u"].shape == (6, 48, 48) and f["level_1/u"].shape == (3, 24, 24), "field shapes")
u = f["level_0/u"][...]
# a density: between 0 and 1, growing (the logistic term) from its seed
check(u.min() >= 0 and u.max() <= 1 and u[-1].sum() > u[0].sum(), "u a growing density in [0, 1]")
# the maximum stays at the seed: cell (i, j) of the largest value near (0.3, 0.6)
j, i = divmod(int(u[-1].argmax()), 48)
check(abs((i + 0.5) / 48 - 0.3) < 1.5 / 48 and abs((j + 0.5) / 48 - 0.6) < 1.5 / 48, "maximum at the seed")
print("ok: reference.h5 carries pde, parameters, t,y,x grid; u a growing density centred on the seed" if ok else "")
sys.exit(0 if ok else 1)
PY
fi
exit $fail
