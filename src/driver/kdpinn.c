static const char help[] =
    "kdpinn: knowledge distillation of physics-informed neural networks across scales.\n\n"
    "Usage: kdpinn <stage> [PETSc options], e.g.\n"
    "  mpiexec -n 2 kdpinn solve -options_file jobs/burgers.opts -kd_out out\n\n"
    "Stages:\n"
    "  solve     PETSc finite-difference reference solution and its scale hierarchy -> reference.h5\n"
    "  import    another solver's gridded output as reference.h5, with the hierarchy -> reference.h5\n"
    "  train     teacher PINN on level 0, data-parallel over the ranks -> teacher.h5\n"
    "  distill   students of levels 1..L-1 from the model one level finer, and scratch twins -> student_L<l>.h5\n"
    "  validate  every model vs the reference of its level -> results.json, report.md, figures/\n"
    "  run       solve, train, distill, validate in order, skipping stages that are up to date\n"
    "  export    a model as standalone C (f64, f32 or int8) -> <name>.h, <name>.c, <name>_main.c\n"
    "  bench     latency, fps and accuracy loss of every model: library f64, exported f64/f32/int8 -> bench.md\n\n"
    "All configuration is through the PETSc options database (-options_file FILE, any option on the command\n"
    "line); -help lists the options of a stage with their defaults, -version prints the version.\n\n";

#define _XOPEN_SOURCE 700 /* realpath(), which _POSIX_C_SOURCE alone does not declare without _FORTIFY_SOURCE */
#include <kdpinn.h>
#include <hdf5.h>
#include <cblas.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <unistd.h>

typedef PetscErrorCode (*KDStageFunction)(MPI_Comm);

typedef struct {
  const char *name;
  KDStageFunction run;
} KDStage;

static const KDStage KDStages[] = {
    {"solve", KDStageSolve},       {"import", KDStageImport}, {"train", KDStageTrain},   {"distill", KDStageDistill},
    {"validate", KDStageValidate}, {"run", KDStageRun},       {"export", KDStageExport}, {"bench", KDStageBench},
};

static void KDPrintUsage(FILE *fp)
{
  fputs(help, fp);
}

/* The rank of this process as the launcher tells it, before MPI starts (0 if started alone): errors found before
   PetscInitialize() are the same on every rank and are printed by rank 0 only. */
static int KDLaunchRank(void)
{
  static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};

  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
    const char *v = getenv(vars[i]);
    if (v && *v) return atoi(v);
  }
  return 0;
}

/* Exit with an error found before PETSc starts, which rank 0 has printed: every rank first meets the others, for a
   rank that exits non-zero makes mpiexec kill the rest, and under load rank 0 was killed before its line was out. */
static int KDExitBeforeInit(int code)
{
  int initialized = 0;

  if (MPI_Initialized(&initialized) == MPI_SUCCESS && !initialized && MPI_Init(NULL, NULL) == MPI_SUCCESS) {
    (void) MPI_Barrier(MPI_COMM_WORLD);
    (void) MPI_Finalize();
  }
  return code;
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
  if (!core || (strcasecmp(core, "prescott") && strcasecmp(core, "core2") && strcasecmp(core, "nehalem") &&
                strcasecmp(core, "katmai") && strcasecmp(core, "northwood")))
    return;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    choice = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    choice = "Haswell";
#endif
  if (!choice) return;
  if (setenv("OPENBLAS_CORETYPE", choice, 1)) return;
  execv("/proc/self/exe", argv); /* returns only on failure: then carry on with the generic kernels */
  unsetenv("OPENBLAS_CORETYPE");
}

/* Open MPI's MPI-IO queries every shared-file-pointer component when a file is opened, and its "lockedfile" component
   builds a lock-file name in a fixed buffer: a path of about 245 characters or more (common on clusters) aborts the
   process inside H5Fcreate ("buffer overflow detected"). HDF5 never uses shared file pointers, so unless the user
   chose the components (OMPI_MCA_sharedfp set), that one is left out; other MPI libraries ignore the variable. */
static void KDAvoidLockedFileComponent(void)
{
  if (!getenv("OMPI_MCA_sharedfp")) (void) setenv("OMPI_MCA_sharedfp", "^lockedfile", 0);
}

/* PETSc follows -options_file lines inside options files without a limit: a file that includes itself, or two that
   include each other, overflow the stack (SIGSEGV, no message). Before PETSc starts, follow the includes of every
   -options_file of the command line; a cycle or a chain deeper than KD_OPTIONS_FILE_DEPTH is one error line. Files
   that cannot be read are left to PETSc, which reports them. */
