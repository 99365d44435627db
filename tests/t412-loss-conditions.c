static const char help[] =
    "The four condition types of a loss (dirichlet, neumann/flux, periodic, initial) on a PDE defined here, outside\n"
    "the library, with two outputs and a coefficient: where their points lie; each term's value against an\n"
    "independent evaluation (network values, derivatives by finite differences); the loss gradient against central\n"
    "differences; the Gauss-Newton rows (|R|^2 = loss, 2 J^T R = gradient, J against central differences); and the\n"
    "global loss at the run's rank count against one rank holding every point.\n";

#include <kdpdeimpl.h>
#include <kdtrain.h>

/* Tolerances. Term values: the independent evaluation takes d/dx by central differences with h = 1e-5 of an O(1)
   network (truncation ~ h^2 ~ 1e-10, round-off ~ eps / h ~ 1e-11): 1e-7 relative to the term. |R|^2 vs the loss
   and 2 J^T R vs the gradient are the same sums in another order: 1e-12 and 1e-11. Gradient and Jacobian against
   central differences with h = 1e-6: truncation ~ 1e-12, round-off ~ 1e-10, so 1e-6 relative to the largest entry
   leaves four orders of margin while a wrong sign, normal, coefficient or partner point gives O(1) errors. Ranks: the
   same terms summed in another order, 1e-12. */
#define VALUE_TOL 1e-7
#define SUM_TOL 1e-12
#define GRAD_TOL 1e-11
#define FD_TOL 1e-6

/* The PDE: u_t = k lap u, v_t = lap v + u on (t, x, y) in [0, 0.5] x [0, 1] x [-1, 2], k = 1 + 0.3 x + 0.2 y^2. */

static PetscReal K(PetscReal x, PetscReal y)
{
  return 1.0 + 0.3 * x + 0.2 * y * y;
}

static PetscErrorCode Coefficients(KDPDE pde, PetscInt n, const PetscReal x[], PetscReal coef[])
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) coef[p] = K(x[3 * p + 1], x[3 * p + 2]);
  PetscFunctionReturn(0);
}

enum { S_U, S_T, S_X, S_Y, S_XX, S_YY };

static PetscErrorCode Residual(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[], PetscReal res[])
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal *J = jet;
    const PetscInt S   = pde->nstreams;
    res[p]             = J[(0 * S + S_T) * n + p] - coef[p] * (J[(0 * S + S_XX) * n + p] + J[(0 * S + S_YY) * n + p]);
    res[n + p]         = J[(1 * S + S_T) * n + p] - (J[(1 * S + S_XX) * n + p] + J[(1 * S + S_YY) * n + p]) - J[p];
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode ResidualAdjoint(KDPDE pde, PetscInt n, const PetscReal coef[], const PetscReal jet[],
                                      const PetscReal rbar[], PetscReal adj[])
{
  const PetscInt S = pde->nstreams;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    adj[(0 * S + S_T) * n + p] += rbar[p];
    adj[(0 * S + S_XX) * n + p] -= coef[p] * rbar[p];
    adj[(0 * S + S_YY) * n + p] -= coef[p] * rbar[p];
    adj[(1 * S + S_T) * n + p] += rbar[n + p];
    adj[(1 * S + S_XX) * n + p] -= rbar[n + p];
    adj[(1 * S + S_YY) * n + p] -= rbar[n + p];
    adj[(0 * S + S_U) * n + p] -= rbar[n + p];
  }
  PetscFunctionReturn(0);
}

/* u = t + y, v = x y on x = 0 */
static PetscErrorCode Left(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[], PetscReal g[],
                           PetscReal c[], void *ctx)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    g[p]     = x[3 * p] + x[3 * p + 2];
    g[n + p] = x[3 * p + 1] * x[3 * p + 2];
  }
  PetscFunctionReturn(0);
}

/* k du/dn = 0.3 + t on x = 1 */
static PetscErrorCode Flux(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[], PetscReal g[],
                           PetscReal c[], void *ctx)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    PetscCheck(face[p] == 3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "flux point %" PetscInt_FMT " on face %" PetscInt_FMT, p,
               face[p]);
    g[p] = 0.3 + x[3 * p];
    c[p] = K(x[3 * p + 1], x[3 * p + 2]);
  }
  PetscFunctionReturn(0);
}

/* v(0, x, y) = sin(2x) cos(y) */
static PetscErrorCode Initial(KDPDE pde, PetscInt n, const PetscReal x[], const PetscInt face[], PetscReal g[],
                              PetscReal c[], void *ctx)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) g[n + p] = PetscSinReal(2.0 * x[3 * p + 1]) * PetscCosReal(x[3 * p + 2]);
  PetscFunctionReturn(0);
}

