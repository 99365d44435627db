/*
  Derivatives of quantities built on a network's jets with respect to its parameters, beyond the loss gradient of
  KDNetLossGradient(): the gradient of a given jet adjoint (KDNetJetGradient()) and the rows of a least-squares
  residual with their exact Jacobian (KDNetResidualJacobian()), which Gauss-Newton and the loss terms use.
*/
#include <kdnet.h>

typedef struct {
  const PetscReal *adj;
  PetscInt n, nj;
} KDAdjointContext;

/* A "loss" whose jet adjoint is given: a block copies its part. */
static PetscErrorCode KDGivenAdjoint(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[],
                                     PetscReal *loss, void *ctx)
{
  const KDAdjointContext *c = (const KDAdjointContext *) ctx;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < c->nj; j++) PetscCall(PetscArraycpy(adj + j * n, c->adj + j * c->n + offset, n));
  PetscFunctionReturn(0);
}

/*@C
  KDNetJetGradient - Adds to grad the gradient with respect to the network parameters of sum_{o,s,p} adj(o,s,p) *
  jet(o,s,p): one reverse pass with a given jet adjoint, for losses that couple the jets of different points (the
  periodic condition) and for Jacobian rows.

  Not collective

  Input Parameters:
+ net  - the network, set up
. spec - the jet streams
. n    - number of points
. x    - the points, x[p * nin + i]
- adj  - the jet adjoint, adj[(o * nstreams + s) * n + p] (kdnet.h layout)

  Output Parameter:
. grad - incremented by the gradient

.seealso: KDNetLossGradient(), KDNetResidualJacobian()
@*/
PetscErrorCode KDNetJetGradient(KDNet net, const KDJetSpec *spec, PetscInt n, const PetscReal x[],
                                const PetscReal adj[], PetscReal grad[])
{
  KDAdjointContext c;
  PetscInt nin, nout, S;
  PetscReal dummy = 0.0;

  PetscFunctionBegin;
  if (n <= 0) PetscFunctionReturn(0);
  PetscCall(KDNetGetSizes(net, &nin, &nout, NULL));
  PetscCall(KDJetSpecGetNumStreams(spec, nin, &S));
  c.adj = adj;
  c.n   = n;
  c.nj  = nout * S;
  PetscCall(KDNetLossGradient(net, spec, n, x, KDGivenAdjoint, &c, &dummy, grad));
  PetscFunctionReturn(0);
}

typedef struct {
  const PetscReal *seed;
  PetscInt np, nj, p, k;
} KDSeedContext;

/* A "loss" whose jet adjoint is the seed of one residual row: its parameter gradient is that row of J. */
static PetscErrorCode KDSeedLoss(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[], PetscReal *loss,
                                 void *ctx)
{
  const KDSeedContext *c = (const KDSeedContext *) ctx;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < c->nj; j++) adj[j] = c->seed[(c->k * c->nj + j) * c->np + c->p];
  PetscFunctionReturn(0);
}

/*@C
  KDNetResidualJacobian - Residual rows of a set of points and, optionally, their exact Jacobian with respect to the
  network parameters.

  Not collective (local points)

  Input Parameters:
+ net    - the network, set up
. spec   - the jet streams the residuals read
. n      - number of points; the rows are point-major: row q is component q % nr of point q / nr
. x      - points, x[p * nin + i]
. nr     - residual rows per point
. f      - f(np, offset, jet, r, seed, ctx): for np points starting at point `offset`, r[k * np + p] and, when seed is
           not NULL, d r_k(p) / d jet_j(p) in seed[(k * nj + j) * np + p], j = o * nstreams + s, nj = nout * nstreams
           (a residual of a point depends only on that point's jets)
. ctx    - passed to f
. rstart - first row wanted
- rcount - number of rows wanted

  Output Parameters:
+ r - the rows rstart .. rstart + rcount - 1
- J - NULL, or their Jacobian, row-major: J[(q - rstart) * nparams + i]

  Notes:
  The values come from one batched forward pass. Each Jacobian row is one reverse pass of its point with the row's
  jet seed as the adjoint (KDNetLossGradient() on that point alone), so it is exact, costs O(S nparams) per row, and
  needs no storage beyond the row itself.

.seealso: KDLossResidualLocal(), KDGaussNewtonStep()
@*/
PetscErrorCode KDNetResidualJacobian(KDNet net, const KDJetSpec *spec, PetscInt n, const PetscReal x[], PetscInt nr,
                                     KDJetResidualFunction f, void *ctx, PetscInt rstart, PetscInt rcount,
                                     PetscReal r[], PetscReal J[])
{
  PetscInt nin, nout, nparams, S, nj, p0, p1, np;
  PetscReal *jet, *rr, *seed = NULL;

  PetscFunctionBegin;
  if (rcount <= 0) PetscFunctionReturn(0);
  PetscCheck(nr > 0 && rstart >= 0 && rstart + rcount <= n * nr, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "rows [%" PetscInt_FMT ", %" PetscInt_FMT ") outside the %" PetscInt_FMT " rows of the points", rstart,
             rstart + rcount, n * nr);
  PetscCall(KDNetGetSizes(net, &nin, &nout, &nparams));
  PetscCall(KDJetSpecGetNumStreams(spec, nin, &S));
  nj = nout * S;
  p0 = rstart / nr;
  p1 = (rstart + rcount - 1) / nr + 1;
  np = p1 - p0;
  PetscCall(PetscMalloc3(nj * np, &jet, nr * np, &rr, J ? nr * nj * np : 0, &seed));
  PetscCall(KDNetJetForward(net, spec, np, x + p0 * nin, jet));
  if (J) PetscCall(PetscArrayzero(seed, nr * nj * np));
  PetscCall((*f)(np, p0, jet, rr, J ? seed : NULL, ctx));
  for (PetscInt q = rstart; q < rstart + rcount; q++) r[q - rstart] = rr[(q % nr) * np + (q / nr - p0)];
  if (J) {
    KDSeedContext sc;
    PetscReal dummy = 0.0;
    sc.seed         = seed;
    sc.np           = np;
    sc.nj           = nj;
    PetscCall(PetscArrayzero(J, rcount * nparams));
    for (PetscInt q = rstart; q < rstart + rcount; q++) {
      sc.p = q / nr - p0;
      sc.k = q % nr;
      PetscCall(
          KDNetLossGradient(net, spec, 1, x + (p0 + sc.p) * nin, KDSeedLoss, &sc, &dummy, J + (q - rstart) * nparams));
    }
  }
  PetscCall(PetscFree3(jet, rr, seed));
  PetscFunctionReturn(0);
}
