static const char help[] =
    "Heat problem data, as a PINN loss sees it: the manufactured source f against finite differences\n"
    "of the exact solution in flux form, the default-mode boundary and initial data, and the round trip\n"
    "of the problem through reference.h5 (KDHeatProblemToReference / KDHeatProblemFromReference).\n";
#include <kdsolver.h>
#include "../solvers/kdsolverimpl.h"
#include <stdlib.h>

#ifndef KD_SOURCE_DIR
#define KD_SOURCE_DIR "."
#endif

/* u_t - div(k grad u) of the exact solution by central differences: the flux form k(x +- d/2) (u(x +- d) - u(x)) / d
   does not use grad k, so it checks the analytic f, grad k term included, independently. */
static PetscReal ResidualFD(const KDHeatProblem *p, PetscReal t, PetscReal x, PetscReal y, PetscReal d)
{
  PetscReal kw, ke, ks, kn, u = KDHeatProblemBoundary(p, t, x, y), ut, div;

  KDMicrostructureEvaluate(&p->ms, x - d / 2, y, &kw, NULL);
  KDMicrostructureEvaluate(&p->ms, x + d / 2, y, &ke, NULL);
  KDMicrostructureEvaluate(&p->ms, x, y - d / 2, &ks, NULL);
  KDMicrostructureEvaluate(&p->ms, x, y + d / 2, &kn, NULL);
  ut  = (KDHeatProblemBoundary(p, t + d, x, y) - KDHeatProblemBoundary(p, t - d, x, y)) / (2 * d);
  div = (ke * (KDHeatProblemBoundary(p, t, x + d, y) - u) - kw * (u - KDHeatProblemBoundary(p, t, x - d, y)) +
         kn * (KDHeatProblemBoundary(p, t, x, y + d) - u) - ks * (u - KDHeatProblemBoundary(p, t, x, y - d))) /
        (d * d);
  return ut - div;
}

