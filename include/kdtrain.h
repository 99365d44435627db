#pragma once
/* PINN losses (KDLoss) and data-parallel training (KDTrainer).

   Division of labour: a KDLoss evaluates, on this rank's share of the collocation points only, the weighted loss
   terms and their gradient with respect to the network parameters, with no communication. A KDTrainer owns the
   optimizers (Adam, then L-BFGS through TAO): each evaluation sums [gradient, terms] over the ranks with exactly one
   MPI_Allreduce of one buffer. Collocation points are drawn from global indices with a counter-based generator, so
   the global point set, and hence the trained model, does not depend on the number of ranks. */
#include <kdnet.h>
#include <kdreference.h>
#include <kdpde.h>

#define KD_LOSS_MAX_TERMS 16
#define KD_LOSS_MAX_INFER 16

typedef struct _p_KDLoss *KDLoss;

PETSC_EXTERN PetscErrorCode KDLossCreate(MPI_Comm, KDLoss *);
PETSC_EXTERN PetscErrorCode KDLossDestroy(KDLoss *);
PETSC_EXTERN PetscErrorCode KDLossSetOptionsPrefix(KDLoss, const char[]);
PETSC_EXTERN PetscErrorCode KDLossSetNet(KDLoss, KDNet);
PETSC_EXTERN PetscErrorCode KDLossSetReference(KDLoss, KDReference, PetscInt);
PETSC_EXTERN PetscErrorCode KDLossSetPDEType(KDLoss, const char[]);
PETSC_EXTERN PetscErrorCode KDLossGetPDE(KDLoss, KDPDE *);
PETSC_EXTERN PetscErrorCode KDLossSetSeed(KDLoss, PetscInt);
PETSC_EXTERN PetscErrorCode KDLossSetFromOptions(KDLoss);
PETSC_EXTERN PetscErrorCode KDLossSetPDEWeight(KDLoss, PetscReal);
PETSC_EXTERN PetscErrorCode KDLossGetPDEWeight(KDLoss, PetscReal *);
PETSC_EXTERN PetscErrorCode KDLossSetUp(KDLoss);
PETSC_EXTERN PetscErrorCode KDLossGetTerms(KDLoss, PetscInt *, const char *const **);
/* Local (this rank) weighted terms and gradient, no communication; grad is overwritten. The global loss is the sum of
   the terms summed over ranks (terms are already normalized by global point counts). */
PETSC_EXTERN PetscErrorCode KDLossEvaluateLocal(KDLoss, PetscReal[], PetscReal[]);
/* Draws a new collocation set (epoch k); the set depends on (seed, k, global index) only. */
PETSC_EXTERN PetscErrorCode KDLossResample(KDLoss, PetscInt);
PETSC_EXTERN PetscErrorCode KDLossView(KDLoss, PetscViewer);
/* Fits a network to the loss's PDE (nin, nout, input box from the reference's level-0 domain). */
PETSC_EXTERN PetscErrorCode KDLossConfigureNet(KDLoss, KDNet);
/* This rank's points of a term ("pde", a condition of the PDE such as "ic" or "bc", "gauge", "data"), x[p * nin + i].
 */
PETSC_EXTERN PetscErrorCode KDLossGetPoints(KDLoss, const char[], PetscInt *, const PetscReal **);
/* Global RMS of the PDE residual of the loss's network on given local points (NULL: the interior collocation set). */
PETSC_EXTERN PetscErrorCode KDLossResidualRMS(KDLoss, PetscInt, const PetscReal[], PetscReal *);
/* Inferred PDE parameters (-<prefix>infer) and a learned coefficient field (-<prefix>infer_field): they follow the
   network's in the loss's parameter vector, as trainable values theta (the logarithm of a positive parameter), then
   the field network's parameters. (loss, &n): the length of that vector. */
