#!/bin/bash
# `kdpinn distill` with a Gauss-Newton phase (-student_gn_steps) on a tiny Burgers case:
#  - the distilled student (rows of its distillation loss, KDTrainerSetResidual) and its scratch twin (rows of its
#    KDLoss) both run Adam, L-BFGS, then 4 LM steps: the history has one row per step, the monitor shows "gn" rows,
#    and the loss at the end of the GN phase is below the loss at the end of L-BFGS (each accepted LM step decreases
#    it; wrong rows or a wrong Jacobian make LM give up or stall);
#  - the same run at 1 and at 2 ranks gives the same models up to round-off: 1e-9 relative in the max norm of the
#    parameters (every LM decision is taken from allreduced values; a rank-dependent row set or Jacobian would differ
#    at O(1e-3) or more).
set -u
fail() { echo "FAIL: $*"; exit 1; }
rm -rf out out1
"$MPIEXEC" -n 2 "$KDPINN" solve -kd_out out -kd_pde burgers -kd_levels 2 -burgers_nx 256 -burgers_nt 64 > solve.log 2>&1 ||
  { cat solve.log; fail "kdpinn solve failed"; }
"$MPIEXEC" -n 2 "$KDPINN" train -kd_out out -kd_pde burgers -teacher_widths 16,16 -teacher_ncol 500 -teacher_adam_steps 100 \
  -teacher_lbfgs_steps 20 > train.log 2>&1 || { cat train.log; fail "kdpinn train failed"; }
cp -r out out1

gn=4
opts=(-kd_pde burgers -student_widths 8,8 -student_ncol 400 -student_nic 100 -student_nbc 100 -student_distill_ncell 300
      -student_distill_ncol 300 -student_adam_steps 50 -student_distill_steps 10 -student_ramp_steps 20
      -student_lbfgs_steps 20 -student_gn_steps $gn -student_w_physics 0.3 -student_checkpoint_every 1000 -kd_monitor
      -kd_monitor_every 1)
"$MPIEXEC" -n 2 "$KDPINN" distill -kd_out out "${opts[@]}" > distill.log 2>&1 || { cat distill.log; fail "distill with GN failed (2 ranks)"; }
grep -E " (student|scratch)_L1 gn " distill.log
grep -q "Gauss-Newton needs a least-squares objective" distill.log && fail "GN refused"
for m in student_L1 scratch_L1; do
  grep -q "^kdpinn distill: $m, .* 74 steps in" distill.log || { cat distill.log; fail "no summary line of 74 steps for $m"; }
  [ "$(grep -cE "^ +[0-9]+ $m gn +loss .* lambda " distill.log)" -eq $gn ] || { cat distill.log; fail "$m: expected $gn gn monitor lines"; }
done
"$MPIEXEC" -n 1 "$KDPINN" distill -kd_out out1 "${opts[@]}" > one.log 2>&1 || { cat one.log; fail "distill with GN failed (1 rank)"; }
"$KD_PYTHON" - "$gn" <<'EOF' || fail "GN did not decrease the loss, or 1 and 2 ranks differ"
import sys, h5py, numpy as np
gn = int(sys.argv[1])
for name in ("student_L1", "scratch_L1"):
    c = h5py.File("out/checkpoint_%s.h5" % name, "r")
    h = c["loss_history"][...]
    assert h.shape[0] == 74, (name, h.shape)
    before, after = h[-gn - 1, 0], h[-1, 0]
    assert np.all(np.diff(h[-gn - 1:, 0]) < 0), (name, "a GN step did not decrease the loss", h[-gn - 1:, 0])
    a, b = h5py.File("out/%s.h5" % name, "r"), h5py.File("out1/%s.h5" % name, "r")
    worst, scale = 0.0, 0.0
    for k in a:
        for d in ("W", "b"):
            worst = max(worst, np.max(np.abs(a[k][d][...] - b[k][d][...])))
            scale = max(scale, np.max(np.abs(a[k][d][...])))
    print("%s: loss %.6e after L-BFGS -> %.6e after %d GN steps; 1 vs 2 ranks: relative max parameter difference %.2e"
          % (name, before, after, gn, worst / scale))
    assert worst <= 1e-9 * scale, (name, "1 rank vs 2 ranks", worst / scale)
EOF
echo PASS
