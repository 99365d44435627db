/*
  PDE heat: transient conduction through an inclusion microstructure on (t, x, y),

      u_t - div(k(x,y) grad u) - f = u_t - k (u_xx + u_yy) - (k_x u_x + k_y u_y) - f = 0,   u = g on the boundary,
      u(0, x, y) = u0,

  with k, f, g and u0 from the heat problem (src/pde/heat.h): the microstructure (-heat_microstructure), a steady
  Gaussian source (the parameters source_amplitude, source_x, source_y, source_width) or a manufactured solution
  (-heat_mms), the end time -heat_tfinal. Reference axes t,y,x; network inputs t,x,y (solvers/heat.c).
*/
#include <kdpdeimpl.h>
#include "pde/heat.h"

typedef struct {
  KDHeatProblem prob;
  PetscInt source[KD_HEAT_NSOURCE]; /* indices of the parameters source_amplitude, source_x, ... */
  PetscBool probset;                /* the problem was defined (options or a reference) */
} KDPDE_Heat;

enum { HEAT_U, HEAT_T, HEAT_X, HEAT_Y };
enum { HEAT_K, HEAT_KX, HEAT_KY, HEAT_F, HEAT_NCOEF };

/* Names of the source parameters, in the order of KDHeatProblem.source[]: options -heat_<name>, reference
   attributes <name>. */
static const char *const KDHeatSourceNames[KD_HEAT_NSOURCE] = {"source_amplitude", "source_x", "source_y",
                                                               "source_width"};

static PetscErrorCode KDPDEResidual_Heat(KDPDE, PetscInt, const PetscReal[], const PetscReal[], PetscReal[]);

/*@C
  KDHeatProblemSetFromOptions - Defines the heat problem from the options database, as the heat PDE reads it
  (KDPDESetProblemFromOptions()).

  Collective (the microstructure file is read on rank 0 and broadcast)

  Options Database Keys:
+ -heat_microstructure <file> - microstructure description (default: meshes/inclusions.txt, relative to the working
                                directory)
. -heat_tfinal <T>            - end time (default: 0.1)
. -heat_mms                   - manufactured-solution mode (default: false)
. -heat_source_amplitude <a>  - amplitude of the Gaussian source (default: 100)
. -heat_source_x <x>          - centre of the source, x (default: 0.65)
. -heat_source_y <y>          - centre of the source, y (default: 0.45)
- -heat_source_width <w>      - width of the source, f ~ exp(-r^2 / w^2) (default: 0.08)

  Notes:
  Under -help the options are listed and no problem is defined (the microstructure file is not read): this function
  then fails with "no problem data", so a caller checks KDHelpRequested() first, as the solver does.

.seealso: KDHeatProblemToReference(), KDHeatProblemFromReference()
@*/
PetscErrorCode KDHeatProblemSetFromOptions(MPI_Comm comm, KDHeatProblem *prob)
{
  KDPDE pde;
  const KDHeatProblem *p;

  PetscFunctionBegin;
  PetscCall(KDPDECreate(comm, &pde));
  PetscCall(KDPDESetType(pde, "heat"));
  PetscCall(KDPDESetProblemFromOptions(pde));
  PetscCall(KDPDEHeatGetProblem(pde, &p));
  *prob = *p;
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

/*@C
  KDHeatProblemView - Prints the heat problem.

  Collective on the viewer
@*/
PetscErrorCode KDHeatProblemView(const KDHeatProblem *prob, PetscViewer viewer)
{
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "Heat problem u_t = div(k grad u) + f on [0,1]^2, t in [0, %g]\n",
                                   (double) prob->tfinal));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "k = %g (1 + sum of %" PetscInt_FMT " Gaussian inclusions)\n",
                                   (double) prob->ms.k0, prob->ms.n));
  for (PetscInt i = 0; i < prob->ms.n; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  inclusion %" PetscInt_FMT ": centre (%g, %g), radius %g, contrast %g\n",
                                     i, (double) prob->ms.x[i], (double) prob->ms.y[i], (double) prob->ms.r[i],
                                     (double) prob->ms.c[i]));
  if (prob->manufactured)
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "manufactured: u = exp(-t) sin(pi x) sin(pi y) + cos(t) sin(2x + y + 1/2) / 2\n"));
  else
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "u0 = sin(pi x) sin(pi y), g = 0, f = %g exp(-|(x,y) - (%g, %g)|^2 / %g^2)\n", (double) prob->source[0],
        (double) prob->source[1], (double) prob->source[2], (double) prob->source[3]));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/*@C
  KDHeatProblemToReference - Records the heat problem in a reference: parameters k0, tfinal, manufactured (0 or 1),
  source_amplitude, source_x, source_y, source_width, and the string attribute "microstructure" (the description in
  the file format), so that KDHeatProblemFromReference() rebuilds the same problem without the meshes/ file.

  Collective
@*/
PetscErrorCode KDHeatProblemToReference(const KDHeatProblem *prob, KDReference ref)
{
  char *text;
  size_t len = 64 + (size_t) prob->ms.n * 104; /* enough for 4 numbers of at most 25 characters per inclusion */

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(len, &text));
  PetscCall(KDMicrostructureToString(&prob->ms, text, len));
  PetscCall(KDReferenceSetString(ref, "microstructure", text));
  PetscCall(PetscFree(text));
  PetscCall(KDReferenceSetParameter(ref, "k0", prob->ms.k0));
  PetscCall(KDReferenceSetParameter(ref, "tfinal", prob->tfinal));
  PetscCall(KDReferenceSetParameter(ref, "manufactured", prob->manufactured ? 1.0 : 0.0));
  for (PetscInt i = 0; i < KD_HEAT_NSOURCE; i++)
    PetscCall(KDReferenceSetParameter(ref, KDHeatSourceNames[i], prob->source[i]));
  PetscFunctionReturn(0);
}

