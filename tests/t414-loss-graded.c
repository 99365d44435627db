static const char help[] =
    "Collocation graded towards a checkerboard's corners (-teacher_conduction_corner_refine, KDPDEGradePoints()):\n"
    "the map (each point on its own ray, at R (r/R)^alpha), its weight against the Jacobian determinant by central\n"
    "differences and the weights' mean 1 (the map keeps the measure); then a loss on graded points (fine formulation,\n"
    "and with the source f inferred): the residual term against an independent weighted sum, the gradient (network\n"
    "and f) against central differences, and the Gauss-Newton rows (|R|^2 = loss, 2 J^T R = gradient, J against\n"
    "central differences); the homogenized formulation, which has no corners, does not grade.\n";

#include "t410-loss-common.h"

/* The map is closed form: r' = R s^alpha and the ray, to the round-off of coordinates of order 1: the distance of the
   image from its ray and from the radius R s^alpha at most 1e-15 (absolute). */
#define MAP_TOL 1e-15
/* w against the determinant of the map's Jacobian by central differences with step e = 1e-5 R, at points whose s is in
   [0.05, 0.95] (the map is not differentiable at s = 0 and at the disk's edge): truncation ~ (e / (s R))^2 <= 4e-8;
   round-off ~ 1e-16 / (2 e) ~ 3e-10 on entries of order s^(alpha - 1) >= 1.25e-4 (alpha <= 4), at most 3e-6
   relative; tolerance 1e-4. A wrong exponent in w (alpha s^(alpha - 1), the radial factor alone) is off by a factor
   s^(alpha - 1) <= 0.95^1.5: at least 7%. */
#define JAC_TOL 1e-4
/* Independent evaluation of the residual term (KDPDEResidualNet instead of the jet loss callback): summation order
   only, 1e-12 relative. */
#define TERM_TOL 1e-12
/* Central differences of the loss along a unit direction, h = 1e-5: as t410, 1e-6 relative to |g.d|. */
#define GRAD_TOL 1e-6
/* Rows (as t520): |R|^2 against the loss, 1e-12 relative, and 2 J^T R against the gradient, 1e-11 of max |grad|: the
   same products summed in another order; J against central differences with h = 1e-6: truncation ~ h^2 |r'''| ~
   1e-12, round-off ~ 1e-16 |r| / h ~ 1e-10, tolerance 1e-6 of max |J|. A missing sqrt(w) in a row or its seed is off
   by O(1) at the graded points. */
#define SUM_TOL 1e-12
#define JTR_TOL 1e-11
#define FD_TOL 1e-6

static PetscErrorCode SetOptions(const char *refine, const char *model)
{
  PetscFunctionBegin;
  PetscCall(PetscOptionsSetValue(NULL, "-conduction_microstructure", "checkerboard"));
  PetscCall(PetscOptionsSetValue(NULL, "-conduction_eps", "0.125"));
  if (refine)
    PetscCall(PetscOptionsSetValue(NULL, "-teacher_conduction_corner_refine", refine));
  else
    PetscCall(PetscOptionsClearValue(NULL, "-teacher_conduction_corner_refine"));
  if (model)
    PetscCall(PetscOptionsSetValue(NULL, "-teacher_conduction_model", model));
  else
    PetscCall(PetscOptionsClearValue(NULL, "-teacher_conduction_model"));
  PetscFunctionReturn(0);
}

/* A conduction PDE with the teacher's options, as a loss sets it up */
static PetscErrorCode CreatePDE(KDPDE *pde)
{
  PetscFunctionBegin;
  PetscCall(KDPDECreate(PETSC_COMM_SELF, pde));
  PetscCall(KDPDESetOptionsPrefix(*pde, "teacher_"));
  PetscCall(KDPDESetType(*pde, "conduction"));
  PetscCall(KDPDESetProblemFromOptions(*pde));
  PetscCall(KDPDESetFromOptions(*pde));
  PetscFunctionReturn(0);
}

