/*
  PDE fisher: tumour growth as a Fisher-KPP density on (t, x, y),

      u_t - D (u_xx + u_yy) - rho u (1 - u) = 0,   du/dn = 0 on the walls of [0,1]^2,
      u(0, x, y) = amp exp(-((x - cx)^2 + (y - cy)^2) / (2 w^2)),

  homogeneous tissue (D one number). Named parameters D and rho (both inferable: the calibration from scans), and the
  seed's seed_x, seed_y, seed_amp, seed_width (initial data only); the end time -fisher_tfinal. Reference axes t,y,x;
  network inputs t,x,y (solvers/fisher.c).
*/
#include <kdpdeimpl.h>
#include "pde/fisher.h"

typedef struct {
  KDFisherProblem prob; /* tfinal and the mode; its parameters are copied from the PDE's (KDPDEFisherSync) */
  PetscInt param[KD_FISHER_NPARAM];
  PetscInt sxx, syy; /* jet streams of u_xx, u_yy */
  PetscBool probset; /* the problem was defined (options or a reference) */
} KDPDE_Fisher;

enum { FISHER_U, FISHER_T, FISHER_X, FISHER_Y };

static const char *const KDFisherParamNames[KD_FISHER_NPARAM] = {"D",      "rho",      "seed_x",
                                                                 "seed_y", "seed_amp", "seed_width"};

