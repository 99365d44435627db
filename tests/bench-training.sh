#!/bin/bash
# Training-step benchmark, kdpinn against PyTorch (tests/bench-training.py; docs/benchmarks.md, "Training").
#
# usage: bench-training.sh BENCH_DGEMM [bench-training.py options, e.g. --quick or --repeats 5 --markdown t.md]
# Environment: KDPINN (the driver), MPIEXEC, as CTest sets them; otherwise found next to BENCH_DGEMM / on PATH.
#
# OpenBLAS kernels: the kdpinn driver re-executes itself with OPENBLAS_CORETYPE=SkylakeX or Haswell when OpenBLAS
# 0.3.21 does not know the CPU and falls back to its generic kernels. The DGEMM probe and PyTorch (which calls the
# same OpenBLAS through libblas.so.3) do not, so when OPENBLAS_CORETYPE is unset this script makes the same choice
# for every process of the run: all three then use the same kernels.
# Timing only: exits non-zero if a run fails, never because of a time.
set -euo pipefail
dgemm=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
kdpinn=${KDPINN:-$(dirname "$dgemm")/../kdpinn}
python=${KD_PYTHON:-/usr/bin/python3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1

if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ "${KDPINN_BLAS_AUTO:-1}" != 0 ]; then
  core=$("$dgemm" -dgemm_corename | tr 'A-Z' 'a-z')
  case $core in
  prescott | core2 | nehalem | katmai | northwood)
    flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    has() { case $flags in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
    if has avx512f && has avx512dq && has avx512bw && has avx512vl; then
      export OPENBLAS_CORETYPE=SkylakeX
    elif has avx2 && has fma; then
      export OPENBLAS_CORETYPE=Haswell
    fi
    ;;
  esac
fi

exec "$python" "$here/bench-training.py" --kdpinn "$kdpinn" --dgemm "$dgemm" --mpiexec "${MPIEXEC:-mpiexec}" "$@"
