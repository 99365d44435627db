static const char help[] = "The jet kernels with LIBXSMM's generated products against the BLAS reference.\n";

/* The same network, points and loss through both product paths (-net_gemm libxsmm and blas): jets, the loss and its
   gradient, for shapes that cover what the kernels meet: narrow and wide layers, widths that are not multiples of a
   vector, 1 to 3 inputs, 1 to 4 outputs, first and second derivatives, and blocks of 1, 7, 32 and 100 points (a last
   block shorter than the others, so the generated code is dispatched again for another shape). The kernels' counts of
   products prove that LIBXSMM's code ran for every shape (a fallback to the BLAS would compare the BLAS with itself).
   Tolerances: a jet entry is a chain of dot products of length <= 128 (the width) through up to 4 layers; the two
   paths may sum them in other orders (other vector lengths and fused multiply-adds), so they may differ by some tens
   of ulps per layer of the row's largest magnitude: 1e-13 (about 450 ulps) relative to it. The gradient sums over the
   points of a block as well (up to 100 points x 7 streams): 1e-13 relative to its largest entry, as for the block
   sizes of t303. The loss: 1e-13 relative. A transposed factor or a swapped dimension in a generated product gives
   differences of order 1 (checked by breaking the library's dispatch). */
#include "t30-netutil.h"
#include "net/netimpl.h" /* KDNetGemmGetCounts() */

typedef struct {
  PetscInt nin, nhidden, widths[4], nout, nsecond, second[3][2];
} TestShape;

