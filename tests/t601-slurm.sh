#!/bin/bash
# t601: the Slurm job scripts on a real one-node Slurm.
#
# Brings up munged, slurmctld and slurmd (Debian's munge and slurm-wlm) with their configuration, sockets, state and
# logs in this test's scratch directory, then:
#   1. submits the default case (jobs/burgers.opts, shrunk on the command line so that every job takes seconds)
#      through slurm/submit, with every stage this driver has (kdpinn <stage> -help exits 0; solve and train are
#      required), waits for the jobs, and checks each job's state and exit code (scontrol), its exit file and log
#      under <out>/logs, and the files each stage must write. With -kd_chain direct the students are one job array
#      (one task per level, -kd_level <task id>, one rank each so that the tasks fit side by side); the dry run of
#      the default -kd_chain chain must give a job array of the scratch twins beside a chain of one student job
#      per level, and a validate job that waits for both;
#   2. runs one signal-and-requeue cycle: a train job of the same case gets SIGUSR1 on its batch shell in the middle
#      of training (`scancel --signal=USR1 --batch`, as --signal=B:USR1@<s> does before the time limit); kdpinn
#      must checkpoint and exit 3, the job requeue itself, resume from the checkpoint and finish, and its teacher.h5
#      must equal the uninterrupted pipeline's bit for bit (the trainer's restart promise: no tolerance).
# Tears the daemons down by the PIDs in their pid files on every exit. If Slurm cannot be brought up, the test fails
# and says why: it never skips.
set -uo pipefail

# Everything must be done within TIME_BOUND seconds of the start (it took 35-90 s on 2 busy cores),
# so that the test fails by itself, cleaning up, well before CTest's timeout (400 s) would kill it.
TIME_BOUND=300
deadline=$((SECONDS + TIME_BOUND))
src=${KD_SOURCE_DIR:?KD_SOURCE_DIR not set}
kdpinn=${KDPINN:?KDPINN not set}
python=${KD_PYTHON:-python3}
scratch=$PWD/slurm-scratch
t_start=$(date +%s)

die() {
  echo "FAIL: $*"
  exit 1
}
note() { echo "t601 [$(($(date +%s) - t_start)) s]: $*"; }

# ---------------------------------------------------------------------------------------------------------------
# Bring-up
# ---------------------------------------------------------------------------------------------------------------
for prog in munged slurmctld slurmd sbatch squeue scontrol scancel sinfo runuser; do
  command -v "$prog" > /dev/null || [ -x "/usr/sbin/$prog" ] ||
    die "$prog not found: install Debian's slurm-wlm and munge (make deps does)"
done
[ "$(id -u)" = 0 ] || die "must run as root (it starts munged as the munge user, and slurmd)"
id munge > /dev/null 2>&1 || die "no munge user: is Debian's munge package installed?"
PATH=$PATH:/usr/sbin

