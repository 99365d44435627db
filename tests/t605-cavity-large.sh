#!/bin/bash
# t605: jobs/cavity-large.opts (the 4.95M-parameter teacher and its 495k student, sized for a cluster) runs every
# stage at its real network sizes: `kdpinn run` at 2 ranks with the point counts and step counts cut to a few (the
# reference at 32 x 32), then `kdpinn export` of the student (f64, f32, int8 C, compiled). Checks the parameter
# counts in the model files and results.json (4,950,123 and 495,023: 8 x 840 and 8 x 265 tanh networks with 2 inputs
# and 3 outputs), that every model was trained with the job's architecture, and that `slurm/submit --dry-run` of the
# job's documented command gives the train job its 256 tasks. About a minute on 2 cores.
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
note() { echo "t605 [$((SECONDS - t_start)) s]: $*"; }

rm -rf out
small=(-cavity_n 32 -kd_monitor_every 1
  -teacher_ncol 128 -teacher_nbc 64 -teacher_adam_steps 3 -teacher_lbfgs_steps 2 -teacher_checkpoint_every 0
  -student_distill_ncell 64 -student_distill_ncol 64 -student_ncol 64 -student_nbc 64 -student_adam_steps 3
  -student_distill_steps 1 -student_ramp_steps 1 -student_lbfgs_steps 1 -student_checkpoint_every 0
  -kd_validate_figures 0)
"$mpiexec" -n 2 "$kdpinn" run -options_file "$src/jobs/cavity-large.opts" -kd_out out "${small[@]}" > run.log 2>&1 ||
  { cat run.log; fail "kdpinn run of jobs/cavity-large.opts"; }
note "run done"
for p in f64 f32 int8; do
  "$kdpinn" export -options_file "$src/jobs/cavity-large.opts" -kd_out out -kd_model out/student_L1.h5 \
    -kd_precision $p -kd_export_name student_L1_$p > export-$p.log 2>&1 || { cat export-$p.log; fail "kdpinn export -kd_precision $p of the large student"; }
  ls out/export/student_L1_$p.c > /dev/null || fail "no out/export/student_L1_$p.c"
done
cc -std=c99 -O2 -c out/export/student_L1_int8.c -o student_L1_int8.o || fail "the exported int8 student does not compile"
note "export done"

"$python" - out << 'PY' || fail "model sizes"
import json, sys
import h5py
out = sys.argv[1]
want = {"teacher": (4950123, [2] + [840] * 8 + [3]), "student_L1": (495023, [2] + [265] * 8 + [3]),
        "scratch_L1": (495023, [2] + [265] * 8 + [3])}
res = {m["name"]: m for m in json.load(open(f"{out}/results.json"))["models"]}
for name, (params, widths) in want.items():
    with h5py.File(f"{out}/{name}.h5", "r") as f:
        got = [int(w) for w in f.attrs["widths"]]
        n = int(f.attrs["params"])
    assert got == widths, (name, got, widths)
    assert n == params == sum((widths[k] + 1) * widths[k + 1] for k in range(len(widths) - 1)), (name, n, params)
    assert res[name]["params"] == params, (name, res[name]["params"])
print(f"t605: teacher {want['teacher'][0]} parameters, student_L1 {want['student_L1'][0]} "
      f"({want['teacher'][0] / want['student_L1'][0]:.1f}x fewer)")
PY

# the documented submission: the train job gets the 256 tasks the job file is sized for
"$src/slurm/submit" --dry-run --kdpinn "$kdpinn" -o out-slurm --sbatch-train "--ntasks=256 --time=12:00:00" \
  --sbatch-distill "--ntasks=64 --time=4:00:00" "$src/jobs/cavity-large.opts" > submit.txt ||
  { cat submit.txt; fail "slurm/submit --dry-run jobs/cavity-large.opts"; }
grep "train.sbatch" submit.txt | grep -q -- "--ntasks=256" || { cat submit.txt; fail "the train job has no --ntasks=256"; }
note "ok"
