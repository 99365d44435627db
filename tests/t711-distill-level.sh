#!/bin/bash
# `kdpinn distill -kd_level l` and -kd_distill_models (one job array task per level) on a tiny Burgers case, 3 levels,
# 2 ranks:
#  - -kd_level 0, 3 (only levels 1..2 have students), a non-number, an unknown -kd_distill_models, and level 2 of a
#    chain before student_L1.h5 exists: one error line naming the option (or the missing file), non-zero exit;
#  - per-level runs in another order (level 2's scratch twin first, which needs no level-1 student; then level 1;
#    then level 2's student, which reads student_L1.h5) write the same four model files as one all-levels run, and
#    -kd_chain direct's level-2 student run alone equals the one of an all-levels direct run. Tolerance 0 (numpy
#    array_equal on every layer): a run does the same arithmetic at the same rank count whichever levels it does,
#    and a model file stores the parameters exactly, so a student read from its file is the one held in memory;
#  - -student_distill_w_pde: bad values refused in one line; at the twin's weight the student is unchanged (bitwise),
#    at 0 the student has no pde term and changes while its twin stays bitwise the same;
#  - per-level options (-student_L<l>_<option>): a bad value of a level this run does not train is refused in one line
#    naming it, before anything is trained, and a level's value is judged beside the options of all levels (midpoint
#    filter of all levels, 16 nodes at level 2: accepted; box for all levels, midpoint and 16 nodes at level 2: accepted,
#    and a misspelt teacher option still warned of); a direct run with level-1 options (one that replaces an
#    option of all levels, one that none replaces and is spelt in other case, one whose value holds a space) changes
#    student_L1 and leaves student_L2 bitwise the direct run's (the options of all levels are back after level 1); a
#    misspelt per-level option gets the driver's warning, a valid one none;
#  - `kdpinn run` stamps: a complete distill run writes .kdpinn-distill.stamp, a partial run removes it and writes
#    none (it must not mark the whole stage as done).
set -u
fail() { echo "FAIL: $*"; exit 1; }
np=2
rm -rf all part direct direct1 pde0 pde1 view lv lvc
"$MPIEXEC" -n $np "$KDPINN" solve -kd_out all -kd_pde burgers -kd_levels 3 -burgers_nx 128 -burgers_nt 32 > solve.log 2>&1 ||
  { cat solve.log; fail "kdpinn solve failed"; }
"$MPIEXEC" -n $np "$KDPINN" train -kd_out all -kd_pde burgers -teacher_widths 12,12 -teacher_ncol 400 -teacher_adam_steps 60 \
  -teacher_lbfgs_steps 10 > train.log 2>&1 || { cat train.log; fail "kdpinn train failed"; }
for d in part direct direct1; do mkdir -p $d && cp all/reference.h5 all/teacher.h5 $d/ || fail "cannot copy inputs"; done

opts=(-kd_pde burgers -student_widths 8,8 -student_L2_widths 6 -student_ncol 300 -student_nic 60 -student_nbc 60
      -student_distill_ncell 200 -student_distill_ncol 200 -student_adam_steps 30 -student_distill_steps 10
      -student_ramp_steps 10 -student_lbfgs_steps 10 -student_resample_every 15 -student_checkpoint_every 20)
distill() { "$MPIEXEC" -n $np "$KDPINN" distill "${opts[@]}" "$@"; }

