#!/bin/bash
# Inference benchmark (label bench): `kdpinn bench` and the same networks' forward pass in PyTorch (float64, one thread,
# tests/bench-torch-infer.py) on the same points, in the same run; prints kdpinn's table and the speedups over PyTorch.
# Timing only: fails if a run fails, never on a time. The issue's targets (int8 student of the cavity case >= 30 fps
# on a 256 x 256 field with <= 1% loss; f64 >= 3x and int8 >= 10x faster than PyTorch) are reported as met or not.
#
# Usage: t910-bench-infer.sh [KD_OUT]
#   KD_OUT: an output directory with trained models (e.g. of `kdpinn run -options_file jobs/cavity.opts`); without it,
#   briefly trained models of the default architectures are made here (teacher 64x4; cavity student 20,20,20, Burgers
#   student 20,20): the timings depend on the architecture, not on the training.
set -u
fail() { echo "FAIL: $*"; exit 1; }
dirs=()
if [ $# -ge 1 ]; then
  dirs=("$1")
else
  rm -rf cavity burgers
  "$KDPINN" solve -kd_out cavity -kd_pde cavity -kd_levels 2 -cavity_n 64 > solve-cavity.log 2>&1 || { cat solve-cavity.log; fail "cavity solve"; }
  "$KDPINN" train -kd_out cavity -kd_pde cavity -teacher_ncol 500 -teacher_adam_steps 20 -teacher_lbfgs_steps 0 -teacher_checkpoint_every 0 \
    > train-cavity.log 2>&1 || { cat train-cavity.log; fail "cavity train"; }
  "$KDPINN" distill -kd_out cavity -kd_pde cavity -kd_levels 2 -student_widths 20,20,20 -student_ncol 500 -student_adam_steps 20 \
    -student_lbfgs_steps 0 -student_checkpoint_every 0 > distill-cavity.log 2>&1 || { cat distill-cavity.log; fail "cavity distill"; }
  "$KDPINN" solve -kd_out burgers -kd_pde burgers -kd_levels 2 -burgers_nx 1024 -burgers_nt 128 > solve-burgers.log 2>&1 || { cat solve-burgers.log; fail "burgers solve"; }
  "$KDPINN" train -kd_out burgers -kd_pde burgers -teacher_ncol 500 -teacher_adam_steps 20 -teacher_lbfgs_steps 0 -teacher_checkpoint_every 0 \
    > train-burgers.log 2>&1 || { cat train-burgers.log; fail "burgers train"; }
  "$KDPINN" distill -kd_out burgers -kd_pde burgers -kd_levels 2 -student_ncol 500 -student_adam_steps 20 -student_lbfgs_steps 0 \
    -student_checkpoint_every 0 > distill-burgers.log 2>&1 || { cat distill-burgers.log; fail "burgers distill"; }
  dirs=(cavity burgers)
fi
for d in "${dirs[@]}"; do
  models=()
  for m in "$d"/teacher.h5 "$d"/student_L*.h5; do [ -f "$m" ] && models+=("$m"); done
  "$KDPINN" bench -kd_out "$d" > "$d/bench.log" 2>&1 || { cat "$d/bench.log"; fail "kdpinn bench in $d"; }
  cat "$d/bench.md"
  "$KD_PYTHON" "$KD_SOURCE_DIR/tests/bench-torch-infer.py" --reference "$d/reference.h5" "${models[@]}" > "$d/torch.json" 2> "$d/torch.log" ||
    { cat "$d/torch.log"; fail "PyTorch baseline in $d"; }
  "$KD_PYTHON" - "$d" <<'EOF' || fail "ratios"
import json, sys
d = sys.argv[1]
b = json.load(open(f"{d}/bench.json"))["bench"]["models"]
t = json.load(open(f"{d}/torch.json"))
print(f"\n{d}: speedup over PyTorch {t['torch']} (float64, {t['threads']} thread, OPENBLAS_CORETYPE={t['openblas_coretype'] or 'default'}), same points")
print("| model | variant | 1 point | 1024 points | field | field fps |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
for name, m in b.items():
    tm = t["models"][name]
    assert tm["field_points"] == m["field_points"], (name, tm["field_points"], m["field_points"])
    print(f"| {name} | PyTorch f64 | {tm['latency_1_us']:.1f} us | {tm['batch_1024_ms']:.3f} ms | {tm['field_ms']:.2f} ms | {1e3 / tm['field_ms']:.0f} |")
    for v in ("f64", "f64_export", "f32_export", "int8_export"):
        f = m[v]
        print(f"| | {v} | {tm['latency_1_us'] / f['latency_1_us']:.1f}x | {tm['batch_1024_ms'] / f['batch_1024_ms']:.1f}x | "
              f"{tm['field_ms'] / f['field_ms']:.1f}x | {f['fps']:.0f} |")
for name, m in b.items():
    if not name.startswith("student"):
        continue
    tm = t["models"][name]
    i8, f64 = m["int8_export"], m["f64"]
    shape = "x".join(str(s) for s in m["field_shape"])
    print(f"{d} {name}: int8 {i8['fps']:.0f} fps on the {shape} field (target >= 30: {'met' if i8['fps'] >= 30 else 'NOT met'}), "
          f"loss {100 * i8['loss_vs_f64']:.2f}% vs f64 (target <= 1%: {'met' if i8['loss_vs_f64'] <= 0.01 else 'NOT met'}); "
          f"field vs PyTorch: f64 library {tm['field_ms'] / f64['field_ms']:.1f}x (target >= 3x: {'met' if tm['field_ms'] >= 3 * f64['field_ms'] else 'NOT met'}), "
          f"int8 {tm['field_ms'] / i8['field_ms']:.1f}x (target >= 10x: {'met' if tm['field_ms'] >= 10 * i8['field_ms'] else 'NOT met'})")
EOF
done
echo PASS
