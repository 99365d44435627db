#!/bin/bash
# kdpinn import: another solver's level 0 becomes reference.h5 with the hierarchy.
#  - a closed-form field (Burgers axes t,x; and the cavity's three fields on y,x inside a group) round-trips: level 0
#    equals the input exactly, every coarse level the 2^d-cell averages of the input computed here (1e-14 relative:
#    the same additions in another order);
#  - reference.h5 is byte-identical at 1, 2 and 4 ranks;
#  - every bad input gives one line `kdpinn: error: ...` naming the problem, a non-zero exit, and no reference.h5.
set -euo pipefail
py=${KD_PYTHON:-/usr/bin/python3}
rm -rf imp-* good*.h5 bad*.h5
"$py" - <<'PY'
import h5py, numpy as np
def level(f, group, axes, coords, fields):
    g = f.require_group(group)
    g.attrs["axes"] = axes
    for name, c in coords.items(): g[name] = c
    for name, v in fields.items(): g[name] = v
def centres(n, lo, hi): return lo + (np.arange(n) + 0.5) * (hi - lo) / n
t, x = centres(16, 0.0, 1.0), centres(32, -1.0, 1.0)
T, X = np.meshgrid(t, x, indexing="ij")
u = np.sin(3 * X + T) * np.exp(-T) + 0.1 * X * X
with h5py.File("good-burgers.h5", "w") as f: level(f, "/", "t,x", {"t": t, "x": x}, {"u": u})
y, xc = centres(16, 0.0, 1.0), centres(16, 0.0, 1.0)
Y, XC = np.meshgrid(y, xc, indexing="ij")
with h5py.File("good-cavity.h5", "w") as f:
    level(f, "/run/step3", "y,x", {"y": y, "x": xc}, {"u": XC * Y, "v": np.cos(XC) - Y, "p": XC - 2 * Y * Y})
def bad(name, mutate):
    with h5py.File(name, "w") as f:
        c = {"t": t.copy(), "x": x.copy()}; v = {"u": u.copy()}; axes = "t,x"
        changed = mutate(c, v)
        if isinstance(changed, str): axes = changed
        level(f, "/", axes, c, v)
bad("bad-nonuniform.h5", lambda c, v: c["x"].__setitem__(5, c["x"][5] + 1e-3))
bad("bad-decreasing.h5", lambda c, v: c.__setitem__("x", c["x"][::-1].copy()))
bad("bad-missing-field.h5", lambda c, v: v.pop("u"))
bad("bad-extra-field.h5", lambda c, v: v.__setitem__("w", v["u"]))
bad("bad-shape.h5", lambda c, v: v.__setitem__("u", v["u"][:, :30]))
bad("bad-nan.h5", lambda c, v: v["u"].__setitem__((3, 4), np.nan))
bad("bad-inf.h5", lambda c, v: v["u"].__setitem__((15, 31), np.inf))
bad("bad-axes.h5", lambda c, v: "t,y")
bad("bad-dup-axes.h5", lambda c, v: "t,t")
bad("bad-axes-type.h5", lambda c, v: None)
with h5py.File("bad-axes-type.h5", "a") as f: f.attrs["axes"] = np.array([1.0, 2.0])
bad("bad-missing-coords.h5", lambda c, v: c.pop("x"))
with h5py.File("bad-no-axes.h5", "w") as f: f["u"] = u
# 18 cells in t: not divisible by 2^(3-1) = 4
t18 = centres(18, 0.0, 1.0); T18, X18 = np.meshgrid(t18, x, indexing="ij")
with h5py.File("bad-divisible.h5", "w") as f: level(f, "/", "t,x", {"t": t18, "x": x}, {"u": np.sin(X18 + T18)})
PY

fail=0
# Every coarse level equals the cell averages of the input (pairs along every axis), level 0 equals the input.
check_levels() { # file[:group] out levels
  "$py" - "$@" <<'PY'
import sys, h5py, numpy as np
spec, out, L = sys.argv[1], sys.argv[2], int(sys.argv[3])
fname, _, group = spec.partition(":")
with h5py.File(fname, "r") as f, h5py.File(out + "/reference.h5", "r") as r:
    g = f[group or "/"]
    axes = g.attrs["axes"]; axes = axes.decode() if isinstance(axes, bytes) else axes
    assert r.attrs["axes"].decode() if isinstance(r.attrs["axes"], bytes) else r.attrs["axes"] == axes
    src = r.attrs["source"]; src = src.decode() if isinstance(src, bytes) else src
    assert src.startswith("import "), src
    for name in [k for k in g.keys() if k not in axes.split(",")]:
        v = np.asarray(g[name], dtype=float)
        for l in range(L):
            w = np.asarray(r[f"level_{l}/{name}"])
            assert w.shape == v.shape, (l, name, w.shape, v.shape)
            err = np.max(np.abs(w - v)) / np.max(np.abs(v))
            assert err <= 1e-14, f"level {l} field {name}: {err:.2e}"
            for d in range(v.ndim):  # the next level: averages of pairs along every axis
                v = 0.5 * (np.take(v, range(0, v.shape[d], 2), axis=d) + np.take(v, range(1, v.shape[d], 2), axis=d))
print("levels ok:", spec)
PY
}
for np in 1 2 4; do
  "$MPIEXEC" -n $np "$KDPINN" import -kd_pde burgers -kd_import_file good-burgers.h5 -kd_levels 3 -kd_out imp-b$np > imp-b$np.log
  "$MPIEXEC" -n $np "$KDPINN" import -kd_pde cavity -cavity_re 400 -kd_import_file good-cavity.h5:/run/step3 -kd_levels 2 \
    -kd_out imp-c$np > imp-c$np.log
