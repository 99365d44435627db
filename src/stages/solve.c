/*
  The `kdpinn solve` stage and the registry of reference solvers: run the solver of -kd_pde, build the scale
  hierarchy, write reference.h5 and its XDMF sidecars into -kd_out.
*/
#include <kdstages.h>
#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"

typedef struct {
  KDSolverFunction solve;
  char prefix[64];
} KDSolverEntry;

static PetscFunctionList KDSolverList       = NULL;
static PetscBool KDSolverPackageInitialized = PETSC_FALSE;

/*@C
  KDSolverInitializePackage - Registers the solvers of the built-in PDEs; called on first use, safe to call again.

  Not collective
@*/
PetscErrorCode KDSolverInitializePackage(void)
{
  PetscFunctionBegin;
  if (KDSolverPackageInitialized) PetscFunctionReturn(0);
  KDSolverPackageInitialized = PETSC_TRUE;
  PetscCall(KDPDEInitializePackage());
  PetscCall(KDSolverRegister("burgers", KDSolveBurgers, "burgers_"));
  PetscCall(KDSolverRegister("heat", KDSolveHeat, "heat_"));
  PetscCall(KDSolverRegister("cavity", KDSolveCavity, "cavity_"));
  PetscFunctionReturn(0);
}

/* A solver entry is kept behind the function list's pointer: the list holds a function per name, so the entry's
   address goes in cast to one. */
typedef void (*KDVoidFunction)(void);

/*@C
  KDSolverRegister - Registers the reference solver of a PDE type, with the prefix of its options.

  Not collective

  Input Parameters:
+ pde    - the PDE type's name (KDPDERegister())
. solve  - solve(pde, ref): fills the reference's level-0 grid and fields (kdsolver.h)
- prefix - the prefix of its options without the dash, e.g. burgers_ (every option of the solver starts with it; a
           change to any of them makes `kdpinn run` solve again)

.seealso: KDSolverFind(), KDPDERegister(), docs/extending.md
@*/
PetscErrorCode KDSolverRegister(const char pde[], KDSolverFunction solve, const char prefix[])
{
  KDSolverEntry *e = NULL;

  PetscFunctionBegin;
  PetscCall(KDSolverInitializePackage());
  PetscCheck(solve, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "KDSolverRegister(%s): no solve function", pde);
  PetscCheck(prefix && prefix[0], PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "KDSolverRegister(%s): no option prefix", pde);
  PetscCall(PetscFunctionListFind(KDSolverList, pde, (KDVoidFunction *) &e));
  if (!e) PetscCall(PetscNew(&e)); /* lives as long as the program: a registry entry */
  e->solve = solve;
  PetscCall(PetscStrncpy(e->prefix, prefix, sizeof(e->prefix)));
  PetscCall(PetscFunctionListAdd(&KDSolverList, pde, (KDVoidFunction) e));
  PetscFunctionReturn(0);
}

/*@C
  KDSolverFind - The reference solver of a PDE type and its option prefix; an error (naming the types that have a
  solver) if there is none.

  Collective (the error, if any, is raised on comm)

.seealso: KDSolverRegister()
@*/
PetscErrorCode KDSolverFind(MPI_Comm comm, const char pde[], KDSolverFunction *solve, const char **prefix)
{
  KDSolverEntry *e = NULL;

  PetscFunctionBegin;
  PetscCall(KDSolverInitializePackage());
  PetscCall(PetscFunctionListFind(KDSolverList, pde, (KDVoidFunction *) &e));
  if (!e) {
    const char **names;
    int n;
    char list[512] = "";
    PetscCall(PetscFunctionListGet(KDSolverList, &names, &n));
    for (int i = 0; i < n; i++) {
      if (!names[i] || !names[i][0]) continue;
      if (list[0]) PetscCall(PetscStrlcat(list, ", ", sizeof(list)));
      PetscCall(PetscStrlcat(list, names[i], sizeof(list)));
    }
    PetscCall(PetscFree(names));
    SETERRQ(comm, PETSC_ERR_ARG_UNKNOWN_TYPE,
            "no reference solver for PDE '%s' (-kd_pde): solvers exist for %s; import another solver's output with "
            "`kdpinn import`",
            pde, list);
  }
  if (solve) *solve = e->solve;
  if (prefix) *prefix = e->prefix;
  PetscFunctionReturn(0);
}

/*@C
  KDStageSolve - The solve stage: reference solution, hierarchy, reference.h5 and reference_L<l>.xmf in -kd_out.

  Collective

  Options Database Keys:
+ -kd_pde, -kd_levels, -kd_out - see KDGetCommonOptions()
. -<pde>_<parameter>, ...     - the problem, KDPDESetProblemFromOptions()
. -<prefix>...                - the solver's own options (prefix of its KDSolverRegister())
. -kd_reference_view          - print the grids of the hierarchy
- -help                       - list the options of the stage, of the PDE's problem and of its solver, solve nothing

  Notes:
  With -help a solver returns right after reading its options (KDHelpRequested()).
@*/
PetscErrorCode KDStageSolve(MPI_Comm comm)
{
  KDCommonOptions opt;
  KDSolverFunction solve;
  KDReference ref;
  KDPDE pde;
  PetscLogStage stage;
  PetscLogDouble t0, t1;
  PetscBool view = PETSC_FALSE, help;
  char path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscOptionsBegin(comm, NULL, "kdpinn solve stage", NULL);
  PetscCall(
      PetscOptionsBool("-kd_reference_view", "Print the grids of the hierarchy", "KDStageSolve", view, &view, NULL));
  PetscOptionsEnd();
  PetscCall(KDPDECreate(comm, &pde));
  PetscCall(KDPDESetType(pde, opt.pde));
  PetscCall(KDSolverFind(comm, opt.pde, &solve, NULL));
  PetscCall(KDPDESetProblemFromOptions(pde));
  PetscCall(KDHelpRequested(&help));
  if (help) { /* list the solver's options (it returns right after reading them) and run nothing */
    PetscCall(KDReferenceCreate(comm, &ref));
    PetscCall(solve(pde, ref));
    PetscCall(KDReferenceDestroy(&ref));
    PetscCall(KDPDEDestroy(&pde));
    PetscFunctionReturn(0);
  }
  PetscCall(KDOutputDirCheck(comm, opt.out));
  PetscCall(KDLogStageGet("Solve", &stage));
  PetscCall(PetscLogStagePush(stage));
  PetscCall(PetscTime(&t0));
  PetscCall(KDReferenceCreate(comm, &ref));
  PetscCall(KDReferenceSetNumLevels(ref, opt.levels));
  PetscCall(KDPDEWriteReference(pde, ref));
  PetscCall(solve(pde, ref));
  PetscCall(KDReferenceBuildHierarchy(ref, opt.levels));
  PetscCall(PetscTime(&t1));
  PetscCall(KDOutputPath(opt.out, "reference.h5", path, sizeof(path)));
  PetscCall(KDReferenceWrite(ref, path));
  PetscCall(KDReferenceWriteXDMF(ref, opt.out, "reference.h5"));
  if (view) PetscCall(KDReferenceView(ref, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(PetscPrintf(
      comm, "kdpinn solve: %s, %" PetscInt_FMT " level(s), solved in %.2f s; wrote %s and reference_L*.xmf\n", opt.pde,
      opt.levels, (double) (t1 - t0), path));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(KDPDEDestroy(&pde));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}
