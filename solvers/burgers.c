/* Viscous Burgers equation, the reference problem of the PINN literature:

     u_t + u u_x = nu u_xx,  x in [-1, 1], t in [0, tfinal],  u(x, 0) = -sin(pi x),  u(-1, t) = u(1, t) = 0.

   Method of lines on a uniform cell-centred grid (the storage grid itself): conservative central differences of
   order 2 or 4 for (u^2/2)_x and u_xx, on a 1-D DMDA, integrated by a PETSc TS (default: classical RK4 with a fixed
   step at a fraction of its stability limit). The Dirichlet walls are imposed through odd reflection into the ghost
   cells: the PDE forces u_xx = u_xxxx = ... = 0 at a wall where u = 0, so the odd extension is smooth and the
   reflected stencil keeps the interior order up to the wall. The RHS Jacobian is provided, so any implicit TS
   (-burgers_ts_type bdf, cn, arkimex, ...) runs with Newton.

   KDBurgersExact evaluates the exact solution from the Cole-Hopf transform by Gauss-Hermite quadrature. */
#include <kdsolver.h>
#include <petscblaslapack.h>
#include "kdsolverimpl.h"

/* Gauss-Hermite nodes: 256 resolve the quadrature to round-off (checked against brute-force trapezoid sums in the
   tests) for nu >= 0.003/pi up to t = 2; fewer (100-150) already suffice for the default nu = 0.01/pi, t <= 1. */
#define KD_BURGERS_GH_NODES 256

static PetscReal KDBurgersGHNode[KD_BURGERS_GH_NODES];
static PetscReal KDBurgersGHLogWeight[KD_BURGERS_GH_NODES];
static PetscBool KDBurgersGHReady = PETSC_FALSE;

static PetscLogEvent KD_BurgersRHS, KD_BurgersJacobian, KD_BurgersExact;
static PetscBool KDBurgersPackageInitialized = PETSC_FALSE;

