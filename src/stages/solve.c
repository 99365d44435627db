/*
  The `kdpinn solve` stage and the registry of reference solvers: run the solver of -kd_pde, build the scale
  hierarchy, write reference.h5 and its XDMF sidecars into -kd_out.
*/
#include <kdstages.h>
#include <kdsolver.h>
#include <kdpdeimpl.h> /* KD_PDE_NAME_LEN */
#include "../solvers/kdsolverimpl.h"
#include <string.h>

#define KD_MAX_SOLVERS 64

/* The registry: one entry per PDE type that has a solver. */
static struct {
  char pde[KD_PDE_NAME_LEN];
  KDSolverFunction solve;
  char prefix[64];
} KDSolvers[KD_MAX_SOLVERS];
static int KDNumSolvers                     = 0;
static PetscBool KDSolverPackageInitialized = PETSC_FALSE;

/*@C
  KDSolverFinalizePackage - Empties the registry of solvers; called by PetscFinalize().

  Not collective
@*/
PetscErrorCode KDSolverFinalizePackage(void)
{
  PetscFunctionBegin;
  KDNumSolvers               = 0;
  KDSolverPackageInitialized = PETSC_FALSE;
  PetscFunctionReturn(0);
}

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
  PetscCall(KDSolverRegister("conduction", KDSolveConduction, "conduction_"));
  PetscCall(KDSolverRegister("fisher", KDSolveFisher, "fisher_"));
  PetscCall(PetscRegisterFinalize(KDSolverFinalizePackage));
  PetscFunctionReturn(0);
}

static int KDSolverIndex(const char pde[])
{
  for (int i = 0; i < KDNumSolvers; i++)
    if (!strcmp(KDSolvers[i].pde, pde)) return i;
  return -1;
}

