#!/bin/bash
# `kdpinn export` from the command line, on a small Burgers reference and a briefly trained teacher (inputs t,x):
#  - f64, f32 and int8 exports write <name>.h, <name>.c and <name>_main.c and leave no temporary file; the default name
#    is the model file's; -o and -kd_export_dir are the same option;
#  - each example main compiles with cc -std=c99 -Wall -Wextra -Werror -O2 and runs; the values it prints agree with
#    the numpy evaluation of the model file (tests/model_eval.py): f64 to 1e-8 relative (the main prints 9 digits),
#    f32 to 1e-5 relative (t901's bound), int8 within 3x the noise model that export prints (t901's bound);
#  - int8 calibration: with reference.h5 in -kd_out its level grid is used (-kd_calibration_level picks the level), with
#    -kd_reference naming a missing file the error is one line, and without a reference a box grid is used;
#  - a bad -kd_precision, one without a value (empty, or swallowed by the next option), a negative -kd_int8_search and a
#    missing model file give one error line and a non-zero exit.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cc=${CC:-cc}
rm -rf out exp* *.log

"$KDPINN" solve -kd_out out -kd_pde burgers -kd_levels 2 -burgers_nx 256 -burgers_nt 64 > solve.log 2>&1 || { cat solve.log; fail "solve"; }
"$KDPINN" train -kd_out out -kd_pde burgers -teacher_widths 12,10 -teacher_ncol 500 -teacher_adam_steps 100 -teacher_lbfgs_steps 0 \
  -teacher_checkpoint_every 0 > train.log 2>&1 || { cat train.log; fail "train"; }

check_main() { # precision dir name tolerance-kind
  local prec=$1 dir=$2 name=$3
  for f in "$dir/$name.h" "$dir/$name.c" "$dir/${name}_main.c"; do
    [ -s "$f" ] || fail "$prec: $f not written"
    [ -e "$f.part" ] && fail "$prec: temporary file $f.part left behind"
  done
  (cd "$dir" && $cc -std=c99 -Wall -Wextra -Werror -O2 "${name}_main.c" "$name.c" -lm -o "${name}_main") > "cc-$prec.log" 2>&1 ||
    { cat "cc-$prec.log"; fail "$prec: the example main does not compile"; }
  "$dir/${name}_main" > "main-$prec.log" || fail "$prec: the example main failed"
  cat "main-$prec.log"
}

# f64 with the default name and -kd_export_dir, f32 with -o and a chosen name
"$KDPINN" export -kd_out out -kd_model out/teacher.h5 -kd_precision f64 -kd_export_dir exp64 > export-f64.log 2>&1 || { cat export-f64.log; fail "export f64"; }
check_main f64 exp64 teacher
"$KDPINN" export -kd_out out -kd_model out/teacher.h5 -kd_precision f32 -o exp32 -kd_export_name burgers_t > export-f32.log 2>&1 || { cat export-f32.log; fail "export f32"; }
check_main f32 exp32 burgers_t
grep -q "burgers_t_eval(int n, const float \*x, float \*y)" exp32/burgers_t.h || fail "f32: no burgers_t_eval in the header"

# int8 calibrated on level 1 of out/reference.h5 (32 x 128 cells)
"$KDPINN" export -kd_out out -kd_model out/teacher.h5 -kd_precision int8 -o exp8 -kd_export_name t8 -kd_calibration_level 1 > export-int8.log 2>&1 ||
  { cat export-int8.log; fail "export int8"; }
cat export-int8.log
grep -q "int8 calibrated on 4096 cell centres of level 1 of out/reference.h5" export-int8.log || fail "int8: not calibrated on level 1"
check_main int8 exp8 t8
noise=$(sed -n 's/.*(noise model \([0-9.e+-]*\)).*/\1/p' export-int8.log)
[ -n "$noise" ] || fail "int8: no noise model figure printed"

# int8 without a reference: a box grid
"$KDPINN" export -kd_out nowhere -kd_model out/teacher.h5 -kd_precision int8 -o exp8box > export-box.log 2>&1 || { cat export-box.log; fail "export int8 box"; }
grep -q "int8 calibrated on a regular grid of 65536 points over the input box" export-box.log || { cat export-box.log; fail "int8: no box calibration"; }

"$KD_PYTHON" - "$KD_SOURCE_DIR/tests" "$noise" <<'EOF' || fail "the example mains disagree with the model file"
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
from model_eval import evaluate
noise = float(sys.argv[2])
for prec, log in (("f64", "main-f64.log"), ("f32", "main-f32.log"), ("int8", "main-int8.log")):
    rows = [l.split("->") for l in open(log).read().splitlines()[1:]]
    x = np.array([[float(v) for v in r[0].split()] for r in rows])
    y = np.array([[float(v) for v in r[1].split()] for r in rows])
    ref = evaluate("out/teacher.h5", x)
    assert x.shape == (5, 2) and y.shape == ref.shape, (prec, x.shape, y.shape, ref.shape)
    if prec == "int8":
        err = np.linalg.norm(y - ref) / np.linalg.norm(ref)
        print("int8: relative L2 %.3e at the %d points (3x noise model: %.3e)" % (err, len(x), 3 * noise))
        assert err <= 3 * noise, prec
    else:
        err = np.abs(y - ref).max() / np.abs(ref).max()
        print("%s: max error %.3e relative" % (prec, err))
        assert err <= (1e-8 if prec == "f64" else 1e-5), prec
EOF

# one-line errors
"$KDPINN" export -kd_out out -kd_model out/teacher.h5 -kd_precision int4 > bad-prec.log 2>&1 && fail "-kd_precision int4 accepted"
[ "$(grep -c '^kdpinn: error:' bad-prec.log)" -eq 1 ] && grep -q 'int4' bad-prec.log || { cat bad-prec.log; fail "bad precision: expected one error line"; }
"$KDPINN" export -kd_out out -kd_model out/missing.h5 > missing.log 2>&1 && fail "a missing model was exported"
[ "$(grep -c '^kdpinn: error:' missing.log)" -eq 1 ] && grep -q 'missing.h5' missing.log || { cat missing.log; fail "missing model: expected one error line"; }
"$KDPINN" export -kd_out out -kd_model out/teacher.h5 -kd_precision int8 -kd_reference out/none.h5 > noref.log 2>&1 && fail "a missing -kd_reference accepted"
[ "$(grep -c '^kdpinn: error:' noref.log)" -eq 1 ] && grep -q -- '-kd_reference out/none.h5: no such file' noref.log || { cat noref.log; fail "missing reference: expected one error line"; }
"$KDPINN" export -kd_out out -kd_model out/teacher.h5 -kd_precision int8 -kd_int8_search -1 > badsearch.log 2>&1 && fail "-kd_int8_search -1 accepted"
[ "$(grep -c '^kdpinn: error:' badsearch.log)" -eq 1 ] && grep -q -- '-kd_int8_search must be >= 0, got -1' badsearch.log || { cat badsearch.log; fail "negative search: expected one error line"; }
# an enum option without a value (PETSc read it as its first choice, f64) and one swallowed by the next option
for args in "-kd_precision ''" "-kd_precision -kd_export_name x"; do
  eval "\"\$KDPINN\" export -kd_out out -kd_model out/teacher.h5 $args" > empty-prec.log 2>&1 && fail "$args accepted"
  [ "$(grep -c '^kdpinn: error:' empty-prec.log)" -eq 1 ] && grep -q -- '-kd_precision needs a value' empty-prec.log ||
    { cat empty-prec.log; fail "$args: expected one error line saying -kd_precision needs a value"; }
done
echo "PASS"
