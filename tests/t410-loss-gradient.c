static const char help[] =
    "KDLoss on a small network for burgers, heat and cavity: each term against an independent evaluation, and the\n"
    "parameter gradient of the loss (all terms, and each term alone) against central differences.\n";

#include "t410-loss-common.h"

/* Terms against independent evaluations (same formulas, different code path: KDNetEvaluate / KDPDEResidualNet instead
   of the jet loss callbacks): only the summation order differs, tolerance 1e-12 relative. */
#define TERM_TOL 1e-12
/* Directional derivative: central difference with step h = 1e-5 along a unit direction. Truncation ~ h^2 |L'''| ~
   1e-10, round-off ~ 1e-16 |L| / h ~ 1e-10 for |L| ~ 10; tolerance 1e-6 relative to |g.d|. An error in one term's
   adjoint (wrong factor 2, sign, missing weight) changes g.d by O(1) relative. */
#define GRAD_TOL 1e-6

/* Independent check of the value terms: misfits from KDNetEvaluate at the term's points. */
static PetscErrorCode CheckValueTerms(const char *pde, KDLoss loss, KDNet net, const char *const names[],
                                      PetscInt nterms, const PetscReal terms[], const PetscReal w[])
{
  PetscBool burgers, heat;
  PetscReal lo[3], hi[3];
  KDPDE op;

  PetscFunctionBegin;
  PetscCall(PetscStrcmp(pde, "burgers", &burgers));
  PetscCall(PetscStrcmp(pde, "heat", &heat));
  PetscCall(KDLossGetPDE(loss, &op));
  PetscCall(KDPDEGetDomain(op, lo, hi));
  for (PetscInt t = 0; t < nterms; t++) {
    PetscBool isdata, isbc, isic, isgauge;
    PetscInt n, nout, N;
    const PetscReal *x;
    PetscReal *y, sum = 0.0;
    PetscCall(PetscStrcmp(names[t], "data", &isdata));
    PetscCall(PetscStrcmp(names[t], "bc", &isbc));
    PetscCall(PetscStrcmp(names[t], "ic", &isic));
    PetscCall(PetscStrcmp(names[t], "gauge", &isgauge));
    if (heat && !isdata) continue; /* heat's Dirichlet data belong to the heat solver's tests */
    if (!(isdata || isbc || isic || isgauge)) continue;
    PetscCall(KDLossGetPoints(loss, names[t], &n, &x));
    PetscCall(KDNetGetSizes(net, NULL, &nout, NULL));
    PetscCall(PetscMalloc1(n * nout, &y));
    PetscCall(KDNetEvaluate(net, n, x, y));
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal *xp = x + p * (burgers ? 2 : heat ? 3 : 2);
      if (burgers) {
        const PetscReal g = isdata ? TestField("u", xp[0], xp[1], 0.0) : isic ? -PetscSinReal(PETSC_PI * xp[1]) : 0.0;
        sum += (y[p] - g) * (y[p] - g);
      } else if (heat) {
        sum += PetscSqr(y[p] - TestField("u", xp[0], xp[1], xp[2]));
      } else if (isdata) { /* cavity data on u and p (-teacher_data_fields u,p) */
        sum += PetscSqr(y[p] - TestField("u", 0.0, xp[0], xp[1])) +
               PetscSqr(y[2 * n + p] - TestField("p", 0.0, xp[0], xp[1]));
      } else if (isgauge) {
        PetscCheck(xp[0] == 0.5 && xp[1] == 0.5, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "gauge point (%g, %g) is not the domain centre", (double) xp[0], (double) xp[1]);
        sum += y[2 * n + p] * y[2 * n + p];
      } else {
        const PetscReal lid = xp[1] == hi[1] ? 1.0 : 0.0;
        sum += PetscSqr(y[p] - lid) + y[n + p] * y[n + p];
      }
    }
    N = n; /* one rank: local = global */
    PetscCall(CheckClose(names[t], terms[t], w[t] * sum / N, TERM_TOL));
    PetscCall(PetscFree(y));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode RunCase(const char *pde, const char *only)
{
  KDReference ref;
  KDLoss loss;
  KDNet net;
  PetscInt nterms, np, nres;
  const char *const *names;
  PetscReal terms[KD_LOSS_MAX_TERMS], tw[KD_LOSS_MAX_TERMS], *grad, *gwork, *dir, *params, L, rms, worst = 0.0;
  const char *wname[]    = {"pde", "ic", "bc", "gauge", "data"};
  const PetscReal wval[] = {2.0, 3.0, 5.0, 7.0, 0.5};
  char opt[64], val[32];
  PetscBool cavity, onlypde = PETSC_TRUE;
  KDPDE op;

  PetscFunctionBegin;
  PetscCall(PetscStrcmp(pde, "cavity", &cavity));
  if (only) PetscCall(PetscStrcmp(only, "pde", &onlypde));
  PetscCall(TestReferenceCreate(PETSC_COMM_WORLD, pde, 2, &ref));
  for (PetscInt k = 0; k < 5; k++) {
    PetscBool keep = PETSC_TRUE;
    if (only) PetscCall(PetscStrcmp(only, wname[k], &keep));
    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-teacher_w_%s", wname[k]));
    PetscCall(PetscSNPrintf(val, sizeof(val), "%g", keep ? (double) wval[k] : 0.0));
    PetscCall(PetscOptionsSetValue(NULL, opt, val));
  }
  PetscCall(PetscOptionsInsertString(
      NULL, "-teacher_ncol 70 -teacher_nbc 37 -teacher_nic 29 -teacher_ndata 41 -teacher_data_level 0"));
  /* cavity: fit u and p (not v) to data, so that the output mask of the data term is exercised */
  if (cavity)
    PetscCall(PetscOptionsSetValue(NULL, "-teacher_data_fields", "u,p"));
  else
    PetscCall(PetscOptionsClearValue(NULL, "-teacher_data_fields"));

  PetscCall(KDLossCreate(PETSC_COMM_WORLD, &loss));
  PetscCall(KDLossSetOptionsPrefix(loss, "teacher_"));
  PetscCall(KDLossSetReference(loss, ref, 0));
  PetscCall(KDLossSetSeed(loss, 7));
  PetscCall(TestNetCreate(PETSC_COMM_WORLD, loss, 11, &net));
  PetscCall(KDLossSetNet(loss, net));
  PetscCall(KDLossSetFromOptions(loss));
  PetscCall(KDLossSetUp(loss));
  PetscCall(KDLossGetTerms(loss, &nterms, &names));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(KDNetGetParameters(net, &params));
  PetscCall(PetscMalloc3(np, &grad, np, &gwork, np, &dir));
  PetscCheck(nterms >= 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: no terms", pde);
  if (only)
    PetscCheck(nterms == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: %" PetscInt_FMT " terms with only '%s' weighted", pde,
               nterms, only);
  for (PetscInt t = 0; t < nterms; t++)
    for (PetscInt k = 0; k < 5; k++) {
      PetscBool match;
      PetscCall(PetscStrcmp(names[t], wname[k], &match));
      if (match) tw[t] = wval[k];
    }

  PetscCall(LossValue(loss, terms, grad, &L));
  /* The PDE term is w_pde times the mean square residual over points and components. */
  PetscCall(KDLossGetPDE(loss, &op));
  PetscCall(KDPDEGetSizes(op, NULL, NULL, &nres));
  if (onlypde) {
    PetscCall(KDLossResidualRMS(loss, 0, NULL, &rms));
    PetscCall(CheckClose("pde term vs KDLossResidualRMS", terms[0], tw[0] * rms * rms * nres, TERM_TOL));
  }
  PetscCall(CheckValueTerms(pde, loss, net, names, nterms, terms, tw));

  /* Directions: the gradient itself (g.d = |g|), then two random ones. */
  for (PetscInt d = 0; d < 3; d++) {
    const PetscReal h = 1e-5;
    PetscReal gd = 0.0, norm = 0.0, Lp, Lm, fd, err;
    for (PetscInt i = 0; i < np; i++) dir[i] = d == 0 ? grad[i] : KDRandomUniform(d, 99, i) - 0.5;
    for (PetscInt i = 0; i < np; i++) norm += dir[i] * dir[i];
    norm = PetscSqrtReal(norm);
    PetscCheck(norm > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: zero gradient", pde);
    for (PetscInt i = 0; i < np; i++) dir[i] /= norm;
    for (PetscInt i = 0; i < np; i++) gd += grad[i] * dir[i];
    for (PetscInt i = 0; i < np; i++) params[i] += h * dir[i];
    PetscCall(LossValue(loss, terms, gwork, &Lp));
    for (PetscInt i = 0; i < np; i++) params[i] -= 2.0 * h * dir[i];
    PetscCall(LossValue(loss, terms, gwork, &Lm));
    for (PetscInt i = 0; i < np; i++) params[i] += h * dir[i];
    fd  = (Lp - Lm) / (2.0 * h);
    err = PetscAbsReal(fd - gd) / PetscAbsReal(gd);
    PetscCheck(err <= GRAD_TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "%s (%s): directional derivative %.10e vs central difference %.10e, rel %.2e > %.0e", pde,
               only ? only : "all terms", (double) gd, (double) fd, (double) err, GRAD_TOL);
    worst = PetscMax(worst, err);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%-8s %-10s %" PetscInt_FMT " terms, %" PetscInt_FMT
                        " params, loss %.6e, gradient vs central differences: max rel err %.2e\n",
                        pde, only ? only : "all", nterms, np, (double) L, (double) worst));
  PetscCall(PetscFree3(grad, gwork, dir));
  PetscCall(KDLossDestroy(&loss));
  PetscCall(KDNetDestroy(&net));
  PetscCall(KDReferenceDestroy(&ref));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const char *pdes[] = {"burgers", "heat", "cavity"};
  const char *only[] = {NULL, "pde", "ic", "bc", "gauge", "data"};

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  for (PetscInt k = 0; k < 3; k++)
    for (PetscInt o = 0; o < 6; o++) {
      if (o == 2 && k == 2) continue; /* the cavity is steady: no ic */
      if (o == 4 && k != 2) continue; /* only the cavity has a pressure gauge */
      PetscCall(RunCase(pdes[k], only[o]));
    }
  PetscCall(PetscFinalize());
  return 0;
}
