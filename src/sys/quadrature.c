/* Quadrature rules shared by the layers that average a network over cells (distillation's scale filter,
   validation's cell averages). */
#include <kdsys.h>

/*@C
  KDGaussLegendre - The n-node Gauss-Legendre rule on [-1, 1] with its weights scaled to sum to 1 (a rule for
  averages), nodes in increasing order; it integrates polynomials of degree <= 2 n - 1 exactly.

  Not collective

  Input Parameter:
. n - number of nodes, 1 to 64

  Output Parameters:
+ node   - the nodes
- weight - the weights

  Notes:
  The nodes are the roots of P_n found by Newton's method from Chebyshev guesses, to round-off; the middle node of an
  odd rule is exactly 0.
@*/
PetscErrorCode KDGaussLegendre(PetscInt n, PetscReal node[], PetscReal weight[])
{
  PetscFunctionBegin;
  PetscCheck(n >= 1 && n <= 64, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Gauss-Legendre rule of %" PetscInt_FMT " nodes: 1 to 64", n);
  for (PetscInt k = 0; k < n; k++) {
    PetscReal z = PetscCosReal(PETSC_PI * ((PetscReal) k + 0.75) / ((PetscReal) n + 0.5)), dp = 1.0;
    for (PetscInt it = 0; it < 100; it++) {
      PetscReal p0 = 1.0, p1 = z, dz;
      for (PetscInt j = 2; j <= n; j++) {
        PetscReal p2 = ((2.0 * j - 1.0) * z * p1 - (j - 1.0) * p0) / (PetscReal) j;
        p0           = p1;
        p1           = p2;
      }
      dp = (PetscReal) n * (z * p1 - p0) / (z * z - 1.0);
      dz = p1 / dp;
      z -= dz;
      if (PetscAbsReal(dz) < 1e-16) break;
    }
    /* Newton's last derivative belongs to the converged root up to O(dz): recompute it there. */
    {
      PetscReal p0 = 1.0, p1 = z;
      for (PetscInt j = 2; j <= n; j++) {
        PetscReal p2 = ((2.0 * j - 1.0) * z * p1 - (j - 1.0) * p0) / (PetscReal) j;
        p0           = p1;
        p1           = p2;
      }
      dp = (PetscReal) n * (z * p1 - p0) / (z * z - 1.0);
    }
    node[n - 1 - k] = z;
    /* Gauss weights sum to 2 on [-1, 1]; halve them for an average. */
    weight[n - 1 - k] = 1.0 / ((1.0 - z * z) * dp * dp);
  }
  if (n % 2) node[n / 2] = 0.0;
  PetscFunctionReturn(0);
}
