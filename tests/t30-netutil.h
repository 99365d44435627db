#pragma once
/* Helpers shared by the network tests (30x-31x): a deterministic test RNG, a network with nonzero biases, and a
   Burgers-like loss on jets that uses every jet component. */
#include <kdnet.h>
#include <stdint.h>

/* splitmix64 step: deterministic test data, independent of the library's generator */
static inline PetscReal TestRand(uint64_t *state)
{
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z          = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z          = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  z ^= z >> 31;
  return (PetscReal) (z >> 11) * 0x1.0p-53;
}

/* A set-up network with Xavier weights and biases drawn from [-0.5, 0.5], so that the bias paths are exercised. */
static inline PetscErrorCode TestNetCreate(MPI_Comm comm, PetscInt nin, PetscInt nhidden, const PetscInt widths[],
                                           PetscInt nout, KDActivation act, PetscInt seed, KDNet *net)
{
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN], scale[KD_NET_MAX_OUT], shift[KD_NET_MAX_OUT], *theta;
  PetscInt np, nw;
  uint64_t st = (uint64_t) seed * 7919u + 17u;
  const PetscInt *w;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nin; i++) {
    lo[i] = -0.5 - 0.75 * (PetscReal) i; /* boxes of different widths, none of them [-1, 1] */
    hi[i] = 1.0 + 0.5 * (PetscReal) i;
  }
  for (PetscInt o = 0; o < nout; o++) {
    scale[o] = 0.5 + 0.75 * (PetscReal) o;
    shift[o] = 0.1 - 0.2 * (PetscReal) o;
  }
  PetscCall(KDNetCreate(comm, net));
  PetscCall(KDNetSetArchitecture(*net, nin, nhidden, widths, nout));
  PetscCall(KDNetSetActivation(*net, act));
  PetscCall(KDNetSetInputBounds(*net, lo, hi));
  PetscCall(KDNetSetOutputScaling(*net, scale, shift));
  PetscCall(KDNetSetUp(*net));
  PetscCall(KDNetInitialize(*net, seed));
  PetscCall(KDNetGetParameters(*net, &theta));
  PetscCall(KDNetGetSizes(*net, NULL, NULL, &np));
  PetscCall(KDNetGetWidths(*net, &nw, &w));
  for (PetscInt k = 0, off = 0; k < nw - 1; k++) {
    off += w[k] * w[k + 1];
    for (PetscInt o = 0; o < w[k + 1]; o++) theta[off + o] = TestRand(&st) - 0.5;
    off += w[k + 1];
  }
  PetscFunctionReturn(0);
}

/* Descriptive attributes of a test model file: PDE, input and output names, trained_with pinn, level 0. */
static inline PetscErrorCode TestModelInfo(const char pde[], const char inputs[], const char outputs[],
                                           KDModelInfo *info)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(info, sizeof(*info)));
  PetscCall(PetscStrncpy(info->pde, pde, sizeof(info->pde)));
  PetscCall(PetscStrncpy(info->inputs, inputs, sizeof(info->inputs)));
  PetscCall(PetscStrncpy(info->outputs, outputs, sizeof(info->outputs)));
  PetscCall(PetscStrncpy(info->trained_with, "pinn", sizeof(info->trained_with)));
  PetscFunctionReturn(0);
}

/* Points drawn uniformly from the network's input box used by TestNetCreate(). */
static inline void TestPoints(PetscInt n, PetscInt nin, uint64_t seed, PetscReal x[])
{
  uint64_t st = seed;
  for (PetscInt p = 0; p < n; p++)
    for (PetscInt i = 0; i < nin; i++) {
      const PetscReal lo = -0.5 - 0.75 * (PetscReal) i, hi = 1.0 + 0.5 * (PetscReal) i;
      x[p * nin + i] = lo + (hi - lo) * TestRand(&st);
    }
}

typedef struct {
  PetscInt nin, nout, nsecond;
  PetscReal weight; /* 1 / (global number of points) */
} TestLossCtx;

