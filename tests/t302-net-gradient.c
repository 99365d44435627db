static const char help[] = "Parameter gradient of KDNetLossGradient against finite differences of the loss.\n";

/* The loss (t30-netutil.h) is a Burgers-like residual that uses every jet component (values, all first and all
   second derivatives) and couples the outputs, so every adjoint path of the reverse pass is exercised.

   1. Every entry, small network (2 inputs, hidden 6,5, 2 outputs; 3 inputs, hidden 5, 1 output), 23 points in blocks
      of 8: fourth-order central differences with step 1e-3 (parameters are O(0.1-1)). Truncation h^4 L^(5)/30 ~ 1e-13,
      round-off ~ 1.5 eps |L| / h ~ 3e-13 |L|; tolerance 1e-7 relative to max |grad|, as for the jets: an error
      in any adjoint term is O(1) relative.
   2. One random direction v (entries uniform in [-1, 1]), big network (8 hidden layers of 128), 64 points (KANN's
      check: two evaluations): (L(theta + h v) - L(theta - h v)) / 2h against grad . v with h = 1e-5 / |v|_2.
      Truncation h^2 |v|^2 L''' / 6 ~ 1e-11, round-off eps |L| / h ~ 2e-11 |L|; tolerance 1e-8 relative to
      |grad|_2 |v|_2, the natural scale of a directional derivative (grad . v itself is ~ |grad| |v| / sqrt(#params)
      for a random v). A wrong layer shows up at O(|grad_layer| |v_layer|), far above it. */
#include "t30-netutil.h"

/* The loss at the current parameters, through KDNetJetForward (not through KDNetLossGradient). */
static PetscErrorCode LossValue(KDNet net, const KDJetSpec *spec, PetscInt n, const PetscReal x[], TestLossCtx *ctx,
                                PetscReal *jet, PetscReal *adj, PetscReal *loss)
{
  PetscInt S, nin, nout;

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, &nin, &nout, NULL));
  PetscCall(KDJetSpecGetNumStreams(spec, nin, &S));
  PetscCall(KDNetJetForward(net, spec, n, x, jet));
  PetscCall(PetscArrayzero(adj, nout * S * n));
  *loss = 0;
  PetscCall(TestLoss(n, 0, jet, adj, loss, ctx));
  PetscFunctionReturn(0);
}

