#!/bin/bash
# kdpinn solve -kd_reference_coarsen K: level 0 of reference.h5 is the solver grid coarsened K times.
#  - level l of a K = 1 reference is level l + 1 of the same solve without coarsening, to the bit (the same additions in
#    the same order), and the root attribute `coarsened` says 1 (0 without);
#  - kdpinn validate compares the teacher on level 0 of a coarsened reference by its cell averages (results.json
#    "evaluation": "cell_average" with point errors beside it, in the schema; "point" on the plain reference), and
#    -kd_monitor_error during training prints the error validate gives (both printed to 4 digits: the same number).
#    The coarsened reference of these checks has cells so large (4 x 16 on level 0) that the teacher's point values
#    and cell averages differ in those 4 digits, which the test checks first: a monitor still comparing points fails;
#  - kdpinn import -kd_reference_coarsen 1 of the plain solve's level 0 writes the levels and the attribute of the
#    coarsened solve, to the bit;
#  - a negative K, and a K the grid cannot take (also with one level), are one line `kdpinn: error: ...`, a non-zero
#    exit, no reference.h5, and nothing solved (nothing imported).
set -uo pipefail
py=${KD_PYTHON:-/usr/bin/python3}
fail=0
rm -rf plain coarse coarse3 imported out-err
grid=(-kd_pde burgers -burgers_nx 128 -burgers_nt 32)
teacher=(-teacher_widths 8,8 -teacher_ncol 256 -teacher_nbc 32 -teacher_adam_steps 40 -teacher_lbfgs_steps 0)

"$MPIEXEC" -n 2 "$KDPINN" solve "${grid[@]}" -kd_levels 3 -kd_out plain > plain.log 2>&1 ||
  { echo "FAIL: plain solve"; cat plain.log; exit 1; }
"$MPIEXEC" -n 2 "$KDPINN" solve "${grid[@]}" -kd_levels 2 -kd_reference_coarsen 1 -kd_out coarse -kd_reference_view \
  > coarse.log 2>&1 || { echo "FAIL: coarsened solve"; cat coarse.log; exit 1; }
grep -q "level 0 = the solver grid coarsened 1 time(s)" coarse.log || { echo "FAIL: -kd_reference_view"; fail=1; }
"$MPIEXEC" -n 2 "$KDPINN" solve "${grid[@]}" -kd_levels 1 -kd_reference_coarsen 3 -kd_out coarse3 > coarse3.log 2>&1 ||
  { echo "FAIL: solve coarsened 3 times"; cat coarse3.log; exit 1; }
"$MPIEXEC" -n 2 "$KDPINN" import -kd_pde burgers -kd_import_file plain/reference.h5:/level_0 -kd_levels 2 \
  -kd_reference_coarsen 1 -kd_out imported > imported.log 2>&1 || { echo "FAIL: import"; cat imported.log; exit 1; }
grep -q "level 0 16 x 64 (the imported grid coarsened 1 time(s))" imported.log || { echo "FAIL: import's line"; fail=1; }
"$py" - <<'PY' || fail=1
import h5py, numpy as np
with h5py.File("coarse/reference.h5", "r") as c, h5py.File("imported/reference.h5", "r") as i:
    assert int(i.attrs["coarsened"]) == 1 and int(i.attrs["levels"]) == 2, (i.attrs["coarsened"], i.attrs["levels"])
    for l in range(2):
        for name in ("t", "x", "u"):
            a, b = c[f"level_{l}/{name}"][...], i[f"level_{l}/{name}"][...]
            assert np.array_equal(a, b), f"imported level {l} {name} differs from the coarsened solve's"
print("import -kd_reference_coarsen 1 = solve -kd_reference_coarsen 1 to the bit")
PY
"$py" - <<'PY' || fail=1
import h5py, numpy as np
with h5py.File("plain/reference.h5", "r") as p, h5py.File("coarse/reference.h5", "r") as c:
    assert int(p.attrs["coarsened"]) == 0 and int(c.attrs["coarsened"]) == 1, (p.attrs["coarsened"], c.attrs["coarsened"])
    assert int(c.attrs["levels"]) == 2
    for l in range(2):
        a, b = p[f"level_{l + 1}"], c[f"level_{l}"]
        assert list(a.attrs["shape"]) == list(b.attrs["shape"]), (l, a.attrs["shape"], b.attrs["shape"])
        for name in ("t", "x", "u"):
            assert np.array_equal(a[name][...], b[name][...]), f"level {l} {name} differs from plain level {l + 1}"
print("coarsened levels = plain levels 1, 2 to the bit")
PY

