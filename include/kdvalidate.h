#pragma once
/* Validation: every model against the reference of its level (docs/validation.md).

   A model of level l is evaluated at the cell centres of the level-l grid of reference.h5 (network input order is
   matched to the reference's axis order by name) and compared with the level-l fields. The teacher (level 0) is
   also compared with every coarser level, by its cell average over each level-l cell (Gauss-Legendre quadrature per
   axis): the filtered teacher the students of that level are distilled from; on level 0 too when that level is the
   restriction of a finer solve (KDReferenceGetCoarsening()). Fields are the reference's row-block
   distributed Vecs: each rank evaluates its own rows, every reduction is one MPI_Allreduce. */
#include <kdpde.h>
#include <kdtrain.h>

/* How a network is compared with the level-l reference. */
typedef enum {
  KD_VALIDATE_POINT,       /* network values at the cell centres */
  KD_VALIDATE_CELL_AVERAGE /* network averaged over each cell by tensor Gauss-Legendre quadrature */
} KDValidateSampling;
PETSC_EXTERN const char *const KDValidateSamplings[];
/* Gauss-Legendre nodes per axis of a cell average unless -kd_validate_quad says otherwise (exact for degree 5). */
#define KD_VALIDATE_DEFAULT_QUAD 3

/* Errors of one network on one level. rel_l2 = ||pred - ref||_2 / ||ref||_2 over all compared outputs together; for a
   gauge-pinned output (cavity p) both pred and ref first have their mean over the level's cells removed. */
typedef struct {
  PetscInt level;
  PetscInt npoints; /* cells of the level */
  PetscInt nfields; /* network outputs that are fields of the reference, in network output order */
  char field[KD_NET_MAX_OUT][32];
  PetscBool mean_removed[KD_NET_MAX_OUT];
  PetscReal rel_l2, max_err;
  PetscReal field_rel_l2[KD_NET_MAX_OUT], field_max_err[KD_NET_MAX_OUT], field_ref_l2[KD_NET_MAX_OUT];
} KDValidateErrors;

PETSC_EXTERN PetscErrorCode KDValidateLevelPoints(KDReference, KDPDE, PetscInt, PetscBool, PetscInt *, PetscInt *,
                                                  PetscReal **);
/* (comm, nfields, n, N, ref, pred, err): errors of distributed fields, gauge-pinned ones up to a constant */
PETSC_EXTERN PetscErrorCode KDValidateFieldErrors(MPI_Comm, PetscInt, PetscInt, PetscInt, const PetscReal *[],
                                                  PetscReal[], KDValidateErrors *);
PETSC_EXTERN PetscErrorCode KDValidateGetSampling(KDReference, PetscInt, PetscInt, KDValidateSampling *);
PETSC_EXTERN PetscErrorCode KDValidateCompare(KDReference, KDPDE, KDNet, PetscInt, KDValidateSampling, PetscInt,
                                              PetscReal **, KDValidateErrors *);
PETSC_EXTERN PetscErrorCode KDValidateResidualRMS(KDReference, KDPDE, KDNet, PetscInt, PetscInt, PetscReal *,
                                                  PetscInt *);
PETSC_EXTERN PetscErrorCode KDValidateInferenceTime(KDReference, KDPDE, KDNet, PetscInt, PetscInt, PetscReal *);
/* (comm, pde, net, file, &n, &rms, &rel_l2): misfit of a network to an observation file */
PETSC_EXTERN PetscErrorCode KDValidateObservations(MPI_Comm, KDPDE, KDNet, const char[], PetscInt *, PetscReal *,
                                                   PetscReal *);
/* (pde, field, name, n, &rel_l2, &max_err, &values): a learned coefficient field (log k network) against the PDE's */
PETSC_EXTERN PetscErrorCode KDValidateCoefficientField(KDPDE, KDNet, const char[], PetscInt, PetscReal *, PetscReal *,
                                                       PetscReal **);
/* (comm, tr, ref, pde, net, level): -kd_monitor_error, the network's error under each progress line of its trainer */
PETSC_EXTERN PetscErrorCode KDValidateMonitorSetFromOptions(MPI_Comm, KDTrainer, KDReference, KDPDE, KDNet, PetscInt);