done
grep -q "^kdpinn import: good-burgers.h5, PDE burgers, axes t,x, level 0 16 x 32, 3 level(s)" imp-b1.log
check_levels good-burgers.h5 imp-b1 3
check_levels good-cavity.h5:/run/step3 imp-c1 2
for np in 2 4; do
  cmp imp-b1/reference.h5 imp-b$np/reference.h5 || { echo "FAIL: burgers reference.h5 differs at $np ranks"; fail=1; }
  cmp imp-c1/reference.h5 imp-c$np/reference.h5 || { echo "FAIL: cavity reference.h5 differs at $np ranks"; fail=1; }
done
# the PDE's parameters come from the options and are recorded; the .xmf sidecars are there
"$py" -c "import h5py; f = h5py.File('imp-c1/reference.h5'); assert f.attrs['Re'] == 400 and f.attrs['pde'] in (b'cavity', 'cavity')"
[ -e imp-b1/reference_L2.xmf ] && [ -e imp-c1/reference_L1.xmf ]
# kdpinn run keeps an imported reference: train and the rest run on it
"$KDPINN" run -kd_out imp-b1 -kd_levels 3 -teacher_widths 4 -teacher_ncol 64 -teacher_nic 8 -teacher_nbc 8 \
  -teacher_adam_steps 3 -teacher_lbfgs_steps 0 -student_widths 3 -student_ncol 32 -student_nic 4 -student_nbc 4 \
  -student_distill_ncell 16 -student_distill_ncol 16 -student_adam_steps 2 -student_distill_steps 1 -student_ramp_steps 1 \
  -student_lbfgs_steps 0 -kd_validate_figures false -kd_validate_repeats 1 > run.log
grep -q "reference.h5 was imported" run.log && ! grep -q "^kdpinn solve:" run.log
cmp imp-b1/reference.h5 imp-b2/reference.h5 || { echo "FAIL: kdpinn run changed the imported reference"; fail=1; }

# Bad inputs: one line, non-zero exit, no reference.h5
expect_error() { # pattern args...
  local pattern=$1; shift
  rm -rf imp-bad
  if "$MPIEXEC" -n 2 "$KDPINN" import -kd_levels 3 -kd_out imp-bad "$@" > bad.out 2> bad.err; then
    echo "FAIL: import $* succeeded"; fail=1; return
  fi
  # one line from kdpinn (rank 0 reports a collective error; mpiexec adds its own notice of the exit status)
  if [ "$(grep -c '^kdpinn' bad.err)" != 1 ] || ! grep -q "^kdpinn: error: .*$pattern" bad.err || grep -q "PETSC ERROR" bad.err; then
    echo "FAIL: expected one line with '$pattern' for: import $*"; cat bad.err; fail=1; return
  fi
  [ ! -e imp-bad/reference.h5 ] || { echo "FAIL: reference.h5 left behind by: import $*"; fail=1; return; }
  echo "ok: $* -> $(grep '^kdpinn' bad.err)"
}
expect_error "axis 'x' is not uniform" -kd_pde burgers -kd_import_file bad-nonuniform.h5
expect_error "coordinates of axis 'x' must increase" -kd_pde burgers -kd_import_file bad-decreasing.h5
expect_error "no field 'u'" -kd_pde burgers -kd_import_file bad-missing-field.h5
expect_error "'w' is neither an axis" -kd_pde burgers -kd_import_file bad-extra-field.h5
expect_error "field 'u' has 30 entries along axis 'x'" -kd_pde burgers -kd_import_file bad-shape.h5
expect_error "field 'u' is not finite" -kd_pde burgers -kd_import_file bad-nan.h5
expect_error "field 'u' is not finite .* at entry 511" -kd_pde burgers -kd_import_file bad-inf.h5
expect_error "axes 't,y' do not match the inputs 't,x'" -kd_pde burgers -kd_import_file bad-axes.h5
expect_error "axes 't,t' name 't' twice" -kd_pde burgers -kd_import_file bad-dup-axes.h5
expect_error "attribute 'axes' must be a string" -kd_pde burgers -kd_import_file bad-axes-type.h5
expect_error "no coordinate dataset for the axis 'x'" -kd_pde burgers -kd_import_file bad-missing-coords.h5
expect_error "no string attribute 'axes'" -kd_pde burgers -kd_import_file bad-no-axes.h5
expect_error "axis 't' has 18 cells, not divisible by 2^(kd_levels-1) = 4" -kd_pde burgers -kd_import_file bad-divisible.h5
expect_error "no such group" -kd_pde cavity -kd_import_file good-cavity.h5:/run/step4
expect_error "no such file" -kd_pde burgers -kd_import_file does-not-exist.h5
expect_error "axes 't,x' do not match the inputs 'x,y'" -kd_pde cavity -kd_import_file good-burgers.h5
expect_error "needs -kd_import_file" -kd_pde burgers
expect_error "-burgers_nu must be positive, got 0" -kd_pde burgers -burgers_nu 0 -kd_import_file good-burgers.h5
expect_error "unknown PDE 'navier'" -kd_pde navier -kd_import_file good-burgers.h5
[ $fail -eq 0 ] && echo "t103: import round trip, hierarchy, rank independence, kdpinn run keeps it, bad inputs refused"
exit $fail
