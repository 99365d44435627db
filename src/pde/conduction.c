/*
  PDE conduction: steady conduction through a two-phase composite of period eps on (x, y) in [0,1]^2,

      -div(k(x,y) grad u) = f,   u = g on the boundary,

  k = k1 or k2 by phase (src/pde/conduction.h: laminate, checkerboard, disks, an image), f = the parameter f
  (constant), g = 0 (or the manufactured solution of -conduction_mms). Reference axes y,x (solvers/conduction.c).

  The PINN formulation is mixed, with the flux q = -k grad u written through a stream function psi,

      q = f g + curl psi = (f g_x + psi_y, f g_y - psi_x),   g = (x, y) / 2,

  so that div q = f holds exactly (div curl = 0, div g = 1), and the residual is the constitutive law alone:

      (r1, r2) = (q + k grad u) / sqrt(k).

  No derivative of k appears, so a sharp interface costs nothing: u and psi are continuous across it and only their
  gradients jump (the tangential flux jumps: a kink of psi, not a jump of an output), which a network represents far
  better than a discontinuous flux. |r|^2 = |q + k grad u|^2 / k is the density of the constitutive-relation error,
  which bounds the energy-norm error of u and q (Prager-Synge). psi is defined up to a constant: the loss pins it at a
  point (the PDE's gauge). Outputs u, psi; the jets are values and first derivatives only. In manufactured mode g is
  the exact flux and f g becomes g (f is not a constant then).

  On a coarse level, whose cells span at least one period (-<prefix>conduction_model auto), the formulation is the
  homogenized one: the same residual with a constant symmetric tensor K in place of k,

      (r1, r2) = (q + K grad u) / sqrt(kbar),   kbar = sqrt(k1 k2),

  and K = [[Kxx, Kxy], [Kxy, Kyy]] (the named parameters Kxx, Kxy, Kyy) trained with the network (KDPDESetParameter-
  Learned()): a student learns the effective conductivity from its teacher's coarse field and flux. Its initial value
  is the arithmetic mean of the phases (the Wiener upper bound, isotropic), or what -<prefix>infer gives.
*/
#include <kdpdeimpl.h>
#include "pde/conduction.h"

typedef enum { KD_CONDUCTION_AUTO, KD_CONDUCTION_FINE, KD_CONDUCTION_HOMOGENIZED } KDConductionModel;
static const char *const KDConductionModels[] = {"auto",           "fine", "homogenized", "KDConductionModel",
                                                 "KD_CONDUCTION_", NULL};

/* Named parameters, in this order */
enum { COND_K1, COND_K2, COND_FRACTION, COND_EPS, COND_WIDTH, COND_F, COND_KXX, COND_KXY, COND_KYY, COND_NPARAM };
static const char *const KDConductionParamNames[COND_NPARAM] = {"k1", "k2",  "fraction", "eps", "interface_width",
                                                                "f",  "Kxx", "Kxy",      "Kyy"};

enum { COND_U, COND_PSI };         /* outputs */
enum { COND_V, COND_DX, COND_DY }; /* jet streams: value, d/dx, d/dy */
/* coefficients: k, the particular flux g, and the weight of the homogenized residual (0 in the boundary layer) */
enum { COND_COEF_K, COND_COEF_GX, COND_COEF_GY, COND_COEF_W, COND_NCOEF };

typedef struct {
  KDConductionProblem prob;
  PetscInt param[COND_NPARAM];
  PetscBool probset;       /* the problem was defined (options or a reference) */
  KDConductionModel model; /* -<prefix>conduction_model */
  PetscBool features;      /* -<prefix>conduction_interface_features: the network reads the interfaces' features */
  PetscBool corners;       /* -<prefix>conduction_corner_features: and a checkerboard's corner modes */
  PetscBool exactbc;       /* -<prefix>conduction_exact_bc: u carries the boundary factor */
  PetscReal refine;        /* -<prefix>conduction_corner_refine: grading exponent of collocation at the corners */
  PetscReal layer;         /* -<prefix>conduction_boundary_layer: periods next to the boundary where the homogenized
                              residual has weight 0 */
  PetscReal h;             /* cell width of the model's level (KDPDESetLevel()), 0: unknown (the fine level) */
  PetscBool homogenized;   /* the formulation in use */
} KDPDE_Conduction;

static PetscErrorCode KDPDEResidual_Conduction(KDPDE, PetscInt, const PetscReal[], const PetscReal[], PetscReal[]);

/* The problem follows the named parameters (KDPDESetParameter() may have changed them). */
static void KDPDEConductionSync(KDPDE pde)
{
  KDPDE_Conduction *c = (KDPDE_Conduction *) pde->data;
  c->prob.ms.k1       = pde->param_values[c->param[COND_K1]];
  c->prob.ms.k2       = pde->param_values[c->param[COND_K2]];
  c->prob.ms.eps      = pde->param_values[c->param[COND_EPS]];
  c->prob.ms.width    = pde->param_values[c->param[COND_WIDTH]];
  c->prob.source      = pde->param_values[c->param[COND_F]];
  if (c->prob.ms.type != KD_COMPOSITE_IMAGE) c->prob.ms.fraction = pde->param_values[c->param[COND_FRACTION]];
}

/* The formulation of the model's level: homogenized where a cell spans at least one period (auto), or as forced. The
   homogenized one trains K with the network. */
static PetscErrorCode KDPDEConductionUpdateModel(KDPDE pde)
{
  KDPDE_Conduction *c = (KDPDE_Conduction *) pde->data;
  PetscBool hom;

  PetscFunctionBegin;
  if (c->model == KD_CONDUCTION_AUTO)
    hom = c->probset && c->h > 0 && c->h >= c->prob.ms.eps * (1 - 1e-12) ? PETSC_TRUE : PETSC_FALSE;
  else
    hom = c->model == KD_CONDUCTION_HOMOGENIZED ? PETSC_TRUE : PETSC_FALSE;
  if (hom && !c->homogenized && c->probset) {
    /* the initial K: the arithmetic mean of the phases, isotropic (an uninformed start, the Wiener upper bound) */
    const PetscReal f = c->prob.ms.fraction, kmean = (1 - f) * c->prob.ms.k1 + f * c->prob.ms.k2;
    pde->param_values[c->param[COND_KXX]] = kmean;
    pde->param_values[c->param[COND_KXY]] = 0;
    pde->param_values[c->param[COND_KYY]] = kmean;
  }
  c->homogenized = hom;
  for (PetscInt k = COND_KXX; k <= COND_KYY; k++) PetscCall(KDPDESetParameterLearned(pde, c->param[k], hom));
  PetscFunctionReturn(0);
}

