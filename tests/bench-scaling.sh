#!/bin/bash
# Scaling model of the training and Gauss-Newton steps (tests/bench-scaling.py; docs/benchmarks.md, "Scaling model").
#
# usage: bench-scaling.sh BENCH_DGEMM [bench-scaling.py options, e.g. --quick or --gn --markdown s.md --plot s.png]
# bench-allreduce and bench-net are the test programs next to BENCH_DGEMM. Environment: KDPINN (the driver), MPIEXEC,
# as CTest sets them; otherwise found next to BENCH_DGEMM / on PATH.
# Timing only: exits non-zero if a run fails, never because of a time.
set -euo pipefail
dgemm=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
bin=$(dirname "$dgemm")
kdpinn=${KDPINN:-$bin/../kdpinn}
python=${KD_PYTHON:-/usr/bin/python3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
. "$here/bench-blas.sh"

exec "$python" "$here/bench-scaling.py" --kdpinn "$kdpinn" --allreduce "$bin/bench-allreduce" --bench-net "$bin/bench-net" \
  --mpiexec "${MPIEXEC:-mpiexec}" "$@"
