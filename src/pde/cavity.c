/*
  PDE cavity: steady incompressible Navier-Stokes on (x, y), the lid-driven cavity,

      u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0,
      u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0,
      u_x + v_y = 0,

  no slip on the walls and u = lid(x), v = 0 on y = y_hi; the pressure is defined up to a constant (a gauge pins it at
  a point). Default box [0, 1]^2, Re = 100 (reference axes y,x; solvers/cavity.c).
*/
#include <kdpdeimpl.h>

/* Lid velocity profile: the exact (discontinuous at the two top corners) lid u = 1 the reference solver uses, or the
   smoothed 1 - s^16, s in [-1, 1] across the lid. */
typedef enum { KD_CAVITY_LID_EXACT, KD_CAVITY_LID_SMOOTH } KDCavityLid;
static const char *const KDCavityLids[] = {"exact", "smooth", "KDCavityLid", "KD_CAVITY_LID_", NULL};

enum { CAVITY_V, CAVITY_X, CAVITY_Y, CAVITY_XX, CAVITY_YY };

typedef struct {
  PetscInt re; /* index of the parameter Re */
  KDCavityLid lid;
} KDPDE_Cavity;

static PetscErrorCode KDPDEResidual_Cavity(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                           PetscReal res[])
{
  const KDPDE_Cavity *c = (const KDPDE_Cavity *) pde->data;
  const PetscReal ire   = 1.0 / pde->param_values[c->re];
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, CAVITY_V), *ux = KDPDEJet(pde, jet, n, 0, CAVITY_X),
                  *uy = KDPDEJet(pde, jet, n, 0, CAVITY_Y), *uxx = KDPDEJet(pde, jet, n, 0, CAVITY_XX),
                  *uyy = KDPDEJet(pde, jet, n, 0, CAVITY_YY);
  const PetscReal *v = KDPDEJet(pde, jet, n, 1, CAVITY_V), *vx = KDPDEJet(pde, jet, n, 1, CAVITY_X),
                  *vy = KDPDEJet(pde, jet, n, 1, CAVITY_Y), *vxx = KDPDEJet(pde, jet, n, 1, CAVITY_XX),
                  *vyy = KDPDEJet(pde, jet, n, 1, CAVITY_YY);
  const PetscReal *px = KDPDEJet(pde, jet, n, 2, CAVITY_X), *py = KDPDEJet(pde, jet, n, 2, CAVITY_Y);
  PetscReal *r1 = res, *r2 = res + n, *r3 = res + 2 * n;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    r1[p] = u[p] * ux[p] + v[p] * uy[p] + px[p] - ire * (uxx[p] + uyy[p]);
    r2[p] = u[p] * vx[p] + v[p] * vy[p] + py[p] - ire * (vxx[p] + vyy[p]);
    r3[p] = ux[p] + vy[p];
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEResidualAdjoint_Cavity(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                                  const PetscReal rbar[], PetscReal adj[])
{
  const KDPDE_Cavity *c = (const KDPDE_Cavity *) pde->data;
  const PetscReal ire   = 1.0 / pde->param_values[c->re];
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, CAVITY_V), *ux = KDPDEJet(pde, jet, n, 0, CAVITY_X),
                  *uy = KDPDEJet(pde, jet, n, 0, CAVITY_Y);
  const PetscReal *v = KDPDEJet(pde, jet, n, 1, CAVITY_V), *vx = KDPDEJet(pde, jet, n, 1, CAVITY_X),
                  *vy = KDPDEJet(pde, jet, n, 1, CAVITY_Y);
  const PetscReal *b1 = rbar, *b2 = rbar + n, *b3 = rbar + 2 * n;
  PetscReal *au = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_V), *aux = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_X),
            *auy = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_Y), *auxx = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_XX),
            *auyy = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_YY);
  PetscReal *av = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_V), *avx = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_X),
            *avy = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_Y), *avxx = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_XX),
            *avyy = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_YY);
  PetscReal *apx = KDPDEJetAdjoint(pde, adj, n, 2, CAVITY_X), *apy = KDPDEJetAdjoint(pde, adj, n, 2, CAVITY_Y);

  PetscFunctionBegin;
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
  PetscFunctionReturn(0);
}

/* The walls: u = v = 0, except u = lid(x) on y = y_hi (points on the lid, which the sampling places at y = y_hi
   exactly, take the lid value up to the corners, as the reference solver does). */
