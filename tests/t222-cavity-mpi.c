static const char help[] =
    "The cavity solution does not depend on the rank count: u, v, p from a solve on all ranks against the\n"
    "same solve on rank 0 alone. Run on 2 or more ranks; every -cavity_ option applies to both solves.\n";

#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"

/* The whole field on rank 0 of the Vec's communicator (natural order), NULL elsewhere. */
static PetscErrorCode GatherToZero(Vec v, PetscReal **a)
{
  VecScatter sc;
  Vec z;
  PetscMPIInt rank;
  PetscInt N;
  const PetscScalar *za;

  PetscFunctionBegin;
  *a = NULL;
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject) v), &rank));
  PetscCall(VecScatterCreateToZero(v, &sc, &z));
  PetscCall(VecScatterBegin(sc, v, z, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, v, z, INSERT_VALUES, SCATTER_FORWARD));
  if (!rank) {
    PetscCall(VecGetSize(z, &N));
    PetscCall(PetscMalloc1(N, a));
    PetscCall(VecGetArrayRead(z, &za));
    for (PetscInt k = 0; k < N; k++) (*a)[k] = PetscRealPart(za[k]);
    PetscCall(VecRestoreArrayRead(z, &za));
  }
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&z));
  PetscFunctionReturn(0);
}

/* Solves on comm and returns u, v, p gathered on its rank 0. */
static PetscErrorCode SolveAndGather(MPI_Comm comm, const KDCavityOptions *opt, PetscReal *f[3])
{
  Vec w[3];

  PetscFunctionBegin;
  PetscCall(VecCreateMPI(comm, PETSC_DECIDE, opt->n * opt->n, &w[0]));
  PetscCall(VecDuplicate(w[0], &w[1]));
  PetscCall(VecDuplicate(w[0], &w[2]));
  PetscCall(KDCavitySolveCells(comm, opt, w[0], w[1], w[2]));
  for (PetscInt c = 0; c < 3; c++) {
    PetscCall(GatherToZero(w[c], &f[c]));
    PetscCall(VecDestroy(&w[c]));
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  KDCavityOptions opt;
  PetscMPIInt size, rank;
  MPI_Comm self0;
  PetscReal *par[3], *ser[3] = {NULL, NULL, NULL}, dev[3] = {0, 0, 0}, scale[3] = {0, 0, 0};
  const char *const name[3] = {"u", "v", "p"};
  /* Relative to the largest value of each field. Both solves stop at a residual norm of 1e-10 with Newton and a
     direct solve (the same discrete solution to ~1e-10), the pressure CG at a relative residual of 1e-12 (with a
     condition number ~n^2, 1e-9 at worst); 1e-7 is far above that and far below any error of a wrong ghost or
     ownership (O(1e-2) and more). */
  const PetscReal tol = 1e-7;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCheck(size >= 2, PETSC_COMM_WORLD, PETSC_ERR_ARG_SIZ, "run this test on 2 or more ranks");
  PetscCall(KDCavityOptionsSetFromOptions(PETSC_COMM_WORLD, &opt));
  PetscCall(SolveAndGather(PETSC_COMM_WORLD, &opt, par));
  PetscCallMPI(MPI_Comm_split(PETSC_COMM_WORLD, rank ? MPI_UNDEFINED : 0, 0, &self0));
  if (!rank) {
    PetscCall(SolveAndGather(self0, &opt, ser));
    PetscCallMPI(MPI_Comm_free(&self0));
    for (PetscInt c = 0; c < 3; c++) {
      for (PetscInt k = 0; k < opt.n * opt.n; k++) {
        dev[c]   = PetscMax(dev[c], PetscAbsReal(par[c][k] - ser[c][k]));
        scale[c] = PetscMax(scale[c], PetscAbsReal(ser[c][k]));
      }
      dev[c] /= scale[c];
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s: max |%d ranks - 1 rank| / max |%s| = %.3e (tolerance %.0e)\n",
                            name[c], size, name[c], (double) dev[c], (double) tol));
    }
  }
  PetscCallMPI(MPI_Bcast(dev, 3, MPIU_REAL, 0, PETSC_COMM_WORLD));
  for (PetscInt c = 0; c < 3; c++) {
    PetscCheck(dev[c] <= tol, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "%s on %d ranks differs from 1 rank by %.3e (relative), more than %.0e", name[c], size, (double) dev[c],
               (double) tol);
    PetscCall(PetscFree(par[c]));
    PetscCall(PetscFree(ser[c]));
  }
  PetscCall(PetscFinalize());
  return 0;
}
