/*
  An example of a user PDE outside the library: 2-D Darcy flow (steady diffusion) with a variable permeability,

      -div(K grad u) = f  on [0, 1]^2,   K(x, y) = 1 + c x^2 + y / 2   (c: the parameter contrast, default 1),
      u = g on x = 0 and x = 1 (dirichlet),   K du/dn = q on y = 0 and y = 1 (a flux condition),

  with f, g and q made from the manufactured solution u(x, y) = sin(pi x) cos(pi y / 3) + x y / 2, so that every
  result can be checked against it. The plugin registers the PDE type darcy and a finite-volume reference solver for
  it (-darcy_n cells per side); the stock driver loads it with -kd_plugin (docs/extending.md walks through this
  file). Build it against an installed kdpinn with the CMakeLists.txt beside it.
*/
#include <kdpdeimpl.h>
#include <kdsolver.h>

enum { S_U, S_X, S_Y, S_XX, S_YY };
enum { C_K, C_KX, C_KY, C_F, NCOEF };

typedef struct {
  PetscInt contrast; /* index of the parameter */
} Darcy;

static PetscReal Contrast(KDPDE pde)
{
  return pde->param_values[((Darcy *) pde->data)->contrast];
}

/* The manufactured solution and its derivatives. */
static void Exact(PetscReal x, PetscReal y, PetscReal *u, PetscReal *ux, PetscReal *uy, PetscReal *lap)
{
  const PetscReal sx = PetscSinReal(PETSC_PI * x), cx = PetscCosReal(PETSC_PI * x);
  const PetscReal sy = PetscSinReal(PETSC_PI * y / 3), cy = PetscCosReal(PETSC_PI * y / 3);

  if (u) *u = sx * cy + 0.5 * x * y;
  if (ux) *ux = PETSC_PI * cx * cy + 0.5 * y;
  if (uy) *uy = -PETSC_PI / 3 * sx * sy + 0.5 * x;
  if (lap) *lap = -(PETSC_PI * PETSC_PI + PETSC_PI * PETSC_PI / 9) * sx * cy;
}

/* K, its gradient, and f = -div(K grad u) of the manufactured solution. */
static void Data(PetscReal c, PetscReal x, PetscReal y, PetscReal *K, PetscReal *Kx, PetscReal *Ky, PetscReal *f)
{
  PetscReal ux, uy, lap;

  *K  = 1 + c * x * x + 0.5 * y;
  *Kx = 2 * c * x;
  *Ky = 0.5;
  Exact(x, y, NULL, &ux, &uy, &lap);
  *f = -(*K * lap + *Kx * ux + *Ky * uy);
}

static PetscErrorCode Coefficients(KDPDE pde, PetscInt n, const PetscReal x[], PetscReal coef[])
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++)
    Data(Contrast(pde), x[2 * p], x[2 * p + 1], &coef[C_K * n + p], &coef[C_KX * n + p], &coef[C_KY * n + p],
         &coef[C_F * n + p]);
  PetscFunctionReturn(0);
}

/* N[u] = -(K (u_xx + u_yy) + K_x u_x + K_y u_y) - f */
static PetscErrorCode Residual(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[], PetscReal res[])
{
  const PetscReal *ux = KDPDEJet(pde, jet, n, 0, S_X), *uy = KDPDEJet(pde, jet, n, 0, S_Y);
  const PetscReal *uxx = KDPDEJet(pde, jet, n, 0, S_XX), *uyy = KDPDEJet(pde, jet, n, 0, S_YY);
  const PetscReal *K = coef + C_K * n, *Kx = coef + C_KX * n, *Ky = coef + C_KY * n, *f = coef + C_F * n;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) res[p] = -(K[p] * (uxx[p] + uyy[p]) + Kx[p] * ux[p] + Ky[p] * uy[p]) - f[p];
  PetscFunctionReturn(0);
}

static PetscErrorCode ResidualAdjoint(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                      const PetscReal rbar[], PetscReal adj[])
{
  const PetscReal *K = coef + C_K * n, *Kx = coef + C_KX * n, *Ky = coef + C_KY * n;
  PetscReal *ax = KDPDEJetAdjoint(pde, adj, n, 0, S_X), *ay = KDPDEJetAdjoint(pde, adj, n, 0, S_Y);
  PetscReal *axx = KDPDEJetAdjoint(pde, adj, n, 0, S_XX), *ayy = KDPDEJetAdjoint(pde, adj, n, 0, S_YY);

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    ax[p] -= Kx[p] * rbar[p];
    ay[p] -= Ky[p] * rbar[p];
    axx[p] -= K[p] * rbar[p];
    ayy[p] -= K[p] * rbar[p];
  }
  PetscFunctionReturn(0);
}

