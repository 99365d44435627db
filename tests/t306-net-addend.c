static const char help[] = "Output addend: the cavity's lid-corner flow in a network's values and jets.\n"
                           "  -dump: also write model_addend.h5.points.txt and .values.txt for tests/model_eval.py\n";

/* A network 2 -> 8,8 -> 3 with the output addend cavity_corner_flow (src/pde/cavity.c) on the unit box, Re = 100:

   1. its jets (value, first derivatives, xx, xy, yy) against central differences of KDNetEvaluate() at 40 points at
      least 0.05 from the lid corners: first derivatives with step 1e-5 (truncation ~1e-8 of the field's third
      derivatives, which are O(1e3) there, round-off ~1e-10), tolerance 1e-6 relative to the largest first derivative
      of the output; second derivatives with step 1e-3 (truncation h^2/12 of the fourth derivatives, up to O(1e6)
      at 0.05 from a corner: a few 1e-4 of the largest second derivative, measured 2.3e-4), tolerance 1e-3 relative
      to the largest second derivative;
   2. the field itself (every weight and bias zero, no output shift) with a cutoff radius of 1e6, i.e. Stokes flow:
      u_x + v_y = 0 and grad p = mu lap u at 40 points down to 1e-3 from a corner, tolerance 1e-9 relative to the size
      of the terms (the cutoff leaves ~4 mu / R^2 against terms of at least ~mu, round-off ~1e-14 of terms up to
      mu / r^2 = 1e4);
   3. the wall values (cutoff 0.2): u = v = 0 on the side walls and v = 0 on the lid exactly (up to the other corner's
      field, exp(-1 / 0.04) ~ 1e-11, tolerance 1e-10), u = exp(-x^2 / R^2) along the lid from the left corner, and the
      lid value u = 1, p = 0 at a corner itself;
   4. a model file keeps the addend: written and loaded, the values compare bit for bit (t307 evaluates the file
      with the numpy evaluator of docs/model-format.md). */
#include "t30-netutil.h"
#include <kdpde.h>

#define NP 40

static PetscErrorCode CornerNet(PetscReal R, PetscBool zero, KDNet *net)
{
  const PetscInt widths[2] = {8, 8};
  const PetscReal lo[2] = {0, 0}, hi[2] = {1, 1}, scale[3] = {1, 1, 1}, shift[3] = {0, 0, 0};
  const PetscReal param[5] = {R, 0.01, 0.0, 1.0, 1.0};
  PetscReal *theta;
  PetscInt np;

  PetscFunctionBegin;
  PetscCall(TestNetCreate(PETSC_COMM_WORLD, 2, 2, widths, 3, KD_ACTIVATION_TANH, 5, net));
  PetscCall(KDNetSetInputBounds(*net, lo, hi));
  if (zero) {
    PetscCall(KDNetSetOutputScaling(*net, scale, shift));
    PetscCall(KDNetGetParameters(*net, &theta));
    PetscCall(KDNetGetSizes(*net, NULL, NULL, &np));
    PetscCall(PetscArrayzero(theta, np));
  }
  PetscCall(KDNetSetOutputAddend(*net, "cavity_corner_flow", 5, param));
  PetscFunctionReturn(0);
}

/* Points in the box at least dmin from both lid corners (0, 1) and (1, 1). */
static void CornerPoints(PetscReal dmin, uint64_t seed, PetscReal x[])
{
  uint64_t st = seed;
  for (PetscInt p = 0; p < NP;) {
    const PetscReal a = TestRand(&st), b = TestRand(&st);
    /* half of them close to a corner: distance dmin .. dmin + 0.1 */
    const PetscReal X = p % 2 ? a : (p % 4 ? 1.0 - (dmin + 0.1 * a) : dmin + 0.1 * a), Y = p % 2 ? b : 1.0 - 0.1 * b;
    if (PetscHypotReal(X, 1.0 - Y) < dmin || PetscHypotReal(1.0 - X, 1.0 - Y) < dmin) continue;
    x[2 * p]     = X;
    x[2 * p + 1] = Y;
    p++;
  }
}