static PetscErrorCode SetSpec(PetscInt nin, KDJetSpec *spec)
{
  PetscFunctionBegin;
  spec->nsecond = 0;
  for (PetscInt i = 0; i < nin; i++)
    for (PetscInt j = i; j < nin; j++) {
      spec->second[spec->nsecond][0] = i;
      spec->second[spec->nsecond][1] = j;
      spec->nsecond++;
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckEntries(KDActivation act, PetscInt nin, PetscInt nhidden, const PetscInt widths[],
                                   PetscInt nout)
{
  const PetscInt n  = 23;
  const PetscReal h = 1e-3, c1[4] = {1.0 / 12, -8.0 / 12, 8.0 / 12, -1.0 / 12}, off[4] = {-2, -1, 1, 2}, tol = 1e-7;
  KDNet net;
  KDJetSpec spec;
  TestLossCtx ctx;
  PetscInt np, S;
  PetscReal *theta, *grad, *x, *jet, *adj, loss = 0, gmax = 0, emax = 0;

  PetscFunctionBegin;
  PetscCall(TestNetCreate(PETSC_COMM_SELF, nin, nhidden, widths, nout, act, 5, &net));
  PetscCall(KDNetSetBlockSize(net, 8));
  PetscCall(SetSpec(nin, &spec));
  PetscCall(KDJetSpecGetNumStreams(&spec, nin, &S));
  ctx.nin     = nin;
  ctx.nout    = nout;
  ctx.nsecond = spec.nsecond;
  ctx.weight  = 1.0 / n;
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(KDNetGetParameters(net, &theta));
  PetscCall(PetscMalloc4(np, &grad, n * nin, &x, nout * S * n, &jet, nout * S * n, &adj));
  TestPoints(n, nin, 99, x);
  PetscCall(PetscArrayzero(grad, np));
  PetscCall(KDNetLossGradient(net, &spec, n, x, TestLoss, &ctx, &loss, grad));
  {
    PetscReal l2;
    PetscCall(LossValue(net, &spec, n, x, &ctx, jet, adj, &l2));
    PetscCheck(PetscAbsReal(l2 - loss) <= 1e-13 * PetscAbsReal(l2), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "loss %.17g from KDNetLossGradient, %.17g from the jets", (double) loss, (double) l2);
  }
  for (PetscInt k = 0; k < np; k++) gmax = PetscMax(gmax, PetscAbsReal(grad[k]));
  for (PetscInt k = 0; k < np; k++) {
    const PetscReal t0 = theta[k];
    PetscReal fd       = 0, l;
    for (PetscInt a = 0; a < 4; a++) {
      theta[k] = t0 + off[a] * h;
      PetscCall(LossValue(net, &spec, n, x, &ctx, jet, adj, &l));
      fd += c1[a] * l / h;
    }
    theta[k] = t0;
    emax     = PetscMax(emax, PetscAbsReal(fd - grad[k]) / gmax);
    PetscCheck(PetscAbsReal(fd - grad[k]) <= tol * gmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "%s: gradient entry %" PetscInt_FMT " is %.10g, finite differences give %.10g", KDActivations[act], k,
               (double) grad[k], (double) fd);
  }
  PetscCall(PetscPrintf(
      PETSC_COMM_SELF,
      "%-4s %" PetscInt_FMT
      " parameters: every gradient entry within %.2e of finite differences (relative to max |grad|, tolerance 1e-7)\n",
      KDActivations[act], np, (double) emax));
  PetscCall(PetscFree4(grad, x, jet, adj));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckDirection(KDActivation act)
{
  const PetscInt nin = 2, nout = 1, n = 64, widths[8] = {128, 128, 128, 128, 128, 128, 128, 128};
  const PetscReal tol = 1e-8;
  KDNet net;
  KDJetSpec spec;
  TestLossCtx ctx;
  PetscInt np, S;
  PetscReal *theta, *grad, *v, *x, *jet, *adj, loss = 0, gv = 0, gn = 0, vn = 0, lp, lm, h, fd;
  uint64_t st = 12345;

  PetscFunctionBegin;
  PetscCall(TestNetCreate(PETSC_COMM_SELF, nin, 8, widths, nout, act, 8, &net));
  PetscCall(SetSpec(nin, &spec));
  PetscCall(KDJetSpecGetNumStreams(&spec, nin, &S));
  ctx.nin     = nin;
  ctx.nout    = nout;
  ctx.nsecond = spec.nsecond;
  ctx.weight  = 1.0 / n;
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(KDNetGetParameters(net, &theta));
  PetscCall(PetscMalloc5(np, &grad, np, &v, n * nin, &x, nout * S * n, &jet, nout * S * n, &adj));
  TestPoints(n, nin, 7, x);
  PetscCall(PetscArrayzero(grad, np));
  PetscCall(KDNetLossGradient(net, &spec, n, x, TestLoss, &ctx, &loss, grad));
  for (PetscInt k = 0; k < np; k++) {
    v[k] = 2 * TestRand(&st) - 1;
    gv += grad[k] * v[k];
    gn += grad[k] * grad[k];
    vn += v[k] * v[k];
  }
  gn = PetscSqrtReal(gn);
  vn = PetscSqrtReal(vn);
  h  = 1e-5 / vn;
  for (PetscInt k = 0; k < np; k++) theta[k] += h * v[k];
  PetscCall(LossValue(net, &spec, n, x, &ctx, jet, adj, &lp));
  for (PetscInt k = 0; k < np; k++) theta[k] -= 2 * h * v[k];
  PetscCall(LossValue(net, &spec, n, x, &ctx, jet, adj, &lm));
  fd = (lp - lm) / (2 * h);
  PetscCall(PetscPrintf(
      PETSC_COMM_SELF,
      "%-4s 8x128 (%" PetscInt_FMT
      " parameters): grad.v = %.12e, finite difference %.12e, difference / (|grad| |v|) = %.2e (tolerance 1e-8)\n",
      KDActivations[act], np, (double) gv, (double) fd, (double) (PetscAbsReal(gv - fd) / (gn * vn))));
  PetscCheck(PetscAbsReal(gv - fd) <= tol * gn * vn, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: directional derivative %.12g, finite differences give %.12g", KDActivations[act], (double) gv,
             (double) fd);
  PetscCall(PetscFree5(grad, v, x, jet, adj));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const PetscInt w2[2] = {6, 5}, w1[1] = {5};

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  for (int a = 0; a < 3; a++) {
    const KDActivation act = (KDActivation) a;
    PetscCall(CheckEntries(act, 2, 2, w2, 2));
    PetscCall(CheckEntries(act, 3, 1, w1, 1));
    PetscCall(CheckDirection(act));
  }
  PetscCall(PetscFinalize());
  return 0;
}
