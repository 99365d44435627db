/*
  Fisher-KPP reference solver: tumour growth in grey and white matter,

      u_t = div(D k(x,y) grad u) + rho u (1 - u) + f(t,x,y)  on (0, tfinal] x [0,1]^2,   du/dn = 0 on the walls,

  (k = 1 in grey matter, white_ratio in white matter; f = 0 except in the tests' manufactured mode), u(0) the
  Gaussian seed (src/pde/fisher.h).

  Discretization: n x n cells of width h on a 2-D DMDA, values at the cell centres, the five-point flux differences
  D k_f (u_neighbour - u) / h^2 with k_f the harmonic mean of the two cells' k (exact across a sharp interface on a
  grid line, second order for a smooth one) and zero flux through the walls. In time an additive Runge-Kutta IMEX
  scheme (PETSc TSARKIMEX, prefix -fisher_, default 2e: second order, L-stable implicit part): diffusion implicit (it
  is the stiff part: its eigenvalues reach 8 D / h^2), reaction and source explicit (their rate is rho). Fixed steps
  land on every snapshot time t_k = (k + 1/2) tfinal / nt, the cell centres of the reference's time axis.

  Each implicit stage solves (s I - A) x = b. The operator is applied matrix-free with a fixed order of operations
  per cell and the solve is Chebyshev iteration with Jacobi preconditioning for a fixed number of iterations between
  Gershgorin bounds of the spectrum: no dot product, no norm and no partition-dependent sum decides anything, so the
  solution is the same bit for bit on any number of ranks.
*/
#include "kdsolverimpl.h"

static PetscLogEvent KD_FisherOperator;

