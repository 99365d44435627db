#!/bin/bash
# docs/options.md lists every kdpinn option that `kdpinn <stage> -help` prints (PETSc's nested solver options
# -*_ts_*, -*_snes_*, ... excepted), so the documentation cannot fall behind the code.
set -euo pipefail
cp -r "$KD_SOURCE_DIR/meshes" .
missing=0
for stage in solve train distill validate export bench; do
  for pde in burgers heat cavity; do
    "$KDPINN" $stage -help -kd_pde $pde 2>/dev/null || true
  done
done | grep -oE '^\s+-(kd|teacher|student|burgers|heat|cavity|scratch)_[A-Za-z0-9_<>]*' \
     | grep -vE '_(ts|snes|ksp|pc|tao|mat|da|dm|sf|mg|vec|pressure|lmvm)_' | sed -E 's/^\s+//' | sort -u > options.txt
[ -s options.txt ] || { echo "no options found in -help output"; exit 1; }
while read -r opt; do
  grep -qF -- "\`$opt\`" "$KD_SOURCE_DIR/docs/options.md" || { echo "docs/options.md does not list $opt"; missing=1; }
done < options.txt
[ $missing -eq 0 ] && echo "t004: all $(wc -l < options.txt) options of -help are documented"
exit $missing
