#include "net/netimpl.h"
#include <stdint.h>

static PetscLogEvent KD_NetForward = -1, KD_NetBackward = -1, KD_NetEvaluate = -1;

/* Events are registered on first use so that a program that never builds a network does not list them. */
PetscErrorCode KDNetLogEventsGet_Private(PetscLogEvent *fwd, PetscLogEvent *bwd, PetscLogEvent *ev)
{
  PetscFunctionBegin;
  if (KD_NetForward < 0) {
    PetscCall(KDRegisterAll());
    PetscCall(PetscLogEventRegister("KDNetForward", KD_CLASSID, &KD_NetForward));
    PetscCall(PetscLogEventRegister("KDNetBackward", KD_CLASSID, &KD_NetBackward));
    PetscCall(PetscLogEventRegister("KDNetEvaluate", KD_CLASSID, &KD_NetEvaluate));
  }
  if (fwd) *fwd = KD_NetForward;
  if (bwd) *bwd = KD_NetBackward;
  if (ev) *ev = KD_NetEvaluate;
  PetscFunctionReturn(0);
}

static PetscFunctionList KDNetAddendList = NULL;

static PetscErrorCode KDNetAddendFinalize(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&KDNetAddendList));
  PetscFunctionReturn(0);
}

/*@C
  KDNetAddendRegister - Adds an output addend by name (KDNetSetOutputAddend(); the name a model file carries).

  Not collective

  Input Parameters:
+ name - the addend's name (at most 31 characters)
- fn   - adds the field and its jets to a block of outputs (KDNetAddendFunction, include/kdnet.h)

  Notes:
  A PDE type registers its addends where it registers itself, so that a model file that names one loads wherever the
  PDE does. Registering a name again replaces its function.

.seealso: KDNetSetOutputAddend(), KDPDERegister()
@*/
PetscErrorCode KDNetAddendRegister(const char name[], KDNetAddendFunction fn)
{
  size_t len;

  PetscFunctionBegin;
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(fn && len > 0 && len < 32, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "KDNetAddendRegister(%s): needs a name of 1 to 31 characters and a function", name ? name : "NULL");
  if (!KDNetAddendList) PetscCall(PetscRegisterFinalize(KDNetAddendFinalize));
  PetscCall(PetscFunctionListAdd(&KDNetAddendList, name, fn));
  PetscFunctionReturn(0);
}

KDNetAddendFunction KDNetAddendFind_Private(const char name[])
{
  KDNetAddendFunction fn = NULL;
  if (PetscFunctionListFind(KDNetAddendList, name, &fn)) return NULL;
  return fn;
}

/*@C
  KDNetSetOutputAddend - Adds a registered analytic field to the network's outputs, in every evaluation and jet (the
  parameters' gradients are unchanged: the field does not depend on them); written to and read from model files.

  Logically collective

  Input Parameters:
+ net    - the network
. name   - a name given to KDNetAddendRegister(), or NULL or "" to remove the addend
. nparam - the number of the field's parameters (at most KD_NET_MAX_ADDEND_PARAMS)
- param  - its parameters (what they mean is the addend's)

.seealso: KDNetAddendRegister(), KDNetGetOutputAddend()
@*/
PetscErrorCode KDNetSetOutputAddend(KDNet net, const char name[], PetscInt nparam, const PetscReal param[])
{
  KDNetAddendFunction fn = NULL;

  PetscFunctionBegin;
  if (!name || !name[0]) {
    net->addend[0] = 0;
    net->naddend   = 0;
    net->addendfn  = NULL;
    PetscFunctionReturn(0);
  }
  fn = KDNetAddendFind_Private(name);
  PetscCheck(fn, net->comm, PETSC_ERR_ARG_UNKNOWN_TYPE,
             "unknown output addend '%s' (registered by its PDE type: load the PDE's code first)", name);
  PetscCheck(nparam >= 0 && nparam <= KD_NET_MAX_ADDEND_PARAMS, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "output addend '%s': %" PetscInt_FMT " parameters, at most %d", name, nparam, KD_NET_MAX_ADDEND_PARAMS);
  for (PetscInt k = 0; k < nparam; k++)
    PetscCheck(!PetscIsInfOrNanReal(param[k]), net->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "output addend '%s': parameter %" PetscInt_FMT " is not finite", name, k);
  PetscCall(fn(nparam, param, net->widths[0], net->widths[net->nlayers], NULL, 0, NULL, NULL, 0)); /* checks only */
  PetscCall(PetscStrncpy(net->addend, name, sizeof(net->addend)));
  net->naddend = nparam;
  for (PetscInt k = 0; k < nparam; k++) net->addend_param[k] = param[k];
  net->addendfn = fn;
  PetscFunctionReturn(0);
}

/*@C
  KDNetGetOutputAddend - The network's output addend: its name ("" for none) and parameters (borrowed).

  Not collective

.seealso: KDNetSetOutputAddend()
@*/
PetscErrorCode KDNetGetOutputAddend(KDNet net, const char **name, PetscInt *nparam, const PetscReal **param)
{
  PetscFunctionBegin;
  if (name) *name = net->addend;
  if (nparam) *nparam = net->naddend;
  if (param) *param = net->addend_param;
  PetscFunctionReturn(0);
}

static PetscFunctionList KDNetFeatureList = NULL;

static PetscErrorCode KDNetFeatureFinalize(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&KDNetFeatureList));
  PetscFunctionReturn(0);
}

/*@C
  KDNetFeatureRegister - Adds input features by name (KDNetSetInputFeatures(); the name a model file carries).

  Not collective

  Input Parameters:
+ name - the features' name (at most 31 characters)
- fn   - computes the features and their jets for a block of points (KDNetFeatureFunction, include/kdnet.h)

  Notes:
  A PDE type registers its features where it registers itself, so that a model file that names them loads wherever
  the PDE does. Registering a name again replaces its function.

.seealso: KDNetSetInputFeatures(), KDNetAddendRegister()
@*/
PetscErrorCode KDNetFeatureRegister(const char name[], KDNetFeatureFunction fn)
{
  size_t len;

  PetscFunctionBegin;
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(fn && len > 0 && len < 32, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "KDNetFeatureRegister(%s): needs a name of 1 to 31 characters and a function", name ? name : "NULL");
  if (!KDNetFeatureList) PetscCall(PetscRegisterFinalize(KDNetFeatureFinalize));
  PetscCall(PetscFunctionListAdd(&KDNetFeatureList, name, fn));
  PetscFunctionReturn(0);
}

