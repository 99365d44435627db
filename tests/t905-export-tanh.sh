#!/bin/bash
# The float tanh of the exported f32 and int8 kernels against libm over the whole float line, and the int8 levels at
# the clamp (tests/t905-export-tanh.c says what is checked): the sources of a 2 -> 20,20 -> 3 network exported by
# `kdpinn export` are compiled into the check at -std=c99 -O2 (no FMA contraction) and at -O3 -march=native (GNU C, FMA
# contraction where the CPU has it). The bound is KD_EXPORT_TANH_ERROR of include/kdexport.h (docs/export.md).
set -u
fail() { echo "FAIL: $*"; exit 1; }
cc=${CC:-cc}
rm -rf exp model.h5 t905-check *.log
"$1" -model_out model.h5 > model.log 2>&1 || { cat model.log; fail "writing the model"; }
for prec in f32 int8; do
  "$KDPINN" export -kd_model model.h5 -kd_precision $prec -o exp -kd_export_name s_$prec > export-$prec.log 2>&1 ||
    { cat export-$prec.log; fail "export $prec"; }
done
bound=$(sed -n 's/^#define KD_EXPORT_TANH_ERROR \([0-9.e+-]*\).*$/\1/p' "$KD_SOURCE_DIR/include/kdexport.h")
[ -n "$bound" ] || fail "KD_EXPORT_TANH_ERROR not found in include/kdexport.h"
for flags in "-std=c99 -O2" "-O3 -march=native"; do
  $cc $flags -Wall -Wextra -Werror -DKD_EXPORT_TANH_ERROR=$bound -Iexp "$KD_SOURCE_DIR/tests/t905-export-tanh.c" -lm \
    -o t905-check > cc.log 2>&1 || { cat cc.log; fail "compile with $flags"; }
  echo "$flags:"
  ./t905-check || fail "tanh or levels out of bounds with $flags"
done
echo PASS