# train on both; validate; the teacher's evaluation on level 0, and the monitor's last error against validate's
for d in plain coarse3; do
  "$MPIEXEC" -n 2 "$KDPINN" train "${grid[@]}" "${teacher[@]}" -kd_out $d -kd_monitor -kd_monitor_every 20 \
    -kd_monitor_error > $d/train.log 2>&1 || { echo "FAIL: train on $d"; cat $d/train.log; fail=1; continue; }
  "$MPIEXEC" -n 2 "$KDPINN" validate "${grid[@]}" -kd_out $d -kd_validate_figures 0 > $d/validate.log 2>&1 ||
    { echo "FAIL: validate on $d"; cat $d/validate.log; fail=1; continue; }
  "$py" - $d <<'PY' || fail=1
import json, re, sys
d = sys.argv[1]
rows = {m["name"]: m for m in json.load(open(f"{d}/results.json"))["models"]}
t = rows["teacher"]
want = "cell_average" if d == "coarse3" else "point"
assert t["evaluation"] == want, (d, t["evaluation"])
if want == "cell_average":
    assert t["quadrature_nodes"] == 3 and t["point_rel_l2"] > 0, t
    # the check below tells averages from points only if they differ in the digits the monitor prints
    assert f"{t['point_rel_l2']:.3e}" != f"{t['rel_l2']:.3e}", ("points and averages alike", t)
last = [float(m.group(1)) for m in re.finditer(r"teacher error rel_l2 (\S+) \[", open(f"{d}/train.log").read())][-1]
# the monitor prints 4 digits (%.3e): the same comparison gives the same digits
assert f"{last:.3e}" == f"{t['rel_l2']:.3e}", (d, last, t["rel_l2"])
print(f"{d}: teacher {t['evaluation']} {t['rel_l2']:.3e} = monitor {last:.3e}")
PY
done
grep -q "the cell averages of a solve on a grid 8 times finer" coarse3/report.md || { echo "FAIL: report.md"; fail=1; }
"$py" "$KD_SOURCE_DIR/tests/t80-jsonschema.py" "$KD_SOURCE_DIR/docs/results.schema.json" coarse3/results.json ||
  { echo "FAIL: results.json of the coarsened reference does not follow docs/results.schema.json"; fail=1; }

expect_error() { # expect_error <what the message must contain> <args...>
  local want=$1; shift
  rm -rf out-err; mkdir -p out-err
  "$KDPINN" "$@" > stdout.txt 2> stderr.txt
  local rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL: exit 0 for: $*"; fail=1; return; fi
  if [ "$(grep -c . stderr.txt)" -ne 1 ] || ! grep -q "^kdpinn: error: .*$want" stderr.txt; then
    echo "FAIL: expected one line 'kdpinn: error: ...$want...' for: $*"; cat stderr.txt; fail=1; return
  fi
  if compgen -G "out-err/*" > /dev/null; then echo "FAIL: output left behind for: $*"; ls out-err; fail=1; return; fi
  echo "ok: $* -> $(cat stderr.txt)"
}
expect_error "-kd_reference_coarsen -1 not in \[0, " solve "${grid[@]}" -kd_reference_coarsen -1 -kd_out out-err
# 32 snapshots: 2 levels after 4 coarsenings need a multiple of 2^5 = 32 and at least 64
expect_error "grid too small for -kd_levels 2 and -kd_reference_coarsen 4: axis t has 32 cells" \
  solve "${grid[@]}" -kd_levels 2 -kd_reference_coarsen 4 -kd_out out-err
# one level: refused before the solve too (-kd_monitor would print the solver's progress on stdout)
expect_error "grid too small for -kd_levels 1 and -kd_reference_coarsen 1: axis t has 33 cells" \
  solve -kd_pde burgers -burgers_nx 128 -burgers_nt 33 -kd_levels 1 -kd_reference_coarsen 1 -kd_monitor -kd_out out-err
[ ! -s stdout.txt ] || { echo "FAIL: solved before refusing the grid:"; cat stdout.txt; fail=1; }
expect_error "-kd_levels 8 with -kd_reference_coarsen 5 make more than 12 grids" \
  solve -kd_pde burgers -burgers_nx 256 -burgers_nt 256 -kd_levels 8 -kd_reference_coarsen 5 -kd_out out-err
# the same checks in kdpinn import, on plain's 32 x 128 level 0
imp=(import -kd_pde burgers -kd_import_file plain/reference.h5:/level_0 -kd_out out-err)
expect_error "-kd_reference_coarsen -1 not in \[0, " "${imp[@]}" -kd_reference_coarsen -1
expect_error "axis 't' has 32 cells, not divisible by 2^(kd_levels+kd_reference_coarsen-1) = 64" \
  "${imp[@]}" -kd_levels 2 -kd_reference_coarsen 5
expect_error "grid too small for -kd_levels 1 and -kd_reference_coarsen 5: axis t has 32 cells" \
  "${imp[@]}" -kd_levels 1 -kd_reference_coarsen 5
expect_error "-kd_levels 8 with -kd_reference_coarsen 5 make more than 12 grids" "${imp[@]}" -kd_levels 8 \
  -kd_reference_coarsen 5

[ $fail -eq 0 ] && echo "t106: coarsened reference ok"
exit $fail
