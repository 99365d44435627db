static const char help[] =
    "Heat solver, manufactured solution: order of accuracy.\n"
    "(1) space and time together: n = 16, 32, 64 with dt = h, error against the exact solution;\n"
    "(2) time alone: n = 32 fixed, dt = 1/32 halved three times, differences of successive solutions.\n"
    "Each fits the slope of log(error) against log(h) or log(dt) by least squares.\n";
#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"
#include "t20-order.h"
#include <stdlib.h>

#ifndef KD_SOURCE_DIR
#define KD_SOURCE_DIR "."
#endif

int main(int argc, char **argv)
{
  KDHeatProblem prob;
  KDHeatOptions opt;
  KDHeatSolution sol[4];
  PetscInt grids[3] = {16, 32, 64};
  /* The scheme is second order in h and dt. Observed slopes at these sizes are within 0.05 of 2 (pre-asymptotic
     terms); the band [1.85, 2.15] leaves room for that and still rejects any first-order defect (a wrong boundary
     ghost, a BDF1 step throughout, a source at the wrong time), whose slope would be near 1. */
  const PetscReal lo = 1.85, hi = 2.15;
  PetscReal h[4], el2[4], emax[4], s;
  char path[PETSC_MAX_PATH_LEN];
  const char *src = getenv("KD_SOURCE_DIR");

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  /* the committed microstructure, by absolute path: the test runs in its own scratch directory. tfinal = 1 so that
     the time error is not negligible against the space error (the manufactured solution varies on a time scale 1). */
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/meshes/inclusions.txt", src ? src : KD_SOURCE_DIR));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_microstructure", path));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_mms", "1"));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_tfinal", "1"));
  PetscCall(KDHeatProblemSetFromOptions(PETSC_COMM_WORLD, &prob));
  PetscCall(KDHeatOptionsSetFromOptions(PETSC_COMM_WORLD, &opt));

  /* (1) space and time */
  for (PetscInt g = 0; g < 3; g++) {
    opt.n  = grids[g];
    opt.nt = 2;
    opt.dt = 1.0 / grids[g];
    PetscCall(KDHeatSolveGrid(PETSC_COMM_WORLD, &prob, &opt, &sol[0]));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "n = %3" PetscInt_FMT "  dt = %.4e  L2 error = %.4e  max error = %.4e\n",
                          opt.n, (double) sol[0].dt, (double) sol[0].errl2, (double) sol[0].errmax));
    h[g]    = 1.0 / grids[g];
    el2[g]  = sol[0].errl2;
    emax[g] = sol[0].errmax;
    PetscCall(KDHeatSolutionDestroy(&sol[0]));
  }
  s = FitSlope(3, h, el2);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "space-time order: L2 %.3f, max %.3f (accepted [%g, %g])\n", (double) s,
                        (double) FitSlope(3, h, emax), (double) lo, (double) hi));
  PetscCheck(s >= lo && s <= hi, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED, "space-time L2 order %g outside [%g, %g]",
             (double) s, (double) lo, (double) hi);
  s = FitSlope(3, h, emax);
  PetscCheck(s >= lo && s <= hi, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
             "space-time max-norm order %g outside [%g, %g]", (double) s, (double) lo, (double) hi);

  /* (2) time alone: on a fixed grid the space error cancels in u(dt) - u(dt/2), which is ~ C dt^2. Steps start at
     dt = 1/32: with dt = 1/8 the first snapshot (t = 1/4, two steps in) is still inside the initial layer of the stiff
     grid modes and the differences converge erratically (local slopes 1.1 to 1.7 there, 2.1 to 2.2 at t = 3/4). */
  opt.n  = 32;
  opt.nt = 2;
  for (PetscInt g = 0; g < 4; g++) {
    opt.dt = 0.03125 / (1 << g);
    PetscCall(KDHeatSolveGrid(PETSC_COMM_WORLD, &prob, &opt, &sol[g]));
  }
  for (PetscInt g = 0; g < 3; g++) {
    PetscReal d = 0;
    for (PetscInt q = 0; q < opt.nt * sol[g].xm * sol[g].ym; q++)
      d = PetscMax(d, PetscAbsReal(sol[g].u[q] - sol[g + 1].u[q]));
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &d, 1, MPIU_REAL, MPIU_MAX, PETSC_COMM_WORLD));
    h[g]    = sol[g].dt;
    emax[g] = d;
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "dt = %.4e  max |u(dt) - u(dt/2)| = %.4e\n", (double) h[g], (double) d));
  }
  for (PetscInt g = 0; g < 4; g++) PetscCall(KDHeatSolutionDestroy(&sol[g]));
  s = FitSlope(3, h, emax);
  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "time order: %.3f (accepted [%g, %g])\n", (double) s, (double) lo, (double) hi));
  PetscCheck(s >= lo && s <= hi, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED, "time order %g outside [%g, %g]",
             (double) s, (double) lo, (double) hi);
  PetscCall(PetscFinalize());
  return 0;
}
