/*
  KDPDE: the interface of the PDE types and their registry (include/kdpde.h, include/kdpdeimpl.h).

  A type is a create function in KDPDEList; KDPDESetType() resets the object and calls it, and the type declares its
  variables, jet streams, parameters, coefficients, conditions and gauge through the calls of kdpdeimpl.h. Everything
  here is generic: point sampling in the box, parameters by name, the reference round trip, dispatch to the ops.
*/
#include <kdpdeimpl.h>
#include "sys/kdio.h"
#include <string.h>

const char *const KDPDEPointKinds[]  = {"interior", "initial", "boundary", "KDPDEPointKind", "KD_PDE_POINTS_", NULL};
const char *const KDConditionTypes[] = {"dirichlet",       "neumann",       "periodic", "initial",
                                        "KDConditionType", "KD_CONDITION_", NULL};
_Static_assert(KD_CONDITION_INITIAL + 1 == KD_CONDITION_NTYPES,
               "KD_CONDITION_NTYPES counts the KDConditionType values");
_Static_assert(sizeof(KDConditionTypes) / sizeof(KDConditionTypes[0]) == KD_CONDITION_NTYPES + 3,
               "one name per KDConditionType, then the enum's name, its prefix and NULL");

/* Names a condition may not take: the terms and options of the PINN loss (src/loss/loss.c: -<prefix>ncol,
   -<prefix>w_pde, -<prefix>ndata, -<prefix>w_gauge, -<prefix>w_obs) and of the distillation loss, which shares the
   student's prefix (src/distill/distill.c: terms out, grad, res; -<prefix>w_physics). */
static const char *const KDLossReservedNames[] = {"pde", "col",  "data", "gauge",  "obs",
                                                  "out", "grad", "res",  "physics"};

PetscFunctionList KDPDEList              = NULL;
static const char **KDPDETypeNames       = NULL; /* the array KDPDEGetTypeNames() returns */
static PetscBool KDPDEPackageInitialized = PETSC_FALSE;

PETSC_EXTERN PetscErrorCode KDPDECreate_Burgers(KDPDE);
PETSC_EXTERN PetscErrorCode KDPDECreate_Heat(KDPDE);
PETSC_EXTERN PetscErrorCode KDPDECreate_Cavity(KDPDE);
PETSC_EXTERN PetscErrorCode KDPDERegisterAddends_Cavity(void);
PETSC_EXTERN PetscErrorCode KDPDERegisterNetParts_Conduction(void);
PETSC_EXTERN PetscErrorCode KDPDECreate_Conduction(KDPDE);
PETSC_EXTERN PetscErrorCode KDPDECreate_Fisher(KDPDE);

/*@C
  KDPDEFinalizePackage - Empties the registry of PDE types; called by PetscFinalize().

  Not collective
@*/
PetscErrorCode KDPDEFinalizePackage(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&KDPDEList));
  PetscCall(PetscFree(KDPDETypeNames));
  KDPDEPackageInitialized = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEInitializePackage - Registers the built-in PDE types; called on first use of KDPDE, safe to call again.

  Not collective

.seealso: KDPDERegister()
@*/
PetscErrorCode KDPDEInitializePackage(void)
{
  PetscFunctionBegin;
  if (KDPDEPackageInitialized) PetscFunctionReturn(0);
  KDPDEPackageInitialized = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(KDPDERegister("burgers", KDPDECreate_Burgers));
  PetscCall(KDPDERegister("heat", KDPDECreate_Heat));
  PetscCall(KDPDERegister("cavity", KDPDECreate_Cavity));
  PetscCall(KDPDERegisterAddends_Cavity());
  PetscCall(KDPDERegister("conduction", KDPDECreate_Conduction));
  PetscCall(KDPDERegisterNetParts_Conduction());
  PetscCall(KDPDERegister("fisher", KDPDECreate_Fisher));
  PetscCall(KDCommonOptionsSetPDETypes(&KDPDEList, "burgers"));
  PetscCall(PetscRegisterFinalize(KDPDEFinalizePackage));
  PetscFunctionReturn(0);
}

