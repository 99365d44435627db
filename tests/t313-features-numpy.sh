#!/bin/bash
# Model files with input features (the conduction's interface level sets of a laminate and a checkerboard, the latter
# also with the boundary's output factor; written by t309) evaluated by tests/model_eval.py, the numpy evaluator of
# docs/model-format.md, against KDNetEvaluate at 40 points each. Tolerance 1e-12 relative to each output's largest
# value, as t311: the same formulas in another order differ by round-off (~1e-15); a wrong phase, period, axis,
# feature order or factor is O(1e-1).
set -euo pipefail
exe=$1
"$exe" -dump
for m in model_features_laminate.h5 model_features_checkerboard.h5 model_features_checkerboard_bc.h5 \
  model_features_checkerboard_corners.h5; do
  "${KD_PYTHON:-python3}" "$KD_SOURCE_DIR/tests/model_eval.py" "$m" "$m.points.txt" "$m.values.txt" 1e-12
done
