/*
  KDLoss: the PINN loss of a network on its PDE, evaluated on this rank's share of global point sets.

      L = w_pde   / N_col   sum_{interior}  sum_r N_r[u](x)^2
        + w_ic    / N_ic    sum_{t = t_lo}  |u - u_0|^2
        + w_bc    / N_bc    sum_{boundary}  |u - g|^2             (prescribed outputs only)
        + w_gauge             |p(x_g)|^2                           (cavity: pins the pressure constant)
        + w_data  / N_data  sum_{data}      |u - u_ref|^2          (reference values at level cells)

  Every point set has a global size N and global indices 0..N-1; point j is a pure function of (seed, stream, j)
  (KDRandomUniform), and each rank holds the contiguous index range PetscSplitOwnership() gives it. The terms are
  normalized by the global N, so the global loss is the plain sum over ranks of the local terms, for any rank count.
*/
#include <kdpde.h>
#include <kdtrain.h>

/* Streams of the point sets; the interior set of epoch k uses KD_STREAM_INTERIOR + KD_STREAM_EPOCH * k. */
#define KD_STREAM_INTERIOR 1
#define KD_STREAM_INITIAL 2
#define KD_STREAM_BOUNDARY 3
#define KD_STREAM_DATA 4
#define KD_STREAM_EPOCH 16

typedef enum { KD_SET_PDE, KD_SET_VALUE } KDPointSetType;

typedef struct _KDPointSet {
  char name[16];
  KDPointSetType type;
  KDPDEPointKind kind;     /* for sets drawn by KDPDESamplePoints() */
  PetscReal weight, scale; /* scale = weight / nglobal */
  PetscInt nglobal, nlocal, gstart;
  PetscReal *x;      /* x[p * nin + i] */
  PetscReal *target; /* target[o * nlocal + p] (value sets) */
  PetscBool mask[KD_NET_MAX_OUT];
  PetscReal *coef; /* coef[c * nlocal + p] (PDE set) */
  const KDJetSpec *spec;
  KDLoss loss;
} KDPointSet;

struct _p_KDLoss {
  MPI_Comm comm;
  char *prefix;
  KDNet net;
  KDReference ref;
  KDPDE pde;
  PetscInt level; /* the model's level: default data level */
  PetscInt64 seed;
  PetscInt epoch;
  PetscInt ncol, nic, nbc, ndata, data_level; /* data_level < 0: the model's level */
  PetscInt dlevel;                            /* the data level in use, fixed by KDLossSetUp() */
  PetscReal w_pde, w_ic, w_bc, w_gauge, w_data;
  char data_fields[128];
  PetscInt nsets;
  KDPointSet set[KD_LOSS_MAX_TERMS];
  const char *names[KD_LOSS_MAX_TERMS];
  KDJetSpec valuespec;
  PetscReal *work;
  PetscInt nwork;
  PetscBool setupcalled;
  PetscBool optionsread; /* KDLossSetFromOptions() was called: a PDE set later reads its options too */
};

