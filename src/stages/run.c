/*
  `kdpinn run`: solve, train, distill and validate in order, each skipped when its output exists and was made with the
  current options. A stage's stamp (.kdpinn-<stage>.stamp in -kd_out) records a digest of the options that decide its
  result: its own and those of every stage before it, so that a change upstream reruns everything downstream. A
  reference made by `kdpinn import` is never solved over.
*/
#include <kdstages.h>
#include <kdsolver.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* What `kdpinn run` needs to know of a pipeline stage: its function, the file that shows it ran, and the option
   prefixes that change its result (NULL-terminated; the solve stage adds the prefixes of the PDE and its solver). */
typedef struct {
  const char *name;
  PetscErrorCode (*run)(MPI_Comm);
  const char *output;
  const char *prefixes[6];
} KDPipelineStage;

static const KDPipelineStage KDPipeline[] = {
    {"solve",
     KDStageSolve,
     "reference.h5",
     {"-kd_pde", "-kd_levels", "-kd_plugin", "-kd_reference_coarsen", "-kd_reference_extrapolate", NULL}},
    {"train", KDStageTrain, "teacher.h5", {"-kd_seed", "-teacher_", NULL}},
    {"distill", KDStageDistill, "student_L1.h5", {"-student_", "-kd_chain", NULL}},
    {"validate", KDStageValidate, "results.json", {"-kd_validate_", NULL}},
};
#define KD_PIPELINE_LENGTH ((PetscInt) (sizeof(KDPipeline) / sizeof(KDPipeline[0])))

static PetscInt KDPipelineFind(const char stage[])
{
  for (PetscInt k = 0; k < KD_PIPELINE_LENGTH; k++)
    if (!strcmp(KDPipeline[k].name, stage)) return k;
  return -1;
}

/* Digest of the options that decide the result of pipeline stage k (and of the stages before it): the stages' fixed
   prefixes, and for the solve stage those of the PDE's problem (-<pde>_) and of its solver. */
static PetscErrorCode KDPipelineDigest(MPI_Comm comm, PetscInt k, char digest[])
{
  const char *prefixes[5 * KD_PIPELINE_LENGTH + 2], *solver = NULL;
  char problem[80], solverp[80];
  KDCommonOptions opt;
  PetscInt n = 0;

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscCall(PetscSNPrintf(problem, sizeof(problem), "-%s_", opt.pde));
  prefixes[n++] = problem;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  if (KDSolverFind(PETSC_COMM_SELF, opt.pde, NULL, &solver)) solver = NULL; /* an imported PDE may have no solver */
  PetscCall(PetscPopErrorHandler());
  if (solver) {
    PetscCall(PetscSNPrintf(solverp, sizeof(solverp), "-%s", solver));
    prefixes[n++] = solverp;
  }
  for (PetscInt j = 0; j <= k; j++)
    for (PetscInt i = 0; KDPipeline[j].prefixes[i]; i++) prefixes[n++] = KDPipeline[j].prefixes[i];
  PetscCall(KDOptionsDigest(n, prefixes, digest));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDStampPath(const char out[], const char stage[], char path[], size_t len)
{
  char name[64];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(name, sizeof(name), ".kdpinn-%s.stamp", stage));
  PetscCall(KDOutputPath(out, name, path, len));
  PetscFunctionReturn(0);
}

/* What a run of a stage does to its stamp: nothing under -help or for a stage outside the pipeline; a run that makes
   only part of the stage's outputs (one level of `kdpinn distill -kd_level l`, one kind of model) removes it and
   writes none, since it must not mark the stage as done and the files it replaces may come from other options than
   those an earlier stamp records; any other run writes it once it succeeded. */
typedef enum { KD_STAMP_NONE, KD_STAMP_REMOVE, KD_STAMP_WRITE } KDStampAction;

static PetscErrorCode KDStampActionGet(MPI_Comm comm, const char stage[], KDStampAction *action)
{
  PetscBool help, partial = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(KDHelpRequested(&help));
  if (!help && !strcmp(stage, "distill")) PetscCall(KDStageDistillIsPartial(comm, &partial));
  *action = (help || KDPipelineFind(stage) < 0) ? KD_STAMP_NONE : (partial ? KD_STAMP_REMOVE : KD_STAMP_WRITE);
  PetscFunctionReturn(0);
}

/* Removes a stage's stamp (rank 0; a missing stamp is fine). */
static PetscErrorCode KDStampRemove(MPI_Comm comm, const char stage[])
{
  KDCommonOptions opt;
  PetscMPIInt rank;
  char path[PETSC_MAX_PATH_LEN];
  int err = 0;

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscCall(KDStampPath(opt.out, stage, path, sizeof(path)));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank && remove(path) && errno != ENOENT) err = 1;
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "cannot remove %s", path);
  PetscFunctionReturn(0);
}

/*@C
  KDStageStampClear - Removes the stamps of every pipeline stage in -kd_out: `kdpinn run` then reruns them all.

  Collective
@*/
PetscErrorCode KDStageStampClear(MPI_Comm comm)
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < KD_PIPELINE_LENGTH; k++) PetscCall(KDStampRemove(comm, KDPipeline[k].name));
  PetscFunctionReturn(0);
}

