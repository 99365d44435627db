/*
  KDLoss: the PINN loss of a network on its PDE, evaluated on this rank's share of global point sets.

      L = w_pde   / N_col   sum_{interior}  sum_r N_r[u](x)^2
        + sum over the PDE's conditions (KDPDEAddCondition(): dirichlet, neumann, periodic, initial)
              w_c / N_c sum_{its points} |misfit|^2                 (src/loss/terms.c)
        + w_gauge             |p(x_g)|^2                           (a gauge-pinned output, e.g. the cavity pressure)
        + w_data  / N_data  sum_{data}      |u - u_ref|^2          (reference values at level cells)
        + w_obs   / N_obs   sum_{obs}       |u - y|^2 / sigma^2    (observations, -<prefix>observations FILE)

  PDE parameters named by -<prefix>infer are trained with the network: they follow its parameters in the gradient
  and in the Jacobian rows (KDLossGetNumParameters()), as theta = log(value) for a positive parameter.

  Every point set has a global size N and global indices 0..N-1; point j is a pure function of (seed, stream, j)
  (KDRandomUniform), and each rank holds the contiguous index range KDSplitOwnership() gives it. The terms are
  normalized by the global N, so the global loss is the plain sum over ranks of the local terms, for any rank count.
*/
#include "loss/lossimpl.h"
#include <unistd.h>
#include <string.h>

static PetscLogEvent KD_LossSetUp, KD_LossEvaluate;

/* How the loss draws and evaluates each type of condition: the term type, where its points lie, its stream, and
   whether a point has an image on the opposite face (periodic). */
static const struct {
  const KDTermOps *ops;
  KDPDEPointKind kind;
  PetscInt64 stream;
  PetscBool paired;
} KDConditionTerms[] = {
    [KD_CONDITION_DIRICHLET] = {&KDTermValue, KD_PDE_POINTS_BOUNDARY, KD_STREAM_BOUNDARY, PETSC_FALSE},
    [KD_CONDITION_NEUMANN]   = {&KDTermNeumann, KD_PDE_POINTS_BOUNDARY, KD_STREAM_BOUNDARY, PETSC_FALSE},
    [KD_CONDITION_PERIODIC]  = {&KDTermPeriodic, KD_PDE_POINTS_BOUNDARY, KD_STREAM_BOUNDARY, PETSC_TRUE},
    [KD_CONDITION_INITIAL]   = {&KDTermValue, KD_PDE_POINTS_INITIAL, KD_STREAM_INITIAL, PETSC_FALSE},
};
_Static_assert(sizeof(KDConditionTerms) / sizeof(KDConditionTerms[0]) == KD_CONDITION_NTYPES,
               "one row of KDConditionTerms per KDConditionType");

static PetscErrorCode KDLossRegisterEvents(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDLossSetUp", KD_CLASSID, &KD_LossSetUp));
  PetscCall(PetscLogEventRegister("KDLossEvaluate", KD_CLASSID, &KD_LossEvaluate));
  PetscFunctionReturn(0);
}

