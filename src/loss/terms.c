/*
  The term types of a KDLoss, one row of the table each (src/loss/lossimpl.h): the loss and gradient over this rank's
  points of a set, and its least-squares rows with their Jacobian for Gauss-Newton. A set's scale s is w / N (weight
  over global points), so that summed over the ranks the terms are the loss of docs/losses.md:

    residual  s sum_{p, r} w(x_p) N_r[u](x_p)^2                            interior collocation points (w = 1
                                                                             unless the PDE grades them,
                                                                             KDPDEGradePoints())
    value     s sum_{p, o prescribed} w_o(x_p) (u_o(x_p) - g_o(x_p))^2       dirichlet, initial, gauge, data, obs
                                                                             (w = 1 / sigma^2 for observations with
                                                                             sigma, 1 otherwise)
    neumann   s sum_{p, o} (c_o(x_p) du_o/dn(x_p) - g_o(x_p))^2              n the outward normal of the point's face
    periodic  s sum_{p, o} (u_o(a_p) - u_o(b_p))^2 + (h_i (d_i u_o(a_p) - d_i u_o(b_p)))^2
                                                                             a_p on the low face of input i, b_p its
                                                                             image on the high face, h_i the half-width

  The residual term also depends on the inferred PDE parameters (-<prefix>infer) and on a learned coefficient field
  (-<prefix>infer_field, src/loss/field.c): its gradient and its Jacobian rows carry their columns after the
  network's.

  Adding a type (docs/extending.md): a KDTermOps here, a KDConditionType, and its row in KDConditionTerms
  (src/loss/loss.c).
*/
#include "loss/lossimpl.h"

/* --- residual: the PDE on interior points ----------------------------------------------------------------------- */

/* sqrt(w) of graded points: res[r * n + p] *= it (nothing for uniform points, so that their numbers do not change) */
static void KDLossWeighResidual(const KDPointSet *s, PetscInt n, PetscInt offset, PetscInt nres, PetscReal res[])
{
  if (!s->wt) return;
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal sw = PetscSqrtReal(s->wt[offset + p]);
    for (PetscInt r = 0; r < nres; r++) res[r * n + p] *= sw;
  }
}

/* KDJetLossFunction of the interior set: scale * sum_{p,r} w res^2 and its adjoint 2 scale w res through the PDE. */
static PetscErrorCode KDLossBlockPDE(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[],
                                     PetscReal *value, void *ctx)
{
  KDPointSet *s = (KDPointSet *) ctx;
  KDLoss loss   = s->loss;
  PetscInt nres, ncoef;
  PetscReal *res, *coef = NULL, sum = 0.0;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, NULL, NULL, &nres));
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  PetscCall(KDWorkEnsure(&loss->work, &loss->nwork, n * (nres + ncoef + (loss->ninfer ? nres : 0))));
  res = loss->work;
  if (ncoef) {
    coef = loss->work + n * nres;
    for (PetscInt c = 0; c < ncoef; c++) PetscCall(PetscArraycpy(coef + c * n, s->coef + c * s->nlocal + offset, n));
    if (loss->nfield) PetscCall(KDLossFieldCoefficients(loss, n, s->x + offset * loss->nin, coef));
  }
  PetscCall(KDPDEResidual(loss->pde, n, NULL, coef, jet, res));
  KDLossWeighResidual(s, n, offset, nres, res);
  for (PetscInt i = 0; i < n * nres; i++) {
    sum += res[i] * res[i];
    res[i] *= 2.0 * s->scale;
  }
  KDLossWeighResidual(s, n, offset, nres, res); /* 2 scale w res: the adjoint of the unweighted residual */
  *value += s->scale * sum;
  if (loss->nfield) PetscCall(KDLossFieldGradient(loss, n, coef, jet, res));
  /* d/d theta_k of scale sum res^2 = sum (2 scale res) d res / d param_k * d param_k / d theta_k */
  for (PetscInt k = 0; k < loss->ninfer; k++) {
    PetscReal *dres = loss->work + n * (nres + ncoef), dv, g = 0.0;
    PetscCall(KDPDEResidualParameter(loss->pde, loss->infer_param[k], n, NULL, coef, jet, dres));
    PetscCall(KDLossInferredChain(loss, k, &dv));
    for (PetscInt i = 0; i < n * nres; i++) g += res[i] * dres[i];
    loss->gtheta[k] += g * dv;
  }
  PetscCall(KDPDEResidualAdjoint(loss->pde, n, NULL, coef, jet, res, adj));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTermEvaluate_Residual(KDPointSet *s, PetscReal *value, PetscReal grad[])
{
  PetscFunctionBegin;
  PetscCall(KDNetLossGradient(s->loss->net, s->spec, s->nlocal, s->x, KDLossBlockPDE, s, value, grad));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTermRowsPerPoint_Residual(const KDPointSet *s, PetscInt *nr)
{
  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(s->loss->pde, NULL, NULL, nr));
  PetscFunctionReturn(0);
}

