static const char help[] = "kdpinn: knowledge distillation of physics-informed neural networks across scales.\n\n"
                           "Usage: kdpinn <stage> [PETSc options], e.g.\n"
                           "  mpiexec -n 2 kdpinn solve -options_file jobs/burgers.opts -kd_out out\n\n"
                           "Stages:\n"
                           "  solve     PETSc finite-difference reference solution and its scale hierarchy -> reference.h5\n"
                           "  train     teacher PINN on level 0, data-parallel over the ranks -> teacher.h5\n"
                           "  distill   students of levels 1..L-1 from the model one level finer, and scratch twins -> student_L<l>.h5\n"
                           "  validate  every model vs the reference of its level -> results.json, report.md, figures/\n"
                           "  run       solve, train, distill, validate in order, skipping stages that are up to date\n"
                           "  export    a model as standalone C (f64, f32 or int8) -> <name>.h, <name>.c, <name>_main.c\n"
                           "  bench     latency, fps and accuracy loss of every model: library f64, exported f64/f32/int8 -> bench.md\n\n"
                           "All configuration is through the PETSc options database (-options_file FILE, any option on the command\n"
                           "line); -help lists the options of a stage with their defaults, -version prints the version.\n\n";

#include <kdpinn.h>
#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef PetscErrorCode (*KDStageFunction)(MPI_Comm);

typedef struct {
  const char     *name;
  KDStageFunction run;
} KDStage;

static PetscErrorCode KDStageRun(MPI_Comm);

static const KDStage KDStages[] = {
  {"solve",    KDStageSolve   },
  {"train",    KDStageTrain   },
  {"distill",  KDStageDistill },
  {"validate", KDStageValidate},
  {"run",      KDStageRun     },
  {"export",   KDStageExport  },
  {"bench",    KDStageBench   },
};

/* What `kdpinn run` needs to know of a pipeline stage: the file that shows it ran, and the option prefixes that
   change its result. A stage's digest covers its own prefixes and those of every stage before it, so a change
   upstream reruns everything downstream. */
typedef struct {
  const char *name;
  const char *output;
  const char *prefixes[6];
} KDPipelineStage;

static const KDPipelineStage KDPipeline[] = {
  {"solve",    "reference.h5",  {"-kd_pde", "-kd_levels", "-burgers_", "-heat_", "-cavity_", NULL}},
  {"train",    "teacher.h5",    {"-kd_seed", "-teacher_", NULL}                                     },
  {"distill",  "student_L1.h5", {"-student_", "-kd_chain", NULL}                                    },
  {"validate", "results.json",  {"-kd_validate_", NULL}                                             },
};
#define KD_PIPELINE_LENGTH ((PetscInt)(sizeof(KDPipeline) / sizeof(KDPipeline[0])))

static const KDStage *KDStageFind(const char *name)
{
  for (size_t i = 0; i < sizeof(KDStages) / sizeof(KDStages[0]); i++)
    if (!strcmp(name, KDStages[i].name)) return &KDStages[i];
  return NULL;
}

