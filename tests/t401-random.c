static const char help[] =
    "Counter-based generator KDRandomUniform: reproducibility, range, uniformity; point sampling by global index.\n";

#include <kdpde.h>
#include <kdtrain.h>

/* N = 2^20 draws. The keys are fixed, so the statistics are deterministic; the tolerances are 5 standard errors of an
   ideal uniform generator, so a biased or correlated generator (e.g. one that ignores the stream) fails:
     mean 1/2        standard error sqrt(1/12 / N)              = 2.8e-4 -> 1.5e-3
     variance 1/12   standard error sqrt(1/180 / N)             = 7.3e-5 -> 3.7e-4
     E[U_i U_{i+1}] = 1/4 (lag-1) and E[U_s U_{s'}] = 1/4 (across streams): sd sqrt(7/144 / N) = 2.2e-4 -> 1.1e-3
     chi^2 over 256 bins, 255 degrees of freedom: mean 255, sd 22.6 -> 255 + 5 sd = 368 */
#define NDRAW (1 << 20)
#define NBIN 256

int main(int argc, char **argv)
{
  PetscReal s1 = 0.0, s2 = 0.0, lag = 0.0, cross = 0.0, chi2 = 0.0, prev = 0.0, mean, var;
  PetscInt *bins;
  PetscInt64 seed = 12345;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscCalloc1(NBIN, &bins));
  for (PetscInt64 i = 0; i < NDRAW; i++) {
    const PetscReal u = KDRandomUniform(seed, 7, i), w = KDRandomUniform(seed, 8, i);
    PetscCheck(u >= 0.0 && u < 1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "draw %g outside [0, 1)", (double) u);
    s1 += u;
    s2 += u * u;
    cross += u * w;
    if (i) lag += prev * u;
    prev = u;
    bins[(PetscInt) (u * NBIN)]++;
  }
  mean = s1 / NDRAW;
  var  = s2 / NDRAW - mean * mean;
  lag /= NDRAW - 1;
  cross /= NDRAW;
  for (PetscInt b = 0; b < NBIN; b++) {
    const PetscReal e = (PetscReal) NDRAW / NBIN;
    chi2 += (bins[b] - e) * (bins[b] - e) / e;
  }
  PetscCall(PetscPrintf(
      PETSC_COMM_SELF,
      "mean %.6f (1/2)  variance %.6f (1/12 = %.6f)  lag-1 %.6f (1/4)  cross-stream %.6f (1/4)  chi2 %.1f (255 dof)\n",
      (double) mean, (double) var, 1.0 / 12.0, (double) lag, (double) cross, (double) chi2));
  PetscCheck(PetscAbsReal(mean - 0.5) < 1.5e-3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "mean %g", (double) mean);
  PetscCheck(PetscAbsReal(var - 1.0 / 12.0) < 3.7e-4, PETSC_COMM_SELF, PETSC_ERR_PLIB, "variance %g", (double) var);
  PetscCheck(PetscAbsReal(lag - 0.25) < 1.1e-3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "lag-1 moment %g", (double) lag);
  PetscCheck(PetscAbsReal(cross - 0.25) < 1.1e-3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "cross-stream moment %g",
             (double) cross);
  PetscCheck(chi2 < 368.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "chi2 %g over %d bins", (double) chi2, NBIN);

  /* Reproducibility: a pure function, bit for bit, whatever the order of evaluation; and each key matters. */
  for (PetscInt64 i = 999; i >= 0; i -= 37) {
    const PetscReal a = KDRandomUniform(seed, 3, i);
    PetscCheck(a == KDRandomUniform(seed, 3, i), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "not reproducible at index %" PetscInt64_FMT, i);
    PetscCheck(a != KDRandomUniform(seed + 1, 3, i), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "seed ignored at index %" PetscInt64_FMT, i);
    PetscCheck(a != KDRandomUniform(seed, 4, i), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "stream ignored at index %" PetscInt64_FMT, i);
    PetscCheck(a != KDRandomUniform(seed, 3, i + 1), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "index ignored at index %" PetscInt64_FMT, i);
  }

  /* Point sampling by global index: drawing [0, n) at once equals drawing it in uneven pieces (as ranks do), and the
     points lie in the domain / on its boundary. */
  {
    const char *types[] = {"burgers", "heat", "cavity"};
    for (PetscInt t = 0; t < 3; t++) {
      KDPDE pde;
      const PetscInt n = 101, cuts[] = {0, 13, 14, 60, 101};
      PetscInt nin;
      PetscBool timedep;
      PetscReal lo[3], hi[3], *xa, *xb;
      PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
      PetscCall(KDPDESetType(pde, types[t]));
      PetscCall(KDPDEGetSizes(pde, &nin, NULL, NULL));
      PetscCall(KDPDEGetDomain(pde, lo, hi));
      PetscCall(KDPDEIsTimeDependent(pde, &timedep));
      PetscCall(PetscMalloc2(n * nin, &xa, n * nin, &xb));
      for (KDPDEPointKind kind = KD_PDE_POINTS_INTERIOR; kind <= KD_PDE_POINTS_BOUNDARY; kind++) {
        if (kind == KD_PDE_POINTS_INITIAL && !timedep) continue;
        PetscCall(KDPDESamplePoints(pde, kind, KD_FACES_ALL, seed, 5, 0, n, xa, NULL));
        for (PetscInt c = 0; c < 4; c++)
          PetscCall(KDPDESamplePoints(pde, kind, KD_FACES_ALL, seed, 5, cuts[c], cuts[c + 1] - cuts[c], xb + cuts[c] * nin, NULL));
        for (PetscInt i = 0; i < n * nin; i++)
          PetscCheck(xa[i] == xb[i], PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s %s points depend on the split", types[t],
                     KDPDEPointKinds[kind]);
        for (PetscInt p = 0; p < n; p++) {
          PetscInt onface = 0;
          for (PetscInt i = 0; i < nin; i++) {
            const PetscReal v = xa[p * nin + i];
            PetscCheck(v >= lo[i] && v <= hi[i], PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s point outside the domain",
                       types[t]);
            if ((v == lo[i] || v == hi[i]) && !(timedep && i == 0)) onface++;
          }
          if (kind == KD_PDE_POINTS_BOUNDARY)
            PetscCheck(onface == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s boundary point not on exactly one face",
                       types[t]);
          if (kind == KD_PDE_POINTS_INITIAL)
            PetscCheck(xa[p * nin] == lo[0], PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s initial point not at t = t_lo",
                       types[t]);
        }
      }
      PetscCall(PetscFree2(xa, xb));
      PetscCall(KDPDEDestroy(&pde));
    }
  }
  PetscCall(PetscFree(bins));
  PetscCall(PetscFinalize());
  return 0;
}
