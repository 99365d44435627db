#!/bin/bash
# Inference at KD-PINN's scale (docs/benchmarks.md, "The 5M -> 500k row"): the 4.95M-parameter cavity teacher of
# jobs/cavity-large.opts (8 x 840) against its 495k student (8 x 265), on one core, in one run:
#   kdpinn bench   the teacher and the student, each in all four variants (the library in f64, the f64, f32 and int8
#                  exports; the teacher's sources take minutes to compile);
#   PyTorch        both networks' forward pass, float64, one thread (tests/bench-torch-infer.py), the same points.
# A latency needs no trained weights: the models are made by a few steps of the job at its real network sizes (as
# t605 does). Prints kdpinn's tables, then teacher / student and PyTorch / kdpinn ratios.
#
# usage: bench-large-infer.sh BENCH_DGEMM [--quick] [--repeats N]
#   --quick    the field of 64 x 64 points instead of 256 x 256, 3 repeats (a smoke run of the script)
#   --repeats  timed samples per figure (default 5; a teacher's field takes seconds)
# Environment: KDPINN, MPIEXEC, KD_PYTHON, KD_SOURCE_DIR as CTest sets them. Timing only: fails if a run fails.
set -euo pipefail
dgemm=$1
shift
quick=0 repeats=5
while [ $# -gt 0 ]; do
  case $1 in
  --quick) quick=1 repeats=3 ;;
  --repeats)
    repeats=$2
    shift
    ;;
  *)
    echo "bench-large-infer: unknown argument $1" >&2
    exit 2
    ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
src=${KD_SOURCE_DIR:-$here/..}
kdpinn=${KDPINN:-$(dirname "$dgemm")/../kdpinn}
python=${KD_PYTHON:-/usr/bin/python3}
mpiexec=${MPIEXEC:-mpiexec}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
. "$here/bench-blas.sh"
fail() {
  echo "bench-large-infer: $*" >&2
  exit 1
}
field=256
[ $quick = 1 ] && field=64
start=$SECONDS
load0=$(cut -d' ' -f1 /proc/loadavg)

rm -rf large
few=(-cavity_n 64 -kd_validate_figures 0 -teacher_ncol 128 -teacher_nbc 64 -teacher_adam_steps 2 -teacher_lbfgs_steps 0
  -teacher_checkpoint_every 0 -student_distill_ncell 64 -student_distill_ncol 64 -student_ncol 64 -student_nbc 64
  -student_adam_steps 2 -student_distill_steps 1 -student_ramp_steps 1 -student_lbfgs_steps 0
  -student_checkpoint_every 0 -kd_distill_models student)
for stage in solve train distill; do
  "$mpiexec" -n 2 "$kdpinn" $stage -options_file "$src/jobs/cavity-large.opts" -kd_out large "${few[@]}" \
    > $stage.log 2>&1 || { cat $stage.log; fail "kdpinn $stage"; }
done
b=(-options_file "$src/jobs/cavity-large.opts" -kd_out large -kd_bench_field $field -kd_bench_repeats "$repeats"
  -kd_bench_warmup 1)
"$kdpinn" bench "${b[@]}" -kd_bench_models large/teacher.h5 -kd_bench_dir large/bench-teacher \
  > bench-teacher.log 2>&1 || { cat bench-teacher.log; fail "kdpinn bench (teacher)"; }
cp large/bench.json bench-teacher.json
"$kdpinn" bench "${b[@]}" -kd_bench_models large/student_L1.h5 -kd_bench_dir large/bench-student \
  > bench-student.log 2>&1 || { cat bench-student.log; fail "kdpinn bench (student)"; }
cp large/bench.json bench-student.json
"$python" "$here/bench-torch-infer.py" --field $field --repeats "$repeats" --warmup 1 large/teacher.h5 \
  large/student_L1.h5 > torch.json 2> torch.log || { cat torch.log; fail "PyTorch baseline"; }

"$python" - "$load0" "$(cut -d' ' -f1 /proc/loadavg)" $((SECONDS - start)) "$repeats" << 'EOF' || fail "tables"
import json, platform, sys
load0, load1, secs, repeats = sys.argv[1:5]
t = json.load(open("torch.json"))
m = json.load(open("bench-teacher.json"))["bench"]["models"] | json.load(open("bench-student.json"))["bench"]["models"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"{cpu}; one thread; load average {load0} at start, {load1} at end; {secs} s; median of {repeats} samples "
      f"after 1 warm-up call; PyTorch {t['torch']} float64, OPENBLAS_CORETYPE={t['openblas_coretype'] or 'default'}")
print()
print("| model | params | variant | 1 point | 1024 points | field | field: PyTorch / variant | loss vs f64 |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
for name in ("teacher", "student_L1"):
    b, tm = m[name], t["models"][name]
    assert tm["field_points"] == b["field_points"], (name, tm["field_points"], b["field_points"])
    shape = "x".join(str(s) for s in b["field_shape"])
    print(f"| {name} | {b['params']} | PyTorch f64 | {tm['latency_1_us']:.0f} us | {tm['batch_1024_ms']:.2f} ms | "
          f"{tm['field_ms']:.0f} ms ({shape}) | 1 | |")
    for v in ("f64", "f64_export", "f32_export", "int8_export"):
        if v in b:
            f = b[v]
            print(f"| | | {v} | {f['latency_1_us']:.0f} us | {f['batch_1024_ms']:.2f} ms | {f['field_ms']:.0f} ms | "
                  f"{tm['field_ms'] / f['field_ms']:.2f}x | {f['loss_vs_f64']:.2e} |")
print()
T, S = m["teacher"], m["student_L1"]
print(f"teacher / student parameters: {T['params'] / S['params']:.1f}x")
for what, key in (("1 point", "latency_1_us"), ("1024 points", "batch_1024_ms"), ("field", "field_ms")):
    row = [f"f64 library {T['f64'][key] / S['f64'][key]:.1f}x",
           f"f32 export {T['f32_export'][key] / S['f32_export'][key]:.1f}x",
           f"int8 export {T['int8_export'][key] / S['int8_export'][key]:.1f}x",
           f"teacher f64 library / student int8 export {T['f64'][key] / S['int8_export'][key]:.1f}x",
           f"PyTorch {t['models']['teacher'][key] / t['models']['student_L1'][key]:.1f}x"]
    print(f"teacher / student time, {what}: " + ", ".join(row))
EOF
