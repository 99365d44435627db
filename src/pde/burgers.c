/*
  PDE burgers: viscous Burgers' equation on (t, x), the classic PINN benchmark (Raissi et al. 2019),

      u_t + a u u_x - nu u_xx = 0,   u(0, x) = -sin(pi x),   u = 0 at x = lo, hi,

  by default on t in [0, 1], x in [-1, 1] with nu = 0.01/pi and a = 1 (reference axes t,x; solvers/burgers.c). Both
  are named parameters (nu, advection) that can be inferred from observations (Raissi et al.'s identification).
*/
#include <kdpdeimpl.h>

typedef struct {
  PetscInt nu, adv;         /* indices of the parameters nu and advection */
  PetscInt su, st, sx, sxx; /* jet streams */
} KDPDE_Burgers;

static PetscErrorCode KDPDEResidual_Burgers(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                            PetscReal res[])
{
  const KDPDE_Burgers *b = (const KDPDE_Burgers *) pde->data;
  const PetscReal nu = pde->param_values[b->nu], a = pde->param_values[b->adv];
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, b->su), *ut = KDPDEJet(pde, jet, n, 0, b->st),
                  *ux = KDPDEJet(pde, jet, n, 0, b->sx), *uxx = KDPDEJet(pde, jet, n, 0, b->sxx);

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) res[p] = ut[p] + a * u[p] * ux[p] - nu * uxx[p];
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEResidualAdjoint_Burgers(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                                   const PetscReal rbar[], PetscReal adj[])
{
  const KDPDE_Burgers *b = (const KDPDE_Burgers *) pde->data;
  const PetscReal nu = pde->param_values[b->nu], a = pde->param_values[b->adv];
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, b->su), *ux = KDPDEJet(pde, jet, n, 0, b->sx);
  PetscReal *au = KDPDEJetAdjoint(pde, adj, n, 0, b->su), *aut = KDPDEJetAdjoint(pde, adj, n, 0, b->st),
            *aux = KDPDEJetAdjoint(pde, adj, n, 0, b->sx), *auxx = KDPDEJetAdjoint(pde, adj, n, 0, b->sxx);

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    au[p] += a * rbar[p] * ux[p];
    aut[p] += rbar[p];
    aux[p] += a * rbar[p] * u[p];
    auxx[p] -= nu * rbar[p];
  }
  PetscFunctionReturn(0);
}

/* d res / d nu = -u_xx, d res / d advection = u u_x */
static PetscErrorCode KDPDEResidualParameter_Burgers(KDPDE pde, PetscInt k, PetscInt n, const PetscReal coef[],
                                                     const PetscReal jet[], PetscReal dres[])
{
  const KDPDE_Burgers *b = (const KDPDE_Burgers *) pde->data;
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, b->su), *ux = KDPDEJet(pde, jet, n, 0, b->sx),
                  *uxx = KDPDEJet(pde, jet, n, 0, b->sxx);

  PetscFunctionBegin;
  if (k == b->nu)
    for (PetscInt p = 0; p < n; p++) dres[p] = -uxx[p];
  else if (k == b->adv)
    for (PetscInt p = 0; p < n; p++) dres[p] = u[p] * ux[p];
  else
    SETERRQ(pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "burgers has no parameter %" PetscInt_FMT, k);
  PetscFunctionReturn(0);
}

/* u(0, x) = -sin(pi x) */
static PetscErrorCode KDPDEInitial_Burgers(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[],
                                           PetscReal g[], PetscReal c[], void *ctx)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) g[p] = -PetscSinReal(PETSC_PI * x[2 * p + 1]);
  PetscFunctionReturn(0);
}

/* The viscosity is checked wherever the problem is read from options: the solve and the import stages alike. */
static PetscErrorCode KDPDESetProblemFromOptions_Burgers(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  KDPDE_Burgers *b = (KDPDE_Burgers *) pde->data;

  PetscFunctionBegin;
  PetscCheck(pde->param_values[b->nu] > 0, pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "-burgers_nu must be positive, got %g",
             (double) pde->param_values[b->nu]);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEDestroy_Burgers(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(pde->data));
  PetscFunctionReturn(0);
}

/*
  KDPDECreate_Burgers - inputs t,x, output u, one residual; parameters nu (-burgers_nu, default 0.01/pi, positive) and
  advection (-burgers_advection, default 1), both inferable; conditions
  ic (initial, -sin(pi x)) and bc (dirichlet, u = 0 on both x faces).
*/
PETSC_EXTERN PetscErrorCode KDPDECreate_Burgers(KDPDE pde)
{
  KDPDE_Burgers *b;
  const PetscReal lo[2] = {0.0, -1.0}, hi[2] = {1.0, 1.0};

  PetscFunctionBegin;
  PetscCall(PetscNew(&b));
  pde->data         = b;
  pde->ops->destroy = KDPDEDestroy_Burgers; /* set with the data: a failed declaration below frees it */
  PetscCall(KDPDESetVariables(pde, "t,x", "u", 1));
  PetscCall(KDPDESetTimeInput(pde, 0));
  b->su = 0;
  b->st = 1;
  b->sx = 2;
  PetscCall(KDPDEAddSecondDerivative(pde, "x", "x", &b->sxx));
  PetscCall(KDPDEAddParameter(pde, "nu", 0.01 / PETSC_PI, "Viscosity nu of u_t + a u u_x = nu u_xx (default 0.01/pi)",
                              &b->nu));
  PetscCall(KDPDESetParameterPositive(pde, b->nu));
  PetscCall(
      KDPDEAddParameter(pde, "advection", 1.0, "Coefficient a of the advection term u_t + a u u_x = nu u_xx", &b->adv));
  PetscCall(KDPDESetDomain(pde, lo, hi));
  PetscCall(KDPDEAddCondition(pde, "ic", KD_CONDITION_INITIAL, 0, "u", KDPDEInitial_Burgers, NULL));
  PetscCall(KDPDEAddCondition(pde, "bc", KD_CONDITION_DIRICHLET, KD_FACES_ALL, "u", NULL, NULL));
  pde->ops->setproblemfromoptions = KDPDESetProblemFromOptions_Burgers;
  pde->ops->residual              = KDPDEResidual_Burgers;
  pde->ops->residualadjoint       = KDPDEResidualAdjoint_Burgers;
  pde->ops->residualparameter     = KDPDEResidualParameter_Burgers;
  PetscFunctionReturn(0);
}
