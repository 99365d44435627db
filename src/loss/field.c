/*
  A coefficient field of a KDLoss learned from data (-<prefix>infer_field k, docs/inverse.md): a second, small network
  g of the PDE's spatial inputs, trained jointly with the solution's network, and the field k = exp(g) (positive, as a
  conductivity or a diffusivity is). It replaces the PDE's coefficient k and those of its derivatives,
  k_i = exp(g) d g / d x_i, wherever the residual is evaluated; its parameters follow the network's and the inferred
  scalars in the loss's parameter vector (KDLossGetNumParameters()).

  Derivatives: with cbar = (d res / d coef)^T rbar from the PDE (KDPDECoefficientAdjoint()), the adjoint of the field's
  jets is d/dg = cbar_k k + sum_i cbar_ki k_i and d/d(dg/dx_i) = cbar_ki k, and one reverse pass of the field network
  (KDNetJetGradient()) gives the gradient of its parameters; a Jacobian row is the same with rbar a unit vector.
*/
#include "loss/lossimpl.h"
#include <string.h>

/* -<prefix>infer_field name[=initial]: the field network, its inputs (the spatial inputs of the PDE), initialized so
   that k starts at the initial value (default 1) everywhere up to the initial weights' small variation. */
PetscErrorCode KDLossFieldSetUp(KDLoss loss)
{
  const char *p = loss->prefix ? loss->prefix : "";
  char name[64], *eq, prefix[80];
  PetscInt nin, tin, grad[KD_NET_MAX_IN];
  const PetscInt widths[2] = {20, 20};
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN], flo[KD_NET_MAX_IN], fhi[KD_NET_MAX_IN], scale = 1.0, shift;

  PetscFunctionBegin;
  loss->nfield = 0;
  if (!loss->infer_field[0]) PetscFunctionReturn(0);
  PetscCall(PetscStrncpy(name, loss->infer_field, sizeof(name)));
  loss->field_initial = 1.0;
  eq                  = strchr(name, '=');
  if (eq) {
    char *end           = NULL;
    *eq                 = 0;
    loss->field_initial = (PetscReal) strtod(eq + 1, &end);
    PetscCheck(end && !*end && loss->field_initial > 0 && !PetscIsInfOrNanReal(loss->field_initial), loss->comm,
               PETSC_ERR_ARG_WRONG, "-%sinfer_field: the initial value of %s must be a positive number, got '%s'", p,
               name, eq + 1);
  }
  PetscCall(KDPDEGetCoefficientField(loss->pde, name, &loss->field_value, grad));
  PetscCall(PetscStrncpy(loss->field_name, name, sizeof(loss->field_name)));
  PetscCall(KDPDEGetSizes(loss->pde, &nin, NULL, NULL));
  PetscCall(KDPDEGetTimeInput(loss->pde, &tin));
  PetscCall(KDPDEGetDomain(loss->pde, lo, hi));
  loss->nfin = 0;
  for (PetscInt i = 0; i < nin; i++) {
    if (i == tin) continue;
    loss->field_in[loss->nfin]   = i;
    loss->field_grad[loss->nfin] = grad[i];
    flo[loss->nfin]              = lo[i];
    fhi[loss->nfin]              = hi[i];
    loss->nfin++;
  }
  if (!loss->field) {
    PetscCall(KDNetCreate(loss->comm, &loss->field));
    PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%sfield_", p));
    PetscCall(KDNetSetOptionsPrefix(loss->field, prefix));
    PetscCall(KDNetSetArchitecture(loss->field, loss->nfin, 2, widths, 1));
    PetscCall(KDNetSetFromOptions(loss->field));
    PetscCall(KDNetSetInputBounds(loss->field, flo, fhi));
    shift = PetscLogReal(loss->field_initial);
    PetscCall(KDNetSetOutputScaling(loss->field, &scale, &shift));
    PetscCall(KDNetSetUp(loss->field));
    PetscCall(KDNetInitialize(loss->field, loss->seed + 1));
  }
  PetscCall(KDNetGetSizes(loss->field, NULL, NULL, &loss->nfield));
  PetscCall(PetscFree(loss->gfield));
  PetscCall(PetscCalloc1(loss->nfield, &loss->gfield));
  PetscFunctionReturn(0);
}

/* The field's jets at n points x (the PDE's inputs, x[p * nin + i]): the spatial coordinates in fwork[0, n nfin), the
   jets (value, then the derivative along each field input) in fwork[n nfin, n nfin + n (1 + nfin)); then k and its
   derivatives into coef (n-strided, coef[c * n + p]). */