cleanup() {
  local rc=$?
  if [ -f "$scratch/slurmctld.pid" ]; then
    # Jobs first, while the controller can still end them; then the daemons, by PID.
    local jobs
    jobs=$(squeue -h -o %A 2> /dev/null | sort -u)
    [ -z "$jobs" ] || scancel $jobs 2> /dev/null
    for _ in $(seq 20); do
      [ -z "$(squeue -h 2> /dev/null)" ] && break
      sleep 0.25
    done
  fi
  local pids=()
  for f in "$scratch/slurmd.pid" "$scratch/slurmctld.pid" "${tmp_dir:-/nonexistent}/munge/munged.pid"; do
    [ -s "$f" ] || continue
    local pid
    pid=$(cat "$f")
    kill "$pid" 2> /dev/null && pids+=("$pid")
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 40); do
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2> /dev/null && kill -9 "$pid" 2> /dev/null
  done
  if [ -n "${tmp_dir:-}" ] && [ -d "$tmp_dir" ]; then
    cp "$tmp_dir/munge/munged.log" "$scratch/log/" 2> /dev/null
    rm -rf "$tmp_dir"
  fi
  if [ $rc -ne 0 ]; then
    echo "--- daemon logs (tail) ---"
    tail -n 15 "$scratch"/log/*.log 2> /dev/null
  fi
  note "daemons stopped; exit $rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

rm -rf "$scratch"
mkdir -p "$scratch"/{state,log} || die "cannot create $scratch"
host=$(hostname -s)

# Unix sockets (munged's, slurmd's spool) need paths under 108 bytes, and munged runs as the munge user, who must be
# able to traverse to its directory (a checkout under a private home is not): both live in a fresh directory under
# /tmp, removed on exit. munged has its own key, socket, pid and log: nothing of a system munge is touched.
tmp_dir=$(mktemp -d /tmp/kdpinn-t601.XXXXXX) && chmod 755 "$tmp_dir" || die "cannot create a directory under /tmp"
munge_dir=$tmp_dir/munge
mkdir -p "$munge_dir" "$tmp_dir/spool" && chown munge:munge "$munge_dir" && chmod 755 "$munge_dir" ||
  die "cannot prepare $munge_dir"
head -c 1024 /dev/urandom > "$munge_dir/munge.key" && chown munge:munge "$munge_dir/munge.key" &&
  chmod 600 "$munge_dir/munge.key" || die "cannot write a munge key"
socket=$munge_dir/munge.socket
runuser -u munge -- munged --socket="$socket" --key-file="$munge_dir/munge.key" --pid-file="$munge_dir/munged.pid" \
  --log-file="$munge_dir/munged.log" --seed-file="$munge_dir/munged.seed" ||
  die "munged did not start: $(tail -n 3 "$munge_dir/munged.log" 2> /dev/null)"

# Free TCP ports for this controller and slurmd, so that another Slurm on this machine (or another run of this
# test) does not collide; first job id random for the same reason (job ids name per-job scratch paths).
read -r ctld_port slurmd_port < <("$python" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])') || die "cannot find free ports"
first_job=$((1000 + RANDOM * 16))

# A requeued job is held for AuthInfo cred_expire seconds (default 120) before it may start again; 10 s here, and
# the scheduler runs every 2 s, so that the requeue cycle takes seconds.
export SLURM_CONF=$scratch/slurm.conf
cat > "$SLURM_CONF" << EOF
ClusterName=kdt601
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket,cred_expire=10
StateSaveLocation=$scratch/state
SlurmdSpoolDir=$tmp_dir/spool
SlurmctldPidFile=$scratch/slurmctld.pid
SlurmdPidFile=$scratch/slurmd.pid
SlurmctldLogFile=$scratch/log/slurmctld.log
SlurmdLogFile=$scratch/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
MinJobAge=3600
KillWait=10
ReturnToService=2
FirstJobId=$first_job
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=t601 Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -i || die "slurmctld did not start (see $scratch/log/slurmctld.log)"
slurmd || die "slurmd did not start (see $scratch/log/slurmd.log)"
state=""
for _ in $(seq 60); do
  state=$(sinfo -h -o %t 2> /dev/null)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || die "the node did not become idle within 30 s (sinfo says '$state')"
note "Slurm is up: controller port $ctld_port, node $host idle"

# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------
# wait_jobs <id>...: until none of the jobs is pending or running (or the deadline).
wait_jobs() {
  while [ -n "$(squeue -h -j "$(echo "$@" | tr ' ' ,)" -t PD,R,CG,CF,S,RQ,RS,SE 2> /dev/null)" ]; do
    [ "$SECONDS" -lt "$deadline" ] || {
      squeue
      die "jobs $* not done $TIME_BOUND s after the test started"
    }
    sleep 0.5
  done
}
# job_field <id> <Field>: the value of Field in `scontrol show job` (all array tasks, one per line).
job_field() { scontrol show job "$1" 2> /dev/null | grep -o "\b$2=[^ ]*" | cut -d= -f2; }
# check_job <name> <id> <tag>...: every task of the job COMPLETED with exit 0:0, and the exit file of each tag says 0.
check_job() {
  local name=$1 id=$2
  shift 2
  local states codes
  states=$(job_field "$id" JobState | sort -u | tr '\n' ' ')
  codes=$(job_field "$id" ExitCode | sort -u | tr '\n' ' ')
  [ "$states" = "COMPLETED " ] && [ "$codes" = "0:0 " ] || {
    for tag in "$@"; do tail -n 20 "$out/logs/$tag.log" 2> /dev/null; done
    die "job $name ($id): states '$states', exit codes '$codes' (want COMPLETED, 0:0)"
  }
  for tag in "$@"; do
    [ -s "$out/logs/$tag.log" ] || die "job $name: no log $out/logs/$tag.log"
    read -r rc st _ < "$out/logs/$tag.exit" 2> /dev/null || die "job $name: no exit file $out/logs/$tag.exit"
    [ "$rc $st" = "0 done" ] || die "job $name: $tag.exit says '$rc $st', want '0 done'"
  done
  note "job $name ($id): COMPLETED, exit 0; logs/$*.log"
}

# ---------------------------------------------------------------------------------------------------------------
# 1. The pipeline of the default case
# ---------------------------------------------------------------------------------------------------------------
case_file=$src/jobs/burgers.opts
[ -r "$case_file" ] || die "the default case $case_file is missing"
# Small enough that each job takes seconds at 2 ranks; the options every stage reads, so they go to all jobs. The case
# file's per-level options win over -student_gn_steps, so its level-1 polish and level-2 quantization are set apart.
# -kd_chain direct: the students of all levels are independent, so slurm/submit makes them one job array.
tiny=(-burgers_nx 256 -burgers_nt 64 -kd_levels 3 -kd_monitor -kd_monitor_every 10
  -teacher_widths 16,16 -teacher_ncol 1000 -teacher_adam_steps 3000 -teacher_lbfgs_steps 20 -teacher_gn_steps 0
  -teacher_checkpoint_every 250
  -student_ncol 500 -student_adam_steps 50 -student_lbfgs_steps 10 -student_gn_steps 0 -student_checkpoint_every 50
  -student_L1_gn_steps 0 -student_L2_quantize_steps 0 -kd_chain direct)
stages=""
for s in solve train distill validate; do
  if "$kdpinn" "$s" -help > /dev/null 2>&1; then
    stages+=${stages:+,}$s
  else
    case $s in solve | train) die "'kdpinn $s -help' fails: stage $s is required by this test" ;; esac
    note "stage $s is not in this driver yet: not submitted"
  fi
done
ranks=(--sbatch "--ntasks=2 --time=00:10:00" --sbatch-distill "--ntasks=1")
levels=3
# Into a file first: grep -q stops reading at the first match, and under pipefail the writer's SIGPIPE fails the test.
"$kdpinn" distill -help > distill-help.txt 2> /dev/null || true
grep -qE -- '-kd_level <' distill-help.txt || die "'kdpinn distill -help' lists no -kd_level"

out=$PWD/pipeline
rm -rf "$out"
"$src/slurm/submit" --dry-run --stages solve,frobnicate --kdpinn "$kdpinn" -o "$out" "$case_file" > /dev/null 2>&1 &&
  die "slurm/submit accepted an unknown stage"
"$src/slurm/submit" --dry-run --stages "$stages" --kdpinn "$kdpinn" "${ranks[@]}" -o "$out" "$case_file" "${tiny[@]}" \
  > dry-run.sh || die "slurm/submit --dry-run failed"
grep -q "sbatch " dry-run.sh && [ -z "$(squeue -h)" ] || die "--dry-run must print sbatch commands and submit nothing"
# The default chain: twins as one array after solve (beside train), students one job per level in turn, validate after
# both.
"$src/slurm/submit" --dry-run --kdpinn "$kdpinn" "${ranks[@]}" -o "$out" "$case_file" "${tiny[@]}" -kd_chain chain \
  > dry-run-chain.sh || die "slurm/submit --dry-run (chain) failed"
dry_job() { grep -E "^JOB_$1=" dry-run-chain.sh || die "the chain's dry run has no job $1"; }
dry_job distill_scratch | grep -- "--dependency=afterok:\$JOB_solve " | grep -- "--array=1-$((levels - 1)) " |
  grep -q "KD_DISTILL_MODELS=scratch" || die "the chain's twins are not one array after solve: $(dry_job distill_scratch)"
dry_job distill_L1 | grep -- "--dependency=afterok:\$JOB_train " | grep -- "--array=1 " |
  grep -q "KD_DISTILL_MODELS=student" || die "the chain's level-1 student does not follow train: $(dry_job distill_L1)"
dry_job distill_L2 | grep -- "--dependency=afterok:\$JOB_distill_L1 " | grep -- "--array=2 " > /dev/null ||
  die "the chain's level-2 student does not follow level 1: $(dry_job distill_L2)"
dry_job validate | grep -- "--dependency=afterok:\$JOB_distill_L2:\$JOB_distill_scratch " > /dev/null ||
  die "the chain's validate job does not wait for the last student and the twins: $(dry_job validate)"
"$src/slurm/submit" --stages "$stages" --kdpinn "$kdpinn" "${ranks[@]}" -o "$out" "$case_file" "${tiny[@]}" \
  > submitted.txt || die "slurm/submit failed"
cat submitted.txt
declare -A id=()
while read -r name jid; do
  [[ $jid =~ ^[0-9]+$ ]] || die "slurm/submit printed '$name $jid', not '<name> <job id>'"
  id[$name]=$jid
done < submitted.txt
# The pipeline is a chain in the order printed: each job after the first waits for the one before (afterok), in the
# dry run's commands and in what Slurm did (no job started before its predecessor had ended).
mapfile -t names < <(cut -d' ' -f1 submitted.txt)
for ((k = 1; k < ${#names[@]}; k++)); do
  prev=${names[$((k - 1))]//-/_}
  grep -E "^JOB_${names[$k]//-/_}=" dry-run.sh | grep -q -- "--dependency=afterok:\$JOB_$prev " ||
    die "the dry run's ${names[$k]} job does not depend on ${names[$((k - 1))]}"
done
wait_jobs "${id[@]}"
note "pipeline done"
for ((k = 1; k < ${#names[@]}; k++)); do
  first_start=$(job_field "${id[${names[$k]}]}" StartTime | sort | head -n 1)
  last_end=$(job_field "${id[${names[$((k - 1))]}]}" EndTime | sort | tail -n 1)
  [[ ! $first_start < $last_end ]] || die "job ${names[$k]} started at $first_start, before ${names[$((k - 1))]} ended at $last_end"
done

check_job solve "${id[solve]}" solve
[ -s "$out/reference.h5" ] || die "solve: no $out/reference.h5"
check_job train "${id[train]}" train
[ -s "$out/teacher.h5" ] || die "train: no $out/teacher.h5"
if [[ ,$stages, == *,distill,* ]]; then
  # -kd_chain direct: the levels are one job array, one task per level (its log and exit file distill-L<l>)
  tags=()
  for ((l = 1; l < levels; l++)); do tags+=("distill-L$l"); done
  [ -n "${id[distill]:-}" ] || die "slurm/submit did not submit a distill job for -kd_chain direct"
  tasks=$(job_field "${id[distill]}" ArrayTaskId | sort -n | tr '\n' ' ')
  [ "$tasks" = "$(seq -s ' ' 1 $((levels - 1))) " ] || die "distill job ${id[distill]}: array tasks '$tasks', want 1..$((levels - 1))"
  check_job distill "${id[distill]}" "${tags[@]}"
  for ((l = 1; l < levels; l++)); do
    grep -q -- "-kd_level $l " "$out/logs/distill-L$l.log" || die "array task $l did not run -kd_level $l"
    for f in "student_L$l.h5" "scratch_L$l.h5"; do [ -s "$out/$f" ] || die "distill: no $out/$f"; done
  done
  [ -e "$out/.kdpinn-distill.stamp" ] && die "per-level distill jobs marked the whole distill stage as done"
  note "distill array tasks 1..$((levels - 1)): started $(job_field "${id[distill]}" StartTime | sort | tr '\n' ' ')"
fi
if [[ ,$stages, == *,validate,* ]]; then
  check_job validate "${id[validate]}" validate
  for f in report.md results.json; do [ -s "$out/$f" ] || die "validate: no $out/$f"; done
fi

# ---------------------------------------------------------------------------------------------------------------
# 2. Signal and requeue: the train job of the same case, stopped in the middle and resumed
# ---------------------------------------------------------------------------------------------------------------
rq=$PWD/requeue
rm -rf "$rq"
mkdir -p "$rq"
cp "$out/reference.h5" "$rq/" || die "cannot copy reference.h5"
"$src/slurm/submit" --stages train --kdpinn "$kdpinn" "${ranks[@]}" -o "$rq" "$case_file" "${tiny[@]}" \
  > submitted-requeue.txt || die "slurm/submit --stages train failed"
read -r _ rqid < submitted-requeue.txt
[[ $rqid =~ ^[0-9]+$ ]] || die "slurm/submit --stages train printed '$(cat submitted-requeue.txt)'"

# Signal once training is under way (a monitor line past step 10 in the log) and far from the end of Adam (step 3000; a fast machine runs a step in about a millisecond):
# kdpinn must stop after the step it is in, write its checkpoint and exit 3; a run stopped within Adam must resume
# bit for bit (Adam's whole state is in the checkpoint).
step=0
while :; do
  step=$(grep -oE '^ *[0-9]+ teacher' "$rq/logs/train.log" 2> /dev/null | tail -n 1 | grep -oE '[0-9]+')
  step=${step:-0}
  [ "$step" -ge 10 ] && break
  [ "$SECONDS" -lt "$deadline" ] || die "train job $rqid: no training progress in its log by the deadline"
  [ -n "$(squeue -h -j "$rqid" 2> /dev/null)" ] || die "train job $rqid ended before it could be signalled"
  sleep 0.1
done
scancel --signal=USR1 --batch "$rqid" || die "scancel --signal=USR1 --batch $rqid failed"
note "train job $rqid: SIGUSR1 sent at step $step"
[ "$step" -lt 2000 ] || die "train job $rqid was already at step $step of 3000 when signalled: the cycle is not tested"

# It must requeue itself: Restarts=1, then run again to completion.
while [ "$(job_field "$rqid" Restarts)" != 1 ]; do
  if [ "$SECONDS" -ge "$deadline" ] || grep -qE "^[0-9]+ (failed|done|stopped) " "$rq/logs/train.exit" 2> /dev/null; then
    tail -n 5 "$rq/logs/train.log"
    die "train job $rqid was not requeued after SIGUSR1 (want exit 3, then a requeue); train.exit: $(cat "$rq/logs/train.exit" 2> /dev/null)"
  fi
  sleep 0.2
done
note "train job $rqid requeued"
wait_jobs "$rqid"
check_job train-requeued "$rqid" train
grep -q "^=== exit 3 (requeued)" "$rq/logs/train.log" || die "the first attempt did not exit 3 (requeued): see $rq/logs/train.log"
grep -q "restart 1," "$rq/logs/train.log" || die "the log has no second attempt (restart 1)"
grep -qE "restarting from checkpoint .* at step [1-9]" "$rq/logs/train.log" ||
  die "the second attempt did not resume from the checkpoint (a fresh start would end with the same model: the log must say)"
read -r _ _ _ restarts < "$rq/logs/train.exit"
[ "$restarts" = restarts=1 ] || die "train.exit says $restarts, want restarts=1"

# The resumed model equals the uninterrupted one exactly: same weights, bit for bit.
"$python" "$src/tests/model_equal.py" "$out/teacher.h5" "$rq/teacher.h5" ||
  die "the requeued teacher differs from the uninterrupted one"

note "t601: Slurm pipeline and signal/requeue cycle ok ($(($(date +%s) - t_start)) s)"
exit 0
