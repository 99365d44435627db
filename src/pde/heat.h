#pragma once
/* The heat problem u_t = div(k grad u) + f on the unit square: the physics the heat PDE (src/pde/heat.c), its
   reference solver (solvers/heat.c) and the tests share. Private to the library (not installed).

   Conductivity k(x,y) = k0 (1 + sum_i c_i exp(-((x - x_i)^2 + (y - y_i)^2) / r_i^2)) from a microstructure
   description (a text file in meshes/), smooth so that both finite differences and networks can use it exactly.
   Text format, one entry per line, '#' starts a comment:
     k0 <value>          base conductivity, > 0, exactly once
     <x> <y> <r> <c>     one inclusion: centre, radius r > 0, contrast c > -1 (at most KD_MICROSTRUCTURE_MAX)
   and k > 0 on the unit square (checked on a sample grid when the description is read). */
#include <kdpde.h>

#define KD_MICROSTRUCTURE_MAX 64
typedef struct {
  PetscReal k0;
  PetscInt n; /* number of inclusions */
  PetscReal x[KD_MICROSTRUCTURE_MAX], y[KD_MICROSTRUCTURE_MAX], r[KD_MICROSTRUCTURE_MAX], c[KD_MICROSTRUCTURE_MAX];
} KDMicrostructure;
PETSC_EXTERN PetscErrorCode KDMicrostructureLoad(MPI_Comm, const char[], KDMicrostructure *);
PETSC_EXTERN PetscErrorCode KDMicrostructureToString(const KDMicrostructure *, char[], size_t);
PETSC_EXTERN PetscErrorCode KDMicrostructureFromString(const char[], KDMicrostructure *);
/* k(x,y) and its gradient; pointwise, no error path (the description was validated when it was read). */
PETSC_EXTERN void KDMicrostructureEvaluate(const KDMicrostructure *, PetscReal, PetscReal, PetscReal *, PetscReal[2]);

/* Dirichlet data g, initial data u0: everything the solver and a PINN loss both need, stored in reference.h5
   attributes and read back from there.
   Default mode: u0 = sin(pi x) sin(pi y), g = 0, f = a exp(-((x - sx)^2 + (y - sy)^2) / w^2) (steady Gaussian
   source, source[] = {a, sx, sy, w}, the named parameters source_amplitude, source_x, source_y, source_width of the
   heat PDE). Manufactured mode: u = exp(-t) sin(pi x) sin(pi y) + cos(t) sin(2x + y + 1/2) / 2, f = u_t - div(k grad
   u) computed analytically with grad k; g and u0 from u. */
#define KD_HEAT_NSOURCE 4
typedef struct {
  KDMicrostructure ms;               /* conductivity k(x,y) */
  PetscBool manufactured;            /* manufactured-solution mode (convergence tests) */
  PetscReal tfinal;                  /* end time; the problem lives on [0, tfinal] x [0,1]^2 */
  PetscReal source[KD_HEAT_NSOURCE]; /* amplitude, centre x, centre y, width of the source (default mode) */
} KDHeatProblem;
PETSC_EXTERN PetscErrorCode KDHeatProblemSetFromOptions(MPI_Comm, KDHeatProblem *);
PETSC_EXTERN PetscErrorCode KDHeatProblemView(const KDHeatProblem *, PetscViewer);
PETSC_EXTERN PetscErrorCode KDHeatProblemToReference(const KDHeatProblem *, KDReference);
PETSC_EXTERN PetscErrorCode KDHeatProblemFromReference(KDReference, KDHeatProblem *);
/* Pointwise data at (t, x, y): conductivity k and its gradient, source f. */
PETSC_EXTERN void KDHeatProblemCoefficients(const KDHeatProblem *, PetscReal, PetscReal, PetscReal, PetscReal *,
                                            PetscReal[2], PetscReal *);
/* g(t, x, y) on the boundary and u0(x, y) = g(0, x, y) inside; in manufactured mode the exact solution everywhere. */
PETSC_EXTERN PetscReal KDHeatProblemBoundary(const KDHeatProblem *, PetscReal, PetscReal, PetscReal);
/* The problem of a heat PDE (borrowed); an error for a PDE of another type. */
PETSC_EXTERN PetscErrorCode KDPDEHeatGetProblem(KDPDE, const KDHeatProblem **);
