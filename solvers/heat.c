/*
  Heat reference solver: transient conduction through an inclusion microstructure,

      u_t = div(k(x,y) grad u) + f(t,x,y)  on (0, tfinal] x [0,1]^2,   u = g on the boundary,   u(0) = u0,

  with k(x,y) = k0 (1 + sum_i c_i exp(-|(x,y) - (x_i,y_i)|^2 / r_i^2)) from a microstructure description (meshes/).

  Discretization: n x n cells of width h on a 2-D DMDA, values at the cell centres, the flux through a face
  k(face) (u_right - u_left) / h with k evaluated exactly at the face centre (second order), Dirichlet data through
  a ghost value 2 g - u on the far side of a boundary face. The result is the linear system u' = A u + b(t), with A
  assembled once; it is integrated by a PETSc TS (prefix -heat_, default BDF2 with fixed steps) whose step sequence
  lands on every snapshot time t_k = (k + 1/2) tfinal / nt, the cell centres of the time axis of the reference.
*/
#include "kdsolverimpl.h"

static PetscLogEvent KD_HeatRHS, KD_HeatJacobian;

static PetscErrorCode KDHeatRegisterEvents(void)
{
  static PetscBool registered = PETSC_FALSE;

  PetscFunctionBegin;
  if (registered) PetscFunctionReturn(0);
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDHeatRHS", KD_CLASSID, &KD_HeatRHS));
  PetscCall(PetscLogEventRegister("KDHeatJacobian", KD_CLASSID, &KD_HeatJacobian));
  registered = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------------------------
   The solver
   --------------------------------------------------------------------------------------------------------------- */

/*
  KDHeatOptionsSetFromOptions - Discretization options of the heat solver.

  Options Database Keys:
+ -heat_n <n>    - cells per axis (default: 128)
. -heat_nt <nt>  - stored snapshots (default: 64)
. -heat_dt <dt>  - largest time step (default: tfinal / (4 nt), two steps from a snapshot to the next midpoint)
. -heat_view     - print the problem
- -kd_monitor    - progress lines
*/
PetscErrorCode KDHeatOptionsSetFromOptions(MPI_Comm comm, KDHeatOptions *opt)
{
  PetscFunctionBegin;
  opt->n       = 128;
  opt->nt      = 64;
  opt->dt      = 0;
  opt->view    = PETSC_FALSE;
  opt->monitor = PETSC_FALSE;
  PetscOptionsBegin(comm, NULL, "Heat solver", NULL);
  PetscCall(KDOptionsInt("-heat_n", "Cells per axis of the n x n grid", NULL, opt->n, &opt->n, NULL));
  PetscCall(
      KDOptionsInt("-heat_nt", "Stored snapshots, at t_k = (k + 1/2) tfinal / nt", NULL, opt->nt, &opt->nt, NULL));
  PetscCall(KDOptionsReal("-heat_dt", "Largest time step (0: tfinal / (4 nt))", NULL, opt->dt, &opt->dt, NULL));
  PetscCall(PetscOptionsBool("-heat_view", "Print the heat problem", NULL, opt->view, &opt->view, NULL));
  PetscCall(PetscOptionsBool("-kd_monitor", "Print progress", NULL, opt->monitor, &opt->monitor, NULL));
  PetscOptionsEnd();
  PetscCheck(opt->n >= 2 && opt->n <= 65536, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-heat_n must be in [2, 65536], got %" PetscInt_FMT, opt->n);
  PetscCheck(opt->nt >= 1 && opt->nt <= 100000, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-heat_nt must be in [1, 100000], got %" PetscInt_FMT, opt->nt);
  PetscCheck(opt->dt >= 0 && (opt->dt == 0 || PetscIsNormalReal(opt->dt)), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-heat_dt must be positive (or 0 for the default), got %g", (double) opt->dt);
  PetscFunctionReturn(0);
}

typedef struct {
  const KDHeatProblem *prob;
  DM da;
  Mat A; /* the operator div(k grad .) with the Dirichlet ghosts folded in; never shifted */
  PetscInt n;
  PetscReal h;
  /* snapshot bookkeeping for the monitor */
  KDHeatSolution *sol;
  PetscInt nextsnap, nmonitor;
  PetscReal dt;
  PetscBool monitor;
} KDHeatContext;

/* Assembles A: five-point flux differences, k exact at face centres, ghost u = 2 g - u across boundary faces (the
   g part goes to b(t)). Also checks k > 0 at every face, which the per-inclusion check c > -1 does not guarantee
   when inclusions of negative contrast overlap. */
static PetscErrorCode KDHeatAssemble(KDHeatContext *ctx)
{
  const PetscInt n  = ctx->n;
  const PetscReal h = ctx->h, ih2 = 1 / (h * h);
  PetscReal kmin = PETSC_MAX_REAL, kminall;
  PetscInt xs, ys, xm, ym;
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_HeatJacobian, 0, 0, 0, 0));
  PetscCall(PetscObjectGetComm((PetscObject) ctx->da, &comm));
  PetscCall(DMDAGetCorners(ctx->da, &xs, &ys, NULL, &xm, &ym, NULL));
  for (PetscInt j = ys; j < ys + ym; j++) {
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscReal x = (i + 0.5) * h, y = (j + 0.5) * h;
      /* faces west, east, south, north: centre and neighbour */
      const PetscReal fx[4] = {x - 0.5 * h, x + 0.5 * h, x, x}, fy[4] = {y, y, y - 0.5 * h, y + 0.5 * h};
      const PetscInt ni[4] = {i - 1, i + 1, i, i}, nj[4] = {j, j, j - 1, j + 1};
      MatStencil row = {0}, col[5];
      PetscScalar v[5];
      PetscInt nc    = 1;
      PetscReal diag = 0;

      row.i = i;
      row.j = j;
      for (PetscInt q = 0; q < 4; q++) {
        PetscReal kf;
        KDMicrostructureEvaluate(&ctx->prob->ms, fx[q], fy[q], &kf, NULL);
        kmin = PetscMin(kmin, kf);
        if (ni[q] < 0 || ni[q] >= n || nj[q] < 0 || nj[q] >= n)
          diag -= 2 * kf * ih2;
        else {
          col[nc].i = ni[q];
          col[nc].j = nj[q];
          col[nc].k = 0;
          col[nc].c = 0;
          v[nc++]   = kf * ih2;
          diag -= kf * ih2;
        }
      }
      col[0] = row;
      v[0]   = diag;
      PetscCall(MatSetValuesStencil(ctx->A, 1, &row, nc, col, v, INSERT_VALUES));
    }
  }
  PetscCall(MatAssemblyBegin(ctx->A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(ctx->A, MAT_FINAL_ASSEMBLY));
  PetscCall(MPIU_Allreduce(&kmin, &kminall, 1, MPIU_REAL, MPIU_MIN, comm));
  PetscCheck(kminall > 0, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "conductivity of -heat_microstructure is not positive on the grid (min %g): overlapping inclusions of "
             "negative contrast",
             (double) kminall);
  PetscCall(PetscLogEventEnd(KD_HeatJacobian, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* F(t, u) = A u + b(t), b = f at the cell centres + 2 k g / h^2 from each boundary face of the cell. */
static PetscErrorCode KDHeatRHSFunction(TS ts, PetscReal t, Vec U, Vec F, void *vctx)
{
  KDHeatContext *ctx = (KDHeatContext *) vctx;
  const PetscInt n   = ctx->n;
  const PetscReal h = ctx->h, ih2 = 1 / (h * h);
  PetscInt xs, ys, xm, ym;
  PetscScalar **b;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_HeatRHS, 0, 0, 0, 0));
  PetscCall(DMDAGetCorners(ctx->da, &xs, &ys, NULL, &xm, &ym, NULL));
  PetscCall(DMDAVecGetArray(ctx->da, F, &b));
  for (PetscInt j = ys; j < ys + ym; j++) {
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscReal x = (i + 0.5) * h, y = (j + 0.5) * h;
      PetscReal k, f, kf;

      KDHeatProblemCoefficients(ctx->prob, t, x, y, &k, NULL, &f);
      if (i == 0) {
        KDMicrostructureEvaluate(&ctx->prob->ms, 0, y, &kf, NULL);
        f += 2 * kf * ih2 * KDHeatProblemBoundary(ctx->prob, t, 0, y);
      }
      if (i == n - 1) {
        KDMicrostructureEvaluate(&ctx->prob->ms, 1, y, &kf, NULL);
        f += 2 * kf * ih2 * KDHeatProblemBoundary(ctx->prob, t, 1, y);
      }
      if (j == 0) {
        KDMicrostructureEvaluate(&ctx->prob->ms, x, 0, &kf, NULL);
        f += 2 * kf * ih2 * KDHeatProblemBoundary(ctx->prob, t, x, 0);
      }
      if (j == n - 1) {
        KDMicrostructureEvaluate(&ctx->prob->ms, x, 1, &kf, NULL);
        f += 2 * kf * ih2 * KDHeatProblemBoundary(ctx->prob, t, x, 1);
      }
      b[j][i] = f;
    }
  }
  PetscCall(DMDAVecRestoreArray(ctx->da, F, &b));
  PetscCall(MatMultAdd(ctx->A, U, F, F));
  PetscCall(PetscLogEventEnd(KD_HeatRHS, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Stores the snapshot whose time the step landed on, and its error against KDHeatProblemBoundary(). */
static PetscErrorCode KDHeatMonitor(TS ts, PetscInt step, PetscReal t, Vec U, void *vctx)
{
  KDHeatContext *ctx  = (KDHeatContext *) vctx;
  KDHeatSolution *sol = ctx->sol;
  const PetscReal h   = ctx->h;
  PetscReal tk, errsq = 0, errmax = 0;
  PetscInt k = ctx->nextsnap;
  PetscScalar **u;

  PetscFunctionBegin;
  if (k >= sol->nt) PetscFunctionReturn(0);
  tk = (k + 0.5) * ctx->prob->tfinal / sol->nt;
  if (PetscAbsReal(t - tk) > 1e-6 * ctx->dt) {
    PetscCheck(
        t < tk, PETSC_COMM_SELF, PETSC_ERR_PLIB,
        "the time steps missed snapshot time %g (step to %g): keep the default fixed steps (-heat_ts_adapt_type none)",
        (double) tk, (double) t);
    PetscFunctionReturn(0);
  }
  PetscCall(KDSignalCheck(PetscObjectComm((PetscObject) ts), "heat solve")); /* at each snapshot, on every rank */
  PetscCall(DMDAVecGetArrayRead(ctx->da, U, &u));
  for (PetscInt j = sol->ys; j < sol->ys + sol->ym; j++) {
    for (PetscInt i = sol->xs; i < sol->xs + sol->xm; i++) {
      const PetscReal e = u[j][i] - KDHeatProblemBoundary(ctx->prob, tk, (i + 0.5) * h, (j + 0.5) * h);
      sol->u[(k * sol->ym + (j - sol->ys)) * sol->xm + (i - sol->xs)] = u[j][i];
      errsq += e * e;
      errmax = PetscMax(errmax, PetscAbsReal(e));
    }
  }
  PetscCall(DMDAVecRestoreArrayRead(ctx->da, U, &u));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &errsq, 1, MPIU_REAL, MPIU_SUM, PetscObjectComm((PetscObject) ts)));
  sol->errl2  = PetscMax(sol->errl2, PetscSqrtReal(errsq * h * h));
  sol->errmax = PetscMax(sol->errmax, errmax);
  ctx->nextsnap++;
  if (ctx->monitor && (ctx->nextsnap % ctx->nmonitor == 0 || ctx->nextsnap == sol->nt)) {
    PetscReal umax;
    PetscInt its;
    PetscCall(VecNorm(U, NORM_INFINITY, &umax));
    PetscCall(TSGetKSPIterations(ts, &its));
    PetscCall(PetscPrintf(PetscObjectComm((PetscObject) ts),
                          "heat: snapshot %" PetscInt_FMT "/%" PetscInt_FMT " t = %.4g, max |u| = %.4g, %" PetscInt_FMT
                          " linear iterations so far\n",
                          ctx->nextsnap, sol->nt, (double) t, (double) umax, its));
  }
  PetscFunctionReturn(0);
}

/*
  KDHeatSolveGrid - Solves the heat problem on an n x n grid and keeps every snapshot of this rank's block of cells,
  with the error against KDHeatProblemBoundary() (the exact solution in manufactured mode).

  Collective

  TS options take the prefix -heat_ (-heat_ts_type, -heat_ksp_type, -heat_pc_type, ...). Defaults: TSBDF of order 2
  with fixed steps, CG with relative tolerance 1e-10, PETSc's default preconditioner (ILU, block Jacobi/ILU in
  parallel; both symmetric for this M-matrix).
*/
PetscErrorCode KDHeatSolveGrid(MPI_Comm comm, const KDHeatProblem *prob, const KDHeatOptions *opt, KDHeatSolution *sol)
{
  KDHeatContext ctx;
  TS ts;
  TSAdapt adapt;
  SNES snes;
  KSP ksp;
  Mat J;
  Vec U;
  PetscInt xs, ys, xm, ym;
  PetscScalar **u;
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(KDHeatRegisterEvents());
  PetscCall(PetscTime(&t0));
  PetscCall(PetscMemzero(sol, sizeof(*sol)));
  PetscCall(PetscMemzero(&ctx, sizeof(ctx)));
  ctx.prob     = prob;
  ctx.n        = opt->n;
  ctx.h        = 1.0 / opt->n;
  ctx.sol      = sol;
  ctx.monitor  = opt->monitor;
  ctx.nmonitor = PetscMax(1, opt->nt / 8);
  /* dt = 0: two steps per half snapshot interval (at one, the fast transients that the inclusions excite in the first
     snapshots carry a time error of ~2e-3 (max), above the space error of the default grid), from the snapshots of
     this grid: a coarser solve of an extrapolation is coarser in time too */
  KDSnapshotSteps(prob->tfinal, opt->nt, opt->dt, &ctx.dt, &sol->nsteps);
  sol->n  = opt->n;
  sol->nt = opt->nt;
  sol->dt = ctx.dt;

  /* no DMSetFromOptions: the grid is set by -heat_n only, so that the reference grid is what the options say */
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

  PetscCall(DMCreateMatrix(ctx.da, &ctx.A));
  PetscCall(KDHeatAssemble(&ctx));
  /* the TS shifts and scales its Jacobian in place, so it gets a copy and A stays the operator of F */
  PetscCall(MatDuplicate(ctx.A, MAT_COPY_VALUES, &J));

  PetscCall(DMCreateGlobalVector(ctx.da, &U));
  PetscCall(DMDAVecGetArray(ctx.da, U, &u));
  for (PetscInt j = ys; j < ys + ym; j++)
    for (PetscInt i = xs; i < xs + xm; i++)
      u[j][i] = KDHeatProblemBoundary(prob, 0, (i + 0.5) * ctx.h, (j + 0.5) * ctx.h);
  PetscCall(DMDAVecRestoreArray(ctx.da, U, &u));

  PetscCall(TSCreate(comm, &ts));
  PetscCall(TSSetOptionsPrefix(ts, "heat_"));
  PetscCall(TSSetDM(ts, ctx.da));
  PetscCall(TSSetProblemType(ts, TS_LINEAR));
  PetscCall(TSSetRHSFunction(ts, NULL, KDHeatRHSFunction, &ctx));
  PetscCall(TSSetRHSJacobian(ts, J, J, TSComputeRHSJacobianConstant, NULL));
  PetscCall(TSSetType(ts, TSBDF));
  PetscCall(TSBDFSetOrder(ts, 2));
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(TSAdaptSetType(adapt, TSADAPTNONE));
  PetscCall(TSSetTime(ts, 0));
  PetscCall(TSSetTimeStep(ts, ctx.dt));
  PetscCall(TSSetMaxSteps(ts, sol->nsteps));
  PetscCall(TSSetMaxTime(ts, (opt->nt - 0.5) * prob->tfinal / opt->nt));
  PetscCall(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSGetSNES(ts, &snes));
  PetscCall(SNESGetKSP(snes, &ksp));
  /* shift I - A is symmetric positive definite (A symmetric: one k per face), so CG */
  PetscCall(KSPSetType(ksp, KSPCG));
  /* the reference must be far more accurate than any network trained on it: solve each step to round-off level */
  PetscCall(KSPSetTolerances(ksp, 1e-10, 1e-50, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(TSMonitorSet(ts, KDHeatMonitor, &ctx, NULL));
  PetscCall(TSSetFromOptions(ts));
  if (opt->view) PetscCall(KDHeatProblemView(prob, PETSC_VIEWER_STDOUT_(comm)));
  if (opt->monitor)
    PetscCall(PetscPrintf(comm,
                          "heat: %" PetscInt_FMT " x %" PetscInt_FMT " cells, %" PetscInt_FMT
                          " snapshots to t = %g, %" PetscInt_FMT " steps of %g%s\n",
                          opt->n, opt->n, opt->nt, (double) prob->tfinal, sol->nsteps, (double) ctx.dt,
                          prob->manufactured ? ", manufactured solution" : ""));
  PetscCall(TSSolve(ts, U));
  PetscCheck(ctx.nextsnap == opt->nt, comm, PETSC_ERR_PLIB,
             "only %" PetscInt_FMT " of %" PetscInt_FMT
             " snapshots reached: keep the default fixed steps (-heat_ts_adapt_type none, no -heat_ts_max_time)",
             ctx.nextsnap, opt->nt);
  PetscCall(TSGetKSPIterations(ts, &sol->kspits));

  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &sol->errmax, 1, MPIU_REAL, MPIU_MAX, comm));
  PetscCall(PetscTime(&t1));
  sol->seconds = t1 - t0;
  if (opt->monitor)
    PetscCall(PetscPrintf(comm, "heat: solved in %.3g s, %" PetscInt_FMT " linear iterations (%.1f per step)\n",
                          sol->seconds, sol->kspits, (double) sol->kspits / (double) sol->nsteps));

  PetscCall(TSDestroy(&ts));
  PetscCall(VecDestroy(&U));
  PetscCall(MatDestroy(&J));
  PetscCall(MatDestroy(&ctx.A));
  PetscCall(DMDestroy(&ctx.da));
  PetscFunctionReturn(0);
}

/* Frees the snapshots of a KDHeatSolveGrid() solution. */
PetscErrorCode KDHeatSolutionDestroy(KDHeatSolution *sol)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(sol->u));
  PetscFunctionReturn(0);
}

/*@C
  KDSolveHeat - Solves the heat problem of a heat PDE (KDPDEHeatGetProblem()) and hands its solution to a reference:
  the manufactured mode's errors (parameters mms_error_max, mms_error_l2), the grid "t,y,x" of nt x n x n cells on
  [0, tfinal] x [0,1] x [0,1], and the field u at the cell centres (i + 1/2)/n, (j + 1/2)/n and the snapshot times
  (k + 1/2) tfinal / nt.

  Collective

  Options Database Keys (the problem's are the PDE's, KDHeatProblemSetFromOptions()):
+ -heat_n <n>    - cells per axis (default: 128)
. -heat_nt <nt>  - stored snapshots (default: 64)
. -heat_dt <dt>  - largest time step (default: tfinal / (4 nt)); shrunk so that the steps land on every snapshot
. -heat_view     - print the problem
. -heat_ts_type, -heat_ksp_type, -heat_pc_type, ... - the time integrator (default BDF2, fixed steps) and its
                   linear solver (default CG, rtol 1e-10, ILU or block Jacobi/ILU)
- -kd_monitor    - progress lines

.seealso: KDHeatProblemFromReference(), KDHeatProblemCoefficients()
@*/
PetscErrorCode KDSolveHeat(KDPDE pde, KDReference ref)
{
  MPI_Comm comm;
  const KDHeatProblem *prob;
  KDHeatOptions opt;
  KDHeatSolution sol;
  PetscInt n[3];
  PetscReal lo[3] = {0, 0, 0}, hi[3];
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDHelpRequested(&help));
  if (help) { /* list the options, solve nothing: the problem (its microstructure file) is not read under -help */
    PetscCall(KDHeatOptionsSetFromOptions(comm, &opt));
    PetscFunctionReturn(0);
  }
  PetscCall(KDPDEHeatGetProblem(pde, &prob));
  PetscCall(KDHeatOptionsSetFromOptions(comm, &opt));
  PetscCall(KDReferenceApplyGridDivisor(ref, "-heat_n", &opt.n));
  PetscCall(KDReferenceApplyGridDivisor(ref, "-heat_nt", &opt.nt));
  PetscCall(KDHeatSolveGrid(comm, prob, &opt, &sol));

  if (prob->manufactured) {
    PetscCall(KDReferenceSetParameter(ref, "mms_error_max", sol.errmax));
    PetscCall(KDReferenceSetParameter(ref, "mms_error_l2", sol.errl2));
  }
  n[0]  = opt.nt;
  n[1]  = opt.n;
  n[2]  = opt.n;
  hi[0] = prob->tfinal;
  hi[1] = 1;
  hi[2] = 1;
  PetscCall(KDReferenceSetGrid(ref, 3, "t,y,x", n, lo, hi));
  PetscCall(KDReferenceAddBlockField(ref, "u", sol.n, sol.n, sol.nt, sol.xs, sol.ys, sol.xm, sol.ym, sol.u));
  PetscCall(KDHeatSolutionDestroy(&sol));
  PetscFunctionReturn(0);
}
