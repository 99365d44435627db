/*
  PDE cavity: steady incompressible Navier-Stokes on (x, y), the lid-driven cavity,

      u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0,
      u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0,
      u_x + v_y = 0,

  no slip on the walls and u = lid(x), v = 0 on y = y_hi; the pressure is defined up to a constant (a gauge pins it at
  a point). Default box [0, 1]^2, Re = 100 (reference axes y,x; solvers/cavity.c).

  Lid corners. Where the exact lid (u = 1) meets a wall at rest the velocity jumps and the pressure grows like 1/r,
  which no smooth network represents; near the corner the flow is Stokes flow (the local Reynolds number r Re is
  small), the corner flow of a plate sliding past a wall at right angle (G. I. Taylor's scraper). With
  -<prefix>cavity_corner_flow R the network's outputs carry that flow of both lid corners, times exp(-r^2 / R^2), as
  an output addend (cavity_corner_flow, docs/model-format.md): the network learns the smooth rest, the problem is the
  same. -<prefix>cavity_corner_weight d weights the residual by min(1, r / d) at each lid corner, where the rest is
  not smooth (its pressure grows like log r).
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
  PetscReal corner_radius; /* cutoff radius of the corner flow; 0: no corner flow */
  PetscReal corner_weight; /* residual weight min(1, r / d) at each lid corner; 0: none */
} KDPDE_Cavity;

/* --- the lid-corner flow (output addend cavity_corner_flow) ---------------------------------------------------- */

/* A number with its derivatives in x and y up to second order: v, d/dx, d/dy, d2/dx2, d2/dxdy, d2/dy2. */
typedef struct {
  PetscReal v, x, y, xx, xy, yy;
} KDDual;

static inline KDDual KDDualConst(PetscReal c)
{
  return (KDDual){c, 0, 0, 0, 0, 0};
}
static inline KDDual KDDualAdd(KDDual a, KDDual b)
{
  return (KDDual){a.v + b.v, a.x + b.x, a.y + b.y, a.xx + b.xx, a.xy + b.xy, a.yy + b.yy};
}
static inline KDDual KDDualScale(PetscReal s, KDDual a)
{
  return (KDDual){s * a.v, s * a.x, s * a.y, s * a.xx, s * a.xy, s * a.yy};
}
static inline KDDual KDDualMul(KDDual a, KDDual b)
{
  return (KDDual){a.v * b.v,
                  a.x * b.v + a.v * b.x,
                  a.y * b.v + a.v * b.y,
                  a.xx * b.v + 2 * a.x * b.x + a.v * b.xx,
                  a.xy * b.v + a.x * b.y + a.y * b.x + a.v * b.xy,
                  a.yy * b.v + 2 * a.y * b.y + a.v * b.yy};
}
/* f(a) from f(a.v), f'(a.v), f''(a.v) */
static inline KDDual KDDualChain(KDDual a, PetscReal f0, PetscReal f1, PetscReal f2)
{
  return (KDDual){
      f0, f1 * a.x, f1 * a.y, f2 * a.x * a.x + f1 * a.xx, f2 * a.x * a.y + f1 * a.xy, f2 * a.y * a.y + f1 * a.yy};
}
static inline KDDual KDDualRecip(KDDual a)
{
  const PetscReal i = 1.0 / a.v;
  return KDDualChain(a, i, -i * i, 2 * i * i * i);
}
static inline KDDual KDDualExp(KDDual a)
{
  const PetscReal e = PetscExpReal(a.v);
  return KDDualChain(a, e, e, e);
}
/* atan2(a, b), the angle of (b, a) */
static inline KDDual KDDualAtan2(KDDual a, KDDual b)
{
  const PetscReal r2 = a.v * a.v + b.v * b.v, r4 = r2 * r2;
  const PetscReal ta = b.v / r2, tb = -a.v / r2, taa = -2 * a.v * b.v / r4, tbb = -taa,
                  tab = (a.v * a.v - b.v * b.v) / r4;
  return (KDDual){PetscAtan2Real(a.v, b.v),
                  ta * a.x + tb * b.x,
                  ta * a.y + tb * b.y,
                  taa * a.x * a.x + 2 * tab * a.x * b.x + tbb * b.x * b.x + ta * a.xx + tb * b.xx,
                  taa * a.x * a.y + tab * (a.x * b.y + a.y * b.x) + tbb * b.x * b.y + ta * a.xy + tb * b.xy,
                  taa * a.y * a.y + 2 * tab * a.y * b.y + tbb * b.y * b.y + ta * a.yy + tb * b.yy};
}