int main(int argc, char **argv)
{
  KDHeatProblem prob, back;
  KDReference ref, ref2;
  char path[PETSC_MAX_PATH_LEN];
  const char *src = getenv("KD_SOURCE_DIR"), *pde;
  PetscReal worst = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/meshes/inclusions.txt", src ? src : KD_SOURCE_DIR));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_microstructure", path));

  /* 1. manufactured f = u_t - div(k grad u). With d = 1e-3 the flux-form truncation error is ~ d^2/24 times third and
        fourth derivatives of k u (large only near the narrowest inclusion, r = 0.08); round-off ~ 1e-16 / d^2 ~ 1e-10.
        Observed worst relative difference 2.3e-4; tolerance 2e-3 (1 + |f|), against f of size 10-100: a missing
        grad k . grad u term is O(10-100) and a wrong u_t sign O(1). */
  PetscCall(PetscOptionsSetValue(NULL, "-heat_mms", "1"));
  PetscCall(KDHeatProblemSetFromOptions(PETSC_COMM_WORLD, &prob));
  for (PetscInt s = 0; s < 200; s++) {
    const PetscReal t = 0.005 * s, x = PetscFmodReal(0.618034 * s + 0.013, 1.0),
                    y = PetscFmodReal(0.414214 * s + 0.029, 1.0);
    PetscReal k, gk[2], f, r = ResidualFD(&prob, t, x, y, 1e-3);
    KDHeatProblemCoefficients(&prob, t, x, y, &k, gk, &f);
    worst = PetscMax(worst, PetscAbsReal(f - r) / (1 + PetscAbsReal(f)));
    PetscCheck(PetscAbsReal(f - r) <= 2e-3 * (1 + PetscAbsReal(f)), PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "manufactured f(%g, %g, %g) = %g, finite differences %g", (double) t, (double) x, (double) y, (double) f,
               (double) r);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "manufactured f vs finite differences: worst relative difference %.2e (tolerance 2e-3)\n",
                        (double) worst));

  /* 2. default mode: g = 0 on the boundary, u0 = sin(pi x) sin(pi y), f the Gaussian source (exact formulas: 1e-14) */
  PetscCall(PetscOptionsSetValue(NULL, "-heat_mms", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_source_x", "0.4"));
  PetscCall(KDHeatProblemSetFromOptions(PETSC_COMM_WORLD, &prob));
  PetscCheck(!prob.manufactured && prob.source[1] == 0.4, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "options not applied");
  for (PetscInt s = 0; s <= 20; s++) {
    const PetscReal a = 0.05 * s, t = 0.003 * s;
    PetscReal k, f;
    PetscCheck(PetscAbsReal(KDHeatProblemBoundary(&prob, t, a, 0)) +
                       PetscAbsReal(KDHeatProblemBoundary(&prob, t, a, 1)) +
                       PetscAbsReal(KDHeatProblemBoundary(&prob, t, 0, a)) +
                       PetscAbsReal(KDHeatProblemBoundary(&prob, t, 1, a)) <=
                   1e-14,
               PETSC_COMM_WORLD, PETSC_ERR_PLIB, "default g is not 0 on the boundary");
    PetscCheck(PetscAbsReal(KDHeatProblemBoundary(&prob, 0, a, 0.3) -
                            PetscSinReal(PETSC_PI * a) * PetscSinReal(PETSC_PI * 0.3)) <= 1e-14,
               PETSC_COMM_WORLD, PETSC_ERR_PLIB, "default u0 is not sin(pi x) sin(pi y)");
    KDHeatProblemCoefficients(&prob, t, a, 0.45, &k, NULL, &f);
    PetscCheck(
        PetscAbsReal(f - prob.source[0] * PetscExpReal(-((a - 0.4) * (a - 0.4)) / (prob.source[3] * prob.source[3]))) <=
            1e-14 * prob.source[0],
        PETSC_COMM_WORLD, PETSC_ERR_PLIB, "default f is not the Gaussian source");
  }

  /* 3. the problem survives reference.h5 bit for bit, without the meshes/ file */
  PetscCall(PetscOptionsSetValue(NULL, "-heat_n", "16"));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_nt", "4"));
  PetscCall(KDReferenceCreate(PETSC_COMM_WORLD, &ref));
  {
    KDPDE heat; /* the solve stage's sequence: the problem from the options, recorded in the reference, solved */
    PetscCall(KDPDECreate(PETSC_COMM_WORLD, &heat));
    PetscCall(KDPDESetType(heat, "heat"));
    PetscCall(KDPDESetProblemFromOptions(heat));
    PetscCall(KDPDEWriteReference(heat, ref));
    PetscCall(KDSolveHeat(heat, ref));
    PetscCall(KDPDEDestroy(&heat));
  }
  PetscCall(KDReferenceWrite(ref, "reference.h5"));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(PetscOptionsSetValue(NULL, "-heat_microstructure", "no-such-file.txt"));
  PetscCall(KDReferenceLoad(PETSC_COMM_WORLD, "reference.h5", &ref2));
  PetscCall(KDReferenceGetPDE(ref2, &pde));
  PetscCheck(!strcmp(pde, "heat"), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "pde is '%s', not heat", pde);
  PetscCall(KDHeatProblemFromReference(ref2, &back));
  PetscCheck(back.manufactured == prob.manufactured && back.tfinal == prob.tfinal, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "round trip changed mode or tfinal");
  for (PetscInt i = 0; i < KD_HEAT_NSOURCE; i++)
    PetscCheck(back.source[i] == prob.source[i], PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "round trip changed source[%" PetscInt_FMT "]", i);
  PetscCheck(back.ms.k0 == prob.ms.k0 && back.ms.n == prob.ms.n, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "round trip changed k0 or the number of inclusions");
  for (PetscInt i = 0; i < prob.ms.n; i++)
    PetscCheck(back.ms.x[i] == prob.ms.x[i] && back.ms.y[i] == prob.ms.y[i] && back.ms.r[i] == prob.ms.r[i] &&
                   back.ms.c[i] == prob.ms.c[i],
               PETSC_COMM_WORLD, PETSC_ERR_PLIB, "round trip changed inclusion %" PetscInt_FMT, i);
  {
    PetscInt dim, n[3];
    PetscReal lo[3], hi[3];
    PetscCall(KDReferenceGetLevelGrid(ref2, 0, &dim, n, lo, hi));
    PetscCheck(dim == 3 && n[0] == 4 && n[1] == 16 && n[2] == 16 && hi[0] == prob.tfinal && hi[1] == 1 && hi[2] == 1 &&
                   lo[0] == 0,
               PETSC_COMM_WORLD, PETSC_ERR_PLIB, "reference grid is not t,y,x = 4 x 16 x 16 on [0,tfinal] x [0,1]^2");
  }
  PetscCall(KDReferenceDestroy(&ref2));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "default-mode data and reference round trip: ok\n"));
  PetscCall(PetscFinalize());
  return 0;
}
