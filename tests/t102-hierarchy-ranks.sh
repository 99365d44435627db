#!/bin/bash
# reference.h5 does not depend on the number of ranks that wrote it: the files written at 1, 2 and 4 ranks are
# identical byte for byte (no tolerance: the restriction sums in a fixed order and HDF5 stores no timestamps).
set -euo pipefail
exe=$1
for np in 1 2 4; do
  "$MPIEXEC" -n $np --oversubscribe "$exe" -dim 3 -levels 3 -out ranks-np$np.h5 > /dev/null
done
cmp ranks-np1.h5 ranks-np2.h5
cmp ranks-np1.h5 ranks-np4.h5
echo "t102: reference files identical at 1, 2 and 4 ranks"
