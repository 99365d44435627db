#pragma once
/* KDNet: a multilayer perceptron whose input derivatives are propagated forward as exact jets.

   Jet layout. For a batch of n points and a KDJetSpec, stream 0 is the value, streams 1..nin the first
   derivatives d/dx_i (physical inputs: the affine input map and the output scaling are included), then one
   stream per requested second derivative d2/dx_i dx_j, in the order of the spec. A jet array holds
     jet[(o * nstreams + s) * n + p]    output o, stream s, point p
   so that every (output, stream) pair is a contiguous run over the points of a block. Points are given
   point-major: x[p * nin + i]. All parameters live in one contiguous buffer (layer by layer: W (out x in,
   row-major), then b), which is what the optimizers, the allreduce and the files see. */
#include <kdsys.h>

#define KD_NET_MAX_LAYERS 32
#define KD_NET_MAX_IN 3
#define KD_NET_MAX_OUT 4
#define KD_JET_MAX_SECOND 6
#define KD_JET_MAX_STREAMS (1 + KD_NET_MAX_IN + KD_JET_MAX_SECOND)

typedef struct _p_KDNet *KDNet;

typedef enum { KD_ACTIVATION_TANH, KD_ACTIVATION_SIN, KD_ACTIVATION_ISRU } KDActivation;
PETSC_EXTERN const char *const KDActivations[];

/* The small matrix products of the jet kernels: the BLAS (cblas_dgemm; the default, and the reference the other is
   checked against), or LIBXSMM's code generated for the exact sizes. */
typedef enum { KD_NET_GEMM_BLAS, KD_NET_GEMM_LIBXSMM } KDNetGemm;
PETSC_EXTERN const char *const KDNetGemms[];

/* Which second derivatives a jet carries: pairs (i, j), i <= j; pure ones are (i, i). */
typedef struct {
  PetscInt nsecond;
  PetscInt second[KD_JET_MAX_SECOND][2];
} KDJetSpec;

/* Descriptive attributes of a model file (docs/model-format.md). */
typedef struct {
  char pde[64];
  char inputs[64];       /* e.g. "t,x" */
  char outputs[64];      /* e.g. "u" or "u,v,p" */
  char trained_with[16]; /* pinn | distill | scratch */
  PetscInt level;
  PetscInt nparams; /* PDE parameters written as root attributes by name */
  char param_names[16][32];
  PetscReal param_values[16];
  PetscInt ninferred; /* PDE parameters inferred from data: group inferred, attribute <name> = [value, std, initial] */
  char inferred_names[16][32];
  PetscReal inferred[16][3];
} KDModelInfo;

/* Loss on a block of points: given the jets of the block (layout above, n = block size, offset = index of the
   block's first point in the batch), add the block's loss to *loss and write dLoss/djet into adj (same layout;
   the caller zeroes it). Called once per block, in order; may be called with different block sizes. */
typedef PetscErrorCode (*KDJetLossFunction)(PetscInt n, PetscInt offset, const PetscReal jet[], PetscReal adj[],
                                            PetscReal *loss, void *ctx);

