/* Steady lid-driven cavity, the reference problem of incompressible Navier-Stokes solvers:

     (u . grad) u + grad p = (1/Re) lap u,  div u = 0   in [0,1]^2,
     u = (1, 0) on the lid y = 1,  u = 0 on the other three walls.

   Streamfunction-vorticity form (u = psi_y, v = -psi_x, omega = v_x - u_y):

     -lap psi = omega,   -(1/Re) lap omega + u omega_x + v omega_y = f   (f = 0 except in manufactured mode),

   discretized by second-order central differences on the (n+1) x (n+1) nodes of a 2-D DMDA (dof 2: psi, omega),
   the unknowns of one Newton (PETSc SNES) system. Walls: psi = 0 and the wall vorticity from the no-slip condition,
   Thom's formula (default: first order at the wall, yet second order for u, v, p as the manufactured-solution test
   shows, and a 5-point stencil) or Jensen's second-order one (a reach of 2 nodes: 3x the solve time here).
   Continuation in Re (from -cavity_re_start) and, optionally, SNES grid sequencing (-cavity_snes_grid_sequence k)
   reach Re = 1000 from a fluid at rest.

   Pressure: the pressure Poisson equation in divergence form, lap p = -div((u . grad) u) = 2 (psi_xx psi_yy -
   psi_xy^2), with the Neumann data the momentum equation gives on a no-slip wall (dp/dn = (1/Re) n . lap u, i.e.
   p_y = omega_x / Re on y = 0, 1 and p_x = -omega_y / Re on x = 0, 1), discretized by vertex-centred finite
   volumes (half and quarter control volumes on walls and corners) so that source and wall flux both sum to zero
   exactly, as in the continuum, despite the singular lid corners; the singular Neumann system is solved with CG
   on the complement of the constants.

   Output: u, v, p at the cell centres of the n x n grid: u, v by central differences of psi across a cell (the
   four corner nodes; second order, and exactly divergence-free in the discrete sense), p as the average of the
   four corner nodes, shifted to zero mean over the cells. */
#include <kdsolver.h>
#include "kdsolverimpl.h"

typedef struct {
  PetscScalar psi, omega;
} KDCavityNode;

/* The problem one SNES residual evaluation needs; shared by every grid of a grid sequence. */
typedef struct {
  PetscReal re;
  PetscBool mms;
  KDCavityWall wall;
} KDCavityCtx;

enum { KD_CAVITY_BOTTOM, KD_CAVITY_TOP, KD_CAVITY_LEFT, KD_CAVITY_RIGHT };

const char *const KDCavityWalls[] = {"thom", "jensen", "KDCavityWall", "KD_CAVITY_WALL_", NULL};

static PetscLogEvent KD_CavityResidual, KD_CavityPressure;
static PetscBool KDCavityPackageInitialized = PETSC_FALSE;

