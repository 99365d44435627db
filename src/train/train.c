#include "train/trainimpl.h"
#include "net/netimpl.h" /* the weights of a network, for weight decay and the quantization phase */
#include <kdexport.h>    /* KD_INT8_WEIGHT_LEVELS: the export's int8 grid */
#include <petsctao.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
  KDTrainer: data-parallel training of a replicated parameter vector.

  Every rank holds the whole parameter buffer (the network's, or a raw one for a synthetic objective) and evaluates the
  loss on its own share of the points. One evaluation = local terms and gradient, then exactly one MPI_Allreduce
  (MPI_SUM) over the single buffer [gradient (n) | terms (nterms)]; after it every rank holds identical sums, so the
  optimizers below run redundantly and bitwise identically on every rank with no further communication. The sums
  depend on the rank count only through the summation order of the allreduce (round-off); at a fixed rank count they
  are deterministic, which is what makes a restarted run bitwise identical to an uninterrupted one.

  Phases: Adam for -<prefix>adam_steps steps, then L-BFGS (TAO) for -<prefix>lbfgs_steps iterations, then
  Gauss-Newton for -<prefix>gn_steps, then the quantization phase (-<prefix>quantize_steps: the layers after the first
  rounded in turn to the int8 grid and frozen, the parameters still free refitted by Gauss-Newton after each). All
  count toward one step counter; the loss history has one row per step.
*/

typedef enum { KD_PHASE_ADAM, KD_PHASE_LBFGS, KD_PHASE_GN, KD_PHASE_QUANTIZE, KD_PHASE_DONE } KDTrainerPhase;
static const char *const KDTrainerPhaseNames[] = {"adam", "lbfgs", "gn", "quantize", "done"};

typedef enum { KD_LR_DECAY_NONE, KD_LR_DECAY_EXPONENTIAL, KD_LR_DECAY_STEP } KDLearningRateDecay;
static const char *const KDLearningRateDecays[] = {"none",         "exponential", "step", "KDLearningRateDecay",
                                                   "KD_LR_DECAY_", NULL};

/* How the quantization phase puts a layer on the int8 grid (KDTrainerFreezeLayer()) */
typedef enum { KD_QUANTIZE_NEAREST, KD_QUANTIZE_COMPENSATED } KDQuantizeRounding;
static const char *const KDQuantizeRoundings[] = {"nearest", "compensated", "KDQuantizeRounding", "KD_QUANTIZE_", NULL};

/* Evaluations remembered so that the TAO monitor can attach loss terms to the iterate TAO accepted. */
#define KD_TRAINER_RECENT 8

struct _p_KDTrainer {
  MPI_Comm comm;
  char prefix[64];
  char name[64]; /* prefix without its trailing underscore, for messages and the default checkpoint name */
  KDNet net;
  KDLoss loss;

  KDObjectiveFunction objective;
  void *objective_ctx;
  PetscErrorCode (*resample)(void *, PetscInt);
  void *resample_ctx;
  /* Gauss-Newton (src/train/gn.c): the least-squares rows of the objective, the solver, and the step its phase began at
   */
  KDResidualSizeFunction rsize;
  KDResidualFunction rfun;
  void *rctx;
  KDGaussNewton gn;
  PetscInt gn_start;
  /* Weight decay (-<prefix>weight_decay): one more loss term, alpha sum_{i in D} x_i^2 / |D| over the decayed
     parameters D, added once (by rank 0) to the local terms and, for Gauss-Newton, as |D| more rows
     sqrt(alpha / |D|) x_i of rank 0 after the objective's own rows. */
  PetscReal weight_decay;
  PetscBool weight_decay_first;
  PetscReal weight_decay_norm;   /* |D|, the same on every rank */
  PetscInt ndecay, *decay_index; /* D; on rank 0 only (0 elsewhere), so that the term is added once */
  PetscInt nterms_objective;     /* terms the objective itself fills: nterms without the weight-decay term */
  /* Quantization phase: the layers rounded so far (1 .. quantize_layers), the step at which the refit after the last
     of them ends, and the parameters no optimizer moves any more (their gradient and Jacobian columns are zeroed). */
  PetscInt quantize_layers, quantize_end;
  PetscBool *frozen;
  KDQuantizeRounding quantize_rounding;

  PetscInt n;   /* number of parameters */
  PetscReal *x; /* parameters (borrowed, or xown) */
  /* A loss with parameters beyond the network's (inferred PDE parameters, a learned field): the trainer's vector xown
     is [network (nnet) | the loss's extra ones (n - nnet)], pushed into the network's buffer and the loss before
     every evaluation (KDTrainerPush()). */
  PetscInt nnet, ninfer; /* ninfer: the named PDE parameters among the extra entries */
  KDLoss xloss;          /* the loss that holds the extra parameters: the objective's KDLoss, or one given by
                            KDTrainerSetParameterLoss() (a distillation loss's physics) */
  PetscReal *xown, *netx;
  PetscReal *ihistory; /* the inferred parameters' values after each step, nhistory x (n - nnet) */
  PetscInt nterms;
  char *term_names[KD_LOSS_MAX_TERMS];
  PetscReal *buffer;        /* the allreduce buffer: [gradient (n) | terms (nterms) | stop] */
  PetscBool stop_requested; /* a rank caught SIGUSR1/SIGTERM (KDSignalInstall()) */
  PetscReal loss_total;     /* loss of the last completed step */
  PetscReal loss_terms[KD_LOSS_MAX_TERMS];
  PetscReal gnorm;           /* gradient norm of the last completed step */
  KDTrainerPhase step_phase; /* phase of the last completed step */

  /* options */
  PetscInt adam_steps, lbfgs_steps, gn_steps, quantize_steps;
  PetscReal lr0, beta1, beta2, epsilon;
  KDLearningRateDecay decay;
  PetscReal decay_rate;
  PetscInt decay_steps;
  PetscInt resample_every, gn_resample_every, checkpoint_every;
  PetscInt stop_at_step; /* act as if a stop signal arrived during this step (0: never) */
  PetscBool monitor;
  PetscInt monitor_every;
  PetscInt numonitors; /* KDTrainerMonitorSet() */
  KDTrainerMonitorFunction umonitor[KD_TRAINER_MAX_MONITORS];
  void *umonitor_ctx[KD_TRAINER_MAX_MONITORS];
  PetscErrorCode (*umonitor_destroy[KD_TRAINER_MAX_MONITORS])(void **);
  PetscBool restart;
  char checkpoint[PETSC_MAX_PATH_LEN];
  char pde[64];

  /* state (all of it goes into the checkpoint) */
  KDTrainerPhase phase;
  PetscInt step, epoch, adam_t, lbfgs_start;
  PetscReal lr;
  PetscReal *m, *v;
  PetscReal *history;
  PetscInt nhistory, history_capacity;
  PetscReal train_seconds_before; /* spent by the runs this one restarted from */

  /* bookkeeping */
  PetscInt last_checkpoint_step; /* -1: none written or loaded */
  Vec xtao;
  /* The state at the start of the L-BFGS chunk in progress: a stop inside the chunk checkpoints this state, since the
     L-BFGS memory of the chunk cannot be saved (KDTrainerTrain()). */
  PetscReal *chunk_x;
  PetscInt chunk_step, chunk_nhistory;
  PetscReal recent_f[KD_TRAINER_RECENT];
  PetscReal recent_terms[KD_TRAINER_RECENT][KD_LOSS_MAX_TERMS];
  PetscInt nrecent;
  PetscLogDouble time_start, time_monitor;
  PetscInt step_monitor;
  PetscReal train_seconds;
  PetscBool setfromoptions_called, setup;
};

static PetscErrorCode KDTrainerFreezeLayer(KDTrainer, PetscInt, PetscBool);

static PetscLogEvent KD_TRAINER_EVALUATE, KD_TRAINER_ALLREDUCE, KD_TRAINER_ADAM, KD_TRAINER_LBFGS,
    KD_TRAINER_CHECKPOINT;
static PetscBool KDTrainerEventsRegistered = PETSC_FALSE;

static PetscErrorCode KDTrainerRegisterEvents(void)
{
  PetscFunctionBegin;
  if (KDTrainerEventsRegistered) PetscFunctionReturn(0);
  KDTrainerEventsRegistered = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDTrainEval", KD_CLASSID, &KD_TRAINER_EVALUATE));
  PetscCall(PetscLogEventRegister("KDTrainAllreduce", KD_CLASSID, &KD_TRAINER_ALLREDUCE));
  PetscCall(PetscLogEventRegister("KDTrainAdam", KD_CLASSID, &KD_TRAINER_ADAM));
  PetscCall(PetscLogEventRegister("KDTrainLBFGS", KD_CLASSID, &KD_TRAINER_LBFGS));
  PetscCall(PetscLogEventRegister("KDCheckpoint", KD_CLASSID, &KD_TRAINER_CHECKPOINT));
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerCreate - Creates a trainer: Adam, then L-BFGS, on a replicated parameter vector.

  Collective

  Input Parameter:
. comm - the ranks that share the loss evaluation

  Output Parameter:
. tr - the trainer

.seealso: KDTrainerSetNet(), KDTrainerSetLoss(), KDTrainerSetObjective(), KDTrainerTrain()
@*/
PetscErrorCode KDTrainerCreate(MPI_Comm comm, KDTrainer *tr)
{
  KDTrainer t;

  PetscFunctionBegin;
  PetscCall(KDTrainerRegisterEvents());
  PetscCall(PetscNew(&t));
  t->comm                 = comm;
  t->adam_steps           = 2000;
  t->lbfgs_steps          = 1000;
  t->gn_steps             = 0;
  t->lr0                  = 1.e-3;
  t->beta1                = 0.9;
  t->beta2                = 0.999;
  t->epsilon              = 1.e-8;
  t->decay                = KD_LR_DECAY_NONE;
  t->decay_rate           = 0.5;
  t->decay_steps          = 1000;
  t->resample_every       = 0;
  t->gn_resample_every    = 0;
  t->checkpoint_every     = 500;
  t->monitor_every        = 100;
  t->phase                = KD_PHASE_ADAM;
  t->lbfgs_start          = -1;
  t->gn_start             = -1;
  t->quantize_end         = -1;
  t->last_checkpoint_step = -1;
  t->loss_total           = PETSC_MAX_REAL;
  PetscCall(PetscStrncpy(t->name, "trainer", sizeof(t->name)));
  *tr = t;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerDestroy - Destroys a trainer (not the net, loss or parameter buffer it was given).

  Collective
@*/
PetscErrorCode KDTrainerDestroy(KDTrainer *tr)
{
  KDTrainer t;

  PetscFunctionBegin;
  if (!tr || !*tr) PetscFunctionReturn(0);
  t = *tr;
  for (PetscInt k = 0; k < t->numonitors; k++)
    if (t->umonitor_destroy[k]) PetscCall((*t->umonitor_destroy[k])(&t->umonitor_ctx[k]));
  for (PetscInt k = 0; k < KD_LOSS_MAX_TERMS; k++) PetscCall(PetscFree(t->term_names[k]));
  PetscCall(PetscFree(t->buffer));
  PetscCall(PetscFree(t->m));
  PetscCall(PetscFree(t->v));
  PetscCall(PetscFree(t->history));
  PetscCall(PetscFree(t->chunk_x));
  PetscCall(PetscFree(t->decay_index));
  PetscCall(PetscFree(t->frozen));
  PetscCall(PetscFree(t->xown));
  PetscCall(PetscFree(t->ihistory));
  PetscCall(VecDestroy(&t->xtao));
  PetscCall(KDGaussNewtonDestroy(&t->gn));
  PetscCall(PetscFree(t));
  *tr = NULL;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetOptionsPrefix - Sets the prefix of the trainer's options, e.g. "teacher_" for -teacher_adam_steps. The
  L-BFGS solver (TAO) gets the same prefix (-teacher_tao_...).

  Logically collective
@*/
PetscErrorCode KDTrainerSetOptionsPrefix(KDTrainer tr, const char prefix[])
{
  size_t len;

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(tr->prefix, prefix ? prefix : "", sizeof(tr->prefix)));
  PetscCall(PetscStrncpy(tr->name, tr->prefix[0] ? tr->prefix : "trainer", sizeof(tr->name)));
  PetscCall(PetscStrlen(tr->name, &len));
  if (len > 1 && tr->name[len - 1] == '_') tr->name[len - 1] = 0;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetName - Sets the name the trainer uses in its monitor lines and messages (default: the options prefix
  without its trailing underscore), e.g. "student_L1" for a trainer whose options are -student_*. Call after
  KDTrainerSetOptionsPrefix(), which resets it.

  Logically collective
@*/
PetscErrorCode KDTrainerSetName(KDTrainer tr, const char name[])
{
  PetscFunctionBegin;
  PetscCheck(name && name[0], tr->comm, PETSC_ERR_ARG_WRONG, "KDTrainerSetName needs a non-empty name");
  PetscCall(PetscStrncpy(tr->name, name, sizeof(tr->name)));
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerGetName - The name the trainer uses in its monitor lines and messages (KDTrainerSetName()).

  Not collective
@*/
PetscErrorCode KDTrainerGetName(KDTrainer tr, const char *name[])
{
  PetscFunctionBegin;
  *name = tr->name;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTrainerSetTermNames(KDTrainer tr, PetscInt nterms, const char *const names[])
{
  PetscFunctionBegin;
  PetscCheck(nterms >= 1 && nterms <= KD_LOSS_MAX_TERMS, tr->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "%" PetscInt_FMT " loss terms, expected 1 to %d", nterms, KD_LOSS_MAX_TERMS);
  for (PetscInt k = 0; k < KD_LOSS_MAX_TERMS; k++) PetscCall(PetscFree(tr->term_names[k]));
  for (PetscInt k = 0; k < nterms; k++) {
    PetscCheck(names && names[k] && !strchr(names[k], ','), tr->comm, PETSC_ERR_ARG_WRONG,
               "loss term %" PetscInt_FMT " needs a name without commas", k);
    PetscCall(PetscStrallocpy(names[k], &tr->term_names[k]));
  }
  tr->nterms = nterms;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetNet - Trains the parameters of a network (its contiguous buffer, KDNetGetParameters()).

  Logically collective
@*/
PetscErrorCode KDTrainerSetNet(KDTrainer tr, KDNet net)
{
  PetscFunctionBegin;
  tr->net = net;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetLoss - Uses a KDLoss as the objective: KDLossEvaluateLocal() for the local terms and gradient,
  KDLossResample() every -<prefix>resample_every steps.

  Logically collective
@*/
PetscErrorCode KDTrainerSetLoss(KDTrainer tr, KDLoss loss)
{
  PetscFunctionBegin;
  tr->loss      = loss;
  tr->xloss     = loss;
  tr->objective = NULL;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetParameterLoss - For a KDTrainerSetObjective() objective: the KDLoss whose extra parameters (the PDE
  parameters it infers or learns, KDLossGetNumParameters()) the trainer trains after the network's. The objective's
  gradient then has KDLossGetNumParameters() entries, and the trainer hands the loss its values before every
  evaluation, as for a KDTrainerSetLoss() loss. A distillation loss passes its physics (KDTrainerSetDistillLoss()).

  Logically collective (after KDTrainerSetObjective())

.seealso: KDTrainerSetObjective(), KDLossGetExtraParameters()
@*/
PetscErrorCode KDTrainerSetParameterLoss(KDTrainer tr, KDLoss loss)
{
  PetscFunctionBegin;
  PetscCheck(!tr->loss, tr->comm, PETSC_ERR_ORDER,
             "KDTrainerSetParameterLoss() is for an objective set by KDTrainerSetObjective()");
  tr->xloss = loss;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetObjective - Uses a user objective instead of a KDLoss.

  Logically collective

  Input Parameters:
+ tr     - the trainer
. nterms - number of loss terms; the loss is their sum
. names  - their names (for the monitor and the loss history)
. f      - f(ctx, terms, grad): this rank's share of the terms and of the gradient at the current parameters (both
           arrays are zeroed before the call); the trainer sums them over the ranks
- ctx    - passed to f

  Note:
  The global loss must not depend on how the terms are shared among ranks, except through round-off: give each rank
  the terms of the global indices it owns.

.seealso: KDTrainerSetParameters(), KDTrainerSetResample()
@*/
PetscErrorCode KDTrainerSetObjective(KDTrainer tr, PetscInt nterms, const char *const names[], KDObjectiveFunction f,
                                     void *ctx)
{
  PetscFunctionBegin;
  PetscCall(KDTrainerSetTermNames(tr, nterms, names));
  tr->objective     = f;
  tr->objective_ctx = ctx;
  tr->loss          = NULL;
  tr->xloss         = NULL;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerMonitorSet - Adds a function called after each progress line of -kd_monitor, for what the trainer cannot
  know: e.g. the error of a learned field against the truth while it trains. It is called on every rank, in the order
  the functions were added (at most KD_TRAINER_MAX_MONITORS).

  Logically collective

  Input Parameters:
+ tr      - the trainer
. f       - f(tr, step, x, ctx): step the step just reported, x the parameters reported (the trainer's whole vector, the
            loss's extra parameters after the network's; do not keep the pointer)
. ctx     - passed to f
- destroy - frees ctx when the trainer is destroyed (may be NULL)

  Notes:
  f may set the parameters of the trainer's loss (KDLossSetExtraParameters()): the trainer sets them again before
  every evaluation. f may also evaluate the network at x, by copying x into its parameters (KDNetGetParameters()), if
  it puts back what it found there. KDTrainerGetTrainTime() gives the wall time up to the reported step.

.seealso: KDTrainerSetFromOptions(), KDLossGetField(), KDValidateMonitorSetFromOptions()
@*/
PetscErrorCode KDTrainerMonitorSet(KDTrainer tr, KDTrainerMonitorFunction f, void *ctx,
                                   PetscErrorCode (*destroy)(void **))
{
  PetscFunctionBegin;
  PetscCheck(tr->numonitors < KD_TRAINER_MAX_MONITORS, tr->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "KDTrainer %s: more than %d monitors", tr->name, KD_TRAINER_MAX_MONITORS);
  tr->umonitor[tr->numonitors]         = f;
  tr->umonitor_ctx[tr->numonitors]     = ctx;
  tr->umonitor_destroy[tr->numonitors] = destroy;
  tr->numonitors++;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetParameters - Trains a raw parameter buffer, replicated on every rank, instead of a network's.

  Logically collective

  Input Parameters:
+ tr - the trainer
. n  - number of parameters
- x  - the buffer (the initial values on input; updated in place; must stay alive while the trainer uses it)
@*/
PetscErrorCode KDTrainerSetParameters(KDTrainer tr, PetscInt n, PetscReal x[])
{
  PetscFunctionBegin;
  PetscCheck(n > 0 && x, tr->comm, PETSC_ERR_ARG_WRONG, "KDTrainerSetParameters needs a non-empty buffer");
  tr->n = n;
  tr->x = x;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetResample - Sets the routine that draws collocation set `epoch` for a KDTrainerSetObjective() objective.

  Logically collective
@*/
PetscErrorCode KDTrainerSetResample(KDTrainer tr, PetscErrorCode (*resample)(void *, PetscInt), void *ctx)
{
  PetscFunctionBegin;
  tr->resample     = resample;
  tr->resample_ctx = ctx;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetCheckpoint - Sets the checkpoint file (default <kd_out>/checkpoint_<prefix>.h5, e.g.
  checkpoint_teacher.h5); -<prefix>checkpoint overrides it.

  Logically collective
@*/
PetscErrorCode KDTrainerSetCheckpoint(KDTrainer tr, const char path[])
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(tr->checkpoint, path ? path : "", sizeof(tr->checkpoint)));
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetFromOptions - Reads the trainer's options.

  Collective

  Options Database Keys (shown for the prefix teacher_):
+ -teacher_adam_steps <2000>          - Adam steps
. -teacher_adam_lr <1e-3>             - Adam learning rate
. -teacher_adam_lr_decay <none>       - learning-rate schedule: none, exponential (lr rate^(k/steps)), step
                                        (lr rate^floor(k/steps)), k = Adam step
. -teacher_adam_lr_decay_rate <0.5>   - factor of the schedule
. -teacher_adam_lr_decay_steps <1000> - steps over which the schedule applies the factor once
. -teacher_adam_beta1 <0.9>, -teacher_adam_beta2 <0.999>, -teacher_adam_epsilon <1e-8> - Adam's constants
. -teacher_lbfgs_steps <1000>         - L-BFGS iterations (TAO, -teacher_tao_type lmvm, options -teacher_tao_*)
. -teacher_gn_steps <0>               - Levenberg-Marquardt steps after L-BFGS (ScaLAPACK; -teacher_gn_* options, see
                                        KDGaussNewtonSetFromOptions())
. -teacher_resample_every <0>         - draw a new collocation set every K Adam steps (0: never)
. -teacher_gn_resample_every <0>      - draw a new collocation set every K Gauss-Newton steps (0: never)
. -teacher_checkpoint_every <500>     - write a checkpoint every K steps (0: never); L-BFGS restarts its memory there
. -teacher_checkpoint <path>          - checkpoint file
. -teacher_stop_at_step <0>           - stop after step N as a stop signal would (checkpoint, exit status 3), to test
                                        stop-and-resume (0: never)
. -teacher_restart, -kd_restart       - resume from the checkpoint file if it exists
. -kd_monitor                         - print a progress line every -kd_monitor_every steps
. -kd_monitor_every <100>             - steps between monitor lines
- -teacher_trainer_view               - view the trainer after training

.seealso: docs/training.md
@*/
PetscErrorCode KDTrainerSetFromOptions(KDTrainer tr)
{
  KDCommonOptions common;
  PetscBool restart = PETSC_FALSE, kd_restart = PETSC_FALSE;
  const char *pre = tr->prefix[0] ? tr->prefix : NULL;

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(tr->comm, &common));
  PetscCall(PetscStrncpy(tr->pde, common.pde, sizeof(tr->pde)));
  if (!tr->checkpoint[0]) {
    char name[PETSC_MAX_PATH_LEN];
    PetscCall(PetscSNPrintf(name, sizeof(name), "checkpoint_%s.h5", tr->prefix[0] ? tr->name : "trainer"));
    PetscCall(KDOutputPath(common.out, name, tr->checkpoint, sizeof(tr->checkpoint)));
  }
  PetscOptionsBegin(tr->comm, pre, "KDTrainer options (Adam, then L-BFGS)", "KDTrainer");
  PetscCall(
      KDOptionsInt("-adam_steps", "Adam steps", "KDTrainerSetFromOptions", tr->adam_steps, &tr->adam_steps, NULL));
  PetscCall(KDOptionsReal("-adam_lr", "Adam learning rate", "KDTrainerSetFromOptions", tr->lr0, &tr->lr0, NULL));
  PetscCall(KDOptionsEnum(
      "-adam_lr_decay", "Learning-rate schedule: none, exponential (lr*rate^(k/steps)), step (lr*rate^floor(k/steps))",
      "KDTrainerSetFromOptions", KDLearningRateDecays, (PetscEnum) tr->decay, (PetscEnum *) &tr->decay, NULL));
  PetscCall(KDOptionsReal("-adam_lr_decay_rate", "Factor of the learning-rate schedule", "KDTrainerSetFromOptions",
                          tr->decay_rate, &tr->decay_rate, NULL));
  PetscCall(KDOptionsInt("-adam_lr_decay_steps", "Adam steps over which the schedule applies its factor once",
                         "KDTrainerSetFromOptions", tr->decay_steps, &tr->decay_steps, NULL));
  PetscCall(KDOptionsReal("-adam_beta1", "Adam decay of the first moment", "KDTrainerSetFromOptions", tr->beta1,
                          &tr->beta1, NULL));
  PetscCall(KDOptionsReal("-adam_beta2", "Adam decay of the second moment", "KDTrainerSetFromOptions", tr->beta2,
                          &tr->beta2, NULL));
  PetscCall(KDOptionsReal("-adam_epsilon", "Adam denominator offset", "KDTrainerSetFromOptions", tr->epsilon,
                          &tr->epsilon, NULL));
  PetscCall(KDOptionsInt("-lbfgs_steps", "L-BFGS iterations after Adam (TAO lmvm; TAO options take the same prefix)",
                         "KDTrainerSetFromOptions", tr->lbfgs_steps, &tr->lbfgs_steps, NULL));
  PetscCall(KDOptionsInt("-gn_steps", "Gauss-Newton (Levenberg-Marquardt) steps after L-BFGS",
                         "KDTrainerSetFromOptions", tr->gn_steps, &tr->gn_steps, NULL));
  PetscCall(KDOptionsInt("-quantize_steps",
                         "Quantization in the loop, after Gauss-Newton: the layers after the first are rounded in "
                         "turn to the int8 grid of kdpinn export (per row, 127 levels) and frozen, each followed by "
                         "this many Gauss-Newton steps on the parameters still free (0: none)",
                         "KDTrainerSetFromOptions", tr->quantize_steps, &tr->quantize_steps, NULL));
  PetscCall(KDOptionsEnum("-quantize_rounding",
                          "How the quantization phase rounds a layer: nearest (each weight to its nearest level), "
                          "compensated (one weight at a time, the least costly first, every parameter still free "
                          "moved by the inverse Gauss-Newton matrix to make up for it)",
                          "KDTrainerSetFromOptions", KDQuantizeRoundings, (PetscEnum) tr->quantize_rounding,
                          (PetscEnum *) &tr->quantize_rounding, NULL));
  PetscCall(KDOptionsReal("-weight_decay",
                          "Weight decay alpha: adds the loss term alpha |w|^2 / dim(w) over the weights w of a network "
                          "(all parameters of a raw buffer), in every phase, Gauss-Newton included (0: none)",
                          "KDTrainerSetFromOptions", tr->weight_decay, &tr->weight_decay, NULL));
  PetscCall(PetscOptionsBool("-weight_decay_first",
                             "Decay the first layer's weights too (by default a network's decay takes the weights of "
                             "every layer but the first, which maps the coordinates and stays float32 in every export)",
                             "KDTrainerSetFromOptions", tr->weight_decay_first, &tr->weight_decay_first, NULL));
  PetscCall(KDOptionsInt("-resample_every", "Draw a new collocation set every K Adam steps (0: never)",
                         "KDTrainerSetFromOptions", tr->resample_every, &tr->resample_every, NULL));
  PetscCall(KDOptionsInt("-gn_resample_every",
                         "Draw a new collocation set every K Gauss-Newton steps, so that the network fits the data "
                         "less between fixed collocation points (0: never)",
                         "KDTrainerSetFromOptions", tr->gn_resample_every, &tr->gn_resample_every, NULL));
  PetscCall(KDOptionsInt("-checkpoint_every",
                         "Write a checkpoint every K steps (0: never); L-BFGS restarts its memory at these steps",
                         "KDTrainerSetFromOptions", tr->checkpoint_every, &tr->checkpoint_every, NULL));
  PetscCall(PetscOptionsString("-checkpoint", "Checkpoint file", "KDTrainerSetCheckpoint", tr->checkpoint,
                               tr->checkpoint, sizeof(tr->checkpoint), NULL));
  PetscCall(KDOptionsInt("-stop_at_step",
                         "Stop after step N as a stop signal would (checkpoint, exit status 3), to test "
                         "stop-and-resume (0: never)",
                         "KDTrainerSetFromOptions", tr->stop_at_step, &tr->stop_at_step, NULL));
  PetscCall(PetscOptionsBool("-restart", "Resume from the checkpoint file if it exists", "KDTrainerSetFromOptions",
                             restart, &restart, NULL));
  PetscOptionsEnd();
  PetscOptionsBegin(tr->comm, NULL, "Training monitor and restart", "KDTrainer");
  PetscCall(PetscOptionsBool("-kd_monitor",
                             "Print a progress line (step, loss terms, gradient norm, time per step, ETA)",
                             "KDTrainerSetFromOptions", tr->monitor, &tr->monitor, NULL));
  PetscCall(KDOptionsInt("-kd_monitor_every", "Steps between monitor lines", "KDTrainerSetFromOptions",
                         tr->monitor_every, &tr->monitor_every, NULL));
  PetscCall(PetscOptionsBool("-kd_restart", "Resume every trainer from its checkpoint file if it exists",
                             "KDTrainerSetFromOptions", kd_restart, &kd_restart, NULL));
  PetscOptionsEnd();
  tr->restart = (restart || kd_restart) ? PETSC_TRUE : PETSC_FALSE;
  {
    PetscBool help;
    PetscCall(KDHelpRequested(&help));
    if (help) { /* the solver reads its options only when a GN phase is set up: list them (and mark them read) */
      KDGaussNewton gn;
      PetscCall(KDGaussNewtonCreate(tr->comm, &gn));
      PetscCall(KDGaussNewtonSetOptionsPrefix(gn, tr->prefix));
      PetscCall(KDGaussNewtonSetFromOptions(gn));
      PetscCall(KDGaussNewtonDestroy(&gn));
    }
  }

  PetscCheck(tr->adam_steps >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sadam_steps must be >= 0", tr->prefix);
  PetscCheck(tr->lbfgs_steps >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%slbfgs_steps must be >= 0", tr->prefix);
  PetscCheck(tr->gn_steps >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sgn_steps must be >= 0", tr->prefix);
  PetscCheck(tr->quantize_steps >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%squantize_steps must be >= 0", tr->prefix);
  PetscCheck(tr->weight_decay >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sweight_decay must be >= 0", tr->prefix);
  PetscCheck(tr->lr0 > 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sadam_lr must be positive", tr->prefix);
  PetscCheck(tr->beta1 >= 0 && tr->beta1 < 1 && tr->beta2 >= 0 && tr->beta2 < 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sadam_beta1 and -%sadam_beta2 must be in [0, 1)", tr->prefix, tr->prefix);
  PetscCheck(tr->epsilon > 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sadam_epsilon must be positive", tr->prefix);
  PetscCheck(tr->decay_rate > 0 && tr->decay_steps > 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sadam_lr_decay_rate and -%sadam_lr_decay_steps must be positive", tr->prefix, tr->prefix);
  PetscCheck(tr->resample_every >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sresample_every must be >= 0", tr->prefix);
  PetscCheck(tr->gn_resample_every >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sgn_resample_every must be >= 0",
             tr->prefix);
  PetscCheck(tr->checkpoint_every >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%scheckpoint_every must be >= 0",
             tr->prefix);
  PetscCheck(tr->stop_at_step >= 0, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sstop_at_step must be >= 0", tr->prefix);
  PetscCheck(tr->monitor_every >= 1, tr->comm, PETSC_ERR_ARG_OUTOFRANGE, "-kd_monitor_every must be >= 1");
  PetscCheck(tr->checkpoint[0] || (!tr->checkpoint_every && !tr->restart), tr->comm, PETSC_ERR_ARG_WRONG,
             "-%scheckpoint must name a file", tr->prefix);
  tr->setfromoptions_called = PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTrainerResampleLoss(void *ctx, PetscInt epoch)
{
  PetscFunctionBegin;
  PetscCall(KDLossResample((KDLoss) ctx, epoch));
  PetscFunctionReturn(0);
}

/* Hands the trainer's vector to the network and the loss when it holds inferred parameters (cheap: one copy of the
   network's parameters, against an evaluation over every point). */
static PetscErrorCode KDTrainerPush(KDTrainer tr)
{
  PetscFunctionBegin;
  if (!tr->xown) PetscFunctionReturn(0);
  PetscCall(PetscArraycpy(tr->netx, tr->x, tr->nnet));
  PetscCall(KDLossSetExtraParameters(tr->xloss, tr->x + tr->nnet));
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetResidual - The least-squares rows of a KDTrainerSetObjective() objective, for the Gauss-Newton phase
  (-<prefix>gn_steps): the squares of the rows summed over the ranks must equal the objective's loss. A KDLoss
  provides its rows itself (KDLossResidualLocal()).

  Logically collective

.seealso: KDGaussNewtonSetResidual(), docs/gauss-newton.md
@*/
PetscErrorCode KDTrainerSetResidual(KDTrainer tr, KDResidualSizeFunction size, KDResidualFunction f, void *ctx)
{
  PetscFunctionBegin;
  tr->rsize = size;
  tr->rfun  = f;
  tr->rctx  = ctx;
  PetscFunctionReturn(0);
}

/* The Gauss-Newton rows of the trainer's objective: the objective's own rows (a KDLoss's, or KDTrainerSetResidual()'s),
   then on rank 0 the weight-decay rows sqrt(alpha / |D|) x_i, i in D, each with one Jacobian entry sqrt(alpha / |D|).
 */
static PetscErrorCode KDTrainerObjectiveResidualSize(KDTrainer tr, PetscInt *m)
{
  PetscFunctionBegin;
  if (tr->loss)
    PetscCall(KDLossGetResidualSize(tr->loss, m));
  else
    PetscCall((*tr->rsize)(tr->rctx, m));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTrainerResidualSize(void *ctx, PetscInt *m)
{
  KDTrainer tr = (KDTrainer) ctx;

  PetscFunctionBegin;
  PetscCall(KDTrainerObjectiveResidualSize(tr, m));
  *m += tr->ndecay;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTrainerResidual(void *ctx, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  KDTrainer tr = (KDTrainer) ctx;
  PetscInt mobj, nobj;

  PetscFunctionBegin;
  PetscCall(KDTrainerPush(tr));
  PetscCall(KDTrainerObjectiveResidualSize(tr, &mobj));
  nobj = PetscMax(0, PetscMin(count, mobj - start));
  if (nobj > 0) {
    if (tr->loss)
      PetscCall(KDLossResidualLocal(tr->loss, start, nobj, r, J));
    else
      PetscCall((*tr->rfun)(tr->rctx, start, nobj, r, J));
  }
  for (PetscInt k = nobj; k < count; k++) {
    const PetscInt i  = tr->decay_index[start + k - mobj]; /* the parameter of this decay row */
    const PetscReal c = PetscSqrtReal(tr->weight_decay / tr->weight_decay_norm);
    r[k]              = c * tr->x[i];
    if (J) {
      PetscCall(PetscArrayzero(J + k * tr->n, tr->n));
      J[k * tr->n + i] = c;
    }
  }
  if (J && tr->quantize_layers > 0)
    for (PetscInt k = 0; k < count; k++)
      for (PetscInt i = 0; i < tr->n; i++)
        if (tr->frozen[i]) J[k * tr->n + i] = 0;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerSetUp - Sizes the trainer from its net (or raw buffer) and loss; allocates the optimizer state.

  Collective
@*/
PetscErrorCode KDTrainerSetUp(KDTrainer tr)
{
  PetscFunctionBegin;
  if (tr->setup) PetscFunctionReturn(0);
  if (!tr->setfromoptions_called) PetscCall(KDTrainerSetFromOptions(tr));
  if (tr->net) {
    PetscInt nparams, ntotal = 0;
    PetscCall(KDNetGetSizes(tr->net, NULL, NULL, &nparams));
    PetscCall(KDNetGetParameters(tr->net, &tr->x));
    tr->n = nparams;
    if (tr->xloss) PetscCall(KDLossGetNumParameters(tr->xloss, &ntotal));
    if (ntotal > nparams) {
      tr->nnet = nparams;
      tr->netx = tr->x;
      tr->n    = ntotal;
      PetscCall(KDLossGetNumInferred(tr->xloss, &tr->ninfer));
      PetscCall(PetscMalloc1(tr->n, &tr->xown));
      PetscCall(PetscArraycpy(tr->xown, tr->netx, nparams));
      PetscCall(KDLossGetExtraParameters(tr->xloss, tr->xown + nparams));
      tr->x = tr->xown;
    }
  }
  PetscCheck(tr->n > 0 && tr->x, tr->comm, PETSC_ERR_ORDER,
             "KDTrainer %s has no parameters: call KDTrainerSetNet() or KDTrainerSetParameters()", tr->name);
  if (tr->loss) {
    PetscInt nterms;
    const char *const *names;
    PetscCall(KDLossGetTerms(tr->loss, &nterms, &names));
    PetscCall(KDTrainerSetTermNames(tr, nterms, names));
    tr->resample     = KDTrainerResampleLoss;
    tr->resample_ctx = tr->loss;
  }
  PetscCheck(tr->loss || tr->objective, tr->comm, PETSC_ERR_ORDER,
             "KDTrainer %s has no objective: call KDTrainerSetLoss() or KDTrainerSetObjective()", tr->name);
  tr->nterms_objective = tr->nterms;
  if (tr->weight_decay > 0) {
    PetscCheck(tr->nterms < KD_LOSS_MAX_TERMS, tr->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-%sweight_decay: the objective already has the most loss terms a trainer takes (%d)", tr->prefix,
               KD_LOSS_MAX_TERMS);
    PetscCall(PetscStrallocpy("weight_decay", &tr->term_names[tr->nterms]));
    tr->nterms++;
    PetscMPIInt rank;
    PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
    PetscCall(PetscMalloc1(tr->n, &tr->decay_index));
    tr->ndecay = 0;
    if (tr->net) {
      PetscInt nw;
      const PetscInt *w;
      PetscCall(KDNetGetWidths(tr->net, &nw, &w));
      for (PetscInt k = tr->weight_decay_first ? 0 : 1; k < nw - 1; k++)
        for (PetscInt e = 0; e < KDNetFanIn_Private(tr->net, k) * w[k + 1]; e++)
          tr->decay_index[tr->ndecay++] = tr->net->woff[k] + e;
    } else
      for (PetscInt i = 0; i < tr->n; i++) tr->decay_index[tr->ndecay++] = i;
    PetscCheck(tr->ndecay > 0, tr->comm, PETSC_ERR_ARG_WRONG,
               "-%sweight_decay: a network of one layer has no weights to decay unless -%sweight_decay_first",
               tr->prefix, tr->prefix);
    tr->weight_decay_norm = (PetscReal) tr->ndecay;
    if (rank) tr->ndecay = 0;
  }
  PetscCheck(!tr->resample_every || tr->resample, tr->comm, PETSC_ERR_ARG_WRONG,
             "-%sresample_every needs a loss that can draw new points", tr->prefix);
  PetscCheck(!tr->gn_resample_every || tr->resample, tr->comm, PETSC_ERR_ARG_WRONG,
             "-%sgn_resample_every needs a loss that can draw new points", tr->prefix);
  PetscCheck(tr->n + tr->nterms + 1 < PETSC_MPI_INT_MAX, tr->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "too many parameters for one MPI_Allreduce");
  PetscCall(PetscCalloc1(tr->n + tr->nterms + 1, &tr->buffer));
  PetscCall(PetscCalloc1(tr->n, &tr->m));
  PetscCall(PetscCalloc1(tr->n, &tr->v));
  tr->history_capacity = tr->adam_steps + tr->lbfgs_steps + tr->gn_steps + 1;
  if (tr->quantize_steps > 0) {
    PetscCheck(tr->net && tr->net->nlayers > 1, tr->comm, PETSC_ERR_ARG_WRONG,
               "-%squantize_steps: only the layers after the first are quantized, and this %s has none", tr->prefix,
               tr->net ? "network" : "trainer (no network)");
    PetscCall(PetscCalloc1(tr->n, &tr->frozen));
    tr->history_capacity += tr->quantize_steps * (tr->net->nlayers - 1);
  }
  if (tr->gn_steps > 0 || tr->quantize_steps > 0) {
    PetscCheck(tr->loss || tr->rfun, tr->comm, PETSC_ERR_ARG_WRONG,
               "-%s%s_steps: Gauss-Newton needs a least-squares objective (a KDLoss, or KDTrainerSetResidual())",
               tr->prefix, tr->gn_steps > 0 ? "gn" : "quantize");
    PetscCall(KDGaussNewtonCreate(tr->comm, &tr->gn));
    PetscCall(KDGaussNewtonSetOptionsPrefix(tr->gn, tr->prefix));
    PetscCall(KDGaussNewtonSetResidual(tr->gn, tr->n, tr->x, KDTrainerResidualSize, KDTrainerResidual, tr));
    PetscCall(KDGaussNewtonSetFromOptions(tr->gn));
  }
  PetscCall(PetscMalloc1(tr->history_capacity * (1 + tr->nterms), &tr->history));
  if (tr->ninfer) PetscCall(PetscMalloc1(tr->history_capacity * tr->ninfer, &tr->ihistory));
  PetscCall(PetscMalloc1(tr->n, &tr->chunk_x));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, tr->n, &tr->xtao));
  tr->lr    = tr->lr0;
  tr->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTrainerStopMessage(KDTrainer tr, char msg[], size_t len)
{
  PetscFunctionBegin;
  if (tr->last_checkpoint_step >= 0)
    PetscCall(PetscSNPrintf(msg, len, "last good checkpoint: %s (step %" PetscInt_FMT ")", tr->checkpoint,
                            tr->last_checkpoint_step));
  else
    PetscCall(PetscSNPrintf(msg, len, "no checkpoint written yet"));
  PetscFunctionReturn(0);
}

/* One evaluation: local terms and gradient, then the single allreduce of [gradient | terms | stop flag]. On return
   tr->buffer holds the global gradient followed by the global terms, identical on every rank. The stop flag (a rank
   caught a stop signal) rides along in the same reduction, so stopping costs no extra communication and every rank
   decides at the same step. */
static PetscErrorCode KDTrainerEvaluate(KDTrainer tr, PetscReal *f)
{
  const PetscInt n = tr->n, nt = tr->nterms;
  PetscReal *g = tr->buffer, *terms = tr->buffer + n, total = 0;
  PetscBool finite, caught;
  PetscInt slot;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_TRAINER_EVALUATE, 0, 0, 0, 0));
  PetscCall(PetscArrayzero(tr->buffer, n + nt + 1));
  PetscCall(KDSignalPendingLocal(&caught));
  /* -stop_at_step: the last rank plays the one that caught the signal, so the collective decision is exercised too */
  if (tr->stop_at_step > 0 && tr->step + 1 == tr->stop_at_step) {
    PetscMPIInt rank, size;
    PetscCallMPI(MPI_Comm_rank(tr->comm, &rank));
    PetscCallMPI(MPI_Comm_size(tr->comm, &size));
    if (rank == size - 1) caught = PETSC_TRUE;
  }
  tr->buffer[n + nt] = caught ? 1 : 0;
  PetscCall(KDTrainerPush(tr));
  if (tr->loss)
    PetscCall(KDLossEvaluateLocal(tr->loss, terms, g));
  else
    PetscCall((*tr->objective)(tr->objective_ctx, terms, g));
  if (tr->ndecay > 0) {
    const PetscReal c = tr->weight_decay / tr->weight_decay_norm;
    PetscReal s       = 0;
    for (PetscInt d = 0; d < tr->ndecay; d++) {
      const PetscInt i = tr->decay_index[d];
      s += tr->x[i] * tr->x[i];
      g[i] += 2 * c * tr->x[i];
    }
    terms[tr->nterms_objective] = c * s;
  }
  PetscCall(PetscLogEventEnd(KD_TRAINER_EVALUATE, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(KD_TRAINER_ALLREDUCE, 0, 0, 0, 0));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, tr->buffer, (PetscMPIInt) (n + nt + 1), MPIU_REAL, MPI_SUM, tr->comm));
  PetscCall(PetscLogEventEnd(KD_TRAINER_ALLREDUCE, 0, 0, 0, 0));
  if (tr->buffer[n + nt] > 0) tr->stop_requested = PETSC_TRUE;
  if (tr->quantize_layers > 0)
    for (PetscInt i = 0; i < n; i++)
      if (tr->frozen[i]) g[i] = 0;
  for (PetscInt k = 0; k < nt; k++) total += terms[k];
  finite = PetscIsInfOrNanReal(total) ? PETSC_FALSE : PETSC_TRUE;
  for (PetscInt i = 0; i < n && finite; i++)
    if (PetscIsInfOrNanReal(g[i])) finite = PETSC_FALSE;
  if (!finite) {
    char where[PETSC_MAX_PATH_LEN + 64];
    PetscCall(KDTrainerStopMessage(tr, where, sizeof(where)));
    SETERRQ(tr->comm, PETSC_ERR_FP, "%s: loss or gradient is NaN/Inf at step %" PetscInt_FMT " (%s); %s", tr->name,
            tr->step + 1, KDTrainerPhaseNames[tr->phase], where);
  }
  slot               = tr->nrecent++ % KD_TRAINER_RECENT;
  tr->recent_f[slot] = total;
  PetscCall(PetscArraycpy(tr->recent_terms[slot], terms, nt));
  *f = total;
  PetscFunctionReturn(0);
}

/* Appends a history row: the loss and its terms and, with inferred parameters, their values (given when replayed
   from a checkpoint; NULL: the current ones). */
static PetscErrorCode KDTrainerRecord(KDTrainer tr, PetscReal f, const PetscReal terms[], PetscReal gnorm,
                                      const PetscReal inferred[])
{
  const PetscInt row = 1 + tr->nterms, ni = tr->ninfer;

  PetscFunctionBegin;
  if (tr->nhistory == tr->history_capacity) {
    PetscReal *h, *ih = NULL;
    tr->history_capacity = 2 * tr->history_capacity + 16;
    PetscCall(PetscMalloc1(tr->history_capacity * row, &h));
    PetscCall(PetscArraycpy(h, tr->history, tr->nhistory * row));
    PetscCall(PetscFree(tr->history));
    tr->history = h;
    if (ni) {
      PetscCall(PetscMalloc1(tr->history_capacity * ni, &ih));
      PetscCall(PetscArraycpy(ih, tr->ihistory, tr->nhistory * ni));
      PetscCall(PetscFree(tr->ihistory));
      tr->ihistory = ih;
    }
  }
  tr->history[tr->nhistory * row] = f;
  PetscCall(PetscArraycpy(tr->history + tr->nhistory * row + 1, terms, tr->nterms));
  if (ni && inferred)
    PetscCall(PetscArraycpy(tr->ihistory + tr->nhistory * ni, inferred, ni));
  else if (ni) {
    PetscCall(KDTrainerPush(tr));
    for (PetscInt k = 0; k < ni; k++)
      PetscCall(KDLossGetInferred(tr->xloss, k, NULL, &tr->ihistory[tr->nhistory * ni + k], NULL, NULL));
  }
  tr->nhistory++;
  tr->step++;
  tr->loss_total = f;
  tr->gnorm      = gnorm;
  tr->step_phase = tr->phase;
  PetscCall(PetscArraycpy(tr->loss_terms, terms, tr->nterms));
  PetscFunctionReturn(0);
}

/* Steps still to run: first-order ones (Adam, L-BFGS) and Gauss-Newton ones (the GN and quantization phases), which
   cost tens to thousands of times more each and so cannot share one rate in an ETA. */
static void KDTrainerRemainingSteps(KDTrainer tr, PetscInt *first, PetscInt *second)
{
  const PetscInt quantize = tr->net ? tr->quantize_steps * (tr->net->nlayers - 1) : 0;

  *first = *second = 0;
  if (tr->phase == KD_PHASE_ADAM) {
    *first  = PetscMax(tr->adam_steps, tr->step) - tr->step + tr->lbfgs_steps;
    *second = tr->gn_steps + quantize;
  } else if (tr->phase == KD_PHASE_LBFGS) {
    *first  = tr->lbfgs_start + tr->lbfgs_steps - tr->step;
    *second = tr->gn_steps + quantize;
  } else if (tr->phase == KD_PHASE_GN)
    *second = tr->gn_start + tr->gn_steps + quantize - tr->step;
  else if (tr->phase == KD_PHASE_QUANTIZE)
    *second = tr->quantize_end + tr->quantize_steps * (tr->net->nlayers - 1 - tr->quantize_layers) - tr->step;
  *first  = PetscMax(*first, 0);
  *second = PetscMax(*second, 0);
}

/* Appends to a fixed line buffer, truncating quietly: a monitor line is never worth an error. */
static void KDAppend(char line[], size_t len, size_t *pos, const char fmt[], ...) PETSC_ATTRIBUTE_FORMAT(4, 5);
static void KDAppend(char line[], size_t len, size_t *pos, const char fmt[], ...)
{
  va_list ap;
  int k;

  if (*pos >= len) return;
  va_start(ap, fmt);
  k = vsnprintf(line + *pos, len - *pos, fmt, ap);
  va_end(ap);
  if (k > 0) *pos = PetscMin(len, *pos + (size_t) k);
}

/* A PETSc-style progress line:
     <step> <name> <phase> loss <total> [<term> <value> ...] |grad| <norm> [lr <lr>] <ms>/step ETA h:mm:ss
     [+ <n> gn steps] */
static PetscErrorCode KDTrainerMonitor(KDTrainer tr, PetscBool force, const PetscReal x[])
{
  char line[1024];
  size_t pos = 0;
  PetscLogDouble now;
  PetscReal per;
  PetscInt first, second, eta;
  PetscBool gn_rate;

  PetscFunctionBegin;
  if (!tr->monitor || tr->step == tr->step_monitor) PetscFunctionReturn(0);
  if (!force && tr->step % tr->monitor_every) PetscFunctionReturn(0);
  PetscCall(PetscTime(&now));
  per              = (PetscReal) (now - tr->time_monitor) / (PetscReal) (tr->step - tr->step_monitor);
  tr->time_monitor = now;
  tr->step_monitor = tr->step;
  /* the rate of the last steps holds for the steps of their kind; Gauss-Newton steps after first-order ones are
     counted, not timed */
  KDTrainerRemainingSteps(tr, &first, &second);
  gn_rate = tr->step_phase == KD_PHASE_GN || tr->step_phase == KD_PHASE_QUANTIZE ? PETSC_TRUE : PETSC_FALSE;
  eta     = (PetscInt) (per * (PetscReal) (gn_rate ? first + second : first) + 0.5);
  KDAppend(line, sizeof(line), &pos, "%6" PetscInt_FMT " %s %-5s loss %.6e [", tr->step, tr->name,
           KDTrainerPhaseNames[tr->step_phase], (double) tr->loss_total);
  for (PetscInt k = 0; k < tr->nterms; k++)
    KDAppend(line, sizeof(line), &pos, "%s%s %.3e", k ? " " : "", tr->term_names[k], (double) tr->loss_terms[k]);
  KDAppend(line, sizeof(line), &pos, "] |grad| %.3e", (double) tr->gnorm);
  for (PetscInt k = 0; k < tr->ninfer; k++) {
    const char *name;
    PetscReal value;
    PetscCall(KDLossGetInferred(tr->xloss, k, &name, &value, NULL, NULL));
    KDAppend(line, sizeof(line), &pos, " %s %.6g", name, (double) value);
  }
  if (tr->step_phase == KD_PHASE_ADAM) KDAppend(line, sizeof(line), &pos, " lr %.2e", (double) tr->lr);
  if (tr->step_phase == KD_PHASE_QUANTIZE)
    KDAppend(line, sizeof(line), &pos, " layer %" PetscInt_FMT, tr->quantize_layers);
  if ((tr->step_phase == KD_PHASE_GN || tr->step_phase == KD_PHASE_QUANTIZE) && tr->gn) {
    PetscReal lambda;
    PetscInt its;
    PetscCall(KDGaussNewtonGetDamping(tr->gn, &lambda, NULL));
    PetscCall(KDGaussNewtonGetIterations(tr->gn, &its));
    KDAppend(line, sizeof(line), &pos, " lambda %.2e", (double) lambda);
    if (its) KDAppend(line, sizeof(line), &pos, " cg %" PetscInt_FMT, its);
  }
  KDAppend(line, sizeof(line), &pos, " %.2f ms/step ETA %d:%02d:%02d", (double) (1000 * per), (int) (eta / 3600),
           (int) ((eta / 60) % 60), (int) (eta % 60));
  if (!gn_rate && second > 0) KDAppend(line, sizeof(line), &pos, " + %" PetscInt_FMT " gn steps", second);
  PetscCall(PetscPrintf(tr->comm, "%s\n", line));
  tr->train_seconds = tr->train_seconds_before + (PetscReal) (now - tr->time_start);
  for (PetscInt k = 0; k < tr->numonitors; k++) PetscCall((*tr->umonitor[k])(tr, tr->step, x, tr->umonitor_ctx[k]));
  PetscFunctionReturn(0);
}

/* The names of the inferred parameters, comma-separated (checkpoint attribute inferred). */
static PetscErrorCode KDTrainerInferredNames(KDTrainer tr, char names[], size_t len)
{
  PetscFunctionBegin;
  names[0] = 0;
  for (PetscInt k = 0; k < tr->ninfer; k++) {
    const char *name;
    PetscCall(KDLossGetInferred(tr->xloss, k, &name, NULL, NULL, NULL));
    if (k) PetscCall(PetscStrlcat(names, ",", len));
    PetscCall(PetscStrlcat(names, name, len));
  }
  PetscFunctionReturn(0);
}

/* What the trained network carries beyond the MLP, each name with its parameters ("" for a plain MLP or a raw
   buffer): a restart with another must not continue from parameters fitted for this one. */
static PetscErrorCode KDTrainerNetworkParts(KDTrainer tr, char str[], size_t len)
{
  const char *name[3];
  PetscInt np[3];
  const PetscReal *param[3];
  const char *const kind[3] = {"addend", "factor", "features"};
  size_t pos                = 0;

  PetscFunctionBegin;
  str[0] = 0;
  if (!tr->net) PetscFunctionReturn(0);
  PetscCall(KDNetGetOutputAddend(tr->net, &name[0], &np[0], &param[0]));
  PetscCall(KDNetGetOutputFactor(tr->net, &name[1], NULL, &np[1], &param[1]));
  PetscCall(KDNetGetInputFeatures(tr->net, &name[2], NULL, &np[2], &param[2]));
  for (PetscInt k = 0; k < 3; k++) {
    size_t used;
    if (!name[k][0]) continue;
    PetscCall(PetscSNPrintfCount(str + pos, len - pos, "%s%s %s", &used, pos ? "; " : "", kind[k], name[k]));
    pos += used > 0 ? used - 1 : 0;
    for (PetscInt i = 0; i < np[k]; i++) {
      PetscCall(PetscSNPrintfCount(str + pos, len - pos, " %.17g", &used, (double) param[k][i]));
      pos += used > 0 ? used - 1 : 0;
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTrainerCheckpointWrite(KDTrainer tr)
{
  KDCheckpoint ck;
  PetscLogDouble now;
  size_t pos = 0;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_TRAINER_CHECKPOINT, 0, 0, 0, 0));
  if (tr->last_checkpoint_step < 0) {
    char dir[PETSC_MAX_PATH_LEN];
    char *slash;
    PetscCall(PetscStrncpy(dir, tr->checkpoint, sizeof(dir)));
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
      *slash = 0;
      PetscCall(KDOutputDirCheck(tr->comm, dir));
    }
  }
  PetscCall(PetscMemzero(&ck, sizeof(ck)));
  PetscCall(PetscTime(&now));
  PetscCall(PetscStrncpy(ck.pde, tr->pde, sizeof(ck.pde)));
  PetscCall(PetscStrncpy(ck.prefix, tr->prefix, sizeof(ck.prefix)));
  PetscCall(PetscStrncpy(ck.phase, KDTrainerPhaseNames[tr->phase], sizeof(ck.phase)));
  for (PetscInt k = 0; k < tr->nterms; k++) {
    size_t used;
    PetscCall(
        PetscSNPrintfCount(ck.terms + pos, sizeof(ck.terms) - pos, "%s%s", &used, k ? "," : "", tr->term_names[k]));
    pos += used > 0 ? used - 1 : 0;
  }
  ck.nparams          = tr->n;
  ck.nterms           = tr->nterms;
  ck.nhistory         = tr->nhistory;
  ck.step             = tr->step;
  ck.epoch            = tr->epoch;
  ck.adam_step        = tr->adam_t;
  ck.lbfgs_start      = tr->lbfgs_start;
  ck.checkpoint_every = tr->checkpoint_every;
  ck.lr               = tr->lr;
  ck.gn[0]            = (PetscReal) tr->gn_start;
  if (tr->gn) PetscCall(KDGaussNewtonGetDamping(tr->gn, &ck.gn[1], &ck.gn[2]));
  ck.quantize[0]   = (PetscReal) tr->quantize_layers;
  ck.quantize[1]   = (PetscReal) tr->quantize_end;
  ck.train_seconds = tr->train_seconds_before + (PetscReal) (now - tr->time_start);
  /* The one quantity the ranks do not share bitwise: take rank 0's clock, so that the replicas' checksums agree. */
  PetscCallMPI(MPI_Bcast(&ck.train_seconds, 1, MPIU_REAL, 0, tr->comm));
  ck.params  = tr->x;
  ck.adam_m  = tr->m;
  ck.adam_v  = tr->v;
  ck.history = tr->history;
  if (tr->ninfer) {
    ck.ninferred        = tr->ninfer;
    ck.inferred_history = tr->ihistory;
    PetscCall(KDTrainerInferredNames(tr, ck.inferred, sizeof(ck.inferred)));
  }
  PetscCall(KDTrainerNetworkParts(tr, ck.network, sizeof(ck.network)));
  PetscCall(KDCheckpointWrite(tr->comm, tr->checkpoint, &ck));
  tr->last_checkpoint_step = tr->step;
  PetscCall(PetscLogEventEnd(KD_TRAINER_CHECKPOINT, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Restores the whole state from the checkpoint file; a missing file means a fresh start. */
static PetscErrorCode KDTrainerCheckpointRestore(KDTrainer tr)
{
  KDCheckpoint ck;
  PetscBool exists;
  char names[512];
  size_t pos = 0;
  PetscInt phase;

  PetscFunctionBegin;
  PetscCall(PetscTestFile(tr->checkpoint, 'r', &exists));
  if (!exists) {
    PetscCall(PetscPrintf(tr->comm, "%s: no checkpoint %s; starting from step 0\n", tr->name, tr->checkpoint));
    PetscFunctionReturn(0);
  }
  PetscCall(KDCheckpointLoad(tr->comm, tr->checkpoint, &ck));
  names[0] = 0;
  for (PetscInt k = 0; k < tr->nterms; k++) {
    size_t used;
    PetscCall(PetscSNPrintfCount(names + pos, sizeof(names) - pos, "%s%s", &used, k ? "," : "", tr->term_names[k]));
    pos += used > 0 ? used - 1 : 0;
  }
  PetscCheck(ck.nparams == tr->n, tr->comm, PETSC_ERR_FILE_UNEXPECTED,
             "refusing to restart from checkpoint %s: it holds %" PetscInt_FMT
             " parameters, the model has %" PetscInt_FMT,
             tr->checkpoint, ck.nparams, tr->n);
  PetscCheck(ck.nterms == tr->nterms && !strcmp(ck.terms, names), tr->comm, PETSC_ERR_FILE_UNEXPECTED,
             "refusing to restart from checkpoint %s: its loss terms are %s, this run's are %s", tr->checkpoint,
             ck.terms, names);
  PetscCheck(!strcmp(ck.pde, tr->pde), tr->comm, PETSC_ERR_FILE_UNEXPECTED,
             "refusing to restart from checkpoint %s: it was written for -kd_pde %s, this run has %s", tr->checkpoint,
             ck.pde, tr->pde);
  {
    char parts[512];
    PetscCall(KDTrainerNetworkParts(tr, parts, sizeof(parts)));
    PetscCheck(!ck.hasnetwork || !strcmp(ck.network, parts), tr->comm, PETSC_ERR_FILE_UNEXPECTED,
               "refusing to restart from checkpoint %s: its network carries '%s', this run's '%s'", tr->checkpoint,
               ck.network[0] ? ck.network : "nothing but the MLP", parts[0] ? parts : "nothing but the MLP");
  }
  {
    char inames[256] = "";
    if (tr->ninfer) PetscCall(KDTrainerInferredNames(tr, inames, sizeof(inames)));
    PetscCheck(!strcmp(ck.inferred, inames), tr->comm, PETSC_ERR_FILE_UNEXPECTED,
               "refusing to restart from checkpoint %s: it infers '%s', this run '%s'", tr->checkpoint, ck.inferred,
               inames);
  }
  for (phase = 0; phase <= KD_PHASE_DONE; phase++)
    if (!strcmp(ck.phase, KDTrainerPhaseNames[phase])) break;
  PetscCheck(phase <= KD_PHASE_DONE, tr->comm, PETSC_ERR_FILE_UNEXPECTED,
             "refusing to restart from checkpoint %s: unknown phase '%s'", tr->checkpoint, ck.phase);
  PetscCall(PetscArraycpy(tr->x, ck.params, tr->n));
  PetscCall(PetscArraycpy(tr->m, ck.adam_m, tr->n));
  PetscCall(PetscArraycpy(tr->v, ck.adam_v, tr->n));
  tr->nhistory = 0;
  tr->step     = 0;
  for (PetscInt s = 0; s < ck.nhistory; s++)
    PetscCall(KDTrainerRecord(tr, ck.history[s * (1 + ck.nterms)], ck.history + s * (1 + ck.nterms) + 1, 0,
                              ck.inferred_history ? ck.inferred_history + s * ck.ninferred : NULL));
  tr->phase       = (KDTrainerPhase) phase;
  tr->step        = ck.step;
  tr->epoch       = ck.epoch;
  tr->adam_t      = ck.adam_step;
  tr->lbfgs_start = ck.lbfgs_start;
  tr->lr          = ck.lr;
  tr->gn_start    = (PetscInt) ck.gn[0];
  if (ck.quantize[1] >= 0) {
    PetscCheck(
        tr->frozen && ck.quantize[0] >= 0 && ck.quantize[0] <= tr->net->nlayers - 1 && ck.quantize[1] <= PETSC_MAX_INT,
        tr->comm, PETSC_ERR_FILE_UNEXPECTED,
        "refusing to restart from checkpoint %s: it rounded %g layers to int8, and this run has "
        "-%squantize_steps %" PetscInt_FMT " with %" PetscInt_FMT " layers to round",
        tr->checkpoint, (double) ck.quantize[0], tr->prefix, tr->quantize_steps, tr->net ? tr->net->nlayers - 1 : 0);
    /* The rounded layers hold their rounded weights in the parameters just read: mark them, do not round again. */
    tr->quantize_layers = (PetscInt) ck.quantize[0];
    tr->quantize_end    = (PetscInt) ck.quantize[1];
    for (PetscInt k = 1; k <= tr->quantize_layers; k++) PetscCall(KDTrainerFreezeLayer(tr, k, PETSC_FALSE));
  }
  /* A run without Gauss-Newton saves no damping (factor 0): the new run's GN then starts from its options. */
  if (tr->gn && ck.gn[0] >= 0 && ck.gn[2] >= 1) PetscCall(KDGaussNewtonSetDamping(tr->gn, ck.gn[1], ck.gn[2]));
  /* A finished run restarted with (more) Gauss-Newton steps: the GN phase continues from the last step. */
  if (tr->phase == KD_PHASE_DONE && tr->gn_steps > 0) {
    if (tr->gn_start < 0) tr->gn_start = tr->step;
    if (tr->step < tr->gn_start + tr->gn_steps) tr->phase = KD_PHASE_GN;
  }
  /* ... and restarted with a quantization phase it has not begun */
  if (tr->phase == KD_PHASE_DONE && tr->quantize_steps > 0 && tr->quantize_end < 0) tr->phase = KD_PHASE_QUANTIZE;
  tr->train_seconds_before = ck.train_seconds;
  tr->last_checkpoint_step = ck.step;
  if (ck.checkpoint_every != tr->checkpoint_every)
    PetscCall(PetscPrintf(tr->comm,
                          "%s: note: -%scheckpoint_every changed from %" PetscInt_FMT " to %" PetscInt_FMT
                          "; L-BFGS restarts at other steps than in the original run\n",
                          tr->name, tr->prefix, ck.checkpoint_every, tr->checkpoint_every));
  PetscCall(KDCheckpointReset(&ck));
  /* The collocation set is a pure function of (seed, epoch): drawing it again reproduces the one in use. */
  if (tr->epoch > 0 && tr->resample) PetscCall((*tr->resample)(tr->resample_ctx, tr->epoch));
  PetscCall(PetscPrintf(tr->comm, "%s: restarting from checkpoint %s at step %" PetscInt_FMT " (%s)\n", tr->name,
                        tr->checkpoint, tr->step, KDTrainerPhaseNames[tr->phase]));
  PetscFunctionReturn(0);
}

static PetscReal KDTrainerLearningRate(KDTrainer tr, PetscInt k)
{
  switch (tr->decay) {
  case KD_LR_DECAY_EXPONENTIAL:
    return tr->lr0 * PetscPowReal(tr->decay_rate, (PetscReal) k / (PetscReal) tr->decay_steps);
  case KD_LR_DECAY_STEP:
    return tr->lr0 * PetscPowReal(tr->decay_rate, (PetscReal) (k / tr->decay_steps));
  default:
    return tr->lr0;
  }
}

/* One Adam step (bias-corrected, Kingma & Ba 2015). The history row is the loss at the parameters the step started
   from. */
static PetscErrorCode KDTrainerAdamStep(KDTrainer tr)
{
  const PetscInt n   = tr->n;
  const PetscReal b1 = tr->beta1, b2 = tr->beta2, eps = tr->epsilon;
  const PetscReal *g = tr->buffer;
  PetscReal *x = tr->x, *m = tr->m, *v = tr->v;
  PetscReal f, c1, c2, lr, gnorm2 = 0;

  PetscFunctionBegin;
  if (tr->resample_every > 0 && tr->step > 0 && tr->step % tr->resample_every == 0) {
    tr->epoch = tr->step / tr->resample_every;
    PetscCall((*tr->resample)(tr->resample_ctx, tr->epoch));
  }
  PetscCall(KDTrainerEvaluate(tr, &f));
  PetscCall(PetscLogEventBegin(KD_TRAINER_ADAM, 0, 0, 0, 0));
  tr->adam_t++;
  lr     = KDTrainerLearningRate(tr, tr->adam_t - 1);
  tr->lr = lr;
  c1     = 1 / (1 - PetscPowReal(b1, (PetscReal) tr->adam_t));
  c2     = 1 / (1 - PetscPowReal(b2, (PetscReal) tr->adam_t));
  for (PetscInt i = 0; i < n; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    x[i] -= lr * (m[i] * c1) / (PetscSqrtReal(v[i] * c2) + eps);
    gnorm2 += g[i] * g[i];
  }
  PetscCall(PetscLogEventEnd(KD_TRAINER_ADAM, 0, 0, 0, 0));
  PetscCall(KDTrainerRecord(tr, f, tr->buffer + n, PetscSqrtReal(gnorm2), NULL));
  PetscCall(KDTrainerMonitor(tr, PETSC_FALSE, tr->x));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDTrainerTaoObjective(Tao tao, Vec X, PetscReal *f, Vec G, void *ctx)
{
  KDTrainer tr = (KDTrainer) ctx;
  const PetscReal *xa;
  PetscReal *ga;

  PetscFunctionBegin;
  /* TAO may evaluate at trial vectors of its own: the objective always sees the parameter buffer, so copy in. */
  PetscCall(VecGetArrayRead(X, &xa));
  PetscCall(PetscArraycpy(tr->x, xa, tr->n));
  PetscCall(VecRestoreArrayRead(X, &xa));
  PetscCall(KDTrainerEvaluate(tr, f));
  PetscCall(VecGetArrayWrite(G, &ga));
  PetscCall(PetscArraycpy(ga, tr->buffer, tr->n));
  PetscCall(VecRestoreArrayWrite(G, &ga));
  PetscFunctionReturn(0);
}

/* Called by TAO once before the first iteration (its = 0) and after each one: each iteration is one step. */
static PetscErrorCode KDTrainerTaoMonitor(Tao tao, void *ctx)
{
  KDTrainer tr = (KDTrainer) ctx;
  PetscInt its;
  PetscReal f, gnorm;
  const PetscReal *terms = NULL;

  PetscFunctionBegin;
  PetscCall(TaoGetSolutionStatus(tao, &its, &f, &gnorm, NULL, NULL, NULL));
  if (its == 0) PetscFunctionReturn(0);
  /* The accepted iterate is nearly always the last point evaluated by the line search; after a failed line search TAO
     falls back to an older one. Find its terms among the recent evaluations, or evaluate it again (rare). */
  for (PetscInt k = 0; k < PetscMin(tr->nrecent, KD_TRAINER_RECENT) && !terms; k++) {
    PetscInt slot = (tr->nrecent - 1 - k) % KD_TRAINER_RECENT;
    if (tr->recent_f[slot] == f) terms = tr->recent_terms[slot];
  }
  if (!terms) {
    Vec X;
    const PetscReal *xa;
    PetscReal fx;
    PetscCall(TaoGetSolution(tao, &X));
    PetscCall(VecGetArrayRead(X, &xa));
    PetscCall(PetscArraycpy(tr->x, xa, tr->n));
    PetscCall(VecRestoreArrayRead(X, &xa));
    PetscCall(KDTrainerEvaluate(tr, &fx));
    terms = tr->buffer + tr->n;
  }
  {
    /* The inferred values of the history row and the monitor are the accepted iterate's, not those of the last point
       the line search tried (they differ after a failed line search). */
    Vec X;
    const PetscReal *xa;
    PetscReal *inferred = NULL;
    PetscCall(TaoGetSolution(tao, &X));
    PetscCall(VecGetArrayRead(X, &xa));
    if (tr->ninfer) {
      PetscCall(PetscMalloc1(tr->ninfer, &inferred));
      PetscCall(KDLossSetExtraParameters(tr->xloss, xa + tr->nnet));
      for (PetscInt k = 0; k < tr->ninfer; k++)
        PetscCall(KDLossGetInferred(tr->xloss, k, NULL, &inferred[k], NULL, NULL));
    }
    PetscCall(KDTrainerRecord(tr, f, terms, gnorm, inferred));
    PetscCall(KDTrainerMonitor(tr, PETSC_FALSE, xa));
    PetscCall(VecRestoreArrayRead(X, &xa));
    PetscCall(PetscFree(inferred));
  }
  PetscFunctionReturn(0);
}

/* TAO's default test, plus a stop at a signal (after the iteration that noticed it). */
static PetscErrorCode KDTrainerTaoConverged(Tao tao, void *ctx)
{
  KDTrainer tr = (KDTrainer) ctx;

  PetscFunctionBegin;
  PetscCall(TaoDefaultConvergenceTest(tao, NULL));
  if (tr->stop_requested) PetscCall(TaoSetConvergedReason(tao, TAO_CONVERGED_USER));
  PetscFunctionReturn(0);
}

/*
  Runs L-BFGS for at most `steps` iterations from the current parameters with a fresh TAO (empty L-BFGS memory).

  Parameters are replicated, so each rank runs its own sequential TAO on PETSC_COMM_SELF over a sequential Vec: the
  ranks do identical arithmetic on identical (allreduced) inputs and stay in lockstep, with no communication besides
  the one allreduce inside each objective evaluation. A parallel TAO would add a reduction to every dot product and
  norm of the L-BFGS update and gain nothing, since every rank needs the whole parameter vector anyway.
*/
static PetscErrorCode KDTrainerLBFGSChunk(KDTrainer tr, PetscInt steps, PetscBool *stopped)
{
  Tao tao;
  TaoConvergedReason reason;
  PetscInt its;
  PetscReal *xa;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(KD_TRAINER_LBFGS, 0, 0, 0, 0));
  PetscCall(VecGetArrayWrite(tr->xtao, &xa));
  PetscCall(PetscArraycpy(xa, tr->x, tr->n));
  PetscCall(VecRestoreArrayWrite(tr->xtao, &xa));
  PetscCall(TaoCreate(PETSC_COMM_SELF, &tao));
  PetscCall(TaoSetType(tao, TAOLMVM));
  if (tr->prefix[0]) PetscCall(TaoSetOptionsPrefix(tao, tr->prefix));
  PetscCall(TaoSetSolution(tao, tr->xtao));
  PetscCall(TaoSetObjectiveAndGradient(tao, NULL, KDTrainerTaoObjective, tr));
  /* Run the requested number of iterations unless the user asks for a tolerance (-<prefix>tao_gatol ...). */
  PetscCall(TaoSetTolerances(tao, 0, 0, 0));
  PetscCall(TaoSetMaximumFunctionEvaluations(tao, PETSC_MAX_INT));
  PetscCall(TaoSetFromOptions(tao));
  /* After TaoSetFromOptions: the chunk length is the trainer's, not -tao_max_it. */
  PetscCall(TaoSetMaximumIterations(tao, steps));
  PetscCall(TaoSetMonitor(tao, KDTrainerTaoMonitor, tr, NULL));
  PetscCall(TaoSetConvergenceTest(tao, KDTrainerTaoConverged, tr));
  PetscCall(TaoSolve(tao));
  PetscCall(TaoGetSolutionStatus(tao, &its, NULL, NULL, NULL, NULL, &reason));
  PetscCall(VecGetArrayWrite(tr->xtao, &xa));
  PetscCall(PetscArraycpy(tr->x, xa, tr->n));
  PetscCall(VecRestoreArrayWrite(tr->xtao, &xa));
  *stopped = (its < steps || reason != TAO_DIVERGED_MAXITS) ? PETSC_TRUE : PETSC_FALSE;
  if (*stopped && !tr->stop_requested)
    PetscCall(PetscPrintf(tr->comm, "%s: L-BFGS stopped at step %" PetscInt_FMT ": %s\n", tr->name, tr->step,
                          TaoConvergedReasons[reason]));
  PetscCall(TaoDestroy(&tao));
  PetscCall(PetscLogEventEnd(KD_TRAINER_LBFGS, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* One Levenberg-Marquardt step (src/train/gn.c), then one evaluation for the history row (terms, gradient norm, the
   stop flag). *accepted is false when no damping made the loss decrease: the caller ends the phase (or the layer). */
static PetscErrorCode KDTrainerGaussNewtonStep(KDTrainer tr, PetscBool *accepted)
{
  PetscReal F, f, gnorm2 = 0;

  PetscFunctionBegin;
  PetscCall(KDGaussNewtonStep(tr->gn, &F, accepted));
  PetscCall(KDTrainerEvaluate(tr, &f));
  for (PetscInt i = 0; i < tr->n; i++) gnorm2 += tr->buffer[i] * tr->buffer[i];
  PetscCall(KDTrainerRecord(tr, f, tr->buffer + tr->n, PetscSqrtReal(gnorm2), NULL));
  PetscCall(KDTrainerMonitor(tr, PETSC_FALSE, tr->x));
  if (!*accepted)
    PetscCall(PetscPrintf(tr->comm,
                          "%s: Gauss-Newton stopped at step %" PetscInt_FMT ": no damping decreased the loss%s\n",
                          tr->name, tr->step, tr->phase == KD_PHASE_QUANTIZE ? " with this layer rounded" : ""));
  PetscFunctionReturn(0);
}

/* The int8 scale of a row of n weights: its largest magnitude over 127 levels */
static PetscErrorCode KDTrainerInt8RowScale(const PetscReal W[], PetscInt n, PetscReal *s)
{
  PetscReal wmax = 0;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < n; i++) wmax = PetscMax(wmax, PetscAbsReal(W[i]));
  *s = wmax / KD_INT8_WEIGHT_LEVELS;
  PetscFunctionReturn(0);
}

/* The int8 level of weight w in a row of scale s: s round(w / s), to nearest with ties to even, at most 127 levels
   (a weight the compensation moved beyond its row's largest is clipped to it) */
static inline PetscReal KDTrainerInt8Level(PetscReal w, PetscReal s)
{
  if (s <= 0) return w;
  return s * PetscMax(-KD_INT8_WEIGHT_LEVELS, PetscMin(KD_INT8_WEIGHT_LEVELS, nearbyint(w / s)));
}

/* -quantize_rounding compensated: rounds layer k's weights one at a time and moves every parameter still free by the
   Optimal Brain Surgeon update, x -= (w_q - level_q) / H^-1_qq H^-1 e_q with H = J^T J + lambda D at the parameters
   where the layer's turn begins (lambda: the solver's damping, reset to -gn_lambda for the turn), so that the loss's
   quadratic model rises as little as it can; the weight whose rounding costs least, (w_q - level_q)^2 / H^-1_qq, goes
   next, and H^-1 then loses q's row and column (Optimal Brain Quantization, Frantar and Alistarh 2022). Each row's
   scale is fixed by its largest weight when the turn begins; that weight costs nothing and goes first, so the row's
   largest stays its largest (a weight moved beyond it is clipped to 127 levels). A rounded weight is frozen at once.
   Returns *done = PETSC_FALSE if no damping made the matrix positive definite (the caller rounds to nearest). */
static PetscErrorCode KDTrainerRoundLayerCompensated(KDTrainer tr, PetscInt k, PetscBool *done)
{
  const PetscInt n = tr->n, nin = KDNetFanIn_Private(tr->net, k), nout = tr->net->widths[k + 1], nq = nin * nout;
  const PetscInt off = tr->net->woff[k];
  PetscInt *idx;
  PetscReal *x = tr->x, *H, *scale, lambda, used;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3((size_t) n * nq, &H, nout, &scale, nq, &idx));
  for (PetscInt q = 0; q < nq; q++) idx[q] = off + q;
  for (PetscInt o = 0; o < nout; o++) PetscCall(KDTrainerInt8RowScale(x + off + o * nin, nin, &scale[o]));
  PetscCall(KDGaussNewtonGetDamping(tr->gn, &lambda, NULL));
  PetscCall(KDGaussNewtonInverseColumns(tr->gn, lambda, nq, idx, H, &used));
  PetscCall(PetscInfo(NULL, "%s: compensated rounding with damping %g\n", tr->name, (double) used));
  *done = PetscIsInfOrNanReal(used) ? PETSC_FALSE : PETSC_TRUE;
  /* a weight rounded is frozen at once: tr->frozen[off + q] marks the weights done */
  for (PetscInt t = 0; t < nq && *done; t++) {
    PetscInt q     = -1;
    PetscReal best = PETSC_MAX_REAL, level, f;
    const PetscReal *Hq;
    for (PetscInt a = 0; a < nq; a++) {
      const PetscReal d = H[(size_t) a * n + off + a];
      PetscReal e, c;
      if (tr->frozen[off + a]) continue;
      e = x[off + a] - KDTrainerInt8Level(x[off + a], scale[a / nin]);
      c = d > 0 ? e * e / d : 0; /* d > 0 but for round-off: then no compensation either */
      if (q < 0 || c < best) best = c, q = a;
    }
    Hq    = H + (size_t) q * n;
    level = KDTrainerInt8Level(x[off + q], scale[q / nin]);
    if (Hq[off + q] > 0) {
      f = (x[off + q] - level) / Hq[off + q];
      for (PetscInt i = 0; i < n; i++) /* H^-1 has no entries left on the weights already rounded, but round-off */
        if (!tr->frozen[i]) x[i] -= f * Hq[i];
    }
    x[off + q]          = level;
    tr->frozen[off + q] = PETSC_TRUE;
    for (PetscInt a = 0; a < nq && Hq[off + q] > 0; a++) {
      PetscReal *Ha, c;
      if (tr->frozen[off + a]) continue;
      Ha = H + (size_t) a * n;
      c  = Ha[off + q] / Hq[off + q];
      for (PetscInt i = 0; i < n; i++) Ha[i] -= c * Hq[i];
    }
  }
  PetscCall(PetscFree3(H, scale, idx));
  PetscFunctionReturn(0);
}

/* Marks the weights of layer k (k >= 1) frozen and, if round, first puts each of its rows on the int8 grid,
   s = max_i |W[o][i]| / 127, W[o][i] = s round(W[o][i] / s): to nearest with ties to even (the largest weight of a
   row stays where it is), or compensated (KDTrainerRoundLayerCompensated()). With one activation scale per layer
   (kdpinn export's default) these are exactly the values int8 weights with per-row scales represent, so the export's
   fitted rounding finds the weights already on its grid. A whole layer in one turn: rounding part of a layer and
   letting Gauss-Newton refit the rest of it made the free weights grow into large, cancelling values that the next
   share's rounding could not survive (a cavity student's loss went from 2.3e-3 to 0.4; docs/benchmarks.md "int8 over
   seeds"). */
static PetscErrorCode KDTrainerFreezeLayer(KDTrainer tr, PetscInt k, PetscBool round)
{
  const PetscInt nin = KDNetFanIn_Private(tr->net, k), nout = tr->net->widths[k + 1];
  PetscReal *W   = tr->x + tr->net->woff[k];
  PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (round && tr->quantize_rounding == KD_QUANTIZE_COMPENSATED) {
    PetscCall(KDTrainerRoundLayerCompensated(tr, k, &done));
    if (!done)
      PetscCall(PetscPrintf(tr->comm,
                            "%s: warning: the damped normal matrix is not positive definite: layer %" PetscInt_FMT
                            " rounded to nearest\n",
                            tr->name, k));
  }
  for (PetscInt o = 0; o < nout && round && !done; o++) {
    PetscReal s;
    PetscCall(KDTrainerInt8RowScale(W + o * nin, nin, &s));
    for (PetscInt i = 0; i < nin; i++) W[o * nin + i] = KDTrainerInt8Level(W[o * nin + i], s);
  }
  for (PetscInt e = 0; e < nin * nout; e++) tr->frozen[tr->net->woff[k] + e] = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* The Laplace standard deviations of the inferred parameters at the trained parameters (KDGaussNewtonInverseBlock(),
   KDLossSetInferredCovariance()), with the damping the Levenberg-Marquardt phase ended with. */
static PetscErrorCode KDTrainerInferredCovariance(KDTrainer tr)
{
  const PetscInt ninfer = tr->ninfer;
  PetscInt idx[KD_LOSS_MAX_INFER];
  PetscReal cov[KD_LOSS_MAX_INFER * KD_LOSS_MAX_INFER], lambda, used;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < ninfer; k++) idx[k] = tr->nnet + k;
  PetscCall(KDGaussNewtonGetDamping(tr->gn, &lambda, NULL));
  PetscCall(KDGaussNewtonInverseBlock(tr->gn, lambda, ninfer, idx, cov, &used));
  if (PetscIsInfOrNanReal(used))
    PetscCall(PetscPrintf(tr->comm,
                          "%s: warning: the damped normal matrix is not positive definite: no standard deviations for "
                          "-%sinfer\n",
                          tr->name, tr->prefix));
  PetscCall(KDLossSetInferredCovariance(tr->xloss, cov));
  PetscCall(PetscInfo(NULL, "%s: inferred covariance with damping %g\n", tr->name, (double) used));
  PetscFunctionReturn(0);
}

/* A rank caught a stop signal: save the state and raise PETSC_ERR_SIG, which the driver turns into exit code
   KD_EXIT_REQUEUE; the job resumes with -kd_restart. Inside an L-BFGS chunk the state saved is the chunk's start
   (KDTrainerTrain() explains why); `reached` is the step the run had completed. */
static PetscErrorCode KDTrainerStopOnSignal(KDTrainer tr, PetscInt reached)
{
  PetscFunctionBegin;
  if (tr->last_checkpoint_step != tr->step) PetscCall(KDTrainerCheckpointWrite(tr));
  SETERRQ(tr->comm, PETSC_ERR_SIG,
          "%s: stopped by a signal after step %" PetscInt_FMT " (%s); checkpoint %s at step %" PetscInt_FMT
          "%s; resume with -kd_restart",
          tr->name, reached, KDTrainerPhaseNames[tr->phase], tr->checkpoint, tr->step,
          reached != tr->step ? ", the start of the L-BFGS chunk" : "");
}

/*@C
  KDTrainerTrain - Trains: Adam for -<prefix>adam_steps steps, then L-BFGS for -<prefix>lbfgs_steps iterations, then
  -<prefix>gn_steps Gauss-Newton steps, then the quantization phase (-<prefix>quantize_steps), writing a checkpoint
  every -<prefix>checkpoint_every steps and at the end; with -kd_restart it first resumes from the checkpoint file.

  Collective

  Notes:
  L-BFGS runs in chunks that end at the multiples of checkpoint_every: each chunk starts with an empty L-BFGS memory.
  A restarted run therefore continues exactly as the uninterrupted run does (bitwise, at the same rank count and the
  same checkpoint_every). A stop signal inside a chunk checkpoints the state at the chunk's start, and the resumed
  run repeats the chunk's steps: PETSc's L-BFGS matrix keeps state that its API can neither read nor set (the
  diagonal Broyden scaling of J0, a recurrence over every update since the chunk began, and the resets TAO decides
  inside TaoSolve()), so a memory rebuilt from saved pairs would not continue bitwise. At most checkpoint_every - 1
  L-BFGS steps are repeated. A NaN or Inf in the loss or gradient stops training with an error naming the step and the
  last good checkpoint.

.seealso: docs/training.md
@*/
PetscErrorCode KDTrainerTrain(KDTrainer tr)
{
  PetscLogDouble now;
  PetscBool viewed;
  PetscViewer viewer;
  PetscViewerFormat format;
  const PetscInt ce = tr->checkpoint_every;

  PetscFunctionBegin;
  PetscCall(KDTrainerSetUp(tr));
  PetscCall(PetscTime(&tr->time_start));
  if (tr->restart) PetscCall(KDTrainerCheckpointRestore(tr));
  tr->time_monitor = tr->time_start;
  tr->step_monitor = tr->step;
  if (tr->monitor) {
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(tr->comm, &size));
    PetscCall(PetscPrintf(tr->comm,
                          "%s: %" PetscInt_FMT " parameters, %" PetscInt_FMT
                          " loss terms, %d ranks; Adam %" PetscInt_FMT " steps, then L-BFGS %" PetscInt_FMT
                          " steps, then Gauss-Newton %" PetscInt_FMT " steps",
                          tr->name, tr->n, tr->nterms, size, tr->adam_steps, tr->lbfgs_steps, tr->gn_steps));
    if (tr->quantize_steps > 0)
      PetscCall(PetscPrintf(tr->comm,
                            ", then %" PetscInt_FMT
                            " layers rounded to int8 in turn (%s), each followed by %" PetscInt_FMT
                            " Gauss-Newton steps",
                            tr->net->nlayers - 1, KDQuantizeRoundings[tr->quantize_rounding], tr->quantize_steps));
    PetscCall(PetscPrintf(tr->comm, "\n"));
  }
  if (tr->phase == KD_PHASE_ADAM) {
    while (tr->step < tr->adam_steps) {
      PetscCall(KDTrainerAdamStep(tr));
      if (ce > 0 && tr->step % ce == 0) PetscCall(KDTrainerCheckpointWrite(tr));
      if (tr->stop_requested) PetscCall(KDTrainerStopOnSignal(tr, tr->step));
    }
    tr->phase       = KD_PHASE_LBFGS;
    tr->lbfgs_start = tr->step;
  }
  if (tr->phase == KD_PHASE_LBFGS) {
    const PetscInt end = tr->lbfgs_start + tr->lbfgs_steps;
    while (tr->step < end) {
      PetscInt chunk_end = ce > 0 ? PetscMin(end, (tr->step / ce + 1) * ce) : end;
      PetscBool stopped  = PETSC_FALSE;
      PetscCall(PetscArraycpy(tr->chunk_x, tr->x, tr->n));
      tr->chunk_step     = tr->step;
      tr->chunk_nhistory = tr->nhistory;
      PetscCall(KDTrainerLBFGSChunk(tr, chunk_end - tr->step, &stopped));
      if (tr->stop_requested) {
        const PetscInt reached = tr->step;
        /* Stopped inside the chunk: back to its start, which resumes bitwise (the chunk's L-BFGS memory would not) */
        if (reached < chunk_end) {
          PetscCall(PetscArraycpy(tr->x, tr->chunk_x, tr->n));
          tr->step     = tr->chunk_step;
          tr->nhistory = tr->chunk_nhistory;
        }
        PetscCall(KDTrainerStopOnSignal(tr, reached));
      }
      if (stopped) break;
      if (ce > 0 && tr->step % ce == 0 && tr->step < end) PetscCall(KDTrainerCheckpointWrite(tr));
    }
    tr->phase    = KD_PHASE_GN;
    tr->gn_start = tr->step;
    /* a line at the switch, so that the first Gauss-Newton line times Gauss-Newton steps only */
    if (tr->gn_steps > 0 || tr->quantize_steps > 0) PetscCall(KDTrainerMonitor(tr, PETSC_TRUE, tr->x));
  }
  if (tr->phase == KD_PHASE_GN) {
    const KDTrainerPhase next = tr->quantize_steps > 0 ? KD_PHASE_QUANTIZE : KD_PHASE_DONE;
    while (tr->phase == KD_PHASE_GN && tr->step < tr->gn_start + tr->gn_steps) {
      PetscBool accepted;
      /* epochs count on from Adam's, so that each set is new and a restart draws the one in use (tr->epoch) */
      if (tr->gn_resample_every > 0 && tr->step > tr->gn_start &&
          (tr->step - tr->gn_start) % tr->gn_resample_every == 0)
        PetscCall((*tr->resample)(tr->resample_ctx, ++tr->epoch));
      PetscCall(KDTrainerGaussNewtonStep(tr, &accepted));
      if (!accepted) tr->phase = next; /* before the checkpoint, so that a restart does not try again */
      if (ce > 0 && tr->step % ce == 0) PetscCall(KDTrainerCheckpointWrite(tr));
      if (tr->stop_requested) PetscCall(KDTrainerStopOnSignal(tr, tr->step));
    }
    tr->phase = next;
  }
  if (tr->phase == KD_PHASE_QUANTIZE) {
    /* Layer by layer, from the first hidden-to-hidden layer to the output layer: round and freeze it, then refit
       what is still free (the first layer, every bias, the layers not yet rounded) so that they compensate the
       rounding. A refit that stops early (no damping decreased the loss) ends that layer's turn. */
    if (tr->quantize_end < 0) tr->quantize_end = tr->step;
    while (PETSC_TRUE) {
      PetscBool accepted;
      if (tr->step >= tr->quantize_end) {
        if (tr->quantize_layers == tr->net->nlayers - 1) break;
        /* a new problem: the damping the last refit ended with (huge if it stopped early) would stall this one, and
           would make the compensated rounding's H^-1 a multiple of D^-1 */
        PetscCall(KDGaussNewtonResetDamping(tr->gn));
        PetscCall(KDTrainerFreezeLayer(tr, ++tr->quantize_layers, PETSC_TRUE));
        tr->quantize_end = tr->step + tr->quantize_steps;
      }
      PetscCall(KDTrainerGaussNewtonStep(tr, &accepted));
      if (!accepted) tr->quantize_end = tr->step;
      if (ce > 0 && tr->step % ce == 0) PetscCall(KDTrainerCheckpointWrite(tr));
      if (tr->stop_requested) PetscCall(KDTrainerStopOnSignal(tr, tr->step));
    }
    tr->phase = KD_PHASE_DONE;
  }
  PetscCall(KDTrainerPush(tr));
  if (tr->ninfer && tr->gn) PetscCall(KDTrainerInferredCovariance(tr));
  PetscCall(KDTrainerMonitor(tr, PETSC_TRUE, tr->x));
  if (ce > 0) PetscCall(KDTrainerCheckpointWrite(tr));
  if (tr->nhistory == 0) {
    /* Nothing trained: still report the loss of the parameters as they are. */
    PetscReal f;
    PetscCall(KDTrainerEvaluate(tr, &f));
    tr->loss_total = f;
    PetscCall(PetscArraycpy(tr->loss_terms, tr->buffer + tr->n, tr->nterms));
  }
  PetscCall(PetscTime(&now));
  tr->train_seconds = tr->train_seconds_before + (PetscReal) (now - tr->time_start);
  PetscCall(PetscOptionsGetViewer(tr->comm, NULL, tr->prefix[0] ? tr->prefix : NULL, "-trainer_view", &viewer, &format,
                                  &viewed));
  if (viewed) {
    PetscCall(PetscViewerPushFormat(viewer, format));
    PetscCall(KDTrainerView(tr, viewer));
    PetscCall(PetscViewerPopFormat(viewer));
    PetscCall(PetscViewerDestroy(&viewer));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerGetLoss - The loss of the last training step (summed over the ranks).

  Not collective
@*/
PetscErrorCode KDTrainerGetLoss(KDTrainer tr, PetscReal *loss)
{
  PetscFunctionBegin;
  *loss = tr->loss_total;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerGetTerms - The loss terms of the last training step.

  Not collective

  Output Parameters:
+ nterms - number of terms
. names  - their names (owned by the trainer)
- values - their values (owned by the trainer)
@*/
PetscErrorCode KDTrainerGetTerms(KDTrainer tr, PetscInt *nterms, const char *const **names, const PetscReal **values)
{
  PetscFunctionBegin;
  if (nterms) *nterms = tr->nterms;
  if (names) *names = (const char *const *) tr->term_names;
  if (values) *values = tr->loss_terms;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerGetBudget - The configured step counts of the three phases (after KDTrainerSetFromOptions()), e.g. for an
  objective whose weights follow a schedule over the Adam steps.

  Not collective

  Output Parameters:
+ adam_steps  - -<prefix>adam_steps (may be NULL)
. lbfgs_steps - -<prefix>lbfgs_steps (may be NULL)
- gn_steps    - -<prefix>gn_steps (may be NULL)
@*/
PetscErrorCode KDTrainerGetBudget(KDTrainer tr, PetscInt *adam_steps, PetscInt *lbfgs_steps, PetscInt *gn_steps)
{
  PetscFunctionBegin;
  if (adam_steps) *adam_steps = tr->adam_steps;
  if (lbfgs_steps) *lbfgs_steps = tr->lbfgs_steps;
  if (gn_steps) *gn_steps = tr->gn_steps;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerGetStep - The number of completed steps (Adam and L-BFGS together, including those before a restart).

  Not collective
@*/
PetscErrorCode KDTrainerGetStep(KDTrainer tr, PetscInt *step)
{
  PetscFunctionBegin;
  *step = tr->step;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerGetTrainTime - Wall time of training in seconds, summed over the runs a restarted run continued; in a
  monitor (KDTrainerMonitorSet()), the time up to the step reported.

  Not collective
@*/
PetscErrorCode KDTrainerGetTrainTime(KDTrainer tr, PetscReal *seconds)
{
  PetscFunctionBegin;
  *seconds = tr->train_seconds;
  PetscFunctionReturn(0);
}

/*@C
  KDTrainerView - Prints the trainer's settings and state.

  Collective
@*/
PetscErrorCode KDTrainerView(KDTrainer tr, PetscViewer viewer)
{
  PetscBool ascii;
  PetscMPIInt size;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(tr->comm, &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_size(tr->comm, &size));
  PetscCall(PetscViewerASCIIPrintf(viewer, "KDTrainer %s: %" PetscInt_FMT " parameters, %" PetscInt_FMT " loss terms (",
                                   tr->name, tr->n, tr->nterms));
  for (PetscInt k = 0; k < tr->nterms; k++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s%s", k ? ", " : "", tr->term_names[k]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "), %d ranks, one allreduce of %" PetscInt_FMT " values per evaluation\n",
                                   size, tr->n + tr->nterms));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "Adam: %" PetscInt_FMT " steps, lr %g, decay %s (rate %g every %" PetscInt_FMT
                                   " steps), beta1 %g, beta2 %g, epsilon %g\n",
                                   tr->adam_steps, (double) tr->lr0, KDLearningRateDecays[tr->decay],
                                   (double) tr->decay_rate, tr->decay_steps, (double) tr->beta1, (double) tr->beta2,
                                   (double) tr->epsilon));
  PetscCall(PetscViewerASCIIPrintf(
      viewer,
      "L-BFGS (TAO, options -%stao_*): %" PetscInt_FMT " steps, memory restarted every %" PetscInt_FMT " steps\n",
      tr->prefix, tr->lbfgs_steps, tr->checkpoint_every > 0 ? tr->checkpoint_every : tr->lbfgs_steps));
  PetscCall(PetscViewerASCIIPrintf(viewer, "Gauss-Newton: %" PetscInt_FMT " steps\n", tr->gn_steps));
  if (tr->quantize_steps > 0)
    PetscCall(PetscViewerASCIIPrintf(
        viewer,
        "quantization: %" PetscInt_FMT " layers rounded to int8 in turn (%s), %" PetscInt_FMT
        " Gauss-Newton steps after each (%" PetscInt_FMT " rounded so far)\n",
        tr->net->nlayers - 1, KDQuantizeRoundings[tr->quantize_rounding], tr->quantize_steps, tr->quantize_layers));
  if (tr->weight_decay > 0)
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "weight decay %g over %" PetscInt_FMT " parameters (%s)\n", (double) tr->weight_decay,
        (PetscInt) tr->weight_decay_norm,
        !tr->net ? "all" : (tr->weight_decay_first ? "all weights" : "weights after the first layer")));
  if (tr->gn) PetscCall(KDGaussNewtonView(tr->gn, viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "resample every %" PetscInt_FMT " Adam steps, every %" PetscInt_FMT
                                   " Gauss-Newton steps; checkpoint every %" PetscInt_FMT " steps to %s\n",
                                   tr->resample_every, tr->gn_resample_every, tr->checkpoint_every,
                                   tr->checkpoint[0] ? tr->checkpoint : "(none)"));
  PetscCall(PetscViewerASCIIPrintf(
      viewer, "state: step %" PetscInt_FMT ", phase %s, epoch %" PetscInt_FMT ", loss %g, %g s\n", tr->step,
      KDTrainerPhaseNames[tr->phase], tr->epoch, (double) tr->loss_total, (double) tr->train_seconds));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}
