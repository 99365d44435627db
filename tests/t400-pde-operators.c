static const char help[] =
    "PDE residual operators on jets: forward against exact solutions, adjoint and the derivatives with respect to the\n"
    "inferable parameters against finite differences.\n\n"
    "  burgers  u_t + a u u_x - nu u_xx                (travelling-wave solution; d/d nu, d/d advection)\n"
    "  heat     u_t - k lap u - grad k . grad u - f    (k = 1 + x, u = x^2, f = -(2 + 4x))\n"
    "  cavity   steady Navier-Stokes                   (Kovasznay flow)\n"
    "  conduction  (q + k grad u)/sqrt(k), q = f (x, y)/2 + curl psi, and its homogenized form with a tensor K\n"
    "           (u = x^2 + y^2/2 + x y, q = -k grad u or -K grad u)\n"
    "  fisher   u_t - div(D k grad u) - rho u (1 - u) (Ablowitz-Zeppetella wave; d/d D, rho, white_ratio), and its\n"
    "           homogenized form u_t - Dxx u_xx - Dyy u_yy - rho u (1 - u) (d/d rho, Dxx, Dyy)\n"
    "and heat's coefficient field given by a network (KDPDESetCoefficientFieldNet): k = exp(g), k_x, k_y against g "
    "and\n"
    "finite differences of exp(g), the other coefficients untouched.\n";

#include <kdpde.h>
#include <kdtrain.h>
#include <kdnet.h>

/* Forward check: the residual of an exact solution, evaluated from its analytic jets, is zero up to round-off in
   terms of size O(1..100) (Kovasznay's exponentials reach e^{|lambda|} ~ 10 at Re = 40): tolerance 1e-11. */
#define FORWARD_TOL 1e-11
/* Adjoint check: every residual is a polynomial of degree <= 2 in the jet entries, so a central difference of
   L = sum rbar * res is exact up to round-off: with h = 1e-3 and |L| ~ 10, round-off is ~1e-12; tolerance 1e-9
   (relative to max(1, |dL/djet|)). A wrong sign, factor or missing term shows up at O(1e-1..1). */
#define ADJOINT_TOL 1e-9

static PetscErrorCode CheckForward(const char *what, PetscInt n, const PetscReal res[], PetscReal scale)
{
  PetscReal err = 0.0;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) err = PetscMax(err, PetscAbsReal(res[p]));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-28s max |residual| of exact solution %.3e (scale %.1e)\n", what,
                        (double) err, (double) scale));
  PetscCheck(err <= FORWARD_TOL * scale, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: residual %g of an exact solution exceeds %g", what, (double) err, (double) (FORWARD_TOL * scale));
  PetscFunctionReturn(0);
}

static PetscErrorCode Loss(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[], const PetscReal rbar[],
                           PetscReal *L)
{
  PetscInt nres;
  PetscReal *res;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(pde, NULL, NULL, &nres));
  PetscCall(PetscMalloc1(nres * n, &res));
  PetscCall(KDPDEResidual(pde, n, NULL, coef, jet, res));
  *L = 0.0;
  for (PetscInt i = 0; i < nres * n; i++) *L += rbar[i] * res[i];
  PetscCall(PetscFree(res));
  PetscFunctionReturn(0);
}

