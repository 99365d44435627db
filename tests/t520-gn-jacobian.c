static const char help[] =
    "Gauss-Newton residual rows of a KDLoss (burgers, heat, cavity, with a data term): |rows|^2 equals the loss,\n"
    "2 J^T rows equals the loss gradient, and every Jacobian entry matches central finite differences of the rows.\n";

#include "t410-loss-common.h"

/* |R|^2 and the terms are the same sums in another order: 1e-12 relative. 2 J^T R and the reverse-pass gradient are
   the same exact derivative summed in another order: 1e-11 relative to the gradient's max norm. Central differences
   with h = 1e-6 on O(1) parameters: truncation ~ h^2 |r'''| ~ 1e-12 and round-off ~ eps |r| / h ~ 1e-10, so 1e-6
   relative to the largest |J| entry leaves four orders of margin, while a wrong seed, a missing scale sqrt(w/N) or
   a wrong row order gives O(1) errors. */
#define SUM_TOL 1e-12
#define GRAD_TOL 1e-11
#define FD_TOL 1e-6

static PetscErrorCode Check(const char *pde)
{
  KDReference ref;
  KDLoss loss;
  KDNet net;
  PetscInt nterms, np, m;
  PetscReal *terms, *grad, *r, *J, *rp, *rm, *theta, total = 0, rr = 0, gmax = 0, gerr = 0, jmax = 0, ferr = 0;
  const PetscReal h = 1e-6;

  PetscFunctionBegin;
  PetscCall(TestReferenceCreate(PETSC_COMM_SELF, pde, 2, &ref));
  PetscCall(KDLossCreate(PETSC_COMM_SELF, &loss));
  PetscCall(KDLossSetOptionsPrefix(loss, "teacher_"));
  PetscCall(KDLossSetReference(loss, ref, 1));
  PetscCall(KDLossSetSeed(loss, 7));
  PetscCall(TestNetCreate(PETSC_COMM_SELF, loss, 3, &net));
  PetscCall(KDLossSetNet(loss, net));
  PetscCall(KDLossSetFromOptions(loss));
  PetscCall(KDLossSetUp(loss));
  PetscCall(KDLossGetTerms(loss, &nterms, NULL));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(KDNetGetParameters(net, &theta));
  PetscCall(KDLossGetResidualSize(loss, &m));
  PetscCall(PetscMalloc4(nterms, &terms, np, &grad, m, &r, m * np, &J));
  PetscCall(PetscMalloc2(m, &rp, m, &rm));
  PetscCall(KDLossEvaluateLocal(loss, terms, grad));
  /* in two uneven pieces, so that a piece boundary falls inside a term and inside a point's rows */
  PetscCall(KDLossResidualLocal(loss, 0, m / 3, r, J));
  PetscCall(KDLossResidualLocal(loss, m / 3, m - m / 3, r + m / 3, J + (m / 3) * np));
  for (PetscInt t = 0; t < nterms; t++) total += terms[t];
  for (PetscInt q = 0; q < m; q++) rr += r[q] * r[q];
  PetscCheck(PetscAbsReal(rr - total) <= SUM_TOL * total, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: |R|^2 = %.16e but the loss is %.16e", pde, (double) rr, (double) total);
  for (PetscInt i = 0; i < np; i++) {
    PetscReal g2 = 0;
    for (PetscInt q = 0; q < m; q++) g2 += 2.0 * J[q * np + i] * r[q];
    gmax = PetscMax(gmax, PetscAbsReal(grad[i]));
    gerr = PetscMax(gerr, PetscAbsReal(g2 - grad[i]));
  }
  PetscCheck(gerr <= GRAD_TOL * gmax, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: |2 J^T R - grad| = %.3e, |grad| = %.3e", pde,
             (double) gerr, (double) gmax);
  for (PetscInt q = 0; q < m * np; q++) jmax = PetscMax(jmax, PetscAbsReal(J[q]));
  for (PetscInt i = 0; i < np; i++) {
    const PetscReal t0 = theta[i];
    theta[i]           = t0 + h;
    PetscCall(KDLossResidualLocal(loss, 0, m, rp, NULL));
    theta[i] = t0 - h;
    PetscCall(KDLossResidualLocal(loss, 0, m, rm, NULL));
    theta[i] = t0;
    for (PetscInt q = 0; q < m; q++) {
      const PetscReal e = PetscAbsReal((rp[q] - rm[q]) / (2 * h) - J[q * np + i]);
      PetscCheck(e <= FD_TOL * jmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "%s: J[%" PetscInt_FMT "][%" PetscInt_FMT "] = %.10e, finite differences %.10e", pde, q, i,
                 (double) J[q * np + i], (double) ((rp[q] - rm[q]) / (2 * h)));
      ferr = PetscMax(ferr, e);
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "%-8s %4" PetscInt_FMT " rows x %3" PetscInt_FMT " params: ||R|^2 - loss|/loss %.1e, "
                        "|2J^T R - grad|/|grad| %.1e, max FD error / max|J| %.1e\n",
                        pde, m, np, (double) (PetscAbsReal(rr - total) / total), (double) (gerr / gmax),
                        (double) (ferr / jmax)));
  PetscCall(PetscFree2(rp, rm));
  PetscCall(PetscFree4(terms, grad, r, J));
  PetscCall(KDNetDestroy(&net));
  PetscCall(KDLossDestroy(&loss));
  PetscCall(KDReferenceDestroy(&ref));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_ncol", "37"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nic", "11"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nbc", "13"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_ndata", "9"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_w_bc", "3.5"));
  PetscCall(Check("burgers"));
  PetscCall(Check("heat"));
  PetscCall(Check("cavity"));
  PetscCall(PetscFinalize());
  return 0;
}
