static const char help[] =
    "Input features and output factor: the conduction's interface level sets and boundary "
    "factor in a network's values, jets and parameter gradient.\n"
    "  -dump: also write model_features_*.h5.points.txt and .values.txt for tests/model_eval.py\n";

/* A network 2 -> 8,7 -> 2 on the unit box whose first layer also reads the features conduction_interfaces
   (src/pde/conduction.c) of a laminate (eps 1/4, fraction 0.3, layers normal to y) and of a checkerboard (eps 1/4),
   the checkerboard's network again with the output factor conduction_boundary on u, and once more with the corner
   modes (6 parameters: k1 1, k2 10) for items 3-6:

   1. the features' values: at 2000 points, (laminate) phi > 0 exactly in phase 2 of the conduction's own k
      (KDConductionProblemData), (checkerboard) phi_x phi_y < 0 exactly there, and |phi| is phi's absolute value: the
      level sets put the kinks on the interfaces the solver uses;
   2. with the factor, u = 0 exactly at 40 points of the boundary, psi not;
   3. the network's jets (value, first derivatives, xx, xy, yy) against central differences of KDNetEvaluate() at 40
      points at least 0.02 from every interface (no difference stencil crosses one): first derivatives with step
      1e-5, tolerance 1e-6 relative to the largest first derivative of the output (truncation h^2 f''' / 6 with
      f''' ~ (2 pi / eps)^3 ~ 1.6e4 times the weights: ~1e-7; round-off ~1e-11); second derivatives with step 2e-4,
      tolerance 1e-3 relative to the largest second derivative (truncation h^2 f'''' / 12, the features' frequency
      2 pi / eps = 25 raised to the fourth power through the layers: measured 9e-4 with step 1e-3, so about 4e-5 at
      2e-4; round-off eps |f| / h^2 ~ 3e-9 of f'');
   4. the kink: across an interface the first derivative along its normal jumps (one-sided differences with step
      1e-7 from both sides at 10 interface points differ by more than 1e-3 of the largest first derivative), which a
      network of x, y alone cannot do;
   5. the parameter gradient of a loss that reads every jet stream (t30-netutil.h), every entry, against fourth-order
      central differences with step 1e-3 as t302: tolerance 1e-7 relative to the largest entry (the features' columns
      of the first layer and the factor's adjoint included: an error there is O(1) relative);
   6. a model file keeps the features and the factor: written and loaded, the values compare bit for bit (t313
      evaluates the files with the numpy evaluator of docs/model-format.md);
   7. misuse: an unknown name, wrong parameters (corners of a laminate, of a contrast of 1), and features of another
      count on a network already set up are errors;
   8. the corner modes against the corner problem (CheckCornerModes). */
#include "t30-netutil.h"
#include <kdpde.h>
#include "pde/conduction.h"
#include "net/netimpl.h" /* the features' function, to check its values alone */

#define NP 40

static PetscErrorCode FeatureNet(PetscInt type, PetscBool factor, PetscBool corners, KDNet *net)
{
  const PetscInt widths[2] = {8, 7};
  const PetscReal lo[2] = {0, 0}, hi[2] = {1, 1}, scale[2] = {0.7, 1.3}, shift[2] = {0.1, -0.2};
  const PetscReal param[6] = {(PetscReal) type, 0.25, type == 0 ? 0.3 : 0.5, 1, 1, 10}, box[4] = {0, 1, 0, 1};
  PetscReal *theta;
  PetscInt np;
  uint64_t st = 99;

  PetscFunctionBegin;
  PetscCall(KDNetCreate(PETSC_COMM_WORLD, net));
  PetscCall(KDNetSetArchitecture(*net, 2, 2, widths, 2));
  PetscCall(KDNetSetInputBounds(*net, lo, hi));
  PetscCall(KDNetSetOutputScaling(*net, scale, shift));
  PetscCall(KDNetSetInputFeatures(*net, "conduction_interfaces", corners ? 6 : 4, param));
  if (factor) PetscCall(KDNetSetOutputFactor(*net, "conduction_boundary", 4, box));
  PetscCall(KDNetSetUp(*net));
  PetscCall(KDNetInitialize(*net, 5));
  PetscCall(KDNetGetParameters(*net, &theta));
  PetscCall(KDNetGetSizes(*net, NULL, NULL, &np));
  for (PetscInt e = 0; e < np; e++) theta[e] += 0.2 * (TestRand(&st) - 0.5); /* biases nonzero too */
  PetscFunctionReturn(0);
}

