static const char help[] = "Rank-count independence of the Burgers reference solve: the solve on all ranks of\n"
                           "PETSC_COMM_WORLD is compared with a solve on one rank (PETSC_COMM_SELF on rank 0).\n";

#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"

int main(int argc, char **argv)
{
  /* The default explicit scheme does the same floating-point operations per cell in any layout (no reductions,
     ghost values are copies), so the two solves should agree bitwise. 1e-12 absolute leaves room only for
     round-off; an implicit TS selected by options adds Krylov and Newton tolerances and needs its own bound. */
  const PetscReal tol = 1e-12;
  KDBurgersOptions opt;
  Vec Upar, Uroot, Useq;
  VecScatter scatter;
  PetscMPIInt size, rank;
  PetscReal diff = 0, err;
  PetscLogDouble t0, t1, tpar, tseq = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCheck(size > 1, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "run this test on more than one rank");
  PetscCall(KDBurgersOptionsSetFromOptions(PETSC_COMM_WORLD, &opt));
  PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, opt.nt * opt.nx, &Upar));
  PetscCall(PetscTime(&t0));
  PetscCall(KDBurgersSolveGrid(PETSC_COMM_WORLD, &opt, Upar));
  PetscCall(PetscTime(&t1));
  tpar = t1 - t0;
  PetscCall(KDBurgersRelativeError(&opt, Upar, &err));
  PetscCall(VecScatterCreateToZero(Upar, &scatter, &Uroot));
  PetscCall(VecScatterBegin(scatter, Upar, Uroot, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(scatter, Upar, Uroot, INSERT_VALUES, SCATTER_FORWARD));
  if (rank == 0) {
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, opt.nt * opt.nx, &Useq));
    PetscCall(PetscTime(&t0));
    PetscCall(KDBurgersSolveGrid(PETSC_COMM_SELF, &opt, Useq));
    PetscCall(PetscTime(&t1));
    tseq = t1 - t0;
    PetscCall(VecAXPY(Useq, -1.0, Uroot));
    PetscCall(VecNorm(Useq, NORM_INFINITY, &diff));
    PetscCall(VecDestroy(&Useq));
    PetscCall(PetscPrintf(
        PETSC_COMM_SELF,
        "nx %" PetscInt_FMT " nt %" PetscInt_FMT
        ": %d ranks %.2f s, 1 rank %.2f s, max |difference| %.2e (tolerance %.0e), relative L2 error %.3e\n",
        opt.nx, opt.nt, size, (double) tpar, (double) tseq, (double) diff, (double) tol, (double) err));
  }
  PetscCallMPI(MPI_Bcast(&diff, 1, MPIU_REAL, 0, PETSC_COMM_WORLD));
  PetscCheck(diff <= tol, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%d-rank and 1-rank solves differ by %g", size,
             (double) diff);
  PetscCall(VecScatterDestroy(&scatter));
  PetscCall(VecDestroy(&Uroot));
  PetscCall(VecDestroy(&Upar));
  PetscCall(PetscFinalize());
  return 0;
}
