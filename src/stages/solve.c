/*
  The `kdpinn solve` stage: run the reference solver of -kd_pde, build the scale hierarchy, write reference.h5 and
  its XDMF sidecars into -kd_out.
*/
#include <kdsolver.h>

typedef struct {
  const char      *name;
  KDSolverFunction solve;
} KDSolverEntry;

static const KDSolverEntry KDSolvers[] = {
  {"burgers", KDSolveBurgers},
  {"heat",    KDSolveHeat   },
  {"cavity",  KDSolveCavity },
};

/*@C
  KDSolverFind - The reference solver of a PDE, by name; an unknown name is an error that lists the known ones.

  Collective (the error, if any, is raised on comm)
@*/
PetscErrorCode KDSolverFind(MPI_Comm comm, const char pde[], KDSolverFunction *solve)
{
  PetscFunctionBegin;
  *solve = NULL;
  for (size_t i = 0; i < sizeof(KDSolvers) / sizeof(KDSolvers[0]); i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(pde, KDSolvers[i].name, &same));
    if (same) *solve = KDSolvers[i].solve;
  }
  PetscCheck(*solve, comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "unknown PDE '%s' for -kd_pde: expected burgers, heat or cavity", pde);
  PetscFunctionReturn(0);
}

/*@C
  KDStageSolve - The solve stage: reference solution, hierarchy, reference.h5 and reference_L<l>.xmf in -kd_out.

  Collective

  Options Database Keys:
+ -kd_pde, -kd_levels, -kd_out - see KDGetCommonOptions()
. -kd_reference_view          - print the grids of the hierarchy
- -help                       - list the options of the stage and of the solver of -kd_pde, solve nothing

  Notes:
  With -help a solver returns right after reading its options (KDHelpRequested()).
@*/
PetscErrorCode KDStageSolve(MPI_Comm comm)
{
  KDCommonOptions  opt;
  KDSolverFunction solve;
  KDReference      ref;
  PetscLogStage    stage;
  PetscLogDouble   t0, t1;
  PetscBool        view = PETSC_FALSE, help;
  char             path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscOptionsBegin(comm, NULL, "kdpinn solve stage", NULL);
  PetscCall(PetscOptionsBool("-kd_reference_view", "Print the grids of the hierarchy", "KDStageSolve", view, &view, NULL));
  PetscOptionsEnd();
  PetscCall(KDSolverFind(comm, opt.pde, &solve));
  PetscCall(KDHelpRequested(&help));
  if (help) { /* list the solver's options (it returns right after reading them) and run nothing */
    PetscCall(KDReferenceCreate(comm, &ref));
    PetscCall(solve(ref));
    PetscCall(KDReferenceDestroy(&ref));
    PetscFunctionReturn(0);
  }
  PetscCall(KDOutputDirCheck(comm, opt.out));
  PetscCall(KDLogStageGet("Solve", &stage));
  PetscCall(PetscLogStagePush(stage));
  PetscCall(PetscTime(&t0));
  PetscCall(KDReferenceCreate(comm, &ref));
  PetscCall(KDReferenceSetNumLevels(ref, opt.levels));
  PetscCall(solve(ref));
  PetscCall(KDReferenceBuildHierarchy(ref, opt.levels));
  PetscCall(PetscTime(&t1));
  PetscCall(KDOutputPath(opt.out, "reference.h5", path, sizeof(path)));
  PetscCall(KDReferenceWrite(ref, path));
  PetscCall(KDReferenceWriteXDMF(ref, opt.out, "reference.h5"));
  if (view) PetscCall(KDReferenceView(ref, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(PetscPrintf(comm, "kdpinn solve: %s, %" PetscInt_FMT " level(s), solved in %.2f s; wrote %s and reference_L*.xmf\n", opt.pde, opt.levels, (double)(t1 - t0), path));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}
