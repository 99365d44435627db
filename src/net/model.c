#include "net/netimpl.h"
#include "sys/kdio.h"
#include <string.h>

/*
  Model files (docs/model-format.md): root attributes describe the network and its scaling, /layer_<k>/W (out x in)
  and /layer_<k>/b (out) hold the parameters. Written under a temporary name and renamed when complete, so a reader
  never sees a half-written model; every attribute and dataset is checked on load.
*/

/* Number of comma-separated names in a list such as "t,x" (0 for an empty string). */
static PetscInt KDModelCountNames(const char list[])
{
  PetscInt n = list[0] ? 1 : 0;
  for (const char *c = list; *c; c++)
    if (*c == ',') n++;
  return n;
}

/* The checksum of a model file (attribute "checksum", 16 hex digits): what decides the network's values, in this order:
   the activation's name, the widths, the input box, the output scaling, the parameters (layer by layer, W then b),
   then, for a network with an output addend only, its name and parameters, for one with input features only, theirs,
   and for one with an output factor only, its. */
static void KDModelChecksum(KDNet net, const PetscReal lo[], const PetscReal hi[], const PetscReal scale[],
                            const PetscReal shift[], char sum[17])
{
  const PetscInt L = net->nlayers, nin = net->widths[0], nout = net->widths[L];
  const char *act      = KDActivations[net->activation];
  unsigned long long h = KD_FNV_OFFSET;

  h = KDHashBytes(h, act, strlen(act));
  for (PetscInt k = 0; k <= L; k++) h = KDHashInt(h, net->widths[k]);
  h = KDHashBytes(h, lo, (size_t) nin * sizeof(PetscReal));
  h = KDHashBytes(h, hi, (size_t) nin * sizeof(PetscReal));
  h = KDHashBytes(h, scale, (size_t) nout * sizeof(PetscReal));
  h = KDHashBytes(h, shift, (size_t) nout * sizeof(PetscReal));
  h = KDHashBytes(h, net->params, (size_t) net->nparams * sizeof(PetscReal));
  if (net->addend[0]) {
    h = KDHashBytes(h, net->addend, strlen(net->addend));
    h = KDHashBytes(h, net->addend_param, (size_t) net->naddend * sizeof(PetscReal));
  }
  if (net->features[0]) {
    h = KDHashBytes(h, net->features, strlen(net->features));
    h = KDHashBytes(h, net->feat_param, (size_t) net->nfeatparam * sizeof(PetscReal));
  }
  if (net->factor[0]) {
    h = KDHashBytes(h, net->factor, strlen(net->factor));
    h = KDHashBytes(h, net->factor_param, (size_t) net->nfactorparam * sizeof(PetscReal));
  }
  (void) snprintf(sum, 17, "%016llx", h);
}

