static const char help[] =
    "Weight decay of a KDTrainer (-train_weight_decay alpha) on the linear least-squares problem of t522:\n"
    "loss = |A p - b|^2 + alpha |p|^2 / N is ridge regression, whose minimizer is the least-squares solution of the\n"
    "stacked system [A; sqrt(alpha / N) I] p = [b; 0] (dense LAPACK dgels). The trainer must reach it\n"
    "  - in one undamped Gauss-Newton step: checks the decay rows the trainer appends to the objective's rows;\n"
    "  - by L-BFGS alone: checks the decay term's gradient;\n"
    "and report the two loss terms (objective, weight_decay) that the minimizer gives.\n";

#include "t52-gn-linear.h"
#include <petscblaslapack.h>
#include <string.h>

/* Tolerances. Gauss-Newton: the model is exact for a linear residual, so one step lands on the minimizer up to the
   round-off of the normal equations, cond^2 eps ~ 2e-13 (t522), hence 1e-10. L-BFGS: 300 iterations on a quadratic
   with 40 unknowns and cond ~ 1e3 converge to the gradient tolerance TAO stops at; 1e-6 relative in the parameters is
   far below any effect of a wrong decay gradient (at this alpha the decay moves the solution by 2.4%). */
#define GN_TOL 1e-10
#define LBFGS_TOL 1e-6
#define ALPHA 20.0

/* This rank's share of |A p - b|^2 and its gradient 2 A^T (A p - b). */
static PetscErrorCode Objective(void *ctx, PetscReal terms[], PetscReal grad[])
{
  Problem *pb = (Problem *) ctx;
  PetscReal r;

  PetscFunctionBegin;
  for (PetscInt q = 0; q < pb->m; q++) {
    PetscCall(Rows(pb, q, 1, &r, NULL));
    terms[0] += r * r;
    for (PetscInt j = 0; j < N; j++) grad[j] += 2 * r * Entry(pb->start + q, j);
  }
  PetscFunctionReturn(0);
}

/* Trains p from a fixed start with the given phase options; returns p and the two loss terms. */
static PetscErrorCode Train(Problem *pb, const char lbfgs_steps[], const char gn_steps[], PetscReal terms[2])
{
  const char *const names[] = {"lsq"};
  KDTrainer tr;
  PetscInt nterms;
  const char *const *tnames;
  const PetscReal *values;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < N; j++) pb->p[j] = 0.3 * j; /* far from the solution */
  PetscCall(PetscOptionsSetValue(NULL, "-train_lbfgs_steps", lbfgs_steps));
  PetscCall(PetscOptionsSetValue(NULL, "-train_gn_steps", gn_steps));
  PetscCall(KDTrainerCreate(pb->comm, &tr));
  PetscCall(KDTrainerSetOptionsPrefix(tr, "train_"));
  PetscCall(KDTrainerSetParameters(tr, N, pb->p));
  PetscCall(KDTrainerSetObjective(tr, 1, names, Objective, pb));
  PetscCall(KDTrainerSetResidual(tr, RowsSize, Rows, pb));
  PetscCall(KDTrainerSetFromOptions(tr));
  PetscCall(KDTrainerTrain(tr));
  PetscCall(KDTrainerGetTerms(tr, &nterms, &tnames, &values));
  PetscCheck(nterms == 2 && !strcmp(tnames[0], "lsq") && !strcmp(tnames[1], "weight_decay"), pb->comm, PETSC_ERR_PLIB,
             "expected the loss terms lsq, weight_decay; got %" PetscInt_FMT " terms", nterms);
  terms[0] = values[0];
  terms[1] = values[1];
  PetscCall(KDTrainerDestroy(&tr));
  PetscFunctionReturn(0);
}