/* Distance of coordinate s (domain units) to the nearest interface of an axis with interfaces at the offsets off[]
   (cell units) of each period eps. */
static PetscReal InterfaceDistance(PetscReal s, PetscReal eps, PetscInt noff, const PetscReal off[])
{
  PetscReal d = 1e300;
  for (PetscInt m = -1; m <= (PetscInt) (1 / eps) + 1; m++)
    for (PetscInt k = 0; k < noff; k++) d = PetscMin(d, PetscAbsReal(s - (m + off[k]) * eps));
  return d;
}

/* Points of the unit box at least dmin from every interface of the type (laminate: y = 0 and 0.3 of each period,
   checkerboard: x and y = 0 and 0.5 of each). */
static void FeaturePoints(PetscInt type, PetscReal dmin, uint64_t seed, PetscReal x[])
{
  const PetscReal lam[2] = {0, 0.3}, chk[2] = {0, 0.5};
  uint64_t st = seed;
  for (PetscInt p = 0; p < NP;) {
    const PetscReal X = 0.05 + 0.9 * TestRand(&st), Y = 0.05 + 0.9 * TestRand(&st);
    const PetscReal d = type == 0 ? InterfaceDistance(Y, 0.25, 2, lam)
                                  : PetscMin(InterfaceDistance(X, 0.25, 2, chk), InterfaceDistance(Y, 0.25, 2, chk));
    if (d < dmin) continue;
    x[2 * p]     = X;
    x[2 * p + 1] = Y;
    p++;
  }
}

static PetscReal Loss(KDNet net, const KDJetSpec *spec, PetscInt n, const PetscReal x[], TestLossCtx *ctx,
                      PetscReal *jet, PetscReal *adj)
{
  PetscReal l = 0;
  PetscCallAbort(PETSC_COMM_WORLD, KDNetJetForward(net, spec, n, x, jet));
  PetscCallAbort(PETSC_COMM_WORLD, PetscArrayzero(adj, 2 * 6 * n));
  PetscCallAbort(PETSC_COMM_WORLD, TestLoss(n, 0, jet, adj, &l, ctx));
  return l;
}

/* The 8 features conduction_interfaces (the function of the network) with parameters param[6] and their value, x,
   y, xx, yy derivatives at one point. */
static PetscErrorCode CornerFeaturesAt(KDNet net, const PetscReal param[6], PetscReal X, PetscReal Y, PetscReal F[8][5])
{
  const KDJetSpec s2   = {2, {{0, 0}, {1, 1}}};
  const PetscReal x[2] = {X, Y};

  PetscFunctionBegin;
  PetscCall(net->featfn(6, param, 2, &s2, 1, x, &F[0][0], 5, NULL));
  PetscFunctionReturn(0);
}

/* 8. The corner modes (features 6 and 7) solve the corner's interface problem, for k2/k1 = 10 and 1/10, near three
   corners of a checkerboard of eps 1/4: north-east square in phase 1, in phase 2, and one at negative x (the phases
   read from the conduction's own k, not from the features' rule), at r = 1e-5 h (h = eps/2, the squares' side):
   - across each of the four rays, at points one unit in the last place on either side, the value is continuous to
     1e-9 of the largest value there (an ulp of the coordinates is 2e-11 of r) and the normal flux k dF/dn to 1e-7 of
     the largest k |grad F| (the cut-off (1 - r^2/R^2)^3, R = h/2, adds (r/R)^2 = 4e-10 times the contrast);
   - inside each quadrant it is harmonic: |F_xx + F_yy| at most 1e-6 of |F_xx| + |F_yy| (the cut-off's own terms,
     (12 + 12 lambda) (r/R)^2 / (lambda |lambda - 1|) = 3e-8);
   - the mode of the diagonal through the better-conducting squares has the exponent lambda = (4/pi) atan(sqrt(k_low
     / k_high)) = 0.3902, the other 2 - lambda: log2 F(2r)/F(r) along its diagonal to 1e-6 (the cut-off moves it by
     9 (r/R)^2 / ln 2 = 5e-9);
   - each mode vanishes on the other diagonal (to 1e-9 of its value on its own: the point is off the diagonal by an
     ulp of its coordinates, 2e-11 of r) and is positive along its own in the direction (1,1) or (-1,1), as the
     linear function d.x;
   - a point with a NaN coordinate gives corner features 0 (no quadrant is read). */
