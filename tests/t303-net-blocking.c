static const char help[] = "Results of the blocked kernels do not depend on the block size.\n";

/* Jets, values, loss and gradient for block sizes 1, 7, 64, 100, 256 and 1000 against one block holding all 300
   points. A point's jets go through the same operations in any block (GEMM columns are independent), so they must
   agree to 1e-14 relative to each stream's largest magnitude (in practice they are equal to a few ulps; the bound
   allows another kernel for another matrix shape: the BLAS picks its own, and a block of 1000 points is over the bound
   of LIBXSMM's generated products, KDNetSetGemm(), so its layers go to the BLAS where small blocks use LIBXSMM). The
   loss and the gradient are sums over points whose order of summation changes with the blocks: 300 terms, so 1e-13
   relative to the largest entry (about 300 eps) bounds the round-off. */
#include "t30-netutil.h"

int main(int argc, char **argv)
{
  const PetscInt n = 300, nin = 2, nout = 2, widths[4] = {24, 24, 24, 24}, bs[6] = {1, 7, 64, 100, 256, 1000};
  KDNet net;
  KDJetSpec spec  = {2, {{1, 1}, {0, 1}}};
  TestLossCtx ctx = {nin, nout, 2, 1.0 / 300};
  PetscInt S, np;
  PetscReal *x, *jet0, *jet, *val0, *val, *g0, *g, l0 = 0, l;
  PetscBool bitwise = PETSC_TRUE;
  PetscReal jworst  = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(TestNetCreate(PETSC_COMM_SELF, nin, 4, widths, nout, KD_ACTIVATION_TANH, 3, &net));
  PetscCall(KDJetSpecGetNumStreams(&spec, nin, &S));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(PetscMalloc7(n * nin, &x, nout * S * n, &jet0, nout * S * n, &jet, nout * n, &val0, nout * n, &val, np, &g0,
                         np, &g));
  TestPoints(n, nin, 5, x);
  PetscCall(KDNetSetBlockSize(net, n));
  PetscCall(KDNetJetForward(net, &spec, n, x, jet0));
  PetscCall(KDNetEvaluate(net, n, x, val0));
  PetscCall(PetscArrayzero(g0, np));
  PetscCall(KDNetLossGradient(net, &spec, n, x, TestLoss, &ctx, &l0, g0));
  for (PetscInt b = 0; b < 6; b++) {
    PetscReal gmax = 0, gerr = 0;
    PetscCall(KDNetSetBlockSize(net, bs[b]));
    PetscCall(KDNetJetForward(net, &spec, n, x, jet));
    PetscCall(KDNetEvaluate(net, n, x, val));
    l = 0;
    PetscCall(PetscArrayzero(g, np));
    PetscCall(KDNetLossGradient(net, &spec, n, x, TestLoss, &ctx, &l, g));
    for (PetscInt r = 0; r < nout * S; r++) {
      PetscReal m = 0, e = 0;
      for (PetscInt p = 0; p < n; p++) {
        m = PetscMax(m, PetscAbsReal(jet0[r * n + p]));
        e = PetscMax(e, PetscAbsReal(jet[r * n + p] - jet0[r * n + p]));
      }
      if (e != 0) bitwise = PETSC_FALSE;
      jworst = PetscMax(jworst, e / m);
      PetscCheck(e <= 1e-14 * m, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "block size %" PetscInt_FMT ": jet row %" PetscInt_FMT " differs by %g (max %g)", bs[b], r, (double) e,
                 (double) m);
    }
    for (PetscInt r = 0; r < nout; r++) {
      PetscReal m = 0, e = 0;
      for (PetscInt p = 0; p < n; p++) {
        m = PetscMax(m, PetscAbsReal(val0[r * n + p]));
        e = PetscMax(e, PetscAbsReal(val[r * n + p] - val0[r * n + p]));
      }
      if (e != 0) bitwise = PETSC_FALSE;
      jworst = PetscMax(jworst, e / m);
      PetscCheck(e <= 1e-14 * m, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "block size %" PetscInt_FMT ": values of output %" PetscInt_FMT " differ by %g", bs[b], r, (double) e);
    }
    for (PetscInt k = 0; k < np; k++) {
      gmax = PetscMax(gmax, PetscAbsReal(g0[k]));
      gerr = PetscMax(gerr, PetscAbsReal(g[k] - g0[k]));
    }
    PetscCheck(PetscAbsReal(l - l0) <= 1e-13 * PetscAbsReal(l0), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "block size %" PetscInt_FMT ": loss %.17g, unblocked %.17g", bs[b], (double) l, (double) l0);
    PetscCheck(gerr <= 1e-13 * gmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "block size %" PetscInt_FMT ": gradient differs by %g (max entry %g)", bs[b], (double) gerr,
               (double) gmax);
    PetscCall(PetscPrintf(PETSC_COMM_SELF,
                          "block %4" PetscInt_FMT ": loss rel diff %.1e, gradient max diff / max entry %.1e\n", bs[b],
                          (double) (PetscAbsReal(l - l0) / PetscAbsReal(l0)), (double) (gerr / gmax)));
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "jets and values %s for every block size (largest relative difference %.1e)\n",
                        bitwise ? "bitwise identical" : "within 1e-14", (double) jworst));
  PetscCall(PetscFree7(x, jet0, jet, val0, val, g0, g));
  PetscCall(KDNetDestroy(&net));
  PetscCall(PetscFinalize());
  return 0;
}
