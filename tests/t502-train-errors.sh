#!/bin/bash
# Failures of training end with one error line and a non-zero exit status, at 2 ranks:
#  - NaN in the loss (injected on one rank) in the Adam and in the L-BFGS phase: the line names the step and the
#    last good checkpoint;
#  - -train_gn_steps > 0 on an objective that gives no least-squares rows (no KDTrainerSetResidual());
#  - -train_quantize_steps > 0 on a raw parameter buffer (no network, so no layers to quantize);
#  - an int, a real or an enum option given without a value (PETSc alone would keep the default, even over an options
#    file's value, without a word), and an enum value that is not one of its choices (PETSc would print that once
#    per rank);
#  - restart from a truncated checkpoint, from one with a flipped byte in the parameters or in the Adam state, and
#    from an HDF5 file of another kind: refused, the line names the file. The intact checkpoint restarts (control).
# Usage: t502-train-errors.sh <t500-trainer executable>
set -u
exe=$1
np=2
base=(-test_mode train -test_fit 1 -test_rosenbrock 0.01 -test_n 12 -test_points 64 -train_adam_lr 1e-2)
fail() { echo "FAIL: $*"; exit 1; }

# expect_error <name> <extended regex the single error line must match> <args...>
expect_error() {
  local name=$1 pattern=$2 status lines
  shift 2
  "$MPIEXEC" -n $np "$exe" "$@" > "$name.out" 2> "$name.err"
  status=$?
  [ $status -ne 0 ] || { cat "$name.out" "$name.err"; fail "$name: exit status 0"; }
  lines=$(grep -c '^kdpinn: error:' "$name.err")
  [ "$lines" -eq 1 ] || { cat "$name.err"; fail "$name: $lines error lines, expected exactly 1"; }
  grep '^kdpinn: error:' "$name.err" | grep -Eq -- "$pattern" || { cat "$name.err"; fail "$name: error line does not match '$pattern'"; }
  echo "$name: $(grep '^kdpinn: error:' "$name.err")"
}

rm -rf nan gn good bad*.h5 *.out *.err
# One Adam step is one evaluation, so evaluation 25 is step 25; the last checkpoint before it is step 20.
expect_error nan-adam 'NaN/Inf at step 25 \(adam\); last good checkpoint: nan/checkpoint_train\.h5 \(step 20\)$' \
  "${base[@]}" -kd_out nan -train_adam_steps 40 -train_lbfgs_steps 40 -train_checkpoint_every 10 -test_nan_at 25
expect_error nan-lbfgs 'NaN/Inf at step (4[1-9]|5[0-9]) \(lbfgs\); last good checkpoint: nan/checkpoint_train\.h5 \(step (40|50)\)$' \
  "${base[@]}" -kd_out nan -train_adam_steps 40 -train_lbfgs_steps 40 -train_checkpoint_every 10 -test_nan_at 60
expect_error gn '-train_gn_steps: Gauss-Newton needs a least-squares objective' "${base[@]}" -kd_out gn -train_gn_steps 1
expect_error quantize '-train_quantize_steps: only the layers after the first are quantized, and this trainer \(no network\) has none' \
  "${base[@]}" -kd_out gn -train_quantize_steps 2
printf -- '-train_adam_steps 30\n-train_adam_lr 1e-2\n' > steps.opts
expect_error empty-int '^kdpinn: error: -train_adam_steps needs a value' "${base[@]}" -kd_out gn -options_file steps.opts \
  -train_adam_steps
expect_error empty-real '^kdpinn: error: -train_adam_lr needs a value' "${base[@]}" -kd_out gn -train_adam_lr
expect_error empty-enum '^kdpinn: error: -train_quantize_rounding needs a value' "${base[@]}" -kd_out gn \
  -train_quantize_rounding
expect_error bad-enum '^kdpinn: error: -train_quantize_rounding fitted: not one of nearest, compensated$' \
  "${base[@]}" -kd_out gn -train_quantize_rounding fitted

# A complete checkpoint, then damaged copies of it.
"$MPIEXEC" -n $np "$exe" "${base[@]}" -kd_out good -train_adam_steps 30 -train_lbfgs_steps 10 -train_checkpoint_every 10 > good.out 2>&1 ||
  { cat good.out; fail "could not write a checkpoint"; }
ck=good/checkpoint_train.h5
size=$(stat -c %s $ck)
head -c $((size / 2)) $ck > bad-truncated.h5
"$KD_PYTHON" - $ck <<'EOF' || fail "could not make the corrupted copies"
import h5py, numpy as np, shutil, sys
src = sys.argv[1]
for name, dset in (("bad-params.h5", "parameters"), ("bad-adam.h5", "adam_v")):
    with h5py.File(src, "r") as f:
        off = f[dset].id.get_offset() + 8 * 3 + 2   # a byte inside the 4th value
    shutil.copy(src, name)
    with open(name, "r+b") as fp:
        fp.seek(off); b = fp.read(1); fp.seek(off); fp.write(bytes([b[0] ^ 0x10]))
with h5py.File("bad-kind.h5", "w") as f:
    f.attrs["kind"] = np.bytes_("model")  # fixed-length, as kdpinn writes strings
EOF
restart=("${base[@]}" -kd_out good -train_adam_steps 30 -train_lbfgs_steps 10 -train_checkpoint_every 10 -kd_restart)
expect_error truncated 'bad-truncated\.h5' "${restart[@]}" -train_checkpoint bad-truncated.h5
expect_error flipped-params 'refusing to restart from checkpoint bad-params\.h5: checksum mismatch' "${restart[@]}" -train_checkpoint bad-params.h5
expect_error flipped-adam 'refusing to restart from checkpoint bad-adam\.h5: checksum mismatch' "${restart[@]}" -train_checkpoint bad-adam.h5
expect_error wrong-kind "refusing to restart from checkpoint bad-kind\.h5: it is a 'model' file" "${restart[@]}" -train_checkpoint bad-kind.h5

# Control: the intact file is accepted (so the refusals above are the damage, not the restart path).
"$MPIEXEC" -n $np "$exe" "${restart[@]}" > control.out 2>&1 || { cat control.out; fail "intact checkpoint refused"; }
grep -q "restarting from checkpoint good/checkpoint_train.h5 at step 40 (done)" control.out || { cat control.out; fail "intact checkpoint not used"; }
echo "PASS"