/* u = g on the x faces */
static PetscErrorCode Dirichlet(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[], PetscReal g[],
                                PetscReal c[], void *ctx)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) Exact(x[2 * p], x[2 * p + 1], &g[p], NULL, NULL, NULL);
  PetscFunctionReturn(0);
}

/* K du/dn = q on the y faces: the flux coefficient is K, n the outward normal (-y on y = 0, +y on y = 1) */
static PetscErrorCode Flux(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[], PetscReal g[],
                           PetscReal c[], void *ctx)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    PetscReal K, Kx, Ky, f, uy;
    Data(Contrast(pde), x[2 * p], x[2 * p + 1], &K, &Kx, &Ky, &f);
    Exact(x[2 * p], x[2 * p + 1], NULL, NULL, &uy, NULL);
    c[p] = K;
    g[p] = (face[p] % 2 ? 1.0 : -1.0) * K * uy;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode SetProblemFromOptions(KDPDE pde, PetscOptionItems *PetscOptionsObject)
{
  PetscFunctionBegin;
  PetscCheck(Contrast(pde) > -1, pde->comm, PETSC_ERR_ARG_OUTOFRANGE, "-darcy_contrast must be > -1 (K > 0), got %g",
             (double) Contrast(pde));
  PetscFunctionReturn(0);
}

static PetscErrorCode Destroy(KDPDE pde)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(pde->data));
  PetscFunctionReturn(0);
}

/* The PDE type darcy: what KDPDESetType(pde, "darcy") calls. */
static PetscErrorCode KDPDECreate_Darcy(KDPDE pde)
{
  Darcy *d;

  PetscFunctionBegin;
  PetscCall(PetscNew(&d));
  pde->data         = d;
  pde->ops->destroy = Destroy; /* set with the data: a failed declaration below frees it */
  PetscCall(KDPDESetVariables(pde, "x,y", "u", 1));
  PetscCall(KDPDEAddSecondDerivative(pde, "x", "x", NULL));
  PetscCall(KDPDEAddSecondDerivative(pde, "y", "y", NULL));
  PetscCall(KDPDEAddParameter(pde, "contrast", 1.0, "Permeability K = 1 + contrast x^2 + y/2", &d->contrast));
  PetscCall(KDPDESetNumCoefficients(pde, NCOEF));
  PetscCall(KDPDEAddCondition(pde, "bc", KD_CONDITION_DIRICHLET, KD_FACE(0, 0) | KD_FACE(0, 1), "u", Dirichlet, NULL));
  PetscCall(KDPDEAddCondition(pde, "flux", KD_CONDITION_NEUMANN, KD_FACE(1, 0) | KD_FACE(1, 1), "u", Flux, NULL));
  pde->ops->setproblemfromoptions = SetProblemFromOptions;
  pde->ops->coefficients          = Coefficients;
  pde->ops->residual              = Residual;
  pde->ops->residualadjoint       = ResidualAdjoint;
  PetscFunctionReturn(0);
}

