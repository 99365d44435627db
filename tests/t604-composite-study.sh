#!/bin/bash
# t604: the composite study (docs/slurm.md, "Composite study"):
#   a. `slurm/submit --sweep jobs/composite-sweep.txt --dry-run` prints one job array of 9 tasks (slurm/run.sbatch,
#      the sweep's copy in KD_SWEEP) and a report job (slurm/study.sbatch, jobs/composite-study.py) that waits for it
#      (afterok), and writes nothing; bad sweep files are refused with one line naming the file and line;
#   b. a 2-case sweep of tiny cases (-conduction_n 32) end to end at 2 ranks: case 2 as Slurm's array task 2 runs it
#      (slurm/run.sbatch outside Slurm, KD_CASE=2: stopped at a teacher step with exit 3, then resumed), then
#      jobs/composite-study.sh runs case 1, skips case 2 (its results.json exists) and writes the report; study.json holds each case's cell-problem K (= reference.h5
#      K_eff, 1e-12), the learned tensors (= results.json, 1e-12), the bounds (= the solver's printed Wiener and
#      Hashin-Shtrikman bounds, 1e-5 relative: two implementations of the formulas) and the field errors of every
#      model; slurm/study.sbatch (outside Slurm) writes the report with its log and exit file; a case added to
#      sweep.txt but not run is reported as missing, with exit 0;
#   c. the report refuses an empty directory and a missing one: non-zero exit, one line.
# About 20 s on 2 cores.
set -euo pipefail
src=${KD_SOURCE_DIR:?KD_SOURCE_DIR not set}
kdpinn=${KDPINN:?KDPINN not set}
mpiexec=${MPIEXEC:-mpiexec}
python=${KD_PYTHON:-python3}
t_start=$SECONDS
fail() {
  echo "FAIL: $*"
  exit 1
}
note() { echo "t604 [$((SECONDS - t_start)) s]: $*"; }

# (into files first: grep -q stops reading at the first match, and under pipefail the writer's SIGPIPE would fail)
for s in "$src/jobs/composite-study.sh" "$src/slurm/submit"; do
  "$s" --help > help.txt && grep -q "^usage: " help.txt || fail "$s --help prints no usage"
done
"$python" "$src/jobs/composite-study.py" -h > help.txt && grep -q "study.md" help.txt || fail "composite-study.py -h says nothing"

# ---------------------------------------------------------------------------------------------------------------
# a. The Slurm dry run of the whole sweep
# ---------------------------------------------------------------------------------------------------------------
rm -rf dry study empty bad*.txt
"$src/slurm/submit" --sweep "$src/jobs/composite-sweep.txt" --dry-run --kdpinn "$kdpinn" -o "$PWD/dry" \
  "$src/jobs/composite.opts" -teacher_adam_steps 7 > dry-run.sh 2> dry-run.err || {
  cat dry-run.err
  fail "slurm/submit --sweep --dry-run failed"
}
cat dry-run.sh
[ ! -e dry ] || fail "--dry-run created the output directory"
[ "$(grep -c "sbatch " dry-run.sh)" = 2 ] || fail "the dry run must have 2 sbatch commands (the array and the report)"
run_job=$(grep -E '^JOB_run=' dry-run.sh) || fail "the dry run has no job 'run'"
study_job=$(grep -E '^JOB_study=' dry-run.sh) || fail "the dry run has no job 'study'"
grep -q -- "--array=1-9 " <<< "$run_job" || fail "the cases are not one array of 9 tasks: $run_job"
grep -q "KD_SWEEP=$PWD/dry/sweep.txt" <<< "$run_job" || fail "the array does not read the sweep's copy: $run_job"
grep -q "/slurm/run.sbatch $src/jobs/composite.opts $PWD/dry -teacher_adam_steps 7)\$" <<< "$run_job" ||
  fail "the array does not run slurm/run.sbatch <options file> <out> <kdpinn options>: $run_job"