/* Random jets, coefficients and rbar; adj starts from random values to check that the adjoint accumulates. */
static PetscErrorCode CheckAdjoint(KDPDE pde, PetscInt n, PetscInt64 seed)
{
  const char *type;
  const KDJetSpec *spec;
  PetscInt nin, nout, nres, ncoef, ns, njet;
  PetscReal *jet, *adj, *adj0, *rbar, *coef = NULL, err = 0.0;
  const PetscReal h = 1e-3;

  PetscFunctionBegin;
  PetscCall(KDPDEGetType(pde, &type));
  PetscCall(KDPDEGetSizes(pde, &nin, &nout, &nres));
  PetscCall(KDPDEGetJetSpec(pde, &spec));
  PetscCall(KDPDEGetNumCoefficients(pde, &ncoef));
  ns   = 1 + nin + spec->nsecond;
  njet = nout * ns * n;
  PetscCall(PetscMalloc4(njet, &jet, njet, &adj, njet, &adj0, nres * n, &rbar));
  for (PetscInt i = 0; i < njet; i++) jet[i] = 4.0 * KDRandomUniform(seed, 1, i) - 2.0;
  for (PetscInt i = 0; i < njet; i++) adj0[i] = adj[i] = KDRandomUniform(seed, 2, i) - 0.5;
  for (PetscInt i = 0; i < nres * n; i++) rbar[i] = 2.0 * KDRandomUniform(seed, 3, i) - 1.0;
  if (ncoef) {
    PetscCall(PetscMalloc1(ncoef * n, &coef));
    for (PetscInt i = 0; i < ncoef * n; i++) coef[i] = 0.5 + KDRandomUniform(seed, 4, i);
  }
  PetscCall(KDPDEResidualAdjoint(pde, n, NULL, coef, jet, rbar, adj));
  for (PetscInt i = 0; i < njet; i++) {
    const PetscReal save = jet[i];
    PetscReal Lp, Lm, fd, ad = adj[i] - adj0[i];
    jet[i] = save + h;
    PetscCall(Loss(pde, n, coef, jet, rbar, &Lp));
    jet[i] = save - h;
    PetscCall(Loss(pde, n, coef, jet, rbar, &Lm));
    jet[i] = save;
    fd     = (Lp - Lm) / (2.0 * h);
    err    = PetscMax(err, PetscAbsReal(fd - ad) / PetscMax(1.0, PetscAbsReal(ad)));
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "%-28s adjoint vs central differences over %" PetscInt_FMT " jet entries: max rel err %.3e\n",
                        type, njet, (double) err));
  PetscCheck(err <= ADJOINT_TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s adjoint differs from finite differences by %g > %g", type, (double) err, ADJOINT_TOL);
  PetscCall(PetscFree4(jet, adj, adj0, rbar));
  PetscCall(PetscFree(coef));
  PetscFunctionReturn(0);
}

/* Parameter derivatives: the residual is affine in each inferable parameter, so a central difference with h = 1e-3 is
   exact up to round-off (~1e-13 here); tolerance 1e-9 relative to max(1, |dres|), as for the adjoint. Every parameter
   a PDE lets be inferred is checked; one that it does not must be refused by KDPDEResidualParameter(). */
static PetscErrorCode CheckParameters(KDPDE pde, PetscInt n, PetscInt64 seed, PetscInt *nchecked)
{
  const char *type;
  const KDJetSpec *spec;
  PetscInt nin, nout, nres, ncoef, np, njet;
  PetscReal *jet, *rp, *rm, *dres, *coef = NULL;
  const PetscReal h = 1e-3;

  PetscFunctionBegin;
  *nchecked = 0;
  PetscCall(KDPDEGetType(pde, &type));
  PetscCall(KDPDEGetSizes(pde, &nin, &nout, &nres));
  PetscCall(KDPDEGetJetSpec(pde, &spec));
  PetscCall(KDPDEGetNumCoefficients(pde, &ncoef));
  PetscCall(KDPDEGetNumParameters(pde, &np));
  njet = nout * (1 + nin + spec->nsecond) * n;
  PetscCall(PetscMalloc4(njet, &jet, nres * n, &rp, nres * n, &rm, nres * n, &dres));
  for (PetscInt i = 0; i < njet; i++) jet[i] = 4.0 * KDRandomUniform(seed, 5, i) - 2.0;
  if (ncoef) {
    PetscCall(PetscMalloc1(ncoef * n, &coef));
    for (PetscInt i = 0; i < ncoef * n; i++) coef[i] = 0.5 + KDRandomUniform(seed, 6, i);
  }
  for (PetscInt k = 0; k < np; k++) {
    const char *name;
    PetscReal v, err = 0.0;
    PetscErrorCode ierr;
    PetscCall(KDPDEGetParameterName(pde, k, &name));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = KDPDEResidualParameter(pde, k, n, NULL, coef, jet, dres);
    PetscCall(PetscPopErrorHandler());
    if (ierr == PETSC_ERR_SUP) continue; /* not inferable: refused, as it must be */
    PetscCall(ierr);
    PetscCall(KDPDEGetParameter(pde, name, &v));
    PetscCall(KDPDESetParameter(pde, name, v + h));
    PetscCall(KDPDEResidual(pde, n, NULL, coef, jet, rp));
    PetscCall(KDPDESetParameter(pde, name, v - h));
    PetscCall(KDPDEResidual(pde, n, NULL, coef, jet, rm));
    PetscCall(KDPDESetParameter(pde, name, v));
    for (PetscInt i = 0; i < nres * n; i++) {
      const PetscReal fd = (rp[i] - rm[i]) / (2.0 * h);
      err                = PetscMax(err, PetscAbsReal(fd - dres[i]) / PetscMax(1.0, PetscAbsReal(dres[i])));
    }
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-28s d res / d %s vs central differences: max rel err %.3e\n", type, name,
                          (double) err));
    PetscCheck(err <= ADJOINT_TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "%s: d res / d %s differs from finite differences by %g > %g", type, name, (double) err, ADJOINT_TOL);
    (*nchecked)++;
  }
  PetscCall(PetscFree4(jet, rp, rm, dres));
  PetscCall(PetscFree(coef));
  PetscFunctionReturn(0);
}