/* --- input features of the interfaces (conduction_interfaces) ------------------------------------------------

   For a microstructure whose interfaces are lines of the grid (laminate, checkerboard), the first layer also reads
   level sets phi of the interfaces (phi = 0 exactly on them, smooth and periodic elsewhere), |phi|, and a periodic
   mode in quadrature. A tanh network of x, y alone is smooth, so it cannot follow the kink of u (its normal derivative
   jumps by the contrast) and smears it; through |phi| it can: d|phi|/dn jumps by 2 |grad phi| across the interface,
   by as much as the network's dependence on |phi| there says (the cusp-capturing PINN of Tseng, Lin, Hu and Lai, J.
   Comput. Phys. 491, 2023). phi itself gives the network the period and the side of the interface, which a smooth
   network of x, y builds only slowly at eps = 1/8. Parameters: [type (0 laminate, 1 checkerboard), eps, fraction,
   orientation (laminate: 0 layers normal to x, 1 to y)] and, for a checkerboard's corner features (below), [k1, k2].
   Per axis a with interfaces, theta = 2 pi x_a / eps - c:
     laminate (c = pi fraction): phi = cos theta - cos(pi fraction), |phi|, sin theta  (phase 2: phi > 0)
     checkerboard (c = 0, each axis): phi = sin theta, |phi|, cos theta              (phase 2: phi_x phi_y < 0) */
enum { COND_FEAT_LAMINATE, COND_FEAT_CHECKERBOARD };

/* --- corner modes of a checkerboard (the conduction_interfaces' parameters 5 and 6) -------------------------------

   Where four squares meet, conductivities kA, kB, kA, kB counter-clockwise from the north-east one, u is singular:
   u ~ r^lambda Phi(theta) with Phi = a_m cos(lambda t) + b_m sin(lambda t), t = theta - m pi/2 in quadrant m, Phi and
   k Phi' continuous across the four rays. Over a quadrant of conductivity k the state (Phi, k Phi') goes through
   M_k = [[c, s / (k lambda)], [-k lambda s, c]], c = cos(lambda pi/2), s = sin(lambda pi/2); a mode odd under a half
   turn (as a linear field is) needs P = M_kB M_kA to have the eigenvalue -1: tr P = -2, that is
   s = 2 sqrt(rho) / (1 + rho), rho = kB / kA, with two exponents in (0, 2): lambda = (4/pi) atan sqrt(k_low / k_high)
   (the same condition, tan(lambda pi/4) = sqrt(rho) or 1/sqrt(rho), without the asin's loss of digits near s = 1; 0.39
   at contrast 10: the gradient is infinite at the corner) and 2 - lambda. Each mode is even about one diagonal and
   vanishes on the other: a far-field gradient along the diagonal d excites the mode of d alone, the singular one
   along the diagonal through the better-conducting squares. A feature per diagonal d = (1,1),
   (-1,1): at each corner the mode of d, signed like the linear function d.x, scaled so that it is of order 1 at
   r = h = eps/2 (a square's side), cut off by (1 - r^2/R^2)^3 at R = h/2. A network reading them can put r^lambda
   with a smooth amplitude at every corner (the enrichment of the extended finite element method), which no tanh
   network of x, y does (docs/benchmarks.md "Composite conduction": the median teacher error over five seeds went
   from 3.5e-2 to 9.6e-3 with them). */
typedef struct {
  PetscReal lambda, a[4], b[4];
} KDCornerMode;

/* |log(k2/k1)| at least this (a contrast outside [1/1.001, 1.001]): nearer 1 both exponents tend to 1, the modes to
   linear functions, and P + I to zero, so its null vector loses its digits */
#define KD_CORNER_MIN_LOG_CONTRAST 9.995e-4

/* The modes of a corner with kA, kB, by diagonal (0: (1,1), 1: (-1,1)); the contrast kB/kA must not be near 1
   (KD_CORNER_MIN_LOG_CONTRAST). */
static PetscErrorCode KDCornerModes(PetscReal kA, PetscReal kB, KDCornerMode mode[2])
{
  const PetscReal rho = kB / kA, lam1 = 4 / PETSC_PI * PetscAtanReal(PetscSqrtReal(PetscMin(rho, 1 / rho)));
  PetscBool found[2] = {PETSC_FALSE, PETSC_FALSE};

  PetscFunctionBegin;
  for (PetscInt e = 0; e < 2; e++) {
    const PetscReal lam = e == 0 ? lam1 : 2 - lam1;
    const PetscReal c = PetscCosReal(lam * PETSC_PI / 2), s = PetscSinReal(lam * PETSC_PI / 2);
    /* P + I, P = M_kB M_kA */
    const PetscReal P[2][2] = {{c * c - s * s * kA / kB + 1, c * s * (1 / kA + 1 / kB) / lam},
                               {-lam * c * s * (kA + kB), c * c - s * s * kB / kA + 1}};
    const PetscInt row      = PetscSqr(P[0][0]) + PetscSqr(P[0][1]) >= PetscSqr(P[1][0]) + PetscSqr(P[1][1]) ? 0 : 1;
    PetscReal v[2] = {P[row][1], -P[row][0]}, phi[2], norm = 0, sgn;
    KDCornerMode m;
    PetscInt d;

    m.lambda = lam;
    for (PetscInt q = 0; q < 4; q++) { /* (Phi, k Phi') at theta = q pi/2, then through quadrant q */
      const PetscReal k = q % 2 ? kB : kA, w[2] = {c * v[0] + s / (k * lam) * v[1], -k * lam * s * v[0] + c * v[1]};
      m.a[q] = v[0];
      m.b[q] = v[1] / (k * lam);
      norm   = PetscMax(norm, PetscSqrtReal(PetscSqr(m.a[q]) + PetscSqr(m.b[q])));
      v[0]   = w[0];
      v[1]   = w[1];
    }
    for (PetscInt q = 0; q < 2; q++) /* Phi on the diagonals, at theta = pi/4 and 3 pi/4 */
      phi[q] = m.a[q] * PetscCosReal(lam * PETSC_PI / 4) + m.b[q] * PetscSinReal(lam * PETSC_PI / 4);
    d   = PetscAbsReal(phi[0]) >= PetscAbsReal(phi[1]) ? 0 : 1;
    sgn = phi[d] > 0 ? 1 : -1;
    PetscCheck(norm > 0 && !found[d], PETSC_COMM_SELF, PETSC_ERR_PLIB, "corner modes of contrast %g not separated",
               (double) rho);
    for (PetscInt q = 0; q < 4; q++) {
      m.a[q] *= sgn / norm;
      m.b[q] *= sgn / norm;
    }
    mode[d]  = m;
    found[d] = PETSC_TRUE;
  }
  PetscFunctionReturn(0);
}