grep -q -- "--dependency=afterok:\$JOB_run " <<< "$study_job" || fail "the report does not wait for the array: $study_job"
grep -q "/slurm/study.sbatch $src/jobs/composite-study.py $PWD/dry)\$" <<< "$study_job" ||
  fail "the report job does not run jobs/composite-study.py on the study directory: $study_job"
grep -qE "cp .*/jobs/composite-sweep.txt $PWD/dry/sweep.txt\$" dry-run.sh || fail "the dry run does not copy the sweep file"
# bad sweep files: one line naming the file and line, exit 2, nothing submitted
printf 'a -conduction_k2 2\nb conduction_k2 3\n' > bad1.txt
printf 'a -conduction_k2 2\n# comment\n\na -conduction_k2 3\n' > bad2.txt
printf 'a/b -conduction_k2 2\n' > bad3.txt
printf '# only a comment\n' > bad4.txt
for f in bad1.txt:2 bad2.txt:4 bad3.txt:1 bad4.txt; do
  rc=0
  "$src/slurm/submit" --sweep "${f%%:*}" --dry-run --kdpinn "$kdpinn" -o "$PWD/dry" "$src/jobs/composite.opts" \
    > bad.out 2> bad.err || rc=$?
  [ $rc = 2 ] && [ ! -s bad.out ] && [ "$(wc -l < bad.err)" = 1 ] && grep -q "${f}" bad.err ||
    fail "sweep file $f: want exit 2 and one line naming it, got exit $rc: $(cat bad.err bad.out)"
done
rc=0
"$src/slurm/submit" --sweep "$src/jobs/composite-sweep.txt" --stages solve --dry-run --kdpinn "$kdpinn" \
  "$src/jobs/composite.opts" > /dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "--sweep with --stages: want exit 2, got $rc"
note "a. dry run: one array of 9 tasks, a report after it; bad sweep files refused"

# ---------------------------------------------------------------------------------------------------------------
# b. A 2-case study end to end
# ---------------------------------------------------------------------------------------------------------------
cat > sweep.txt << 'EOF'
# t604: two tiny cases
c10-eps4   -conduction_k2 10  -conduction_eps 0.25   -kd_levels 4   # homogenized level 3 (4 cells)
c4-eps8    -conduction_k2 4   -conduction_eps 0.125  -kd_levels 3   # homogenized level 2 (8 cells)
EOF
tiny=(-conduction_n 32 -kd_reference_coarsen 0 -conduction_cell_n 32 -teacher_widths 16,16 -teacher_ncol 500
  -teacher_nbc 100 -teacher_adam_steps 150 -teacher_lbfgs_steps 0 -teacher_gn_steps 0 -teacher_resample_every 0
  -teacher_checkpoint_every 0
  -student_widths 8,8 -student_ncol 300 -student_nbc 100 -student_distill_ncell 256 -student_distill_ncol 256
  -student_adam_steps 100 -student_distill_steps 50 -student_ramp_steps 50 -student_lbfgs_steps 0
  -student_resample_every 0 -student_checkpoint_every 0 -kd_validate_figures false -kd_validate_repeats 1)
