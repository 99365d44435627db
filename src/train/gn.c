/*
  Gauss-Newton / Levenberg-Marquardt for least-squares losses, with the damped normal equations solved by ScaLAPACK
  on a 2-D BLACS process grid.

  The loss is F(p) = |R(p)|^2, R the stacked residual rows of every rank (a KDLoss row is sqrt(w/N) times a
  residual component at one point, so that F is exactly the sum of the loss terms). One LM step:

    1. the rows in chunks of b rows per rank: each rank computes its chunk of J (row-major, b x P, which is the
       column-major P x b block of J^T it owns on a 1 x size BLACS grid), pdgemr2d moves the P x (size b) chunk of J^T
       to block-cyclic on the 2-D grid, and pdsyrk adds J^T J of the chunk to the distributed normal matrix C. The
       normal matrix is never replicated: each rank holds about P^2/size of it. g = J^T R, diag(J^T J) and F are
       summed locally and reduced with one MPI_Allreduce of 2P+1 values;
    2. (C + lambda D) delta = -g by pdpotrf/pdpotrs on the grid, D = diag(J^T J) (Marquardt) floored at
       floor * max diag, or D = I; delta is gathered to every rank with one allreduce (each entry has one owner);
    3. the gain ratio rho = (F(p) - F(p + delta)) / (F(p) - |R + J delta|^2), where the predicted reduction is
       -delta.g + lambda delta.D delta (from the normal equations, no product with J); rho > 0 accepts the step and
       lambda *= max(1/3, 1 - (2 rho - 1)^3) (Nielsen), otherwise the step is undone and lambda *= nu, nu *= 2. A
       failed Cholesky factorization (not positive definite at a small lambda) counts as a rejection.

  Every rank takes the same decisions: F, g, D and delta are identical on all ranks after the reductions. Cost per
  step: the Jacobian O(M S P) (one reverse pass per row, S jet streams), J^T J O(M P^2), the factorization O(P^3/3)
  per trial; memory 2 P^2 / size doubles for C and its factor plus 2 b P for the chunks.

  On one rank the 1 x 1 grid holds C whole, in plain column-major storage: dsyrk on the chunk and LAPACK's
  dpotrf/dpotrs then do the same arithmetic without pdgemr2d's copy, and OpenBLAS's recursive, blocked dpotrf runs
  at about three times the rate of pdpotrf's panel loop (docs/benchmarks.md, "Gauss-Newton").

  Moving J through pdgemr2d costs M P doubles of traffic and a synchronization per chunk, while C is only P^2 (a
  distilled student has ~40 rows per parameter). With -gn_normal_matrix local (chosen by auto when P <= 8192) each
  rank forms J_r^T J_r of its own rows with dsyrk into a P x P buffer, one MPI_Allreduce sums the buffers, and each
  rank keeps its block-cyclic part: no synchronization per chunk, and 2.3x faster than the redistribution at 2 ranks
  even with M ~ P (5081 parameters, 5800 rows). It replicates P^2 doubles per rank (512 MB at P = 8192), hence the
  bound; beyond it the redistribution keeps memory at 2 P^2 / size.

  With -gn_precision mixed J^T J is formed (ssyrk, local) and factored (pspotrf) in single precision, at twice the
  rate, and only preconditions conjugate gradients in double whose products J^T (J p) use this rank's rows of J, kept
  in double: the normal equations square cond(J), and a step from a 7-digit factor would be wrong in exactly the
  directions of small curvature Gauss-Newton is for. A few iterations reach 1e-10 (docs/gauss-newton.md). A damping
  below single precision's round-off is met by shifting the preconditioner; where no shift up to 1e-4 lets single
  precision factor it, or -gn_max_it iterations do not reach -gn_rtol, the trial forms the normal equations again in
  double: the step is then the double-precision one, bit for bit.
*/
#include <kdtrain.h>
#include <petscblaslapack.h>
#include <cblas.h>

/* BLACS and ScaLAPACK ship no header. */
extern int Csys2blacs_handle(MPI_Comm);
extern void Cfree_blacs_system_handle(int);
extern void Cblacs_gridinit(int *, const char *, int, int);
extern void Cblacs_gridinfo(int, int *, int *, int *, int *);
extern void Cblacs_gridexit(int);
extern int numroc_(const int *, const int *, const int *, const int *, const int *);
extern void descinit_(int *, const int *, const int *, const int *, const int *, const int *, const int *, const int *,
                      const int *, int *);
extern void pdgemr2d_(const int *, const int *, const double *, const int *, const int *, const int *, double *,
                      const int *, const int *, const int *, const int *);
extern void pdsyrk_(const char *, const char *, const int *, const int *, const double *, const double *, const int *,
                    const int *, const int *, const double *, double *, const int *, const int *, const int *);
extern void pdpotrf_(const char *, const int *, double *, const int *, const int *, const int *, int *);
extern void pdpotrs_(const char *, const int *, const int *, const double *, const int *, const int *, const int *,
                     double *, const int *, const int *, const int *, int *);
extern void pspotrf_(const char *, const int *, float *, const int *, const int *, const int *, int *);
extern void pspotrs_(const char *, const int *, const int *, const float *, const int *, const int *, const int *,
                     float *, const int *, const int *, const int *, int *);
/* single-precision LAPACK (OpenBLAS): PETSc's LAPACK names are bound to PetscReal */
extern void spotrf_(const char *, const PetscBLASInt *, float *, const PetscBLASInt *, PetscBLASInt *);
extern void spotrs_(const char *, const PetscBLASInt *, const PetscBLASInt *, const float *, const PetscBLASInt *,
                    float *, const PetscBLASInt *, PetscBLASInt *);

typedef enum { KD_GN_DAMPING_MARQUARDT, KD_GN_DAMPING_IDENTITY } KDGaussNewtonDamping;
typedef enum { KD_GN_NORMAL_AUTO, KD_GN_NORMAL_LOCAL, KD_GN_NORMAL_REDISTRIBUTE } KDGaussNewtonNormal;
typedef enum { KD_GN_PRECISION_DOUBLE, KD_GN_PRECISION_MIXED } KDGaussNewtonPrecision;
static const char *const KDGaussNewtonPrecisions[] = {"double", "mixed", "KDGaussNewtonPrecision", "KD_GN_PRECISION_",
                                                      NULL};
static const char *const KDGaussNewtonNormals[]    = {"auto",          "local", "redistribute", "KDGaussNewtonNormal",
                                                      "KD_GN_NORMAL_", NULL};
static const char *const KDGaussNewtonDampings[]   = {"marquardt", "identity", "KDGaussNewtonDamping", "KD_GN_DAMPING_",
                                                      NULL};

struct _p_KDGaussNewton {
  MPI_Comm comm;
  char *prefix;
  PetscMPIInt rank, size;
  PetscInt n;   /* parameters */
  PetscReal *x; /* borrowed, replicated */
  KDResidualSizeFunction rsize;
  KDResidualFunction rfun;
  void *rctx;

  /* options */
  PetscReal lambda0, lambda_min, floor;
  KDGaussNewtonDamping damping;
  KDGaussNewtonNormal normal;
  KDGaussNewtonPrecision precision;
  PetscInt max_trials, chunk, block, grid_rows, max_it;
  PetscReal rtol;

  /* state */
  PetscReal lambda, nu, F;
  PetscBool formed, setup, allocated_double, allocated_mixed;
  KDGaussNewtonPrecision formed_precision; /* of the normal equations formed last */
  PetscInt trials;                         /* trial solves of the last step */

  /* BLACS grids: 2-D for the normal matrix, 1 x size for the row chunks of J */
  int handle, ctxt, ctxt1, nprow, npcol, myrow, mycol;
  int descC[9], descB[9], descS[9], descD[9];
  int lrC, lcC, lrB, lcD;
  PetscBool serial; /* one rank: C is a plain P x P column-major matrix, BLAS/LAPACK instead of PBLAS/ScaLAPACK */
  PetscReal *C, *W, *B, *Jsrc, *Jdst, *r;
  PetscReal *gdf; /* [g (n) | diag J^T J (n) | F]: the one allreduce of the formation */
  PetscReal *delta, *xold, *Dsc;
  PetscReal *Cfull; /* -gn_normal_matrix local: this rank's J^T J, P x P column-major (allocated when first used) */