/* Viscous Burgers travelling wave u = c - a tanh(a (x - c t) / (2 nu)). Jet streams: u, u_t, u_x, u_xx. */
static PetscErrorCode CheckBurgersForward(void)
{
  KDPDE pde;
  const PetscInt n = 9, ns = 4;
  const PetscReal nu = 0.05, a = 0.8, c = 0.3, k = a / (2.0 * nu);
  PetscReal jet[4 * 9], res[9];

  PetscFunctionBegin;
  PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
  PetscCall(KDPDESetType(pde, "burgers"));
  PetscCall(KDPDESetParameter(pde, "nu", nu));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal t = 0.1 * p, x = -1.0 + 0.25 * p, th = PetscTanhReal(k * (x - c * t)), s2 = 1.0 - th * th;
    const PetscReal uxi = -a * k * s2, uxixi = 2.0 * a * k * k * s2 * th;
    jet[0 * n + p] = c - a * th;
    jet[1 * n + p] = -c * uxi;
    jet[2 * n + p] = uxi;
    jet[3 * n + p] = uxixi;
  }
  (void) ns;
  PetscCall(KDPDEResidual(pde, n, NULL, NULL, jet, res));
  PetscCall(CheckForward("burgers travelling wave", n, res, 1.0 + a * a * k));
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

/* Heat with variable conductivity k = 1 + x: u = x^2 gives div(k grad u) = 2 + 4x, so f = -(2 + 4x) makes u exact.
   Jet streams: u, u_t, u_x, u_y, u_xx, u_yy; coefficients k, k_x, k_y, f. */
static PetscErrorCode CheckHeatForward(void)
{
  KDPDE pde;
  const PetscInt n = 7;
  PetscReal jet[6 * 7], coef[4 * 7], res[7];

  PetscFunctionBegin;
  PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
  PetscCall(KDPDESetType(pde, "heat"));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal x = 0.15 * p;
    jet[0 * n + p]    = x * x;
    jet[1 * n + p]    = 0.0;
    jet[2 * n + p]    = 2.0 * x;
    jet[3 * n + p]    = 0.0;
    jet[4 * n + p]    = 2.0;
    jet[5 * n + p]    = 0.0;
    coef[0 * n + p]   = 1.0 + x;
    coef[1 * n + p]   = 1.0;
    coef[2 * n + p]   = 0.0;
    coef[3 * n + p]   = -(2.0 + 4.0 * x);
  }
  PetscCall(KDPDEResidual(pde, n, NULL, coef, jet, res));
  PetscCall(CheckForward("heat variable k", n, res, 10.0));
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

