# kdpinn-job.sh: what every kdpinn job script shares. Sourced by slurm/<stage>.sbatch (kd_sweep_read also by
# slurm/submit and jobs/composite-study.sh), not run by itself.
#
#   kd_job_run <stage> <tag> <options-file> <out-dir> [kdpinn options ...]
#
# runs `kdpinn <stage> -options_file <options-file> -kd_out <out-dir> [kdpinn options]` on the ranks of the job,
# writes its output to <out-dir>/logs/<tag>.log (appended, one header per attempt) and its exit status to
# <out-dir>/logs/<tag>.exit, and exits with that status.
#
# Stop and requeue: a SIGUSR1 sent to the batch shell (sbatch --signal=B:USR1@<seconds>, or
# `scancel --signal=USR1 --batch <job>`) is forwarded to the job step; kdpinn finishes its step, writes a checkpoint
# and exits with status 3 (KD_EXIT_REQUEUE), and this script requeues the job (`scontrol requeue`), which then
# starts again from the top and resumes from the checkpoint. At most KD_MAX_REQUEUES requeues (default 20).
#
#   kd_job_exec <tag> <out-dir> <command ...>
#
# runs a serial command (no launcher, no requeue: e.g. the study report of a sweep) with the same log and exit file.
#
#   kd_sweep_read <sweep-file>
#
# reads a sweep file (docs/slurm.md, "Composite study") into kd_sweep_names[] and kd_sweep_options[]: case i (from 1)
# at index i-1, its kdpinn options as one string of space-separated words. Shared by slurm/submit --sweep,
# slurm/run.sbatch (an array task picks its case) and local runners such as jobs/composite-study.sh.
#
# Environment:
#   KDPINN           the driver (default: kdpinn on PATH)
#   KD_LAUNCH        the command that starts the ranks (default: srun --kill-on-bad-exit=1). Open MPI's
#                    `mpirun` reads the Slurm allocation by itself and forwards SIGUSR1 to the ranks too.
#   KD_MAX_REQUEUES  see above

KD_EXIT_REQUEUE=3

kd_job_usage() {
  echo "usage: sbatch [sbatch options] $1 <options-file> <output-dir> [kdpinn options ...]" >&2
  exit 2
}

# Forward a stop request to the job step. The step may not have started yet: then it is remembered and the step
# is not started at all (nothing to checkpoint, the job is requeued as it is).
kd_job_on_usr1() {
  kd_stop_requested=1
  kd_wait_interrupted=1
  echo "kdpinn job: SIGUSR1 at $(date '+%F %T'): asking ${kd_tag} to checkpoint and stop"
  if [ -n "${kd_step_pid:-}" ]; then kill -USR1 "$kd_step_pid" 2> /dev/null; fi
}

# SIGTERM comes from Slurm to every process of the job (scancel, time limit, preemption): kdpinn gets it directly
# and checkpoints; the job must not requeue itself then (Slurm is ending or requeuing it already).
kd_job_on_term() {
  kd_terminated=1
  kd_wait_interrupted=1
  echo "kdpinn job: SIGTERM at $(date '+%F %T')"
}

