#pragma once
/* Private interface of the reference solvers (solvers/): the numerical cores behind KDSolve<PDE>, callable without a
   KDReference so that the solvers' tests can drive them directly. Not installed, not part of the public API.
   Declared PETSC_EXTERN, not PETSC_INTERN: libkdpinn is a shared library by default and the tests link against it. */
#include <kdsolver.h>
#include "pde/heat.h"
#include "pde/conduction.h"
#include "pde/fisher.h"

/* The solvers of the built-in PDEs (KDSolverRegister() in src/stages/solve.c). */
PETSC_EXTERN PetscErrorCode KDSolveBurgers(KDPDE, KDReference);
PETSC_EXTERN PetscErrorCode KDSolveHeat(KDPDE, KDReference);
PETSC_EXTERN PetscErrorCode KDSolveCavity(KDPDE, KDReference);
PETSC_EXTERN PetscErrorCode KDSolveConduction(KDPDE, KDReference);
PETSC_EXTERN PetscErrorCode KDSolveFisher(KDPDE, KDReference);
/* The Cole-Hopf solution of Burgers' equation with u0 = -sin(pi x), for the solver's tests. */
PETSC_EXTERN PetscErrorCode KDBurgersExact(PetscReal, PetscReal, PetscReal, PetscReal *);

/* Fixed time steps that land on every snapshot time t_k = (k + 1/2) tfinal / nt of a reference's time axis (the
   heat and Fisher-KPP solvers): m steps of dt = tfinal / (2 nt m) per half snapshot interval, the fewest with dt <=
   dtmax (dtmax = 0: tfinal / (4 nt), two steps per half interval); snapshot k is reached after (2k + 1) m steps, the
   last after nsteps. */
static inline void KDSnapshotSteps(PetscReal tfinal, PetscInt nt, PetscReal dtmax, PetscReal *dt, PetscInt *nsteps)
{
  PetscInt m;

  if (dtmax <= 0) dtmax = tfinal / (4 * nt);
  m       = (PetscInt) PetscCeilReal(tfinal / (2 * nt * dtmax) * (1 - 1e-12));
  m       = PetscMax(m, 1);
  *dt     = tfinal / (2 * nt * m);
  *nsteps = (2 * nt - 1) * m;
}

/* ---- Burgers (solvers/burgers.c) ---------------------------------------------------------------------------- */
typedef struct {
  PetscReal nu;        /* viscosity, the PDE's parameter nu (-burgers_nu) */
  PetscReal advection; /* coefficient of u u_x, the PDE's parameter advection (-burgers_advection) */
  PetscReal tfinal;    /* -burgers_tfinal: final time */
  PetscReal cfl;       /* -burgers_cfl: fraction of the explicit stability limit used as the default time step */
  PetscInt nx;         /* -burgers_nx: cells in x */
  PetscInt nt;         /* -burgers_nt: stored snapshots in t */
  PetscInt order;      /* -burgers_order: order of the central differences in x (2 or 4) */
  PetscBool monitor;   /* -kd_monitor: a progress line per ~10% of the snapshots */
} KDBurgersOptions;

