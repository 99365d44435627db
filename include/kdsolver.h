#pragma once
/* Reference solvers and reference data: the solve and import stages.

   A solver is registered per PDE type with its option prefix (KDSolverRegister(pde, solve, prefix)): solve(pde, ref)
   reads its discretization options (prefix -<prefix>, e.g. -burgers_nx), takes the problem from the PDE (its named
   parameters and problem data, KDPDESetProblemFromOptions() was called), solves, and hands the level-0 grid and the
   fields to the reference (KDReferenceSetGrid(), KDReferenceAddField()); the stage records the PDE in the reference
   (KDPDEWriteReference()), builds the hierarchy and writes reference.h5. The built-in solvers live in solvers/, one
   file per PDE; a plugin registers its own (docs/extending.md). Instead of a solver, `kdpinn import` reads another
   solver's gridded output (KDReferenceImport()). */
#include <kdpde.h>

typedef PetscErrorCode (*KDSolverFunction)(KDPDE, KDReference);

PETSC_EXTERN PetscErrorCode KDSolverRegister(const char[], KDSolverFunction, const char[]);
PETSC_EXTERN PetscErrorCode KDSolverInitializePackage(void);
PETSC_EXTERN PetscErrorCode KDSolverFinalizePackage(void);
/* (comm, pde, &solve, &prefix): the solver of a PDE type; an error naming the types that have one */
PETSC_EXTERN PetscErrorCode KDSolverFind(MPI_Comm, const char[], KDSolverFunction *, const char **);
/* (comm, file[:/group], pde, levels, coarsen, &ref): another solver's grid as a reference with its hierarchy, level 0
   that grid coarsened `coarsen` times */
PETSC_EXTERN PetscErrorCode KDReferenceImport(MPI_Comm, const char[], KDPDE, PetscInt, PetscInt, KDReference *);
