static const char help[] =
    "The scale filter of distillation: Gauss-Legendre rules (exact up to degree 2q - 1, and not beyond), box averages\n"
    "of polynomial jets in 3-D (values and derivatives, boxes shrunk at the boundary), and the child-cell rule, which\n"
    "turns averages over half-size boxes into the exact average over the whole box, and the midpoint rules.\n";

#include <kddistill.h>

/* Everything here is exact arithmetic up to round-off: sums of at most 8^3 terms of size O(1), so 1e-13 relative
   leaves a margin of ~100 ulps; a wrong node, weight, shrink rule or stream layout gives O(1e-3) or more. */
#define TOL 1e-13

/* Polynomial test function f(x) = prod_i P_i(x_i), P_i(s) = sum_k c[i][k] s^k of degree deg. Jets: value, the first
   derivatives, and second derivatives (0,0), (1,2) -- the layout of kdnet.h with nstreams = 1 + 3 + 2. */
typedef struct {
  PetscInt deg;
  PetscReal c[3][16];
} Poly;

static PetscReal PolyEval(const Poly *P, PetscInt i, PetscReal s, PetscInt der)
{
  PetscReal v = 0.0;
  for (PetscInt k = der; k <= P->deg; k++) {
    PetscReal f = 1.0;
    for (PetscInt j = 0; j < der; j++) f *= (PetscReal) (k - j);
    v += P->c[i][k] * f * PetscPowRealInt(s, k - der);
  }
  return v;
}

/* Mean of P_i^(der) over [a, b] (a < b), or its value at a when a == b. */
static PetscReal PolyMean(const Poly *P, PetscInt i, PetscReal a, PetscReal b, PetscInt der)
{
  PetscReal v = 0.0;

  for (PetscInt k = der; k <= P->deg; k++) {
    PetscReal f = 1.0;
    PetscInt e  = k - der;
    for (PetscInt j = 0; j < der; j++) f *= (PetscReal) (k - j);
    /* (b^(e+1) - a^(e+1)) / ((e+1)(b-a)) without the cancellation of a tiny box: sum_j a^j b^(e-j) / (e+1) */
    PetscReal m = 0.0;
    for (PetscInt j = 0; j <= e; j++) m += PetscPowRealInt(a, j) * PetscPowRealInt(b, e - j);
    v += P->c[i][k] * f * m / (PetscReal) (e + 1);
  }
  return v;
}

static const PetscInt streams[6][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {2, 0, 0}, {0, 1, 1}};