/* KDJetResidualFunction of the interior set: sqrt(scale w) N_k and, per component, its linearization in the jets (the
   PDE adjoint with a unit seed on that component). */
static PetscErrorCode KDLossRowsPDE(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal r[], PetscReal seed[],
                                    void *ctx)
{
  KDPointSet *s     = (KDPointSet *) ctx;
  KDLoss loss       = s->loss;
  const PetscReal c = PetscSqrtReal(s->scale);
  PetscInt nin, nout, nres, ncoef, S;
  PetscReal *res, *rbar, *coef = NULL;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, &nres));
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  PetscCall(KDJetSpecGetNumStreams(s->spec, nin, &S));
  PetscCall(KDWorkEnsure(&loss->work, &loss->nwork, n * (2 * nres + ncoef)));
  res  = loss->work;
  rbar = loss->work + n * nres;
  if (ncoef) {
    coef = loss->work + 2 * n * nres;
    for (PetscInt k = 0; k < ncoef; k++) PetscCall(PetscArraycpy(coef + k * n, s->coef + k * s->nlocal + offset, n));
    if (loss->nfield) PetscCall(KDLossFieldCoefficients(loss, n, s->x + offset * nin, coef));
  }
  PetscCall(KDPDEResidual(loss->pde, n, NULL, coef, jet, res));
  KDLossWeighResidual(s, n, offset, nres, res);
  for (PetscInt i = 0; i < n * nres; i++) r[i] = c * res[i];
  if (seed)
    for (PetscInt k = 0; k < nres; k++) {
      PetscCall(PetscArrayzero(rbar, n * nres));
      for (PetscInt p = 0; p < n; p++) rbar[k * n + p] = c;
      KDLossWeighResidual(s, n, offset, nres, rbar);
      PetscCall(KDPDEResidualAdjoint(loss->pde, n, NULL, coef, jet, rbar, seed + k * nout * S * n));
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTermRows_Residual(KDPointSet *s, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  PetscInt nr = 0;

  PetscFunctionBegin;
  PetscCall(KDTermRowsPerPoint_Residual(s, &nr));
  PetscCall(KDNetResidualJacobian(s->loss->net, s->spec, s->nlocal, s->x, nr, KDLossRowsPDE, s, start, count, r, J));
  PetscFunctionReturn(0);
}

/* The columns of the parameters after the network's, of rows start .. start + count - 1: sqrt(scale w) d N_r / d
   param_k times d param_k / d theta_k for the inferred scalars, then the field network's (KDLossFieldRows()), from one
   more forward pass over the rows' points. */
static PetscErrorCode KDTermRowsExtra_Residual(KDPointSet *s, PetscInt start, PetscInt count, PetscInt ld,
                                               PetscReal J[])
{
  KDLoss loss       = s->loss;
  const PetscReal c = PetscSqrtReal(s->scale);
  PetscInt nin, nout, nres, ncoef, S, p0, np;
  PetscReal *jet, *dres, *coef;

  PetscFunctionBegin;
  if (count <= 0) PetscFunctionReturn(0);
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, &nres));
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  PetscCall(KDJetSpecGetNumStreams(s->spec, nin, &S));
  p0 = start / nres;
  np = (start + count - 1) / nres + 1 - p0;
  PetscCall(PetscMalloc3(nout * S * np, &jet, nres * np, &dres, ncoef * np, &coef));
  for (PetscInt k = 0; k < ncoef; k++) PetscCall(PetscArraycpy(coef + k * np, s->coef + k * s->nlocal + p0, np));
  if (loss->nfield) PetscCall(KDLossFieldCoefficients(loss, np, s->x + p0 * nin, coef));
  PetscCall(KDNetJetForward(loss->net, s->spec, np, s->x + p0 * nin, jet));
  for (PetscInt k = 0; k < loss->ninfer; k++) {
    PetscReal dv;
    PetscCall(KDPDEResidualParameter(loss->pde, loss->infer_param[k], np, NULL, ncoef ? coef : NULL, jet, dres));
    PetscCall(KDLossInferredChain(loss, k, &dv));
    for (PetscInt q = start; q < start + count; q++)
      J[(q - start) * ld + k] = c * dv * dres[(q % nres) * np + (q / nres - p0)];
  }
  if (loss->nfield) PetscCall(KDLossFieldRows(loss, p0, np, coef, jet, start, count, c, ld, J + loss->ninfer));
  if (s->wt)
    for (PetscInt q = start; q < start + count; q++)
      for (PetscInt k = 0; k < loss->ninfer + loss->nfield; k++)
        J[(q - start) * ld + k] *= PetscSqrtReal(s->wt[q / nres]);
  PetscCall(PetscFree3(jet, dres, coef));
  PetscFunctionReturn(0);
}