PetscErrorCode KDLossFieldCoefficients(KDLoss loss, PetscInt n, const PetscReal x[], PetscReal coef[])
{
  const PetscInt nf = loss->nfin;
  PetscInt nin;
  PetscReal *xs, *fj;
  KDJetSpec spec;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, NULL, NULL));
  PetscCall(KDWorkEnsure(&loss->fwork, &loss->nfwork, n * (nf + 1 + nf) + 2 * n * (1 + nf)));
  xs = loss->fwork;
  fj = xs + n * nf;
  for (PetscInt p = 0; p < n; p++)
    for (PetscInt j = 0; j < nf; j++) xs[p * nf + j] = x[p * nin + loss->field_in[j]];
  PetscCall(PetscMemzero(&spec, sizeof(spec)));
  PetscCall(KDNetJetForward(loss->field, &spec, n, xs, fj));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal k               = PetscExpReal(fj[p]);
    coef[loss->field_value * n + p] = k;
    for (PetscInt j = 0; j < nf; j++)
      if (loss->field_grad[j] >= 0) coef[loss->field_grad[j] * n + p] = k * fj[(1 + j) * n + p];
  }
  PetscFunctionReturn(0);
}

/* The field's jet adjoint from cbar at n points, with the jets of the last KDLossFieldCoefficients() (same points):
   into fwork after the jets. Returns its address. */
static PetscErrorCode KDLossFieldJetAdjoint(KDLoss loss, PetscInt n, const PetscReal coef[], const PetscReal cbar[],
                                            PetscReal **adj)
{
  const PetscInt nf = loss->nfin;
  PetscReal *a      = loss->fwork + n * nf + n * (1 + nf);

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal k = coef[loss->field_value * n + p];
    PetscReal ag      = cbar[loss->field_value * n + p] * k;
    for (PetscInt j = 0; j < nf; j++) {
      const PetscInt c   = loss->field_grad[j];
      a[(1 + j) * n + p] = c >= 0 ? cbar[c * n + p] * k : 0.0;
      if (c >= 0) ag += cbar[c * n + p] * coef[c * n + p];
    }
    a[p] = ag;
  }
  *adj = a;
  PetscFunctionReturn(0);
}

/* gfield += the gradient of sum_p rbar . res at n points (jet: the solution's, coef: with the field, as set by
   KDLossFieldCoefficients() for the same points). */
PetscErrorCode KDLossFieldGradient(KDLoss loss, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                   const PetscReal rbar[])
{
  PetscInt ncoef;
  PetscReal *cbar, *adj;
  KDJetSpec spec;

  PetscFunctionBegin;
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  PetscCall(PetscMalloc1(ncoef * n, &cbar));
  PetscCall(KDPDECoefficientAdjoint(loss->pde, n, NULL, coef, jet, rbar, cbar));
  PetscCall(KDLossFieldJetAdjoint(loss, n, coef, cbar, &adj));
  PetscCall(PetscMemzero(&spec, sizeof(spec)));
  PetscCall(KDNetJetGradient(loss->field, &spec, n, loss->fwork, adj, loss->gfield));
  PetscCall(PetscFree(cbar));
  PetscFunctionReturn(0);
}

/* The field's Jacobian columns of the residual rows q = start .. start + count - 1 (component q % nres of point
   p0 + q / nres - p0 of the np points given): J[(q - start) * ld + j], c the rows' factor sqrt(scale). */
PetscErrorCode KDLossFieldRows(KDLoss loss, PetscInt p0, PetscInt np, const PetscReal coef[], const PetscReal jet[],
                               PetscInt start, PetscInt count, PetscReal c, PetscInt ld, PetscReal J[])
{
  const PetscInt nf = loss->nfin;
  PetscInt ncoef, nres;
  PetscReal *cbar, *rbar, *adj, *seed;
  KDJetSpec spec;

  PetscFunctionBegin;
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  PetscCall(KDPDEGetSizes(loss->pde, NULL, NULL, &nres));
  PetscCall(PetscMemzero(&spec, sizeof(spec)));
  PetscCall(PetscMalloc3(ncoef * np, &cbar, nres * np, &rbar, 1 + nf, &seed));
  for (PetscInt r = 0; r < nres; r++) {
    /* a unit rbar on component r: per point, the derivatives of that component */
    PetscCall(PetscArrayzero(rbar, nres * np));
    for (PetscInt p = 0; p < np; p++) rbar[r * np + p] = c;
    PetscCall(KDPDECoefficientAdjoint(loss->pde, np, NULL, coef, jet, rbar, cbar));
    PetscCall(KDLossFieldJetAdjoint(loss, np, coef, cbar, &adj));
    for (PetscInt q = start; q < start + count; q++) {
      const PetscInt p = q / nres - p0;
      if (q % nres != r) continue;
      for (PetscInt j = 0; j <= nf; j++) seed[j] = adj[j * np + p];
      PetscCall(KDNetJetGradient(loss->field, &spec, 1, loss->fwork + p * nf, seed, J + (q - start) * ld));
    }
  }
  PetscCall(PetscFree3(cbar, rbar, seed));
  PetscFunctionReturn(0);
}
