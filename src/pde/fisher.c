/*
  PDE fisher: tumour growth as a Fisher-KPP density on (t, x, y),

      u_t - D (u_xx + u_yy) - rho u (1 - u) = 0,   du/dn = 0 on the walls of [0,1]^2,
      u(0, x, y) = amp exp(-((x - cx)^2 + (y - cy)^2) / (2 w^2)),

  in tissue of grey and white matter: the diffusivity is D k(x, y), k = 1 + (white_ratio - 1) chi(x, y), chi the
  white-matter indicator of a microstructure of period eps (-fisher_tissue laminate|disks|FILE; none: k = 1),
  smoothed over -fisher_interface_width so that grad k exists for the network's residual
      u_t - D (k (u_xx + u_yy) + k_x u_x + k_y u_y) - rho u (1 - u).
  Named parameters D, rho and white_ratio (inferable: the calibration from scans), and the seed's seed_x, seed_y,
  seed_amp, seed_width (initial data only); the end time -fisher_tfinal. Reference axes t,y,x; network inputs t,x,y
  (solvers/fisher.c).

  On a coarse level of heterogeneous tissue, whose cells span at least one tissue period (-<prefix>fisher_model
  auto), the formulation is the homogenized one,

      u_t - (Dxx u_xx + Dyy u_yy) - rho u (1 - u) = 0,

  with a constant diagonal effective diffusion tensor diag(Dxx, Dyy) (the named parameters Dxx, Dyy) trained with the
  network (KDPDESetParameterLearned()): a student learns the effective diffusivity from its teacher's coarse field, to
  be compared with D K_eff of the tissue's periodic cell problem (the reference's D_eff, solvers/fisher.c). Diagonal:
  exact for a laminate, whose layers are normal to an axis; the off-diagonal entries of a disk or image tissue's
  K_eff are reported beside, not learned (they would need the jet of u_xy in every model). The initial tensor is the
  arithmetic mean of grey and white matter, isotropic (the Wiener upper bound), or what -<prefix>infer gives.
*/
#include <kdpdeimpl.h>
#include "pde/fisher.h"

typedef enum { KD_FISHER_MODEL_AUTO, KD_FISHER_MODEL_FINE, KD_FISHER_MODEL_HOMOGENIZED } KDFisherModel;
static const char *const KDFisherModels[] = {"auto", "fine", "homogenized", "KDFisherModel", "KD_FISHER_MODEL_", NULL};

typedef struct {
  KDFisherProblem prob; /* tfinal, tissue and mode; its parameters are copied from the PDE's (KDPDEFisherSync) */
  PetscInt param[KD_FISHER_NPARAM];
  PetscInt sxx, syy;     /* jet streams of u_xx, u_yy */
  PetscBool probset;     /* the problem was defined (options or a reference) */
  KDFisherModel model;   /* -<prefix>fisher_model */
  PetscReal h;           /* the model level's cell width in space (KDPDESetLevel()), 0: unknown (the fine level) */
  PetscBool homogenized; /* the formulation in use */
} KDPDE_Fisher;

enum { FISHER_U, FISHER_T, FISHER_X, FISHER_Y };
enum { FISHER_CHI, FISHER_CHIX, FISHER_CHIY, FISHER_NCOEF }; /* the white-matter indicator and its gradient */

static const char *const KDFisherParamNames[KD_FISHER_NPARAM] = {
    "D", "rho", "white_ratio", "seed_x", "seed_y", "seed_amp", "seed_width", "Dxx", "Dyy"};

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
  PetscCheck(p[KD_FISHER_WHITE_RATIO] > 0 && PetscIsNormalReal(p[KD_FISHER_WHITE_RATIO]), comm,
             PETSC_ERR_ARG_OUTOFRANGE, "-fisher_white_ratio must be positive, got %g",
             (double) p[KD_FISHER_WHITE_RATIO]);
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

/*@C
  KDFisherProblemSetUp - Checks a tumour-growth problem (KDFisherProblemCheck()) and sets up its tissue: the
  microstructure's checks, the placement of its disks, the reading of its image (KDCompositeSetUp()).

  Collective
@*/
PetscErrorCode KDFisherProblemSetUp(MPI_Comm comm, KDFisherProblem *prob)
{
  PetscFunctionBegin;
  PetscCall(KDFisherProblemCheck(comm, prob));
  if (prob->heterogeneous) {
    prob->tissue.prefix     = "fisher_";
    prob->tissue.typeoption = "tissue";
    prob->tissue.seedoption = "disk_seed";
    prob->tissue.k1         = 1;
    prob->tissue.k2         = prob->param[KD_FISHER_WHITE_RATIO];
    PetscCall(KDCompositeSetUp(comm, &prob->tissue));
  }
  PetscFunctionReturn(0);
}