static PetscErrorCode KDBurgersFinalizePackage(void)
{
  PetscFunctionBegin;
  KDBurgersPackageInitialized = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDBurgersInitializePackage(void)
{
  PetscFunctionBegin;
  if (KDBurgersPackageInitialized) PetscFunctionReturn(0);
  KDBurgersPackageInitialized = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDBurgersRHS", KD_CLASSID, &KD_BurgersRHS));
  PetscCall(PetscLogEventRegister("KDBurgersJacobian", KD_CLASSID, &KD_BurgersJacobian));
  PetscCall(PetscLogEventRegister("KDBurgersExact", KD_CLASSID, &KD_BurgersExact));
  PetscCall(PetscRegisterFinalize(KDBurgersFinalizePackage));
  PetscFunctionReturn(0);
}

/* Orthonormal Hermite functions psi_k(z) = p_k(z) exp(-z^2/2) (p_k orthonormal for the weight exp(-z^2)), up to
   k = n; working with psi instead of p keeps every value finite for all nodes of a 256-point rule. */
static void KDHermiteFunctions(PetscInt n, PetscReal z, PetscReal *psin, PetscReal *psinm1)
{
  PetscReal pm1 = 0.0, p = PetscPowReal(PETSC_PI, -0.25) * PetscExpReal(-0.5 * z * z);

  for (PetscInt k = 0; k < n; k++) {
    PetscReal pp1 = PetscSqrtReal(2.0 / (k + 1)) * z * p - PetscSqrtReal((PetscReal) k / (k + 1)) * pm1;
    pm1           = p;
    p             = pp1;
  }
  *psin   = p;
  *psinm1 = pm1;
}

/* Golub-Welsch: the nodes are the eigenvalues of the Jacobi matrix of the Hermite recurrence (LAPACK steqr), then
   polished by Newton on psi_n. Weights come from w_j = 1/(n p_{n-1}(z_j)^2), which, unlike the squared first
   eigenvector components, keeps full relative accuracy for the tiny weights of the outer nodes; they are stored as
   logarithms so the quadrature can fold them into one exponent. */
static PetscErrorCode KDBurgersGaussHermiteSetUp(void)
{
  const PetscInt n = KD_BURGERS_GH_NODES;
  PetscReal d[KD_BURGERS_GH_NODES], e[KD_BURGERS_GH_NODES], work[2], z[1];
  PetscBLASInt bn, one = 1, info;
  PetscReal sum0 = 0.0, sum2 = 0.0;

  PetscFunctionBegin;
  if (KDBurgersGHReady) PetscFunctionReturn(0);
  for (PetscInt k = 0; k < n; k++) {
    d[k] = 0.0;
    e[k] = PetscSqrtReal(0.5 * (k + 1));
  }
  PetscCall(PetscBLASIntCast(n, &bn));
  PetscCallBLAS("LAPACKsteqr", LAPACKsteqr_("N", &bn, d, e, z, &one, work, &info));
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK steqr failed computing Gauss-Hermite nodes: info %d",
             (int) info);
  for (PetscInt j = 0; j < n; j++) {
    PetscReal zj = d[j], psin, psinm1;
    for (PetscInt it = 0; it < 3; it++) {
      KDHermiteFunctions(n, zj, &psin, &psinm1);
      zj -= psin / (PetscSqrtReal(2.0 * n) * psinm1);
    }
    KDHermiteFunctions(n, zj, &psin, &psinm1);
    KDBurgersGHNode[j]      = zj;
    KDBurgersGHLogWeight[j] = -zj * zj - PetscLogReal((PetscReal) n) - 2.0 * PetscLogReal(PetscAbsReal(psinm1));
    sum0 += PetscExpReal(KDBurgersGHLogWeight[j]);
    sum2 += PetscExpReal(KDBurgersGHLogWeight[j]) * zj * zj;
  }
  /* The moments int exp(-z^2) = sqrt(pi) and int z^2 exp(-z^2) = sqrt(pi)/2 catch a broken rule at once. */
  PetscCheck(PetscAbsReal(sum0 / PetscSqrtReal(PETSC_PI) - 1.0) < 1e-12 &&
                 PetscAbsReal(2.0 * sum2 / PetscSqrtReal(PETSC_PI) - 1.0) < 1e-12,
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "Gauss-Hermite rule fails its moment check");
  KDBurgersGHReady = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* With eta = sqrt(4 nu t) z the Cole-Hopf integrals become Gauss-Hermite sums over f(x - c z_j),
   f(y) = exp(-cos(pi y)/(2 pi nu)). Each term is exp(log w_j - cos(pi y_j)/(2 pi nu) - m) with m the largest exponent,
   so nothing overflows for any nu. sin/cos(pi (x - c z_j)) come from addition formulas with the per-t factors
   sin/cos(pi c z_j), which leaves one exp per node and point. */
PetscErrorCode KDBurgersExactRow(PetscReal nu, PetscReal t, PetscInt n, const PetscReal x[], PetscReal u[])
{
  const PetscInt N = KD_BURGERS_GH_NODES;
  PetscReal cz[KD_BURGERS_GH_NODES], sz[KD_BURGERS_GH_NODES], ex[KD_BURGERS_GH_NODES];
  PetscReal c, a;

  PetscFunctionBegin;
  PetscCheck(nu > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Burgers exact solution needs nu > 0, got %g",
             (double) nu);
  PetscCheck(t >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Burgers exact solution needs t >= 0, got %g",
             (double) t);
  if (t == 0) {
    for (PetscInt i = 0; i < n; i++) u[i] = -PetscSinReal(PETSC_PI * x[i]);
    PetscFunctionReturn(0);
  }
  PetscCall(KDBurgersInitializePackage());
  PetscCall(KDBurgersGaussHermiteSetUp());
  PetscCall(PetscLogEventBegin(KD_BurgersExact, 0, 0, 0, 0));
  c = PetscSqrtReal(4.0 * nu * t);
  a = 1.0 / (2.0 * PETSC_PI * nu);
  for (PetscInt j = 0; j < N; j++) {
    cz[j] = PetscCosReal(PETSC_PI * c * KDBurgersGHNode[j]);
    sz[j] = PetscSinReal(PETSC_PI * c * KDBurgersGHNode[j]);
  }
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal sx = PetscSinReal(PETSC_PI * x[i]), cx = PetscCosReal(PETSC_PI * x[i]);
    PetscReal m = PETSC_MIN_REAL, num = 0.0, den = 0.0;

    for (PetscInt j = 0; j < N; j++) {
      ex[j] = KDBurgersGHLogWeight[j] - a * (cx * cz[j] + sx * sz[j]);
      m     = PetscMax(m, ex[j]);
    }
    for (PetscInt j = 0; j < N; j++) {
      /* A term can exceed exp(log w_j + a - m) by no means; below exp(-40) relative to the largest term (which is 1)
         all N such terms together change the ratio by less than N e^-40 ~ 1e-15, so their exp is skipped. */
      if (KDBurgersGHLogWeight[j] + a - m < -40.0) continue;
      {
        const PetscReal f = PetscExpReal(ex[j] - m);
        num += (sx * cz[j] - cx * sz[j]) * f;
        den += f;
      }
    }
    u[i] = -num / den;
  }
  PetscCall(PetscLogFlops(6.0 * N * n));
  PetscCall(PetscLogEventEnd(KD_BurgersExact, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDBurgersExact - Exact solution of u_t + u u_x = nu u_xx on [-1, 1] with u(x, 0) = -sin(pi x), u(+-1, t) = 0.

  Not collective

  Input Parameters:
+ nu - viscosity, > 0
. t  - time, >= 0
- x  - position in [-1, 1]

  Output Parameter:
. u - u(x, t)

  Notes:
  Cole-Hopf: u = -int sin(pi (x - eta)) f(x - eta) G(eta) d eta / int f(x - eta) G(eta) d eta with
  f(y) = exp(-cos(pi y)/(2 pi nu)) and the heat kernel G(eta) = exp(-eta^2/(4 nu t)), evaluated by a 256-point
  Gauss-Hermite rule computed once (Golub-Welsch plus Newton polishing). Accurate to about 1e-14 for the default
  nu = 0.01/pi up to t = 1, including the front at x = 0 (tests/t201-burgers-exact.c). Its accuracy degrades when
  nu t is large (the periodic f is then sampled over many periods by the rule) or nu is much below 0.003/pi.

.seealso: KDSolveBurgers()
@*/
PetscErrorCode KDBurgersExact(PetscReal nu, PetscReal t, PetscReal x, PetscReal *u)
{
  PetscFunctionBegin;
  PetscCall(KDBurgersExactRow(nu, t, 1, &x, u));
  PetscFunctionReturn(0);
}

/* ---- the finite-difference solver ------------------------------------------------------------------------------ */

typedef struct {
  PetscReal nu, adv;
  PetscReal d1[5], d2[5]; /* first and second derivative weights on offsets -2..2 */
  PetscInt nx, sw;        /* cells, stencil half-width */
} KDBurgersCtx;

static PetscErrorCode KDBurgersCtxDestroy(void *ptr)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(ptr));
  PetscFunctionReturn(0);
}

/* Odd reflection at the walls, u(-x_i) = -u(x_i) about x = -1 and x = 1: the ghost of cell -1-g is -u_g. */
static void KDBurgersFillGhosts(const KDBurgersCtx *ctx, PetscInt xs, PetscInt xm, PetscReal *u)
{
  if (xs == 0)
    for (PetscInt g = 1; g <= ctx->sw; g++) u[-g] = -u[g - 1];
  if (xs + xm == ctx->nx)
    for (PetscInt g = 0; g < ctx->sw; g++) u[ctx->nx + g] = -u[ctx->nx - 1 - g];
}

/* G(u)_i = -a sum_o d1[o] u_{i+o}^2/2 + nu sum_o d2[o] u_{i+o}: the conservative central flux difference. */
static PetscErrorCode KDBurgersRHSFunction(TS ts, PetscReal t, Vec U, Vec G, void *ptr)
{
  KDBurgersCtx *ctx = (KDBurgersCtx *) ptr;
  DM da;
  Vec Uloc;
  PetscReal *u, *g;
  PetscInt xs, xm;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_BurgersRHS, U, G, 0, 0));
  PetscCall(TSGetDM(ts, &da));
  PetscCall(DMGetLocalVector(da, &Uloc));
  PetscCall(DMGlobalToLocalBegin(da, U, INSERT_VALUES, Uloc));
  PetscCall(DMGlobalToLocalEnd(da, U, INSERT_VALUES, Uloc));
  PetscCall(DMDAGetCorners(da, &xs, NULL, NULL, &xm, NULL, NULL));
  PetscCall(DMDAVecGetArray(da, Uloc, &u));
  PetscCall(DMDAVecGetArray(da, G, &g));
  KDBurgersFillGhosts(ctx, xs, xm, u);
  for (PetscInt i = xs; i < xs + xm; i++) {
    PetscReal r = 0.0;
    for (PetscInt o = -ctx->sw; o <= ctx->sw; o++) {
      const PetscReal v = u[i + o];
      r += -ctx->adv * ctx->d1[o + 2] * 0.5 * v * v + ctx->nu * ctx->d2[o + 2] * v;
    }
    g[i] = r;
  }
  PetscCall(DMDAVecRestoreArray(da, G, &g));
  PetscCall(DMDAVecRestoreArray(da, Uloc, &u));
  PetscCall(DMRestoreLocalVector(da, &Uloc));
  PetscCall(PetscLogFlops(7.0 * (2 * ctx->sw + 1) * xm));
  PetscCall(PetscLogEventEnd(KD_BurgersRHS, U, G, 0, 0));
  PetscFunctionReturn(0);
}