  /* -gn_precision mixed (allocated when first used): J^T J and its factor in single precision as the 2-D C and W,
     this rank's rows of J kept in double for the products of the conjugate-gradient solve */
  float *Cs, *Ws, *Bs, *Js, *Cfulls;
  PetscReal *Jloc, *yp, *yx; /* m x P row-major; J p and J delta on this rank's rows */
  PetscReal *cg;             /* residual, preconditioned residual, direction, A direction, previous z: 5 P */
  PetscInt m, mJ;            /* rows on this rank at the last formation, rows Jloc holds */
  PetscReal Jdelta2;         /* |J delta|^2 of the last mixed solve (its predicted reduction) */
  PetscReal shift, rnorm;    /* preconditioner shift and relative residual of the last mixed solve */
  PetscInt its, its_step;    /* its conjugate-gradient iterations, and those of the last step's trials */
};

static PetscLogEvent KD_GN_JACOBIAN, KD_GN_NORMAL, KD_GN_SOLVE, KD_GN_RESIDUAL;

static PetscErrorCode KDGaussNewtonRegisterEvents(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDGNJacobian", KD_CLASSID, &KD_GN_JACOBIAN));
  PetscCall(PetscLogEventRegister("KDGNNormalEq", KD_CLASSID, &KD_GN_NORMAL));
  PetscCall(PetscLogEventRegister("KDGNSolve", KD_CLASSID, &KD_GN_SOLVE));
  PetscCall(PetscLogEventRegister("KDGNResidual", KD_CLASSID, &KD_GN_RESIDUAL));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* The solver object */

/*@C
  KDGaussNewtonCreate - Creates a Gauss-Newton / Levenberg-Marquardt solver for a least-squares objective
  F = |R|^2 whose rows are shared among the ranks of comm (KDGaussNewtonSetResidual()).

  Collective

.seealso: KDGaussNewtonStep(), KDTrainerSetResidual(), docs/gauss-newton.md
@*/
PetscErrorCode KDGaussNewtonCreate(MPI_Comm comm, KDGaussNewton *gn)
{
  KDGaussNewton g;

  PetscFunctionBegin;
  PetscCall(KDGaussNewtonRegisterEvents());
  PetscCall(PetscNew(&g));
  g->comm       = comm;
  g->lambda0    = 1.e-3;
  g->lambda_min = 1.e-12;
  g->floor      = 1.e-10;
  g->damping    = KD_GN_DAMPING_MARQUARDT;
  g->max_trials = 10;
  g->chunk      = 256;
  g->block      = 64;
  g->grid_rows  = 0;
  g->precision  = KD_GN_PRECISION_DOUBLE;
  g->rtol       = 1.e-10;
  g->max_it     = 50;
  g->lambda     = g->lambda0;
  g->nu         = 2.0;
  g->handle     = -1;
  PetscCallMPI(MPI_Comm_rank(comm, &g->rank));
  PetscCallMPI(MPI_Comm_size(comm, &g->size));
  *gn = g;
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonDestroy - Destroys the solver (and its BLACS grids); safe on NULL.

  Collective
@*/
PetscErrorCode KDGaussNewtonDestroy(KDGaussNewton *gn)
{
  KDGaussNewton g;

  PetscFunctionBegin;
  if (!gn || !*gn) PetscFunctionReturn(0);
  g = *gn;
  if (g->setup) {
    /* gridexit, never blacs_exit: PETSc finalizes MPI */
    Cblacs_gridexit(g->ctxt);
    Cblacs_gridexit(g->ctxt1);
    Cfree_blacs_system_handle(g->handle);
  }
  PetscCall(PetscFree2(g->C, g->W));
  PetscCall(PetscFree2(g->B, g->Jdst));
  PetscCall(PetscFree3(g->Cs, g->Ws, g->Bs));
  PetscCall(PetscFree2(g->Js, g->cg));
  PetscCall(PetscFree(g->Cfulls));
  PetscCall(PetscFree3(g->Jloc, g->yp, g->yx));
  PetscCall(PetscFree2(g->Jsrc, g->r));
  PetscCall(PetscFree4(g->gdf, g->delta, g->xold, g->Dsc));
  PetscCall(PetscFree(g->Cfull));
  PetscCall(PetscFree(g->prefix));
  PetscCall(PetscFree(g));
  *gn = NULL;
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonSetOptionsPrefix - Prefix of the solver's options (teacher_ for -teacher_gn_lambda).

  Logically collective
@*/
PetscErrorCode KDGaussNewtonSetOptionsPrefix(KDGaussNewton gn, const char prefix[])
{
  PetscFunctionBegin;
  PetscCall(PetscFree(gn->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &gn->prefix));
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonSetResidual - The least-squares objective: this rank's rows of R and of its Jacobian.

  Logically collective

  Input Parameters:
+ gn    - the solver
. n     - number of parameters
. x     - the parameter buffer, replicated on every rank (borrowed; updated in place by KDGaussNewtonStep())
. size  - size(ctx, &m): number of rows on this rank at the current point set
. f     - f(ctx, start, count, r, J): rows start .. start + count - 1 of this rank at the current x, and their
          Jacobian (row-major, count x n) unless J is NULL
- ctx   - passed to size and f

.seealso: KDLossResidualLocal(), KDTrainerSetResidual()
@*/
PetscErrorCode KDGaussNewtonSetResidual(KDGaussNewton gn, PetscInt n, PetscReal x[], KDResidualSizeFunction size,
                                        KDResidualFunction f, void *ctx)
{
  PetscFunctionBegin;
  PetscCheck(n > 0 && x && size && f, gn->comm, PETSC_ERR_ARG_WRONG,
             "KDGaussNewtonSetResidual needs parameters and residual functions");
  PetscCheck(!gn->setup || n == gn->n, gn->comm, PETSC_ERR_ARG_SIZ, "the parameter count cannot change after setup");
  gn->n      = n;
  gn->x      = x;
  gn->rsize  = size;
  gn->rfun   = f;
  gn->rctx   = ctx;
  gn->formed = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDGaussNewtonLossResidualSize(void *ctx, PetscInt *m)
{
  PetscFunctionBegin;
  PetscCall(KDLossGetResidualSize((KDLoss) ctx, m));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDGaussNewtonLossResidual(void *ctx, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  PetscFunctionBegin;
  PetscCall(KDLossResidualLocal((KDLoss) ctx, start, count, r, J));
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonSetLoss - The least-squares objective of a KDLoss: its residual rows (KDLossResidualLocal()).

  Logically collective

  Input Parameters:
+ gn   - the solver
. n    - number of parameters of the loss's network
. x    - its parameter buffer (borrowed; updated in place by KDGaussNewtonStep())
- loss - the loss, set up

.seealso: KDGaussNewtonSetResidual(), KDTrainerSetLoss()
@*/
PetscErrorCode KDGaussNewtonSetLoss(KDGaussNewton gn, PetscInt n, PetscReal x[], KDLoss loss)
{
  PetscInt nloss;

  PetscFunctionBegin;
  PetscCall(KDLossGetNumParameters(loss, &nloss));
  PetscCheck(n == nloss, gn->comm, PETSC_ERR_ARG_SIZ,
             "the loss has %" PetscInt_FMT " parameters (with -infer / -infer_field ones), the buffer %" PetscInt_FMT
             ": train it with a KDTrainer",
             nloss, n);
  PetscCall(KDGaussNewtonSetResidual(gn, n, x, KDGaussNewtonLossResidualSize, KDGaussNewtonLossResidual, loss));
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonSetFromOptions - Reads the solver's options.

  Collective

  Options Database Keys (with the prefix, e.g. -teacher_):
+ -gn_lambda <1e-3>         - initial Levenberg-Marquardt damping (0: plain Gauss-Newton until a step is rejected)
. -gn_lambda_min <1e-12>    - smallest damping after the first step
. -gn_damping <marquardt>   - D = diag(J^T J) (marquardt, scale invariant) or identity
. -gn_damping_floor <1e-10> - marquardt: D_i >= floor * max_i D_i, so that parameters the rows do not see stay damped
. -gn_max_trials <10>       - trial solves per step before the step is given up
. -gn_chunk_rows <256>      - Jacobian rows per rank formed and redistributed at a time (memory 2 chunk P doubles)
. -gn_block_size <64>       - block size of the block-cyclic distribution
. -gn_normal_matrix <auto>  - how J^T J is formed on several ranks: redistribute (pdgemr2d + pdsyrk per chunk), local
                              (dsyrk of each rank's rows + one allreduce of P^2), auto (local if P <= 8192)
. -gn_grid_rows <0>         - process rows of the BLACS grid (0: the most square grid with rows >= columns)
. -gn_precision <double>    - double: J^T J formed and factored in double precision; mixed: formed and factored in
                              single precision, the preconditioner of a conjugate-gradient solve of the damped normal
                              equations in double with products by this rank's rows of J (kept in double)
. -gn_rtol <1e-10>          - mixed: relative residual at which the conjugate-gradient solve stops
- -gn_max_it <50>           - mixed: conjugate-gradient iterations per trial before the trial is solved in double
@*/
PetscErrorCode KDGaussNewtonSetFromOptions(KDGaussNewton gn)
{
  PetscFunctionBegin;
  PetscOptionsBegin(gn->comm, gn->prefix, "Gauss-Newton / Levenberg-Marquardt (ScaLAPACK)", "KDGaussNewton");
  PetscCall(KDOptionsReal("-gn_lambda", "Initial Levenberg-Marquardt damping", "KDGaussNewtonStep", gn->lambda0,
                          &gn->lambda0, NULL));
  PetscCall(KDOptionsReal("-gn_lambda_min", "Smallest damping after the first step", "KDGaussNewtonStep",
                          gn->lambda_min, &gn->lambda_min, NULL));
  PetscCall(KDOptionsEnum("-gn_damping", "Damping matrix: marquardt (diag of J^T J) or identity", "KDGaussNewtonStep",
                          KDGaussNewtonDampings, (PetscEnum) gn->damping, (PetscEnum *) &gn->damping, NULL));
  PetscCall(KDOptionsReal("-gn_damping_floor", "Marquardt damping floor, relative to the largest diagonal entry",
                          "KDGaussNewtonStep", gn->floor, &gn->floor, NULL));
  PetscCall(KDOptionsInt("-gn_max_trials", "Trial solves per step before the step is given up", "KDGaussNewtonStep",
                         gn->max_trials, &gn->max_trials, NULL));
  PetscCall(KDOptionsInt("-gn_chunk_rows", "Jacobian rows per rank formed and redistributed at a time",
                         "KDGaussNewtonStep", gn->chunk, &gn->chunk, NULL));
  PetscCall(KDOptionsInt("-gn_block_size", "Block size of the block-cyclic distribution", "KDGaussNewtonSetUp",
                         gn->block, &gn->block, NULL));
  PetscCall(KDOptionsEnum("-gn_normal_matrix",
                          "J^T J on several ranks: redistribute (pdgemr2d + pdsyrk), local (dsyrk + allreduce), auto",
                          "KDGaussNewtonFormNormalEquations", KDGaussNewtonNormals, (PetscEnum) gn->normal,
                          (PetscEnum *) &gn->normal, NULL));
  PetscCall(KDOptionsInt("-gn_grid_rows", "Process rows of the BLACS grid (0: most square, rows >= columns)",
                         "KDGaussNewtonSetUp", gn->grid_rows, &gn->grid_rows, NULL));
  PetscCall(KDOptionsEnum("-gn_precision",
                          "double, or mixed: J^T J factored in single precision as the preconditioner of a CG solve",
                          "KDGaussNewtonSolveDamped", KDGaussNewtonPrecisions, (PetscEnum) gn->precision,
                          (PetscEnum *) &gn->precision, NULL));
  PetscCall(KDOptionsReal("-gn_rtol", "Mixed precision: relative residual of the conjugate-gradient solve",
                          "KDGaussNewtonSolveDamped", gn->rtol, &gn->rtol, NULL));
  PetscCall(KDOptionsInt("-gn_max_it", "Mixed precision: CG iterations before a trial is solved in double instead",
                         "KDGaussNewtonSolveDamped", gn->max_it, &gn->max_it, NULL));
  PetscOptionsEnd();
  PetscCheck(gn->rtol > 0 && gn->rtol < 1, gn->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sgn_rtol must be in (0, 1)",
             gn->prefix ? gn->prefix : "");
  PetscCheck(gn->max_it >= 1, gn->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sgn_max_it must be positive",
             gn->prefix ? gn->prefix : "");
  PetscCheck(gn->precision == KD_GN_PRECISION_DOUBLE || gn->normal != KD_GN_NORMAL_REDISTRIBUTE, gn->comm,
             PETSC_ERR_SUP,
             "-%sgn_precision mixed forms J^T J locally: it cannot be combined with -%sgn_normal_matrix "
             "redistribute",
             gn->prefix ? gn->prefix : "", gn->prefix ? gn->prefix : "");
  PetscCheck(gn->lambda0 >= 0 && gn->lambda_min > 0, gn->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sgn_lambda must be >= 0 and -%sgn_lambda_min > 0", gn->prefix ? gn->prefix : "",
             gn->prefix ? gn->prefix : "");
  PetscCheck(gn->floor >= 0 && gn->floor < 1, gn->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sgn_damping_floor must be in [0, 1)", gn->prefix ? gn->prefix : "");
  PetscCheck(gn->max_trials >= 1 && gn->chunk >= 1 && gn->block >= 1, gn->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sgn_max_trials, -%sgn_chunk_rows and -%sgn_block_size must be positive", gn->prefix ? gn->prefix : "",
             gn->prefix ? gn->prefix : "", gn->prefix ? gn->prefix : "");
  PetscCheck(gn->grid_rows >= 0 && (gn->grid_rows == 0 || gn->size % gn->grid_rows == 0), gn->comm,
             PETSC_ERR_ARG_OUTOFRANGE, "-%sgn_grid_rows %" PetscInt_FMT " must divide the %d ranks",
             gn->prefix ? gn->prefix : "", gn->grid_rows, gn->size);
  if (!gn->setup) gn->lambda = gn->lambda0;
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonSetUp - Builds the BLACS grids and allocates the distributed normal matrix.

  Collective
@*/
PetscErrorCode KDGaussNewtonSetUp(KDGaussNewton gn)
{
  const int izero = 0, ione = 1;
  int P, K, b, nb, info, ld;

  PetscFunctionBegin;
  if (gn->setup) PetscFunctionReturn(0);
  PetscCheck(gn->x, gn->comm, PETSC_ERR_ORDER, "call KDGaussNewtonSetResidual() before KDGaussNewtonSetUp()");
  PetscCheck((PetscLogDouble) gn->n * (PetscLogDouble) gn->n < 2147483647.0 * (PetscLogDouble) gn->size, gn->comm,
             PETSC_ERR_SUP, "%" PetscInt_FMT " parameters: the local normal matrix would exceed 32-bit indexing",
             gn->n);
  /* Default: the most square grid with at least as many process rows as columns. pdpotrf("U") factors block rows;
     on a 1 x 2 grid every panel is split over both processes and its trailing update costs about 4x the time of the
     2 x 1 grid's (docs/benchmarks.md, "Gauss-Newton"). */
  if (gn->grid_rows > 0) {
    gn->nprow = (int) gn->grid_rows;
    gn->npcol = gn->size / gn->nprow;
  } else {
    for (gn->npcol = 1; (gn->npcol + 1) * (gn->npcol + 1) <= gn->size; gn->npcol++) {}
    while (gn->size % gn->npcol) gn->npcol--;
    gn->nprow = gn->size / gn->npcol;
  }
  gn->handle = Csys2blacs_handle(gn->comm);
  gn->ctxt   = gn->handle;
  Cblacs_gridinit(&gn->ctxt, "R", gn->nprow, gn->npcol);
  gn->ctxt1 = gn->handle;
  Cblacs_gridinit(&gn->ctxt1, "R", 1, gn->size);
  Cblacs_gridinfo(gn->ctxt, &gn->nprow, &gn->npcol, &gn->myrow, &gn->mycol);
  gn->setup  = PETSC_TRUE;
  gn->serial = gn->size == 1 ? PETSC_TRUE : PETSC_FALSE;

  P  = (int) gn->n;
  b  = (int) gn->chunk;
  K  = b * gn->size;
  nb = (int) gn->block;
  /* normal matrix C and its factor W: P x P, nb x nb blocks on the 2-D grid */
  gn->lrC = numroc_(&P, &nb, &gn->myrow, &izero, &gn->nprow);
  gn->lcC = numroc_(&P, &nb, &gn->mycol, &izero, &gn->npcol);
  ld      = PetscMax(1, gn->lrC);
  descinit_(gn->descC, &P, &P, &nb, &nb, &izero, &izero, &gn->ctxt, &ld, &info);
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "descinit_ of the normal matrix failed: info %d", info);
  /* right-hand side: P x 1 */
  gn->lrB = gn->lrC;
  descinit_(gn->descB, &P, &ione, &nb, &nb, &izero, &izero, &gn->ctxt, &ld, &info);
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "descinit_ of the right-hand side failed: info %d", info);
  /* a chunk of J^T, P x K: on the 1 x size grid rank k owns columns k b .. k b + b - 1 (its b rows of J), and the same
     matrix block-cyclic on the 2-D grid */
  ld = P;
  descinit_(gn->descS, &P, &K, &P, &b, &izero, &izero, &gn->ctxt1, &ld, &info);
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "descinit_ of the Jacobian chunk failed: info %d", info);
  gn->lcD = numroc_(&K, &nb, &gn->mycol, &izero, &gn->npcol);
  ld      = PetscMax(1, gn->lrC);
  descinit_(gn->descD, &P, &K, &nb, &nb, &izero, &izero, &gn->ctxt, &ld, &info);
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "descinit_ of the redistributed chunk failed: info %d", info);

  PetscCall(PetscMalloc2(PetscMax(1, gn->lrB), &gn->B, gn->serial ? 1 : (size_t) gn->lrC * gn->lcD, &gn->Jdst));
  PetscCall(PetscMalloc2((size_t) P * b, &gn->Jsrc, b, &gn->r));
  PetscCall(PetscMalloc4(2 * gn->n + 1, &gn->gdf, gn->n, &gn->delta, gn->n, &gn->xold, gn->n, &gn->Dsc));
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonGetDamping - The current damping lambda and its growth factor nu (for checkpoints).

  Not collective
@*/
PetscErrorCode KDGaussNewtonGetDamping(KDGaussNewton gn, PetscReal *lambda, PetscReal *nu)
{
  PetscFunctionBegin;
  if (lambda) *lambda = gn->lambda;
  if (nu) *nu = gn->nu;
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonSetDamping - Sets lambda and nu, e.g. from a checkpoint.

  Logically collective
@*/
PetscErrorCode KDGaussNewtonSetDamping(KDGaussNewton gn, PetscReal lambda, PetscReal nu)
{
  PetscFunctionBegin;
  PetscCheck(lambda >= 0 && nu >= 1, gn->comm, PETSC_ERR_ARG_OUTOFRANGE, "damping %g, factor %g out of range",
             (double) lambda, (double) nu);
  gn->lambda = lambda;
  gn->nu     = nu;
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonResetDamping - Returns lambda and nu to their initial values (-<prefix>gn_lambda, 2), for a problem that
  changed under the solver: the damping a previous run of steps ended with (huge after a step no damping could make
  decrease the loss) says nothing about it.

  Logically collective

.seealso: KDGaussNewtonSetDamping()
@*/
PetscErrorCode KDGaussNewtonResetDamping(KDGaussNewton gn)
{
  PetscFunctionBegin;
  gn->lambda = gn->lambda0;
  gn->nu     = 2.0;
  PetscFunctionReturn(0);
}

/* F = |R|^2 at the current parameters: the rows only (no Jacobian), one allreduce. */
static PetscErrorCode KDGaussNewtonObjective(KDGaussNewton gn, PetscReal *F)
{
  PetscInt m;
  PetscReal s = 0.0;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_GN_RESIDUAL, 0, 0, 0, 0));
  PetscCall((*gn->rsize)(gn->rctx, &m));
  for (PetscInt start = 0; start < m; start += gn->chunk) {
    const PetscInt cnt = PetscMin(gn->chunk, m - start);
    PetscCall((*gn->rfun)(gn->rctx, start, cnt, gn->r, NULL));
    for (PetscInt i = 0; i < cnt; i++) s += gn->r[i] * gn->r[i];
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &s, 1, MPIU_REAL, MPI_SUM, gn->comm));
  PetscCall(PetscLogEventEnd(KD_GN_RESIDUAL, 0, 0, 0, 0));
  *F = s;
  PetscFunctionReturn(0);
}

/* Global index of local row (or column) l of a block-cyclic matrix: blocks of nb over np processes, this one me. */
static inline PetscInt KDGaussNewtonGlobalIndex(PetscInt l, int nb, int np, int me)
{
  return ((l / nb) * np + me) * nb + l % nb;
}

/* g += J^T r, diag += the squares of J's columns, F += |r|^2 over cnt rows (row-major J), into gdf = [g | diag | F]. */
static void KDGaussNewtonAccumulateRows(PetscInt n, PetscInt cnt, const PetscReal J[], const PetscReal r[],
                                        PetscReal gdf[])
{
  PetscReal *g = gdf, *d = gdf + n;

  for (PetscInt q = 0; q < cnt; q++) {
    const PetscReal *Jq = J + q * n, rq = r[q];
    for (PetscInt i = 0; i < n; i++) {
      g[i] += Jq[i] * rq;
      d[i] += Jq[i] * Jq[i];
    }
    gdf[2 * n] += rq * rq;
  }
}

/* -gn_precision mixed: this rank's rows of J are kept (double) for the products of the solve; J^T J is formed from
   their single-precision copy by ssyrk, into a P x P buffer summed over the ranks by one allreduce of P^2 floats (one
   rank: into C directly), and each rank keeps its block-cyclic part. g, diag and F are summed in double. */
static PetscErrorCode KDGaussNewtonFormMixed(KDGaussNewton gn)
{
  const PetscInt n = gn->n, b = gn->chunk;
  const int P = (int) n, nb = (int) gn->block, ld = PetscMax(1, gn->lrC);
  PetscInt m;
  float *S;

  PetscFunctionBegin;
  PetscCheck((PetscLogDouble) n * n < 2147483647.0, gn->comm, PETSC_ERR_SUP,
             "-%sgn_precision mixed: %" PetscInt_FMT " parameters exceed one allreduce of P^2 values",
             gn->prefix ? gn->prefix : "", n);
  PetscCall((*gn->rsize)(gn->rctx, &m));
  if (m > gn->mJ) {
    PetscCall(PetscFree3(gn->Jloc, gn->yp, gn->yx));
    PetscCall(PetscMalloc3((size_t) m * n, &gn->Jloc, m, &gn->yp, m, &gn->yx));
    gn->mJ = m;
  }
  gn->m = m;
  if (!gn->allocated_mixed) { /* C may be empty on a rank: a flag, not a pointer, says the arrays exist */
    gn->allocated_mixed = PETSC_TRUE;
    PetscCall(PetscMalloc3((size_t) gn->lrC * gn->lcC, &gn->Cs, (size_t) gn->lrC * gn->lcC, &gn->Ws,
                           PetscMax(1, gn->lrB), &gn->Bs));
    PetscCall(PetscMalloc2((size_t) n * b, &gn->Js, 5 * n, &gn->cg));
    if (!gn->serial) PetscCall(PetscMalloc1((size_t) n * n, &gn->Cfulls));
  }
  S = gn->serial ? gn->Cs : gn->Cfulls;
  PetscCall(PetscArrayzero(S, (size_t) n * n));
  PetscCall(PetscArrayzero(gn->gdf, 2 * n + 1));
  for (PetscInt start = 0; start < m; start += b) {
    const PetscInt cnt = PetscMin(b, m - start);
    PetscReal *Jc      = gn->Jloc + (size_t) start * n;

    PetscCall(PetscLogEventBegin(KD_GN_JACOBIAN, 0, 0, 0, 0));
    PetscCall((*gn->rfun)(gn->rctx, start, cnt, gn->r, Jc));
    KDGaussNewtonAccumulateRows(n, cnt, Jc, gn->r, gn->gdf);
    for (size_t k = 0; k < (size_t) cnt * n; k++) gn->Js[k] = (float) Jc[k];
    PetscCall(PetscLogEventEnd(KD_GN_JACOBIAN, 0, 0, 0, 0));
    PetscCall(PetscLogEventBegin(KD_GN_NORMAL, 0, 0, 0, 0));
    cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, P, (int) cnt, 1.0f, gn->Js, P, 1.0f, S, P);
    PetscCall(PetscLogFlops((PetscLogDouble) cnt * (PetscLogDouble) P * (PetscLogDouble) P));
    PetscCall(PetscLogEventEnd(KD_GN_NORMAL, 0, 0, 0, 0));
  }
  if (!gn->serial) {
    PetscCall(PetscLogEventBegin(KD_GN_NORMAL, 0, 0, 0, 0));
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, S, (PetscMPIInt) (n * n), MPI_FLOAT, MPI_SUM, gn->comm));
    for (int lj = 0; lj < gn->lcC; lj++) {
      const PetscInt j = KDGaussNewtonGlobalIndex(lj, nb, gn->npcol, gn->mycol);
      for (int li = 0; li < gn->lrC; li++) {
        const PetscInt i              = KDGaussNewtonGlobalIndex(li, nb, gn->nprow, gn->myrow);
        gn->Cs[li + (size_t) lj * ld] = i <= j ? S[i + (size_t) j * n] : 0.0f;
      }
    }
    PetscCall(PetscLogEventEnd(KD_GN_NORMAL, 0, 0, 0, 0));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, gn->gdf, (PetscMPIInt) (2 * n + 1), MPIU_REAL, MPI_SUM, gn->comm));
  PetscFunctionReturn(0);
}

/* The normal equations in double precision (the body of KDGaussNewtonFormNormalEquations() for -gn_precision double,
   and what KDGaussNewtonInverseColumns() factors whatever the precision). */
static PetscErrorCode KDGaussNewtonFormDouble(KDGaussNewton gn)
{
  const int ione = 1, P = (int) gn->n;
  const PetscInt n = gn->n, b = gn->chunk;
  const double one = 1.0;
  PetscInt m, mmax, nchunks;
  PetscBool local;
  int K = (int) (b * gn->size);

  PetscFunctionBegin;
  if (!gn->allocated_double) {
    gn->allocated_double = PETSC_TRUE;
    PetscCall(PetscMalloc2((size_t) gn->lrC * gn->lcC, &gn->C, (size_t) gn->lrC * gn->lcC, &gn->W));
  }
  PetscCall((*gn->rsize)(gn->rctx, &m));
  PetscCallMPI(MPI_Allreduce(&m, &mmax, 1, MPIU_INT, MPI_MAX, gn->comm));
  local = !gn->serial && (gn->normal == KD_GN_NORMAL_LOCAL || (gn->normal == KD_GN_NORMAL_AUTO && n <= 8192))
              ? PETSC_TRUE
              : PETSC_FALSE;
  if (local) {
    PetscCheck((PetscLogDouble) n * n < 2147483647.0, gn->comm, PETSC_ERR_SUP,
               "-%sgn_normal_matrix local: %" PetscInt_FMT " parameters exceed one allreduce of P^2 values",
               gn->prefix ? gn->prefix : "", n);
    if (!gn->Cfull) PetscCall(PetscMalloc1((size_t) n * n, &gn->Cfull));
    PetscCall(PetscArrayzero(gn->Cfull, (size_t) n * n));
  }
  /* the redistribution is collective per chunk, the local formation is not */
  nchunks = local ? (m + b - 1) / b : (mmax + b - 1) / b;
  PetscCall(PetscArrayzero(gn->gdf, 2 * n + 1));
  for (PetscInt c = 0; c < nchunks; c++) {
    const PetscInt start = c * b, cnt = PetscMax(0, PetscMin(b, m - start));
    const double beta = c ? 1.0 : 0.0;

    PetscCall(PetscLogEventBegin(KD_GN_JACOBIAN, 0, 0, 0, 0));
    /* rows beyond this rank's last one are zero: they change neither J^T J nor J^T R */
    PetscCall(PetscArrayzero(gn->Jsrc + cnt * n, (b - cnt) * n));
    if (cnt > 0) PetscCall((*gn->rfun)(gn->rctx, start, cnt, gn->r, gn->Jsrc));
    KDGaussNewtonAccumulateRows(n, cnt, gn->Jsrc, gn->r, gn->gdf);
    PetscCall(PetscLogEventEnd(KD_GN_JACOBIAN, 0, 0, 0, 0));
    PetscCall(PetscLogEventBegin(KD_GN_NORMAL, 0, 0, 0, 0));
    if (gn->serial)
      cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, P, K, one, gn->Jsrc, P, beta, gn->C, P);
    else if (local) {
      cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, P, (int) cnt, one, gn->Jsrc, P, one, gn->Cfull, P);
    } else {
      pdgemr2d_(&P, &K, gn->Jsrc, &ione, &ione, gn->descS, gn->Jdst, &ione, &ione, gn->descD, &gn->ctxt);
      pdsyrk_("U", "N", &P, &K, &one, gn->Jdst, &ione, &ione, gn->descD, &beta, gn->C, &ione, &ione, gn->descC);
    }
    PetscCall(PetscLogFlops((PetscLogDouble) (local ? cnt : K) * (PetscLogDouble) P * (PetscLogDouble) P /
                            (local ? 1 : gn->size)));
    PetscCall(PetscLogEventEnd(KD_GN_NORMAL, 0, 0, 0, 0));
  }
  if (local) {
    const int nb = (int) gn->block, ld = PetscMax(1, gn->lrC);
    PetscCall(PetscLogEventBegin(KD_GN_NORMAL, 0, 0, 0, 0));
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, gn->Cfull, (PetscMPIInt) (n * n), MPIU_REAL, MPI_SUM, gn->comm));
    /* this rank's blocks of the upper triangle; pdpotrf("U") never reads the strict lower one */
    for (int lj = 0; lj < gn->lcC; lj++) {
      const PetscInt j = KDGaussNewtonGlobalIndex(lj, nb, gn->npcol, gn->mycol);
      for (int li = 0; li < gn->lrC; li++) {
        const PetscInt i             = KDGaussNewtonGlobalIndex(li, nb, gn->nprow, gn->myrow);
        gn->C[li + (size_t) lj * ld] = i <= j ? gn->Cfull[i + (size_t) j * n] : 0.0;
      }
    }
    PetscCall(PetscLogEventEnd(KD_GN_NORMAL, 0, 0, 0, 0));
  } else if (!nchunks)
    PetscCall(PetscArrayzero(gn->C, (size_t) gn->lrC * gn->lcC));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, gn->gdf, (PetscMPIInt) (2 * n + 1), MPIU_REAL, MPI_SUM, gn->comm));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDGaussNewtonForm(KDGaussNewton gn, KDGaussNewtonPrecision precision, PetscReal *F)
{
  PetscFunctionBegin;
  PetscCall(KDGaussNewtonSetUp(gn));
  if (precision == KD_GN_PRECISION_MIXED)
    PetscCall(KDGaussNewtonFormMixed(gn));
  else
    PetscCall(KDGaussNewtonFormDouble(gn));
  gn->F                = gn->gdf[2 * gn->n];
  gn->formed           = PETSC_TRUE;
  gn->formed_precision = precision;
  if (F) *F = gn->F;
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonFormNormalEquations - At the current parameters: the distributed normal matrix J^T J, the gradient
  g = J^T R, diag(J^T J) and F = |R|^2 (replicated). With -gn_precision mixed J^T J is formed in single precision and
  this rank's rows of J are kept for the products of KDGaussNewtonSolveDamped().

  Collective

  Output Parameter:
. F - |R|^2, the loss

.seealso: KDGaussNewtonSolveDamped(), KDGaussNewtonStep()
@*/
PetscErrorCode KDGaussNewtonFormNormalEquations(KDGaussNewton gn, PetscReal *F)
{
  PetscFunctionBegin;
  PetscCall(KDGaussNewtonForm(gn, gn->precision, F));
  PetscFunctionReturn(0);
}

/* Dsc = the diagonal of the damping matrix D (-gn_damping) at the last formation; returns max diag(J^T J). */
static PetscReal KDGaussNewtonDampingScale(KDGaussNewton gn)
{
  const PetscInt n   = gn->n;
  const PetscReal *d = gn->gdf + n;
  PetscReal dmax     = 0.0;

  for (PetscInt i = 0; i < n; i++) dmax = PetscMax(dmax, d[i]);
  for (PetscInt i = 0; i < n; i++)
    gn->Dsc[i] = gn->damping == KD_GN_DAMPING_IDENTITY ? 1.0 : PetscMax(d[i], gn->floor * dmax);
  return dmax;
}

/* Whether this rank holds the diagonal entry (i, i) of the block-cyclic normal matrix, and its local offset: global
   (i, i) lives on process (i / nb mod nprow, i / nb mod npcol) at local (i / (nb nprow) nb + i mod nb, ...). */
static PetscBool KDGaussNewtonLocalDiagonal(KDGaussNewton gn, PetscInt i, PetscInt *k)
{
  const PetscInt nb = gn->block, blk = i / nb;

  if (blk % gn->nprow != gn->myrow || blk % gn->npcol != gn->mycol) return PETSC_FALSE;
  *k = (blk / gn->nprow) * nb + i % nb + ((blk / gn->npcol) * nb + i % nb) * PetscMax(1, gn->lrC);
  return PETSC_TRUE;
}

/* W = C + lambda D, factored by Cholesky in place (pdpotrf on the grid, or dpotrf on one rank); *spd = PETSC_FALSE if
   it is not numerically positive definite. */
static PetscErrorCode KDGaussNewtonFactorDamped(KDGaussNewton gn, PetscReal lambda, PetscBool *spd)
{
  const int ione = 1, P = (int) gn->n;
  const PetscInt n = gn->n;
  PetscInt k;
  int info = 0;

  PetscFunctionBegin;
  PetscCheck(gn->formed && gn->formed_precision == KD_GN_PRECISION_DOUBLE, gn->comm, PETSC_ERR_ORDER,
             "call KDGaussNewtonFormNormalEquations() first");
  (void) KDGaussNewtonDampingScale(gn);
  PetscCall(PetscArraycpy(gn->W, gn->C, (size_t) gn->lrC * gn->lcC));
  for (PetscInt i = 0; i < n; i++)
    if (KDGaussNewtonLocalDiagonal(gn, i, &k)) gn->W[k] += lambda * gn->Dsc[i];
  if (gn->serial) {
    PetscBLASInt bP = P, binfo = 0;
    PetscCallBLAS("LAPACKpotrf", LAPACKpotrf_("U", &bP, gn->W, &bP, &binfo));
    info = (int) binfo;
  } else {
    pdpotrf_("U", &P, gn->W, &ione, &ione, gn->descC, &info);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &info, 1, MPI_INT, MPI_MAX, gn->comm));
  }
  PetscCheck(info >= 0, gn->comm, PETSC_ERR_LIB, "pdpotrf_: illegal argument %d", -info);
  PetscCall(PetscLogFlops((PetscLogDouble) P * P * P / 3.0 / gn->size));
  *spd = info == 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* x = W^-1 rhs with the factor of KDGaussNewtonFactorDamped(); rhs and x replicated (they may be the same array). */
