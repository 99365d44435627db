#pragma once
/* Private to the trainer (src/train/train.c) and its checkpoint file (src/train/checkpoint.c). */
#include <kdtrain.h>

/* Everything a restarted run needs to continue bitwise as if it had not stopped. Arrays are borrowed from the
   trainer when writing and allocated by KDCheckpointLoad() when reading (freed by KDCheckpointReset()). */
typedef struct {
  char pde[64];
  char prefix[64];
  char phase[16];  /* adam | lbfgs | gn | quantize | done */
  char terms[512]; /* names of the loss terms, comma-separated */
  PetscInt nparams, nterms, nhistory;
  PetscInt step;             /* completed optimizer steps (Adam and L-BFGS together) */
  PetscInt epoch;            /* collocation set in use: the counter of the point generator */
  PetscInt adam_step;        /* Adam's own step count t (bias correction) */
  PetscInt lbfgs_start;      /* step at which the L-BFGS phase began (-1: not yet) */
  PetscInt checkpoint_every; /* L-BFGS restarts at multiples of it: a restart must use the same value */
  PetscReal lr;              /* Adam learning rate of the last step */
  PetscReal train_seconds;   /* wall time spent training so far, summed over restarts */
  PetscReal gn[3];           /* Gauss-Newton: step its phase began (-1: not yet), LM damping lambda, its factor nu */
  PetscReal quantize[2];     /* quantization phase: layers rounded and frozen, step their refit ends (-1: not begun) */
  PetscReal *params, *adam_m, *adam_v;
  PetscReal *history;   /* nhistory x (1 + nterms): total loss, then each term */
  PetscInt ninferred;   /* PDE parameters inferred with the network (0: none) */
  char inferred[256];   /* their names, comma-separated */
  char network[512];    /* what the network carries beyond the MLP (output addend, output factor, input features: each
                           name and parameters); "" for a plain MLP or a raw parameter buffer */
  PetscBool hasnetwork; /* read: the file records it (files of earlier versions do not: not checked) */
  PetscReal *inferred_history; /* nhistory x ninferred: their values after each step */
} KDCheckpoint;

PETSC_INTERN PetscErrorCode KDCheckpointWrite(MPI_Comm, const char[], const KDCheckpoint *);
PETSC_INTERN PetscErrorCode KDCheckpointLoad(MPI_Comm, const char[], KDCheckpoint *);
PETSC_INTERN PetscErrorCode KDCheckpointReset(KDCheckpoint *);
PETSC_INTERN PetscErrorCode KDCheckpointChecksum(const KDCheckpoint *, unsigned long long *);
