#!/bin/bash
# The jet kernels' products, LIBXSMM's generated code against the BLAS, side by side in one run (docs/benchmarks.md,
# "Small products by LIBXSMM"): tests/bench-net (KDNetLossGradient of the Burgers residual loss, 10,000 points, one
# core) with -net_gemm libxsmm and -net_gemm blas, alternating (which runs first flips every repeat), REPEATS times
# each, for the widths given; then the medians of the CPU time per call, their ratio, and the kernels' GEMM rate as a
# fraction of the BLAS's DGEMM peak (bench-dgemm, best product of the same kernels, measured before and after; the
# larger is the peak). Timings are reported, never asserted.
#
# usage: bash tests/bench-gemm.sh BUILD_TESTS_DIR [REPEATS] [WIDTHS]     (from the source tree; defaults 5, 20,40,64,128)
# The environment chooses the code on both sides: OPENBLAS_CORETYPE (the BLAS's kernels) and LIBXSMM_TARGET (hsw:
# AVX2 code; unset: the CPU's own), e.g. LIBXSMM_TARGET=hsw OPENBLAS_CORETYPE=Haswell for AVX2 on both sides.
set -euo pipefail
dir=${1:?usage: bench-gemm.sh BUILD_TESTS_DIR [REPEATS] [WIDTHS]}
repeats=${2:-5}
widths=${3:-20,40,64,128}
export OPENBLAS_NUM_THREADS=1
for exe in bench-net bench-dgemm; do
  [ -x "$dir/$exe" ] || { echo "bench-gemm: $dir/$exe not found (build the tests first)" >&2; exit 1; }
done
dgemm=$dir/bench-dgemm
# shellcheck source=tests/bench-blas.sh
. "$(dirname "$0")/bench-blas.sh" # the BLAS kernels a kdpinn run would use
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
peak() {
  "$dgemm" > "$out/dgemm.txt" || { echo "bench-gemm: bench-dgemm failed" >&2; exit 1; }
  sed -nE 's/.*best_gflops=([0-9.]+).*kernels=([A-Za-z0-9]+).*/\1 \2/p' "$out/dgemm.txt" > "$out/peak.txt"
  [ -s "$out/peak.txt" ] || { echo "bench-gemm: no rate in bench-dgemm's output" >&2; exit 1; }
}
peak
read -r peak0 kernels < "$out/peak.txt"
for r in $(seq 1 "$repeats"); do
  order="libxsmm blas"
  [ $((r % 2)) -eq 0 ] && order="blas libxsmm" # alternate which runs first
  for gemm in $order; do
    "$dir/bench-net" -bench_widths "$widths" -bench_reps 40 -net_gemm "$gemm" > "$out/net.txt"
    # the CPU time per call (the fairer figure on a shared machine) and the GEMM rate per CPU second
    sed -nE "s/^([0-9]+x[0-9]+) .*\(CPU time +([0-9.]+) ms\), ([0-9.]+) GFLOP\/s of CPU time.*/\1 $gemm \2 \3/p" \
      "$out/net.txt" >> "$out/runs.txt"
  done
done
expected=$((2 * repeats * $(echo "$widths" | tr ',' '\n' | wc -l)))
got=$(wc -l < "$out/runs.txt")
[ "$got" -eq "$expected" ] || { echo "bench-gemm: $got timings read from bench-net, expected $expected" >&2; exit 1; }
peak
read -r peak1 _ < "$out/peak.txt"
peakmax=$(awk -v a="$peak0" -v b="$peak1" 'BEGIN { print (a > b ? a : b) }')
echo "jet kernels' products: LIBXSMM against BLAS, medians of $repeats alternating repeats (bench-net, 10000 points)"
echo "BLAS kernels $kernels (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}), LIBXSMM_TARGET=${LIBXSMM_TARGET:-unset};" \
  "DGEMM peak $peak0 / $peak1 GFLOP/s (before / after)"
echo "| network | libxsmm ms (CPU) | blas ms (CPU) | blas / libxsmm | libxsmm fraction of peak | blas fraction of peak |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for net in $(cut -d' ' -f1 "$out/runs.txt" | awk '!seen[$0]++'); do
  tx=$(awk -v n="$net" '$1 == n && $2 == "libxsmm" { print $3 }' "$out/runs.txt" | median)
  tb=$(awk -v n="$net" '$1 == n && $2 == "blas" { print $3 }' "$out/runs.txt" | median)
  fx=$(awk -v n="$net" '$1 == n && $2 == "libxsmm" { print $4 }' "$out/runs.txt" | median)
  fb=$(awk -v n="$net" '$1 == n && $2 == "blas" { print $4 }' "$out/runs.txt" | median)
  awk -v n="$net" -v tx="$tx" -v tb="$tb" -v fx="$fx" -v fb="$fb" -v p="$peakmax" \
    'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", n, tx, tb, tb / tx, fx / p, fb / p }'
done