static PetscErrorCode KDCavityFinalizePackage(void)
{
  PetscFunctionBegin;
  KDCavityPackageInitialized = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDCavityInitializePackage(void)
{
  PetscFunctionBegin;
  if (KDCavityPackageInitialized) PetscFunctionReturn(0);
  KDCavityPackageInitialized = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDCavityResidual", KD_CLASSID, &KD_CavityResidual));
  PetscCall(PetscLogEventRegister("KDCavityPressure", KD_CLASSID, &KD_CavityPressure));
  PetscCall(PetscRegisterFinalize(KDCavityFinalizePackage));
  PetscFunctionReturn(0);
}

/* ---- Manufactured solution -------------------------------------------------------------------------------------

   psi = A X(x) Y(y) with X = exp(a x) sin(pi x), Y = exp(b y) sin(pi y): psi = 0 on every wall, nonzero tangential
   wall velocity on all four walls, and omega is not a function of psi, so the convective term does not vanish.
   p = B cos(pi x) cos(pi y) has zero mean over the square and over any uniform cell-centred grid. The forcing of the
   momentum equation that makes this exact enters the vorticity equation through f and the pressure equation through
   its source and Neumann data. */
#define KD_CAVITY_MMS_A 0.25
#define KD_CAVITY_MMS_a 0.7
#define KD_CAVITY_MMS_b (-0.4)
#define KD_CAVITY_MMS_B 0.5

typedef struct {
  PetscReal psi, psix, psiy, psixx, psiyy, psixy;
  PetscReal omega, omegax, omegay, lapomega;
  PetscReal p, px, py, lapp;
} KDCavityMMSPoint;

/* d[k] = k-th derivative of exp(a s) sin(pi s), k = 0..4: (a + i pi)^k = r^k exp(i k theta). */
static void KDCavityExpSin(PetscReal a, PetscReal s, PetscReal d[5])
{
  const PetscReal r = PetscSqrtReal(a * a + PETSC_PI * PETSC_PI), theta = PetscAtan2Real(PETSC_PI, a);
  PetscReal rk = PetscExpReal(a * s);

  for (PetscInt k = 0; k < 5; k++) {
    d[k] = rk * PetscSinReal(PETSC_PI * s + k * theta);
    rk *= r;
  }
}

static void KDCavityMMSEvaluate(PetscReal x, PetscReal y, KDCavityMMSPoint *m)
{
  const PetscReal A = KD_CAVITY_MMS_A, B = KD_CAVITY_MMS_B;
  PetscReal X[5], Y[5];

  KDCavityExpSin(KD_CAVITY_MMS_a, x, X);
  KDCavityExpSin(KD_CAVITY_MMS_b, y, Y);
  m->psi      = A * X[0] * Y[0];
  m->psix     = A * X[1] * Y[0];
  m->psiy     = A * X[0] * Y[1];
  m->psixx    = A * X[2] * Y[0];
  m->psiyy    = A * X[0] * Y[2];
  m->psixy    = A * X[1] * Y[1];
  m->omega    = -A * (X[2] * Y[0] + X[0] * Y[2]);
  m->omegax   = -A * (X[3] * Y[0] + X[1] * Y[2]);
  m->omegay   = -A * (X[2] * Y[1] + X[0] * Y[3]);
  m->lapomega = -A * (X[4] * Y[0] + 2 * X[2] * Y[2] + X[0] * Y[4]);
  m->p        = B * PetscCosReal(PETSC_PI * x) * PetscCosReal(PETSC_PI * y);
  m->px       = -B * PETSC_PI * PetscSinReal(PETSC_PI * x) * PetscCosReal(PETSC_PI * y);
  m->py       = -B * PETSC_PI * PetscCosReal(PETSC_PI * x) * PetscSinReal(PETSC_PI * y);
  m->lapp     = -2 * PETSC_PI * PETSC_PI * m->p;
}

/*
  KDCavityExact - The manufactured solution of -cavity_mms at (x, y): velocity (u, v) and pressure p.

  Not collective
*/
PetscErrorCode KDCavityExact(PetscReal x, PetscReal y, PetscReal *u, PetscReal *v, PetscReal *p)
{
  KDCavityMMSPoint m;

  PetscFunctionBegin;
  KDCavityMMSEvaluate(x, y, &m);
  if (u) *u = m.psiy;
  if (v) *v = -m.psix;
  if (p) *p = m.p;
  PetscFunctionReturn(0);
}

/* Outward normal derivative of psi on a wall, i.e. the tangential wall velocity with the sign of the orientation:
   u on the lid and the bottom (times +1, -1), -v on the right and left walls (times +1, -1). */
static PetscReal KDCavityWallNormalDerivative(const KDCavityCtx *ctx, PetscInt side, PetscReal x, PetscReal y)
{
  KDCavityMMSPoint m;

  if (!ctx->mms) return side == KD_CAVITY_TOP ? 1.0 : 0.0;
  KDCavityMMSEvaluate(x, y, &m);
  switch (side) {
  case KD_CAVITY_BOTTOM:
    return -m.psiy;
  case KD_CAVITY_TOP:
    return m.psiy;
  case KD_CAVITY_LEFT:
    return -m.psix;
  default:
    return m.psix;
  }
}

/* ---- Residual -------------------------------------------------------------------------------------------------

   Rows are scaled by h^2 so that the interior ones are O(1) with O(1) Jacobian entries:
     psi:    4 psi - (sum of 4 neighbours) - h^2 omega
     omega:  4 omega - (sum of 4 neighbours) + Re h^2 (u omega_x + v omega_y) - Re h^2 f
   Walls: psi = 0; h^2 omega_w + h^2 psi_nn = 0 with psi_nn from the Taylor expansion of psi along the inward normal
   and the known psi_n (lid speed): Jensen (8 psi_1 - psi_2 - 7 psi_w + 6 h psi_n) / (2 h^2), second order, or Thom
   2 (psi_1 - psi_w + h psi_n) / h^2, first order at the wall. The corner values of omega enter no other equation;
   they are set to zero (exact in manufactured mode, a convention at the singular lid corners). */
static PetscErrorCode KDCavityFormFunctionLocal(DMDALocalInfo *info, KDCavityNode **x, KDCavityNode **f, void *ptr)
{
  const KDCavityCtx *ctx = (const KDCavityCtx *) ptr;
  const PetscInt n       = info->mx - 1;
  const PetscReal h = 1.0 / n, re = ctx->re;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_CavityResidual, 0, 0, 0, 0));
  for (PetscInt j = info->ys; j < info->ys + info->ym; j++) {
    for (PetscInt i = info->xs; i < info->xs + info->xm; i++) {
      PetscInt di = 0, dj = 0, side;
      PetscReal psin, psi1, psi2, psiw;

      if (i > 0 && i < n && j > 0 && j < n) {
        const KDCavityNode c = x[j][i], e = x[j][i + 1], w = x[j][i - 1], no = x[j + 1][i], s = x[j - 1][i];
        PetscReal force = 0;

        if (ctx->mms) {
          KDCavityMMSPoint m;
          KDCavityMMSEvaluate(i * h, j * h, &m);
          force = m.psiy * m.omegax - m.psix * m.omegay - m.lapomega / re;
        }
        f[j][i].psi   = 4 * c.psi - (e.psi + w.psi + no.psi + s.psi) - h * h * c.omega;
        f[j][i].omega = 4 * c.omega - (e.omega + w.omega + no.omega + s.omega) +
                        0.25 * re * ((no.psi - s.psi) * (e.omega - w.omega) - (e.psi - w.psi) * (no.omega - s.omega)) -
                        re * h * h * force;
        continue;
      }
      f[j][i].psi = x[j][i].psi;
      if ((i == 0 || i == n) && (j == 0 || j == n)) {
        f[j][i].omega = h * h * x[j][i].omega;
        continue;
      }
      if (j == 0) {
        side = KD_CAVITY_BOTTOM;
        dj   = 1;
      } else if (j == n) {
        side = KD_CAVITY_TOP;
        dj   = -1;
      } else if (i == 0) {
        side = KD_CAVITY_LEFT;
        di   = 1;
      } else {
        side = KD_CAVITY_RIGHT;
        di   = -1;
      }
      psin = KDCavityWallNormalDerivative(ctx, side, i * h, j * h);
      psiw = x[j][i].psi;
      psi1 = x[j + dj][i + di].psi;
      if (ctx->wall == KD_CAVITY_WALL_JENSEN) {
        psi2          = x[j + 2 * dj][i + 2 * di].psi;
        f[j][i].omega = h * h * x[j][i].omega + 0.5 * (8 * psi1 - psi2 - 7 * psiw) + 3 * h * psin;
      } else {
        f[j][i].omega = h * h * x[j][i].omega + 2 * (psi1 - psiw) + 2 * h * psin;
      }
    }
  }
  PetscCall(PetscLogFlops(30.0 * info->xm * info->ym));
  PetscCall(PetscLogEventEnd(KD_CavityResidual, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDCavityMonitor(SNES snes, PetscInt it, PetscReal fnorm, void *ptr)
{
  const KDCavityCtx *ctx = (const KDCavityCtx *) ptr;
  DM dm;
  PetscInt mx;

  PetscFunctionBegin;
  PetscCall(SNESGetDM(snes, &dm));
  PetscCall(DMDAGetInfo(dm, NULL, &mx, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(PetscPrintf(PetscObjectComm((PetscObject) snes),
                        "cavity: Re %.6g, %" PetscInt_FMT " cells, Newton %" PetscInt_FMT ", |F| %.3e\n",
                        (double) ctx->re, mx - 1, it, (double) fnorm));
  PetscFunctionReturn(0);
}

/*
  KDCavityOptionsSetFromOptions - Reads the options of the cavity solver. The Reynolds number is the PDE's parameter Re
  (-cavity_Re; KDSolveCavity() sets it, 100 here).

  Collective

  Options Database Keys:
+ -cavity_n <128>         - cells per side of the output grid (the solver has n+1 nodes per side)
. -cavity_wall <thom>     - wall vorticity formula: thom or jensen (second order at the wall)
. -cavity_re_start <100>  - Reynolds number of the first solve of the continuation in Re (from rest)
. -cavity_re_factor <2.5> - largest ratio of two successive Reynolds numbers of the continuation
. -cavity_mms             - manufactured-solution mode (a forcing makes a known smooth flow exact)
- -kd_monitor             - print the Newton iterations and a summary per solve
*/
PetscErrorCode KDCavityOptionsSetFromOptions(MPI_Comm comm, KDCavityOptions *opt)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(opt, sizeof(*opt)));
  opt->re        = 100;
  opt->n         = 128;
  opt->wall      = KD_CAVITY_WALL_THOM;
  opt->re_start  = 100;
  opt->re_factor = 2.5;
  opt->mms       = PETSC_FALSE;
  opt->monitor   = PETSC_FALSE;
  PetscOptionsBegin(comm, NULL, "Lid-driven cavity reference solver", NULL);
  PetscCall(KDOptionsInt("-cavity_n", "Cells per side of the output grid (the solver uses n+1 nodes per side)", NULL,
                         opt->n, &opt->n, NULL));
  PetscCall(KDOptionsEnum("-cavity_wall", "Wall vorticity formula", NULL, KDCavityWalls, (PetscEnum) opt->wall,
                          (PetscEnum *) &opt->wall, NULL));
  PetscCall(KDOptionsReal("-cavity_re_start", "Reynolds number of the first solve of the continuation in Re", NULL,
                          opt->re_start, &opt->re_start, NULL));
  PetscCall(KDOptionsReal("-cavity_re_factor", "Largest ratio of two successive Reynolds numbers of the continuation",
                          NULL, opt->re_factor, &opt->re_factor, NULL));
  PetscCall(PetscOptionsBool("-cavity_mms", "Manufactured-solution mode (convergence tests)", NULL, opt->mms, &opt->mms,
                             NULL));
  PetscCall(PetscOptionsBool("-kd_monitor", "Print solver progress", NULL, opt->monitor, &opt->monitor, NULL));
  PetscOptionsEnd();
  PetscCheck(opt->n >= 4, comm, PETSC_ERR_ARG_OUTOFRANGE, "-cavity_n must be at least 4, got %" PetscInt_FMT, opt->n);
  PetscCheck(opt->re_start > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-cavity_re_start must be positive, got %.6g",
             (double) opt->re_start);
  PetscCheck(opt->re_factor > 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-cavity_re_factor must be greater than 1, got %.6g",
             (double) opt->re_factor);
  PetscFunctionReturn(0);
}

/* ---- Pressure -------------------------------------------------------------------------------------------------

   Vertex-centred finite volumes on the nodes: the control volume of node (i, j) is [x_i - h/2, x_i + h/2] x [...]
   cut by the walls (half cells on walls, quarter cells in corners). The equation is taken in divergence form,
   lap p = -div C + div F with C = (u . grad) u (so -div C = 2 (psi_xx psi_yy - psi_xy^2)), and integrated over it:
     sum over faces  c (p_nb - p)  +  sum over wall segments  |seg| dp/dn  =  -sum over faces |face| C . n  + ...,
   c = face length / h, C on a face the average of its two nodes: a symmetric matrix with the constants as null
   space. Interior face fluxes cancel in pairs and C . n = 0 on a wall (no normal velocity), so the source sums to
   zero exactly, whatever the velocity gradients at the singular lid corners; likewise the wall flux below. The data
   are thus compatible up to round-off (manufactured mode: up to truncation error), and the right-hand side is
   projected onto the range of the matrix before CG. At wall nodes C is the value the wall data give: zero for the
   cavity (uniform tangential velocity), the exact one in manufactured mode.

   The wall flux comes from the momentum equation: dp/dn = n . (lap u) / Re + n . F (the convective term vanishes on
   a wall with zero normal velocity; F is the manufactured forcing, zero for the cavity), i.e. p_y = omega_x / Re on
   y = 0, 1 and p_x = -omega_y / Re on x = 0, 1. Its integral over the wall segment of a node is exact in terms of
   omega at the segment ends (the average of the two wall nodes there, clipped at the corners), so the omega part
   of the boundary flux telescopes to zero around the square, as in the continuum: the singular lid corners, where
   omega ~ 1/r, move flux between the two walls that meet there but inject no net source. wallomega[side (n + 1) + k]
   holds the vorticity of the k-th node of a wall, gathered on every rank. */
static PetscReal KDCavityPressureWallFlux(const KDCavityCtx *ctx, PetscInt side, const PetscReal *wallomega, PetscInt n,
                                          PetscInt k, PetscReal len)
{
  const PetscReal *w = wallomega + side * (n + 1), h = 1.0 / n;
  const PetscReal dw = 0.5 * (w[PetscMin(k + 1, n)] - w[PetscMax(k - 1, 0)]);
  PetscReal flux, force = 0;
  KDCavityMMSPoint m;

  switch (side) {
  case KD_CAVITY_BOTTOM:
  case KD_CAVITY_TOP:
    if (ctx->mms) {
      KDCavityMMSEvaluate(k * h, side == KD_CAVITY_TOP ? 1.0 : 0.0, &m);
      force = m.py - m.omegax / ctx->re;
    }
    flux = dw / ctx->re + force * len;
    return side == KD_CAVITY_TOP ? flux : -flux;
  default:
    if (ctx->mms) {
      KDCavityMMSEvaluate(side == KD_CAVITY_RIGHT ? 1.0 : 0.0, k * h, &m);
      force = m.px + m.omegay / ctx->re;
    }
    flux = -dw / ctx->re + force * len;
    return side == KD_CAVITY_RIGHT ? flux : -flux;
  }
}

/* C = (u . grad) u at node (i, j): (psi_y psi_xy - psi_x psi_yy, psi_x psi_xy - psi_y psi_xx) by central differences
   inside, from the wall data on walls. */
static void KDCavityNodalConvection(const KDCavityCtx *ctx, PetscScalar **psi, PetscInt n, PetscInt i, PetscInt j,
                                    PetscReal C[2])
{
  const PetscReal h = 1.0 / n;
  PetscReal px, py, pxx, pyy, pxy;
  KDCavityMMSPoint m;

  if (i == 0 || i == n || j == 0 || j == n) {
    C[0] = C[1] = 0;
    if (ctx->mms) {
      KDCavityMMSEvaluate(i * h, j * h, &m);
      C[0] = m.psiy * m.psixy - m.psix * m.psiyy;
      C[1] = m.psix * m.psixy - m.psiy * m.psixx;
    }
    return;
  }
  px   = (psi[j][i + 1] - psi[j][i - 1]) / (2 * h);
  py   = (psi[j + 1][i] - psi[j - 1][i]) / (2 * h);
  pxx  = (psi[j][i + 1] - 2 * psi[j][i] + psi[j][i - 1]) / (h * h);
  pyy  = (psi[j + 1][i] - 2 * psi[j][i] + psi[j - 1][i]) / (h * h);
  pxy  = (psi[j + 1][i + 1] - psi[j + 1][i - 1] - psi[j - 1][i + 1] + psi[j - 1][i - 1]) / (4 * h * h);
  C[0] = py * pxy - px * pyy;
  C[1] = px * pxy - py * pxx;
}

/* Solves for the nodal pressure P (on daP, dof 1, box stencil) from the nodal streamfunction Psi (same DM). */
static PetscErrorCode KDCavitySolvePressure(DM daP, Vec Psi, const PetscReal *wallomega, const KDCavityCtx *ctx, Vec P)
{
  MPI_Comm comm;
  DMDALocalInfo info;
  Mat A;
  Vec b, psiloc;
  KSP ksp;
  MatNullSpace nullsp;
  PetscScalar **psi, **rhs;
  PetscInt n;
  PetscReal h;
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_CavityPressure, 0, 0, 0, 0));
  PetscCall(PetscObjectGetComm((PetscObject) daP, &comm));
  PetscCall(DMDAGetLocalInfo(daP, &info));
  n = info.mx - 1;
  h = 1.0 / n;
  PetscCall(DMCreateMatrix(daP, &A));
  PetscCall(DMCreateGlobalVector(daP, &b));
  PetscCall(DMGetLocalVector(daP, &psiloc));
  PetscCall(DMGlobalToLocal(daP, Psi, INSERT_VALUES, psiloc));
  PetscCall(DMDAVecGetArrayRead(daP, psiloc, &psi));
  PetscCall(DMDAVecGetArray(daP, b, &rhs));
  for (PetscInt j = info.ys; j < info.ys + info.ym; j++) {
    for (PetscInt i = info.xs; i < info.xs + info.xm; i++) {
      const PetscReal wx = (i == 0 || i == n) ? 0.5 : 1.0, wy = (j == 0 || j == n) ? 0.5 : 1.0;
      MatStencil row = {.i = i, .j = j}, col[5];
      PetscScalar val[5];
      PetscInt nc = 0;
      PetscReal s = 0, flux = 0, Cc[2], Cn[2];
      KDCavityMMSPoint m;

      col[nc].i = i;
      col[nc].j = j;
      val[nc++] = 0;
      if (i > 0) {
        col[nc].i = i - 1;
        col[nc].j = j;
        val[nc]   = -wy;
        val[0] += wy;
        nc++;
      }
      if (i < n) {
        col[nc].i = i + 1;
        col[nc].j = j;
        val[nc]   = -wy;
        val[0] += wy;
        nc++;
      }
      if (j > 0) {
        col[nc].i = i;
        col[nc].j = j - 1;
        val[nc]   = -wx;
        val[0] += wx;
        nc++;
      }
      if (j < n) {
        col[nc].i = i;
        col[nc].j = j + 1;
        val[nc]   = -wx;
        val[0] += wx;
        nc++;
      }
      PetscCall(MatSetValuesStencil(A, 1, &row, nc, col, val, INSERT_VALUES));

      /* -integral of div C over the control volume = sum of the outward face fluxes of C */
      KDCavityNodalConvection(ctx, psi, n, i, j, Cc);
      if (i < n) {
        KDCavityNodalConvection(ctx, psi, n, i + 1, j, Cn);
        flux += 0.5 * (Cc[0] + Cn[0]) * wy * h;
      }
      if (i > 0) {
        KDCavityNodalConvection(ctx, psi, n, i - 1, j, Cn);
        flux -= 0.5 * (Cc[0] + Cn[0]) * wy * h;
      }
      if (j < n) {
        KDCavityNodalConvection(ctx, psi, n, i, j + 1, Cn);
        flux += 0.5 * (Cc[1] + Cn[1]) * wx * h;
      }
      if (j > 0) {
        KDCavityNodalConvection(ctx, psi, n, i, j - 1, Cn);
        flux -= 0.5 * (Cc[1] + Cn[1]) * wx * h;
      }
      if (j == 0) flux += KDCavityPressureWallFlux(ctx, KD_CAVITY_BOTTOM, wallomega, n, i, wx * h);
      if (j == n) flux += KDCavityPressureWallFlux(ctx, KD_CAVITY_TOP, wallomega, n, i, wx * h);
      if (i == 0) flux += KDCavityPressureWallFlux(ctx, KD_CAVITY_LEFT, wallomega, n, j, wy * h);
      if (i == n) flux += KDCavityPressureWallFlux(ctx, KD_CAVITY_RIGHT, wallomega, n, j, wy * h);
      if (ctx->mms) {
        /* div F = lap p + div C of the manufactured solution, -div C = 2 (psi_xx psi_yy - psi_xy^2) */
        KDCavityMMSEvaluate(i * h, j * h, &m);
        s = m.lapp - 2 * (m.psixx * m.psiyy - m.psixy * m.psixy);
      }
      rhs[j][i] = flux - wx * wy * h * h * s;
    }
  }
  PetscCall(DMDAVecRestoreArray(daP, b, &rhs));
  PetscCall(DMDAVecRestoreArrayRead(daP, psiloc, &psi));
  PetscCall(DMRestoreLocalVector(daP, &psiloc));
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatNullSpaceCreate(comm, PETSC_TRUE, 0, NULL, &nullsp));
  PetscCall(MatSetNullSpace(A, nullsp));
  {
    PetscReal sum, norm;
    PetscCall(VecSum(b, &sum));
    PetscCall(VecNorm(b, NORM_1, &norm));
    PetscCall(PetscInfo(daP, "pressure Poisson: compatibility defect %g of |b|_1 = %g, removed\n", (double) sum,
                        (double) norm));
  }
  PetscCall(MatNullSpaceRemove(nullsp, b));

  PetscCall(KSPCreate(comm, &ksp));
  PetscCall(KSPSetOptionsPrefix(ksp, "cavity_pressure_"));
  PetscCall(KSPSetOperators(ksp, A, A));
  PetscCall(KSPSetType(ksp, KSPCG));
  {
    PC pc;
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PCSetType(pc, PCGAMG));
  }
  /* Tight enough that the iteration error stays far below the discretization error and the result is the same
     for any rank count up to ~1e-9 relative (tested). */
  PetscCall(KSPSetTolerances(ksp, 1e-12, PETSC_DEFAULT, PETSC_DEFAULT, 2000));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(VecSet(P, 0));
  PetscCall(KSPSolve(ksp, b, P));
  PetscCall(KSPGetConvergedReason(ksp, &reason));
  PetscCheck(reason > 0, comm, PETSC_ERR_NOT_CONVERGED,
             "cavity pressure solve did not converge (%s); see -cavity_pressure_ksp_*", KSPConvergedReasons[reason]);
  PetscCall(KSPDestroy(&ksp));
  PetscCall(MatNullSpaceDestroy(&nullsp));
  PetscCall(VecDestroy(&b));
  PetscCall(MatDestroy(&A));
  PetscCall(PetscLogEventEnd(KD_CavityPressure, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Fills the cell-centred fields (natural index j n + i) from the nodal psi and p of daP. Each rank writes the cells
   whose lower-left node it owns; VecAssembly moves them to their owners. */
static PetscErrorCode KDCavityNodesToCells(DM daP, Vec Psi, Vec Pn, Vec U, Vec V, Vec P)
{
  DMDALocalInfo info;
  Vec psiloc, ploc;
  PetscScalar **psi, **pn;
  PetscInt n, ncell, k = 0, *idx;
  PetscReal h, *uv, *vv, *pv, psum;

  PetscFunctionBegin;
  PetscCall(DMDAGetLocalInfo(daP, &info));
  n     = info.mx - 1;
  h     = 1.0 / n;
  ncell = (PetscMin(info.xs + info.xm, n) - info.xs) * (PetscMin(info.ys + info.ym, n) - info.ys);
  ncell = PetscMax(ncell, 0);
  PetscCall(PetscMalloc4(ncell, &idx, ncell, &uv, ncell, &vv, ncell, &pv));
  PetscCall(DMGetLocalVector(daP, &psiloc));
  PetscCall(DMGetLocalVector(daP, &ploc));
  PetscCall(DMGlobalToLocal(daP, Psi, INSERT_VALUES, psiloc));
  PetscCall(DMGlobalToLocal(daP, Pn, INSERT_VALUES, ploc));
  PetscCall(DMDAVecGetArrayRead(daP, psiloc, &psi));
  PetscCall(DMDAVecGetArrayRead(daP, ploc, &pn));
  for (PetscInt j = info.ys; j < PetscMin(info.ys + info.ym, n); j++) {
    for (PetscInt i = info.xs; i < PetscMin(info.xs + info.xm, n); i++) {
      idx[k] = j * n + i;
      uv[k]  = (psi[j + 1][i] + psi[j + 1][i + 1] - psi[j][i] - psi[j][i + 1]) / (2 * h);
      vv[k]  = -(psi[j][i + 1] + psi[j + 1][i + 1] - psi[j][i] - psi[j + 1][i]) / (2 * h);
      pv[k]  = 0.25 * (pn[j][i] + pn[j][i + 1] + pn[j + 1][i] + pn[j + 1][i + 1]);
      k++;
    }
  }
  PetscCall(DMDAVecRestoreArrayRead(daP, ploc, &pn));
  PetscCall(DMDAVecRestoreArrayRead(daP, psiloc, &psi));
  PetscCall(DMRestoreLocalVector(daP, &ploc));
  PetscCall(DMRestoreLocalVector(daP, &psiloc));
  PetscCall(VecSetValues(U, ncell, idx, uv, INSERT_VALUES));
  PetscCall(VecSetValues(V, ncell, idx, vv, INSERT_VALUES));
  PetscCall(VecSetValues(P, ncell, idx, pv, INSERT_VALUES));
  PetscCall(PetscFree4(idx, uv, vv, pv));
  PetscCall(VecAssemblyBegin(U));
  PetscCall(VecAssemblyBegin(V));
  PetscCall(VecAssemblyBegin(P));
  PetscCall(VecAssemblyEnd(U));
  PetscCall(VecAssemblyEnd(V));
  PetscCall(VecAssemblyEnd(P));
  /* The pressure is defined up to a constant: the one of zero mean over the cells. */
  PetscCall(VecSum(P, &psum));
  PetscCall(VecShift(P, -psum / ((PetscReal) n * n)));
  PetscFunctionReturn(0);
}

/* Gathers the vorticity of the four walls on every rank: wallomega[side * (n + 1) + k]. */
static PetscErrorCode KDCavityGatherWallVorticity(DM da, Vec X, PetscReal *wallomega)
{
  MPI_Comm comm;
  DMDALocalInfo info;
  KDCavityNode **x;
  PetscInt n;

  PetscFunctionBegin;
  PetscCall(PetscObjectGetComm((PetscObject) da, &comm));
  PetscCall(DMDAGetLocalInfo(da, &info));
  n = info.mx - 1;
  PetscCall(PetscArrayzero(wallomega, 4 * (n + 1)));
  PetscCall(DMDAVecGetArrayRead(da, X, &x));
  for (PetscInt j = info.ys; j < info.ys + info.ym; j++) {
    for (PetscInt i = info.xs; i < info.xs + info.xm; i++) {
      if (j == 0) wallomega[KD_CAVITY_BOTTOM * (n + 1) + i] = x[j][i].omega;
      if (j == n) wallomega[KD_CAVITY_TOP * (n + 1) + i] = x[j][i].omega;
      if (i == 0) wallomega[KD_CAVITY_LEFT * (n + 1) + j] = x[j][i].omega;
      if (i == n) wallomega[KD_CAVITY_RIGHT * (n + 1) + j] = x[j][i].omega;
    }
  }
  PetscCall(DMDAVecRestoreArrayRead(da, X, &x));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, wallomega, (PetscMPIInt) (4 * (n + 1)), MPIU_REAL, MPIU_SUM, comm));
  PetscFunctionReturn(0);
}