static PetscErrorCode KDPDEWalls_Cavity(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[],
                                        PetscReal g[], PetscReal c[], void *ctx)
{
  const KDPDE_Cavity *cv = (const KDPDE_Cavity *) pde->data;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal xx = x[2 * p], yy = x[2 * p + 1];
    PetscReal u = 0.0;
    if (yy >= pde->hi[1]) {
      if (cv->lid == KD_CAVITY_LID_EXACT)
        u = 1.0;
      else {
        const PetscReal s = 2.0 * (xx - pde->lo[0]) / (pde->hi[0] - pde->lo[0]) - 1.0, s2 = s * s, s4 = s2 * s2,
                        s8 = s4 * s4;
        u                  = 1.0 - s8 * s8;
      }
    }
    g[p]     = u;
    g[n + p] = 0.0;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetFromOptions_Cavity(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  KDPDE_Cavity *c = (KDPDE_Cavity *) pde->data;
  PetscInt n      = 2;
  PetscReal g[2];
  PetscBool has, set;

  PetscFunctionBegin;
  PetscCall(KDPDEGetGauge(pde, &has, g, NULL));
  PetscCall(KDOptionsEnum("-cavity_lid", "Lid velocity profile: exact u=1 (as the reference solver) or smooth 1-s^16",
                          "KDPDESetFromOptions", KDCavityLids, (PetscEnum) c->lid, (PetscEnum *) &c->lid, NULL));
  PetscCall(KDOptionsCheckValue(pde->comm, pde->prefix, "-cavity_gauge_point", PETSC_TRUE));
  PetscCall(PetscOptionsRealArray("-cavity_gauge_point", "Point x,y where the cavity pressure is pinned to 0",
                                  "KDPDESetGaugePoint", g, &n, &set));
  if (set) {
    PetscCheck(n == 2, pde->comm, PETSC_ERR_ARG_SIZ, "-%scavity_gauge_point needs 2 values, got %" PetscInt_FMT,
               pde->prefix ? pde->prefix : "", n);
    PetscCall(KDPDESetGaugePoint(pde, g));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetProblemFromOptions_Cavity(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  KDPDE_Cavity *c = (KDPDE_Cavity *) pde->data;

  PetscFunctionBegin;
  PetscCheck(pde->param_values[c->re] > 0, pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "-cavity_re must be positive, got %g",
             (double) pde->param_values[c->re]);
  PetscFunctionReturn(0);
}

/* A reference the solver made in its manufactured-solution mode (-cavity_mms, parameter manufactured = 1) solves a
   forced problem with other wall data: the cavity PDE has neither, so it refuses to be trained or validated on it. */
static PetscErrorCode KDPDESetFromReference_Cavity(KDPDE pde, KDReference ref)
{
  PetscReal mms = 0.0;
  PetscBool found;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetParameter(ref, "manufactured", &mms, &found));
  PetscCheck(!found || mms == 0.0, pde->comm, PETSC_ERR_ARG_INCOMP,
             "the reference was solved with -cavity_mms (a manufactured solution with its own forcing and wall data); "
             "the cavity PDE has neither: solve without -cavity_mms to train or validate");
  PetscCheck(pde->param_values[((KDPDE_Cavity *) pde->data)->re] > 0, pde->comm, PETSC_ERR_FILE_UNEXPECTED,
             "the reference's Re must be positive");
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEView_Cavity(KDPDE pde, PetscViewer viewer)
{
  const KDPDE_Cavity *c = (const KDPDE_Cavity *) pde->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "lid profile %s\n", KDCavityLids[c->lid]));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEDestroy_Cavity(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(pde->data));
  PetscFunctionReturn(0);
}

/*
  KDPDECreate_Cavity - inputs x,y, outputs u,v,p, three residuals; parameter Re (-cavity_Re, default 100); condition bc
  (dirichlet u, v on the four walls, the lid on y = y_hi); the pressure gauge; loss options -<prefix>cavity_lid,
  -<prefix>cavity_gauge_point.
*/
PETSC_EXTERN PetscErrorCode KDPDECreate_Cavity(KDPDE pde)
{
  KDPDE_Cavity *c;

  PetscFunctionBegin;
  PetscCall(PetscNew(&c));
  pde->data         = c;
  pde->ops->destroy = KDPDEDestroy_Cavity; /* set with the data: a failed declaration below frees it */
  c->lid            = KD_CAVITY_LID_EXACT;
  PetscCall(KDPDESetVariables(pde, "x,y", "u,v,p", 3));
  PetscCall(KDPDEAddSecondDerivative(pde, "x", "x", NULL));
  PetscCall(KDPDEAddSecondDerivative(pde, "y", "y", NULL));
  PetscCall(KDPDEAddParameter(pde, "Re", 100.0, "Reynolds number (lid speed x side / viscosity)", &c->re));
  PetscCall(KDPDEAddCondition(pde, "bc", KD_CONDITION_DIRICHLET, KD_FACES_ALL, "u,v", KDPDEWalls_Cavity, NULL));
  PetscCall(KDPDESetGauge(pde, "p"));
  pde->ops->setfromoptions        = KDPDESetFromOptions_Cavity;
  pde->ops->setproblemfromoptions = KDPDESetProblemFromOptions_Cavity;
  pde->ops->setfromreference      = KDPDESetFromReference_Cavity;
  pde->ops->residual              = KDPDEResidual_Cavity;
  pde->ops->residualadjoint       = KDPDEResidualAdjoint_Cavity;
  pde->ops->view                  = KDPDEView_Cavity;
  PetscFunctionReturn(0);
}