/* Stokes flow in the corner between a lid sliding at speed 1 along +xi and a wall at rest at right angle, the fluid
   at xi, eta > 0 (eta the distance from the lid): stream function r f(theta), f = A sin + C theta sin + D theta cos
   with f(0) = 0, f'(0) = 1, f(pi/2) = f'(pi/2) = 0. Velocity (along xi, along -eta, i.e. the cavity's u and v for the
   left corner) and pressure (viscosity mu), each times the cutoff exp(-r^2 / R^2). */
static void KDCavityCornerStokes(KDDual xi, KDDual eta, PetscReal R, PetscReal mu, KDDual out[3])
{
  const PetscReal D = 1.0 / (1.0 - PETSC_PI * PETSC_PI / 4.0), C = D * PETSC_PI / 2.0,
                  A = -D * PETSC_PI * PETSC_PI / 4.0;
  const KDDual r2 = KDDualAdd(KDDualMul(xi, xi), KDDualMul(eta, eta)), ir2 = KDDualRecip(r2);
  const KDDual th = KDDualAtan2(eta, xi), chi = KDDualExp(KDDualScale(-1.0 / (R * R), r2));
  const KDDual xe = KDDualMul(xi, eta);
  const KDDual u  = KDDualAdd(
       KDDualConst(A),
       KDDualAdd(KDDualScale(C, th), KDDualMul(KDDualAdd(KDDualScale(C, xe), KDDualScale(D, KDDualMul(xi, xi))), ir2)));
  const KDDual v =
      KDDualAdd(KDDualScale(D, th),
                KDDualScale(-1.0, KDDualMul(KDDualAdd(KDDualScale(C, KDDualMul(eta, eta)), KDDualScale(D, xe)), ir2)));
  const KDDual p = KDDualScale(2.0 * mu, KDDualMul(KDDualAdd(KDDualScale(D, xi), KDDualScale(C, eta)), ir2));
  out[0]         = KDDualMul(chi, u);
  out[1]         = KDDualMul(chi, v);
  out[2]         = KDDualMul(chi, p);
}

/* KDNetAddendFunction cavity_corner_flow: the corner flow of both lid corners added to the outputs u, v, p of a
   network with inputs x, y; param = R (cutoff radius), mu = 1 / Re, x_lo, x_hi, y_hi (the corners at (x_lo, y_hi) and
   (x_hi, y_hi)). The right corner's flow is the left one's mirrored in x with u kept, v and p negated (the lid moves
   towards it). At a corner itself (r = 0) the velocity takes the lid value, the pressure 0. */