void KDFisherProblemTissue(const KDFisherProblem *prob, PetscReal x, PetscReal y, PetscReal *chi, PetscReal gchi[2])
{
  PetscReal g[2] = {0, 0};

  *chi = 0;
  if (prob->heterogeneous) KDCompositeCellIndicator(&prob->tissue, x / prob->tissue.eps, y / prob->tissue.eps, chi, g);
  if (gchi) {
    gchi[0] = prob->heterogeneous ? g[0] / prob->tissue.eps : 0;
    gchi[1] = prob->heterogeneous ? g[1] / prob->tissue.eps : 0;
  }
}

/* Manufactured solution: every term has zero normal derivative on the walls of the unit square; cos(2 pi y) against
   cos(pi x) breaks the x-y symmetry, the cos(t) term the pure decay. Returns u, u_t, grad u and the laplacian. */
static void KDFisherExactAll(PetscReal t, PetscReal x, PetscReal y, PetscReal *u, PetscReal *ut, PetscReal gu[2],
                             PetscReal *lap)
{
  const PetscReal et = PetscExpReal(-t), ct = PetscCosReal(t), st = PetscSinReal(t), pi = PETSC_PI;
  const PetscReal cx = PetscCosReal(pi * x), sx = PetscSinReal(pi * x), c2y = PetscCosReal(2 * pi * y),
                  s2y = PetscSinReal(2 * pi * y), b = PetscCosReal(2 * pi * x);

  *u = 0.5 + 0.2 * et * cx * c2y + 0.1 * ct * b;
  if (ut) *ut = -0.2 * et * cx * c2y - 0.1 * st * b;
  if (gu) {
    gu[0] = -0.2 * et * pi * sx * c2y - 0.1 * ct * 2 * pi * PetscSinReal(2 * pi * x);
    gu[1] = -0.2 * et * cx * 2 * pi * s2y;
  }
  if (lap) *lap = -5 * pi * pi * 0.2 * et * cx * c2y - 4 * pi * pi * 0.1 * ct * b;
}

PetscReal KDFisherExact(PetscReal t, PetscReal x, PetscReal y)
{
  PetscReal u;

  KDFisherExactAll(t, x, y, &u, NULL, NULL, NULL);
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
  const PetscReal a = prob->param[KD_FISHER_WHITE_RATIO] - 1;
  PetscReal u, ut, gu[2], lap, chi, gchi[2];

  if (!prob->manufactured) return 0;
  KDFisherExactAll(t, x, y, &u, &ut, gu, &lap);
  KDFisherProblemTissue(prob, x, y, &chi, gchi);
  return ut - prob->param[KD_FISHER_D] * ((1 + a * chi) * lap + a * (gchi[0] * gu[0] + gchi[1] * gu[1])) -
         prob->param[KD_FISHER_RHO] * u * (1 - u);
}

/* ---------------------------------------------------------------------------------------------------------------
   The PDE
   --------------------------------------------------------------------------------------------------------------- */

/* The problem's parameters follow the named parameters (which KDPDESetParameter() may have changed). */
static void KDPDEFisherSync(KDPDE pde)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;
  for (PetscInt i = 0; i < KD_FISHER_NPARAM; i++) f->prob.param[i] = pde->param_values[f->param[i]];
  f->prob.tissue.k2 = f->prob.param[KD_FISHER_WHITE_RATIO];
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

/* The formulation of the model's level: homogenized where a cell spans at least one tissue period (auto; never in
   homogeneous tissue), or as forced. The homogenized one trains diag(Dxx, Dyy) with the network. */