static PetscErrorCode KDNetWrite_Private(KDNet net, hid_t file, const KDModelInfo *info)
{
  const PetscInt L = net->nlayers, nin = net->widths[0], nout = net->widths[L];
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(net->comm, &rank));
  PetscCall(KDH5WriteCommonAttributes(file, "model", info->pde));
  for (PetscInt i = 0; i < info->nparams; i++)
    PetscCall(KDH5WriteAttrReals(file, info->param_names[i], 1, &info->param_values[i]));
  PetscCall(KDH5WriteAttrString(file, "activation", KDActivations[net->activation]));
  PetscCall(KDH5WriteAttrInts(file, "widths", L + 1, net->widths));
  PetscCall(KDH5WriteAttrInts(file, "level", 1, &info->level));
  PetscCall(KDH5WriteAttrString(file, "inputs", info->inputs));
  PetscCall(KDH5WriteAttrString(file, "outputs", info->outputs));
  PetscCall(KDH5WriteAttrReals(file, "input_lo", nin, net->lo));
  PetscCall(KDH5WriteAttrReals(file, "input_hi", nin, net->hi));
  PetscCall(KDH5WriteAttrReals(file, "output_scale", nout, net->scale));
  PetscCall(KDH5WriteAttrReals(file, "output_shift", nout, net->shift));
  PetscCall(KDH5WriteAttrInts(file, "params", 1, &net->nparams));
  PetscCall(KDH5WriteAttrString(file, "trained_with", info->trained_with));
  if (net->addend[0]) {
    PetscCall(KDH5WriteAttrString(file, "output_addend", net->addend));
    if (net->naddend) PetscCall(KDH5WriteAttrReals(file, "output_addend_params", net->naddend, net->addend_param));
  }
  if (net->factor[0]) {
    PetscCall(KDH5WriteAttrString(file, "output_factor", net->factor));
    if (net->nfactorparam)
      PetscCall(KDH5WriteAttrReals(file, "output_factor_params", net->nfactorparam, net->factor_param));
  }
  if (net->features[0]) {
    PetscCall(KDH5WriteAttrString(file, "input_features", net->features));
    if (net->nfeatparam) PetscCall(KDH5WriteAttrReals(file, "input_features_params", net->nfeatparam, net->feat_param));
  }
  {
    char sum[17];
    KDModelChecksum(net, net->lo, net->hi, net->scale, net->shift, sum);
    PetscCall(KDH5WriteAttrString(file, "checksum", sum));
  }
  if (info->ninferred > 0) {
    hid_t group;
    PetscCall(KDH5CreateGroup(file, "inferred", &group));
    for (PetscInt i = 0; i < info->ninferred; i++)
      PetscCall(KDH5WriteAttrReals(group, info->inferred_names[i], 3, info->inferred[i]));
    PetscCallH5(H5Gclose(group));
  }
  for (PetscInt k = 0; k < L; k++) {
    char name[32];
    hid_t group;
    const PetscInt out = net->widths[k + 1], in = KDNetFanIn_Private(net, k), wdims[2] = {out, in}, bdims[1] = {out};

    PetscCall(PetscSNPrintf(name, sizeof(name), "layer_%" PetscInt_FMT, k));
    group = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    PetscCallH5(group);
    /* rank 0 writes every row; the others take part in the collective writes with none */
    PetscCall(KDH5WriteRows(group, "W", 2, wdims, 0, rank ? 0 : out, net->params + net->woff[k]));
    PetscCall(KDH5WriteRows(group, "b", 1, bdims, 0, rank ? 0 : out, net->params + net->boff[k]));
    PetscCallH5(H5Gclose(group));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDNetWrite - Writes a network to a model file (docs/model-format.md), atomically.

  Collective

  Input Parameters:
+ net  - the network, set up
. path - the file name
- info - descriptive attributes: PDE and its parameters, level, input and output names, how it was trained

  Notes:
  The file is written under a temporary name and renamed once complete and synced (KDFileCommit()), so a crash
  leaves either the previous file or none.

.seealso: KDNetLoad()
@*/
PetscErrorCode KDNetWrite(KDNet net, const char path[], const KDModelInfo *info)
{
  char tmp[PETSC_MAX_PATH_LEN];
  hid_t file = -1;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCheck(net->setupcalled, net->comm, PETSC_ERR_ORDER, "cannot write %s: the network is not set up", path);
  PetscCheck(info, net->comm, PETSC_ERR_ARG_NULL, "cannot write %s: no model info", path);
  PetscCheck(info->nparams >= 0 && info->nparams <= 16, net->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "cannot write %s: %" PetscInt_FMT " PDE parameters, at most 16", path, info->nparams);
  for (PetscInt i = 0; i < info->nparams; i++)
    PetscCheck(info->param_names[i][0] && !KDH5IsReservedAttribute(info->param_names[i]), net->comm,
               PETSC_ERR_ARG_WRONG, "cannot write %s: PDE parameter name '%s' is empty or reserved", path,
               info->param_names[i]);
  PetscCheck(KDModelCountNames(info->inputs) == net->widths[0], net->comm, PETSC_ERR_ARG_WRONG,
             "cannot write %s: inputs '%s' do not name %" PetscInt_FMT " inputs", path, info->inputs, net->widths[0]);
  PetscCheck(KDModelCountNames(info->outputs) == net->widths[net->nlayers], net->comm, PETSC_ERR_ARG_WRONG,
             "cannot write %s: outputs '%s' do not name %" PetscInt_FMT " outputs", path, info->outputs,
             net->widths[net->nlayers]);
  PetscCall(KDFileTemporaryName(path, tmp, sizeof(tmp)));
  PetscCall(KDH5Create(net->comm, tmp, &file));
  ierr = KDNetWrite_Private(net, file, info);
  if (!ierr) ierr = KDH5Close(&file);
  if (ierr) {
    (void) KDH5Abandon(&file);
    PetscCall(ierr);
  }
  PetscCall(KDFileCommit(net->comm, tmp, path));
  PetscFunctionReturn(0);
}

/* Every rank reads the same bytes: a check fails on all of them, and is raised on comm so that it prints once. */
/* Checks that a root attribute exists, is of the given class (H5T_INTEGER, H5T_FLOAT or H5T_STRING) and has between
   nmin and nmax values; returns the count. Every failure names the file. */
static PetscErrorCode KDModelAttrCheck(MPI_Comm comm, hid_t file, const char path[], const char name[], H5T_class_t cls,
                                       PetscInt nmin, PetscInt nmax, PetscInt *count)
{
  htri_t exists;
  hid_t attr, type, space;
  H5T_class_t c;
  hssize_t n;

  PetscFunctionBegin;
  exists = H5Aexists(file, name);
  PetscCheck(exists > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: attribute '%s' missing", path, name);
  attr = H5Aopen(file, name, H5P_DEFAULT);
  PetscCheck(attr >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: attribute '%s' unreadable", path, name);
  type = H5Aget_type(attr);
  PetscCallH5(type);
  c     = H5Tget_class(type);
  space = H5Aget_space(attr);
  PetscCallH5(space);
  n = H5Sget_simple_extent_npoints(space);
  PetscCallH5(H5Sclose(space));
  PetscCallH5(H5Tclose(type));
  PetscCallH5(H5Aclose(attr));
  PetscCheck(c == cls, comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: attribute '%s' is not %s", path, name,
             cls == H5T_STRING ? "a string" : (cls == H5T_INTEGER ? "integer" : "floating point"));
  PetscCheck(n >= nmin && n <= nmax, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: attribute '%s' has %lld values, expected %" PetscInt_FMT "%s", path, name, (long long) n,
             nmin, nmin == nmax ? "" : " or more");
  if (count) *count = (PetscInt) n;
  PetscFunctionReturn(0);
}

/* Checks a float dataset's shape: rank ndim and dims[]. */
static PetscErrorCode KDModelDatasetCheck(MPI_Comm comm, hid_t file, const char path[], const char name[],
                                          PetscInt ndim, const PetscInt dims[])
{
  hid_t dset, space, type;
  hsize_t hd[KD_H5_MAX_DIM];
  int nd;
  H5T_class_t c;

  PetscFunctionBegin;
  dset = H5Dopen2(file, name, H5P_DEFAULT);
  PetscCheck(dset >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: dataset '%s' missing or unreadable", path,
             name);
  type = H5Dget_type(dset);
  PetscCallH5(type);
  c = H5Tget_class(type);
  PetscCallH5(H5Tclose(type));
  space = H5Dget_space(dset);
  PetscCallH5(space);
  nd = H5Sget_simple_extent_ndims(space);
  if (nd >= 1 && nd <= KD_H5_MAX_DIM) PetscCallH5(H5Sget_simple_extent_dims(space, hd, NULL));
  PetscCallH5(H5Sclose(space));
  PetscCallH5(H5Dclose(dset));
  PetscCheck(c == H5T_FLOAT, comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: dataset '%s' is not floating point", path,
             name);
  PetscCheck(nd == ndim, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: dataset '%s' has rank %d, expected %" PetscInt_FMT, path, name, nd, ndim);
  for (PetscInt d = 0; d < ndim; d++)
    PetscCheck((PetscInt) hd[d] == dims[d], comm, PETSC_ERR_FILE_UNEXPECTED,
               "model file %s: dataset '%s' has %lld entries on axis %" PetscInt_FMT ", expected %" PetscInt_FMT, path,
               name, (long long) hd[d], d, dims[d]);
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt n, overflow;
  char names[16][32];
} KDModelAttrNames;

static herr_t KDModelCollectParamNames(hid_t loc, const char *name, const H5A_info_t *ainfo, void *ctx)
{
  KDModelAttrNames *an = (KDModelAttrNames *) ctx;

  (void) loc;
  (void) ainfo;
  if (KDH5IsReservedAttribute(name)) return 0;
  if (an->n >= 16 || strlen(name) >= sizeof(an->names[0])) {
    an->overflow = 1;
    return 0;
  }
  (void) strcpy(an->names[an->n++], name);
  return 0;
}

/* The header: the version, the kind (which must be "model") and the PDE. */
static PetscErrorCode KDModelReadKind(MPI_Comm comm, hid_t file, const char path[], KDModelInfo *mi)
{
  char str[256];

  PetscFunctionBegin;
  PetscCall(KDModelAttrCheck(comm, file, path, "kdpinn_version", H5T_STRING, 1, 1, NULL));
  PetscCall(KDModelAttrCheck(comm, file, path, "kind", H5T_STRING, 1, 1, NULL));
  PetscCall(KDH5ReadAttrString(file, "kind", str, sizeof(str)));
  PetscCheck(!strcmp(str, "model"), comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: kind is '%s', expected 'model'",
             path, str);
  PetscCall(KDModelAttrCheck(comm, file, path, "pde", H5T_STRING, 1, 1, NULL));
  PetscCall(KDH5ReadAttrString(file, "pde", mi->pde, sizeof(mi->pde)));
  PetscFunctionReturn(0);
}

/* The activation, by its name in the activation table. */
static PetscErrorCode KDModelReadActivation(MPI_Comm comm, hid_t file, const char path[], KDActivation *act)
{
  char str[256];
  PetscInt found = -1;

  PetscFunctionBegin;
  PetscCall(KDModelAttrCheck(comm, file, path, "activation", H5T_STRING, 1, 1, NULL));
  PetscCall(KDH5ReadAttrString(file, "activation", str, sizeof(str)));
  /* the names of the activation table, compared exactly */
  for (PetscInt a = 0; a < KD_ACTIVATION_COUNT; a++)
    if (!strcmp(str, KDActivationTable[a].name)) found = a;
  PetscCheck(found >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: unknown activation '%s'", path, str);
  *act = (KDActivation) found;
  PetscFunctionReturn(0);
}

/* The widths (L + 1 of them, inputs and outputs within the network's limits) and the number of parameters np they
   give. */
static PetscErrorCode KDModelReadWidths(MPI_Comm comm, hid_t file, const char path[], PetscInt widths[], PetscInt *L,
                                        PetscInt *np)
{
  PetscInt nw, nin, nout;

  PetscFunctionBegin;
  PetscCall(KDModelAttrCheck(comm, file, path, "widths", H5T_INTEGER, 3, KD_NET_MAX_LAYERS + 1, &nw));
  PetscCall(KDH5ReadAttrInts(file, "widths", KD_NET_MAX_LAYERS + 1, widths, NULL));
  *L   = nw - 1;
  nin  = widths[0];
  nout = widths[*L];
  PetscCheck(nin >= 1 && nin <= KD_NET_MAX_IN, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: %" PetscInt_FMT " inputs, expected 1 to %d", path, nin, KD_NET_MAX_IN);
  PetscCheck(nout >= 1 && nout <= KD_NET_MAX_OUT, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: %" PetscInt_FMT " outputs, expected 1 to %d", path, nout, KD_NET_MAX_OUT);
  *np = 0;
  for (PetscInt k = 0; k < *L; k++) {
    PetscCheck(widths[k + 1] >= 1 && widths[k + 1] <= 1 << 16, comm, PETSC_ERR_FILE_UNEXPECTED,
               "model file %s: width %" PetscInt_FMT " out of range", path, widths[k + 1]);
    *np += (widths[k] + 1) * widths[k + 1];
  }
  PetscFunctionReturn(0);
}

/* The level, the names of the nin inputs and nout outputs, and how the model was trained. */
static PetscErrorCode KDModelReadNames(MPI_Comm comm, hid_t file, const char path[], PetscInt nin, PetscInt nout,
                                       KDModelInfo *mi)
{
  PetscInt level;

  PetscFunctionBegin;
  PetscCall(KDModelAttrCheck(comm, file, path, "level", H5T_INTEGER, 1, 1, NULL));
  PetscCall(KDH5ReadAttrInts(file, "level", 1, &level, NULL));
  mi->level = level;
  PetscCall(KDModelAttrCheck(comm, file, path, "inputs", H5T_STRING, 1, 1, NULL));
  PetscCall(KDH5ReadAttrString(file, "inputs", mi->inputs, sizeof(mi->inputs)));
  PetscCheck(KDModelCountNames(mi->inputs) == nin, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: inputs '%s' do not name %" PetscInt_FMT " inputs", path, mi->inputs, nin);
  PetscCall(KDModelAttrCheck(comm, file, path, "outputs", H5T_STRING, 1, 1, NULL));
  PetscCall(KDH5ReadAttrString(file, "outputs", mi->outputs, sizeof(mi->outputs)));
  PetscCheck(KDModelCountNames(mi->outputs) == nout, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: outputs '%s' do not name %" PetscInt_FMT " outputs", path, mi->outputs, nout);
  PetscCall(KDModelAttrCheck(comm, file, path, "trained_with", H5T_STRING, 1, 1, NULL));
  PetscCall(KDH5ReadAttrString(file, "trained_with", mi->trained_with, sizeof(mi->trained_with)));
  PetscFunctionReturn(0);
}

/* The input box (every range non-empty) and the output scaling (finite). */
static PetscErrorCode KDModelReadScaling(MPI_Comm comm, hid_t file, const char path[], PetscInt nin, PetscInt nout,
                                         PetscReal lo[], PetscReal hi[], PetscReal scale[], PetscReal shift[])
{
  PetscFunctionBegin;
  PetscCall(KDModelAttrCheck(comm, file, path, "input_lo", H5T_FLOAT, nin, nin, NULL));
  PetscCall(KDModelAttrCheck(comm, file, path, "input_hi", H5T_FLOAT, nin, nin, NULL));
  PetscCall(KDModelAttrCheck(comm, file, path, "output_scale", H5T_FLOAT, nout, nout, NULL));
  PetscCall(KDModelAttrCheck(comm, file, path, "output_shift", H5T_FLOAT, nout, nout, NULL));
  PetscCall(KDH5ReadAttrReals(file, "input_lo", nin, lo, NULL));
  PetscCall(KDH5ReadAttrReals(file, "input_hi", nin, hi, NULL));
  PetscCall(KDH5ReadAttrReals(file, "output_scale", nout, scale, NULL));
  PetscCall(KDH5ReadAttrReals(file, "output_shift", nout, shift, NULL));
  for (PetscInt i = 0; i < nin; i++)
    PetscCheck(PetscIsNormalReal(hi[i] - lo[i]) && hi[i] > lo[i], comm, PETSC_ERR_FILE_UNEXPECTED,
               "model file %s: input %" PetscInt_FMT " has an empty range [%g, %g]", path, i, (double) lo[i],
               (double) hi[i]);
  for (PetscInt o = 0; o < nout; o++)
    PetscCheck(!PetscIsInfOrNanReal(scale[o]) && !PetscIsInfOrNanReal(shift[o]), comm, PETSC_ERR_FILE_UNEXPECTED,
               "model file %s: output scaling of output %" PetscInt_FMT " is not finite", path, o);
  PetscFunctionReturn(0);
}

/* An optional name attribute (output_addend, input_features) and its parameters, attribute <attr>_params (at most
   KD_NET_MAX_ADDEND_PARAMS, every one finite): name "" and *n = 0 when the file has none. */
static PetscErrorCode KDModelReadNamedParams(MPI_Comm comm, hid_t file, const char path[], const char attr[],
                                             char name[32], PetscInt *n, PetscReal param[])
{
  char str[256], pattr[64];
  PetscBool has;

  PetscFunctionBegin;
  name[0] = 0;
  *n      = 0;
  PetscCall(KDH5HasAttr(file, attr, &has));
  if (!has) PetscFunctionReturn(0);
  PetscCall(KDModelAttrCheck(comm, file, path, attr, H5T_STRING, 1, 1, NULL));
  PetscCall(KDH5ReadAttrString(file, attr, str, sizeof(str)));
  PetscCall(PetscStrncpy(name, str, 32));
  PetscCall(PetscSNPrintf(pattr, sizeof(pattr), "%s_params", attr));
  PetscCall(KDH5HasAttr(file, pattr, &has));
  if (!has) PetscFunctionReturn(0);
  PetscCall(KDModelAttrCheck(comm, file, path, pattr, H5T_FLOAT, 1, KD_NET_MAX_ADDEND_PARAMS, n));
  PetscCall(KDH5ReadAttrReals(file, pattr, KD_NET_MAX_ADDEND_PARAMS, param, NULL));
  for (PetscInt k = 0; k < *n; k++)
    PetscCheck(!PetscIsInfOrNanReal(param[k]), comm, PETSC_ERR_FILE_UNEXPECTED,
               "model file %s: %s[%" PetscInt_FMT "] is not finite", path, pattr, k);
  PetscFunctionReturn(0);
}

/* The optional output addend: its name, registered here (KDNetAddendRegister()), and its finite parameters, which
   the addend accepts for nin inputs and nout outputs. */
static PetscErrorCode KDModelReadAddend(MPI_Comm comm, hid_t file, const char path[], PetscInt nin, PetscInt nout,
                                        char name[32], PetscInt *n, PetscReal param[])
{
  KDNetAddendFunction fn;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(KDModelReadNamedParams(comm, file, path, "output_addend", name, n, param));
  if (!name[0]) PetscFunctionReturn(0);
  fn = KDNetAddendFind_Private(name);
  PetscCheck(fn, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: unknown output addend '%s' (registered by its PDE type: load the PDE's code first)", path,
             name);
  /* the addend checks its parameters on a block of no points; its own message would not name the file */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = fn(*n, param, nin, nout, NULL, 0, NULL, NULL, 0);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(!ierr, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: output addend '%s' does not take these %" PetscInt_FMT " parameters for %" PetscInt_FMT
             " inputs and %" PetscInt_FMT " outputs",
             path, name, *n, nin, nout);
  PetscFunctionReturn(0);
}

/* The optional output factor: its name, registered here (KDNetFactorRegister()), and its finite parameters, which the
   factor accepts for nin inputs and nout outputs. */
static PetscErrorCode KDModelReadFactor(MPI_Comm comm, hid_t file, const char path[], PetscInt nin, PetscInt nout,
                                        char name[32], PetscInt *n, PetscReal param[])
{
  KDNetFactorFunction fn;
  PetscErrorCode ierr;
  PetscInt mask = 0;

  PetscFunctionBegin;
  PetscCall(KDModelReadNamedParams(comm, file, path, "output_factor", name, n, param));
  if (!name[0]) PetscFunctionReturn(0);
  fn = KDNetFactorFind_Private(name);
  PetscCheck(fn, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: unknown output factor '%s' (registered by its PDE type: load the PDE's code first)", path,
             name);
  /* the factor checks its parameters on a block of no points; its own message would not name the file */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = fn(*n, param, nin, nout, NULL, 0, NULL, NULL, &mask);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(!ierr && mask > 0 && mask < (1 << nout), comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: output factor '%s' does not take these %" PetscInt_FMT " parameters for %" PetscInt_FMT
             " inputs and %" PetscInt_FMT " outputs",
             path, name, *n, nin, nout);
  PetscFunctionReturn(0);
}

/* The optional input features: their name, registered here (KDNetFeatureRegister()), their finite parameters, which
   the features accept for nin inputs, and their number (0 without features). */
static PetscErrorCode KDModelReadFeatures(MPI_Comm comm, hid_t file, const char path[], PetscInt nin, char name[32],
                                          PetscInt *n, PetscReal param[], PetscInt *nfeat)
{
  KDNetFeatureFunction fn;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  *nfeat = 0;
  PetscCall(KDModelReadNamedParams(comm, file, path, "input_features", name, n, param));
  if (!name[0]) PetscFunctionReturn(0);
  fn = KDNetFeatureFind_Private(name);
  PetscCheck(fn, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: unknown input features '%s' (registered by their PDE type: load the PDE's code first)",
             path, name);
  /* the features check their parameters on a block of no points; their own message would not name the file */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = fn(*n, param, nin, NULL, 0, NULL, NULL, 0, nfeat);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(!ierr && *nfeat >= 1 && *nfeat <= KD_NET_MAX_FEATURES, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: input features '%s' do not take these %" PetscInt_FMT " parameters for %" PetscInt_FMT
             " inputs",
             path, name, *n, nin);
  PetscFunctionReturn(0);
}

/* Every root attribute that is not reserved is a PDE parameter: at most 16, each one float. */
static PetscErrorCode KDModelReadPDEParameters(MPI_Comm comm, hid_t file, const char path[], KDModelInfo *mi)
{
  KDModelAttrNames an;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&an, sizeof(an)));
  PetscCallH5(H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, KDModelCollectParamNames, &an));
  PetscCheck(!an.overflow, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: more than 16 PDE parameters, or a name longer than 31 characters", path);
  mi->nparams = an.n;
  for (PetscInt i = 0; i < an.n; i++) {
    PetscCall(KDModelAttrCheck(comm, file, path, an.names[i], H5T_FLOAT, 1, 1, NULL));
    PetscCall(KDH5ReadAttrReals(file, an.names[i], 1, &mi->param_values[i], NULL));
    PetscCall(PetscStrncpy(mi->param_names[i], an.names[i], sizeof(mi->param_names[i])));
  }
  PetscFunctionReturn(0);
}

/* The optional group inferred: one attribute [value, std, initial] per PDE parameter inferred from data. */
static PetscErrorCode KDModelReadInferred(MPI_Comm comm, hid_t file, const char path[], KDModelInfo *mi)
{
  KDModelAttrNames an;
  htri_t exists;
  hid_t group;

  PetscFunctionBegin;
  mi->ninferred = 0;
  exists        = H5Lexists(file, "inferred", H5P_DEFAULT);
  if (exists <= 0) PetscFunctionReturn(0);
  group = H5Gopen2(file, "inferred", H5P_DEFAULT);
  PetscCheck(group >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: 'inferred' is not a group", path);
  PetscCall(PetscMemzero(&an, sizeof(an)));
  PetscCallH5(H5Aiterate2(group, H5_INDEX_NAME, H5_ITER_INC, NULL, KDModelCollectParamNames, &an));
  PetscCheck(!an.overflow, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: more than 16 inferred parameters, or a name longer than 31 characters", path);
  for (PetscInt i = 0; i < an.n; i++) {
    PetscCall(KDModelAttrCheck(comm, group, path, an.names[i], H5T_FLOAT, 3, 3, NULL));
    PetscCall(KDH5ReadAttrReals(group, an.names[i], 3, mi->inferred[i], NULL));
    PetscCall(PetscStrncpy(mi->inferred_names[i], an.names[i], sizeof(mi->inferred_names[i])));
  }
  mi->ninferred = an.n;
  PetscCallH5(H5Gclose(group));
  PetscFunctionReturn(0);
}

/* The groups layer_0 .. layer_<L-1>, each with W and b of the shapes the widths give, and no group beyond them. */
static PetscErrorCode KDModelCheckLayers(MPI_Comm comm, hid_t file, const char path[], PetscInt L,
                                         const PetscInt widths[])
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < L; k++) {
    char name[32];
    htri_t exists;
    PetscCall(PetscSNPrintf(name, sizeof(name), "layer_%" PetscInt_FMT, k));
    exists = H5Lexists(file, name, H5P_DEFAULT);
    PetscCheck(exists > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: group '%s' missing", path, name);
    {
      char wname[48], bname[48];
      const PetscInt wdims[2] = {widths[k + 1], widths[k]}, bdims[1] = {widths[k + 1]};
      PetscCall(PetscSNPrintf(wname, sizeof(wname), "%s/W", name));
      PetscCall(PetscSNPrintf(bname, sizeof(bname), "%s/b", name));
      PetscCall(KDModelDatasetCheck(comm, file, path, wname, 2, wdims));
      PetscCall(KDModelDatasetCheck(comm, file, path, bname, 1, bdims));
    }
  }
  {
    char extra[32];
    PetscCall(PetscSNPrintf(extra, sizeof(extra), "layer_%" PetscInt_FMT, L));
    PetscCheck(H5Lexists(file, extra, H5P_DEFAULT) <= 0, comm, PETSC_ERR_FILE_UNEXPECTED,
               "model file %s: group '%s' beyond the %" PetscInt_FMT " layers of widths", path, extra, L);
  }
  PetscFunctionReturn(0);
}

/* The parameters of the set-up network from the layers' datasets (shapes checked by KDModelCheckLayers()). */
static PetscErrorCode KDModelReadLayers(hid_t file, PetscInt L, const PetscInt widths[], KDNet net)
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < L; k++) {
    char wname[48], bname[48];
    PetscInt wdims[2] = {widths[k + 1], widths[k]}, bdims[1] = {widths[k + 1]};
    PetscCall(PetscSNPrintf(wname, sizeof(wname), "layer_%" PetscInt_FMT "/W", k));
    PetscCall(PetscSNPrintf(bname, sizeof(bname), "layer_%" PetscInt_FMT "/b", k));
    PetscCall(KDH5ReadRows(file, wname, 2, wdims, 0, wdims[0], net->params + net->woff[k]));
    PetscCall(KDH5ReadRows(file, bname, 1, bdims, 0, bdims[0], net->params + net->boff[k]));
  }
  PetscFunctionReturn(0);
}

/* The checks run in a fixed order, so that a broken file always fails with the same message; the network is created
   only once every attribute and every dataset's shape has passed. */
static PetscErrorCode KDNetLoad_Private(MPI_Comm comm, hid_t file, const char path[], KDNet *netout, KDModelInfo *info)
{
  PetscInt widths[KD_NET_MAX_LAYERS + 1], nin, nout, L = 0, np = 0, cnt;
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN], scale[KD_NET_MAX_OUT], shift[KD_NET_MAX_OUT];
  KDActivation act = KD_ACTIVATION_TANH; /* act and L are set by the readers; GCC cannot see it (false warning) */
  char addend[32] = "", features[32] = "", factor[32] = "";
  PetscInt naddend = 0, nfeatparam = 0, nfeat = 0, nfactorparam = 0, fanin[KD_NET_MAX_LAYERS + 1];
  PetscReal addend_param[KD_NET_MAX_ADDEND_PARAMS], feat_param[KD_NET_MAX_ADDEND_PARAMS],
      factor_param[KD_NET_MAX_ADDEND_PARAMS];
  KDModelInfo mi;
  KDNet net;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&mi, sizeof(mi)));
  PetscCall(KDModelReadKind(comm, file, path, &mi));
  PetscCall(KDModelReadActivation(comm, file, path, &act));
  PetscCall(KDModelReadWidths(comm, file, path, widths, &L, &np));
  nin  = widths[0];
  nout = widths[L];
  PetscCall(KDModelReadNames(comm, file, path, nin, nout, &mi));
  PetscCall(KDModelReadScaling(comm, file, path, nin, nout, lo, hi, scale, shift));
  /* the features add columns to the first layer's weights */
  PetscCall(KDModelReadFeatures(comm, file, path, nin, features, &nfeatparam, feat_param, &nfeat));
  for (PetscInt k = 0; k <= L; k++) fanin[k] = widths[k] + (k ? 0 : nfeat);
  np += nfeat * widths[1];

  PetscCall(KDModelAttrCheck(comm, file, path, "params", H5T_INTEGER, 1, 1, NULL));
  PetscCall(KDH5ReadAttrInts(file, "params", 1, &cnt, NULL));
  PetscCheck(cnt == np, comm, PETSC_ERR_FILE_UNEXPECTED,
             "model file %s: params is %" PetscInt_FMT ", the widths give %" PetscInt_FMT, path, cnt, np);
  PetscCall(KDModelReadPDEParameters(comm, file, path, &mi));
  PetscCall(KDModelReadInferred(comm, file, path, &mi));
  PetscCall(KDModelCheckLayers(comm, file, path, L, fanin));
  PetscCall(KDModelReadAddend(comm, file, path, nin, nout, addend, &naddend, addend_param));
  PetscCall(KDModelReadFactor(comm, file, path, nin, nout, factor, &nfactorparam, factor_param));

  PetscCall(KDNetCreate(comm, &net));
  PetscCall(KDNetSetArchitecture(net, nin, L - 1, widths + 1, nout));
  PetscCall(KDNetSetActivation(net, act));
  PetscCall(KDNetSetInputBounds(net, lo, hi));
  PetscCall(KDNetSetOutputScaling(net, scale, shift));
  if (features[0]) PetscCall(KDNetSetInputFeatures(net, features, nfeatparam, feat_param));
  PetscCall(KDNetSetUp(net));
  PetscCall(KDModelReadLayers(file, L, fanin, net));
  if (addend[0]) PetscCall(KDNetSetOutputAddend(net, addend, naddend, addend_param));
  if (factor[0]) PetscCall(KDNetSetOutputFactor(net, factor, nfactorparam, factor_param));
  for (PetscInt e = 0; e < net->nparams; e++)
    if (PetscIsInfOrNanReal(net->params[e])) {
      PetscCall(KDNetDestroy(&net));
      SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "model file %s: parameter %" PetscInt_FMT " is not finite", path, e);
    }
  /* optional (files written by other tools may not carry one); when present, it must match */
  {
    char stored[32] = "", computed[17];
    PetscBool has;
    PetscCall(KDH5HasAttr(file, "checksum", &has));
    if (has) {
      PetscCall(KDModelAttrCheck(comm, file, path, "checksum", H5T_STRING, 1, 1, NULL));
      PetscCall(KDH5ReadAttrString(file, "checksum", stored, sizeof(stored)));
      KDModelChecksum(net, lo, hi, scale, shift, computed);
      if (strcmp(stored, computed)) {
        PetscCall(KDNetDestroy(&net));
        SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED,
                "model file %s: checksum mismatch (stored %s, computed %s): the file is damaged", path, stored,
                computed);
      }
    }
  }
  *netout = net;
  if (info) *info = mi;
  PetscFunctionReturn(0);
}

/*@C
  KDNetLoad - Reads a model file written by KDNetWrite() (or by anything that follows docs/model-format.md) and
  creates the network it describes, set up, with its parameters.

  Collective

  Input Parameters:
+ comm - the communicator of the new network
- path - the model file

  Output Parameters:
+ net  - the network
- info - its descriptive attributes (may be NULL)

  Notes:
  Every attribute's type and length and every dataset's shape are checked against the widths; a failure is one
  error line naming the file and what is wrong.

.seealso: KDNetWrite()
@*/
PetscErrorCode KDNetLoad(MPI_Comm comm, const char path[], KDNet *net, KDModelInfo *info)
{
  hid_t file = -1;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  *net = NULL;
  PetscCall(KDH5Open(comm, path, &file));
  ierr = KDNetLoad_Private(comm, file, path, net, info);
  if (!ierr) ierr = KDH5Close(&file);
  if (ierr) { /* nothing left open */
    PetscCall(KDH5CloseAll(&file));
    PetscCall(KDNetDestroy(net));
    PetscCall(ierr);
  }
  PetscFunctionReturn(0);
}
