#!/bin/bash
# kdpinn run skips a stage whose output exists and was made with the current options, reruns it (and every later
# stage) when its options change, and reruns everything with -kd_force. Option order must not matter.
set -euo pipefail
small="-kd_levels 2 -burgers_nx 256 -burgers_nt 64 -teacher_widths 8,8 -teacher_ncol 256 -teacher_nic 32 -teacher_nbc 32
       -teacher_lbfgs_steps 0 -student_widths 4 -student_ncol 128 -student_nic 16 -student_nbc 16 -student_distill_ncol 64
       -student_distill_ncell 64 -student_adam_steps 4 -student_distill_steps 2 -student_ramp_steps 2 -student_lbfgs_steps 0
       -kd_validate_figures false -kd_validate_repeats 1"
rm -rf out
"$KDPINN" run $small -teacher_adam_steps 5 -kd_out out > run1.txt
grep -q "^kdpinn solve:" run1.txt && grep -q "^kdpinn train:" run1.txt
"$KDPINN" run -teacher_adam_steps 5 $small -kd_out out > run2.txt
grep -q "solve is up to date" run2.txt && grep -q "train is up to date" run2.txt
grep -q "distill is up to date" run2.txt && grep -q "validate is up to date" run2.txt
! grep -q "^kdpinn train:" run2.txt
"$KDPINN" run $small -teacher_adam_steps 6 -kd_out out > run3.txt
grep -q "solve is up to date" run3.txt && grep -q "^kdpinn train:" run3.txt
"$KDPINN" run $small -teacher_adam_steps 6 -kd_out out -burgers_nu 0.005 > run4.txt
grep -q "^kdpinn solve:" run4.txt && grep -q "^kdpinn train:" run4.txt
"$KDPINN" run $small -teacher_adam_steps 6 -kd_out out -burgers_nu 0.005 -kd_force > run5.txt
grep -q "^kdpinn solve:" run5.txt && grep -q "^kdpinn train:" run5.txt
echo "t003: run skips up-to-date stages and reruns changed ones"