static PetscLogEvent KD_LossSetUp, KD_LossEvaluate;

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
  l->nic        = 400;
  l->nbc        = 400;
  l->ndata      = 0;
  l->data_level = -1;
  l->w_pde      = 1.0;
  l->w_ic       = 1.0;
  l->w_bc       = 1.0;
  l->w_gauge    = 1.0;
  l->w_data     = 1.0;
  *loss         = l;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDLossReset(KDLoss loss)
{
  PetscFunctionBegin;
  for (PetscInt s = 0; s < loss->nsets; s++)
    PetscCall(PetscFree3(loss->set[s].x, loss->set[s].target, loss->set[s].coef));
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
  if (loss->optionsread) PetscCall(KDPDESetFromOptions(loss->pde));
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
  KDLossGetPDE - The loss's PDE operator (borrowed), available after KDLossSetReference().

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
  KDLossSetFromOptions - Reads the loss's options (and its PDE's).

  Collective

  Options Database Keys (with the loss's prefix, e.g. -teacher_):
+ -ncol <N>            - global interior collocation points (default 10000)
. -nic <N>             - global initial-condition points, time-dependent PDEs (default 400)
. -nbc <N>             - global boundary points (default 400)
. -ndata <N>           - global reference data points (default 0: no data term)
. -data_level <l>      - reference level the data come from (default: the model's level)
. -data_fields <u,v>   - outputs fitted to data (default: every output the reference has, except a gauge-pinned one)
. -w_pde <w>           - weight of the PDE residual term (default 1)
. -w_ic <w>            - weight of the initial-condition term (default 1)
. -w_bc <w>            - weight of the boundary term (default 1)
. -w_gauge <w>         - weight of the pressure gauge term, cavity (default 1)
. -w_data <w>          - weight of the data term (default 1)
. -cavity_lid, -cavity_gauge_point - see KDPDESetFromOptions()
- -loss_view           - view the loss after KDLossSetUp()

  A term with zero points or zero weight is left out (KDLossGetTerms()).
@*/
PetscErrorCode KDLossSetFromOptions(KDLoss loss)
{
  PetscInt dl = loss->data_level >= 0 ? loss->data_level : loss->level;
  PetscBool dlset;

  PetscFunctionBegin;
  PetscOptionsBegin(loss->comm, loss->prefix, "KDLoss: PINN loss terms and collocation points", NULL);
  PetscCall(
      PetscOptionsInt("-ncol", "Global interior collocation points", "KDLossSetUp", loss->ncol, &loss->ncol, NULL));
  PetscCall(PetscOptionsInt("-nic", "Global initial-condition points", "KDLossSetUp", loss->nic, &loss->nic, NULL));
  PetscCall(PetscOptionsInt("-nbc", "Global boundary points", "KDLossSetUp", loss->nbc, &loss->nbc, NULL));
  PetscCall(PetscOptionsInt("-ndata", "Global reference data points (0: no data term)", "KDLossSetUp", loss->ndata,
                            &loss->ndata, NULL));
  PetscCall(PetscOptionsInt("-data_level", "Reference level of the data points", "KDLossSetUp", dl, &dl, &dlset));
  PetscCall(PetscOptionsString(
      "-data_fields", "Outputs fitted to data, comma separated (default: all in the reference but a gauge-pinned one)",
      "KDLossSetUp", loss->data_fields, loss->data_fields, sizeof(loss->data_fields), NULL));
  PetscCall(
      PetscOptionsReal("-w_pde", "Weight of the PDE residual term", "KDLossSetUp", loss->w_pde, &loss->w_pde, NULL));
  PetscCall(
      PetscOptionsReal("-w_ic", "Weight of the initial-condition term", "KDLossSetUp", loss->w_ic, &loss->w_ic, NULL));
  PetscCall(
      PetscOptionsReal("-w_bc", "Weight of the boundary-condition term", "KDLossSetUp", loss->w_bc, &loss->w_bc, NULL));
  PetscCall(PetscOptionsReal("-w_gauge", "Weight of the pressure gauge term (cavity)", "KDLossSetUp", loss->w_gauge,
                             &loss->w_gauge, NULL));
  PetscCall(PetscOptionsReal("-w_data", "Weight of the reference data term", "KDLossSetUp", loss->w_data, &loss->w_data,
                             NULL));
  PetscCall(PetscOptionsName("-loss_view", "View the loss after setup", "KDLossView", NULL));
  PetscOptionsEnd();
  if (dlset) loss->data_level = dl;
  PetscCheck(loss->ncol >= 0 && loss->nic >= 0 && loss->nbc >= 0 && loss->ndata >= 0, loss->comm,
             PETSC_ERR_ARG_OUTOFRANGE, "point counts -%sncol, -%snic, -%snbc, -%sndata must be non-negative",
             loss->prefix ? loss->prefix : "", loss->prefix ? loss->prefix : "", loss->prefix ? loss->prefix : "",
             loss->prefix ? loss->prefix : "");
  PetscCheck(loss->w_pde >= 0 && loss->w_ic >= 0 && loss->w_bc >= 0 && loss->w_gauge >= 0 && loss->w_data >= 0,
             loss->comm, PETSC_ERR_ARG_OUTOFRANGE, "loss weights -%sw_* must be non-negative",
             loss->prefix ? loss->prefix : "");
  if (loss->pde) PetscCall(KDPDESetFromOptions(loss->pde));
  loss->optionsread = PETSC_TRUE;
  if (loss->setupcalled) PetscCall(KDLossReset(loss));
  PetscFunctionReturn(0);
}

/* The contiguous block of [0, N) this rank owns. */
static PetscErrorCode KDLossSplit(MPI_Comm comm, PetscInt N, PetscInt *nlocal, PetscInt *start)
{
  PetscInt n = PETSC_DECIDE;

  PetscFunctionBegin;
  PetscCall(PetscSplitOwnership(comm, &n, &N));
  PetscCallMPI(MPI_Scan(&n, start, 1, MPIU_INT, MPI_SUM, comm));
  *start -= n;
  *nlocal = n;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDLossAddSet(KDLoss loss, const char name[], KDPointSetType type, KDPDEPointKind kind, PetscInt N,
                                   PetscReal w, KDPointSet **set)
{
  KDPointSet *s;
  PetscInt nin, nout, ncoef;

  PetscFunctionBegin;
  *set = NULL;
  if (N <= 0 || w <= 0) PetscFunctionReturn(0);
  PetscCheck(loss->nsets < KD_LOSS_MAX_TERMS, loss->comm, PETSC_ERR_PLIB, "too many loss terms");
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  s = &loss->set[loss->nsets];
  PetscCall(PetscMemzero(s, sizeof(*s)));
  PetscCall(PetscStrncpy(s->name, name, sizeof(s->name)));
  s->type    = type;
  s->kind    = kind;
  s->weight  = w;
  s->nglobal = N;
  s->scale   = w / (PetscReal) N;
  s->loss    = loss;
  PetscCall(KDLossSplit(loss->comm, N, &s->nlocal, &s->gstart));
  PetscCall(PetscMalloc3(s->nlocal * nin, &s->x, type == KD_SET_VALUE ? s->nlocal * nout : 0, &s->target,
                         type == KD_SET_PDE ? s->nlocal * ncoef : 0, &s->coef));
  if (type == KD_SET_PDE)
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
  PetscInt nin, ncoef;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, NULL, NULL));
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  PetscCall(KDPDESamplePoints(loss->pde, KD_PDE_POINTS_INTERIOR, loss->seed,
                              KD_STREAM_INTERIOR + (PetscInt64) KD_STREAM_EPOCH * loss->epoch, s->gstart, s->nlocal,
                              s->x));
  if (ncoef) PetscCall(KDPDEComputeCoefficients(loss->pde, s->nlocal, s->x, s->coef));
  PetscFunctionReturn(0);
}

/* Data points: global point j sits at the centre of cell c_j of the data level, c_j uniform over the cells; the values
   are gathered from the distributed reference fields with one scatter per field. */
static PetscErrorCode KDLossSetUpData(KDLoss loss, KDPointSet *s)
{
  PetscInt nin, nout, dim, n[KD_MAX_DIM], map[KD_NET_MAX_IN], nfields, ncells = 1, *cells, nnames = 0;
  PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM];
  const char *outputs;
  char **onames, **dnames = NULL;
  int no, nd              = 0;
  PetscBool hasgauge;
  PetscInt gaugeout = -1;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDPDEGetNames(loss->pde, NULL, &outputs));
  PetscCall(KDPDEGetGauge(loss->pde, &hasgauge, NULL, &gaugeout));
  PetscCall(KDReferenceGetLevelGrid(loss->ref, loss->dlevel, &dim, n, lo, hi));
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

  PetscCall(PetscMalloc1(s->nlocal, &cells));
  for (PetscInt p = 0; p < s->nlocal; p++) {
    const PetscInt64 j = s->gstart + p;
    PetscInt c = (PetscInt) (KDRandomUniform(loss->seed, KD_STREAM_DATA, j) * (PetscReal) ncells), rem, idx[KD_MAX_DIM];
    PetscReal ax[KD_MAX_DIM];
    c        = PetscMin(c, ncells - 1);
    cells[p] = c;
    rem      = c;
    for (PetscInt d = dim - 1; d >= 0; d--) {
      idx[d] = rem % n[d];
      rem /= n[d];
      ax[d] = lo[d] + ((PetscReal) idx[d] + 0.5) * (hi[d] - lo[d]) / (PetscReal) n[d];
    }
    for (PetscInt i = 0; i < nin; i++) s->x[p * nin + i] = ax[map[i]];
  }
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
  PetscCall(PetscFree(cells));
  PetscCall(PetscStrToArrayDestroy(no, onames));
  if (dnames) PetscCall(PetscStrToArrayDestroy(nd, dnames));
  PetscFunctionReturn(0);
}

