#include <kdpde.h>
#include <kdtrain.h>

const char *const KDPDEPointKinds[] = {"interior", "initial", "boundary", "KDPDEPointKind", "KD_PDE_POINTS_", NULL};
const char *const KDCavityLids[]    = {"exact", "smooth", "KDCavityLid", "KD_CAVITY_LID_", NULL};

typedef enum { KD_PDE_UNSET, KD_PDE_BURGERS, KD_PDE_HEAT, KD_PDE_CAVITY } KDPDEKind;

#define KD_PDE_MAX_PARAMS 16

struct _p_KDPDE {
  MPI_Comm comm;
  char *prefix;
  char type[64];
  KDPDEKind kind;
  PetscInt nin, nout, nres, ncoef, nstreams;
  char inputs[64], outputs[64];
  KDJetSpec spec;
  PetscInt tinput; /* index of the time input, -1 for steady PDEs */
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];
  PetscInt nparams;
  char param_names[KD_PDE_MAX_PARAMS][32];
  PetscReal param_values[KD_PDE_MAX_PARAMS];
  KDHeatProblem heat;
  PetscBool heatset;
  KDCavityLid lid;
  PetscReal gauge[KD_NET_MAX_IN];
  PetscBool gaugeset;
};

/* Jet stream numbers (kdnet.h layout: value, first derivatives in input order, then the spec's second derivatives). */
enum { BURGERS_U, BURGERS_T, BURGERS_X, BURGERS_XX, BURGERS_NSTREAMS };
enum { HEAT_U, HEAT_T, HEAT_X, HEAT_Y, HEAT_XX, HEAT_YY, HEAT_NSTREAMS };
enum { CAVITY_V, CAVITY_X, CAVITY_Y, CAVITY_XX, CAVITY_YY, CAVITY_NSTREAMS };
enum { HEAT_K, HEAT_KX, HEAT_KY, HEAT_F, HEAT_NCOEF };