const KDTermOps KDTermResidual = {"residual", KDTermEvaluate_Residual, KDTermRowsPerPoint_Residual, KDTermRows_Residual,
                                  KDTermRowsExtra_Residual};

/* --- value: dirichlet, initial, gauge, data --------------------------------------------------------------------- */

/* scale * sum over prescribed outputs of the squared misfit of the value stream (stream 0 of each output). */
static PetscErrorCode KDLossBlockValue(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[],
                                       PetscReal *value, void *ctx)
{
  KDPointSet *s = (KDPointSet *) ctx;
  PetscInt nin, nout, ns;
  PetscReal sum = 0.0;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(s->loss->pde, &nin, &nout, NULL));
  ns = 1 + nin + s->spec->nsecond;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscReal *u = jet + o * ns * n, *g = s->target + o * s->nlocal + offset;
    const PetscReal *w = s->wt ? s->wt + o * s->nlocal + offset : NULL;
    PetscReal *a       = adj + o * ns * n;
    if (!s->mask[o]) continue;
    if (w)
      for (PetscInt p = 0; p < n; p++) {
        const PetscReal d = u[p] - g[p];
        sum += w[p] * d * d;
        a[p] += 2.0 * s->scale * w[p] * d;
      }
    else
      for (PetscInt p = 0; p < n; p++) {
        const PetscReal d = u[p] - g[p];
        sum += d * d;
        a[p] += 2.0 * s->scale * d;
      }
  }
  *value += s->scale * sum;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTermEvaluate_Value(KDPointSet *s, PetscReal *value, PetscReal grad[])
{
  PetscFunctionBegin;
  PetscCall(KDNetLossGradient(s->loss->net, s->spec, s->nlocal, s->x, KDLossBlockValue, s, value, grad));
  PetscFunctionReturn(0);
}