/* Digest of the options that decide the result of pipeline stage k (and of the stages before it). */
static PetscErrorCode KDPipelineDigest(PetscInt k, char digest[])
{
  const char *prefixes[6 * KD_PIPELINE_LENGTH];
  PetscInt    n = 0;

  PetscFunctionBegin;
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

/* What a run of a stage does to its stamp: nothing under -help; a run that makes only part of the stage's outputs
   (one level of `kdpinn distill -kd_level l`, one kind of model) removes it and writes none, since it must not mark
   the stage as done and the files it replaces may come from other options than those an earlier stamp records;
   any other run writes it once it succeeded. */
typedef enum { KD_STAMP_NONE, KD_STAMP_REMOVE, KD_STAMP_WRITE } KDStampAction;

static PetscErrorCode KDStampActionGet(MPI_Comm comm, const char stage[], KDStampAction *action)
{
  PetscBool help, partial = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(KDHelpRequested(&help));
  if (!help && !strcmp(stage, "distill")) PetscCall(KDStageDistillIsPartial(comm, &partial));
  *action = help ? KD_STAMP_NONE : (partial ? KD_STAMP_REMOVE : KD_STAMP_WRITE);
  PetscFunctionReturn(0);
}

/* Before a stage runs: a partial run removes the stage's stamp (rank 0; a missing stamp is fine). */
static PetscErrorCode KDStampRemoveIfPartial(MPI_Comm comm, const char stage[])
{
  KDCommonOptions opt;
  KDStampAction   action;
  PetscMPIInt     rank;
  char            path[PETSC_MAX_PATH_LEN];
  int             err = 0;

  PetscFunctionBegin;
  PetscCall(KDStampActionGet(comm, stage, &action));
  if (action != KD_STAMP_REMOVE) PetscFunctionReturn(0);
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscCall(KDStampPath(opt.out, stage, path, sizeof(path)));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank && remove(path) && errno != ENOENT) err = 1;
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "cannot remove %s", path);
  PetscFunctionReturn(0);
}

/* After a pipeline stage succeeded: record the digest of the options it ran with (atomically, by rank 0), unless
   the run was partial. */
static PetscErrorCode KDStampWrite(MPI_Comm comm, const char stage[])
{
  KDCommonOptions opt;
  KDStampAction   action;
  PetscMPIInt     rank;
  char            path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], digest[17];
  int             err = 0;

  PetscFunctionBegin;
  PetscCall(KDStampActionGet(comm, stage, &action));
  if (action != KD_STAMP_WRITE) PetscFunctionReturn(0);
  for (PetscInt k = 0; k < KD_PIPELINE_LENGTH; k++) {
    if (strcmp(KDPipeline[k].name, stage)) continue;
    PetscCall(KDGetCommonOptions(comm, &opt));
    PetscCall(KDPipelineDigest(k, digest));
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
  }
  PetscFunctionReturn(0);
}

/* Whether pipeline stage k is up to date: its output exists and its stamp holds the current digest. */
static PetscErrorCode KDStampIsCurrent(MPI_Comm comm, const char out[], PetscInt k, PetscBool *current)
{
  char      path[PETSC_MAX_PATH_LEN], digest[17], stamp[32] = "";
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
      (void)fclose(fp);
    }
  }
  PetscCall(KDPipelineDigest(k, digest));
  *current = !strncmp(stamp, digest, 16) ? PETSC_TRUE : PETSC_FALSE;
  /* every rank must take the same decision */
  PetscCallMPI(MPI_Bcast(current, 1, MPIU_BOOL, 0, comm));
  PetscFunctionReturn(0);
}

/* The whole pipeline, in order. A stage whose output exists and was made with the current options is skipped
   (-kd_force reruns everything); once a stage runs, every later stage runs too. */
static PetscErrorCode KDStageRun(MPI_Comm comm)
{
  KDCommonOptions opt;
  PetscBool       help, upstream_ran = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(KDHelpRequested(&help));
  PetscCall(KDGetCommonOptions(comm, &opt));
  for (PetscInt k = 0; k < KD_PIPELINE_LENGTH; k++) {
    const KDStage *stage = KDStageFind(KDPipeline[k].name);
    PetscBool      current;

    if (!stage) continue; /* not in this version */
    if (!help && !opt.force && !upstream_ran) {
      PetscCall(KDStampIsCurrent(comm, opt.out, k, &current));
      if (current) {
        PetscCall(PetscPrintf(comm, "kdpinn run: %s is up to date (%s/%s), skipped; -kd_force reruns it\n", stage->name, opt.out, KDPipeline[k].output));
        continue;
      }
    }
    PetscCall(KDStampRemoveIfPartial(comm, stage->name));
    PetscCall(stage->run(comm));
    PetscCall(KDStampWrite(comm, stage->name));
    upstream_ran = PETSC_TRUE;
  }
  PetscFunctionReturn(0);
}

static void KDPrintUsage(FILE *fp)
{
  fputs(help, fp);
}

