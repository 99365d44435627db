#!/bin/bash
# Non-finite numbers never pass through a reference:
#  - a solve that diverges (Burgers with nu = 1e300) stops with one line naming the PDE and the field, exit status
#    non-zero, and leaves no reference.h5 (nor its temporary) behind;
#  - a reference.h5 with one NaN value, and one with an infinity on a coarser level, are refused by the stages that
#    read it with one line naming the file and the dataset, instead of errors of nan reported with exit status 0.
set -u
fail() { echo "FAIL: $*"; exit 1; }
one_error() { # log pattern what
  [ "$(grep -c '^kdpinn: error:' "$1")" -eq 1 ] && grep -q -- "$2" "$1" || { cat "$1"; fail "$3: expected one error line matching '$2'"; }
}
rm -rf div good nan inf
burgers=(-kd_pde burgers -kd_levels 2 -burgers_nx 64 -burgers_nt 32)
"$MPIEXEC" -n 2 "$KDPINN" solve -kd_out div "${burgers[@]}" -burgers_nu 1e300 > div.log 2>&1 && fail "a diverged solve succeeded"
one_error div.log "the burgers solution is not finite: field u has [0-9]* NaN or infinite values" "diverged solve"
[ -z "$(ls -A div 2>/dev/null)" ] || { ls -la div; fail "the diverged solve left files in its output directory"; }

"$MPIEXEC" -n 2 "$KDPINN" solve -kd_out good "${burgers[@]}" > good.log 2>&1 || { cat good.log; fail "solve"; }
mkdir -p nan inf && cp good/reference.h5 nan/ && cp good/reference.h5 inf/
"$KD_PYTHON" - <<'PY' || fail "cannot damage the references"
import h5py, numpy as np
with h5py.File("nan/reference.h5", "a") as f:
    u = f["level_0/u"][...]; u[3, 5] = np.nan; f["level_0/u"][...] = u  # row-major cell 3 * 64 + 5 (axes t,x)
with h5py.File("inf/reference.h5", "a") as f:
    u = f["level_1/u"][...]; u[0, 0] = np.inf; f["level_1/u"][...] = u
PY
train=(-kd_pde burgers -teacher_widths 4 -teacher_adam_steps 1 -teacher_lbfgs_steps 0)
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out nan "${train[@]}" > nan.log 2>&1 && fail "training on a reference with a NaN succeeded"
one_error nan.log "nan/reference.h5: /level_0/u holds 1 NaN or infinite values (the first at cell $((3 * 64 + 5)))" "NaN in level 0"
[ ! -e nan/teacher.h5 ] || fail "teacher.h5 written from a reference with a NaN"
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out inf "${train[@]}" > inf.log 2>&1 && fail "training on a reference with an infinity succeeded"
one_error inf.log "inf/reference.h5: /level_1/u holds 1 NaN or infinite values (the first at cell 0)" "infinity in level 1"
echo PASS
