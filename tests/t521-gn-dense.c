static const char help[] =
    "Gauss-Newton on ScaLAPACK against dense LAPACK: the damped step (J^T J + lambda D) delta = -J^T R of a Burgers\n"
    "PINN loss computed on the BLACS grid of all ranks equals dpotrf/dpotrs on rank 0 with the gathered J; three\n"
    "LM steps on all ranks give the loss of three LM steps on one process (PETSC_COMM_SELF) holding every point.\n"
    "With -teacher_gn_precision mixed the step is a conjugate-gradient solve preconditioned by the single-precision\n"
    "factor: its residual in the dense double-precision normal equations is checked against -teacher_gn_rtol.\n";

#include "t410-loss-common.h"
#include <petscblaslapack.h>

/* The step: the same normal equations summed in another order (chunks, block-cyclic SYRK, 2-D Cholesky): the
   solution differs by about cond(J^T J + lambda D) * eps. With lambda = 1e-3 Marquardt damping on this small net the
   condition number is below ~1e5, so 1e-10 relative (max norm) leaves margin yet catches any wrong index map, a
   missing chunk or a transposed block. The loss after three LM steps: the ranks' sums differ from one process's by
   round-off that the steps can amplify by the same condition number: 1e-10 relative. */
#define STEP_TOL 1e-10
#define LOSS_TOL 1e-10
/* -gn_precision mixed stops its conjugate gradients at a relative residual rtol of the normal equations (the
   recursive one); the true residual, computed here in double from the gathered J, may drift from it by round-off:
   at most MIXED_RESIDUAL_FACTOR * rtol. The step then differs from LAPACK's by at most cond times that residual: with
   cond below ~1e5 (above) and rtol = 1e-12, MIXED_STEP_TOL = 1e-6. The loss after three mixed steps is compared with
   three double-precision steps on one process: steps that agree to 1e-6 relative, taken with the same decisions
   (each step accepted), leave losses that agree to far better than MIXED_LOSS_TOL = 1e-8 (the gain ratio's predicted
   reduction enters only through those decisions and the damping). Where the mixed solve falls back to double (the
   single-precision factor fails, or the iterations stop short of rtol: forced here by -teacher_gn_max_it 1), the
   step is bit for bit the double-precision one. */
#define MIXED_RESIDUAL_FACTOR 10.0
#define MIXED_STEP_TOL 1e-6
#define MIXED_LOSS_TOL 1e-8

static PetscErrorCode Build(MPI_Comm comm, KDReference *ref, KDLoss *loss, KDNet *net)
{
  PetscFunctionBegin;
  PetscCall(TestReferenceCreate(comm, "burgers", 2, ref));
  PetscCall(KDLossCreate(comm, loss));
  PetscCall(KDLossSetOptionsPrefix(*loss, "teacher_"));
  PetscCall(KDLossSetReference(*loss, *ref, 1));
  PetscCall(KDLossSetSeed(*loss, 11));
  PetscCall(TestNetCreate(comm, *loss, 5, net));
  PetscCall(KDLossSetNet(*loss, *net));
  PetscCall(KDLossSetFromOptions(*loss));
  PetscCall(KDLossSetUp(*loss));
  PetscFunctionReturn(0);
}

static PetscErrorCode GNCreate(MPI_Comm comm, KDLoss loss, KDNet net, KDGaussNewton *gn)
{
  PetscInt np;
  PetscReal *theta;

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(KDNetGetParameters(net, &theta));
  PetscCall(KDGaussNewtonCreate(comm, gn));
  PetscCall(KDGaussNewtonSetOptionsPrefix(*gn, "teacher_"));
  PetscCall(KDGaussNewtonSetLoss(*gn, np, theta, loss));
  PetscCall(KDGaussNewtonSetFromOptions(*gn));
  PetscFunctionReturn(0);
}

