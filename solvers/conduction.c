/*
  Composite conduction reference solver: steady conduction through a two-phase periodic microstructure,

      -div(k(x,y) grad u) = f  on [0,1]^2,   u = g on the boundary,

  with k = k1 + (k2 - k1) chi(x / eps, y / eps) from src/pde/composite.c, and the effective (homogenized) conductivity
  of the microstructure from its periodic cell problem.

  Discretization: n x n cell-centred finite volumes on a 2-D DMDA, k at the cell centres, the flux through a face
  k_f (u_R - u_L) / h with k_f the harmonic mean of the two cells (the exact flux of a 1-D layer across a grid-aligned
  interface), Dirichlet data through the ghost value 2 g - u with the boundary face's k the cell's. CG with algebraic
  multigrid (BoomerAMG, or GAMG without hypre) to a relative residual of 1e-10.

  Cell problem: on the unit period cell, a periodic n x n grid, -div(k (e_j + grad chi_j)) = 0 for j = x, y with the
  same harmonic faces, singular (the constants) and solved by CG + the same multigrid on the complement of the
  constants. Then

      K_ij = < (e_i + grad chi_i) . k (e_j + grad chi_j) >     (energy form, summed over the faces)

  which is symmetric and positive semi-definite by construction; the flux form < e_i . k (e_j + grad chi_j) > agrees
  with it when the cell problem is solved exactly, and their difference checks the solve.
*/
#include "kdsolverimpl.h"

static PetscLogEvent KD_ConductionAssemble, KD_ConductionSolve, KD_ConductionCell;