/*@C
  KDStageStampBegin - Before a stage runs: a partial run (KDStageDistillIsPartial()) removes the stage's stamp.

  Collective
@*/
PetscErrorCode KDStageStampBegin(MPI_Comm comm, const char stage[])
{
  KDStampAction action;

  PetscFunctionBegin;
  PetscCall(KDStampActionGet(comm, stage, &action));
  if (action == KD_STAMP_REMOVE) PetscCall(KDStampRemove(comm, stage));
  PetscFunctionReturn(0);
}

/*@C
  KDStageStampEnd - After a pipeline stage succeeded: records the digest of the options it ran with (atomically, by
  rank 0), unless the run was partial.

  Collective
@*/
PetscErrorCode KDStageStampEnd(MPI_Comm comm, const char stage[])
{
  KDCommonOptions opt;
  KDStampAction action;
  PetscMPIInt rank;
  char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], digest[17];
  int err = 0;

  PetscFunctionBegin;
  PetscCall(KDStampActionGet(comm, stage, &action));
  if (action != KD_STAMP_WRITE) PetscFunctionReturn(0);
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscCall(KDPipelineDigest(comm, KDPipelineFind(stage), digest));
  PetscCall(KDStampPath(opt.out, stage, path, sizeof(path)));
  PetscCall(KDFileTemporaryName(path, tmp, sizeof(tmp)));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    FILE *fp = fopen(tmp, "w");
    if (!fp || fprintf(fp, "%s\n", digest) < 0) err = 1;
    if (fp && fclose(fp)) err = 1;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "cannot write %s", path);
  PetscCall(KDFileCommit(comm, tmp, path));
  PetscFunctionReturn(0);
}

/* Whether pipeline stage k is up to date: its output exists and its stamp holds the current digest. */
static PetscErrorCode KDStampIsCurrent(MPI_Comm comm, const char out[], PetscInt k, PetscBool *current)
{
  char path[PETSC_MAX_PATH_LEN], digest[17], stamp[32] = "";
  PetscBool exists;

  PetscFunctionBegin;
  *current = PETSC_FALSE;
  PetscCall(KDOutputPath(out, KDPipeline[k].output, path, sizeof(path)));
  PetscCall(PetscTestFile(path, 'r', &exists));
  if (!exists) PetscFunctionReturn(0);
  PetscCall(KDStampPath(out, KDPipeline[k].name, path, sizeof(path)));
  PetscCall(PetscTestFile(path, 'r', &exists));
  if (!exists) PetscFunctionReturn(0);
  {
    FILE *fp = fopen(path, "r");
    if (fp) {
      if (!fgets(stamp, sizeof(stamp), fp)) stamp[0] = 0;
      (void) fclose(fp);
    }
  }
  PetscCall(KDPipelineDigest(comm, k, digest));
  *current = !strncmp(stamp, digest, 16) ? PETSC_TRUE : PETSC_FALSE;
  /* every rank must take the same decision */
  PetscCallMPI(MPI_Bcast(current, 1, MPIU_BOOL, 0, comm));
  PetscFunctionReturn(0);
}

/* Whether -kd_out holds a reference that `kdpinn import` made (its root attribute source = import). */
static PetscErrorCode KDReferenceIsImported(MPI_Comm comm, const char out[], PetscBool *imported)
{
  char path[PETSC_MAX_PATH_LEN], source[PETSC_MAX_PATH_LEN + 300];
  PetscBool exists;

  PetscFunctionBegin;
  *imported = PETSC_FALSE;
  PetscCall(KDOutputPath(out, "reference.h5", path, sizeof(path)));
  PetscCall(PetscTestFile(path, 'r', &exists));
  PetscCallMPI(MPI_Bcast(&exists, 1, MPIU_BOOL, 0, comm)); /* every rank takes the same decision */
  if (!exists) PetscFunctionReturn(0);
  PetscCall(KDReferenceReadSource(comm, path, source, sizeof(source)));
  *imported = !strncmp(source, "import ", 7) ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDStageRun - The whole pipeline, in order. A stage whose output exists and was made with the current options is
  skipped (-kd_force reruns everything); once a stage runs, every later stage runs too. An imported reference
  (`kdpinn import`) is kept: the solve stage is skipped, whatever -kd_force says.

  Collective
@*/
PetscErrorCode KDStageRun(MPI_Comm comm)
{
  KDCommonOptions opt;
  PetscBool help, upstream_ran = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(KDHelpRequested(&help));
  PetscCall(KDGetCommonOptions(comm, &opt));
  for (PetscInt k = 0; k < KD_PIPELINE_LENGTH; k++) {
    const KDPipelineStage *stage = &KDPipeline[k];
    PetscBool current;

    if (!help && k == 0) {
      PetscBool imported;
      PetscCall(KDReferenceIsImported(comm, opt.out, &imported));
      if (imported) {
        PetscCall(
            PetscPrintf(comm, "kdpinn run: %s/reference.h5 was imported (`kdpinn import`), kept as it is\n", opt.out));
        continue;
      }
    }
    if (!help && !opt.force && !upstream_ran) {
      PetscCall(KDStampIsCurrent(comm, opt.out, k, &current));
      if (current) {
        PetscCall(PetscPrintf(comm, "kdpinn run: %s is up to date (%s/%s), skipped; -kd_force reruns it\n", stage->name,
                              opt.out, stage->output));
        continue;
      }
    }
    PetscCall(KDStageStampBegin(comm, stage->name));
    PetscCall(stage->run(comm));
    PetscCall(KDStageStampEnd(comm, stage->name));
    upstream_ran = PETSC_TRUE;
  }
  PetscFunctionReturn(0);
}
