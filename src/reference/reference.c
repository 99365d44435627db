/*
  KDReference: the reference solutions of a PDE on a hierarchy of grids, and reference.h5.

  Level 0 is the solver grid, or with KDReferenceSetCoarsening() that grid coarsened K times (a reference solved finer
  than the grid it validates on), and with KDReferenceExtrapolate() the Richardson extrapolation of three such solves.
  Level l has half the cells of level l-1 on every axis, and each of its values is the average of the 2^dim children:
  the cell average is the scale filter of the hierarchy, and it preserves the mean exactly. Fields are MPI Vecs in
  natural (row-major) order, distributed in blocks of whole rows of axis 0, which is also the block each rank writes to
  or reads from the file with one collective hyperslab transfer. Averages are summed in a fixed order, so every level
  (and the file) is bitwise the same for any number of ranks.
*/
#include <kdreference.h>
#include "sys/kdio.h"
#include <string.h>

#define KD_MAX_PARAMS 32
#define KD_MAX_STRINGS 8
#define KD_MAX_ARRAYS 8
/* an array attribute of more values is not one a solver writes (K_eff has 4): refused when a file is read */
#define KD_MAX_ARRAY_LEN 4096
#define KD_NAME_LEN 64

typedef struct {
  PetscInt n[KD_MAX_DIM];
  PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM];
  Vec field[KD_MAX_FIELDS];
} KDLevel;

struct _p_KDReference {
  MPI_Comm comm;
  char pde[KD_NAME_LEN];
  char axes[KD_NAME_LEN];
  PetscInt dim, nlevels, nlevels_requested;
  PetscInt coarsen;       /* restrictions from the solver grid to level 0 (KDReferenceSetCoarsening()) */
  PetscInt divisor;       /* the solver's grid is its options' divided by this per axis (KDReferenceSetGridDivisor()) */
  PetscBool extrapolated; /* level 0 is a Richardson extrapolation (KDReferenceExtrapolate()) */
  PetscBool gridset;
  KDLevel level[KD_MAX_LEVELS];
  PetscInt nfields;
  char fieldname[KD_MAX_FIELDS][KD_NAME_LEN];
  PetscInt nparams;
  char paramname[KD_MAX_PARAMS][KD_NAME_LEN];
  PetscReal paramvalue[KD_MAX_PARAMS];
  PetscInt nstrings;
  char stringname[KD_MAX_STRINGS][KD_NAME_LEN];
  char *stringvalue[KD_MAX_STRINGS];
  PetscInt narrays;
  char arrayname[KD_MAX_ARRAYS][KD_NAME_LEN];
  PetscInt arraylen[KD_MAX_ARRAYS];
  PetscReal *arrayvalue[KD_MAX_ARRAYS];
};

static PetscLogEvent KD_Restrict, KD_ReferenceIO;

static PetscErrorCode KDReferenceCheckLevels(KDReference, PetscInt);

