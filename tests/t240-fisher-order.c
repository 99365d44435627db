static const char help[] =
    "Fisher-KPP solver: order of accuracy on a manufactured solution, and the symmetry of a centred seed.\n"
    "(1) space and time together: n = 16, 32, 64 with dt = h, error against the exact solution; the same in smooth\n"
    "    layers of white matter (n = 32, 64, 128);\n"
    "(2) time alone: n = 32 fixed, dt = 1/32 halved three times, differences of successive solutions;\n"
    "(3) the default problem (seed at the centre) on 64 x 64 cells: the grid's symmetries, and the front (u = 1/2)\n"
    "    at the same distance from the seed along an axis and along the diagonal;\n"
    "(4) a planar front: its speed against 2 sqrt(D rho) with the correction of pulled fronts.\n";
#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"
#include "t20-order.h"

/* Distance from the centre (1/2, 1/2) of the square at which u falls through 1/2, by linear interpolation between
   cells: along the diagonal through the cells (c + k, c + k), whose centres lie on it at sqrt(2) (k + 1/2) h, or along
   the row of cells (c + k, c), whose centres are at (k + 1/2) h along x and h/2 off the axis (c = n/2, n even). */
static PetscReal FrontRadius(const PetscReal *u, PetscInt n, PetscBool diag)
{
  const PetscInt c  = n / 2;
  const PetscReal h = 1.0 / n;
  for (PetscInt k = 0; c + k + 1 < n; k++) {
    const PetscReal a = u[(c + (diag ? k : 0)) * n + c + k], b = u[(c + (diag ? k + 1 : 0)) * n + c + k + 1];
    if (a >= 0.5 && b < 0.5) {
      const PetscReal s = h * (k + 0.5 + (a - 0.5) / (a - b)); /* offset along x of the crossing */
      return diag ? PETSC_SQRT2 * s : PetscSqrtReal(s * s + 0.25 * h * h);
    }
  }
  return -1;
}