KDNetFeatureFunction KDNetFeatureFind_Private(const char name[])
{
  KDNetFeatureFunction fn = NULL;
  if (PetscFunctionListFind(KDNetFeatureList, name, &fn)) return NULL;
  return fn;
}

/*@C
  KDNetSetInputFeatures - Makes the first layer read registered functions of the inputs (with their jets) after the
  inputs themselves; written to and read from model files.

  Logically collective

  Input Parameters:
+ net    - the network
. name   - a name given to KDNetFeatureRegister(), or NULL or "" for none
. nparam - the number of the features' parameters (at most KD_NET_MAX_ADDEND_PARAMS)
- param  - its parameters (what they mean is the features')

  Notes:
  The features add columns to the first layer's weights, so they change the parameter layout: call before
  KDNetSetUp(). On a network already set up only features of the same number are accepted (new parameters, same
  layout). KDNetInitialize() draws the first layer's weights over all its columns.

.seealso: KDNetFeatureRegister(), KDNetGetInputFeatures(), KDNetSetOutputAddend()
@*/
PetscErrorCode KDNetSetInputFeatures(KDNet net, const char name[], PetscInt nparam, const PetscReal param[])
{
  KDNetFeatureFunction fn = NULL;
  PetscInt nfeat          = 0;

  PetscFunctionBegin;
  if (name && name[0]) {
    fn = KDNetFeatureFind_Private(name);
    PetscCheck(fn, net->comm, PETSC_ERR_ARG_UNKNOWN_TYPE,
               "unknown input features '%s' (registered by their PDE type: load the PDE's code first)", name);
    PetscCheck(nparam >= 0 && nparam <= KD_NET_MAX_ADDEND_PARAMS, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "input features '%s': %" PetscInt_FMT " parameters, at most %d", name, nparam, KD_NET_MAX_ADDEND_PARAMS);
    for (PetscInt k = 0; k < nparam; k++)
      PetscCheck(!PetscIsInfOrNanReal(param[k]), net->comm, PETSC_ERR_ARG_OUTOFRANGE,
                 "input features '%s': parameter %" PetscInt_FMT " is not finite", name, k);
    PetscCall(fn(nparam, param, net->widths[0], NULL, 0, NULL, NULL, 0, &nfeat)); /* checks only */
    PetscCheck(nfeat >= 1 && nfeat <= KD_NET_MAX_FEATURES, net->comm, PETSC_ERR_PLIB,
               "input features '%s' give %" PetscInt_FMT " features, not 1 to %d", name, nfeat, KD_NET_MAX_FEATURES);
  }
  PetscCheck(!net->setupcalled || nfeat == net->nfeat, net->comm, PETSC_ERR_ORDER,
             "input features change the first layer (%" PetscInt_FMT " features, the network has %" PetscInt_FMT
             "): set them before KDNetSetUp()",
             nfeat, net->nfeat);
  net->features[0] = 0;
  net->nfeatparam  = 0;
  net->nfeat       = nfeat;
  net->featfn      = fn;
  if (!fn) PetscFunctionReturn(0);
  PetscCall(PetscStrncpy(net->features, name, sizeof(net->features)));
  net->nfeatparam = nparam;
  for (PetscInt k = 0; k < nparam; k++) net->feat_param[k] = param[k];
  PetscFunctionReturn(0);
}

/*@C
  KDNetGetInputFeatures - The network's input features: their name ("" for none), number and parameters (borrowed).

  Not collective

.seealso: KDNetSetInputFeatures()
@*/
PetscErrorCode KDNetGetInputFeatures(KDNet net, const char **name, PetscInt *nfeat, PetscInt *nparam,
                                     const PetscReal **param)
{
  PetscFunctionBegin;
  if (name) *name = net->features;
  if (nfeat) *nfeat = net->nfeat;
  if (nparam) *nparam = net->nfeatparam;
  if (param) *param = net->feat_param;
  PetscFunctionReturn(0);
}

static PetscFunctionList KDNetFactorList = NULL;

static PetscErrorCode KDNetFactorFinalize(void)
{
  PetscFunctionBegin;
  PetscCall(PetscFunctionListDestroy(&KDNetFactorList));
  PetscFunctionReturn(0);
}

/*@C
  KDNetFactorRegister - Adds an output factor by name (KDNetSetOutputFactor(); the name a model file carries).

  Not collective

  Input Parameters:
+ name - the factor's name (at most 31 characters)
- fn   - computes the factor and its jets for a block of points (KDNetFactorFunction, include/kdnet.h)

  Notes:
  A PDE type registers its factors where it registers itself, so that a model file that names one loads wherever the
  PDE does. Registering a name again replaces its function.

.seealso: KDNetSetOutputFactor(), KDNetAddendRegister()
@*/
PetscErrorCode KDNetFactorRegister(const char name[], KDNetFactorFunction fn)
{
  size_t len;

  PetscFunctionBegin;
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(fn && len > 0 && len < 32, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG,
             "KDNetFactorRegister(%s): needs a name of 1 to 31 characters and a function", name ? name : "NULL");
  if (!KDNetFactorList) PetscCall(PetscRegisterFinalize(KDNetFactorFinalize));
  PetscCall(PetscFunctionListAdd(&KDNetFactorList, name, fn));
  PetscFunctionReturn(0);
}

KDNetFactorFunction KDNetFactorFind_Private(const char name[])
{
  KDNetFactorFunction fn = NULL;
  if (PetscFunctionListFind(KDNetFactorList, name, &fn)) return NULL;
  return fn;
}

