#pragma once
/* Private layout of KDNet, shared by net.c (object, options, initialization), kernel.c (the jet kernels),
   activation.c (the activation table) and model.c (model files) in src/net, and by the trainer (src/train/train.c)
   and the exporter (src/export/exportimpl.h), which read the layers directly. */
#include <kdnet.h>

/* Points per block: of the jet kernels by default (-net_block_size), and of KDNetEvaluate() (one stream, where wider
   blocks make better GEMMs; docs/benchmarks.md, "Jet kernels in blocks of 32 points"). */
#define KD_NET_JET_BLOCK 32
#define KD_NET_EVALUATE_BLOCK 128

struct _p_KDNet {
  MPI_Comm comm;
  char *prefix;
  PetscInt nlayers;                       /* weight layers = hidden layers + 1 */
  PetscInt widths[KD_NET_MAX_LAYERS + 1]; /* [nin, h_1, ..., h_nhidden, nout] */
  KDActivation activation;
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];
  PetscReal scale[KD_NET_MAX_OUT], shift[KD_NET_MAX_OUT];
  PetscInt blocksize; /* points per block of the kernels */
  KDNetGemm gemm;     /* who multiplies the jet kernels' matrices (-<prefix>net_gemm) */
  /* kernel.c's generated products of each layer (LIBXSMM's, stored as plain function pointers so that this header
     needs no LIBXSMM): for the leading dimension gemm_ld[k] of the stream matrices (0: none yet), NULL where the BLAS
     multiplies; cleared by KDNetGemmReset_Private(). gemm_calls counts the products each side ran (t308). */
  PetscInt gemm_ld[KD_NET_MAX_LAYERS];
  void (*gemm_fwd[KD_NET_MAX_LAYERS])(void);
  void (*gemm_back[KD_NET_MAX_LAYERS])(void);
  PetscInt64 gemm_calls[2];
  PetscReal first_scale; /* factor of the first layer's initial weights (-<prefix>first_layer_scale) */
  /* The output addend (KDNetSetOutputAddend()): name "" for none */
  char addend[32];
  PetscInt naddend;
  PetscReal addend_param[KD_NET_MAX_ADDEND_PARAMS];
  KDNetAddendFunction addendfn;
  /* The input features (KDNetSetInputFeatures()): name "" and nfeat 0 for none; the first layer reads
     widths[0] + nfeat rows, the mapped inputs then the features */
  char features[32];
  PetscInt nfeat, nfeatparam;
  PetscReal feat_param[KD_NET_MAX_ADDEND_PARAMS];
  KDNetFeatureFunction featfn;
  /* The output factor (KDNetSetOutputFactor()): name "" and mask 0 for none */
  char factor[32];
  PetscInt factor_mask, nfactorparam;
  PetscReal factor_param[KD_NET_MAX_ADDEND_PARAMS];
  KDNetFactorFunction factorfn;
  PetscBool setupcalled;

  PetscInt nparams;
  PetscReal *params; /* layer k: W_k (out x in, row-major) at woff[k], b_k at boff[k] */
  PetscInt woff[KD_NET_MAX_LAYERS], boff[KD_NET_MAX_LAYERS];

  /* Workspace for one block of at most blocksize points and wsstreams streams, allocated once (KDNetSetUp, or on the
     first spec with more streams). Stream matrices are row-major (width x (nstreams * nb)): row r, stream s, point
     p at [r * nstreams * nb + s * nb + p], nb = points in the current block. */
  PetscInt wsstreams;
  PetscReal *work;
  PetscReal *A[KD_NET_MAX_LAYERS]; /* input of layer k (A[0]: the mapped inputs and their jets) */
  PetscReal *Z[KD_NET_MAX_LAYERS]; /* output of layer k before the activation; Z[nlayers-1] = jets */
  PetscReal *D[KD_NET_MAX_LAYERS]; /* s'(z) of the value stream of hidden layer k (width x nb) */
  PetscReal *adj;                  /* dLoss/djet of a block (nout x nstreams x nb) */
  PetscReal *G[2]; /* reverse-pass ping-pong buffers (max width x nstreams x nb), also KDNetEvaluate()'s */
  PetscReal *tmp;  /* 2 * blocksize scratch values */
  PetscReal *fjet; /* the output factor's jet in the block last run forward (nstreams x nb), for the reverse pass */
  PetscReal *fout; /* an output's jet before the factor (nstreams x nb); KDNetEvaluate()'s factor and output values
                      (2 x nb), so that an evaluation between a forward and its reverse pass leaves fjet alone */
};