/* The graded images of N uniform points for alpha (NULL: the option unset, the points must stay uniform). */
static PetscErrorCode CheckMap(const char *alpha)
{
  const PetscInt N  = 20000;
  const PetscReal h = 0.125 / 2, R = h / 2, a = alpha ? atof(alpha) : 1;
  PetscReal *x0, *x, *w, sw = 0, sw2 = 0, jerr = 0, mean, se;
  PetscInt nin = 0, njac = 0;
  PetscBool graded;
  KDPDE pde;

  PetscFunctionBegin;
  PetscCall(SetOptions(alpha, "fine"));
  PetscCall(CreatePDE(&pde));
  PetscCall(PetscMalloc3(2 * N, &x0, 2 * N, &x, N, &w));
  PetscCall(KDPDESamplePoints(pde, KD_PDE_POINTS_INTERIOR, 0, 3, 1, 0, N, x0, NULL));
  PetscCall(PetscArraycpy(x, x0, 2 * N));
  {
    PetscBool asked;
    PetscCall(KDPDEGradePoints(pde, 0, NULL, NULL, &asked));
    PetscCheck(asked == (alpha ? PETSC_TRUE : PETSC_FALSE), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "alpha %s: asked with n = 0, the PDE says it %s", alpha ? alpha : "unset",
               asked ? "grades" : "does not grade");
  }
  PetscCall(KDPDEGradePoints(pde, N, x, w, &graded));
  if (!alpha) {
    PetscCheck(!graded, PETSC_COMM_SELF, PETSC_ERR_PLIB, "points graded without -teacher_conduction_corner_refine");
    for (PetscInt i = 0; i < 2 * N; i++)
      PetscCheck(x[i] == x0[i], PETSC_COMM_SELF, PETSC_ERR_PLIB, "ungraded point moved");
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "alpha unset: %" PetscInt_FMT " points left uniform\n", N));
    PetscCall(PetscFree3(x0, x, w));
    PetscCall(KDPDEDestroy(&pde));
    PetscFunctionReturn(0);
  }
  PetscCheck(graded, PETSC_COMM_SELF, PETSC_ERR_PLIB, "alpha %s: points not graded", alpha);
  for (PetscInt p = 0; p < N; p++) {
    const PetscReal cx = PetscFloorReal(x0[2 * p] / h + 0.5) * h, cy = PetscFloorReal(x0[2 * p + 1] / h + 0.5) * h;
    const PetscReal d0[2] = {x0[2 * p] - cx, x0[2 * p + 1] - cy}, d[2] = {x[2 * p] - cx, x[2 * p + 1] - cy};
    const PetscReal r0 = PetscSqrtReal(d0[0] * d0[0] + d0[1] * d0[1]), r = PetscSqrtReal(d[0] * d[0] + d[1] * d[1]);
    const PetscReal s = r0 / R;

    sw += w[p];
    sw2 += w[p] * w[p];
    PetscCheck(x[2 * p] >= 0 && x[2 * p] <= 1 && x[2 * p + 1] >= 0 && x[2 * p + 1] <= 1, PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "point %" PetscInt_FMT " left the domain: (%g, %g)", p, (double) x[2 * p],
               (double) x[2 * p + 1]);
    if (!(s < 1)) {
      PetscCheck(x[2 * p] == x0[2 * p] && x[2 * p + 1] == x0[2 * p + 1] && w[p] == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "point %" PetscInt_FMT " outside every corner's disk moved or weighted", p);
      continue;
    }
    nin++;
    PetscCheck(PetscAbsReal(r - R * PetscPowReal(s, a)) <= MAP_TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "point %" PetscInt_FMT ": radius %.16e, expected R s^alpha = %.16e", p, (double) r,
               (double) (R * PetscPowReal(s, a)));
    PetscCheck(PetscAbsReal(d[0] * d0[1] - d[1] * d0[0]) <= MAP_TOL * r0 && d[0] * d0[0] + d[1] * d0[1] > 0,
               PETSC_COMM_SELF, PETSC_ERR_PLIB, "point %" PetscInt_FMT " left its ray", p);
    if (s >= 0.05 && s <= 0.95 && njac < 200) { /* the Jacobian determinant by central differences */
      const PetscReal e = 1e-5 * R;
      PetscReal y[4][2], dummy, jac[2][2], det;
      for (PetscInt k = 0; k < 4; k++) {
        PetscBool g;
        y[k][0] = x0[2 * p] + (k == 0 ? e : k == 1 ? -e : 0);
        y[k][1] = x0[2 * p + 1] + (k == 2 ? e : k == 3 ? -e : 0);
        PetscCall(KDPDEGradePoints(pde, 1, y[k], &dummy, &g));
      }
      for (PetscInt i = 0; i < 2; i++) {
        jac[i][0] = (y[0][i] - y[1][i]) / (2 * e);
        jac[i][1] = (y[2][i] - y[3][i]) / (2 * e);
      }
      det = jac[0][0] * jac[1][1] - jac[0][1] * jac[1][0];
      PetscCheck(PetscAbsReal(w[p] - det) <= JAC_TOL * det, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "point %" PetscInt_FMT " (s = %g): weight %.10e, Jacobian determinant %.10e", p, (double) s,
                 (double) w[p], (double) det);
      jerr = PetscMax(jerr, PetscAbsReal(w[p] - det) / det);
      njac++;
    }
  }
  /* The map is a bijection of each disk with Jacobian w: the mean of w over uniform points estimates the domain's
     measure over itself, 1. Deterministic points (seed 3); 5 standard errors. */
  mean = sw / N;
  se   = PetscSqrtReal((sw2 / N - mean * mean) / N);
  PetscCheck(PetscAbsReal(mean - 1) <= 5 * se, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "alpha %s: mean weight %.6f, standard error %.2e: the map does not keep the measure", alpha, (double) mean,
             (double) se);
  PetscCheck(nin > N / 10 && njac >= 100, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "only %" PetscInt_FMT " points in the corners' disks, %" PetscInt_FMT " Jacobians checked", nin, njac);
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "alpha %s: %" PetscInt_FMT " of %" PetscInt_FMT
                        " points graded; weight vs Jacobian determinant (%" PetscInt_FMT
                        " points): max rel err %.1e; mean weight %.4f +- %.4f\n",
                        alpha, nin, N, njac, (double) jerr, (double) mean, (double) se));
  PetscCall(PetscFree3(x0, x, w));
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

