static const char help[] =
    "Time of KDNetLossGradient for a Burgers residual loss (8 hidden layers of 20 and of 128, 10,000 points).\n"
    "  -bench_points <n>: points (default 10000)\n  -bench_reps <n>: repetitions of the 8x20 case (default 20; 8x128 "
    "runs a quarter)\n";

/* A timing program, not a test of speed: it prints the time per KDNetLossGradient call and the GEMM rate it
   achieves per CPU second (wall time is printed too; on a shared machine the CPU time is the fairer figure)
   (flops of the GEMMs only: forward 2 in out per stream and point, reverse twice that but for the first
   layer's W^T Zbar), and asserts nothing about time. The loss is the Burgers residual
   r = u_t + u u_x - nu u_xx on points of [0, 1] x [-1, 1], loss = mean r^2: 4 streams (u, u_t, u_x, u_xx). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200112L
#endif
#include <kdnet.h>
#include <petsctime.h>
#include <cblas.h>
#include <time.h>

static PetscLogDouble CPUSeconds(void)
{
  struct timespec t;
  (void) clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (PetscLogDouble) t.tv_sec + 1e-9 * (PetscLogDouble) t.tv_nsec;
}

typedef struct {
  PetscReal nu, w;
} BurgersCtx;

static PetscErrorCode BurgersLoss(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[], PetscReal *loss,
                                  void *vctx)
{
  BurgersCtx *ctx    = (BurgersCtx *) vctx;
  const PetscReal *u = jet, *ut = jet + n, *ux = jet + 2 * n, *uxx = jet + 3 * n;
  PetscReal *bu = adj, *but = adj + n, *bux = adj + 2 * n, *buxx = adj + 3 * n, l = 0;

  PetscFunctionBegin;
  (void) offset;
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal r = ut[p] + u[p] * ux[p] - ctx->nu * uxx[p], g = 2 * ctx->w * r;
    l += ctx->w * r * r;
    but[p]  = g;
    bu[p]   = g * ux[p];
    bux[p]  = g * u[p];
    buxx[p] = -ctx->nu * g;
  }
  *loss += l;
  PetscFunctionReturn(0);
}

static PetscErrorCode Bench(PetscInt width, PetscInt n, PetscInt reps)
{
  const PetscInt nhidden = 8;
  const PetscReal lo[2] = {0, -1}, hi[2] = {1, 1};
  PetscInt widths[8], np;
  KDNet net;
  KDJetSpec spec = {1, {{1, 1}}};
  BurgersCtx ctx = {0.01 / PETSC_PI, 1.0 / (PetscReal) n};
  PetscReal *x, *grad, loss = 0;
  PetscLogDouble t0, t1, c0, c1, flops = 0;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < nhidden; k++) widths[k] = width;
  PetscCall(KDNetCreate(PETSC_COMM_SELF, &net));
  PetscCall(KDNetSetArchitecture(net, 2, nhidden, widths, 1));
  PetscCall(KDNetSetInputBounds(net, lo, hi));
  PetscCall(KDNetSetFromOptions(net));
  PetscCall(KDNetInitialize(net, 1));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(PetscMalloc2(2 * n, &x, np, &grad));
  for (PetscInt p = 0; p < n; p++) {
    x[2 * p]     = (PetscReal) ((p * 7919) % n) / n;
    x[2 * p + 1] = -1 + 2 * (PetscReal) ((p * 104729) % n) / n;
  }
  PetscCall(PetscArrayzero(grad, np));
  PetscCall(KDNetLossGradient(net, &spec, n, x, BurgersLoss, &ctx, &loss, grad)); /* warm-up */
  PetscCall(PetscTime(&t0));
  c0 = CPUSeconds();
  for (PetscInt r = 0; r < reps; r++) {
    loss = 0;
    PetscCall(PetscArrayzero(grad, np));
    PetscCall(KDNetLossGradient(net, &spec, n, x, BurgersLoss, &ctx, &loss, grad));
  }
  PetscCall(PetscTime(&t1));
  c1 = CPUSeconds();
  for (PetscInt k = 0; k < nhidden + 1; k++) {
    const PetscLogDouble in = k ? width : 2, out = k < nhidden ? width : 1;
    flops += 4.0 * 2 * in * out * (k ? 3 : 2); /* 4 streams; forward, dW, and W^T Zbar except for layer 0 */
  }
  flops *= n;
  PetscCall(PetscPrintf(
      PETSC_COMM_SELF,
      "8x%-4" PetscInt_FMT " %7" PetscInt_FMT " params, %" PetscInt_FMT
      " points: %8.2f ms per KDNetLossGradient (CPU time %8.2f ms), %.2f GFLOP/s of CPU time (GEMM flops), loss %.6e\n",
      width, np, n, 1e3 * (t1 - t0) / reps, 1e3 * (c1 - c0) / reps, flops * reps / (c1 - c0) * 1e-9, (double) loss));
  PetscCall(PetscFree2(x, grad));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscInt n = 10000, reps = 20, widths[8] = {20, 128}, nw = 8;
  PetscBool flg;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_points", &n, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_reps", &reps, NULL));
  PetscCall(PetscOptionsGetIntArray(NULL, NULL, "-bench_widths", widths, &nw, &flg));
  if (!flg) nw = 2;
  /* OpenBLAS picks its kernels from the CPU model; an unknown model falls back to a generic one (OPENBLAS_CORETYPE
   * overrides) */
  PetscCall(
      PetscPrintf(PETSC_COMM_SELF, "OpenBLAS %s, kernels for %s\n", openblas_get_config(), openblas_get_corename()));
  for (PetscInt k = 0; k < nw; k++) PetscCall(Bench(widths[k], n, widths[k] > 64 ? PetscMax(1, reps / 4) : reps));
  PetscCall(PetscFinalize());
  return 0;
}