static PetscErrorCode KDGaussNewtonSolveFactored(KDGaussNewton gn, const PetscReal rhs[], PetscReal x[])
{
  const int ione = 1, P = (int) gn->n, nb = (int) gn->block;
  const PetscInt n = gn->n;
  int info         = 0;

  PetscFunctionBegin;
  if (gn->serial) {
    PetscBLASInt bP = P, bone = 1, binfo = 0;
    if (x != rhs) PetscCall(PetscArraycpy(x, rhs, n));
    PetscCallBLAS("LAPACKpotrs", LAPACKpotrs_("U", &bP, &bone, gn->W, &bP, x, &bP, &binfo));
    PetscCheck(binfo == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "dpotrs failed: info %d", (int) binfo);
  } else {
    if (gn->mycol == 0)
      for (PetscInt li = 0; li < gn->lrB; li++) gn->B[li] = rhs[KDGaussNewtonGlobalIndex(li, nb, gn->nprow, gn->myrow)];
    pdpotrs_("U", &P, &ione, gn->W, &ione, &ione, gn->descC, gn->B, &ione, &ione, gn->descB, &info);
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "pdpotrs_ failed: info %d", info);
    PetscCall(PetscArrayzero(x, n));
    if (gn->mycol == 0)
      for (PetscInt li = 0; li < gn->lrB; li++) x[KDGaussNewtonGlobalIndex(li, nb, gn->nprow, gn->myrow)] = gn->B[li];
    /* each entry has exactly one owner: the sum only adds zeros, so every rank gets the same bits */
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, x, (PetscMPIInt) n, MPIU_REAL, MPI_SUM, gn->comm));
  }
  PetscFunctionReturn(0);
}

