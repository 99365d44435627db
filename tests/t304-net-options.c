static const char help[] =
    "KDNet options with an object prefix, and the reproducible Xavier initialization on every rank.\n";

/* Run with -teacher_widths 64,128 -teacher_activation sin -teacher_net_block_size 33 on 2 ranks.
   - The prefixed options reach the object: widths [2,64,128,1], sin, 33 points per block.
   - KDNetInitialize is a pure function of the seed: identical on every rank (max and min over ranks agree bitwise),
     identical on a second call with the same seed, different with another seed; biases are zero.
   - Xavier normal: the 128 x 64 weights have mean 0 and standard deviation sqrt(2 / (64 + 128)). With N = 8192
     samples the sample standard deviation has relative error ~ 1/sqrt(2N) = 0.8% and the mean an error of
     sigma/sqrt(N): tolerances of 5 standard errors (4% and 5 sigma/sqrt(N)) fail with probability < 1e-6 for a
     correct generator and catch a wrong variance (uniform instead of normal scaling, fan_in only, ...).
   - A first-layer scale (-<prefix>first_layer_scale) multiplies the first layer's weights and spreads its biases. */
#include <kdnet.h>

int main(int argc, char **argv)
{
  KDNet net, net2;
  PetscInt nw, np;
  const PetscInt *w;
  PetscReal *theta, *theta2, *copy, *mx, *mn;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(KDNetCreate(PETSC_COMM_WORLD, &net));
  PetscCall(KDNetSetOptionsPrefix(net, "teacher_"));
  PetscCall(KDNetSetFromOptions(net));
  PetscCall(KDNetSetUp(net));
  PetscCall(KDNetGetWidths(net, &nw, &w));
  PetscCheck(nw == 4 && w[0] == 2 && w[1] == 64 && w[2] == 128 && w[3] == 1, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "-teacher_widths 64,128 not applied");
  {
    KDActivation act;
    PetscCall(KDNetGetActivation(net, &act));
    PetscCheck(act == KD_ACTIVATION_SIN, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "-teacher_activation sin not applied");
  }
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCheck(np == 3 * 64 + 65 * 128 + 129, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "parameter count %" PetscInt_FMT, np);
  PetscCall(KDNetInitialize(net, 42));
  PetscCall(KDNetGetParameters(net, &theta));

  PetscCall(PetscMalloc3(np, &copy, np, &mx, np, &mn));
  PetscCallMPI(MPI_Allreduce(theta, mx, (PetscMPIInt) np, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(theta, mn, (PetscMPIInt) np, MPIU_REAL, MPI_MIN, PETSC_COMM_WORLD));
  for (PetscInt k = 0; k < np; k++)
    PetscCheck(mx[k] == mn[k], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "parameter %" PetscInt_FMT " differs between ranks",
               k);
  PetscCall(PetscArraycpy(copy, theta, np));
  PetscCall(KDNetInitialize(net, 42));
  for (PetscInt k = 0; k < np; k++)
    PetscCheck(theta[k] == copy[k], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "same seed, parameter %" PetscInt_FMT " differs",
               k);
  PetscCall(KDNetInitialize(net, 43));
  {
    PetscInt same = 0;
    for (PetscInt k = 0; k < np; k++) same += theta[k] == copy[k] && copy[k] != 0.0;
    PetscCheck(same == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "seeds 42 and 43 share %" PetscInt_FMT " weights", same);
  }
  PetscCall(KDNetInitialize(net, 42));
  /* W_0 (64 x 2) at 0, b_0 at 128, W_1 (128 x 64) at 192, then b_1 */
  {
    const PetscInt nW  = 128 * 64;
    const PetscReal *W = theta + 3 * 64, *b = W + nW, sigma = PetscSqrtReal(2.0 / (64 + 128));
    PetscReal mean = 0, var = 0;
    for (PetscInt k = 0; k < 64; k++)
      PetscCheck(theta[2 * 64 + k] == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "bias b_0 not zero");
    for (PetscInt k = 0; k < 128; k++) PetscCheck(b[k] == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "bias b_1 not zero");
    for (PetscInt k = 0; k < nW; k++) mean += W[k] / nW;
    for (PetscInt k = 0; k < nW; k++) var += (W[k] - mean) * (W[k] - mean) / (nW - 1);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "layer 1: mean %.2e, std %.5f, Xavier std %.5f\n", (double) mean,
                          (double) PetscSqrtReal(var), (double) sigma));
    PetscCheck(PetscAbsReal(mean) <= 5 * sigma / PetscSqrtReal((PetscReal) nW), PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "weight mean %g", (double) mean);
    PetscCheck(PetscAbsReal(PetscSqrtReal(var) / sigma - 1) <= 0.04, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "weight std %g, Xavier %g", (double) PetscSqrtReal(var), (double) sigma);
  }

  /* a second network of the same architecture evaluates the same function: the parameters are all there is */
  PetscCall(KDNetCreate(PETSC_COMM_WORLD, &net2));
  PetscCall(KDNetSetOptionsPrefix(net2, "teacher_"));
  PetscCall(KDNetSetFromOptions(net2));
  PetscCall(KDNetInitialize(net2, 42));
  PetscCall(KDNetGetParameters(net2, &theta2));
  for (PetscInt k = 0; k < np; k++)
    PetscCheck(theta2[k] == theta[k], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "second network differs at %" PetscInt_FMT, k);
  {
    const PetscReal x[6] = {-0.9, 0.1, 0.3, 0.7, 0.99, -0.99};
    PetscReal y[3], y2[3];
    PetscCall(KDNetEvaluate(net, 3, x, y));
    PetscCall(KDNetEvaluate(net2, 3, x, y2));
    for (PetscInt p = 0; p < 3; p++)
      PetscCheck(y[p] == y2[p] && y[p] != 0.0, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
                 "evaluation differs at point %" PetscInt_FMT, p);
  }
  /* -scaled_first_layer_scale 25: the first layer's weights are 25 times the default's (the same draws), its biases
     are drawn in [-25 sigma_0 sqrt(2), 25 sigma_0 sqrt(2)] (sigma_0 = sqrt(2 / (2 + 64))) and not all zero; the
     other layers are untouched. */
  {
    KDNet net3;
    PetscReal *theta3, bmax = 0;
    const PetscReal s = 25, lim = s * PetscSqrtReal(2.0 / (2 + 64)) * PetscSqrtReal(2.0);
    PetscCall(PetscOptionsSetValue(NULL, "-scaled_widths", "64,128"));
    PetscCall(PetscOptionsSetValue(NULL, "-scaled_first_layer_scale", "25"));
    PetscCall(KDNetCreate(PETSC_COMM_WORLD, &net3));
    PetscCall(KDNetSetOptionsPrefix(net3, "scaled_"));
    PetscCall(KDNetSetFromOptions(net3));
    PetscCall(KDNetInitialize(net3, 42));
    PetscCall(KDNetGetParameters(net3, &theta3));
    for (PetscInt k = 0; k < 2 * 64; k++)
      PetscCheck(theta3[k] == s * theta[k], PETSC_COMM_WORLD, PETSC_ERR_PLIB,
                 "first-layer weight %" PetscInt_FMT " is not 25 times the default", k);
    for (PetscInt k = 0; k < 64; k++) bmax = PetscMax(bmax, PetscAbsReal(theta3[2 * 64 + k]));
    PetscCheck(bmax > 0.5 * lim && bmax <= lim, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "first-layer biases: largest %g, expected in (%g, %g]", (double) bmax, (double) (0.5 * lim),
               (double) lim);
    for (PetscInt k = 3 * 64; k < np; k++)
      PetscCheck(theta3[k] == theta[k], PETSC_COMM_WORLD, PETSC_ERR_PLIB,
                 "parameter %" PetscInt_FMT " beyond the first layer changed", k);
    PetscCall(KDNetDestroy(&net3));
  }
  PetscCall(KDNetView(net, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(PetscFree3(copy, mx, mn));
  PetscCall(KDNetDestroy(&net2));
  PetscCall(KDNetDestroy(&net));
  PetscCheck(!net, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "KDNetDestroy did not clear the handle");
  PetscCall(KDNetDestroy(&net));
  PetscCall(PetscFinalize());
  return 0;
}
