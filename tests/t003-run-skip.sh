#!/bin/bash
# kdpinn run skips a stage whose output exists and was made with the current options, reruns it (and every later
# stage) when its options change, and reruns everything with -kd_force. Option order must not matter.
set -euo pipefail
small="-kd_levels 2 -burgers_nx 256 -burgers_nt 64 -teacher_widths 8,8 -teacher_ncol 256 -teacher_nic 32 -teacher_nbc 32
       -teacher_lbfgs_steps 0 -student_widths 4 -student_ncol 128 -student_nic 16 -student_nbc 16 -student_distill_ncol 64
       -student_distill_ncell 64 -student_adam_steps 4 -student_distill_steps 2 -student_ramp_steps 2 -student_lbfgs_steps 0
       -kd_validate_figures false -kd_validate_repeats 1"
# Every check fails the test: under set -e neither `! cmd` nor the left side of `a && b` stops a script.
expect() { grep -q "$2" "$1" || { echo "FAIL: $1 lacks '$2'"; exit 1; }; }
refuse() { if grep -q "$2" "$1"; then echo "FAIL: $1 has '$2'"; exit 1; fi; }
rm -rf out
"$KDPINN" run $small -teacher_adam_steps 5 -kd_out out > run1.txt
expect run1.txt "^kdpinn solve:"
expect run1.txt "^kdpinn train:"
"$KDPINN" run -teacher_adam_steps 5 $small -kd_out out > run2.txt
for stage in solve train distill validate; do expect run2.txt "$stage is up to date"; done
refuse run2.txt "^kdpinn train:"
"$KDPINN" run $small -teacher_adam_steps 6 -kd_out out > run3.txt
expect run3.txt "solve is up to date"
expect run3.txt "^kdpinn train:"
# a problem option (a parameter of the PDE) reruns the solve
"$KDPINN" run $small -teacher_adam_steps 6 -kd_out out -burgers_nu 0.005 > run4.txt
expect run4.txt "^kdpinn solve:"
expect run4.txt "^kdpinn train:"
# an option of another PDE changes nothing
"$KDPINN" run $small -teacher_adam_steps 6 -kd_out out -burgers_nu 0.005 -heat_n 16 > run5.txt
expect run5.txt "solve is up to date"
expect run5.txt "validate is up to date"
"$KDPINN" run $small -teacher_adam_steps 6 -kd_out out -burgers_nu 0.005 -kd_force > run6.txt
expect run6.txt "^kdpinn solve:"
expect run6.txt "^kdpinn train:"
# a reference kept coarser than its solve is another reference: solve and every later stage rerun
"$KDPINN" run $small -teacher_adam_steps 6 -kd_out out -burgers_nu 0.005 -kd_reference_coarsen 1 > run7.txt
expect run7.txt "^kdpinn solve:"
expect run7.txt "^kdpinn validate:"
echo "t003: run skips up-to-date stages and reruns changed ones"