/*@C
  KDLossSetUp - Draws the point sets (interior of epoch 0, initial, boundary, gauge, data) and evaluates their fixed
  data (coefficients, Dirichlet values, reference values).

  Collective (the data term gathers reference values from other ranks)

  Options Database Key:
. -<prefix>loss_view - view the loss

.seealso: KDLossResample(), KDLossEvaluateLocal()
@*/
PetscErrorCode KDLossSetUp(KDLoss loss)
{
  KDPointSet *s;
  PetscBool timedep, hasgauge, flg;
  PetscInt nin, nout;
  PetscViewer viewer;
  PetscViewerFormat format;

  PetscFunctionBegin;
  if (loss->setupcalled) PetscFunctionReturn(0);
  PetscCheck(loss->pde, loss->comm, PETSC_ERR_ORDER, "call KDLossSetReference() before KDLossSetUp()");
  PetscCall(PetscLogEventBegin(KD_LossSetUp, 0, 0, 0, 0));
  loss->dlevel = loss->data_level >= 0 ? loss->data_level : loss->level;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDPDEIsTimeDependent(loss->pde, &timedep));
  PetscCall(KDPDEGetGauge(loss->pde, &hasgauge, NULL, NULL));
  if (loss->net) {
    PetscInt netin, netout;
    PetscCall(KDNetGetSizes(loss->net, &netin, &netout, NULL));
    PetscCheck(netin == nin && netout == nout, loss->comm, PETSC_ERR_ARG_SIZ,
               "network has %" PetscInt_FMT " inputs, %" PetscInt_FMT " outputs; the PDE needs %" PetscInt_FMT
               ", %" PetscInt_FMT " (see KDLossConfigureNet())",
               netin, netout, nin, nout);
  }
  PetscCall(PetscMemzero(&loss->valuespec, sizeof(loss->valuespec)));

  PetscCall(KDLossAddSet(loss, "pde", KD_SET_PDE, KD_PDE_POINTS_INTERIOR, loss->ncol, loss->w_pde, &s));
  if (s) PetscCall(KDLossDrawInterior(loss, s));
  if (timedep) {
    PetscCall(KDLossAddSet(loss, "ic", KD_SET_VALUE, KD_PDE_POINTS_INITIAL, loss->nic, loss->w_ic, &s));
    if (s) {
      PetscCall(KDPDESamplePoints(loss->pde, KD_PDE_POINTS_INITIAL, loss->seed, KD_STREAM_INITIAL, s->gstart, s->nlocal,
                                  s->x));
      PetscCall(KDPDEConditionValues(loss->pde, KD_PDE_POINTS_INITIAL, s->nlocal, s->x, s->target, s->mask));
    }
  }
  PetscCall(KDLossAddSet(loss, "bc", KD_SET_VALUE, KD_PDE_POINTS_BOUNDARY, loss->nbc, loss->w_bc, &s));
  if (s) {
    PetscCall(KDPDESamplePoints(loss->pde, KD_PDE_POINTS_BOUNDARY, loss->seed, KD_STREAM_BOUNDARY, s->gstart, s->nlocal,
                                s->x));
    PetscCall(KDPDEConditionValues(loss->pde, KD_PDE_POINTS_BOUNDARY, s->nlocal, s->x, s->target, s->mask));
  }
  if (hasgauge) {
    PetscInt gout;
    PetscCall(KDLossAddSet(loss, "gauge", KD_SET_VALUE, KD_PDE_POINTS_BOUNDARY, 1, loss->w_gauge, &s));
    if (s) {
      PetscCall(KDPDEGetGauge(loss->pde, &hasgauge, s->nlocal ? s->x : NULL, &gout));
      for (PetscInt o = 0; o < nout; o++) s->mask[o] = (PetscBool) (o == gout);
      for (PetscInt i = 0; i < s->nlocal * nout; i++) s->target[i] = 0.0;
    }
  }
  PetscCall(KDLossAddSet(loss, "data", KD_SET_VALUE, KD_PDE_POINTS_INTERIOR, loss->ndata, loss->w_data, &s));
  if (s) {
    PetscInt nlevels;
    PetscCall(KDReferenceGetNumLevels(loss->ref, &nlevels));
    PetscCheck(loss->dlevel >= 0 && loss->dlevel < nlevels, loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-%sdata_level %" PetscInt_FMT " not in the reference's levels [0, %" PetscInt_FMT ")",
               loss->prefix ? loss->prefix : "", loss->dlevel, nlevels);
    PetscCall(KDLossSetUpData(loss, s));
  }
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

