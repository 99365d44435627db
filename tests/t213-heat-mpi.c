static const char help[] =
    "Heat solver on 2 ranks against 1 rank: the 2-rank snapshots, both the solver's own blocks and the\n"
    "field handed to the reference in natural order, agree with a 1-rank solve of the same problem.\n";
#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"
#include <stdlib.h>

#ifndef KD_SOURCE_DIR
#define KD_SOURCE_DIR "."
#endif

int main(int argc, char **argv)
{
  KDHeatProblem prob;
  KDHeatOptions opt;
  KDHeatSolution par, ser;
  KDReference ref;
  Vec U;
  const PetscScalar *u;
  PetscInt rstart, rend, nloc;
  PetscMPIInt size;
  PetscReal dblock = 0, dref = 0;
  /* Each linear solve is converged to a relative residual of 1e-10 (relative to the residual of the previous step's
     solution, itself small); 1 and 2 ranks differ only in the preconditioner (ILU vs block Jacobi/ILU), hence in the
     iterate at which CG stops. Observed differences are 4e-12 on u = O(1); the tolerance 1e-9 leaves a factor ~250
     for other compilers and BLAS, while a misplaced ghost exchange or a wrong natural index gives O(0.1-1). */
  const PetscReal tol = 1e-9;
  char path[PETSC_MAX_PATH_LEN];
  const char *src = getenv("KD_SOURCE_DIR");

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCheck(size == 2, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "run this test on 2 ranks");
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/meshes/inclusions.txt", src ? src : KD_SOURCE_DIR));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_microstructure", path));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_n", "48"));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_nt", "6"));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_dt", "0.002"));
  PetscCall(KDHeatProblemSetFromOptions(PETSC_COMM_WORLD, &prob));
  PetscCall(KDHeatOptionsSetFromOptions(PETSC_COMM_WORLD, &opt));

  /* every rank solves the whole problem alone: its serial snapshots are in natural order */
  PetscCall(KDHeatSolveGrid(PETSC_COMM_SELF, &prob, &opt, &ser));
  PetscCheck(ser.xm == opt.n && ser.ym == opt.n, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "serial solve does not own the whole grid");

  /* 1. the solver's blocks on 2 ranks */
  PetscCall(KDHeatSolveGrid(PETSC_COMM_WORLD, &prob, &opt, &par));
  PetscCheck(par.xm * par.ym < opt.n * opt.n, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the 2-rank grid is not distributed");
  for (PetscInt k = 0; k < opt.nt; k++)
    for (PetscInt j = 0; j < par.ym; j++)
      for (PetscInt i = 0; i < par.xm; i++) {
        const PetscReal a = par.u[(k * par.ym + j) * par.xm + i],
                        b = ser.u[(k * opt.n + par.ys + j) * opt.n + par.xs + i];
        dblock            = PetscMax(dblock, PetscAbsReal(a - b));
      }
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &dblock, 1, MPIU_REAL, MPIU_MAX, PETSC_COMM_WORLD));

  /* 2. the field KDSolveHeat hands to the reference: natural index (k n + j) n + i */
  PetscCall(KDReferenceCreate(PETSC_COMM_WORLD, &ref));
  {
    KDPDE heat; /* the solve stage's sequence: the problem from the options, recorded in the reference, solved */
    PetscCall(KDPDECreate(PETSC_COMM_WORLD, &heat));
    PetscCall(KDPDESetType(heat, "heat"));
    PetscCall(KDPDESetProblemFromOptions(heat));
    PetscCall(KDPDEWriteReference(heat, ref));
    PetscCall(KDSolveHeat(heat, ref));
    PetscCall(KDPDEDestroy(&heat));
  }
  PetscCall(KDReferenceGetField(ref, 0, "u", &U));
  PetscCall(VecGetOwnershipRange(U, &rstart, &rend));
  PetscCall(VecGetLocalSize(U, &nloc));
  PetscCall(VecGetArrayRead(U, &u));
  for (PetscInt g = rstart; g < rend; g++) dref = PetscMax(dref, PetscAbsReal(u[g - rstart] - ser.u[g]));
  PetscCall(VecRestoreArrayRead(U, &u));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &dref, 1, MPIU_REAL, MPIU_MAX, PETSC_COMM_WORLD));

  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD,
                  "2 ranks vs 1 rank, max |difference|: solver blocks %.3e, reference field %.3e (tolerance %g)\n",
                  (double) dblock, (double) dref, (double) tol));
  PetscCheck(dblock <= tol, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "2-rank solver blocks differ from 1 rank by %g",
             (double) dblock);
  PetscCheck(dref <= tol, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "2-rank reference field differs from 1 rank by %g",
             (double) dref);
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(KDHeatSolutionDestroy(&par));
  PetscCall(KDHeatSolutionDestroy(&ser));
  PetscCall(PetscFinalize());
  return 0;
}