/*
  The reference solver: cell-centred finite volumes on n x n cells of width h, the flux K_f (u_nb - u_P) / h through
  an interior face with K at the face centre, 2 K_f (g - u_P) / h through a dirichlet face (the value at the face
  centre), the prescribed flux q through a flux face; second order. One KSP solve (prefix -darcy_), on a DMDA.
*/
static PetscErrorCode KDSolveDarcy(KDPDE pde, KDReference ref)
{
  MPI_Comm comm;
  DM da;
  Mat A;
  Vec b, u, U;
  PetscScalar **barr;
  KSP ksp;
  PetscInt n = 64, xs, ys, xm, ym, nn[2];
  KDCommonOptions common;
  PetscReal h, c = Contrast(pde);
  const PetscReal lo[2] = {0, 0}, hi[2] = {1, 1};
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscOptionsBegin(comm, "darcy_", "Darcy reference solver", NULL);
  PetscCall(KDOptionsInt("-n", "Cells per side of the n x n grid", "KDSolveDarcy", n, &n, NULL));
  PetscOptionsEnd();
  PetscCall(KDHelpRequested(&help));
  if (help) PetscFunctionReturn(0);
  PetscCall(KDGetCommonOptions(comm, &common)); /* -kd_levels: the hierarchy the stage builds from this grid */
  PetscCheck(n >= 4 && n % ((PetscInt) 1 << (common.levels - 1)) == 0, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-darcy_n %" PetscInt_FMT " must be at least 4 and divisible by 2^(kd_levels-1)", n);
  h = 1.0 / (PetscReal) n;
  PetscCall(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, n, n, PETSC_DECIDE, PETSC_DECIDE,
                         1, 1, NULL, NULL, &da));
  PetscCall(DMSetUp(da));
  PetscCall(DMCreateMatrix(da, &A));
  PetscCall(DMCreateGlobalVector(da, &b));
  PetscCall(VecDuplicate(b, &u));
  PetscCall(DMDAGetCorners(da, &xs, &ys, NULL, &xm, &ym, NULL));
  PetscCall(DMDAVecGetArray(da, b, &barr));
  for (PetscInt j = ys; j < ys + ym; j++)
    for (PetscInt i = xs; i < xs + xm; i++) {
      const PetscReal x = (i + 0.5) * h, y = (j + 0.5) * h;
      MatStencil row = {.i = i, .j = j}, col[5];
      PetscScalar v[5], diag = 0, rhs;
      PetscInt nc = 0;
      PetscReal K, Kx, Ky, f;
      /* faces: west, east, south, north with their centres and outward normals */
      const PetscReal fx[4] = {x - h / 2, x + h / 2, x, x}, fy[4] = {y, y, y - h / 2, y + h / 2};
      const PetscInt ni[4] = {i - 1, i + 1, i, i}, nj[4] = {j, j, j - 1, j + 1};
      Data(c, x, y, &K, &Kx, &Ky, &f);
      rhs = f * h * h;
      for (PetscInt k = 0; k < 4; k++) {
        PetscReal Kf, dummy, g;
        Data(c, fx[k], fy[k], &Kf, &dummy, &dummy, &dummy);
        if (ni[k] >= 0 && ni[k] < n && nj[k] >= 0 && nj[k] < n) {
          col[nc].i = ni[k];
          col[nc].j = nj[k];
          v[nc++]   = -Kf;
          diag += Kf;
        } else if (k < 2) { /* dirichlet on x = 0, 1 */
          Exact(fx[k], fy[k], &g, NULL, NULL, NULL);
          diag += 2 * Kf;
          rhs += 2 * Kf * g;
        } else { /* flux K du/dn on y = 0, 1 */
          PetscReal uy;
          Exact(fx[k], fy[k], NULL, NULL, &uy, NULL);
          rhs += h * Kf * uy * (k == 3 ? 1.0 : -1.0);
        }
      }
      col[nc] = row;
      v[nc++] = diag;
      PetscCall(MatSetValuesStencil(A, 1, &row, nc, col, v, INSERT_VALUES));
      barr[j][i] = rhs;
    }
  PetscCall(DMDAVecRestoreArray(da, b, &barr));
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscCall(KSPCreate(comm, &ksp));
  PetscCall(KSPSetOptionsPrefix(ksp, "darcy_"));
  PetscCall(KSPSetOperators(ksp, A, A));
  PetscCall(KSPSetTolerances(ksp, 1e-12, 1e-14, PETSC_DEFAULT, 10000));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(KSPSolve(ksp, b, u));
  /* the reference's level 0: axes y,x, cells in natural order (DMDA ordering differs on several ranks) */
  nn[0] = nn[1] = n;
  PetscCall(KDReferenceSetGrid(ref, 2, "y,x", nn, lo, hi));
  PetscCall(KDReferenceCreateLevelVec(ref, 0, &U));
  {
    Vec natural;
    PetscCall(DMDACreateNaturalVector(da, &natural));
    PetscCall(DMDAGlobalToNaturalBegin(da, u, INSERT_VALUES, natural));
    PetscCall(DMDAGlobalToNaturalEnd(da, u, INSERT_VALUES, natural));
    PetscCall(VecCopy(natural, U));
    PetscCall(VecDestroy(&natural));
  }
  PetscCall(KDReferenceAddField(ref, "u", U));
  PetscCall(VecDestroy(&U));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroy(&b));
  PetscCall(MatDestroy(&A));
  PetscCall(DMDestroy(&da));
  PetscFunctionReturn(0);
}

/* What -kd_plugin calls: register the PDE type and its solver. */
PETSC_EXTERN PetscErrorCode KDPluginRegister(void)
{
  PetscFunctionBegin;
  PetscCall(KDPDERegister("darcy", KDPDECreate_Darcy));
  PetscCall(KDSolverRegister("darcy", KDSolveDarcy, "darcy_"));
  PetscFunctionReturn(0);
}

/* What PETSc's -dll_append libkdpinn_darcy.so calls. */
PETSC_EXTERN PetscErrorCode PetscDLLibraryRegister_kdpinn_darcy(void)
{
  PetscFunctionBegin;
  PetscCall(KDPluginRegister());
  PetscFunctionReturn(0);
}