static PetscErrorCode KDNetAddend_CavityCornerFlow(PetscInt nparam, const PetscReal param[], PetscInt nin,
                                                   PetscInt nout, const KDJetSpec *spec, PetscInt nb,
                                                   const PetscReal x[], PetscReal y[], PetscInt ld)
{
  const PetscInt nsecond = spec ? spec->nsecond : 0;

  PetscFunctionBegin;
  PetscCheck(nparam == 5 && nin == 2 && nout == 3 && param[0] > 0 && PetscIsNormalReal(1.0 / (param[0] * param[0])),
             PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "output addend cavity_corner_flow needs 5 parameters (R > 0, mu, x_lo, x_hi, y_hi), inputs x,y and "
             "outputs u,v,p; got %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT,
             nparam, nin, nout);
  for (PetscInt p = 0; p < nb; p++) {
    const PetscReal X = x[2 * p], Y = x[2 * p + 1];
    const KDDual eta = {param[4] - Y, 0, -1, 0, 0, 0};
    const KDDual xl = {X - param[2], 1, 0, 0, 0, 0}, xr = {param[3] - X, -1, 0, 0, 0, 0};
    KDDual f[3] = {KDDualConst(0), KDDualConst(0), KDDualConst(0)}, L[3], R[3];

    if (xl.v * xl.v + eta.v * eta.v > 0)
      KDCavityCornerStokes(xl, eta, param[0], param[1], L);
    else
      L[0] = KDDualConst(1), L[1] = L[2] = KDDualConst(0);
    if (xr.v * xr.v + eta.v * eta.v > 0)
      KDCavityCornerStokes(xr, eta, param[0], param[1], R);
    else
      R[0] = KDDualConst(1), R[1] = R[2] = KDDualConst(0);
    f[0] = KDDualAdd(L[0], R[0]);
    f[1] = KDDualAdd(L[1], KDDualScale(-1.0, R[1]));
    f[2] = KDDualAdd(L[2], KDDualScale(-1.0, R[2]));
    for (PetscInt o = 0; o < 3; o++) {
      PetscReal *yo = y + o * ld;
      yo[p] += f[o].v;
      if (!spec) continue;
      yo[nb + p] += f[o].x;
      yo[2 * nb + p] += f[o].y;
      for (PetscInt q = 0; q < nsecond; q++) {
        const PetscInt i = spec->second[q][0], j = spec->second[q][1];
        yo[(3 + q) * nb + p] += i == j ? (i == 0 ? f[o].xx : f[o].yy) : f[o].xy;
      }
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetUpNet_Cavity(KDPDE pde, KDNet net)
{
  const KDPDE_Cavity *c    = (const KDPDE_Cavity *) pde->data;
  const PetscReal param[5] = {c->corner_radius, 1.0 / pde->param_values[c->re], pde->lo[0], pde->hi[0], pde->hi[1]};

  PetscFunctionBegin;
  /* without the option a network keeps what it has (a loaded teacher its addend) */
  if (c->corner_radius > 0) PetscCall(KDNetSetOutputAddend(net, "cavity_corner_flow", 5, param));
  PetscFunctionReturn(0);
}

/* The residual weight min(1, r / d) at each lid corner: the one coefficient, declared with -cavity_corner_weight (the
   residual takes 1 without it). */
static PetscErrorCode KDPDECoefficients_Cavity(KDPDE pde, PetscInt n, const PetscReal x[], PetscReal coef[])
{
  const KDPDE_Cavity *c = (const KDPDE_Cavity *) pde->data;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal dy = pde->hi[1] - x[2 * p + 1], dl = x[2 * p] - pde->lo[0], dr = pde->hi[0] - x[2 * p];
    coef[p] = 1.0;
    if (c->corner_weight > 0)
      coef[p] = PetscMin(1.0, PetscSqrtReal(dl * dl + dy * dy) / c->corner_weight) *
                PetscMin(1.0, PetscSqrtReal(dr * dr + dy * dy) / c->corner_weight);
  }
  PetscFunctionReturn(0);
}

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
    const PetscReal w = coef ? coef[p] : 1.0;
    r1[p]             = w * (u[p] * ux[p] + v[p] * uy[p] + px[p] - ire * (uxx[p] + uyy[p]));
    r2[p]             = w * (u[p] * vx[p] + v[p] * vy[p] + py[p] - ire * (vxx[p] + vyy[p]));
    r3[p]             = w * (ux[p] + vy[p]);
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
                  *vy  = KDPDEJet(pde, jet, n, 1, CAVITY_Y);
  const PetscReal *rb1 = rbar, *rb2 = rbar + n, *rb3 = rbar + 2 * n;
  PetscReal *au = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_V), *aux = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_X),
            *auy = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_Y), *auxx = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_XX),
            *auyy = KDPDEJetAdjoint(pde, adj, n, 0, CAVITY_YY);
  PetscReal *av = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_V), *avx = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_X),
            *avy = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_Y), *avxx = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_XX),
            *avyy = KDPDEJetAdjoint(pde, adj, n, 1, CAVITY_YY);
  PetscReal *apx = KDPDEJetAdjoint(pde, adj, n, 2, CAVITY_X), *apy = KDPDEJetAdjoint(pde, adj, n, 2, CAVITY_Y);

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal w = coef ? coef[p] : 1.0, b1 = w * rb1[p], b2 = w * rb2[p], b3 = w * rb3[p];
    au[p] += b1 * ux[p] + b2 * vx[p];
    av[p] += b1 * uy[p] + b2 * vy[p];
    aux[p] += b1 * u[p] + b3;
    auy[p] += b1 * v[p];
    avx[p] += b2 * u[p];
    avy[p] += b2 * v[p] + b3;
    apx[p] += b1;
    apy[p] += b2;
    auxx[p] -= ire * b1;
    auyy[p] -= ire * b1;
    avxx[p] -= ire * b2;
    avyy[p] -= ire * b2;
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
  PetscCall(KDOptionsCheckValue(pde->comm, pde->prefix, "-cavity_corner_flow", PETSC_FALSE));
  PetscCall(
      PetscOptionsReal("-cavity_corner_flow",
                       "Cutoff radius R of the lid-corner Stokes flow the outputs carry (0: none; docs/losses.md)",
                       "KDPDESetFromOptions", c->corner_radius, &c->corner_radius, NULL));
  PetscCheck(c->corner_radius >= 0 && !PetscIsInfOrNanReal(c->corner_radius), pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%scavity_corner_flow must be finite and >= 0, got %g", pde->prefix ? pde->prefix : "",
             (double) c->corner_radius);
  PetscCall(KDOptionsCheckValue(pde->comm, pde->prefix, "-cavity_corner_weight", PETSC_FALSE));
  PetscCall(PetscOptionsReal("-cavity_corner_weight", "Residual weight min(1, r/d) at each lid corner (0: none)",
                             "KDPDESetFromOptions", c->corner_weight, &c->corner_weight, NULL));
  PetscCheck(c->corner_weight >= 0 && !PetscIsInfOrNanReal(c->corner_weight), pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%scavity_corner_weight must be finite and >= 0, got %g", pde->prefix ? pde->prefix : "",
             (double) c->corner_weight);
  PetscCall(KDPDESetNumCoefficients(pde, c->corner_weight > 0 ? 1 : 0)); /* the weight, a coefficient of the points */
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
  if (c->corner_radius > 0)
    PetscCall(PetscViewerASCIIPrintf(viewer, "lid-corner flow, cutoff radius %g\n", (double) c->corner_radius));
  if (c->corner_weight > 0)
    PetscCall(
        PetscViewerASCIIPrintf(viewer, "residual weight min(1, r/%g) at the lid corners\n", (double) c->corner_weight));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEDestroy_Cavity(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(pde->data));
  PetscFunctionReturn(0);
}