static PetscErrorCode KDPDEFisherUpdateModel(KDPDE pde)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;
  PetscBool hom;

  PetscFunctionBegin;
  if (f->model == KD_FISHER_MODEL_AUTO)
    hom = f->probset && f->prob.heterogeneous && f->h > 0 && f->h >= f->prob.tissue.eps * (1 - 1e-12) ? PETSC_TRUE
                                                                                                      : PETSC_FALSE;
  else
    hom = f->model == KD_FISHER_MODEL_HOMOGENIZED ? PETSC_TRUE : PETSC_FALSE;
  if (hom && !f->homogenized && f->probset) {
    /* the initial tensor: the arithmetic mean of grey and white matter, isotropic (an uninformed start, the Wiener
       upper bound); D itself in homogeneous tissue */
    const PetscReal D                          = pde->param_values[f->param[KD_FISHER_D]];
    const PetscReal w                          = f->prob.heterogeneous ? f->prob.tissue.fraction : 0;
    const PetscReal Dmean                      = D * ((1 - w) + w * pde->param_values[f->param[KD_FISHER_WHITE_RATIO]]);
    pde->param_values[f->param[KD_FISHER_DXX]] = Dmean;
    pde->param_values[f->param[KD_FISHER_DYY]] = Dmean;
  }
  f->homogenized = hom;
  PetscCall(KDPDESetParameterLearned(pde, f->param[KD_FISHER_DXX], hom));
  PetscCall(KDPDESetParameterLearned(pde, f->param[KD_FISHER_DYY], hom));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetProblemFromOptions_Fisher(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  static const char *const orientations[] = {"x", "y", "KDOrientation", "KD_ORIENTATION_", NULL};
  KDPDE_Fisher *f                         = (KDPDE_Fisher *) pde->data;
  char tissue[256]                        = "none";
  PetscReal tfinal = 1.0, eps = 0.25, fraction = 0.3, width = 0.01;
  PetscInt orientation = 0, ndisks = 4, seed = 1;
  PetscBool widthset, none, found, help;
  PetscEnum type;

  PetscFunctionBegin;
  PetscCall(KDOptionsReal("-tfinal", "End time T", "KDPDESetProblemFromOptions", tfinal, &tfinal, NULL));
  PetscCall(PetscOptionsString("-tissue", "White matter: none, laminate, disks or a PGM image of one period",
                               "KDFisherProblemSetUp", tissue, tissue, sizeof(tissue), NULL));
  PetscCall(KDOptionsReal("-eps", "Tissue: period of the white-matter microstructure (1/eps an integer)",
                          "KDFisherProblemSetUp", eps, &eps, NULL));
  PetscCall(KDOptionsReal("-fraction", "Tissue: volume fraction of white matter, in (0, 1)", "KDFisherProblemSetUp",
                          fraction, &fraction, NULL));
  PetscCall(KDOptionsReal("-interface_width",
                          "Tissue: width of the smoothed grey-white interface (0: sharp; an image's default)",
                          "KDFisherProblemSetUp", width, &width, &widthset));
  PetscCall(KDOptionsEList("-orientation", "Tissue laminate: normal of the layers", "KDFisherProblemSetUp",
                           orientations, 2, orientations[orientation], &orientation, NULL));
  PetscCall(KDOptionsInt("-disks", "Tissue disks: disks per period", "KDFisherProblemSetUp", ndisks, &ndisks, NULL));
  PetscCall(KDOptionsInt("-disk_seed", "Tissue disks: placement seed", "KDFisherProblemSetUp", seed, &seed, NULL));
  PetscCall(KDHelpRequested(&help));
  if (help) PetscFunctionReturn(0); /* -help lists the options; an image file need not exist */
  PetscCall(KDCompositeReset(&f->prob.tissue));
  PetscCall(PetscStrcmp(tissue, "none", &none));
  f->prob.heterogeneous = none ? PETSC_FALSE : PETSC_TRUE;
  if (!none) {
    PetscCall(PetscEnumFind(KDCompositeTypes, tissue, &type, &found));
    PetscCheck(!found || (KDCompositeType) type != KD_COMPOSITE_CHECKERBOARD, pde->comm, PETSC_ERR_ARG_WRONG,
               "-fisher_tissue must be none, laminate, disks or a PGM file, got checkerboard");
    if (found && (KDCompositeType) type != KD_COMPOSITE_IMAGE)
      f->prob.tissue.type = (KDCompositeType) type;
    else {
      f->prob.tissue.type = KD_COMPOSITE_IMAGE;
      PetscCall(PetscStrncpy(f->prob.tissue.source, tissue, sizeof(f->prob.tissue.source)));
      if (!widthset) width = 0; /* an image is sharp */
    }
    f->prob.tissue.eps         = eps;
    f->prob.tissue.fraction    = fraction;
    f->prob.tissue.width       = width;
    f->prob.tissue.orientation = orientation;
    f->prob.tissue.ndisks      = ndisks;
    f->prob.tissue.seed        = seed;
  }
  f->prob.tfinal       = tfinal;
  f->prob.manufactured = PETSC_FALSE;
  f->prob.planar       = PETSC_FALSE;
  KDPDEFisherSync(pde);
  PetscCall(KDFisherProblemSetUp(pde->comm, &f->prob));
  f->probset           = PETSC_TRUE;
  pde->hi[pde->tinput] = tfinal;
  PetscCall(KDPDEFisherUpdateModel(pde));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEWriteReference_Fisher(KDPDE pde, KDReference ref)
{
  const KDFisherProblem *prob;

  PetscFunctionBegin;
  PetscCall(KDPDEFisherGetProblem(pde, &prob));
  PetscCall(KDReferenceSetParameter(ref, "tfinal", prob->tfinal));
  if (prob->heterogeneous) {
    char *text;
    PetscCall(KDCompositeToString(&prob->tissue, &text));
    PetscCall(KDReferenceSetString(ref, "tissue", text));
    PetscCall(PetscFree(text));
  } else
    PetscCall(KDReferenceSetString(ref, "tissue", "none"));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetFromReference_Fisher(KDPDE pde, KDReference ref)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;
  const char *text;
  PetscBool found, none;
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDReferenceGetParameter(ref, "tfinal", &f->prob.tfinal, &found));
  PetscCheck(found && f->prob.tfinal > 0, comm, PETSC_ERR_ARG_WRONG,
             "the reference has no valid 'tfinal' parameter: not written by the fisher solver");
  PetscCall(KDReferenceGetString(ref, "tissue", &text));
  PetscCheck(text, comm, PETSC_ERR_ARG_WRONG,
             "the reference has no 'tissue' attribute: not written by the fisher solver");
  PetscCall(PetscStrcmp(text, "none", &none));
  PetscCall(KDCompositeReset(&f->prob.tissue));
  f->prob.heterogeneous = none ? PETSC_FALSE : PETSC_TRUE;
  if (!none) {
    PetscCall(KDCompositeFromString(comm, text, &f->prob.tissue));
    f->prob.tissue.prefix     = "fisher_"; /* later messages name this PDE's options */
    f->prob.tissue.typeoption = "tissue";
    f->prob.tissue.seedoption = "disk_seed";
  }
  f->prob.manufactured = PETSC_FALSE;
  f->prob.planar       = PETSC_FALSE;
  f->probset           = PETSC_TRUE;
  KDPDEFisherSync(pde);
  PetscCall(KDFisherProblemCheck(comm, &f->prob));
  PetscCall(KDPDEFisherUpdateModel(pde));
  PetscFunctionReturn(0);
}