/* The step against dense LAPACK (dpotrf/dpotrs) on the gathered Jacobian (rank 0). */
static PetscErrorCode CheckStep(KDLoss loss, KDNet net, KDGaussNewton gn, PetscReal lambda, PetscBool mixed,
                                PetscReal rtol)
{
  PetscMPIInt rank, size, *counts = NULL, *displs = NULL;
  PetscInt m, M = 0, np;
  PetscReal *r, *J, *Jall = NULL, *rall = NULL, *delta, F;
  PetscBool spd;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(KDLossGetResidualSize(loss, &m));
  PetscCall(PetscMalloc3(m, &r, m * np, &J, np, &delta));
  PetscCall(KDLossResidualLocal(loss, 0, m, r, J));
  PetscCall(KDGaussNewtonFormNormalEquations(gn, &F));
  PetscCall(KDGaussNewtonSolveDamped(gn, lambda, delta, &spd));
  PetscCheck(spd, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "damped normal matrix not positive definite at lambda %g",
             (double) lambda);
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  {
    PetscMPIInt mi = (PetscMPIInt) m;
    PetscCallMPI(MPI_Allgather(&mi, 1, MPI_INT, counts, 1, MPI_INT, PETSC_COMM_WORLD));
  }
  for (PetscMPIInt k = 0; k < size; k++) {
    displs[k] = (PetscMPIInt) M;
    M += counts[k];
  }
  if (!rank) PetscCall(PetscMalloc2(M * np, &Jall, M, &rall));
  PetscCallMPI(MPI_Gatherv(r, (PetscMPIInt) m, MPIU_REAL, rall, counts, displs, MPIU_REAL, 0, PETSC_COMM_WORLD));
  for (PetscMPIInt k = 0; k < size; k++) counts[k] *= (PetscMPIInt) np, displs[k] *= (PetscMPIInt) np;
  PetscCallMPI(MPI_Gatherv(J, (PetscMPIInt) (m * np), MPIU_REAL, Jall, counts, displs, MPIU_REAL, 0, PETSC_COMM_WORLD));
  if (!rank) {
    PetscReal *A, *b, dmax = 0, err = 0, ref = 0, FF = 0, res = 0, bnorm = 0;
    PetscBLASInt n = (PetscBLASInt) np, one = 1, info;
    PetscCall(PetscMalloc2(np * np, &A, np, &b));
    /* dense normal equations, column-major; Marquardt damping with the default floor (1e-10 of the largest) */
    for (PetscInt i = 0; i < np; i++)
      for (PetscInt j = 0; j < np; j++) {
        PetscReal s = 0;
        for (PetscInt q = 0; q < M; q++) s += Jall[q * np + i] * Jall[q * np + j];
        A[i + j * np] = s;
      }
    for (PetscInt i = 0; i < np; i++) {
      PetscReal s = 0;
      for (PetscInt q = 0; q < M; q++) s += Jall[q * np + i] * rall[q];
      b[i] = -s;
      dmax = PetscMax(dmax, A[i + i * np]);
    }
    for (PetscInt q = 0; q < M; q++) FF += rall[q] * rall[q];
    for (PetscInt i = 0; i < np; i++) A[i + i * np] += lambda * PetscMax(A[i + i * np], 1e-10 * dmax);
    /* the residual of delta in the damped normal equations (A is symmetric and still whole here) */
    for (PetscInt i = 0; i < np; i++) {
      PetscReal s = -b[i];
      for (PetscInt j = 0; j < np; j++) s += A[i + j * np] * delta[j];
      res += s * s;
      bnorm += b[i] * b[i];
    }
    res = PetscSqrtReal(res / bnorm);
    PetscCallBLAS("LAPACKpotrf", LAPACKpotrf_("U", &n, A, &n, &info));
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "dpotrf failed: info %d", (int) info);
    PetscCallBLAS("LAPACKpotrs", LAPACKpotrs_("U", &n, &one, A, &n, b, &n, &info));
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "dpotrs failed: info %d", (int) info);
    for (PetscInt i = 0; i < np; i++) {
      err = PetscMax(err, PetscAbsReal(delta[i] - b[i]));
      ref = PetscMax(ref, PetscAbsReal(b[i]));
    }
    PetscCall(PetscPrintf(PETSC_COMM_SELF,
                          "%d ranks, %" PetscInt_FMT " rows x %" PetscInt_FMT
                          " params, lambda %g%s: |delta - LAPACK| / |LAPACK| = %.2e, normal-equation residual %.1e,"
                          " |F - |R|^2| / F = %.1e\n",
                          size, M, np, (double) lambda, mixed ? " (mixed)" : "", (double) (err / ref), (double) res,
                          (double) (PetscAbsReal(F - FF) / FF)));
    PetscCheck(err <= (mixed ? MIXED_STEP_TOL : STEP_TOL) * ref, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "step differs from dense LAPACK: %.3e relative", (double) (err / ref));
    PetscCheck(!mixed || res <= MIXED_RESIDUAL_FACTOR * rtol, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "mixed-precision step: normal-equation residual %.3e, rtol %g", (double) res, (double) rtol);
    PetscCheck(PetscAbsReal(F - FF) <= 1e-12 * FF, PETSC_COMM_SELF, PETSC_ERR_PLIB, "F %.16e, |R|^2 %.16e", (double) F,
               (double) FF);
    PetscCall(PetscFree2(A, b));
    PetscCall(PetscFree2(Jall, rall));
  }
  PetscCall(PetscFree2(counts, displs));
  PetscCall(PetscFree3(r, J, delta));
  PetscFunctionReturn(0);
}

/* -gn_precision mixed falling back to double: with one CG iteration allowed and rtol 1e-15 no trial converges, so
   every solve forms the normal equations again in double; the step must equal a double-precision solver's bit for
   bit (the same chunks, blocks and grid). */
