static const char help[] =
    "Gauss-Newton rows of a KDDistillLoss (burgers, heat, cavity; every distillation term, and the PINN terms with a\n"
    "data term at a partial schedule weight): the squares of the rows summed over the ranks equal the loss, 2 J^T R\n"
    "equals its gradient, and every Jacobian entry matches central finite differences of the rows.\n";

#include "t70-distill-common.h"

/* |R|^2 and the sum of the terms are the same squares summed in another order (and, at 2 ranks, reduced in another
   order): 1e-12 relative. 2 J^T R and the reverse-pass gradient are the same exact derivative summed in another
   order: 1e-11 relative to the gradient's max norm. Central differences with h = 1e-6 on O(1) parameters: truncation
   ~ h^2 |r'''| ~ 1e-12, round-off ~ eps |r| / h ~ 1e-10, so 1e-6 of the largest |J| entry leaves four orders of
   margin, while a wrong seed, a missing sqrt(w/N), sqrt(c_i) or sqrt(physics weight), or a wrong row order gives
   O(1) errors. */
#define SUM_TOL 1e-12
#define GRAD_TOL 1e-11
#define FD_TOL 1e-6
/* Rows are requested in pieces of this many, so that piece boundaries fall inside a point's rows, across the two
   distillation sets and across the boundary between the distillation and the PINN rows. */
#define PIECE 7

static PetscErrorCode Rows(KDDistillLoss dl, PetscInt m, PetscInt np, PetscReal r[], PetscReal J[])
{
  PetscFunctionBegin;
  for (PetscInt start = 0; start < m; start += PIECE) {
    const PetscInt cnt = PetscMin(PIECE, m - start);
    PetscCall(KDDistillLossResidualLocal(dl, start, cnt, r + start, J ? J + start * np : NULL));
  }
  PetscFunctionReturn(0);
}

/* physics: the schedule weight of the PINN terms; wgrad: weight of the derivative match (0: no such rows) */
static PetscErrorCode RunCase(const char *pde, PetscReal physics, PetscReal wgrad)
{
  const PetscReal h = 1e-6;
  KDReference ref;
  KDLoss phys;
  KDNet student, teacher;
  KDDistillLoss dl;
  PetscInt nterms, np, m, mp = 0, mglobal;
  PetscReal terms[KD_LOSS_MAX_TERMS], *grad, *r, *J, *rp, *rm, *theta, *g2;
  PetscReal sums[2] = {0, 0}, gmax = 0, gerr = 0, jmax = 0, ferr = 0;
  char v[32];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(v, sizeof(v), "%g", (double) wgrad));
  PetscCall(PetscOptionsSetValue(NULL, "-student_w_grad", v));
  PetscCall(TestDistillLossCreate(pde, &ref, &phys, &student, &teacher, &dl));
  PetscCall(KDDistillLossSetPhysicsWeight(dl, physics));
  PetscCall(KDDistillLossGetTerms(dl, &nterms, NULL));
  PetscCall(KDNetGetSizes(student, NULL, NULL, &np));
  PetscCall(KDNetGetParameters(student, &theta));
  PetscCall(KDDistillLossGetResidualSize(dl, &m));
  if (physics > 0) PetscCall(KDLossGetResidualSize(phys, &mp));
  PetscCall(
      PetscMalloc5(np, &grad, PetscMax(m, 1), &r, PetscMax(m * np, 1), &J, PetscMax(m, 1), &rp, PetscMax(m, 1), &rm));
  PetscCall(PetscMalloc1(np, &g2));

  /* The loss as the trainer sees it: the terms summed over the ranks; |R|^2 likewise. */
  PetscCall(KDDistillLossEvaluateLocal(dl, terms, grad));
  PetscCall(Rows(dl, m, np, r, J));
  for (PetscInt t = 0; t < nterms; t++) sums[0] += terms[t];
  for (PetscInt q = 0; q < m; q++) sums[1] += r[q] * r[q];
  for (PetscInt i = 0; i < np; i++) {
    g2[i] = 0;
    for (PetscInt q = 0; q < m; q++) g2[i] += 2.0 * J[q * np + i] * r[q];
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, grad, (PetscMPIInt) np, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, g2, (PetscMPIInt) np, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&m, &mglobal, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCheck(sums[0] > 0 && PetscAbsReal(sums[1] - sums[0]) <= SUM_TOL * sums[0], PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s (physics %g, w_grad %g): |R|^2 = %.16e but the loss is %.16e", pde, (double) physics, (double) wgrad,
             (double) sums[1], (double) sums[0]);
  for (PetscInt i = 0; i < np; i++) {
    gmax = PetscMax(gmax, PetscAbsReal(grad[i]));
    gerr = PetscMax(gerr, PetscAbsReal(g2[i] - grad[i]));
  }
  PetscCheck(gerr <= GRAD_TOL * gmax, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: |2 J^T R - grad| = %.3e, |grad| = %.3e",
             pde, (double) gerr, (double) gmax);
  /* No physics rows at weight 0: the rows are those of the distillation terms alone. */
  if (physics == 0) PetscCheck(mp == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: physics rows at weight 0", pde);

  /* Every Jacobian entry of this rank's rows against central differences of the rows. */
  for (PetscInt q = 0; q < m * np; q++) jmax = PetscMax(jmax, PetscAbsReal(J[q]));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &jmax, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  for (PetscInt i = 0; i < np; i++) {
    const PetscReal t0 = theta[i];
    theta[i]           = t0 + h;
    PetscCall(Rows(dl, m, np, rp, NULL));
    theta[i] = t0 - h;
    PetscCall(Rows(dl, m, np, rm, NULL));
    theta[i] = t0;
    for (PetscInt q = 0; q < m; q++) {
      const PetscReal fd = (rp[q] - rm[q]) / (2 * h), e = PetscAbsReal(fd - J[q * np + i]);
      PetscCheck(e <= FD_TOL * jmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "%s: J[%" PetscInt_FMT "][%" PetscInt_FMT "] = %.10e, finite differences %.10e", pde, q, i,
                 (double) J[q * np + i], (double) fd);
      ferr = PetscMax(ferr, e);
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ferr, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%-8s physics %.1f w_grad %.1f: %5" PetscInt_FMT " rows x %3" PetscInt_FMT
                        " params, ||R|^2 - loss|/loss %.1e, |2J^T R - grad|/|grad| %.1e, max FD error / max|J| %.1e\n",
                        pde, (double) physics, (double) wgrad, mglobal, np,
                        (double) (PetscAbsReal(sums[1] - sums[0]) / sums[0]), (double) (gerr / gmax),
                        (double) (ferr / jmax)));
  PetscCall(PetscFree(g2));
  PetscCall(PetscFree5(grad, r, J, rp, rm));
  PetscCall(TestDistillLossDestroy(&ref, &phys, &student, &teacher, &dl));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const char *pdes[] = {"burgers", "heat", "cavity"};

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  /* Small point sets, a data term, weights unlike the defaults so that each row scale is exercised. */
  PetscCall(PetscOptionsInsertString(NULL, "-student_ncol 37 -student_nic 11 -student_nbc 13 -student_ndata 9 "
                                           "-student_w_bc 3.5 -student_distill_ncell 29 -student_distill_ncol 31 "
                                           "-student_w_out 0.7 -student_w_res 0.2"));
  for (PetscInt k = 0; k < 3; k++) {
    PetscCall(RunCase(pdes[k], 0.6, 0.3));
    PetscCall(RunCase(pdes[k], 0.0, 0.0));
  }
  PetscCall(PetscFinalize());
  return 0;
}