/* Kovasznay flow, an exact steady Navier-Stokes solution: lambda = Re/2 - sqrt(Re^2/4 + 4 pi^2),
   u = 1 - e^{lambda x} cos(2 pi y), v = lambda/(2 pi) e^{lambda x} sin(2 pi y), p = (1 - e^{2 lambda x})/2.
   Jet streams per output: value, d/dx, d/dy, d2/dx2, d2/dy2. */
static PetscErrorCode CheckCavityForward(void)
{
  KDPDE pde;
  const PetscInt n = 8, ns = 5;
  const PetscReal Re = 40.0, lam = 0.5 * Re - PetscSqrtReal(0.25 * Re * Re + 4.0 * PETSC_PI * PETSC_PI),
                  w = 2.0 * PETSC_PI;
  PetscReal jet[3 * 5 * 8], res[3 * 8], scale = 0.0;

  PetscFunctionBegin;
  PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
  PetscCall(KDPDESetType(pde, "cavity"));
  PetscCall(KDPDESetParameter(pde, "Re", Re));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal x = -0.5 + 0.2 * p, y = 0.1 + 0.11 * p, e = PetscExpReal(lam * x), C = PetscCosReal(w * y),
                    S = PetscSinReal(w * y);
    PetscReal *J[3];
    for (PetscInt o = 0; o < 3; o++) J[o] = jet + o * ns * n;
    J[0][0 * n + p] = 1.0 - e * C;
    J[0][1 * n + p] = -lam * e * C;
    J[0][2 * n + p] = w * e * S;
    J[0][3 * n + p] = -lam * lam * e * C;
    J[0][4 * n + p] = w * w * e * C;
    J[1][0 * n + p] = lam / w * e * S;
    J[1][1 * n + p] = lam * lam / w * e * S;
    J[1][2 * n + p] = lam * e * C;
    J[1][3 * n + p] = lam * lam * lam / w * e * S;
    J[1][4 * n + p] = -lam * w * e * S;
    J[2][0 * n + p] = 0.5 * (1.0 - e * e);
    J[2][1 * n + p] = -lam * e * e;
    J[2][2 * n + p] = 0.0;
    J[2][3 * n + p] = -2.0 * lam * lam * e * e;
    J[2][4 * n + p] = 0.0;
    scale           = PetscMax(scale, lam * lam * e * e);
  }
  PetscCall(KDPDEResidual(pde, n, NULL, NULL, jet, res));
  PetscCall(CheckForward("cavity Kovasznay r", 3 * n, res, scale));
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

/* Heat's field k given by a network g(x, y): KDPDEComputeCoefficients() must return k = exp(g) (the same arithmetic:
   1e-14 relative), its derivatives k_x, k_y against central differences of exp(g) (h = 1e-5 on an O(1) smooth
   function: truncation ~1e-10, round-off ~1e-11; tolerance 1e-7 relative to max(1, |k_x|)), and the source f as
   without the network; NULL gives the PDE's own k back. */
