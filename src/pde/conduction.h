#pragma once
/* The composite conduction problem -div(k(x,y) grad u) = f on the unit square, u = g on its boundary, with k from a
   two-phase microstructure of period eps: what the conduction PDE (src/pde/conduction.c), the microstructures
   (src/pde/composite.c), the reference solver and its periodic cell problem (solvers/conduction.c) and the tests
   share. Private to the library (not installed).

   A microstructure is one period cell Y = [0,1)^2 (unit-cell coordinates), tiled with period eps over the domain:
   k(x, y) = k1 + (k2 - k1) chi(frac(x / eps), frac(y / eps)), chi the indicator of phase 2 (smoothed over the
   interface width w when w > 0). Types:
     laminate      phase 2 is the layer s in [0, fraction) of the coordinate s along the layer normal (x or y)
     checkerboard  phase 2 is the squares [0,1/2)x[1/2,1) and [1/2,1)x[0,1/2) (fraction 0.5 only)
     disks         ndisks non-overlapping disks (periodically wrapped) of equal radius at the volume fraction,
                   placed at random from the seed
     image         a PGM image of one period (P2 or P5), pixel >= half the maximum grey value is phase 2; row 0 of
                   the image is the top of the cell (y near 1); fraction measured from the pixels; sharp only */
#include <kdpde.h>

typedef enum {
  KD_COMPOSITE_LAMINATE,
  KD_COMPOSITE_CHECKERBOARD,
  KD_COMPOSITE_DISKS,
  KD_COMPOSITE_IMAGE
} KDCompositeType;
PETSC_EXTERN const char *const KDCompositeTypes[]; /* "laminate", "checkerboard", "disks", "image" */

#define KD_COMPOSITE_MAX_DISKS 64
#define KD_COMPOSITE_MAX_PIXELS 256 /* an image has at most 256 x 256 pixels */

typedef struct {
  KDCompositeType type;
  PetscReal k1, k2;     /* phase conductivities, > 0 */
  PetscReal fraction;   /* volume fraction of phase 2, in (0, 1) (image: measured) */
  PetscReal eps;        /* period; 1/eps is an integer */
  PetscReal width;      /* interface width w in domain units, like eps (0: sharp); chi = (1 + tanh(d / w)) / 2, d the
                           signed distance to the interface (positive inside phase 2) in domain units */
  PetscInt orientation; /* laminate: 0 layers normal to x, 1 normal to y */
  PetscInt ndisks;      /* disks: number of disks per cell */
  PetscInt seed;        /* disks: placement seed */
  PetscReal radius;     /* disks: radius in unit-cell units */
  PetscReal disk[2 * KD_COMPOSITE_MAX_DISKS]; /* disks: centres (cx, cy) in [0,1)^2 */
  PetscInt nx, ny;                            /* image: pixels per row, rows */
  unsigned char *pixel; /* image: ny x nx, 1 = phase 2, row-major from the top row; owned (KDCompositeReset()) */
  char source[256];     /* image: the file it was read from (for messages) */
  /* The options that describe it, for the messages (-<prefix><name>): NULL gives the conduction PDE's
     (conduction_, microstructure, seed); another owner points them at its own static names. */
  const char *prefix, *typeoption, *seedoption;
} KDComposite;

/* Checks the description (k1, k2 > 0, fraction in (0,1), eps in (0, 1] with 1/eps an integer, width >= 0, type and
   fraction compatible), places the disks, reads the image (source, collective: rank 0 reads and broadcasts). Every
   error is one line naming the option (-conduction_k1, ...) or the file. */
PETSC_EXTERN PetscErrorCode KDCompositeSetUp(MPI_Comm, KDComposite *);
/* (comm, ms, n, option): an error unless the n x n grid of the unit square resolves the period, eps n an integer
   ("-conduction_eps 0.125 does not divide the 100-cell grid of <option>: eps N must be an integer"). */
PETSC_EXTERN PetscErrorCode KDCompositeCheckGrid(MPI_Comm, const KDComposite *, PetscInt, const char[]);
PETSC_EXTERN PetscErrorCode KDCompositeView(const KDComposite *, PetscViewer);
PETSC_EXTERN PetscErrorCode KDCompositeReset(KDComposite *);
PETSC_EXTERN PetscErrorCode KDCompositeCopy(const KDComposite *, KDComposite *);
/* The description as text, every number exactly (a reference's "microstructure" attribute), and back. */
PETSC_EXTERN PetscErrorCode KDCompositeToString(const KDComposite *, char **);
PETSC_EXTERN PetscErrorCode KDCompositeFromString(MPI_Comm, const char[], KDComposite *);
/* Phase-2 indicator chi in [0,1] at a point of the unit cell (coordinates in [0,1)), and its gradient along the cell
   coordinates (may be NULL; zero for sharp interfaces). */
PETSC_EXTERN void KDCompositeCellIndicator(const KDComposite *, PetscReal, PetscReal, PetscReal *, PetscReal[2]);
/* k(x, y) at a point of the domain and its gradient along x, y (gradk may be NULL; zero for sharp interfaces). */
PETSC_EXTERN void KDCompositeEvaluate(const KDComposite *, PetscReal, PetscReal, PetscReal *, PetscReal[2]);
/* Wiener (arithmetic, harmonic mean) and Hashin-Shtrikman (lower, upper) bounds of an isotropic 2-D composite of the
   two phases at the fraction. */
PETSC_EXTERN void KDCompositeBounds(const KDComposite *, PetscReal wiener[2], PetscReal hs[2]);

/* The macroscopic problem: f = source (constant), g = 0; in manufactured mode (needs a smooth k, width > 0) the exact
   u = sin(pi x) sin(pi y) + x y / 2 with f = -div(k grad u) from k and grad k, g = u. */
typedef struct {
  KDComposite ms;
  PetscReal source;
  PetscBool manufactured;
} KDConductionProblem;
/* k, grad k (may be NULL), f at (x, y) */
PETSC_EXTERN void KDConductionProblemData(const KDConductionProblem *, PetscReal, PetscReal, PetscReal *, PetscReal[2],
                                          PetscReal *);
/* g on the boundary; in manufactured mode the exact u anywhere */
PETSC_EXTERN PetscReal KDConductionProblemBoundary(const KDConductionProblem *, PetscReal, PetscReal);
/* The exact solution of manufactured mode: u and its gradient (may be NULL). */
PETSC_EXTERN void KDConductionExact(PetscReal, PetscReal, PetscReal *, PetscReal[2]);
/* The problem of a conduction PDE (borrowed); an error for a PDE of another type. */
PETSC_EXTERN PetscErrorCode KDPDEConductionGetProblem(KDPDE, const KDConductionProblem **);