static PetscErrorCode KDFisherRegisterEvents(void)
{
  static PetscBool registered = PETSC_FALSE;

  PetscFunctionBegin;
  if (registered) PetscFunctionReturn(0);
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDFisherOperator", KD_CLASSID, &KD_FisherOperator));
  registered = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/*
  KDFisherOptionsSetFromOptions - Discretization options of the Fisher-KPP solver.

  Options Database Keys:
+ -fisher_n <n>    - cells per axis (default: 256)
. -fisher_nt <nt>  - stored snapshots (default: 32)
. -fisher_dt <dt>  - largest time step (default: tfinal / (4 nt))
. -fisher_cell_n <n> - cells per axis of the tissue's periodic cell problem (default: 256)
. -fisher_view     - print the problem
- -kd_monitor      - progress lines
*/
PetscErrorCode KDFisherOptionsSetFromOptions(MPI_Comm comm, KDFisherOptions *opt)
{
  PetscFunctionBegin;
  opt->n       = 256;
  opt->nt      = 32;
  opt->dt      = 0;
  opt->celln   = 256;
  opt->view    = PETSC_FALSE;
  opt->monitor = PETSC_FALSE;
  PetscOptionsBegin(comm, NULL, "Fisher-KPP solver", NULL);
  PetscCall(KDOptionsInt("-fisher_n", "Cells per axis of the n x n grid", NULL, opt->n, &opt->n, NULL));
  PetscCall(
      KDOptionsInt("-fisher_nt", "Stored snapshots, at t_k = (k + 1/2) tfinal / nt", NULL, opt->nt, &opt->nt, NULL));
  PetscCall(KDOptionsReal("-fisher_dt", "Largest time step (0: tfinal / (4 nt))", NULL, opt->dt, &opt->dt, NULL));
  PetscCall(KDOptionsInt("-fisher_cell_n", "Cells per axis of the tissue's periodic cell problem (D_eff)", NULL,
                         opt->celln, &opt->celln, NULL));
  PetscCall(PetscOptionsBool("-fisher_view", "Print the Fisher-KPP problem", NULL, opt->view, &opt->view, NULL));
  PetscCall(PetscOptionsBool("-kd_monitor", "Print progress", NULL, opt->monitor, &opt->monitor, NULL));
  PetscOptionsEnd();
  PetscCheck(opt->n >= 2 && opt->n <= 65536, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_n must be in [2, 65536], got %" PetscInt_FMT, opt->n);
  PetscCheck(opt->nt >= 1 && opt->nt <= 100000, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_nt must be in [1, 100000], got %" PetscInt_FMT, opt->nt);
  PetscCheck(opt->dt >= 0 && (opt->dt == 0 || PetscIsNormalReal(opt->dt)), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_dt must be positive (or 0 for the default), got %g", (double) opt->dt);
  PetscCheck(opt->celln >= 4 && opt->celln <= 65536, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_cell_n must be in [4, 65536], got %" PetscInt_FMT, opt->celln);
  PetscFunctionReturn(0);
}

typedef struct {
  const KDFisherProblem *prob;
  DM da;
  Vec local; /* ghosted work vector of the operator */
  PetscInt n;
  PetscReal h;
  PetscReal *face;  /* D k_f / h^2 of the west, east, south, north faces of each local cell (0 on a wall) */
  PetscReal rowmax; /* the largest sum of a cell's four face coefficients, over all ranks */
  PetscReal shift;  /* s of the stage operator s I - A, from the last IJacobian */
  /* snapshot bookkeeping for the monitor */
  KDFisherSolution *sol;
  PetscInt nextsnap, nmonitor;
  PetscReal dt;
  PetscBool monitor;
} KDFisherContext;

/* The face coefficients of the local cells, from k at their centres and their neighbours' (every rank evaluates k
   itself: the same numbers on any partition). */
static PetscErrorCode KDFisherSetUpFaces(KDFisherContext *ctx)
{
  const PetscInt n  = ctx->n;
  const PetscReal h = ctx->h, c = ctx->prob->param[KD_FISHER_D] / (h * h), a = ctx->prob->param[KD_FISHER_WHITE_RATIO];
  PetscInt xs, ys, xm, ym;
  PetscReal rowmax = 0;

  PetscFunctionBegin;
  PetscCall(DMDAGetCorners(ctx->da, &xs, &ys, NULL, &xm, &ym, NULL));
  PetscCall(PetscMalloc1(4 * xm * ym, &ctx->face));
  for (PetscInt j = ys; j < ys + ym; j++)
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscInt ni[4] = {i - 1, i + 1, i, i}, nj[4] = {j, j, j - 1, j + 1};
      PetscReal *f = ctx->face + 4 * ((j - ys) * xm + (i - xs)), chi, k, sum = 0;

      KDFisherProblemTissue(ctx->prob, (i + 0.5) * h, (j + 0.5) * h, &chi, NULL);
      k = 1 + (a - 1) * chi;
      for (PetscInt q = 0; q < 4; q++) {
        PetscReal kn;
        if (ni[q] < 0 || ni[q] >= n || nj[q] < 0 || nj[q] >= n) {
          f[q] = 0;
          continue;
        }
        KDFisherProblemTissue(ctx->prob, (ni[q] + 0.5) * h, (nj[q] + 0.5) * h, &chi, NULL);
        kn   = 1 + (a - 1) * chi;
        f[q] = c * 2 * k * kn / (k + kn);
        sum += f[q];
      }
      rowmax = PetscMax(rowmax, sum);
    }
  PetscCallMPI(MPI_Allreduce(&rowmax, &ctx->rowmax, 1, MPIU_REAL, MPI_MAX, PetscObjectComm((PetscObject) ctx->da)));
  PetscFunctionReturn(0);
}

/* y = s x - A x (s = 0: y = -A x), A the five-point diffusion with zero flux through the walls; the same operations
   in the same order for every cell whatever the partition. */
static PetscErrorCode KDFisherApply(KDFisherContext *ctx, PetscReal s, Vec X, Vec Y)
{
  const PetscInt n = ctx->n;
  PetscInt xs, ys, xm, ym;
  const PetscScalar **x;
  PetscScalar **y;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_FisherOperator, 0, 0, 0, 0));
  PetscCall(DMGlobalToLocalBegin(ctx->da, X, INSERT_VALUES, ctx->local));
  PetscCall(DMGlobalToLocalEnd(ctx->da, X, INSERT_VALUES, ctx->local));
  PetscCall(DMDAGetCorners(ctx->da, &xs, &ys, NULL, &xm, &ym, NULL));
  PetscCall(DMDAVecGetArrayRead(ctx->da, ctx->local, &x));
  PetscCall(DMDAVecGetArray(ctx->da, Y, &y));
  for (PetscInt j = ys; j < ys + ym; j++) {
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscReal *f  = ctx->face + 4 * ((j - ys) * xm + (i - xs));
      const PetscScalar u = x[j][i];
      PetscScalar d       = 0;
      if (i > 0) d += f[0] * (x[j][i - 1] - u);
      if (i < n - 1) d += f[1] * (x[j][i + 1] - u);
      if (j > 0) d += f[2] * (x[j - 1][i] - u);
      if (j < n - 1) d += f[3] * (x[j + 1][i] - u);
      y[j][i] = s * u - d;
    }
  }
  PetscCall(DMDAVecRestoreArrayRead(ctx->da, ctx->local, &x));
  PetscCall(DMDAVecRestoreArray(ctx->da, Y, &y));
  PetscCall(PetscLogFlops(13.0 * xm * ym));
  PetscCall(PetscLogEventEnd(KD_FisherOperator, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDFisherJacobianMult(Mat J, Vec X, Vec Y)
{
  KDFisherContext *ctx;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(J, &ctx));
  PetscCall(KDFisherApply(ctx, ctx->shift, X, Y));
  PetscFunctionReturn(0);
}

/* The diagonal s + (sum of the cell's face coefficients), for the Jacobi preconditioner. */
static PetscErrorCode KDFisherJacobianDiagonal(Mat J, Vec Dg)
{
  KDFisherContext *ctx;
  PetscInt xs, ys, xm, ym;
  PetscScalar **d;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(J, &ctx));
  PetscCall(DMDAGetCorners(ctx->da, &xs, &ys, NULL, &xm, &ym, NULL));
  PetscCall(DMDAVecGetArray(ctx->da, Dg, &d));
  for (PetscInt j = ys; j < ys + ym; j++)
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscReal *f = ctx->face + 4 * ((j - ys) * xm + (i - xs));
      d[j][i]            = ctx->shift + (f[0] + f[1] + f[2] + f[3]);
    }
  PetscCall(DMDAVecRestoreArray(ctx->da, Dg, &d));
  PetscFunctionReturn(0);
}

/* F(t, u, u') = u' - A u: the implicit (diffusion) part */
static PetscErrorCode KDFisherIFunction(TS ts, PetscReal t, Vec U, Vec Udot, Vec F, void *vctx)
{
  PetscFunctionBegin;
  PetscCall(KDFisherApply((KDFisherContext *) vctx, 0, U, F));
  PetscCall(VecAXPY(F, 1.0, Udot));
  PetscFunctionReturn(0);
}

/*
  J = s I - A. Row i of A has the off-diagonal sum m_i (the cell's face coefficients) and the diagonal -m_i, so with
  Jacobi scaling Gershgorin's discs of diag(J)^-1 J have centre 1 and radius m_i / (s + m_i) <= m / (s + m), m the
  largest m_i: its (real) spectrum lies in [s / (s + m), (s + 2 m) / (s + m)]. Chebyshev iteration between these
  bounds reduces the error by r = (sqrt(k) - 1) / (sqrt(k) + 1) per iteration, k the ratio of the bounds. Enough
  iterations for 1e-14.
*/
static PetscErrorCode KDFisherIJacobian(TS ts, PetscReal t, Vec U, Vec Udot, PetscReal s, Mat J, Mat P, void *vctx)
{
  KDFisherContext *ctx = (KDFisherContext *) vctx;
  const PetscReal m = ctx->rowmax, emin = s / (s + m), emax = (s + 2 * m) / (s + m), kappa = emax / emin;
  const PetscReal rate = (PetscSqrtReal(kappa) - 1) / (PetscSqrtReal(kappa) + 1);
  PetscInt its;
  SNES snes;
  KSP ksp;

  PetscFunctionBegin;
  ctx->shift = s;
  /* a new state of the shell matrix: PCSetUp takes Jacobi's diagonal again (it keeps it while the operator's state is
     unchanged, and the shift changes with the step size or another integrator) */
  PetscCall(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
  its = rate > 0 ? (PetscInt) PetscCeilReal(PetscLogReal(1e-14 / 2) / PetscLogReal(rate)) : 1;
  PetscCall(TSGetSNES(ts, &snes));
  PetscCall(SNESGetKSP(snes, &ksp));
  PetscCall(KSPChebyshevSetEigenvalues(ksp, emax, emin));
  PetscCall(KSPSetTolerances(ksp, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, PetscMax(its, 1)));
  PetscFunctionReturn(0);
}

/* G(t, u) = rho u (1 - u) + f(t): the explicit (reaction) part */
static PetscErrorCode KDFisherRHSFunction(TS ts, PetscReal t, Vec U, Vec G, void *vctx)
{
  KDFisherContext *ctx = (KDFisherContext *) vctx;
  const PetscReal rho = ctx->prob->param[KD_FISHER_RHO], h = ctx->h;
  PetscInt xs, ys, xm, ym;
  const PetscScalar **u;
  PetscScalar **g;

  PetscFunctionBegin;
  PetscCall(DMDAGetCorners(ctx->da, &xs, &ys, NULL, &xm, &ym, NULL));
  PetscCall(DMDAVecGetArrayRead(ctx->da, U, &u));
  PetscCall(DMDAVecGetArray(ctx->da, G, &g));
  for (PetscInt j = ys; j < ys + ym; j++)
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscScalar v = u[j][i];
      g[j][i]             = rho * v * (1 - v);
      if (ctx->prob->manufactured) g[j][i] += KDFisherProblemSource(ctx->prob, t, (i + 0.5) * h, (j + 0.5) * h);
    }
  PetscCall(DMDAVecRestoreArrayRead(ctx->da, U, &u));
  PetscCall(DMDAVecRestoreArray(ctx->da, G, &g));
  PetscFunctionReturn(0);
}

/* Stores the snapshot whose time the step landed on, and in manufactured mode its error. */
static PetscErrorCode KDFisherMonitor(TS ts, PetscInt step, PetscReal t, Vec U, void *vctx)
{
  KDFisherContext *ctx  = (KDFisherContext *) vctx;
  KDFisherSolution *sol = ctx->sol;
  const PetscReal h     = ctx->h;
  PetscReal tk, errsq = 0, errmax = 0, umin = PETSC_MAX_REAL, umax = PETSC_MIN_REAL, bad = 0;
  PetscInt k = ctx->nextsnap;
  const PetscScalar **u;

  PetscFunctionBegin;
  if (k >= sol->nt) PetscFunctionReturn(0);
  tk = (k + 0.5) * ctx->prob->tfinal / sol->nt;
  if (PetscAbsReal(t - tk) > 1e-6 * ctx->dt) {
    PetscCheck(t < tk, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "the time steps missed snapshot time %g (step to %g): keep the default fixed steps "
               "(-fisher_ts_adapt_type none)",
               (double) tk, (double) t);
    PetscFunctionReturn(0);
  }
  PetscCall(KDSignalCheck(PetscObjectComm((PetscObject) ts), "fisher solve")); /* at each snapshot, on every rank */
  PetscCall(DMDAVecGetArrayRead(ctx->da, U, &u));
  for (PetscInt j = sol->ys; j < sol->ys + sol->ym; j++) {
    for (PetscInt i = sol->xs; i < sol->xs + sol->xm; i++) {
      const PetscReal v                                               = u[j][i];
      sol->u[(k * sol->ym + (j - sol->ys)) * sol->xm + (i - sol->xs)] = v;
      umin                                                            = PetscMin(umin, v);
      umax                                                            = PetscMax(umax, v);
      if (PetscIsInfOrNanReal(v)) bad = 1; /* PetscMax() passes NaN over */
      if (ctx->prob->manufactured) {
        const PetscReal e = v - KDFisherExact(tk, (i + 0.5) * h, (j + 0.5) * h);
        errsq += e * e;
        errmax = PetscMax(errmax, PetscAbsReal(e));
      }
    }
  }
  PetscCall(DMDAVecRestoreArrayRead(ctx->da, U, &u));
  {
    PetscReal in[4] = {errsq, -umin, umax, bad}, out[4];
    PetscCallMPI(MPI_Allreduce(&in[0], &out[0], 1, MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject) ts)));
    PetscCallMPI(MPI_Allreduce(&in[1], &out[1], 3, MPIU_REAL, MPI_MAX, PetscObjectComm((PetscObject) ts)));
    errsq = out[0];
    umin  = -out[1];
    umax  = out[2];
    bad   = out[3];
  }
  PetscCheck(!bad && (PetscIsNormalReal(umax) || umax == 0), PetscObjectComm((PetscObject) ts), PETSC_ERR_NOT_CONVERGED,
             "the fisher solve diverged at t = %g (u not finite): reduce -fisher_dt", (double) t);
  sol->errl2  = PetscMax(sol->errl2, PetscSqrtReal(errsq * h * h));
  sol->errmax = PetscMax(sol->errmax, errmax);
  sol->umin   = PetscMin(sol->umin, umin);
  sol->umax   = PetscMax(sol->umax, umax);
  ctx->nextsnap++;
  if (ctx->monitor && (ctx->nextsnap % ctx->nmonitor == 0 || ctx->nextsnap == sol->nt)) {
    PetscReal mass;
    PetscCall(VecSum(U, &mass));
    PetscCall(PetscPrintf(PetscObjectComm((PetscObject) ts),
                          "fisher: snapshot %" PetscInt_FMT "/%" PetscInt_FMT
                          " t = %.4g, u in [%.4g, %.4g], mass %.6g\n",
                          ctx->nextsnap, sol->nt, (double) t, (double) umin, (double) umax, (double) (mass * h * h)));
  }
  PetscFunctionReturn(0);
}