static PetscErrorCode KDLossWorkEnsure(KDLoss loss, PetscInt size)
{
  PetscFunctionBegin;
  if (size <= loss->nwork) PetscFunctionReturn(0);
  PetscCall(PetscFree(loss->work));
  PetscCall(PetscMalloc1(size, &loss->work));
  loss->nwork = size;
  PetscFunctionReturn(0);
}

/* KDJetLossFunction of the interior set: scale * sum_{p,r} res^2 and its adjoint 2 scale res through the PDE. */
static PetscErrorCode KDLossBlockPDE(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[],
                                     PetscReal *value, void *ctx)
{
  KDPointSet *s = (KDPointSet *) ctx;
  KDLoss loss   = s->loss;
  PetscInt nres, ncoef;
  PetscReal *res, *coef = NULL, sum = 0.0;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, NULL, NULL, &nres));
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  PetscCall(KDLossWorkEnsure(loss, n * (nres + ncoef)));
  res = loss->work;
  if (ncoef) {
    coef = loss->work + n * nres;
    for (PetscInt c = 0; c < ncoef; c++) PetscCall(PetscArraycpy(coef + c * n, s->coef + c * s->nlocal + offset, n));
  }
  PetscCall(KDPDEResidual(loss->pde, n, NULL, coef, jet, res));
  for (PetscInt i = 0; i < n * nres; i++) {
    sum += res[i] * res[i];
    res[i] *= 2.0 * s->scale;
  }
  *value += s->scale * sum;
  PetscCall(KDPDEResidualAdjoint(loss->pde, n, NULL, coef, jet, res, adj));
  PetscFunctionReturn(0);
}