static PetscErrorCode PolyJets(void *ctx, PetscInt n, const PetscReal x[], PetscReal jet[])
{
  const Poly *P = (const Poly *) ctx;

  PetscFunctionBegin;
  for (PetscInt s = 0; s < 6; s++)
    for (PetscInt p = 0; p < n; p++) {
      PetscReal v = 1.0;
      for (PetscInt i = 0; i < 3; i++) v *= PolyEval(P, i, x[p * 3 + i], streams[s][i]);
      jet[s * n + p] = v;
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckGaussRules(void)
{
  PetscFunctionBegin;
  for (PetscInt q = 1; q <= KD_FILTER_MAX_GAUSS; q++) {
    KDFilterRule rule;
    PetscReal wsum = 0.0;
    PetscCall(KDFilterRuleSetUp(&rule, KD_FILTER_BOX, q));
    for (PetscInt k = 0; k < q; k++) wsum += rule.weight[k];
    PetscCheck(PetscAbsReal(wsum - 1.0) < TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "q = %" PetscInt_FMT ": weights sum to %.17g", q, (double) wsum);
    for (PetscInt d = 0; d <= 2 * q; d++) {
      PetscReal mean = 0.0, exact = d % 2 ? 0.0 : 1.0 / (PetscReal) (d + 1);
      for (PetscInt k = 0; k < q; k++) mean += rule.weight[k] * PetscPowRealInt(rule.node[k], d);
      if (d < 2 * q)
        PetscCheck(PetscAbsReal(mean - exact) < TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "Gauss-Legendre q = %" PetscInt_FMT ": mean of s^%" PetscInt_FMT " is %.17g, exact %.17g", q, d,
                   (double) mean, (double) exact);
      else /* degree 2q is not integrated exactly by a q-point Gauss rule: the rule is not something else */
        PetscCheck(PetscAbsReal(mean - exact) > 1e-6, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "Gauss-Legendre q = %" PetscInt_FMT " integrates s^%" PetscInt_FMT " exactly: not a %" PetscInt_FMT
                   "-point Gauss rule",
                   q, d, q);
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "Gauss-Legendre q = 1..%d: weights sum to 1, exact up to degree 2q-1, not at 2q\n",
                        KD_FILTER_MAX_GAUSS));
  PetscFunctionReturn(0);
}

/* Box filter of a 3-D polynomial of degree 2q-1 per axis at random points, some near or on the boundary. */
static PetscErrorCode CheckBoxPolynomial(PetscInt q)
{
  const PetscInt n = 200, nin = 3, S = 6;
  const PetscReal lo[3] = {-1.0, 0.0, 0.5}, hi[3] = {1.0, 2.0, 1.5}, width[3] = {0.25, 0.5, 0.125};
  KDFilterRule rule;
  Poly P;
  PetscReal *x, *jet, worst = 0.0;

  PetscFunctionBegin;
  P.deg = 2 * q - 1;
  for (PetscInt i = 0; i < 3; i++)
    for (PetscInt k = 0; k <= P.deg; k++) P.c[i][k] = KDRandomUniform(q, 7 + i, k) - 0.5;
  PetscCall(KDFilterRuleSetUp(&rule, KD_FILTER_BOX, q));
  PetscCall(PetscMalloc2(n * nin, &x, n * S, &jet));
  for (PetscInt p = 0; p < n; p++)
    for (PetscInt i = 0; i < nin; i++) {
      PetscReal u = KDRandomUniform(q, 3, p * nin + i);
      if (p % 10 == 0) u = 0.02 * u;      /* within half a box of lo */
      if (p % 10 == 1 && i == 1) u = 1.0; /* on the boundary hi */
      x[p * nin + i] = lo[i] + u * (hi[i] - lo[i]);
    }
  PetscCall(KDFilterJets(&rule, nin, 1, S, lo, hi, width, PolyJets, &P, n, x, jet));
  for (PetscInt p = 0; p < n; p++)
    for (PetscInt s = 0; s < S; s++) {
      PetscReal exact = 1.0, err;
      for (PetscInt i = 0; i < nin; i++) {
        const PetscReal xi = x[p * nin + i];
        const PetscReal r  = PetscMax(0.0, PetscMin(0.5 * width[i], PetscMin(xi - lo[i], hi[i] - xi)));
        exact *= PolyMean(&P, i, xi - r, xi + r, streams[s][i]);
      }
      err   = PetscAbsReal(jet[s * n + p] - exact) / PetscMax(1.0, PetscAbsReal(exact));
      worst = PetscMax(worst, err);
      PetscCheck(err < TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "box filter q = %" PetscInt_FMT ", point %" PetscInt_FMT ", stream %" PetscInt_FMT
                 ": %.17g vs exact %.17g",
                 q, p, s, (double) jet[s * n + p], (double) exact);
    }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "box filter, q = %" PetscInt_FMT ", degree %" PetscInt_FMT
                        " per axis in 3-D, 6 jet streams, %" PetscInt_FMT " points: max rel err %.1e\n",
                        q, P.deg, n, (double) worst));
  PetscCall(PetscFree2(x, jet));
  PetscFunctionReturn(0);
}

/* g = box average of f(x, y) = sin(a x + b) cos(c y + d) over boxes of half the size: the child rule applied to g over
   the full box is the full box average of f, exactly (the box splits into its 4 children). */
typedef struct {
  PetscReal a, b, c, d, half[2];
} Trig;

static PetscReal SinMean(PetscReal a, PetscReal b, PetscReal lo, PetscReal hi)
{
  return (PetscCosReal(a * lo + b) - PetscCosReal(a * hi + b)) / (a * (hi - lo));
}
static PetscReal CosMean(PetscReal a, PetscReal b, PetscReal lo, PetscReal hi)
{
  return (PetscSinReal(a * hi + b) - PetscSinReal(a * lo + b)) / (a * (hi - lo));
}

static PetscErrorCode TrigHalfBoxMean(void *ctx, PetscInt n, const PetscReal x[], PetscReal jet[])
{
  const Trig *T = (const Trig *) ctx;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal hx = 0.5 * T->half[0], hy = 0.5 * T->half[1], X = x[2 * p], Y = x[2 * p + 1];
    jet[p] = SinMean(T->a, T->b, X - hx, X + hx) * CosMean(T->c, T->d, Y - hy, Y + hy);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckChildren(void)
{
  const PetscInt n      = 100;
  const PetscReal lo[2] = {0.0, -1.0}, hi[2] = {1.0, 1.0}, width[2] = {0.125, 0.25};
  Trig T = {3.1, 0.4, 5.3, -0.7, {0.0, 0.0}};
  KDFilterRule rule;
  PetscReal x[2 * 100], jet[100], worst = 0.0;

  PetscFunctionBegin;
  /* g averages over boxes of half the filter width: half-widths width/4. */
  T.half[0] = 0.5 * width[0];
  T.half[1] = 0.5 * width[1];
  PetscCall(KDFilterRuleSetUp(&rule, KD_FILTER_CHILDREN, 0));
  /* interior points: the full box fits (the shrink at the boundary is covered by the box test) */
  for (PetscInt p = 0; p < n; p++)
    for (PetscInt i = 0; i < 2; i++) {
      const PetscReal m = 0.5 * width[i];
      x[2 * p + i]      = lo[i] + m + KDRandomUniform(5, 11, 2 * p + i) * (hi[i] - lo[i] - 2 * m);
    }
  PetscCall(KDFilterJets(&rule, 2, 1, 1, lo, hi, width, TrigHalfBoxMean, &T, n, x, jet));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal X = x[2 * p], Y = x[2 * p + 1], hx = 0.5 * width[0], hy = 0.5 * width[1];
    const PetscReal exact = SinMean(T.a, T.b, X - hx, X + hx) * CosMean(T.c, T.d, Y - hy, Y + hy);
    const PetscReal err   = PetscAbsReal(jet[p] - exact);
    worst                 = PetscMax(worst, err);
    PetscCheck(err < TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "children rule at point %" PetscInt_FMT ": %.17g vs box mean %.17g", p, (double) jet[p], (double) exact);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "children rule on half-box means of sin*cos reproduces the box mean: max err %.1e\n",
                        (double) worst));
  PetscFunctionReturn(0);
}