/*@C
  KDFisherProblemCheck - Checks a tumour-growth problem: D, rho, the end time and the seed's width positive and
  finite, the seed's centre inside the unit square, its amplitude in (0, 1] (u is a density).

  Collective

.seealso: KDFisherProblemInitial()
@*/
PetscErrorCode KDFisherProblemCheck(MPI_Comm comm, const KDFisherProblem *prob)
{
  const PetscReal *p = prob->param;

  PetscFunctionBegin;
  PetscCheck(p[KD_FISHER_D] > 0 && PetscIsNormalReal(p[KD_FISHER_D]), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_D must be positive, got %g", (double) p[KD_FISHER_D]);
  PetscCheck(p[KD_FISHER_RHO] > 0 && PetscIsNormalReal(p[KD_FISHER_RHO]), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_rho must be positive, got %g", (double) p[KD_FISHER_RHO]);
  PetscCheck(prob->tfinal > 0 && PetscIsNormalReal(prob->tfinal), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_tfinal must be positive, got %g", (double) prob->tfinal);
  PetscCheck(p[KD_FISHER_SEED_X] >= 0 && p[KD_FISHER_SEED_X] <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_seed_x must be in [0, 1] (the seed inside the domain), got %g", (double) p[KD_FISHER_SEED_X]);
  PetscCheck(p[KD_FISHER_SEED_Y] >= 0 && p[KD_FISHER_SEED_Y] <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_seed_y must be in [0, 1] (the seed inside the domain), got %g", (double) p[KD_FISHER_SEED_Y]);
  PetscCheck(p[KD_FISHER_SEED_AMP] > 0 && p[KD_FISHER_SEED_AMP] <= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_seed_amp must be in (0, 1] (a density), got %g", (double) p[KD_FISHER_SEED_AMP]);
  PetscCheck(p[KD_FISHER_SEED_WIDTH] > 0 && PetscIsNormalReal(p[KD_FISHER_SEED_WIDTH]), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-fisher_seed_width must be positive, got %g", (double) p[KD_FISHER_SEED_WIDTH]);
  PetscFunctionReturn(0);
}

/* Manufactured solution: every term has zero normal derivative on the walls of the unit square; cos(2 pi y) against
   cos(pi x) breaks the x-y symmetry, the cos(t) term the pure decay. Returns u, u_t and the laplacian. */
static void KDFisherExactAll(PetscReal t, PetscReal x, PetscReal y, PetscReal *u, PetscReal *ut, PetscReal *lap)
{
  const PetscReal et = PetscExpReal(-t), ct = PetscCosReal(t), st = PetscSinReal(t);
  const PetscReal a = PetscCosReal(PETSC_PI * x) * PetscCosReal(2 * PETSC_PI * y), b = PetscCosReal(2 * PETSC_PI * x);

  *u = 0.5 + 0.2 * et * a + 0.1 * ct * b;
  if (ut) *ut = -0.2 * et * a - 0.1 * st * b;
  if (lap) *lap = -5 * PETSC_PI * PETSC_PI * 0.2 * et * a - 4 * PETSC_PI * PETSC_PI * 0.1 * ct * b;
}

PetscReal KDFisherExact(PetscReal t, PetscReal x, PetscReal y)
{
  PetscReal u;

  KDFisherExactAll(t, x, y, &u, NULL, NULL);
  return u;
}

PetscReal KDFisherProblemInitial(const KDFisherProblem *prob, PetscReal x, PetscReal y)
{
  const PetscReal *p = prob->param, dx = x - p[KD_FISHER_SEED_X], dy = y - p[KD_FISHER_SEED_Y],
                  w = p[KD_FISHER_SEED_WIDTH];

  if (prob->manufactured) return KDFisherExact(0, x, y);
  if (prob->planar) return p[KD_FISHER_SEED_AMP] * PetscExpReal(-dx * dx / (2 * w * w));
  return p[KD_FISHER_SEED_AMP] * PetscExpReal(-(dx * dx + dy * dy) / (2 * w * w));
}

PetscReal KDFisherProblemSource(const KDFisherProblem *prob, PetscReal t, PetscReal x, PetscReal y)
{
  PetscReal u, ut, lap;

  if (!prob->manufactured) return 0;
  KDFisherExactAll(t, x, y, &u, &ut, &lap);
  return ut - prob->param[KD_FISHER_D] * lap - prob->param[KD_FISHER_RHO] * u * (1 - u);
}

/* ---------------------------------------------------------------------------------------------------------------
   The PDE
   --------------------------------------------------------------------------------------------------------------- */

/* The problem's parameters follow the named parameters (which KDPDESetParameter() may have changed). */
static void KDPDEFisherSync(KDPDE pde)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;
  for (PetscInt i = 0; i < KD_FISHER_NPARAM; i++) f->prob.param[i] = pde->param_values[f->param[i]];
}

static PetscErrorCode KDPDEResidual_Fisher(KDPDE, PetscInt, const PetscReal[], const PetscReal[], PetscReal[]);

/*@C
  KDPDEFisherGetProblem - The problem of a fisher PDE (borrowed), defined by KDPDESetProblemFromOptions() or
  KDPDESetFromReference().

  Not collective
@*/
PetscErrorCode KDPDEFisherGetProblem(KDPDE pde, const KDFisherProblem **prob)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;

  PetscFunctionBegin;
  PetscCheck(pde->ops->residual == KDPDEResidual_Fisher, pde->comm, PETSC_ERR_ARG_WRONG, "PDE %s is not the fisher PDE",
             pde->type);
  PetscCheck(f->probset, pde->comm, PETSC_ERR_ORDER,
             "the fisher PDE has no problem data: call KDPDESetFromReference() or KDPDESetProblemFromOptions()");
  KDPDEFisherSync(pde);
  *prob = &f->prob;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetProblemFromOptions_Fisher(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  KDPDE_Fisher *f  = (KDPDE_Fisher *) pde->data;
  PetscReal tfinal = 1.0;

  PetscFunctionBegin;
  PetscCall(KDOptionsReal("-tfinal", "End time T", "KDPDESetProblemFromOptions", tfinal, &tfinal, NULL));
  f->prob.tfinal       = tfinal;
  f->prob.manufactured = PETSC_FALSE;
  f->prob.planar       = PETSC_FALSE;
  KDPDEFisherSync(pde);
  PetscCall(KDFisherProblemCheck(pde->comm, &f->prob));
  f->probset           = PETSC_TRUE;
  pde->hi[pde->tinput] = tfinal;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEWriteReference_Fisher(KDPDE pde, KDReference ref)
{
  const KDFisherProblem *prob;

  PetscFunctionBegin;
  PetscCall(KDPDEFisherGetProblem(pde, &prob));
  PetscCall(KDReferenceSetParameter(ref, "tfinal", prob->tfinal));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetFromReference_Fisher(KDPDE pde, KDReference ref)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;
  PetscBool found;
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDReferenceGetParameter(ref, "tfinal", &f->prob.tfinal, &found));
  PetscCheck(found && f->prob.tfinal > 0, comm, PETSC_ERR_ARG_WRONG,
             "the reference has no valid 'tfinal' parameter: not written by the fisher solver");
  f->prob.manufactured = PETSC_FALSE;
  f->prob.planar       = PETSC_FALSE;
  f->probset           = PETSC_TRUE;
  KDPDEFisherSync(pde);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEResidual_Fisher(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                           PetscReal res[])
{
  const KDPDE_Fisher *f = (const KDPDE_Fisher *) pde->data;
  const PetscReal D = pde->param_values[f->param[KD_FISHER_D]], rho = pde->param_values[f->param[KD_FISHER_RHO]];
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, FISHER_U), *ut = KDPDEJet(pde, jet, n, 0, FISHER_T),
                  *uxx = KDPDEJet(pde, jet, n, 0, f->sxx), *uyy = KDPDEJet(pde, jet, n, 0, f->syy);

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) res[p] = ut[p] - D * (uxx[p] + uyy[p]) - rho * u[p] * (1 - u[p]);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEResidualAdjoint_Fisher(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                                  const PetscReal rbar[], PetscReal adj[])
{
  const KDPDE_Fisher *f = (const KDPDE_Fisher *) pde->data;
  const PetscReal D = pde->param_values[f->param[KD_FISHER_D]], rho = pde->param_values[f->param[KD_FISHER_RHO]];
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, FISHER_U);
  PetscReal *au = KDPDEJetAdjoint(pde, adj, n, 0, FISHER_U), *aut = KDPDEJetAdjoint(pde, adj, n, 0, FISHER_T),
            *auxx = KDPDEJetAdjoint(pde, adj, n, 0, f->sxx), *auyy = KDPDEJetAdjoint(pde, adj, n, 0, f->syy);

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    au[p] -= rho * (1 - 2 * u[p]) * rbar[p];
    aut[p] += rbar[p];
    auxx[p] -= D * rbar[p];
    auyy[p] -= D * rbar[p];
  }
  PetscFunctionReturn(0);
}

/* d res / d D = -(u_xx + u_yy), d res / d rho = -u (1 - u); the seed enters only the initial data */
static PetscErrorCode KDPDEResidualParameter_Fisher(KDPDE pde, PetscInt k, PetscInt n, const PetscReal coef[],
                                                    const PetscReal jet[], PetscReal dres[])
{
  const KDPDE_Fisher *f = (const KDPDE_Fisher *) pde->data;
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, FISHER_U), *uxx = KDPDEJet(pde, jet, n, 0, f->sxx),
                  *uyy = KDPDEJet(pde, jet, n, 0, f->syy);

  PetscFunctionBegin;
  if (k == f->param[KD_FISHER_D])
    for (PetscInt p = 0; p < n; p++) dres[p] = -(uxx[p] + uyy[p]);
  else if (k == f->param[KD_FISHER_RHO])
    for (PetscInt p = 0; p < n; p++) dres[p] = -u[p] * (1 - u[p]);
  else
    SETERRQ(pde->comm, PETSC_ERR_SUP, "fisher: parameter %s enters only the initial data and cannot be inferred",
            pde->param_names[k]);
  PetscFunctionReturn(0);
}

/* u(0, x, y): the Gaussian seed */
static PetscErrorCode KDPDEInitial_Fisher(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[],
                                          PetscReal g[], PetscReal c[], void *ctx)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;

  PetscFunctionBegin;
  KDPDEFisherSync(pde);
  for (PetscInt p = 0; p < n; p++) g[p] = KDFisherProblemInitial(&f->prob, x[3 * p + 1], x[3 * p + 2]);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEView_Fisher(KDPDE pde, PetscViewer viewer)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;

  PetscFunctionBegin;
  if (!f->probset) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "homogeneous tissue, tfinal = %g; front speed 2 sqrt(D rho) = %g\n",
                                   (double) f->prob.tfinal,
                                   (double) (2 * PetscSqrtReal(pde->param_values[f->param[KD_FISHER_D]] *
                                                               pde->param_values[f->param[KD_FISHER_RHO]]))));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEDestroy_Fisher(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(pde->data));
  PetscFunctionReturn(0);
}