/* The level's cell width in space (the time axis aside) decides the formulation (auto). */
static PetscErrorCode KDPDESetLevel_Fisher(KDPDE pde, KDReference ref, PetscInt level)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;
  PetscInt dim, n[KD_MAX_DIM], map[KD_NET_MAX_IN];
  PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM];

  PetscFunctionBegin;
  PetscCall(KDReferenceGetLevelGrid(ref, level, &dim, n, lo, hi));
  PetscCall(KDPDEGetReferenceAxisMap(pde, ref, map));
  f->h = 0;
  for (PetscInt i = 0; i < pde->nin; i++) { /* the inputs x and y, whatever the reference's axis order */
    const PetscInt a = map[i];
    if (i == pde->tinput) continue;
    f->h = f->h > 0 ? PetscMin(f->h, (hi[a] - lo[a]) / n[a]) : (hi[a] - lo[a]) / n[a];
  }
  PetscCall(KDPDEFisherUpdateModel(pde));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDESetFromOptions_Fisher(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;
  PetscEnum model = (PetscEnum) f->model;

  PetscFunctionBegin;
  PetscCall(KDOptionsEnum(
      "-fisher_model", "Formulation: auto (homogenized on levels whose cells span a tissue period), fine, homogenized",
      "KDPDESetFromOptions", KDFisherModels, model, &model, NULL));
  f->model = (KDFisherModel) model;
  PetscCall(KDPDEFisherUpdateModel(pde));
  PetscFunctionReturn(0);
}