/*
  KDFisherSolveGrid - Solves the Fisher-KPP problem on an n x n grid and keeps every snapshot of this rank's block of
  cells; in manufactured mode also the error against the exact solution.

  Collective

  TS options take the prefix -fisher_ (-fisher_ts_arkimex_type, ...). Defaults: TSARKIMEX 2e with fixed steps; each
  implicit stage by Chebyshev iteration with Jacobi preconditioning for a fixed number of iterations (to 1e-14), so
  that the result does not depend on the number of ranks.
*/
PetscErrorCode KDFisherSolveGrid(MPI_Comm comm, const KDFisherProblem *prob, const KDFisherOptions *opt,
                                 KDFisherSolution *sol)
{
  KDFisherContext ctx;
  TS ts;
  TSAdapt adapt;
  SNES snes;
  KSP ksp;
  PC pc;
  Mat J;
  Vec U;
  PetscInt xs, ys, xm, ym, mloc;
  PetscScalar **u;
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(KDFisherRegisterEvents());
  PetscCall(KDFisherProblemCheck(comm, prob));
  PetscCall(PetscTime(&t0));
  PetscCall(PetscMemzero(sol, sizeof(*sol)));
  PetscCall(PetscMemzero(&ctx, sizeof(ctx)));
  ctx.prob     = prob;
  ctx.n        = opt->n;
  ctx.h        = 1.0 / opt->n;
  ctx.sol      = sol;
  ctx.monitor  = opt->monitor;
  ctx.nmonitor = PetscMax(1, opt->nt / 8);
  KDSnapshotSteps(prob->tfinal, opt->nt, opt->dt, &ctx.dt, &sol->nsteps);
  sol->n    = opt->n;
  sol->nt   = opt->nt;
  sol->dt   = ctx.dt;
  sol->umin = PETSC_MAX_REAL;
  sol->umax = PETSC_MIN_REAL;

  /* no DMSetFromOptions: the grid is set by -fisher_n only, so that the reference grid is what the options say */
  PetscCall(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, opt->n, opt->n, PETSC_DECIDE,
                         PETSC_DECIDE, 1, 1, NULL, NULL, &ctx.da));
  PetscCall(DMSetUp(ctx.da));
  PetscCall(DMDASetUniformCoordinates(ctx.da, 0.5 * ctx.h, 1 - 0.5 * ctx.h, 0.5 * ctx.h, 1 - 0.5 * ctx.h, 0, 0));
  PetscCall(DMDAGetCorners(ctx.da, &xs, &ys, NULL, &xm, &ym, NULL));
  sol->xs = xs;
  sol->ys = ys;
  sol->xm = xm;
  sol->ym = ym;
  PetscCall(PetscMalloc1(opt->nt * xm * ym, &sol->u));
  PetscCall(DMCreateLocalVector(ctx.da, &ctx.local));
  PetscCall(KDFisherSetUpFaces(&ctx));

  mloc = xm * ym;
  PetscCall(MatCreateShell(comm, mloc, mloc, opt->n * opt->n, opt->n * opt->n, &ctx, &J));
  PetscCall(MatShellSetOperation(J, MATOP_MULT, (void (*)(void)) KDFisherJacobianMult));
  PetscCall(MatShellSetOperation(J, MATOP_GET_DIAGONAL, (void (*)(void)) KDFisherJacobianDiagonal));

  PetscCall(DMCreateGlobalVector(ctx.da, &U));
  PetscCall(DMDAVecGetArray(ctx.da, U, &u));
  for (PetscInt j = ys; j < ys + ym; j++)
    for (PetscInt i = xs; i < xs + xm; i++)
      u[j][i] = KDFisherProblemInitial(prob, (i + 0.5) * ctx.h, (j + 0.5) * ctx.h);
  PetscCall(DMDAVecRestoreArray(ctx.da, U, &u));

  PetscCall(TSCreate(comm, &ts));
  PetscCall(TSSetOptionsPrefix(ts, "fisher_"));
  PetscCall(TSSetDM(ts, ctx.da));
  PetscCall(TSSetType(ts, TSARKIMEX));
  PetscCall(TSARKIMEXSetType(ts, TSARKIMEX2E));
  PetscCall(TSSetIFunction(ts, NULL, KDFisherIFunction, &ctx));
  PetscCall(TSSetIJacobian(ts, J, J, KDFisherIJacobian, &ctx));
  PetscCall(TSSetRHSFunction(ts, NULL, KDFisherRHSFunction, &ctx));
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(TSAdaptSetType(adapt, TSADAPTNONE));
  PetscCall(TSSetTime(ts, 0));
  PetscCall(TSSetTimeStep(ts, ctx.dt));
  PetscCall(TSSetMaxSteps(ts, sol->nsteps));
  PetscCall(TSSetMaxTime(ts, (opt->nt - 0.5) * prob->tfinal / opt->nt));
  PetscCall(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
  /* the implicit part is linear: one linear solve per stage, no Newton iteration and no norm */
  PetscCall(TSGetSNES(ts, &snes));
  PetscCall(SNESSetType(snes, SNESKSPONLY));
  PetscCall(SNESGetKSP(snes, &ksp));
  PetscCall(KSPSetType(ksp, KSPCHEBYSHEV));
  PetscCall(KSPSetNormType(ksp, KSP_NORM_NONE));
  PetscCall(KSPSetConvergenceTest(ksp, KSPConvergedSkip, NULL, NULL));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCJACOBI));
  PetscCall(TSMonitorSet(ts, KDFisherMonitor, &ctx, NULL));
  PetscCall(TSSetFromOptions(ts));
  if (opt->view) {
    const PetscReal *p = prob->param;
    PetscCall(
        PetscPrintf(comm,
                    "Fisher-KPP u_t = D lap u + rho u (1 - u) on [0,1]^2, t in [0, %g]: D = %g, rho = %g; seed %g "
                    "exp(-|(x,y) - (%g, %g)|^2 / (2 %g^2))%s\n",
                    (double) prob->tfinal, (double) p[KD_FISHER_D], (double) p[KD_FISHER_RHO],
                    (double) p[KD_FISHER_SEED_AMP], (double) p[KD_FISHER_SEED_X], (double) p[KD_FISHER_SEED_Y],
                    (double) p[KD_FISHER_SEED_WIDTH], prob->manufactured ? " (manufactured solution)" : ""));
    if (prob->heterogeneous) {
      PetscCall(
          PetscPrintf(comm, "white matter (k = %g there, 1 in grey matter): ", (double) p[KD_FISHER_WHITE_RATIO]));
      PetscCall(KDCompositeView(&prob->tissue, PETSC_VIEWER_STDOUT_(comm)));
    }
  }
  if (opt->monitor)
    PetscCall(PetscPrintf(comm,
                          "fisher: %" PetscInt_FMT " x %" PetscInt_FMT " cells, %" PetscInt_FMT
                          " snapshots to t = %g, %" PetscInt_FMT " steps of %g\n",
                          opt->n, opt->n, opt->nt, (double) prob->tfinal, sol->nsteps, (double) ctx.dt));
  PetscCall(TSSolve(ts, U));
  PetscCheck(ctx.nextsnap == opt->nt, comm, PETSC_ERR_PLIB,
             "only %" PetscInt_FMT " of %" PetscInt_FMT
             " snapshots reached: keep the default fixed steps (-fisher_ts_adapt_type none, no -fisher_ts_max_time)",
             ctx.nextsnap, opt->nt);
  PetscCall(TSGetKSPIterations(ts, &sol->kspits));

  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &sol->errmax, 1, MPIU_REAL, MPIU_MAX, comm));
  PetscCall(PetscTime(&t1));
  sol->seconds = t1 - t0;
  if (opt->monitor)
    PetscCall(PetscPrintf(comm, "fisher: solved in %.3g s, %" PetscInt_FMT " Chebyshev iterations (%.1f per step)\n",
                          sol->seconds, sol->kspits, (double) sol->kspits / (double) sol->nsteps));

  PetscCall(TSDestroy(&ts));
  PetscCall(VecDestroy(&U));
  PetscCall(MatDestroy(&J));
  PetscCall(VecDestroy(&ctx.local));
  PetscCall(PetscFree(ctx.face));
  PetscCall(DMDestroy(&ctx.da));
  PetscFunctionReturn(0);
}