/* -gn_precision mixed: W = C + lambda D + shift D' in single precision, factored by Cholesky in place (pspotrf on the
   grid, spotrf on one rank), D' = max(diag(J^T J), floor max diag), with the smallest shift of 0, 1e-6, 1e-5, 1e-4 at
   which single precision factors it. The factor only preconditions the conjugate gradients: a shift slows them (a
   damping below single precision's round-off, late in a converging run: about 20-60 iterations at a shift of 1e-5
   with lambda 3e-6), it does not change the step. *spd = PETSC_FALSE if no shift did. */
static PetscErrorCode KDGaussNewtonFactorMixed(KDGaussNewton gn, PetscReal lambda, PetscBool *spd)
{
  const int ione = 1, P = (int) gn->n;
  const PetscInt n   = gn->n;
  const PetscReal *d = gn->gdf + n;
  PetscReal dmax, shift = 0.0;
  PetscInt k;
  int info = 1;

  PetscFunctionBegin;
  dmax = KDGaussNewtonDampingScale(gn);
  for (int t = 0; t < 4 && info; t++) {
    shift = t ? PetscPowReal(10.0, (PetscReal) (t - 7)) : 0.0;
    PetscCall(PetscArraycpy(gn->Ws, gn->Cs, (size_t) gn->lrC * gn->lcC));
    for (PetscInt i = 0; i < n; i++)
      if (KDGaussNewtonLocalDiagonal(gn, i, &k))
        gn->Ws[k] += (float) (lambda * gn->Dsc[i] + shift * PetscMax(d[i], gn->floor * dmax));
    if (gn->serial) {
      PetscBLASInt bP = P, binfo = 0;
      PetscCallBLAS("LAPACKspotrf", spotrf_("U", &bP, gn->Ws, &bP, &binfo));
      info = (int) binfo;
    } else {
      pspotrf_("U", &P, gn->Ws, &ione, &ione, gn->descC, &info);
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &info, 1, MPI_INT, MPI_MAX, gn->comm));
    }
    PetscCheck(info >= 0, gn->comm, PETSC_ERR_LIB, "%s: illegal argument %d", gn->serial ? "spotrf" : "pspotrf_",
               -info);
    PetscCall(PetscLogFlops((PetscLogDouble) P * P * P / 3.0 / gn->size));
  }
  gn->shift = shift;
  *spd      = info == 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* z = W^-1 r with the single-precision factor of KDGaussNewtonFactorMixed(); r and z replicated, in double. */