/*
  KDCavitySolveCells - Solves the cavity problem of opt and fills u, v, p at the cell centres.

  Collective

  Input Parameters:
+ comm - communicator of the solve
- opt  - options (KDCavityOptionsSetFromOptions())

  Output Parameters:
. U, V, P - vectors of global size n^2 on comm (any parallel layout), natural index j n + i of the cell centre
            ((i + 1/2)/n, (j + 1/2)/n); p has zero mean

  Options Database Keys:
+ -cavity_snes_*            - the Newton solver (default: Newton with line search, Jacobian by finite differences
                              with DMDA coloring, LU (MUMPS when available) for the linear systems)
. -cavity_snes_grid_sequence <k> - solve on n/2^k cells first and refine k times (n must be divisible by 2^k)
- -cavity_pressure_ksp_*    - the pressure Poisson solve (default CG + GAMG)
*/
PetscErrorCode KDCavitySolveCells(MPI_Comm comm, const KDCavityOptions *opt, Vec U, Vec V, Vec P)
{
  KDCavityCtx ctx;
  DM da, daf, daP;
  SNES snes;
  KSP ksp;
  PC pc;
  Vec X, Psi, Pn;
  PetscInt gridseq = 0, nc, N, nsteps, mx, mp, np;
  const PetscInt *lx, *ly;
  PetscReal *wallomega, re0;
  PetscLogDouble t0, t1;
  SNESConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(KDCavityInitializePackage());
  PetscCall(VecGetSize(U, &N));
  PetscCheck(N == opt->n * opt->n, comm, PETSC_ERR_ARG_SIZ,
             "cavity output vector has %" PetscInt_FMT " entries, expected -cavity_n^2 = %" PetscInt_FMT, N,
             opt->n * opt->n);
  PetscCall(PetscOptionsGetInt(NULL, "cavity_", "-snes_grid_sequence", &gridseq, NULL));
  PetscCheck(gridseq >= 0 && gridseq < 20, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-cavity_snes_grid_sequence %" PetscInt_FMT " out of range", gridseq);
  nc = opt->n >> gridseq;
  PetscCheck(nc << gridseq == opt->n && nc >= 4, comm, PETSC_ERR_ARG_INCOMP,
             "-cavity_n %" PetscInt_FMT
             " must be divisible by 2^k with n/2^k >= 4 for -cavity_snes_grid_sequence %" PetscInt_FMT,
             opt->n, gridseq);
  PetscCall(PetscTime(&t0));

  ctx.re   = opt->re;
  ctx.mms  = opt->mms;
  ctx.wall = opt->wall;
  /* Jensen's wall formula reaches two nodes inward: stencil width 2 in the normal direction. */
  PetscCall(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, nc + 1, nc + 1, PETSC_DECIDE,
                         PETSC_DECIDE, 2, opt->wall == KD_CAVITY_WALL_JENSEN ? 2 : 1, NULL, NULL, &da));
  PetscCall(DMSetUp(da));
  PetscCall(DMDASetFieldName(da, 0, "psi"));
  PetscCall(DMDASetFieldName(da, 1, "omega"));
  PetscCall(DMDASetUniformCoordinates(da, 0, 1, 0, 1, 0, 0));
  PetscCall(DMDASNESSetFunctionLocal(
      da, INSERT_VALUES, (PetscErrorCode(*)(DMDALocalInfo *, void *, void *, void *)) KDCavityFormFunctionLocal, &ctx));

  PetscCall(SNESCreate(comm, &snes));
  PetscCall(SNESSetOptionsPrefix(snes, "cavity_"));
  PetscCall(SNESSetDM(snes, da));
  /* Residual rows are O(1); Newton with a direct solve converges quadratically, so a tight tolerance costs one
     iteration and makes the result independent of the rank count to ~1e-10. */
  PetscCall(SNESSetTolerances(snes, 1e-10, 1e-10, PETSC_DEFAULT, 50, PETSC_DEFAULT));
  /* Full Newton steps: the l2 norm of the residual is a poor merit function here (the first step from rest, the
     Stokes flow, raises the convective residual a hundredfold at Re = 100 although Newton then converges in a few
     steps), and a backtracking line search stalls on it. Larger Re is reached by continuation instead. */
  {
    SNESLineSearch ls;
    PetscCall(SNESGetLineSearch(snes, &ls));
    PetscCall(SNESLineSearchSetType(ls, SNESLINESEARCHBASIC));
  }
  PetscCall(SNESGetKSP(snes, &ksp));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCLU));