static PetscErrorCode RelativeDifference(PetscInt rows, PetscInt n, const PetscReal a[], const PetscReal b[],
                                         PetscReal *worst)
{
  PetscFunctionBegin;
  *worst = 0;
  for (PetscInt r = 0; r < rows; r++) {
    PetscReal m = 0, e = 0;
    for (PetscInt p = 0; p < n; p++) {
      m = PetscMax(m, PetscAbsReal(a[r * n + p]));
      e = PetscMax(e, PetscAbsReal(a[r * n + p] - b[r * n + p]));
    }
    if (m > 0)
      *worst = PetscMax(*worst, e / m);
    else
      PetscCheck(e == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "row %" PetscInt_FMT " is zero in one path only", r);
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const TestShape shapes[] = {
      {2, 3, {20, 20, 20}, 1, 1, {{1, 1}}},            /* Burgers-like 3x20 */
      {2, 2, {7, 13}, 3, 2, {{0, 0}, {1, 1}}},         /* odd widths, the cavity's outputs */
      {3, 2, {24, 9}, 4, 3, {{0, 0}, {0, 1}, {2, 2}}}, /* three inputs, mixed second derivatives, four outputs */
      {2, 2, {40, 40}, 2, 1, {{0, 1}}},                /* the widest generated at 32 points (128 x 40 x 40) */
      {2, 2, {128, 128}, 2, 1, {{0, 1}}},     /* wide: 128 x 128 over the bound but at 1 point, the rest generated */
      {1, 4, {33, 5, 64, 1}, 1, 0, {{0, 0}}}, /* one input, a width-1 hidden layer, first derivatives only */
  };
  const PetscInt nshapes = (PetscInt) (sizeof(shapes) / sizeof(shapes[0])), n = 100, bs[4] = {1, 7, 32, 100};
  PetscReal worst[3]   = {0, 0, 0};
  PetscInt64 generated = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  for (PetscInt c = 0; c < nshapes; c++) {
    const TestShape *sh = &shapes[c];
    KDJetSpec spec      = {sh->nsecond, {{0, 0}}};
    TestLossCtx ctx     = {sh->nin, sh->nout, sh->nsecond, 1.0 / (PetscReal) n};
    KDNet net;
    PetscInt S, np;
    PetscReal *x, *jet[2], *g[2], l[2];
    KDNetGemm gemm;

    for (PetscInt q = 0; q < sh->nsecond; q++) {
      spec.second[q][0] = sh->second[q][0];
      spec.second[q][1] = sh->second[q][1];
    }
    PetscCall(
        TestNetCreate(PETSC_COMM_SELF, sh->nin, sh->nhidden, sh->widths, sh->nout, KD_ACTIVATION_TANH, 11 + c, &net));
    PetscCall(KDNetGetGemm(net, &gemm));
    PetscCheck(gemm == KD_NET_GEMM_BLAS, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the default products are not the BLAS's");
    PetscCall(KDJetSpecGetNumStreams(&spec, sh->nin, &S));
    PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
    PetscCall(
        PetscMalloc5(n * sh->nin, &x, sh->nout * S * n, &jet[0], sh->nout * S * n, &jet[1], np, &g[0], np, &g[1]));
    TestPoints(n, sh->nin, 3 + (uint64_t) c, x);
    for (PetscInt b = 0; b < 4; b++) {
      PetscReal djet, dgrad, gmax = 0, gerr = 0;

      PetscCall(KDNetSetBlockSize(net, bs[b]));
      for (PetscInt path = 0; path < 2; path++) {
        PetscInt64 before[2], after[2];

        PetscCall(KDNetSetGemm(net, path == 0 ? KD_NET_GEMM_LIBXSMM : KD_NET_GEMM_BLAS));
        PetscCall(KDNetGemmGetCounts(net, before));
        PetscCall(KDNetJetForward(net, &spec, n, x, jet[path]));
        l[path] = 0;
        PetscCall(PetscArrayzero(g[path], np));
        PetscCall(KDNetLossGradient(net, &spec, n, x, TestLoss, &ctx, &l[path], g[path]));
        PetscCall(KDNetGemmGetCounts(net, after));
        PetscCheck(path == 0 ? after[0] > before[0] : after[0] == before[0], PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "shape %" PetscInt_FMT ", block %" PetscInt_FMT ": %s products by LIBXSMM (%" PetscInt64_FMT ")", c,
                   bs[b], path == 0 ? "no" : "unexpected", after[0] - before[0]);
        generated += path == 0 ? after[0] - before[0] : 0;
      }
      PetscCall(RelativeDifference(sh->nout * S, n, jet[1], jet[0], &djet));
      for (PetscInt k = 0; k < np; k++) {
        gmax = PetscMax(gmax, PetscAbsReal(g[1][k]));
        gerr = PetscMax(gerr, PetscAbsReal(g[0][k] - g[1][k]));
      }
      dgrad = gerr / gmax;
      PetscCheck(djet <= 1e-13, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "shape %" PetscInt_FMT ", block %" PetscInt_FMT ": jets differ by %g of a row's largest entry", c,
                 bs[b], (double) djet);
      PetscCheck(dgrad <= 1e-13, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "shape %" PetscInt_FMT ", block %" PetscInt_FMT ": gradients differ by %g of the largest entry", c,
                 bs[b], (double) dgrad);
      PetscCheck(PetscAbsReal(l[0] - l[1]) <= 1e-13 * PetscAbsReal(l[1]), PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "shape %" PetscInt_FMT ", block %" PetscInt_FMT ": loss %.17g against the BLAS's %.17g", c, bs[b],
                 (double) l[0], (double) l[1]);
      worst[0] = PetscMax(worst[0], djet);
      worst[1] = PetscMax(worst[1], dgrad);
      worst[2] = PetscMax(worst[2], PetscAbsReal(l[0] - l[1]) / PetscAbsReal(l[1]));
    }
    PetscCall(PetscFree5(x, jet[0], jet[1], g[0], g[1]));
    PetscCall(KDNetDestroy(&net));
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "LIBXSMM against BLAS, %" PetscInt_FMT " shapes x 4 block sizes, %" PetscInt64_FMT
                        " generated products: jets %.1e, gradient %.1e, loss %.1e (largest relative differences; "
                        "tolerance 1e-13)\n",
                        nshapes, generated, (double) worst[0], (double) worst[1], (double) worst[2]));
  PetscCall(PetscFinalize());
  return 0;
}