static PetscErrorCode Compare(MPI_Comm comm, const char what[], const PetscReal p[], const PetscReal terms[2],
                              const PetscReal ref[], PetscReal tol)
{
  PetscReal err = 0, nrm = 0, lsq = 0, decay = 0;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < N; j++) {
    err = PetscMax(err, PetscAbsReal(p[j] - ref[j]));
    nrm = PetscMax(nrm, PetscAbsReal(ref[j]));
    decay += ALPHA / N * ref[j] * ref[j];
  }
  for (PetscInt i = 0; i < M; i++) {
    PetscReal r = -Rhs(i);
    for (PetscInt j = 0; j < N; j++) r += Entry(i, j) * ref[j];
    lsq += r * r;
  }
  PetscCall(PetscPrintf(
      comm, "%s: |p - ridge| / |ridge| = %.2e; terms lsq %.12e (ridge %.12e), weight_decay %.12e (ridge %.12e)\n", what,
      (double) (err / nrm), (double) terms[0], (double) lsq, (double) terms[1], (double) decay));
  PetscCheck(err <= tol * nrm, comm, PETSC_ERR_PLIB, "%s: parameters differ from the ridge solution by %.3e relative",
             what, (double) (err / nrm));
  PetscCheck(PetscAbsReal(terms[0] - lsq) <= tol * lsq && PetscAbsReal(terms[1] - decay) <= tol * decay, comm,
             PETSC_ERR_PLIB, "%s: loss terms differ from the ridge solution's", what);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  Problem pb;
  PetscReal p[N], terms[2], *A, *b, *work, plain = 0, moved = 0;
  PetscBLASInt m = M + N, n = N, one = 1, lwork = 64 * (M + N), info;
  char alpha[32];

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(ProblemSetUp(PETSC_COMM_WORLD, p, &pb));

  /* the ridge solution: dgels of the stacked system, column-major; and the plain least-squares one, to show that the
     decay matters at this alpha */
  PetscCall(PetscMalloc3(m * N, &A, m, &b, lwork, &work));
  for (PetscInt pass = 0; pass < 2; pass++) {
    const PetscReal c = pass ? PetscSqrtReal(ALPHA / N) : 0;
    for (PetscInt i = 0; i < M + N; i++) {
      b[i] = i < M ? Rhs(i) : 0;
      for (PetscInt j = 0; j < N; j++) A[i + j * m] = i < M ? Entry(i, j) : (i - M == j ? c : 0);
    }
    PetscCallBLAS("LAPACKgels", LAPACKgels_("N", &m, &n, &one, A, &m, b, &m, work, &lwork, &info));
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "dgels failed: info %d", (int) info);
    if (!pass)
      for (PetscInt j = 0; j < N; j++) p[j] = b[j];
  }
  for (PetscInt j = 0; j < N; j++) {
    moved = PetscMax(moved, PetscAbsReal(p[j] - b[j]));
    plain = PetscMax(plain, PetscAbsReal(p[j]));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "weight decay %g moves the least-squares solution by %.2e relative\n",
                        (double) ALPHA, (double) (moved / plain)));
  PetscCheck(moved > 0.01 * plain, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the decay should move the solution");

  PetscCall(PetscSNPrintf(alpha, sizeof(alpha), "%.17g", (double) ALPHA));
  PetscCall(PetscOptionsSetValue(NULL, "-train_weight_decay", alpha));
  PetscCall(PetscOptionsSetValue(NULL, "-train_adam_steps", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-train_checkpoint_every", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-train_gn_lambda", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-train_gn_block_size", "8"));
  PetscCall(PetscOptionsSetValue(NULL, "-train_gn_chunk_rows", "32"));
  PetscCall(PetscOptionsSetValue(NULL, "-train_tao_gatol", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-train_tao_grtol", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-train_tao_gttol", "0"));

  PetscCall(Train(&pb, "0", "1", terms));
  PetscCall(Compare(PETSC_COMM_WORLD, "one Gauss-Newton step", p, terms, b, GN_TOL));
  PetscCall(Train(&pb, "300", "0", terms));
  PetscCall(Compare(PETSC_COMM_WORLD, "L-BFGS", p, terms, b, LBFGS_TOL));

  PetscCall(PetscFree3(A, b, work));
  PetscCall(PetscFinalize());
  return 0;
}