/* OpenBLAS chooses its kernels when it loads. Builds older than the CPU (Debian 12 ships 0.3.21) do not know recent
   processors and fall back to generic SSE3 kernels ("Prescott"), 2.5-3.5x slower on the skinny GEMMs of PINNs. If
   the user has not chosen (OPENBLAS_CORETYPE unset) and the fallback happened on a CPU with AVX-512 or AVX2+FMA, name
   the matching kernel family and restart the process with it, before MPI starts. KDPINN_BLAS_AUTO=0 turns this off. */
static void KDSelectBLASKernels(char **argv)
{
  const char *core, *choice = NULL, *opt = getenv("KDPINN_BLAS_AUTO");

  if (getenv("OPENBLAS_CORETYPE") || (opt && !strcmp(opt, "0"))) return;
  core = openblas_get_corename();
  if (!core || (strcasecmp(core, "prescott") && strcasecmp(core, "core2") && strcasecmp(core, "nehalem") && strcasecmp(core, "katmai") &&
                strcasecmp(core, "northwood")))
    return;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) choice = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) choice = "Haswell";
#endif
  if (!choice) return;
  if (setenv("OPENBLAS_CORETYPE", choice, 1)) return;
  execv("/proc/self/exe", argv); /* returns only on failure: then carry on with the generic kernels */
  unsetenv("OPENBLAS_CORETYPE");
}

int main(int argc, char **argv)
{
  const KDStage *stage     = NULL;
  PetscBool      traceback = PETSC_FALSE, helpflag = PETSC_FALSE;
  PetscErrorCode ierr;

  KDSelectBLASKernels(argv);
  /* -version and -kd_traceback act before PETSc starts (PETSc would answer -version with its own banner). */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-version") || !strcmp(argv[i], "--version")) {
      printf("kdpinn %s (PETSc %d.%d.%d)\n", KDPINN_VERSION, PETSC_VERSION_MAJOR, PETSC_VERSION_MINOR, PETSC_VERSION_SUBMINOR);
      return 0;
    }
    if (!strcmp(argv[i], "-kd_traceback")) traceback = PETSC_TRUE;
  }
  /* The stage is the first argument; everything after it belongs to the PETSc options database. */
  if (argc >= 2 && argv[1][0] != '-') {
    for (size_t i = 0; i < sizeof(KDStages) / sizeof(KDStages[0]); i++)
      if (!strcmp(argv[1], KDStages[i].name)) stage = &KDStages[i];
    if (!stage) {
      fprintf(stderr, "kdpinn: error: unknown stage '%s'\n\n", argv[1]);
      KDPrintUsage(stderr);
      return 2;
    }
    argv[1] = argv[0];
    argc--;
    argv++;
  }
  if (KDPushErrorHandler(traceback)) return 1;
  if (PetscInitialize(&argc, &argv, NULL, help)) return 1; /* the handler has said why, in one line */
  ierr = KDRegisterAll();
  if (!ierr) ierr = PetscOptionsHasName(NULL, NULL, "-help", &helpflag);
  if (!ierr && !stage && !helpflag) {
    PetscMPIInt rank;
    MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
    if (!rank) {
      fprintf(stderr, "kdpinn: error: no stage given\n\n");
      KDPrintUsage(stderr);
    }
    (void)PetscFinalize();
    return 2;
  }
  if (!ierr) ierr = KDSignalInstall(); /* SIGUSR1/SIGTERM: a training stage checkpoints and exits with KD_EXIT_REQUEUE */
  if (!ierr && stage && stage->run != KDStageRun) ierr = KDStampRemoveIfPartial(PETSC_COMM_WORLD, stage->name);
  if (!ierr && stage) ierr = stage->run(PETSC_COMM_WORLD);
  if (!ierr && stage && stage->run != KDStageRun) ierr = KDStampWrite(PETSC_COMM_WORLD, stage->name);
  if (PetscFinalize()) return 1;
  return KDSignalExitCode(ierr);
}