/*@C
  KDNetSetOutputFactor - Multiplies some of the network's outputs by a registered function D(x), in every evaluation
  and jet (the parameters' gradients follow through it), so that they vanish where D does: homogeneous boundary data
  imposed exactly. Written to and read from model files.

  Logically collective

  Input Parameters:
+ net    - the network
. name   - a name given to KDNetFactorRegister(), or NULL or "" to remove the factor
. nparam - the number of the factor's parameters (at most KD_NET_MAX_ADDEND_PARAMS)
- param  - its parameters (what they mean is the factor's, which also says which outputs it multiplies)

  Notes:
  y_o = D(x) (output_scale_o z_o + output_shift_o) for the outputs o the factor names, then the output addend (if
  any) is added.

.seealso: KDNetFactorRegister(), KDNetGetOutputFactor(), KDNetSetOutputAddend()
@*/
PetscErrorCode KDNetSetOutputFactor(KDNet net, const char name[], PetscInt nparam, const PetscReal param[])
{
  KDNetFactorFunction fn = NULL;
  PetscInt mask          = 0;

  PetscFunctionBegin;
  if (!name || !name[0]) {
    net->factor[0]    = 0;
    net->factor_mask  = 0;
    net->nfactorparam = 0;
    net->factorfn     = NULL;
    PetscFunctionReturn(0);
  }
  fn = KDNetFactorFind_Private(name);
  PetscCheck(fn, net->comm, PETSC_ERR_ARG_UNKNOWN_TYPE,
             "unknown output factor '%s' (registered by its PDE type: load the PDE's code first)", name);
  PetscCheck(nparam >= 0 && nparam <= KD_NET_MAX_ADDEND_PARAMS, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "output factor '%s': %" PetscInt_FMT " parameters, at most %d", name, nparam, KD_NET_MAX_ADDEND_PARAMS);
  for (PetscInt k = 0; k < nparam; k++)
    PetscCheck(!PetscIsInfOrNanReal(param[k]), net->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "output factor '%s': parameter %" PetscInt_FMT " is not finite", name, k);
  PetscCall(fn(nparam, param, net->widths[0], net->widths[net->nlayers], NULL, 0, NULL, NULL, &mask)); /* checks */
  PetscCheck(mask > 0 && mask < (1 << net->widths[net->nlayers]), net->comm, PETSC_ERR_PLIB,
             "output factor '%s' multiplies no output of this network (mask %" PetscInt_FMT ")", name, mask);
  PetscCall(PetscStrncpy(net->factor, name, sizeof(net->factor)));
  net->factor_mask  = mask;
  net->nfactorparam = nparam;
  for (PetscInt k = 0; k < nparam; k++) net->factor_param[k] = param[k];
  net->factorfn = fn;
  PetscFunctionReturn(0);
}

/*@C
  KDNetGetOutputFactor - The network's output factor: its name ("" for none), the outputs it multiplies (bit o for
  output o) and its parameters (borrowed).

  Not collective

.seealso: KDNetSetOutputFactor()
@*/
PetscErrorCode KDNetGetOutputFactor(KDNet net, const char **name, PetscInt *mask, PetscInt *nparam,
                                    const PetscReal **param)
{
  PetscFunctionBegin;
  if (name) *name = net->factor;
  if (mask) *mask = net->factor_mask;
  if (nparam) *nparam = net->nfactorparam;
  if (param) *param = net->factor_param;
  PetscFunctionReturn(0);
}

/*@C
  KDNetCreate - Creates a network: by default 2 inputs, hidden widths 20,20,20, 1 output, tanh, inputs on [-1, 1],
  output scale 1 and shift 0.

  Collective

  Input Parameter:
. comm - the communicator; every rank holds the whole network

  Output Parameter:
. net - the network

.seealso: KDNetSetArchitecture(), KDNetSetFromOptions(), KDNetSetUp(), KDNetDestroy()
@*/
PetscErrorCode KDNetCreate(MPI_Comm comm, KDNet *net)
{
  KDNet n;

  PetscFunctionBegin;
  PetscCall(KDNetLogEventsGet_Private(NULL, NULL, NULL));
  PetscCall(PetscNew(&n));
  n->comm        = comm;
  n->nlayers     = 4;
  n->widths[0]   = 2;
  n->widths[1]   = 20;
  n->widths[2]   = 20;
  n->widths[3]   = 20;
  n->widths[4]   = 1;
  n->activation  = KD_ACTIVATION_TANH;
  n->blocksize   = KD_NET_JET_BLOCK;
  n->gemm        = KD_NET_GEMM_BLAS;
  n->first_scale = 1.0;
  for (PetscInt i = 0; i < KD_NET_MAX_IN; i++) {
    n->lo[i] = -1.0;
    n->hi[i] = 1.0;
  }
  for (PetscInt o = 0; o < KD_NET_MAX_OUT; o++) {
    n->scale[o] = 1.0;
    n->shift[o] = 0.0;
  }
  *net = n;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDNetReset_Private(KDNet net)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(net->params));
  PetscCall(PetscFree(net->work));
  KDNetGemmReset_Private(net);
  net->nparams     = 0;
  net->wsstreams   = 0;
  net->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDNetDestroy - Destroys a network; safe on NULL, clears the handle.

  Collective
@*/
PetscErrorCode KDNetDestroy(KDNet *net)
{
  PetscFunctionBegin;
  if (!net || !*net) PetscFunctionReturn(0);
  PetscCall(KDNetReset_Private(*net));
  PetscCall(PetscFree((*net)->prefix));
  PetscCall(PetscFree(*net));
  PetscFunctionReturn(0);
}

/*@C
  KDNetSetOptionsPrefix - Sets the prefix of the network's options, e.g. "teacher_" for -teacher_widths.

  Logically collective
@*/
PetscErrorCode KDNetSetOptionsPrefix(KDNet net, const char prefix[])
{
  PetscFunctionBegin;
  PetscCall(PetscFree(net->prefix));
  if (prefix && prefix[0]) PetscCall(PetscStrallocpy(prefix, &net->prefix));
  PetscFunctionReturn(0);
}

