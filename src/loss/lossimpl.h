#pragma once
/* Private layout of KDLoss (src/loss/loss.c) and its term types (src/loss/terms.c). */
#include <kdpde.h>
#include <kdtrain.h>

/* Streams of the point sets; the interior set of epoch k uses KD_STREAM_INTERIOR + KD_STREAM_EPOCH * k, the k-th
   initial condition KD_STREAM_INITIAL + KD_STREAM_EPOCH * k, the k-th condition on faces KD_STREAM_BOUNDARY +
   KD_STREAM_EPOCH * k: residues 1, 2, 3 modulo 16, which no other set uses (data 4, distillation 5 + 16 k and 6). */
#define KD_STREAM_INTERIOR 1
#define KD_STREAM_INITIAL 2
#define KD_STREAM_BOUNDARY 3
#define KD_STREAM_DATA 4
#define KD_STREAM_EPOCH 16

typedef struct _KDPointSet KDPointSet;

/* A term type: its loss and gradient over this rank's points of a set, and its least-squares rows. */
typedef struct {
  const char *name;
  /* adds the set's weighted loss to *value and its gradient to grad */
  PetscErrorCode (*evaluate)(KDPointSet *, PetscReal *, PetscReal[]);
  PetscErrorCode (*rowsperpoint)(const KDPointSet *, PetscInt *);
  /* rows start .. start + count - 1 of the set (point-major) and, unless J is NULL, their Jacobian */
  PetscErrorCode (*rows)(KDPointSet *, PetscInt, PetscInt, PetscReal[], PetscReal[]);
  /* the Jacobian columns of the parameters after the network's (inferred scalars, a field's network) of those rows,
     J[q * ld + k] (NULL: the term does not depend on them) */
  PetscErrorCode (*rowsextra)(KDPointSet *, PetscInt, PetscInt, PetscInt, PetscReal[]);
} KDTermOps;

PETSC_INTERN const KDTermOps KDTermResidual, KDTermValue, KDTermNeumann, KDTermPeriodic;

struct _KDPointSet {
  char name[16];
  const KDTermOps *ops;
  PetscInt condition;      /* the PDE's condition, -1 for the residual, gauge and data sets */
  PetscReal weight, scale; /* scale = weight / nglobal */
  PetscInt nglobal, nlocal, gstart;
  PetscReal *x;      /* x[p * nin + i] */
  PetscReal *x2;     /* periodic: the image of x[p] on the opposite face */
  PetscInt *face;    /* face of each point (bit index 2 i + s), boundary sets */
  PetscReal *target; /* target[o * nlocal + p]: values or fluxes */
  PetscReal *flux;   /* neumann: the flux coefficient c[o * nlocal + p] */
  PetscReal *wt;     /* observations with sigma: the weights 1 / sigma^2, wt[o * nlocal + p]; residual set of graded
                        points (KDPDEGradePoints()): the weight of each point's squared residual, wt[p] (NULL: 1) */
  PetscBool mask[KD_NET_MAX_OUT];
  PetscReal *coef; /* coef[c * nlocal + p] (residual set) */
  const KDJetSpec *spec;
  KDLoss loss;
};

struct _p_KDLoss {
  MPI_Comm comm;
  char *prefix;
  KDNet net;
  KDReference ref;
  KDPDE pde;
  PetscInt level; /* the model's level: default data level */
  PetscInt nin;   /* the PDE's inputs (set up) */
  PetscInt64 seed;
  PetscInt epoch;
  PetscInt ncol, ndata, data_level; /* data_level < 0: the model's level */
  PetscInt dlevel;                  /* the data level in use, fixed by KDLossSetUp() */
  PetscReal w_pde, w_gauge, w_data;
  PetscInt ncond[KD_LOSS_MAX_TERMS]; /* points and weights of the PDE's conditions, in their order */
  PetscReal wcond[KD_LOSS_MAX_TERMS];
  char data_fields[128];
  char observations[PETSC_MAX_PATH_LEN]; /* -<prefix>observations: the observation file, "" for none */
  PetscReal w_obs;
  PetscBool obs_sigma; /* the file gives sigma: the misfit is weighted by 1 / sigma^2 */
  /* Inferred PDE parameters (-<prefix>infer name=init,...): parameter k of the PDE is param[k]; the trainable value
     theta is log(value) for a positive parameter, the value otherwise; gtheta sums this rank's gradient. */
  char infer[256];
  PetscInt ninfer;
  PetscInt infer_param[KD_LOSS_MAX_INFER];
  PetscBool infer_log[KD_LOSS_MAX_INFER];
  PetscReal infer_initial[KD_LOSS_MAX_INFER], theta[KD_LOSS_MAX_INFER], gtheta[KD_LOSS_MAX_INFER];
  PetscReal infer_std[KD_LOSS_MAX_INFER]; /* the Laplace standard deviations (NaN until computed) */
  /* A coefficient field learned as a second network (-<prefix>infer_field name[=initial], src/loss/field.c): its
     coefficient and those of its derivatives along its inputs (the PDE's spatial inputs field_in), its parameters
     (nfield, after the inferred scalars in the loss's parameter vector) and their gradient, and workspace. */
  char infer_field[64], field_name[16];
  KDNet field;
  PetscReal field_initial;
  PetscInt field_value, nfin, field_in[KD_NET_MAX_IN], field_grad[KD_NET_MAX_IN], nfield;
  PetscReal *gfield, *fwork;
  PetscInt nfwork;
  PetscInt nsets;
  KDPointSet set[KD_LOSS_MAX_TERMS];
  const char *names[KD_LOSS_MAX_TERMS];
  KDJetSpec valuespec;
  PetscReal *work;
  PetscInt nwork;
  PetscBool setupcalled;
  PetscBool optionsread; /* KDLossSetFromOptions() was called: a PDE set later reads its options too */
};

/* d param_k / d theta_k of inferred parameter k at the current values: the value (log map) or 1 */
PETSC_INTERN PetscErrorCode KDLossInferredChain(KDLoss, PetscInt, PetscReal *);
PETSC_INTERN PetscErrorCode KDLossSetUpObservations(KDLoss);
PETSC_INTERN PetscErrorCode KDLossFieldSetUp(KDLoss);
PETSC_INTERN PetscErrorCode KDLossFieldCoefficients(KDLoss, PetscInt, const PetscReal[], PetscReal[]);
PETSC_INTERN PetscErrorCode KDLossFieldGradient(KDLoss, PetscInt, const PetscReal[], const PetscReal[],
                                                const PetscReal[]);
PETSC_INTERN PetscErrorCode KDLossFieldRows(KDLoss, PetscInt, PetscInt, const PetscReal[], const PetscReal[], PetscInt,
                                            PetscInt, PetscReal, PetscInt, PetscReal[]);
/* Adds a set of N global points with weight w (none, *set = NULL, if either is zero): this rank's share, its arrays */
PETSC_INTERN PetscErrorCode KDLossAddSet(KDLoss, const char[], const KDTermOps *, PetscInt, PetscInt, PetscReal,
                                         KDPointSet **);