kd_job_run() {
  local stage=$1 tag=$2 opts=$3 out=$4
  [ $# -ge 4 ] || kd_job_usage "slurm/${stage}.sbatch"
  shift 4
  kd_tag=$tag
  local kdpinn=${KDPINN:-kdpinn}
  local launch=${KD_LAUNCH:-srun --kill-on-bad-exit=1}
  local restarts=${SLURM_RESTART_COUNT:-0}
  local logdir="$out/logs" rc state
  [ -r "$opts" ] || { echo "kdpinn job: cannot read options file '$opts'" >&2; exit 2; }
  mkdir -p "$logdir" || exit 2

  kd_stop_requested=0 kd_terminated=0 kd_wait_interrupted=0 kd_step_pid=
  trap kd_job_on_usr1 USR1
  trap kd_job_on_term TERM
  {
    echo "=== kdpinn $stage ($tag): job ${SLURM_JOB_ID:-none}${SLURM_ARRAY_TASK_ID:+ array task $SLURM_ARRAY_TASK_ID}," \
      "restart $restarts, ${SLURM_NTASKS:-1} task(s) on ${SLURM_JOB_NODELIST:-$(hostname)}, $(date '+%F %T')"
    echo "=== $launch $kdpinn $stage -options_file $opts -kd_out $out $*"
  } >> "$logdir/$tag.log"
  echo "kdpinn job: $tag, log in $logdir/$tag.log"

  if [ "$kd_stop_requested" = 1 ]; then
    rc=$KD_EXIT_REQUEUE
  else
    # In the background, so that the shell runs its traps while the step runs (bash defers traps during a
    # foreground command); `wait` returns early on a trapped signal, so wait again until the step has exited.
    $launch "$kdpinn" "$stage" -options_file "$opts" -kd_out "$out" "$@" >> "$logdir/$tag.log" 2>&1 &
    kd_step_pid=$!
    while :; do
      kd_wait_interrupted=0
      wait "$kd_step_pid"
      rc=$?
      [ "$kd_wait_interrupted" = 1 ] || break
    done
  fi

  # done: finished; requeued: stopped at a signal with a checkpoint, will resume; stopped: the same, but not
  # requeued by this script (Slurm is ending the job, or the requeue limit is reached); failed: anything else.
  state=failed
  [ "$rc" = 0 ] && state="done"
  if [ "$rc" = "$KD_EXIT_REQUEUE" ]; then
    state=stopped
    if [ "$kd_terminated" = 1 ] || [ -z "${SLURM_JOB_ID:-}" ]; then
      :
    elif [ "$restarts" -ge "${KD_MAX_REQUEUES:-20}" ]; then
      echo "kdpinn job: $tag stopped, but it was requeued $restarts times already (KD_MAX_REQUEUES): not requeuing"
    else
      state=requeued
    fi
  fi
  echo "$rc $state job=${SLURM_JOB_ID:-none} restarts=$restarts" > "$logdir/$tag.exit"
  echo "=== exit $rc ($state) $(date '+%F %T')" >> "$logdir/$tag.log"
  echo "kdpinn job: $tag exit $rc ($state)"
  if [ "$state" = requeued ]; then
    # Requeuing a running job ends this script (Slurm signals it), so it comes last. Slurm holds a requeued job
    # for a while (slurm.conf AuthInfo cred_expire, 120 s by default) before it can start again.
    scontrol requeue "$SLURM_JOB_ID" || { echo "kdpinn job: scontrol requeue $SLURM_JOB_ID failed" >&2; exit "$rc"; }
    sleep 5 # let Slurm end the job as requeued, not as completed with our exit status
  fi
  exit "$rc"
}

kd_job_exec() {
  local tag=$1 out=$2 rc state
  [ $# -ge 3 ] || { echo "kdpinn job: kd_job_exec needs a tag, an output directory and a command" >&2; exit 2; }
  shift 2
  mkdir -p "$out/logs" || exit 2
  {
    echo "=== $tag: job ${SLURM_JOB_ID:-none}, restart ${SLURM_RESTART_COUNT:-0} on ${SLURM_JOB_NODELIST:-$(hostname)}," \
      "$(date '+%F %T')"
    echo "=== $*"
  } >> "$out/logs/$tag.log"
  echo "kdpinn job: $tag, log in $out/logs/$tag.log"
  "$@" >> "$out/logs/$tag.log" 2>&1
  rc=$?
  state=failed
  [ "$rc" = 0 ] && state="done"
  echo "$rc $state job=${SLURM_JOB_ID:-none} restarts=${SLURM_RESTART_COUNT:-0}" > "$out/logs/$tag.exit"
  echo "=== exit $rc ($state) $(date '+%F %T')" >> "$out/logs/$tag.log"
  echo "kdpinn job: $tag exit $rc ($state)"
  exit "$rc"
}

# One case per line: a name (letters, digits, '.', '_', '-'; not "logs", the study's own log directory) and the
# kdpinn options of the case; '#' starts a comment, blank lines are skipped. Values cannot hold spaces (no quoting).
# Returns 2 after a one-line error naming the file and line.
kd_sweep_read() {
  local file=$1 line name n=0
  local -a words
  local -A seen=()
  kd_sweep_names=() kd_sweep_options=()
  [ -f "$file" ] && [ -r "$file" ] || { echo "kdpinn sweep: cannot read sweep file '$file'" >&2; return 2; }
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    read -r -a words <<< "${line%%#*}"
    [ ${#words[@]} -gt 0 ] || continue
    name=${words[0]}
    if ! [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || [ "$name" = logs ]; then
      echo "kdpinn sweep: $file:$n: bad case name '$name' (letters, digits, '.', '_', '-'; not 'logs')" >&2
      return 2
    fi
    if [ -n "${seen[$name]:-}" ]; then
      echo "kdpinn sweep: $file:$n: case '$name' already on line ${seen[$name]}" >&2
      return 2
    fi
    if [ ${#words[@]} -gt 1 ] && [[ ${words[1]} != -* ]]; then
      echo "kdpinn sweep: $file:$n: case '$name': '${words[1]}' is not a kdpinn option (one name, then options)" >&2
      return 2
    fi
    seen[$name]=$n
    kd_sweep_names+=("$name")
    kd_sweep_options+=("${words[*]:1}")
  done < "$file"
  [ ${#kd_sweep_names[@]} -gt 0 ] || { echo "kdpinn sweep: no case in sweep file '$file'" >&2; return 2; }
}
