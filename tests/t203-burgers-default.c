static const char help[] =
    "Accuracy of the default Burgers reference solve (nu = 0.01/pi, the level-0 grid of KDSolveBurgers):\n"
    "relative L2 error of all stored values against the exact Cole-Hopf solution.\n";

#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"

int main(int argc, char **argv)
{
  /* The reference must be well below the 1e-4 relative L2 that distilled students are meant to reach. */
  const PetscReal tol = 1e-4;
  KDBurgersOptions opt;
  Vec U;
  PetscReal err;
  PetscLogDouble t0, t1, t2;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(KDBurgersOptionsSetFromOptions(PETSC_COMM_WORLD, &opt));
  PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, opt.nt * opt.nx, &U));
  PetscCall(PetscTime(&t0));
  PetscCall(KDBurgersSolveGrid(PETSC_COMM_WORLD, &opt, U));
  PetscCall(PetscTime(&t1));
  PetscCall(KDBurgersRelativeError(&opt, U, &err));
  PetscCall(PetscTime(&t2));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "nu %.6g nx %" PetscInt_FMT " nt %" PetscInt_FMT " order %" PetscInt_FMT
                        ": relative L2 error %.3e (tolerance %.0e), solve %.2f s, exact %.2f s\n",
                        (double) opt.nu, opt.nx, opt.nt, opt.order, (double) err, (double) tol, (double) (t1 - t0),
                        (double) (t2 - t1)));
  PetscCheck(err <= tol, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED, "relative L2 error %g exceeds %g", (double) err,
             (double) tol);
  PetscCall(VecDestroy(&U));
  PetscCall(PetscFinalize());
  return 0;
}