# bad <expected message (grep -E)> <options...>: one error line, non-zero exit
bad() {
  local want=$1
  shift
  distill -kd_out part "$@" > bad.log 2>&1 && fail "distill $* succeeded"
  [ "$(grep -c '^kdpinn: error:' bad.log)" -eq 1 ] && grep -qE "^kdpinn: error: $want" bad.log ||
    { cat bad.log; fail "distill $*: expected one error line matching '$want'"; }
}
bad "-kd_level 0: expected a level l >= 1" -kd_level 0
bad "-kd_level 3 is out of range: levels 1..2 have students" -kd_level 3
bad "-kd_level two: expected a level" -kd_level two
bad "-kd_distill_models teacher: expected student, scratch" -kd_distill_models teacher
bad "part/student_L1.h5 not found: with -kd_chain chain the student of level 2 learns from the student of level 1" -kd_level 2
bad "-student_distill_w_pde -1\.? must be finite and non-negative" -kd_level 1 -student_distill_w_pde -1
bad "-student_distill_w_pde nan\.? must be finite and non-negative" -kd_level 1 -student_distill_w_pde nan
bad "-student_distill_w_pde needs a value" -kd_level 1 -student_distill_w_pde
bad "-student_distill_w_pde -1\.? must be finite and non-negative" -kd_level 1 -kd_distill_models scratch -student_distill_w_pde -1
bad "-student_L2_gn_steps must be >= 0" -kd_level 1 -student_L2_gn_steps -5
bad "-student_L2_checkpoint is not supported" -kd_level 1 -student_L2_checkpoint x.h5
mkdir -p lvc && cp all/reference.h5 all/teacher.h5 lvc/ || fail "cannot copy inputs"
distill -kd_out lvc -kd_level 1 -kd_distill_models scratch -student_filter_type midpoint -student_L2_filter_nodes 16 \
  > lvc.log 2>&1 || { cat lvc.log; fail "a level's value was judged without the options of all levels"; }
grep -q "warning" lvc.log && { cat lvc.log; fail "a valid per-level option was warned of"; }
# each level judged alone: level 2's midpoint and 16 nodes never meet the box filter of all levels
distill -kd_out lvc -kd_level 1 -kd_distill_models scratch -student_filter_type box -student_L2_filter_type midpoint \
  -student_L2_filter_nodes 16 -teacher_adam_stepz 5 > lvc.log 2>&1 || { cat lvc.log; fail "level 2's filter refused"; }
[ "$(grep -c warning lvc.log)" -eq 1 ] && grep -q "warning: option -teacher_adam_stepz is not read" lvc.log ||
  { cat lvc.log; fail "per-level options changed the warnings of the others"; }