/*@C
  KDHeatProblemFromReference - Rebuilds the heat problem from a reference written by the heat solver (e.g. one read
  from reference.h5 by KDReferenceLoad()).

  Not collective

.seealso: KDHeatProblemToReference()
@*/
PetscErrorCode KDHeatProblemFromReference(KDReference ref, KDHeatProblem *prob)
{
  const char *text;
  PetscReal v;
  PetscBool found;
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(PetscMemzero(prob, sizeof(*prob)));
  PetscCall(KDReferenceGetString(ref, "microstructure", &text));
  PetscCheck(text, comm, PETSC_ERR_ARG_WRONG,
             "the reference has no 'microstructure' attribute: not written by the heat solver");
  PetscCall(KDMicrostructureFromString(text, &prob->ms));
  PetscCall(KDReferenceGetParameter(ref, "tfinal", &prob->tfinal, &found));
  PetscCheck(found && prob->tfinal > 0, comm, PETSC_ERR_ARG_WRONG, "the reference has no valid 'tfinal' parameter");
  PetscCall(KDReferenceGetParameter(ref, "manufactured", &v, &found));
  PetscCheck(found, comm, PETSC_ERR_ARG_WRONG, "the reference has no 'manufactured' parameter");
  prob->manufactured = v != 0 ? PETSC_TRUE : PETSC_FALSE;
  for (PetscInt i = 0; i < KD_HEAT_NSOURCE; i++) {
    PetscCall(KDReferenceGetParameter(ref, KDHeatSourceNames[i], &prob->source[i], &found));
    PetscCheck(found, comm, PETSC_ERR_ARG_WRONG, "the reference has no '%s' parameter", KDHeatSourceNames[i]);
  }
  PetscFunctionReturn(0);
}

/* Manufactured solution: exp(-t) sin(pi x) sin(pi y) vanishes on the boundary and is symmetric; the second term
   breaks the symmetry and gives nonzero, time-dependent boundary data. Returns u, u_t, grad u, laplacian u. */