/*@C
  KDSolverRegister - Registers the reference solver of a PDE type, with the prefix of its options.

  Not collective (an error is raised on PETSC_COMM_WORLD: every rank registers the same solvers)

  Input Parameters:
+ pde    - the PDE type's name (KDPDERegister())
. solve  - solve(pde, ref): fills the reference's level-0 grid and fields (kdsolver.h)
- prefix - the prefix of its options without the dash, e.g. burgers_ (a letter, then letters, digits, underscores;
           every option of the solver starts with -<prefix>; a change to any of them makes `kdpinn run` solve again)

  Notes:
  Registering a PDE type again replaces its solver.

.seealso: KDSolverFind(), KDPDERegister(), docs/extending.md
@*/
PetscErrorCode KDSolverRegister(const char pde[], KDSolverFunction solve, const char prefix[])
{
  size_t plen, len;
  int k;

  PetscFunctionBegin;
  PetscCall(KDSolverInitializePackage());
  PetscCheck(pde && solve && prefix, PETSC_COMM_WORLD, PETSC_ERR_ARG_NULL,
             "KDSolverRegister(%s): needs a PDE name, a solve function and an option prefix", pde ? pde : "NULL");
  PetscCall(PetscStrlen(pde, &len));
  PetscCheck(len > 0 && len < KD_PDE_NAME_LEN, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "KDSolverRegister: PDE name '%s' must have 1 to %d characters", pde, KD_PDE_NAME_LEN - 1);
  PetscCall(PetscStrlen(prefix, &plen));
  PetscCheck(plen > 0 && plen < sizeof(KDSolvers[0].prefix), PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "KDSolverRegister(%s): option prefix '%s' must have 1 to %d characters", pde, prefix,
             (int) sizeof(KDSolvers[0].prefix) - 1);
  for (size_t i = 0; i < plen; i++) {
    const char c = prefix[i];
    PetscCheck((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_', PETSC_COMM_WORLD,
               PETSC_ERR_ARG_WRONG,
               "KDSolverRegister(%s): option prefix '%s': letters, digits and underscores only, without the dash", pde,
               prefix);
  }
  PetscCheck((prefix[0] >= 'a' && prefix[0] <= 'z') || (prefix[0] >= 'A' && prefix[0] <= 'Z'), PETSC_COMM_WORLD,
             PETSC_ERR_ARG_WRONG, "KDSolverRegister(%s): option prefix '%s' must start with a letter", pde, prefix);
  k = KDSolverIndex(pde);
  if (k < 0) {
    PetscCheck(KDNumSolvers < KD_MAX_SOLVERS, PETSC_COMM_WORLD, PETSC_ERR_ARG_SIZ,
               "KDSolverRegister(%s): at most %d solvers", pde, KD_MAX_SOLVERS);
    k = KDNumSolvers++;
  }
  PetscCall(PetscStrncpy(KDSolvers[k].pde, pde, sizeof(KDSolvers[k].pde)));
  PetscCall(PetscStrncpy(KDSolvers[k].prefix, prefix, sizeof(KDSolvers[k].prefix)));
  KDSolvers[k].solve = solve;
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
  int k;

  PetscFunctionBegin;
  PetscCall(KDSolverInitializePackage());
  k = KDSolverIndex(pde);
  if (k < 0) {
    char list[512] = "";
    for (int i = 0; i < KDNumSolvers; i++) {
      if (i) PetscCall(PetscStrlcat(list, ", ", sizeof(list)));
      PetscCall(PetscStrlcat(list, KDSolvers[i].pde, sizeof(list)));
    }
    SETERRQ(comm, PETSC_ERR_ARG_UNKNOWN_TYPE,
            "no reference solver for PDE '%s' (-kd_pde): solvers exist for %s; import another solver's output with "
            "`kdpinn import`",
            pde, list);
  }
  if (solve) *solve = KDSolvers[k].solve;
  if (prefix) *prefix = KDSolvers[k].prefix;
  PetscFunctionReturn(0);
}

/* One solve of the stage: the solver on its options' grid divided by div, level 0 that grid coarsened K times, the
   hierarchy built. grid[] holds the solver grid of the previous solve, 2 times coarser (not read when first), and
   on return this one's: a solver that ignores the divisor (KDReferenceApplyGridDivisor()) is refused by name. */
static PetscErrorCode KDStageSolveOnce(MPI_Comm comm, KDPDE pde, KDSolverFunction solve, PetscInt K, PetscInt div,
                                       PetscInt levels, PetscBool first, PetscInt grid[], KDReference *ref)
{
  PetscInt dim, n[KD_MAX_DIM];
  const char *type;

  PetscFunctionBegin;
  if (div > 1)
    PetscCall(PetscPrintf(comm,
                          "kdpinn solve: -kd_reference_extrapolate: the solve on a grid %" PetscInt_FMT
                          " times coarser per axis (cell counts in the solver's messages are divided)\n",
                          div));
  PetscCall(KDReferenceCreate(comm, ref));
  PetscCall(KDReferenceSetCoarsening(*ref, K));
  PetscCall(KDReferenceSetGridDivisor(*ref, div));
  PetscCall(KDReferenceSetNumLevels(*ref, levels));
  PetscCall(KDPDEWriteReference(pde, *ref));
  PetscCall(solve(pde, *ref));
  PetscCall(KDReferenceGetLevelGrid(*ref, 0, &dim, n, NULL, NULL));
  PetscCall(KDPDEGetType(pde, &type));
  for (PetscInt d = 0; !first && d < dim; d++)
    PetscCheck(n[d] == 2 * grid[d], comm, PETSC_ERR_SUP,
               "-kd_reference_extrapolate: the solver of PDE '%s' does not solve on a coarser grid when asked "
               "(KDReferenceApplyGridDivisor()): axis %" PetscInt_FMT " has %" PetscInt_FMT
               " cells in the solve %" PetscInt_FMT " times coarser and %" PetscInt_FMT " in the one %" PetscInt_FMT
               " times coarser",
               type, d, grid[d], 2 * div, n[d], div);
  for (PetscInt d = 0; d < dim; d++) grid[d] = n[d];
  PetscCall(KDReferenceBuildHierarchy(*ref, levels));
  PetscFunctionReturn(0);
}

/*@C
  KDStageSolve - The solve stage: reference solution, hierarchy, reference.h5 and reference_L<l>.xmf in -kd_out.

  Collective

  Options Database Keys:
+ -kd_pde, -kd_levels, -kd_out - see KDGetCommonOptions()
. -<pde>_<parameter>, ...     - the problem, KDPDESetProblemFromOptions()
. -<prefix>...                - the solver's own options (prefix of its KDSolverRegister())
. -kd_reference_coarsen K     - level 0 is the solver grid coarsened K times (cell averages of a finer solution)
. -kd_reference_extrapolate   - level 0 is the Richardson extrapolation of three solves (KDReferenceExtrapolate())
. -kd_reference_view          - print the grids of the hierarchy
- -help                       - list the options of the stage, of the PDE's problem and of its solver, solve nothing

  Notes:
  With -help a solver returns right after reading its options (KDHelpRequested()). Writing a reference removes the
  stamps of every stage (KDStageStampClear()): `kdpinn run` then retrains on it.
@*/
PetscErrorCode KDStageSolve(MPI_Comm comm)
{
  KDCommonOptions opt;
  KDSolverFunction solve;
  KDReference ref;
  KDPDE pde;
  PetscLogStage stage;
  PetscLogDouble t0, t1;
  PetscBool view = PETSC_FALSE, extrapolate = PETSC_FALSE, help;
  PetscInt coarsen = 0, grid[KD_MAX_DIM];
  char path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscOptionsBegin(comm, NULL, "kdpinn solve stage", NULL);
  PetscCall(KDOptionsInt("-kd_reference_coarsen",
                         "Level 0 of reference.h5 is the solver grid coarsened this many times (cell averages): solve "
                         "finer than the grid the models are validated on",
                         "KDReferenceSetCoarsening", coarsen, &coarsen, NULL));
  PetscCall(
      PetscOptionsBool("-kd_reference_extrapolate",
                       "Level 0 is the Richardson extrapolation of three solves, on the solver grid and on grids 2 "
                       "and 4 times coarser, cell by cell at the observed order (needs -kd_reference_coarsen 2 "
                       "or more)",
                       "KDReferenceExtrapolate", extrapolate, &extrapolate, NULL));
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
  PetscCheck(
      !extrapolate || coarsen >= 2, comm, PETSC_ERR_ARG_INCOMP,
      "-kd_reference_extrapolate needs -kd_reference_coarsen 2 or more (its coarsest solve, 4 times coarser than "
      "the solver grid, must still reach level 0), got %" PetscInt_FMT,
      coarsen);
  PetscCall(KDOutputDirCheck(comm, opt.out));
  PetscCall(KDOutputLock(comm, opt.out, "reference.h5"));
  PetscCall(KDLogStageGet("Solve", &stage));
  PetscCall(PetscLogStagePush(stage));
  PetscCall(PetscTime(&t0));
  if (extrapolate) { /* the coarser solves first: a grid they cannot take stops the stage before the costly one */
    KDReference medium, coarse;

    PetscCall(KDStageSolveOnce(comm, pde, solve, coarsen - 2, 4, opt.levels, PETSC_TRUE, grid, &coarse));
    PetscCall(KDStageSolveOnce(comm, pde, solve, coarsen - 1, 2, opt.levels, PETSC_FALSE, grid, &medium));
    PetscCall(KDStageSolveOnce(comm, pde, solve, coarsen, 1, opt.levels, PETSC_FALSE, grid, &ref));
    PetscCall(PetscPrintf(comm, "kdpinn solve: Richardson extrapolation of the three solves (docs/solvers.md):\n"));
    PetscCall(KDReferenceExtrapolate(ref, medium, coarse, PETSC_VIEWER_STDOUT_(comm)));
    PetscCall(KDReferenceDestroy(&medium));
    PetscCall(KDReferenceDestroy(&coarse));
  } else
    PetscCall(KDStageSolveOnce(comm, pde, solve, coarsen, 1, opt.levels, PETSC_TRUE, grid, &ref));
  PetscCall(PetscTime(&t1));
  PetscCall(KDOutputPath(opt.out, "reference.h5", path, sizeof(path)));
  PetscCall(KDStageStampClear(comm)); /* models stamped against the reference replaced here are no longer current */
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