int main(int argc, char **argv)
{
  const KDJetSpec spec = {3, {{0, 0}, {0, 1}, {1, 1}}};
  const PetscInt S = 6, nout = 3;
  KDNet net;
  PetscReal x[2 * NP], jet[3 * 6 * NP];
  PetscReal err1 = 0, err2 = 0, big1[3] = {0, 0, 0};
  PetscBool dump = PETSC_FALSE;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-dump", &dump, NULL));
  PetscCall(KDPDEInitializePackage()); /* registers the cavity's addend */

  /* 1. jets against differences */
  PetscCall(CornerNet(0.2, PETSC_FALSE, &net));
  CornerPoints(0.05, 11, x);
  PetscCall(KDNetJetForward(net, &spec, NP, x, jet));
  PetscCall(TestJetsAgainstDifferences2D(net, NP, x, jet, nout, 1e-5, 1e-3, big1, &err1, &err2));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "jets against differences: first %.2e (tol 1e-6), second %.2e (tol 1e-3)\n",
                        (double) err1, (double) err2));
  PetscCheck(err1 <= 1e-6 && err2 <= 1e-3, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the addend's jets are wrong");

  /* 4. the model file keeps it */
  PetscCall(TestModelRoundTrip2D(net, "model_addend.h5", "cavity", "u,v,p", NP, x, dump));
  PetscCall(KDNetDestroy(&net));

  /* 2. Stokes flow */
  {
    PetscReal worst = 0;
    PetscCall(CornerNet(1e6, PETSC_TRUE, &net));
    CornerPoints(1e-3, 12, x);
    PetscCall(KDNetJetForward(net, &spec, NP, x, jet));
#define J(o, s) jet[((o) *S + (s)) * NP + p]
    for (PetscInt p = 0; p < NP; p++) {
      const PetscReal mu  = 0.01;
      const PetscReal div = J(0, 1) + J(1, 2), mx = J(2, 1) - mu * (J(0, 3) + J(0, 5)),
                      my = J(2, 2) - mu * (J(1, 3) + J(1, 5));
      const PetscReal sd = PetscAbsReal(J(0, 1)) + PetscAbsReal(J(1, 2)),
                      sx = PetscAbsReal(J(2, 1)) + mu * (PetscAbsReal(J(0, 3)) + PetscAbsReal(J(0, 5))),
                      sy = PetscAbsReal(J(2, 2)) + mu * (PetscAbsReal(J(1, 3)) + PetscAbsReal(J(1, 5)));
      worst = PetscMax(worst, PetscMax(PetscAbsReal(div) / sd, PetscMax(PetscAbsReal(mx) / sx, PetscAbsReal(my) / sy)));
    }
#undef J
    PetscCall(
        PetscPrintf(PETSC_COMM_WORLD, "Stokes residuals of the field, relative: %.2e (tol 1e-9)\n", (double) worst));
    PetscCheck(worst <= 1e-9, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the corner flow is not Stokes flow");
    PetscCall(KDNetDestroy(&net));
  }

  /* 3. wall values */
  {
    PetscReal worst = 0;
    PetscCall(CornerNet(0.2, PETSC_TRUE, &net));
    for (PetscInt k = 0; k < 10; k++) { /* the side walls up to, not at, the corners */
      const PetscReal s = 0.1 * k, wall[6] = {0.0, s, 1.0, s, 0.5 * s, 1.0};
      PetscReal v[3 * 3];
      PetscCall(KDNetEvaluate(net, 3, wall, v)); /* left wall, right wall, left half of the lid */
      worst = PetscMax(worst, PetscMax(PetscAbsReal(v[0]), PetscAbsReal(v[1]))); /* u at the walls */
      worst = PetscMax(worst, PetscMax(PetscAbsReal(v[3]), PetscAbsReal(v[4]))); /* v at the walls */
      worst = PetscMax(worst, PetscAbsReal(v[5]));                               /* v on the lid */
      worst = PetscMax(worst, PetscAbsReal(v[2] - PetscExpReal(-0.25 * s * s / 0.04) -
                                           PetscExpReal(-(1 - 0.5 * s) * (1 - 0.5 * s) / 0.04))); /* u on the lid */
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "wall values, largest error: %.2e (tol 1e-10)\n", (double) worst));
    PetscCheck(worst <= 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the corner flow misses the wall data");
    {
      const PetscReal corner[2] = {0.0, 1.0};
      PetscReal v[3];
      PetscCall(KDNetEvaluate(net, 1, corner, v));
      PetscCheck(PetscAbsReal(v[0] - 1.0) <= 1e-10 && PetscAbsReal(v[1]) <= 1e-10 && PetscAbsReal(v[2]) <= 1e-10,
                 PETSC_COMM_WORLD, PETSC_ERR_PLIB, "at the corner: u %g v %g p %g, expected the lid value 1, 0, 0",
                 (double) v[0], (double) v[1], (double) v[2]);
    }
    PetscCall(KDNetDestroy(&net));
  }
  PetscCall(PetscFinalize());
  return 0;
}