static void KDHeatExact(PetscReal t, PetscReal x, PetscReal y, PetscReal *u, PetscReal *ut, PetscReal gu[2],
                        PetscReal *lap)
{
  const PetscReal et = PetscExpReal(-t), ct = PetscCosReal(t), st = PetscSinReal(t);
  const PetscReal sx = PetscSinReal(PETSC_PI * x), cx = PetscCosReal(PETSC_PI * x);
  const PetscReal sy = PetscSinReal(PETSC_PI * y), cy = PetscCosReal(PETSC_PI * y);
  const PetscReal w = PetscSinReal(2 * x + y + 0.5), cw = PetscCosReal(2 * x + y + 0.5);

  *u = et * sx * sy + 0.5 * ct * w;
  if (ut) *ut = -et * sx * sy - 0.5 * st * w;
  if (gu) {
    gu[0] = et * PETSC_PI * cx * sy + ct * cw;
    gu[1] = et * PETSC_PI * sx * cy + 0.5 * ct * cw;
  }
  if (lap) *lap = -2 * PETSC_PI * PETSC_PI * et * sx * sy - 2.5 * ct * w;
}

/*@C
  KDHeatProblemCoefficients - Pointwise data of the heat equation at (t, x, y).

  Not collective

  Output Parameters:
+ k     - conductivity
. gradk - its gradient (dk/dx, dk/dy), may be NULL
- f     - source term, may be NULL; in manufactured mode f = u_t - k lap u - grad k . grad u of the exact u

.seealso: KDHeatProblemBoundary(), KDMicrostructureEvaluate()
@*/
void KDHeatProblemCoefficients(const KDHeatProblem *prob, PetscReal t, PetscReal x, PetscReal y, PetscReal *k,
                               PetscReal gradk[2], PetscReal *f)
{
  PetscReal gk[2];

  KDMicrostructureEvaluate(&prob->ms, x, y, k, gk);
  if (gradk) {
    gradk[0] = gk[0];
    gradk[1] = gk[1];
  }
  if (!f) return;
  if (prob->manufactured) {
    PetscReal u, ut, gu[2], lap;
    KDHeatExact(t, x, y, &u, &ut, gu, &lap);
    *f = ut - *k * lap - gk[0] * gu[0] - gk[1] * gu[1];
  } else {
    const PetscReal dx = x - prob->source[1], dy = y - prob->source[2], w = prob->source[3];
    *f = prob->source[0] * PetscExpReal(-(dx * dx + dy * dy) / (w * w));
  }
}

/*@C
  KDHeatProblemBoundary - Dirichlet value g(t, x, y) for (x, y) on the boundary of the unit square, and the initial
  value u0(x, y) = g(0, x, y) for (x, y) inside. In manufactured mode: the exact solution at any (t, x, y). In the
  default mode: sin(pi x) sin(pi y) (so g = 0), which is not the solution for t > 0.

  Not collective

.seealso: KDHeatProblemCoefficients()
@*/
PetscReal KDHeatProblemBoundary(const KDHeatProblem *prob, PetscReal t, PetscReal x, PetscReal y)
{
  PetscReal u;

  if (prob->manufactured)
    KDHeatExact(t, x, y, &u, NULL, NULL, NULL);
  else
    u = PetscSinReal(PETSC_PI * x) * PetscSinReal(PETSC_PI * y);
  return u;
}

/* ---------------------------------------------------------------------------------------------------------------
   The PDE
   --------------------------------------------------------------------------------------------------------------- */

/* The problem's source follows the named parameters (which KDPDESetParameter() may have changed). */
static void KDPDEHeatSync(KDPDE pde)
{
  KDPDE_Heat *h = (KDPDE_Heat *) pde->data;
  for (PetscInt i = 0; i < KD_HEAT_NSOURCE; i++) h->prob.source[i] = pde->param_values[h->source[i]];
}