/* One row per point and prescribed output. */
static PetscErrorCode KDTermRowsPerPoint_Value(const KDPointSet *s, PetscInt *nr)
{
  PetscInt nout;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(s->loss->pde, NULL, &nout, NULL));
  *nr = 0;
  for (PetscInt o = 0; o < nout; o++) *nr += s->mask[o] ? 1 : 0;
  PetscFunctionReturn(0);
}

/* sqrt(scale w_o) (u_o - g_o) for each prescribed output o. */
static PetscErrorCode KDLossRowsValue(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal r[],
                                      PetscReal seed[], void *ctx)
{
  KDPointSet *s     = (KDPointSet *) ctx;
  const PetscReal c = PetscSqrtReal(s->scale);
  PetscInt nin, nout, S, k = 0;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(s->loss->pde, &nin, &nout, NULL));
  S = 1 + nin + s->spec->nsecond;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscReal *u = jet + o * S * n, *g = s->target + o * s->nlocal + offset;
    const PetscReal *w = s->wt ? s->wt + o * s->nlocal + offset : NULL;
    if (!s->mask[o]) continue;
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal cw = w ? c * PetscSqrtReal(w[p]) : c;
      r[k * n + p]       = cw * (u[p] - g[p]);
      if (seed) seed[(k * nout * S + o * S) * n + p] = cw;
    }
    k++;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTermRows_Value(KDPointSet *s, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  PetscInt nr = 0;

  PetscFunctionBegin;
  PetscCall(KDTermRowsPerPoint_Value(s, &nr));
  PetscCall(KDNetResidualJacobian(s->loss->net, s->spec, s->nlocal, s->x, nr, KDLossRowsValue, s, start, count, r, J));
  PetscFunctionReturn(0);
}

const KDTermOps KDTermValue = {"value", KDTermEvaluate_Value, KDTermRowsPerPoint_Value, KDTermRows_Value, NULL};

/* --- neumann: the normal derivative or the flux c du/dn --------------------------------------------------------- */

/* The derivative stream 1 + i and the outward normal's sign of a point on face 2 i + side. */
static inline void KDFaceNormal(PetscInt face, PetscInt *stream, PetscReal *sign)
{
  *stream = 1 + face / 2;
  *sign   = (face % 2) ? 1.0 : -1.0;
}

