#!/bin/bash
# kdpinn solve -kd_reference_extrapolate: level 0 is the Richardson extrapolation of three solves (the solver grid, 2
# and 4 times coarser), cell by cell at the observed order (KDReferenceExtrapolate()).
#  - level 0 is the formula of KDReferenceExtrapolate() applied to three plain solves (-cavity_n 64 / 32 / 16 with
#    -kd_reference_coarsen 2 / 1 / 0: the same level-0 grid), to 1e-12 of the field's largest value (the same
#    arithmetic, up to the order of its operations; the solves inside the stage are the plain ones to round-off, so a
#    cell whose ratio s sits within round-off of 1 or 2 could take the other branch: none does here); level 1 is its
#    restriction; the root attribute `extrapolated` says 1 (0 without); the same for Burgers (t,x: its coarser
#    solves have fewer snapshots as well as cells) and heat (t,y,x; its default time step follows the snapshots);
#  - on the cavity's manufactured solution (smooth, the solver second order) the extrapolation is closer to the exact
#    cell averages than the finest solve by at least 8x for u, v and p (measured 16x, 23x and 44x at 64 cells: the
#    order rises from 2 towards 4; 8 leaves a margin for CPUs and rank counts), and the error the stage prints for the
#    finest solve is its actual error within a factor 1.5 (measured 0.97-1.01);
#  - -kd_reference_coarsen below 2 is one line `kdpinn: error: ...`, a non-zero exit, no reference.h5, nothing solved.
set -uo pipefail
py=${KD_PYTHON:-/usr/bin/python3}
fail=0
rm -rf ex p16 p32 p64 out-err bex b1 b2 b4 hex h1 h2 h4
grid=(-kd_pde cavity -cavity_mms -kd_levels 2)

"$MPIEXEC" -n 2 "$KDPINN" solve "${grid[@]}" -cavity_n 64 -kd_reference_coarsen 2 -kd_reference_extrapolate \
  -kd_reference_view -kd_out ex > ex.log 2>&1 || { echo "FAIL: extrapolated solve"; cat ex.log; exit 1; }
grep -q "level 0 = the Richardson extrapolation" ex.log || { echo "FAIL: -kd_reference_view"; fail=1; }
for k in 0 1 2; do
  n=$((16 << k))
  "$MPIEXEC" -n 2 "$KDPINN" solve "${grid[@]}" -cavity_n $n -kd_reference_coarsen $k -kd_out p$n > p$n.log 2>&1 ||
    { echo "FAIL: plain solve on $n cells"; cat p$n.log; exit 1; }
done
# Burgers and heat: the stage against the formula on three plain solves (level 0 only)
burgers=(-kd_pde burgers -kd_levels 1)
heat=(-kd_pde heat -kd_levels 1 -heat_microstructure "$KD_SOURCE_DIR/meshes/inclusions.txt")
"$MPIEXEC" -n 2 "$KDPINN" solve "${burgers[@]}" -burgers_nx 512 -burgers_nt 64 -kd_reference_coarsen 2 \
  -kd_reference_extrapolate -kd_out bex > bex.log 2>&1 || { echo "FAIL: extrapolated Burgers solve"; cat bex.log; exit 1; }
"$MPIEXEC" -n 2 "$KDPINN" solve "${heat[@]}" -heat_n 64 -heat_nt 16 -kd_reference_coarsen 2 \
  -kd_reference_extrapolate -kd_out hex > hex.log 2>&1 || { echo "FAIL: extrapolated heat solve"; cat hex.log; exit 1; }
for d in 1 2 4; do
  k=$((d == 1 ? 2 : (d == 2 ? 1 : 0)))
  "$MPIEXEC" -n 2 "$KDPINN" solve "${burgers[@]}" -burgers_nx $((512 / d)) -burgers_nt $((64 / d)) \
    -kd_reference_coarsen $k -kd_out b$d > b$d.log 2>&1 || { echo "FAIL: Burgers solve /$d"; cat b$d.log; exit 1; }
  "$MPIEXEC" -n 2 "$KDPINN" solve "${heat[@]}" -heat_n $((64 / d)) -heat_nt $((16 / d)) \
    -kd_reference_coarsen $k -kd_out h$d > h$d.log 2>&1 || { echo "FAIL: heat solve /$d"; cat h$d.log; exit 1; }
done
"$py" - <<'PY' || fail=1
import h5py, numpy as np
for ex, plain in (("bex", "b"), ("hex", "h")):
    c1, c2, c3 = (h5py.File(f"{plain}{d}/reference.h5", "r")["level_0/u"][...] for d in (1, 2, 4))
    d = c1 - c2
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (c2 - c3) / d
    want = np.where(np.isfinite(s) & (s > 1), c1 + d / (np.maximum(s, 2) - 1), c1)
    with h5py.File(f"{ex}/reference.h5", "r") as f:
        got = f["level_0/u"][...]
        assert int(f.attrs["extrapolated"]) == 1
    assert got.shape == want.shape and np.abs(got - want).max() <= 1e-12 * np.abs(want).max(), (ex, got.shape)
    print(f"{ex}: level 0 {got.shape} = the formula on the three plain solves")
PY
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