#define KD_OPTIONS_FILE_DEPTH 16
static int KDOptionsFileCycle(const char path[], char chain[][PATH_MAX], int depth)
{
  char line[4096], *save = NULL;
  FILE *fp;
  int err = 0;

  if (!realpath(path, chain[depth])) return 0;
  for (int d = 0; d < depth; d++)
    if (!strcmp(chain[d], chain[depth])) {
      if (!KDLaunchRank())
        fprintf(stderr, "kdpinn: error: options file %s includes itself (%s%s)\n", chain[depth],
                depth - d > 1 ? "through " : "directly", depth - d > 1 ? chain[d + 1] : "");
      return 1;
    }
  if (depth + 1 >= KD_OPTIONS_FILE_DEPTH) {
    if (!KDLaunchRank())
      fprintf(stderr, "kdpinn: error: options files nested more than %d deep (at %s)\n", KD_OPTIONS_FILE_DEPTH, path);
    return 1;
  }
  if (!(fp = fopen(path, "r"))) return 0;
  while (!err && fgets(line, sizeof(line), fp)) {
    char *hash = strchr(line, '#'), *tok;
    if (hash) *hash = 0;
    for (tok = strtok_r(line, " \t\r\n", &save); tok && !err; tok = strtok_r(NULL, " \t\r\n", &save))
      if (!strcmp(tok, "-options_file") && (tok = strtok_r(NULL, " \t\r\n", &save)))
        err = KDOptionsFileCycle(tok, chain, depth + 1);
  }
  fclose(fp);
  return err;
}

static int KDCheckOptionsFiles(int argc, char **argv)
{
  static char chain[KD_OPTIONS_FILE_DEPTH][PATH_MAX];

  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], "-options_file") && KDOptionsFileCycle(argv[i + 1], chain, 0)) return 1;
  return 0;
}

static PetscErrorCode KDQuietHelp(MPI_Comm comm, const char fmt[], ...)
{
  return 0;
}

static PetscErrorCode KDQuietVFPrintf(FILE *fp, const char fmt[], va_list ap)
{
  return 0;
}

/* Whether an option is one of PETSc's nested solvers' (-teacher_tao_..., -heat_ts_...) */
static PetscBool KDNestedSolverOption(const char name[])
{
  for (const char *nested = strchr(name, '_'); nested; nested = strchr(nested + 1, '_'))
    if (!strncmp(nested, "_ts_", 4) || !strncmp(nested, "_snes_", 6) || !strncmp(nested, "_ksp_", 5) ||
        !strncmp(nested, "_pc_", 4) || !strncmp(nested, "_tao_", 5))
      return PETSC_TRUE;
  return PETSC_FALSE;
}

/* Every stage reads its options silently, as -help has it (which marks them used); *failed when one could not. */
static PetscErrorCode KDReadAllOptions(MPI_Comm comm, PetscBool *failed)
{
  PetscErrorCode (*help)(MPI_Comm, const char[], ...)       = PetscHelpPrintf;
  PetscErrorCode (*vfprintf)(FILE *, const char[], va_list) = PetscVFPrintf;

  PetscFunctionBegin;
  *failed = PETSC_FALSE;
  PetscCall(PetscOptionsSetValue(NULL, "-help", NULL));
  PetscHelpPrintf = KDQuietHelp;
  PetscVFPrintf   = KDQuietVFPrintf;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  for (size_t i = 0; i < sizeof(KDStages) / sizeof(KDStages[0]); i++)
    if (KDStages[i].run != KDStageRun && KDStages[i].run(comm)) *failed = PETSC_TRUE;
  PetscCall(PetscPopErrorHandler());
  PetscHelpPrintf = help;
  PetscVFPrintf   = vfprintf;
  PetscCall(PetscOptionsClearValue(NULL, "-help"));
  PetscFunctionReturn(0);
}

/* An option no stage reads (a typo: -teacher_adam_step, -burgers_nxx) does nothing, and nobody would be told. An
   options file serves every stage, so an option the running stage does not read may be another stage's: before the
   stage runs, every stage reads its options silently, as -help has it (which marks them used), and each option left
   under a kdpinn prefix gets one warning line. A per-level student option, -student_L2_widths, is read where
   -student_widths is: with level 2's options put in its place as the distill stage puts them, the stages read their
   options again, and the level's options whose -student_<option> none reads are warned of (a level whose options a
   stage refuses gets no verdict; the distill stage will say what is wrong). PETSc's options of nested solvers depend
   on the objects created, so they are not judged here. */