/*
  KDPDECreate_Fisher - inputs t,x,y, output u, one residual; parameters D, rho (positive, inferable), seed_x, seed_y,
  seed_amp, seed_width (-fisher_*); problem option -fisher_tfinal; conditions ic (initial, the Gaussian seed) and bc
  (neumann, zero flux on all four walls).
*/
PETSC_EXTERN PetscErrorCode KDPDECreate_Fisher(KDPDE pde)
{
  KDPDE_Fisher *f;
  const PetscReal defaults[KD_FISHER_NPARAM] = {1e-3, 5.0, 0.5, 0.5, 0.5, 0.05};
  const char *help[KD_FISHER_NPARAM]         = {"Diffusivity D of u_t = div(D grad u) + rho u (1 - u)",
                                                "Proliferation rate rho of u_t = div(D grad u) + rho u (1 - u)",
                                                "Centre cx of the seed u(0) = amp exp(-|(x,y) - (cx,cy)|^2 / (2 w^2))",
                                                "Centre cy of the seed",
                                                "Amplitude amp of the seed, in (0, 1]",
                                                "Width w of the seed"};

  PetscFunctionBegin;
  PetscCall(PetscNew(&f));
  pde->data         = f;
  pde->ops->destroy = KDPDEDestroy_Fisher; /* set with the data: a failed declaration below frees it */
  PetscCall(KDPDESetVariables(pde, "t,x,y", "u", 1));
  PetscCall(KDPDESetTimeInput(pde, 0));
  PetscCall(KDPDEAddSecondDerivative(pde, "x", "x", &f->sxx));
  PetscCall(KDPDEAddSecondDerivative(pde, "y", "y", &f->syy));
  for (PetscInt i = 0; i < KD_FISHER_NPARAM; i++)
    PetscCall(KDPDEAddParameter(pde, KDFisherParamNames[i], defaults[i], help[i], &f->param[i]));
  PetscCall(KDPDESetParameterPositive(pde, f->param[KD_FISHER_D]));
  PetscCall(KDPDESetParameterPositive(pde, f->param[KD_FISHER_RHO]));
  PetscCall(KDPDEAddCondition(pde, "ic", KD_CONDITION_INITIAL, 0, "u", KDPDEInitial_Fisher, NULL));
  PetscCall(KDPDEAddCondition(pde, "bc", KD_CONDITION_NEUMANN, KD_FACES_ALL, "u", NULL, NULL));
  f->prob.tfinal                  = 1.0;
  pde->ops->setproblemfromoptions = KDPDESetProblemFromOptions_Fisher;
  pde->ops->writereference        = KDPDEWriteReference_Fisher;
  pde->ops->setfromreference      = KDPDESetFromReference_Fisher;
  pde->ops->residual              = KDPDEResidual_Fisher;
  pde->ops->residualadjoint       = KDPDEResidualAdjoint_Fisher;
  pde->ops->residualparameter     = KDPDEResidualParameter_Fisher;
  pde->ops->view                  = KDPDEView_Fisher;
  PetscFunctionReturn(0);
}