/* A Burgers-like residual per output that touches every stream, with a coupling between outputs:
     r_o = J_o1 + J_o0 J_o2 - 0.05 J_o3 + sum_{s >= 3} c_s J_os + 0.3 J_o0 J_os_last + 0.25 J_(o+1)0
   (streams: 0 value, 1..nin first derivatives, then second derivatives), loss = 0.5 w sum r^2. */
static inline PetscErrorCode TestLoss(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[],
                                      PetscReal *loss, void *vctx)
{
  TestLossCtx *ctx = (TestLossCtx *) vctx;
  const PetscInt S = 1 + ctx->nin + ctx->nsecond, nout = ctx->nout;
  PetscReal l = 0.0;

  PetscFunctionBegin;
  (void) offset;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscInt on = (o + 1) % nout;
    for (PetscInt p = 0; p < n; p++) {
#define J(oo, s) jet[((oo) *S + (s)) * n + p]
#define JB(oo, s) adj[((oo) *S + (s)) * n + p]
      PetscReal r = J(o, 1) + J(o, 0) * J(o, 2 < S ? 2 : 1) + 0.25 * J(on, 0) + 0.3 * J(o, 0) * J(o, S - 1);
      for (PetscInt s = 3; s < S; s++) r += (s == 3 ? -0.05 : 0.1 * (PetscReal) s) * J(o, s);
      l += 0.5 * ctx->weight * r * r;
      r *= ctx->weight;
      JB(o, 1) += r;
      JB(o, 0) += r * J(o, 2 < S ? 2 : 1);
      JB(o, 2 < S ? 2 : 1) += r * J(o, 0);
      JB(on, 0) += 0.25 * r;
      JB(o, 0) += 0.3 * r * J(o, S - 1);
      JB(o, S - 1) += 0.3 * r * J(o, 0);
      for (PetscInt s = 3; s < S; s++) JB(o, s) += (s == 3 ? -0.05 : 0.1 * (PetscReal) s) * r;
#undef J
#undef JB
    }
  }
  *loss += l;
  PetscFunctionReturn(0);
}

/* The jets (spec xx, xy, yy) of a network of inputs x, y at n points against central differences of KDNetEvaluate():
   first derivatives with step h1, second ones (pure and mixed) with step h2; *big1 / *big2 the largest first and
   second derivatives of each output (nout of them), *err1 / *err2 the largest differences relative to them. */
static inline PetscErrorCode TestJetsAgainstDifferences2D(KDNet net, PetscInt n, const PetscReal x[],
                                                          const PetscReal jet[], PetscInt nout, PetscReal h1,
                                                          PetscReal h2, PetscReal big1[], PetscReal *err1,
                                                          PetscReal *err2)
{
  const PetscInt S = 6;
  PetscReal big2[KD_NET_MAX_OUT], y0[KD_NET_MAX_OUT], yp[KD_NET_MAX_OUT], ym[KD_NET_MAX_OUT];

  PetscFunctionBegin;
  *err1 = *err2 = 0;
  for (PetscInt o = 0; o < nout; o++) {
    big1[o] = big2[o] = 0;
    for (PetscInt p = 0; p < n; p++) {
      for (PetscInt s = 1; s < 3; s++) big1[o] = PetscMax(big1[o], PetscAbsReal(jet[(o * S + s) * n + p]));
      for (PetscInt s = 3; s < 6; s++) big2[o] = PetscMax(big2[o], PetscAbsReal(jet[(o * S + s) * n + p]));
    }
  }
  for (PetscInt p = 0; p < n; p++) {
    PetscCall(KDNetEvaluate(net, 1, x + 2 * p, y0));
    for (PetscInt i = 0; i < 2; i++) {
      PetscReal xp[2] = {x[2 * p], x[2 * p + 1]}, xm[2] = {x[2 * p], x[2 * p + 1]};
      xp[i] += h1;
      xm[i] -= h1;
      PetscCall(KDNetEvaluate(net, 1, xp, yp));
      PetscCall(KDNetEvaluate(net, 1, xm, ym));
      for (PetscInt o = 0; o < nout; o++)
        *err1 = PetscMax(*err1, PetscAbsReal((yp[o] - ym[o]) / (2 * h1) - jet[(o * S + 1 + i) * n + p]) / big1[o]);
      xp[i] += h2 - h1;
      xm[i] -= h2 - h1;
      PetscCall(KDNetEvaluate(net, 1, xp, yp));
      PetscCall(KDNetEvaluate(net, 1, xm, ym));
      for (PetscInt o = 0; o < nout; o++)
        *err2 = PetscMax(
            *err2, PetscAbsReal((yp[o] - 2 * y0[o] + ym[o]) / (h2 * h2) - jet[(o * S + 3 + 2 * i) * n + p]) / big2[o]);
    }
    {
      const PetscReal X = x[2 * p], Y = x[2 * p + 1];
      const PetscReal pp[2] = {X + h2, Y + h2}, pm[2] = {X + h2, Y - h2}, mp[2] = {X - h2, Y + h2},
                      mm[2] = {X - h2, Y - h2};
      PetscReal ypp[KD_NET_MAX_OUT], ypm[KD_NET_MAX_OUT], ymp[KD_NET_MAX_OUT], ymm[KD_NET_MAX_OUT];
      PetscCall(KDNetEvaluate(net, 1, pp, ypp));
      PetscCall(KDNetEvaluate(net, 1, pm, ypm));
      PetscCall(KDNetEvaluate(net, 1, mp, ymp));
      PetscCall(KDNetEvaluate(net, 1, mm, ymm));
      for (PetscInt o = 0; o < nout; o++)
        *err2 = PetscMax(*err2,
                         PetscAbsReal((ypp[o] - ypm[o] - ymp[o] + ymm[o]) / (4 * h2 * h2) - jet[(o * S + 4) * n + p]) /
                             big2[o]);
    }
  }
  PetscFunctionReturn(0);
}

