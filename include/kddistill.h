#pragma once
/* Distillation across scales: the filtered teacher, the distillation loss (KDDistillLoss) and the distill stage.

   A student of level l is trained to match T~, the model one level finer (the teacher for l = 1) averaged over the
   student's cell size, on the cell centres of level l and on fresh collocation points:

     L = w_out/N sum |S - T~|^2 + w_grad/N sum |D (grad S - grad T~)|^2 + w_res/N sum |N[S] - N[T~]|^2
       + w_physics lambda(step) (w_pde, w_ic, w_bc, w_gauge, w_data terms of a KDLoss)

   with D = diag((hi - lo) / 2) (derivatives with respect to the network's normalized inputs) and lambda the
   progressive schedule: 0 for the first -student_distill_steps Adam steps, then a linear ramp to 1 over
   -student_ramp_steps, 1 afterwards and throughout L-BFGS. T~ and its jets are computed once per point set and
   cached; the loss is evaluated on this rank's share of global point sets without communication, like a KDLoss.
   docs/distillation.md has the details. */
#include <kdpde.h>
#include <kdtrain.h>

/* The scale filter as a tensor quadrature rule: per axis, nodes in [-1, 1] relative to the half-width r of the box
   and weights summing to 1; T~(x) = sum_k w_k1 ... w_kd T(x + (xi_k1 r_1, ..., xi_kd r_d)).
     box      - Gauss-Legendre nodes: the average of T over the box (exact for polynomials of degree <= 2 q - 1);
                for a teacher whose values are point values (the level-0 teacher);
     children - nodes +-1/2, weights 1/2: the mean of T at the 2^d centres of the box's child cells; for a teacher
                that already represents cell averages at half the box size (a student of the level below), for which
                this is the exact cell average of the box;
     midpoint - q equally spaced nodes (the midpoint rule of q sub-boxes), weights 1/q: the average of a teacher whose
                derivatives jump inside the box (a composite's interfaces), where Gauss-Legendre gains little from
                more nodes and its middle node may sit on an interface; over a whole period of a periodic field it
                is the trapezoidal rule of that period, exact for its smooth part to high order. */
#define KD_FILTER_MAX_GAUSS 8  /* box: Gauss-Legendre nodes per axis */
#define KD_FILTER_MAX_NODES 32 /* midpoint: nodes per axis */
typedef enum { KD_FILTER_BOX, KD_FILTER_CHILDREN, KD_FILTER_MIDPOINT } KDFilterType;
PETSC_EXTERN const char *const KDFilterTypes[];

typedef struct {
  KDFilterType type;
  PetscInt nnodes;
  PetscReal node[KD_FILTER_MAX_NODES], weight[KD_FILTER_MAX_NODES];
} KDFilterRule;

/* Jets of some function at n points: jet[(o * nstreams + s) * n + p] (kdnet.h layout). */
typedef PetscErrorCode (*KDJetFunction)(void *ctx, PetscInt n, const PetscReal x[], PetscReal jet[]);

PETSC_EXTERN PetscErrorCode KDFilterRuleSetUp(KDFilterRule *, KDFilterType, PetscInt);
/* (rule, nin, nout, nstreams, lo, hi, width, f, ctx, n, x, jet) */
PETSC_EXTERN PetscErrorCode KDFilterJets(const KDFilterRule *, PetscInt, PetscInt, PetscInt, const PetscReal[],
                                         const PetscReal[], const PetscReal[], KDJetFunction, void *, PetscInt,
                                         const PetscReal[], PetscReal[]);
/* (rule, net, spec, lo, hi, width, n, x, jet) */
PETSC_EXTERN PetscErrorCode KDFilterNet(const KDFilterRule *, KDNet, const KDJetSpec *, const PetscReal[],
                                        const PetscReal[], const PetscReal[], PetscInt, const PetscReal[], PetscReal[]);

typedef struct _p_KDDistillLoss *KDDistillLoss;

PETSC_EXTERN PetscErrorCode KDDistillLossCreate(MPI_Comm, KDDistillLoss *);
PETSC_EXTERN PetscErrorCode KDDistillLossDestroy(KDDistillLoss *);
PETSC_EXTERN PetscErrorCode KDDistillLossSetOptionsPrefix(KDDistillLoss, const char[]);
/* (dl, student, teacher): both borrowed */
PETSC_EXTERN PetscErrorCode KDDistillLossSetNets(KDDistillLoss, KDNet, KDNet);
/* (dl, physics, ref, level): the student's PINN loss (borrowed, set up with the same reference and level) */
PETSC_EXTERN PetscErrorCode KDDistillLossSetPhysics(KDDistillLoss, KDLoss, KDReference, PetscInt);
PETSC_EXTERN PetscErrorCode KDDistillLossSetFilter(KDDistillLoss, KDFilterType, PetscInt);
PETSC_EXTERN PetscErrorCode KDDistillLossSetSeed(KDDistillLoss, PetscInt);
PETSC_EXTERN PetscErrorCode KDDistillLossSetFromOptions(KDDistillLoss);
PETSC_EXTERN PetscErrorCode KDDistillLossSetUp(KDDistillLoss);
PETSC_EXTERN PetscErrorCode KDDistillLossGetTerms(KDDistillLoss, PetscInt *, const char *const **);
PETSC_EXTERN PetscErrorCode KDDistillLossGetPoints(KDDistillLoss, const char[], PetscInt *, const PetscReal **);
PETSC_EXTERN PetscErrorCode KDDistillLossGetTargets(KDDistillLoss, const char[], PetscInt *, const PetscReal **,
                                                    const PetscReal **);
PETSC_EXTERN PetscErrorCode KDDistillLossSetPhysicsWeight(KDDistillLoss, PetscReal);
PETSC_EXTERN PetscErrorCode KDDistillLossGetSchedule(KDDistillLoss, PetscInt *, PetscInt *);
PETSC_EXTERN PetscReal KDDistillScheduleWeight(PetscInt, PetscInt, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode KDDistillLossEvaluateLocal(KDDistillLoss, PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDDistillLossGetResidualSize(KDDistillLoss, PetscInt *);
PETSC_EXTERN PetscErrorCode KDDistillLossResidualLocal(KDDistillLoss, PetscInt, PetscInt, PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDDistillLossResample(KDDistillLoss, PetscInt);
PETSC_EXTERN PetscErrorCode KDDistillLossView(KDDistillLoss, PetscViewer);
PETSC_EXTERN PetscErrorCode KDTrainerSetDistillLoss(KDTrainer, KDDistillLoss);
