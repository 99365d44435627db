#!/bin/bash
# A model file with an output addend (the cavity's lid-corner flow, written by t306) evaluated by tests/model_eval.py,
# the numpy evaluator of docs/model-format.md, against KDNetEvaluate at 40 points, 20 of them within 0.2 of a lid
# corner. Tolerance 1e-12 relative to each output's largest value, as t311: the same formula in another order differs
# by round-off (~1e-15); a wrong sign, mirror, cutoff or parameter order is O(1e-2) or more.
set -euo pipefail
exe=$1
"$exe" -dump
"${KD_PYTHON:-python3}" "$KD_SOURCE_DIR/tests/model_eval.py" model_addend.h5 model_addend.h5.points.txt \
  model_addend.h5.values.txt 1e-12
