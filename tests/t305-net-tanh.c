static const char help[] = "The vectorized tanh of the network kernels against libm's tanh.\n";

/* KDTanhArray (src/netkernel.c) replaces libm's tanh in the hot loops. Checked on 2 million arguments: uniform on
   [-25, 25], log-uniform magnitudes from 1e-300 to 1e2 of both signs (where the expm1 form must keep full relative
   accuracy near 0), and the special values +-0, +-inf, NaN. Tolerance: 4 ulp relative to libm (libm's tanh is itself
   within 1 ulp; the polynomial and the division add about 2), and the exact signed zero, +-1 at infinity and NaN. */
#include "netimpl.h"

int main(int argc, char **argv)
{
  const PetscInt n = 2000000;
  PetscReal *x, *y, worst = 0, wx = 0;
  uint64_t st = 1;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscMalloc2(n, &x, n, &y));
  for (PetscInt i = 0; i < n; i++) {
    uint64_t z = (st += UINT64_C(0x9e3779b97f4a7c15));
    z          = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z          = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    const PetscReal u = (PetscReal) (z >> 11) * 0x1.0p-53;
    if (i % 2)
      x[i] = -25.0 + 50.0 * u;
    else
      x[i] = (i % 4 ? -1.0 : 1.0) * PetscPowReal(10.0, -300.0 + 302.0 * u);
  }
  KDTanhArray(n, x, y);
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal ref = tanh(x[i]), err = PetscAbsReal(y[i] - ref) / (PetscAbsReal(ref) * PETSC_MACHINE_EPSILON);
    if (err > worst) {
      worst = err;
      wx    = x[i];
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "largest difference from libm tanh: %.2f ulp (at x = %.17g), tolerance 4\n",
                        (double) worst, (double) wx));
  PetscCheck(worst <= 4.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "tanh(%.17g) off by %.2f ulp", (double) wx, (double) worst);
  {
    const PetscReal sx[5] = {0.0, -0.0, (PetscReal) INFINITY, -(PetscReal) INFINITY, (PetscReal) NAN};
    PetscReal sy[5];
    KDTanhArray(5, sx, sy);
    PetscCheck(sy[0] == 0.0 && !signbit(sy[0]) && sy[1] == 0.0 && signbit(sy[1]), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "tanh of a signed zero");
    PetscCheck(sy[2] == 1.0 && sy[3] == -1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "tanh(+-inf) = %g, %g", (double) sy[2],
               (double) sy[3]);
    PetscCheck(PetscIsNanReal(sy[4]), PETSC_COMM_SELF, PETSC_ERR_PLIB, "tanh(NaN) = %g, not NaN", (double) sy[4]);
  }
  PetscCall(PetscFree2(x, y));
  PetscCall(PetscFinalize());
  return 0;
}