static PetscErrorCode CheckFallback(KDLoss loss, KDNet net)
{
  KDGaussNewton gnd, gnf;
  PetscInt np;
  PetscReal *dd, *df, F;
  PetscBool spd, spdf;

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(PetscMalloc2(np, &dd, np, &df));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_gn_precision", "double"));
  PetscCall(GNCreate(PETSC_COMM_WORLD, loss, net, &gnd));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_gn_precision", "mixed"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_gn_max_it", "1"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_gn_rtol", "1e-15"));
  PetscCall(GNCreate(PETSC_COMM_WORLD, loss, net, &gnf));
  PetscCall(PetscOptionsClearValue(NULL, "-teacher_gn_max_it"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_gn_rtol", "1e-12"));
  for (int k = 0; k < 2; k++) {
    const PetscReal lambda = k ? 1.0 : 1e-3;
    PetscCall(KDGaussNewtonFormNormalEquations(gnd, &F));
    PetscCall(KDGaussNewtonSolveDamped(gnd, lambda, dd, &spd));
    PetscCall(KDGaussNewtonFormNormalEquations(gnf, &F));
    PetscCall(KDGaussNewtonSolveDamped(gnf, lambda, df, &spdf));
    PetscCheck(spd && spdf, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "not positive definite at lambda %g", (double) lambda);
    for (PetscInt i = 0; i < np; i++)
      PetscCheck(dd[i] == df[i], PETSC_COMM_WORLD, PETSC_ERR_PLIB,
                 "lambda %g: the mixed solve fallen back to double differs from double in entry %" PetscInt_FMT
                 ": %.17g vs %.17g",
                 (double) lambda, i, (double) df[i], (double) dd[i]);
  }
  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "mixed precision fallen back to double: the steps equal double's bit for bit\n"));
  PetscCall(KDGaussNewtonDestroy(&gnf));
  PetscCall(KDGaussNewtonDestroy(&gnd));
  PetscCall(PetscFree2(dd, df));
  PetscFunctionReturn(0);
}

static PetscErrorCode Steps(KDGaussNewton gn, PetscInt k, PetscReal *F)
{
  PetscFunctionBegin;
  for (PetscInt s = 0; s < k; s++) {
    PetscBool accepted;
    PetscCall(KDGaussNewtonStep(gn, F, &accepted));
    PetscCheck(accepted, PETSC_COMM_SELF, PETSC_ERR_PLIB, "LM step %" PetscInt_FMT " rejected", s);
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  KDReference ref, ref1 = NULL;
  KDLoss loss, loss1    = NULL;
  KDNet net, net1       = NULL;
  KDGaussNewton gn, gn1 = NULL;
  PetscMPIInt rank, size;
  PetscReal F0, F, F1 = 0, rtol = 1e-10;
  PetscBool mixed    = PETSC_FALSE;
  char precision[16] = "double";

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-teacher_gn_precision", precision, sizeof(precision), NULL));
  PetscCall(PetscStrcmp(precision, "mixed", &mixed));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-teacher_gn_rtol", &rtol, NULL));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  /* small blocks and chunks, so that several chunks, uneven block-cyclic tails and every grid process are used */
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_ncol", "150"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nic", "31"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nbc", "29"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_ndata", "17"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_gn_block_size", "5"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_gn_chunk_rows", "23"));
  PetscCall(Build(PETSC_COMM_WORLD, &ref, &loss, &net));
  PetscCall(GNCreate(PETSC_COMM_WORLD, loss, net, &gn));
  PetscCall(CheckStep(loss, net, gn, 1e-3, mixed, rtol));
  PetscCall(CheckStep(loss, net, gn, 1.0, mixed, rtol));
  if (mixed) PetscCall(CheckFallback(loss, net));

  /* three LM steps here and on one process */
  PetscCall(KDGaussNewtonFormNormalEquations(gn, &F0));
  PetscCall(Steps(gn, 3, &F));
  if (!rank) {
    PetscCall(Build(PETSC_COMM_SELF, &ref1, &loss1, &net1));
    if (mixed) PetscCall(PetscOptionsSetValue(NULL, "-teacher_gn_precision", "double")); /* the one-process run */
    PetscCall(GNCreate(PETSC_COMM_SELF, loss1, net1, &gn1));
    PetscCall(Steps(gn1, 3, &F1));
    PetscCall(PetscPrintf(
        PETSC_COMM_SELF, "loss %.6e -> after 3 LM steps %.16e (%d ranks), %.16e (one process%s): rel diff %.1e\n",
        (double) F0, (double) F, size, (double) F1, mixed ? ", double" : "", (double) (PetscAbsReal(F - F1) / F1)));
    PetscCheck(F < F0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "3 accepted LM steps did not reduce the loss: %g to %g",
               (double) F0, (double) F);
    PetscCheck(PetscAbsReal(F - F1) <= (mixed ? MIXED_LOSS_TOL : LOSS_TOL) * F1, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "loss after 3 LM steps: %.16e on %d ranks, %.16e on one", (double) F, size, (double) F1);
    PetscCall(KDGaussNewtonDestroy(&gn1));
    PetscCall(KDNetDestroy(&net1));
    PetscCall(KDLossDestroy(&loss1));
    PetscCall(KDReferenceDestroy(&ref1));
  }
  PetscCall(KDGaussNewtonDestroy(&gn));
  PetscCall(KDNetDestroy(&net));
  PetscCall(KDLossDestroy(&loss));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(PetscFinalize());
  return 0;
}