/* Collocation graded towards the corners (-<prefix>conduction_corner_refine alpha), fine formulation only (the
   homogenized one has no corners). A trained teacher with the corner features had 96-98% of its squared residual's
   integral within h/8 of the corners, two thirds within h/64, where a uniform set of 16,000 points has about 11 points
   over all 225 corners (eps = 1/8) together: the network overfits between them (docs/benchmarks.md "Composite
   conduction"). Within R = h/2 of a corner a point at distance r moves to R (r/R)^alpha along its ray, a bijection of
   the disk's part in the box onto itself where every ray from the corner into the box reaches R (the corner is at
   least R from each edge of the box or on it: always where the box is the union of squares; other corners are left
   uniform), and the disks do not overlap; its density grows by 1/w, w = alpha (r/R)^(2 alpha - 2) at the old r, so
   that the weighted mean of the squared residual still estimates the integral. At alpha = 1 / lambda (2.6 at contrast
   10) w times the squared residual of the singular part, r^(2 lambda - 2) at the new r, is constant. 8 is a bound of
   sense, not of round-off: there a point from R/2 lands at R/256 (only points from below about R/60 round onto the
   corner itself, where their weight is about 1e-24 and the corner features are 0). */
#define KD_CORNER_MAX_REFINE 8

/* Whether the lattice coordinate c of a corner lets every ray into [lo, hi] reach R along this axis */
static PetscBool KDCornerGradable(PetscReal c, PetscReal lo, PetscReal hi, PetscReal R, PetscReal tol)
{
  const PetscBool atlo = PetscAbsReal(c - lo) <= tol ? PETSC_TRUE : PETSC_FALSE;
  const PetscBool athi = PetscAbsReal(hi - c) <= tol ? PETSC_TRUE : PETSC_FALSE;
  return (atlo || c - lo >= R - tol) && (athi || hi - c >= R - tol) ? PETSC_TRUE : PETSC_FALSE;
}

static PetscErrorCode KDPDEGradePoints_Conduction(KDPDE pde, PetscInt n, PetscReal x[], PetscReal w[],
                                                  PetscBool *graded)
{
  const KDPDE_Conduction *c = (const KDPDE_Conduction *) pde->data;
  const PetscReal a         = c->refine;
  const KDConductionProblem *prob;
  PetscReal h, R, tol;

  PetscFunctionBegin;
  *graded = a != 1 && !c->homogenized ? PETSC_TRUE : PETSC_FALSE;
  if (!*graded) PetscFunctionReturn(0);
  PetscCall(KDPDEConductionGetProblem(pde, &prob));
  PetscCheck(prob->ms.type == KD_COMPOSITE_CHECKERBOARD, pde->comm, PETSC_ERR_SUP,
             "-%sconduction_corner_refine: a checkerboard's corners, not %s", pde->prefix ? pde->prefix : "",
             KDCompositeTypes[prob->ms.type]);
  h   = prob->ms.eps / 2;
  R   = h / 2;
  tol = 1e-12 * h;
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal cx = PetscFloorReal(x[2 * p] / h + 0.5) * h, cy = PetscFloorReal(x[2 * p + 1] / h + 0.5) * h;
    const PetscReal dx = x[2 * p] - cx, dy = x[2 * p + 1] - cy, s = PetscSqrtReal(dx * dx + dy * dy) / R;

    w[p] = 1;
    if (!(s < 1) || !KDCornerGradable(cx, pde->lo[0], pde->hi[0], R, tol) ||
        !KDCornerGradable(cy, pde->lo[1], pde->hi[1], R, tol))
      continue; /* NaN points too */
    {
      const PetscReal t = PetscPowReal(s, a - 1); /* r'/r */
      x[2 * p]          = cx + t * dx;
      x[2 * p + 1]      = cy + t * dy;
      w[p]              = a * t * t;
    }
  }
  PetscFunctionReturn(0);
}