PETSC_EXTERN PetscErrorCode KDNetCreate(MPI_Comm, KDNet *);
PETSC_EXTERN PetscErrorCode KDNetDestroy(KDNet *);
PETSC_EXTERN PetscErrorCode KDNetSetOptionsPrefix(KDNet, const char[]);
PETSC_EXTERN PetscErrorCode KDNetSetArchitecture(KDNet, PetscInt, PetscInt, const PetscInt[], PetscInt);
PETSC_EXTERN PetscErrorCode KDNetSetActivation(KDNet, KDActivation);
PETSC_EXTERN PetscErrorCode KDNetGetActivation(KDNet, KDActivation *);
PETSC_EXTERN PetscErrorCode KDNetSetInputBounds(KDNet, const PetscReal[], const PetscReal[]);
PETSC_EXTERN PetscErrorCode KDNetGetInputBounds(KDNet, PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDNetSetOutputScaling(KDNet, const PetscReal[], const PetscReal[]);
PETSC_EXTERN PetscErrorCode KDNetSetBlockSize(KDNet, PetscInt);
PETSC_EXTERN PetscErrorCode KDNetSetGemm(KDNet, KDNetGemm);
PETSC_EXTERN PetscErrorCode KDNetGetGemm(KDNet, KDNetGemm *);
PETSC_EXTERN PetscErrorCode KDNetSetFromOptions(KDNet);
PETSC_EXTERN PetscErrorCode KDNetSetUp(KDNet);
PETSC_EXTERN PetscErrorCode KDNetInitialize(KDNet, PetscInt);
/* (net, &nin, &nout, &nparams) */
PETSC_EXTERN PetscErrorCode KDNetGetSizes(KDNet, PetscInt *, PetscInt *, PetscInt *);
/* (net, &nwidths, &widths): widths = [nin, h_1, ..., h_nhidden, nout], nwidths = number of layers + 1 */
PETSC_EXTERN PetscErrorCode KDNetGetWidths(KDNet, PetscInt *, const PetscInt **);
PETSC_EXTERN PetscErrorCode KDNetGetParameters(KDNet, PetscReal **);
/* (net, n, x, y): values only, y[o * n + p] (the layout of a jet's value stream) */
PETSC_EXTERN PetscErrorCode KDNetEvaluate(KDNet, PetscInt, const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDJetSpecGetNumStreams(const KDJetSpec *, PetscInt, PetscInt *);
PETSC_EXTERN PetscErrorCode KDNetJetForward(KDNet, const KDJetSpec *, PetscInt, const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDNetLossGradient(KDNet, const KDJetSpec *, PetscInt, const PetscReal[], KDJetLossFunction,
                                              void *, PetscReal *, PetscReal[]);
/* (net, spec, n, x, adj, grad): grad += d/dparams of sum adj . jet, one reverse pass with a given jet adjoint */
PETSC_EXTERN PetscErrorCode KDNetJetGradient(KDNet, const KDJetSpec *, PetscInt, const PetscReal[], const PetscReal[],
                                             PetscReal[]);
/* Residual rows of a block of points for a least-squares loss: for np points starting at point `offset` of the set,
   nr rows per point r[k * np + p] and, unless seed is NULL, their derivatives with respect to the point's own jet,
   seed[(k * nj + j) * np + p], j = o * nstreams + s, nj = nout * nstreams (zeroed by the caller). */
typedef PetscErrorCode (*KDJetResidualFunction)(PetscInt, PetscInt, const PetscReal[], PetscReal[], PetscReal[],
                                                void *);
/* (net, spec, n, x, nr, f, ctx, rstart, rcount, r, J): rows rstart.. of the n * nr point-major rows, J row-major */
PETSC_EXTERN PetscErrorCode KDNetResidualJacobian(KDNet, const KDJetSpec *, PetscInt, const PetscReal[], PetscInt,
                                                  KDJetResidualFunction, void *, PetscInt, PetscInt, PetscReal[],
                                                  PetscReal[]);
/* An output addend: a known field added to a network's outputs, with its jets (a singular part that no smooth MLP
   represents, such as the corner flow of a lid-driven cavity; docs/model-format.md). It adds, for nb points x
   (point-major), to y[o * ld + s * nb + p] every stream s of the spec (value, first derivatives, the spec's second
   ones; spec NULL: the value only, s = 0); param are the nparam numbers the model file carries with its name. Called
   with nb = 0 (x, y NULL), it only checks nparam, param, nin and nout, and raises an error if they do not fit. */
#define KD_NET_MAX_ADDEND_PARAMS 8
typedef PetscErrorCode (*KDNetAddendFunction)(PetscInt nparam, const PetscReal param[], PetscInt nin, PetscInt nout,
                                              const KDJetSpec *spec, PetscInt nb, const PetscReal x[], PetscReal y[],
                                              PetscInt ld);
PETSC_EXTERN PetscErrorCode KDNetAddendRegister(const char[], KDNetAddendFunction);
PETSC_EXTERN PetscErrorCode KDNetSetOutputAddend(KDNet, const char[], PetscInt, const PetscReal[]);
/* (net, &name, &nparam, &param): name "" when the network has none */
PETSC_EXTERN PetscErrorCode KDNetGetOutputAddend(KDNet, const char **, PetscInt *, const PetscReal **);
/* Input features: known functions of the physical inputs that the first layer reads after them, with their jets
   (for example |phi| of a level set phi whose zero set is a material interface, so that the network represents
   fields whose gradient jumps there; docs/model-format.md). For nb points x (point-major, physical coordinates) it
   writes feature j's stream s of point p to A[j * ld + s * nb + p] for every stream of the spec (value, first
   derivatives, the spec's second ones; spec NULL: the value only). param are the nparam numbers the model file
   carries with its name. Called with nb = 0 (x, A NULL), it only checks nparam, param and nin, raises an error if
   they do not fit, and sets *nfeat to the number of features (1..KD_NET_MAX_FEATURES). */
#define KD_NET_MAX_FEATURES 8
typedef PetscErrorCode (*KDNetFeatureFunction)(PetscInt nparam, const PetscReal param[], PetscInt nin,
                                               const KDJetSpec *spec, PetscInt nb, const PetscReal x[], PetscReal A[],
                                               PetscInt ld, PetscInt *nfeat);
PETSC_EXTERN PetscErrorCode KDNetFeatureRegister(const char[], KDNetFeatureFunction);
PETSC_EXTERN PetscErrorCode KDNetSetInputFeatures(KDNet, const char[], PetscInt, const PetscReal[]);
/* (net, &name, &nfeat, &nparam, &param): name "" and nfeat 0 when the network has none */
PETSC_EXTERN PetscErrorCode KDNetGetInputFeatures(KDNet, const char **, PetscInt *, PetscInt *, const PetscReal **);
/* An output factor: a known function D(x) that multiplies some of the network's outputs, y_o = D(x) * (scaled MLP
   output o), in every value and jet (before the output addend), so that those outputs vanish where D does: boundary
   data imposed exactly (docs/model-format.md). For nb points x (point-major) it writes D's stream s of point p to
   D[s * nb + p] for every stream of the spec (spec NULL: the value only). Called with nb = 0 (x, D NULL), it only
   checks nparam, param, nin and nout, raises an error if they do not fit, and sets *mask to the outputs it
   multiplies (bit o for output o). */
typedef PetscErrorCode (*KDNetFactorFunction)(PetscInt nparam, const PetscReal param[], PetscInt nin, PetscInt nout,
                                              const KDJetSpec *spec, PetscInt nb, const PetscReal x[], PetscReal D[],
                                              PetscInt *mask);
PETSC_EXTERN PetscErrorCode KDNetFactorRegister(const char[], KDNetFactorFunction);
PETSC_EXTERN PetscErrorCode KDNetSetOutputFactor(KDNet, const char[], PetscInt, const PetscReal[]);
/* (net, &name, &mask, &nparam, &param): name "" and mask 0 when the network has none */
PETSC_EXTERN PetscErrorCode KDNetGetOutputFactor(KDNet, const char **, PetscInt *, PetscInt *, const PetscReal **);
PETSC_EXTERN PetscErrorCode KDNetView(KDNet, PetscViewer);
PETSC_EXTERN PetscErrorCode KDNetWrite(KDNet, const char[], const KDModelInfo *);
PETSC_EXTERN PetscErrorCode KDNetLoad(MPI_Comm, const char[], KDNet *, KDModelInfo *);