PETSC_EXTERN PetscErrorCode KDLossGetNumParameters(KDLoss, PetscInt *);
PETSC_EXTERN PetscErrorCode KDLossGetNumInferred(KDLoss, PetscInt *);
PETSC_EXTERN PetscErrorCode KDLossGetExtraParameters(KDLoss, PetscReal[]);
PETSC_EXTERN PetscErrorCode KDLossSetExtraParameters(KDLoss, const PetscReal[]);
/* (loss, &field, &name): the network of a learned coefficient field, k = exp(field(spatial inputs)); NULL if none */
PETSC_EXTERN PetscErrorCode KDLossGetField(KDLoss, KDNet *, const char **);
/* (loss, k, &name, &value, &std, &initial); std is NaN until KDLossSetInferredCovariance() */
PETSC_EXTERN PetscErrorCode KDLossGetInferred(KDLoss, PetscInt, const char **, PetscReal *, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode KDLossSetInferredCovariance(KDLoss, const PetscReal[]);
PETSC_EXTERN PetscErrorCode KDLossSetModelInfo(KDLoss, KDModelInfo *);

/* Observations (docs/inverse.md): this rank's rows of an observation file, matched by name to a PDE's network. */
typedef struct {
  PetscInt n, nlocal, gstart; /* global rows, this rank's, its first */
  PetscReal *x;               /* x[p * nin + i], network input order */
  PetscReal *y;               /* y[o * nlocal + p], network output order (0 where not observed) */
  PetscReal *w;               /* 1 / sigma^2 in the layout of y (NULL without sigma, or without local rows) */
  PetscBool sigma;            /* the file gives sigma (the same on every rank) */
  PetscBool observed[KD_NET_MAX_OUT];
} KDObservations;
PETSC_EXTERN PetscErrorCode KDObservationsRead(MPI_Comm, KDPDE, const char[], KDObservations *);
PETSC_EXTERN PetscErrorCode KDObservationsReset(KDObservations *);

/* Objective seen by the trainer: local terms and local gradient at the network's current parameters. */
typedef PetscErrorCode (*KDObjectiveFunction)(void *ctx, PetscReal terms[], PetscReal grad[]);

typedef struct _p_KDTrainer *KDTrainer;

PETSC_EXTERN PetscErrorCode KDTrainerCreate(MPI_Comm, KDTrainer *);
PETSC_EXTERN PetscErrorCode KDTrainerDestroy(KDTrainer *);
PETSC_EXTERN PetscErrorCode KDTrainerSetOptionsPrefix(KDTrainer, const char[]);
PETSC_EXTERN PetscErrorCode KDTrainerSetName(KDTrainer, const char[]);
PETSC_EXTERN PetscErrorCode KDTrainerGetName(KDTrainer, const char *[]);
PETSC_EXTERN PetscErrorCode KDTrainerSetNet(KDTrainer, KDNet);
PETSC_EXTERN PetscErrorCode KDTrainerSetLoss(KDTrainer, KDLoss);
PETSC_EXTERN PetscErrorCode KDTrainerSetParameterLoss(KDTrainer, KDLoss);
PETSC_EXTERN PetscErrorCode KDTrainerSetObjective(KDTrainer, PetscInt, const char *const[], KDObjectiveFunction,
                                                  void *);
/* Raw parameter buffer (length n, replicated on every rank) for a KDTrainerSetObjective() objective without a KDNet. */
PETSC_EXTERN PetscErrorCode KDTrainerSetParameters(KDTrainer, PetscInt, PetscReal[]);
/* Draws collocation set `epoch` for a KDTrainerSetObjective() objective (a KDLoss is resampled by KDLossResample). */
PETSC_EXTERN PetscErrorCode KDTrainerSetResample(KDTrainer, PetscErrorCode (*)(void *, PetscInt), void *);
PETSC_EXTERN PetscErrorCode KDTrainerSetCheckpoint(KDTrainer, const char[]);
/* Called after each monitor line (-kd_monitor) with the step and the parameters it reports (length n, as trained). */
typedef PetscErrorCode (*KDTrainerMonitorFunction)(KDTrainer, PetscInt, const PetscReal[], void *);
#define KD_TRAINER_MAX_MONITORS 4
/* (tr, f, ctx, destroy): adds a monitor; destroy(&ctx) (may be NULL) runs when the trainer is destroyed */
PETSC_EXTERN PetscErrorCode KDTrainerMonitorSet(KDTrainer, KDTrainerMonitorFunction, void *,
                                                PetscErrorCode (*)(void **));
PETSC_EXTERN PetscErrorCode KDTrainerSetFromOptions(KDTrainer);
PETSC_EXTERN PetscErrorCode KDTrainerSetUp(KDTrainer);
PETSC_EXTERN PetscErrorCode KDTrainerTrain(KDTrainer);
PETSC_EXTERN PetscErrorCode KDTrainerGetLoss(KDTrainer, PetscReal *);
PETSC_EXTERN PetscErrorCode KDTrainerGetTrainTime(KDTrainer, PetscReal *);
PETSC_EXTERN PetscErrorCode KDTrainerGetTerms(KDTrainer, PetscInt *, const char *const **, const PetscReal **);
PETSC_EXTERN PetscErrorCode KDTrainerGetStep(KDTrainer, PetscInt *);
/* (tr, &adam_steps, &lbfgs_steps): the configured budget of the two phases */
PETSC_EXTERN PetscErrorCode KDTrainerGetBudget(KDTrainer, PetscInt *, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode KDTrainerView(KDTrainer, PetscViewer);

/* Gauss-Newton */
/* A least-squares objective, loss = sum over ranks of |r|^2: the number of rows on this rank, and rows
   start .. start + count - 1 with their Jacobian (row-major count x nparams; J may be NULL). */
typedef PetscErrorCode (*KDResidualSizeFunction)(void *, PetscInt *);
typedef PetscErrorCode (*KDResidualFunction)(void *, PetscInt, PetscInt, PetscReal[], PetscReal[]);
/* The KDLoss as rows sqrt(w/N) r: |rows|^2 summed over ranks is the loss (terms in order, points, components). */
PETSC_EXTERN PetscErrorCode KDLossGetResidualSize(KDLoss, PetscInt *);
PETSC_EXTERN PetscErrorCode KDLossResidualLocal(KDLoss, PetscInt, PetscInt, PetscReal[], PetscReal[]);

typedef struct _p_KDGaussNewton *KDGaussNewton;
PETSC_EXTERN PetscErrorCode KDGaussNewtonCreate(MPI_Comm, KDGaussNewton *);
PETSC_EXTERN PetscErrorCode KDGaussNewtonDestroy(KDGaussNewton *);
PETSC_EXTERN PetscErrorCode KDGaussNewtonSetOptionsPrefix(KDGaussNewton, const char[]);
PETSC_EXTERN PetscErrorCode KDGaussNewtonSetResidual(KDGaussNewton, PetscInt, PetscReal[], KDResidualSizeFunction,
                                                     KDResidualFunction, void *);
PETSC_EXTERN PetscErrorCode KDGaussNewtonSetLoss(KDGaussNewton, PetscInt, PetscReal[], KDLoss);
PETSC_EXTERN PetscErrorCode KDGaussNewtonSetFromOptions(KDGaussNewton);
PETSC_EXTERN PetscErrorCode KDGaussNewtonSetUp(KDGaussNewton);
PETSC_EXTERN PetscErrorCode KDGaussNewtonFormNormalEquations(KDGaussNewton, PetscReal *);
/* (gn, lambda, delta, &spd) */
PETSC_EXTERN PetscErrorCode KDGaussNewtonSolveDamped(KDGaussNewton, PetscReal, PetscReal[], PetscBool *);
/* (gn, &F, &accepted) */
PETSC_EXTERN PetscErrorCode KDGaussNewtonStep(KDGaussNewton, PetscReal *, PetscBool *);
/* (gn, lambda, nidx, idx, cols, &lambda_used): (J^T J + lambda D)^-1 e_j, j in idx, at the current parameters */
PETSC_EXTERN PetscErrorCode KDGaussNewtonInverseColumns(KDGaussNewton, PetscReal, PetscInt, const PetscInt[],
                                                        PetscReal[], PetscReal *);
/* (gn, lambda, nidx, idx, block, &lambda_used): [(J^T J + lambda D)^-1]_{idx, idx} at the current parameters */
PETSC_EXTERN PetscErrorCode KDGaussNewtonInverseBlock(KDGaussNewton, PetscReal, PetscInt, const PetscInt[], PetscReal[],
                                                      PetscReal *);
PETSC_EXTERN PetscErrorCode KDGaussNewtonGetDamping(KDGaussNewton, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode KDGaussNewtonSetDamping(KDGaussNewton, PetscReal, PetscReal);
PETSC_EXTERN PetscErrorCode KDGaussNewtonResetDamping(KDGaussNewton);
PETSC_EXTERN PetscErrorCode KDGaussNewtonGetTrials(KDGaussNewton, PetscInt *);
PETSC_EXTERN PetscErrorCode KDGaussNewtonGetIterations(KDGaussNewton, PetscInt *);
PETSC_EXTERN PetscErrorCode KDGaussNewtonView(KDGaussNewton, PetscViewer);
/* Gauss-Newton phase of a trainer on a KDTrainerSetObjective() objective (a KDLoss provides its rows itself) */
PETSC_EXTERN PetscErrorCode KDTrainerSetResidual(KDTrainer, KDResidualSizeFunction, KDResidualFunction, void *);