/*@C
  KDNetSetArchitecture - Sets the layer widths: nin inputs, nhidden hidden layers of the given widths, nout outputs.
  Discards the parameters of a network already set up.

  Logically collective

  Input Parameters:
+ net     - the network
. nin     - number of inputs, 1..3
. nhidden - number of hidden layers, 1..KD_NET_MAX_LAYERS-1
. widths  - the hidden widths
- nout    - number of outputs, 1..4

  Options Database Key:
. -<prefix>widths w1,w2,... - overrides the hidden widths in KDNetSetFromOptions()
@*/
PetscErrorCode KDNetSetArchitecture(KDNet net, PetscInt nin, PetscInt nhidden, const PetscInt widths[], PetscInt nout)
{
  PetscFunctionBegin;
  PetscCheck(nin >= 1 && nin <= KD_NET_MAX_IN, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "network inputs %" PetscInt_FMT " not in [1, %d]", nin, KD_NET_MAX_IN);
  PetscCheck(nout >= 1 && nout <= KD_NET_MAX_OUT, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "network outputs %" PetscInt_FMT " not in [1, %d]", nout, KD_NET_MAX_OUT);
  PetscCheck(nhidden >= 1 && nhidden < KD_NET_MAX_LAYERS, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "hidden layers %" PetscInt_FMT " not in [1, %d]", nhidden, KD_NET_MAX_LAYERS - 1);
  for (PetscInt k = 0; k < nhidden; k++)
    PetscCheck(widths[k] >= 1, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "hidden width %" PetscInt_FMT " must be positive",
               widths[k]);
  PetscCall(KDNetReset_Private(net));
  net->nlayers   = nhidden + 1;
  net->widths[0] = nin;
  for (PetscInt k = 0; k < nhidden; k++) net->widths[k + 1] = widths[k];
  net->widths[nhidden + 1] = nout;
  PetscFunctionReturn(0);
}

/*@C
  KDNetSetActivation - Sets the activation of the hidden layers (the last layer is linear).

  Logically collective

  Options Database Key:
. -<prefix>activation tanh|sin|isru
@*/
PetscErrorCode KDNetSetActivation(KDNet net, KDActivation act)
{
  const KDActivationOps *ops;

  PetscFunctionBegin;
  PetscCall(KDActivationGet(act, &ops));
  net->activation = act;
  PetscFunctionReturn(0);
}

/*@C
  KDNetGetActivation - The activation of the hidden layers.

  Not collective
@*/
PetscErrorCode KDNetGetActivation(KDNet net, KDActivation *act)
{
  PetscFunctionBegin;
  *act = net->activation;
  PetscFunctionReturn(0);
}

/*@C
  KDNetSetInputBounds - Sets the box of the physical inputs; input i is mapped affinely from [lo_i, hi_i] to [-1, 1].
  Call after KDNetSetArchitecture() (nin values are read).

  Logically collective
@*/
PetscErrorCode KDNetSetInputBounds(KDNet net, const PetscReal lo[], const PetscReal hi[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < net->widths[0]; i++) {
    PetscCheck(hi[i] > lo[i], net->comm, PETSC_ERR_ARG_OUTOFRANGE,
               "input %" PetscInt_FMT ": upper bound %g not above lower bound %g", i, (double) hi[i], (double) lo[i]);
    net->lo[i] = lo[i];
    net->hi[i] = hi[i];
  }
  PetscFunctionReturn(0);
}

/*@C
  KDNetGetInputBounds - The box of the physical inputs (nin values each; either may be NULL).

  Not collective
@*/
PetscErrorCode KDNetGetInputBounds(KDNet net, PetscReal lo[], PetscReal hi[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < net->widths[0]; i++) {
    if (lo) lo[i] = net->lo[i];
    if (hi) hi[i] = net->hi[i];
  }
  PetscFunctionReturn(0);
}

/*@C
  KDNetSetOutputScaling - Output o is scale[o] * (last layer) + shift[o]. Call after KDNetSetArchitecture() (nout
  values are read).

  Logically collective
@*/
PetscErrorCode KDNetSetOutputScaling(KDNet net, const PetscReal scale[], const PetscReal shift[])
{
  PetscFunctionBegin;
  for (PetscInt o = 0; o < net->widths[net->nlayers]; o++) {
    net->scale[o] = scale[o];
    net->shift[o] = shift[o];
  }
  PetscFunctionReturn(0);
}

/*@C
  KDNetSetBlockSize - Sets the number of points the kernels process at a time (the workspace holds one block).
  Results do not depend on it beyond round-off: the sums over points, and which code multiplies a block (a product
  over LIBXSMM's bound goes to the BLAS, KDNetSetGemm()).

  Logically collective

  Options Database Key:
. -<prefix>net_block_size <n> - points per block (default 32)

  Notes:
  The default keeps what a block of a narrow network stores for its reverse pass in the core's own caches (8x20 with 4
  streams: about 0.4 MB at 32 points, 1.5 MB at 128); docs/benchmarks.md, "Jet kernels in blocks of 32 points",
  gives the measurements. KDNetEvaluate() (values only, one stream) runs blocks of KD_NET_EVALUATE_BLOCK points
  whatever this is.
@*/
PetscErrorCode KDNetSetBlockSize(KDNet net, PetscInt bs)
{
  PetscFunctionBegin;
  PetscCheck(bs >= 1, net->comm, PETSC_ERR_ARG_OUTOFRANGE, "-net_block_size %" PetscInt_FMT " must be positive", bs);
  if (bs != net->blocksize) {
    PetscCall(PetscFree(net->work));
    net->wsstreams = 0;
  }
  net->blocksize = bs;
  PetscFunctionReturn(0);
}

const char *const KDNetGemms[] = {"blas", "libxsmm", "KDNetGemm", "KD_NET_GEMM_", NULL};

/*@C
  KDNetSetGemm - Chooses who multiplies the matrices of the jet kernels: the BLAS (the default), or LIBXSMM's code
  generated for each exact shape. Both compute the same products; they differ in round-off only (the order of the
  sums), so a training run is reproducible with either, not across them.

  Logically collective

  Options Database Key:
. -<prefix>net_gemm blas|libxsmm - the products of the jet kernels (default blas)

  Notes:
  The kernels' products are small (a layer of 20 times 20 x 128 for 8x20 with 4 streams in blocks of 32 points), where
  the BLAS spends much of its time packing; docs/benchmarks.md, "Small products by LIBXSMM", gives the measurements.
  LIBXSMM takes the forward product W A and the reverse W^T Zbar of every layer of at most 64^3 multiply-adds per
  block; the weight gradient Zbar A^T, larger products, and KDNetEvaluate() use the BLAS either way. The default stays
  the BLAS because every figure of the job files was measured with it: LIBXSMM's products change training
  trajectories in round-off, as another CPU does. Networks read from model files (KDNetLoad()) read no options: they
  use the default.

.seealso: KDNetGetGemm(), KDNetSetBlockSize()
@*/
PetscErrorCode KDNetSetGemm(KDNet net, KDNetGemm gemm)
{
  PetscFunctionBegin;
  PetscCheck(gemm == KD_NET_GEMM_LIBXSMM || gemm == KD_NET_GEMM_BLAS, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "unknown KDNetGemm %d", (int) gemm);
  net->gemm = gemm;
  PetscFunctionReturn(0);
}