/* A network of inputs x, y written to path as a model file (pde, outputs as given) and read back: its values at the n
   points must equal the original's bit for bit; with dump, path.points.txt and path.values.txt hold the points and
   values for tests/model_eval.py. */
static inline PetscErrorCode TestModelRoundTrip2D(KDNet net, const char path[], const char pde[], const char outputs[],
                                                  PetscInt n, const PetscReal x[], PetscBool dump)
{
  KDModelInfo info;
  KDNet net2;
  PetscInt nout;
  PetscReal *y, *y2;
  char name[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, NULL, &nout, NULL));
  PetscCall(PetscMalloc2(nout * n, &y, nout * n, &y2));
  PetscCall(TestModelInfo(pde, "x,y", outputs, &info));
  PetscCall(KDNetWrite(net, path, &info));
  PetscCall(KDNetLoad(PETSC_COMM_WORLD, path, &net2, NULL));
  PetscCall(KDNetEvaluate(net, n, x, y));
  PetscCall(KDNetEvaluate(net2, n, x, y2));
  for (PetscInt k = 0; k < nout * n; k++)
    PetscCheck(y[k] == y2[k], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: value %" PetscInt_FMT " differs after loading",
               path, k);
  if (dump) {
    FILE *f;
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s.points.txt", path));
    PetscCall(PetscFOpen(PETSC_COMM_WORLD, name, "w", &f));
    for (PetscInt p = 0; p < n; p++)
      PetscCall(PetscFPrintf(PETSC_COMM_WORLD, f, "%.17g %.17g\n", (double) x[2 * p], (double) x[2 * p + 1]));
    PetscCall(PetscFClose(PETSC_COMM_WORLD, f));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s.values.txt", path));
    PetscCall(PetscFOpen(PETSC_COMM_WORLD, name, "w", &f));
    for (PetscInt p = 0; p < n; p++)
      for (PetscInt o = 0; o < nout; o++)
        PetscCall(PetscFPrintf(PETSC_COMM_WORLD, f, "%.17g%s", (double) y[o * n + p], o + 1 < nout ? " " : "\n"));
    PetscCall(PetscFClose(PETSC_COMM_WORLD, f));
  }
  PetscCall(KDNetDestroy(&net2));
  PetscCall(PetscFree2(y, y2));
  PetscFunctionReturn(0);
}