ls part/*_L*.h5 > /dev/null 2>&1 && fail "a refused run wrote model files"

distill -kd_out all > all.log 2>&1 || { cat all.log; fail "all-levels distill failed"; }
[ -s all/.kdpinn-distill.stamp ] || fail "a complete distill run wrote no stamp"
cp all/.kdpinn-distill.stamp part/
distill -kd_out part -kd_level 2 -kd_distill_models scratch > part1.log 2>&1 || { cat part1.log; fail "level 2 scratch failed"; }
[ -e part/.kdpinn-distill.stamp ] && fail "a partial run left the distill stamp in place"
[ -e part/student_L2.h5 ] && fail "-kd_distill_models scratch wrote a student"
distill -kd_out part -kd_level 1 > part2.log 2>&1 || { cat part2.log; fail "level 1 failed"; }
[ -e part/scratch_L2.h5 ] && [ ! -e part/student_L2.h5 ] || fail "-kd_level 1 trained level 2"
distill -kd_out part -kd_level 2 -kd_distill_models student > part3.log 2>&1 || { cat part3.log; fail "level 2 student failed"; }
grep -q "student_L2 (level 2, .*) from student_L1" part3.log || { cat part3.log; fail "level 2 did not learn from student_L1"; }
[ -e part/.kdpinn-distill.stamp ] && fail "a partial run wrote the distill stamp"

distill -kd_out direct -kd_chain direct -kd_distill_models student > direct.log 2>&1 || { cat direct.log; fail "direct failed"; }
distill -kd_out direct1 -kd_chain direct -kd_level 2 -kd_distill_models student > direct1.log 2>&1 ||
  { cat direct1.log; fail "direct level 2 failed"; }
grep -q "student_L2 (level 2, .*) from teacher" direct1.log || { cat direct1.log; fail "direct level 2 did not learn from the teacher"; }

# level 1's own options: -student_L1_adam_steps replaces -student_adam_steps 30, -student_L1_gn_steps is set for level 1
# only; level 2 (from the teacher, -kd_chain direct) must not see either
mkdir -p lv && cp all/reference.h5 all/teacher.h5 lv/ || fail "cannot copy inputs"
distill -kd_out lv -kd_chain direct -kd_distill_models student -student_L1_adam_steps 40 -Student_l1_GN_steps 2 \
  -student_L1_widths "8, 7" -student_L2_adam_stepz 5 > lv.log 2>&1 || { cat lv.log; fail "per-level options failed"; }
grep -q "student_L1 (level 1, widths 8,7, .*Adam 40 .*Gauss-Newton 2$" lv.log ||
  { cat lv.log; fail "level 1 did not take its own options"; }
grep -q "student_L2 (level 2, .*Adam 30 .*Gauss-Newton 0$" lv.log || { cat lv.log; fail "level 1's options reached level 2"; }
grep -q "warning: option -student_L2_adam_stepz is not read" lv.log || { cat lv.log; fail "no warning for a misspelt per-level option"; }
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" direct/student_L2.h5 lv/student_L2.h5 ||
  fail "level 1's options changed level 2's student"
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" direct/student_L1.h5 lv/student_L1.h5 2>&1 | grep -qE "differs from|different layers" ||
  fail "level 1's own options did not change its student"

pairs=()
for m in student_L1 scratch_L1 student_L2 scratch_L2; do pairs+=("all/$m.h5" "part/$m.h5"); done
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" "${pairs[@]}" direct/student_L2.h5 direct1/student_L2.h5 ||
  fail "per-level models differ from the all-levels run's"
# -student_distill_w_pde: at the twin's weight (1) the student is the all-levels one to the bit; at 0 its PINN loss
# has no pde term (0 PDE points), the student differs and its twin, which keeps -student_w_pde, does not.
for w in 1 0; do
  mkdir -p pde$w && cp all/reference.h5 all/teacher.h5 pde$w/ || fail "cannot copy inputs"
  distill -kd_out pde$w -kd_level 1 -student_distill_w_pde $w > pde$w.log 2>&1 || { cat pde$w.log; fail "-student_distill_w_pde $w failed"; }
done
grep -q "collocation distillation points, 0 PDE points" pde0.log || { cat pde0.log; fail "-student_distill_w_pde 0 kept the pde term"; }
grep -q "collocation distillation points, 300 PDE points" pde1.log || { cat pde1.log; fail "-student_distill_w_pde 1 lost the pde term"; }
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" all/student_L1.h5 pde1/student_L1.h5 all/scratch_L1.h5 pde0/scratch_L1.h5 ||
  fail "-student_distill_w_pde at the twin's weight changed the student, or at 0 the twin"
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" all/student_L1.h5 pde0/student_L1.h5 2>&1 | grep -q "differs from" ||
  fail "-student_distill_w_pde 0 did not change the student"

# the default follows -student_w_pde, and a weight between is kept as given (the loss views name the pde term's weight)
mkdir -p view && cp all/reference.h5 all/teacher.h5 view/ || fail "cannot copy inputs"
distill -kd_out view -kd_level 1 -kd_distill_models student -student_w_pde 0.5 -student_loss_view > view.log 2>&1 ||
  { cat view.log; fail "-student_w_pde 0.5 failed"; }
grep -qE "term pde +residual weight 0.5," view.log || { cat view.log; fail "the student's pde weight does not follow -student_w_pde"; }
distill -kd_out view -kd_level 1 -kd_distill_models student -student_distill_w_pde 0.25 -student_loss_view > view.log 2>&1 ||
  { cat view.log; fail "-student_distill_w_pde 0.25 failed"; }
grep -qE "term pde +residual weight 0.25," view.log || { cat view.log; fail "-student_distill_w_pde 0.25 not applied"; }

# The comparison can tell models apart: the chain's level-2 student is not the direct one.
"$KD_PYTHON" "$KD_SOURCE_DIR/tests/model_equal.py" all/student_L2.h5 direct/student_L2.h5 2>&1 | grep -q "differs from" ||
  fail "the chain's and the direct level-2 students are equal: the comparison is blind"
echo PASS