static PetscErrorCode CheckFieldNet(void)
{
  KDPDE pde;
  KDNet g;
  const PetscInt n = 6, widths[1] = {5};
  PetscReal x[3 * 6], xs[2 * 6], coef[4 * 6], own[4 * 6], gv[6], gp[1], gm[1], h = 1e-5, maxerr = 0;

  PetscFunctionBegin;
  PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
  PetscCall(KDPDESetType(pde, "heat"));
  PetscCall(KDPDESetProblemFromOptions(pde)); /* the default problem (its k and f), -heat_microstructure given */
  PetscCall(KDNetCreate(PETSC_COMM_SELF, &g));
  PetscCall(KDNetSetArchitecture(g, 2, 1, widths, 1));
  PetscCall(KDNetSetUp(g));
  PetscCall(KDNetInitialize(g, 11));
  for (PetscInt p = 0; p < n; p++) {
    x[3 * p + 0] = 0.01 * p;
    x[3 * p + 1] = xs[2 * p + 0] = 0.1 + 0.13 * p;
    x[3 * p + 2] = xs[2 * p + 1] = 0.9 - 0.11 * p;
  }
  PetscCall(KDPDEComputeCoefficients(pde, n, x, own));
  PetscCall(KDPDESetCoefficientFieldNet(pde, "k", g));
  PetscCall(KDPDEComputeCoefficients(pde, n, x, coef));
  PetscCall(KDNetEvaluate(g, n, xs, gv));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal k = PetscExpReal(gv[p]);
    PetscCheck(PetscAbsReal(coef[p] - k) <= 1e-14 * k, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "field net: k = %g at point %" PetscInt_FMT ", exp(g) = %g", (double) coef[p], p, (double) k);
    for (PetscInt j = 0; j < 2; j++) {
      PetscReal xp[2] = {xs[2 * p], xs[2 * p + 1]}, xm[2] = {xs[2 * p], xs[2 * p + 1]}, fd;
      xp[j] += h;
      xm[j] -= h;
      PetscCall(KDNetEvaluate(g, 1, xp, gp));
      PetscCall(KDNetEvaluate(g, 1, xm, gm));
      fd     = (PetscExpReal(gp[0]) - PetscExpReal(gm[0])) / (2 * h);
      maxerr = PetscMax(maxerr, PetscAbsReal(coef[(1 + j) * n + p] - fd) / PetscMax(1.0, PetscAbsReal(fd)));
      PetscCheck(PetscAbsReal(coef[(1 + j) * n + p] - fd) <= 1e-7 * PetscMax(1.0, PetscAbsReal(fd)), PETSC_COMM_SELF,
                 PETSC_ERR_PLIB, "field net: d k / d %s = %.12g at point %" PetscInt_FMT ", finite difference %.12g",
                 j ? "y" : "x", (double) coef[(1 + j) * n + p], p, (double) fd);
    }
    PetscCheck(coef[3 * n + p] == own[3 * n + p], PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "field net: the source f changed at point %" PetscInt_FMT, p);
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-28s k_x, k_y vs central differences of exp(g): max rel err %.3e\n",
                        "heat field network", (double) maxerr));
  PetscCall(KDPDESetCoefficientFieldNet(pde, "k", NULL));
  PetscCall(KDPDEComputeCoefficients(pde, n, x, coef));
  for (PetscInt i = 0; i < 4 * n; i++)
    PetscCheck(coef[i] == own[i], PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "field net removed: coefficient %" PetscInt_FMT " is not the PDE's own", i);
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

/* Conduction, outputs u and psi, the flux q = f g + curl psi with g = (x, y) / 2, streams value, d/dx, d/dy:
   u = x^2 + y^2 / 2 + x y with q = -k grad u (fine: k = 1.7, so div q = -3 k = f) or q = -K grad u (homogenized:
   f = -(2 Kxx + 2 Kxy + Kyy)); psi's derivatives are those that make f g + curl psi = q. */
