#!/bin/bash
# A PDE defined outside the library (jobs/darcy: Darcy flow with a variable permeability, a flux boundary and a
# manufactured solution) built as a plugin against the *installed* kdpinn, as a user's project would build it, and
# the whole pipeline run by the installed, unmodified driver with -kd_plugin:
#  - import of the exact solution at the cell centres (another solver's output) -> train -> distill -> validate with
#    jobs/darcy.opts: the teacher is within 1e-3 (relative L2) of the exact solution on level 0 (measured 1.2e-5 to
#    7.5e-5 over -kd_seed 0..7: the bound says "trains to the solution", with a margin of more than 10 for round-off
#    and CPUs), every model file is written and validated;
#  - the plugin's own solver through `kdpinn solve`: within 1e-3 of the exact solution (second order at 64 x 64:
#    measured 1.4e-4), and PETSc's -dll_append loads the same library; -kd_reference_extrapolate, which this solver
#    does not support (it ignores the grid divisor), is refused with one line;
#  - a plugin whose KDPluginRegister() fails on rank 1 only gives one error line, from rank 0, with rank 1's reason.
set -euo pipefail
build=$1
py=${KD_PYTHON:-/usr/bin/python3}
prefix=$PWD/prefix
rm -rf "$prefix" plugin-build out-import out-solve out-extra darcy.h5 bad-plugin bad-build
cmake --install "$build" --prefix "$prefix" > install.log
libdir=$(dirname "$(find "$prefix" -name 'libkdpinn.so*' | head -1)")
kdpinn=$prefix/bin/kdpinn
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
cmake -S "$KD_SOURCE_DIR/jobs/darcy" -B plugin-build -DCMAKE_PREFIX_PATH="$prefix" > configure.log
cmake --build plugin-build > build.log
plugin=$PWD/plugin-build/libkdpinn_darcy.so
[ -e "$plugin" ] || { echo "the plugin was not built"; exit 1; }
opts="-options_file $KD_SOURCE_DIR/jobs/darcy.opts -kd_plugin $plugin"

# reference by import, then the pipeline
"$py" "$KD_SOURCE_DIR/jobs/darcy/darcy-reference.py" darcy.h5 --n 64 --group /solution
"$kdpinn" import $opts -kd_import_file darcy.h5:/solution -kd_out out-import
"$MPIEXEC" -n 2 "$kdpinn" run $opts -kd_out out-import -kd_validate_figures false -kd_validate_repeats 1 > run.log
grep -q "reference.h5 was imported" run.log
for f in teacher student_L1 scratch_L1 student_L2 scratch_L2; do
  [ -e out-import/$f.h5 ] || { echo "missing out-import/$f.h5"; exit 1; }
done
"$py" - <<'PY'
import json
r = json.load(open("out-import/results.json"))
assert r["pde"] == "darcy", r["pde"]
rows = {m["name"]: m for m in r["models"]}
assert {"teacher", "student_L1", "scratch_L1", "student_L2", "scratch_L2"} <= set(rows), sorted(rows)
e = rows["teacher"]["rel_l2"]
print(f"darcy teacher vs the exact solution: relative L2 {e:.3e} (bound 1e-3)")
assert e <= 1e-3, e
for name, m in rows.items(): assert m["rel_l2"] is not None and m["rel_l2"] == m["rel_l2"], name
PY

# the plugin's solver, loaded by -kd_plugin and by PETSc's -dll_append
"$kdpinn" solve $opts -kd_out out-solve > solve.log
grep -q "^kdpinn solve: darcy" solve.log
"$kdpinn" solve -options_file "$KD_SOURCE_DIR/jobs/darcy.opts" -dll_append "$plugin" -kd_out out-dll > dll.log
cmp out-solve/reference.h5 out-dll/reference.h5
"$py" - <<'PY'
import h5py, numpy as np
with h5py.File("out-solve/reference.h5", "r") as f:
    u = np.asarray(f["level_0/u"]); y = np.asarray(f["level_0/y"]); x = np.asarray(f["level_0/x"])
Y, X = np.meshgrid(y, x, indexing="ij")
exact = np.sin(np.pi * X) * np.cos(np.pi * Y / 3) + 0.5 * X * Y
e = np.linalg.norm(u - exact) / np.linalg.norm(exact)
print(f"darcy finite-volume solver vs the exact solution: relative L2 {e:.3e} (bound 1e-3)")
assert e <= 1e-3, e
PY
# a solver that does not solve on a coarser grid when asked (this example reads -darcy_n only, docs/extending.md):
# -kd_reference_extrapolate is one line naming the PDE, a non-zero exit, and no reference written
if "$kdpinn" solve $opts -darcy_n 64 -kd_reference_coarsen 2 -kd_reference_extrapolate -kd_out out-extra \
  > extra.out 2> extra.err; then
  echo "-kd_reference_extrapolate was accepted for a solver that ignores the grid divisor"; exit 1
fi
if [ "$(grep -c '^kdpinn' extra.err)" != 1 ] ||
   ! grep -q "^kdpinn: error: -kd_reference_extrapolate: the solver of PDE 'darcy' does not solve on a coarser grid" extra.err ||
   [ -e out-extra/reference.h5 ]; then
  echo "expected one line naming the darcy solver and no reference:"; cat extra.err; exit 1
fi
# a plugin whose registration fails on one rank only: one line from rank 0 with that rank's reason, non-zero exit
mkdir -p bad-plugin
cat > bad-plugin/bad.c <<'EOF'
#include <kdpdeimpl.h>
static PetscErrorCode Create(KDPDE pde) { return 0; }
PETSC_EXTERN PetscErrorCode KDPluginRegister(void)
{
  PetscMPIInt rank;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(KDPDERegister(rank == 1 ? "1bad" : "good", Create));
  PetscFunctionReturn(0);
}
EOF
cat > bad-plugin/CMakeLists.txt <<'EOF'
cmake_minimum_required(VERSION 3.18)
project(bad LANGUAGES C)
find_package(kdpinn REQUIRED)
add_library(bad MODULE bad.c)
target_link_libraries(bad PRIVATE kdpinn::kdpinn)
EOF
cmake -S bad-plugin -B bad-build -DCMAKE_PREFIX_PATH="$prefix" > bad-configure.log
cmake --build bad-build > bad-build.log
if "$MPIEXEC" -n 2 "$kdpinn" solve -kd_plugin "$PWD/bad-build/libbad.so" -kd_out out-bad > bad.out 2> bad.err; then
  echo "a plugin whose registration fails on rank 1 was accepted"; exit 1
fi
if [ "$(grep -c '^kdpinn' bad.err)" != 1 ] ||
   ! grep -q "^kdpinn: error: -kd_plugin .*KDPluginRegister() failed: PDE type name '1bad' must start with a letter.*(rank 1)" bad.err; then
  echo "expected one line naming rank 1's registration error:"; cat bad.err; exit 1
fi
echo "t005: a plugin PDE built against the installed kdpinn runs import/solve -> train -> distill -> validate; a registration failing on one rank is one error naming that rank"
