#!/bin/bash
# kdpinn solve -kd_reference_extrapolate: level 0 is the Richardson extrapolation of three solves (the solver grid, 2
# and 4 times coarser), cell by cell at the observed order (KDReferenceExtrapolate()).
#  - level 0 is the formula of KDReferenceExtrapolate() applied to three plain solves (-cavity_n 64 / 32 / 16 with
#    -kd_reference_coarsen 2 / 1 / 0: the same level-0 grid), to 1e-12 of the field's largest value (the same
#    arithmetic, up to the order of its operations); level 1 is its restriction; the root attribute `extrapolated` says
#    1 (0 without);
#  - on the cavity's manufactured solution (smooth, the solver second order) the extrapolation is closer to the exact
#    cell averages than the finest solve by at least 8x for u, v and p (measured 16x, 23x and 44x at 64 cells: the
#    order rises from 2 towards 4; 8 leaves a margin for CPUs and rank counts), and the error the stage prints for the
#    finest solve is its actual error within a factor 1.5 (measured 0.97-1.01);
#  - -kd_reference_coarsen below 2 is one line `kdpinn: error: ...`, a non-zero exit, no reference.h5, nothing solved.
set -uo pipefail
py=${KD_PYTHON:-/usr/bin/python3}
fail=0
rm -rf ex p16 p32 p64 out-err
grid=(-kd_pde cavity -cavity_mms -kd_levels 2)

"$MPIEXEC" -n 2 "$KDPINN" solve "${grid[@]}" -cavity_n 64 -kd_reference_coarsen 2 -kd_reference_extrapolate \
  -kd_reference_view -kd_out ex > ex.log 2>&1 || { echo "FAIL: extrapolated solve"; cat ex.log; exit 1; }
grep -q "level 0 = the Richardson extrapolation" ex.log || { echo "FAIL: -kd_reference_view"; fail=1; }
for k in 0 1 2; do
  n=$((16 << k))
  "$MPIEXEC" -n 2 "$KDPINN" solve "${grid[@]}" -cavity_n $n -kd_reference_coarsen $k -kd_out p$n > p$n.log 2>&1 ||
    { echo "FAIL: plain solve on $n cells"; cat p$n.log; exit 1; }
done
"$py" - <<'PY' || fail=1
import re
import h5py, numpy as np

A, a, b, B = 0.25, 0.7, -0.4, 0.5  # the manufactured solution of solvers/cavity.c (KD_CAVITY_MMS_*)


def F(s, c):  # an antiderivative of exp(c s) sin(pi s)
    return np.exp(c * s) * (c * np.sin(np.pi * s) - np.pi * np.cos(np.pi * s)) / (c * c + np.pi ** 2)


def E(s, c):
    return np.exp(c * s) * np.sin(np.pi * s)


def exact(n):
    """Cell averages of u = psi_y, v = -psi_x, p on n x n cells, rows y (psi = A exp(a x) sin(pi x) exp(b y) sin(pi y))."""
    e, h = np.linspace(0, 1, n + 1), 1.0 / n
    d = lambda f, c: f(e[1:], c) - f(e[:-1], c)
    s = (np.sin(np.pi * e[1:]) - np.sin(np.pi * e[:-1])) / np.pi
    return {"u": A * np.outer(d(E, b), d(F, a)) / h ** 2, "v": -A * np.outer(d(F, b), d(E, a)) / h ** 2,
            "p": B * np.outer(s, s) / h ** 2}


f = {d: h5py.File(f"{d}/reference.h5", "r") for d in ("ex", "p16", "p32", "p64")}
assert int(f["ex"].attrs["extrapolated"]) == 1 and int(f["p64"].attrs["extrapolated"]) == 0
assert int(f["ex"].attrs["coarsened"]) == 2
printed = dict(re.findall(r"^  (\w): the finest solve is (\S+) from the extrapolation", open("ex.log").read(), re.M))
assert sorted(printed) == ["p", "u", "v"], printed
ex = exact(16)
for name in ("u", "v", "p"):
    c3, c2, c1 = (f[d]["level_0"][name][...] for d in ("p16", "p32", "p64"))
    d = c1 - c2
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (c2 - c3) / d
    ok = np.isfinite(s) & (s > 1)
    want = np.where(ok, c1 + d / (np.maximum(s, 2) - 1), c1)
    got = f["ex"]["level_0"][name][...]
    scale = np.abs(want).max()
    assert np.abs(got - want).max() <= 1e-12 * scale, (name, np.abs(got - want).max())
    coarse = f["ex"]["level_1"][name][...]
    assert np.abs(coarse - got.reshape(8, 2, 8, 2).mean(axis=(1, 3))).max() <= 1e-12 * scale, name
    t = ex[name]
    rel = lambda m: np.linalg.norm((m - m.mean() + t.mean() if name == "p" else m) - t) / np.linalg.norm(t)
    e_plain, e_ex = rel(c1), rel(got)
    print(f"{name}: finest solve {e_plain:.3e}, extrapolated {e_ex:.3e} ({e_plain / e_ex:.1f}x), "
          f"estimate printed {printed[name]}")
    assert e_ex * 8 <= e_plain, f"{name}: the extrapolation gains less than 8x"
    assert 1 / 1.5 <= float(printed[name]) / e_plain <= 1.5, f"{name}: the printed estimate is off"
PY

# refusal: fewer than two coarsenings, one line, nothing written
if "$MPIEXEC" -n 2 "$KDPINN" solve "${grid[@]}" -cavity_n 64 -kd_reference_coarsen 1 -kd_reference_extrapolate \
  -kd_monitor -kd_out out-err > err.out 2> err.err; then
  echo "FAIL: -kd_reference_coarsen 1 accepted"; fail=1
fi
if [ "$(grep -c '^kdpinn' err.err)" != 1 ] ||
  ! grep -q "^kdpinn: error: -kd_reference_extrapolate needs -kd_reference_coarsen 2 or more" err.err ||
  [ -e out-err/reference.h5 ] || grep -q "^cavity" err.out; then
  echo "FAIL: expected one line and nothing solved:"; cat err.out err.err; fail=1
fi
[ $fail = 0 ] && echo "t107: the extrapolated reference is the three solves' Richardson extrapolation, closer to the exact solution"
exit $fail