/*@C
  KDNetGetGemm - Who multiplies the matrices of the jet kernels (KDNetSetGemm()).

  Not collective

  Input Parameter:
. net - the network

  Output Parameter:
. gemm - KD_NET_GEMM_LIBXSMM or KD_NET_GEMM_BLAS

.seealso: KDNetSetGemm()
@*/
PetscErrorCode KDNetGetGemm(KDNet net, KDNetGemm *gemm)
{
  PetscFunctionBegin;
  *gemm = net->gemm;
  PetscFunctionReturn(0);
}

/*@C
  KDNetSetFromOptions - Reads the network's options.

  Collective

  Options Database Keys (with the network's prefix):
+ -widths w1,w2,...     - hidden layer widths (default: the current ones, 20,20,20 for a new network)
. -activation tanh|sin|isru - hidden-layer activation (default tanh)
. -net_block_size <n>   - points per block of the jet kernels (default 32)
. -net_gemm blas|libxsmm - the products of the jet kernels (default blas)
- -net_view             - view the network after KDNetSetUp()
@*/
PetscErrorCode KDNetSetFromOptions(KDNet net)
{
  PetscInt nhidden = net->nlayers - 1, widths[KD_NET_MAX_LAYERS], nmax = KD_NET_MAX_LAYERS - 1, bs = net->blocksize;
  PetscBool flg;
  KDActivation act     = net->activation;
  KDNetGemm gemm       = net->gemm;
  char helpwidths[256] = "Hidden layer widths (default ", item[16];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < nhidden; k++) widths[k] = net->widths[k + 1];
  /* -help prints only the first entry of an array's default: name them all in the help string */
  for (PetscInt k = 0; k < nhidden; k++) {
    PetscCall(PetscSNPrintf(item, sizeof(item), "%s%" PetscInt_FMT, k ? "," : "", widths[k]));
    PetscCall(PetscStrlcat(helpwidths, item, sizeof(helpwidths)));
  }
  PetscCall(PetscStrlcat(helpwidths, ")", sizeof(helpwidths)));
  PetscCall(KDOptionsCheckValue(net->comm, net->prefix, "-widths", PETSC_TRUE)); /* before PETSc's reader trips on it */
  PetscOptionsBegin(net->comm, net->prefix, "KDNet: multilayer perceptron with exact jets", NULL);
  PetscCall(PetscOptionsIntArray("-widths", helpwidths, "KDNetSetArchitecture", widths, &nmax, &flg));
  if (flg) {
    PetscCheck(nmax >= 1, net->comm, PETSC_ERR_ARG_WRONG, "-%swidths needs at least one hidden width",
               net->prefix ? net->prefix : "");
    PetscCall(KDNetSetArchitecture(net, net->widths[0], nmax, widths, net->widths[net->nlayers]));
  }
  PetscCall(KDOptionsEnum("-activation", "Hidden-layer activation", "KDNetSetActivation", KDActivations,
                          (PetscEnum) act, (PetscEnum *) &act, NULL));
  PetscCall(KDNetSetActivation(net, act));
  PetscCall(KDOptionsInt("-net_block_size", "Points per block of the jet kernels", "KDNetSetBlockSize", bs, &bs, NULL));
  PetscCall(KDNetSetBlockSize(net, bs));
  PetscCall(KDOptionsEnum("-net_gemm", "Products of the jet kernels: the BLAS, or LIBXSMM's generated code",
                          "KDNetSetGemm", KDNetGemms, (PetscEnum) gemm, (PetscEnum *) &gemm, NULL));
  PetscCall(KDNetSetGemm(net, gemm));
  PetscCall(KDOptionsReal("-first_layer_scale",
                          "Factor of the first layer's initial weights (> 1: features at finer scales from the start)",
                          "KDNetInitialize", net->first_scale, &net->first_scale, NULL));
  PetscCall(PetscOptionsName("-net_view", "View the network after setup", "KDNetView", NULL));
  PetscOptionsEnd();
  PetscCheck(net->first_scale > 0 && PetscIsNormalReal(net->first_scale), net->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sfirst_layer_scale must be positive, got %g", net->prefix ? net->prefix : "",
             (double) net->first_scale);
  PetscFunctionReturn(0);
}

/* Sizes every buffer for blocks of blocksize points and S streams; one allocation, each array padded to 8 doubles
   so that every array starts as aligned as the first. */
