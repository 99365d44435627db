/*
  Distillation across scales: the scale filter of a teacher (KDFilter*) and the distillation loss (KDDistillLoss).

  Point sets. The loss has two distillation point sets, each with global indices 0..N-1 split among the ranks by
  PetscSplitOwnership(), so that the global sets do not depend on the rank count:
    cell - cell centres of the student's reference level: every cell (in natural order) if -distill_ncell is at least
           the number of cells, else cell floor(U N_cells) for U = KDRandomUniform(seed, stream 6, j);
    col  - fresh interior collocation points, KDPDESamplePoints() on stream 5 + 16 k for epoch k (the PINN loss uses
           streams 1 + 16 k, 2 + 16 k, 3 + 16 k and 4, src/loss/lossimpl.h, so the streams never coincide).
  For each set the filtered teacher's value, first and second derivatives (those the residual reads: N[T~] at learned
  PDE parameters), its PDE residual N[T~] and the PDE coefficients are computed once, when the set is drawn
  (KDDistillLossSetUp(), KDDistillLossResample()), and cached.
*/
#include <kddistill.h>

#define KD_DSTREAM_COL 5
#define KD_DSTREAM_CELL 6
#define KD_DSTREAM_EPOCH 16 /* the same epoch stride as the PINN loss */

const char *const KDFilterTypes[] = {"box", "children", "midpoint", "KDFilterType", "KD_FILTER_", NULL};

enum { KD_DTERM_OUT, KD_DTERM_GRAD, KD_DTERM_RES, KD_DTERM_N };
static const char *const KDDistillTermNames[KD_DTERM_N] = {"out", "grad", "res"};

typedef struct {
  char name[8];
  PetscInt nglobal, nlocal, gstart;
  PetscReal *x;      /* x[p * nin + i] */
  PetscReal *target; /* T~ value and first derivatives: target[(o * (1 + nin) + s) * nlocal + p] */
  PetscReal *second; /* T~'s second derivatives the residual reads: second[(o * nsecond + k) * nlocal + p] (N[T~] at
                        learned PDE parameters) */
  PetscReal *tres;   /* N[T~]: tres[r * nlocal + p] */
  PetscReal *coef;   /* PDE coefficients: coef[c * nlocal + p] */
} KDDistillSet;

struct _p_KDDistillLoss {
  MPI_Comm comm;
  char *prefix;
  KDNet student, teacher;
  KDLoss physics;
  KDPDE pde;
  KDReference ref;
  PetscInt level;
  PetscInt64 seed;
  PetscInt epoch;

  /* options */
  PetscInt ncell, ncol;
  PetscReal w[KD_DTERM_N];
  PetscReal w_physics; /* the physics factor the schedule ramps to */
  KDFilterType filter;
  PetscInt filter_nodes;
  PetscInt distill_steps, ramp_steps;

  /* set up */
  KDFilterRule rule;
  PetscInt nin, nout, nres, ncoef, nstreams;
  const KDJetSpec *spec;
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN], width[KD_NET_MAX_IN], dscale2[KD_NET_MAX_IN];
  PetscReal scale; /* 1 / (N_cell + N_col) */
  KDDistillSet set[2];
  PetscInt nterms, nphys, term[KD_DTERM_N]; /* term[t]: index of distillation term t in the term list, or -1 */
  const char *names[KD_LOSS_MAX_TERMS];
  PetscReal lambda; /* schedule factor of the physics terms */
  PetscReal acc[KD_DTERM_N];
  PetscReal *pgrad; /* physics gradient */
  /* PDE parameters the physics learns with the network (KDLossGetNumInferred()): they follow the student's parameters
     in the gradient; the residual match N[S] - N[T~] depends on them, so N[T~] is recomputed from the cached jets. */
  PetscInt nextra, ninfer;
  PetscInt infer_param[KD_LOSS_MAX_INFER]; /* their PDE indices */
  PetscReal gextra[KD_LOSS_MAX_INFER];     /* the residual match's gradient with respect to them */
  PetscReal *work;
  PetscInt nwork;
  KDDistillSet *current; /* the set whose blocks KDNetLossGradient() is passing */
  KDTrainer trainer;     /* set by KDTrainerSetDistillLoss(): the step drives the schedule */
  PetscBool setupcalled;
};

static PetscLogEvent KD_DistillTeacher, KD_DistillEvaluate;

static PetscErrorCode KDDistillRegisterEvents(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDDistillTeacher", KD_CLASSID, &KD_DistillTeacher));
  PetscCall(PetscLogEventRegister("KDDistillEvaluate", KD_CLASSID, &KD_DistillEvaluate));
  PetscFunctionReturn(0);
}

/*@C
  KDFilterRuleSetUp - Builds the per-axis rule of a scale filter.

  Not collective

  Input Parameters:
+ type   - KD_FILTER_BOX (Gauss-Legendre average over the box), KD_FILTER_CHILDREN (mean of the 2^d child-cell
centres) or KD_FILTER_MIDPOINT (midpoint rule of nnodes sub-boxes per axis)
- nnodes - nodes per axis: 1..KD_FILTER_MAX_GAUSS (box), 1..KD_FILTER_MAX_NODES (midpoint); ignored for children (2)

  Output Parameter:
. rule - nodes in [-1, 1] relative to the half-width of the box, weights summing to 1

  Notes:
  The box rule is KDGaussLegendre()'s: it integrates polynomials of degree <= 2q - 1 exactly.

.seealso: KDFilterJets(), KDGaussLegendre(), docs/distillation.md
@*/
PetscErrorCode KDFilterRuleSetUp(KDFilterRule *rule, KDFilterType type, PetscInt nnodes)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(rule, sizeof(*rule)));
  rule->type = type;
  if (type == KD_FILTER_CHILDREN) {
    rule->nnodes    = 2;
    rule->node[0]   = -0.5;
    rule->node[1]   = 0.5;
    rule->weight[0] = 0.5;
    rule->weight[1] = 0.5;
    PetscFunctionReturn(0);
  }
  if (type == KD_FILTER_MIDPOINT) {
    PetscCheck(nnodes >= 1 && nnodes <= KD_FILTER_MAX_NODES, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "-filter_nodes %" PetscInt_FMT " not in [1, %d] for the midpoint filter", nnodes, KD_FILTER_MAX_NODES);
    rule->nnodes = nnodes;
    for (PetscInt k = 0; k < nnodes; k++) {
      rule->node[k]   = (2.0 * (PetscReal) k + 1.0) / (PetscReal) nnodes - 1.0;
      rule->weight[k] = 1.0 / (PetscReal) nnodes;
    }
    PetscFunctionReturn(0);
  }
  PetscCheck(type == KD_FILTER_BOX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "unknown filter type %d", (int) type);
  PetscCheck(nnodes >= 1 && nnodes <= KD_FILTER_MAX_GAUSS, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "-filter_nodes %" PetscInt_FMT " not in [1, %d] for the box filter", nnodes, KD_FILTER_MAX_GAUSS);
  rule->nnodes = nnodes;
  PetscCall(KDGaussLegendre(nnodes, rule->node, rule->weight));
  PetscFunctionReturn(0);
}

