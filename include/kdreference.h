#pragma once
/* KDReference: reference solutions on a hierarchy of grids, and their HDF5 file (reference.h5).

   A level is a uniform cell-centred grid of dim axes (axis 0 slowest, e.g. "t,x" or "t,y,x" or "y,x"):
   n[d] cells on [lo[d], hi[d]], value i sits at lo[d] + (i + 1/2) (hi[d] - lo[d]) / n[d].
   Level 0 is the solver grid; level l has half the cells of level l-1 on every axis and its fields are the
   averages of the 2^dim children (restriction by cell averaging, which preserves the mean exactly).
   Field vectors are MPI Vecs in natural (row-major) order, distributed in blocks of whole rows of axis 0. */
#include <kdsys.h>

#define KD_MAX_DIM 3
#define KD_MAX_FIELDS 8
#define KD_MAX_LEVELS 12

typedef struct _p_KDReference *KDReference;

PETSC_EXTERN PetscErrorCode KDReferenceCreate(MPI_Comm, KDReference *);
PETSC_EXTERN PetscErrorCode KDReferenceDestroy(KDReference *);
PETSC_EXTERN PetscErrorCode KDReferenceGetComm(KDReference, MPI_Comm *);
PETSC_EXTERN PetscErrorCode KDReferenceSetPDE(KDReference, const char[]);
PETSC_EXTERN PetscErrorCode KDReferenceGetPDE(KDReference, const char **);
PETSC_EXTERN PetscErrorCode KDReferenceSetGrid(KDReference, PetscInt, const char[], const PetscInt[], const PetscReal[],
                                               const PetscReal[]);
PETSC_EXTERN PetscErrorCode KDReferenceSetParameter(KDReference, const char[], PetscReal);
PETSC_EXTERN PetscErrorCode KDReferenceGetParameter(KDReference, const char[], PetscReal *, PetscBool *);
PETSC_EXTERN PetscErrorCode KDReferenceSetString(KDReference, const char[], const char[]);
PETSC_EXTERN PetscErrorCode KDReferenceGetString(KDReference, const char[], const char **);
/* (ref, name, n, values): a named array of n reals, a root attribute (e.g. K_eff, row-major) */
PETSC_EXTERN PetscErrorCode KDReferenceSetArray(KDReference, const char[], PetscInt, const PetscReal[]);
/* (ref, name, &n, &values, &found): the array (borrowed); a parameter of that name is an array of one value */
PETSC_EXTERN PetscErrorCode KDReferenceGetArray(KDReference, const char[], PetscInt *, const PetscReal **, PetscBool *);
PETSC_EXTERN PetscErrorCode KDReferenceCreateLevelVec(KDReference, PetscInt, Vec *);
PETSC_EXTERN PetscErrorCode KDReferenceAddField(KDReference, const char[], Vec);
/* (ref, name, nx, ny, ns, xs, ys, xm, ym, u): the field from this rank's block of ns slices of an ny x nx plane */
PETSC_EXTERN PetscErrorCode KDReferenceAddBlockField(KDReference, const char[], PetscInt, PetscInt, PetscInt, PetscInt,
                                                     PetscInt, PetscInt, PetscInt, const PetscReal[]);
PETSC_EXTERN PetscErrorCode KDReferenceSetNumLevels(KDReference, PetscInt);
PETSC_EXTERN PetscErrorCode KDReferenceBuildHierarchy(KDReference, PetscInt);
PETSC_EXTERN PetscErrorCode KDReferenceSetCoarsening(KDReference, PetscInt);
PETSC_EXTERN PetscErrorCode KDReferenceGetCoarsening(KDReference, PetscInt *);
PETSC_EXTERN PetscErrorCode KDReferenceSetGridDivisor(KDReference, PetscInt);
PETSC_EXTERN PetscErrorCode KDReferenceGetGridDivisor(KDReference, PetscInt *);
/* (ref, option, &n): for a solver, n divided by the grid divisor; an error naming option if it does not divide n */
PETSC_EXTERN PetscErrorCode KDReferenceApplyGridDivisor(KDReference, const char[], PetscInt *);
/* (ref, medium, coarse, viewer): level 0 of ref by Richardson extrapolation of the three, cell by cell */
PETSC_EXTERN PetscErrorCode KDReferenceExtrapolate(KDReference, KDReference, KDReference, PetscViewer);
PETSC_EXTERN PetscErrorCode KDReferenceGetExtrapolated(KDReference, PetscBool *);
PETSC_EXTERN PetscErrorCode KDReferenceGetNumLevels(KDReference, PetscInt *);
PETSC_EXTERN PetscErrorCode KDReferenceGetLevelGrid(KDReference, PetscInt, PetscInt *, PetscInt[], PetscReal[],
                                                    PetscReal[]);
PETSC_EXTERN PetscErrorCode KDReferenceGetAxes(KDReference, const char **);
PETSC_EXTERN PetscErrorCode KDReferenceGetNumFields(KDReference, PetscInt *);
PETSC_EXTERN PetscErrorCode KDReferenceGetFieldName(KDReference, PetscInt, const char **);
PETSC_EXTERN PetscErrorCode KDReferenceGetField(KDReference, PetscInt, const char[], Vec *);
PETSC_EXTERN PetscErrorCode KDReferenceGetCoordinates(KDReference, PetscInt, PetscInt, PetscReal **);
PETSC_EXTERN PetscErrorCode KDReferenceGetNumParameters(KDReference, PetscInt *);
PETSC_EXTERN PetscErrorCode KDReferenceGetParameterName(KDReference, PetscInt, const char **, PetscReal *);
/* (ref, inputs, map): map[i] = the axis named like input i of the comma-separated list inputs */
PETSC_EXTERN PetscErrorCode KDReferenceGetAxisMap(KDReference, const char[], PetscInt[]);
/* (ref, level, nin, map, off, n, cells, x): the centres of n cells (natural indices), each moved by off[d] cell widths
   along axis d (off may be NULL), in input order, x[p * nin + i] */
PETSC_EXTERN PetscErrorCode KDReferenceGetCellCentres(KDReference, PetscInt, PetscInt, const PetscInt[],
                                                      const PetscReal[], PetscInt, const PetscInt64[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDReferenceWrite(KDReference, const char[]);
PETSC_EXTERN PetscErrorCode KDReferenceWriteXDMF(KDReference, const char[], const char[]);
PETSC_EXTERN PetscErrorCode KDReferenceLoad(MPI_Comm, const char[], KDReference *);
/* (comm, path, source, len): the file's root attribute source, without loading it */
PETSC_EXTERN PetscErrorCode KDReferenceReadSource(MPI_Comm, const char[], char[], size_t);
PETSC_EXTERN PetscErrorCode KDReferenceView(KDReference, PetscViewer);
