#!/bin/bash
# Runs the composite study on this machine: every case of a sweep file in turn, then the study report.
usage() {
  cat << 'EOF'
usage: jobs/composite-study.sh [options] [kdpinn options ...]

Runs every case of the sweep file (default jobs/composite-sweep.txt) in turn with mpiexec:
  kdpinn run -options_file jobs/composite.opts <case options> [kdpinn options] -kd_out <out>/<case>
its output in <out>/<case>/logs/run.log and its exit status in <out>/<case>/logs/run.exit (as the Slurm jobs write
them). A case whose <out>/<case>/results.json exists is skipped, so running the script again resumes a study (and
`kdpinn run` itself skips the stages of a case that are up to date); delete a case's directory to run it again.
A case that fails does not stop the others. Then jobs/composite-study.py <out> writes <out>/study.md,
<out>/study.json and <out>/study-keff.png (docs/slurm.md, "Composite study"). The sweep file is copied to
<out>/sweep.txt. Exit status: 0 every case done and the report written; 1 a case or the report failed; 2 bad usage.

options:
  -o, --out DIR       study directory (default: results/composite-study)
  -n, --ranks N       MPI ranks per case (default: 2)
  --sweep FILE        the sweep file (default: composite-sweep.txt beside this script)
  --options FILE      the options file of every case (default: composite.opts beside this script)
  --kdpinn PATH       the driver (default: kdpinn on PATH, else build/kdpinn of this repository)
  --mpiexec "CMD"     the MPI launcher, word-split (default: $MPIEXEC, else mpiexec); "-n N" is appended
  --python PATH       interpreter of the report (default: $KD_PYTHON, else python3 if it has numpy, h5py and
                      matplotlib, else /usr/bin/python3)
  --no-report         run the cases only
  -h, --help          this text
kdpinn options after the script's options go to every case, after the case's own (so they win), e.g.
  jobs/composite-study.sh --out study -teacher_adam_steps 2000
EOF
}

set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=results/composite-study ranks=2 sweep=$here/composite-sweep.txt opts=$here/composite.opts kdpinn=""
mpiexec_cmd=${MPIEXEC:-mpiexec} python=${KD_PYTHON:-} report=1
die() {
  echo "composite-study: $*" >&2
  exit 2
}
need() { [ $# -ge 2 ] || die "option $1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case $1 in
  -o | --out) need "$@"; out=$2; shift 2 ;;
  -n | --ranks) need "$@"; ranks=$2; shift 2 ;;
  --sweep) need "$@"; sweep=$2; shift 2 ;;
  --options) need "$@"; opts=$2; shift 2 ;;
  --kdpinn) need "$@"; kdpinn=$2; shift 2 ;;
  --mpiexec) need "$@"; mpiexec_cmd=$2; shift 2 ;;
  --python) need "$@"; python=$2; shift 2 ;;
  --no-report) report=0; shift ;;
  -h | --help) usage; exit 0 ;;
  --) shift; break ;;
  --*) die "unknown option $1 (see --help)" ;;
  *) break ;;
  esac
done
extra=("$@")
[[ $ranks =~ ^[1-9][0-9]*$ ]] || die "--ranks must be a positive integer, got '$ranks'"
[ -f "$opts" ] && [ -r "$opts" ] || die "cannot read options file '$opts'"
opts=$(realpath "$opts")
. "$root/slurm/kdpinn-job.sh" # kd_sweep_read: the sweep file's format, shared with slurm/submit --sweep
kd_sweep_read "$sweep" || exit 2
sweep=$(realpath "$sweep")
read -r -a launcher <<< "$mpiexec_cmd"
[ ${#launcher[@]} -gt 0 ] || die "--mpiexec is empty"

# The driver, as slurm/submit finds it.
if [ -z "$kdpinn" ]; then
  kdpinn=$(command -v kdpinn || true)
  [ -n "$kdpinn" ] || kdpinn=$root/build/kdpinn
fi
[ -x "$kdpinn" ] || die "no driver at '$kdpinn' (build it, put kdpinn on PATH, or give --kdpinn PATH)"
kdpinn=$(realpath "$kdpinn")
if [ $report = 1 ]; then
  if [ -z "$python" ]; then
    python=python3
    "$python" -c 'import numpy, h5py, matplotlib' 2> /dev/null || python=/usr/bin/python3
  fi
  command -v "$python" > /dev/null || die "no python interpreter '$python' for the report (--python PATH)"
fi

mkdir -p "$out" || die "cannot create the study directory '$out'"
out=$(realpath "$out")
[ "$sweep" -ef "$out/sweep.txt" ] || cp "$sweep" "$out/sweep.txt"
n=${#kd_sweep_names[@]}
echo "composite-study: $n case(s) of $sweep into $out, $ranks rank(s) each, driver $kdpinn"
failed=()
for ((i = 0; i < n; i++)); do
  name=${kd_sweep_names[$i]}
  dir=$out/$name
  if [ -f "$dir/results.json" ]; then
    echo "composite-study: [$((i + 1))/$n] $name: skipped ($name/results.json exists)"
    continue
  fi
  read -r -a case_options <<< "${kd_sweep_options[$i]}"
  mkdir -p "$dir/logs"
  cmd=("${launcher[@]}" -n "$ranks" "$kdpinn" run -options_file "$opts" "${case_options[@]}" "${extra[@]}" -kd_out "$dir")
  {
    echo "=== kdpinn run ($name): local, $ranks rank(s) on $(hostname), $(date '+%F %T')"
    echo "=== ${cmd[*]}"
  } >> "$dir/logs/run.log"
  echo "composite-study: [$((i + 1))/$n] $name: running (log $dir/logs/run.log)"
  start=$SECONDS
  rc=0
  "${cmd[@]}" >> "$dir/logs/run.log" 2>&1 < /dev/null || rc=$?
  state=failed
  [ $rc = 0 ] && state="done"
  echo "$rc $state job=none restarts=0" > "$dir/logs/run.exit"
  echo "=== exit $rc ($state) $(date '+%F %T')" >> "$dir/logs/run.log"
  if [ $rc = 0 ]; then
    echo "composite-study: [$((i + 1))/$n] $name: done in $((SECONDS - start)) s"
  else
    why=$(grep -m 1 'kdpinn: error:' "$dir/logs/run.log" || tail -n 1 "$dir/logs/run.log")
    echo "composite-study: [$((i + 1))/$n] $name: failed (exit $rc) after $((SECONDS - start)) s: $why" >&2
    failed+=("$name")
  fi
done

rc=0
if [ $report = 1 ]; then
  "$python" "$here/composite-study.py" "$out" || rc=1
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "composite-study: ${#failed[@]} case(s) failed: ${failed[*]} (see <case>/logs/run.log under $out)" >&2
  rc=1
fi
exit $rc