/* dG_i/du_{i+o} = -a d1[o] u_{i+o} + nu d2[o]; a ghost column folds back onto its mirror cell with the factor -1 of
   the odd reflection (the ghost value already carries the sign, so the derivative is taken at the ghost value). */
static PetscErrorCode KDBurgersRHSJacobian(TS ts, PetscReal t, Vec U, Mat A, Mat P, void *ptr)
{
  KDBurgersCtx *ctx = (KDBurgersCtx *) ptr;
  DM da;
  Vec Uloc;
  PetscReal *u;
  PetscInt xs, xm;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_BurgersJacobian, U, P, 0, 0));
  PetscCall(TSGetDM(ts, &da));
  PetscCall(DMGetLocalVector(da, &Uloc));
  PetscCall(DMGlobalToLocalBegin(da, U, INSERT_VALUES, Uloc));
  PetscCall(DMGlobalToLocalEnd(da, U, INSERT_VALUES, Uloc));
  PetscCall(DMDAGetCorners(da, &xs, NULL, NULL, &xm, NULL, NULL));
  PetscCall(DMDAVecGetArray(da, Uloc, &u));
  KDBurgersFillGhosts(ctx, xs, xm, u);
  PetscCall(MatZeroEntries(P));
  for (PetscInt i = xs; i < xs + xm; i++) {
    MatStencil row = {0}, col[5] = {{0}};
    PetscReal val[5];
    PetscInt nc = 0;
    row.i       = i;
    for (PetscInt o = -ctx->sw; o <= ctx->sw; o++) {
      PetscInt j  = i + o;
      PetscReal a = -ctx->adv * ctx->d1[o + 2] * u[j] + ctx->nu * ctx->d2[o + 2];
      if (j < 0) {
        j = -1 - j;
        a = -a;
      } else if (j >= ctx->nx) {
        j = 2 * ctx->nx - 1 - j;
        a = -a;
      }
      col[nc].i = j;
      val[nc++] = a;
    }
    PetscCall(MatSetValuesStencil(P, 1, &row, nc, col, val, ADD_VALUES));
  }
  PetscCall(DMDAVecRestoreArray(da, Uloc, &u));
  PetscCall(DMRestoreLocalVector(da, &Uloc));
  PetscCall(MatAssemblyBegin(P, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(P, MAT_FINAL_ASSEMBLY));
  if (A != P) {
    PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  }
  PetscCall(PetscLogEventEnd(KD_BurgersJacobian, U, P, 0, 0));
  PetscFunctionReturn(0);
}

