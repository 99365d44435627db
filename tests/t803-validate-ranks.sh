#!/bin/bash
# Rank independence of `kdpinn validate`: the cavity fixture (axis permutation, pressure mean removal, 16 rows of cells)
# validated at 1, 2 and 3 ranks (3 does not divide the rows evenly). Every number of results.json except the timings
# (infer_ms, train_s, speedup_vs_teacher) and the rank count agrees to 1e-12 relative: only the order in which the ranks'
# partial sums are added differs (~1e-16). predictions.h5 holds pointwise values and must be identical to 1e-15.
set -u
fail() { echo "FAIL: $*"; exit 1; }
SETUP=$1
rm -rf out
"$MPIEXEC" -n 1 "$SETUP" -case cavity -out out > setup.log 2>&1 || { cat setup.log; fail "setup"; }
for np in 1 2 3; do
  "$MPIEXEC" -n $np "$KDPINN" validate -kd_out out -kd_validate_repeats 1 -kd_validate_figures false > validate-$np.log 2>&1 ||
    { cat validate-$np.log; fail "validate at $np ranks"; }
  cp out/results.json results-$np.json
  cp out/predictions.h5 predictions-$np.h5
done
"$KD_PYTHON" - <<'EOF' || fail "results depend on the rank count"
import json, h5py, numpy as np
SKIP = {"infer_ms", "train_s", "speedup_vs_teacher", "ranks"}
worst = [0.0]
def cmp(a, b, path):
    if isinstance(a, dict):
        assert sorted(a) == sorted(b), path
        for k in a:
            if k not in SKIP:
                cmp(a[k], b[k], path + "/" + k)
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            cmp(x, y, "%s/%d" % (path, i))
    elif isinstance(a, float) or isinstance(b, float):
        e = abs(a - b) / max(abs(a), 1e-300)
        worst[0] = max(worst[0], e)
        assert e <= 1e-12, "%s: %r vs %r" % (path, a, b)
    else:
        assert a == b, "%s: %r vs %r" % (path, a, b)
one = json.load(open("results-1.json"))
assert one["ranks"] == 1
for np_ in (2, 3):
    other = json.load(open("results-%d.json" % np_))
    assert other["ranks"] == np_
    cmp(one, other, "")
    with h5py.File("predictions-1.h5", "r") as a, h5py.File("predictions-%d.h5" % np_, "r") as b:
        names = []
        a.visit(lambda n: names.append(n) if isinstance(a[n], h5py.Dataset) else None)
        assert names, "predictions.h5 is empty"
        for n in names:
            assert np.max(np.abs(a[n][...] - b[n][...])) <= 1e-15, n
print("1, 2, 3 ranks: results.json agrees to %.1e relative (timings excluded), predictions.h5 datasets identical" % worst[0])
EOF
echo PASS