/*@C
  KDFilterJets - The jets of the filtered function f~ at n points: the rule's weighted mean of f's jets at the
  quadrature nodes of the box of size width centred at each point.

  Not collective

  Input Parameters:
+ rule     - the filter rule (KDFilterRuleSetUp())
. nin, nout, nstreams - sizes of f's jets
. lo, hi   - the domain, per input
. width    - box size per input (the student's cell size)
. f, ctx   - evaluates f's jets at given points (kdnet.h layout)
. n        - number of points
- x        - the points, x[p * nin + i]

  Output Parameter:
. jet - jet[(o * nstreams + s) * n + p]

  Notes:
  The derivative streams are the means of f's derivatives, which are the derivatives of f~ wherever the box lies in
  the domain. Within width/2 of the boundary the box is shrunk symmetrically to fit (half-width min(width/2,
  x - lo, hi - x) per axis), so f~ stays a centred average and equals f on the boundary itself, consistent with the
  boundary and initial conditions. Points are processed in chunks, so the workspace stays small.

.seealso: KDFilterNet(), KDFilterRuleSetUp()
@*/
PetscErrorCode KDFilterJets(const KDFilterRule *rule, PetscInt nin, PetscInt nout, PetscInt nstreams,
                            const PetscReal lo[], const PetscReal hi[], const PetscReal width[], KDJetFunction f,
                            void *ctx, PetscInt n, const PetscReal x[], PetscReal jet[])
{
  PetscInt nq = 1, chunk;
  PetscReal *xq, *jq, *wq;

  PetscFunctionBegin;
  PetscCheck(nin >= 1 && nin <= KD_NET_MAX_IN, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "bad input count");
  for (PetscInt i = 0; i < nin; i++) nq *= rule->nnodes;
  chunk = PetscMax(1, 8192 / nq);
  PetscCall(PetscMalloc3(chunk * nq * nin, &xq, chunk * nq * nout * nstreams, &jq, nq, &wq));
  for (PetscInt k = 0; k < nq; k++) {
    PetscInt rem = k;
    wq[k]        = 1.0;
    for (PetscInt i = 0; i < nin; i++) {
      wq[k] *= rule->weight[rem % rule->nnodes];
      rem /= rule->nnodes;
    }
  }
  for (PetscInt start = 0; start < n; start += chunk) {
    const PetscInt np = PetscMin(chunk, n - start), m = np * nq;
    for (PetscInt p = 0; p < np; p++) {
      const PetscReal *xp = x + (start + p) * nin;
      PetscReal r[KD_NET_MAX_IN];
      for (PetscInt i = 0; i < nin; i++)
        r[i] = PetscMax(0.0, PetscMin(0.5 * width[i], PetscMin(xp[i] - lo[i], hi[i] - xp[i])));
      for (PetscInt k = 0; k < nq; k++) {
        PetscInt rem = k;
        for (PetscInt i = 0; i < nin; i++) {
          xq[(p * nq + k) * nin + i] = xp[i] + rule->node[rem % rule->nnodes] * r[i];
          rem /= rule->nnodes;
        }
      }
    }
    PetscCall((*f)(ctx, m, xq, jq));
    for (PetscInt os = 0; os < nout * nstreams; os++) {
      const PetscReal *a = jq + os * m;
      PetscReal *b       = jet + os * n + start;
      for (PetscInt p = 0; p < np; p++) {
        PetscReal sum = 0.0;
        for (PetscInt k = 0; k < nq; k++) sum += wq[k] * a[p * nq + k];
        b[p] = sum;
      }
    }
  }
  PetscCall(PetscFree3(xq, jq, wq));
  PetscFunctionReturn(0);
}

typedef struct {
  KDNet net;
  const KDJetSpec *spec;
} KDFilterNetContext;

static PetscErrorCode KDFilterNetJets(void *ctx, PetscInt n, const PetscReal x[], PetscReal jet[])
{
  KDFilterNetContext *c = (KDFilterNetContext *) ctx;

  PetscFunctionBegin;
  PetscCall(KDNetJetForward(c->net, c->spec, n, x, jet));
  PetscFunctionReturn(0);
}

/*@C
  KDFilterNet - The jets of a filtered network T~ at n points (KDFilterJets() on KDNetJetForward()).

  Not collective

.seealso: KDFilterJets()
@*/
PetscErrorCode KDFilterNet(const KDFilterRule *rule, KDNet net, const KDJetSpec *spec, const PetscReal lo[],
                           const PetscReal hi[], const PetscReal width[], PetscInt n, const PetscReal x[],
                           PetscReal jet[])
{
  KDFilterNetContext c = {net, spec};
  PetscInt nin, nout, S;

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, &nin, &nout, NULL));
  PetscCall(KDJetSpecGetNumStreams(spec, nin, &S));
  PetscCall(KDFilterJets(rule, nin, nout, S, lo, hi, width, KDFilterNetJets, &c, n, x, jet));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossCreate - Creates a distillation loss. Give it the student and the teacher (KDDistillLossSetNets()), the
  student's PINN loss with its reference level (KDDistillLossSetPhysics()), a seed, then KDDistillLossSetFromOptions()
  and KDDistillLossSetUp().

  Collective