static PetscErrorCode KDLossBlockNeumann(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[],
                                         PetscReal *value, void *ctx)
{
  KDPointSet *s = (KDPointSet *) ctx;
  PetscInt nin, nout, ns;
  PetscReal sum = 0.0;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(s->loss->pde, &nin, &nout, NULL));
  ns = 1 + nin + s->spec->nsecond;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscReal *g = s->target + o * s->nlocal + offset, *c = s->flux + o * s->nlocal + offset;
    if (!s->mask[o]) continue;
    for (PetscInt p = 0; p < n; p++) {
      PetscInt st;
      PetscReal sign, d, cs;
      KDFaceNormal(s->face[offset + p], &st, &sign);
      cs = c[p] * sign;
      d  = cs * jet[(o * ns + st) * n + p] - g[p];
      sum += d * d;
      adj[(o * ns + st) * n + p] += 2.0 * s->scale * d * cs;
    }
  }
  *value += s->scale * sum;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTermEvaluate_Neumann(KDPointSet *s, PetscReal *value, PetscReal grad[])
{
  PetscFunctionBegin;
  PetscCall(KDNetLossGradient(s->loss->net, s->spec, s->nlocal, s->x, KDLossBlockNeumann, s, value, grad));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDLossRowsNeumann(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal r[],
                                        PetscReal seed[], void *ctx)
{
  KDPointSet *s     = (KDPointSet *) ctx;
  const PetscReal q = PetscSqrtReal(s->scale);
  PetscInt nin, nout, S, k = 0;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(s->loss->pde, &nin, &nout, NULL));
  S = 1 + nin + s->spec->nsecond;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscReal *g = s->target + o * s->nlocal + offset, *c = s->flux + o * s->nlocal + offset;
    if (!s->mask[o]) continue;
    for (PetscInt p = 0; p < n; p++) {
      PetscInt st;
      PetscReal sign;
      KDFaceNormal(s->face[offset + p], &st, &sign);
      r[k * n + p] = q * (c[p] * sign * jet[(o * S + st) * n + p] - g[p]);
      if (seed) seed[(k * nout * S + o * S + st) * n + p] = q * c[p] * sign;
    }
    k++;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTermRows_Neumann(KDPointSet *s, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  PetscInt nr = 0;

  PetscFunctionBegin;
  PetscCall(KDTermRowsPerPoint_Value(s, &nr));
  PetscCall(
      KDNetResidualJacobian(s->loss->net, s->spec, s->nlocal, s->x, nr, KDLossRowsNeumann, s, start, count, r, J));
  PetscFunctionReturn(0);
}

const KDTermOps KDTermNeumann = {"neumann", KDTermEvaluate_Neumann, KDTermRowsPerPoint_Value, KDTermRows_Neumann, NULL};

/* --- periodic: value and normal derivative matched on opposite faces ---------------------------------------------- */

/* Two rows per point and prescribed output: the value jump and the scaled derivative jump. The loss depends on the
   jets at two points, so the set is passed in three sweeps: the jets at a and b, the misfits and their jet adjoints,
   then one reverse pass over each side with those adjoints (KDNetJetGradient()). */
static PetscErrorCode KDTermRowsPerPoint_Periodic(const KDPointSet *s, PetscInt *nr)
{
  PetscFunctionBegin;
  PetscCall(KDTermRowsPerPoint_Value(s, nr));
  *nr *= 2;
  PetscFunctionReturn(0);
}

/* For points p0 .. p0 + np - 1: the rows r (point-major, as KDNetResidualJacobian() orders them) and, unless sa is
   NULL, the jet seeds of every row on side a and side b: sa[(q * nj + j)], nj = nout * S, one point per row. */
static PetscErrorCode KDPeriodicRows(KDPointSet *s, PetscInt p0, PetscInt np, const PetscReal ja[],
                                     const PetscReal jb[], PetscReal r[], PetscReal sa[], PetscReal sb[])
{
  PetscInt nin, nout, S, nr = 0, q = 0;
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(s->loss->pde, &nin, &nout, NULL));
  PetscCall(KDPDEGetDomain(s->loss->pde, lo, hi));
  PetscCall(KDTermRowsPerPoint_Periodic(s, &nr));
  S = 1 + nin + s->spec->nsecond;
  if (sa) PetscCall(PetscArrayzero(sa, np * nr * nout * S));
  if (sb) PetscCall(PetscArrayzero(sb, np * nr * nout * S));
  for (PetscInt p = 0; p < np; p++) {
    const PetscInt i  = s->face[p0 + p] / 2;
    const PetscReal h = 0.5 * (hi[i] - lo[i]), c = PetscSqrtReal(s->scale);
    for (PetscInt o = 0; o < nout; o++) {
      if (!s->mask[o]) continue;
      for (PetscInt k = 0; k < 2; k++, q++) {
        const PetscInt st = k ? 1 + i : 0;
        const PetscReal f = k ? c * h : c;
        r[q]              = f * (ja[(o * S + st) * np + p] - jb[(o * S + st) * np + p]);
        if (sa) sa[q * nout * S + o * S + st] = f;
        if (sb) sb[q * nout * S + o * S + st] = -f;
      }
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTermEvaluate_Periodic(KDPointSet *s, PetscReal *value, PetscReal grad[])
{
  KDNet net  = s->loss->net;
  PetscInt n = s->nlocal, nin, nout, S, nr = 0, nj;
  PetscReal *ja, *jb, *r, *sa, *sb, *aa, *ab, sum = 0.0;

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, &nin, &nout, NULL));
  PetscCall(KDJetSpecGetNumStreams(s->spec, nin, &S));
  PetscCall(KDTermRowsPerPoint_Periodic(s, &nr));
  nj = nout * S;
  PetscCall(KDWorkEnsure(&s->loss->work, &s->loss->nwork, n * (4 * nj + nr + 2 * nr * nj)));
  ja = s->loss->work;
  jb = ja + nj * n;
  aa = jb + nj * n;
  ab = aa + nj * n;
  r  = ab + nj * n;
  sa = r + nr * n;
  sb = sa + nr * n * nj;
  PetscCall(KDNetJetForward(net, s->spec, n, s->x, ja));
  PetscCall(KDNetJetForward(net, s->spec, n, s->x2, jb));
  PetscCall(KDPeriodicRows(s, 0, n, ja, jb, r, sa, sb));
  /* loss = sum of r^2 over the rows; its jet adjoint on each side is 2 r times the row's seed there */
  PetscCall(PetscArrayzero(aa, nj * n));
  PetscCall(PetscArrayzero(ab, nj * n));
  for (PetscInt q = 0; q < nr * n; q++) {
    const PetscInt p = q / nr;
    sum += r[q] * r[q];
    for (PetscInt j = 0; j < nj; j++) {
      aa[j * n + p] += 2.0 * r[q] * sa[q * nj + j];
      ab[j * n + p] += 2.0 * r[q] * sb[q * nj + j];
    }
  }
  *value += sum;
  PetscCall(KDNetJetGradient(net, s->spec, n, s->x, aa, grad));
  PetscCall(KDNetJetGradient(net, s->spec, n, s->x2, ab, grad));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTermRows_Periodic(KDPointSet *s, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  KDNet net = s->loss->net;
  PetscInt nin, nout, S, nr    = 0, nparams, p0, p1, np;
  PetscReal *ja, *jb, *rr, *sa = NULL, *sb = NULL;

  PetscFunctionBegin;
  if (count <= 0) PetscFunctionReturn(0);
  PetscCall(KDNetGetSizes(net, &nin, &nout, &nparams));
  PetscCall(KDJetSpecGetNumStreams(s->spec, nin, &S));
  PetscCall(KDTermRowsPerPoint_Periodic(s, &nr));
  PetscCheck(start >= 0 && start + count <= nr * s->nlocal, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "rows outside the set");
  p0 = start / nr;
  p1 = (start + count - 1) / nr + 1;
  np = p1 - p0;
  PetscCall(PetscMalloc3(nout * S * np, &ja, nout * S * np, &jb, nr * np, &rr));
  if (J) PetscCall(PetscMalloc2(nr * np * nout * S, &sa, nr * np * nout * S, &sb));
  PetscCall(KDNetJetForward(net, s->spec, np, s->x + p0 * nin, ja));
  PetscCall(KDNetJetForward(net, s->spec, np, s->x2 + p0 * nin, jb));
  PetscCall(KDPeriodicRows(s, p0, np, ja, jb, rr, sa, sb));
  for (PetscInt q = start; q < start + count; q++) r[q - start] = rr[q - p0 * nr];
  if (J) {
    PetscCall(PetscArrayzero(J, count * nparams));
    for (PetscInt q = start; q < start + count; q++) {
      const PetscInt p = q / nr, k = q - p0 * nr;
      PetscCall(KDNetJetGradient(net, s->spec, 1, s->x + p * nin, sa + k * nout * S, J + (q - start) * nparams));
      PetscCall(KDNetJetGradient(net, s->spec, 1, s->x2 + p * nin, sb + k * nout * S, J + (q - start) * nparams));
    }
    PetscCall(PetscFree2(sa, sb));
  }
  PetscCall(PetscFree3(ja, jb, rr));
  PetscFunctionReturn(0);
}

const KDTermOps KDTermPeriodic = {"periodic", KDTermEvaluate_Periodic, KDTermRowsPerPoint_Periodic, KDTermRows_Periodic,
                                  NULL};
