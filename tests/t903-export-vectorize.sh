#!/bin/bash
# The exported kernels vectorize: GCC's vectorization report (-fopt-info-vec-optimized) must list every loop over the
# points of a layer (the lines "for (p = 0; p < 64; p++) {" of the 64-point block and "< 8" of the tail block), for a
# tanh and an isru student:
#  - at -O3 -march=native for f64, f32 and int8;
#  - at plain -O2 (baseline x86-64) for f32 and int8, and at -O2 -march=x86-64-v2 for f64 (its tanh and isru compare
#    64-bit integers, which baseline SSE2 lacks; docs/export.md).
# The report format is GCC's; with another compiler the test is skipped (exit 77).
set -u
fail() { echo "FAIL: $*"; exit 1; }
cc=${CC:-cc}
macros=$($cc -dM -E - < /dev/null 2>/dev/null)
grep -q __GNUC__ <<< "$macros" && ! grep -q __clang__ <<< "$macros" || { echo "SKIP: $cc is not GCC"; exit 77; }
rm -rf exp model-*.h5 *.log
for act in tanh isru; do
  "$1" -model_out model-$act.h5 -model_activation $act > model-$act.log 2>&1 || { cat model-$act.log; fail "writing the $act model"; }
  for prec in f64 f32 int8; do
    "$KDPINN" export -kd_model model-$act.h5 -kd_precision $prec -o exp -kd_export_name ${act}_$prec > export-$act-$prec.log 2>&1 ||
      { cat export-$act-$prec.log; fail "export $act $prec"; }
  done
done
check() { # activation_precision flags...
  local prec=$1; shift
  local src=exp/$prec.c lines n=0
  lines=$(grep -nE '^    for \(p = 0; p < [0-9]+; p\+\+\) \{$' "$src" | cut -d: -f1)
  [ -n "$lines" ] || fail "$prec: no layer loops found in $src"
  $cc "$@" -std=c99 -fopt-info-vec-optimized -c "$src" -o /dev/null > vec.log 2>&1 || { cat vec.log; fail "$prec: compile with $*"; }
  for l in $lines; do
    grep -qE "^$src:$l:[0-9]+: optimized: loop vectorized" vec.log || { sed -n "${l}p" "$src"; cat vec.log; fail "$prec ($*): the loop at line $l is not vectorized"; }
    n=$((n + 1))
  done
  echo "$prec ($*): all $n layer loops vectorized"
}
for act in tanh isru; do
  for prec in f64 f32 int8; do check ${act}_$prec -O3 -march=native; done
  check ${act}_f32 -O2
  check ${act}_int8 -O2
  check ${act}_f64 -O2 -march=x86-64-v2
done
echo PASS