static PetscErrorCode KDConductionRegisterEvents(void)
{
  static PetscBool registered = PETSC_FALSE;

  PetscFunctionBegin;
  if (registered) PetscFunctionReturn(0);
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDConductionAsm", KD_CLASSID, &KD_ConductionAssemble));
  PetscCall(PetscLogEventRegister("KDConductionSolve", KD_CLASSID, &KD_ConductionSolve));
  PetscCall(PetscLogEventRegister("KDConductionCell", KD_CLASSID, &KD_ConductionCell));
  registered = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* The conductivity of a face between two cells: the harmonic mean, the exact flux coefficient of two half cells in
   series. Equal cells give their own k exactly. */
static inline PetscReal KDHarmonic(PetscReal a, PetscReal b)
{
  return a == b ? a : 2 * a * b / (a + b);
}

/*
  KDConductionOptionsSetFromOptions - Discretization options of the conduction solver.

  Options Database Keys:
+ -conduction_n <n>       - cells per axis of the macroscopic grid (default: 1024)
. -conduction_cell_n <n>  - cells per axis of the periodic cell problem (default: 256)
. -conduction_view        - print the microstructure
- -kd_monitor             - progress lines and the bounds of K_eff
*/
PetscErrorCode KDConductionOptionsSetFromOptions(MPI_Comm comm, KDConductionOptions *opt)
{
  PetscFunctionBegin;
  opt->n       = 1024;
  opt->celln   = 256;
  opt->view    = PETSC_FALSE;
  opt->monitor = PETSC_FALSE;
  PetscOptionsBegin(comm, NULL, "Composite conduction solver", NULL);
  PetscCall(KDOptionsInt("-conduction_n", "Cells per axis of the n x n grid (eps n an integer)", "KDSolveConduction",
                         opt->n, &opt->n, NULL));
  PetscCall(KDOptionsInt("-conduction_cell_n", "Cells per axis of the periodic cell problem (K_eff)",
                         "KDConductionCellProblem", opt->celln, &opt->celln, NULL));
  PetscCall(PetscOptionsBool("-conduction_view", "Print the microstructure", "KDSolveConduction", opt->view, &opt->view,
                             NULL));
  PetscCall(PetscOptionsBool("-kd_monitor", "Print progress", NULL, opt->monitor, &opt->monitor, NULL));
  PetscOptionsEnd();
  PetscCheck(opt->n >= 2 && opt->n <= 65536, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-conduction_n must be in [2, 65536], got %" PetscInt_FMT, opt->n);
  PetscCheck(opt->celln >= 4 && opt->celln <= 65536, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-conduction_cell_n must be in [4, 65536], got %" PetscInt_FMT, opt->celln);
  PetscFunctionReturn(0);
}

/* k at the centres of the cells [xs - 1, xs + xm] x [ys - 1, ys + ym] (the block and one ghost ring), kc[(j - ys + 1)
   (xm + 2) + i - xs + 1]; periodic wraps the ghosts around the unit cell, otherwise they are evaluated outside the
   domain and never used. unit: the cell problem (k of the unit cell, coordinates in cell units). */
static PetscErrorCode KDConductionCentres(const KDComposite *ms, PetscInt n, PetscInt xs, PetscInt ys, PetscInt xm,
                                          PetscInt ym, PetscBool unit, PetscReal **kc)
{
  const PetscReal h = 1.0 / n;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1((xm + 2) * (ym + 2), kc));
  for (PetscInt j = ys - 1; j <= ys + ym; j++)
    for (PetscInt i = xs - 1; i <= xs + xm; i++) {
      const PetscReal x = (i + 0.5) * h, y = (j + 0.5) * h;
      PetscReal k;
      if (unit) {
        PetscReal chi, g[2];
        KDCompositeCellIndicator(ms, x, y, &chi, g);
        k = ms->k1 + (ms->k2 - ms->k1) * chi;
      } else
        KDCompositeEvaluate(ms, x, y, &k, NULL);
      (*kc)[(j - ys + 1) * (xm + 2) + (i - xs + 1)] = k;
    }
  PetscFunctionReturn(0);
}

/* The five-point operator sum_f k_f (u_c - u_f) / h^2 with harmonic faces. Dirichlet (not periodic): a boundary face
   adds 2 k_c / h^2 to the diagonal (ghost 2 g - u); periodic: every face has a neighbour (indices wrap). */
static PetscErrorCode KDConductionAssemble(DM da, const PetscReal *kc, PetscBool periodic, Mat A)
{
  PetscInt n, xs, ys, xm, ym;
  PetscReal h, ih2;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_ConductionAssemble, 0, 0, 0, 0));
  PetscCall(DMDAGetInfo(da, NULL, &n, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetCorners(da, &xs, &ys, NULL, &xm, &ym, NULL));
  h   = 1.0 / n;
  ih2 = 1 / (h * h);
  for (PetscInt j = ys; j < ys + ym; j++)
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscInt c     = (j - ys + 1) * (xm + 2) + (i - xs + 1);
      const PetscInt di[4] = {-1, 1, 0, 0}, dj[4] = {0, 0, -1, 1}, dc[4] = {-1, 1, -(xm + 2), xm + 2};
      MatStencil row = {0}, col[5];
      PetscScalar v[5];
      PetscInt nc    = 1;
      PetscReal diag = 0;

      row.i = i;
      row.j = j;
      for (PetscInt q = 0; q < 4; q++) {
        const PetscInt ni = i + di[q], nj = j + dj[q];
        if (!periodic && (ni < 0 || ni >= n || nj < 0 || nj >= n))
          diag += 2 * kc[c] * ih2;
        else {
          const PetscReal kf = KDHarmonic(kc[c], kc[c + dc[q]]);
          col[nc].i          = ni; /* a periodic DMDA wraps stencil indices itself */
          col[nc].j          = nj;
          col[nc].k          = 0;
          col[nc].c          = 0;
          v[nc++]            = -kf * ih2;
          diag += kf * ih2;
        }
      }
      col[0] = row;
      v[0]   = diag;
      PetscCall(MatSetValuesStencil(A, 1, &row, nc, col, v, INSERT_VALUES));
    }
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscLogEventEnd(KD_ConductionAssemble, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* CG + algebraic multigrid, the defaults of both solves; options may change anything. BoomerAMG (hypre) where PETSc
   has it: on 1024^2 cells at 2 ranks it needed 13 iterations and about half the time of GAMG (26 iterations, a setup
   twice as long) and of PCMG on the DMDA hierarchy (piecewise-constant interpolation, Galerkin: 67 V-cycle or 24
   W-cycle iterations); on the cell problems of 512^2 cells it needs 11 iterations, GAMG 22-29 (docs/solvers.md). */
static PetscErrorCode KDConductionCreateKSP(DM da, Mat A, Mat P, const char prefix[], PetscReal rtol, KSP *ksp)
{
  PC pc;

  PetscFunctionBegin;
  PetscCall(KSPCreate(PetscObjectComm((PetscObject) da), ksp));
  /* the grid hierarchy for -<prefix>pc_type mg (piecewise-constant interpolation of the cell-centred grid, Galerkin
     coarse operators); the operator itself is assembled here, not by the DM */
  PetscCall(DMDASetInterpolationType(da, DMDA_Q0));
  PetscCall(KSPSetDM(*ksp, da));
  PetscCall(KSPSetDMActive(*ksp, PETSC_FALSE));
  PetscCall(KSPSetOptionsPrefix(*ksp, prefix));
  PetscCall(KSPSetOperators(*ksp, A, P));
  PetscCall(KSPSetType(*ksp, KSPCG));
  PetscCall(KSPGetPC(*ksp, &pc));
#if defined(PETSC_HAVE_HYPRE)
  PetscCall(PCSetType(pc, PCHYPRE));
  PetscCall(PCHYPRESetType(pc, "boomeramg"));
#else
  PetscCall(PCSetType(pc, PCGAMG));
#endif
  /* the true residual: what "relative residual rtol" means, and near round-off the preconditioned norm of CG stalls
     and can turn negative (DIVERGED_INDEFINITE_PC) before the true residual stops falling */
  PetscCall(KSPSetNormType(*ksp, KSP_NORM_UNPRECONDITIONED));
  PetscCall(KSPSetTolerances(*ksp, rtol, 1e-50, PETSC_DEFAULT, 10000));
  PetscCall(KSPSetFromOptions(*ksp));
  PetscFunctionReturn(0);
}

/*
  KDConductionSolveGrid - Solves the macroscopic problem on an n x n grid and keeps this rank's block of cells, with
  the error against the exact solution in manufactured mode.

  Collective

  KSP options take the prefix -conduction_ (-conduction_ksp_type, -conduction_pc_type, ...). Defaults: CG with BoomerAMG
  (GAMG without hypre), relative tolerance 1e-10.
*/
PetscErrorCode KDConductionSolveGrid(MPI_Comm comm, const KDConductionProblem *prob, const KDConductionOptions *opt,
                                     KDConductionSolution *sol)
{
  const PetscInt n  = opt->n;
  const PetscReal h = 1.0 / n, ih2 = 1 / (h * h);
  DM da;
  Mat A;
  Vec U, B;
  KSP ksp;
  KSPConvergedReason reason;
  PetscReal *kc;
  PetscScalar **b;
  const PetscScalar **u;
  PetscInt xs, ys, xm, ym;
  PetscLogDouble t0, t1;
  PetscReal errsq = 0;

  PetscFunctionBegin;
  PetscCall(KDConductionRegisterEvents());
  PetscCall(PetscTime(&t0));
  PetscCall(PetscMemzero(sol, sizeof(*sol)));
  /* no DMSetFromOptions: the grid is set by -conduction_n only, so that the reference grid is what the options say */
  PetscCall(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, n, n, PETSC_DECIDE, PETSC_DECIDE,
                         1, 1, NULL, NULL, &da));
  PetscCall(DMSetUp(da));
  PetscCall(DMDAGetCorners(da, &xs, &ys, NULL, &xm, &ym, NULL));
  sol->n  = n;
  sol->xs = xs;
  sol->ys = ys;
  sol->xm = xm;
  sol->ym = ym;

  PetscCall(KDConductionCentres(&prob->ms, n, xs, ys, xm, ym, PETSC_FALSE, &kc));
  PetscCall(DMCreateMatrix(da, &A));
  PetscCall(KDConductionAssemble(da, kc, PETSC_FALSE, A));
  /* b = f at the centres + 2 k_c g / h^2 from each boundary face, g at the face centre */
  PetscCall(DMCreateGlobalVector(da, &B));
  PetscCall(DMDAVecGetArray(da, B, &b));
  for (PetscInt j = ys; j < ys + ym; j++)
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscReal x = (i + 0.5) * h, y = (j + 0.5) * h, kb = 2 * kc[(j - ys + 1) * (xm + 2) + (i - xs + 1)] * ih2;
      PetscReal k, f;
      KDConductionProblemData(prob, x, y, &k, NULL, &f);
      if (i == 0) f += kb * KDConductionProblemBoundary(prob, 0, y);
      if (i == n - 1) f += kb * KDConductionProblemBoundary(prob, 1, y);
      if (j == 0) f += kb * KDConductionProblemBoundary(prob, x, 0);
      if (j == n - 1) f += kb * KDConductionProblemBoundary(prob, x, 1);
      b[j][i] = f;
    }
  PetscCall(DMDAVecRestoreArray(da, B, &b));
  PetscCall(PetscFree(kc));

  PetscCall(DMCreateGlobalVector(da, &U));
  PetscCall(KDConductionCreateKSP(da, A, A, "conduction_", 1e-10, &ksp));
  if (opt->monitor) {
    PCType pctype;
    PC pc;
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PCGetType(pc, &pctype));
    PetscCall(PetscPrintf(comm,
                          "conduction: %" PetscInt_FMT " x %" PetscInt_FMT " cells (%.4g per period), CG + %s%s\n", n,
                          n, (double) (prob->ms.eps * n), pctype, prob->manufactured ? ", manufactured solution" : ""));
  }
  PetscCall(PetscLogEventBegin(KD_ConductionSolve, 0, 0, 0, 0));
  PetscCall(KSPSolve(ksp, B, U));
  PetscCall(PetscLogEventEnd(KD_ConductionSolve, 0, 0, 0, 0));
  PetscCall(KSPGetConvergedReason(ksp, &reason));
  PetscCall(KSPGetIterationNumber(ksp, &sol->its));
  PetscCheck(reason > 0, comm, PETSC_ERR_NOT_CONVERGED,
             "conduction: the linear solve did not converge (%s after %" PetscInt_FMT
             " iterations); see -conduction_ksp_*, -conduction_pc_*",
             KSPConvergedReasons[reason], sol->its);

  PetscCall(PetscMalloc1(xm * ym, &sol->u));
  PetscCall(DMDAVecGetArrayRead(da, U, &u));
  for (PetscInt j = ys; j < ys + ym; j++)
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscReal e                = u[j][i] - KDConductionProblemBoundary(prob, (i + 0.5) * h, (j + 0.5) * h);
      sol->u[(j - ys) * xm + (i - xs)] = u[j][i];
      if (prob->manufactured) {
        errsq += e * e;
        sol->errmax = PetscMax(sol->errmax, PetscAbsReal(e));
      }
    }
  PetscCall(DMDAVecRestoreArrayRead(da, U, &u));
  {
    PetscReal red[2] = {sol->errmax, errsq}, all[2];
    PetscCall(MPIU_Allreduce(&red[0], &all[0], 1, MPIU_REAL, MPIU_MAX, comm));
    PetscCall(MPIU_Allreduce(&red[1], &all[1], 1, MPIU_REAL, MPIU_SUM, comm));
    sol->errmax = all[0];
    sol->errl2  = PetscSqrtReal(all[1] * h * h);
  }
  PetscCall(PetscTime(&t1));
  sol->seconds = t1 - t0;
  if (opt->monitor)
    PetscCall(PetscPrintf(comm, "conduction: solved in %.3g s, %" PetscInt_FMT " CG iterations (%s)\n",
                          (double) sol->seconds, sol->its, KSPConvergedReasons[reason]));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(VecDestroy(&U));
  PetscCall(VecDestroy(&B));
  PetscCall(MatDestroy(&A));
  PetscCall(DMDestroy(&da));
  PetscFunctionReturn(0);
}

