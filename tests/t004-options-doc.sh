#!/bin/bash
# docs/options.md and the options the stages read agree, both ways, for every registered PDE:
#  - every option `kdpinn <stage> -help -kd_pde <pde>` prints under a kdpinn prefix (-kd_, -teacher_, -student_,
#    -scratch_ and -<pde>_ for each registered PDE, the list taken from the driver's -kd_pde help) is in a table of
#    docs/options.md (PETSc's nested solver options -*_ts_*, -*_snes_*, ... excepted);
#  - every option in a table of docs/options.md is printed by some stage's -help.
set -euo pipefail
cp -r "$KD_SOURCE_DIR/meshes" .
doc=$KD_SOURCE_DIR/docs/options.md
"$KDPINN" solve -help > solve-help.txt 2>/dev/null || true
pdes=$(sed -nE 's/.*-kd_pde <[^>]*>: PDE type \(one of\) ([^(]*) \(KDPDESetType\).*/\1/p' solve-help.txt | head -1)
[ -n "$pdes" ] || { echo "no PDE list in the -help of kdpinn solve"; exit 1; }
prefixes="kd|teacher|student|scratch"
for pde in $pdes; do prefixes="$prefixes|$pde"; done
echo "registered PDEs: $pdes"
for stage in solve import train distill validate export bench; do
  for pde in $pdes; do
    "$KDPINN" $stage -help -kd_pde $pde 2>/dev/null || true
  done
done > help.txt
grep -oE '^\s+-[A-Za-z0-9_<>]+' help.txt | sed -E 's/^\s+//' | sort -u > printed.txt
grep -E "^-($prefixes)_" printed.txt | grep -vE '_(ts|snes|ksp|pc|tao|mat|da|dm|sf|mg|vec|pressure|lmvm)_' > options.txt
[ -s options.txt ] || { echo "no options found in -help output"; exit 1; }
missing=0
while read -r opt; do
  grep -qF -- "| \`$opt\` |" "$doc" || { echo "docs/options.md does not list $opt"; missing=1; }
done < options.txt
# the other way: every option of the tables is read by some stage
grep -oE '^\| `-[A-Za-z0-9_<>]+` \|' "$doc" | sed -E 's/^\| `//; s/` \|$//' | sort -u > documented.txt
while read -r opt; do
  grep -qxF -- "$opt" printed.txt || { echo "docs/options.md lists $opt, which no stage's -help prints"; missing=1; }
done < documented.txt
[ $missing -eq 0 ] && echo "t004: $(wc -l < options.txt) options printed, $(wc -l < documented.txt) documented, both ways"
exit $missing
