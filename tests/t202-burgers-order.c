static const char help[] =
    "Order of accuracy of the Burgers reference solver: relative L2 error against the exact\n"
    "(Cole-Hopf) solution over all stored snapshots on four refined grids, for central differences\n"
    "of order 2 and 4, and the least-squares slope of log error against log h.\n";

#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"

/* Least-squares slope of log(err) against log(nx): the observed order is minus that slope in h. */
static PetscReal FitOrder(PetscInt n, const PetscInt nx[], const PetscReal err[])
{
  PetscReal sx = 0, sy = 0, sxx = 0, sxy = 0;

  for (PetscInt i = 0; i < n; i++) {
    const PetscReal x = PetscLogReal(2.0 / nx[i]), y = PetscLogReal(err[i]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

int main(int argc, char **argv)
{
  const PetscInt nx[4] = {64, 128, 256, 512};
  /* Windows around the design orders 2 and 4. The time error of RK4 at the diffusive step (dt ~ h^2) is O(h^8) and
     invisible; the coarsest grid is still slightly pre-asymptotic for order 4 (local slopes 3.82, 3.95, 3.99). */
  const PetscReal window[2][2] = {{1.8, 2.3}, {3.6, 4.3}};
  const PetscInt orders[2]     = {2, 4};

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  for (PetscInt o = 0; o < 2; o++) {
    PetscReal err[4], p;
    for (PetscInt g = 0; g < 4; g++) {
      KDBurgersOptions opt;
      Vec U;

      PetscCall(KDBurgersOptionsSetFromOptions(PETSC_COMM_WORLD, &opt));
      /* nu = 0.1/pi keeps the front resolved on the coarse grids so that the error is in its asymptotic regime. */
      opt.nu    = 0.1 / PETSC_PI;
      opt.nx    = nx[g];
      opt.nt    = 8;
      opt.order = orders[o];
      PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, opt.nt * opt.nx, &U));
      PetscCall(KDBurgersSolveGrid(PETSC_COMM_WORLD, &opt, U));
      PetscCall(KDBurgersRelativeError(&opt, U, &err[g]));
      PetscCall(VecDestroy(&U));
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "order %" PetscInt_FMT " nx %4" PetscInt_FMT ": relative L2 error %.4e\n",
                            orders[o], nx[g], (double) err[g]));
    }
    p = FitOrder(4, nx, err);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "order %" PetscInt_FMT ": fitted order %.3f (accepted [%.1f, %.1f])\n",
                          orders[o], (double) p, (double) window[o][0], (double) window[o][1]));
    PetscCheck(p >= window[o][0] && p <= window[o][1], PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
               "fitted order %g outside [%g, %g]", (double) p, (double) window[o][0], (double) window[o][1]);
  }
  PetscCall(PetscFinalize());
  return 0;
}