/* Frees the snapshots of a KDFisherSolveGrid() solution. */
PetscErrorCode KDFisherSolutionDestroy(KDFisherSolution *sol)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(sol->u));
  PetscFunctionReturn(0);
}

/*@C
  KDSolveFisher - Solves the problem of a fisher PDE (KDPDEFisherGetProblem()) and hands its solution to a reference:
  the grid "t,y,x" of nt x n x n cells on [0, tfinal] x [0,1] x [0,1], and the density u at the cell centres
  (i + 1/2)/n, (j + 1/2)/n and the snapshot times (k + 1/2) tfinal / nt.

  Collective

  Options Database Keys (the problem's are the PDE's: -fisher_D, -fisher_rho, -fisher_tfinal, -fisher_seed_*):
+ -fisher_n <n>    - cells per axis (default: 256)
. -fisher_nt <nt>  - stored snapshots (default: 32)
. -fisher_dt <dt>  - largest time step (default: tfinal / (4 nt)); shrunk so that the steps land on every snapshot
. -fisher_cell_n <n> - heterogeneous tissue: cells per axis of the periodic cell problem (default 256)
. -fisher_view     - print the problem
. -fisher_ts_arkimex_type, ... - the IMEX integrator (default 2e, fixed steps)
- -kd_monitor      - progress lines

.seealso: KDFisherSolveGrid(), KDFisherProblemInitial()
@*/
PetscErrorCode KDSolveFisher(KDPDE pde, KDReference ref)
{
  MPI_Comm comm;
  const KDFisherProblem *prob;
  KDFisherOptions opt;
  KDFisherSolution sol;
  PetscInt n[3];
  PetscReal lo[3] = {0, 0, 0}, hi[3];
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDHelpRequested(&help));
  if (help) { /* list the options, solve nothing */
    PetscCall(KDFisherOptionsSetFromOptions(comm, &opt));
    PetscFunctionReturn(0);
  }
  PetscCall(KDPDEFisherGetProblem(pde, &prob));
  PetscCall(KDFisherOptionsSetFromOptions(comm, &opt));
  PetscCall(KDReferenceApplyGridDivisor(ref, "-fisher_n", &opt.n));
  PetscCall(KDReferenceApplyGridDivisor(ref, "-fisher_nt", &opt.nt));
  /* whole periods of the tissue on the grid: interfaces of a laminate or an image on grid lines */
  if (prob->heterogeneous) PetscCall(KDCompositeCheckGrid(comm, &prob->tissue, opt.n, "-fisher_n"));
  PetscCall(KDFisherSolveGrid(comm, prob, &opt, &sol));

  n[0]  = opt.nt;
  n[1]  = opt.n;
  n[2]  = opt.n;
  hi[0] = prob->tfinal;
  hi[1] = 1;
  hi[2] = 1;
  PetscCall(KDReferenceSetGrid(ref, 3, "t,y,x", n, lo, hi));
  PetscCall(KDReferenceAddBlockField(ref, "u", sol.n, sol.n, sol.nt, sol.xs, sol.ys, sol.xm, sol.ym, sol.u));
  PetscCall(KDFisherSolutionDestroy(&sol));
  if (!prob->heterogeneous) { /* the effective diffusivity of homogeneous tissue is D itself */
    PetscCall(KDReferenceSetParameter(ref, "Dxx", prob->param[KD_FISHER_D]));
    PetscCall(KDReferenceSetParameter(ref, "Dyy", prob->param[KD_FISHER_D]));
  } else {
    /* the effective diffusivity D K_eff of the tissue (k = 1 grey, white_ratio white) from its periodic cell problem:
       what the homogenized coarse students' learned diag(Dxx, Dyy) is reported against (src/pde/fisher.c). Every rank
       solves it alone, the same sequential computation: the file is bit for bit the same at any rank count (a
       parallel Krylov solve stops at a partition-dependent iterate). */
    const PetscReal D = prob->param[KD_FISHER_D];
    PetscReal K[4], Deff[4], asym;
    PetscCall(KDSignalCheck(comm, "fisher solve")); /* a stop requested during the solve, before the cell problem */
    PetscCall(KDConductionCellProblem(PETSC_COMM_SELF, &prob->tissue, opt.celln, K, &asym));
    for (PetscInt e = 0; e < 4; e++) Deff[e] = D * K[e];
    PetscCall(KDReferenceSetArray(ref, "D_eff", 4, Deff));
    PetscCall(KDReferenceSetParameter(ref, "Dxx", Deff[0]));
    PetscCall(KDReferenceSetParameter(ref, "Dyy", Deff[3]));
    PetscCall(PetscPrintf(comm,
                          "fisher: D_eff = D K_eff (cell problem, %" PetscInt_FMT
                          "^2 cells) = [[%.10g, %.10g], [%.10g, "
                          "%.10g]]\n",
                          opt.celln, (double) Deff[0], (double) Deff[1], (double) Deff[2], (double) Deff[3]));
  }
  PetscFunctionReturn(0);
}