#if defined(PETSC_HAVE_MUMPS)
  PetscCall(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
#endif
  if (opt->monitor) PetscCall(SNESMonitorSet(snes, KDCavityMonitor, &ctx, NULL));
  PetscCall(SNESSetFromOptions(snes));

  /* Continuation in Re: geometric steps of at most re_factor from re_start; Newton from rest converges up to
     Re ~ 100-200 at any grid size, and from the neighbouring solution well beyond. */
  re0    = PetscMin(opt->re_start, opt->re);
  nsteps = (PetscInt) PetscCeilReal(PetscLogReal(opt->re / re0) / PetscLogReal(opt->re_factor) - 1e-12);
  nsteps = PetscMax(nsteps, 0);
  PetscCall(DMCreateGlobalVector(da, &X));
  PetscCall(VecSet(X, 0));
  for (PetscInt k = 0; k <= nsteps; k++) {
    PetscInt its, lits;
    Vec sol;

    ctx.re = nsteps ? re0 * PetscPowReal(opt->re / re0, (PetscReal) k / nsteps) : opt->re;
    if (k == nsteps) ctx.re = opt->re;
    PetscCall(KDSignalCheck(comm, "cavity solve"));
    PetscCall(SNESSolve(snes, NULL, X));
    PetscCall(SNESGetConvergedReason(snes, &reason));
    PetscCheck(reason > 0, comm, PETSC_ERR_NOT_CONVERGED,
               "cavity: Newton did not converge at Re %.6g (%s); use smaller steps (-cavity_re_factor) or "
               "-cavity_snes_grid_sequence",
               (double) ctx.re, SNESConvergedReasons[reason]);
    if (opt->monitor) {
      PetscCall(SNESGetIterationNumber(snes, &its));
      PetscCall(SNESGetLinearSolveIterations(snes, &lits));
      PetscCall(PetscTime(&t1));
      PetscCall(PetscPrintf(
          comm, "cavity: Re %.6g solved: %" PetscInt_FMT " Newton, %" PetscInt_FMT " linear iterations, %.2f s\n",
          (double) ctx.re, its, lits, (double) (t1 - t0)));
    }
    /* Grid sequencing replaces the DM and the solution by the finest ones; later steps stay on the finest grid. */
    PetscCall(SNESGetSolution(snes, &sol));
    if (sol != X) {
      PetscCall(PetscObjectReference((PetscObject) sol));
      PetscCall(VecDestroy(&X));
      X = sol;
    }
    PetscCall(SNESSetGridSequence(snes, 0));
  }
  PetscCall(SNESGetDM(snes, &daf));
  PetscCall(DMDAGetInfo(daf, NULL, &mx, NULL, NULL, &mp, &np, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCheck(mx == opt->n + 1, comm, PETSC_ERR_PLIB,
             "cavity: final grid has %" PetscInt_FMT " nodes per side, expected %" PetscInt_FMT, mx, opt->n + 1);

  /* Post-processing DM: the same nodes and ownership, one dof, box stencil of width 2 (the pressure source takes
     differences of C = (u . grad) u, itself a 9-point difference of psi). */
  PetscCall(DMDAGetOwnershipRanges(daf, &lx, &ly, NULL));
  PetscCall(
      DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_BOX, mx, mx, mp, np, 1, 2, lx, ly, &daP));
  PetscCall(DMSetUp(daP));
  PetscCall(DMCreateGlobalVector(daP, &Psi));
  PetscCall(DMCreateGlobalVector(daP, &Pn));
  PetscCall(VecStrideGather(X, 0, Psi, INSERT_VALUES));
  PetscCall(PetscMalloc1(4 * mx, &wallomega));
  PetscCall(KDCavityGatherWallVorticity(daf, X, wallomega));
  ctx.re = opt->re;
  PetscCall(KDCavitySolvePressure(daP, Psi, wallomega, &ctx, Pn));
  PetscCall(KDCavityNodesToCells(daP, Psi, Pn, U, V, P));
  if (opt->monitor) {
    PetscCall(PetscTime(&t1));
    PetscCall(PetscPrintf(comm, "cavity: Re %.6g, %" PetscInt_FMT "x%" PetscInt_FMT " cells%s: done in %.2f s\n",
                          (double) opt->re, opt->n, opt->n, opt->mms ? " (manufactured)" : "", (double) (t1 - t0)));
  }
  PetscCall(PetscFree(wallomega));
  PetscCall(VecDestroy(&Pn));
  PetscCall(VecDestroy(&Psi));
  PetscCall(DMDestroy(&daP));
  PetscCall(VecDestroy(&X));
  PetscCall(SNESDestroy(&snes));
  PetscCall(DMDestroy(&da));
  PetscFunctionReturn(0);
}

/*@C
  KDSolveCavity - Solves the steady lid-driven cavity flow and hands u, v, p at the cell centres of the unit square
  to a reference (pde "cavity", parameter Re, axes "y,x").

  Collective

  Input Parameter:
. ref - the reference to fill

  Options Database Keys:
+ -cavity_re <100>       - Reynolds number, positive
. -cavity_n <128>        - cells per side; divisible by 2^(kd_levels - 1)
. -cavity_wall <thom>    - wall vorticity formula: thom or jensen
. -cavity_re_start, -cavity_re_factor - continuation in Re
. -cavity_mms            - manufactured-solution mode
. -cavity_snes_*, -cavity_pressure_ksp_* - the nonlinear and the pressure solvers
- -kd_monitor            - solver progress

  Notes:
  Streamfunction-vorticity on the nodes, Newton; pressure from its Poisson equation; see solvers/cavity.c and
  docs/solvers.md.

.seealso: KDSolveBurgers(), KDSolveHeat(), KDReferenceAddField()
@*/
PetscErrorCode KDSolveCavity(KDPDE pde, KDReference ref)
{
  MPI_Comm comm;
  KDCavityOptions opt;
  KDCommonOptions common;
  Vec U, V, P;
  PetscInt n[2];
  PetscBool help;
  const PetscReal lo[2] = {0, 0}, hi[2] = {1, 1};

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDCavityOptionsSetFromOptions(comm, &opt));
  PetscCall(KDHelpRequested(&help));
  if (help) PetscFunctionReturn(0); /* -help: the options are listed, nothing is solved */
  PetscCall(KDPDEGetParameter(pde, "Re", &opt.re));
  PetscCheck(opt.re > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-cavity_re must be positive, got %.6g", (double) opt.re);
  PetscCall(KDGetCommonOptions(comm, &common));
  PetscCheck(opt.n % (1 << (common.levels - 1)) == 0, comm, PETSC_ERR_ARG_INCOMP,
             "-cavity_n %" PetscInt_FMT " must be divisible by 2^(kd_levels - 1) = %d", opt.n,
             1 << (common.levels - 1));
  PetscCall(KDReferenceApplyGridDivisor(ref, "-cavity_n", &opt.n));
  n[0] = n[1] = opt.n;
  PetscCall(KDReferenceSetParameter(ref, "manufactured", opt.mms ? 1.0 : 0.0));
  PetscCall(KDReferenceSetGrid(ref, 2, "y,x", n, lo, hi));
  PetscCall(KDReferenceCreateLevelVec(ref, 0, &U));
  PetscCall(VecDuplicate(U, &V));
  PetscCall(VecDuplicate(U, &P));
  PetscCall(KDCavitySolveCells(comm, &opt, U, V, P));
  PetscCall(KDReferenceAddField(ref, "u", U));
  PetscCall(KDReferenceAddField(ref, "v", V));
  PetscCall(KDReferenceAddField(ref, "p", P));
  PetscCall(VecDestroy(&U));
  PetscCall(VecDestroy(&V));
  PetscCall(VecDestroy(&P));
  PetscFunctionReturn(0);
}