mkdir -p study
cp sweep.txt study/sweep.txt
# Case 2 as array task 2 of the Slurm job runs it (kdpinn-job.sh outside Slurm: no requeue, job=none): first stopped
# at a teacher step as at a time limit (exit 3, a checkpoint), then again, resuming from the checkpoint.
task2() {
  KDPINN_SLURM_DIR=$src/slurm KDPINN=$kdpinn KD_LAUNCH="$mpiexec -n 2" KD_SWEEP=$PWD/study/sweep.txt KD_CASE=2 \
    bash "$src/slurm/run.sbatch" "$src/jobs/composite.opts" "$PWD/study" "${tiny[@]}" "$@" > task2.out 2>&1
}
rc=0
task2 -teacher_stop_at_step 60 || rc=$?
read -r code state _ < study/c4-eps8/logs/run.exit || fail "case 2: no study/c4-eps8/logs/run.exit"
[ $rc = 3 ] && [ "$code $state" = "3 stopped" ] || {
  cat task2.out
  fail "case 2 stopped at step 60: exit $rc, run.exit '$code $state' (want 3, '3 stopped')"
}
rc=0
task2 || rc=$?
grep -q "restarting from checkpoint .* at step 60" study/c4-eps8/logs/run.log || fail "case 2 did not resume at step 60"
[ $rc = 0 ] || {
  cat task2.out
  tail -n 20 study/c4-eps8/logs/run.log
  fail "slurm/run.sbatch, case 2: exit $rc"
}
read -r code state _ < study/c4-eps8/logs/run.exit || fail "case 2: no study/c4-eps8/logs/run.exit"
[ "$code $state" = "0 done" ] || fail "case 2: run.exit says '$code $state'"
want="kdpinn run -options_file $src/jobs/composite.opts -kd_out $PWD/study/c4-eps8"
want+=" -conduction_k2 4 -conduction_eps 0.125 -kd_levels 3 -conduction_n 32 .* -kd_validate_repeats 1 -kd_restart\$"
grep -q -- "$want" study/c4-eps8/logs/run.log ||
  fail "case 2 did not run its options, then the extra ones: $(grep '^===' study/c4-eps8/logs/run.log)"
[ -s study/c4-eps8/results.json ] || fail "case 2: no results.json"
[ ! -e study/c10-eps4 ] || fail "array task 2 touched case 1"
note "b. case 2 as array task 2: stopped, resumed, done"

rc=0
"$src/jobs/composite-study.sh" --out study --sweep sweep.txt --ranks 2 --kdpinn "$kdpinn" --python "$python" \
  "${tiny[@]}" > runner.out 2>&1 || rc=$?