/*@C
  KDPDERegister - Adds a PDE type: -kd_pde name selects it, KDPDESetType(pde, name) calls create(pde).

  Not collective (an error is raised on PETSC_COMM_WORLD: every rank registers the same types)

  Input Parameters:
+ name   - the type's name (a letter, then letters, digits, underscores; it is also the prefix of its problem options,
           -<name>_)
- create - declares the PDE on a fresh object (include/kdpdeimpl.h)

  Notes:
  Call it from the program, or from the function KDPluginRegister() of a plugin loaded with -kd_plugin. Registering
  a name again replaces its create function.

.seealso: KDPDESetType(), KDSolverRegister(), docs/extending.md
@*/
PetscErrorCode KDPDERegister(const char name[], PetscErrorCode (*create)(KDPDE))
{
  size_t len;

  PetscFunctionBegin;
  PetscCall(KDPDEInitializePackage());
  PetscCheck(name && create, PETSC_COMM_WORLD, PETSC_ERR_ARG_NULL,
             "KDPDERegister(%s): needs a name and a create function", name ? name : "NULL");
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(len > 0 && len < KD_PDE_NAME_LEN, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "PDE type name '%s' must have 1 to %d characters", name, KD_PDE_NAME_LEN - 1);
  for (size_t i = 0; i < len; i++) {
    const char c = name[i];
    PetscCheck((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_', PETSC_COMM_WORLD,
               PETSC_ERR_ARG_WRONG, "PDE type name '%s': letters, digits and underscores only", name);
  }
  PetscCheck((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'), PETSC_COMM_WORLD,
             PETSC_ERR_ARG_WRONG, "PDE type name '%s' must start with a letter (it begins the options -%s_...)", name,
             name);
  PetscCall(PetscFunctionListAdd(&KDPDEList, name, create));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetTypeNames - The names of the registered PDE types (borrowed, valid until the next call of this function or
  of KDPDERegister()).

  Not collective
@*/
PetscErrorCode KDPDEGetTypeNames(PetscInt *n, const char *const **names)
{
  int count = 0, k = 0;

  PetscFunctionBegin;
  PetscCall(KDPDEInitializePackage());
  PetscCall(PetscFree(KDPDETypeNames));
  PetscCall(PetscFunctionListGet(KDPDEList, (const char ***) &KDPDETypeNames, &count));
  for (int i = 0; i < count; i++) /* the list's array may hold empty slots */
    if (KDPDETypeNames[i] && KDPDETypeNames[i][0]) KDPDETypeNames[k++] = KDPDETypeNames[i];
  *n     = k;
  *names = KDPDETypeNames;
  PetscFunctionReturn(0);
}

/* The registered types, comma separated, for error messages */
static PetscErrorCode KDPDETypeList(char buf[], size_t len)
{
  PetscInt n;
  const char *const *names;

  PetscFunctionBegin;
  buf[0] = 0;
  PetscCall(KDPDEGetTypeNames(&n, &names));
  for (PetscInt i = 0; i < n; i++) {
    if (i) PetscCall(PetscStrlcat(buf, ", ", len));
    PetscCall(PetscStrlcat(buf, names[i], len));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDECreate - Creates a PDE; give it a type with KDPDESetType() or KDPDESetFromReference().

  Collective (the communicator is kept for errors and viewers; the operators themselves are local)

.seealso: KDPDEDestroy(), KDPDESetType(), KDPDEResidual()
@*/
PetscErrorCode KDPDECreate(MPI_Comm comm, KDPDE *pde)
{
  KDPDE p;

  PetscFunctionBegin;
  PetscCall(KDPDEInitializePackage());
  PetscCall(PetscNew(&p));
  p->comm         = comm;
  p->tinput       = -1;
  p->gauge_output = -1;
  *pde            = p;
  PetscFunctionReturn(0);
}

/* Back to a typeless object: the implementation's data is destroyed and every declaration forgotten. */
static PetscErrorCode KDPDEReset_Private(KDPDE pde)
{
  PetscFunctionBegin;
  if (pde->ops->destroy) PetscCall((*pde->ops->destroy)(pde));
  PetscCall(PetscMemzero(pde->ops, sizeof(pde->ops)));
  pde->data    = NULL;
  pde->type[0] = 0;
  pde->nin = pde->nout = pde->nres = pde->ncoef = pde->nstreams = 0;
  pde->inputs[0] = pde->outputs[0] = 0;
  PetscCall(PetscMemzero(&pde->spec, sizeof(pde->spec)));
  pde->tinput  = -1;
  pde->nparams = 0;
  PetscCall(PetscArrayzero(pde->param_positive, KD_PDE_MAX_PARAMS));
  PetscCall(PetscArrayzero(pde->param_learned, KD_PDE_MAX_PARAMS));
  pde->tensor_dim  = 0;
  pde->nconditions = 0;
  for (PetscInt k = 0; k < pde->nfields; k++) PetscCall(KDNetDestroy(&pde->field[k].net));
  pde->nfields      = 0;
  pde->gauge_output = -1;
  pde->gaugeset     = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEDestroy - Destroys a PDE and clears the handle; safe on NULL.

  Collective
@*/
PetscErrorCode KDPDEDestroy(KDPDE *pde)
{
  PetscFunctionBegin;
  if (!pde || !*pde) PetscFunctionReturn(0);
  PetscCall(KDPDEReset_Private(*pde));
  PetscCall(PetscFree((*pde)->prefix));
  PetscCall(PetscFree(*pde));
  PetscFunctionReturn(0);
}

/* What a create function must have declared. */
static PetscErrorCode KDPDECheckDeclarations(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCheck(pde->nin >= 1 && pde->nout >= 1 && pde->nres >= 1, pde->comm, PETSC_ERR_PLIB,
             "PDE %s: its create function must call KDPDESetVariables()", pde->type);
  PetscCheck(pde->ops->residual && pde->ops->residualadjoint, pde->comm, PETSC_ERR_PLIB,
             "PDE %s: its create function must set ops->residual and ops->residualadjoint", pde->type);
  PetscCheck(!pde->ncoef || pde->ops->coefficients, pde->comm, PETSC_ERR_PLIB,
             "PDE %s: %" PetscInt_FMT " coefficients but no ops->coefficients", pde->type, pde->ncoef);
  PetscCheck(!pde->nfields || pde->ops->coefficientadjoint, pde->comm, PETSC_ERR_PLIB,
             "PDE %s: coefficient fields but no ops->coefficientadjoint", pde->type);
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetType - Makes the PDE one of the registered types (burgers, heat, cavity, or one added by KDPDERegister()):
  its declarations, default domain and default parameters. KDPDESetFromReference() replaces domain and parameters by
  a reference's.

  Logically collective

.seealso: KDPDERegister(), KDPDEGetType()
@*/
PetscErrorCode KDPDESetType(KDPDE pde, const char type[])
{
  PetscErrorCode (*create)(KDPDE) = NULL;
  PetscErrorCode ierr;
  PetscBool same;

  PetscFunctionBegin;
  PetscCall(PetscStrcmp(pde->type, type, &same));
  if (same && pde->type[0]) PetscFunctionReturn(0);
  PetscCall(PetscFunctionListFind(KDPDEList, type, &create));
  if (!create) {
    char list[512];
    PetscCall(KDPDETypeList(list, sizeof(list)));
    SETERRQ(pde->comm, PETSC_ERR_ARG_UNKNOWN_TYPE,
            "unknown PDE '%s' for -kd_pde: expected %s (or a type a -kd_plugin registers)", type, list);
  }
  PetscCall(KDPDEReset_Private(pde));
  PetscCall(PetscStrncpy(pde->type, type, sizeof(pde->type)));
  for (PetscInt i = 0; i < KD_NET_MAX_IN; i++) pde->lo[i] = 0.0, pde->hi[i] = 1.0;
  ierr = (*create)(pde);
  if (!ierr) ierr = KDPDECheckDeclarations(pde);
  if (ierr) { /* leave a typeless object, not a half-declared one */
    PetscCall(KDPDEReset_Private(pde));
    PetscCall(ierr);
  }
  pde->nstreams = 1 + pde->nin + pde->spec.nsecond;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetType - The PDE's type name, or an empty string before KDPDESetType().

  Not collective
@*/
PetscErrorCode KDPDEGetType(KDPDE pde, const char **type)
{
  PetscFunctionBegin;
  *type = pde->type;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDECheckType(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCheck(pde->type[0], pde->comm, PETSC_ERR_ORDER, "the PDE has no type: call KDPDESetType() first");
  PetscFunctionReturn(0);
}

/* Splits "t,x" into names; their number must be between 1 and max. */
static PetscErrorCode KDPDESplitNames(KDPDE pde, const char list[], PetscInt max, char names[][16], PetscInt *n)
{
  char **parts;
  int np;

  PetscFunctionBegin;
  PetscCall(PetscStrToArray(list, ',', &np, &parts));
  PetscCheck(np >= 1 && np <= max, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "PDE %s: '%s' has %d names, expected 1 to %" PetscInt_FMT, pde->type, list, np, max);
  for (int i = 0; i < np; i++) {
    size_t len;
    PetscCall(PetscStrlen(parts[i], &len));
    PetscCheck(len > 0 && len < 16, pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s: bad name '%s' in '%s'", pde->type,
               parts[i], list);
    PetscCall(PetscStrncpy(names[i], parts[i], 16));
  }
  *n = np;
  PetscCall(PetscStrToArrayDestroy(np, parts));
  PetscFunctionReturn(0);
}

/* Index of a name in a list of names, -1 if absent. */
static PetscErrorCode KDPDENameIndex(PetscInt n, char names[][16], const char name[], PetscInt *index)
{
  PetscFunctionBegin;
  *index = -1;
  for (PetscInt i = 0; i < n; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(names[i], name, &same));
    if (same) *index = i;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetVariables - Declares the network inputs and outputs by name (comma separated, in network order: the names
  are matched to the axes and fields of reference.h5) and the number of residual components. For a type's create
  function.

  Logically collective

  Input Parameters:
+ pde     - the PDE
. inputs  - e.g. "t,x" (at most 3)
. outputs - e.g. "u,v,p" (at most 4)
- nres    - residual components
@*/
PetscErrorCode KDPDESetVariables(KDPDE pde, const char inputs[], const char outputs[], PetscInt nres)
{
  PetscFunctionBegin;
  PetscCall(KDPDESplitNames(pde, inputs, KD_NET_MAX_IN, pde->inputname, &pde->nin));
  PetscCall(KDPDESplitNames(pde, outputs, KD_NET_MAX_OUT, pde->outputname, &pde->nout));
  PetscCheck(nres >= 1, pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "PDE %s: at least one residual component", pde->type);
  PetscCall(PetscStrncpy(pde->inputs, inputs, sizeof(pde->inputs)));
  PetscCall(PetscStrncpy(pde->outputs, outputs, sizeof(pde->outputs)));
  pde->nres     = nres;
  pde->nstreams = 1 + pde->nin + pde->spec.nsecond;
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetTimeInput - Declares input i to be time: the PDE is time dependent, an initial condition lives on
  t = t_lo, and the spatial boundary is every face of the other inputs. For a type's create function.

  Logically collective
@*/
PetscErrorCode KDPDESetTimeInput(KDPDE pde, PetscInt i)
{
  PetscFunctionBegin;
  PetscCheck(i >= -1 && i < pde->nin, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "PDE %s: time input %" PetscInt_FMT " is not an input", pde->type, i);
  pde->tinput = i;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEAddSecondDerivative - Declares that the residual reads d2u/(dx_i dx_j) for the inputs named a and b, and gives
  its jet stream (1 + nin + q for the q-th declared pair; the value is stream 0, d/dx_i stream 1 + i). For a type's
  create function, after KDPDESetVariables().

  Logically collective
@*/
PetscErrorCode KDPDEAddSecondDerivative(KDPDE pde, const char a[], const char b[], PetscInt *stream)
{
  PetscInt i, j, q = pde->spec.nsecond;

  PetscFunctionBegin;
  PetscCall(KDPDENameIndex(pde->nin, pde->inputname, a, &i));
  PetscCall(KDPDENameIndex(pde->nin, pde->inputname, b, &j));
  PetscCheck(i >= 0 && j >= 0, pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s: '%s' and '%s' must be inputs (%s)", pde->type,
             a, b, pde->inputs);
  PetscCheck(q < KD_JET_MAX_SECOND, pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "PDE %s: at most %d second derivatives",
             pde->type, KD_JET_MAX_SECOND);
  pde->spec.second[q][0] = PetscMin(i, j);
  pde->spec.second[q][1] = PetscMax(i, j);
  pde->spec.nsecond++;
  pde->nstreams = 1 + pde->nin + pde->spec.nsecond;
  if (stream) *stream = 1 + pde->nin + q;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEAddParameter - Declares a named scalar parameter with its default and a help string: read from the option
  -<type>_<name> by KDPDESetProblemFromOptions(), written to and read from reference.h5 as the root attribute <name>,
  carried into model files, get/set by name. The residual reads it as pde->param_values[index]. For a type's create
  function. The names of the files' own attributes (kind, levels, widths, source, ..., docs/reference-format.md) are
  refused.

  Logically collective
@*/
PetscErrorCode KDPDEAddParameter(KDPDE pde, const char name[], PetscReal value, const char help[], PetscInt *index)
{
  size_t len;

  PetscFunctionBegin;
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(len > 0 && len < KD_PDE_NAME_LEN, pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s: bad parameter name '%s'",
             pde->type, name);
  /* a parameter is a root attribute of reference.h5 and of model files, beside their own and the string 'source' */
  PetscCheck(!KDH5IsReservedAttribute(name) && strcmp(name, "source"), pde->comm, PETSC_ERR_ARG_WRONG,
             "PDE %s: parameter name '%s' is reserved for an attribute of kdpinn files", pde->type, name);
  for (PetscInt i = 0; i < pde->nparams; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(pde->param_names[i], name, &same));
    PetscCheck(!same, pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s: parameter '%s' declared twice", pde->type, name);
  }
  PetscCheck(pde->nparams < KD_PDE_MAX_PARAMS, pde->comm, PETSC_ERR_ARG_SIZ, "PDE %s: at most %d parameters", pde->type,
             KD_PDE_MAX_PARAMS);
  PetscCall(PetscStrncpy(pde->param_names[pde->nparams], name, sizeof(pde->param_names[0])));
  PetscCall(PetscStrncpy(pde->param_help[pde->nparams], help ? help : name, sizeof(pde->param_help[0])));
  pde->param_values[pde->nparams] = value;
  if (index) *index = pde->nparams;
  pde->nparams++;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetParameterIndex - The index of a named parameter (the order of KDPDEGetParameterName()); an error naming the
  PDE's parameters if it has no such one.

  Not collective
@*/
PetscErrorCode KDPDEGetParameterIndex(KDPDE pde, const char name[], PetscInt *index)
{
  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  *index = -1;
  for (PetscInt i = 0; i < pde->nparams; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(pde->param_names[i], name, &same));
    if (same) *index = i;
  }
  if (*index < 0) {
    char list[KD_PDE_MAX_PARAMS * (KD_PDE_NAME_LEN + 2)] = "";
    for (PetscInt i = 0; i < pde->nparams; i++) {
      if (i) PetscCall(PetscStrlcat(list, ", ", sizeof(list)));
      PetscCall(PetscStrlcat(list, pde->param_names[i], sizeof(list)));
    }
    SETERRQ(pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s has no parameter '%s' (its parameters: %s)", pde->type, name,
            pde->nparams ? list : "none");
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetParameterPositive - Declares parameter k positive (a viscosity, a diffusivity): inferred through its
  logarithm, and an initial value for it must be positive.

  Logically collective

.seealso: KDPDEAddParameter(), KDPDEIsParameterPositive()
@*/
PetscErrorCode KDPDESetParameterPositive(KDPDE pde, PetscInt k)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < pde->nparams, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "parameter %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", k, pde->nparams);
  pde->param_positive[k] = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetParameterLearned - Declares parameter k trained with the network by the formulation itself (a homogenized
  coefficient that a coarse model learns from its teacher): a loss then infers it as if -<prefix>infer named it, from
  its current value unless -<prefix>infer gives another. For a type's create, setlevel or setfromoptions function;
  the type gives the derivative of its residual (ops->residualparameter).

  Logically collective

.seealso: KDPDEIsParameterLearned(), KDPDESetLevel(), KDLossSetUp()
@*/
PetscErrorCode KDPDESetParameterLearned(KDPDE pde, PetscInt k, PetscBool learned)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < pde->nparams, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "parameter %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", k, pde->nparams);
  pde->param_learned[k] = learned;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEIsParameterLearned - Whether the formulation trains parameter k with the network (KDPDESetParameterLearned()).

  Not collective
@*/
PetscErrorCode KDPDEIsParameterLearned(KDPDE pde, PetscInt k, PetscBool *learned)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < pde->nparams, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "parameter %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", k, pde->nparams);
  *learned = pde->param_learned[k];
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetLearnedTensor - Declares a dim x dim tensor of named parameters that models learn (a homogenized
  conductivity), with the reference's own value of it: validate reports, under the top-level entry `name` of
  results.json, the reference's root array attribute `refname` (labelled `label`) and the tensor of every model that
  learned its parameters, and report.md compares them. For a type's create function.

  Logically collective

  Input Parameters:
+ pde     - the PDE
. name    - the entry of results.json, e.g. "effective_conductivity"
. dim     - the tensor's size
. param   - dim x dim parameter indices, row-major (a symmetric tensor repeats the off-diagonal one; -1: an entry
            that is zero in every model, e.g. the off-diagonal ones of a diagonal tensor)
. refname - the reference's array attribute of dim x dim values, row-major (e.g. "K_eff"); may be missing in a file
- label   - its name in results.json (e.g. "cell_problem")

.seealso: KDPDEGetLearnedTensor(), KDPDESetParameterLearned()
@*/
PetscErrorCode KDPDESetLearnedTensor(KDPDE pde, const char name[], PetscInt dim, const PetscInt param[],
                                     const char refname[], const char label[])
{
  PetscFunctionBegin;
  PetscCheck(dim >= 1 && dim <= KD_NET_MAX_IN, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "KDPDESetLearnedTensor(%s): dim %" PetscInt_FMT " not in [1, %d]", name, dim, KD_NET_MAX_IN);
  for (PetscInt i = 0; i < dim * dim; i++)
    PetscCheck(param[i] >= -1 && param[i] < pde->nparams, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "KDPDESetLearnedTensor(%s): parameter %" PetscInt_FMT " not in [-1, %" PetscInt_FMT ")", name, param[i],
               pde->nparams);
  PetscCall(PetscStrncpy(pde->tensor_name, name, sizeof(pde->tensor_name)));
  PetscCall(PetscStrncpy(pde->tensor_reference, refname, sizeof(pde->tensor_reference)));
  PetscCall(PetscStrncpy(pde->tensor_label, label, sizeof(pde->tensor_label)));
  PetscCall(PetscArraycpy(pde->tensor_param, param, dim * dim));
  pde->tensor_dim = dim;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetLearnedTensor - The tensor of learned parameters the PDE declares (KDPDESetLearnedTensor()); dim = 0 if none.

  Not collective

  Output Parameters (each may be NULL):
+ name    - its entry in results.json
. dim     - its size
. param   - dim x dim parameter indices (borrowed; -1 a zero entry)
. refname - the reference's array attribute holding its reference value
- label   - the name of that value in results.json
@*/
PetscErrorCode KDPDEGetLearnedTensor(KDPDE pde, const char **name, PetscInt *dim, const PetscInt **param,
                                     const char **refname, const char **label)
{
  PetscFunctionBegin;
  if (name) *name = pde->tensor_name;
  if (dim) *dim = pde->tensor_dim;
  if (param) *param = pde->tensor_param;
  if (refname) *refname = pde->tensor_reference;
  if (label) *label = pde->tensor_label;
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetLearnedTensorNeedsTeacher - Declares that the PINN loss alone does not determine the learned tensor (fisher:
  with initial data and zero-flux walls, every diffusivity has its solution, and a twin drives it to zero): a scratch
  twin keeps the tensor at its initial value instead of learning it. For a type's create function.

  Logically collective

.seealso: KDPDESetLearnedTensor(), KDPDESetUpScratchTwin()
@*/
PetscErrorCode KDPDESetLearnedTensorNeedsTeacher(KDPDE pde, PetscBool needs)
{
  PetscFunctionBegin;
  pde->tensor_needs_teacher = needs;
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetUpScratchTwin - Readies the PDE of a scratch twin (a model without a teacher): a learned tensor that the PINN
  loss alone does not determine (KDPDESetLearnedTensorNeedsTeacher()) keeps its initial value instead of being
  learned (a value -<prefix>infer gives for an entry replaces it). Call after the level is set (KDLossSetFromOptions())
  and before KDLossSetUp().

  Logically collective

.seealso: KDPDESetLearnedTensorNeedsTeacher(), KDPDESetParameterLearned()
@*/
PetscErrorCode KDPDESetUpScratchTwin(KDPDE pde)
{
  PetscFunctionBegin;
  if (!pde->tensor_needs_teacher) PetscFunctionReturn(0);
  for (PetscInt e = 0; e < pde->tensor_dim * pde->tensor_dim; e++)
    if (pde->tensor_param[e] >= 0) PetscCall(KDPDESetParameterLearned(pde, pde->tensor_param[e], PETSC_FALSE));
  pde->scratch_twin = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEIsScratchTwin - Whether KDPDESetUpScratchTwin() kept the PDE's learned tensor fixed: a value -<prefix>infer gives
  for one of its entries is then its fixed value, not a start.

  Not collective
@*/
PetscErrorCode KDPDEIsScratchTwin(KDPDE pde, PetscBool *twin)
{
  PetscFunctionBegin;
  *twin = pde->scratch_twin;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEIsTensorParameter - Whether parameter k is an entry of the PDE's learned tensor (KDPDESetLearnedTensor()): a
  value the coarse models learn, not part of the problem (a reference may lack it, a teacher need not agree on it).

  Not collective

.seealso: KDPDESetLearnedTensor()
@*/
PetscErrorCode KDPDEIsTensorParameter(KDPDE pde, PetscInt k, PetscBool *is)
{
  PetscFunctionBegin;
  *is = PETSC_FALSE;
  for (PetscInt e = 0; e < pde->tensor_dim * pde->tensor_dim; e++)
    if (pde->tensor_param[e] == k) *is = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEIsParameterPositive - Whether parameter k was declared positive (KDPDESetParameterPositive()).

  Not collective
@*/
PetscErrorCode KDPDEIsParameterPositive(KDPDE pde, PetscInt k, PetscBool *positive)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < pde->nparams, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "parameter %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", k, pde->nparams);
  *positive = pde->param_positive[k];
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetParameter - Sets a named parameter (burgers: nu; heat: source_amplitude, source_x, source_y, source_width;
  cavity: Re); an error if the PDE has no such parameter.

  Logically collective
@*/
PetscErrorCode KDPDESetParameter(KDPDE pde, const char name[], PetscReal value)
{
  PetscInt i;

  PetscFunctionBegin;
  PetscCall(KDPDEGetParameterIndex(pde, name, &i));
  pde->param_values[i] = value;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetParameter - Gets a named parameter; an error if the PDE has no such parameter.

  Not collective
@*/
PetscErrorCode KDPDEGetParameter(KDPDE pde, const char name[], PetscReal *value)
{
  PetscInt i;

  PetscFunctionBegin;
  PetscCall(KDPDEGetParameterIndex(pde, name, &i));
  *value = pde->param_values[i];
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetNumParameters - The number of named parameters.

  Not collective
@*/
PetscErrorCode KDPDEGetNumParameters(KDPDE pde, PetscInt *n)
{
  PetscFunctionBegin;
  *n = pde->nparams;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetParameterName - The name of parameter i (0 <= i < KDPDEGetNumParameters()).

  Not collective
@*/
PetscErrorCode KDPDEGetParameterName(KDPDE pde, PetscInt i, const char **name)
{
  PetscFunctionBegin;
  PetscCheck(i >= 0 && i < pde->nparams, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "parameter %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", i, pde->nparams);
  *name = pde->param_names[i];
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetNumCoefficients - Declares ncoef pointwise coefficients (ops->coefficients computes them). For a type's
  create function.

  Logically collective
@*/
PetscErrorCode KDPDESetNumCoefficients(KDPDE pde, PetscInt ncoef)
{
  PetscFunctionBegin;
  PetscCheck(ncoef >= 0, pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "PDE %s: negative coefficient count", pde->type);
  pde->ncoef = ncoef;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEAddCondition - Declares initial or boundary data as a loss term. For a type's create function, after
  KDPDESetVariables() (and KDPDESetTimeInput() for an initial condition).

  Logically collective

  Input Parameters:
+ pde     - the PDE
. name    - the loss term's name (e.g. ic, bc, flux; 1 to 15 letters, digits or underscores; not pde, col, data,
            gauge, out, grad, res or physics, the losses' own): the loss reads
            -<prefix>n<name> (global points, default 400) and -<prefix>w_<name> (weight, default 1)
. type    - dirichlet, neumann, periodic or initial (KDConditionType)
. faces   - the faces it lives on, a mask of KD_FACE(i, side) bits of spatial inputs, or KD_FACES_ALL; periodic
            conditions need both sides of each input; initial conditions ignore it
. outputs - the outputs it prescribes, comma separated ("u", "u,v")
. data    - g (and for neumann the flux coefficient) at points, or NULL for g = 0 (KDConditionFunction)
- ctx     - passed to data

  Notes:
  The loss draws the condition's points on its faces (uniformly, a face chosen with probability proportional to its
  measure), in the order of declaration: the k-th condition of its kind (initial, or on faces) uses the random stream
  2 + 16 k (initial) or 3 + 16 k (faces), docs/losses.md.

.seealso: KDPDEConditionValues(), KDConditionType
@*/
PetscErrorCode KDPDEAddCondition(KDPDE pde, const char name[], KDConditionType type, PetscInt faces,
                                 const char outputs[], KDConditionFunction data, void *ctx)
{
  KDCondition *c;
  char onames[KD_NET_MAX_OUT][16];
  PetscInt no, spatial = 0;
  size_t len;

  PetscFunctionBegin;
  PetscCheck(pde->nin > 0, pde->comm, PETSC_ERR_ORDER, "PDE %s: KDPDESetVariables() before KDPDEAddCondition()",
             pde->type);
  PetscCheck(pde->nconditions < KD_PDE_MAX_CONDITIONS, pde->comm, PETSC_ERR_ARG_SIZ, "PDE %s: at most %d conditions",
             pde->type, KD_PDE_MAX_CONDITIONS);
  PetscCheck((int) type >= 0 && (int) type < KD_CONDITION_NTYPES, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "PDE %s: unknown condition type %d", pde->type, (int) type);
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(len > 0 && len < sizeof(c->name), pde->comm, PETSC_ERR_ARG_WRONG,
             "PDE %s: condition name '%s' must have 1 to 15 characters", pde->type, name);
  for (size_t i = 0; i < len; i++) {
    const char ch = name[i];
    PetscCheck((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_', pde->comm,
               PETSC_ERR_ARG_WRONG, "PDE %s: condition name '%s': letters, digits, underscores", pde->type, name);
  }
  for (size_t i = 0; i < sizeof(KDLossReservedNames) / sizeof(KDLossReservedNames[0]); i++)
    PetscCheck(strcmp(name, KDLossReservedNames[i]), pde->comm, PETSC_ERR_ARG_WRONG,
               "PDE %s: condition name '%s' is reserved for a term of the loss", pde->type, name);
  for (PetscInt k = 0; k < pde->nconditions; k++) {
    PetscBool same;
    PetscCall(PetscStrcmp(pde->condition[k].name, name, &same));
    PetscCheck(!same, pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s: condition '%s' declared twice", pde->type, name);
  }
  PetscCheck(type != KD_CONDITION_INITIAL || pde->tinput >= 0, pde->comm, PETSC_ERR_ARG_WRONG,
             "PDE %s is steady: condition '%s' cannot be an initial condition", pde->type, name);
  for (PetscInt i = 0; i < pde->nin; i++)
    if (i != pde->tinput) spatial |= KD_FACE(i, 0) | KD_FACE(i, 1);
  if (faces == KD_FACES_ALL || type == KD_CONDITION_INITIAL) faces = spatial;
  PetscCheck(faces && !(faces & ~spatial), pde->comm, PETSC_ERR_ARG_WRONG,
             "PDE %s: condition '%s' must name faces of spatial inputs", pde->type, name);
  if (type == KD_CONDITION_PERIODIC)
    for (PetscInt i = 0; i < pde->nin; i++)
      PetscCheck(!(faces & KD_FACE(i, 0)) == !(faces & KD_FACE(i, 1)), pde->comm, PETSC_ERR_ARG_WRONG,
                 "PDE %s: periodic condition '%s' needs both faces of input %s", pde->type, name, pde->inputname[i]);
  c = &pde->condition[pde->nconditions];
  PetscCall(PetscMemzero(c, sizeof(*c)));
  PetscCall(PetscStrncpy(c->name, name, sizeof(c->name)));
  c->type    = type;
  c->faces   = faces;
  c->npoints = 400;
  c->weight  = 1.0;
  c->data    = data;
  c->ctx     = ctx;
  PetscCall(KDPDESplitNames(pde, outputs, KD_NET_MAX_OUT, onames, &no));
  for (PetscInt k = 0; k < no; k++) {
    PetscInt o;
    PetscCall(KDPDENameIndex(pde->nout, pde->outputname, onames[k], &o));
    PetscCheck(o >= 0, pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s: condition '%s' names '%s', not an output (%s)",
               pde->type, name, onames[k], pde->outputs);
    c->outputs[o] = PETSC_TRUE;
  }
  pde->nconditions++;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetNumConditions - The number of initial and boundary conditions (loss terms) the PDE declares.

  Not collective
@*/
PetscErrorCode KDPDEGetNumConditions(KDPDE pde, PetscInt *n)
{
  PetscFunctionBegin;
  *n = pde->nconditions;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetCondition - Condition k, in the order of declaration (borrowed).

  Not collective
@*/
PetscErrorCode KDPDEGetCondition(KDPDE pde, PetscInt k, const KDCondition **c)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < pde->nconditions, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "condition %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", k, pde->nconditions);
  *c = &pde->condition[k];
  PetscFunctionReturn(0);
}

/*@C
  KDPDEConditionValues - The data of condition k at n points: g[o * n + p] for its outputs (0 elsewhere) and, for a
  neumann condition, the flux coefficient c[o * n + p] (1 unless the PDE gives one; c may be NULL for other types).

  Not collective

  Input Parameters:
+ pde  - the PDE
. k    - the condition
. n    - number of points
. x    - the points, x[p * nin + i]
- face - the face of each point (bit index 2 i + s, see KDPDESamplePoints(); -1 for initial points), or NULL where
         the condition does not read it

.seealso: KDPDEAddCondition(), KDPDESamplePoints()
@*/
PetscErrorCode KDPDEConditionValues(KDPDE pde, PetscInt k, PetscInt n, const PetscReal x[], const PetscInt face[],
                                    PetscReal g[], PetscReal c[])
{
  const KDCondition *cond;

  PetscFunctionBegin;
  PetscCall(KDPDEGetCondition(pde, k, &cond));
  for (PetscInt i = 0; i < pde->nout * n; i++) g[i] = 0.0;
  if (c)
    for (PetscInt i = 0; i < pde->nout * n; i++) c[i] = 1.0;
  if (cond->data) PetscCall((*cond->data)(pde, n, x, face, g, c, cond->ctx));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetGauge - Declares that an output is only defined up to a constant (the cavity pressure): a loss pins it to 0
  at the gauge point (the centre of the domain unless KDPDESetGaugePoint() says otherwise), and validation compares it
  with both means removed. For a type's create function.

  Logically collective
@*/
PetscErrorCode KDPDESetGauge(KDPDE pde, const char output[])
{
  PetscInt o;

  PetscFunctionBegin;
  PetscCall(KDPDENameIndex(pde->nout, pde->outputname, output, &o));
  PetscCheck(o >= 0, pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s: gauge '%s' is not an output (%s)", pde->type, output,
             pde->outputs);
  pde->gauge_output = o;
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetGaugePoint - The point (nin values, network input order) where the gauge pins its output to 0.

  Logically collective
@*/
PetscErrorCode KDPDESetGaugePoint(KDPDE pde, const PetscReal x[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < pde->nin; i++) pde->gauge[i] = x[i];
  pde->gaugeset = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetGauge - Whether an output is only defined up to a constant, and where the loss pins it to 0.

  Not collective

  Output Parameters:
+ has    - whether the PDE has a gauge
. x      - the gauge point (nin values), may be NULL
- output - index of the pinned output, may be NULL
@*/
PetscErrorCode KDPDEGetGauge(KDPDE pde, PetscBool *has, PetscReal x[], PetscInt *output)
{
  PetscFunctionBegin;
  *has = pde->gauge_output >= 0 ? PETSC_TRUE : PETSC_FALSE;
  if (!*has) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < pde->nin; i++) {
    const PetscReal g = pde->gaugeset ? pde->gauge[i] : 0.5 * (pde->lo[i] + pde->hi[i]);
    if (x) x[i] = g;
  }
  if (output) *output = pde->gauge_output;
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetDomain - Sets the box domain, bounds given in network input order (e.g. t, x, y for heat).

  Logically collective
@*/
PetscErrorCode KDPDESetDomain(KDPDE pde, const PetscReal lo[], const PetscReal hi[])
{
  PetscFunctionBegin;
  PetscCheck(pde->nin > 0, pde->comm, PETSC_ERR_ORDER, "KDPDESetType() must come before KDPDESetDomain()");
  for (PetscInt i = 0; i < pde->nin; i++) {
    PetscCheck(hi[i] > lo[i], pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "empty domain on input %" PetscInt_FMT ": [%g, %g]",
               i, (double) lo[i], (double) hi[i]);
    pde->lo[i] = lo[i];
    pde->hi[i] = hi[i];
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetDomain - The box domain in network input order.

  Not collective
@*/
PetscErrorCode KDPDEGetDomain(KDPDE pde, PetscReal lo[], PetscReal hi[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < pde->nin; i++) {
    if (lo) lo[i] = pde->lo[i];
    if (hi) hi[i] = pde->hi[i];
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetReferenceAxisMap - For each network input i, the axis map[i] of the reference grid with the same name
  (heat: inputs t,x,y on axes t,y,x give map = {0, 2, 1}).

  Collective on the reference (an error is raised there)

.seealso: KDReferenceGetAxisMap()
@*/
PetscErrorCode KDPDEGetReferenceAxisMap(KDPDE pde, KDReference ref, PetscInt map[])
{
  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCall(KDReferenceGetAxisMap(ref, pde->inputs, map));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetFromReference - Takes the PDE type, its named parameters, its problem data (ops->setfromreference) and the
  domain (the level-0 grid's [lo, hi], reordered to network input order) from a reference.

  Collective on the reference

.seealso: KDPDEWriteReference()
@*/
PetscErrorCode KDPDESetFromReference(KDPDE pde, KDReference ref)
{
  const char *type;
  PetscInt dim, n[KD_MAX_DIM], map[KD_NET_MAX_IN];
  PetscReal rlo[KD_MAX_DIM], rhi[KD_MAX_DIM], lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];

  PetscFunctionBegin;
  PetscCall(KDReferenceGetPDE(ref, &type));
  PetscCall(KDPDESetType(pde, type));
  PetscCall(KDReferenceGetLevelGrid(ref, 0, &dim, n, rlo, rhi));
  PetscCheck(dim == pde->nin, pde->comm, PETSC_ERR_FILE_UNEXPECTED,
             "reference grid has %" PetscInt_FMT " axes, PDE %s has %" PetscInt_FMT " inputs", dim, pde->type,
             pde->nin);
  PetscCall(KDPDEGetReferenceAxisMap(pde, ref, map));
  for (PetscInt i = 0; i < pde->nin; i++) lo[i] = rlo[map[i]], hi[i] = rhi[map[i]];
  PetscCall(KDPDESetDomain(pde, lo, hi));
  for (PetscInt i = 0; i < pde->nparams; i++) {
    PetscReal v;
    PetscBool found, tensor;
    PetscCall(KDReferenceGetParameter(ref, pde->param_names[i], &v, &found));
    PetscCall(KDPDEIsTensorParameter(pde, i, &tensor));
    if (!found && tensor) continue; /* learned by coarse models, not part of the problem: a file may predate it */
    PetscCheck(found, pde->comm, PETSC_ERR_FILE_UNEXPECTED,
               "the reference lacks the root attribute '%s', a parameter of PDE %s (a file from an older kdpinn? run "
               "kdpinn solve or import again)",
               pde->param_names[i], pde->type);
    pde->param_values[i] = v;
  }
  if (pde->ops->setfromreference) PetscCall((*pde->ops->setfromreference)(pde, ref));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetLevel - Tells the PDE the reference level its model lives on (after KDPDESetFromReference()): a type whose
  formulation depends on the scale (the homogenized conduction on levels whose cells span a period) chooses it here.
  A loss calls it with its level (KDLossSetReference()); types without ops->setlevel ignore it.

  Collective

.seealso: KDPDESetParameterLearned(), KDLossSetReference()
@*/
PetscErrorCode KDPDESetLevel(KDPDE pde, KDReference ref, PetscInt level)
{
  PetscInt nlevels;

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  PetscCheck(level >= 0 && level < nlevels, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " not in the reference's [0, %" PetscInt_FMT ")", level, nlevels);
  if (pde->ops->setlevel) PetscCall((*pde->ops->setlevel)(pde, ref, level));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetUpNet - Lets the PDE's formulation make a loss's network fit it once the options are read: the cavity's lid
  corner flow is an output addend of the network (KDNetSetOutputAddend()), the conduction's interfaces are input
  features (KDNetSetInputFeatures(), which change the parameter layout) and its exact boundary data an output factor
  (KDNetSetOutputFactor()). KDLossConfigureNet() calls it before the
  network is set up, KDLossSetUp() again; types without ops->setupnet leave the network as it is.

  Logically collective

.seealso: KDLossSetUp(), KDNetSetOutputAddend()
@*/
PetscErrorCode KDPDESetUpNet(KDPDE pde, KDNet net)
{
  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  if (pde->ops->setupnet) PetscCall((*pde->ops->setupnet)(pde, net));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEWriteReference - Records the PDE in a reference: its type, its named parameters (root attributes by name) and
  its problem data (ops->writereference), so that KDPDESetFromReference() rebuilds the same PDE from reference.h5.

  Collective

.seealso: KDPDESetFromReference(), KDPDESetProblemFromOptions()
@*/
PetscErrorCode KDPDEWriteReference(KDPDE pde, KDReference ref)
{
  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCall(KDReferenceSetPDE(ref, pde->type));
  for (PetscInt i = 0; i < pde->nparams; i++)
    PetscCall(KDReferenceSetParameter(ref, pde->param_names[i], pde->param_values[i]));
  if (pde->ops->writereference) PetscCall((*pde->ops->writereference)(pde, ref));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetOptionsPrefix - Sets the prefix of the PDE's formulation options (a loss passes its own, e.g. teacher_).

  Logically collective
@*/
PetscErrorCode KDPDESetOptionsPrefix(KDPDE pde, const char prefix[])
{
  PetscFunctionBegin;
  PetscCall(PetscFree(pde->prefix));
  if (prefix) PetscCall(PetscStrallocpy(prefix, &pde->prefix));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetFromOptions - Reads the options of the PDE's formulation in a PINN loss, with the object's prefix (cavity:
  -<prefix>cavity_gauge_point). Call after the type is set.

  Collective

.seealso: KDPDESetProblemFromOptions()
@*/
PetscErrorCode KDPDESetFromOptions(KDPDE pde)
{
  char title[128];

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  if (!pde->ops->setfromoptions) PetscFunctionReturn(0);
  PetscCall(PetscSNPrintf(title, sizeof(title), "PDE %s: options of its PINN loss", pde->type));
  PetscOptionsBegin(pde->comm, pde->prefix, title, "KDPDE");
  PetscCall((*pde->ops->setfromoptions)(pde, PetscOptionsObject));
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetProblemFromOptions - Reads the problem the PDE poses: each named parameter from -<type>_<name>, then the
  type's own problem options (prefix <type>_, e.g. -heat_microstructure). The solve and import stages call it; the
  later stages take the problem from reference.h5 instead (KDPDESetFromReference()).

  Collective

.seealso: KDPDEWriteReference(), KDPDEAddParameter()
@*/
PetscErrorCode KDPDESetProblemFromOptions(KDPDE pde)
{
  char prefix[KD_PDE_NAME_LEN + 1], title[128];

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%s_", pde->type));
  PetscCall(PetscSNPrintf(title, sizeof(title), "PDE %s: the problem", pde->type));
  PetscOptionsBegin(pde->comm, prefix, title, "KDPDE");
  for (PetscInt i = 0; i < pde->nparams; i++) {
    char opt[KD_PDE_NAME_LEN + 1];
    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-%s", pde->param_names[i]));
    PetscCall(KDOptionsReal(opt, pde->param_help[i], "KDPDESetProblemFromOptions", pde->param_values[i],
                            &pde->param_values[i], NULL));
    PetscCheck(!PetscIsInfOrNanReal(pde->param_values[i]), pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%s%s must be finite",
               prefix, pde->param_names[i]);
  }
  if (pde->ops->setproblemfromoptions) PetscCall((*pde->ops->setproblemfromoptions)(pde, PetscOptionsObject));
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

/*@C
  KDPDEView - Prints the PDE, its parameters, domain and conditions.

  Collective
@*/
PetscErrorCode KDPDEView(KDPDE pde, PetscViewer viewer)
{
  PetscBool ascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(pde->comm, &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "KDPDE %s: inputs %s, outputs %s, %" PetscInt_FMT " residual component(s)\n",
                                   pde->type, pde->inputs, pde->outputs, pde->nres));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt i = 0; i < pde->nparams; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s = %g\n", pde->param_names[i], (double) pde->param_values[i]));
  for (PetscInt i = 0; i < pde->nin; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "input %s in [%g, %g]%s\n", pde->inputname[i], (double) pde->lo[i],
                                     (double) pde->hi[i], i == pde->tinput ? " (time)" : ""));
  for (PetscInt k = 0; k < pde->nconditions; k++) {
    const KDCondition *c = &pde->condition[k];
    PetscCall(PetscViewerASCIIPrintf(viewer, "condition %s: %s on", c->name, KDConditionTypes[c->type]));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    if (c->type == KD_CONDITION_INITIAL)
      PetscCall(PetscViewerASCIIPrintf(viewer, " %s = %g", pde->inputname[pde->tinput], (double) pde->lo[pde->tinput]));
    else
      for (PetscInt i = 0; i < pde->nin; i++)
        for (PetscInt s = 0; s < 2; s++)
          if (c->faces & KD_FACE(i, s))
            PetscCall(
                PetscViewerASCIIPrintf(viewer, " %s = %g", pde->inputname[i], (double) (s ? pde->hi[i] : pde->lo[i])));
    PetscCall(PetscViewerASCIIPrintf(viewer, ", outputs"));
    for (PetscInt o = 0; o < pde->nout; o++)
      if (c->outputs[o]) PetscCall(PetscViewerASCIIPrintf(viewer, " %s", pde->outputname[o]));
    PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  if (pde->gauge_output >= 0) {
    PetscReal g[KD_NET_MAX_IN];
    PetscBool has;
    PetscCall(KDPDEGetGauge(pde, &has, g, NULL));
    PetscCall(PetscViewerASCIIPrintf(viewer, "gauge: %s pinned to 0 at (", pde->outputname[pde->gauge_output]));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    for (PetscInt i = 0; i < pde->nin; i++)
      PetscCall(PetscViewerASCIIPrintf(viewer, "%s%g", i ? ", " : "", (double) g[i]));
    PetscCall(PetscViewerASCIIPrintf(viewer, ")\n"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  if (pde->ops->view) PetscCall((*pde->ops->view)(pde, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetSizes - Number of network inputs, outputs and residual components.

  Not collective
@*/
PetscErrorCode KDPDEGetSizes(KDPDE pde, PetscInt *nin, PetscInt *nout, PetscInt *nres)
{
  PetscFunctionBegin;
  if (nin) *nin = pde->nin;
  if (nout) *nout = pde->nout;
  if (nres) *nres = pde->nres;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetNames - The network's input and output names, comma separated ("t,x" and "u"; as in model files).

  Not collective
@*/
PetscErrorCode KDPDEGetNames(KDPDE pde, const char **inputs, const char **outputs)
{
  PetscFunctionBegin;
  if (inputs) *inputs = pde->inputs;
  if (outputs) *outputs = pde->outputs;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetJetSpec - The second derivatives the residual reads (first derivatives are always in a jet).

  Not collective
@*/
PetscErrorCode KDPDEGetJetSpec(KDPDE pde, const KDJetSpec **spec)
{
  PetscFunctionBegin;
  *spec = &pde->spec;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEIsTimeDependent - Whether one input is time (KDPDESetTimeInput()), so that the PDE has an initial slice.

  Not collective
@*/
PetscErrorCode KDPDEIsTimeDependent(KDPDE pde, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = pde->tinput >= 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetTimeInput - The index of the time input, -1 for a steady PDE.

  Not collective
@*/
PetscErrorCode KDPDEGetTimeInput(KDPDE pde, PetscInt *t)
{
  PetscFunctionBegin;
  *t = pde->tinput;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetNumCoefficients - Number of pointwise coefficients the residual reads (heat: 4; 0 for a PDE without).

  Not collective
@*/
PetscErrorCode KDPDEGetNumCoefficients(KDPDE pde, PetscInt *ncoef)
{
  PetscFunctionBegin;
  *ncoef = pde->ncoef;
  PetscFunctionReturn(0);
}

/* A field given by a network g of the spatial inputs: k = exp(g) and k_i = k dg/dx_i into coef (n-strided). */
static PetscErrorCode KDPDEFieldNetCoefficients(KDPDE pde, const KDCoefficientField *f, PetscInt n, const PetscReal x[],
                                                PetscReal coef[])
{
  PetscInt in[KD_NET_MAX_IN], nf = 0;
  PetscReal *xs, *g;
  KDJetSpec spec;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < pde->nin; i++)
    if (i != pde->tinput) in[nf++] = i;
  PetscCall(PetscMalloc2(n * nf, &xs, n * (1 + nf), &g));
  for (PetscInt p = 0; p < n; p++)
    for (PetscInt j = 0; j < nf; j++) xs[p * nf + j] = x[p * pde->nin + in[j]];
  PetscCall(PetscMemzero(&spec, sizeof(spec)));
  PetscCall(KDNetJetForward(f->net, &spec, n, xs, g)); /* value, then the derivative along each input */
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal k      = PetscExpReal(g[p]);
    coef[f->value * n + p] = k;
    for (PetscInt j = 0; j < nf; j++)
      if (f->grad[in[j]] >= 0) coef[f->grad[in[j]] * n + p] = k * g[(1 + j) * n + p];
  }
  PetscCall(PetscFree2(xs, g));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetCoefficientFieldNet - Gives a coefficient field of the PDE by a network of its logarithm, e.g. the field a
  teacher learned from data (teacher_field_k.h5, -teacher_infer_field): from then on KDPDEComputeCoefficients()
  returns k = exp(g(x)) and its derivatives k dg/dx_i instead of the PDE's own coefficient, wherever a residual is
  evaluated with it (PINN and distillation losses). It is not trained.

  Logically collective

  Input Parameters:
+ pde   - the PDE, its type set
. name  - a coefficient field of the PDE (KDPDEGetCoefficientFieldName())
- field - a set-up network whose inputs are the PDE's spatial inputs in order and whose one output is log k; the PDE
          takes it (destroys it with itself); NULL returns to the PDE's own coefficient

.seealso: KDPDEAddCoefficientField(), KDLossGetField(), docs/inverse.md
@*/
PetscErrorCode KDPDESetCoefficientFieldNet(KDPDE pde, const char name[], KDNet field)
{
  PetscInt value, grad[KD_NET_MAX_IN];

  PetscFunctionBegin;
  PetscCall(KDPDEGetCoefficientField(pde, name, &value, grad));
  for (PetscInt k = 0; k < pde->nfields; k++) {
    if (strcmp(pde->field[k].name, name)) continue;
    if (field) {
      PetscInt nin, nout;
      PetscCall(KDNetGetSizes(field, &nin, &nout, NULL));
      PetscCheck(nin == pde->nin - (pde->tinput >= 0 ? 1 : 0) && nout == 1, pde->comm, PETSC_ERR_ARG_SIZ,
                 "field %s of PDE %s: the network has %" PetscInt_FMT " inputs and %" PetscInt_FMT
                 " outputs, the field needs %" PetscInt_FMT " (the spatial inputs) and 1",
                 name, pde->type, nin, nout, pde->nin - (pde->tinput >= 0 ? 1 : 0));
    }
    PetscCall(KDNetDestroy(&pde->field[k].net));
    pde->field[k].net = field;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEComputeCoefficients - Evaluates the pointwise coefficients at n points, coef[c * n + p]. Coefficients do not
  depend on the network, so a loss computes them once per point set.

  Not collective

  Input Parameters:
+ n - number of points
- x - points, x[p * nin + i], network input order
@*/
PetscErrorCode KDPDEComputeCoefficients(KDPDE pde, PetscInt n, const PetscReal x[], PetscReal coef[])
{
  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  if (!pde->ncoef) PetscFunctionReturn(0);
  PetscCall((*pde->ops->coefficients)(pde, n, x, coef));
  for (PetscInt k = 0; k < pde->nfields; k++)
    if (pde->field[k].net) PetscCall(KDPDEFieldNetCoefficients(pde, &pde->field[k], n, x, coef));
  PetscFunctionReturn(0);
}

/* Coefficients given by the caller, or computed here when coef is NULL (then the caller frees *work). */
static PetscErrorCode KDPDEGetCoefficients(KDPDE pde, PetscInt n, const PetscReal x[], const PetscReal coef[],
                                           const PetscReal **c, PetscReal **work)
{
  PetscFunctionBegin;
  *work = NULL;
  *c    = coef;
  if (pde->ncoef && !coef && n > 0) { /* no points, nothing to compute (a probe of what a type supports) */
    PetscCheck(x, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "PDE %s needs the points or their coefficients", pde->type);
    PetscCall(PetscMalloc1(pde->ncoef * n, work));
    PetscCall(KDPDEComputeCoefficients(pde, n, x, *work));
    *c = *work;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEResidual - Evaluates the residual components at n points from their jets.

  Not collective

  Input Parameters:
+ pde  - the PDE
. n    - number of points
. x    - the points, x[p * nin + i] (read only to compute coefficients when coef is NULL; may be NULL otherwise)
. coef - pointwise coefficients from KDPDEComputeCoefficients(), or NULL
- jet  - the jets (kdnet.h layout, the PDE's jet spec)

  Output Parameter:
. res  - res[r * n + p], residual component r at point p

.seealso: KDPDEResidualAdjoint(), KDPDEGetJetSpec()
@*/
PetscErrorCode KDPDEResidual(KDPDE pde, PetscInt n, const PetscReal x[], const PetscReal coef[], const PetscReal jet[],
                             PetscReal res[])
{
  const PetscReal *c;
  PetscReal *work;

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCall(KDPDEGetCoefficients(pde, n, x, coef, &c, &work));
  PetscCall((*pde->ops->residual)(pde, n, c, jet, res));
  PetscCall(PetscFree(work));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEAddCoefficientField - Declares coefficient `value` a positive field of the spatial inputs that can be learned
  from data (-<prefix>infer_field name), with grad[i] the coefficient holding its derivative along input i (-1: none).
  The type also sets ops->coefficientadjoint.

  Logically collective

.seealso: KDPDEGetCoefficientField(), docs/inverse.md
@*/
PetscErrorCode KDPDEAddCoefficientField(KDPDE pde, const char name[], PetscInt value, const PetscInt grad[])
{
  KDCoefficientField *f;
  size_t len;

  PetscFunctionBegin;
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(len > 0 && len < sizeof(f->name), pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s: bad field name '%s'", pde->type,
             name);
  PetscCheck(pde->nfields < KD_PDE_MAX_FIELDS, pde->comm, PETSC_ERR_ARG_SIZ, "PDE %s: at most %d coefficient fields",
             pde->type, KD_PDE_MAX_FIELDS);
  PetscCheck(value >= 0 && value < pde->ncoef, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "PDE %s: field %s is coefficient %" PetscInt_FMT ", not in [0, %" PetscInt_FMT ")", pde->type, name, value,
             pde->ncoef);
  f = &pde->field[pde->nfields];
  PetscCall(PetscStrncpy(f->name, name, sizeof(f->name)));
  f->value = value;
  f->net   = NULL;
  for (PetscInt i = 0; i < KD_NET_MAX_IN; i++) {
    f->grad[i] = i < pde->nin && grad ? grad[i] : -1;
    PetscCheck(f->grad[i] < pde->ncoef && (f->grad[i] < 0 || i != pde->tinput), pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "PDE %s: field %s: bad derivative coefficient %" PetscInt_FMT " for input %" PetscInt_FMT, pde->type,
               name, f->grad[i], i);
  }
  pde->nfields++;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetCoefficientField - The coefficient of a learnable field and of its derivative along each input (-1: none).

  Not collective
@*/
PetscErrorCode KDPDEGetCoefficientField(KDPDE pde, const char name[], PetscInt *value, PetscInt grad[])
{
  char list[KD_PDE_MAX_FIELDS * 18] = "";

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  for (PetscInt k = 0; k < pde->nfields; k++) {
    if (!strcmp(pde->field[k].name, name)) {
      *value = pde->field[k].value;
      for (PetscInt i = 0; i < pde->nin; i++) grad[i] = pde->field[k].grad[i];
      PetscFunctionReturn(0);
    }
    PetscCall(PetscStrlcat(list, k ? ", " : "", sizeof(list)));
    PetscCall(PetscStrlcat(list, pde->field[k].name, sizeof(list)));
  }
  SETERRQ(pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s has no coefficient field '%s' (its fields: %s)", pde->type, name,
          pde->nfields ? list : "none");
}

/*@C
  KDPDEGetNumCoefficientFields - The number of coefficient fields learnable from data (KDPDEAddCoefficientField()).

  Not collective
@*/
PetscErrorCode KDPDEGetNumCoefficientFields(KDPDE pde, PetscInt *n)
{
  PetscFunctionBegin;
  *n = pde->nfields;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetCoefficientFieldName - The name of learnable coefficient field k.

  Not collective
@*/
PetscErrorCode KDPDEGetCoefficientFieldName(KDPDE pde, PetscInt k, const char **name)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < pde->nfields, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "field %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", k, pde->nfields);
  *name = pde->field[k].name;
  PetscFunctionReturn(0);
}

/*@C
  KDPDECoefficientAdjoint - cbar[c * n + p] = sum_r rbar[r * n + p] d N_r / d coef_c at n points: how the residual
  depends on the coefficients, for coefficient fields learned from data.

  Not collective

.seealso: KDPDEAddCoefficientField(), KDPDEResidualAdjoint()
@*/
PetscErrorCode KDPDECoefficientAdjoint(KDPDE pde, PetscInt n, const PetscReal x[], const PetscReal coef[],
                                       const PetscReal jet[], const PetscReal rbar[], PetscReal cbar[])
{
  const PetscReal *c;
  PetscReal *work;

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCheck(pde->ops->coefficientadjoint, pde->comm, PETSC_ERR_SUP,
             "PDE %s gives no derivative of its residual with respect to its coefficients", pde->type);
  PetscCall(KDPDEGetCoefficients(pde, n, x, coef, &c, &work));
  PetscCall((*pde->ops->coefficientadjoint)(pde, n, c, jet, rbar, cbar));
  PetscCall(PetscFree(work));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEResidualParameter - The derivative of the residual with respect to the named parameter k, at n points:
  dres[r * n + p] = d N_r / d param_k, for parameters inferred from data (-<prefix>infer).

  Not collective

  Input Parameters:
+ pde  - the PDE
. k    - the parameter's index (KDPDEGetParameterIndex())
. n    - number of points
. x    - the points (for the coefficients; NULL if coef is given or the PDE has none)
. coef - the coefficients at the points, or NULL to compute them from x
- jet  - the jets of the points (kdnet.h layout)

  Output Parameter:
. dres - the derivative, nres x n

  Note:
  A type that lets a parameter be inferred sets ops->residualparameter; an error names the PDE otherwise.

.seealso: KDPDEResidual(), KDPDESetParameterPositive()
@*/
PetscErrorCode KDPDEResidualParameter(KDPDE pde, PetscInt k, PetscInt n, const PetscReal x[], const PetscReal coef[],
                                      const PetscReal jet[], PetscReal dres[])
{
  const PetscReal *c;
  PetscReal *work;

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCheck(k >= 0 && k < pde->nparams, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "parameter %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", k, pde->nparams);
  PetscCheck(pde->ops->residualparameter, pde->comm, PETSC_ERR_SUP,
             "PDE %s gives no derivative of its residual with respect to its parameters: '%s' cannot be inferred",
             pde->type, pde->param_names[k]);
  PetscCall(KDPDEGetCoefficients(pde, n, x, coef, &c, &work));
  PetscCall((*pde->ops->residualparameter)(pde, k, n, c, jet, dres));
  PetscCall(PetscFree(work));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEResidualAdjoint - Reverse mode of KDPDEResidual(): adds to adj the derivative of sum_{r,p} rbar[r*n+p] res[r*n+p]
  with respect to the jets.

  Not collective

  Input Parameters:
+ pde  - the PDE
. n    - number of points
. x    - the points (as in KDPDEResidual())
. coef - pointwise coefficients, or NULL
. jet  - the jets at which the residual is linearized
- rbar - rbar[r * n + p], the loss's derivative with respect to each residual value

  Output Parameter:
. adj  - accumulated dLoss/djet, same layout as jet (not zeroed here)

.seealso: KDPDEResidual(), KDNetLossGradient()
@*/
PetscErrorCode KDPDEResidualAdjoint(KDPDE pde, PetscInt n, const PetscReal x[], const PetscReal coef[],
                                    const PetscReal jet[], const PetscReal rbar[], PetscReal adj[])
{
  const PetscReal *c;
  PetscReal *work;

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCall(KDPDEGetCoefficients(pde, n, x, coef, &c, &work));
  PetscCall((*pde->ops->residualadjoint)(pde, n, c, jet, rbar, adj));
  PetscCall(PetscFree(work));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEResidualNet - Evaluates the residual of a network at n points (in blocks, to bound memory).

  Not collective

  Output Parameter:
. res - res[r * n + p]

.seealso: KDLossResidualRMS()
@*/
PetscErrorCode KDPDEResidualNet(KDPDE pde, KDNet net, PetscInt n, const PetscReal x[], PetscReal res[])
{
  const PetscInt bs = 1024;
  PetscInt nin, nout, nparams;
  PetscReal *jet, *rb, *coef = NULL;

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCall(KDNetGetSizes(net, &nin, &nout, &nparams));
  PetscCheck(nin == pde->nin && nout == pde->nout, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
             "network has %" PetscInt_FMT " inputs and %" PetscInt_FMT " outputs, PDE %s needs %" PetscInt_FMT
             " and %" PetscInt_FMT,
             nin, nout, pde->type, pde->nin, pde->nout);
  PetscCall(PetscMalloc2(bs * pde->nout * pde->nstreams, &jet, bs * pde->nres, &rb));
  if (pde->ncoef) PetscCall(PetscMalloc1(bs * pde->ncoef, &coef));
  for (PetscInt start = 0; start < n; start += bs) {
    PetscInt m = PetscMin(bs, n - start);
    PetscCall(KDNetJetForward(net, &pde->spec, m, x + start * pde->nin, jet));
    if (coef) PetscCall(KDPDEComputeCoefficients(pde, m, x + start * pde->nin, coef));
    PetscCall(KDPDEResidual(pde, m, NULL, coef, jet, rb));
    for (PetscInt r = 0; r < pde->nres; r++) PetscCall(PetscArraycpy(res + r * n + start, rb + r * m, m));
  }
  PetscCall(PetscFree2(jet, rb));
  PetscCall(PetscFree(coef));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGradePoints - Moves interior collocation points drawn uniform in the domain (KDPDESamplePoints()) to the density
  the formulation asks for, denser near a singularity, and gives each its weight: the uniform density over the new one
  at the point. A loss that weighs each squared residual by it still estimates the integral of the squared residual,
  with less variance where the residual concentrates.

  Not collective

  Input Parameters:
+ pde - the PDE
. n   - number of points (0: only ask whether the formulation grades them)
- x   - the points, x[p * nin + i], moved in place

  Output Parameters:
+ w      - the weights w[p] (untouched if not graded)
- graded - PETSC_FALSE if the formulation keeps the points uniform (x untouched)

  Notes:
  Optional for a type (ops->gradepoints); the conduction PDE grades towards a checkerboard's corners with
  -<prefix>conduction_corner_refine.

.seealso: KDPDESamplePoints(), KDLossResample()
@*/
PetscErrorCode KDPDEGradePoints(KDPDE pde, PetscInt n, PetscReal x[], PetscReal w[], PetscBool *graded)
{
  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  *graded = PETSC_FALSE;
  if (pde->ops->gradepoints) PetscCall((*pde->ops->gradepoints)(pde, n, x, w, graded));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESamplePoints - Draws the points with global indices gstart, ..., gstart + n - 1 of a point set, each a pure
  function of (seed, stream, global index), so that the union over ranks does not depend on how the indices are split.

  Not collective

  Input Parameters:
+ pde    - the PDE (its domain and inputs)
. kind   - interior: uniform in the box; initial: t = t_lo, space uniform; boundary: one of the given faces chosen
           with probability proportional to its measure, uniform on it (and uniform in t for time-dependent PDEs)
. faces  - the faces of a boundary set (mask of KD_FACE bits, or KD_FACES_ALL); ignored by the other kinds
. seed   - the seed
. stream - the stream of this point set
. gstart - global index of the first point
- n      - number of points

  Output Parameters:
+ x    - x[p * nin + i]
- face - (may be NULL) boundary: the face of each point, bit index 2 i + s; other kinds: -1

  Notes:
  Point j uses the numbers KDRandomUniform(seed, stream, 4 j + d), d = 0..3: one per input and one to choose a face.
  Faces are listed input by input, low side first; face f is chosen for u in [W_{f-1}, W_f) of the running sums W of
  the face measures scaled to u * W_total.
@*/
PetscErrorCode KDPDESamplePoints(KDPDE pde, KDPDEPointKind kind, PetscInt faces, PetscInt64 seed, PetscInt64 stream,
                                 PetscInt64 gstart, PetscInt n, PetscReal x[], PetscInt face[])
{
  const PetscInt nin = pde->nin;
  PetscInt nspace = 0, space[KD_NET_MAX_IN], nf = 0, fbit[2 * KD_NET_MAX_IN];
  PetscReal wface[2 * KD_NET_MAX_IN], wsum = 0.0;

  PetscFunctionBegin;
  PetscCall(KDPDECheckType(pde));
  PetscCheck(kind != KD_PDE_POINTS_INITIAL || pde->tinput >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "PDE %s is steady: it has no initial points", pde->type);
  for (PetscInt i = 0; i < nin; i++)
    if (i != pde->tinput) space[nspace++] = i;
  /* A face of spatial input space[f/2] (low side for even f) has the measure of the other spatial extents. */
  for (PetscInt f = 0; f < 2 * nspace; f++) {
    const PetscInt bit = 2 * space[f / 2] + f % 2;
    if (!(faces & ((PetscInt) 1 << bit))) continue;
    fbit[nf]  = bit;
    wface[nf] = 1.0;
    for (PetscInt k = 0; k < nspace; k++)
      if (k != f / 2) wface[nf] *= pde->hi[space[k]] - pde->lo[space[k]];
    wsum += wface[nf++];
  }
  PetscCheck(kind != KD_PDE_POINTS_BOUNDARY || nf > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "PDE %s: a boundary point set needs faces of spatial inputs", pde->type);
  for (PetscInt p = 0; p < n; p++) {
    const PetscInt64 j = gstart + p;
    PetscReal *xp      = x + p * nin;
    for (PetscInt i = 0; i < nin; i++)
      xp[i] = pde->lo[i] + KDRandomUniform(seed, stream, 4 * j + i) * (pde->hi[i] - pde->lo[i]);
    if (face) face[p] = -1;
    if (kind == KD_PDE_POINTS_INITIAL) xp[pde->tinput] = pde->lo[pde->tinput];
    if (kind == KD_PDE_POINTS_BOUNDARY) {
      PetscReal s = KDRandomUniform(seed, stream, 4 * j + 3) * wsum, acc = 0.0;
      PetscInt f = 0, i;
      for (f = 0; f < nf - 1; f++) {
        acc += wface[f];
        if (s < acc) break;
      }
      i     = fbit[f] / 2;
      xp[i] = (fbit[f] % 2) ? pde->hi[i] : pde->lo[i];
      if (face) face[p] = fbit[f];
    }
  }
  PetscFunctionReturn(0);
}