/*@C
  KDPDEHeatGetProblem - The problem of a heat PDE (borrowed), defined by KDPDESetProblemFromOptions() or
  KDPDESetFromReference().

  Not collective
@*/
PetscErrorCode KDPDEHeatGetProblem(KDPDE pde, const KDHeatProblem **prob)
{
  KDPDE_Heat *h = (KDPDE_Heat *) pde->data;

  PetscFunctionBegin;
  PetscCheck(pde->ops->residual == KDPDEResidual_Heat, pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s is not the heat PDE",
             pde->type);
  PetscCheck(h->probset, pde->comm, PETSC_ERR_ORDER,
             "the heat PDE has no problem data: call KDPDESetFromReference() or KDPDESetProblemFromOptions()");
  KDPDEHeatSync(pde);
  *prob = &h->prob;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetProblemFromOptions_Heat(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  KDPDE_Heat *h                 = (KDPDE_Heat *) pde->data;
  char file[PETSC_MAX_PATH_LEN] = "meshes/inclusions.txt";
  PetscBool mms                 = PETSC_FALSE;
  PetscReal tfinal              = 0.1, src[KD_HEAT_NSOURCE];
  MPI_Comm comm                 = pde->comm;

  PetscFunctionBegin;
  PetscCall(PetscOptionsString("-microstructure", "Microstructure description of the conductivity k(x,y)",
                               "KDMicrostructureLoad", file, file, sizeof(file), NULL));
  PetscCall(KDOptionsReal("-tfinal", "End time", "KDPDESetProblemFromOptions", tfinal, &tfinal, NULL));
  PetscCall(PetscOptionsBool("-mms", "Manufactured-solution mode (exact u known, for convergence tests)",
                             "KDPDESetProblemFromOptions", mms, &mms, NULL));
  for (PetscInt i = 0; i < KD_HEAT_NSOURCE; i++) src[i] = pde->param_values[h->source[i]];
  PetscCheck(tfinal > 0 && PetscIsNormalReal(tfinal), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-heat_tfinal must be positive, got %g", (double) tfinal);
  PetscCheck(PetscIsNormalReal(src[0]) || src[0] == 0, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-heat_source_amplitude must be finite");
  PetscCheck(src[1] >= 0 && src[1] <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-heat_source_x must be in [0, 1], got %g",
             (double) src[1]);
  PetscCheck(src[2] >= 0 && src[2] <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-heat_source_y must be in [0, 1], got %g",
             (double) src[2]);
  PetscCheck(src[3] > 0 && PetscIsNormalReal(src[3]), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-heat_source_width must be positive, got %g", (double) src[3]);
  /* -help lists the options and runs nothing: the microstructure file need not exist then */
  {
    PetscBool help;
    PetscCall(KDHelpRequested(&help));
    if (help) PetscFunctionReturn(0);
  }
  PetscCall(KDMicrostructureLoad(comm, file, &h->prob.ms));
  h->prob.manufactured = mms;
  h->prob.tfinal       = tfinal;
  h->probset           = PETSC_TRUE;
  pde->hi[pde->tinput] = tfinal;
  KDPDEHeatSync(pde);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEWriteReference_Heat(KDPDE pde, KDReference ref)
{
  const KDHeatProblem *prob;

  PetscFunctionBegin;
  PetscCall(KDPDEHeatGetProblem(pde, &prob));
  PetscCall(KDHeatProblemToReference(prob, ref));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetFromReference_Heat(KDPDE pde, KDReference ref)
{
  KDPDE_Heat *h = (KDPDE_Heat *) pde->data;

  PetscFunctionBegin;
  PetscCall(KDHeatProblemFromReference(ref, &h->prob));
  h->probset = PETSC_TRUE;
  KDPDEHeatSync(pde);
  PetscFunctionReturn(0);
}

/* k, k_x, k_y, f at (t, x, y) */
static PetscErrorCode KDPDECoefficients_Heat(KDPDE pde, PetscInt n, const PetscReal x[], PetscReal coef[])
{
  const KDHeatProblem *prob;

  PetscFunctionBegin;
  PetscCall(KDPDEHeatGetProblem(pde, &prob));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal *xp = x + p * 3;
    PetscReal k, gk[2], f;
    KDHeatProblemCoefficients(prob, xp[0], xp[1], xp[2], &k, gk, &f);
    coef[HEAT_K * n + p]  = k;
    coef[HEAT_KX * n + p] = gk[0];
    coef[HEAT_KY * n + p] = gk[1];
    coef[HEAT_F * n + p]  = f;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEResidual_Heat(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                         PetscReal res[])
{
  const PetscInt sxx = 1 + pde->nin, syy = sxx + 1;
  const PetscReal *ut = KDPDEJet(pde, jet, n, 0, HEAT_T), *ux = KDPDEJet(pde, jet, n, 0, HEAT_X),
                  *uy = KDPDEJet(pde, jet, n, 0, HEAT_Y), *uxx = KDPDEJet(pde, jet, n, 0, sxx),
                  *uyy = KDPDEJet(pde, jet, n, 0, syy);
  const PetscReal *k = coef + HEAT_K * n, *kx = coef + HEAT_KX * n, *ky = coef + HEAT_KY * n, *f = coef + HEAT_F * n;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) res[p] = ut[p] - k[p] * (uxx[p] + uyy[p]) - (kx[p] * ux[p] + ky[p] * uy[p]) - f[p];
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEResidualAdjoint_Heat(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                                const PetscReal rbar[], PetscReal adj[])
{
  const PetscInt sxx = 1 + pde->nin, syy = sxx + 1;
  const PetscReal *k = coef + HEAT_K * n, *kx = coef + HEAT_KX * n, *ky = coef + HEAT_KY * n;
  PetscReal *aut = KDPDEJetAdjoint(pde, adj, n, 0, HEAT_T), *aux = KDPDEJetAdjoint(pde, adj, n, 0, HEAT_X),
            *auy = KDPDEJetAdjoint(pde, adj, n, 0, HEAT_Y), *auxx = KDPDEJetAdjoint(pde, adj, n, 0, sxx),
            *auyy = KDPDEJetAdjoint(pde, adj, n, 0, syy);

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    aut[p] += rbar[p];
    aux[p] -= kx[p] * rbar[p];
    auy[p] -= ky[p] * rbar[p];
    auxx[p] -= k[p] * rbar[p];
    auyy[p] -= k[p] * rbar[p];
  }
  PetscFunctionReturn(0);
}

/* d res / d (k, k_x, k_y, f) = (-(u_xx + u_yy), -u_x, -u_y, -1) */
static PetscErrorCode KDPDECoefficientAdjoint_Heat(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                                   const PetscReal rbar[], PetscReal cbar[])
{
  const PetscInt sxx = 1 + pde->nin, syy = sxx + 1;
  const PetscReal *ux = KDPDEJet(pde, jet, n, 0, HEAT_X), *uy = KDPDEJet(pde, jet, n, 0, HEAT_Y),
                  *uxx = KDPDEJet(pde, jet, n, 0, sxx), *uyy = KDPDEJet(pde, jet, n, 0, syy);

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    cbar[HEAT_K * n + p]  = -rbar[p] * (uxx[p] + uyy[p]);
    cbar[HEAT_KX * n + p] = -rbar[p] * ux[p];
    cbar[HEAT_KY * n + p] = -rbar[p] * uy[p];
    cbar[HEAT_F * n + p]  = -rbar[p];
  }
  PetscFunctionReturn(0);
}

/* u0 on the initial slice and g on the boundary: both KDHeatProblemBoundary() */
static PetscErrorCode KDPDEBoundary_Heat(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[],
                                         PetscReal g[], PetscReal c[], void *ctx)
{
  const KDHeatProblem *prob;

  PetscFunctionBegin;
  PetscCall(KDPDEHeatGetProblem(pde, &prob));
  for (PetscInt p = 0; p < n; p++) g[p] = KDHeatProblemBoundary(prob, x[3 * p], x[3 * p + 1], x[3 * p + 2]);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEView_Heat(KDPDE pde, PetscViewer viewer)
{
  KDPDE_Heat *h = (KDPDE_Heat *) pde->data;

  PetscFunctionBegin;
  if (!h->probset) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "conductivity k0 = %g with %" PetscInt_FMT " inclusion(s), %s source, tfinal = %g\n",
                                   (double) h->prob.ms.k0, h->prob.ms.n,
                                   h->prob.manufactured ? "manufactured" : "Gaussian", (double) h->prob.tfinal));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEDestroy_Heat(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(pde->data));
  PetscFunctionReturn(0);
}

/*
  KDPDECreate_Heat - inputs t,x,y, output u, one residual, coefficients k, k_x, k_y, f; parameters source_amplitude,
  source_x, source_y, source_width (-heat_source_*); problem options -heat_microstructure, -heat_tfinal, -heat_mms;
  conditions ic (initial, u0) and bc (dirichlet, g on all four faces).
*/
PETSC_EXTERN PetscErrorCode KDPDECreate_Heat(KDPDE pde)
{
  KDPDE_Heat *h;
  const PetscReal defaults[KD_HEAT_NSOURCE] = {100.0, 0.65, 0.45, 0.08};
  const char *help[KD_HEAT_NSOURCE]         = {"Amplitude a of the source f = a exp(-|(x,y) - (sx,sy)|^2 / w^2)",
                                               "Centre sx of the source", "Centre sy of the source", "Width w of the source"};

  PetscFunctionBegin;
  PetscCall(PetscNew(&h));
  pde->data         = h;
  pde->ops->destroy = KDPDEDestroy_Heat; /* set with the data: a failed declaration below frees it */
  PetscCall(KDPDESetVariables(pde, "t,x,y", "u", 1));
  PetscCall(KDPDESetTimeInput(pde, 0));
  PetscCall(KDPDEAddSecondDerivative(pde, "x", "x", NULL));
  PetscCall(KDPDEAddSecondDerivative(pde, "y", "y", NULL));
  for (PetscInt i = 0; i < KD_HEAT_NSOURCE; i++)
    PetscCall(KDPDEAddParameter(pde, KDHeatSourceNames[i], defaults[i], help[i], &h->source[i]));
  PetscCall(KDPDESetNumCoefficients(pde, HEAT_NCOEF));
  {
    const PetscInt grad[3] = {-1, HEAT_KX, HEAT_KY}; /* k(x, y) and its derivatives along x and y */
    PetscCall(KDPDEAddCoefficientField(pde, "k", HEAT_K, grad));
  }
  PetscCall(KDPDEAddCondition(pde, "ic", KD_CONDITION_INITIAL, 0, "u", KDPDEBoundary_Heat, NULL));
  PetscCall(KDPDEAddCondition(pde, "bc", KD_CONDITION_DIRICHLET, KD_FACES_ALL, "u", KDPDEBoundary_Heat, NULL));
  pde->ops->setproblemfromoptions = KDPDESetProblemFromOptions_Heat;
  pde->ops->writereference        = KDPDEWriteReference_Heat;
  pde->ops->setfromreference      = KDPDESetFromReference_Heat;
  pde->ops->coefficients          = KDPDECoefficients_Heat;
  pde->ops->residual              = KDPDEResidual_Heat;
  pde->ops->residualadjoint       = KDPDEResidualAdjoint_Heat;
  pde->ops->coefficientadjoint    = KDPDECoefficientAdjoint_Heat;
  pde->ops->view                  = KDPDEView_Heat;
  PetscFunctionReturn(0);
}