PetscErrorCode KDNetWorkspaceEnsure_Private(KDNet net, PetscInt S)
{
  const PetscInt L = net->nlayers, B = net->blocksize;
  PetscInt maxw = 0, total = 0, off = 0, ping;

  PetscFunctionBegin;
  if (net->work && S <= net->wsstreams) PetscFunctionReturn(0);
  PetscCall(PetscFree(net->work));
  for (PetscInt k = 0; k <= L; k++) maxw = PetscMax(maxw, k < L ? KDNetFanIn_Private(net, k) : net->widths[k]);
#define KDPAD(n) ((((n) + 7) / 8) * 8)
  for (PetscInt k = 0; k < L; k++) {
    total += KDPAD(KDNetFanIn_Private(net, k) * S * B) + KDPAD(net->widths[k + 1] * S * B);
    if (k < L - 1) total += KDPAD(net->widths[k + 1] * B);
  }
  ping = maxw * PetscMax(S * B, KD_NET_EVALUATE_BLOCK);
  total += KDPAD(net->widths[L] * S * B) + 2 * KDPAD(ping) + KDPAD(2 * B) + KDPAD(S * B) +
           KDPAD(PetscMax(S * B, 2 * KD_NET_EVALUATE_BLOCK));
  PetscCall(PetscMalloc1(total, &net->work));
  for (PetscInt k = 0; k < L; k++) {
    net->A[k] = net->work + off;
    off += KDPAD(KDNetFanIn_Private(net, k) * S * B);
    net->Z[k] = net->work + off;
    off += KDPAD(net->widths[k + 1] * S * B);
    net->D[k] = NULL;
    if (k < L - 1) {
      net->D[k] = net->work + off;
      off += KDPAD(net->widths[k + 1] * B);
    }
  }
  net->adj = net->work + off;
  off += KDPAD(net->widths[L] * S * B);
  net->G[0] = net->work + off;
  off += KDPAD(ping);
  net->G[1] = net->work + off;
  off += KDPAD(ping);
  net->tmp = net->work + off;
  off += KDPAD(2 * B);
  net->fjet = net->work + off;
  off += KDPAD(S * B);
  net->fout = net->work + off;
  off += KDPAD(PetscMax(S * B, 2 * KD_NET_EVALUATE_BLOCK));
#undef KDPAD
  PetscCheck(off == total, PETSC_COMM_SELF, PETSC_ERR_PLIB, "workspace layout mismatch");
  net->wsstreams = S;
  PetscFunctionReturn(0);
}

/*@C
  KDNetSetUp - Allocates the parameter buffer (zeroed; see KDNetInitialize()) and the kernel workspace.

  Collective

  Options Database Key:
. -<prefix>net_view - view the network
@*/
PetscErrorCode KDNetSetUp(KDNet net)
{
  PetscInt off = 0, nin;
  PetscViewer viewer;
  PetscViewerFormat format;
  PetscBool flg;

  PetscFunctionBegin;
  if (net->setupcalled) PetscFunctionReturn(0);
  if (net->featfn) { /* the inputs may have changed since the features were set */
    PetscInt nfeat = 0;
    PetscCall(net->featfn(net->nfeatparam, net->feat_param, net->widths[0], NULL, 0, NULL, NULL, 0, &nfeat));
    PetscCheck(nfeat == net->nfeat, net->comm, PETSC_ERR_PLIB, "input features '%s' changed their number",
               net->features);
  }
  if (net->factorfn) { /* and the outputs since the factor was */
    PetscInt mask = 0;
    PetscCall(net->factorfn(net->nfactorparam, net->factor_param, net->widths[0], net->widths[net->nlayers], NULL, 0,
                            NULL, NULL, &mask));
    PetscCheck(mask == net->factor_mask, net->comm, PETSC_ERR_PLIB, "output factor '%s' changed its outputs",
               net->factor);
  }
  for (PetscInt k = 0; k < net->nlayers; k++) {
    net->woff[k] = off;
    off += KDNetFanIn_Private(net, k) * net->widths[k + 1];
    net->boff[k] = off;
    off += net->widths[k + 1];
  }
  net->nparams = off;
  PetscCall(PetscCalloc1(net->nparams, &net->params));
  nin = net->widths[0];
  /* every distinct second derivative: the usual maximum; a spec with repeats grows the workspace once */
  PetscCall(KDNetWorkspaceEnsure_Private(net, 1 + nin + nin * (nin + 1) / 2));
  net->setupcalled = PETSC_TRUE;
  PetscCall(PetscOptionsGetViewer(net->comm, NULL, net->prefix, "-net_view", &viewer, &format, &flg));
  if (flg) {
    PetscCall(PetscViewerPushFormat(viewer, format));
    PetscCall(KDNetView(net, viewer));
    PetscCall(PetscViewerPopFormat(viewer));
    PetscCall(PetscViewerDestroy(&viewer));
  }
  PetscFunctionReturn(0);
}