/* chi, chi_x, chi_y at (t, x, y) */
static PetscErrorCode KDPDECoefficients_Fisher(KDPDE pde, PetscInt n, const PetscReal x[], PetscReal coef[])
{
  const KDFisherProblem *prob;

  PetscFunctionBegin;
  PetscCall(KDPDEFisherGetProblem(pde, &prob));
  for (PetscInt p = 0; p < n; p++) {
    PetscReal chi, g[2];
    KDFisherProblemTissue(prob, x[3 * p + 1], x[3 * p + 2], &chi, g);
    coef[FISHER_CHI * n + p]  = chi;
    coef[FISHER_CHIX * n + p] = g[0];
    coef[FISHER_CHIY * n + p] = g[1];
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEResidual_Fisher(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                           PetscReal res[])
{
  const KDPDE_Fisher *f = (const KDPDE_Fisher *) pde->data;
  const PetscReal D = pde->param_values[f->param[KD_FISHER_D]], rho = pde->param_values[f->param[KD_FISHER_RHO]],
                  a  = pde->param_values[f->param[KD_FISHER_WHITE_RATIO]] - 1;
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, FISHER_U), *ut = KDPDEJet(pde, jet, n, 0, FISHER_T),
                  *ux = KDPDEJet(pde, jet, n, 0, FISHER_X), *uy = KDPDEJet(pde, jet, n, 0, FISHER_Y),
                  *uxx = KDPDEJet(pde, jet, n, 0, f->sxx), *uyy = KDPDEJet(pde, jet, n, 0, f->syy);
  const PetscReal *chi = coef + FISHER_CHI * n, *cx = coef + FISHER_CHIX * n, *cy = coef + FISHER_CHIY * n;

  PetscFunctionBegin;
  if (f->homogenized) {
    const PetscReal Dxx = pde->param_values[f->param[KD_FISHER_DXX]], Dyy = pde->param_values[f->param[KD_FISHER_DYY]];
    for (PetscInt p = 0; p < n; p++) res[p] = ut[p] - (Dxx * uxx[p] + Dyy * uyy[p]) - rho * u[p] * (1 - u[p]);
  } else
    for (PetscInt p = 0; p < n; p++)
      res[p] = ut[p] - D * ((1 + a * chi[p]) * (uxx[p] + uyy[p]) + a * (cx[p] * ux[p] + cy[p] * uy[p])) -
               rho * u[p] * (1 - u[p]);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEResidualAdjoint_Fisher(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                                  const PetscReal rbar[], PetscReal adj[])
{
  const KDPDE_Fisher *f = (const KDPDE_Fisher *) pde->data;
  const PetscReal D = pde->param_values[f->param[KD_FISHER_D]], rho = pde->param_values[f->param[KD_FISHER_RHO]],
                  a    = pde->param_values[f->param[KD_FISHER_WHITE_RATIO]] - 1;
  const PetscReal *u   = KDPDEJet(pde, jet, n, 0, FISHER_U);
  const PetscReal *chi = coef + FISHER_CHI * n, *cx = coef + FISHER_CHIX * n, *cy = coef + FISHER_CHIY * n;
  PetscReal *au = KDPDEJetAdjoint(pde, adj, n, 0, FISHER_U), *aut = KDPDEJetAdjoint(pde, adj, n, 0, FISHER_T),
            *aux = KDPDEJetAdjoint(pde, adj, n, 0, FISHER_X), *auy = KDPDEJetAdjoint(pde, adj, n, 0, FISHER_Y),
            *auxx = KDPDEJetAdjoint(pde, adj, n, 0, f->sxx), *auyy = KDPDEJetAdjoint(pde, adj, n, 0, f->syy);

  PetscFunctionBegin;
  if (f->homogenized) {
    const PetscReal Dxx = pde->param_values[f->param[KD_FISHER_DXX]], Dyy = pde->param_values[f->param[KD_FISHER_DYY]];
    for (PetscInt p = 0; p < n; p++) {
      au[p] -= rho * (1 - 2 * u[p]) * rbar[p];
      aut[p] += rbar[p];
      auxx[p] -= Dxx * rbar[p];
      auyy[p] -= Dyy * rbar[p];
    }
    PetscFunctionReturn(0);
  }
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal Dk = D * (1 + a * chi[p]);
    au[p] -= rho * (1 - 2 * u[p]) * rbar[p];
    aut[p] += rbar[p];
    aux[p] -= D * a * cx[p] * rbar[p];
    auy[p] -= D * a * cy[p] * rbar[p];
    auxx[p] -= Dk * rbar[p];
    auyy[p] -= Dk * rbar[p];
  }
  PetscFunctionReturn(0);
}

/* d res / d D = -(k lap u + grad k . grad u), d res / d rho = -u (1 - u), d res / d white_ratio = -D (chi lap u +
   grad chi . grad u) (white matter in the tissue only); homogenized: d res / d Dxx = -u_xx, d res / d Dyy = -u_yy, and
   D and white_ratio do not appear. The seed enters only the initial data. */
static PetscErrorCode KDPDEResidualParameter_Fisher(KDPDE pde, PetscInt k, PetscInt n, const PetscReal coef[],
                                                    const PetscReal jet[], PetscReal dres[])
{
  const KDPDE_Fisher *f = (const KDPDE_Fisher *) pde->data;
  const PetscReal D     = pde->param_values[f->param[KD_FISHER_D]],
                  a     = pde->param_values[f->param[KD_FISHER_WHITE_RATIO]] - 1;
  const PetscReal *u = KDPDEJet(pde, jet, n, 0, FISHER_U), *ux = KDPDEJet(pde, jet, n, 0, FISHER_X),
                  *uy = KDPDEJet(pde, jet, n, 0, FISHER_Y), *uxx = KDPDEJet(pde, jet, n, 0, f->sxx),
                  *uyy = KDPDEJet(pde, jet, n, 0, f->syy);
  const PetscReal *chi = coef + FISHER_CHI * n, *cx = coef + FISHER_CHIX * n, *cy = coef + FISHER_CHIY * n;

  PetscFunctionBegin;
  if (k == f->param[KD_FISHER_DXX] || k == f->param[KD_FISHER_DYY]) {
    PetscCheck(f->homogenized, pde->comm, PETSC_ERR_SUP,
               "fisher: %s is a parameter of the homogenized formulation (-fisher_model homogenized, or a level whose "
               "cells span a tissue period)",
               pde->param_names[k]);
    for (PetscInt p = 0; p < n; p++) dres[p] = -(k == f->param[KD_FISHER_DXX] ? uxx[p] : uyy[p]);
    PetscFunctionReturn(0);
  }
  PetscCheck(
      !f->homogenized || k == f->param[KD_FISHER_RHO], pde->comm, PETSC_ERR_SUP,
      "fisher: the homogenized formulation has the tensor Dxx, Dyy in place of %s, which cannot be inferred there",
      pde->param_names[k]);
  if (k == f->param[KD_FISHER_D])
    for (PetscInt p = 0; p < n; p++)
      dres[p] = -((1 + a * chi[p]) * (uxx[p] + uyy[p]) + a * (cx[p] * ux[p] + cy[p] * uy[p]));
  else if (k == f->param[KD_FISHER_RHO])
    for (PetscInt p = 0; p < n; p++) dres[p] = -u[p] * (1 - u[p]);
  else if (k == f->param[KD_FISHER_WHITE_RATIO]) {
    PetscCheck(!f->probset || f->prob.heterogeneous, pde->comm, PETSC_ERR_SUP,
               "fisher: white_ratio cannot be inferred in homogeneous tissue (-fisher_tissue none)");
    for (PetscInt p = 0; p < n; p++) dres[p] = -D * (chi[p] * (uxx[p] + uyy[p]) + cx[p] * ux[p] + cy[p] * uy[p]);
  } else
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
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s tissue, tfinal = %g; front speed 2 sqrt(D rho) = %g (grey matter)\n",
                                   f->prob.heterogeneous ? "heterogeneous" : "homogeneous", (double) f->prob.tfinal,
                                   (double) (2 * PetscSqrtReal(pde->param_values[f->param[KD_FISHER_D]] *
                                                               pde->param_values[f->param[KD_FISHER_RHO]]))));
  if (f->homogenized)
    PetscCall(PetscViewerASCIIPrintf(viewer, "homogenized formulation: diag(Dxx, Dyy) = diag(%g, %g) learned\n",
                                     (double) pde->param_values[f->param[KD_FISHER_DXX]],
                                     (double) pde->param_values[f->param[KD_FISHER_DYY]]));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDPDEDestroy_Fisher(KDPDE pde)
{
  KDPDE_Fisher *f = (KDPDE_Fisher *) pde->data;

  PetscFunctionBegin;
  PetscCall(KDCompositeReset(&f->prob.tissue));
  PetscCall(PetscFree(pde->data));
  PetscFunctionReturn(0);
}

