#!/bin/bash
# Training-step benchmark, kdpinn against PyTorch (tests/bench-training.py; docs/benchmarks.md, "Training").
#
# usage: bench-training.sh BENCH_DGEMM [bench-training.py options, e.g. --quick or --repeats 5 --markdown t.md]
# Environment: KDPINN (the driver), MPIEXEC, as CTest sets them; otherwise found next to BENCH_DGEMM / on PATH.
#
# OpenBLAS kernels: one choice for every process of the run (tests/bench-blas.sh).
# Timing only: exits non-zero if a run fails, never because of a time.
set -euo pipefail
dgemm=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
kdpinn=${KDPINN:-$(dirname "$dgemm")/../kdpinn}
python=${KD_PYTHON:-/usr/bin/python3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1

. "$here/bench-blas.sh"

exec "$python" "$here/bench-training.py" --kdpinn "$kdpinn" --dgemm "$dgemm" --mpiexec "${MPIEXEC:-mpiexec}" "$@"