static PetscErrorCode KDReferenceRegisterEvents(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDRestrict", KD_CLASSID, &KD_Restrict));
  PetscCall(PetscLogEventRegister("KDReferenceIO", KD_CLASSID, &KD_ReferenceIO));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceCreate - Creates an empty reference (no grid, no fields).

  Collective

  Output Parameter:
. ref - the new reference

.seealso: KDReferenceSetGrid(), KDReferenceAddField(), KDReferenceBuildHierarchy(), KDReferenceWrite(),
KDReferenceLoad()
@*/
PetscErrorCode KDReferenceCreate(MPI_Comm comm, KDReference *ref)
{
  PetscFunctionBegin;
  PetscCall(KDReferenceRegisterEvents());
  PetscCall(PetscNew(ref));
  (*ref)->comm    = comm;
  (*ref)->nlevels = 0;
  (*ref)->divisor = 1;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceDestroy - Destroys a reference and clears the handle; safe on NULL.

  Collective
@*/
PetscErrorCode KDReferenceDestroy(KDReference *ref)
{
  PetscFunctionBegin;
  if (!ref || !*ref) PetscFunctionReturn(0);
  for (PetscInt l = 0; l < KD_MAX_LEVELS; l++)
    for (PetscInt f = 0; f < KD_MAX_FIELDS; f++) PetscCall(VecDestroy(&(*ref)->level[l].field[f]));
  for (PetscInt s = 0; s < (*ref)->nstrings; s++) PetscCall(PetscFree((*ref)->stringvalue[s]));
  for (PetscInt a = 0; a < (*ref)->narrays; a++) PetscCall(PetscFree((*ref)->arrayvalue[a]));
  PetscCall(PetscFree(*ref));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetComm - The communicator of a reference.

  Not collective
@*/
PetscErrorCode KDReferenceGetComm(KDReference ref, MPI_Comm *comm)
{
  PetscFunctionBegin;
  *comm = ref->comm;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceSetPDE - Names the PDE the reference solves (burgers, heat, cavity).

  Collective
@*/
PetscErrorCode KDReferenceSetPDE(KDReference ref, const char pde[])
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(ref->pde, pde, sizeof(ref->pde)));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetPDE - The name of the PDE.

  Not collective
@*/
PetscErrorCode KDReferenceGetPDE(KDReference ref, const char **pde)
{
  PetscFunctionBegin;
  *pde = ref->pde;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceSetGrid - Sets the level-0 (solver) grid: a uniform cell-centred grid.

  Collective

  Input Parameters:
+ ref  - the reference
. dim  - number of axes (1 to 3)
. axes - comma-separated axis names, slowest first, e.g. "t,x", "t,y,x" or "y,x"
. n    - cells per axis
. lo   - lower end of each axis
- hi   - upper end of each axis

  Notes:
  Value i of axis d sits at lo[d] + (i + 1/2) (hi[d] - lo[d]) / n[d].
@*/
PetscErrorCode KDReferenceSetGrid(KDReference ref, PetscInt dim, const char axes[], const PetscInt n[],
                                  const PetscReal lo[], const PetscReal hi[])
{
  PetscInt naxes = 1;

  PetscFunctionBegin;
  PetscCheck(!ref->nfields, ref->comm, PETSC_ERR_ORDER, "set the grid before adding fields");
  PetscCheck(dim >= 1 && dim <= KD_MAX_DIM, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "grid dimension %" PetscInt_FMT " not in [1, %d]", dim, KD_MAX_DIM);
  for (const char *c = axes; *c; c++) naxes += (*c == ',');
  PetscCheck(naxes == dim, ref->comm, PETSC_ERR_ARG_WRONG, "axes '%s' do not name %" PetscInt_FMT " axes", axes, dim);
  PetscCall(PetscStrncpy(ref->axes, axes, sizeof(ref->axes)));
  ref->dim = dim;
  for (PetscInt d = 0; d < dim; d++) {
    PetscCheck(n[d] >= 1, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "axis %" PetscInt_FMT " has %" PetscInt_FMT " cells", d,
               n[d]);
    PetscCheck(hi[d] > lo[d], ref->comm, PETSC_ERR_ARG_WRONG, "axis %" PetscInt_FMT " has an empty interval [%g, %g]",
               d, (double) lo[d], (double) hi[d]);
    ref->level[0].n[d]  = n[d];
    ref->level[0].lo[d] = lo[d];
    ref->level[0].hi[d] = hi[d];
  }
  ref->nlevels = 1;
  ref->gridset = PETSC_TRUE;
  /* before the solver spends time on a grid the hierarchy cannot be built from (one level needs no check unless it is
     a coarsening) */
  if (ref->nlevels_requested >= 1 && ref->nlevels_requested + ref->coarsen > 1)
    PetscCall(KDReferenceCheckLevels(ref, ref->nlevels_requested));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceSetNumLevels - Announces how many levels the hierarchy will have, so that KDReferenceSetGrid() can
  refuse a grid too small for them before a solver spends time on it.

  Collective
@*/
PetscErrorCode KDReferenceSetNumLevels(KDReference ref, PetscInt L)
{
  PetscFunctionBegin;
  PetscCheck(L >= 1 && L <= KD_MAX_LEVELS, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_levels %" PetscInt_FMT " not in [1, %d]", L, KD_MAX_LEVELS);
  ref->nlevels_requested = L;
  if (ref->gridset) PetscCall(KDReferenceCheckLevels(ref, L));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceSetCoarsening - Makes level 0 the solver grid coarsened K times (a reference finer than its level 0).

  KDReferenceBuildHierarchy() then restricts K more times and drops the K finest grids, so that level 0 holds cell
  averages of a finer solution (a reference converged beyond the grid it validates on). Call before the solver sets
  the grid.

  Collective

  Input Parameters:
+ ref - the reference
- K   - number of coarsenings, 0 (the default: level 0 is the solver grid) or more (option -kd_reference_coarsen)

  Notes:
  The file records K as the root attribute `coarsened`; kdpinn validate then compares the teacher on level 0 by its
  cell averages, as it compares it on the coarser levels.

.seealso: KDReferenceGetCoarsening(), KDReferenceBuildHierarchy()
@*/
PetscErrorCode KDReferenceSetCoarsening(KDReference ref, PetscInt K)
{
  PetscFunctionBegin;
  PetscCheck(!ref->gridset, ref->comm, PETSC_ERR_ORDER, "set the coarsening before the grid");
  PetscCheck(K >= 0 && K < KD_MAX_LEVELS, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_reference_coarsen %" PetscInt_FMT " not in [0, %d]", K, KD_MAX_LEVELS - 1);
  ref->coarsen = K;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetCoarsening - How many times level 0 is coarsened from the solver grid (0: it is the solver grid).

  Not collective

.seealso: KDReferenceSetCoarsening()
@*/
PetscErrorCode KDReferenceGetCoarsening(KDReference ref, PetscInt *K)
{
  PetscFunctionBegin;
  *K = ref->coarsen;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceSetGridDivisor - Asks the solver for a grid coarser than its options say: every axis divided by d.

  Collective

  Input Parameters:
+ ref - the reference, before the solver sets its grid
- d   - a power of 2, at least 1 (the default: the grid of the options)

  Notes:
  The solve stage sets it for the coarser solves of a Richardson extrapolation (-kd_reference_extrapolate,
  KDReferenceExtrapolate()). A solver honours it by dividing the cell counts its options give
  (KDReferenceApplyGridDivisor()); one that does not is found out by the stage, which compares the grids and refuses
  the extrapolation.

.seealso: KDReferenceGetGridDivisor(), KDReferenceExtrapolate(), KDSolverRegister()
@*/
PetscErrorCode KDReferenceSetGridDivisor(KDReference ref, PetscInt d)
{
  PetscFunctionBegin;
  PetscCheck(!ref->gridset, ref->comm, PETSC_ERR_ORDER, "set the grid divisor before the grid");
  PetscCheck(d >= 1 && (d & (d - 1)) == 0, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "grid divisor %" PetscInt_FMT " is not a power of 2", d);
  ref->divisor = d;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetGridDivisor - For a solver: divide the cell count of every axis its options give by this (1 unless a
  Richardson extrapolation asks for a coarser solve).

  Not collective

.seealso: KDReferenceSetGridDivisor()
@*/
PetscErrorCode KDReferenceGetGridDivisor(KDReference ref, PetscInt *d)
{
  PetscFunctionBegin;
  *d = ref->divisor;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceApplyGridDivisor - For a solver: divides one of its cell counts by the grid divisor, or fails with one
  line naming the option when it does not divide it.

  Collective

  Input Parameters:
+ ref    - the reference being solved
- option - the option the count comes from, for the message (e.g. "-cavity_n")

  Input/Output Parameter:
. n - the count of the options in, the count to solve on out

.seealso: KDReferenceGetGridDivisor(), KDReferenceSetGridDivisor()
@*/
PetscErrorCode KDReferenceApplyGridDivisor(KDReference ref, const char option[], PetscInt *n)
{
  PetscFunctionBegin;
  PetscCheck(*n % ref->divisor == 0 && *n / ref->divisor >= 2, ref->comm, PETSC_ERR_ARG_INCOMP,
             "%s %" PetscInt_FMT " is not a multiple of %" PetscInt_FMT
             " cells: the grid of the coarsest solve of -kd_reference_extrapolate has to be that many times coarser",
             option, *n, ref->divisor);
  *n /= ref->divisor;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetExtrapolated - Whether level 0 is a Richardson extrapolation (KDReferenceExtrapolate(); the root
  attribute `extrapolated` of reference.h5).

  Not collective
@*/
PetscErrorCode KDReferenceGetExtrapolated(KDReference ref, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = ref->extrapolated;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceSetParameter - Records a named PDE parameter (written as a root attribute of reference.h5).

  Collective
@*/
PetscErrorCode KDReferenceSetParameter(KDReference ref, const char name[], PetscReal value)
{
  PetscInt i;

  PetscFunctionBegin;
  for (i = 0; i < ref->narrays; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->arrayname[i], name, &same));
    PetscCheck(!same, ref->comm, PETSC_ERR_ARG_WRONG, "reference attribute %s is an array, not a parameter", name);
  }
  for (i = 0; i < ref->nparams; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->paramname[i], name, &same));
    if (same) break;
  }
  if (i == ref->nparams) {
    PetscCheck(ref->nparams < KD_MAX_PARAMS, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "too many parameters (at most %d)",
               KD_MAX_PARAMS);
    PetscCall(PetscStrncpy(ref->paramname[i], name, KD_NAME_LEN));
    ref->nparams++;
  }
  ref->paramvalue[i] = value;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetParameter - A named PDE parameter; found is false if the reference does not carry it.

  Not collective
@*/
PetscErrorCode KDReferenceGetParameter(KDReference ref, const char name[], PetscReal *value, PetscBool *found)
{
  PetscFunctionBegin;
  *found = PETSC_FALSE;
  for (PetscInt i = 0; i < ref->nparams; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->paramname[i], name, &same));
    if (same) {
      *value = ref->paramvalue[i];
      *found = PETSC_TRUE;
      break;
    }
  }
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceSetString - Records a named string (e.g. a microstructure description) as a root attribute.

  Collective
@*/
PetscErrorCode KDReferenceSetString(KDReference ref, const char name[], const char value[])
{
  PetscInt i;

  PetscFunctionBegin;
  for (i = 0; i < ref->nstrings; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->stringname[i], name, &same));
    if (same) break;
  }
  if (i == ref->nstrings) {
    PetscCheck(ref->nstrings < KD_MAX_STRINGS, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "too many string attributes (at most %d)", KD_MAX_STRINGS);
    PetscCall(PetscStrncpy(ref->stringname[i], name, KD_NAME_LEN));
    ref->nstrings++;
  }
  PetscCall(PetscFree(ref->stringvalue[i]));
  PetscCall(PetscStrallocpy(value, &ref->stringvalue[i]));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetString - A named string attribute, or NULL if the reference does not carry it.

  Not collective
@*/
PetscErrorCode KDReferenceGetString(KDReference ref, const char name[], const char **value)
{
  PetscFunctionBegin;
  *value = NULL;
  for (PetscInt i = 0; i < ref->nstrings; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->stringname[i], name, &same));
    if (same) *value = ref->stringvalue[i];
  }
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceSetArray - Records a named array of reals (e.g. the effective conductivity K_eff), written as a root
  attribute of n values and read back by KDReferenceLoad().

  Collective

  Input Parameters:
+ ref    - the reference
. name   - the attribute's name; not the name of a parameter
. n      - number of values, 1 to 4096
- values - the values (copied)

  Notes:
  A file does not tell a one-value array from a scalar: an array of one value is recorded as a parameter
  (KDReferenceSetParameter()), and KDReferenceGetArray() finds it as an array of one value.

.seealso: KDReferenceGetArray(), KDReferenceSetParameter()
@*/
PetscErrorCode KDReferenceSetArray(KDReference ref, const char name[], PetscInt n, const PetscReal values[])
{
  PetscInt i;

  PetscFunctionBegin;
  PetscCheck(n >= 1 && n <= KD_MAX_ARRAY_LEN, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "reference array %s: %" PetscInt_FMT " values, not in [1, %d]", name, n, KD_MAX_ARRAY_LEN);
  if (n == 1) {
    PetscCall(KDReferenceSetParameter(ref, name, values[0]));
    PetscFunctionReturn(0);
  }
  for (i = 0; i < ref->nparams; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->paramname[i], name, &same));
    PetscCheck(!same, ref->comm, PETSC_ERR_ARG_WRONG, "reference attribute %s is a parameter, not an array", name);
  }
  for (i = 0; i < ref->narrays; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->arrayname[i], name, &same));
    if (same) break;
  }
  if (i == ref->narrays) {
    PetscCheck(ref->narrays < KD_MAX_ARRAYS, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "too many array attributes (at most %d)", KD_MAX_ARRAYS);
    PetscCall(PetscStrncpy(ref->arrayname[i], name, KD_NAME_LEN));
    ref->narrays++;
  }
  PetscCall(PetscFree(ref->arrayvalue[i]));
  PetscCall(PetscMalloc1(n, &ref->arrayvalue[i]));
  PetscCall(PetscArraycpy(ref->arrayvalue[i], values, n));
  ref->arraylen[i] = n;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetArray - A named array of reals (borrowed); found is false if the reference carries none of that name.

  Not collective

  Output Parameters:
+ n      - number of values
. values - the values, owned by the reference
- found  - whether the reference carries it (as an array, or as a parameter: an array of one value)

.seealso: KDReferenceSetArray()
@*/
PetscErrorCode KDReferenceGetArray(KDReference ref, const char name[], PetscInt *n, const PetscReal **values,
                                   PetscBool *found)
{
  PetscFunctionBegin;
  *found  = PETSC_FALSE;
  *n      = 0;
  *values = NULL;
  for (PetscInt i = 0; i < ref->narrays; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->arrayname[i], name, &same));
    if (same) {
      *n      = ref->arraylen[i];
      *values = ref->arrayvalue[i];
      *found  = PETSC_TRUE;
      PetscFunctionReturn(0);
    }
  }
  for (PetscInt i = 0; i < ref->nparams; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->paramname[i], name, &same));
    if (same) {
      *n      = 1;
      *values = &ref->paramvalue[i];
      *found  = PETSC_TRUE;
      PetscFunctionReturn(0);
    }
  }
  PetscFunctionReturn(0);
}

/* Every axis of the solver grid needs a multiple of 2^(L+K-1) cells and at least 2 cells on the coarsest level (K the
   coarsening of level 0). */
static PetscErrorCode KDReferenceCheckLevels(KDReference ref, PetscInt L)
{
  PetscInt factor = 1;
  char axes[KD_NAME_LEN], *axis[KD_MAX_DIM] = {NULL, NULL, NULL}, *save = NULL, also[64] = "";

  PetscFunctionBegin;
  PetscCheck(L >= 1 && L <= KD_MAX_LEVELS, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_levels %" PetscInt_FMT " not in [1, %d]", L, KD_MAX_LEVELS);
  PetscCheck(L + ref->coarsen <= KD_MAX_LEVELS, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_levels %" PetscInt_FMT " with -kd_reference_coarsen %" PetscInt_FMT " make more than %d grids", L,
             ref->coarsen, KD_MAX_LEVELS);
  if (ref->coarsen)
    PetscCall(PetscSNPrintf(also, sizeof(also), " and -kd_reference_coarsen %" PetscInt_FMT, ref->coarsen));
  PetscCall(PetscStrncpy(axes, ref->axes, sizeof(axes)));
  axis[0] = strtok_r(axes, ",", &save);
  for (PetscInt d = 1; d < ref->dim; d++) axis[d] = strtok_r(NULL, ",", &save);
  for (PetscInt l = 1; l < L + ref->coarsen; l++) factor *= 2;
  for (PetscInt d = 0; d < ref->dim; d++) {
    const PetscInt n = ref->level[0].n[d];
    PetscCheck(n % factor == 0 && n / factor >= 2, ref->comm, PETSC_ERR_ARG_INCOMP,
               "grid too small for -kd_levels %" PetscInt_FMT "%s: axis %s has %" PetscInt_FMT
               " cells, needs a multiple of %" PetscInt_FMT " and at least %" PetscInt_FMT,
               L, also, axis[d] ? axis[d] : "?", n, factor, 2 * factor);
  }
  PetscFunctionReturn(0);
}

static PetscInt KDLevelRowLength(KDReference ref, PetscInt l)
{
  PetscInt len = 1;
  for (PetscInt d = 1; d < ref->dim; d++) len *= ref->level[l].n[d];
  return len;
}

/* Rows of axis 0 that this rank owns on level l: PETSc's default split of n[0] rows. */
static PetscErrorCode KDLevelGetRows(KDReference ref, PetscInt l, PetscInt *rstart, PetscInt *nrows)
{
  PetscInt n = PETSC_DECIDE, N = ref->level[l].n[0];

  PetscFunctionBegin;
  PetscCall(PetscSplitOwnership(ref->comm, &n, &N));
  PetscCallMPI(MPI_Scan(&n, rstart, 1, MPIU_INT, MPI_SUM, ref->comm));
  *rstart -= n;
  *nrows = n;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceCreateLevelVec - Creates a Vec with the layout of a field of a level (natural order, blocks of rows of
  axis 0), e.g. for a solver to fill with VecSetValues() by natural index before KDReferenceAddField().

  Collective
@*/
PetscErrorCode KDReferenceCreateLevelVec(KDReference ref, PetscInt l, Vec *v)
{
  PetscInt rstart, nrows;

  PetscFunctionBegin;
  PetscCheck(ref->gridset, ref->comm, PETSC_ERR_ORDER, "the reference has no grid: call KDReferenceSetGrid() first");
  PetscCheck(l >= 0 && l < ref->nlevels, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", l, ref->nlevels);
  PetscCall(KDLevelGetRows(ref, l, &rstart, &nrows));
  PetscCall(VecCreateMPI(ref->comm, nrows * KDLevelRowLength(ref, l), PETSC_DETERMINE, v));
  PetscFunctionReturn(0);
}

/* The number of NaN or infinite entries of v over all ranks, and the global index of the first (-1: none). */
static PetscErrorCode KDVecCountNonFinite(Vec v, PetscInt *count, PetscInt *first)
{
  const PetscScalar *a;
  PetscInt n, lo, bad = 0, at = PETSC_MAX_INT;
  MPI_Comm comm = PetscObjectComm((PetscObject) v);

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(v, &n));
  PetscCall(VecGetOwnershipRange(v, &lo, NULL));
  PetscCall(VecGetArrayRead(v, &a));
  for (PetscInt i = 0; i < n; i++)
    if (PetscIsInfOrNanScalar(a[i])) {
      if (!bad) at = lo + i;
      bad++;
    }
  PetscCall(VecRestoreArrayRead(v, &a));
  PetscCallMPI(MPI_Allreduce(&bad, count, 1, MPIU_INT, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(&at, first, 1, MPIU_INT, MPI_MIN, comm));
  if (!*count) *first = -1;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceAddBlockField - Adds a level-0 field given as this rank's block of a 2-D grid (a DMDA's corners): every
  slice k < ns of the cells [xs, xs + xm) x [ys, ys + ym) of the ny x nx plane, the slices being the snapshots of a
  "t,y,x" grid (ns = nt) or the one plane of a "y,x" grid (ns = 1).

  Collective

  Input Parameters:
+ ref    - the reference, with its grid set (ns x ny x nx cells, or ny x nx)
. name   - field name
. nx, ny - cells of the plane along x and y
. ns     - slices
. xs, ys, xm, ym - this rank's block of the plane
- u      - u[(k ym + (j - ys)) xm + (i - xs)], slice k, cell (i, j)

.seealso: KDReferenceAddField()
@*/
PetscErrorCode KDReferenceAddBlockField(KDReference ref, const char name[], PetscInt nx, PetscInt ny, PetscInt ns,
                                        PetscInt xs, PetscInt ys, PetscInt xm, PetscInt ym, const PetscReal u[])
{
  Vec U;
  PetscInt *idx;

  PetscFunctionBegin;
  PetscCall(KDReferenceCreateLevelVec(ref, 0, &U));
  /* the grid's blocks are not the reference's blocks of whole slices: set by natural index, let the Vec move them */
  PetscCall(PetscMalloc1(xm * ym, &idx));
  for (PetscInt k = 0; k < ns; k++) {
    for (PetscInt j = 0; j < ym; j++)
      for (PetscInt i = 0; i < xm; i++) idx[j * xm + i] = (k * ny + ys + j) * nx + xs + i;
    PetscCall(VecSetValues(U, xm * ym, idx, u + k * xm * ym, INSERT_VALUES));
  }
  PetscCall(PetscFree(idx));
  PetscCall(VecAssemblyBegin(U));
  PetscCall(VecAssemblyEnd(U));
  PetscCall(KDReferenceAddField(ref, name, U));
  PetscCall(VecDestroy(&U));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceAddField - Adds a level-0 field; the reference keeps its own copy.

  Collective

  Input Parameters:
+ ref  - the reference, with its grid set
. name - field name (u, v, p, ...)
- v    - the field in natural order, of global size the number of level-0 cells; any parallel layout

.seealso: KDReferenceCreateLevelVec()
@*/
PetscErrorCode KDReferenceAddField(KDReference ref, const char name[], Vec v)
{
  PetscInt N, Nexpect = 1, f = ref->nfields, lo, hi;
  Vec dst;
  IS is;
  VecScatter scatter;

  PetscFunctionBegin;
  PetscCheck(ref->gridset, ref->comm, PETSC_ERR_ORDER, "the reference has no grid: call KDReferenceSetGrid() first");
  PetscCheck(ref->nlevels == 1, ref->comm, PETSC_ERR_ORDER, "add fields before building the hierarchy");
  PetscCheck(f < KD_MAX_FIELDS, ref->comm, PETSC_ERR_ARG_OUTOFRANGE, "too many fields (at most %d)", KD_MAX_FIELDS);
  for (PetscInt d = 0; d < ref->dim; d++) Nexpect *= ref->level[0].n[d];
  PetscCall(VecGetSize(v, &N));
  PetscCheck(N == Nexpect, ref->comm, PETSC_ERR_ARG_SIZ,
             "field %s has %" PetscInt_FMT " values, the grid %" PetscInt_FMT, name, N, Nexpect);
  PetscCall(KDReferenceCreateLevelVec(ref, 0, &dst));
  PetscCall(VecGetOwnershipRange(dst, &lo, &hi));
  PetscCall(ISCreateStride(ref->comm, hi - lo, lo, 1, &is));
  PetscCall(VecScatterCreate(v, is, dst, is, &scatter));
  PetscCall(VecScatterBegin(scatter, v, dst, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(scatter, v, dst, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterDestroy(&scatter));
  PetscCall(ISDestroy(&is));
  {
    PetscInt bad, first;
    PetscCall(KDVecCountNonFinite(dst, &bad, &first));
    if (bad) PetscCall(VecDestroy(&dst));
    PetscCheck(!bad, ref->comm, PETSC_ERR_FP,
               "the %s solution is not finite: field %s has %" PetscInt_FMT " NaN or infinite values (the first at "
               "cell %" PetscInt_FMT "); the solver diverged, or the problem's options (-%s_...) are out of range",
               ref->pde, name, bad, first, ref->pde);
  }
  PetscCall(PetscStrncpy(ref->fieldname[f], name, KD_NAME_LEN));
  ref->level[0].field[f] = dst;
  ref->nfields++;
  PetscFunctionReturn(0);
}

/* Level l from level l-1: each rank gathers the fine rows under its coarse rows, then averages the children in a
   fixed order (so results do not depend on the rank count). */
static PetscErrorCode KDReferenceRestrict(KDReference ref, PetscInt l)
{
  const KDLevel *fine = &ref->level[l - 1];
  KDLevel *crs        = &ref->level[l];
  PetscInt nf[3] = {1, 1, 1}, nc[3] = {1, 1, 1}, pair[3] = {1, 1, 1}, rstart, nrows, fine_row;
  PetscReal scale;

  PetscFunctionBegin;
  for (PetscInt d = 0; d < ref->dim; d++) {
    nf[d]   = fine->n[d];
    nc[d]   = crs->n[d];
    pair[d] = 2;
  }
  scale    = 1.0 / (PetscReal) (pair[0] * pair[1] * pair[2]);
  fine_row = nf[1] * nf[2];
  PetscCall(KDLevelGetRows(ref, l, &rstart, &nrows));
  for (PetscInt f = 0; f < ref->nfields; f++) {
    Vec local;
    IS is;
    VecScatter scatter;
    const PetscScalar *a;
    PetscScalar *c;

    PetscCall(KDReferenceCreateLevelVec(ref, l, &crs->field[f]));
    PetscCall(ISCreateStride(PETSC_COMM_SELF, 2 * nrows * fine_row, 2 * rstart * fine_row, 1, &is));
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, 2 * nrows * fine_row, &local));
    PetscCall(VecScatterCreate(fine->field[f], is, local, NULL, &scatter));
    PetscCall(VecScatterBegin(scatter, fine->field[f], local, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(scatter, fine->field[f], local, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecGetArrayRead(local, &a));
    PetscCall(VecGetArray(crs->field[f], &c));
    for (PetscInt i0 = 0; i0 < nrows; i0++)
      for (PetscInt i1 = 0; i1 < nc[1]; i1++)
        for (PetscInt i2 = 0; i2 < nc[2]; i2++) {
          PetscReal sum = 0;
          for (PetscInt a0 = 0; a0 < pair[0]; a0++)
            for (PetscInt a1 = 0; a1 < pair[1]; a1++)
              for (PetscInt a2 = 0; a2 < pair[2]; a2++)
                sum += a[((2 * i0 + a0) * nf[1] + pair[1] * i1 + a1) * nf[2] + pair[2] * i2 + a2];
          c[(i0 * nc[1] + i1) * nc[2] + i2] = sum * scale;
        }
    PetscCall(VecRestoreArray(crs->field[f], &c));
    PetscCall(VecRestoreArrayRead(local, &a));
    PetscCall(VecScatterDestroy(&scatter));
    PetscCall(VecDestroy(&local));
    PetscCall(ISDestroy(&is));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceBuildHierarchy - Builds levels 1..L-1 by restriction (cell averages over 2 x ... x 2 children).

  Collective

  Input Parameters:
+ ref - the reference, with its grid and level-0 fields
- L   - number of levels including level 0 (option -kd_levels)

  Notes:
  Every axis of level 0 must have a multiple of 2^(L-1) cells, and at least 2 cells on the coarsest level. With a
  coarsening K (KDReferenceSetCoarsening()) the solver grid is restricted L + K - 1 times and its K finest grids are
  dropped: the solver grid then needs a multiple of 2^(L+K-1) cells.

.seealso: KDReferenceSetCoarsening()
@*/
PetscErrorCode KDReferenceBuildHierarchy(KDReference ref, PetscInt L)
{
  const PetscInt K = ref->coarsen;

  PetscFunctionBegin;
  PetscCheck(ref->gridset && ref->nfields > 0, ref->comm, PETSC_ERR_ORDER, "the reference has no fields to restrict");
  PetscCheck(ref->nlevels == 1, ref->comm, PETSC_ERR_ORDER, "the hierarchy is already built");
  PetscCall(KDReferenceCheckLevels(ref, L));
  PetscCall(PetscLogEventBegin(KD_Restrict, 0, 0, 0, 0));
  for (PetscInt l = 1; l < L + K; l++) {
    for (PetscInt d = 0; d < ref->dim; d++) {
      ref->level[l].n[d]  = ref->level[l - 1].n[d] / 2;
      ref->level[l].lo[d] = ref->level[0].lo[d];
      ref->level[l].hi[d] = ref->level[0].hi[d];
    }
    ref->nlevels = l + 1;
    PetscCall(KDReferenceRestrict(ref, l));
  }
  for (PetscInt l = 0; K && l < L; l++) { /* the K finest grids out, the rest renumbered from 0 */
    for (PetscInt f = 0; f < ref->nfields; f++) {
      PetscCall(VecDestroy(&ref->level[l].field[f]));
      ref->level[l].field[f]     = ref->level[l + K].field[f];
      ref->level[l + K].field[f] = NULL;
    }
    for (PetscInt d = 0; d < ref->dim; d++) {
      ref->level[l].n[d]  = ref->level[l + K].n[d];
      ref->level[l].lo[d] = ref->level[l + K].lo[d];
      ref->level[l].hi[d] = ref->level[l + K].hi[d];
    }
  }
  for (PetscInt l = L; l < L + K; l++)
    for (PetscInt f = 0; f < ref->nfields; f++) PetscCall(VecDestroy(&ref->level[l].field[f]));
  ref->nlevels = L;
  PetscCall(PetscLogEventEnd(KD_Restrict, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceExtrapolate - Replaces level 0 by the Richardson extrapolation of three solves, cell by cell at the
  observed order, and rebuilds the coarser levels from it by restriction.

  Collective

  Input Parameters:
+ ref    - the finest solve, with its hierarchy built; it receives the extrapolation
. medium - the same problem solved on a grid 2 times coarser per axis, its hierarchy built to the same levels (one
           coarsening less: KDReferenceSetCoarsening(), KDReferenceSetGridDivisor())
. coarse - solved 4 times coarser, two coarsenings less
- viewer - where one line per field says what the extrapolation did (NULL: nothing printed)

  Notes:
  With f1, f2, f3 a cell's values in ref, medium and coarse, d = f1 - f2 and s = (f2 - f3) / d: where s > 1 the values
  converge monotonically at the observed order q = log2(s), and f1 + d / (2^q - 1) is the estimate of the limit; an
  order below 1 is taken as 1 (the correction is then d, the last change itself), so that a cell whose differences are
  at the solvers' tolerance cannot move far. Where s <= 1 (oscillating, or not converging) the cell keeps f1. This is
  the local Richardson extrapolation of Celik et al. (J. Fluids Eng. 130, 078001, 2008). It pays where the
  solution converges slower than the scheme's order, e.g. in cells at a singularity (the lid corners of the cavity:
  docs/solvers.md); the two coarser solves add 1/4 + 1/16 of the finest one's cells in 2-D (the cavity job: 74 s
  against 62 s). The relative L2 distance of f1 from the extrapolation, printed per field, estimates the finest
  solve's own error on level 0.

.seealso: KDReferenceSetGridDivisor(), KDReferenceGetExtrapolated(), KDReferenceBuildHierarchy()
@*/
PetscErrorCode KDReferenceExtrapolate(KDReference ref, KDReference medium, KDReference coarse, PetscViewer viewer)
{
  KDReference other[2] = {medium, coarse};
  PetscReal *sums;

  PetscFunctionBegin;
  PetscCheck(ref->nfields > 0 && ref->nlevels >= 1 && !ref->extrapolated, ref->comm, PETSC_ERR_ORDER,
             "extrapolate a reference once, after its hierarchy is built");
  for (PetscInt k = 0; k < 2; k++) {
    const KDReference o = other[k];
    PetscCheck(o->dim == ref->dim && o->nlevels == ref->nlevels && o->nfields == ref->nfields, ref->comm,
               PETSC_ERR_ARG_INCOMP, "the %s solve has other levels or fields than the finest",
               k ? "coarse" : "medium");
    for (PetscInt d = 0; d < ref->dim; d++)
      PetscCheck(o->level[0].n[d] == ref->level[0].n[d] && o->level[0].lo[d] == ref->level[0].lo[d] &&
                     o->level[0].hi[d] == ref->level[0].hi[d],
                 ref->comm, PETSC_ERR_ARG_INCOMP, "the %s solve's level 0 is another grid than the finest's",
                 k ? "coarse" : "medium");
    for (PetscInt f = 0; f < ref->nfields; f++)
      PetscCheck(!strcmp(o->fieldname[f], ref->fieldname[f]), ref->comm, PETSC_ERR_ARG_INCOMP,
                 "the %s solve's field %" PetscInt_FMT " is %s, the finest's %s", k ? "coarse" : "medium", f,
                 o->fieldname[f], ref->fieldname[f]);
  }
  /* per field: squared change, squared extrapolation, cells at order < 1, cells not converging (kept), cells */
  PetscCall(PetscCalloc1(5 * ref->nfields, &sums));
  for (PetscInt f = 0; f < ref->nfields; f++) {
    const PetscScalar *b, *c;
    PetscScalar *a;
    PetscInt n;

    PetscCall(VecGetLocalSize(ref->level[0].field[f], &n));
    PetscCall(VecGetArray(ref->level[0].field[f], &a));
    PetscCall(VecGetArrayRead(medium->level[0].field[f], &b));
    PetscCall(VecGetArrayRead(coarse->level[0].field[f], &c));
    for (PetscInt i = 0; i < n; i++) {
      const PetscReal d = a[i] - b[i], s = d != 0 ? (b[i] - c[i]) / d : 0;
      PetscReal x = a[i];

      if (s > 1 && PetscIsNormalReal(s)) {
        x = a[i] + d / (PetscMax(s, 2.0) - 1);
        if (s < 2) sums[5 * f + 2] += 1;
      } else if (d != 0)
        sums[5 * f + 3] += 1;
      sums[5 * f + 0] += (x - a[i]) * (x - a[i]);
      sums[5 * f + 1] += x * x;
      a[i] = x;
    }
    sums[5 * f + 4] = n;
    PetscCall(VecRestoreArrayRead(coarse->level[0].field[f], &c));
    PetscCall(VecRestoreArrayRead(medium->level[0].field[f], &b));
    PetscCall(VecRestoreArray(ref->level[0].field[f], &a));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, (PetscMPIInt) (5 * ref->nfields), MPIU_REAL, MPIU_SUM, ref->comm));
  for (PetscInt f = 0; viewer && f < ref->nfields; f++) {
    const PetscReal *q = sums + 5 * f;
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "  %s: the finest solve is %.3e from the extrapolation (relative L2 on level 0); "
                                     "%.2f%% of the cells at order < 1 (taken as 1), %.2f%% not converging (kept)\n",
                                     ref->fieldname[f], (double) (q[1] > 0 ? PetscSqrtReal(q[0] / q[1]) : 0),
                                     (double) (100 * q[2] / q[4]), (double) (100 * q[3] / q[4])));
  }
  PetscCall(PetscFree(sums));
  PetscCall(PetscLogEventBegin(KD_Restrict, 0, 0, 0, 0));
  for (PetscInt l = 1; l < ref->nlevels; l++) {
    for (PetscInt f = 0; f < ref->nfields; f++) PetscCall(VecDestroy(&ref->level[l].field[f]));
    PetscCall(KDReferenceRestrict(ref, l));
  }
  PetscCall(PetscLogEventEnd(KD_Restrict, 0, 0, 0, 0));
  ref->extrapolated = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetNumLevels - Number of levels (1 before the hierarchy is built).

  Not collective
@*/
PetscErrorCode KDReferenceGetNumLevels(KDReference ref, PetscInt *L)
{
  PetscFunctionBegin;
  *L = ref->nlevels;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetLevelGrid - The grid of a level: dimension, cells per axis, interval per axis (any output may be NULL).

  Not collective
@*/
PetscErrorCode KDReferenceGetLevelGrid(KDReference ref, PetscInt l, PetscInt *dim, PetscInt n[], PetscReal lo[],
                                       PetscReal hi[])
{
  PetscFunctionBegin;
  PetscCheck(l >= 0 && l < ref->nlevels, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", l, ref->nlevels);
  if (dim) *dim = ref->dim;
  for (PetscInt d = 0; d < ref->dim; d++) {
    if (n) n[d] = ref->level[l].n[d];
    if (lo) lo[d] = ref->level[l].lo[d];
    if (hi) hi[d] = ref->level[l].hi[d];
  }
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetAxes - The comma-separated axis names, slowest first (e.g. "t,x").

  Not collective
@*/
PetscErrorCode KDReferenceGetAxes(KDReference ref, const char **axes)
{
  PetscFunctionBegin;
  *axes = ref->axes;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetNumFields - Number of fields per level.

  Not collective
@*/
PetscErrorCode KDReferenceGetNumFields(KDReference ref, PetscInt *nfields)
{
  PetscFunctionBegin;
  *nfields = ref->nfields;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetFieldName - The name of field f.

  Not collective
@*/
PetscErrorCode KDReferenceGetFieldName(KDReference ref, PetscInt f, const char **name)
{
  PetscFunctionBegin;
  PetscCheck(f >= 0 && f < ref->nfields, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "field %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", f, ref->nfields);
  *name = ref->fieldname[f];
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetField - A field of a level, borrowed (do not destroy): natural order, blocks of rows of axis 0.

  Not collective
@*/
PetscErrorCode KDReferenceGetField(KDReference ref, PetscInt l, const char name[], Vec *v)
{
  PetscFunctionBegin;
  PetscCheck(l >= 0 && l < ref->nlevels, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", l, ref->nlevels);
  *v = NULL;
  for (PetscInt f = 0; f < ref->nfields; f++) {
    PetscBool same;
    PetscCall(PetscStrcmp(ref->fieldname[f], name, &same));
    if (same) *v = ref->level[l].field[f];
  }
  PetscCheck(*v, ref->comm, PETSC_ERR_ARG_WRONG, "the reference has no field '%s'", name);
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetCoordinates - The cell-centre coordinates of one axis of a level; free with PetscFree().

  Not collective
@*/
PetscErrorCode KDReferenceGetCoordinates(KDReference ref, PetscInt l, PetscInt d, PetscReal **x)
{
  const KDLevel *lev = &ref->level[l];

  PetscFunctionBegin;
  PetscCheck(l >= 0 && l < ref->nlevels, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", l, ref->nlevels);
  PetscCheck(d >= 0 && d < ref->dim, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "axis %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", d, ref->dim);
  PetscCall(PetscMalloc1(lev->n[d], x));
  for (PetscInt i = 0; i < lev->n[d]; i++)
    (*x)[i] = lev->lo[d] + ((PetscReal) i + 0.5) * (lev->hi[d] - lev->lo[d]) / (PetscReal) lev->n[d];
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetNumParameters - The number of named scalar parameters the reference carries (a PDE's parameters and
  whatever else its solver recorded), in the order KDReferenceGetParameterName() enumerates them: the order of the
  file's attributes by name for a loaded reference, of KDReferenceSetParameter() otherwise.

  Not collective
@*/
PetscErrorCode KDReferenceGetNumParameters(KDReference ref, PetscInt *n)
{
  PetscFunctionBegin;
  *n = ref->nparams;
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetParameterName - The name and value of parameter i.

  Not collective
@*/
PetscErrorCode KDReferenceGetParameterName(KDReference ref, PetscInt i, const char **name, PetscReal *value)
{
  PetscFunctionBegin;
  PetscCheck(i >= 0 && i < ref->nparams, ref->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "parameter %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", i, ref->nparams);
  if (name) *name = ref->paramname[i];
  if (value) *value = ref->paramvalue[i];
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetAxisMap - For each name of a comma-separated list of inputs (a network's, e.g. "t,x,y"), the axis of
  the reference with that name: axes "t,y,x" and inputs "t,x,y" give map = {0, 2, 1}. The names must be the axes, in
  any order.

  Collective (an error is raised on the reference's communicator)
@*/
PetscErrorCode KDReferenceGetAxisMap(KDReference ref, const char inputs[], PetscInt map[])
{
  char **anames, **inames;
  int na, ni;

  PetscFunctionBegin;
  PetscCall(PetscStrToArray(ref->axes, ',', &na, &anames));
  PetscCall(PetscStrToArray(inputs, ',', &ni, &inames));
  PetscCheck(ni <= KD_MAX_DIM, ref->comm, PETSC_ERR_ARG_SIZ, "too many inputs '%s'", inputs);
  for (int i = 0; i < ni; i++) {
    map[i] = -1;
    for (int a = 0; a < na; a++) {
      PetscBool match;
      PetscCall(PetscStrcmp(inames[i], anames[a], &match));
      if (match) map[i] = a;
    }
    PetscCheck(map[i] >= 0, ref->comm, PETSC_ERR_FILE_UNEXPECTED, "reference axes '%s' lack the input '%s' (inputs %s)",
               ref->axes, inames[i], inputs);
  }
  PetscCheck(na == ni, ref->comm, PETSC_ERR_FILE_UNEXPECTED, "reference axes '%s' do not match the inputs '%s'",
             ref->axes, inputs);
  PetscCall(PetscStrToArrayDestroy(na, anames));
  PetscCall(PetscStrToArrayDestroy(ni, inames));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceGetCellCentres - The centres of cells of a level, in a network's input order: cell c (natural, row-major
  index) has axis-d index i_d and centre lo_d + (i_d + 1/2) (hi_d - lo_d) / n_d, the one formula of kdreference.h
  that every stage uses for cell centres; with offsets, lo_d + (i_d + 1/2 + off_d) (hi_d - lo_d) / n_d (quadrature
  nodes inside the cell).

  Not collective

  Input Parameters:
+ ref   - the reference
. level - the level
. nin   - number of inputs
. map   - map[i]: the axis of input i (KDReferenceGetAxisMap())
. off   - NULL, or an offset per axis in cell widths
. n     - number of cells
- cells - their natural indices

  Output Parameter:
. x - x[p * nin + i]
@*/
PetscErrorCode KDReferenceGetCellCentres(KDReference ref, PetscInt level, PetscInt nin, const PetscInt map[],
                                         const PetscReal off[], PetscInt n, const PetscInt64 cells[], PetscReal x[])
{
  const KDLevel *lev;

  PetscFunctionBegin;
  PetscCheck(level >= 0 && level < ref->nlevels, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", level, ref->nlevels);
  PetscCheck(nin == ref->dim, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "%" PetscInt_FMT " inputs for %" PetscInt_FMT " axes",
             nin, ref->dim);
  lev = &ref->level[level];
  for (PetscInt p = 0; p < n; p++) {
    PetscInt64 rem = cells[p];
    PetscReal ax[KD_MAX_DIM];
    for (PetscInt d = ref->dim - 1; d >= 0; d--) {
      const PetscInt64 idx = rem % lev->n[d];
      rem /= lev->n[d];
      ax[d] = lev->lo[d] +
              ((PetscReal) idx + 0.5 + (off ? off[d] : 0.0)) * (lev->hi[d] - lev->lo[d]) / (PetscReal) lev->n[d];
    }
    for (PetscInt i = 0; i < nin; i++) x[p * nin + i] = ax[map[i]];
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDReferenceWriteFile(KDReference ref, hid_t file)
{
  PetscMPIInt rank;
  char fields[KD_MAX_FIELDS * KD_NAME_LEN] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(ref->comm, &rank));
  PetscCall(KDH5WriteCommonAttributes(file, "reference", ref->pde));
  for (PetscInt i = 0; i < ref->nparams; i++)
    PetscCall(KDH5WriteAttrReals(file, ref->paramname[i], 1, &ref->paramvalue[i]));
  for (PetscInt i = 0; i < ref->nstrings; i++)
    PetscCall(KDH5WriteAttrString(file, ref->stringname[i], ref->stringvalue[i]));
  for (PetscInt i = 0; i < ref->narrays; i++)
    PetscCall(KDH5WriteAttrReals(file, ref->arrayname[i], ref->arraylen[i], ref->arrayvalue[i]));
  for (PetscInt f = 0; f < ref->nfields; f++) {
    if (f) PetscCall(PetscStrlcat(fields, ",", sizeof(fields)));
    PetscCall(PetscStrlcat(fields, ref->fieldname[f], sizeof(fields)));
  }
  PetscCall(KDH5WriteAttrString(file, "axes", ref->axes));
  PetscCall(KDH5WriteAttrString(file, "fields", fields));
  PetscCall(KDH5WriteAttrString(file, "centering", "cell"));
  PetscCall(KDH5WriteAttrInts(file, "levels", 1, &ref->nlevels));
  PetscCall(KDH5WriteAttrInts(file, "coarsened", 1, &ref->coarsen));
  {
    const PetscInt flag = ref->extrapolated ? 1 : 0;
    PetscCall(KDH5WriteAttrInts(file, "extrapolated", 1, &flag));
  }
  for (PetscInt l = 0; l < ref->nlevels; l++) {
    const KDLevel *lev = &ref->level[l];
    char gname[32], axes[KD_NAME_LEN], *axis, *save = NULL;
    PetscReal spacing[KD_MAX_DIM];
    PetscInt rstart, nrows;
    hid_t group;

    PetscCall(PetscSNPrintf(gname, sizeof(gname), "level_%" PetscInt_FMT, l));
    PetscCall(KDH5CreateGroup(file, gname, &group));
    for (PetscInt d = 0; d < ref->dim; d++) spacing[d] = (lev->hi[d] - lev->lo[d]) / (PetscReal) lev->n[d];
    PetscCall(KDH5WriteAttrInts(group, "level", 1, &l));
    PetscCall(KDH5WriteAttrInts(group, "shape", ref->dim, lev->n));
    PetscCall(KDH5WriteAttrReals(group, "spacing", ref->dim, spacing));
    PetscCall(KDH5WriteAttrReals(group, "lo", ref->dim, lev->lo));
    PetscCall(KDH5WriteAttrReals(group, "hi", ref->dim, lev->hi));
    PetscCall(KDH5WriteAttrString(group, "axes", ref->axes));
    PetscCall(PetscStrncpy(axes, ref->axes, sizeof(axes)));
    axis = strtok_r(axes, ",", &save);
    for (PetscInt d = 0; d < ref->dim && axis; d++, axis = strtok_r(NULL, ",", &save)) {
      PetscReal *x;
      PetscCall(KDReferenceGetCoordinates(ref, l, d, &x));
      PetscCall(KDH5WriteRows(group, axis, 1, &lev->n[d], 0, rank ? 0 : lev->n[d], x));
      PetscCall(PetscFree(x));
    }
    PetscCall(KDLevelGetRows(ref, l, &rstart, &nrows));
    for (PetscInt f = 0; f < ref->nfields; f++) {
      const PetscScalar *a;
      PetscCall(VecGetArrayRead(lev->field[f], &a));
      PetscCall(KDH5WriteRows(group, ref->fieldname[f], ref->dim, lev->n, rstart, nrows, a));
      PetscCall(VecRestoreArrayRead(lev->field[f], &a));
    }
    PetscCallH5(H5Gclose(group));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceWrite - Writes reference.h5 (layout in docs/reference-format.md), atomically: to a temporary name,
  renamed when complete, so a failed write never leaves a partial file under the final name.

  Collective
@*/
PetscErrorCode KDReferenceWrite(KDReference ref, const char path[])
{
  char tmp[PETSC_MAX_PATH_LEN];
  hid_t file = -1;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCheck(ref->nfields > 0, ref->comm, PETSC_ERR_ORDER, "the reference has no fields to write");
  PetscCall(KDFileTemporaryName(path, tmp, sizeof(tmp)));
  PetscCall(PetscLogEventBegin(KD_ReferenceIO, 0, 0, 0, 0));
  PetscCall(KDH5Create(ref->comm, tmp, &file));
  ierr = KDReferenceWriteFile(ref, file);
  if (!ierr) ierr = KDH5Close(&file);
  if (ierr) {
    PetscCall(KDH5Abandon(&file));
    PetscCall(ierr);
  }
  PetscCall(KDFileCommit(ref->comm, tmp, path));
  PetscCall(PetscLogEventEnd(KD_ReferenceIO, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceWriteXDMF - Writes one XDMF sidecar per level, <dir>/reference_L<l>.xmf, pointing into the HDF5 file
  <dir>/<h5name>, so each level opens in ParaView (values are shown at the cell centres, as points).

  Collective
@*/
PetscErrorCode KDReferenceWriteXDMF(KDReference ref, const char dir[], const char h5name[])
{
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(ref->comm, &rank));
  for (PetscInt l = 0; l < ref->nlevels; l++) {
    const KDLevel *lev = &ref->level[l];
    char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], name[64], dims[64] = "", origin[128] = "",
                                                                      spacing[128] = "";
    PetscInt dim3 = ref->dim == 1 ? 2 : ref->dim; /* XDMF has no 1-D CoRectMesh: a 1-D level is shown as 1 x n */
    int err       = 0;

    PetscCall(PetscSNPrintf(name, sizeof(name), "reference_L%" PetscInt_FMT ".xmf", l));
    PetscCall(KDOutputPath(dir, name, path, sizeof(path)));
    PetscCall(KDFileTemporaryName(path, tmp, sizeof(tmp)));
    if (ref->dim == 1) {
      PetscCall(PetscSNPrintf(dims, sizeof(dims), "1 %" PetscInt_FMT, lev->n[0]));
      PetscCall(PetscSNPrintf(origin, sizeof(origin), "0 %.17g",
                              (double) (lev->lo[0] + 0.5 * (lev->hi[0] - lev->lo[0]) / lev->n[0])));
      PetscCall(PetscSNPrintf(spacing, sizeof(spacing), "1 %.17g", (double) ((lev->hi[0] - lev->lo[0]) / lev->n[0])));
    } else {
      for (PetscInt d = 0; d < ref->dim; d++) {
        char buf[64];
        PetscReal h = (lev->hi[d] - lev->lo[d]) / (PetscReal) lev->n[d];
        PetscCall(PetscSNPrintf(buf, sizeof(buf), "%s%" PetscInt_FMT, d ? " " : "", lev->n[d]));
        PetscCall(PetscStrlcat(dims, buf, sizeof(dims)));
        PetscCall(PetscSNPrintf(buf, sizeof(buf), "%s%.17g", d ? " " : "", (double) (lev->lo[d] + 0.5 * h)));
        PetscCall(PetscStrlcat(origin, buf, sizeof(origin)));
        PetscCall(PetscSNPrintf(buf, sizeof(buf), "%s%.17g", d ? " " : "", (double) h));
        PetscCall(PetscStrlcat(spacing, buf, sizeof(spacing)));
      }
    }
    if (!rank) {
      FILE *fp = fopen(tmp, "w");
      if (!fp)
        err = 1;
      else {
        fprintf(
            fp,
            "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n<Xdmf Version=\"2.0\">\n <Domain>\n");
        fprintf(fp, "  <Grid Name=\"%s level %" PetscInt_FMT " (%s)\" GridType=\"Uniform\">\n", ref->pde, l, ref->axes);
        fprintf(fp, "   <Topology TopologyType=\"%" PetscInt_FMT "DCoRectMesh\" Dimensions=\"%s\"/>\n", dim3, dims);
        fprintf(fp, "   <Geometry GeometryType=\"%s\">\n", dim3 == 3 ? "ORIGIN_DXDYDZ" : "ORIGIN_DXDY");
        fprintf(fp,
                "    <DataItem Dimensions=\"%" PetscInt_FMT
                "\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">%s</DataItem>\n",
                dim3, origin);
        fprintf(fp,
                "    <DataItem Dimensions=\"%" PetscInt_FMT
                "\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">%s</DataItem>\n",
                dim3, spacing);
        fprintf(fp, "   </Geometry>\n");
        for (PetscInt f = 0; f < ref->nfields; f++) {
          fprintf(fp, "   <Attribute Name=\"%s\" AttributeType=\"Scalar\" Center=\"Node\">\n", ref->fieldname[f]);
          fprintf(fp,
                  "    <DataItem Dimensions=\"%s\" NumberType=\"Float\" Precision=\"8\" "
                  "Format=\"HDF\">%s:/level_%" PetscInt_FMT "/%s</DataItem>\n",
                  dims, h5name, l, ref->fieldname[f]);
          fprintf(fp, "   </Attribute>\n");
        }
        fprintf(fp, "  </Grid>\n </Domain>\n</Xdmf>\n");
        if (fclose(fp)) err = 1;
      }
    }
    PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, ref->comm));
    PetscCheck(!err, ref->comm, PETSC_ERR_FILE_WRITE, "cannot write %s", path);
    PetscCall(KDFileCommit(ref->comm, tmp, path));
  }
  PetscFunctionReturn(0);
}

typedef struct {
  KDReference ref;
  hid_t file;
  int err;
} KDAttrIterContext;

static herr_t KDReferenceAttrIterate(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
  KDAttrIterContext *ctx = (KDAttrIterContext *) data;
  hid_t attr, type;
  H5T_class_t cls;

  (void) info;
  if (KDH5IsReservedAttribute(name)) return 0;
  attr = H5Aopen(loc, name, H5P_DEFAULT);
  if (attr < 0) return -1;
  type = H5Aget_type(attr);
  cls  = H5Tget_class(type);
  H5Tclose(type);
  H5Aclose(attr);
  if (cls == H5T_FLOAT) { /* one value: a parameter; more: an array (KDReferenceSetArray()) */
    PetscReal v, *a = NULL;
    PetscInt n  = 0;
    hssize_t np = -1;
    if ((attr = H5Aopen(loc, name, H5P_DEFAULT)) >= 0) {
      hid_t space = H5Aget_space(attr);
      if (space >= 0) {
        np = H5Sget_simple_extent_npoints(space);
        H5Sclose(space);
      }
      H5Aclose(attr);
    }
    if (np < 1 || np > KD_MAX_ARRAY_LEN)
      ctx->err = 1;
    else if (np == 1) {
      if (KDH5ReadAttrReals(loc, name, 1, &v, NULL) || KDReferenceSetParameter(ctx->ref, name, v)) ctx->err = 1;
    } else if (PetscMalloc1(np, &a))
      ctx->err = 1;
    else {
      if (KDH5ReadAttrReals(loc, name, (PetscInt) np, a, &n) || KDReferenceSetArray(ctx->ref, name, n, a)) ctx->err = 1;
      if (PetscFree(a)) ctx->err = 1;
    }
  } else if (cls == H5T_STRING) {
    char *buf;
    if (PetscMalloc1(65536, &buf)) {
      ctx->err = 1;
      return -1;
    }
    if (KDH5ReadAttrString(loc, name, buf, 65536) || KDReferenceSetString(ctx->ref, name, buf)) ctx->err = 1;
    if (PetscFree(buf)) ctx->err = 1;
  }
  return ctx->err ? -1 : 0;
}

static PetscErrorCode KDReferenceReadFile(KDReference ref, const char path[], hid_t file)
{
  char kind[32], fields[KD_MAX_FIELDS * KD_NAME_LEN], *name, *save = NULL;
  PetscInt L, cnt;
  KDAttrIterContext ctx = {ref, -1, 0};

  PetscFunctionBegin;
  PetscCheck(H5Aexists(file, "kind") > 0, ref->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s is not a kdpinn file (no 'kind' attribute)", path);
  PetscCall(KDH5ReadAttrString(file, "kind", kind, sizeof(kind)));
  PetscCheck(!strcmp(kind, "reference"), ref->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s is a kdpinn %s file, not a reference", path, kind);
  PetscCall(KDH5ReadAttrString(file, "pde", ref->pde, sizeof(ref->pde)));
  PetscCall(KDH5ReadAttrString(file, "axes", ref->axes, sizeof(ref->axes)));
  PetscCall(KDH5ReadAttrString(file, "fields", fields, sizeof(fields)));
  PetscCall(KDH5ReadAttrInts(file, "levels", 1, &L, NULL));
  PetscCheck(L >= 1 && L <= KD_MAX_LEVELS, ref->comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: bad number of levels %" PetscInt_FMT, path, L);
  if (H5Aexists(file, "coarsened") > 0) { /* files of earlier versions lack it: level 0 is the solver grid */
    PetscCall(KDH5ReadAttrInts(file, "coarsened", 1, &ref->coarsen, NULL));
    PetscCheck(ref->coarsen >= 0 && ref->coarsen < KD_MAX_LEVELS, ref->comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: bad attribute coarsened %" PetscInt_FMT, path, ref->coarsen);
  }
  if (H5Aexists(file, "extrapolated") > 0) { /* files of earlier versions lack it: not extrapolated */
    PetscInt flag;
    PetscCall(KDH5ReadAttrInts(file, "extrapolated", 1, &flag, NULL));
    PetscCheck(flag == 0 || flag == 1, ref->comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: bad attribute extrapolated %" PetscInt_FMT, path, flag);
    ref->extrapolated = flag ? PETSC_TRUE : PETSC_FALSE;
  }
  ctx.file = file;
  PetscCheck(H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, KDReferenceAttrIterate, &ctx) >= 0 && !ctx.err,
             ref->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: unreadable root attributes", path);
  ref->dim = 1;
  for (const char *c = ref->axes; *c; c++) ref->dim += (*c == ',');
  PetscCheck(ref->dim <= KD_MAX_DIM, ref->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: too many axes '%s'", path, ref->axes);
  for (name = strtok_r(fields, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    PetscCheck(ref->nfields < KD_MAX_FIELDS, ref->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: too many fields", path);
    PetscCall(PetscStrncpy(ref->fieldname[ref->nfields++], name, KD_NAME_LEN));
  }
  ref->gridset = PETSC_TRUE;
  ref->nlevels = L;
  for (PetscInt l = 0; l < L; l++) {
    KDLevel *lev = &ref->level[l];
    char gname[32];
    hid_t group;
    PetscInt rstart, nrows;

    PetscCall(PetscSNPrintf(gname, sizeof(gname), "level_%" PetscInt_FMT, l));
    PetscCheck(H5Lexists(file, gname, H5P_DEFAULT) > 0, ref->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: group /%s missing",
               path, gname);
    group = H5Gopen2(file, gname, H5P_DEFAULT);
    PetscCallH5(group);
    PetscCall(KDH5ReadAttrInts(group, "shape", KD_MAX_DIM, lev->n, &cnt));
    PetscCheck(cnt == ref->dim, ref->comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: /%s has a shape of rank %" PetscInt_FMT ", axes '%s'", path, gname, cnt, ref->axes);
    PetscCall(KDH5ReadAttrReals(group, "lo", KD_MAX_DIM, lev->lo, &cnt));
    PetscCheck(cnt == ref->dim, ref->comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: /%s/lo has %" PetscInt_FMT " values, expected %" PetscInt_FMT, path, gname, cnt, ref->dim);
    PetscCall(KDH5ReadAttrReals(group, "hi", KD_MAX_DIM, lev->hi, &cnt));
    PetscCheck(cnt == ref->dim, ref->comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: /%s/hi has %" PetscInt_FMT " values, expected %" PetscInt_FMT, path, gname, cnt, ref->dim);
    for (PetscInt d = 0; d < ref->dim; d++) {
      PetscCheck(lev->n[d] >= 1 && PetscIsNormalReal(lev->hi[d] - lev->lo[d]) && lev->hi[d] > lev->lo[d], ref->comm,
                 PETSC_ERR_FILE_UNEXPECTED, "%s: /%s: axis %" PetscInt_FMT " has %" PetscInt_FMT " cells on [%g, %g]",
                 path, gname, d, lev->n[d], (double) lev->lo[d], (double) lev->hi[d]);
    }
    /* every field's dataset has the level's shape before anything of that size is allocated */
    for (PetscInt f = 0; f < ref->nfields; f++) {
      PetscInt fdim, fdims[KD_H5_MAX_DIM];
      PetscCall(KDH5GetDims(group, ref->fieldname[f], KD_H5_MAX_DIM, &fdim, fdims));
      PetscCheck(fdim == ref->dim, ref->comm, PETSC_ERR_FILE_UNEXPECTED,
                 "%s: /%s/%s has rank %" PetscInt_FMT ", expected %" PetscInt_FMT, path, gname, ref->fieldname[f], fdim,
                 ref->dim);
      for (PetscInt d = 0; d < ref->dim; d++)
        PetscCheck(fdims[d] == lev->n[d], ref->comm, PETSC_ERR_FILE_UNEXPECTED,
                   "%s: /%s/%s has %" PetscInt_FMT " entries on axis %" PetscInt_FMT ", the shape says %" PetscInt_FMT,
                   path, gname, ref->fieldname[f], fdims[d], d, lev->n[d]);
    }
    PetscCall(KDLevelGetRows(ref, l, &rstart, &nrows));
    for (PetscInt f = 0; f < ref->nfields; f++) {
      PetscScalar *a;
      PetscCall(KDReferenceCreateLevelVec(ref, l, &lev->field[f]));
      PetscCall(VecGetArray(lev->field[f], &a));
      PetscCall(KDH5ReadRows(group, ref->fieldname[f], ref->dim, lev->n, rstart, nrows, a));
      PetscCall(VecRestoreArray(lev->field[f], &a));
    }
    PetscCallH5(H5Gclose(group));
  }
  for (PetscInt l = 0; l < L; l++)
    for (PetscInt f = 0; f < ref->nfields; f++) {
      PetscInt bad, first;
      PetscCall(KDVecCountNonFinite(ref->level[l].field[f], &bad, &first));
      PetscCheck(!bad, ref->comm, PETSC_ERR_FILE_UNEXPECTED,
                 "%s: /level_%" PetscInt_FMT "/%s holds %" PetscInt_FMT " NaN or infinite values (the first at cell "
                 "%" PetscInt_FMT ")",
                 path, l, ref->fieldname[f], bad, first);
    }
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceReadSource - The root attribute source of a reference file ("import FILE:/group" for an imported one;
  empty if there is none) without loading the file.

  Collective
@*/
PetscErrorCode KDReferenceReadSource(MPI_Comm comm, const char path[], char source[], size_t len)
{
  hid_t file = -1;
  PetscBool has;

  PetscFunctionBegin;
  source[0] = 0;
  PetscCall(KDH5Open(comm, path, &file));
  PetscCall(KDH5HasAttr(file, "source", &has));
  if (has) PetscCall(KDH5ReadAttrString(file, "source", source, len));
  PetscCall(KDH5Close(&file));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceLoad - Reads reference.h5 with all its levels; every dataset and attribute is checked, and a file that
  is not a kdpinn reference, or a damaged one, is refused with an error naming the file.

  Collective
@*/
PetscErrorCode KDReferenceLoad(MPI_Comm comm, const char path[], KDReference *ref)
{
  hid_t file = -1;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(KDReferenceCreate(comm, ref));
  PetscCall(PetscLogEventBegin(KD_ReferenceIO, 0, 0, 0, 0));
  ierr = KDH5Open(comm, path, &file);
  if (!ierr) ierr = KDReferenceReadFile(*ref, path, file);
  if (!ierr) ierr = KDH5Close(&file);
  if (ierr) { /* nothing left open or allocated */
    PetscCall(KDH5CloseAll(&file));
    PetscCall(KDReferenceDestroy(ref));
    PetscCall(ierr);
  }
  PetscCall(PetscLogEventEnd(KD_ReferenceIO, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceView - Prints the PDE, its parameters and the grid of every level.

  Collective
@*/
PetscErrorCode KDReferenceView(KDReference ref, PetscViewer viewer)
{
  PetscFunctionBegin;
  if (!viewer) viewer = PETSC_VIEWER_STDOUT_(ref->comm);
  PetscCall(PetscViewerASCIIPrintf(viewer, "KDReference: pde %s, axes %s, %" PetscInt_FMT " level(s), fields", ref->pde,
                                   ref->axes, ref->nlevels));
  for (PetscInt f = 0; f < ref->nfields; f++) PetscCall(PetscViewerASCIIPrintf(viewer, " %s", ref->fieldname[f]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  if (ref->coarsen)
    PetscCall(PetscViewerASCIIPrintf(viewer, "level 0 = the solver grid coarsened %" PetscInt_FMT " time(s)\n",
                                     ref->coarsen));
  if (ref->extrapolated)
    PetscCall(PetscViewerASCIIPrintf(viewer, "level 0 = the Richardson extrapolation of solves on this solver grid and "
                                             "grids 2 and 4 times coarser\n"));
  for (PetscInt i = 0; i < ref->nparams; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s = %g\n", ref->paramname[i], (double) ref->paramvalue[i]));
  for (PetscInt i = 0; i < ref->narrays; i++) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s = [", ref->arrayname[i]));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    for (PetscInt k = 0; k < ref->arraylen[i] && k < 8; k++)
      PetscCall(PetscViewerASCIIPrintf(viewer, "%s%g", k ? ", " : "", (double) ref->arrayvalue[i][k]));
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s]\n", ref->arraylen[i] > 8 ? ", ..." : ""));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  for (PetscInt l = 0; l < ref->nlevels; l++) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "level %" PetscInt_FMT ":", l));
    for (PetscInt d = 0; d < ref->dim; d++)
      PetscCall(PetscViewerASCIIPrintf(viewer, "%s %" PetscInt_FMT " cells on [%g, %g]", d ? "," : "",
                                       ref->level[l].n[d], (double) ref->level[l].lo[d], (double) ref->level[l].hi[d]));
    PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}
