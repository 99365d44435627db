static const char help[] = "The vectorized activations of the network kernels against libm.\n";

/* KDTanhArray and KDIsruArray (src/net/kernel.c) replace libm in the hot loops; isru twice, the kernels' path (with
   AVX-512 the hardware estimate and two Newton steps) and the portable one (four steps). Each is checked on 2 million
   arguments: uniform on [-25, 25], log-uniform magnitudes from 1e-300 to 1e2 of both signs (where tanh's expm1 form
   must keep full relative accuracy near 0), and the special values +-0, +-inf, NaN. The references: libm's tanh
   (itself within 1 ulp) and x / sqrtl(1 + x^2) in long double (within 1 ulp of the double result). Tolerance 4 ulp
   relative to the reference: tanh's polynomial and its division add about 2, isru's four Newton steps about 1.5
   (the round-off of each step; the starting error is squared away). Then the exact signed zero, +-1 at infinity and
   NaN for both. */
#include "net/netimpl.h"

typedef void (*ActivationArray)(PetscInt, const PetscReal[], PetscReal[]);

static PetscReal TanhRef(PetscReal x)
{
  return tanh(x);
}

static PetscReal IsruRef(PetscReal x)
{
  const long double lx = x;
  return (PetscReal) (lx / sqrtl(1.0L + lx * lx));
}

static void IsruKernel(PetscInt n, const PetscReal x[], PetscReal y[])
{
  KDIsruArray(n, x, y, PETSC_FALSE);
}

static void IsruPortable(PetscInt n, const PetscReal x[], PetscReal y[])
{
  KDIsruArray(n, x, y, PETSC_TRUE);
}

static PetscErrorCode Check(const char *name, ActivationArray f, PetscReal (*ref)(PetscReal), PetscInt n,
                            const PetscReal x[], PetscReal y[])
{
  PetscReal worst = 0, wx = 0;
  const PetscReal sx[5] = {0.0, -0.0, (PetscReal) INFINITY, -(PetscReal) INFINITY, (PetscReal) NAN};
  PetscReal sy[5];

  PetscFunctionBegin;
  f(n, x, y);
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal r = ref(x[i]), err = PetscAbsReal(y[i] - r) / (PetscAbsReal(r) * PETSC_MACHINE_EPSILON);
    if (err > worst) {
      worst = err;
      wx    = x[i];
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "largest difference of %s from its reference: %.2f ulp (at x = %.17g), tolerance 4\n", name,
                        (double) worst, (double) wx));
  PetscCheck(worst <= 4.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s(%.17g) off by %.2f ulp", name, (double) wx,
             (double) worst);
  f(5, sx, sy);
  PetscCheck(sy[0] == 0.0 && !signbit(sy[0]) && sy[1] == 0.0 && signbit(sy[1]), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s of a signed zero", name);
  PetscCheck(sy[2] == 1.0 && sy[3] == -1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s(+-inf) = %g, %g", name, (double) sy[2],
             (double) sy[3]);
  PetscCheck(PetscIsNanReal(sy[4]), PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s(NaN) = %g, not NaN", name, (double) sy[4]);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const PetscInt n = 2000000;
  PetscReal *x, *y;
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
  PetscCall(Check("tanh", KDTanhArray, TanhRef, n, x, y));
  PetscCall(Check("isru", IsruKernel, IsruRef, n, x, y));
  PetscCall(Check("isru (portable)", IsruPortable, IsruRef, n, x, y));
  PetscCall(PetscFree2(x, y));
  PetscCall(PetscFinalize());
  return 0;
}
