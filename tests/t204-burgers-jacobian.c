static const char help[] =
    "Checks the analytic RHS Jacobian of the Burgers solver against central differences of the RHS\n"
    "(orders 2 and 4, including the folded wall ghosts), then runs an implicit TS (BDF2 with Newton)\n"
    "and checks that it agrees with the default explicit RK4 and needs few Newton iterations.\n";

#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"

/* Solves to tfinal with the TS as configured by the options database and returns the final state (caller
   destroys), the Newton iterations per step and the error against the exact solution at tfinal. */
static PetscErrorCode SolveToEnd(const KDBurgersOptions *opt, Vec *U, PetscReal *newton, PetscReal *err)
{
  TS ts;
  DM da;
  PetscInt xs, xm, steps, its;
  const PetscScalar *u;
  PetscReal e2 = 0, n2 = 0, s[2], g[2];

  PetscFunctionBegin;
  PetscCall(KDBurgersCreateTS(PETSC_COMM_WORLD, opt, &ts, U));
  PetscCall(TSSetMaxTime(ts, opt->tfinal));
  PetscCall(TSSolve(ts, *U));
  PetscCall(TSGetStepNumber(ts, &steps));
  PetscCall(TSGetSNESIterations(ts, &its));
  *newton = (PetscReal) its / steps;
  PetscCall(TSGetDM(ts, &da));
  PetscCall(DMDAGetCorners(da, &xs, NULL, NULL, &xm, NULL, NULL));
  PetscCall(VecGetArrayRead(*U, &u));
  for (PetscInt i = 0; i < xm; i++) {
    PetscReal ue;
    PetscCall(KDBurgersExact(opt->nu, opt->tfinal, -1.0 + (xs + i + 0.5) * 2.0 / opt->nx, &ue));
    e2 += (u[i] - ue) * (u[i] - ue);
    n2 += ue * ue;
  }
  PetscCall(VecRestoreArrayRead(*U, &u));
  s[0] = e2;
  s[1] = n2;
  PetscCall(MPIU_Allreduce(s, g, 2, MPIU_REAL, MPIU_SUM, PETSC_COMM_WORLD));
  *err = PetscSqrtReal(g[0] / g[1]);
  PetscCall(TSDestroy(&ts));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  for (PetscInt order = 2; order <= 4; order += 2) {
    KDBurgersOptions opt;
    TS ts;
    DM da;
    Mat J;
    Vec U, V, W, Jv, Gp, Gm;
    PetscRandom rnd;
    PetscReal nd, nj, eps = 1e-2;

    PetscCall(KDBurgersOptionsSetFromOptions(PETSC_COMM_WORLD, &opt));
    opt.nx    = 64;
    opt.order = order;
    PetscCall(KDBurgersCreateTS(PETSC_COMM_WORLD, &opt, &ts, &U));
    PetscCall(TSGetDM(ts, &da));
    PetscCall(DMCreateMatrix(da, &J));
    /* A state without the odd symmetry of -sin(pi x) and nonzero at the walls, so that every folded ghost entry of
       the Jacobian is exercised with a generic value. */
    PetscCall(PetscRandomCreate(PETSC_COMM_WORLD, &rnd));
    PetscCall(PetscRandomSetInterval(rnd, -1.0, 1.0));
    PetscCall(VecDuplicate(U, &V));
    PetscCall(VecDuplicate(U, &W));
    PetscCall(VecDuplicate(U, &Jv));
    PetscCall(VecDuplicate(U, &Gp));
    PetscCall(VecDuplicate(U, &Gm));
    PetscCall(VecSetRandom(W, rnd));
    PetscCall(VecAXPY(U, 0.3, W));
    PetscCall(VecSetRandom(V, rnd));
    PetscCall(TSComputeRHSJacobian(ts, 0.0, U, J, J));
    PetscCall(MatMult(J, V, Jv));
    PetscCall(VecWAXPY(W, eps, V, U));
    PetscCall(TSComputeRHSFunction(ts, 0.0, W, Gp));
    PetscCall(VecWAXPY(W, -eps, V, U));
    PetscCall(TSComputeRHSFunction(ts, 0.0, W, Gm));
    PetscCall(VecAXPY(Gp, -1.0, Gm));
    PetscCall(VecScale(Gp, 0.5 / eps));
    PetscCall(VecNorm(Jv, NORM_2, &nj));
    PetscCall(VecAXPY(Gp, -1.0, Jv));
    PetscCall(VecNorm(Gp, NORM_2, &nd));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "order %" PetscInt_FMT ": |J v - central difference| / |J v| = %.2e\n",
                          order, (double) (nd / nj)));
    /* The RHS is quadratic in u, so the central difference is exact up to round-off (observed ~1e-14). 1e-10 is
       round-off with a wide margin; a wrong entry, even one wall entry among 64 rows, gives > 1e-3. */
    PetscCheck(nd <= 1e-10 * nj, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "RHS Jacobian (order %" PetscInt_FMT ") differs from finite differences by %g", order,
               (double) (nd / nj));
    PetscCall(PetscRandomDestroy(&rnd));
    PetscCall(VecDestroy(&V));
    PetscCall(VecDestroy(&W));
    PetscCall(VecDestroy(&Jv));
    PetscCall(VecDestroy(&Gp));
    PetscCall(VecDestroy(&Gm));
    PetscCall(VecDestroy(&U));
    PetscCall(MatDestroy(&J));
    PetscCall(TSDestroy(&ts));
  }

  {
    KDBurgersOptions opt;
    Vec Urk, Ubdf;
    PetscReal newton, errrk, errbdf, diff, nrm;

    PetscCall(KDBurgersOptionsSetFromOptions(PETSC_COMM_WORLD, &opt));
    opt.nu     = 0.1 / PETSC_PI;
    opt.nx     = 256;
    opt.tfinal = 0.5;
    PetscCall(SolveToEnd(&opt, &Urk, &newton, &errrk));
    PetscCall(PetscOptionsSetValue(NULL, "-burgers_ts_type", "bdf"));
    PetscCall(PetscOptionsSetValue(NULL, "-burgers_ts_bdf_order", "2"));
    PetscCall(PetscOptionsSetValue(NULL, "-burgers_ts_dt", "1e-3"));
    PetscCall(SolveToEnd(&opt, &Ubdf, &newton, &errbdf));
    PetscCall(VecNorm(Urk, NORM_2, &nrm));
    PetscCall(VecAXPY(Ubdf, -1.0, Urk));
    PetscCall(VecNorm(Ubdf, NORM_2, &diff));
    PetscCall(
        PetscPrintf(PETSC_COMM_WORLD,
                    "t = %g: error RK4 %.3e, BDF2 %.3e, |BDF2 - RK4|/|RK4| = %.2e, Newton iterations per step %.2f\n",
                    (double) opt.tfinal, (double) errrk, (double) errbdf, (double) (diff / nrm), (double) newton));
    /* BDF2 at dt = 1e-3 against RK4 at its (much smaller) stable step: the difference is the BDF2 time error,
       observed 2.3e-6 relative; 1e-4 leaves a factor 40 for other platforms while a first-order or inconsistent
       implicit step (1e-3 and up at this dt) fails. Newton with the exact Jacobian takes 1-2 iterations per step
       (observed 1.7); more than 4 on average means the Jacobian is not the derivative of the RHS. */
    PetscCheck(diff <= 1e-4 * nrm, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED, "BDF2 and RK4 differ by %g relative",
               (double) (diff / nrm));
    PetscCheck(newton <= 4.0, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED, "Newton needs %g iterations per step",
               (double) newton);
    PetscCall(VecDestroy(&Urk));
    PetscCall(VecDestroy(&Ubdf));
  }
  PetscCall(PetscFinalize());
  return 0;
}