static PetscErrorCode CheckCornerModes(void)
{
  const PetscReal h = 0.125, r = 1e-5 * h, corner[3][2] = {{0.125, 0.125}, {0.125, 0.25}, {-0.125, 0.25}};
  const PetscReal lam1 = 4 / PETSC_PI * PetscAtanReal(PetscSqrtReal(0.1));
  KDNet net;
  PetscReal errv = 0, errq = 0, errh = 0, errl = 0, errz = 0, minpos = 1, nanf = 0;

  PetscFunctionBegin;
  PetscCall(FeatureNet(1, PETSC_FALSE, PETSC_TRUE, &net)); /* for its features' function */
  for (PetscInt contrast = 0; contrast < 2; contrast++) {
    const PetscReal k1 = contrast ? 10 : 1, k2 = contrast ? 1 : 10, param[6] = {1, 0.25, 0.5, 0, k1, k2};
    KDConductionProblem prob;
    PetscReal F[8][5];

    PetscCall(PetscMemzero(&prob, sizeof(prob)));
    prob.ms.type     = KD_COMPOSITE_CHECKERBOARD;
    prob.ms.k1       = k1;
    prob.ms.k2       = k2;
    prob.ms.fraction = 0.5;
    prob.ms.eps      = 0.25;
    prob.source      = 1;
    PetscCall(KDCompositeSetUp(PETSC_COMM_WORLD, &prob.ms));
    for (PetscInt c = 0; c < 3; c++) {
      const PetscReal cx = corner[c][0], cy = corner[c][1];
      PetscReal kq[4], fmax = 0, qmax = 0, G[8][5];
      /* quadrant m's conductivity, at its square's centre */
      for (PetscInt m = 0; m < 4; m++)
        KDConductionProblemData(&prob, cx + (m == 0 || m == 3 ? 0.5 : -0.5) * h, cy + (m < 2 ? 0.5 : -0.5) * h, &kq[m],
                                NULL, NULL);
      for (PetscInt m = 0; m < 4; m++) { /* the scales: largest value and flux around the corner at r */
        const PetscReal th = (2 * m + 1) * PETSC_PI / 4;
        PetscCall(CornerFeaturesAt(net, param, cx + r * PetscCosReal(th), cy + r * PetscSinReal(th), F));
        for (PetscInt d = 6; d < 8; d++) {
          fmax = PetscMax(fmax, PetscAbsReal(F[d][0]));
          qmax = PetscMax(qmax, kq[m] * PetscSqrtReal(F[d][1] * F[d][1] + F[d][2] * F[d][2]));
        }
      }
      for (PetscInt m = 0; m < 4; m++) { /* the ray at angle m pi/2: quadrant m on its left, m - 1 on its right */
        const PetscInt axis = m % 2, sgn = m < 2 ? 1 : -1, normal = 1 - axis;
        PetscReal a[2] = {cx, cy}, b[2];
        a[axis] += sgn * r;
        b[0] = a[0];
        b[1] = a[1];
        /* left of the ray is +normal for rays 0 (+x: left is +y) and 3 (-y: left is +x); -normal for rays 1 and 2 */
        a[normal] = nextafter(a[normal], (m == 0 || m == 3) ? 1.0 : -1.0);
        b[normal] = nextafter(b[normal], (m == 0 || m == 3) ? -1.0 : 1.0);
        PetscCall(CornerFeaturesAt(net, param, a[0], a[1], F));
        PetscCall(CornerFeaturesAt(net, param, b[0], b[1], G));
        for (PetscInt d = 6; d < 8; d++) {
          errv = PetscMax(errv, PetscAbsReal(F[d][0] - G[d][0]) / fmax);
          errq = PetscMax(errq, PetscAbsReal(kq[m] * F[d][1 + normal] - kq[(m + 3) % 4] * G[d][1 + normal]) / qmax);
        }
      }
      for (PetscInt m = 0; m < 8; m++) { /* harmonic inside the quadrants */
        const PetscReal th = (2 * m + 1) * PETSC_PI / 8;
        PetscCall(CornerFeaturesAt(net, param, cx + r * PetscCosReal(th), cy + r * PetscSinReal(th), F));
        for (PetscInt d = 6; d < 8; d++)
          errh = PetscMax(errh, PetscAbsReal(F[d][3] + F[d][4]) / (PetscAbsReal(F[d][3]) + PetscAbsReal(F[d][4])));
      }
      for (PetscInt d = 0; d < 2; d++) { /* the diagonals: (1,1) for feature 6, (-1,1) for feature 7 */
        const PetscReal ux = (d ? -1 : 1) / PetscSqrtReal(2), uy = 1 / PetscSqrtReal(2);
        /* the better-conducting squares lie on the diagonal (1,1) if the north-east square is the better one */
        const PetscBool high = (kq[0] > kq[1]) == (d == 0) ? PETSC_TRUE : PETSC_FALSE;
        PetscReal F2[8][5], lam;
        PetscCall(CornerFeaturesAt(net, param, cx + r * ux, cy + r * uy, F));
        PetscCall(CornerFeaturesAt(net, param, cx + 2 * r * ux, cy + 2 * r * uy, F2));
        PetscCall(CornerFeaturesAt(net, param, cx + r * uy, cy - r * ux, G)); /* on the other diagonal */
        lam    = PetscLog2Real(F2[6 + d][0] / F[6 + d][0]);
        errl   = PetscMax(errl, PetscAbsReal(lam - (high ? lam1 : 2 - lam1)));
        errz   = PetscMax(errz, PetscAbsReal(G[6 + d][0] / F[6 + d][0]));
        minpos = PetscMin(minpos, F[6 + d][0]);
      }
    }
    PetscCall(CornerFeaturesAt(net, param, NAN, 0.1, F));
    nanf = PetscMax(nanf, PetscAbsReal(F[6][0]) + PetscAbsReal(F[7][0]));
    PetscCall(KDCompositeReset(&prob.ms));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "corner modes at r = 1e-5 h: value jump %.1e (tol 1e-9), flux jump %.1e (tol 1e-7), "
                        "Laplacian %.1e (tol 1e-6), exponent %.1e off (tol 1e-6), on the other diagonal %.1e "
                        "(tol 1e-9), positive along their own: %s; at a NaN point %g\n",
                        (double) errv, (double) errq, (double) errh, (double) errl, (double) errz,
                        minpos > 0 ? "yes" : "no", (double) nanf));
  PetscCheck(errv <= 1e-9 && errq <= 1e-7 && errh <= 1e-6 && errl <= 1e-6 && errz <= 1e-9 && minpos > 0 && nanf == 0,
             PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the corner modes do not solve the corner problem");
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const KDJetSpec spec = {3, {{0, 0}, {0, 1}, {1, 1}}};
  const PetscInt nout  = 2;
  PetscBool dump       = PETSC_FALSE;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-dump", &dump, NULL));
  PetscCall(KDPDEInitializePackage()); /* registers the conduction's features */

  /* 1. the level sets against the conduction's own phases */
  for (PetscInt type = 0; type < 2; type++) {
    KDConductionProblem prob;
    KDNet net;
    PetscReal x[2 * 2000], F[6 * 2000];
    PetscInt wrong = 0;
    uint64_t st    = 3;

    PetscCall(PetscMemzero(&prob, sizeof(prob)));
    prob.ms.type        = type == 0 ? KD_COMPOSITE_LAMINATE : KD_COMPOSITE_CHECKERBOARD;
    prob.ms.k1          = 1;
    prob.ms.k2          = 10;
    prob.ms.fraction    = type == 0 ? 0.3 : 0.5;
    prob.ms.eps         = 0.25;
    prob.ms.orientation = 1;
    prob.source         = 1;
    PetscCall(KDCompositeSetUp(PETSC_COMM_WORLD, &prob.ms));
    PetscCall(FeatureNet(type, PETSC_FALSE, PETSC_FALSE, &net));
    for (PetscInt p = 0; p < 2000; p++) {
      x[2 * p]     = TestRand(&st);
      x[2 * p + 1] = TestRand(&st);
    }
    /* the registered function itself, values only: phi is feature 0 (and 3 for the checkerboard's y axis) */
    PetscCall(net->featfn(net->nfeatparam, net->feat_param, 2, NULL, 2000, x, F, 2000, NULL));
    for (PetscInt p = 0; p < 2000; p++) {
      PetscReal k;
      const PetscReal phase2 = type == 0 ? F[p] : -F[p] * F[3 * 2000 + p];
      KDConductionProblemData(&prob, x[2 * p], x[2 * p + 1], &k, NULL, NULL);
      if ((phase2 > 0) != (k > 5)) wrong++;
      for (PetscInt a = 0; a <= type; a++) /* |phi| is phi's absolute value */
        if (F[(3 * a + 1) * 2000 + p] != PetscAbsReal(F[3 * a * 2000 + p])) wrong++;
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "%s: level-set sign against the phases at 2000 points: %" PetscInt_FMT " wrong\n",
                          type ? "checkerboard" : "laminate", wrong));
    PetscCheck(wrong == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the level sets do not follow the phases");
    PetscCall(KDNetDestroy(&net));
    PetscCall(KDCompositeReset(&prob.ms));
  }

  for (PetscInt c = 0; c < 4; c++) {
    const PetscInt type        = c ? 1 : 0;
    const char *const names[4] = {"laminate", "checkerboard", "checkerboard_bc", "checkerboard_corners"};
    const char *name           = names[c];
    KDNet net;
    PetscReal x[2 * NP], jet[2 * 6 * NP], adj[2 * 6 * NP];
    PetscReal err1 = 0, err2 = 0, big1[2] = {0, 0};

    /* 3. jets against differences */
    PetscCall(FeatureNet(type, c == 2 ? PETSC_TRUE : PETSC_FALSE, c == 3 ? PETSC_TRUE : PETSC_FALSE, &net));
    FeaturePoints(type, 0.02, 11 + c, x);
    if (c == 2) { /* 2. the factor: u = 0 exactly on the boundary, psi not */
      PetscReal xb[2 * NP], yb[2 * NP], psimax = 0;
      uint64_t st = 5;
      for (PetscInt p = 0; p < NP; p++) {
        const PetscReal t = TestRand(&st);
        xb[2 * p]         = p % 4 < 2 ? t : (PetscReal) (p % 2);
        xb[2 * p + 1]     = p % 4 < 2 ? (PetscReal) (p % 2) : t;
      }
      PetscCall(KDNetEvaluate(net, NP, xb, yb));
      for (PetscInt p = 0; p < NP; p++) {
        PetscCheck(yb[p] == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "u = %g at boundary point (%g, %g)", (double) yb[p],
                   (double) xb[2 * p], (double) xb[2 * p + 1]);
        psimax = PetscMax(psimax, PetscAbsReal(yb[NP + p]));
      }
      PetscCheck(psimax > 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the factor multiplied psi too");
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s: u = 0 exactly at %d boundary points, |psi| up to %.2f\n", name, NP,
                            (double) psimax));
    }
    PetscCall(KDNetJetForward(net, &spec, NP, x, jet));
    PetscCall(TestJetsAgainstDifferences2D(net, NP, x, jet, nout, 1e-5, 2e-4, big1, &err1, &err2));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "%s: jets against differences: first %.2e (tol 1e-6), second %.2e (tol 1e-3)\n", name,
                          (double) err1, (double) err2));
    PetscCheck(err1 <= 1e-6 && err2 <= 1e-3, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the jets of the features are wrong");

    /* 4. the kink: one-sided normal derivatives at interface points (laminate: y = 0.25 m + 0.075; checkerboard:
       x = 0.25 m + 0.125, along x) */
    {
      PetscReal jump = 0;
      for (PetscInt p = 0; p < 10; p++) {
        const PetscReal t = 0.05 + 0.09 * p, c = type ? 0.25 * (p % 4) + 0.125 : 0.25 * (p % 4) + 0.075, h = 1e-7;
        const PetscInt axis = type ? 0 : 1;
        PetscReal a[2]      = {t, t}, b[2], e[2], ya[2], yb[2], ye[2];
        a[axis]             = c;
        b[0]                = a[0];
        b[1]                = a[1];
        e[0]                = a[0];
        e[1]                = a[1];
        b[axis] += h;
        e[axis] -= h;
        PetscCall(KDNetEvaluate(net, 1, a, ya));
        PetscCall(KDNetEvaluate(net, 1, b, yb));
        PetscCall(KDNetEvaluate(net, 1, e, ye));
        for (PetscInt o = 0; o < nout; o++)
          jump = PetscMax(jump, PetscAbsReal((yb[o] - ya[o]) / h - (ya[o] - ye[o]) / h) / big1[o]);
      }
      PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                            "%s: largest jump of the normal derivative across an interface %.2e of the "
                            "largest derivative (at least 1e-3)\n",
                            name, (double) jump));
      PetscCheck(jump >= 1e-3, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the network has no kink at the interfaces");
    }

    /* 5. the parameter gradient, every entry */
    {
      TestLossCtx ctx = {2, 2, 3, 1.0 / NP};
      PetscReal *theta, *grad, l, worst = 0, gmax = 0;
      PetscInt np;
      PetscCall(KDNetGetParameters(net, &theta));
      PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
      PetscCall(PetscCalloc1(np, &grad));
      PetscCall(KDNetLossGradient(net, &spec, NP, x, TestLoss, &ctx, &l, grad));
      for (PetscInt e = 0; e < np; e++) gmax = PetscMax(gmax, PetscAbsReal(grad[e]));
      for (PetscInt e = 0; e < np; e++) {
        const PetscReal t = theta[e], h = 1e-3;
        PetscReal f[4];
        for (PetscInt q = 0; q < 4; q++) {
          theta[e] = t + (q < 2 ? (q ? h : 2 * h) : (q == 2 ? -h : -2 * h));
          f[q]     = Loss(net, &spec, NP, x, &ctx, jet, adj);
        }
        theta[e] = t;
        worst    = PetscMax(worst, PetscAbsReal((8 * (f[1] - f[2]) - (f[0] - f[3])) / (12 * h) - grad[e]) / gmax);
      }
      PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                            "%s: parameter gradient (%" PetscInt_FMT " entries) against differences "
                            "%.2e (tol 1e-7)\n",
                            name, np, (double) worst));
      PetscCheck(worst <= 1e-7, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the parameter gradient of the features is wrong");
      PetscCall(PetscFree(grad));
    }

    /* 6. the model file keeps the features and the factor */
    {
      char path[64];
      PetscCall(PetscSNPrintf(path, sizeof(path), "model_features_%s.h5", name));
      PetscCall(TestModelRoundTrip2D(net, path, "conduction", "u,psi", NP, x, dump));
    }
    PetscCall(KDNetDestroy(&net));
  }

  /* 7. misuse */
  {
    KDNet net;
    const PetscReal good[4] = {1, 0.25, 0.5, 0}, bad[4] = {2, 0.25, 0.5, 0}, lam[4] = {0, 0.25, 0.5, 0};
    const PetscReal lamcorners[6] = {0, 0.25, 0.5, 0, 1, 10}, equal[6] = {1, 0.25, 0.5, 0, 2, 2};
    PetscErrorCode ierr;
    PetscInt caught = 0;
    PetscCall(KDNetCreate(PETSC_COMM_WORLD, &net));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = KDNetSetInputFeatures(net, "no_such_features", 4, good);
    caught += ierr == PETSC_ERR_ARG_UNKNOWN_TYPE;
    ierr = KDNetSetInputFeatures(net, "conduction_interfaces", 3, good);
    caught += ierr != 0;
    ierr = KDNetSetInputFeatures(net, "conduction_interfaces", 4, bad);
    caught += ierr != 0;
    ierr = KDNetSetInputFeatures(net, "conduction_interfaces", 6, lamcorners); /* corners of a laminate */
    caught += ierr != 0;
    ierr = KDNetSetInputFeatures(net, "conduction_interfaces", 6, equal); /* a contrast of 1 has no corner modes */
    caught += ierr != 0;
    PetscCall(PetscPopErrorHandler());
    PetscCall(KDNetSetInputFeatures(net, "conduction_interfaces", 4, good)); /* 6 features */
    PetscCall(KDNetSetUp(net));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = KDNetSetInputFeatures(net, "conduction_interfaces", 4, lam); /* 3: another layout */
    caught += ierr == PETSC_ERR_ORDER;
    ierr = KDNetSetInputFeatures(net, NULL, 0, NULL);
    caught += ierr == PETSC_ERR_ORDER;
    PetscCall(PetscPopErrorHandler());
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "misuse: %" PetscInt_FMT " of 7 errors raised\n", caught));
    PetscCheck(caught == 7, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a misuse of the features was accepted");
    PetscCall(KDNetDestroy(&net));
  }
  PetscCall(CheckCornerModes());
  PetscCall(PetscFinalize());
  return 0;
}