int main(int argc, char **argv)
{
  KDFisherProblem prob;
  KDFisherOptions opt;
  KDFisherSolution sol[4];
  PetscInt grids[3] = {16, 32, 64};
  /* The scheme is second order in h and dt. Observed slopes at these sizes are within 0.05 of 2; the band [1.9, 2.15]
     is the order the issue asks for (1.9) and still rejects any first-order defect (a wrong wall flux, a first-order
     stage, the source at the wrong time), whose slope would be near 1. */
  const PetscReal lo = 1.9, hi = 2.15;
  PetscReal h[4], el2[4], emax[4], s;
  PetscMPIInt size;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscMemzero(&prob, sizeof(prob)));
  /* D and rho such that diffusion (D lap u ~ 0.5) and reaction (rho u (1 - u) ~ 0.5) both matter; tfinal = 1 so
     that the time error is not negligible against the space error */
  prob.param[KD_FISHER_D]           = 0.05;
  prob.param[KD_FISHER_RHO]         = 2.0;
  prob.param[KD_FISHER_WHITE_RATIO] = 1.0;
  prob.param[KD_FISHER_SEED_X]      = 0.5;
  prob.param[KD_FISHER_SEED_Y]      = 0.5;
  prob.param[KD_FISHER_SEED_AMP]    = 0.5;
  prob.param[KD_FISHER_SEED_WIDTH]  = 0.05;
  prob.tfinal                       = 1.0;
  prob.manufactured                 = PETSC_TRUE;
  PetscCall(KDFisherOptionsSetFromOptions(PETSC_COMM_WORLD, &opt));

  /* (1) space and time */
  for (PetscInt g = 0; g < 3; g++) {
    opt.n  = grids[g];
    opt.nt = 2;
    opt.dt = 1.0 / grids[g];
    PetscCall(KDFisherSolveGrid(PETSC_COMM_WORLD, &prob, &opt, &sol[0]));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "n = %3" PetscInt_FMT "  dt = %.4e  L2 error = %.4e  max error = %.4e\n",
                          opt.n, (double) sol[0].dt, (double) sol[0].errl2, (double) sol[0].errmax));
    h[g]    = 1.0 / grids[g];
    el2[g]  = sol[0].errl2;
    emax[g] = sol[0].errmax;
    PetscCall(KDFisherSolutionDestroy(&sol[0]));
  }
  s = FitSlope(3, h, el2);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "space-time order: L2 %.3f, max %.3f (accepted [%g, %g])\n", (double) s,
                        (double) FitSlope(3, h, emax), (double) lo, (double) hi));
  PetscCheck(s >= lo && s <= hi, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED, "space-time L2 order %g outside [%g, %g]",
             (double) s, (double) lo, (double) hi);
  s = FitSlope(3, h, emax);
  PetscCheck(s >= lo && s <= hi, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
             "space-time max-norm order %g outside [%g, %g]", (double) s, (double) lo, (double) hi);

  /* (1b) space and time in heterogeneous tissue: smooth layers (interface width 0.05, period 1/2) of white matter
     with 5 times the diffusivity, n = 32, 64, 128 (the interfaces resolved by 1.6 cells at least); the manufactured
     source reads grad k. The face coefficients (harmonic means of the cells' k) are second order for a smooth k. */
  prob.heterogeneous                = PETSC_TRUE;
  prob.tissue.type                  = KD_COMPOSITE_LAMINATE;
  prob.tissue.eps                   = 0.5;
  prob.tissue.fraction              = 0.5;
  prob.tissue.width                 = 0.05;
  prob.param[KD_FISHER_WHITE_RATIO] = 5.0;
  PetscCall(KDFisherProblemSetUp(PETSC_COMM_WORLD, &prob));
  for (PetscInt g = 0; g < 3; g++) {
    opt.n  = 2 * grids[g];
    opt.nt = 2;
    opt.dt = 1.0 / opt.n;
    PetscCall(KDFisherSolveGrid(PETSC_COMM_WORLD, &prob, &opt, &sol[0]));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "tissue: n = %3" PetscInt_FMT "  dt = %.4e  L2 error = %.4e  max error = %.4e\n", opt.n,
                          (double) sol[0].dt, (double) sol[0].errl2, (double) sol[0].errmax));
    h[g]    = 1.0 / opt.n;
    el2[g]  = sol[0].errl2;
    emax[g] = sol[0].errmax;
    PetscCall(KDFisherSolutionDestroy(&sol[0]));
  }
  s = FitSlope(3, h, el2);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "space-time order in tissue: L2 %.3f, max %.3f (accepted [%g, %g])\n",
                        (double) s, (double) FitSlope(3, h, emax), (double) lo, (double) hi));
  PetscCheck(s >= lo && s <= hi, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
             "space-time L2 order in tissue %g outside [%g, %g]", (double) s, (double) lo, (double) hi);
  s = FitSlope(3, h, emax);
  PetscCheck(s >= lo && s <= hi, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
             "space-time max-norm order in tissue %g outside [%g, %g]", (double) s, (double) lo, (double) hi);
  prob.heterogeneous                = PETSC_FALSE;
  prob.param[KD_FISHER_WHITE_RATIO] = 1.0;

  /* (2) time alone: on a fixed grid the space error cancels in u(dt) - u(dt/2), which is ~ C dt^2 */
  opt.n  = 32;
  opt.nt = 2;
  for (PetscInt g = 0; g < 4; g++) {
    opt.dt = 0.03125 / (1 << g);
    PetscCall(KDFisherSolveGrid(PETSC_COMM_WORLD, &prob, &opt, &sol[g]));
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
  for (PetscInt g = 0; g < 4; g++) PetscCall(KDFisherSolutionDestroy(&sol[g]));
  s = FitSlope(3, h, emax);
  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "time order: %.3f (accepted [%g, %g])\n", (double) s, (double) lo, (double) hi));
  PetscCheck(s >= lo && s <= hi, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED, "time order %g outside [%g, %g]",
             (double) s, (double) lo, (double) hi);

  /* (3) symmetry, on one rank (the whole grid in one block) */
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  if (size == 1) {
    const PetscInt n = 64;
    PetscReal asym = 0, umax = 0, rax, rdiag;
    const PetscReal *u;

    prob.manufactured                = PETSC_FALSE;
    prob.param[KD_FISHER_D]          = 1e-3;
    prob.param[KD_FISHER_RHO]        = 5;
    prob.param[KD_FISHER_SEED_WIDTH] = 0.05;
    opt.n                            = n;
    opt.nt                           = 4;
    opt.dt                           = 0;
    PetscCall(KDFisherSolveGrid(PETSC_COMM_WORLD, &prob, &opt, &sol[0]));
    u = sol[0].u + (opt.nt - 1) * n * n; /* the last snapshot */
    for (PetscInt j = 0; j < n; j++)
      for (PetscInt i = 0; i < n; i++) {
        const PetscReal v = u[j * n + i];
        umax              = PetscMax(umax, v);
        asym              = PetscMax(asym, PetscAbsReal(v - u[i * n + j]));           /* x <-> y */
        asym              = PetscMax(asym, PetscAbsReal(v - u[j * n + (n - 1 - i)])); /* x -> 1 - x */
        asym              = PetscMax(asym, PetscAbsReal(v - u[(n - 1 - j) * n + i])); /* y -> 1 - y */
      }
    rax   = FrontRadius(u, n, PETSC_FALSE);
    rdiag = FrontRadius(u, n, PETSC_TRUE);
    PetscCall(
        PetscPrintf(PETSC_COMM_WORLD,
                    "centred seed, t = %g: max u = %.4f, largest asymmetry %.3e; front radius along x %.5f, along "
                    "the diagonal %.5f (difference %.2e, cell width %.2e)\n",
                    (double) ((opt.nt - 0.5) * prob.tfinal / opt.nt), (double) umax, (double) asym, (double) rax,
                    (double) rdiag, (double) (rax - rdiag), 1.0 / n));
    /* The discrete problem has the square's symmetries; the sums of a cell's four fluxes are taken in one order, so
       mirrored cells agree to round-off only: 1e-13 on u <= 1 is a few hundred ulps of accumulated rounding. */
    PetscCheck(asym <= 1e-13, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the solution of a centred seed is not symmetric: %g",
               (double) asym);
    /* Radial symmetry: the five-point Laplacian is isotropic up to O(h^2), so the front radius along an axis and along
       the diagonal differ by far less than a cell; a fifth of a cell would catch an anisotropic scheme or a wrong
       diagonal (its error is of the order of the front's own width, ~2 cells here). */
    PetscCheck(rax > 0 && rdiag > 0 && PetscAbsReal(rax - rdiag) <= 0.2 / n, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "front radius along x %g and along the diagonal %g differ by more than a fifth of a cell", (double) rax,
               (double) rdiag);
    PetscCall(KDFisherSolutionDestroy(&sol[0]));
  }

  /* (4) A planar front from the wall x = 0. A pulled Fisher-KPP front sits at x(t) = c t - 3/(2 lambda) ln t + const
     + O(t^-1/2), c = 2 sqrt(D rho), lambda = sqrt(rho / D) (Bramson): between t1 and t2 it moves at
     c - 3 ln(t2 / t1) / (2 lambda (t2 - t1)). D and rho give c = 0.4 and a front sqrt(D / rho) = 0.02 wide (5 cells at
     n = 256); the front is measured on the snapshots of t in [1, 2], where it crosses x = 0.35 ... 0.75. */
  {
    const PetscReal D = 4e-3, rho = 10, c = 2 * PetscSqrtReal(D * rho), lambda = PetscSqrtReal(rho / D);
    PetscReal xf[64], tf[64], t1, t2, v, vexp;
    PetscInt nf = 0;

    prob.manufactured                = PETSC_FALSE;
    prob.planar                      = PETSC_TRUE;
    prob.param[KD_FISHER_D]          = D;
    prob.param[KD_FISHER_RHO]        = rho;
    prob.param[KD_FISHER_SEED_X]     = 0;
    prob.param[KD_FISHER_SEED_AMP]   = 1;
    prob.param[KD_FISHER_SEED_WIDTH] = 0.02;
    prob.tfinal                      = 2;
    opt.n                            = 256;
    opt.nt                           = 40;
    opt.dt                           = 0;
    PetscCall(KDFisherSolveGrid(PETSC_COMM_WORLD, &prob, &opt, &sol[0]));
    /* the front on row ys of this rank's block (every row is the same), where u falls through 1/2 */
    for (PetscInt k = 0; k < opt.nt; k++) {
      const PetscReal *u = sol[0].u + k * sol[0].xm * sol[0].ym, t = (k + 0.5) * prob.tfinal / opt.nt;
      PetscReal x = -1;
      for (PetscInt i = 0; i + 1 < sol[0].xm; i++)
        if (u[i] >= 0.5 && u[i + 1] < 0.5) x = (sol[0].xs + i + 0.5 + (u[i] - 0.5) / (u[i] - u[i + 1])) / opt.n;
      PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &x, 1, MPIU_REAL, MPIU_MAX, PETSC_COMM_WORLD));
      if (t >= 1 && x > 0) {
        tf[nf]   = t;
        xf[nf++] = x;
      }
    }
    PetscCall(KDFisherSolutionDestroy(&sol[0]));
    PetscCheck(nf >= 2, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "the planar front was not found");
    t1   = tf[0];
    t2   = tf[nf - 1];
    v    = (xf[nf - 1] - xf[0]) / (t2 - t1);
    vexp = c - 3 * PetscLogReal(t2 / t1) / (2 * lambda * (t2 - t1));
    PetscCall(
        PetscPrintf(PETSC_COMM_WORLD,
                    "planar front: x = %.5f at t = %.4f, %.5f at t = %.4f; speed %.5f, 2 sqrt(D rho) = %.5f, with "
                    "the pulled-front correction %.5f: %+.3f%% (%+.3f%% against 2 sqrt(D rho))\n",
                    (double) xf[0], (double) t1, (double) xf[nf - 1], (double) t2, (double) v, (double) c,
                    (double) vexp, (double) (100 * (v / vexp - 1)), (double) (100 * (v / c - 1))));
    /* 1%, the figure. Measured -0.34% at n = 256 (+0.07% at 128, -0.45% at 512: the next, O(t^-1/2), terms
       of the expansion); without the correction the same run is 5.5% slow, and a wrong D or rho in either part of
       the scheme moves c by its square root. */
    PetscCheck(PetscAbsReal(v / vexp - 1) <= 0.01, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "planar front speed %g is not within 1%% of %g (2 sqrt(D rho) with the pulled-front correction)",
               (double) v, (double) vexp);
  }
  PetscCall(PetscFinalize());
  return 0;
}
