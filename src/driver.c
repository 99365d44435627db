static const char help[] = "kdpinn: knowledge distillation of physics-informed neural networks across scales.\n\n"
                           "Usage: kdpinn <stage> [PETSc options], e.g.\n"
                           "  mpiexec -n 2 kdpinn solve -options_file jobs/burgers.opts -kd_out out\n\n"
                           "Stages:\n"
                           "  solve     PETSc finite-difference reference solution and its scale hierarchy -> reference.h5\n"
                           "  train     teacher PINN on level 0, data-parallel over the ranks -> teacher.h5\n"
                           "  run       every stage above, in order\n\n"
                           "All configuration is through the PETSc options database (-options_file FILE, any option on the command\n"
                           "line); -help lists the options of a stage with their defaults, -version prints the version.\n\n";

#include <kdpinn.h>
#include <string.h>

typedef PetscErrorCode (*KDStageFunction)(MPI_Comm);

typedef struct {
  const char     *name;
  KDStageFunction run;
} KDStage;

static PetscErrorCode KDStageRun(MPI_Comm);

static const KDStage KDStages[] = {
  {"solve", KDStageSolve},
  {"train", KDStageTrain},
  {"run",   KDStageRun  },
};

/* The whole pipeline as far as this version has it. */
static PetscErrorCode KDStageRun(MPI_Comm comm)
{
  PetscFunctionBegin;
  PetscCall(KDStageSolve(comm));
  PetscCall(KDStageTrain(comm));
  PetscFunctionReturn(0);
}

static void KDPrintUsage(FILE *fp)
{
  fputs(help, fp);
}

int main(int argc, char **argv)
{
  const KDStage *stage     = NULL;
  PetscBool      traceback = PETSC_FALSE, helpflag = PETSC_FALSE;
  PetscErrorCode ierr;

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
  if (!ierr && stage) ierr = stage->run(PETSC_COMM_WORLD);
  if (PetscFinalize()) return 1;
  return ierr ? 1 : 0;
}