cat runner.out
[ $rc = 0 ] || {
  tail -n 20 study/c10-eps4/logs/run.log
  fail "jobs/composite-study.sh: exit $rc"
}
grep -q "\[1/2\] c10-eps4: done" runner.out || fail "the runner did not run case 1"
grep -q "\[2/2\] c4-eps8: skipped" runner.out || fail "the runner did not skip case 2, whose results.json exists"
for f in study.md study.json study-keff.png; do [ -s "study/$f" ] || fail "no study/$f"; done
[ "$(head -c 8 study/study-keff.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "study-keff.png is no PNG"
for s in "## Effective conductivity" "## Bounds" "## Field errors per level" "| c10-eps4 | ok |" "| c4-eps8 | ok |"; do
  grep -qF "$s" study/study.md || fail "study.md has no '$s'"
done
"$python" - study << 'EOF' || fail "study.json does not match the cases' files"
import json, os, re, sys
import h5py
out = sys.argv[1]
study = json.load(open(os.path.join(out, "study.json")))
cases = {c["name"]: c for c in study["cases"]}
assert list(cases) == ["c10-eps4", "c4-eps8"], list(cases)
for name, hom, levels in (("c10-eps4", 3, 4), ("c4-eps8", 2, 3)):
    c = cases[name]
    assert c["status"] == "ok", (name, c["status"])
    with h5py.File(os.path.join(out, name, "reference.h5"), "r") as ref:
        K = [float(v) for v in ref.attrs["K_eff"].ravel()]
    Kc = c["K_cell"]
    assert max(abs(Kc[i][j] - K[2 * i + j]) for i in range(2) for j in range(2)) <= 1e-12 * abs(K[0]), (name, Kc, K)
    assert c["homogenized_level"] == hom and c["levels"] == levels, (name, c["homogenized_level"], c["levels"])
    res = json.load(open(os.path.join(out, name, "results.json")))
    ec = {k: v for k, v in res["effective_conductivity"].items() if k != "cell_problem"}
    assert ec and set(c["learned"]) == set(ec), (name, list(c["learned"]), list(ec))
    assert "student_L%d" % hom in ec, (name, list(ec))
    for model, K in ec.items():
        L = c["learned"][model]["K"]
        assert max(abs(L[i][j] - K[i][j]) for i in range(2) for j in range(2)) <= 1e-12 * abs(K[0][0]), (name, model)
        err = max(abs(K[i][j] - Kc[i][j]) for i in range(2) for j in range(2)) / max(abs(v) for r in Kc for v in r)
        assert abs(c["learned"][model]["error"] - err) <= 1e-12, (name, model)
    # the solver prints the bounds with -kd_monitor (jobs/composite.opts): Wiener [harmonic, arithmetic], HS [lower, upper]
    log = open(os.path.join(out, name, "logs", "run.log")).read()
    m = re.search(r"bounds: Wiener \[([^,]+), ([^]]+)\], Hashin-Shtrikman \[([^,]+), ([^]]+)\]", log)
    assert m, (name, "no bounds line in run.log")
    b = c["bounds"]
    for key, v in zip(("wiener_harmonic", "wiener_arithmetic", "hs_lower", "hs_upper"), m.groups()):
        assert abs(b[key] - float(v)) <= 1e-5 * float(v), (name, key, b[key], v)
    assert abs(b["dykhne"] - (c["k1"] * c["k2"]) ** 0.5) <= 1e-12 * b["dykhne"], (name, b)
    want = {"teacher"} | {"%s_L%d" % (m, l) for l in range(1, levels) for m in ("student", "scratch")}
    assert set(c["rel_l2"]) == want and all(v is not None and v > 0 for v in c["rel_l2"].values()), (name, c["rel_l2"])
assert study["missing"] == [], study["missing"]
EOF
note "b. runner: case 1 run, case 2 skipped; study.md, study.json, study-keff.png; numbers match"

# The report job as Slurm runs it (outside Slurm); then a case listed but never run is reported as missing.
echo "c2-eps4 -conduction_k2 2 -conduction_eps 0.25 -kd_levels 4" >> study/sweep.txt
rm study/study.json
rc=0
KDPINN_SLURM_DIR=$src/slurm KD_PYTHON=$python bash "$src/slurm/study.sbatch" "$src/jobs/composite-study.py" "$PWD/study" \
  > study-job.out 2>&1 || rc=$?
[ $rc = 0 ] || { cat study-job.out study/logs/study.log; fail "slurm/study.sbatch: exit $rc"; }
read -r code state _ < study/logs/study.exit || fail "no study/logs/study.exit"
[ "$code $state" = "0 done" ] || fail "study.exit says '$code $state'"
"$python" -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["missing"] == ["c2-eps4"] and [c["status"] for c in s["cases"]] == ["ok", "ok", "missing"], s["missing"]' \
  study/study.json || fail "a case listed in sweep.txt but not run is not reported as missing"
grep -qF "| c2-eps4 | missing |" study/study.md || fail "study.md does not list c2-eps4 as missing"
note "b. slurm/study.sbatch: report written, missing case listed"

# ---------------------------------------------------------------------------------------------------------------
# c. No case at all
# ---------------------------------------------------------------------------------------------------------------
mkdir -p empty
for dir in empty no-such-dir; do
  rc=0
  "$python" "$src/jobs/composite-study.py" "$dir" > refuse.out 2> refuse.err || rc=$?
  [ $rc != 0 ] && [ "$(wc -l < refuse.err)" = 1 ] && [ ! -s refuse.out ] ||
    fail "composite-study.py $dir: want a non-zero exit and one line, got exit $rc: $(cat refuse.err refuse.out)"
  cat refuse.err
  [ $dir != empty ] || grep -q "no case in 'empty'" refuse.err || fail "the message for 'empty' does not say it has no case"
done
[ -z "$(ls empty)" ] || fail "composite-study.py wrote into a directory without cases"
note "c. no case: refused"
note "t604 passed"