static PetscErrorCode KDGaussNewtonApplyFactorMixed(KDGaussNewton gn, const PetscReal r[], PetscReal z[])
{
  const int ione = 1, P = (int) gn->n, nb = (int) gn->block;
  const PetscInt n = gn->n;
  int info         = 0;

  PetscFunctionBegin;
  if (gn->serial) {
    PetscBLASInt bP = P, bone = 1, binfo = 0;
    for (PetscInt i = 0; i < n; i++) gn->Bs[i] = (float) r[i];
    PetscCallBLAS("LAPACKspotrs", spotrs_("U", &bP, &bone, gn->Ws, &bP, gn->Bs, &bP, &binfo));
    PetscCheck(binfo == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "spotrs failed: info %d", (int) binfo);
    for (PetscInt i = 0; i < n; i++) z[i] = gn->Bs[i];
  } else {
    if (gn->mycol == 0)
      for (PetscInt li = 0; li < gn->lrB; li++)
        gn->Bs[li] = (float) r[KDGaussNewtonGlobalIndex(li, nb, gn->nprow, gn->myrow)];
    pspotrs_("U", &P, &ione, gn->Ws, &ione, &ione, gn->descC, gn->Bs, &ione, &ione, gn->descB, &info);
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "pspotrs_ failed: info %d", info);
    PetscCall(PetscArrayzero(z, n));
    if (gn->mycol == 0)
      for (PetscInt li = 0; li < gn->lrB; li++) z[KDGaussNewtonGlobalIndex(li, nb, gn->nprow, gn->myrow)] = gn->Bs[li];
    /* one owner per entry, as in KDGaussNewtonSolveFactored() */
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, z, (PetscMPIInt) n, MPIU_REAL, MPI_SUM, gn->comm));
  }
  PetscFunctionReturn(0);
}