/* Frees the block of a KDConductionSolveGrid() solution. */
PetscErrorCode KDConductionSolutionDestroy(KDConductionSolution *sol)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(sol->u));
  PetscFunctionReturn(0);
}

/*@C
  KDConductionCellProblem - The effective conductivity of a microstructure from its periodic cell problem.

  Collective

  Input Parameters:
+ comm - the communicator
. ms   - the microstructure (set up); K_eff does not depend on eps except through the interface width in cell units
- n    - cells per axis of the periodic grid of the unit cell

  Output Parameters:
+ K    - K_eff row-major: kxx, kxy, kyx, kyy (the energy form, symmetric and positive semi-definite by construction)
- asym - the largest difference between the energy form and the flux form, relative to max |K| (may be NULL); of the
         order of the solver tolerance when the cell problem is solved

  Notes:
  Solves -div(k (e_j + grad chi_j)) = 0, chi_j periodic, j = x, y, with the discretization of the macroscopic solver
  (harmonic face conductivities) on the constant-free complement: CG + BoomerAMG (GAMG), relative (true) residual 1e-12,
options prefix -conduction_cell_; an error if a solve does not converge. Then K_ij = sum over faces of h^2 k_f (e_i +
grad chi_i)_f (e_j + grad chi_j)_f (the component normal to each face), the flux form sum h^2 k_f (e_j + grad chi_j)_f
over the faces normal to e_i.

.seealso: KDCompositeBounds(), KDSolveConduction()
@*/
PetscErrorCode KDConductionCellProblem(MPI_Comm comm, const KDComposite *ms, PetscInt n, PetscReal K[4],
                                       PetscReal *asym)
{
  const PetscReal h = 1.0 / n;
  DM da;
  Mat A, P;
  MatNullSpace nsp;
  KSP ksp;
  Vec B[2], X[2], L[2];
  PetscReal *kc, sums[7] = {0, 0, 0, 0, 0, 0, 0}, all[7], kmax;
  PetscInt xs, ys, xm, ym;

  PetscFunctionBegin;
  PetscCall(KDConductionRegisterEvents());
  PetscCall(PetscLogEventBegin(KD_ConductionCell, 0, 0, 0, 0));
  PetscCall(DMDACreate2d(comm, DM_BOUNDARY_PERIODIC, DM_BOUNDARY_PERIODIC, DMDA_STENCIL_STAR, n, n, PETSC_DECIDE,
                         PETSC_DECIDE, 1, 1, NULL, NULL, &da));
  PetscCall(DMSetUp(da));
  PetscCall(DMDAGetCorners(da, &xs, &ys, NULL, &xm, &ym, NULL));
  PetscCall(KDConductionCentres(ms, n, xs, ys, xm, ym, PETSC_TRUE, &kc));
  PetscCall(DMCreateMatrix(da, &A));
  PetscCall(KDConductionAssemble(da, kc, PETSC_TRUE, A));
  PetscCall(MatNullSpaceCreate(comm, PETSC_TRUE, 0, NULL, &nsp));
  PetscCall(MatSetNullSpace(A, nsp));
  PetscCall(MatSetNearNullSpace(A, nsp));

  /* right-hand sides: for load e_x, cell c gets sum over its faces of k_f (e_x . n_f) / h = (k_east - k_west) / h */
  for (PetscInt d = 0; d < 2; d++) {
    PetscScalar **b;
    PetscCall(DMCreateGlobalVector(da, &B[d]));
    PetscCall(DMDAVecGetArray(da, B[d], &b));
    for (PetscInt j = ys; j < ys + ym; j++)
      for (PetscInt i = xs; i < xs + xm; i++) {
        const PetscInt c = (j - ys + 1) * (xm + 2) + (i - xs + 1), step = d ? xm + 2 : 1;
        b[j][i] = (KDHarmonic(kc[c], kc[c + step]) - KDHarmonic(kc[c], kc[c - step])) / h;
      }
    PetscCall(DMDAVecRestoreArray(da, B[d], &b));
    PetscCall(MatNullSpaceRemove(nsp, B[d])); /* the loads sum to zero up to round-off */
    PetscCall(VecDuplicate(B[d], &X[d]));
  }

  /* The multigrid is built from P = A + delta I, delta = 1e-6 min(k1, k2): the coarsest operator of A itself is
     singular, and its direct solve (hypre's Gaussian elimination, GAMG's LU) then amplifies round-off into an
     indefinite preconditioner (CG stopped with DIVERGED_INDEFINITE_PC on 512^2 cells at 2 ranks). The shift shares
     A's eigenvectors, so P^-1 maps the constant-free range onto itself, and against the smallest non-zero eigenvalue
     of A (>= 32 min(k1, k2) on any grid of the unit cell) it changes the preconditioner by < 1e-7. CG still solves
     the singular A. */
  PetscCall(MatDuplicate(A, MAT_COPY_VALUES, &P));
  PetscCall(MatShift(P, 1e-6 * PetscMin(ms->k1, ms->k2)));
  PetscCall(KDConductionCreateKSP(da, A, P, "conduction_cell_", 1e-12, &ksp));
  for (PetscInt d = 0; d < 2; d++) {
    KSPConvergedReason reason;
    PetscInt its;
    PetscCall(KSPSolve(ksp, B[d], X[d]));
    PetscCall(KSPGetConvergedReason(ksp, &reason));
    PetscCall(KSPGetIterationNumber(ksp, &its));
    PetscCheck(reason > 0, comm, PETSC_ERR_NOT_CONVERGED,
               "conduction: the cell problem (load e_%s, %" PetscInt_FMT
               "^2 cells) did not converge (%s after %" PetscInt_FMT
               " iterations); see -conduction_cell_ksp_*, -conduction_cell_pc_*",
               d ? "y" : "x", n, KSPConvergedReasons[reason], its);
    PetscCall(DMGetLocalVector(da, &L[d]));
    PetscCall(DMGlobalToLocal(da, X[d], INSERT_VALUES, L[d]));
  }

  /* every cell owns its east and north faces; G[j][a] = component a of e_j + grad chi_j at the face */
  {
    const PetscScalar **chi[2];
    PetscCall(DMDAVecGetArrayRead(da, L[0], &chi[0]));
    PetscCall(DMDAVecGetArrayRead(da, L[1], &chi[1]));
    for (PetscInt j = ys; j < ys + ym; j++)
      for (PetscInt i = xs; i < xs + xm; i++) {
        const PetscInt c = (j - ys + 1) * (xm + 2) + (i - xs + 1);
        for (PetscInt a = 0; a < 2; a++) { /* a = 0: east face (normal x), 1: north face (normal y) */
          const PetscInt ni = a ? i : i + 1, nj = a ? j + 1 : j;
          const PetscReal kf = KDHarmonic(kc[c], kc[c + (a ? xm + 2 : 1)]), w = h * h * kf;
          const PetscReal gx = (a == 0) + (chi[0][nj][ni] - chi[0][j][i]) / h; /* (e_x + grad chi_x) . e_a */
          const PetscReal gy = (a == 1) + (chi[1][nj][ni] - chi[1][j][i]) / h; /* (e_y + grad chi_y) . e_a */
          sums[0] += w * gx * gx;
          sums[1] += w * gx * gy;
          sums[2] += w * gy * gy;
          sums[3 + 2 * a] += w * gx; /* flux form, row a: K_a,x and K_a,y */
          sums[4 + 2 * a] += w * gy;
        }
      }
    PetscCall(DMDAVecRestoreArrayRead(da, L[0], &chi[0]));
    PetscCall(DMDAVecRestoreArrayRead(da, L[1], &chi[1]));
  }
  PetscCall(MPIU_Allreduce(sums, all, 7, MPIU_REAL, MPIU_SUM, comm));
  K[0] = all[0];
  K[1] = all[1];
  K[2] = all[1];
  K[3] = all[2];
  kmax = PetscMax(PetscMax(PetscAbsReal(K[0]), PetscAbsReal(K[1])), PetscAbsReal(K[3]));
  if (asym) {
    *asym = 0;
    for (PetscInt e = 0; e < 4; e++) *asym = PetscMax(*asym, PetscAbsReal(all[3 + e] - K[e]) / kmax);
  }

  for (PetscInt d = 0; d < 2; d++) {
    PetscCall(DMRestoreLocalVector(da, &L[d]));
    PetscCall(VecDestroy(&X[d]));
    PetscCall(VecDestroy(&B[d]));
  }
  PetscCall(KSPDestroy(&ksp));
  PetscCall(MatNullSpaceDestroy(&nsp));
  PetscCall(MatDestroy(&P));
  PetscCall(MatDestroy(&A));
  PetscCall(PetscFree(kc));
  PetscCall(DMDestroy(&da));
  PetscCall(PetscLogEventEnd(KD_ConductionCell, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDSolveConduction - Solves the composite conduction problem of a conduction PDE (KDPDEConductionGetProblem()) and
  its periodic cell problem, and hands the results to a reference: the grid "y,x" of n x n cells on [0,1]^2 with the
  field u (natural index j n + i), the root array K_eff = [kxx, kxy, kyx, kyy] of the cell problem (and the PDE's
  parameters Kxx, Kxy, Kyy from it) and, in manufactured mode, the parameters mms_error_max and mms_error_l2.

  Collective

  Options Database Keys (the problem's are the PDE's):
+ -conduction_n <n>       - cells per axis (default 1024); eps n must be an integer, and so on every level of
                            -kd_levels whose cells are smaller than a period
. -conduction_cell_n <n>  - cells per axis of the cell problem (default 256)
. -conduction_view        - print the microstructure
. -conduction_ksp_*, -conduction_pc_*           - the macroscopic solve (default CG + BoomerAMG, rtol 1e-10)
. -conduction_cell_ksp_*, -conduction_cell_pc_* - the cell problem (default CG + BoomerAMG, rtol 1e-12)
- -kd_monitor             - progress lines, and the Wiener and Hashin-Shtrikman bounds next to K_eff

  Prints K_eff in one line on rank 0.

.seealso: KDConductionCellProblem(), KDCompositeCheckGrid()
@*/
PetscErrorCode KDSolveConduction(KDPDE pde, KDReference ref)
{
  MPI_Comm comm;
  const KDConductionProblem *prob;
  KDConductionOptions opt;
  KDConductionSolution sol;
  KDCommonOptions common;
  PetscInt n[2];
  PetscReal lo[2] = {0, 0}, hi[2] = {1, 1}, K[4], asym;
  PetscLogDouble t0, t1;
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDHelpRequested(&help));
  PetscCall(KDConductionOptionsSetFromOptions(comm, &opt));
  if (help) PetscFunctionReturn(0); /* the options are listed; the problem (an image file) is not read */
  PetscCall(KDPDEConductionGetProblem(pde, &prob));
  if (opt.view) PetscCall(KDCompositeView(&prob->ms, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(KDReferenceApplyGridDivisor(ref, "-conduction_n", &opt.n));
  /* every level whose cells are smaller than a period must hold whole periods: the same cells in each */
  PetscCall(KDGetCommonOptions(comm, &common));
  for (PetscInt l = 0; l < common.levels && opt.n % (1 << l) == 0; l++) {
    const PetscInt nl = opt.n >> l;
    char what[128];
    if (nl * prob->ms.eps < 1 - 1e-12) break;
    if (l)
      PetscCall(PetscSNPrintf(what, sizeof(what),
                              "level %" PetscInt_FMT " of -conduction_n (-kd_levels %" PetscInt_FMT ")", l,
                              common.levels));
    PetscCall(KDCompositeCheckGrid(comm, &prob->ms, nl, l ? what : "-conduction_n"));
  }
  n[0] = n[1] = opt.n;
  PetscCall(KDReferenceSetGrid(ref, 2, "y,x", n, lo, hi)); /* refuses a grid too small for the levels before solving */

  PetscCall(KDConductionSolveGrid(comm, prob, &opt, &sol));
  PetscCall(KDSignalCheck(comm, "conduction solve")); /* a stop requested during the solve, before the cell problem */
  if (prob->manufactured) {
    PetscCall(KDReferenceSetParameter(ref, "mms_error_max", sol.errmax));
    PetscCall(KDReferenceSetParameter(ref, "mms_error_l2", sol.errl2));
    if (opt.monitor)
      PetscCall(PetscPrintf(comm, "conduction: manufactured solution, error max %.3e, L2 %.3e\n", (double) sol.errmax,
                            (double) sol.errl2));
  }
  PetscCall(KDReferenceAddBlockField(ref, "u", sol.n, sol.n, 1, sol.xs, sol.ys, sol.xm, sol.ym, sol.u));
  PetscCall(KDConductionSolutionDestroy(&sol));

  PetscCall(PetscTime(&t0));
  PetscCall(KDConductionCellProblem(comm, &prob->ms, opt.celln, K, &asym));
  PetscCall(PetscTime(&t1));
  PetscCall(KDSignalCheck(comm, "conduction cell problem"));
  PetscCall(KDReferenceSetArray(ref, "K_eff", 4, K));
  /* the named parameters of the homogenized tensor hold the cell problem's: the truth a coarse student's learned
     tensor is reported against (its initial value is not taken from here: KDPDEConductionUpdateModel()) */
  PetscCall(KDReferenceSetParameter(ref, "Kxx", K[0]));
  PetscCall(KDReferenceSetParameter(ref, "Kxy", 0.5 * (K[1] + K[2])));
  PetscCall(KDReferenceSetParameter(ref, "Kyy", K[3]));
  PetscCall(PetscPrintf(
      comm, "conduction: K_eff (cell problem, %" PetscInt_FMT "^2 cells) = [[%.10g, %.10g], [%.10g, %.10g]]\n",
      opt.celln, (double) K[0], (double) K[1], (double) K[2], (double) K[3]));
  if (opt.monitor) {
    PetscReal wiener[2], hs[2];
    KDCompositeBounds(&prob->ms, wiener, hs);
    PetscCall(PetscPrintf(comm,
                          "conduction: cell problem in %.3g s, energy and flux forms agree to %.1e; bounds: Wiener "
                          "[%.6g, %.6g], Hashin-Shtrikman [%.6g, %.6g] (fraction %g)\n",
                          (double) (t1 - t0), (double) asym, (double) wiener[1], (double) wiener[0], (double) hs[0],
                          (double) hs[1], (double) prob->ms.fraction));
  }
  PetscFunctionReturn(0);
}
