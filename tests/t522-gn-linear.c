static const char help[] =
    "Gauss-Newton on a linear least-squares problem r = A p - b (rows shared among the ranks by global index) through\n"
    "the same ScaLAPACK path: with -gn_lambda 0 one step reaches the least-squares solution of dense LAPACK (dgels).\n";

#include <kdtrain.h>
#include <petscblaslapack.h>

/* For a linear residual the Gauss-Newton model is exact, so one undamped step lands on the minimizer up to the
   round-off of the normal equations, about cond(A)^2 eps. A is a well-conditioned random 300 x 40 matrix (cond ~ 3)
   plus a graded column scaling up to 10 (cond(A) ~ 30): cond^2 eps ~ 2e-13, so 1e-10 relative in the parameters,
   and in the residual norm, catches any error while leaving margin. */
#define SOL_TOL 1e-10

#define M 300
#define N 40

typedef struct {
  PetscInt start, m; /* this rank's rows */
  PetscReal *p;      /* parameters */
} Problem;

static PetscReal Entry(PetscInt i, PetscInt j) { return (KDRandomUniform(3, 1, i * N + j) - 0.5) * (1.0 + 9.0 * j / (N - 1)); }
static PetscReal Rhs(PetscInt i) { return KDRandomUniform(3, 2, i) - 0.5 + 0.1 * i / M; }

static PetscErrorCode RowsSize(void *ctx, PetscInt *m)
{
  PetscFunctionBegin;
  *m = ((Problem *) ctx)->m;
  PetscFunctionReturn(0);
}

static PetscErrorCode Rows(void *ctx, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  Problem *pb = (Problem *) ctx;

  PetscFunctionBegin;
  for (PetscInt q = 0; q < count; q++) {
    const PetscInt i = pb->start + start + q;
    PetscReal s      = -Rhs(i);
    for (PetscInt j = 0; j < N; j++) {
      s += Entry(i, j) * pb->p[j];
      if (J) J[q * N + j] = Entry(i, j);
    }
    r[q] = s;
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  Problem pb;
  KDGaussNewton gn;
  PetscReal p[N], F, Fref = 0, *A, *b, err = 0, ref = 0;
  PetscBool accepted;
  PetscInt mm = PETSC_DECIDE, Mg = M;
  PetscBLASInt m = M, n = N, one = 1, lwork = 64 * M, info;
  PetscReal *work;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscSplitOwnership(PETSC_COMM_WORLD, &mm, &Mg));
  PetscCallMPI(MPI_Scan(&mm, &pb.start, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  pb.start -= mm;
  pb.m = mm;
  pb.p = p;
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