/* q = (J^T J + lambda D) p in double from this rank's rows of J (kept by the mixed formation), and y = J p on them;
   one allreduce of P values. */
static PetscErrorCode KDGaussNewtonApplyNormal(KDGaussNewton gn, PetscReal lambda, const PetscReal p[], PetscReal q[],
                                               PetscReal y[])
{
  const PetscInt n = gn->n, m = gn->m;

  PetscFunctionBegin;
  if (m > 0) {
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int) m, (int) n, 1.0, gn->Jloc, (int) n, p, 1, 0.0, y, 1);
    cblas_dgemv(CblasRowMajor, CblasTrans, (int) m, (int) n, 1.0, gn->Jloc, (int) n, y, 1, 0.0, q, 1);
  } else
    PetscCall(PetscArrayzero(q, n)); /* BLAS returns early on an empty matrix and leaves q as it was */
  PetscCall(PetscLogFlops(4.0 * (PetscLogDouble) m * (PetscLogDouble) n));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, q, (PetscMPIInt) n, MPIU_REAL, MPI_SUM, gn->comm));
  for (PetscInt i = 0; i < n; i++) q[i] += lambda * gn->Dsc[i] * p[i];
  PetscFunctionReturn(0);
}

/* -gn_precision mixed: (C + lambda D) x = -g by conjugate gradients in double, preconditioned by the single-precision
   factor (flexible: Polak-Ribiere beta, since rounding to single makes the preconditioner slightly nonlinear), from
   x = 0 until |residual| <= rtol |g|; *solved = PETSC_FALSE if single precision cannot factor the damped matrix or
   max_it iterations do not reach rtol (the caller then solves in double). The predicted reduction of the step uses
   |J x|^2, accumulated from the products. Every rank does the same replicated vector arithmetic on allreduced values,
   so every rank takes the same decisions. */
