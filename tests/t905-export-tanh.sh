#!/bin/bash
# The float tanh and isru of the exported f32 and int8 kernels against libm over the whole float line, and the int8
# levels at the clamp (tests/t905-export-tanh.c says what is checked): the sources of a 2 -> 20,20 -> 3 network of each
# activation exported by `kdpinn export` are compiled into the check at -std=c99 -O2 (no FMA contraction) and at -O3
# -march=native (GNU C, FMA contraction where the CPU has it). tanh's bound is KD_EXPORT_TANH_ERROR of
# include/kdexport.h (docs/export.md); isru's are stated in the C file.
set -u
fail() { echo "FAIL: $*"; exit 1; }
cc=${CC:-cc}
rm -rf exp-* model-*.h5 t905-check *.log
bound=$(sed -n 's/^#define KD_EXPORT_TANH_ERROR \([0-9.e+-]*\).*$/\1/p' "$KD_SOURCE_DIR/include/kdexport.h")
[ -n "$bound" ] || fail "KD_EXPORT_TANH_ERROR not found in include/kdexport.h"
for act in tanh isru; do
  "$1" -model_out model-$act.h5 -model_activation $act > model-$act.log 2>&1 || { cat model-$act.log; fail "writing the $act model"; }
  for prec in f32 int8; do
    "$KDPINN" export -kd_model model-$act.h5 -kd_precision $prec -o exp-$act -kd_export_name s_$prec > export-$act-$prec.log 2>&1 ||
      { cat export-$act-$prec.log; fail "export $act $prec"; }
  done
  if [ $act = tanh ]; then defs="-DKD_F32_ERROR=$bound -DKD_INT8_ERROR=$bound"; else defs="-DKD_ISRU -DKD_F32_ERROR=4e-7 -DKD_INT8_ERROR=6e-6"; fi
  for flags in "-std=c99 -O2" "-O3 -march=native"; do
    $cc $flags -Wall -Wextra -Werror $defs -Iexp-$act "$KD_SOURCE_DIR/tests/t905-export-tanh.c" -lm \
      -o t905-check > cc.log 2>&1 || { cat cc.log; fail "compile $act with $flags"; }
    echo "$act, $flags:"
    ./t905-check || fail "$act or levels out of bounds with $flags"
  done
done
echo PASS