/* KDJetLossFunction of a value set (initial, boundary, gauge, data): scale * sum over prescribed outputs of the squared
   misfit of the value stream (stream 0 of each output). */
static PetscErrorCode KDLossBlockValue(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[],
                                       PetscReal *value, void *ctx)
{
  KDPointSet *s = (KDPointSet *) ctx;
  PetscInt nin, nout, ns;
  PetscReal sum = 0.0;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(s->loss->pde, &nin, &nout, NULL));
  ns = 1 + nin + s->spec->nsecond;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscReal *u = jet + o * ns * n, *g = s->target + o * s->nlocal + offset;
    PetscReal *a = adj + o * ns * n;
    if (!s->mask[o]) continue;
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal d = u[p] - g[p];
      sum += d * d;
      a[p] += 2.0 * s->scale * d;
    }
  }
  *value += s->scale * sum;
  PetscFunctionReturn(0);
}

/*@C
  KDLossEvaluateLocal - The weighted loss terms and the gradient of their sum with respect to the network parameters,
  over this rank's points only, at the network's current parameters. No communication: the global loss is the sum
  over ranks of sum_t terms[t], the global gradient the sum over ranks of grad.

  Not collective

  Output Parameters:
+ terms - one value per term, in the order of KDLossGetTerms()
- grad  - the gradient (overwritten), length the network's parameter count

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
  PetscCall(PetscArrayzero(grad, nparams));
  for (PetscInt t = 0; t < loss->nsets; t++) {
    KDPointSet *s = &loss->set[t];
    terms[t]      = 0.0;
    if (!s->nlocal) continue;
    PetscCall(KDNetLossGradient(loss->net, s->spec, s->nlocal, s->x,
                                s->type == KD_SET_PDE ? KDLossBlockPDE : KDLossBlockValue, s, &terms[t], grad));
  }
  PetscCall(PetscLogEventEnd(KD_LossEvaluate, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDLossGetTerms - The names of the loss terms, in the order KDLossEvaluateLocal() returns them: a subset of
  pde, ic, bc, gauge, data (terms with zero points or zero weight are left out).

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
  the same global indices. Boundary, initial and data points stay fixed. Epoch 0 is the set KDLossSetUp() draws.

  Not collective (each rank redraws its own index range)

.seealso: KDRandomUniform(), KDPDESamplePoints()
@*/
PetscErrorCode KDLossResample(KDLoss loss, PetscInt k)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0, loss->comm, PETSC_ERR_ARG_OUTOFRANGE, "epoch %" PetscInt_FMT " must be non-negative", k);
  loss->epoch = k;
  if (!loss->setupcalled) PetscFunctionReturn(0);
  for (PetscInt t = 0; t < loss->nsets; t++)
    if (loss->set[t].type == KD_SET_PDE) PetscCall(KDLossDrawInterior(loss, &loss->set[t]));
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
- x    - the points, x[p * nin + i]; NULL means this rank's interior collocation points (n is then ignored)

  Output Parameter:
. rms - the global RMS residual

.seealso: KDPDEResidualNet()
@*/
PetscErrorCode KDLossResidualRMS(KDLoss loss, PetscInt n, const PetscReal x[], PetscReal *rms)
{
  PetscInt nres;
  PetscReal *res, sums[2] = {0.0, 0.0};

  PetscFunctionBegin;
  PetscCheck(loss->net && loss->pde, loss->comm, PETSC_ERR_ORDER, "the loss needs a network and a reference");
  if (!x) PetscCall(KDLossGetPoints(loss, "pde", &n, &x));
  PetscCall(KDPDEGetSizes(loss->pde, NULL, NULL, &nres));
  PetscCall(PetscMalloc1(n * nres, &res));
  PetscCall(KDPDEResidualNet(loss->pde, loss->net, n, x, res));
  for (PetscInt i = 0; i < n * nres; i++) sums[0] += res[i] * res[i];
  sums[1] = (PetscReal) (n * nres);
  PetscCall(PetscFree(res));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPIU_REAL, MPI_SUM, loss->comm));
  PetscCheck(sums[1] > 0, loss->comm, PETSC_ERR_ARG_WRONG, "no points to evaluate the residual on");
  *rms = PetscSqrtReal(sums[0] / sums[1]);
  PetscFunctionReturn(0);
}

/*@C
  KDLossConfigureNet - Makes a network fit the loss's PDE: nin and nout from the PDE (hidden widths kept) and the input
  box from the reference's level-0 domain, in network input order. Call before KDNetSetUp() when the sizes change.

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
    PetscCall(PetscViewerASCIIPrintf(viewer, "term %-6s weight %g, %" PetscInt_FMT " points\n", loss->set[t].name,
                                     (double) loss->set[t].weight, loss->set[t].nglobal));
  if (loss->ndata > 0 && loss->w_data > 0)
    PetscCall(PetscViewerASCIIPrintf(viewer, "data from reference level %" PetscInt_FMT "\n", loss->dlevel));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/* Gauss-Newton: the loss as residual rows (KDLossResidualLocal). A set contributes nr rows per point: the PDE
   components, or the prescribed outputs of a value set. */
static PetscErrorCode KDLossSetRowsPerPoint(KDLoss loss, const KDPointSet *s, PetscInt *nr)
{
  PetscInt nout, nres;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, NULL, &nout, &nres));
  if (s->type == KD_SET_PDE) *nr = nres;
  else {
    *nr = 0;
    for (PetscInt o = 0; o < nout; o++) *nr += s->mask[o] ? 1 : 0;
  }
  PetscFunctionReturn(0);
}

/* KDJetResidualFunction of the interior set: sqrt(scale) N_k and, per component, its linearization in the jets (the
   PDE adjoint with a unit seed on that component). */