static PetscErrorCode KDGaussNewtonSolveMixed(KDGaussNewton gn, PetscReal lambda, PetscReal x[], PetscBool *solved)
{
  const PetscInt n = gn->n, m = gn->m;
  const PetscReal *g = gn->gdf;
  PetscReal *r = gn->cg, *z = r + n, *p = z + n, *q = p + n, *zold = q + n;
  PetscReal bnorm = 0.0, rnorm, rz = 0.0, pq, rdz, alpha, beta, s = 0.0;
  PetscBool spd = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCheck(gn->formed && gn->formed_precision == KD_GN_PRECISION_MIXED, gn->comm, PETSC_ERR_ORDER,
             "call KDGaussNewtonFormNormalEquations() first");
  gn->its     = 0;
  gn->rnorm   = 1.0;
  gn->Jdelta2 = 0.0;
  PetscCall(KDGaussNewtonFactorMixed(gn, lambda, &spd));
  *solved = PETSC_FALSE;
  if (!spd) {
    PetscCall(PetscInfo(NULL, "lambda %g: single precision cannot factor the damped normal matrix, solved in double\n",
                        (double) lambda));
    PetscFunctionReturn(0);
  }
  for (PetscInt i = 0; i < n; i++) {
    r[i] = -g[i];
    x[i] = 0.0;
    bnorm += r[i] * r[i];
  }
  bnorm = PetscSqrtReal(bnorm);
  rnorm = bnorm;
  PetscCall(PetscArrayzero(gn->yx, m));
  if (bnorm > 0) {
    PetscCall(KDGaussNewtonApplyFactorMixed(gn, r, z));
    PetscCall(PetscArraycpy(p, z, n));
    for (PetscInt i = 0; i < n; i++) rz += r[i] * z[i];
  }
  while (gn->its < gn->max_it && rnorm > gn->rtol * bnorm) {
    PetscCall(KDGaussNewtonApplyNormal(gn, lambda, p, q, gn->yp));
    pq = 0.0;
    for (PetscInt i = 0; i < n; i++) pq += p[i] * q[i];
    if (!(pq > 0 && rz > 0)) break; /* round-off has taken the curvature or the preconditioner below zero */
    alpha = rz / pq;
    rnorm = 0.0;
    for (PetscInt i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * q[i];
      rnorm += r[i] * r[i];
    }
    for (PetscInt k = 0; k < m; k++) gn->yx[k] += alpha * gn->yp[k];
    rnorm = PetscSqrtReal(rnorm);
    gn->its++;
    if (rnorm <= gn->rtol * bnorm) break;
    PetscCall(PetscArraycpy(zold, z, n));
    PetscCall(KDGaussNewtonApplyFactorMixed(gn, r, z));
    rdz = 0.0;
    for (PetscInt i = 0; i < n; i++) rdz += r[i] * (z[i] - zold[i]);
    beta = rdz / rz;
    rz   = 0.0;
    for (PetscInt i = 0; i < n; i++) {
      rz += r[i] * z[i];
      p[i] = z[i] + beta * p[i];
    }
  }
  for (PetscInt k = 0; k < m; k++) s += gn->yx[k] * gn->yx[k];
  PetscCallMPI(MPI_Allreduce(&s, &gn->Jdelta2, 1, MPIU_REAL, MPI_SUM, gn->comm));
  gn->rnorm = bnorm > 0 ? rnorm / bnorm : 0.0;
  gn->its_step += gn->its;
  *solved = rnorm <= gn->rtol * bnorm ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscInfo(NULL,
                      "mixed-precision solve, lambda %g: %" PetscInt_FMT
                      " CG iterations, relative residual %g, preconditioner shift %g%s\n",
                      (double) lambda, gn->its, (double) gn->rnorm, (double) gn->shift,
                      *solved ? "" : ": not converged, solved in double"));
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonSolveDamped - Solves (J^T J + lambda D) delta = -J^T R with the normal equations of the last
  KDGaussNewtonFormNormalEquations(), by pdpotrf/pdpotrs on the BLACS grid; with -gn_precision mixed by conjugate
  gradients in double (products with the kept rows of J) preconditioned by pspotrf/pspotrs of the single-precision
  J^T J, to -gn_rtol in at most -gn_max_it iterations. Where single precision cannot factor the damped matrix or the
  iterations do not reach -gn_rtol, the normal equations are formed again in double and solved as with
  -gn_precision double (and so are the later trials of the same step).

  Collective

  Input Parameters:
+ gn     - the solver
- lambda - the damping (D from -gn_damping)

  Output Parameters:
+ delta - the step, replicated on every rank (length nparams)
- spd   - PETSC_FALSE if the damped matrix was not numerically positive definite (delta is then undefined)