/* The network's and the learned parameters as one vector */
static PetscErrorCode SetAll(KDLoss loss, KDNet net, PetscInt np, const PetscReal v[])
{
  PetscReal *params;

  PetscFunctionBegin;
  PetscCall(KDNetGetParameters(net, &params));
  PetscCall(PetscArraycpy(params, v, np));
  PetscCall(KDLossSetExtraParameters(loss, v + np));
  PetscFunctionReturn(0);
}

/* A loss on graded points, fine formulation; infer: also the source f, trained with the network (its gradient and
   Gauss-Newton column carry the weights too). */
static PetscErrorCode CheckLoss(PetscBool infer)
{
  const char *model    = infer ? "fine, f" : "fine";
  const PetscReal wpde = 2.0;
  KDReference ref;
  KDLoss loss;
  KDNet net;
  KDPDE pde;
  PetscInt nterms, np, ntot, nres, n, ncol, m;
  const char *const *names;
  const PetscReal *xl, *params;
  PetscReal terms[KD_LOSS_MAX_TERMS], *grad, *gwork, *dir, *theta, *xi, *w, *res, *r, *J, *rp, *rm, L, sum = 0;
  PetscReal worst = 0, rr = 0, total = 0, gerr = 0, gmax = 0, jmax = 0, ferr = 0;
  PetscBool graded;

  PetscFunctionBegin;
  PetscCall(SetOptions("2.5", "fine"));
  PetscCall(PetscOptionsInsertString(NULL, "-teacher_ncol 300 -teacher_nbc 13 -teacher_w_pde 2"));
  if (infer)
    PetscCall(PetscOptionsSetValue(NULL, "-teacher_infer", "f=7"));
  else
    PetscCall(PetscOptionsClearValue(NULL, "-teacher_infer"));
  PetscCall(TestReferenceCreate(PETSC_COMM_SELF, "conduction", 1, &ref));
  PetscCall(KDLossCreate(PETSC_COMM_SELF, &loss));
  PetscCall(KDLossSetOptionsPrefix(loss, "teacher_"));
  PetscCall(KDLossSetReference(loss, ref, 0));
  PetscCall(KDLossSetSeed(loss, 7));
  PetscCall(TestNetCreate(PETSC_COMM_SELF, loss, 11, &net));
  PetscCall(KDLossSetNet(loss, net));
  PetscCall(KDLossSetFromOptions(loss));
  PetscCall(KDLossSetUp(loss));
  PetscCall(KDLossGetTerms(loss, &nterms, &names));
  PetscCall(KDLossGetPDE(loss, &pde));
  PetscCall(KDPDEGetSizes(pde, NULL, NULL, &nres));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(KDLossGetNumParameters(loss, &ntot));
  PetscCheck(ntot == np + (infer ? 1 : 0), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: %" PetscInt_FMT " parameters after the network's", model, ntot - np);
  PetscCheck(!strcmp(names[0], "pde"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "first term %s, expected pde", names[0]);

  /* The residual term against its independent weighted sum, on the points drawn and graded again here */
  PetscCall(KDLossGetPoints(loss, "pde", &n, &xl));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-teacher_ncol", &ncol, NULL));
  PetscCheck(n == ncol, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%" PetscInt_FMT " collocation points, expected %" PetscInt_FMT, n, ncol);
  PetscCall(PetscMalloc3(2 * n, &xi, n, &w, nres * n, &res));
  PetscCall(KDPDESamplePoints(pde, KD_PDE_POINTS_INTERIOR, 0, 7, 1, 0, n, xi, NULL));
  PetscCall(KDPDEGradePoints(pde, n, xi, w, &graded));
  PetscCheck(graded, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: the loss's PDE does not grade", model);
  for (PetscInt i = 0; i < 2 * n; i++)
    PetscCheck(xi[i] == xl[i], PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: the loss's points are not the graded ones", model);
  PetscCall(KDPDEResidualNet(pde, net, n, xi, res));
  for (PetscInt p = 0; p < n; p++)
    for (PetscInt k = 0; k < nres; k++) sum += w[p] * res[k * n + p] * res[k * n + p];
  PetscCall(PetscMalloc4(ntot, &grad, ntot, &gwork, ntot, &dir, ntot, &theta));
  PetscCall(LossValue(loss, terms, grad, &L));
  PetscCall(CheckClose("pde term vs the weighted sum", terms[0], wpde * sum / n, TERM_TOL));

  /* The gradient along the gradient and two random directions */
  PetscCall(KDNetGetParameters(net, (PetscReal **) &params));
  PetscCall(PetscArraycpy(theta, params, np));
  PetscCall(KDLossGetExtraParameters(loss, theta + np));
  for (PetscInt d = 0; d < 3; d++) {
    const PetscReal hs = 1e-5;
    PetscReal gd = 0.0, norm = 0.0, Lp, Lm, err;
    for (PetscInt i = 0; i < ntot; i++) dir[i] = d == 0 ? grad[i] : KDRandomUniform(d, 99, i) - 0.5;
    for (PetscInt i = 0; i < ntot; i++) norm += dir[i] * dir[i];
    norm = PetscSqrtReal(norm);
    for (PetscInt i = 0; i < ntot; i++) dir[i] /= norm;
    for (PetscInt i = 0; i < ntot; i++) gd += grad[i] * dir[i];
    for (PetscInt i = 0; i < ntot; i++) gwork[i] = theta[i] + hs * dir[i];
    PetscCall(SetAll(loss, net, np, gwork));
    PetscCall(LossValue(loss, terms, gwork, &Lp));
    for (PetscInt i = 0; i < ntot; i++) gwork[i] = theta[i] - hs * dir[i];
    PetscCall(SetAll(loss, net, np, gwork));
    PetscCall(LossValue(loss, terms, gwork, &Lm));
    PetscCall(SetAll(loss, net, np, theta));
    err = PetscAbsReal((Lp - Lm) / (2 * hs) - gd) / PetscAbsReal(gd);
    PetscCheck(err <= GRAD_TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "%s: directional derivative %.10e vs central difference %.10e, rel %.2e > %.0e", model, (double) gd,
               (double) ((Lp - Lm) / (2 * hs)), (double) err, GRAD_TOL);
    worst = PetscMax(worst, err);
  }

  /* The Gauss-Newton rows, in two uneven pieces */
  PetscCall(LossValue(loss, terms, grad, &L));
  PetscCall(KDLossGetResidualSize(loss, &m));
  PetscCall(PetscMalloc4(m, &r, m * ntot, &J, m, &rp, m, &rm));
  PetscCall(KDLossResidualLocal(loss, 0, m / 3, r, J));
  PetscCall(KDLossResidualLocal(loss, m / 3, m - m / 3, r + m / 3, J + (m / 3) * ntot));
  for (PetscInt t = 0; t < nterms; t++) total += terms[t];
  for (PetscInt q = 0; q < m; q++) rr += r[q] * r[q];
  PetscCall(CheckClose("|R|^2 vs the loss", rr, total, SUM_TOL));
  for (PetscInt i = 0; i < ntot; i++) {
    PetscReal g2 = 0;
    for (PetscInt q = 0; q < m; q++) g2 += 2.0 * J[q * ntot + i] * r[q];
    gmax = PetscMax(gmax, PetscAbsReal(grad[i]));
    gerr = PetscMax(gerr, PetscAbsReal(g2 - grad[i]));
  }
  PetscCheck(gerr <= JTR_TOL * gmax, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: |2 J^T R - grad| = %.3e, |grad| = %.3e",
             model, (double) gerr, (double) gmax);
  for (PetscInt q = 0; q < m * ntot; q++) jmax = PetscMax(jmax, PetscAbsReal(J[q]));
  for (PetscInt i = 0; i < ntot; i++) {
    const PetscReal hs = 1e-6;
    PetscCall(PetscArraycpy(gwork, theta, ntot));
    gwork[i] = theta[i] + hs;
    PetscCall(SetAll(loss, net, np, gwork));
    PetscCall(KDLossResidualLocal(loss, 0, m, rp, NULL));
    gwork[i] = theta[i] - hs;
    PetscCall(SetAll(loss, net, np, gwork));
    PetscCall(KDLossResidualLocal(loss, 0, m, rm, NULL));
    for (PetscInt q = 0; q < m; q++) {
      const PetscReal e = PetscAbsReal((rp[q] - rm[q]) / (2 * hs) - J[q * ntot + i]);
      PetscCheck(e <= FD_TOL * jmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "%s: J[%" PetscInt_FMT "][%" PetscInt_FMT "] = %.10e, finite differences %.10e", model, q, i,
                 (double) J[q * ntot + i], (double) ((rp[q] - rm[q]) / (2 * hs)));
      ferr = PetscMax(ferr, e);
    }
  }
  PetscCall(SetAll(loss, net, np, theta));
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "%-11s %" PetscInt_FMT " graded points, %" PetscInt_FMT " + %" PetscInt_FMT
                        " params: gradient vs central differences %.1e; rows: ||R|^2 - loss|/loss %.1e, "
                        "|2J^T R - grad|/|grad| %.1e, max FD error / max|J| %.1e\n",
                        model, n, np, ntot - np, (double) worst, (double) (PetscAbsReal(rr - total) / total),
                        (double) (gerr / gmax), (double) (ferr / jmax)));
  PetscCall(PetscFree4(r, J, rp, rm));
  PetscCall(PetscFree4(grad, gwork, dir, theta));
  PetscCall(PetscFree3(xi, w, res));
  PetscCall(KDLossDestroy(&loss));
  PetscCall(KDNetDestroy(&net));
  PetscCall(KDReferenceDestroy(&ref));
  PetscFunctionReturn(0);
}

/* The homogenized formulation has no corners: its loss keeps the points uniform whatever the option says. */
static PetscErrorCode CheckHomogenized(void)
{
  KDPDE pde;
  PetscBool graded;
  PetscReal x[2] = {0.0625 + 1e-3, 0.125}, w = 0;

  PetscFunctionBegin;
  PetscCall(SetOptions("2.5", "homogenized"));
  PetscCall(PetscOptionsClearValue(NULL, "-teacher_infer"));
  PetscCall(CreatePDE(&pde));
  PetscCall(KDPDEGradePoints(pde, 1, x, &w, &graded));
  PetscCheck(!graded && x[0] == 0.0625 + 1e-3 && x[1] == 0.125 && w == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "the homogenized formulation graded a point");
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "homogenized: points left uniform\n"));
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(CheckMap(NULL));
  PetscCall(CheckMap("2.5"));
  PetscCall(CheckMap("4"));
  PetscCall(CheckLoss(PETSC_FALSE));
  PetscCall(CheckLoss(PETSC_TRUE));
  PetscCall(CheckHomogenized());
  PetscCall(PetscFinalize());
  return 0;
}
