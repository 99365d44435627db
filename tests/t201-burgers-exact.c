static const char help[] =
    "Checks KDBurgersExact, the Cole-Hopf solution of u_t + u u_x = nu u_xx, u(x,0) = -sin(pi x),\n"
    "u(+-1,t) = 0, evaluated by Gauss-Hermite quadrature, against brute-force trapezoid sums of the\n"
    "same integrals, against its symmetries, and against the published maximal slope at x = 0.\n";

#include "../solvers/kdsolverimpl.h"

/* The Cole-Hopf ratio with eta = sqrt(4 nu t) z, summed by the trapezoid rule on z in [-L, L] with n intervals. The
   integrand is analytic and decays like exp(-z^2 + 1/(pi nu)), so the rule converges exponentially in dz; L = 40 and
   dz = 2e-3 are far beyond what the cases below need (a 16 times finer rule agrees to round-off), which makes it an
   independent reference. Compensated (Kahan) sums keep the round-off of the 40001 terms at the 1e-16 level. */
static PetscReal BruteForce(PetscReal nu, PetscReal t, PetscReal x)
{
  const PetscInt n  = 40000;
  const PetscReal L = 40.0, dz = 2 * L / n, c = PetscSqrtReal(4 * nu * t), a = 1.0 / (2 * PETSC_PI * nu);
  PetscReal m = PETSC_MIN_REAL, num = 0, den = 0, cnum = 0, cden = 0;

  for (PetscInt j = 0; j <= n; j++) {
    const PetscReal z = -L + j * dz;
    m                 = PetscMax(m, -z * z - a * PetscCosReal(PETSC_PI * (x - c * z)));
  }
  for (PetscInt j = 0; j <= n; j++) {
    const PetscReal z = -L + j * dz, w = (j == 0 || j == n) ? 0.5 : 1.0;
    const PetscReal f  = w * PetscExpReal(-z * z - a * PetscCosReal(PETSC_PI * (x - c * z)) - m);
    const PetscReal yn = PetscSinReal(PETSC_PI * (x - c * z)) * f - cnum, yd = f - cden;
    const PetscReal tn = num + yn, td = den + yd;
    cnum = (tn - num) - yn;
    cden = (td - den) - yd;
    num  = tn;
    den  = td;
  }
  return -num / den;
}

/* Slope u_x(0, t) by central differences with Richardson extrapolation: (4 D(d/2) - D(d))/3 is fourth order. */
static PetscErrorCode SlopeAtZero(PetscReal nu, PetscReal t, PetscReal d, PetscReal *slope)
{
  PetscReal up, um, uhp, uhm;

  PetscFunctionBegin;
  PetscCall(KDBurgersExact(nu, t, d, &up));
  PetscCall(KDBurgersExact(nu, t, -d, &um));
  PetscCall(KDBurgersExact(nu, t, d / 2, &uhp));
  PetscCall(KDBurgersExact(nu, t, -d / 2, &uhm));
  *slope = (4 * (uhp - uhm) / d - (up - um) / (2 * d)) / 3;
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const PetscReal nu0 = 0.01 / PETSC_PI;
  /* (nu, t, x): the front at x = 0 for t = 1 and at the time of steepest slope, smooth regions, early times, the
     walls, and the ends of the viscosity range the rule is claimed for (0.003/pi and 0.1/pi, tfinal = 1). */
  const PetscReal cases[][3] = {
      {nu0, 1.0, 0.001},
      {nu0, 1.0, -0.003},
      {nu0, 1.0, 0.005},
      {nu0, 1.0, 0.01},
      {nu0, 1.0, 0.5},
      {nu0, 1.0, -0.99},
      {nu0, 0.51, 0.002},
      {nu0, 0.3, 0.1},
      {nu0, 0.05, 0.3},
      {nu0, 1e-4, 0.7},
      {0.003 / PETSC_PI, 1.0, 0.001},
      {0.003 / PETSC_PI, 0.6, 0.01},
      {0.1 / PETSC_PI, 1.0, 0.01},
      {0.1 / PETSC_PI, 1.0, 0.4},
  };
  /* Both sides are ratios of sums of positive terms in double precision; the observed agreement is ~1e-15, and
     1e-13 leaves a factor 100 for other compilers and libm. A too-short rule fails at once: 100 nodes err by ~1e-7
     at the front for nu = 0.003/pi, 60 nodes by ~1e-10 for the default nu at t = 1. */
  const PetscReal tol = 1e-13;
  PetscReal maxdiff = 0, u = 0, v = 0, slope = 0;
  PetscErrorCode ierr;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    const PetscReal ref = BruteForce(cases[c][0], cases[c][1], cases[c][2]);
    PetscCall(KDBurgersExact(cases[c][0], cases[c][1], cases[c][2], &u));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "nu*pi %.3f t %.4f x %+.4f: u = %+.15f  |GH - trapezoid| = %.2e\n",
                          (double) (cases[c][0] * PETSC_PI), (double) cases[c][1], (double) cases[c][2], (double) u,
                          (double) PetscAbsReal(u - ref)));
    PetscCheck(PetscAbsReal(u - ref) <= tol, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
               "Gauss-Hermite differs from trapezoid by %g > %g at case %d", (double) PetscAbsReal(u - ref),
               (double) tol, (int) c);
    maxdiff = PetscMax(maxdiff, PetscAbsReal(u - ref));
  }

  /* t = 0 is the initial condition itself. */
  PetscCall(KDBurgersExact(nu0, 0.0, 0.3, &u));
  PetscCheck(u == -PetscSinReal(PETSC_PI * 0.3), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "u(x, 0) is not -sin(pi x)");

  /* Odd symmetry u(-x) = -u(x) and the Dirichlet walls: the node set is symmetric, so only round-off of order
     1e-16 times the terms may differ; 1e-13 is that with margin. */
  for (PetscReal x = 0.0; x <= 1.0; x += 0.125) {
    PetscCall(KDBurgersExact(nu0, 0.8, x, &u));
    PetscCall(KDBurgersExact(nu0, 0.8, -x, &v));
    PetscCheck(PetscAbsReal(u + v) <= 1e-13, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "u(-x) != -u(x) at x = %g: %g",
               (double) x, (double) (u + v));
  }
  PetscCall(KDBurgersExact(nu0, 1.0, 1.0, &u));
  PetscCheck(PetscAbsReal(u) <= 1e-13, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "u(1, 1) = %g, not 0", (double) u);

  /* Basdevant et al. (1986), Comput. Fluids 14:23: the steepest slope |u_x(0, t)| = 152.00516 at t = 1.6037/pi for
     nu = 0.01/pi. The value is published to 8 digits and sits at a maximum in t, so the 5-digit time costs nothing;
     the extrapolated difference with d = 1e-5 is accurate to ~1e-8. Tolerance: 1e-5, the last published digit. */
  PetscCall(SlopeAtZero(nu0, 1.6037 / PETSC_PI, 1e-5, &slope));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "u_x(0, 1.6037/pi) = %.8f (published -152.00516)\n", (double) slope));
  PetscCheck(PetscAbsReal(slope + 152.00516) <= 1e-5, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "slope at x = 0 is %.8f, published -152.00516", (double) slope);

  /* Invalid input is an error, not a NaN. */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = KDBurgersExact(0.0, 1.0, 0.0, &u);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_OUTOFRANGE, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "nu = 0 was not rejected");

  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "max |GH - trapezoid| = %.2e (tolerance %.0e)\n", (double) maxdiff, (double) tol));
  PetscCall(PetscFinalize());
  return 0;
}