/* The midpoint rule of q nodes (q = 1..KD_FILTER_MAX_NODES): weights 1/q summing to 1, nodes symmetric and equally
   spaced; over a box of one period w it averages sin(2 pi m (s - s0) / w) to its mean 0 for m = 1..q-1 (the rule of
   the period is exact for trigonometric polynomials of degree below q), and does not for m = q (aliasing: the sum is
   -sin(2 pi m s0 / w) up to the node offset, O(1)), through KDFilterJets with a 1-D function. */
typedef struct {
  PetscReal w, s0;
  PetscInt m;
} Wave;

static PetscErrorCode WaveJets(void *ctx, PetscInt n, const PetscReal x[], PetscReal jet[])
{
  const Wave *W = (const Wave *) ctx;
  PetscFunctionBegin;
  for (PetscInt p = 0; p < n; p++) jet[p] = PetscSinReal(2 * PETSC_PI * (PetscReal) W->m * (x[p] - W->s0) / W->w);
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckMidpoint(void)
{
  const PetscReal lo[1] = {-10.0}, hi[1] = {10.0}, width[1] = {0.37};
  PetscReal worst = 0.0, alias = 1e300;

  PetscFunctionBegin;
  for (PetscInt q = 1; q <= KD_FILTER_MAX_NODES; q++) {
    KDFilterRule rule;
    PetscReal sum = 0.0;
    PetscCall(KDFilterRuleSetUp(&rule, KD_FILTER_MIDPOINT, q));
    PetscCheck(rule.nnodes == q, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "midpoint rule %" PetscInt_FMT ": %" PetscInt_FMT " nodes", q, rule.nnodes);
    for (PetscInt k = 0; k < q; k++) {
      sum += rule.weight[k];
      PetscCheck(PetscAbsReal(rule.node[k] + rule.node[q - 1 - k]) < TOL &&
                     PetscAbsReal(rule.node[k] - ((2.0 * k + 1.0) / q - 1.0)) < TOL,
                 PETSC_COMM_SELF, PETSC_ERR_PLIB, "midpoint rule %" PetscInt_FMT ": node %" PetscInt_FMT, q, k);
    }
    PetscCheck(PetscAbsReal(sum - 1.0) < TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "midpoint weights sum to %.17g", sum);
    for (PetscInt m = 1; m <= q; m++) {
      Wave W = {width[0], 0.123, m};
      PetscReal x[5], jet[5];
      for (PetscInt p = 0; p < 5; p++) x[p] = -0.4 + 0.21 * (PetscReal) p;
      PetscCall(KDFilterJets(&rule, 1, 1, 1, lo, hi, width, WaveJets, &W, 5, x, jet));
      for (PetscInt p = 0; p < 5 && m < q; p++) worst = PetscMax(worst, PetscAbsReal(jet[p]));
      if (m == q) {
        PetscReal big = 0;
        for (PetscInt p = 0; p < 5; p++) big = PetscMax(big, PetscAbsReal(jet[p]));
        alias = PetscMin(alias, big);
      }
    }
  }
  /* the sines' arguments reach 2 pi m |x - s0| / w ~ 400, whose rounding (~5e-14) is the error: 1e-12 */
  PetscCheck(worst < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "midpoint rule: a wave of degree below q averages to %.3g",
             (double) worst);
  PetscCheck(alias > 0.1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "midpoint rule: the wave of degree q does not alias (%.3g)",
             (double) alias);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "midpoint rules q = 1..%d: waves of degree < q over one period average to 0 (max err %.1e); "
                        "degree q aliases (at least %.2f)\n",
                        KD_FILTER_MAX_NODES, (double) worst, (double) alias));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(CheckGaussRules());
  for (PetscInt q = 1; q <= 4; q++) PetscCall(CheckBoxPolynomial(q));
  PetscCall(CheckChildren());
  PetscCall(CheckMidpoint());
  PetscCall(PetscFinalize());
  return 0;
}