/*
  KDPDECreate_Fisher - inputs t,x,y, output u, one residual; coefficients chi, chi_x, chi_y (white matter); parameters
  D, rho, white_ratio (positive, inferable), seed_x, seed_y, seed_amp, seed_width, Dxx, Dyy (the homogenized tensor,
  learned on coarse levels) (-fisher_*); problem options
  -fisher_tfinal and the tissue's (-fisher_tissue, -fisher_eps, ...); conditions ic (initial, the Gaussian seed) and bc
  (neumann, zero flux on all four walls).
*/
PETSC_EXTERN PetscErrorCode KDPDECreate_Fisher(KDPDE pde)
{
  KDPDE_Fisher *f;
  const PetscReal defaults[KD_FISHER_NPARAM] = {1e-3, 5.0, 5.0, 0.5, 0.5, 0.5, 0.05, 1e-3, 1e-3};
  const char *help[KD_FISHER_NPARAM]         = {"Diffusivity D (grey matter) of u_t = div(D k grad u) + rho u (1 - u)",
                                                "Proliferation rate rho of u_t = div(D k grad u) + rho u (1 - u)",
                                                "Diffusivity of white matter over grey matter (k in white matter)",
                                                "Centre cx of the seed u(0) = amp exp(-|(x,y) - (cx,cy)|^2 / (2 w^2))",
                                                "Centre cy of the seed",
                                                "Amplitude amp of the seed, in (0, 1]",
                                                "Width w of the seed",
                                                "Homogenized diffusivity Dxx (solve: D K_eff of the cell problem; "
                                                        "coarse students learn theirs)",
                                                "Homogenized diffusivity Dyy (solve: D K_eff of the cell problem; "
                                                        "coarse students learn theirs)"};

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
  PetscCall(KDPDESetParameterPositive(pde, f->param[KD_FISHER_WHITE_RATIO]));
  PetscCall(KDPDESetParameterPositive(pde, f->param[KD_FISHER_DXX]));
  PetscCall(KDPDESetParameterPositive(pde, f->param[KD_FISHER_DYY]));
  {
    const PetscInt Dt[4] = {f->param[KD_FISHER_DXX], -1, -1, f->param[KD_FISHER_DYY]}; /* diagonal: -1 a zero entry */
    PetscCall(KDPDESetLearnedTensor(pde, "effective_diffusivity", 2, Dt, "D_eff", "cell_problem"));
    PetscCall(KDPDESetLearnedTensorNeedsTeacher(pde, PETSC_TRUE)); /* any D solves the PINN loss; a twin takes D -> 0 */
  }
  PetscCall(KDPDESetNumCoefficients(pde, FISHER_NCOEF));
  PetscCall(KDPDEAddCondition(pde, "ic", KD_CONDITION_INITIAL, 0, "u", KDPDEInitial_Fisher, NULL));
  PetscCall(KDPDEAddCondition(pde, "bc", KD_CONDITION_NEUMANN, KD_FACES_ALL, "u", NULL, NULL));
  f->prob.tfinal                  = 1.0;
  pde->ops->setproblemfromoptions = KDPDESetProblemFromOptions_Fisher;
  pde->ops->writereference        = KDPDEWriteReference_Fisher;
  pde->ops->setfromreference      = KDPDESetFromReference_Fisher;
  pde->ops->setlevel              = KDPDESetLevel_Fisher;
  pde->ops->setfromoptions        = KDPDESetFromOptions_Fisher;
  pde->ops->coefficients          = KDPDECoefficients_Fisher;
  pde->ops->residual              = KDPDEResidual_Fisher;
  pde->ops->residualadjoint       = KDPDEResidualAdjoint_Fisher;
  pde->ops->residualparameter     = KDPDEResidualParameter_Fisher;
  pde->ops->view                  = KDPDEView_Fisher;
  PetscFunctionReturn(0);
}