/* Columns of layer k's weights: the layer's inputs, for the first layer the physical inputs and the features. */
static inline PetscInt KDNetFanIn_Private(KDNet net, PetscInt k)
{
  return net->widths[k] + (k ? 0 : net->nfeat);
}

/* The stream order of a spec: second[q] is stream 1 + nin + q. */
PETSC_INTERN PetscErrorCode KDNetCheckSpec_Private(KDNet, const KDJetSpec *, PetscInt *);
/* The registered output addend of that name, NULL if none (KDNetAddendRegister()). */
PETSC_INTERN KDNetAddendFunction KDNetAddendFind_Private(const char[]);
/* The registered input features of that name, NULL if none (KDNetFeatureRegister()). */
PETSC_INTERN KDNetFeatureFunction KDNetFeatureFind_Private(const char[]);
/* The registered output factor of that name, NULL if none (KDNetFactorRegister()). */
PETSC_INTERN KDNetFactorFunction KDNetFactorFind_Private(const char[]);
PETSC_INTERN PetscErrorCode KDNetWorkspaceEnsure_Private(KDNet, PetscInt);
/* Forgets kernel.c's generated products (any change of shape). */
PETSC_INTERN void KDNetGemmReset_Private(KDNet);
/* The products the jet kernels ran since the network was set up: [0] generated by LIBXSMM, [1] by the BLAS; exported
   (not public) for t308, which must know that the generated code ran. */
PETSC_EXTERN PetscErrorCode KDNetGemmGetCounts(KDNet, PetscInt64[2]);
PETSC_INTERN PetscErrorCode KDNetForwardBlock_Private(KDNet, const KDJetSpec *, PetscInt, PetscInt, const PetscReal[]);
PETSC_INTERN PetscErrorCode KDNetBackwardBlock_Private(KDNet, const KDJetSpec *, PetscInt, PetscInt, PetscReal[]);
PETSC_INTERN PetscErrorCode KDNetEvaluateBlock_Private(KDNet, PetscInt, const PetscReal[], PetscReal[], PetscInt);
PETSC_INTERN PetscErrorCode KDNetLogEventsGet_Private(PetscLogEvent *, PetscLogEvent *, PetscLogEvent *);
PETSC_INTERN PetscLogDouble KDNetFlopsPerPoint_Private(KDNet, PetscInt, PetscBool);
/* The vectorized tanh of the kernels, y[i] = tanh(x[i]); exported (not public) for its test against libm. */
PETSC_EXTERN void KDTanhArray(PetscInt, const PetscReal[], PetscReal[]);
/* The same for the inverse square root unit, y[i] = x[i] / sqrt(1 + x[i]^2): the kernels' path, or (portable) the one
   of machines without AVX-512. */
PETSC_EXTERN void KDIsruArray(PetscInt, const PetscReal[], PetscReal[], PetscBool);

/* The activations, one row each (src/net/activation.c), indexed by KDActivation. Rows of n pre-activations:
     value(n, b, z)             z <- s(z + b)
     jet(n, b, z, a, d, t2)     z <- z + b; a = s(z), d = s'(z), t2 = s''(z)
     adjoint(n, z, a, d, t2, t3) t2 = s''(z), t3 = s'''(z) from the stored z, a = s(z), d = s'(z)
   scalar and derivative (from z and a = s(z)) serve the int8 scheme's double-precision reference; an activation with
   an inverse is monotone and bounded by 1, so that the int8 kernel clamps its pre-activation at range (the float
   activation's own range, printed as range_text) or where s reaches a level bound (inverse). code[] is the C of the
   exported kernels per KDPrecision (f64, f32, int8), with $ for the kernel's name; int8_core names the float function
   the int8 kernel of a bounded activation applies to the clamped pre-activation. */
#define KD_ACTIVATION_COUNT 3
typedef struct {
  const char *name;
  void (*value)(PetscInt, PetscReal, PetscReal *);
  void (*jet)(PetscInt, PetscReal, PetscReal *restrict, PetscReal *restrict, PetscReal *restrict, PetscReal *restrict);
  void (*adjoint)(PetscInt, const PetscReal *restrict, const PetscReal *restrict, const PetscReal *restrict,
                  PetscReal *restrict, PetscReal *restrict);
  PetscReal (*scalar)(PetscReal);
  PetscReal (*derivative)(PetscReal, PetscReal);
  PetscReal (*inverse)(PetscReal);
  PetscReal range;
  const char *range_text;
  const char *int8_core;
  const char *code[3];
} KDActivationOps;
PETSC_INTERN const KDActivationOps KDActivationTable[];
PETSC_INTERN PetscErrorCode KDActivationGet(KDActivation, const KDActivationOps **);
