static const char help[] =
    "The registries of PDE types and solvers: what a create function may not declare, what a registration may not\n"
    "name, and the state they leave behind on failure.\n";

/* Each refused declaration or registration must fail with an error naming the problem (a keyword), and a PDE whose
   create function failed must be left typeless and reusable, with everything the failed declarations allocated
   freed (the memory PETSc's allocator tracks under -malloc_debug is the same before and after the failures).
   Registering a solver again replaces it; finalizing the packages forgets the types and solvers a program added and
   brings back the built-ins on next use. */
#include <kdsolver.h>
#include <kdpdeimpl.h>
#include <string.h>

static char lastmsg[4096];

static PetscErrorCode CaptureError(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n,
                                   PetscErrorType p, const char *mess, void *ctx)
{
  if (p == PETSC_ERROR_INITIAL) (void) snprintf(lastmsg, sizeof(lastmsg), "%s", mess ? mess : "");
  return n;
}

/* ierr must be an error whose message holds keyword. */
static PetscErrorCode ExpectError(const char what[], PetscErrorCode ierr, const char keyword[])
{
  PetscFunctionBegin;
  PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: accepted", what);
  PetscCheck(strstr(lastmsg, keyword), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: error '%s' does not say '%s'", what,
             lastmsg, keyword);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "refused: %-34s %s\n", what, lastmsg));
  lastmsg[0] = 0;
  PetscFunctionReturn(0);
}

/* The call runs with the error captured, the checks with PETSc's handler back. */
#define EXPECT_ERROR(what, call, keyword)                                                                              \
  do {                                                                                                                 \
    PetscErrorCode ierr_;                                                                                              \
    PetscCall(PetscPushErrorHandler(CaptureError, NULL));                                                              \
    ierr_ = (call);                                                                                                    \
    PetscCall(PetscPopErrorHandler());                                                                                 \
    PetscCall(ExpectError(what, ierr_, keyword));                                                                      \
  } while (0)

static PetscErrorCode Residual(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[], PetscReal res[])
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) res[p] = jet[n + p]; /* u_x */
  PetscFunctionReturn(0);
}

static PetscErrorCode ResidualAdjoint(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                      const PetscReal rbar[], PetscReal adj[])
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) adj[n + p] += rbar[p];
  PetscFunctionReturn(0);
}

static PetscErrorCode Destroy(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(pde->data));
  PetscFunctionReturn(0);
}

/* A valid PDE u_x = 0 on [0, 1] with data (freed by its destroy), then one declaration of the case. */
static const char *Case = "none";