static PetscErrorCode CheckConductionForward(PetscBool homogenized)
{
  KDPDE pde;
  const PetscInt n = 7, ns = 3;
  const PetscReal K[3] = {2.3, 0.4, 1.7}, k = 1.7, uxx = 2, uxy = 1, uyy = 1;
  PetscReal jet[2 * 3 * 7], coef[4 * 7], res[2 * 7], f;

  PetscFunctionBegin;
  PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
  PetscCall(KDPDESetType(pde, "conduction"));
  if (homogenized) {
    PetscCall(PetscOptionsSetValue(NULL, "-conduction_model", "homogenized"));
    PetscCall(KDPDESetFromOptions(pde));
    PetscCall(PetscOptionsClearValue(NULL, "-conduction_model"));
    PetscCall(KDPDESetParameter(pde, "Kxx", K[0]));
    PetscCall(KDPDESetParameter(pde, "Kxy", K[1]));
    PetscCall(KDPDESetParameter(pde, "Kyy", K[2]));
    f = -(K[0] * uxx + 2 * K[1] * uxy + K[2] * uyy);
  } else
    f = -k * (uxx + uyy);
  PetscCall(KDPDESetParameter(pde, "f", f));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal x = 0.1 + 0.13 * p, y = 0.9 - 0.11 * p;
    const PetscReal ux = 2 * x + y, uy = y + x, g[2] = {0.5 * x, 0.5 * y};
    PetscReal q[2];
    if (homogenized) {
      q[0] = -(K[0] * ux + K[1] * uy);
      q[1] = -(K[1] * ux + K[2] * uy);
    } else {
      q[0] = -k * ux;
      q[1] = -k * uy;
    }
    jet[(0 * ns + 0) * n + p] = x * x + 0.5 * y * y + x * y;
    jet[(0 * ns + 1) * n + p] = ux;
    jet[(0 * ns + 2) * n + p] = uy;
    jet[(1 * ns + 0) * n + p] = 0.3;                /* psi itself is not read */
    jet[(1 * ns + 1) * n + p] = -(q[1] - f * g[1]); /* psi_x = -(q_y - f g_y) */
    jet[(1 * ns + 2) * n + p] = q[0] - f * g[0];    /* psi_y = q_x - f g_x */
    coef[p]                   = k;
    coef[n + p]               = g[0];
    coef[2 * n + p]           = g[1];
    coef[3 * n + p]           = 1; /* the homogenized residual's weight (0 in the boundary layer) */
  }
  PetscCall(KDPDEResidual(pde, n, NULL, coef, jet, res));
  PetscCall(CheckForward(homogenized ? "conduction homogenized" : "conduction fine", 2 * n, res, 10.0));
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

/* Conduction's boundary layer: the weight of the homogenized residual (coefficient 3) is 0 at points within
   -conduction_boundary_layer periods of the boundary (default 1, eps = 1/8 here), 1 elsewhere, and 1 everywhere with
   the option 0 or in the fine formulation; at a weight-0 point the homogenized residual vanishes whatever the jets. */
static PetscErrorCode CheckConductionBoundaryLayer(void)
{
  const PetscInt n         = 6;
  const PetscReal x[12]    = {0.05, 0.5, 0.3, 0.5, 0.5, 0.99, 0.126, 0.874, 0.124, 0.5, 0.5, 0.5};
  const PetscReal inner[6] = {0, 1, 0, 1, 0, 1};
  PetscReal coef[4 * 6], jet[2 * 3 * 6], res[2 * 6];

  PetscFunctionBegin;
  for (PetscInt i = 0; i < 2 * 3 * n; i++) jet[i] = 0.3 + 0.1 * (PetscReal) i;
  for (PetscInt c = 0; c < 3; c++) { /* homogenized, homogenized without the layer, fine */
    KDPDE pde;
    PetscCall(PetscOptionsSetValue(NULL, "-conduction_microstructure", "checkerboard"));
    PetscCall(PetscOptionsSetValue(NULL, "-conduction_eps", "0.125"));
    PetscCall(PetscOptionsSetValue(NULL, "-conduction_model", c < 2 ? "homogenized" : "fine"));
    if (c == 1) PetscCall(PetscOptionsSetValue(NULL, "-conduction_boundary_layer", "0"));
    PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
    PetscCall(KDPDESetType(pde, "conduction"));
    PetscCall(KDPDESetProblemFromOptions(pde));
    PetscCall(KDPDESetFromOptions(pde));
    PetscCall(KDPDEComputeCoefficients(pde, n, x, coef));
    PetscCall(KDPDEResidual(pde, n, NULL, coef, jet, res));
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal want = c == 0 ? inner[p] : 1;
      PetscCheck(coef[3 * n + p] == want, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "boundary layer (case %" PetscInt_FMT "): weight %g at (%g, %g), expected %g", c,
                 (double) coef[3 * n + p], (double) x[2 * p], (double) x[2 * p + 1], (double) want);
      PetscCheck(want != 0 || (res[p] == 0 && res[n + p] == 0), PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "boundary layer: residual %g, %g at a point of weight 0", (double) res[p], (double) res[n + p]);
      PetscCheck(want == 0 || res[p] != 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "residual 0 at a point of weight 1");
    }
    PetscCall(KDPDEDestroy(&pde));
    PetscCall(PetscOptionsClearValue(NULL, "-conduction_microstructure"));
    PetscCall(PetscOptionsClearValue(NULL, "-conduction_eps"));
    PetscCall(PetscOptionsClearValue(NULL, "-conduction_model"));
    PetscCall(PetscOptionsClearValue(NULL, "-conduction_boundary_layer"));
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "%-28s weight 0 within one period of the boundary, 1 beyond; option 0 and "
                        "the fine formulation: 1\n",
                        "conduction boundary layer"));
  PetscFunctionReturn(0);
}