/* The cavity's output addend, registered with the type (src/pde/pde.c) so that a model file naming it loads. */
PETSC_EXTERN PetscErrorCode KDPDERegisterAddends_Cavity(void)
{
  PetscFunctionBegin;
  PetscCall(KDNetAddendRegister("cavity_corner_flow", KDNetAddend_CavityCornerFlow));
  PetscFunctionReturn(0);
}

/*
  KDPDECreate_Cavity - inputs x,y, outputs u,v,p, three residuals; parameter Re (-cavity_Re, default 100); condition bc
  (dirichlet u, v on the four walls, the lid on y = y_hi); the pressure gauge; with -<prefix>cavity_corner_weight one
  coefficient (the residual weight); loss options -<prefix>cavity_lid, -<prefix>cavity_gauge_point,
  -<prefix>cavity_corner_flow, -<prefix>cavity_corner_weight.
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
  pde->ops->coefficients          = KDPDECoefficients_Cavity;
  pde->ops->setupnet              = KDPDESetUpNet_Cavity;
  pde->ops->setfromoptions        = KDPDESetFromOptions_Cavity;
  pde->ops->setproblemfromoptions = KDPDESetProblemFromOptions_Cavity;
  pde->ops->setfromreference      = KDPDESetFromReference_Cavity;
  pde->ops->residual              = KDPDEResidual_Cavity;
  pde->ops->residualadjoint       = KDPDEResidualAdjoint_Cavity;
  pde->ops->view                  = KDPDEView_Cavity;
  PetscFunctionReturn(0);
}
