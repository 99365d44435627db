#pragma once
/* The tumour-growth problem (Fisher-KPP) on the unit square,

      u_t = div(D grad u) + rho u (1 - u)  on (0, tfinal] x [0,1]^2,   D du/dn = 0 on the walls,
      u(0, x, y) = amp exp(-((x - cx)^2 + (y - cy)^2) / (2 w^2)),

   what the fisher PDE (src/pde/fisher.c), its reference solver (solvers/fisher.c) and the tests share. Private to the
   library (not installed). Tissue: D(x, y) = D k(x, y), k = 1 in grey matter and white_ratio in white matter, the
   white regions a two-phase microstructure of period eps (a KDComposite with k1 = 1, k2 = white_ratio, src/pde/
   conduction.h: laminate, disks or a PGM image); homogeneous tissue (-fisher_tissue none) has k = 1.

   Manufactured mode (set from C by the solver's tests, never by an option): the exact solution
   u = 1/2 + exp(-t) cos(pi x) cos(2 pi y) / 5 + cos(t) cos(2 pi x) / 10, which has zero normal derivative on every
   wall, with the source f = u_t - div(D grad u) - rho u (1 - u) it needs (grad D from a smooth tissue). Planar mode
   (also from C only): the seed is a plane, so that the front is one-dimensional. */
#include "pde/conduction.h"

/* indices of the named parameters of the fisher PDE, in its declaration order (-fisher_<name>) */
enum {
  KD_FISHER_D,
  KD_FISHER_RHO,
  KD_FISHER_WHITE_RATIO,
  KD_FISHER_SEED_X,
  KD_FISHER_SEED_Y,
  KD_FISHER_SEED_AMP,
  KD_FISHER_SEED_WIDTH,
  KD_FISHER_DXX, /* the homogenized diffusion tensor diag(Dxx, Dyy) of coarse students (src/pde/fisher.c) */
  KD_FISHER_DYY,
  KD_FISHER_NPARAM
};

typedef struct {
  PetscReal param[KD_FISHER_NPARAM]; /* D, rho, white_ratio, seed_x, seed_y, seed_amp, seed_width, Dxx, Dyy */
  PetscBool heterogeneous;           /* white matter in the tissue (tissue holds it); else k = 1 */
  KDComposite tissue;                /* phase 2 = white matter; its k2 follows white_ratio (KDFisherProblemTissue) */
  PetscReal tfinal;                  /* end time; the problem lives on [0, tfinal] x [0,1]^2 */
  PetscBool manufactured;            /* manufactured-solution mode (convergence tests) */
  PetscBool planar;                  /* the seed is the plane x = seed_x: u0 = amp exp(-(x - cx)^2 / (2 w^2)) (the
                                        travelling-front test); set from C only */
} KDFisherProblem;

/* Checks the problem (D, rho, white_ratio, tfinal, the seed's width > 0; seed centre inside the square; amplitude in
   (0, 1]); every error is one line naming the option (-fisher_D, ...). */
PETSC_EXTERN PetscErrorCode KDFisherProblemCheck(MPI_Comm, const KDFisherProblem *);
/* Checks the problem and sets up its tissue (KDCompositeSetUp(): checks, places the disks, reads an image; errors name
   the -fisher_ option or the file). Collective. */
PETSC_EXTERN PetscErrorCode KDFisherProblemSetUp(MPI_Comm, KDFisherProblem *);
/* The white-matter indicator chi(x, y) in [0, 1] and its gradient (zero without tissue, and for sharp interfaces); the
   diffusivity is D (1 + (white_ratio - 1) chi). */
PETSC_EXTERN void KDFisherProblemTissue(const KDFisherProblem *, PetscReal, PetscReal, PetscReal *, PetscReal[2]);
/* u(0, x, y); in manufactured mode the exact solution at t = 0 */
PETSC_EXTERN PetscReal KDFisherProblemInitial(const KDFisherProblem *, PetscReal, PetscReal);
/* The source f(t, x, y): zero, or in manufactured mode what the exact solution needs. */
PETSC_EXTERN PetscReal KDFisherProblemSource(const KDFisherProblem *, PetscReal, PetscReal, PetscReal);
/* The exact solution of manufactured mode at (t, x, y). */
PETSC_EXTERN PetscReal KDFisherExact(PetscReal, PetscReal, PetscReal);
/* The problem of a fisher PDE (borrowed; its parameters follow KDPDESetParameter()); an error for another type. */
PETSC_EXTERN PetscErrorCode KDPDEFisherGetProblem(KDPDE, const KDFisherProblem **);