static PetscErrorCode CreateConditions(KDPDE pde)
{
  const PetscReal lo[3] = {0.0, 0.0, -1.0}, hi[3] = {0.5, 1.0, 2.0};

  PetscFunctionBegin;
  PetscCall(KDPDESetVariables(pde, "t,x,y", "u,v", 2));
  PetscCall(KDPDESetTimeInput(pde, 0));
  PetscCall(KDPDEAddSecondDerivative(pde, "x", "x", NULL));
  PetscCall(KDPDEAddSecondDerivative(pde, "y", "y", NULL));
  PetscCall(KDPDESetNumCoefficients(pde, 1));
  PetscCall(KDPDESetDomain(pde, lo, hi));
  PetscCall(KDPDEAddCondition(pde, "ic", KD_CONDITION_INITIAL, 0, "v", Initial, NULL));
  PetscCall(KDPDEAddCondition(pde, "left", KD_CONDITION_DIRICHLET, KD_FACE(1, 0), "u,v", Left, NULL));
  PetscCall(KDPDEAddCondition(pde, "flux", KD_CONDITION_NEUMANN, KD_FACE(1, 1), "u", Flux, NULL));
  PetscCall(KDPDEAddCondition(pde, "per", KD_CONDITION_PERIODIC, KD_FACE(2, 0) | KD_FACE(2, 1), "u,v", NULL, NULL));
  pde->ops->coefficients    = Coefficients;
  pde->ops->residual        = Residual;
  pde->ops->residualadjoint = ResidualAdjoint;
  PetscFunctionReturn(0);
}

/* ---- the checks ----------------------------------------------------------------------------------------------------
 */

static PetscErrorCode LossCreate(MPI_Comm comm, KDLoss *loss, KDNet *net)
{
  const PetscInt widths[2] = {7, 5};
  const PetscReal scale[2] = {1.5, 0.7}, shift[2] = {0.1, -0.2};

  PetscFunctionBegin;
  PetscCall(KDLossCreate(comm, loss));
  PetscCall(KDLossSetOptionsPrefix(*loss, "teacher_"));
  PetscCall(KDLossSetPDEType(*loss, "conditions"));
  PetscCall(KDLossSetSeed(*loss, 11));
  PetscCall(KDNetCreate(comm, net));
  PetscCall(KDNetSetArchitecture(*net, 1, 2, widths, 1));
  PetscCall(KDLossConfigureNet(*loss, *net));
  PetscCall(KDNetSetOutputScaling(*net, scale, shift));
  PetscCall(KDNetSetBlockSize(*net, 8)); /* sets span several blocks: per-block offsets into the arrays matter */
  PetscCall(KDNetSetUp(*net));
  PetscCall(KDNetInitialize(*net, 5));
  PetscCall(KDLossSetNet(*loss, *net));
  PetscCall(KDLossSetFromOptions(*loss));
  PetscCall(KDLossSetUp(*loss));
  PetscFunctionReturn(0);
}

/* d u_o / d x_i at a point by central differences of the network's values. */
static PetscErrorCode Derivative(KDNet net, const PetscReal x[], PetscInt i, PetscInt o, PetscReal *d)
{
  const PetscReal h = 1e-5;
  PetscReal xp[3], yp[2], ym[2];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < 3; k++) xp[k] = x[k];
  xp[i] = x[i] + h;
  PetscCall(KDNetEvaluate(net, 1, xp, yp));
  xp[i] = x[i] - h;
  PetscCall(KDNetEvaluate(net, 1, xp, ym));
  *d = (yp[o] - ym[o]) / (2 * h);
  PetscFunctionReturn(0);
}

/* Each condition term of this rank, computed here from the network's values: the points on their faces, and the
   misfits as docs/losses.md defines them. */