.seealso: KDGaussNewtonFormNormalEquations()
@*/
PetscErrorCode KDGaussNewtonSolveDamped(KDGaussNewton gn, PetscReal lambda, PetscReal delta[], PetscBool *spd)
{
  PetscFunctionBegin;
  if (gn->formed && gn->formed_precision == KD_GN_PRECISION_MIXED) {
    PetscBool solved;

    PetscCall(PetscLogEventBegin(KD_GN_SOLVE, 0, 0, 0, 0));
    PetscCall(KDGaussNewtonSolveMixed(gn, lambda, delta, &solved));
    PetscCall(PetscLogEventEnd(KD_GN_SOLVE, 0, 0, 0, 0));
    if (solved) {
      *spd = PETSC_TRUE;
      PetscFunctionReturn(0);
    }
    /* the same rows at the same parameters: g, diag(J^T J) and F come out bit for bit as before */
    PetscCall(KDGaussNewtonForm(gn, KD_GN_PRECISION_DOUBLE, NULL));
  }
  PetscCall(PetscLogEventBegin(KD_GN_SOLVE, 0, 0, 0, 0));
  PetscCall(KDGaussNewtonFactorDamped(gn, lambda, spd));
  if (*spd) {
    for (PetscInt i = 0; i < gn->n; i++) delta[i] = -gn->gdf[i];
    PetscCall(KDGaussNewtonSolveFactored(gn, delta, delta));
  }
  PetscCall(PetscLogEventEnd(KD_GN_SOLVE, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonInverseColumns - Columns of the inverse of the damped normal matrix at the current parameters,
  (J^T J + lambda D)^-1 e_j for j in idx: how every parameter best follows a change of parameter j (Optimal Brain
  Surgeon), e.g. to compensate the rounding of a weight.

  Collective

  Input Parameters:
+ gn     - the solver (its residual set)
. lambda - the damping; the smallest that keeps the matrix positive definite is taken, from lambda up by factors of 10
. nidx   - number of columns
- idx    - their indices

  Output Parameters:
+ cols   - nparams x nidx, column a at cols + a nparams, replicated on every rank (NaN if no damping up to
           10^11 lambda made the matrix positive definite)
- used   - the damping used (NaN then)

  Notes:
  Forms the normal equations (KDGaussNewtonFormNormalEquations()), factors once and solves with the nidx unit vectors.

.seealso: KDGaussNewtonInverseBlock()
@*/
PetscErrorCode KDGaussNewtonInverseColumns(KDGaussNewton gn, PetscReal lambda, PetscInt nidx, const PetscInt idx[],
                                           PetscReal cols[], PetscReal *used)
{
  PetscBool spd = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(KDGaussNewtonForm(gn, KD_GN_PRECISION_DOUBLE, NULL)); /* whatever -gn_precision: columns of the inverse */
  PetscCall(PetscLogEventBegin(KD_GN_SOLVE, 0, 0, 0, 0));
  lambda = PetscMax(lambda, PetscMax(gn->lambda_min, 1e-12)); /* a zero damping could never grow */
  for (PetscInt k = 0; k < 12 && !spd; k++, lambda *= 10) PetscCall(KDGaussNewtonFactorDamped(gn, lambda, &spd));
  gn->formed = PETSC_FALSE;
  if (!spd) { /* the caller decides: an optional diagnostic must not end a finished training */
    for (size_t a = 0; a < (size_t) nidx * gn->n; a++) cols[a] = (PetscReal) NAN;
    *used = (PetscReal) NAN;
    PetscCall(PetscLogEventEnd(KD_GN_SOLVE, 0, 0, 0, 0));
    PetscFunctionReturn(0);
  }
  *used = lambda / 10;
  for (PetscInt a = 0; a < nidx; a++) {
    PetscReal *e = cols + (size_t) a * gn->n;
    PetscCall(PetscArrayzero(e, gn->n));
    e[idx[a]] = 1.0;
    PetscCall(KDGaussNewtonSolveFactored(gn, e, e));
  }
  PetscCall(PetscLogEventEnd(KD_GN_SOLVE, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonInverseBlock - A block of the inverse of the damped normal matrix at the current parameters,
  [(J^T J + lambda D)^-1]_{idx, idx}: for parameters idx of a model whose other parameters are many (the inferred PDE
  parameters beside a network), the inverse of the Schur complement of the rest, which is the Laplace (Gauss-Newton)
  posterior covariance of those parameters up to the noise variance.

  Collective

  Input Parameters: gn, lambda, nidx, idx as KDGaussNewtonInverseColumns()

  Output Parameters:
+ block  - nidx x nidx, row-major (NaN if no damping up to 10^11 lambda made the matrix positive definite)
- used   - the damping used (NaN then)

.seealso: KDGaussNewtonInverseColumns(), KDLossSetInferredCovariance(), docs/inverse.md
@*/
PetscErrorCode KDGaussNewtonInverseBlock(KDGaussNewton gn, PetscReal lambda, PetscInt nidx, const PetscInt idx[],
                                         PetscReal block[], PetscReal *used)
{
  PetscReal *cols;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1((size_t) nidx * gn->n, &cols));
  PetscCall(KDGaussNewtonInverseColumns(gn, lambda, nidx, idx, cols, used));
  for (PetscInt a = 0; a < nidx; a++)
    for (PetscInt b = 0; b < nidx; b++) block[b * nidx + a] = cols[(size_t) a * gn->n + idx[b]];
  PetscCall(PetscFree(cols));
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonStep - One Levenberg-Marquardt step from the current parameters: forms the normal equations, then
  solves with the current damping until the gain ratio accepts the step (at most -gn_max_trials solves).

  Collective

  Output Parameters:
+ F        - the loss |R|^2 at the parameters on return
- accepted - PETSC_FALSE if every trial was rejected (the parameters are then unchanged; lambda has grown)

.seealso: KDGaussNewtonSetResidual(), KDTrainerSetResidual(), docs/gauss-newton.md
@*/
PetscErrorCode KDGaussNewtonStep(KDGaussNewton gn, PetscReal *F, PetscBool *accepted)
{
  const PetscInt n = gn->n;
  const PetscReal *g;
  PetscReal F0;

  PetscFunctionBegin;
  PetscCall(KDGaussNewtonFormNormalEquations(gn, &F0));
  g            = gn->gdf; /* allocated by the first formation */
  *accepted    = PETSC_FALSE;
  *F           = F0;
  gn->trials   = 0;
  gn->its_step = 0;
  while (gn->trials < gn->max_trials && !*accepted) {
    PetscBool spd;
    PetscReal Fnew = PETSC_MAX_REAL, pred = 0.0, rho = -1.0;

    gn->trials++;
    PetscCall(KDGaussNewtonSolveDamped(gn, gn->lambda, gn->delta, &spd));
    if (spd) {
      if (gn->formed_precision == KD_GN_PRECISION_MIXED) { /* the model's reduction |R|^2 - |R + J delta|^2 */
        for (PetscInt i = 0; i < n; i++) pred += -2.0 * gn->delta[i] * g[i];
        pred -= gn->Jdelta2;
      } else
        for (PetscInt i = 0; i < n; i++)
          pred += -gn->delta[i] * g[i] + gn->lambda * gn->Dsc[i] * gn->delta[i] * gn->delta[i];
      PetscCall(PetscArraycpy(gn->xold, gn->x, n));
      for (PetscInt i = 0; i < n; i++) gn->x[i] += gn->delta[i];
      PetscCall(KDGaussNewtonObjective(gn, &Fnew));
      if (pred > 0 && !PetscIsInfOrNanReal(Fnew)) rho = (F0 - Fnew) / pred;
    }
    if (rho > 0) {
      const PetscReal t = 2.0 * rho - 1.0;
      *accepted         = PETSC_TRUE;
      *F                = Fnew;
      gn->lambda        = PetscMax(gn->lambda * PetscMax(1.0 / 3.0, 1.0 - t * t * t), gn->lambda_min);
      gn->nu            = 2.0;
    } else {
      if (spd) PetscCall(PetscArraycpy(gn->x, gn->xold, n));
      gn->lambda = PetscMax(gn->lambda * gn->nu, gn->lambda_min);
      gn->nu *= 2.0;
    }
  }
  gn->formed = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonGetTrials - Number of trial solves the last KDGaussNewtonStep() made (1: the first was accepted).

  Not collective
@*/
PetscErrorCode KDGaussNewtonGetTrials(KDGaussNewton gn, PetscInt *trials)
{
  PetscFunctionBegin;
  *trials = gn->trials;
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonGetIterations - Conjugate-gradient iterations of the last KDGaussNewtonStep(), over its trials (0 with
  -gn_precision double).

  Not collective

.seealso: KDGaussNewtonGetTrials()
@*/
PetscErrorCode KDGaussNewtonGetIterations(KDGaussNewton gn, PetscInt *its)
{
  PetscFunctionBegin;
  *its = gn->its_step;
  PetscFunctionReturn(0);
}

/*@C
  KDGaussNewtonView - Prints the grid, the damping and the options.

  Collective
@*/
PetscErrorCode KDGaussNewtonView(KDGaussNewton gn, PetscViewer viewer)
{
  PetscBool ascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(gn->comm, &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "KDGaussNewton: %" PetscInt_FMT
                                   " parameters, %d x %d BLACS grid, blocks %" PetscInt_FMT ", %" PetscInt_FMT
                                   " rows per rank per chunk\n",
                                   gn->n, gn->setup ? gn->nprow : 0, gn->setup ? gn->npcol : 0, gn->block, gn->chunk));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  normal matrix: %s\n", KDGaussNewtonNormals[gn->normal]));
  if (gn->precision == KD_GN_PRECISION_MIXED)
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "  precision mixed: J^T J factored in single precision, CG in double to rtol %g"
                                     " in at most %" PetscInt_FMT " iterations\n",
                                     (double) gn->rtol, gn->max_it));
  else
    PetscCall(PetscViewerASCIIPrintf(viewer, "  precision double\n"));
  PetscCall(PetscViewerASCIIPrintf(
      viewer, "  damping %s (floor %g), lambda %g (initial %g, min %g), nu %g, %" PetscInt_FMT " trials per step\n",
      KDGaussNewtonDampings[gn->damping], (double) gn->floor, (double) gn->lambda, (double) gn->lambda0,
      (double) gn->lambda_min, (double) gn->nu, gn->max_trials));
  PetscFunctionReturn(0);
}