/*@C
  KDPDECreate - Creates a PDE operator; set its type with KDPDESetType() or KDPDESetFromReference().

  Collective (the communicator is kept for errors and viewers; the operators themselves are local)

.seealso: KDPDEDestroy(), KDPDEResidual()
@*/
PetscErrorCode KDPDECreate(MPI_Comm comm, KDPDE *pde)
{
  KDPDE p;

  PetscFunctionBegin;
  PetscCall(PetscNew(&p));
  p->comm   = comm;
  p->tinput = -1;
  p->lid    = KD_CAVITY_LID_EXACT;
  *pde      = p;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEDestroy - Destroys a PDE operator and clears the handle; safe on NULL.

  Collective
@*/
PetscErrorCode KDPDEDestroy(KDPDE *pde)
{
  PetscFunctionBegin;
  if (!pde || !*pde) PetscFunctionReturn(0);
  PetscCall(PetscFree((*pde)->prefix));
  PetscCall(PetscFree(*pde));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetType - Selects the PDE: burgers, heat or cavity. Sets its inputs, outputs, jet spec and a default domain
  (burgers: t in [0,1], x in [-1,1]; heat: t, x, y in [0,1]; cavity: x, y in [0,1]) and default parameters
  (burgers nu = 0.01/pi; cavity Re = 100), which KDPDESetFromReference() replaces by the reference's.

  Logically collective
@*/
PetscErrorCode KDPDESetType(KDPDE pde, const char type[])
{
  PetscBool match;

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(pde->type, type, sizeof(pde->type)));
  PetscCall(PetscMemzero(&pde->spec, sizeof(pde->spec)));
  pde->nparams = 0;
  pde->kind    = KD_PDE_UNSET;
  PetscCall(PetscStrcmp(type, "burgers", &match));
  if (match) {
    pde->kind  = KD_PDE_BURGERS;
    pde->nin   = 2;
    pde->nout  = 1;
    pde->nres  = 1;
    pde->ncoef = 0;
    PetscCall(PetscStrncpy(pde->inputs, "t,x", sizeof(pde->inputs)));
    PetscCall(PetscStrncpy(pde->outputs, "u", sizeof(pde->outputs)));
    pde->spec.nsecond      = 1;
    pde->spec.second[0][0] = 1;
    pde->spec.second[0][1] = 1;
    pde->tinput            = 0;
    pde->lo[0] = 0.0, pde->hi[0] = 1.0;
    pde->lo[1] = -1.0, pde->hi[1] = 1.0;
    PetscCall(KDPDESetParameter(pde, "nu", 0.01 / PETSC_PI));
  }
  PetscCall(PetscStrcmp(type, "heat", &match));
  if (match) {
    pde->kind  = KD_PDE_HEAT;
    pde->nin   = 3;
    pde->nout  = 1;
    pde->nres  = 1;
    pde->ncoef = HEAT_NCOEF;
    PetscCall(PetscStrncpy(pde->inputs, "t,x,y", sizeof(pde->inputs)));
    PetscCall(PetscStrncpy(pde->outputs, "u", sizeof(pde->outputs)));
    pde->spec.nsecond      = 2;
    pde->spec.second[0][0] = 1;
    pde->spec.second[0][1] = 1;
    pde->spec.second[1][0] = 2;
    pde->spec.second[1][1] = 2;
    pde->tinput            = 0;
    for (PetscInt i = 0; i < 3; i++) pde->lo[i] = 0.0, pde->hi[i] = 1.0;
  }
  PetscCall(PetscStrcmp(type, "cavity", &match));
  if (match) {
    pde->kind  = KD_PDE_CAVITY;
    pde->nin   = 2;
    pde->nout  = 3;
    pde->nres  = 3;
    pde->ncoef = 0;
    PetscCall(PetscStrncpy(pde->inputs, "x,y", sizeof(pde->inputs)));
    PetscCall(PetscStrncpy(pde->outputs, "u,v,p", sizeof(pde->outputs)));
    pde->spec.nsecond      = 2;
    pde->spec.second[0][0] = 0;
    pde->spec.second[0][1] = 0;
    pde->spec.second[1][0] = 1;
    pde->spec.second[1][1] = 1;
    pde->tinput            = -1;
    for (PetscInt i = 0; i < 2; i++) pde->lo[i] = 0.0, pde->hi[i] = 1.0;
    PetscCall(KDPDESetParameter(pde, "Re", 100.0));
  }
  PetscCheck(pde->kind != KD_PDE_UNSET, pde->comm, PETSC_ERR_ARG_UNKNOWN_TYPE,
             "unknown PDE '%s' (-kd_pde): burgers, heat or cavity", type);
  pde->nstreams = 1 + pde->nin + pde->spec.nsecond;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetType - The PDE's name, or an empty string before KDPDESetType().

  Not collective
@*/
PetscErrorCode KDPDEGetType(KDPDE pde, const char **type)
{
  PetscFunctionBegin;
  *type = pde->type;
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetParameter - Sets a named PDE parameter (burgers: nu; cavity: Re).

  Logically collective
@*/
PetscErrorCode KDPDESetParameter(KDPDE pde, const char name[], PetscReal value)
{
  PetscBool match;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < pde->nparams; i++) {
    PetscCall(PetscStrcmp(pde->param_names[i], name, &match));
    if (match) {
      pde->param_values[i] = value;
      PetscFunctionReturn(0);
    }
  }
  PetscCheck(pde->nparams < KD_PDE_MAX_PARAMS, pde->comm, PETSC_ERR_ARG_SIZ, "too many PDE parameters (at most %d)",
             KD_PDE_MAX_PARAMS);
  PetscCall(PetscStrncpy(pde->param_names[pde->nparams], name, sizeof(pde->param_names[0])));
  pde->param_values[pde->nparams++] = value;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetParameter - Gets a named PDE parameter; an error if the PDE has no such parameter.

  Not collective
@*/
PetscErrorCode KDPDEGetParameter(KDPDE pde, const char name[], PetscReal *value)
{
  PetscBool match;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < pde->nparams; i++) {
    PetscCall(PetscStrcmp(pde->param_names[i], name, &match));
    if (match) {
      *value = pde->param_values[i];
      PetscFunctionReturn(0);
    }
  }
  SETERRQ(pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s has no parameter '%s'", pde->type, name);
}

/*@C
  KDPDESetHeatProblem - Gives the heat PDE its conductivity, source and boundary data.

  Logically collective
@*/
PetscErrorCode KDPDESetHeatProblem(KDPDE pde, const KDHeatProblem *prob)
{
  PetscFunctionBegin;
  pde->heat    = *prob;
  pde->heatset = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetDomain - Sets the box domain, bounds given in network input order (e.g. t, x, y for heat).

  Logically collective
@*/
PetscErrorCode KDPDESetDomain(KDPDE pde, const PetscReal lo[], const PetscReal hi[])
{
  PetscFunctionBegin;
  PetscCheck(pde->kind != KD_PDE_UNSET, pde->comm, PETSC_ERR_ORDER, "KDPDESetType() must come before KDPDESetDomain()");
  for (PetscInt i = 0; i < pde->nin; i++) {
    PetscCheck(hi[i] > lo[i], pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "empty domain on input %" PetscInt_FMT ": [%g, %g]",
               i, (double) lo[i], (double) hi[i]);
    pde->lo[i] = lo[i];
    pde->hi[i] = hi[i];
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetDomain - The box domain in network input order.

  Not collective
@*/
PetscErrorCode KDPDEGetDomain(KDPDE pde, PetscReal lo[], PetscReal hi[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < pde->nin; i++) {
    if (lo) lo[i] = pde->lo[i];
    if (hi) hi[i] = pde->hi[i];
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetReferenceAxisMap - For each network input i, the axis map[i] of the reference grid with the same name
  (heat: inputs t,x,y on axes t,y,x give map = {0, 2, 1}).

  Not collective
@*/
PetscErrorCode KDPDEGetReferenceAxisMap(KDPDE pde, KDReference ref, PetscInt map[])
{
  const char *axes;
  char **anames, **inames;
  int na, ni;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetAxes(ref, &axes));
  PetscCall(PetscStrToArray(axes, ',', &na, &anames));
  PetscCall(PetscStrToArray(pde->inputs, ',', &ni, &inames));
  PetscCheck(ni == pde->nin, pde->comm, PETSC_ERR_PLIB, "PDE %s: inputs '%s' do not match nin %" PetscInt_FMT,
             pde->type, pde->inputs, pde->nin);
  for (int i = 0; i < ni; i++) {
    map[i] = -1;
    for (int a = 0; a < na; a++) {
      PetscBool match;
      PetscCall(PetscStrcmp(inames[i], anames[a], &match));
      if (match) map[i] = a;
    }
    PetscCheck(map[i] >= 0, pde->comm, PETSC_ERR_FILE_UNEXPECTED, "reference axes '%s' lack the input '%s' of PDE %s",
               axes, inames[i], pde->type);
  }
  PetscCheck(na == ni, pde->comm, PETSC_ERR_FILE_UNEXPECTED,
             "reference axes '%s' do not match the inputs '%s' of PDE %s", axes, pde->inputs, pde->type);
  PetscCall(PetscStrToArrayDestroy(na, anames));
  PetscCall(PetscStrToArrayDestroy(ni, inames));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetFromReference - Takes the PDE type, its parameters (burgers: nu; cavity: Re; heat: the whole problem through
  KDHeatProblemFromReference()) and the domain (the level-0 grid's [lo, hi], reordered to network input order) from a
  reference.

  Collective on the reference
@*/
PetscErrorCode KDPDESetFromReference(KDPDE pde, KDReference ref)
{
  const char *type;
  PetscInt dim, n[KD_MAX_DIM], map[KD_NET_MAX_IN];
  PetscReal rlo[KD_MAX_DIM], rhi[KD_MAX_DIM], lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];

  PetscFunctionBegin;
  PetscCall(KDReferenceGetPDE(ref, &type));
  PetscCall(KDPDESetType(pde, type));
  PetscCall(KDReferenceGetLevelGrid(ref, 0, &dim, n, rlo, rhi));
  PetscCheck(dim == pde->nin, pde->comm, PETSC_ERR_FILE_UNEXPECTED,
             "reference grid has %" PetscInt_FMT " axes, PDE %s has %" PetscInt_FMT " inputs", dim, pde->type,
             pde->nin);
  PetscCall(KDPDEGetReferenceAxisMap(pde, ref, map));
  for (PetscInt i = 0; i < pde->nin; i++) lo[i] = rlo[map[i]], hi[i] = rhi[map[i]];
  PetscCall(KDPDESetDomain(pde, lo, hi));
  for (PetscInt i = 0; i < pde->nparams; i++) {
    PetscReal v;
    PetscBool found;
    PetscCall(KDReferenceGetParameter(ref, pde->param_names[i], &v, &found));
    PetscCheck(found, pde->comm, PETSC_ERR_FILE_UNEXPECTED, "reference lacks the parameter '%s' of PDE %s",
               pde->param_names[i], pde->type);
    pde->param_values[i] = v;
  }
  if (pde->kind == KD_PDE_HEAT) {
    KDHeatProblem prob;
    PetscCall(KDHeatProblemFromReference(ref, &prob));
    PetscCall(KDPDESetHeatProblem(pde, &prob));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetOptionsPrefix - Sets the prefix of the PDE's options (a loss passes its own, e.g. teacher_).

  Logically collective
@*/
PetscErrorCode KDPDESetOptionsPrefix(KDPDE pde, const char prefix[])
{
  PetscFunctionBegin;
  PetscCall(PetscFree(pde->prefix));
  if (prefix) PetscCall(PetscStrallocpy(prefix, &pde->prefix));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESetFromOptions - Reads the PDE's options. Call after the type is set.

  Collective

  Options Database Keys:
+ -<prefix>cavity_lid <exact|smooth>  - lid profile: exact u = 1 (as the reference solver) or 1 - s^16 (default: exact)
- -<prefix>cavity_gauge_point <x,y>   - point where the cavity pressure is pinned to 0 (default: domain centre)
@*/
PetscErrorCode KDPDESetFromOptions(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCheck(pde->kind != KD_PDE_UNSET, pde->comm, PETSC_ERR_ORDER, "set the PDE type before KDPDESetFromOptions()");
  if (pde->kind == KD_PDE_CAVITY) {
    PetscInt n = 2;
    PetscReal g[2];
    PetscBool set;
    if (!pde->gaugeset) {
      for (PetscInt i = 0; i < 2; i++) pde->gauge[i] = 0.5 * (pde->lo[i] + pde->hi[i]);
    }
    g[0] = pde->gauge[0], g[1] = pde->gauge[1];
    PetscOptionsBegin(pde->comm, pde->prefix, "Cavity PDE options", NULL);
    PetscCall(PetscOptionsEnum("-cavity_lid",
                               "Lid velocity profile: exact u=1 (as the reference solver) or smooth 1-s^16", NULL,
                               KDCavityLids, (PetscEnum) pde->lid, (PetscEnum *) &pde->lid, NULL));
    PetscCall(PetscOptionsRealArray("-cavity_gauge_point", "Point x,y where the cavity pressure is pinned to 0", NULL,
                                    g, &n, &set));
    PetscOptionsEnd();
    if (set) {
      PetscCheck(n == 2, pde->comm, PETSC_ERR_ARG_SIZ, "-%scavity_gauge_point needs 2 values, got %" PetscInt_FMT,
                 pde->prefix ? pde->prefix : "", n);
      pde->gauge[0] = g[0], pde->gauge[1] = g[1];
      pde->gaugeset = PETSC_TRUE;
    }
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEView - Prints the PDE, its parameters and domain.

  Collective
@*/
PetscErrorCode KDPDEView(KDPDE pde, PetscViewer viewer)
{
  PetscBool ascii;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(pde->comm, &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "KDPDE %s: inputs %s, outputs %s, %" PetscInt_FMT " residual component(s)\n",
                                   pde->type, pde->inputs, pde->outputs, pde->nres));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt i = 0; i < pde->nparams; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "%s = %g\n", pde->param_names[i], (double) pde->param_values[i]));
  for (PetscInt i = 0; i < pde->nin; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "input %" PetscInt_FMT " in [%g, %g]\n", i, (double) pde->lo[i],
                                     (double) pde->hi[i]));
  if (pde->kind == KD_PDE_HEAT && pde->heatset) {
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "conductivity k0 = %g with %" PetscInt_FMT " inclusion(s), %s source, tfinal = %g\n",
        (double) pde->heat.ms.k0, pde->heat.ms.n, pde->heat.manufactured ? "manufactured" : "Gaussian",
        (double) pde->heat.tfinal));
  }
  if (pde->kind == KD_PDE_CAVITY) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "lid profile %s, pressure pinned to 0 at (%g, %g)\n",
                                     KDCavityLids[pde->lid], (double) pde->gauge[0], (double) pde->gauge[1]));
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetSizes - Number of network inputs, outputs and residual components.

  Not collective
@*/
PetscErrorCode KDPDEGetSizes(KDPDE pde, PetscInt *nin, PetscInt *nout, PetscInt *nres)
{
  PetscFunctionBegin;
  if (nin) *nin = pde->nin;
  if (nout) *nout = pde->nout;
  if (nres) *nres = pde->nres;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetNames - The network's input and output names, comma separated ("t,x" and "u"; as in model files).

  Not collective
@*/
PetscErrorCode KDPDEGetNames(KDPDE pde, const char **inputs, const char **outputs)
{
  PetscFunctionBegin;
  if (inputs) *inputs = pde->inputs;
  if (outputs) *outputs = pde->outputs;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetJetSpec - The second derivatives the residual reads (first derivatives are always in a jet).

  Not collective
@*/
PetscErrorCode KDPDEGetJetSpec(KDPDE pde, const KDJetSpec **spec)
{
  PetscFunctionBegin;
  *spec = &pde->spec;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEIsTimeDependent - Whether input 0 is time t (burgers, heat), so that the loss has an initial condition.

  Not collective
@*/
PetscErrorCode KDPDEIsTimeDependent(KDPDE pde, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = pde->tinput >= 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetNumCoefficients - Number of pointwise coefficients the residual reads (heat: 4, others: 0).

  Not collective
@*/
PetscErrorCode KDPDEGetNumCoefficients(KDPDE pde, PetscInt *ncoef)
{
  PetscFunctionBegin;
  *ncoef = pde->ncoef;
  PetscFunctionReturn(0);
}

/*@C
  KDPDEComputeCoefficients - Evaluates the pointwise coefficients at n points, coef[c * n + p] (heat: k, k_x, k_y, f).
  Coefficients do not depend on the network, so a loss computes them once per point set.

  Not collective

  Input Parameters:
+ n - number of points
- x - points, x[p * nin + i], network input order
@*/
PetscErrorCode KDPDEComputeCoefficients(KDPDE pde, PetscInt n, const PetscReal x[], PetscReal coef[])
{
  PetscFunctionBegin;
  if (pde->kind != KD_PDE_HEAT) PetscFunctionReturn(0);
  PetscCheck(pde->heatset, PETSC_COMM_SELF, PETSC_ERR_ORDER,
             "heat PDE has no problem data: call KDPDESetFromReference() or KDPDESetHeatProblem()");
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal *xp = x + p * 3;
    PetscReal k, gk[2], f;
    KDHeatProblemCoefficients(&pde->heat, xp[0], xp[1], xp[2], &k, gk, &f);
    coef[HEAT_K * n + p]  = k;
    coef[HEAT_KX * n + p] = gk[0];
    coef[HEAT_KY * n + p] = gk[1];
    coef[HEAT_F * n + p]  = f;
  }
  PetscFunctionReturn(0);
}

#define JET(o, s) (jet + ((o) *ns + (s)) * n)
#define ADJ(o, s) (adj + ((o) *ns + (s)) * n)

static void KDResidualBurgers(PetscInt n, PetscReal nu, const PetscReal *jet, PetscReal *res)
{
  const PetscInt ns  = BURGERS_NSTREAMS;
  const PetscReal *u = JET(0, BURGERS_U), *ut = JET(0, BURGERS_T), *ux = JET(0, BURGERS_X), *uxx = JET(0, BURGERS_XX);

  for (PetscInt p = 0; p < n; p++) res[p] = ut[p] + u[p] * ux[p] - nu * uxx[p];
}

static void KDResidualAdjointBurgers(PetscInt n, PetscReal nu, const PetscReal *jet, const PetscReal *rbar,
                                     PetscReal *adj)
{
  const PetscInt ns  = BURGERS_NSTREAMS;
  const PetscReal *u = JET(0, BURGERS_U), *ux = JET(0, BURGERS_X);
  PetscReal *au = ADJ(0, BURGERS_U), *aut = ADJ(0, BURGERS_T), *aux = ADJ(0, BURGERS_X), *auxx = ADJ(0, BURGERS_XX);

  for (PetscInt p = 0; p < n; p++) {
    au[p] += rbar[p] * ux[p];
    aut[p] += rbar[p];
    aux[p] += rbar[p] * u[p];
    auxx[p] -= nu * rbar[p];
  }
}

static void KDResidualHeat(PetscInt n, const PetscReal *coef, const PetscReal *jet, PetscReal *res)
{
  const PetscInt ns   = HEAT_NSTREAMS;
  const PetscReal *ut = JET(0, HEAT_T), *ux = JET(0, HEAT_X), *uy = JET(0, HEAT_Y), *uxx = JET(0, HEAT_XX),
                  *uyy = JET(0, HEAT_YY);
  const PetscReal *k = coef + HEAT_K * n, *kx = coef + HEAT_KX * n, *ky = coef + HEAT_KY * n, *f = coef + HEAT_F * n;

  for (PetscInt p = 0; p < n; p++) res[p] = ut[p] - k[p] * (uxx[p] + uyy[p]) - (kx[p] * ux[p] + ky[p] * uy[p]) - f[p];
}

static void KDResidualAdjointHeat(PetscInt n, const PetscReal *coef, const PetscReal *rbar, PetscReal *adj)
{
  const PetscInt ns  = HEAT_NSTREAMS;
  const PetscReal *k = coef + HEAT_K * n, *kx = coef + HEAT_KX * n, *ky = coef + HEAT_KY * n;
  PetscReal *aut = ADJ(0, HEAT_T), *aux = ADJ(0, HEAT_X), *auy = ADJ(0, HEAT_Y), *auxx = ADJ(0, HEAT_XX),
            *auyy = ADJ(0, HEAT_YY);

  for (PetscInt p = 0; p < n; p++) {
    aut[p] += rbar[p];
    aux[p] -= kx[p] * rbar[p];
    auy[p] -= ky[p] * rbar[p];
    auxx[p] -= k[p] * rbar[p];
    auyy[p] -= k[p] * rbar[p];
  }
}

static void KDResidualCavity(PetscInt n, PetscReal Re, const PetscReal *jet, PetscReal *res)
{
  const PetscInt ns   = CAVITY_NSTREAMS;
  const PetscReal ire = 1.0 / Re;
  const PetscReal *u = JET(0, CAVITY_V), *ux = JET(0, CAVITY_X), *uy = JET(0, CAVITY_Y), *uxx = JET(0, CAVITY_XX),
                  *uyy = JET(0, CAVITY_YY);
  const PetscReal *v = JET(1, CAVITY_V), *vx = JET(1, CAVITY_X), *vy = JET(1, CAVITY_Y), *vxx = JET(1, CAVITY_XX),
                  *vyy = JET(1, CAVITY_YY);
  const PetscReal *px = JET(2, CAVITY_X), *py = JET(2, CAVITY_Y);
  PetscReal *r1 = res, *r2 = res + n, *r3 = res + 2 * n;

  for (PetscInt p = 0; p < n; p++) {
    r1[p] = u[p] * ux[p] + v[p] * uy[p] + px[p] - ire * (uxx[p] + uyy[p]);
    r2[p] = u[p] * vx[p] + v[p] * vy[p] + py[p] - ire * (vxx[p] + vyy[p]);
    r3[p] = ux[p] + vy[p];
  }
}

static void KDResidualAdjointCavity(PetscInt n, PetscReal Re, const PetscReal *jet, const PetscReal *rbar,
                                    PetscReal *adj)
{
  const PetscInt ns   = CAVITY_NSTREAMS;
  const PetscReal ire = 1.0 / Re;
  const PetscReal *u = JET(0, CAVITY_V), *ux = JET(0, CAVITY_X), *uy = JET(0, CAVITY_Y);
  const PetscReal *v = JET(1, CAVITY_V), *vx = JET(1, CAVITY_X), *vy = JET(1, CAVITY_Y);
  const PetscReal *b1 = rbar, *b2 = rbar + n, *b3 = rbar + 2 * n;
  PetscReal *au = ADJ(0, CAVITY_V), *aux = ADJ(0, CAVITY_X), *auy = ADJ(0, CAVITY_Y), *auxx = ADJ(0, CAVITY_XX),
            *auyy = ADJ(0, CAVITY_YY);
  PetscReal *av = ADJ(1, CAVITY_V), *avx = ADJ(1, CAVITY_X), *avy = ADJ(1, CAVITY_Y), *avxx = ADJ(1, CAVITY_XX),
            *avyy = ADJ(1, CAVITY_YY);
  PetscReal *apx = ADJ(2, CAVITY_X), *apy = ADJ(2, CAVITY_Y);

  for (PetscInt p = 0; p < n; p++) {
    au[p] += b1[p] * ux[p] + b2[p] * vx[p];
    av[p] += b1[p] * uy[p] + b2[p] * vy[p];
    aux[p] += b1[p] * u[p] + b3[p];
    auy[p] += b1[p] * v[p];
    avx[p] += b2[p] * u[p];
    avy[p] += b2[p] * v[p] + b3[p];
    apx[p] += b1[p];
    apy[p] += b2[p];
    auxx[p] -= ire * b1[p];
    auyy[p] -= ire * b1[p];
    avxx[p] -= ire * b2[p];
    avyy[p] -= ire * b2[p];
  }
}

/* Coefficients given by the caller, or computed here when coef is NULL (then the caller frees *work). */
static PetscErrorCode KDPDEGetCoefficients(KDPDE pde, PetscInt n, const PetscReal x[], const PetscReal coef[],
                                           const PetscReal **c, PetscReal **work)
{
  PetscFunctionBegin;
  *work = NULL;
  *c    = coef;
  if (pde->ncoef && !coef) {
    PetscCheck(x, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "PDE %s needs the points or their coefficients", pde->type);
    PetscCall(PetscMalloc1(pde->ncoef * n, work));
    PetscCall(KDPDEComputeCoefficients(pde, n, x, *work));
    *c = *work;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEResidual - Evaluates the residual components at n points from their jets.

  Not collective

  Input Parameters:
+ pde  - the PDE
. n    - number of points
. x    - the points, x[p * nin + i] (read only to compute coefficients when coef is NULL; may be NULL otherwise)
. coef - pointwise coefficients from KDPDEComputeCoefficients(), or NULL
- jet  - the jets (kdnet.h layout, the PDE's jet spec)

  Output Parameter:
. res  - res[r * n + p], residual component r at point p

.seealso: KDPDEResidualAdjoint(), KDPDEGetJetSpec()
@*/
PetscErrorCode KDPDEResidual(KDPDE pde, PetscInt n, const PetscReal x[], const PetscReal coef[], const PetscReal jet[],
                             PetscReal res[])
{
  const PetscReal *c;
  PetscReal *work;

  PetscFunctionBegin;
  switch (pde->kind) {
  case KD_PDE_BURGERS:
    KDResidualBurgers(n, pde->param_values[0], jet, res);
    break;
  case KD_PDE_HEAT:
    PetscCall(KDPDEGetCoefficients(pde, n, x, coef, &c, &work));
    KDResidualHeat(n, c, jet, res);
    PetscCall(PetscFree(work));
    break;
  case KD_PDE_CAVITY:
    KDResidualCavity(n, pde->param_values[0], jet, res);
    break;
  default:
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ORDER, "PDE type not set");
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEResidualAdjoint - Reverse mode of KDPDEResidual(): adds to adj the derivative of sum_{r,p} rbar[r*n+p] res[r*n+p]
  with respect to the jets.

  Not collective

  Input Parameters:
+ pde  - the PDE
. n    - number of points
. x    - the points (as in KDPDEResidual())
. coef - pointwise coefficients, or NULL
. jet  - the jets at which the residual is linearized
- rbar - rbar[r * n + p], the loss's derivative with respect to each residual value

  Output Parameter:
. adj  - accumulated dLoss/djet, same layout as jet (not zeroed here)

.seealso: KDPDEResidual(), KDNetLossGradient()
@*/
PetscErrorCode KDPDEResidualAdjoint(KDPDE pde, PetscInt n, const PetscReal x[], const PetscReal coef[],
                                    const PetscReal jet[], const PetscReal rbar[], PetscReal adj[])
{
  const PetscReal *c;
  PetscReal *work;

  PetscFunctionBegin;
  switch (pde->kind) {
  case KD_PDE_BURGERS:
    KDResidualAdjointBurgers(n, pde->param_values[0], jet, rbar, adj);
    break;
  case KD_PDE_HEAT:
    PetscCall(KDPDEGetCoefficients(pde, n, x, coef, &c, &work));
    KDResidualAdjointHeat(n, c, rbar, adj);
    PetscCall(PetscFree(work));
    break;
  case KD_PDE_CAVITY:
    KDResidualAdjointCavity(n, pde->param_values[0], jet, rbar, adj);
    break;
  default:
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ORDER, "PDE type not set");
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEResidualNet - Evaluates the residual of a network at n points (in blocks, to bound memory).

  Not collective

  Output Parameter:
. res - res[r * n + p]

.seealso: KDLossResidualRMS()
@*/
PetscErrorCode KDPDEResidualNet(KDPDE pde, KDNet net, PetscInt n, const PetscReal x[], PetscReal res[])
{
  const PetscInt bs = 1024;
  PetscInt nin, nout, nparams;
  PetscReal *jet, *rb, *coef = NULL;

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, &nin, &nout, &nparams));
  PetscCheck(nin == pde->nin && nout == pde->nout, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
             "network has %" PetscInt_FMT " inputs and %" PetscInt_FMT " outputs, PDE %s needs %" PetscInt_FMT
             " and %" PetscInt_FMT,
             nin, nout, pde->type, pde->nin, pde->nout);
  PetscCall(PetscMalloc2(bs * pde->nout * pde->nstreams, &jet, bs * pde->nres, &rb));
  if (pde->ncoef) PetscCall(PetscMalloc1(bs * pde->ncoef, &coef));
  for (PetscInt start = 0; start < n; start += bs) {
    PetscInt m = PetscMin(bs, n - start);
    PetscCall(KDNetJetForward(net, &pde->spec, m, x + start * pde->nin, jet));
    if (coef) PetscCall(KDPDEComputeCoefficients(pde, m, x + start * pde->nin, coef));
    PetscCall(KDPDEResidual(pde, m, NULL, coef, jet, rb));
    for (PetscInt r = 0; r < pde->nres; r++) PetscCall(PetscArraycpy(res + r * n + start, rb + r * m, m));
  }
  PetscCall(PetscFree2(jet, rb));
  PetscCall(PetscFree(coef));
  PetscFunctionReturn(0);
}

/*@C
  KDPDESamplePoints - Draws the points with global indices gstart, ..., gstart + n - 1 of a point set, each a pure
  function of (seed, stream, global index), so that the union over ranks does not depend on how the indices are split.

  Not collective

  Input Parameters:
+ pde    - the PDE (its domain and inputs)
. kind   - interior: uniform in the box; initial: t = t_lo, space uniform; boundary: a spatial face chosen with
           probability proportional to its measure, uniform on it (and uniform in t for time-dependent PDEs)
. seed   - the seed
. stream - the stream of this point set
. gstart - global index of the first point
- n      - number of points

  Output Parameter:
. x - x[p * nin + i]

  Notes:
  Point j uses the numbers KDRandomUniform(seed, stream, 4 j + d), d = 0..3: one per input and one to choose a face.
@*/
PetscErrorCode KDPDESamplePoints(KDPDE pde, KDPDEPointKind kind, PetscInt64 seed, PetscInt64 stream, PetscInt64 gstart,
                                 PetscInt n, PetscReal x[])
{
  const PetscInt nin = pde->nin;
  PetscInt nspace    = 0, space[KD_NET_MAX_IN];
  PetscReal wface[2 * KD_NET_MAX_IN], wsum = 0.0;

  PetscFunctionBegin;
  PetscCheck(pde->kind != KD_PDE_UNSET, PETSC_COMM_SELF, PETSC_ERR_ORDER, "PDE type not set");
  PetscCheck(kind != KD_PDE_POINTS_INITIAL || pde->tinput >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "PDE %s is steady: it has no initial points", pde->type);
  for (PetscInt i = 0; i < nin; i++)
    if (i != pde->tinput) space[nspace++] = i;
  /* A face of spatial input space[f/2] (low side for even f) has the measure of the other spatial extents. */
  for (PetscInt f = 0; f < 2 * nspace; f++) {
    wface[f] = 1.0;
    for (PetscInt k = 0; k < nspace; k++)
      if (k != f / 2) wface[f] *= pde->hi[space[k]] - pde->lo[space[k]];
    wsum += wface[f];
  }
  for (PetscInt p = 0; p < n; p++) {
    const PetscInt64 j = gstart + p;
    PetscReal *xp      = x + p * nin;
    for (PetscInt i = 0; i < nin; i++)
      xp[i] = pde->lo[i] + KDRandomUniform(seed, stream, 4 * j + i) * (pde->hi[i] - pde->lo[i]);
    if (kind == KD_PDE_POINTS_INITIAL) xp[pde->tinput] = pde->lo[pde->tinput];
    if (kind == KD_PDE_POINTS_BOUNDARY) {
      PetscReal s = KDRandomUniform(seed, stream, 4 * j + 3) * wsum, acc = 0.0;
      PetscInt f = 0;
      for (f = 0; f < 2 * nspace - 1; f++) {
        acc += wface[f];
        if (s < acc) break;
      }
      xp[space[f / 2]] = (f % 2) ? pde->hi[space[f / 2]] : pde->lo[space[f / 2]];
    }
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEConditionValues - Dirichlet data on initial or boundary points: values[o * n + p] for the outputs with
  mask[o] = PETSC_TRUE (the others are free there, e.g. the cavity pressure).

  Not collective

  Notes:
  burgers: u(0,x) = -sin(pi x), u = 0 on x = lo, hi. heat: KDHeatProblemBoundary() on both. cavity: u = v = 0 on the
  walls and v = 0, u = lid(x) on y = y_hi, where the lid is 1 (exact: points on the lid, which the sampling places at
  y = y_hi exactly, take the lid value up to the corners, as the reference solver does) or 1 - s^16 (smooth).
@*/
PetscErrorCode KDPDEConditionValues(KDPDE pde, KDPDEPointKind kind, PetscInt n, const PetscReal x[], PetscReal values[],
                                    PetscBool mask[])
{
  PetscFunctionBegin;
  PetscCheck(kind != KD_PDE_POINTS_INTERIOR, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "interior points carry no condition");
  for (PetscInt o = 0; o < pde->nout; o++) mask[o] = PETSC_TRUE;
  switch (pde->kind) {
  case KD_PDE_BURGERS:
    for (PetscInt p = 0; p < n; p++)
      values[p] = (kind == KD_PDE_POINTS_INITIAL) ? -PetscSinReal(PETSC_PI * x[2 * p + 1]) : 0.0;
    break;
  case KD_PDE_HEAT:
    PetscCheck(pde->heatset, PETSC_COMM_SELF, PETSC_ERR_ORDER,
               "heat PDE has no problem data: call KDPDESetFromReference() or KDPDESetHeatProblem()");
    for (PetscInt p = 0; p < n; p++)
      values[p] = KDHeatProblemBoundary(&pde->heat, x[3 * p], x[3 * p + 1], x[3 * p + 2]);
    break;
  case KD_PDE_CAVITY:
    PetscCheck(kind == KD_PDE_POINTS_BOUNDARY, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
               "the cavity is steady: no initial condition");
    mask[2] = PETSC_FALSE;
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal xx = x[2 * p], yy = x[2 * p + 1];
      PetscReal u = 0.0;
      if (yy >= pde->hi[1]) {
        if (pde->lid == KD_CAVITY_LID_EXACT)
          u = 1.0;
        else {
          const PetscReal s = 2.0 * (xx - pde->lo[0]) / (pde->hi[0] - pde->lo[0]) - 1.0, s2 = s * s, s4 = s2 * s2,
                          s8 = s4 * s4;
          u                  = 1.0 - s8 * s8;
        }
      }
      values[p]         = u;
      values[n + p]     = 0.0;
      values[2 * n + p] = 0.0;
    }
    break;
  default:
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ORDER, "PDE type not set");
  }
  PetscFunctionReturn(0);
}

/*@C
  KDPDEGetGauge - Whether an output is only defined up to a constant (the cavity pressure), and where the loss pins
  it to 0 (-<prefix>cavity_gauge_point).

  Not collective

  Output Parameters:
+ has    - PETSC_TRUE for the cavity
. x      - the gauge point (nin values), may be NULL
- output - index of the pinned output, may be NULL
@*/
PetscErrorCode KDPDEGetGauge(KDPDE pde, PetscBool *has, PetscReal x[], PetscInt *output)
{
  PetscFunctionBegin;
  *has = pde->kind == KD_PDE_CAVITY ? PETSC_TRUE : PETSC_FALSE;
  if (!*has) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < pde->nin; i++) {
    const PetscReal g = pde->gaugeset ? pde->gauge[i] : 0.5 * (pde->lo[i] + pde->hi[i]);
    if (x) x[i] = g;
  }
  if (output) *output = 2;
  PetscFunctionReturn(0);
}