/* splitmix64's output function: counter-based, so weight k is a pure function of (seed, k) on every rank. */
static inline uint64_t KDNetMix64(uint64_t z)
{
  z += UINT64_C(0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Uniform in (0, 1]: never 0, so the logarithm of Box-Muller is finite. */
static inline PetscReal KDNetUniform(uint64_t key, uint64_t index)
{
  return ((PetscReal) (KDNetMix64(key ^ KDNetMix64(index)) >> 11) + 1.0) * 0x1.0p-53;
}

/*@C
  KDNetInitialize - Xavier/Glorot normal initialization: W_k entries N(0, 2/(fan_in + fan_out)), biases zero; with a
  first-layer scale s != 1 (-<prefix>first_layer_scale) the first layer's weights are multiplied by s and its biases
  drawn uniformly in [-s sigma sqrt(fan_in), s sigma sqrt(fan_in)], so that the first layer's features start with
  about s times finer variations spread over the whole input box (as SIREN's omega_0 does for sine networks).

  Collective (no communication: every rank computes the same numbers)

  Input Parameters:
+ net  - the network (set up here if needed)
- seed - the seed; the parameters are a pure function of (seed, architecture)

  Notes:
  Entry k of the parameter buffer uses a Box-Muller pair of counter-based uniforms keyed by (seed, k), so the
  result is identical on every rank and independent of anything but the seed.
@*/
PetscErrorCode KDNetInitialize(KDNet net, PetscInt seed)
{
  const uint64_t key = KDNetMix64((uint64_t) seed ^ UINT64_C(0x6b64706e6e657400)); /* "kdpnnet" */

  PetscFunctionBegin;
  PetscCall(KDNetSetUp(net));
  for (PetscInt k = 0; k < net->nlayers; k++) {
    const PetscInt in = KDNetFanIn_Private(net, k), out = net->widths[k + 1];
    const PetscReal sigma = PetscSqrtReal(2.0 / (PetscReal) (in + out));
    for (PetscInt e = 0; e < in * out; e++) {
      const uint64_t idx = (uint64_t) (net->woff[k] + e);
      const PetscReal u1 = KDNetUniform(key, 2 * idx), u2 = KDNetUniform(key, 2 * idx + 1);
      net->params[net->woff[k] + e] =
          sigma * PetscSqrtReal(-2.0 * PetscLogReal(u1)) * PetscCosReal(2.0 * PETSC_PI * u2);
    }
    for (PetscInt o = 0; o < out; o++) net->params[net->boff[k] + o] = 0.0;
    if (k == 0 && net->first_scale != 1.0) {
      const PetscReal s = net->first_scale, bmax = s * sigma * PetscSqrtReal((PetscReal) in);
      for (PetscInt e = 0; e < in * out; e++) net->params[net->woff[k] + e] *= s;
      for (PetscInt o = 0; o < out; o++) /* counters past those of every weight */
        net->params[net->boff[k] + o] = bmax * (2.0 * KDNetUniform(key, 2 * (uint64_t) net->nparams + o) - 1.0);
    }
  }
  PetscFunctionReturn(0);
}

/*@C
  KDNetGetSizes - Number of inputs, outputs and parameters.

  Not collective (the parameter count is known after KDNetSetUp())
@*/
PetscErrorCode KDNetGetSizes(KDNet net, PetscInt *nin, PetscInt *nout, PetscInt *nparams)
{
  PetscFunctionBegin;
  if (nin) *nin = net->widths[0];
  if (nout) *nout = net->widths[net->nlayers];
  if (nparams) {
    PetscInt np = 0;
    for (PetscInt k = 0; k < net->nlayers; k++) np += (KDNetFanIn_Private(net, k) + 1) * net->widths[k + 1];
    *nparams = np;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDNetGetWidths - The width array [nin, h_1, ..., h_nhidden, nout] and its length (number of layers + 1), as the
  model file's widths attribute stores it.

  Not collective
@*/
PetscErrorCode KDNetGetWidths(KDNet net, PetscInt *nwidths, const PetscInt **widths)
{
  PetscFunctionBegin;
  if (nwidths) *nwidths = net->nlayers + 1;
  if (widths) *widths = net->widths;
  PetscFunctionReturn(0);
}

/*@C
  KDNetGetParameters - The network's contiguous parameter buffer (read and write), layer by layer W_k (out x in,
  row-major) then b_k.

  Not collective
@*/
PetscErrorCode KDNetGetParameters(KDNet net, PetscReal **params)
{
  PetscFunctionBegin;
  PetscCheck(net->setupcalled, net->comm, PETSC_ERR_ORDER, "call KDNetSetUp() before KDNetGetParameters()");
  *params = net->params;
  PetscFunctionReturn(0);
}

/*@C
  KDJetSpecGetNumStreams - Number of streams of a jet: 1 + nin + spec->nsecond.

  Not collective
@*/
PetscErrorCode KDJetSpecGetNumStreams(const KDJetSpec *spec, PetscInt nin, PetscInt *nstreams)
{
  PetscFunctionBegin;
  *nstreams = 1 + nin + (spec ? spec->nsecond : 0);
  PetscFunctionReturn(0);
}

PetscErrorCode KDNetCheckSpec_Private(KDNet net, const KDJetSpec *spec, PetscInt *S)
{
  const PetscInt nin = net->widths[0];

  PetscFunctionBegin;
  PetscCheck(net->setupcalled, net->comm, PETSC_ERR_ORDER, "call KDNetSetUp() before evaluating the network");
  PetscCheck(spec->nsecond >= 0 && spec->nsecond <= KD_JET_MAX_SECOND, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "jet spec: %" PetscInt_FMT " second derivatives, at most %d", spec->nsecond, KD_JET_MAX_SECOND);
  for (PetscInt q = 0; q < spec->nsecond; q++) {
    const PetscInt i = spec->second[q][0], j = spec->second[q][1];
    PetscCheck(0 <= i && i <= j && j < nin, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "jet spec: second derivative (%" PetscInt_FMT ",%" PetscInt_FMT ") needs 0 <= i <= j < %" PetscInt_FMT,
               i, j, nin);
  }
  PetscCall(KDJetSpecGetNumStreams(spec, nin, S));
  PetscCall(KDNetWorkspaceEnsure_Private(net, *S));
  PetscFunctionReturn(0);
}

/*@C
  KDNetEvaluate - Output values at n points (no derivatives: the fast path).

  Not collective (local points)

  Input Parameters:
+ net - the network, set up
. n   - number of points
- x   - points, x[p * nin + i]

  Output Parameter:
. y - values, y[o * n + p] (output o, point p: the layout of a jet's value stream)

.seealso: KDNetJetForward()
@*/
PetscErrorCode KDNetEvaluate(KDNet net, PetscInt n, const PetscReal x[], PetscReal y[])
{
  const PetscInt nin = net->widths[0];
  PetscLogEvent ev;

  PetscFunctionBegin;
  PetscCheck(net->setupcalled, net->comm, PETSC_ERR_ORDER, "call KDNetSetUp() before KDNetEvaluate()");
  PetscCall(KDNetLogEventsGet_Private(NULL, NULL, &ev));
  PetscCall(PetscLogEventBegin(ev, 0, 0, 0, 0));
  for (PetscInt off = 0; off < n; off += KD_NET_EVALUATE_BLOCK) {
    const PetscInt nb = PetscMin(KD_NET_EVALUATE_BLOCK, n - off);
    PetscCall(KDNetEvaluateBlock_Private(net, nb, x + off * nin, y + off, n));
  }
  PetscCall(PetscLogFlops(KDNetFlopsPerPoint_Private(net, 1, PETSC_FALSE) * (PetscLogDouble) n));
  PetscCall(PetscLogEventEnd(ev, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDNetJetForward - Values and input derivatives (the jets) of all outputs at n points.

  Not collective (local points)

  Input Parameters:
+ net  - the network, set up
. spec - which second derivatives to carry
. n    - number of points
- x    - points, x[p * nin + i]

  Output Parameter:
. jet - jet[(o * nstreams + s) * n + p], streams as in kdnet.h (value, d/dx_i, then the spec's second derivatives),
        derivatives with respect to the physical inputs

.seealso: KDNetLossGradient(), KDJetSpecGetNumStreams()
@*/
PetscErrorCode KDNetJetForward(KDNet net, const KDJetSpec *spec, PetscInt n, const PetscReal x[], PetscReal jet[])
{
  const PetscInt nin = net->widths[0], nout = net->widths[net->nlayers];
  PetscInt S;
  PetscLogEvent fwd;

  PetscFunctionBegin;
  PetscCall(KDNetCheckSpec_Private(net, spec, &S));
  PetscCall(KDNetLogEventsGet_Private(&fwd, NULL, NULL));
  PetscCall(PetscLogEventBegin(fwd, 0, 0, 0, 0));
  for (PetscInt off = 0; off < n; off += net->blocksize) {
    const PetscInt nb  = PetscMin(net->blocksize, n - off);
    const PetscReal *J = net->Z[net->nlayers - 1];
    PetscCall(KDNetForwardBlock_Private(net, spec, S, nb, x + off * nin));
    for (PetscInt r = 0; r < nout * S; r++) PetscCall(PetscArraycpy(jet + r * n + off, J + r * nb, nb));
  }
  PetscCall(PetscLogFlops(KDNetFlopsPerPoint_Private(net, S, PETSC_FALSE) * (PetscLogDouble) n));
  PetscCall(PetscLogEventEnd(fwd, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDNetLossGradient - Loss and its gradient with respect to the parameters, for a loss that is a sum over blocks of
  points of a function of the jets: forward through the jets, the user's loss and its adjoint, the reverse pass.

  Not collective (local points; the caller sums over ranks)

  Input Parameters:
+ net    - the network, set up
. spec   - which second derivatives the loss needs
. n      - number of points
. x      - points, x[p * nin + i]
. lossfn - called once per block, in order: lossfn(nb, offset, jet, adj, loss, ctx), see KDJetLossFunction
- ctx    - passed to lossfn

  Output Parameters (accumulated: the caller zeroes them):
+ loss - loss += the loss of the n points
- grad - grad += dloss/dparams, in the layout of the parameter buffer

  Notes:
  No allocation after KDNetSetUp() (unless the spec has more streams than any before). Exact: the reverse pass is
  the adjoint of the forward jet recursion, with no finite differences and no tape.

.seealso: KDNetJetForward(), KDNetGetParameters()
@*/
PetscErrorCode KDNetLossGradient(KDNet net, const KDJetSpec *spec, PetscInt n, const PetscReal x[],
                                 KDJetLossFunction lossfn, void *ctx, PetscReal *loss, PetscReal grad[])
{
  const PetscInt nin = net->widths[0], nout = net->widths[net->nlayers];
  PetscInt S;
  PetscLogEvent fwd, bwd;

  PetscFunctionBegin;
  PetscCall(KDNetCheckSpec_Private(net, spec, &S));
  PetscCall(KDNetLogEventsGet_Private(&fwd, &bwd, NULL));
  for (PetscInt off = 0; off < n; off += net->blocksize) {
    const PetscInt nb = PetscMin(net->blocksize, n - off);

    PetscCall(PetscLogEventBegin(fwd, 0, 0, 0, 0));
    PetscCall(KDNetForwardBlock_Private(net, spec, S, nb, x + off * nin));
    PetscCall(PetscLogFlops(KDNetFlopsPerPoint_Private(net, S, PETSC_FALSE) * (PetscLogDouble) nb));
    PetscCall(PetscLogEventEnd(fwd, 0, 0, 0, 0));
    PetscCall(PetscArrayzero(net->adj, nout * S * nb));
    PetscCall((*lossfn)(nb, off, net->Z[net->nlayers - 1], net->adj, loss, ctx));
    PetscCall(PetscLogEventBegin(bwd, 0, 0, 0, 0));
    PetscCall(KDNetBackwardBlock_Private(net, spec, S, nb, grad));
    PetscCall(PetscLogFlops(
        (KDNetFlopsPerPoint_Private(net, S, PETSC_TRUE) - KDNetFlopsPerPoint_Private(net, S, PETSC_FALSE)) *
        (PetscLogDouble) nb));
    PetscCall(PetscLogEventEnd(bwd, 0, 0, 0, 0));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDNetView - Prints the architecture, activation, parameter count, block size, who multiplies (KDNetSetGemm()), input
  box and output scaling.

  Collective on the viewer
@*/
PetscErrorCode KDNetView(KDNet net, PetscViewer viewer)
{
  PetscBool iascii;
  PetscInt np;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(net->comm, &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &iascii));
  if (!iascii) PetscFunctionReturn(0);
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(PetscViewerASCIIPrintf(viewer, "KDNet %s: widths ", net->prefix ? net->prefix : ""));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  for (PetscInt k = 0; k <= net->nlayers; k++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s%" PetscInt_FMT, k ? "," : "", net->widths[k]));
  PetscCall(PetscViewerASCIIPrintf(
      viewer, ", activation %s, %" PetscInt_FMT " parameters, block %" PetscInt_FMT " points, products by %s\n",
      KDActivations[net->activation], np, net->blocksize, KDNetGemms[net->gemm]));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt i = 0; i < net->widths[0]; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "input %" PetscInt_FMT " on [%g, %g]\n", i, (double) net->lo[i],
                                     (double) net->hi[i]));
  if (net->features[0]) {
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "input features %s (%" PetscInt_FMT " more inputs of the first layer), parameters",
                                     net->features, net->nfeat));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    for (PetscInt k = 0; k < net->nfeatparam; k++)
      PetscCall(PetscViewerASCIIPrintf(viewer, " %g", (double) net->feat_param[k]));
    PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  for (PetscInt o = 0; o < net->widths[net->nlayers]; o++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "output %" PetscInt_FMT " = %s%g * net + %g%s%s\n", o,
                                     net->factor_mask >> o & 1 ? "factor * (" : "", (double) net->scale[o],
                                     (double) net->shift[o], net->factor_mask >> o & 1 ? ")" : "",
                                     net->addend[0] ? " + addend" : ""));
  if (net->factor[0]) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "output factor %s, parameters", net->factor));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    for (PetscInt k = 0; k < net->nfactorparam; k++)
      PetscCall(PetscViewerASCIIPrintf(viewer, " %g", (double) net->factor_param[k]));
    PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  if (net->addend[0]) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "output addend %s, parameters", net->addend));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    for (PetscInt k = 0; k < net->naddend; k++)
      PetscCall(PetscViewerASCIIPrintf(viewer, " %g", (double) net->addend_param[k]));
    PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}