static PetscErrorCode CheckTerms(KDLoss loss, KDNet net, PetscInt N, PetscReal w)
{
  const char *const *names;
  PetscInt nterms;
  PetscReal *terms, *grad;
  PetscInt np;

  PetscFunctionBegin;
  PetscCall(KDLossGetTerms(loss, &nterms, &names));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(PetscMalloc2(nterms, &terms, np, &grad));
  PetscCall(KDLossEvaluateLocal(loss, terms, grad));
  for (PetscInt t = 0; t < nterms; t++) {
    const PetscReal *x;
    PetscInt n;
    PetscReal sum = 0, s;
    PetscBool ic, left, flux, per;
    PetscCall(PetscStrcmp(names[t], "ic", &ic));
    PetscCall(PetscStrcmp(names[t], "left", &left));
    PetscCall(PetscStrcmp(names[t], "flux", &flux));
    PetscCall(PetscStrcmp(names[t], "per", &per));
    if (!(ic || left || flux || per)) continue;
    s = (per ? 2.0 * w : w) / (PetscReal) N; /* -teacher_w_per is twice the others */
    PetscCall(KDLossGetPoints(loss, names[t], &n, &x));
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal *xp = x + 3 * p;
      PetscReal y[2], g[2] = {0, 0}, c = 1;
      PetscCall(KDNetEvaluate(net, 1, xp, y));
      if (ic) {
        PetscCheck(xp[0] == 0.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "initial point at t = %g", (double) xp[0]);
        g[1] = PetscSinReal(2.0 * xp[1]) * PetscCosReal(xp[2]);
        sum += (y[1] - g[1]) * (y[1] - g[1]);
      } else if (left) {
        PetscCheck(xp[1] == 0.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "left point at x = %g", (double) xp[1]);
        g[0] = xp[0] + xp[2];
        g[1] = xp[1] * xp[2];
        sum += (y[0] - g[0]) * (y[0] - g[0]) + (y[1] - g[1]) * (y[1] - g[1]);
      } else if (flux) {
        PetscReal ux = 0;
        PetscCheck(xp[1] == 1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "flux point at x = %g", (double) xp[1]);
        PetscCall(Derivative(net, xp, 1, 0, &ux));
        c = K(xp[1], xp[2]);
        sum += (c * ux - (0.3 + xp[0])) * (c * ux - (0.3 + xp[0])); /* outward normal +x on x = 1 */
      } else {
        PetscReal b[3] = {xp[0], xp[1], 2.0}, yb[2];
        PetscCheck(xp[2] == -1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "periodic point at y = %g", (double) xp[2]);
        PetscCall(KDNetEvaluate(net, 1, b, yb));
        for (PetscInt o = 0; o < 2; o++) {
          PetscReal da, db;
          PetscCall(Derivative(net, xp, 2, o, &da));
          PetscCall(Derivative(net, b, 2, o, &db));
          sum += (y[o] - yb[o]) * (y[o] - yb[o]) + (1.5 * (da - db)) * (1.5 * (da - db)); /* half-width of y: 1.5 */
        }
      }
    }
    PetscCheck(PetscAbsReal(s * sum - terms[t]) <= VALUE_TOL * PetscAbsReal(terms[t]), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "term %s is %.16e, computed here %.16e", names[t], (double) terms[t], (double) (s * sum));
  }
  PetscCall(PetscFree2(terms, grad));
  PetscFunctionReturn(0);
}