static PetscErrorCode KDWarnUnusedOptions(MPI_Comm comm)
{
  KDCommonOptions opt;
  char **names, **values, pdeprefix[80];
  PetscBool failed, given[KD_MAX_LEVELS];
  PetscInt n;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  failed = KDGetCommonOptions(comm, &opt) ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscPopErrorHandler());
  if (failed) PetscFunctionReturn(0); /* the stage will say what is wrong */
  PetscCall(PetscSNPrintf(pdeprefix, sizeof(pdeprefix), "%s_", opt.pde));
  PetscCall(KDReadAllOptions(comm, &failed));
  if (failed) PetscFunctionReturn(0); /* a stage could not list its options: no verdict rather than a wrong one */
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    const char *name = names[i];
    PetscBool ours   = (!strncmp(name, "kd_", 3) || !strncmp(name, "teacher_", 8) || !strncmp(name, "student_", 8) ||
                      !strncmp(name, "scratch_", 8) || !strncmp(name, pdeprefix, strlen(pdeprefix)))
                           ? PETSC_TRUE
                           : PETSC_FALSE;
    PetscInt level;
    PetscCall(KDStudentLevelOption(name, &level, NULL));
    if ((level > 0 && level < KD_MAX_LEVELS) || KDNestedSolverOption(name)) ours = PETSC_FALSE; /* levels: below */
    if (ours && !rank)
      (void) fprintf(stderr,
                     "kdpinn: warning: option -%s is not read by any stage (misspelt? `kdpinn <stage> -help` "
                     "lists the options)\n",
                     name);
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCall(KDStudentLevelsGiven(KD_MAX_LEVELS, given));
  for (PetscInt l = 1; l < KD_MAX_LEVELS; l++) {
    KDLevelOptions lv;
    const char *const *levelnames, *const *basenames;
    PetscInt nl;
    if (!given[l]) continue;
    PetscCall(KDStudentLevelOptionsPush(l, &lv));
    PetscCall(KDReadAllOptions(comm, &failed));
    PetscCall(KDStudentLevelOptionsGetNames(lv, &nl, &levelnames, &basenames));
    for (PetscInt i = 0; i < nl && !failed; i++) {
      PetscBool used;
      PetscCall(PetscOptionsUsed(NULL, basenames[i] + 1, &used)); /* the database's names are without the dash */
      if (!used && !KDNestedSolverOption(basenames[i]) && !rank)
        (void) fprintf(stderr,
                       "kdpinn: warning: option %s is not read by any stage (misspelt? `kdpinn <stage> -help` lists "
                       "the options)\n",
                       levelnames[i]);
    }
    PetscCall(KDStudentLevelOptionsPop(&lv));
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const KDStage *stage = NULL;
  PetscBool traceback = PETSC_FALSE, helpflag = PETSC_FALSE;
  PetscErrorCode ierr;

  KDSelectBLASKernels(argv);
  KDAvoidLockedFileComponent();
  /* -version and -kd_traceback act before PETSc starts (PETSc would answer -version with its own banner). */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-version") || !strcmp(argv[i], "--version")) {
      printf("kdpinn %s (PETSc %d.%d.%d)\n", KDPINN_VERSION, PETSC_VERSION_MAJOR, PETSC_VERSION_MINOR,
             PETSC_VERSION_SUBMINOR);
      return 0;
    }
    if (!strcmp(argv[i], "-kd_traceback")) traceback = PETSC_TRUE;
  }
  /* The stage is the first argument; everything after it belongs to the PETSc options database. */
  if (argc >= 2 && argv[1][0] != '-') {
    for (size_t i = 0; i < sizeof(KDStages) / sizeof(KDStages[0]); i++)
      if (!strcmp(argv[1], KDStages[i].name)) stage = &KDStages[i];
    if (!stage) {
      if (!KDLaunchRank()) {
        fprintf(stderr, "kdpinn: error: unknown stage '%s'\n\n", argv[1]);
        KDPrintUsage(stderr);
      }
      return KDExitBeforeInit(2);
    }
    argv[1] = argv[0];
    argc--;
    argv++;
  }
  if (KDCheckOptionsFiles(argc, argv)) return KDExitBeforeInit(1);
  if (KDPushErrorHandler(traceback)) return 1;
  if (PetscInitialize(&argc, &argv, NULL, help)) return 1; /* the handler has said why, in one line */
  ierr = KDRegisterAll();
  if (!ierr) ierr = KDSolverInitializePackage(); /* the built-in PDEs and their solvers */
  if (!ierr)
    ierr = KDPluginLoadFromOptions(PETSC_COMM_WORLD); /* user PDEs and solvers, before any stage reads -kd_pde */
  if (!ierr) ierr = PetscOptionsHasName(NULL, NULL, "-help", &helpflag);
  if (!ierr && !stage && !helpflag) {
    PetscMPIInt rank;
    MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
    if (!rank) {
      fprintf(stderr, "kdpinn: error: no stage given\n\n");
      KDPrintUsage(stderr);
    }
    (void) PetscFinalize();
    return 2;
  }
  if (!ierr)
    ierr = KDSignalInstall(); /* SIGUSR1/SIGTERM: a training stage checkpoints and exits with KD_EXIT_REQUEUE */
  if (!ierr && stage && !helpflag) ierr = KDWarnUnusedOptions(PETSC_COMM_WORLD);
  if (!ierr && stage && stage->run != KDStageRun) ierr = KDStageStampBegin(PETSC_COMM_WORLD, stage->name);
  if (!ierr && stage) ierr = stage->run(PETSC_COMM_WORLD);
  if (!ierr && stage && stage->run != KDStageRun) ierr = KDStageStampEnd(PETSC_COMM_WORLD, stage->name);
  /* A stage that failed may have left an HDF5 file open (a write that failed half way); HDF5 would close it at exit,
     after MPI is gone, and crash. Every rank has agreed on the error by now, so they close what is open together. */
  if (ierr) (void) H5close();
  KDFileUnlockAll(); /* after the last write: the outputs are complete or removed */
  if (PetscFinalize()) return 1;
  return KDSignalExitCode(ierr);
}
