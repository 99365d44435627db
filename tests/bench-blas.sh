# Sourced by the benchmark scripts (bench-training.sh, bench-scaling.sh) with $dgemm set to tests/bench-dgemm: one
# choice of OpenBLAS kernels for every process of a benchmark run.
#
# The kdpinn driver re-executes itself with OPENBLAS_CORETYPE=SkylakeX or Haswell when OpenBLAS 0.3.21 does not know
# the CPU and falls back to its generic kernels. The test programs (bench-dgemm, bench-net) and PyTorch (which calls the
# same OpenBLAS through libblas.so.3) do not, so when OPENBLAS_CORETYPE is unset the same choice is made here, once, for
# every process the script starts.
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
