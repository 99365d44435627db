#!/bin/bash
# Seed files of the fuzz targets, made by a tiny run into $1: reference.h5, teacher.h5, checkpoint_teacher.h5 and an
# observation file (and, for the text targets, the microstructure descriptions and job files of the source tree).
set -eu
export ASAN_OPTIONS=detect_leaks=0 # Open MPI's own allocations
dir=$1
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
tiny=(-kd_pde burgers -kd_levels 2 -burgers_nx 32 -burgers_nt 16 -kd_out .)
"$KDPINN" solve "${tiny[@]}" > seeds.log 2>&1
"$KDPINN" train "${tiny[@]}" -teacher_widths 6,6 -teacher_ncol 100 -teacher_adam_steps 4 -teacher_lbfgs_steps 0 \
  -teacher_checkpoint_every 2 >> seeds.log 2>&1
"$KD_PYTHON" "$KD_SOURCE_DIR/jobs/burgers-observations.py" observations.h5 --n 40 --noise 0.01 --seed 1 >> seeds.log 2>&1
mkdir -p text-microstructure text-options
cp "$KD_SOURCE_DIR"/meshes/*.txt text-microstructure/
cp "$KD_SOURCE_DIR"/jobs/*.opts text-options/
ls -l
