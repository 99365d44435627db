#pragma once
/* The pipeline stages of the driver, `kdpinn <stage> [PETSc options]` (docs/options.md): each reads its options from
   the database and the files of -kd_out, and writes its own (the files: docs/reference-format.md,
   docs/model-format.md, docs/validation.md). KDStageRun() runs solve, train, distill and validate in order and
   skips a stage whose output is up to date (a digest of the options that decide it, kept in a stamp file). */
#include <kdsys.h>

PETSC_EXTERN PetscErrorCode KDStageSolve(MPI_Comm);
PETSC_EXTERN PetscErrorCode KDStageImport(MPI_Comm);
PETSC_EXTERN PetscErrorCode KDStageTrain(MPI_Comm);
PETSC_EXTERN PetscErrorCode KDStageDistill(MPI_Comm);
PETSC_EXTERN PetscErrorCode KDStageValidate(MPI_Comm);
PETSC_EXTERN PetscErrorCode KDStageExport(MPI_Comm);
PETSC_EXTERN PetscErrorCode KDStageBench(MPI_Comm);
PETSC_EXTERN PetscErrorCode KDStageRun(MPI_Comm);
/* Whether `kdpinn distill`, with the options as they are, trains only part of its models (-kd_level,
   -kd_distill_models): such a run must not mark the stage as done. */
PETSC_EXTERN PetscErrorCode KDStageDistillIsPartial(MPI_Comm, PetscBool *);
/* Around a stage run alone (`kdpinn train`): the stamp of a partial run is removed before, a complete run's written
   after, so that a later `kdpinn run` knows what is up to date. */
PETSC_EXTERN PetscErrorCode KDStageStampBegin(MPI_Comm, const char[]);
PETSC_EXTERN PetscErrorCode KDStageStampEnd(MPI_Comm, const char[]);
/* Removes every stamp of -kd_out (a new reference makes every later stage stale). */
PETSC_EXTERN PetscErrorCode KDStageStampClear(MPI_Comm);

/* Plugins: shared libraries with user PDEs and solvers, loaded by -kd_plugin (src/stages/plugin.c). */
PETSC_EXTERN PetscErrorCode KDPluginLoadFromOptions(MPI_Comm);
