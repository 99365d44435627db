#pragma once
/* kdpinn system layer: version, errors, common options, output directory, atomic files, logging. */
#include <petsc.h>
#include <kdversion.h>

/* Options shared by every stage (prefix -kd_). */
typedef struct {
  char out[PETSC_MAX_PATH_LEN]; /* -kd_out: output directory of the experiment */
  char pde[64];                 /* -kd_pde: a registered PDE type */
  PetscInt levels;              /* -kd_levels: number of levels of the scale hierarchy */
  PetscInt seed;                /* -kd_seed: seed of every random stream */
  PetscBool force;              /* -kd_force: rerun a stage whose output exists */
} KDCommonOptions;

PETSC_EXTERN PetscErrorCode KDGetCommonOptions(MPI_Comm, KDCommonOptions *);
PETSC_EXTERN PetscErrorCode KDCommonOptionsSetPDETypes(PetscFunctionList *, const char[]);
PETSC_EXTERN PetscErrorCode KDPushErrorHandler(PetscBool);
PETSC_EXTERN PetscErrorCode KDOutputDirCheck(MPI_Comm, const char[]);
PETSC_EXTERN PetscErrorCode KDOutputPath(const char[], const char[], char[], size_t);
PETSC_EXTERN PetscErrorCode KDFileTemporaryName(const char[], char[], size_t);
PETSC_EXTERN PetscErrorCode KDFileCommit(MPI_Comm, const char[], const char[]);
PETSC_EXTERN PetscErrorCode KDFileLock(MPI_Comm, const char[]);
PETSC_EXTERN void KDFileUnlockAll(void);
PETSC_EXTERN PetscErrorCode KDOutputLock(MPI_Comm, const char[], const char[]);
PETSC_EXTERN PetscErrorCode KDFileDiscard(MPI_Comm, const char[]);
PETSC_EXTERN PetscErrorCode KDLogStageGet(const char[], PetscLogStage *);
PETSC_EXTERN PetscErrorCode KDHelpRequested(PetscBool *);
PETSC_EXTERN PetscErrorCode KDOptionsDigest(PetscInt, const char *const[], char[]);
/* (fn, ctx): fn(name, value or NULL, ctx) for every option of the database */
PETSC_EXTERN PetscErrorCode KDOptionsForEach(PetscErrorCode (*)(const char[], const char[], void *), void *);
/* (name, level, option): level l >= 1 and <option> of -student_L<l>_<option>, else level 0 */
PETSC_EXTERN PetscErrorCode KDStudentLevelOption(const char[], PetscInt *, const char **);
PETSC_EXTERN PetscErrorCode KDStudentLevelsGiven(PetscInt, PetscBool[]);
/* the options of one level of students put in place of the options of all levels (KDStudentLevelOptionsPush()) */
typedef struct _n_KDLevelOptions *KDLevelOptions;
PETSC_EXTERN PetscErrorCode KDStudentLevelOptionsPush(PetscInt, KDLevelOptions *);
PETSC_EXTERN PetscErrorCode KDStudentLevelOptionsGetNames(KDLevelOptions, PetscInt *, const char *const **,
                                                          const char *const **);
PETSC_EXTERN PetscErrorCode KDStudentLevelOptionsPop(KDLevelOptions *);
PETSC_EXTERN PetscErrorCode KDRunProgram(char *const[], const char[], int *);
PETSC_EXTERN PetscErrorCode KDSplitWords(char[], char *[], int, int *);
PETSC_EXTERN PetscErrorCode KDOptionsCheckValue(MPI_Comm, const char[], const char[], PetscBool);
/* PetscOptionsInt() and PetscOptionsReal() inside PetscOptionsBegin()/End() that refuse an option given without a
   value, which PETSc would read as not set (src/sys/sys.c) */
#define KDOptionsInt(opt, text, man, current, value, set)                                                              \
  KDOptionsInt_Private(PetscOptionsObject, opt, text, man, current, value, set)
#define KDOptionsReal(opt, text, man, current, value, set)                                                             \
  KDOptionsReal_Private(PetscOptionsObject, opt, text, man, current, value, set)
PETSC_EXTERN PetscErrorCode KDOptionsInt_Private(PetscOptionItems *, const char[], const char[], const char[], PetscInt,
                                                 PetscInt *, PetscBool *);
PETSC_EXTERN PetscErrorCode KDOptionsReal_Private(PetscOptionItems *, const char[], const char[], const char[],
                                                  PetscReal, PetscReal *, PetscBool *);
/* PetscOptionsEnum() and PetscOptionsEList() that also refuse a value that is none of the choices, in one line */
#define KDOptionsEnum(opt, text, man, list, current, value, set)                                                       \
  KDOptionsEnum_Private(PetscOptionsObject, opt, text, man, list, current, value, set)
#define KDOptionsEList(opt, text, man, list, n, current, value, set)                                                   \
  KDOptionsEList_Private(PetscOptionsObject, opt, text, man, list, n, current, value, set)
PETSC_EXTERN PetscErrorCode KDOptionsEnum_Private(PetscOptionItems *, const char[], const char[], const char[],
                                                  const char *const[], PetscEnum, PetscEnum *, PetscBool *);
PETSC_EXTERN PetscErrorCode KDOptionsEList_Private(PetscOptionItems *, const char[], const char[], const char[],
                                                   const char *const[], PetscInt, const char[], PetscInt *,
                                                   PetscBool *);

/* Counter-based random numbers: a pure function of (seed, stream, index), uniform in [0, 1) (src/sys/random.c). */
PETSC_EXTERN PetscReal KDRandomUniform(PetscInt64, PetscInt64, PetscInt64);
/* The contiguous block [start, start + n) of [0, N) this rank owns (PetscSplitOwnership()). */
PETSC_EXTERN PetscErrorCode KDSplitOwnership(MPI_Comm, PetscInt, PetscInt *, PetscInt *);
/* (&work, &capacity, size): a scratch array of at least size entries, reallocated (contents lost) only to grow */
PETSC_EXTERN PetscErrorCode KDWorkEnsure(PetscReal **, PetscInt *, PetscInt);

/* The n-node Gauss-Legendre rule on [-1, 1], weights summing to 1 (src/sys/quadrature.c). */
PETSC_EXTERN PetscErrorCode KDGaussLegendre(PetscInt, PetscReal[], PetscReal[]);

/* Log classes and events of the hot kernels; registered once by KDRegisterAll(). */
PETSC_EXTERN PetscClassId KD_CLASSID;
PETSC_EXTERN PetscErrorCode KDRegisterAll(void);

/* Stop and resume on a signal (src/sys/signal.c): SIGUSR1/SIGTERM -> checkpoint -> exit KD_EXIT_REQUEUE -> requeue. */
#define KD_EXIT_REQUEUE 3 /* exit status of a run stopped by a signal after writing its checkpoint */
PETSC_EXTERN PetscErrorCode KDSignalInstall(void);
PETSC_EXTERN PetscErrorCode KDSignalPendingLocal(PetscBool *);
PETSC_EXTERN PetscErrorCode KDSignalPending(MPI_Comm, PetscBool *);
PETSC_EXTERN PetscErrorCode KDSignalCheck(MPI_Comm, const char[]);
PETSC_EXTERN int KDSignalExitCode(PetscErrorCode);
