#!/bin/bash
# A model file written by the library (on 2 ranks) evaluated by tests/model_eval.py, the numpy evaluator of
# docs/model-format.md, against KDNetEvaluate at 50 points. Tolerance 1e-12 relative to each output's largest value:
# numpy and the library compute the same sums in a different order (BLAS vs numpy's matmul, a*(x+b) vs a*x+a*b), so
# they differ by round-off only (~1e-15); any misreading of the format (transposed W, a wrong map to [-1, 1], scaling
# before or after the shift) is O(1).
set -euo pipefail
exe=$1
"$MPIEXEC" -n 2 --oversubscribe "$exe" -dump
for m in model_sin.h5 model_tanh.h5 model_isru.h5; do
  "${KD_PYTHON:-python3}" "$KD_SOURCE_DIR/tests/model_eval.py" "$m" "$m.points.txt" "$m.values.txt" 1e-12
done