PETSC_EXTERN PetscErrorCode KDBurgersOptionsSetFromOptions(MPI_Comm, KDBurgersOptions *);
PETSC_EXTERN PetscErrorCode KDBurgersCreateTS(MPI_Comm, const KDBurgersOptions *, TS *, Vec *);
PETSC_EXTERN PetscErrorCode KDBurgersSolveGrid(MPI_Comm, const KDBurgersOptions *, Vec);
PETSC_EXTERN PetscErrorCode KDBurgersExactRow(PetscReal, PetscReal, PetscInt, const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDBurgersRelativeError(const KDBurgersOptions *, Vec, PetscReal *);

/* ---- Heat (solvers/heat.c) ------------------------------------------------------------------------------- */
typedef struct {
  PetscInt n;        /* -heat_n: cells per axis */
  PetscInt nt;       /* -heat_nt: stored snapshots, at t_k = (k + 1/2) tfinal / nt */
  PetscReal dt;      /* -heat_dt: largest time step (0: tfinal / (4 nt)); shrunk so that every snapshot time is a step
                        boundary */
  PetscBool view;    /* -heat_view: print the problem */
  PetscBool monitor; /* -kd_monitor: a progress line per ~1/8 of the snapshots */
} KDHeatOptions;

/* A solution on one rank's block of cells [xs, xs + xm) x [ys, ys + ym), all snapshots, and its error against
   KDHeatProblemBoundary() (the exact solution in manufactured mode). */
typedef struct {
  PetscInt n, nt, nsteps, xs, ys, xm, ym;
  PetscReal dt;
  PetscReal *u;     /* u[(k ym + (j - ys)) xm + (i - xs)], snapshot k, cell (i, j) */
  PetscReal errmax; /* max over snapshots and cells of |u - exact| */
  PetscReal errl2;  /* max over snapshots of the grid L2 norm (h^2 sum (u - exact)^2)^(1/2) */
  PetscInt kspits;  /* linear iterations, all steps */
  PetscLogDouble seconds;
} KDHeatSolution;

PETSC_EXTERN PetscErrorCode KDHeatOptionsSetFromOptions(MPI_Comm, KDHeatOptions *);
PETSC_EXTERN PetscErrorCode KDHeatSolveGrid(MPI_Comm, const KDHeatProblem *, const KDHeatOptions *, KDHeatSolution *);
PETSC_EXTERN PetscErrorCode KDHeatSolutionDestroy(KDHeatSolution *);

/* ---- Lid-driven cavity (solvers/cavity.c) -------------------------------------------------------------------- */
typedef enum {
  KD_CAVITY_WALL_THOM,  /* omega_w = -2 (psi_1 - psi_w + h psi_n) / h^2, first order at the wall */
  KD_CAVITY_WALL_JENSEN /* omega_w = -(8 psi_1 - psi_2 - 7 psi_w + 6 h psi_n) / (2 h^2), second order */
} KDCavityWall;
PETSC_EXTERN const char *const KDCavityWalls[];

typedef struct {
  PetscReal re;        /* Reynolds number, the PDE's parameter Re (-cavity_Re) */
  PetscInt n;          /* -cavity_n: cells per side of the output grid (n + 1 solver nodes per side) */
  KDCavityWall wall;   /* -cavity_wall: wall vorticity formula */
  PetscReal re_start;  /* -cavity_re_start: first Reynolds number of the continuation */
  PetscReal re_factor; /* -cavity_re_factor: largest ratio of successive Reynolds numbers */
  PetscBool mms;       /* -cavity_mms: manufactured-solution mode */
  PetscBool monitor;   /* -kd_monitor: Newton iterations and a summary per solve */
} KDCavityOptions;

PETSC_EXTERN PetscErrorCode KDCavityOptionsSetFromOptions(MPI_Comm, KDCavityOptions *);
/* u, v, p at the n x n cell centres, natural index j n + i, into Vecs of global size n^2 on the communicator. */
PETSC_EXTERN PetscErrorCode KDCavitySolveCells(MPI_Comm, const KDCavityOptions *, Vec, Vec, Vec);
/* The manufactured solution of -cavity_mms: u, v, p at (x, y); any output may be NULL. */
PETSC_EXTERN PetscErrorCode KDCavityExact(PetscReal, PetscReal, PetscReal *, PetscReal *, PetscReal *);

/* ---- Composite conduction (solvers/conduction.c) ------------------------------------------------------------- */
typedef struct {
  PetscInt n;        /* -conduction_n: cells per axis of the macroscopic grid */
  PetscInt celln;    /* -conduction_cell_n: cells per axis of the periodic cell problem */
  PetscBool view;    /* -conduction_view: print the microstructure */
  PetscBool monitor; /* -kd_monitor: progress lines and the bounds of K_eff */
} KDConductionOptions;

/* A solution on one rank's block of cells [xs, xs + xm) x [ys, ys + ym), and its error against the exact solution in
   manufactured mode (zero otherwise). */
typedef struct {
  PetscInt n, xs, ys, xm, ym;
  PetscReal *u;     /* u[(j - ys) xm + (i - xs)], cell (i, j) */
  PetscReal errmax; /* max over the cells of |u - exact| */
  PetscReal errl2;  /* grid L2 norm (h^2 sum (u - exact)^2)^(1/2) */
  PetscInt its;     /* CG iterations */
  PetscLogDouble seconds;
} KDConductionSolution;

PETSC_EXTERN PetscErrorCode KDConductionOptionsSetFromOptions(MPI_Comm, KDConductionOptions *);
PETSC_EXTERN PetscErrorCode KDConductionSolveGrid(MPI_Comm, const KDConductionProblem *, const KDConductionOptions *,
                                                  KDConductionSolution *);
PETSC_EXTERN PetscErrorCode KDConductionSolutionDestroy(KDConductionSolution *);
/* (comm, ms, n, K, asym): K_eff = [kxx, kxy, kyx, kyy] of the periodic cell problem on n x n cells; asym (may be NULL)
   the largest difference of its energy and flux forms relative to max |K| */
PETSC_EXTERN PetscErrorCode KDConductionCellProblem(MPI_Comm, const KDComposite *, PetscInt, PetscReal[4], PetscReal *);

/* ---- Fisher-KPP tumour growth (solvers/fisher.c) ------------------------------------------------------------- */
typedef struct {
  PetscInt n;        /* -fisher_n: cells per axis */
  PetscInt nt;       /* -fisher_nt: stored snapshots, at t_k = (k + 1/2) tfinal / nt */
  PetscReal dt;      /* -fisher_dt: largest time step (0: tfinal / (4 nt)); shrunk so that every snapshot time is a
                        step boundary */
  PetscInt celln;    /* -fisher_cell_n: cells per axis of the tissue's periodic cell problem (D_eff) */
  PetscBool view;    /* -fisher_view: print the problem */
  PetscBool monitor; /* -kd_monitor: a progress line per ~1/8 of the snapshots */
} KDFisherOptions;

/* A solution on one rank's block of cells [xs, xs + xm) x [ys, ys + ym), all snapshots; in manufactured mode its error
   against the exact solution (zero otherwise). */
typedef struct {
  PetscInt n, nt, nsteps, xs, ys, xm, ym;
  PetscReal dt;
  PetscReal *u;         /* u[(k ym + (j - ys)) xm + (i - xs)], snapshot k, cell (i, j) */
  PetscReal errmax;     /* max over snapshots and cells of |u - exact| */
  PetscReal errl2;      /* max over snapshots of the grid L2 norm (h^2 sum (u - exact)^2)^(1/2) */
  PetscReal umin, umax; /* range of u over the snapshots */
  PetscInt kspits;      /* Chebyshev iterations, all stages */
  PetscLogDouble seconds;
} KDFisherSolution;

PETSC_EXTERN PetscErrorCode KDFisherOptionsSetFromOptions(MPI_Comm, KDFisherOptions *);
PETSC_EXTERN PetscErrorCode KDFisherSolveGrid(MPI_Comm, const KDFisherProblem *, const KDFisherOptions *,
                                              KDFisherSolution *);
PETSC_EXTERN PetscErrorCode KDFisherSolutionDestroy(KDFisherSolution *);