static PetscErrorCode Create(KDPDE pde)
{
  PetscReal *data;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(4, &data));
  pde->data         = data;
  pde->ops->destroy = Destroy;
  PetscCall(KDPDESetVariables(pde, "x", "u", 1));
  PetscCall(KDPDEAddParameter(pde, "a", 1.0, "a parameter", NULL));
  PetscCall(KDPDEAddCondition(pde, "left", KD_CONDITION_DIRICHLET, KD_FACE(0, 0), "u", NULL, NULL));
  if (strcmp(Case, "no-residual")) {
    pde->ops->residual        = Residual;
    pde->ops->residualadjoint = ResidualAdjoint;
  }
  if (!strcmp(Case, "parameter-levels")) PetscCall(KDPDEAddParameter(pde, "levels", 1.0, NULL, NULL));
  if (!strcmp(Case, "parameter-source")) PetscCall(KDPDEAddParameter(pde, "source", 1.0, NULL, NULL));
  if (!strcmp(Case, "parameter-twice")) PetscCall(KDPDEAddParameter(pde, "a", 1.0, NULL, NULL));
  if (!strcmp(Case, "condition-col"))
    PetscCall(KDPDEAddCondition(pde, "col", KD_CONDITION_DIRICHLET, 1, "u", NULL, NULL));
  if (!strcmp(Case, "condition-gauge"))
    PetscCall(KDPDEAddCondition(pde, "gauge", KD_CONDITION_NEUMANN, KD_FACES_ALL, "u", NULL, NULL));
  if (!strcmp(Case, "condition-out"))
    PetscCall(KDPDEAddCondition(pde, "out", KD_CONDITION_DIRICHLET, KD_FACE(0, 1), "u", NULL, NULL));
  if (!strcmp(Case, "condition-physics"))
    PetscCall(KDPDEAddCondition(pde, "physics", KD_CONDITION_DIRICHLET, KD_FACE(0, 1), "u", NULL, NULL));
  if (!strcmp(Case, "condition-type"))
    PetscCall(KDPDEAddCondition(pde, "right", (KDConditionType) KD_CONDITION_NTYPES, KD_FACE(0, 1), "u", NULL, NULL));
  if (!strcmp(Case, "periodic-one-side"))
    PetscCall(KDPDEAddCondition(pde, "per", KD_CONDITION_PERIODIC, KD_FACE(0, 0), "u", NULL, NULL));
  if (!strcmp(Case, "initial-steady"))
    PetscCall(KDPDEAddCondition(pde, "ic", KD_CONDITION_INITIAL, 0, "u", NULL, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode Solve(KDPDE pde, KDReference ref)
{
  return 0;
}

static PetscErrorCode Solve2(KDPDE pde, KDReference ref)
{
  return 0;
}

int main(int argc, char **argv)
{
  const char *const cases[][2] = {
      {"parameter-levels", "reserved for an attribute of kdpinn files"},
      {"parameter-source", "reserved for an attribute of kdpinn files"},
      {"parameter-twice", "declared twice"},
      {"condition-col", "reserved for a term of the loss"},
      {"condition-gauge", "reserved for a term of the loss"},
      {"condition-out", "reserved for a term of the loss"},
      {"condition-physics", "reserved for a term of the loss"},
      {"condition-type", "unknown condition type"},
      {"periodic-one-side", "needs both faces"},
      {"initial-steady", "cannot be an initial condition"},
      {"no-residual", "must set ops->residual"},
  };
  KDPDE pde;
  KDSolverFunction solve;
  const char *type, *prefix;
  const char *const *names;
  PetscInt n;
  PetscBool found = PETSC_FALSE;
  PetscLogDouble before, after;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(KDPDERegister("toy", Create));
  PetscCall(KDPDECreate(PETSC_COMM_WORLD, &pde));
  PetscCall(PetscMallocGetCurrentUsage(&before));
  PetscCheck(before > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "run with -malloc_debug: no allocation is tracked");
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    Case = cases[k][0];
    EXPECT_ERROR(Case, KDPDESetType(pde, "toy"), cases[k][1]);
    PetscCall(KDPDEGetType(pde, &type));
    PetscCheck(!type[0] && !pde->data && !pde->nconditions && !pde->nparams && !pde->ops->destroy, PETSC_COMM_WORLD,
               PETSC_ERR_PLIB, "%s: the PDE is not typeless after a failed KDPDESetType()", Case);
  }
  PetscCall(PetscMallocGetCurrentUsage(&after));
  PetscCheck(after == before, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the failed declarations leaked %g bytes",
             (double) (after - before));
  EXPECT_ERROR("PDE name with a dash", KDPDERegister("my-pde", Create), "letters, digits and underscores");
  EXPECT_ERROR("PDE name starting with a digit", KDPDERegister("1d", Create), "must start with a letter");
  EXPECT_ERROR("solver prefix starting with _", KDSolverRegister("toy", Solve, "_toy"), "must start with a letter");
  EXPECT_ERROR("solver prefix with the dash", KDSolverRegister("toy", Solve, "-toy_"), "without the dash");
  EXPECT_ERROR("solver prefix with a space", KDSolverRegister("toy", Solve, "toy x"), "without the dash");
  EXPECT_ERROR("empty solver prefix", KDSolverRegister("toy", Solve, ""), "1 to 63 characters");
  EXPECT_ERROR("solver without a function", KDSolverRegister("toy", NULL, "toy_"), "needs a PDE name");
  EXPECT_ERROR("PDE without a solver", KDSolverFind(PETSC_COMM_WORLD, "toy", NULL, NULL),
               "solvers exist for burgers, heat, cavity");

  /* the same object takes a valid type after the failures */
  Case = "none";
  PetscCall(KDPDESetType(pde, "toy"));
  PetscCall(KDPDEGetNumParameters(pde, &n));
  PetscCheck(n == 1, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "toy: %" PetscInt_FMT " parameters, expected 1", n);
  PetscCall(KDPDESetType(pde, "burgers"));
  PetscCall(KDPDEDestroy(&pde));

  /* a solver registered twice: the second replaces the first */
  PetscCall(KDSolverRegister("toy", Solve, "toy_"));
  PetscCall(KDSolverRegister("toy", Solve2, "toy2_"));
  PetscCall(KDSolverFind(PETSC_COMM_WORLD, "toy", &solve, &prefix));
  PetscCheck(solve == Solve2 && !strcmp(prefix, "toy2_"), PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "the second registration of solver toy did not replace the first");
  PetscCall(KDPDEGetTypeNames(&n, &names));
  for (PetscInt i = 0; i < n; i++) found = (PetscBool) (found || !strcmp(names[i], "toy"));
  /* the five built-ins (burgers, heat, cavity, conduction, fisher) and toy */
  PetscCheck(n == 6 && found, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%" PetscInt_FMT " PDE types, toy %s", n,
             found ? "among them" : "missing");

  /* finalized, the registries forget what the program added and come back with the built-ins */
  PetscCall(KDSolverFinalizePackage());
  PetscCall(KDPDEFinalizePackage());
  PetscCall(KDPDEGetTypeNames(&n, &names));
  PetscCheck(n == 5, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%" PetscInt_FMT " PDE types after finalize, expected 5", n);
  EXPECT_ERROR("solver after finalize", KDSolverFind(PETSC_COMM_WORLD, "toy", NULL, NULL), "'toy'");
  PetscCall(KDSolverFind(PETSC_COMM_WORLD, "cavity", &solve, &prefix));
  PetscCheck(!strcmp(prefix, "cavity_"), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "cavity's solver prefix is %s", prefix);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t402: bad declarations and registrations refused, registries reset\n"));
  PetscCall(PetscFinalize());
  return 0;
}