/*@C
  KDLossCreate - Creates a PINN loss. Give it a reference (KDLossSetReference()), a network (KDLossSetNet()) and a
  seed, then KDLossSetFromOptions() and KDLossSetUp().

  Collective

.seealso: KDLossEvaluateLocal(), KDLossDestroy()
@*/
PetscErrorCode KDLossCreate(MPI_Comm comm, KDLoss *loss)
{
  KDLoss l;

  PetscFunctionBegin;
  PetscCall(KDLossRegisterEvents());
  PetscCall(PetscNew(&l));
  l->comm       = comm;
  l->ncol       = 10000;
  l->ndata      = 0;
  l->data_level = -1;
  l->w_pde      = 1.0;
  l->w_gauge    = 1.0;
  l->w_data     = 1.0;
  l->w_obs      = 1.0;
  *loss         = l;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDLossReset(KDLoss loss)
{
  PetscFunctionBegin;
  for (PetscInt s = 0; s < loss->nsets; s++) {
    KDPointSet *set = &loss->set[s];
    PetscCall(PetscFree3(set->x, set->target, set->coef));
    PetscCall(PetscFree3(set->x2, set->face, set->flux));
    PetscCall(PetscFree(set->wt));
  }
  loss->nsets = 0;
  PetscCall(PetscFree(loss->work));
  loss->nwork       = 0;
  loss->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDLossDestroy - Destroys a loss and clears the handle; safe on NULL. The network and reference are not destroyed.

  Collective
@*/
PetscErrorCode KDLossDestroy(KDLoss *loss)
{
  PetscFunctionBegin;
  if (!loss || !*loss) PetscFunctionReturn(0);
  PetscCall(KDLossReset(*loss));
  PetscCall(KDNetDestroy(&(*loss)->field));
  PetscCall(PetscFree((*loss)->gfield));
  PetscCall(PetscFree((*loss)->fwork));
  PetscCall(KDPDEDestroy(&(*loss)->pde));
  PetscCall(PetscFree((*loss)->prefix));
  PetscCall(PetscFree(*loss));
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetOptionsPrefix - Sets the prefix of the loss's options (teacher_, student_).

  Logically collective
@*/
PetscErrorCode KDLossSetOptionsPrefix(KDLoss loss, const char prefix[])
{
  PetscFunctionBegin;
  PetscCall(PetscFree(loss->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &loss->prefix));
  if (loss->pde) PetscCall(KDPDESetOptionsPrefix(loss->pde, loss->prefix));
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetNet - The network whose loss is evaluated (borrowed: the caller keeps and destroys it).

  Logically collective
@*/
PetscErrorCode KDLossSetNet(KDLoss loss, KDNet net)
{
  PetscFunctionBegin;
  loss->net = net;
  PetscFunctionReturn(0);
}

/* Point counts and weights of the conditions: the PDE's defaults, then (once options are read) the options
   -<prefix>n<name> and -<prefix>w_<name> of each. */
static PetscErrorCode KDLossConditionsSetFromOptions(KDLoss loss, PetscBool read)
{
  PetscInt ncond;
  const char *p = loss->prefix ? loss->prefix : "";

  PetscFunctionBegin;
  PetscCall(KDPDEGetNumConditions(loss->pde, &ncond));
  PetscCheck(ncond + 3 <= KD_LOSS_MAX_TERMS, loss->comm, PETSC_ERR_ARG_SIZ, "too many conditions (%" PetscInt_FMT ")",
             ncond);
  for (PetscInt k = 0; k < ncond; k++) {
    const KDCondition *c;
    PetscCall(KDPDEGetCondition(loss->pde, k, &c));
    loss->ncond[k] = c->npoints;
    loss->wcond[k] = c->weight;
  }
  if (!read || !ncond) PetscFunctionReturn(0);
  PetscOptionsBegin(loss->comm, loss->prefix, "KDLoss: initial and boundary conditions of the PDE", "KDLoss");
  for (PetscInt k = 0; k < ncond; k++) {
    const KDCondition *c;
    char opt[32], help[128];
    PetscCall(KDPDEGetCondition(loss->pde, k, &c));
    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-n%s", c->name));
    PetscCall(
        PetscSNPrintf(help, sizeof(help), "Global points of the %s condition %s", KDConditionTypes[c->type], c->name));
    PetscCall(KDOptionsInt(opt, help, "KDLossSetUp", loss->ncond[k], &loss->ncond[k], NULL));
    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-w_%s", c->name));
    PetscCall(PetscSNPrintf(help, sizeof(help), "Weight of the %s condition %s", KDConditionTypes[c->type], c->name));
    PetscCall(KDOptionsReal(opt, help, "KDLossSetUp", loss->wcond[k], &loss->wcond[k], NULL));
    PetscCheck(loss->ncond[k] >= 0, loss->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sn%s must be non-negative", p, c->name);
    PetscCheck(loss->wcond[k] >= 0, loss->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sw_%s must be non-negative", p, c->name);
  }
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

/* A new PDE for the loss: the prefix, the condition defaults and, if the options were read, its options. */
static PetscErrorCode KDLossAdoptPDE(KDLoss loss)
{
  PetscFunctionBegin;
  PetscCall(KDPDESetOptionsPrefix(loss->pde, loss->prefix));
  PetscCall(KDLossConditionsSetFromOptions(loss, loss->optionsread));
  if (loss->optionsread) PetscCall(KDPDESetFromOptions(loss->pde));
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetReference - The reference that defines the PDE, its parameters and domain (level-0 grid) and, for the data
  term, its fields; level is the model's level, the default data level (-<prefix>data_level). Borrowed.

  Collective
@*/
PetscErrorCode KDLossSetReference(KDLoss loss, KDReference ref, PetscInt level)
{
  PetscInt nlevels;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  PetscCheck(level >= 0 && level < nlevels, loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " not in the reference's [0, %" PetscInt_FMT ")", level, nlevels);
  PetscCall(KDLossReset(loss));
  loss->ref   = ref;
  loss->level = level;
  PetscCall(KDPDEDestroy(&loss->pde));
  PetscCall(KDPDECreate(loss->comm, &loss->pde));
  PetscCall(KDPDESetOptionsPrefix(loss->pde, loss->prefix));
  PetscCall(KDPDESetFromReference(loss->pde, ref));
  PetscCall(KDPDESetLevel(loss->pde, ref, level));
  PetscCall(KDLossAdoptPDE(loss));
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetPDEType - Gives the loss a PDE of a registered type without a reference (its default domain and
  parameters): enough to list the options of its terms (-help) and to evaluate it on drawn points; a data term still
  needs a reference.

  Collective

.seealso: KDLossSetReference(), KDPDESetType()
@*/
PetscErrorCode KDLossSetPDEType(KDLoss loss, const char type[])
{
  PetscFunctionBegin;
  PetscCall(KDLossReset(loss));
  loss->ref = NULL;
  PetscCall(KDPDEDestroy(&loss->pde));
  PetscCall(KDPDECreate(loss->comm, &loss->pde));
  PetscCall(KDPDESetType(loss->pde, type));
  PetscCall(KDLossAdoptPDE(loss));
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetSeed - The seed of every point set (the stage passes -kd_seed).

  Logically collective
@*/
PetscErrorCode KDLossSetSeed(KDLoss loss, PetscInt seed)
{
  PetscFunctionBegin;
  PetscCheck(seed >= 0, loss->comm, PETSC_ERR_ARG_OUTOFRANGE, "seed must be non-negative, got %" PetscInt_FMT, seed);
  loss->seed = seed;
  if (loss->setupcalled) PetscCall(KDLossReset(loss));
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetPDE - The loss's PDE operator (borrowed), available after KDLossSetReference() or KDLossSetPDEType().

  Not collective
@*/
PetscErrorCode KDLossGetPDE(KDLoss loss, KDPDE *pde)
{
  PetscFunctionBegin;
  PetscCheck(loss->pde, loss->comm, PETSC_ERR_ORDER, "call KDLossSetReference() first");
  *pde = loss->pde;
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetPDEWeight - Sets the weight of the PDE residual term (as -<prefix>w_pde), overriding the option.

  Logically collective

  Input Parameters:
+ loss - the loss, after KDLossSetFromOptions() if the option is not to take this weight back
- w    - weight, finite and non-negative; 0 leaves the term out (KDLossGetTerms())

  A distilled student uses it (-student_distill_w_pde): its twin reads -student_w_pde from the same prefix.

.seealso: KDLossGetPDEWeight(), KDLossSetFromOptions(), KDLossGetTerms()
@*/
PetscErrorCode KDLossSetPDEWeight(KDLoss loss, PetscReal w)
{
  PetscFunctionBegin;
  PetscCheck(w >= 0 && !PetscIsInfOrNanReal(w), loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "PDE residual weight %g must be finite and non-negative", (double) w);
  loss->w_pde = w;
  if (loss->setupcalled) PetscCall(KDLossReset(loss));
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetPDEWeight - The weight of the PDE residual term (-<prefix>w_pde, or KDLossSetPDEWeight()).

  Not collective

  Input Parameter:
. loss - the loss

  Output Parameter:
. w - the weight

.seealso: KDLossSetPDEWeight()
@*/
PetscErrorCode KDLossGetPDEWeight(KDLoss loss, PetscReal *w)
{
  PetscFunctionBegin;
  *w = loss->w_pde;
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetFromOptions - Reads the loss's options (and its PDE's).

  Collective

  Options Database Keys (with the loss's prefix, e.g. -teacher_):
+ -ncol <N>            - global interior collocation points (default 10000)
. -n<name> <N>         - global points of the PDE's condition <name>, e.g. -nic, -nbc (default 400)
. -w_<name> <w>        - weight of the condition <name>, e.g. -w_ic, -w_bc (default 1)
. -ndata <N>           - global reference data points (default 0: no data term)
. -data_level <l>      - reference level the data come from (default: the model's level)
. -data_fields <u,v>   - outputs fitted to data (default: every output the reference has, except a gauge-pinned one)
. -w_pde <w>           - weight of the PDE residual term (default 1)
. -w_gauge <w>         - weight of the gauge term of a PDE with a gauge (default 1)
. -w_data <w>          - weight of the data term (default 1)
. -observations <file> - observations to fit (docs/inverse.md): a term obs, weighted by 1/sigma^2 if the file has sigma
. -w_obs <w>           - weight of the observation term (default 1)
. -infer <nu=0.01,...> - PDE parameters trained with the network from these initial values (positive ones through
                         their logarithm)
. -infer_field <k[=1]> - a coefficient field of the PDE learned as a second network of the spatial inputs, from this
                         initial value (its options: -<prefix>field_widths, -<prefix>field_activation, ...)
. -cavity_lid, ...     - the PDE's own options, KDPDESetFromOptions()
- -loss_view           - view the loss after KDLossSetUp()

  A term with zero points or zero weight is left out (KDLossGetTerms()).
@*/
PetscErrorCode KDLossSetFromOptions(KDLoss loss)
{
  PetscInt dl = loss->data_level >= 0 ? loss->data_level : loss->level;
  PetscBool dlset;
  const char *p = loss->prefix ? loss->prefix : "";

  PetscFunctionBegin;
  PetscOptionsBegin(loss->comm, loss->prefix, "KDLoss: PINN loss terms and collocation points", NULL);
  PetscCall(KDOptionsInt("-ncol", "Global interior collocation points", "KDLossSetUp", loss->ncol, &loss->ncol, NULL));
  PetscCall(KDOptionsInt("-ndata", "Global reference data points (0: no data term)", "KDLossSetUp", loss->ndata,
                         &loss->ndata, NULL));
  PetscCall(KDOptionsInt("-data_level", "Reference level of the data points", "KDLossSetUp", dl, &dl, &dlset));
  PetscCall(KDOptionsCheckValue(PetscOptionsObject->comm, PetscOptionsObject->prefix, "-data_fields", PETSC_TRUE));
  PetscCall(PetscOptionsString(
      "-data_fields", "Outputs fitted to data, comma separated (default: all in the reference but a gauge-pinned one)",
      "KDLossSetUp", loss->data_fields, loss->data_fields, sizeof(loss->data_fields), NULL));
  PetscCall(KDOptionsReal("-w_pde", "Weight of the PDE residual term", "KDLossSetUp", loss->w_pde, &loss->w_pde, NULL));
  PetscCall(KDOptionsReal("-w_gauge", "Weight of the gauge term (an output defined up to a constant)", "KDLossSetUp",
                          loss->w_gauge, &loss->w_gauge, NULL));
  PetscCall(
      KDOptionsReal("-w_data", "Weight of the reference data term", "KDLossSetUp", loss->w_data, &loss->w_data, NULL));
  PetscCall(KDOptionsCheckValue(PetscOptionsObject->comm, PetscOptionsObject->prefix, "-observations", PETSC_FALSE));
  PetscCall(PetscOptionsString("-observations", "HDF5 file of observations (points, values, sigma) to fit",
                               "KDLossSetUp", loss->observations, loss->observations, sizeof(loss->observations),
                               NULL));
  PetscCall(KDOptionsReal("-w_obs", "Weight of the observation term", "KDLossSetUp", loss->w_obs, &loss->w_obs, NULL));
  PetscCall(KDOptionsCheckValue(PetscOptionsObject->comm, PetscOptionsObject->prefix, "-infer", PETSC_TRUE));
  PetscCall(PetscOptionsString("-infer",
                               "PDE parameters inferred from data, name=initial,... (positive ones through their log)",
                               "KDLossSetUp", loss->infer, loss->infer, sizeof(loss->infer), NULL));
  PetscCall(KDOptionsCheckValue(PetscOptionsObject->comm, PetscOptionsObject->prefix, "-infer_field", PETSC_FALSE));
  PetscCall(PetscOptionsString("-infer_field",
                               "Coefficient field learned from data as a second network, name[=initial] (e.g. k=1)",
                               "KDLossSetUp", loss->infer_field, loss->infer_field, sizeof(loss->infer_field), NULL));
  PetscCall(PetscOptionsName("-loss_view", "View the loss after setup", "KDLossView", NULL));
  PetscOptionsEnd();
  if (dlset) loss->data_level = dl;
  PetscCheck(loss->ncol >= 0 && loss->ndata >= 0, loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "point counts -%sncol and -%sndata must be non-negative", p, p);
  PetscCheck(loss->w_pde >= 0 && loss->w_gauge >= 0 && loss->w_data >= 0 && loss->w_obs >= 0, loss->comm,
             PETSC_ERR_ARG_OUTOFRANGE, "loss weights -%sw_* must be non-negative", p);
  loss->optionsread = PETSC_TRUE;
  if (loss->pde) {
    PetscCall(KDLossConditionsSetFromOptions(loss, PETSC_TRUE));
    PetscCall(KDPDESetFromOptions(loss->pde));
  }
  if (loss->setupcalled) PetscCall(KDLossReset(loss));
  PetscFunctionReturn(0);
}

/* Before a point set is allocated: its arrays (about `per` reals a point) must fit in 32-bit indices and, summed over
   the ranks of this node, in the node's memory. Linux would grant the memory and kill the job much later; here the
   run stops at once with the estimate. */
static PetscErrorCode KDLossCheckSetSize(KDLoss loss, const char name[], PetscInt nlocal, PetscInt per)
{
  const char *p = loss->prefix ? loss->prefix : "";
  double need = (double) nlocal * (double) per * sizeof(PetscReal), node = 0, mem;
  long pages = sysconf(_SC_PHYS_PAGES), pagesize = sysconf(_SC_PAGESIZE);
  PetscMPIInt nranks;
  MPI_Comm shm;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_split_type(loss->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &shm));
  PetscCallMPI(MPI_Allreduce(&need, &node, 1, MPI_DOUBLE, MPI_SUM, shm));
  PetscCallMPI(MPI_Comm_size(shm, &nranks));
  PetscCallMPI(MPI_Comm_free(&shm));
  mem = pages > 0 && pagesize > 0 ? (double) pages * (double) pagesize : 0;
  PetscCheck(!mem || node <= mem, loss->comm, PETSC_ERR_MEM,
             "loss term %s: its points alone need about %.3g GB on a node (%d rank%s), which has %.3g GB: lower the "
             "point counts (-%sncol, -%snic, -%snbc) or use more nodes",
             name, node / 1e9, (int) nranks, nranks > 1 ? "s" : "", mem / 1e9, p, p, p);
  PetscCheck((double) nlocal * (double) per < (double) PETSC_MAX_INT, loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "loss term %s: %" PetscInt_FMT " points on one rank overflow 32-bit indices: use more ranks", name,
             nlocal);
  PetscFunctionReturn(0);
}

/* Adds a set of N global points with weight w (none if either is zero): this rank's share, its arrays. A condition's
   set (condition >= 0) carries the face of each point, the flux coefficients, and for a paired condition the images. */
PetscErrorCode KDLossAddSet(KDLoss loss, const char name[], const KDTermOps *ops, PetscInt condition, PetscInt N,
                            PetscReal w, KDPointSet **set)
{
  KDPointSet *s;
  PetscInt nin, nout, ncoef, ntarget, ncoefs, nx2 = 0, nface = 0, nflux = 0;

  PetscFunctionBegin;
  *set = NULL;
  if (N <= 0 || w <= 0) PetscFunctionReturn(0);
  PetscCheck(loss->nsets < KD_LOSS_MAX_TERMS, loss->comm, PETSC_ERR_PLIB, "too many loss terms");
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  s = &loss->set[loss->nsets];
  PetscCall(PetscMemzero(s, sizeof(*s)));
  PetscCall(PetscStrncpy(s->name, name, sizeof(s->name)));
  s->ops       = ops;
  s->condition = condition;
  s->weight    = w;
  s->nglobal   = N;
  s->scale     = w / (PetscReal) N;
  s->loss      = loss;
  PetscCall(KDSplitOwnership(loss->comm, N, &s->nlocal, &s->gstart));
  PetscCall(KDLossCheckSetSize(loss, name, s->nlocal, 2 * nin + nout + ncoef + 1));
  ntarget = ops == &KDTermResidual ? 0 : s->nlocal * nout;
  ncoefs  = ops == &KDTermResidual ? s->nlocal * ncoef : 0;
  if (condition >= 0) {
    const KDCondition *c;
    PetscCall(KDPDEGetCondition(loss->pde, condition, &c));
    nface = s->nlocal;
    nflux = s->nlocal * nout;
    nx2   = KDConditionTerms[c->type].paired ? s->nlocal * nin : 0;
  }
  PetscCall(PetscMalloc3(s->nlocal * nin, &s->x, ntarget, &s->target, ncoefs, &s->coef));
  PetscCall(PetscMalloc3(nx2, &s->x2, nface, &s->face, nflux, &s->flux));
  if (ops == &KDTermResidual)
    PetscCall(KDPDEGetJetSpec(loss->pde, &s->spec));
  else
    s->spec = &loss->valuespec;
  loss->names[loss->nsets] = s->name;
  loss->nsets++;
  *set = s;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDLossDrawInterior(KDLoss loss, KDPointSet *s)
{
  PetscInt ncoef;
  PetscBool graded;

  PetscFunctionBegin;
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  PetscCall(KDPDESamplePoints(loss->pde, KD_PDE_POINTS_INTERIOR, 0, loss->seed,
                              KD_STREAM_INTERIOR + (PetscInt64) KD_STREAM_EPOCH * loss->epoch, s->gstart, s->nlocal,
                              s->x, NULL));
  PetscCall(KDPDEGradePoints(loss->pde, 0, NULL, NULL, &graded));
  if (graded) {
    if (!s->wt) PetscCall(PetscMalloc1(s->nlocal, &s->wt));
    PetscCall(KDPDEGradePoints(loss->pde, s->nlocal, s->x, s->wt, &graded));
  } else
    PetscCall(PetscFree(s->wt)); /* uniform now (the PDE's options changed): no weights left from a graded draw */
  if (ncoef) PetscCall(KDPDEComputeCoefficients(loss->pde, s->nlocal, s->x, s->coef));
  PetscFunctionReturn(0);
}

/* The points of condition k and its data: on its faces (a periodic condition: on the low faces, with the images on the
   high ones) or on the initial slice; the k-th condition of its kind uses its kind's stream + 16 k. */
static PetscErrorCode KDLossDrawCondition(KDLoss loss, KDPointSet *s, PetscInt64 stream)
{
  const KDCondition *c;
  PetscInt nin, nout, faces;
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];

  PetscFunctionBegin;
  PetscCall(KDPDEGetCondition(loss->pde, s->condition, &c));
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDPDEGetDomain(loss->pde, lo, hi));
  faces = c->faces;
  if (KDConditionTerms[c->type].paired) /* the points on the low faces, their images on the high ones */
    for (PetscInt i = 0; i < nin; i++) faces &= ~KD_FACE(i, 1);
  PetscCall(KDPDESamplePoints(loss->pde, KDConditionTerms[c->type].kind, faces, loss->seed, stream, s->gstart,
                              s->nlocal, s->x, s->face));
  for (PetscInt o = 0; o < nout; o++) s->mask[o] = c->outputs[o];
  if (KDConditionTerms[c->type].paired) {
    for (PetscInt p = 0; p < s->nlocal; p++) {
      const PetscInt i = s->face[p] / 2;
      for (PetscInt d = 0; d < nin; d++) s->x2[p * nin + d] = s->x[p * nin + d];
      s->x2[p * nin + i] = hi[i];
    }
  } else
    PetscCall(KDPDEConditionValues(loss->pde, s->condition, s->nlocal, s->x, s->face, s->target, s->flux));
  PetscFunctionReturn(0);
}

/* Data points: global point j sits at the centre of cell c_j of the data level, c_j uniform over the cells; the values
   are gathered from the distributed reference fields with one scatter per field. */
static PetscErrorCode KDLossSetUpData(KDLoss loss, KDPointSet *s)
{
  PetscInt nin, nout, dim, n[KD_MAX_DIM], map[KD_NET_MAX_IN], nfields, ncells = 1, *cells, nnames = 0;
  PetscInt64 *gcells;
  const char *outputs;
  char **onames, **dnames = NULL;
  int no, nd              = 0;
  PetscBool hasgauge;
  PetscInt gaugeout = -1;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDPDEGetNames(loss->pde, NULL, &outputs));
  PetscCall(KDPDEGetGauge(loss->pde, &hasgauge, NULL, &gaugeout));
  PetscCall(KDReferenceGetLevelGrid(loss->ref, loss->dlevel, &dim, n, NULL, NULL));
  PetscCall(KDPDEGetReferenceAxisMap(loss->pde, loss->ref, map));
  PetscCall(KDReferenceGetNumFields(loss->ref, &nfields));
  for (PetscInt d = 0; d < dim; d++) ncells *= n[d];
  PetscCall(PetscStrToArray(outputs, ',', &no, &onames));
  if (loss->data_fields[0]) PetscCall(PetscStrToArray(loss->data_fields, ',', &nd, &dnames));
  for (PetscInt o = 0; o < nout; o++) {
    PetscBool inref = PETSC_FALSE, wanted = PETSC_FALSE, match;
    for (PetscInt f = 0; f < nfields; f++) {
      const char *fname;
      PetscCall(KDReferenceGetFieldName(loss->ref, f, &fname));
      PetscCall(PetscStrcmp(fname, onames[o], &match));
      inref = (PetscBool) (inref || match);
    }
    if (dnames) {
      for (int k = 0; k < nd; k++) {
        PetscCall(PetscStrcmp(dnames[k], onames[o], &match));
        wanted = (PetscBool) (wanted || match);
      }
      PetscCheck(!wanted || inref, loss->comm, PETSC_ERR_ARG_WRONG, "-%sdata_fields: the reference has no field '%s'",
                 loss->prefix ? loss->prefix : "", onames[o]);
    } else
      wanted = (PetscBool) (inref && !(hasgauge && o == gaugeout));
    s->mask[o] = wanted;
    nnames += wanted;
  }
  for (int k = 0; k < nd; k++) {
    PetscBool known = PETSC_FALSE, match;
    for (int o = 0; o < no; o++) {
      PetscCall(PetscStrcmp(dnames[k], onames[o], &match));
      known = (PetscBool) (known || match);
    }
    PetscCheck(known, loss->comm, PETSC_ERR_ARG_WRONG, "-%sdata_fields: '%s' is not an output (%s)",
               loss->prefix ? loss->prefix : "", dnames[k], outputs);
  }
  PetscCheck(nnames > 0, loss->comm, PETSC_ERR_ARG_WRONG,
             "data term: no output of the network (%s) is a field of the reference", outputs);

  PetscCall(PetscMalloc2(s->nlocal, &cells, s->nlocal, &gcells));
  for (PetscInt p = 0; p < s->nlocal; p++) {
    const PetscInt64 j = s->gstart + p;
    PetscInt c         = (PetscInt) (KDRandomUniform(loss->seed, KD_STREAM_DATA, j) * (PetscReal) ncells);
    cells[p]           = PetscMin(c, ncells - 1);
    gcells[p]          = cells[p];
  }
  PetscCall(KDReferenceGetCellCentres(loss->ref, loss->dlevel, nin, map, NULL, s->nlocal, gcells, s->x));
  for (PetscInt o = 0; o < nout; o++) {
    Vec field, local;
    IS is;
    VecScatter scatter;
    const PetscScalar *a;
    if (!s->mask[o]) {
      for (PetscInt p = 0; p < s->nlocal; p++) s->target[o * s->nlocal + p] = 0.0;
      continue;
    }
    PetscCall(KDReferenceGetField(loss->ref, loss->dlevel, onames[o], &field));
    PetscCall(ISCreateGeneral(PETSC_COMM_SELF, s->nlocal, cells, PETSC_USE_POINTER, &is));
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, s->nlocal, &local));
    PetscCall(VecScatterCreate(field, is, local, NULL, &scatter));
    PetscCall(VecScatterBegin(scatter, field, local, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(scatter, field, local, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecGetArrayRead(local, &a));
    for (PetscInt p = 0; p < s->nlocal; p++) s->target[o * s->nlocal + p] = PetscRealPart(a[p]);
    PetscCall(VecRestoreArrayRead(local, &a));
    PetscCall(VecScatterDestroy(&scatter));
    PetscCall(VecDestroy(&local));
    PetscCall(ISDestroy(&is));
  }
  PetscCall(PetscFree2(cells, gcells));
  PetscCall(PetscStrToArrayDestroy(no, onames));
  if (dnames) PetscCall(PetscStrToArrayDestroy(nd, dnames));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDLossSetInferredTheta(KDLoss, const PetscReal[]);

/* Adds PDE parameter k to the inferred ones, from the initial value v. */
static PetscErrorCode KDLossInferAdd(KDLoss loss, PetscInt k, PetscReal v)
{
  const char *p = loss->prefix ? loss->prefix : "";
  const char *name;
  PetscBool positive;

  PetscFunctionBegin;
  PetscCall(KDPDEGetParameterName(loss->pde, k, &name));
  PetscCheck(loss->ninfer < KD_LOSS_MAX_INFER, loss->comm, PETSC_ERR_ARG_SIZ, "-%sinfer: at most %d parameters", p,
             KD_LOSS_MAX_INFER);
  PetscCall(KDPDEIsParameterPositive(loss->pde, k, &positive));
  PetscCheck(!positive || v > 0, loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sinfer: %s is positive, its initial value %g is not", p, name, (double) v);
  PetscCall(KDPDEResidualParameter(loss->pde, k, 0, NULL, NULL, NULL, NULL)); /* an error if it has no derivative */
  loss->infer_param[loss->ninfer]   = k;
  loss->infer_log[loss->ninfer]     = positive;
  loss->infer_initial[loss->ninfer] = v;
  loss->theta[loss->ninfer]         = positive ? PetscLogReal(v) : v;
  loss->infer_std[loss->ninfer]     = (PetscReal) NAN;
  loss->ninfer++;
  PetscFunctionReturn(0);
}

/* The inferred parameters from -<prefix>infer name=value,...: each a parameter of the PDE with a derivative of the
   residual, named once, positive if the PDE declares it so; then the parameters the PDE's formulation learns itself
   (KDPDESetParameterLearned()) that -infer did not name, from their current values. The PDE takes the initial
   values. */
static PetscErrorCode KDLossInferSetUp(KDLoss loss)
{
  const char *p = loss->prefix ? loss->prefix : "", *type;
  char **items;
  int nitems;
  PetscInt np;

  PetscFunctionBegin;
  loss->ninfer = 0;
  PetscCall(KDPDEGetType(loss->pde, &type));
  PetscCall(KDPDEGetNumParameters(loss->pde, &np));
  PetscCall(PetscStrToArray(loss->infer, ',', &nitems, &items));
  for (int i = 0; i < nitems; i++) {
    char *eq = strchr(items[i], '='), *end = NULL, list[KD_LOSS_MAX_INFER * 34] = "";
    PetscInt k = -1;
    PetscReal v;
    PetscCheck(eq && eq != items[i] && eq[1], loss->comm, PETSC_ERR_ARG_WRONG,
               "-%sinfer: expected name=initial_value, got '%s'", p, items[i]);
    *eq = 0;
    for (PetscInt j = 0; j < np; j++) {
      const char *name;
      PetscCall(KDPDEGetParameterName(loss->pde, j, &name));
      if (!strcmp(name, items[i])) k = j;
      PetscCall(PetscStrlcat(list, j ? ", " : "", sizeof(list)));
      PetscCall(PetscStrlcat(list, name, sizeof(list)));
    }
    PetscCheck(k >= 0, loss->comm, PETSC_ERR_ARG_WRONG, "-%sinfer: PDE %s has no parameter '%s' (its parameters: %s)",
               p, type, items[i], np ? list : "none");
    v = (PetscReal) strtod(eq + 1, &end);
    PetscCheck(end && !*end && !PetscIsInfOrNanReal(v), loss->comm, PETSC_ERR_ARG_WRONG,
               "-%sinfer: the initial value of %s is not a number: '%s'", p, items[i], eq + 1);
    for (PetscInt j = 0; j < loss->ninfer; j++)
      PetscCheck(loss->infer_param[j] != k, loss->comm, PETSC_ERR_ARG_WRONG, "-%sinfer: %s is named twice", p,
                 items[i]);
    {
      PetscBool twin, tensor;
      PetscCall(KDPDEIsScratchTwin(loss->pde, &twin));
      PetscCall(KDPDEIsTensorParameter(loss->pde, k, &tensor));
      if (twin && tensor) { /* a scratch twin keeps the tensor its student starts from, unlearned */
        PetscBool positive;
        PetscCall(KDPDEIsParameterPositive(loss->pde, k, &positive));
        PetscCheck(!positive || v > 0, loss->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sinfer: %s must start positive, got %g",
                   p, items[i], (double) v);
        PetscCall(KDPDESetParameter(loss->pde, items[i], v));
        continue;
      }
    }
    PetscCall(KDLossInferAdd(loss, k, v));
  }
  PetscCall(PetscStrToArrayDestroy(nitems, items));
  for (PetscInt k = 0; k < np; k++) {
    PetscBool learned, named = PETSC_FALSE;
    PetscReal v;
    const char *name;
    PetscCall(KDPDEIsParameterLearned(loss->pde, k, &learned));
    for (PetscInt j = 0; j < loss->ninfer; j++)
      if (loss->infer_param[j] == k) named = PETSC_TRUE;
    if (!learned || named) continue;
    PetscCall(KDPDEGetParameterName(loss->pde, k, &name));
    PetscCall(KDPDEGetParameter(loss->pde, name, &v));
    PetscCall(KDLossInferAdd(loss, k, v));
  }
  if (loss->ninfer) PetscCall(KDLossSetInferredTheta(loss, loss->theta));
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetUp - Draws the point sets (interior of epoch 0, one per condition of the PDE, gauge, data) and evaluates
  their fixed data (coefficients, condition data, reference values).

  Collective (the data term gathers reference values from other ranks)

  Options Database Key:
. -<prefix>loss_view - view the loss

.seealso: KDLossResample(), KDLossEvaluateLocal()
@*/
PetscErrorCode KDLossSetUp(KDLoss loss)
{
  KDPointSet *s;
  PetscBool hasgauge, flg;
  PetscInt nin, nout, ncond, count[2] = {0, 0};
  PetscViewer viewer;
  PetscViewerFormat format;

  PetscFunctionBegin;
  if (loss->setupcalled) PetscFunctionReturn(0);
  PetscCheck(loss->pde, loss->comm, PETSC_ERR_ORDER, "call KDLossSetReference() before KDLossSetUp()");
  PetscCall(PetscLogEventBegin(KD_LossSetUp, 0, 0, 0, 0));
  loss->dlevel = loss->data_level >= 0 ? loss->data_level : loss->level;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDPDEGetGauge(loss->pde, &hasgauge, NULL, NULL));
  PetscCall(KDPDEGetNumConditions(loss->pde, &ncond));
  if (loss->net) {
    PetscInt netin, netout;
    PetscCall(KDNetGetSizes(loss->net, &netin, &netout, NULL));
    PetscCheck(netin == nin && netout == nout, loss->comm, PETSC_ERR_ARG_SIZ,
               "network has %" PetscInt_FMT " inputs, %" PetscInt_FMT " outputs; the PDE needs %" PetscInt_FMT
               ", %" PetscInt_FMT " (see KDLossConfigureNet())",
               netin, netout, nin, nout);
  }
  if (loss->net) PetscCall(KDPDESetUpNet(loss->pde, loss->net));
  PetscCall(PetscMemzero(&loss->valuespec, sizeof(loss->valuespec)));
  loss->nin = nin;
  PetscCall(KDLossInferSetUp(loss));
  PetscCall(KDLossFieldSetUp(loss));

  PetscCall(KDLossAddSet(loss, "pde", &KDTermResidual, -1, loss->ncol, loss->w_pde, &s));
  if (s) PetscCall(KDLossDrawInterior(loss, s));
  for (PetscInt k = 0; k < ncond; k++) {
    const KDCondition *c;
    PetscInt64 stream;
    PetscCall(KDPDEGetCondition(loss->pde, k, &c));
    /* initial conditions and conditions on faces count separately: the first of each keeps the stream of the
       original ic and bc terms */
    stream = KDConditionTerms[c->type].stream +
             KD_STREAM_EPOCH * (PetscInt64) count[KDConditionTerms[c->type].kind == KD_PDE_POINTS_INITIAL ? 1 : 0]++;
    PetscCall(KDLossAddSet(loss, c->name, KDConditionTerms[c->type].ops, k, loss->ncond[k], loss->wcond[k], &s));
    if (s) PetscCall(KDLossDrawCondition(loss, s, stream));
  }
  if (hasgauge) {
    PetscInt gout;
    PetscCall(KDLossAddSet(loss, "gauge", &KDTermValue, -1, 1, loss->w_gauge, &s));
    if (s) {
      PetscCall(KDPDEGetGauge(loss->pde, &hasgauge, s->nlocal ? s->x : NULL, &gout));
      for (PetscInt o = 0; o < nout; o++) s->mask[o] = (PetscBool) (o == gout);
      for (PetscInt i = 0; i < s->nlocal * nout; i++) s->target[i] = 0.0;
    }
  }
  PetscCall(KDLossAddSet(loss, "data", &KDTermValue, -1, loss->ndata, loss->w_data, &s));
  if (s) {
    PetscInt nlevels;
    PetscCheck(loss->ref, loss->comm, PETSC_ERR_ORDER, "the data term needs a reference (KDLossSetReference())");
    PetscCall(KDReferenceGetNumLevels(loss->ref, &nlevels));
    PetscCheck(loss->dlevel >= 0 && loss->dlevel < nlevels, loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-%sdata_level %" PetscInt_FMT " not in the reference's levels [0, %" PetscInt_FMT ")",
               loss->prefix ? loss->prefix : "", loss->dlevel, nlevels);
    PetscCall(KDLossSetUpData(loss, s));
  }
  if (loss->observations[0] && loss->w_obs > 0) PetscCall(KDLossSetUpObservations(loss));
  PetscCall(PetscLogEventEnd(KD_LossSetUp, 0, 0, 0, 0));
  loss->setupcalled = PETSC_TRUE;
  PetscCall(PetscOptionsGetViewer(loss->comm, NULL, loss->prefix, "-loss_view", &viewer, &format, &flg));
  if (flg) {
    PetscCall(PetscViewerPushFormat(viewer, format));
    PetscCall(KDLossView(loss, viewer));
    PetscCall(PetscViewerPopFormat(viewer));
    PetscCall(PetscViewerDestroy(&viewer));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDLossEvaluateLocal - The weighted loss terms and the gradient of their sum with respect to the network parameters,
  over this rank's points only, at the network's current parameters. No communication: the global loss is the sum
  over ranks of sum_t terms[t], the global gradient the sum over ranks of grad.

  Not collective

  Output Parameters:
+ terms - one value per term, in the order of KDLossGetTerms()
- grad  - the gradient (overwritten), length KDLossGetNumParameters(): the network's parameters, then the inferred

.seealso: KDLossGetTerms(), KDNetLossGradient(), KDTrainerSetLoss()
@*/
PetscErrorCode KDLossEvaluateLocal(KDLoss loss, PetscReal terms[], PetscReal grad[])
{
  PetscInt nparams;

  PetscFunctionBegin;
  PetscCheck(loss->setupcalled, loss->comm, PETSC_ERR_ORDER, "call KDLossSetUp() before KDLossEvaluateLocal()");
  PetscCheck(loss->net, loss->comm, PETSC_ERR_ORDER, "the loss has no network: call KDLossSetNet()");
  PetscCall(PetscLogEventBegin(KD_LossEvaluate, 0, 0, 0, 0));
  PetscCall(KDNetGetSizes(loss->net, NULL, NULL, &nparams));
  PetscCall(PetscArrayzero(grad, nparams + loss->ninfer + loss->nfield));
  PetscCall(PetscArrayzero(loss->gtheta, loss->ninfer));
  PetscCall(PetscArrayzero(loss->gfield, loss->nfield));
  for (PetscInt t = 0; t < loss->nsets; t++) {
    KDPointSet *s = &loss->set[t];
    terms[t]      = 0.0;
    if (!s->nlocal) continue;
    PetscCall((*s->ops->evaluate)(s, &terms[t], grad));
  }
  for (PetscInt k = 0; k < loss->ninfer; k++) grad[nparams + k] = loss->gtheta[k];
  for (PetscInt k = 0; k < loss->nfield; k++) grad[nparams + loss->ninfer + k] = loss->gfield[k];
  PetscCall(PetscLogEventEnd(KD_LossEvaluate, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetTerms - The names of the loss terms, in the order KDLossEvaluateLocal() returns them: a subset of
  pde, the PDE's conditions (e.g. ic, bc) in their order, gauge, data (terms with zero points or zero weight are left
  out).

  Not collective (after KDLossSetUp())
@*/
PetscErrorCode KDLossGetTerms(KDLoss loss, PetscInt *nterms, const char *const **names)
{
  PetscFunctionBegin;
  PetscCheck(loss->setupcalled, loss->comm, PETSC_ERR_ORDER, "call KDLossSetUp() before KDLossGetTerms()");
  if (nterms) *nterms = loss->nsets;
  if (names) *names = loss->names;
  PetscFunctionReturn(0);
}

/*@C
  KDLossResample - Replaces the interior collocation points by those of epoch k: stream 1 + 16 k of the generator,
  the same global indices, graded if the PDE grades them (KDPDEGradePoints()). Condition, gauge and data points stay
  fixed. Epoch 0 is the set KDLossSetUp() draws.

  Not collective (each rank redraws its own index range)

.seealso: KDRandomUniform(), KDPDESamplePoints(), KDPDEGradePoints()
@*/
PetscErrorCode KDLossResample(KDLoss loss, PetscInt k)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0, loss->comm, PETSC_ERR_ARG_OUTOFRANGE, "epoch %" PetscInt_FMT " must be non-negative", k);
  loss->epoch = k;
  if (!loss->setupcalled) PetscFunctionReturn(0);
  for (PetscInt t = 0; t < loss->nsets; t++)
    if (loss->set[t].ops == &KDTermResidual) PetscCall(KDLossDrawInterior(loss, &loss->set[t]));
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetPoints - This rank's points of a term (borrowed, valid until the next KDLossResample() or KDLossSetUp()).

  Not collective

  Output Parameters:
+ n - number of local points (0 if the loss has no such term)
- x - the points, x[p * nin + i], network input order
@*/
PetscErrorCode KDLossGetPoints(KDLoss loss, const char name[], PetscInt *n, const PetscReal **x)
{
  PetscFunctionBegin;
  *n = 0;
  *x = NULL;
  for (PetscInt t = 0; t < loss->nsets; t++) {
    PetscBool match;
    PetscCall(PetscStrcmp(loss->set[t].name, name, &match));
    if (match) {
      *n = loss->set[t].nlocal;
      *x = loss->set[t].x;
    }
  }
  PetscFunctionReturn(0);
}

/*@C
  KDLossResidualRMS - Root mean square of the PDE residual of the loss's network on points given by every rank:
  sqrt(sum over all points and residual components of N_r^2 / (N * nres)).

  Collective (one MPI_Allreduce)

  Input Parameters:
+ loss - the loss (its PDE and network)
. n    - number of points on this rank
- x    - the points, x[p * nin + i]; NULL means this rank's interior collocation points (n is then ignored), each
         squared residual weighted as in the loss if the PDE grades them (KDPDEGradePoints()), so that the RMS still
         estimates the domain's

  Output Parameter:
. rms - the global RMS residual

.seealso: KDPDEResidualNet()
@*/
PetscErrorCode KDLossResidualRMS(KDLoss loss, PetscInt n, const PetscReal x[], PetscReal *rms)
{
  PetscInt nres;
  PetscReal *res, sums[2] = {0.0, 0.0};
  const PetscReal *w = NULL;

  PetscFunctionBegin;
  PetscCheck(loss->net && loss->pde, loss->comm, PETSC_ERR_ORDER, "the loss needs a network and a reference");
  if (!x) {
    PetscCall(KDLossGetPoints(loss, "pde", &n, &x));
    for (PetscInt t = 0; t < loss->nsets; t++)
      if (loss->set[t].ops == &KDTermResidual) w = loss->set[t].wt;
  }
  PetscCall(KDPDEGetSizes(loss->pde, NULL, NULL, &nres));
  PetscCall(PetscMalloc1(n * nres, &res));
  PetscCall(KDPDEResidualNet(loss->pde, loss->net, n, x, res));
  if (w)
    for (PetscInt i = 0; i < n * nres; i++) sums[0] += w[i % n] * res[i] * res[i];
  else
    for (PetscInt i = 0; i < n * nres; i++) sums[0] += res[i] * res[i];
  sums[1] = (PetscReal) (n * nres);
  PetscCall(PetscFree(res));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPIU_REAL, MPI_SUM, loss->comm));
  PetscCheck(sums[1] > 0, loss->comm, PETSC_ERR_ARG_WRONG, "no points to evaluate the residual on");
  *rms = PetscSqrtReal(sums[0] / sums[1]);
  PetscFunctionReturn(0);
}

/*@C
  KDLossConfigureNet - Makes a network fit the loss's PDE: nin and nout from the PDE (hidden widths kept), the input
  box from the reference's level-0 domain, in network input order, and what the PDE's formulation adds to it
  (KDPDESetUpNet(): input features, an output factor or addend). Call before KDNetSetUp(), after KDLossSetFromOptions()
(the PDE's options decide the formulation).

  Logically collective

.seealso: KDNetSetArchitecture(), KDNetSetInputBounds(), KDPDEGetNames()
@*/
PetscErrorCode KDLossConfigureNet(KDLoss loss, KDNet net)
{
  PetscInt nin, nout, netin, netout, nw, hidden[KD_NET_MAX_LAYERS];
  const PetscInt *widths;
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];

  PetscFunctionBegin;
  PetscCheck(loss->pde, loss->comm, PETSC_ERR_ORDER, "call KDLossSetReference() before KDLossConfigureNet()");
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDNetGetSizes(net, &netin, &netout, NULL));
  if (netin != nin || netout != nout) {
    PetscCall(KDNetGetWidths(net, &nw, &widths));
    for (PetscInt k = 1; k < nw - 1; k++) hidden[k - 1] = widths[k];
    PetscCall(KDNetSetArchitecture(net, nin, nw - 2, hidden, nout));
  }
  PetscCall(KDPDEGetDomain(loss->pde, lo, hi));
  PetscCall(KDNetSetInputBounds(net, lo, hi));
  PetscCall(KDPDESetUpNet(loss->pde, net));
  PetscFunctionReturn(0);
}

/*@C
  KDLossView - Prints the PDE, the terms with their weights and global point counts, the seed and epoch.

  Collective
@*/
PetscErrorCode KDLossView(KDLoss loss, PetscViewer viewer)
{
  PetscBool ascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(loss->comm, &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "KDLoss %s: seed %" PetscInt64_FMT ", epoch %" PetscInt_FMT "\n",
                                   loss->prefix ? loss->prefix : "", loss->seed, loss->epoch));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  if (loss->pde) PetscCall(KDPDEView(loss->pde, viewer));
  for (PetscInt t = 0; t < loss->nsets; t++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "term %-6s %-8s weight %g, %" PetscInt_FMT " points\n", loss->set[t].name,
                                     loss->set[t].ops->name, (double) loss->set[t].weight, loss->set[t].nglobal));
  if (loss->ndata > 0 && loss->w_data > 0)
    PetscCall(PetscViewerASCIIPrintf(viewer, "data from reference level %" PetscInt_FMT "\n", loss->dlevel));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetResidualSize - Number of residual rows of this rank (KDLossResidualLocal()).

  Not collective
@*/
PetscErrorCode KDLossGetResidualSize(KDLoss loss, PetscInt *m)
{
  PetscFunctionBegin;
  PetscCheck(loss->setupcalled, loss->comm, PETSC_ERR_ORDER, "call KDLossSetUp() before KDLossGetResidualSize()");
  *m = 0;
  for (PetscInt t = 0; t < loss->nsets; t++) {
    PetscInt nr = 0;
    PetscCall((*loss->set[t].ops->rowsperpoint)(&loss->set[t], &nr));
    *m += nr * loss->set[t].nlocal;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDLossResidualLocal - This rank's residual rows of the loss and their exact Jacobian with respect to the network
  parameters: a term with weight w over N global points contributes the rows sqrt(w/N) r_k(x_p) (PDE components or
  misfits of prescribed outputs), so that the rows' squares summed over all ranks are the loss. Rows are ordered by
  term (KDLossGetTerms()), then point, then component.

  Not collective

  Input Parameters:
+ loss  - the loss, set up, with its network
. start - first row
- count - number of rows

  Output Parameters:
+ r - the rows
- J - NULL, or the Jacobian, row-major count x KDLossGetNumParameters() (the inferred parameters' columns last)

.seealso: KDLossGetResidualSize(), KDNetResidualJacobian(), KDGaussNewtonStep()
@*/
PetscErrorCode KDLossResidualLocal(KDLoss loss, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  PetscInt nnet, ld, off = 0;
  PetscReal *Jnet = NULL;

  PetscFunctionBegin;
  PetscCheck(loss->setupcalled && loss->net, loss->comm, PETSC_ERR_ORDER,
             "KDLossResidualLocal needs a set-up loss with a network");
  PetscCall(KDNetGetSizes(loss->net, NULL, NULL, &nnet));
  ld = nnet + loss->ninfer + loss->nfield;
  /* with parameters after the network's, its columns are computed apart, then placed in the wider rows */
  if (J && ld > nnet) PetscCall(PetscMalloc1(count * nnet, &Jnet));
  for (PetscInt t = 0; t < loss->nsets; t++) {
    KDPointSet *s = &loss->set[t];
    PetscInt nr   = 0, lo, hi;
    PetscCall((*s->ops->rowsperpoint)(s, &nr));
    lo = PetscMax(start, off);
    hi = PetscMin(start + count, off + nr * s->nlocal);
    if (hi > lo && !Jnet)
      PetscCall((*s->ops->rows)(s, lo - off, hi - lo, r + (lo - start), J ? J + (lo - start) * nnet : NULL));
    else if (hi > lo) {
      PetscReal *Jrows = J + (lo - start) * ld;
      PetscCall((*s->ops->rows)(s, lo - off, hi - lo, r + (lo - start), Jnet));
      for (PetscInt q = 0; q < hi - lo; q++) {
        PetscCall(PetscArraycpy(Jrows + q * ld, Jnet + q * nnet, nnet));
        PetscCall(PetscArrayzero(Jrows + q * ld + nnet, ld - nnet));
      }
      if (s->ops->rowsextra) PetscCall((*s->ops->rowsextra)(s, lo - off, hi - lo, ld, Jrows + nnet));
    }
    off += nr * s->nlocal;
  }
  PetscCall(PetscFree(Jnet));
  PetscCheck(start >= 0 && start + count <= off, loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "rows [%" PetscInt_FMT ", %" PetscInt_FMT ") outside this rank's %" PetscInt_FMT, start, start + count,
             off);
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetNumParameters - The length of the loss's gradient and Jacobian rows: the network's parameters, then one per
  inferred PDE parameter (-<prefix>infer).

  Not collective (after KDLossSetUp())
@*/
PetscErrorCode KDLossGetNumParameters(KDLoss loss, PetscInt *n)
{
  PetscFunctionBegin;
  PetscCheck(loss->setupcalled && loss->net, loss->comm, PETSC_ERR_ORDER, "call KDLossSetUp() with a network first");
  PetscCall(KDNetGetSizes(loss->net, NULL, NULL, n));
  *n += loss->ninfer + loss->nfield;
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetNumInferred - The number of PDE parameters inferred with the network (-<prefix>infer).

  Not collective (after KDLossSetUp())
@*/
PetscErrorCode KDLossGetNumInferred(KDLoss loss, PetscInt *n)
{
  PetscFunctionBegin;
  PetscCheck(loss->setupcalled, loss->comm, PETSC_ERR_ORDER, "call KDLossSetUp() first");
  *n = loss->ninfer;
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetExtraParameters - The loss's parameters after the network's (KDLossGetNumParameters() minus the network's):
  the trainable values theta of the inferred PDE parameters (log(value) of a positive one, the value of another), then
  the parameters of a learned coefficient field's network.

  Not collective
@*/
PetscErrorCode KDLossGetExtraParameters(KDLoss loss, PetscReal x[])
{
  PetscFunctionBegin;
  PetscCall(PetscArraycpy(x, loss->theta, loss->ninfer));
  if (loss->nfield) {
    PetscReal *w;
    PetscCall(KDNetGetParameters(loss->field, &w));
    PetscCall(PetscArraycpy(x + loss->ninfer, w, loss->nfield));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetExtraParameters - Sets the loss's parameters after the network's (KDLossGetExtraParameters()): the PDE's
  inferred parameters and the field's network take them.

  Not collective (every rank must set the same values)
@*/
PetscErrorCode KDLossSetExtraParameters(KDLoss loss, const PetscReal x[])
{
  PetscFunctionBegin;
  PetscCall(KDLossSetInferredTheta(loss, x));
  if (loss->nfield) {
    PetscReal *w;
    PetscCall(KDNetGetParameters(loss->field, &w));
    PetscCall(PetscArraycpy(w, x + loss->ninfer, loss->nfield));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetField - The network of the coefficient field learned from data (-<prefix>infer_field), its log: k =
  exp(field(x)), with the PDE's spatial inputs; NULL without one.

  Not collective (after KDLossSetUp())
@*/
PetscErrorCode KDLossGetField(KDLoss loss, KDNet *field, const char **name)
{
  PetscFunctionBegin;
  *field = loss->nfield ? loss->field : NULL;
  if (name) *name = loss->field_name;
  PetscFunctionReturn(0);
}

/* theta of the inferred parameters, and the PDE's parameters from them */
static PetscErrorCode KDLossSetInferredTheta(KDLoss loss, const PetscReal theta[])
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < loss->ninfer; k++) {
    const char *name;
    loss->theta[k] = theta[k];
    PetscCall(KDPDEGetParameterName(loss->pde, loss->infer_param[k], &name));
    PetscCall(KDPDESetParameter(loss->pde, name, loss->infer_log[k] ? PetscExpReal(theta[k]) : theta[k]));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode KDLossInferredChain(KDLoss loss, PetscInt k, PetscReal *dvalue)
{
  PetscFunctionBegin;
  *dvalue = loss->infer_log[k] ? PetscExpReal(loss->theta[k]) : 1.0;
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetModelInfo - Records the loss's inferred (or learned) PDE parameters in a model's info: each one's value,
  standard deviation and initial value (group inferred of the model file), and its value in place of the parameter of
  the same name.

  Not collective

.seealso: KDLossGetInferred(), KDNetWrite()
@*/
PetscErrorCode KDLossSetModelInfo(KDLoss loss, KDModelInfo *info)
{
  PetscFunctionBegin;
  info->ninferred = loss->ninfer;
  for (PetscInt k = 0; k < loss->ninfer; k++) {
    const char *name;
    PetscReal *v    = info->inferred[k];
    PetscBool found = PETSC_FALSE;
    PetscCall(KDLossGetInferred(loss, k, &name, &v[0], &v[1], &v[2]));
    PetscCall(PetscStrncpy(info->inferred_names[k], name, sizeof(info->inferred_names[0])));
    for (PetscInt i = 0; i < info->nparams; i++)
      if (!strcmp(info->param_names[i], name)) {
        info->param_values[i] = v[0];
        found                 = PETSC_TRUE;
      }
    PetscCheck(found, loss->comm, PETSC_ERR_PLIB, "inferred parameter %s is not a parameter of the model", name);
  }
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetInferred - Inferred parameter k: its name, current value, standard deviation (NaN until
  KDLossSetInferredCovariance()) and initial value.

  Not collective

.seealso: KDLossSetInferredCovariance()
@*/
PetscErrorCode KDLossGetInferred(KDLoss loss, PetscInt k, const char **name, PetscReal *value, PetscReal *std,
                                 PetscReal *initial)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < loss->ninfer, loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "inferred parameter %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", k, loss->ninfer);
  if (name) PetscCall(KDPDEGetParameterName(loss->pde, loss->infer_param[k], name));
  if (value) *value = loss->infer_log[k] ? PetscExpReal(loss->theta[k]) : loss->theta[k];
  if (std) *std = loss->infer_std[k];
  if (initial) *initial = loss->infer_initial[k];
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetInferredCovariance - The standard deviations of the inferred parameters from the Laplace (Gauss-Newton)
  approximation of their posterior: cov_theta = tau [(J^T J + lambda D)^-1]_theta,theta, given the block of the inverse
  (ninfer x ninfer), and std = dvalue/dtheta sqrt(cov_theta,kk) (the log map's delta method).

  Collective (one MPI_Allreduce)

  Notes:
  tau is the variance of one loss row that the noise makes: w_obs / N_obs when the observation file gives sigma (its
  rows are then sqrt(w_obs / N_obs) times standard normal variables), otherwise the mean square of the observation and
  data rows at the current parameters. The PDE rows count as observations with the same variance (docs/inverse.md).

.seealso: KDGaussNewtonInverseBlock()
@*/
PetscErrorCode KDLossSetInferredCovariance(KDLoss loss, const PetscReal cov[])
{
  PetscReal sums[2] = {0.0, 0.0}, tau;
  PetscBool sigma   = PETSC_FALSE;

  PetscFunctionBegin;
  for (PetscInt t = 0; t < loss->nsets; t++) {
    KDPointSet *s = &loss->set[t];
    PetscInt nr   = 0;
    PetscReal *r;
    if (strcmp(s->name, "obs") && strcmp(s->name, "data")) continue;
    if (!strcmp(s->name, "obs") && loss->obs_sigma) { /* the same decision on every rank, with or without rows */
      sigma = PETSC_TRUE;
      tau   = s->scale;
    }
    PetscCall((*s->ops->rowsperpoint)(s, &nr));
    PetscCall(PetscMalloc1(nr * s->nlocal, &r));
    PetscCall((*s->ops->rows)(s, 0, nr * s->nlocal, r, NULL));
    for (PetscInt q = 0; q < nr * s->nlocal; q++) sums[0] += r[q] * r[q];
    sums[1] += (PetscReal) (nr * s->nlocal);
    PetscCall(PetscFree(r));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPIU_REAL, MPI_SUM, loss->comm));
  if (!sigma) tau = sums[1] > 0 ? sums[0] / sums[1] : (PetscReal) NAN;
  for (PetscInt k = 0; k < loss->ninfer; k++) {
    PetscReal dv;
    PetscCall(KDLossInferredChain(loss, k, &dv));
    loss->infer_std[k] = dv * PetscSqrtReal(tau * cov[k * loss->ninfer + k]);
  }
  PetscFunctionReturn(0);
}