/* KDBurgersOptionsSetFromOptions - Reads the -burgers_ options of the discretization (and -kd_monitor) and checks them;
   nu is the PDE's parameter (KDSolveBurgers() sets it; 0.01/pi here). Collective. */
PetscErrorCode KDBurgersOptionsSetFromOptions(MPI_Comm comm, KDBurgersOptions *opt)
{
  PetscFunctionBegin;
  opt->nu        = 0.01 / PETSC_PI;
  opt->advection = 1.0;
  opt->tfinal    = 1.0;
  opt->cfl       = 0.9;
  opt->nx        = 2048;
  opt->nt        = 256;
  opt->order     = 4;
  opt->monitor   = PETSC_FALSE;
  PetscOptionsBegin(comm, NULL, "Burgers reference solver", "KDSolveBurgers");
  PetscCall(KDOptionsInt("-burgers_nx", "Cells in x on [-1, 1] (level 0)", "KDSolveBurgers", opt->nx, &opt->nx, NULL));
  PetscCall(KDOptionsInt("-burgers_nt", "Stored snapshots in t, at t_k = (k + 1/2) tfinal/nt (level 0)",
                         "KDSolveBurgers", opt->nt, &opt->nt, NULL));
  PetscCall(KDOptionsReal("-burgers_tfinal", "Final time", "KDSolveBurgers", opt->tfinal, &opt->tfinal, NULL));
  PetscCall(KDOptionsInt("-burgers_order", "Order of the central differences in x: 2 or 4", "KDSolveBurgers",
                         opt->order, &opt->order, NULL));
  PetscCall(KDOptionsReal("-burgers_cfl",
                          "Default time step as a fraction of the RK4 stability limit (-burgers_ts_dt overrides)",
                          "KDSolveBurgers", opt->cfl, &opt->cfl, NULL));
  PetscCall(PetscOptionsBool("-kd_monitor", "Print progress", "KDSolveBurgers", opt->monitor, &opt->monitor, NULL));
  PetscOptionsEnd();
  PetscCheck(opt->nx >= 4, comm, PETSC_ERR_ARG_OUTOFRANGE, "-burgers_nx must be at least 4, got %" PetscInt_FMT,
             opt->nx);
  PetscCheck(opt->nt >= 4, comm, PETSC_ERR_ARG_OUTOFRANGE, "-burgers_nt must be at least 4, got %" PetscInt_FMT,
             opt->nt);
  PetscCheck(opt->tfinal > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-burgers_tfinal must be positive, got %g",
             (double) opt->tfinal);
  PetscCheck(opt->order == 2 || opt->order == 4, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-burgers_order must be 2 or 4, got %" PetscInt_FMT, opt->order);
  PetscCheck(opt->cfl > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-burgers_cfl must be positive, got %g", (double) opt->cfl);
  PetscCheck((PetscInt64) opt->nt * opt->nx < PETSC_MAX_INT, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-burgers_nt times -burgers_nx exceeds the 32-bit index range");
  PetscFunctionReturn(0);
}

/* KDBurgersCreateTS - Creates the DMDA, the TS (prefix burgers_, configured from the options) and the initial state
   u(x, 0) = -sin(pi x) at the cell centres. Collective. The TS owns the DM and the discretization context. */
PetscErrorCode KDBurgersCreateTS(MPI_Comm comm, const KDBurgersOptions *opt, TS *ts, Vec *U)
{
  static const PetscReal d1o2[5] = {0, -0.5, 0, 0.5, 0}, d2o2[5] = {0, 1, -2, 1, 0};
  static const PetscReal d1o4[5] = {1.0 / 12, -8.0 / 12, 0, 8.0 / 12, -1.0 / 12};
  static const PetscReal d2o4[5] = {-1.0 / 12, 16.0 / 12, -30.0 / 12, 16.0 / 12, -1.0 / 12};
  const PetscReal h              = 2.0 / opt->nx;
  KDBurgersCtx *ctx;
  PetscContainer container;
  DM da;
  Mat J;
  TSAdapt adapt;
  PetscReal *u, rho1, rho2, dt;
  PetscInt xs, xm;

  PetscFunctionBegin;
  PetscCall(KDBurgersInitializePackage());
  PetscCall(PetscNew(&ctx));
  ctx->nu  = opt->nu;
  ctx->adv = opt->advection;
  ctx->nx  = opt->nx;
  ctx->sw  = opt->order / 2;
  for (PetscInt o = 0; o < 5; o++) {
    ctx->d1[o] = (opt->order == 2 ? d1o2[o] : d1o4[o]) / h;
    ctx->d2[o] = (opt->order == 2 ? d2o2[o] : d2o4[o]) / (h * h);
  }
  PetscCall(DMDACreate1d(comm, DM_BOUNDARY_GHOSTED, opt->nx, 1, ctx->sw, NULL, &da));
  PetscCall(DMSetOptionsPrefix(da, "burgers_"));
  PetscCall(DMSetFromOptions(da));
  PetscCall(DMSetUp(da));
  PetscCall(DMDASetUniformCoordinates(da, -1.0 + 0.5 * h, 1.0 - 0.5 * h, 0, 0, 0, 0));

  PetscCall(TSCreate(comm, ts));
  PetscCall(TSSetOptionsPrefix(*ts, "burgers_"));
  PetscCall(TSSetDM(*ts, da));
  PetscCall(DMDestroy(&da));
  PetscCall(PetscContainerCreate(comm, &container));
  PetscCall(PetscContainerSetPointer(container, ctx));
  PetscCall(PetscContainerSetUserDestroy(container, KDBurgersCtxDestroy));
  PetscCall(PetscObjectCompose((PetscObject) *ts, "KDBurgersCtx", (PetscObject) container));
  PetscCall(PetscContainerDestroy(&container));
  PetscCall(TSSetProblemType(*ts, TS_NONLINEAR));
  PetscCall(TSSetRHSFunction(*ts, NULL, KDBurgersRHSFunction, ctx));
  PetscCall(TSGetDM(*ts, &da));
  PetscCall(DMCreateMatrix(da, &J));
  PetscCall(TSSetRHSJacobian(*ts, J, J, KDBurgersRHSJacobian, ctx));
  PetscCall(MatDestroy(&J));

  /* Explicit RK4 at a fixed step: the step limit is diffusive (dt ~ h^2/nu), and at that step the time error of a
     fourth-order method is far below the spatial error, with four cheap RHS evaluations per step and no solves.
     Spectral radii of the central operators: |D2| <= 4/h^2 (order 2), 16/(3 h^2) (order 4); |D1| <= 1/h, 1.372/h;
     |u| <= max |u0| = 1 (maximum principle), so the advective bound is |a| |D1|. RK4 is stable to -2.78 on the real
     and 2.83 on the imaginary axis. */
  rho2 = (opt->order == 2 ? 4.0 : 16.0 / 3.0) / (h * h);
  rho1 = (opt->order == 2 ? 1.0 : 1.372) / h;
  dt   = opt->cfl * 2.78 / (opt->nu * rho2 + PetscAbsReal(opt->advection) * rho1);
  PetscCall(TSSetType(*ts, TSRK));
  PetscCall(TSRKSetType(*ts, TSRK4));
  PetscCall(TSSetTime(*ts, 0.0));
  PetscCall(TSSetTimeStep(*ts, dt));
  PetscCall(TSSetMaxSteps(*ts, PETSC_MAX_INT));
  PetscCall(TSSetMaxTime(*ts, opt->tfinal));
  PetscCall(TSSetExactFinalTime(*ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSGetAdapt(*ts, &adapt));
  PetscCall(TSAdaptSetType(adapt, TSADAPTNONE));
  PetscCall(TSSetFromOptions(*ts));

  PetscCall(DMCreateGlobalVector(da, U));
  PetscCall(DMDAGetCorners(da, &xs, NULL, NULL, &xm, NULL, NULL));
  PetscCall(DMDAVecGetArray(da, *U, &u));
  for (PetscInt i = xs; i < xs + xm; i++) u[i] = -PetscSinReal(PETSC_PI * (-1.0 + (i + 0.5) * h));
  PetscCall(DMDAVecRestoreArray(da, *U, &u));
  PetscFunctionReturn(0);
}

/* KDBurgersSolveGrid - Solves on the grid of opt and stores u(t_k, x_i) at natural index k nx + i of Ustore, a Vec
   of global size nt nx with any parallel layout. Collective. */
PetscErrorCode KDBurgersSolveGrid(MPI_Comm comm, const KDBurgersOptions *opt, Vec Ustore)
{
  TS ts;
  TSAdapt adapt;
  DM da;
  Vec U;
  PetscBool fixed;
  PetscReal dtmax, t = 0.0;
  PetscInt xs, xm, size, *idx, every = PetscMax(1, opt->nt / 10), steps;
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(VecGetSize(Ustore, &size));
  PetscCheck(size == opt->nt * opt->nx, comm, PETSC_ERR_ARG_SIZ,
             "Burgers storage vector has %" PetscInt_FMT " entries, expected nt*nx = %" PetscInt_FMT, size,
             opt->nt * opt->nx);
  PetscCall(PetscTime(&t0));
  PetscCall(KDBurgersCreateTS(comm, opt, &ts, &U));
  PetscCall(TSGetDM(ts, &da));
  PetscCall(DMDAGetCorners(da, &xs, NULL, NULL, &xm, NULL, NULL));
  PetscCall(TSGetTimeStep(ts, &dtmax));
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(PetscObjectTypeCompare((PetscObject) adapt, TSADAPTNONE, &fixed));
  PetscCall(PetscMalloc1(xm, &idx));
  for (PetscInt k = 0; k < opt->nt; k++) {
    const PetscReal tk = (k + 0.5) * opt->tfinal / opt->nt;
    const PetscScalar *u;
    TSConvergedReason reason;

    /* A fixed step is evened out over each interval between snapshots so that every snapshot falls on a step. */
    if (fixed) {
      PetscInt n = (PetscInt) PetscCeilReal((tk - t) / dtmax - 1e-9);
      PetscCall(TSSetTimeStep(ts, (tk - t) / PetscMax(n, 1)));
    }
    PetscCall(KDSignalCheck(comm, "burgers solve"));
    PetscCall(TSSetMaxTime(ts, tk));
    PetscCall(TSSolve(ts, U));
    PetscCall(TSGetConvergedReason(ts, &reason));
    PetscCheck(reason >= 0, comm, PETSC_ERR_CONV_FAILED,
               "Burgers time stepping failed before t = %g: %s (try -burgers_ts_dt or -burgers_cfl smaller)",
               (double) tk, TSConvergedReasons[reason]);
    PetscCall(TSGetTime(ts, &t));
    PetscCheck(PetscAbsReal(t - tk) <= 1e-10 * opt->tfinal, comm, PETSC_ERR_PLIB,
               "Burgers time stepping stopped at t = %.15g instead of %.15g", (double) t, (double) tk);
    PetscCall(VecGetArrayRead(U, &u));
    for (PetscInt i = 0; i < xm; i++) idx[i] = k * opt->nx + xs + i;
    PetscCall(VecSetValues(Ustore, xm, idx, u, INSERT_VALUES));
    PetscCall(VecRestoreArrayRead(U, &u));
    if (opt->monitor && ((k + 1) % every == 0 || k + 1 == opt->nt)) {
      PetscCall(TSGetStepNumber(ts, &steps));
      PetscCall(PetscTime(&t1));
      PetscCall(PetscPrintf(
          comm, "burgers: t = %.4f  snapshot %" PetscInt_FMT "/%" PetscInt_FMT "  steps %" PetscInt_FMT "  %.1f s\n",
          (double) tk, k + 1, opt->nt, steps, (double) (t1 - t0)));
    }
  }
  PetscCall(VecAssemblyBegin(Ustore));
  PetscCall(VecAssemblyEnd(Ustore));
  PetscCall(TSGetStepNumber(ts, &steps));
  PetscCall(PetscTime(&t1));
  PetscCall(PetscInfo(
      ts, "Burgers: nx %" PetscInt_FMT ", order %" PetscInt_FMT ", %" PetscInt_FMT " steps to t = %g in %g s\n",
      opt->nx, opt->order, steps, (double) t, (double) (t1 - t0)));
  PetscCall(PetscFree(idx));
  PetscCall(VecDestroy(&U));
  PetscCall(TSDestroy(&ts));
  PetscFunctionReturn(0);
}

/* KDBurgersRelativeError - Relative L2 error ||U - u_exact|| / ||u_exact|| over all stored grid values of U (layout
   of KDBurgersSolveGrid). Collective on U. */
PetscErrorCode KDBurgersRelativeError(const KDBurgersOptions *opt, Vec U, PetscReal *err)
{
  const PetscScalar *u;
  PetscReal *x, *ue, sum[2] = {0, 0}, gsum[2];
  PetscInt lo, hi;
  const PetscReal h = 2.0 / opt->nx;

  PetscFunctionBegin;
  PetscCheck(opt->advection == 1.0, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "the Cole-Hopf solution is that of advection 1, not %g", (double) opt->advection);
  PetscCall(VecGetOwnershipRange(U, &lo, &hi));
  PetscCall(VecGetArrayRead(U, &u));
  PetscCall(PetscMalloc2(opt->nx, &x, opt->nx, &ue));
  for (PetscInt g = lo; g < hi;) {
    const PetscInt k = g / opt->nx, i0 = g % opt->nx, m = PetscMin(opt->nx - i0, hi - g);
    const PetscReal tk = (k + 0.5) * opt->tfinal / opt->nt;

    for (PetscInt j = 0; j < m; j++) x[j] = -1.0 + (i0 + j + 0.5) * h;
    PetscCall(KDBurgersExactRow(opt->nu, tk, m, x, ue));
    for (PetscInt j = 0; j < m; j++) {
      const PetscReal d = PetscRealPart(u[g - lo + j]) - ue[j];
      sum[0] += d * d;
      sum[1] += ue[j] * ue[j];
    }
    g += m;
  }
  PetscCall(PetscFree2(x, ue));
  PetscCall(VecRestoreArrayRead(U, &u));
  PetscCall(MPIU_Allreduce(sum, gsum, 2, MPIU_REAL, MPIU_SUM, PetscObjectComm((PetscObject) U)));
  *err = PetscSqrtReal(gsum[0] / gsum[1]);
  PetscFunctionReturn(0);
}

/*@C
  KDSolveBurgers - Solves the Burgers reference problem and hands its level-0 field "u" on the grid "t,x" to a
  KDReference, with the PDE name "burgers" and the parameter "nu".

  Collective on ref

  Input Parameter:
. ref - the reference to fill

  Options Database Keys:
+ -burgers_nu <0.01/pi>   - viscosity
. -burgers_nx <2048>      - cells in x on [-1, 1]; values sit at x_i = -1 + (i + 1/2) 2/nx
. -burgers_nt <256>       - stored snapshots, at t_k = (k + 1/2) tfinal/nt
. -burgers_tfinal <1>     - final time
. -burgers_order <4>      - order of the central differences in x: 2 or 4
. -burgers_cfl <0.9>      - default step as a fraction of the RK4 stability limit
. -burgers_ts_*           - the TS (default: rk 4, fixed step); implicit types use the analytic Jacobian
. -burgers_da_*           - the DMDA
- -kd_monitor             - a progress line per ~10% of the snapshots

  Notes:
  nx and nt must be divisible by 2^(L-1) for -kd_levels L, since each coarser level halves both axes.

.seealso: KDBurgersExact(), KDReferenceSetGrid(), KDReferenceAddField()
@*/
PetscErrorCode KDSolveBurgers(KDPDE pde, KDReference ref)
{
  MPI_Comm comm;
  KDBurgersOptions opt;
  KDCommonOptions common;
  Vec U;
  PetscInt n[2], blocks;
  PetscBool help;
  PetscReal lo[2] = {0.0, -1.0}, hi[2];

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDBurgersOptionsSetFromOptions(comm, &opt));
  PetscCall(KDHelpRequested(&help));
  if (help) PetscFunctionReturn(0); /* -help: the options are listed, nothing is solved */
  PetscCall(KDPDEGetParameter(pde, "nu", &opt.nu));
  PetscCall(KDPDEGetParameter(pde, "advection", &opt.advection));
  PetscCheck(opt.nu > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-burgers_nu must be positive, got %g", (double) opt.nu);
  PetscCall(KDGetCommonOptions(comm, &common));
  blocks = (PetscInt) 1 << (common.levels - 1);
  PetscCheck(opt.nx % blocks == 0, comm, PETSC_ERR_ARG_INCOMP,
             "-burgers_nx %" PetscInt_FMT " must be divisible by 2^(kd_levels-1) = %" PetscInt_FMT, opt.nx, blocks);
  PetscCheck(opt.nt % blocks == 0, comm, PETSC_ERR_ARG_INCOMP,
             "-burgers_nt %" PetscInt_FMT " must be divisible by 2^(kd_levels-1) = %" PetscInt_FMT, opt.nt, blocks);
  PetscCall(KDReferenceApplyGridDivisor(ref, "-burgers_nx", &opt.nx));
  PetscCall(KDReferenceApplyGridDivisor(ref, "-burgers_nt", &opt.nt));
  n[0]  = opt.nt;
  n[1]  = opt.nx;
  hi[0] = opt.tfinal;
  hi[1] = 1.0;
  PetscCall(KDReferenceSetGrid(ref, 2, "t,x", n, lo, hi));
  PetscCall(KDReferenceCreateLevelVec(ref, 0, &U));
  PetscCall(KDBurgersSolveGrid(comm, &opt, U));
  PetscCall(KDReferenceAddField(ref, "u", U));
  PetscCall(VecDestroy(&U));
  PetscFunctionReturn(0);
}