/* The loss gradient and the Gauss-Newton rows against central differences (t410, t520 do this for the built-ins). */
static PetscErrorCode CheckDerivatives(KDLoss loss, KDNet net, PetscReal *total)
{
  const PetscReal h = 1e-6;
  PetscInt nterms, np, m;
  PetscReal *terms, *grad, *r, *J, *rp, *rm, *tp, *gt, *theta, rr = 0, gmax = 0, gerr = 0, jmax = 0, fd = 0;

  PetscFunctionBegin;
  PetscCall(KDLossGetTerms(loss, &nterms, NULL));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(KDNetGetParameters(net, &theta));
  PetscCall(KDLossGetResidualSize(loss, &m));
  PetscCall(PetscMalloc4(nterms, &terms, np, &grad, m, &r, m * np, &J));
  PetscCall(PetscMalloc4(m, &rp, m, &rm, nterms, &tp, np, &gt));
  PetscCall(KDLossEvaluateLocal(loss, terms, grad));
  *total = 0;
  for (PetscInt t = 0; t < nterms; t++) *total += terms[t];
  /* rows in two uneven pieces: a piece boundary inside a term and inside a point's rows */
  PetscCall(KDLossResidualLocal(loss, 0, m / 3, r, J));
  PetscCall(KDLossResidualLocal(loss, m / 3, m - m / 3, r + m / 3, J + (m / 3) * np));
  for (PetscInt q = 0; q < m; q++) rr += r[q] * r[q];
  PetscCheck(PetscAbsReal(rr - *total) <= SUM_TOL * *total, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "|R|^2 = %.16e but the loss is %.16e", (double) rr, (double) *total);
  for (PetscInt i = 0; i < np; i++) {
    PetscReal g2 = 0;
    for (PetscInt q = 0; q < m; q++) g2 += 2.0 * J[q * np + i] * r[q];
    gmax = PetscMax(gmax, PetscAbsReal(grad[i]));
    gerr = PetscMax(gerr, PetscAbsReal(g2 - grad[i]));
  }
  PetscCheck(gerr <= GRAD_TOL * gmax, PETSC_COMM_SELF, PETSC_ERR_PLIB, "|2 J^T R - grad| = %.3e, |grad| = %.3e",
             (double) gerr, (double) gmax);
  for (PetscInt q = 0; q < m * np; q++) jmax = PetscMax(jmax, PetscAbsReal(J[q]));
  for (PetscInt i = 0; i < np; i++) {
    const PetscReal t0 = theta[i];
    PetscReal lp = 0, lm = 0;
    theta[i] = t0 + h;
    PetscCall(KDLossResidualLocal(loss, 0, m, rp, NULL));
    PetscCall(KDLossEvaluateLocal(loss, tp, gt));
    for (PetscInt t = 0; t < nterms; t++) lp += tp[t];
    theta[i] = t0 - h;
    PetscCall(KDLossResidualLocal(loss, 0, m, rm, NULL));
    PetscCall(KDLossEvaluateLocal(loss, tp, gt));
    for (PetscInt t = 0; t < nterms; t++) lm += tp[t];
    theta[i] = t0;
    PetscCheck(PetscAbsReal((lp - lm) / (2 * h) - grad[i]) <= FD_TOL * gmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "gradient entry %" PetscInt_FMT " is %.10e, finite differences %.10e", i, (double) grad[i],
               (double) ((lp - lm) / (2 * h)));
    for (PetscInt q = 0; q < m; q++) {
      const PetscReal e = PetscAbsReal((rp[q] - rm[q]) / (2 * h) - J[q * np + i]);
      PetscCheck(e <= FD_TOL * jmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "J[%" PetscInt_FMT "][%" PetscInt_FMT "] = %.10e, finite differences %.10e", q, i,
                 (double) J[q * np + i], (double) ((rp[q] - rm[q]) / (2 * h)));
      fd = PetscMax(fd, e);
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "%" PetscInt_FMT " terms, %" PetscInt_FMT " rows x %" PetscInt_FMT
                        " params: ||R|^2 - loss|/loss %.1e, |2J^T R - grad|/|grad| %.1e, max FD error / max|J| %.1e\n",
                        nterms, m, np, (double) (PetscAbsReal(rr - *total) / *total), (double) (gerr / gmax),
                        (double) (fd / jmax)));
  PetscCall(PetscFree4(rp, rm, tp, gt));
  PetscCall(PetscFree4(terms, grad, r, J));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  KDLoss loss, whole;
  KDNet net, wnet;
  PetscReal local, global, single;
  PetscMPIInt rank, size;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(KDPDERegister("conditions", CreateConditions));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_ncol", "23"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nic", "17"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nleft", "17"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nflux", "17"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nper", "17"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_w_per", "2"));

  /* this rank's share of the points, on the world communicator */
  PetscCall(LossCreate(PETSC_COMM_WORLD, &loss, &net));
  PetscCall(CheckTerms(loss, net, 17, 1.0));
  PetscCall(CheckDerivatives(loss, net, &local));
  PetscCallMPI(MPI_Allreduce(&local, &global, 1, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  /* every point on one rank */
  PetscCall(LossCreate(PETSC_COMM_SELF, &whole, &wnet));
  {
    PetscInt nterms, np;
    PetscReal *terms, *grad;
    PetscCall(KDLossGetTerms(whole, &nterms, NULL));
    PetscCall(KDNetGetSizes(wnet, NULL, NULL, &np));
    PetscCall(PetscMalloc2(nterms, &terms, np, &grad));
    PetscCall(KDLossEvaluateLocal(whole, terms, grad));
    single = 0;
    for (PetscInt t = 0; t < nterms; t++) single += terms[t];
    PetscCall(PetscFree2(terms, grad));
  }
  PetscCheck(PetscAbsReal(global - single) <= SUM_TOL * single, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "the loss on %d ranks is %.16e, on one rank %.16e", size, (double) global, (double) single);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "t412: conditions on %d rank(s): loss %.10e, one rank %.10e\n", size,
                        (double) global, (double) single));
  PetscCall(KDNetDestroy(&wnet));
  PetscCall(KDLossDestroy(&whole));
  PetscCall(KDNetDestroy(&net));
  PetscCall(KDLossDestroy(&loss));
  PetscCall(PetscFinalize());
  return 0;
}