/* Fisher-KPP: the travelling wave of Ablowitz and Zeppetella, u = (1 + e^z)^-2, z = k (x - c t), k = sqrt(rho / (6
   D')), c = 5 sqrt(rho D' / 6), an exact solution of u_t = D' u_xx + rho u (1 - u). Jet streams: u, u_t, u_x, u_y,
   u_xx, u_yy; coefficients chi, chi_x, chi_y. Grey matter (chi = 0: D' = D), then white matter everywhere (chi = 1: D'
   = D white_ratio). Homogenized (a tensor diag(Dxx, Dyy) in place of D k, which the coefficients must not enter): the
   wave along x with D' = Dxx, then along y with D' = Dyy. */
static PetscErrorCode CheckFisherForward(void)
{
  KDPDE pde;
  const PetscInt n  = 9;
  const PetscReal D = 0.02, rho = 3.0, ratio = 2.5, Dxx = 0.034, Dyy = 0.012;
  PetscReal jet[6 * 9], coef[3 * 9], res[9];

  PetscFunctionBegin;
  PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
  PetscCall(KDPDESetType(pde, "fisher"));
  PetscCall(KDPDESetParameter(pde, "D", D));
  PetscCall(KDPDESetParameter(pde, "rho", rho));
  PetscCall(KDPDESetParameter(pde, "white_ratio", ratio));
  for (PetscInt c4 = 0; c4 < 4; c4++) {
    const PetscBool hom  = c4 >= 2 ? PETSC_TRUE : PETSC_FALSE;
    const PetscInt white = hom ? 1 : c4, dir = c4 == 3 ? 1 : 0; /* the wave along x (dir 0) or y (dir 1) */
    const PetscReal Dw = hom     ? (dir ? Dyy : Dxx)
                         : white ? D * ratio
                                 : D,
                    k = PetscSqrtReal(rho / (6 * Dw)), c = 5 * PetscSqrtReal(rho * Dw / 6);
    const char *what[] = {"fisher wave, grey matter", "fisher wave, white matter", "fisher homogenized, wave along x",
                          "fisher homogenized, wave along y"};
    if (c4 == 2) {
      PetscCall(PetscOptionsSetValue(NULL, "-fisher_model", "homogenized"));
      PetscCall(KDPDESetFromOptions(pde));
      PetscCall(PetscOptionsClearValue(NULL, "-fisher_model"));
      PetscCall(KDPDESetParameter(pde, "Dxx", Dxx));
      PetscCall(KDPDESetParameter(pde, "Dyy", Dyy));
    }
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal t = 0.1 * p, x = 0.125 * p, E = PetscExpReal(k * (x - c * t)), w = 1 / (1 + E);
      const PetscReal ux = -2 * k * E * w * w * w, uxx = k * k * (6 * E * E * w * w * w * w - 2 * E * w * w * w);
      jet[0 * n + p]  = w * w;
      jet[1 * n + p]  = -c * ux;
      jet[2 * n + p]  = dir ? 0.0 : ux;
      jet[3 * n + p]  = dir ? ux : 0.0;
      jet[4 * n + p]  = dir ? 0.0 : uxx;
      jet[5 * n + p]  = dir ? uxx : 0.0;
      coef[0 * n + p] = white;
      coef[1 * n + p] = hom ? 7.0 : 0.0; /* a gradient of the tissue the homogenized form must ignore */
      coef[2 * n + p] = hom ? -5.0 : 0.0;
    }
    PetscCall(KDPDEResidual(pde, n, NULL, coef, jet, res));
    PetscCall(CheckForward(what[c4], n, res, rho));
  }
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const char *types[] = {"burgers", "heat", "cavity", "conduction", "conduction", "fisher", "fisher"};

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(CheckBurgersForward());
  PetscCall(CheckHeatForward());
  PetscCall(CheckCavityForward());
  PetscCall(CheckFieldNet());
  PetscCall(CheckConductionForward(PETSC_FALSE));
  PetscCall(CheckConductionForward(PETSC_TRUE));
  PetscCall(CheckConductionBoundaryLayer());
  PetscCall(CheckFisherForward());
  for (PetscInt t = 0; t < 7; t++) {
    KDPDE pde;
    PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
    PetscCall(KDPDESetType(pde, types[t]));
    if (t == 4) { /* conduction's homogenized formulation, K away from the identity */
      PetscCall(PetscOptionsSetValue(NULL, "-conduction_model", "homogenized"));
      PetscCall(KDPDESetFromOptions(pde));
      PetscCall(PetscOptionsClearValue(NULL, "-conduction_model"));
      PetscCall(KDPDESetParameter(pde, "Kxx", 2.3));
      PetscCall(KDPDESetParameter(pde, "Kxy", 0.4));
      PetscCall(KDPDESetParameter(pde, "Kyy", 1.7));
    }
    if (t == 6) { /* fisher's homogenized formulation, an anisotropic tensor */
      PetscCall(PetscOptionsSetValue(NULL, "-fisher_model", "homogenized"));
      PetscCall(KDPDESetFromOptions(pde));
      PetscCall(PetscOptionsClearValue(NULL, "-fisher_model"));
      PetscCall(KDPDESetParameter(pde, "Dxx", 0.61));
      PetscCall(KDPDESetParameter(pde, "Dyy", 0.23));
    }
    /* Parameters away from 1 so that a missing factor nu or 1/Re is visible. */
    PetscInt nchecked;
    if (t == 0) PetscCall(KDPDESetParameter(pde, "nu", 0.37));
    if (t == 0) PetscCall(KDPDESetParameter(pde, "advection", 1.3));
    if (t == 2) PetscCall(KDPDESetParameter(pde, "Re", 3.0));
    if (t >= 5) PetscCall(KDPDESetParameter(pde, "D", 0.37));
    if (t >= 5) PetscCall(KDPDESetParameter(pde, "rho", 1.3));
    if (t >= 5) PetscCall(KDPDESetParameter(pde, "white_ratio", 4.2));
    PetscCall(CheckAdjoint(pde, 5, 100 + t));
    PetscCall(CheckParameters(pde, 5, 200 + t, &nchecked));
    /* burgers lets both of its parameters be inferred */
    PetscCheck(t != 0 || nchecked == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "burgers: %" PetscInt_FMT " inferable parameters, expected 2", nchecked);
    /* conduction: f in both formulations, Kxx, Kxy, Kyy in the homogenized one only */
    PetscCheck(t != 3 || nchecked == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "conduction (fine): %" PetscInt_FMT " inferable parameters, expected 1", nchecked);
    PetscCheck(t != 4 || nchecked == 4, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "conduction (homogenized): %" PetscInt_FMT " inferable parameters, expected 4", nchecked);
    /* fisher: D, rho and white_ratio; the seed enters only the initial data */
    PetscCheck(t != 5 || nchecked == 3, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "fisher: %" PetscInt_FMT " inferable parameters, expected 3", nchecked);
    /* fisher homogenized: rho, Dxx and Dyy; D and white_ratio do not appear in it */
    PetscCheck(t != 6 || nchecked == 3, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "fisher (homogenized): %" PetscInt_FMT " inferable parameters, expected 3", nchecked);
    PetscCall(KDPDEDestroy(&pde));
  }
  PetscCall(PetscFinalize());
  return 0;
}
