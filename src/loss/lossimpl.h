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
  PetscInt64 seed;
  PetscInt epoch;
  PetscInt ncol, ndata, data_level; /* data_level < 0: the model's level */
  PetscInt dlevel;                  /* the data level in use, fixed by KDLossSetUp() */
  PetscReal w_pde, w_gauge, w_data;
  PetscInt ncond[KD_LOSS_MAX_TERMS]; /* points and weights of the PDE's conditions, in their order */
  PetscReal wcond[KD_LOSS_MAX_TERMS];
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

PETSC_INTERN PetscErrorCode KDLossWorkEnsure(KDLoss, PetscInt);