.seealso: KDDistillLossEvaluateLocal(), KDTrainerSetDistillLoss(), docs/distillation.md
@*/
PetscErrorCode KDDistillLossCreate(MPI_Comm comm, KDDistillLoss *dl)
{
  KDDistillLoss d;

  PetscFunctionBegin;
  PetscCall(KDDistillRegisterEvents());
  PetscCall(PetscNew(&d));
  d->comm             = comm;
  d->ncell            = 4096;
  d->ncol             = 4096;
  d->w[KD_DTERM_OUT]  = 1.0;
  d->w[KD_DTERM_GRAD] = 1.e-3;
  d->w[KD_DTERM_RES]  = 1.e-2;
  d->filter           = KD_FILTER_BOX;
  d->filter_nodes     = 3;
  d->distill_steps    = 500;
  d->ramp_steps       = 500;
  d->lambda           = 1.0;
  d->w_physics        = 1.0;
  *dl                 = d;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDDistillLossReset(KDDistillLoss dl)
{
  PetscFunctionBegin;
  for (PetscInt s = 0; s < 2; s++) {
    PetscCall(PetscFree4(dl->set[s].x, dl->set[s].target, dl->set[s].tres, dl->set[s].coef));
    PetscCall(PetscFree(dl->set[s].second));
    PetscCall(PetscMemzero(&dl->set[s], sizeof(dl->set[s])));
  }
  PetscCall(PetscFree(dl->pgrad));
  PetscCall(PetscFree(dl->work));
  dl->nwork       = 0;
  dl->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossDestroy - Destroys a distillation loss and clears the handle; safe on NULL. The nets, the PINN loss and
  the reference are not destroyed.

  Collective
@*/
PetscErrorCode KDDistillLossDestroy(KDDistillLoss *dl)
{
  PetscFunctionBegin;
  if (!dl || !*dl) PetscFunctionReturn(0);
  PetscCall(KDDistillLossReset(*dl));
  PetscCall(PetscFree((*dl)->prefix));
  PetscCall(PetscFree(*dl));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossSetOptionsPrefix - Sets the prefix of the options (student_).

  Logically collective
@*/
PetscErrorCode KDDistillLossSetOptionsPrefix(KDDistillLoss dl, const char prefix[])
{
  PetscFunctionBegin;
  PetscCall(PetscFree(dl->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &dl->prefix));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossSetNets - The student (whose parameters the loss differentiates) and the teacher (the model one level
  finer). Both borrowed; the teacher must have the student's inputs and outputs.

  Logically collective
@*/
PetscErrorCode KDDistillLossSetNets(KDDistillLoss dl, KDNet student, KDNet teacher)
{
  PetscFunctionBegin;
  dl->student = student;
  dl->teacher = teacher;
  if (dl->setupcalled) PetscCall(KDDistillLossReset(dl));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossSetPhysics - The student's PINN loss (its PDE gives the residuals; its terms join the distillation
  terms under the schedule weight) and the reference level of the student, whose cell size is the filter width and
  whose cell centres are the cell point set. Borrowed; the PINN loss must be set up on the same net and level.

  Logically collective
@*/
PetscErrorCode KDDistillLossSetPhysics(KDDistillLoss dl, KDLoss physics, KDReference ref, PetscInt level)
{
  PetscInt nlevels;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  PetscCheck(level >= 1 && level < nlevels, dl->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "student level %" PetscInt_FMT " not in the reference's [1, %" PetscInt_FMT ")", level, nlevels);
  dl->physics = physics;
  dl->ref     = ref;
  dl->level   = level;
  PetscCall(KDLossGetPDE(physics, &dl->pde));
  if (dl->setupcalled) PetscCall(KDDistillLossReset(dl));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossSetFilter - The default scale filter (-<prefix>filter_type, -<prefix>filter_nodes override it): box with
  Gauss-Legendre nodes for a point-valued teacher, children for a teacher that is itself a student one level finer.

  Logically collective
@*/
PetscErrorCode KDDistillLossSetFilter(KDDistillLoss dl, KDFilterType type, PetscInt nodes)
{
  PetscFunctionBegin;
  dl->filter = type;
  if (nodes > 0) dl->filter_nodes = nodes;
  if (dl->setupcalled) PetscCall(KDDistillLossReset(dl));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossSetSeed - The seed of the distillation point sets (the stage passes -kd_seed).

  Logically collective
@*/
PetscErrorCode KDDistillLossSetSeed(KDDistillLoss dl, PetscInt seed)
{
  PetscFunctionBegin;
  PetscCheck(seed >= 0, dl->comm, PETSC_ERR_ARG_OUTOFRANGE, "seed must be non-negative, got %" PetscInt_FMT, seed);
  dl->seed = seed;
  if (dl->setupcalled) PetscCall(KDDistillLossReset(dl));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossSetFromOptions - Reads the distillation options.

  Collective

  Options Database Keys (with the prefix, e.g. -student_):
+ -distill_ncell <4096>   - global points at the cell centres of the student's level (all cells if at least their
number) . -distill_ncol <4096>    - global fresh collocation points of the distillation terms . -w_out <1> - weight of
the output match |S - T~|^2 . -w_grad <1e-3>          - weight of the first-derivative match (derivatives in normalized
inputs) . -w_res <1e-2>           - weight of the residual match |N[S] - N[T~]|^2 . -filter_type <box>      - box
(Gauss-Legendre box average), children (mean of the child-cell centres) or midpoint (equal sub-boxes) .
-filter_nodes <3>       - nodes per axis of the box (Gauss-Legendre, up to 8) or midpoint filter (up to 32) .
-distill_steps <500>    - Adam steps with the distillation terms only (physics weight
0) . -ramp_steps <500>       - Adam steps over which the physics factor ramps linearly from 0 to -w_physics . -w_physics
<1>          - final factor of the PINN loss's terms in the student's loss (the twin is not affected)
- -distill_view           - view the loss after KDDistillLossSetUp()

.seealso: KDDistillScheduleWeight(), docs/distillation.md
@*/
PetscErrorCode KDDistillLossSetFromOptions(KDDistillLoss dl)
{
  const char *p = dl->prefix ? dl->prefix : "";

  PetscFunctionBegin;
  PetscOptionsBegin(dl->comm, dl->prefix, "KDDistillLoss: distillation from the model one level finer", NULL);
  PetscCall(KDOptionsInt("-distill_ncell", "Global distillation points at the cell centres of the student's level",
                         "KDDistillLossSetUp", dl->ncell, &dl->ncell, NULL));
  PetscCall(KDOptionsInt("-distill_ncol", "Global fresh collocation points of the distillation terms",
                         "KDDistillLossSetUp", dl->ncol, &dl->ncol, NULL));
  PetscCall(KDOptionsReal("-w_out", "Weight of the output match to the filtered teacher", "KDDistillLossSetUp",
                          dl->w[KD_DTERM_OUT], &dl->w[KD_DTERM_OUT], NULL));
  PetscCall(KDOptionsReal("-w_grad", "Weight of the first-derivative match (Sobolev term)", "KDDistillLossSetUp",
                          dl->w[KD_DTERM_GRAD], &dl->w[KD_DTERM_GRAD], NULL));
  PetscCall(KDOptionsReal("-w_res", "Weight of the PDE-residual match N[S] - N[T~]", "KDDistillLossSetUp",
                          dl->w[KD_DTERM_RES], &dl->w[KD_DTERM_RES], NULL));
  PetscCall(KDOptionsEnum(
      "-filter_type", "Scale filter of the teacher: box (Gauss-Legendre), children, or midpoint (equal sub-boxes)",
      "KDDistillLossSetFilter", KDFilterTypes, (PetscEnum) dl->filter, (PetscEnum *) &dl->filter, NULL));
  PetscCall(KDOptionsInt("-filter_nodes",
                         "Nodes per axis of the box (Gauss-Legendre, up to 8) or midpoint filter (up to 32)",
                         "KDDistillLossSetFilter", dl->filter_nodes, &dl->filter_nodes, NULL));
  PetscCall(KDOptionsInt("-distill_steps", "Adam steps with the distillation terms only", "KDDistillScheduleWeight",
                         dl->distill_steps, &dl->distill_steps, NULL));
  PetscCall(KDOptionsInt("-ramp_steps", "Adam steps over which the physics terms ramp in linearly",
                         "KDDistillScheduleWeight", dl->ramp_steps, &dl->ramp_steps, NULL));
  PetscCall(KDOptionsReal("-w_physics", "Final factor of the PINN terms (pde, ic, bc, ...) in the student's loss",
                          "KDDistillScheduleWeight", dl->w_physics, &dl->w_physics, NULL));
  PetscCall(PetscOptionsName("-distill_view", "View the distillation loss after setup", "KDDistillLossView", NULL));
  PetscOptionsEnd();
  PetscCheck(dl->ncell >= 0 && dl->ncol >= 0, dl->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sdistill_ncell and -%sdistill_ncol must be non-negative", p, p);
  PetscCheck(dl->w[0] >= 0 && dl->w[1] >= 0 && dl->w[2] >= 0 && dl->w_physics >= 0, dl->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sw_out, -%sw_grad, -%sw_res, -%sw_physics must be non-negative", p, p, p, p);
  {
    const PetscInt max = dl->filter == KD_FILTER_MIDPOINT ? KD_FILTER_MAX_NODES : KD_FILTER_MAX_GAUSS;
    PetscCheck(dl->filter == KD_FILTER_CHILDREN || (dl->filter_nodes >= 1 && dl->filter_nodes <= max), dl->comm,
               PETSC_ERR_ARG_OUTOFRANGE,
               "-%sfilter_nodes %" PetscInt_FMT " not in [1, %" PetscInt_FMT "] for the %s filter", p, dl->filter_nodes,
               max, KDFilterTypes[dl->filter]);
  }
  PetscCheck(dl->distill_steps >= 0 && dl->ramp_steps >= 0, dl->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sdistill_steps and -%sramp_steps must be non-negative", p, p);
  if (dl->setupcalled) PetscCall(KDDistillLossReset(dl));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDDistillSetAllocate(KDDistillLoss dl, KDDistillSet *s, const char name[], PetscInt N)
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(s->name, name, sizeof(s->name)));
  s->nglobal = N;
  PetscCall(KDSplitOwnership(dl->comm, N, &s->nlocal, &s->gstart));
  PetscCall(PetscMalloc4(s->nlocal * dl->nin, &s->x, s->nlocal * dl->nout * (1 + dl->nin), &s->target,
                         s->nlocal * dl->nres, &s->tres, s->nlocal * dl->ncoef, &s->coef));
  PetscCall(PetscMalloc1(s->nlocal * dl->nout * (dl->nstreams - 1 - dl->nin), &s->second));
  PetscFunctionReturn(0);
}

/* The teacher's cache of a set whose points are drawn: coefficients, T~ value, first and second derivatives, N[T~]. */
static PetscErrorCode KDDistillSetCache(KDDistillLoss dl, KDDistillSet *s)
{
  const PetscInt n = s->nlocal, S = dl->nstreams;
  PetscReal *tjet;

  PetscFunctionBegin;
  if (!n) PetscFunctionReturn(0);
  PetscCall(PetscLogEventBegin(KD_DistillTeacher, 0, 0, 0, 0));
  if (dl->ncoef) PetscCall(KDPDEComputeCoefficients(dl->pde, n, s->x, s->coef));
  PetscCall(PetscMalloc1(n * dl->nout * S, &tjet));
  PetscCall(KDFilterNet(&dl->rule, dl->teacher, dl->spec, dl->lo, dl->hi, dl->width, n, s->x, tjet));
  for (PetscInt o = 0; o < dl->nout; o++)
    for (PetscInt st = 0; st <= dl->nin; st++)
      PetscCall(PetscArraycpy(s->target + (o * (1 + dl->nin) + st) * n, tjet + (o * S + st) * n, n));
  for (PetscInt o = 0; o < dl->nout; o++)
    for (PetscInt st = 1 + dl->nin; st < S; st++)
      PetscCall(PetscArraycpy(s->second + (o * (S - 1 - dl->nin) + st - 1 - dl->nin) * n, tjet + (o * S + st) * n, n));
  PetscCall(KDPDEResidual(dl->pde, n, NULL, dl->ncoef ? s->coef : NULL, tjet, s->tres));
  PetscCall(PetscFree(tjet));
  PetscCall(PetscLogEventEnd(KD_DistillTeacher, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDDistillDrawCollocation(KDDistillLoss dl)
{
  KDDistillSet *s = &dl->set[1];

  PetscFunctionBegin;
  if (!s->nglobal) PetscFunctionReturn(0);
  PetscCall(KDPDESamplePoints(dl->pde, KD_PDE_POINTS_INTERIOR, 0, dl->seed,
                              KD_DSTREAM_COL + (PetscInt64) KD_DSTREAM_EPOCH * dl->epoch, s->gstart, s->nlocal, s->x,
                              NULL));
  PetscCall(KDDistillSetCache(dl, s));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossSetUp - Draws the cell and collocation point sets, computes and caches the filtered teacher's values,
  first (and second) derivatives and residual on them, and fixes the list of terms.

  Collective (the point sets are split by global index; the PINN loss must be set up already)

  Options Database Key:
. -<prefix>distill_view - view the loss

.seealso: KDDistillLossResample(), KDDistillLossEvaluateLocal()
@*/
PetscErrorCode KDDistillLossSetUp(KDDistillLoss dl)
{
  PetscInt dim, n[KD_MAX_DIM], map[KD_NET_MAX_IN], ncells = 1, N, snin, snout, tnin, tnout, nparams, nphys;
  PetscReal rlo[KD_MAX_DIM], rhi[KD_MAX_DIM];
  const char *const *pnames;
  PetscInt64 *cells;
  KDDistillSet *s;
  PetscBool flg;
  PetscViewer viewer;
  PetscViewerFormat format;

  PetscFunctionBegin;
  if (dl->setupcalled) PetscFunctionReturn(0);
  PetscCheck(dl->student && dl->teacher, dl->comm, PETSC_ERR_ORDER, "call KDDistillLossSetNets() first");
  PetscCheck(dl->physics, dl->comm, PETSC_ERR_ORDER, "call KDDistillLossSetPhysics() first");
  PetscCall(KDPDEGetSizes(dl->pde, &dl->nin, &dl->nout, &dl->nres));
  PetscCall(KDPDEGetNumCoefficients(dl->pde, &dl->ncoef));
  PetscCall(KDPDEGetJetSpec(dl->pde, &dl->spec));
  PetscCall(KDJetSpecGetNumStreams(dl->spec, dl->nin, &dl->nstreams));
  PetscCall(KDNetGetSizes(dl->student, &snin, &snout, &nparams));
  PetscCall(KDNetGetSizes(dl->teacher, &tnin, &tnout, NULL));
  PetscCheck(snin == dl->nin && snout == dl->nout && tnin == dl->nin && tnout == dl->nout, dl->comm, PETSC_ERR_ARG_SIZ,
             "student (%" PetscInt_FMT " -> %" PetscInt_FMT ") and teacher (%" PetscInt_FMT " -> %" PetscInt_FMT
             ") must both have the PDE's %" PetscInt_FMT " inputs and %" PetscInt_FMT " outputs",
             snin, snout, tnin, tnout, dl->nin, dl->nout);
  PetscCall(KDFilterRuleSetUp(&dl->rule, dl->filter, dl->filter_nodes));

  /* Filter width: the student's cell size per network input; the domain is the PDE's (level-0) box. */
  PetscCall(KDPDEGetDomain(dl->pde, dl->lo, dl->hi));
  PetscCall(KDReferenceGetLevelGrid(dl->ref, dl->level, &dim, n, rlo, rhi));
  PetscCall(KDPDEGetReferenceAxisMap(dl->pde, dl->ref, map));
  for (PetscInt i = 0; i < dl->nin; i++) {
    const PetscReal half = 0.5 * (dl->hi[i] - dl->lo[i]);
    dl->width[i]         = (rhi[map[i]] - rlo[map[i]]) / (PetscReal) n[map[i]];
    dl->dscale2[i]       = half * half;
  }
  for (PetscInt d = 0; d < dim; d++) ncells *= n[d];

  /* Cell set. */
  N = PetscMin(dl->ncell, ncells);
  PetscCall(KDDistillSetAllocate(dl, &dl->set[0], "cell", N));
  s = &dl->set[0];
  PetscCall(PetscMalloc1(s->nlocal, &cells));
  for (PetscInt p = 0; p < s->nlocal; p++) {
    const PetscInt64 j = s->gstart + p;
    if (N == ncells)
      cells[p] = j;
    else
      cells[p] =
          PetscMin((PetscInt64) (KDRandomUniform(dl->seed, KD_DSTREAM_CELL, j) * (PetscReal) ncells), ncells - 1);
  }
  PetscCall(KDReferenceGetCellCentres(dl->ref, dl->level, dl->nin, map, NULL, s->nlocal, cells, s->x));
  PetscCall(PetscFree(cells));
  PetscCall(KDDistillSetCache(dl, s));

  /* Collocation set of the current epoch. */
  PetscCall(KDDistillSetAllocate(dl, &dl->set[1], "col", dl->ncol));
  PetscCall(KDDistillDrawCollocation(dl));
  dl->scale =
      (dl->set[0].nglobal + dl->set[1].nglobal) > 0 ? 1.0 / (PetscReal) (dl->set[0].nglobal + dl->set[1].nglobal) : 0.0;

  /* Terms: the distillation terms with a positive weight (if there are points), then the PINN loss's. */
  dl->nterms = 0;
  for (PetscInt t = 0; t < KD_DTERM_N; t++) {
    dl->term[t] = -1;
    if (dl->w[t] > 0 && dl->scale > 0) {
      dl->term[t]             = dl->nterms;
      dl->names[dl->nterms++] = KDDistillTermNames[t];
    }
  }
  PetscCall(KDLossGetTerms(dl->physics, &nphys, &pnames));
  PetscCheck(dl->nterms + nphys <= KD_LOSS_MAX_TERMS, dl->comm, PETSC_ERR_PLIB, "too many loss terms");
  for (PetscInt t = 0; t < nphys; t++) dl->names[dl->nterms + t] = pnames[t];
  dl->nphys = nphys;
  dl->nterms += nphys;
  PetscCheck(dl->nterms > 0, dl->comm, PETSC_ERR_ARG_WRONG,
             "the distillation loss has no terms: give a positive weight and points to at least one term");
  {
    PetscInt ntotal;
    PetscCall(KDLossGetNumParameters(dl->physics, &ntotal));
    PetscCall(KDLossGetNumInferred(dl->physics, &dl->ninfer));
    dl->nextra = ntotal - nparams;
    PetscCheck(dl->nextra == dl->ninfer, dl->comm, PETSC_ERR_SUP,
               "a distilled student cannot learn a coefficient field (-%sinfer_field): it takes its teacher's physics",
               dl->prefix ? dl->prefix : "");
    for (PetscInt k = 0; k < dl->ninfer; k++) {
      const char *name;
      PetscCall(KDLossGetInferred(dl->physics, k, &name, NULL, NULL, NULL));
      PetscCall(KDPDEGetParameterIndex(dl->pde, name, &dl->infer_param[k]));
    }
    PetscCall(PetscMalloc1(ntotal, &dl->pgrad));
  }
  dl->setupcalled = PETSC_TRUE;

  PetscCall(PetscOptionsGetViewer(dl->comm, NULL, dl->prefix, "-distill_view", &viewer, &format, &flg));
  if (flg) {
    PetscCall(PetscViewerPushFormat(viewer, format));
    PetscCall(KDDistillLossView(dl, viewer));
    PetscCall(PetscViewerPopFormat(viewer));
    PetscCall(PetscViewerDestroy(&viewer));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossGetTerms - The names of the terms in evaluation order: those of out, grad, res with a positive weight,
  then the PINN loss's terms (KDLossGetTerms()).

  Not collective (after KDDistillLossSetUp())
@*/
PetscErrorCode KDDistillLossGetTerms(KDDistillLoss dl, PetscInt *nterms, const char *const **names)
{
  PetscFunctionBegin;
  PetscCheck(dl->setupcalled, dl->comm, PETSC_ERR_ORDER, "call KDDistillLossSetUp() first");
  if (nterms) *nterms = dl->nterms;
  if (names) *names = dl->names;
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossGetPoints - This rank's points of a distillation set, "cell" or "col" (borrowed).

  Not collective
@*/
PetscErrorCode KDDistillLossGetPoints(KDDistillLoss dl, const char name[], PetscInt *n, const PetscReal **x)
{
  PetscFunctionBegin;
  PetscCall(KDDistillLossGetTargets(dl, name, n, x, NULL));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossGetTargets - This rank's points of a distillation set ("cell" or "col") and the cached filtered teacher
  on them: target[(o * (1 + nin) + s) * n + p], s = 0 the value, s = 1 + i the derivative along input i (borrowed).

  Not collective
@*/
PetscErrorCode KDDistillLossGetTargets(KDDistillLoss dl, const char name[], PetscInt *n, const PetscReal **x,
                                       const PetscReal **target)
{
  PetscFunctionBegin;
  PetscCheck(dl->setupcalled, dl->comm, PETSC_ERR_ORDER, "call KDDistillLossSetUp() first");
  *n = 0;
  if (x) *x = NULL;
  if (target) *target = NULL;
  for (PetscInt s = 0; s < 2; s++) {
    PetscBool match;
    PetscCall(PetscStrcmp(dl->set[s].name, name, &match));
    if (!match) continue;
    *n = dl->set[s].nlocal;
    if (x) *x = dl->set[s].x;
    if (target) *target = dl->set[s].target;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossSetPhysicsWeight - Sets the factor lambda >= 0 of the PINN loss's terms (their own weights are
  multiplied by it). KDTrainerSetDistillLoss() sets it to w_physics * KDDistillScheduleWeight() before every evaluation.

  Logically collective
@*/
PetscErrorCode KDDistillLossSetPhysicsWeight(KDDistillLoss dl, PetscReal lambda)
{
  PetscFunctionBegin;
  PetscCheck(lambda >= 0, dl->comm, PETSC_ERR_ARG_OUTOFRANGE, "physics weight %g must be non-negative",
             (double) lambda);
  dl->lambda = lambda;
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossGetSchedule - The schedule: (distill_steps, ramp_steps).

  Not collective
@*/
PetscErrorCode KDDistillLossGetSchedule(KDDistillLoss dl, PetscInt *distill_steps, PetscInt *ramp_steps)
{
  PetscFunctionBegin;
  if (distill_steps) *distill_steps = dl->distill_steps;
  if (ramp_steps) *ramp_steps = dl->ramp_steps;
  PetscFunctionReturn(0);
}

/*@C
  KDDistillScheduleWeight - The physics weight of the progressive schedule before training step `step` (0-based):
  0 during the first K1 = distill_steps steps, (step - K1) / K during the next K = ramp_steps, 1 after, and 1 from the
  end of the Adam phase on (L-BFGS needs a fixed objective), whatever K1 and K.

  Not collective

.seealso: KDTrainerSetDistillLoss()
@*/
PetscReal KDDistillScheduleWeight(PetscInt distill_steps, PetscInt ramp_steps, PetscInt adam_steps, PetscInt step)
{
  if (step >= adam_steps || step >= distill_steps + ramp_steps) return 1.0;
  if (step < distill_steps) return 0.0;
  return (PetscReal) (step - distill_steps) / (PetscReal) ramp_steps;
}

/* The residual match of a block when the physics learns PDE parameters: N[T~] at the current parameters from the
   cached jets (value, first and second derivatives), res overwritten with N[S] - N[T~], and the match's gradient with
   respect to the learned parameters' trainable values added to gextra. */
static PetscErrorCode KDDistillBlockLearned(KDDistillLoss dl, PetscInt n, PetscInt offset, const PetscReal coef[],
                                            const PetscReal jet[], PetscReal res[])
{
  const KDDistillSet *s = dl->current;
  const PetscInt nin = dl->nin, nl = s->nlocal, nr = dl->nres, S = dl->nstreams, nsec = S - 1 - nin;
  const PetscReal sr = dl->w[KD_DTERM_RES] * dl->scale;
  PetscReal *tjet, *tres, *ds, *dt;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4(n * dl->nout * S, &tjet, n * nr, &tres, n * nr, &ds, n * nr, &dt));
  for (PetscInt o = 0; o < dl->nout; o++)
    for (PetscInt st = 0; st < S; st++)
      PetscCall(PetscArraycpy(tjet + (o * S + st) * n,
                              st <= nin ? s->target + (o * (1 + nin) + st) * nl + offset
                                        : s->second + (o * nsec + st - 1 - nin) * nl + offset,
                              n));
  PetscCall(KDPDEResidual(dl->pde, n, NULL, coef, tjet, tres));
  for (PetscInt q = 0; q < nr * n; q++) res[q] -= tres[q];
  for (PetscInt k = 0; k < dl->ninfer; k++) {
    PetscReal g = 0, value, chain;
    PetscBool positive;
    PetscCall(KDPDEResidualParameter(dl->pde, dl->infer_param[k], n, NULL, coef, jet, ds));
    PetscCall(KDPDEResidualParameter(dl->pde, dl->infer_param[k], n, NULL, coef, tjet, dt));
    for (PetscInt q = 0; q < nr * n; q++) g += res[q] * (ds[q] - dt[q]);
    PetscCall(KDLossGetInferred(dl->physics, k, NULL, &value, NULL, NULL));
    PetscCall(KDPDEIsParameterPositive(dl->pde, dl->infer_param[k], &positive));
    chain = positive ? value : 1.0; /* d value / d theta: a positive parameter is trained through its log */
    dl->gextra[k] += 2.0 * sr * g * chain;
  }
  PetscCall(PetscFree4(tjet, tres, ds, dt));
  PetscFunctionReturn(0);
}

/* KDJetLossFunction of a distillation set: the three matches on a block of the set, and their jet adjoints. */
static PetscErrorCode KDDistillBlock(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[],
                                     PetscReal *value, void *ctx)
{
  KDDistillLoss dl      = (KDDistillLoss) ctx;
  const KDDistillSet *s = dl->current;
  const PetscInt nin = dl->nin, S = dl->nstreams, nl = s->nlocal;
  const PetscReal so = dl->w[KD_DTERM_OUT] * dl->scale, sg = dl->w[KD_DTERM_GRAD] * dl->scale;
  const PetscReal sr        = dl->w[KD_DTERM_RES] * dl->scale;
  PetscReal sum[KD_DTERM_N] = {0.0, 0.0, 0.0};

  PetscFunctionBegin;
  for (PetscInt o = 0; o < dl->nout; o++) {
    if (so > 0) {
      const PetscReal *u = jet + (o * S) * n, *t = s->target + (o * (1 + nin)) * nl + offset;
      PetscReal *a = adj + (o * S) * n;
      for (PetscInt p = 0; p < n; p++) {
        const PetscReal d = u[p] - t[p];
        sum[KD_DTERM_OUT] += d * d;
        a[p] += 2.0 * so * d;
      }
    }
    if (sg > 0) {
      for (PetscInt i = 0; i < nin; i++) {
        const PetscReal *u = jet + (o * S + 1 + i) * n, *t = s->target + (o * (1 + nin) + 1 + i) * nl + offset;
        const PetscReal c = dl->dscale2[i];
        PetscReal *a      = adj + (o * S + 1 + i) * n;
        for (PetscInt p = 0; p < n; p++) {
          const PetscReal d = u[p] - t[p];
          sum[KD_DTERM_GRAD] += c * d * d;
          a[p] += 2.0 * sg * c * d;
        }
      }
    }
  }
  if (sr > 0) {
    PetscReal *res, *coef = NULL;
    PetscCall(KDWorkEnsure(&dl->work, &dl->nwork, n * (dl->nres + dl->ncoef)));
    res = dl->work;
    if (dl->ncoef) {
      coef = dl->work + n * dl->nres;
      for (PetscInt c = 0; c < dl->ncoef; c++) PetscCall(PetscArraycpy(coef + c * n, s->coef + c * nl + offset, n));
    }
    PetscCall(KDPDEResidual(dl->pde, n, NULL, coef, jet, res));
    if (dl->ninfer) /* res = N[S] - N[T~] with N[T~] at the current learned parameters */
      PetscCall(KDDistillBlockLearned(dl, n, offset, coef, jet, res));
    else
      for (PetscInt r = 0; r < dl->nres; r++)
        for (PetscInt p = 0; p < n; p++) res[r * n + p] -= s->tres[r * nl + offset + p];
    for (PetscInt q = 0; q < dl->nres * n; q++) {
      sum[KD_DTERM_RES] += res[q] * res[q];
      res[q] *= 2.0 * sr;
    }
    PetscCall(KDPDEResidualAdjoint(dl->pde, n, NULL, coef, jet, res, adj));
  }
  dl->acc[KD_DTERM_OUT] += so * sum[KD_DTERM_OUT];
  dl->acc[KD_DTERM_GRAD] += sg * sum[KD_DTERM_GRAD];
  dl->acc[KD_DTERM_RES] += sr * sum[KD_DTERM_RES];
  *value += so * sum[KD_DTERM_OUT] + sg * sum[KD_DTERM_GRAD] + sr * sum[KD_DTERM_RES];
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossEvaluateLocal - The weighted terms (KDDistillLossGetTerms() order) and the gradient of their sum with
  respect to the student's parameters, over this rank's points only. The PINN loss's terms enter multiplied by the
  physics weight (KDDistillLossSetPhysicsWeight()); at weight 0 they are not evaluated and reported as 0.

  Not collective

  Output Parameters:
+ terms - one value per term
- grad  - the gradient (overwritten): the student's parameters, then the PDE parameters its physics learns (as many
          entries as KDLossGetNumParameters() of the physics)

.seealso: KDDistillLossGetTerms(), KDLossEvaluateLocal()
@*/
PetscErrorCode KDDistillLossEvaluateLocal(KDDistillLoss dl, PetscReal terms[], PetscReal grad[])
{
  PetscInt nparams, nd = dl->nterms - dl->nphys;
  PetscReal total = 0.0;

  PetscFunctionBegin;
  PetscCheck(dl->setupcalled, dl->comm, PETSC_ERR_ORDER, "call KDDistillLossSetUp() before evaluating");
  PetscCall(PetscLogEventBegin(KD_DistillEvaluate, 0, 0, 0, 0));
  PetscCall(KDNetGetSizes(dl->student, NULL, NULL, &nparams));
  PetscCall(PetscArrayzero(grad, nparams + dl->nextra));
  PetscCall(PetscArrayzero(dl->gextra, dl->ninfer));
  for (PetscInt t = 0; t < KD_DTERM_N; t++) dl->acc[t] = 0.0;
  if (nd > 0)
    for (PetscInt s = 0; s < 2; s++) {
      if (!dl->set[s].nlocal) continue;
      dl->current = &dl->set[s];
      PetscCall(
          KDNetLossGradient(dl->student, dl->spec, dl->set[s].nlocal, dl->set[s].x, KDDistillBlock, dl, &total, grad));
    }
  dl->current = NULL;
  for (PetscInt k = 0; k < dl->ninfer; k++) grad[nparams + k] = dl->gextra[k];
  for (PetscInt t = 0; t < KD_DTERM_N; t++)
    if (dl->term[t] >= 0) terms[dl->term[t]] = dl->acc[t];
  if (dl->nphys) {
    PetscReal *pterms = terms + nd;
    if (dl->lambda > 0) {
      PetscCall(KDLossEvaluateLocal(dl->physics, pterms, dl->pgrad));
      for (PetscInt t = 0; t < dl->nphys; t++) pterms[t] *= dl->lambda;
      for (PetscInt i = 0; i < nparams + dl->nextra; i++) grad[i] += dl->lambda * dl->pgrad[i];
    } else
      for (PetscInt t = 0; t < dl->nphys; t++) pterms[t] = 0.0;
  }
  PetscCall(PetscLogEventEnd(KD_DistillEvaluate, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Gauss-Newton: the loss as least-squares rows. A point of a distillation set contributes, in this order, the rows
   sqrt(w_out/N) (S_o - T~_o) per output, sqrt(w_grad c_i/N) (d_i S_o - d_i T~_o) per output and input (c_i the squared
   half-width of input i, as in KDDistillBlock) and sqrt(w_res/N) (N_k[S] - N_k[T~]) per residual component, N the
   number of distillation points of both sets; terms with weight 0 have no rows. */
static PetscErrorCode KDDistillRowsPerPoint(KDDistillLoss dl, PetscInt *nr)
{
  PetscFunctionBegin;
  *nr = 0;
  if (dl->scale <= 0) PetscFunctionReturn(0);
  if (dl->w[KD_DTERM_OUT] > 0) *nr += dl->nout;
  if (dl->w[KD_DTERM_GRAD] > 0) *nr += dl->nout * dl->nin;
  if (dl->w[KD_DTERM_RES] > 0) *nr += dl->nres;
  PetscFunctionReturn(0);
}

/* KDJetResidualFunction of a distillation set (dl->current): the rows above and their jet seeds. The output and
   derivative matches are linear in one jet stream (seed: the row's scale); the residual match is seeded with the PDE
   adjoint of a unit weight on its component, the linearization of N[S] at the current jets. */
static PetscErrorCode KDDistillRows(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal r[], PetscReal seed[],
                                    void *ctx)
{
  KDDistillLoss dl      = (KDDistillLoss) ctx;
  const KDDistillSet *s = dl->current;
  const PetscInt nin = dl->nin, S = dl->nstreams, nl = s->nlocal, nj = dl->nout * S;
  const PetscReal co = PetscSqrtReal(dl->w[KD_DTERM_OUT] * dl->scale);
  const PetscReal cg = PetscSqrtReal(dl->w[KD_DTERM_GRAD] * dl->scale);
  const PetscReal cr = PetscSqrtReal(dl->w[KD_DTERM_RES] * dl->scale);
  PetscInt k         = 0;

  PetscFunctionBegin;
  if (co > 0)
    for (PetscInt o = 0; o < dl->nout; o++, k++) {
      const PetscReal *u = jet + (o * S) * n, *t = s->target + (o * (1 + nin)) * nl + offset;
      for (PetscInt p = 0; p < n; p++) r[k * n + p] = co * (u[p] - t[p]);
      if (seed)
        for (PetscInt p = 0; p < n; p++) seed[(k * nj + o * S) * n + p] = co;
    }
  if (cg > 0)
    for (PetscInt o = 0; o < dl->nout; o++)
      for (PetscInt i = 0; i < nin; i++, k++) {
        const PetscReal *u = jet + (o * S + 1 + i) * n, *t = s->target + (o * (1 + nin) + 1 + i) * nl + offset;
        const PetscReal c = cg * PetscSqrtReal(dl->dscale2[i]);
        for (PetscInt p = 0; p < n; p++) r[k * n + p] = c * (u[p] - t[p]);
        if (seed)
          for (PetscInt p = 0; p < n; p++) seed[(k * nj + o * S + 1 + i) * n + p] = c;
      }
  if (cr > 0) {
    PetscReal *res, *rbar, *coef = NULL;
    PetscCall(KDWorkEnsure(&dl->work, &dl->nwork, n * (2 * dl->nres + dl->ncoef)));
    res  = dl->work;
    rbar = dl->work + n * dl->nres;
    if (dl->ncoef) {
      coef = dl->work + 2 * n * dl->nres;
      for (PetscInt c = 0; c < dl->ncoef; c++) PetscCall(PetscArraycpy(coef + c * n, s->coef + c * nl + offset, n));
    }
    PetscCall(KDPDEResidual(dl->pde, n, NULL, coef, jet, res));
    for (PetscInt q = 0; q < dl->nres; q++, k++) {
      for (PetscInt p = 0; p < n; p++) r[k * n + p] = cr * (res[q * n + p] - s->tres[q * nl + offset + p]);
      if (seed) {
        for (PetscInt i = 0; i < n * dl->nres; i++) rbar[i] = i / n == q ? cr : 0.0;
        PetscCall(KDPDEResidualAdjoint(dl->pde, n, NULL, coef, jet, rbar, seed + k * nj * n));
      }
    }
  }
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossGetResidualSize - Number of least-squares rows of this rank (KDDistillLossResidualLocal()) at the
  current physics weight.

  Not collective

.seealso: KDDistillLossResidualLocal(), KDLossGetResidualSize()
@*/
PetscErrorCode KDDistillLossGetResidualSize(KDDistillLoss dl, PetscInt *m)
{
  PetscInt nr;

  PetscFunctionBegin;
  PetscCheck(dl->setupcalled, dl->comm, PETSC_ERR_ORDER, "call KDDistillLossSetUp() first");
  PetscCheck(!dl->ninfer, dl->comm, PETSC_ERR_SUP,
             "Gauss-Newton does not train the PDE parameters a student learns (-%sgn_steps 0; Adam and L-BFGS do)",
             dl->prefix ? dl->prefix : "");
  PetscCall(KDDistillRowsPerPoint(dl, &nr));
  *m = nr * (dl->set[0].nlocal + dl->set[1].nlocal);
  if (dl->nphys && dl->lambda > 0) {
    PetscInt mp;
    PetscCall(KDLossGetResidualSize(dl->physics, &mp));
    *m += mp;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossResidualLocal - This rank's least-squares rows of the distillation loss and their exact Jacobian with
  respect to the student's parameters: the squares of the rows summed over all ranks are the loss of
  KDDistillLossEvaluateLocal() (summed over its terms and the ranks) at the current physics weight.

  Not collective

  Input Parameters:
+ dl    - the loss, set up
. start - first row
- count - number of rows

  Output Parameters:
+ r - the rows
- J - NULL, or the Jacobian, row-major count x nparams

  Notes:
  Rows: the cell set, then the collocation set, point by point, each point with sqrt(w_out/N) (S - T~) per output,
  sqrt(w_grad c_i/N) (d_i S - d_i T~) per output and input, sqrt(w_res/N) (N_k[S] - N_k[T~]) per residual component
  (terms of weight 0 have none); then the PINN loss's rows (KDLossResidualLocal()) times the square root of the
  physics weight, none at weight 0. A Jacobian row is one reverse pass of its point (KDNetResidualJacobian()).

.seealso: KDDistillLossGetResidualSize(), KDTrainerSetDistillLoss(), KDGaussNewtonStep()
@*/
PetscErrorCode KDDistillLossResidualLocal(KDDistillLoss dl, PetscInt start, PetscInt count, PetscReal r[],
                                          PetscReal J[])
{
  PetscInt nparams, nr, off = 0;

  PetscFunctionBegin;
  PetscCheck(dl->setupcalled, dl->comm, PETSC_ERR_ORDER, "call KDDistillLossSetUp() first");
  PetscCall(KDNetGetSizes(dl->student, NULL, NULL, &nparams));
  PetscCall(KDDistillRowsPerPoint(dl, &nr));
  if (nr > 0)
    for (PetscInt si = 0; si < 2; si++) {
      KDDistillSet *s   = &dl->set[si];
      const PetscInt lo = PetscMax(start, off), hi = PetscMin(start + count, off + nr * s->nlocal);
      if (hi > lo) {
        dl->current = s;
        PetscCall(KDNetResidualJacobian(dl->student, dl->spec, s->nlocal, s->x, nr, KDDistillRows, dl, lo - off,
                                        hi - lo, r + (lo - start), J ? J + (lo - start) * nparams : NULL));
        dl->current = NULL;
      }
      off += nr * s->nlocal;
    }
  if (dl->nphys && dl->lambda > 0) {
    PetscInt mp, lo, hi;
    PetscCall(KDLossGetResidualSize(dl->physics, &mp));
    lo = PetscMax(start, off);
    hi = PetscMin(start + count, off + mp);
    if (hi > lo) {
      const PetscReal c = PetscSqrtReal(dl->lambda);
      PetscReal *rq = r + (lo - start), *Jq = J ? J + (lo - start) * nparams : NULL;
      PetscCall(KDLossResidualLocal(dl->physics, lo - off, hi - lo, rq, Jq));
      for (PetscInt q = 0; q < hi - lo; q++) rq[q] *= c;
      if (Jq)
        for (PetscInt q = 0; q < (hi - lo) * nparams; q++) Jq[q] *= c;
    }
    off += mp;
  }
  PetscCheck(start >= 0 && start + count <= off, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "rows [%" PetscInt_FMT ", %" PetscInt_FMT ") outside this rank's %" PetscInt_FMT, start, start + count,
             off);
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossResample - Draws collocation epoch k: the PINN loss's interior set (KDLossResample()) and the
  distillation collocation set (stream 5 + 16 k), whose filtered-teacher cache is recomputed. The cell set stays.

  Not collective (each rank redraws its own index range)
@*/
PetscErrorCode KDDistillLossResample(KDDistillLoss dl, PetscInt k)
{
  PetscFunctionBegin;
  PetscCheck(k >= 0, dl->comm, PETSC_ERR_ARG_OUTOFRANGE, "epoch %" PetscInt_FMT " must be non-negative", k);
  if (dl->physics) PetscCall(KDLossResample(dl->physics, k));
  if (dl->epoch == k) PetscFunctionReturn(0);
  dl->epoch = k;
  if (dl->setupcalled) PetscCall(KDDistillDrawCollocation(dl));
  PetscFunctionReturn(0);
}

/*@C
  KDDistillLossView - Prints the filter, the point sets, the weights and the schedule.

  Collective
@*/
PetscErrorCode KDDistillLossView(KDDistillLoss dl, PetscViewer viewer)
{
  PetscBool ascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(dl->comm, &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(
      viewer, "KDDistillLoss %s: student level %" PetscInt_FMT ", seed %" PetscInt64_FMT ", epoch %" PetscInt_FMT "\n",
      dl->prefix ? dl->prefix : "", dl->level, dl->seed, dl->epoch));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  if (dl->filter == KD_FILTER_BOX)
    PetscCall(PetscViewerASCIIPrintf(viewer, "filter: box average, %" PetscInt_FMT " Gauss-Legendre nodes per axis\n",
                                     dl->filter_nodes));
  else if (dl->filter == KD_FILTER_MIDPOINT)
    PetscCall(PetscViewerASCIIPrintf(viewer, "filter: box average, midpoint rule of %" PetscInt_FMT " nodes per axis\n",
                                     dl->filter_nodes));
  else
    PetscCall(PetscViewerASCIIPrintf(viewer, "filter: mean of the 2^d child-cell centres\n"));
  if (dl->setupcalled) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "filter width:"));
    for (PetscInt i = 0; i < dl->nin; i++) PetscCall(PetscViewerASCIIPrintf(viewer, " %g", (double) dl->width[i]));
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "\npoints: %" PetscInt_FMT " cell centres, %" PetscInt_FMT " collocation\n",
                                     dl->set[0].nglobal, dl->set[1].nglobal));
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "weights: out %g, grad %g, res %g, physics %g\n",
                                   (double) dl->w[KD_DTERM_OUT], (double) dl->w[KD_DTERM_GRAD],
                                   (double) dl->w[KD_DTERM_RES], (double) dl->w_physics));
  PetscCall(PetscViewerASCIIPrintf(
      viewer, "schedule: %" PetscInt_FMT " steps distillation only, physics ramp over %" PetscInt_FMT " steps\n",
      dl->distill_steps, dl->ramp_steps));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/* The physics factor of the schedule at the trainer's current step: the objective and the Gauss-Newton rows use it. */
static PetscErrorCode KDDistillLossSetScheduleStep(KDDistillLoss dl)
{
  PetscInt step, adam;

  PetscFunctionBegin;
  PetscCall(KDTrainerGetStep(dl->trainer, &step));
  PetscCall(KDTrainerGetBudget(dl->trainer, &adam, NULL, NULL));
  dl->lambda = dl->w_physics * KDDistillScheduleWeight(dl->distill_steps, dl->ramp_steps, adam, step);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDDistillObjective(void *ctx, PetscReal terms[], PetscReal grad[])
{
  KDDistillLoss dl = (KDDistillLoss) ctx;

  PetscFunctionBegin;
  PetscCall(KDDistillLossSetScheduleStep(dl));
  PetscCall(KDDistillLossEvaluateLocal(dl, terms, grad));
  PetscFunctionReturn(0);
}

/* The rows of the Gauss-Newton phase, at the physics weight of the schedule at the trainer's step, exactly as
   KDDistillObjective() evaluates the loss there. */
static PetscErrorCode KDDistillResidualSize(void *ctx, PetscInt *m)
{
  KDDistillLoss dl = (KDDistillLoss) ctx;

  PetscFunctionBegin;
  PetscCall(KDDistillLossSetScheduleStep(dl));
  PetscCall(KDDistillLossGetResidualSize(dl, m));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDDistillResidual(void *ctx, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  KDDistillLoss dl = (KDDistillLoss) ctx;

  PetscFunctionBegin;
  PetscCall(KDDistillLossSetScheduleStep(dl));
  PetscCall(KDDistillLossResidualLocal(dl, start, count, r, J));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDDistillResample(void *ctx, PetscInt epoch)
{
  PetscFunctionBegin;
  PetscCall(KDDistillLossResample((KDDistillLoss) ctx, epoch));
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetDistillLoss - Trains a student on a distillation loss: the objective is KDDistillLossEvaluateLocal() with
  the physics weight of the progressive schedule at the trainer's current step (KDDistillScheduleWeight()), and
  resampling draws new collocation sets for both the PINN and the distillation terms. The trainer's network must be
  the loss's student (KDTrainerSetNet()). The loss's least-squares rows (KDDistillLossResidualLocal(), at the same
  schedule weight) are registered with KDTrainerSetResidual(), so that -student_gn_steps can follow L-BFGS.

  Logically collective (after KDDistillLossSetUp())

.seealso: KDTrainerSetObjective(), KDDistillScheduleWeight()
@*/
PetscErrorCode KDTrainerSetDistillLoss(KDTrainer tr, KDDistillLoss dl)
{
  PetscInt nterms;
  const char *const *names;

  PetscFunctionBegin;
  PetscCall(KDDistillLossGetTerms(dl, &nterms, &names));
  PetscCall(KDTrainerSetObjective(tr, nterms, names, KDDistillObjective, dl));
  PetscCall(KDTrainerSetResample(tr, KDDistillResample, dl));
  PetscCall(KDTrainerSetResidual(tr, KDDistillResidualSize, KDDistillResidual, dl));
  if (dl->ninfer) PetscCall(KDTrainerSetParameterLoss(tr, dl->physics));
  dl->trainer = tr;
  PetscFunctionReturn(0);
}