/* The corner features at the nb points x (stream layout of KDNetFeatureFunction) into F[0], F[1] (by diagonal). */
static PetscErrorCode KDCornerFeatures(PetscReal eps, PetscReal k1, PetscReal k2, PetscInt nin, const KDJetSpec *spec,
                                       PetscInt nb, const PetscReal x[], PetscReal *F[2])
{
  const PetscInt nsecond = spec ? spec->nsecond : 0, S = spec ? 1 + nin + nsecond : 1;
  const PetscReal h = eps / 2, R = h / 2;
  KDCornerMode mode[2][2]; /* [north-east square in phase 2][diagonal] */

  PetscFunctionBegin;
  PetscCall(KDCornerModes(k1, k2, mode[0]));
  PetscCall(KDCornerModes(k2, k1, mode[1]));
  for (PetscInt p = 0; p < nb; p++) {
    const PetscReal i = PetscFloorReal(x[p * nin] / h + 0.5), j = PetscFloorReal(x[p * nin + 1] / h + 0.5);
    const PetscReal dx = x[p * nin] - i * h, dy = x[p * nin + 1] - j * h, r2 = dx * dx + dy * dy, q = r2 / (R * R);
    /* the square north-east of corner (i, j) is in phase 2 where i + j is odd (src/pde/composite.c) */
    const PetscInt ne = PetscFmodReal(PetscAbsReal(i + j), 2) == 1 ? 1 : 0;
    PetscReal om[6]   = {0}, th, r, t; /* cut-off: value, x, y, xx, xy, yy */
    PetscInt m;

    for (PetscInt d = 0; d < 2; d++)
      for (PetscInt k = 0; k < S; k++) F[d][k * nb + p] = 0;
    if (!(q < 1) || r2 == 0) /* NaN inputs too */
      continue;              /* outside every corner's disk, or on a corner (value 0; the gradient, infinite, as 0) */
    om[0] = (1 - q) * (1 - q) * (1 - q);
    om[1] = -6 * dx * (1 - q) * (1 - q) / (R * R);
    om[2] = -6 * dy * (1 - q) * (1 - q) / (R * R);
    om[3] = -6 * (1 - q) * (1 - q) / (R * R) + 24 * dx * dx * (1 - q) / (R * R * R * R);
    om[4] = 24 * dx * dy * (1 - q) / (R * R * R * R);
    om[5] = -6 * (1 - q) * (1 - q) / (R * R) + 24 * dy * dy * (1 - q) / (R * R * R * R);
    r     = PetscSqrtReal(r2);
    th    = PetscAtan2Real(dy, dx);
    if (th < 0) th += 2 * PETSC_PI;
    m = PetscMax(0, PetscMin((PetscInt) (th / (PETSC_PI / 2)), 3));
    t = th - m * PETSC_PI / 2;
    for (PetscInt d = 0; d < 2; d++) {
      /* u = Re(C w^lambda), C = (a - i b) / h^lambda, w = (x - corner) e^{-i m pi/2}: harmonic in the quadrant, so
         u_x = Re(G'), u_y = -Im(G'), u_xx = -u_yy = Re(G''), u_xy = -Im(G'') with G(z) = C w^lambda */
      const KDCornerMode *md = &mode[ne][d];
      const PetscReal lam = md->lambda, sc = PetscPowReal(h, -lam), ca = md->a[m] * sc, cb = -md->b[m] * sc;
      const PetscReal r0 = PetscPowReal(r, lam), a0 = lam * t;
      const PetscReal r1 = lam * r0 / r, a1 = (lam - 1) * t - m * PETSC_PI / 2;
      const PetscReal r2n = lam * (lam - 1) * r0 / r2, a2 = (lam - 2) * t - m * PETSC_PI;
      /* Re and Im of C rho e^{i alpha} */
      const PetscReal u   = r0 * (ca * PetscCosReal(a0) - cb * PetscSinReal(a0));
      const PetscReal g1r = r1 * (ca * PetscCosReal(a1) - cb * PetscSinReal(a1)),
                      g1i = r1 * (ca * PetscSinReal(a1) + cb * PetscCosReal(a1));
      const PetscReal g2r = r2n * (ca * PetscCosReal(a2) - cb * PetscSinReal(a2)),
                      g2i = r2n * (ca * PetscSinReal(a2) + cb * PetscCosReal(a2));
      const PetscReal ux = g1r, uy = -g1i, uxx = g2r, uxy = -g2i, uyy = -g2r;

      F[d][p] = om[0] * u;
      if (S == 1) continue;
      F[d][nb + p]     = om[1] * u + om[0] * ux;
      F[d][2 * nb + p] = om[2] * u + om[0] * uy;
      for (PetscInt k = 0; k < nsecond; k++) {
        const PetscInt a = spec->second[k][0], b = spec->second[k][1];
        PetscReal v;
        if (a != b)
          v = om[4] * u + om[1] * uy + om[2] * ux + om[0] * uxy;
        else if (a == 0)
          v = om[3] * u + 2 * om[1] * ux + om[0] * uxx;
        else
          v = om[5] * u + 2 * om[2] * uy + om[0] * uyy;
        F[d][(3 + k) * nb + p] = v;
      }
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDNetFeatures_ConductionInterfaces(PetscInt nparam, const PetscReal param[], PetscInt nin,
                                                         const KDJetSpec *spec, PetscInt nb, const PetscReal x[],
                                                         PetscReal A[], PetscInt ld, PetscInt *nfeat)
{
  PetscInt type, naxes, axis0, nsecond = spec ? spec->nsecond : 0, S = spec ? 1 + nin + nsecond : 1;

  PetscFunctionBegin;
  PetscCheck((nparam == 4 || nparam == 6) && nin == 2, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "input features conduction_interfaces need 4 parameters (6 with a checkerboard's corners) and inputs x,y");
  type = (PetscInt) param[0];
  PetscCheck((type == COND_FEAT_LAMINATE || type == COND_FEAT_CHECKERBOARD) && param[0] == (PetscReal) type,
             PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "input features conduction_interfaces: type %g is not 0 (laminate) or 1 (checkerboard)",
             (double) param[0]);
  PetscCheck(param[1] > 0 && param[2] > 0 && param[2] < 1 && (param[3] == 0 || param[3] == 1), PETSC_COMM_SELF,
             PETSC_ERR_ARG_OUTOFRANGE,
             "input features conduction_interfaces: eps %g must be > 0, fraction %g in (0, 1), orientation %g 0 or 1",
             (double) param[1], (double) param[2], (double) param[3]);
  PetscCheck(nparam == 4 || (type == COND_FEAT_CHECKERBOARD && param[4] > 0 && param[5] > 0 &&
                             PetscAbsReal(PetscLogReal(param[5] / param[4])) >= KD_CORNER_MIN_LOG_CONTRAST),
             PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "input features conduction_interfaces: corners need a checkerboard and k1 %g, k2 %g > 0 of a contrast "
             "k2/k1 outside [1/1.001, 1.001]",
             (double) param[4], (double) param[5]);
  naxes = type == COND_FEAT_LAMINATE ? 1 : 2;
  axis0 = type == COND_FEAT_LAMINATE ? (PetscInt) param[3] : 0;
  if (nfeat) *nfeat = 3 * naxes + (nparam == 6 ? 2 : 0);
  if (nparam == 6 && nb > 0) {
    PetscReal *F[2] = {A + 6 * ld, A + 7 * ld};
    PetscCall(KDCornerFeatures(param[1], param[4], param[5], nin, spec, nb, x, F));
  }
  for (PetscInt a = 0; a < naxes; a++) {
    const PetscInt axis   = axis0 + a;
    const PetscReal w     = 2 * PETSC_PI / param[1];
    const PetscReal c     = type == COND_FEAT_LAMINATE ? PETSC_PI * param[2] : 0,
                    level = type == COND_FEAT_LAMINATE ? PetscCosReal(c) : 0;
    PetscReal *F[3]       = {A + (3 * a) * ld, A + (3 * a + 1) * ld, A + (3 * a + 2) * ld};

    for (PetscInt p = 0; p < nb; p++) {
      const PetscReal th = w * x[p * nin + axis] - c, cs = PetscCosReal(th), sn = PetscSinReal(th);
      /* phi and the quadrature mode q, with their derivatives along the axis */
      const PetscReal phi   = type == COND_FEAT_LAMINATE ? cs - level : sn,
                      dphi  = type == COND_FEAT_LAMINATE ? -w * sn : w * cs,
                      ddphi = -w * w * (type == COND_FEAT_LAMINATE ? cs : sn);
      const PetscReal q = type == COND_FEAT_LAMINATE ? sn : cs, dq = type == COND_FEAT_LAMINATE ? w * cs : -w * sn,
                      ddq    = -w * w * q;
      const PetscReal sgn    = phi > 0 ? 1.0 : (phi < 0 ? -1.0 : 0.0);
      const PetscReal val[3] = {phi, PetscAbsReal(phi), q}, d1[3] = {dphi, sgn * dphi, dq},
                      d2[3] = {ddphi, sgn * ddphi, ddq};

      for (PetscInt j = 0; j < 3; j++) {
        F[j][p] = val[j];
        if (S == 1) continue;
        for (PetscInt i = 0; i < nin; i++) F[j][(1 + i) * nb + p] = i == axis ? d1[j] : 0.0;
        for (PetscInt r = 0; r < nsecond; r++)
          F[j][(1 + nin + r) * nb + p] = spec->second[r][0] == axis && spec->second[r][1] == axis ? d2[j] : 0.0;
      }
    }
  }
  PetscFunctionReturn(0);
}

/* --- the output factor of exact boundary data (conduction_boundary) ------------------------------------------------

   u = D(x, y) N_u(x, y) with D = 16 a (1 - a) b (1 - b), a and b the coordinates mapped to [0, 1] on the box: u = 0 on
   the whole boundary, whatever the network (g = 0 outside manufactured mode), so that no loss term has to pull the
   network to the boundary data. Parameters [x_lo, x_hi, y_lo, y_hi]; it multiplies output 0 (u), not psi. */
static PetscErrorCode KDNetFactor_ConductionBoundary(PetscInt nparam, const PetscReal param[], PetscInt nin,
                                                     PetscInt nout, const KDJetSpec *spec, PetscInt nb,
                                                     const PetscReal x[], PetscReal D[], PetscInt *mask)
{
  const PetscInt nsecond = spec ? spec->nsecond : 0, S = spec ? 1 + nin + nsecond : 1;

  PetscFunctionBegin;
  PetscCheck(nparam == 4 && nin == 2 && nout == 2 && param[1] > param[0] && param[3] > param[2], PETSC_COMM_SELF,
             PETSC_ERR_ARG_WRONG,
             "output factor conduction_boundary needs 4 parameters x_lo < x_hi, y_lo < y_hi, inputs x,y and outputs "
             "u,psi");
  if (mask) *mask = 1; /* u */
  for (PetscInt p = 0; p < nb; p++) {
    PetscReal f[2], df[2], ddf[2];
    for (PetscInt i = 0; i < 2; i++) {
      const PetscReal h = param[2 * i + 1] - param[2 * i], a = (x[2 * p + i] - param[2 * i]) / h;
      f[i]   = 4 * a * (1 - a);
      df[i]  = 4 * (1 - 2 * a) / h;
      ddf[i] = -8 / (h * h);
    }
    D[p] = f[0] * f[1];
    if (S == 1) continue;
    D[nb + p]     = df[0] * f[1];
    D[2 * nb + p] = f[0] * df[1];
    for (PetscInt q = 0; q < nsecond; q++) {
      const PetscInt i = spec->second[q][0], j = spec->second[q][1];
      D[(3 + q) * nb + p] = i != j ? df[0] * df[1] : (i == 0 ? ddf[0] * f[1] : f[0] * ddf[1]);
    }
  }
  PetscFunctionReturn(0);
}

/* Registered with the PDE (src/pde/pde.c), so that a model file naming them loads wherever the PDE does. */
PETSC_EXTERN PetscErrorCode KDPDERegisterNetParts_Conduction(void)
{
  PetscFunctionBegin;
  PetscCall(KDNetFeatureRegister("conduction_interfaces", KDNetFeatures_ConductionInterfaces));
  PetscCall(KDNetFactorRegister("conduction_boundary", KDNetFactor_ConductionBoundary));
  PetscFunctionReturn(0);
}

/* With -<prefix>conduction_interface_features the network reads the interfaces' features, with
   -<prefix>conduction_exact_bc its u carries the boundary factor (above); without, it keeps what it has (a loaded
   teacher its features and factor). */
static PetscErrorCode KDPDESetUpNet_Conduction(KDPDE pde, KDNet net)
{
  KDPDE_Conduction *c = (KDPDE_Conduction *) pde->data;
  const KDComposite *ms;
  PetscReal param[6];

  PetscFunctionBegin;
  if (c->exactbc) {
    const PetscReal box[4] = {pde->lo[0], pde->hi[0], pde->lo[1], pde->hi[1]};
    PetscCheck(c->probset, pde->comm, PETSC_ERR_ORDER, "the conduction PDE has no problem data for its boundary");
    PetscCheck(!c->prob.manufactured, pde->comm, PETSC_ERR_SUP,
               "-%sconduction_exact_bc imposes u = 0 on the boundary: not in manufactured mode (-conduction_mms), "
               "whose boundary data are not 0",
               pde->prefix ? pde->prefix : "");
    PetscCall(KDNetSetOutputFactor(net, "conduction_boundary", 4, box));
  }
  if (!c->features && !c->corners) PetscFunctionReturn(0);
  PetscCheck(c->probset, pde->comm, PETSC_ERR_ORDER, "the conduction PDE has no problem data for its features");
  KDPDEConductionSync(pde);
  ms = &c->prob.ms;
  PetscCheck(!c->corners || ms->type == KD_COMPOSITE_CHECKERBOARD, pde->comm, PETSC_ERR_SUP,
             "-%sconduction_corner_features: a checkerboard's corners, not %s", pde->prefix ? pde->prefix : "",
             KDCompositeTypes[ms->type]);
  PetscCheck(
      !c->corners || PetscAbsReal(PetscLogReal(ms->k2 / ms->k1)) >= KD_CORNER_MIN_LOG_CONTRAST, pde->comm,
      PETSC_ERR_ARG_INCOMP,
      "-%sconduction_corner_features: the contrast k2/k1 = %g is within 0.1%% of 1: no singular corners to resolve",
      pde->prefix ? pde->prefix : "", (double) (ms->k2 / ms->k1));
  PetscCheck(ms->type == KD_COMPOSITE_LAMINATE || ms->type == KD_COMPOSITE_CHECKERBOARD, pde->comm, PETSC_ERR_SUP,
             "-%sconduction_interface_features: laminate and checkerboard microstructures only (interfaces on grid "
             "lines), not %s",
             pde->prefix ? pde->prefix : "", KDCompositeTypes[ms->type]);
  param[0] = ms->type == KD_COMPOSITE_LAMINATE ? COND_FEAT_LAMINATE : COND_FEAT_CHECKERBOARD;
  param[1] = ms->eps;
  param[2] = ms->fraction;
  param[3] = ms->type == KD_COMPOSITE_LAMINATE ? (PetscReal) ms->orientation : 0;
  param[4] = ms->k1;
  param[5] = ms->k2;
  PetscCall(KDNetSetInputFeatures(net, "conduction_interfaces", c->corners ? 6 : 4, param));
  PetscFunctionReturn(0);
}

/*@C
  KDPDEConductionGetProblem - The problem of a conduction PDE (borrowed), defined by KDPDESetProblemFromOptions() or
  KDPDESetFromReference().

  Not collective
@*/
PetscErrorCode KDPDEConductionGetProblem(KDPDE pde, const KDConductionProblem **prob)
{
  KDPDE_Conduction *c = (KDPDE_Conduction *) pde->data;

  PetscFunctionBegin;
  PetscCheck(pde->ops->residual == KDPDEResidual_Conduction, pde->comm, PETSC_ERR_ARG_WRONG,
             "PDE %s is not the conduction PDE", pde->type);
  PetscCheck(c->probset, pde->comm, PETSC_ERR_ORDER,
             "the conduction PDE has no problem data: call KDPDESetFromReference() or KDPDESetProblemFromOptions()");
  KDPDEConductionSync(pde);
  *prob = &c->prob;
  PetscFunctionReturn(0);
}

/*
  Problem options (prefix conduction_; the numbers are the named parameters -conduction_k1, ...):
+ -conduction_microstructure <laminate|checkerboard|disks|FILE> - the phases (FILE: a PGM image of one period)
. -conduction_orientation <x|y> - laminate: the layers' normal
. -conduction_disks <n>         - disks: disks per period (default 4)
. -conduction_seed <s>          - disks: placement seed (default 1)
- -conduction_mms               - manufactured-solution mode (needs -conduction_interface_width > 0)
*/
static PetscErrorCode KDPDESetProblemFromOptions_Conduction(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  static const char *const orientations[] = {"x", "y", "KDOrientation", "KD_ORIENTATION_", NULL};
  KDPDE_Conduction *c                     = (KDPDE_Conduction *) pde->data;
  char ms[256]                            = "checkerboard";
  PetscInt orientation = 0, ndisks = 4, seed = 1;
  PetscEnum type;
  PetscBool mms = PETSC_FALSE, found;

  PetscFunctionBegin;
  PetscCall(PetscOptionsString("-microstructure",
                               "Two-phase microstructure: laminate, checkerboard, disks or a PGM file",
                               "KDCompositeSetUp", ms, ms, sizeof(ms), NULL));
  PetscCall(KDOptionsEList("-orientation", "Laminate: normal of the layers", "KDCompositeSetUp", orientations, 2,
                           orientations[orientation], &orientation, NULL));
  PetscCall(KDOptionsInt("-disks", "Disks: disks per period", "KDCompositeSetUp", ndisks, &ndisks, NULL));
  PetscCall(KDOptionsInt("-seed", "Disks: placement seed", "KDCompositeSetUp", seed, &seed, NULL));
  PetscCall(PetscOptionsBool("-mms", "Manufactured-solution mode (exact u known; needs a smooth interface)",
                             "KDPDESetProblemFromOptions", mms, &mms, NULL));
  {
    PetscBool help;
    PetscCall(KDHelpRequested(&help));
    if (help) PetscFunctionReturn(0); /* -help lists the options; an image file need not exist */
  }
  PetscCall(KDCompositeReset(&c->prob.ms));
  PetscCall(PetscEnumFind(KDCompositeTypes, ms, &type, &found));
  if (found && (KDCompositeType) type != KD_COMPOSITE_IMAGE)
    c->prob.ms.type = (KDCompositeType) type;
  else {
    c->prob.ms.type = KD_COMPOSITE_IMAGE;
    PetscCall(PetscStrncpy(c->prob.ms.source, ms, sizeof(c->prob.ms.source)));
  }
  c->prob.ms.orientation = orientation;
  c->prob.ms.ndisks      = ndisks;
  c->prob.ms.seed        = seed;
  c->prob.manufactured   = mms;
  KDPDEConductionSync(pde);
  PetscCall(KDCompositeSetUp(pde->comm, &c->prob.ms));
  PetscCheck(!mms || c->prob.ms.width > 0, pde->comm, PETSC_ERR_ARG_WRONG,
             "-conduction_mms needs a smooth interface (-conduction_interface_width > 0): the exact solution's source "
             "reads grad k");
  pde->param_values[c->param[COND_FRACTION]] = c->prob.ms.fraction; /* an image's, measured */
  c->probset                                 = PETSC_TRUE;
  PetscCall(KDPDEConductionUpdateModel(pde));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEWriteReference_Conduction(KDPDE pde, KDReference ref)
{
  const KDConductionProblem *prob;
  char *text;

  PetscFunctionBegin;
  PetscCall(KDPDEConductionGetProblem(pde, &prob));
  PetscCall(KDCompositeToString(&prob->ms, &text));
  PetscCall(KDReferenceSetString(ref, "microstructure", text));
  PetscCall(PetscFree(text));
  PetscCall(KDReferenceSetParameter(ref, "manufactured", prob->manufactured ? 1.0 : 0.0));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetFromReference_Conduction(KDPDE pde, KDReference ref)
{
  KDPDE_Conduction *c = (KDPDE_Conduction *) pde->data;
  const char *text;
  PetscReal v;
  PetscBool found;
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDReferenceGetString(ref, "microstructure", &text));
  PetscCheck(text, comm, PETSC_ERR_ARG_WRONG,
             "the reference has no 'microstructure' attribute: not written by the conduction solver");
  PetscCall(KDCompositeReset(&c->prob.ms));
  PetscCall(KDCompositeFromString(comm, text, &c->prob.ms));
  PetscCall(KDReferenceGetParameter(ref, "manufactured", &v, &found));
  PetscCheck(found, comm, PETSC_ERR_ARG_WRONG, "the reference has no 'manufactured' parameter");
  c->prob.manufactured = v != 0 ? PETSC_TRUE : PETSC_FALSE;
  c->probset           = PETSC_TRUE;
  KDPDEConductionSync(pde);
  PetscCall(KDPDEConductionUpdateModel(pde));
  PetscFunctionReturn(0);
}

/* The level's cell width decides the formulation (auto): homogenized where a cell spans a period. */
static PetscErrorCode KDPDESetLevel_Conduction(KDPDE pde, KDReference ref, PetscInt level)
{
  KDPDE_Conduction *c = (KDPDE_Conduction *) pde->data;
  PetscInt dim, n[KD_MAX_DIM];
  PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM];

  PetscFunctionBegin;
  PetscCall(KDReferenceGetLevelGrid(ref, level, &dim, n, lo, hi));
  c->h = (hi[0] - lo[0]) / n[0];
  for (PetscInt i = 1; i < dim; i++) c->h = PetscMin(c->h, (hi[i] - lo[i]) / n[i]);
  PetscCall(KDPDEConductionUpdateModel(pde));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetFromOptions_Conduction(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  KDPDE_Conduction *c = (KDPDE_Conduction *) pde->data;
  PetscEnum model     = (PetscEnum) c->model;

  PetscFunctionBegin;
  PetscCall(KDOptionsEnum("-conduction_model",
                          "Formulation: auto (homogenized on levels whose cells span a period), fine, homogenized",
                          "KDPDESetFromOptions", KDConductionModels, model, &model, NULL));
  c->model = (KDConductionModel) model;
  PetscCall(
      PetscOptionsBool("-conduction_interface_features",
                       "The network also reads level sets of the interfaces and their absolute values, so that it "
                       "follows the kinks of u (laminate, checkerboard)",
                       "KDPDESetUpNet", c->features, &c->features, NULL));
  PetscCall(PetscOptionsBool("-conduction_corner_features",
                             "Implies -conduction_interface_features; also the singular modes of a checkerboard's "
                             "corners, one per diagonal (u ~ r^lambda there)",
                             "KDPDESetUpNet", c->corners, &c->corners, NULL));
  PetscCall(PetscOptionsBool("-conduction_exact_bc",
                             "u = 0 on the boundary exactly: the network's u is multiplied by a function that vanishes "
                             "there (an output factor of the model)",
                             "KDPDESetUpNet", c->exactbc, &c->exactbc, NULL));
  PetscCall(KDOptionsReal("-conduction_corner_refine",
                          "Interior collocation graded towards a checkerboard's corners (fine formulation): within "
                          "half a square of a corner, a uniform point at distance r moves to R (r/R)^alpha, its "
                          "squared residual weighted by the Jacobian; 1 <= alpha <= 8 (1: uniform)",
                          "KDPDEGradePoints", c->refine, &c->refine, NULL));
  PetscCheck(c->refine >= 1 && c->refine <= KD_CORNER_MAX_REFINE, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sconduction_corner_refine must be in [1, %d], got %g", pde->prefix ? pde->prefix : "",
             KD_CORNER_MAX_REFINE, (double) c->refine);
  PetscCall(KDOptionsReal("-conduction_boundary_layer",
                          "Homogenized formulation: periods next to the boundary where its residual has weight 0 (the "
                          "boundary layer, where the homogenized law does not hold)",
                          "KDPDESetFromOptions", c->layer, &c->layer, NULL));
  PetscCheck(c->layer >= 0 && c->layer < 0.5 / c->prob.ms.eps, pde->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sconduction_boundary_layer must be in [0, 1/(2 eps)) periods, got %g", pde->prefix ? pde->prefix : "",
             (double) c->layer);
  PetscCall(KDPDEConductionUpdateModel(pde));
  PetscFunctionReturn(0);
}

/* k and the particular flux g at (x, y): g = (x, y) / 2 (div g = 1; the flux is f g + curl psi), or in manufactured
   mode the exact flux -k grad u itself */
static PetscErrorCode KDPDECoefficients_Conduction(KDPDE pde, PetscInt n, const PetscReal x[], PetscReal coef[])
{
  const KDPDE_Conduction *c = (const KDPDE_Conduction *) pde->data;
  const KDConductionProblem *prob;

  PetscFunctionBegin;
  PetscCall(KDPDEConductionGetProblem(pde, &prob));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal xp = x[2 * p], yp = x[2 * p + 1];
    PetscReal k, g[2]                 = {0.5 * xp, 0.5 * yp};
    KDConductionProblemData(prob, xp, yp, &k, NULL, NULL);
    if (prob->manufactured) {
      PetscReal u, gu[2];
      KDConductionExact(xp, yp, &u, gu);
      g[0] = -k * gu[0];
      g[1] = -k * gu[1];
    }
    coef[COND_COEF_K * n + p]  = k;
    coef[COND_COEF_GX * n + p] = g[0];
    coef[COND_COEF_GY * n + p] = g[1];
    coef[COND_COEF_W * n + p]  = 1;
    if (c->homogenized && c->layer > 0) { /* the homogenized law does not hold within the boundary layer */
      const PetscReal d =
          PetscMin(PetscMin(xp - pde->lo[0], pde->hi[0] - xp), PetscMin(yp - pde->lo[1], pde->hi[1] - yp));
      if (d < c->layer * prob->ms.eps) coef[COND_COEF_W * n + p] = 0;
    }
  }
  PetscFunctionReturn(0);
}

/* The factor of the particular flux g: f, or 1 in manufactured mode (g is the whole exact flux there) */
static PetscReal KDPDEConductionSourceFactor(KDPDE pde)
{
  const KDPDE_Conduction *c = (const KDPDE_Conduction *) pde->data;
  return c->prob.manufactured ? 1.0 : pde->param_values[c->param[COND_F]];
}

/* The homogenized tensor and the scale 1/sqrt(kbar) of its constitutive residuals */
static void KDPDEConductionTensor(KDPDE pde, PetscReal K[3], PetscReal *s)
{
  const KDPDE_Conduction *c = (const KDPDE_Conduction *) pde->data;
  K[0]                      = pde->param_values[c->param[COND_KXX]];
  K[1]                      = pde->param_values[c->param[COND_KXY]];
  K[2]                      = pde->param_values[c->param[COND_KYY]];
  *s = 1 / PetscSqrtReal(PetscSqrtReal(pde->param_values[c->param[COND_K1]] * pde->param_values[c->param[COND_K2]]));
}

static PetscErrorCode KDPDEResidual_Conduction(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                               PetscReal res[])
{
  const KDPDE_Conduction *c = (const KDPDE_Conduction *) pde->data;
  const PetscReal *ux = KDPDEJet(pde, jet, n, COND_U, COND_DX), *uy = KDPDEJet(pde, jet, n, COND_U, COND_DY);
  const PetscReal *px = KDPDEJet(pde, jet, n, COND_PSI, COND_DX), *py = KDPDEJet(pde, jet, n, COND_PSI, COND_DY);
  const PetscReal *k = coef + COND_COEF_K * n, *gx = coef + COND_COEF_GX * n, *gy = coef + COND_COEF_GY * n;
  const PetscReal *w = coef + COND_COEF_W * n, fs = KDPDEConductionSourceFactor(pde);
  PetscReal *r1 = res, *r2 = res + n;

  PetscFunctionBegin;
  if (c->homogenized) {
    PetscReal K[3], s;
    KDPDEConductionTensor(pde, K, &s);
    for (PetscInt p = 0; p < n; p++) {
      r1[p] = w[p] * s * (fs * gx[p] + py[p] + K[0] * ux[p] + K[1] * uy[p]);
      r2[p] = w[p] * s * (fs * gy[p] - px[p] + K[1] * ux[p] + K[2] * uy[p]);
    }
  } else
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal sk = PetscSqrtReal(k[p]);
      r1[p]              = (fs * gx[p] + py[p]) / sk + sk * ux[p];
      r2[p]              = (fs * gy[p] - px[p]) / sk + sk * uy[p];
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEResidualAdjoint_Conduction(KDPDE pde, PetscInt n, const PetscReal coef[],
                                                      const PetscReal jet[], const PetscReal rbar[], PetscReal adj[])
{
  const KDPDE_Conduction *c = (const KDPDE_Conduction *) pde->data;
  const PetscReal *k = coef + COND_COEF_K * n, *w = coef + COND_COEF_W * n, *b1 = rbar, *b2 = rbar + n;
  PetscReal *aux = KDPDEJetAdjoint(pde, adj, n, COND_U, COND_DX), *auy = KDPDEJetAdjoint(pde, adj, n, COND_U, COND_DY);
  PetscReal *apx = KDPDEJetAdjoint(pde, adj, n, COND_PSI, COND_DX);
  PetscReal *apy = KDPDEJetAdjoint(pde, adj, n, COND_PSI, COND_DY);

  PetscFunctionBegin;
  if (c->homogenized) {
    PetscReal K[3], s;
    KDPDEConductionTensor(pde, K, &s);
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal sw = s * w[p];
      apy[p] += sw * b1[p];
      apx[p] -= sw * b2[p];
      aux[p] += sw * (K[0] * b1[p] + K[1] * b2[p]);
      auy[p] += sw * (K[1] * b1[p] + K[2] * b2[p]);
    }
  } else
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal sk = PetscSqrtReal(k[p]);
      apy[p] += b1[p] / sk;
      apx[p] -= b2[p] / sk;
      aux[p] += sk * b1[p];
      auy[p] += sk * b2[p];
    }
  PetscFunctionReturn(0);
}

/* d res / d K (homogenized) and d res / d f: what -<prefix>infer and the learned K need */
static PetscErrorCode KDPDEResidualParameter_Conduction(KDPDE pde, PetscInt k, PetscInt n, const PetscReal coef[],
                                                        const PetscReal jet[], PetscReal dres[])
{
  const KDPDE_Conduction *c = (const KDPDE_Conduction *) pde->data;
  PetscReal K[3], s = 1, *d1, *d2;

  PetscFunctionBegin;
  PetscCheck(k != c->param[COND_F] || !c->prob.manufactured, pde->comm, PETSC_ERR_SUP,
             "conduction: f cannot be inferred under -conduction_mms");
  PetscCheck(k == c->param[COND_F] || k == c->param[COND_KXX] || k == c->param[COND_KXY] || k == c->param[COND_KYY],
             pde->comm, PETSC_ERR_SUP,
             "conduction: only f and the homogenized tensor (Kxx, Kxy, Kyy) can be inferred, not %s",
             pde->param_names[k]);
  PetscCheck(k == c->param[COND_F] || c->homogenized, pde->comm, PETSC_ERR_SUP,
             "conduction: %s is a parameter of the homogenized formulation (-conduction_model homogenized, or a level "
             "whose cells span a period)",
             pde->param_names[k]);
  if (!n) PetscFunctionReturn(0); /* a probe of what can be inferred: no points, no arrays */
  d1 = dres;
  d2 = dres + n;
  if (c->homogenized) KDPDEConductionTensor(pde, K, &s);
  if (k == c->param[COND_F]) {
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal sp =
          c->homogenized ? s * coef[COND_COEF_W * n + p] : 1 / PetscSqrtReal(coef[COND_COEF_K * n + p]);
      d1[p] = sp * coef[COND_COEF_GX * n + p];
      d2[p] = sp * coef[COND_COEF_GY * n + p];
    }
    PetscFunctionReturn(0);
  }
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal ux = KDPDEJet(pde, jet, n, COND_U, COND_DX)[p], uy = KDPDEJet(pde, jet, n, COND_U, COND_DY)[p];
    const PetscReal sw = s * coef[COND_COEF_W * n + p];
    d1[p]              = k == c->param[COND_KYY] ? 0 : sw * (k == c->param[COND_KXX] ? ux : uy);
    d2[p]              = k == c->param[COND_KXX] ? 0 : sw * (k == c->param[COND_KYY] ? uy : ux);
  }
  PetscFunctionReturn(0);
}

