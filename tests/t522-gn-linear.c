static const char help[] =
    "Gauss-Newton on a linear least-squares problem r = A p - b (rows shared among the ranks by global index) through\n"
    "the same ScaLAPACK path: with -gn_lambda 0 one step reaches the least-squares solution of dense LAPACK (dgels).\n";

#include "t52-gn-linear.h"
#include <petscblaslapack.h>

/* For a linear residual the Gauss-Newton model is exact, so one undamped step lands on the minimizer up to the
   round-off of the normal equations, about cond(A)^2 eps (t52-gn-linear.h: cond(A) ~ 30): cond^2 eps ~ 2e-13, so 1e-10
   relative in the parameters, and in the residual norm, catches any error while leaving margin. */
#define SOL_TOL 1e-10

int main(int argc, char **argv)
{
  Problem pb;
  KDGaussNewton gn;
  PetscReal p[N], F, Fref = 0, *A, *b, err = 0, ref = 0;
  PetscBool accepted;
  PetscBLASInt m = M, n = N, one = 1, lwork = 64 * M, info;
  PetscReal *work;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(ProblemSetUp(PETSC_COMM_WORLD, p, &pb));
  for (PetscInt j = 0; j < N; j++) p[j] = 0.3 * j; /* far from the solution: the step is large */
  PetscCall(PetscOptionsSetValue(NULL, "-gn_lambda", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-gn_block_size", "8"));
  PetscCall(PetscOptionsSetValue(NULL, "-gn_chunk_rows", "32"));
  PetscCall(KDGaussNewtonCreate(PETSC_COMM_WORLD, &gn));
  PetscCall(KDGaussNewtonSetResidual(gn, N, p, RowsSize, Rows, &pb));
  PetscCall(KDGaussNewtonSetFromOptions(gn));
  PetscCall(KDGaussNewtonStep(gn, &F, &accepted));
  PetscCheck(accepted, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the undamped step on a linear problem was rejected");

  /* dense reference on every rank (A is a function of global indices): dgels, column-major */
  PetscCall(PetscMalloc3(M * N, &A, M, &b, lwork, &work));
  for (PetscInt i = 0; i < M; i++) {
    b[i] = Rhs(i);
    for (PetscInt j = 0; j < N; j++) A[i + j * M] = Entry(i, j);
  }
  PetscCallBLAS("LAPACKgels", LAPACKgels_("N", &m, &n, &one, A, &m, b, &m, work, &lwork, &info));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "dgels failed: info %d", (int) info);
  for (PetscInt i = N; i < M; i++) Fref += b[i] * b[i]; /* dgels leaves the residual's orthogonal part there */
  for (PetscInt j = 0; j < N; j++) {
    err = PetscMax(err, PetscAbsReal(p[j] - b[j]));
    ref = PetscMax(ref, PetscAbsReal(b[j]));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "one GN step: |p - dgels| / |dgels| = %.2e, |R|^2 = %.16e, dgels %.16e (rel %.1e)\n",
                        (double) (err / ref), (double) F, (double) Fref, (double) (PetscAbsReal(F - Fref) / Fref)));
  PetscCheck(err <= SOL_TOL * ref, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "parameters differ from dgels by %.3e relative",
             (double) (err / ref));
  PetscCheck(PetscAbsReal(F - Fref) <= SOL_TOL * Fref, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "|R|^2 after one step %.16e, least-squares minimum %.16e", (double) F, (double) Fref);
  PetscCall(PetscFree3(A, b, work));
  PetscCall(KDGaussNewtonDestroy(&gn));
  PetscCall(PetscFinalize());
  return 0;
}
