#!/bin/bash
# run.sh <target> <seconds> <seed file or text corpus> <regression inputs dir> <work corpus dir>: replays every
# regression input (crashes found earlier), then fuzzes for the given time from the corpus. Prints libFuzzer's count
# of executions. Exit status non-zero on any crash, sanitizer report or out-of-memory.
set -u
target=$1 seconds=$2 seed=$3 regressions=$4 corpus=$5
mkdir -p "$corpus"
if [ -d "$seed" ]; then cp -n "$seed"/* "$corpus"/; else export KD_FUZZ_SEED=$seed; fi
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if compgen -G "$regressions/*" > /dev/null; then
  "$target" "$regressions"/* > replay.log 2>&1 || { cat replay.log; echo "FAIL: a regression input crashes $target"; exit 1; }
  echo "replayed $(ls "$regressions" | wc -l) regression input(s)"
fi
"$target" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30 -print_final_stats=1 \
  -artifact_prefix="$PWD/$(basename "$target")-" "$corpus" > fuzz.log 2>&1
rc=$?
grep -E "^(Done|stat::number_of_executed_units)" fuzz.log
if [ $rc -ne 0 ]; then tail -60 fuzz.log; echo "FAIL: $target found a crash (input saved as $PWD/$(basename "$target")-*)"; exit 1; fi