/* g on the boundary */
static PetscErrorCode KDPDEBoundary_Conduction(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[],
                                               PetscReal g[], PetscReal cc[], void *ctx)
{
  const KDConductionProblem *prob;

  PetscFunctionBegin;
  PetscCall(KDPDEConductionGetProblem(pde, &prob));
  for (PetscInt p = 0; p < n; p++) g[p] = KDConductionProblemBoundary(prob, x[2 * p], x[2 * p + 1]);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEView_Conduction(KDPDE pde, PetscViewer viewer)
{
  KDPDE_Conduction *c = (KDPDE_Conduction *) pde->data;

  PetscFunctionBegin;
  if (!c->probset) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(
      viewer, "%s microstructure, k1 = %g, k2 = %g, fraction %g, eps = %g; %s formulation\n",
      KDCompositeTypes[c->prob.ms.type], (double) c->prob.ms.k1, (double) c->prob.ms.k2, (double) c->prob.ms.fraction,
      (double) c->prob.ms.eps, c->homogenized ? "homogenized (K learned)" : "fine (mixed u, psi)"));
  if (c->refine != 1)
    PetscCall(
        PetscViewerASCIIPrintf(viewer, "collocation graded towards the corners, alpha = %g\n", (double) c->refine));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEDestroy_Conduction(KDPDE pde)
{
  KDPDE_Conduction *c = (KDPDE_Conduction *) pde->data;

  PetscFunctionBegin;
  PetscCall(KDCompositeReset(&c->prob.ms));
  PetscCall(PetscFree(pde->data));
  PetscFunctionReturn(0);
}

/*
  KDPDECreate_Conduction - inputs x,y, outputs u,psi, two residuals (mixed form), coefficients k, g_x, g_y; parameters
  k1, k2, fraction, eps, interface_width, f, Kxx, Kxy, Kyy (-conduction_*); condition bc (dirichlet on u, g on all
  four faces); gauge psi.
*/
PETSC_EXTERN PetscErrorCode KDPDECreate_Conduction(KDPDE pde)
{
  KDPDE_Conduction *c;
  const PetscReal defaults[COND_NPARAM] = {1.0, 10.0, 0.5, 0.125, 0.0, 10.0, 1.0, 0.0, 1.0};
  const char *help[COND_NPARAM]         = {
              "Conductivity k1 of phase 1",
              "Conductivity k2 of phase 2",
              "Volume fraction of phase 2, in (0, 1)",
              "Period eps of the microstructure (1/eps an integer)",
              "Width of the smoothed interface (0: sharp)",
              "Source f (constant)",
              "Homogenized conductivity Kxx (solve: the cell problem's; coarse students learn theirs)",
              "Homogenized conductivity Kxy (solve: the cell problem's; coarse students learn theirs)",
              "Homogenized conductivity Kyy (solve: the cell problem's; coarse students learn theirs)"};
  const PetscReal lo[2] = {0, 0}, hi[2] = {1, 1};

  PetscFunctionBegin;
  PetscCall(PetscNew(&c));
  c->layer          = 1; /* one period: the width of the boundary layer of homogenization */
  c->refine         = 1;
  pde->data         = c;
  pde->ops->destroy = KDPDEDestroy_Conduction;
  PetscCall(KDPDESetVariables(pde, "x,y", "u,psi", 2));
  for (PetscInt i = 0; i < COND_NPARAM; i++)
    PetscCall(KDPDEAddParameter(pde, KDConductionParamNames[i], defaults[i], help[i], &c->param[i]));
  PetscCall(KDPDESetParameterPositive(pde, c->param[COND_KXX]));
  PetscCall(KDPDESetParameterPositive(pde, c->param[COND_KYY]));
  {
    const PetscInt K[4] = {c->param[COND_KXX], c->param[COND_KXY], c->param[COND_KXY], c->param[COND_KYY]};
    PetscCall(KDPDESetLearnedTensor(pde, "effective_conductivity", 2, K, "K_eff", "cell_problem"));
  }
  PetscCall(KDPDESetNumCoefficients(pde, COND_NCOEF));
  PetscCall(KDPDEAddCondition(pde, "bc", KD_CONDITION_DIRICHLET, KD_FACES_ALL, "u", KDPDEBoundary_Conduction, NULL));
  PetscCall(KDPDESetGauge(pde, "psi"));
  PetscCall(KDPDESetDomain(pde, lo, hi));
  pde->ops->setproblemfromoptions = KDPDESetProblemFromOptions_Conduction;
  pde->ops->writereference        = KDPDEWriteReference_Conduction;
  pde->ops->setfromreference      = KDPDESetFromReference_Conduction;
  pde->ops->setlevel              = KDPDESetLevel_Conduction;
  pde->ops->setfromoptions        = KDPDESetFromOptions_Conduction;
  pde->ops->coefficients          = KDPDECoefficients_Conduction;
  pde->ops->residual              = KDPDEResidual_Conduction;
  pde->ops->residualadjoint       = KDPDEResidualAdjoint_Conduction;
  pde->ops->residualparameter     = KDPDEResidualParameter_Conduction;
  pde->ops->view                  = KDPDEView_Conduction;
  pde->ops->setupnet              = KDPDESetUpNet_Conduction;
  pde->ops->gradepoints           = KDPDEGradePoints_Conduction;
  PetscFunctionReturn(0);
}