static PetscErrorCode KDLossRowsPDE(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal r[], PetscReal seed[],
                                    void *ctx)
{
  KDPointSet *s = (KDPointSet *) ctx;
  KDLoss loss   = s->loss;
  const PetscReal c = PetscSqrtReal(s->scale);
  PetscInt nin, nout, nres, ncoef, S;
  PetscReal *res, *rbar, *coef = NULL;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, &nres));
  PetscCall(KDPDEGetNumCoefficients(loss->pde, &ncoef));
  PetscCall(KDJetSpecGetNumStreams(s->spec, nin, &S));
  PetscCall(KDLossWorkEnsure(loss, n * (2 * nres + ncoef)));
  res  = loss->work;
  rbar = loss->work + n * nres;
  if (ncoef) {
    coef = loss->work + 2 * n * nres;
    for (PetscInt k = 0; k < ncoef; k++) PetscCall(PetscArraycpy(coef + k * n, s->coef + k * s->nlocal + offset, n));
  }
  PetscCall(KDPDEResidual(loss->pde, n, NULL, coef, jet, res));
  for (PetscInt i = 0; i < n * nres; i++) r[i] = c * res[i];
  if (seed)
    for (PetscInt k = 0; k < nres; k++) {
      PetscCall(PetscArrayzero(rbar, n * nres));
      for (PetscInt p = 0; p < n; p++) rbar[k * n + p] = c;
      PetscCall(KDPDEResidualAdjoint(loss->pde, n, NULL, coef, jet, rbar, seed + k * nout * S * n));
    }
  PetscFunctionReturn(0);
}

/* KDJetResidualFunction of a value set: sqrt(scale) (u_o - g_o) for each prescribed output o. */
static PetscErrorCode KDLossRowsValue(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal r[],
                                      PetscReal seed[], void *ctx)
{
  KDPointSet *s     = (KDPointSet *) ctx;
  const PetscReal c = PetscSqrtReal(s->scale);
  PetscInt nin, nout, S, k = 0;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(s->loss->pde, &nin, &nout, NULL));
  S = 1 + nin + s->spec->nsecond;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscReal *u = jet + o * S * n, *g = s->target + o * s->nlocal + offset;
    if (!s->mask[o]) continue;
    for (PetscInt p = 0; p < n; p++) r[k * n + p] = c * (u[p] - g[p]);
    if (seed)
      for (PetscInt p = 0; p < n; p++) seed[(k * nout * S + o * S) * n + p] = c;
    k++;
  }
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
    PetscCall(KDLossSetRowsPerPoint(loss, &loss->set[t], &nr));
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
- J - NULL, or the Jacobian, row-major count x nparams

.seealso: KDLossGetResidualSize(), KDNetResidualJacobian(), KDGaussNewtonStep()
@*/
PetscErrorCode KDLossResidualLocal(KDLoss loss, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  PetscInt nparams, off = 0;

  PetscFunctionBegin;
  PetscCheck(loss->setupcalled && loss->net, loss->comm, PETSC_ERR_ORDER,
             "KDLossResidualLocal needs a set-up loss with a network");
  PetscCall(KDNetGetSizes(loss->net, NULL, NULL, &nparams));
  for (PetscInt t = 0; t < loss->nsets; t++) {
    KDPointSet *s = &loss->set[t];
    PetscInt nr = 0, lo, hi;
    PetscCall(KDLossSetRowsPerPoint(loss, s, &nr));
    lo = PetscMax(start, off);
    hi = PetscMin(start + count, off + nr * s->nlocal);
    if (hi > lo)
      PetscCall(KDNetResidualJacobian(loss->net, s->spec, s->nlocal, s->x, nr,
                                      s->type == KD_SET_PDE ? KDLossRowsPDE : KDLossRowsValue, s, lo - off, hi - lo,
                                      r + (lo - start), J ? J + (lo - start) * nparams : NULL));
    off += nr * s->nlocal;
  }
  PetscCheck(start >= 0 && start + count <= off, loss->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "rows [%" PetscInt_FMT ", %" PetscInt_FMT ") outside this rank's %" PetscInt_FMT, start, start + count,
             off);
  PetscFunctionReturn(0);
}
