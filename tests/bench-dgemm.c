static const char help[] = "Single-core DGEMM rate of the BLAS kdpinn links (the peak the jet kernels are compared with).\n"
                           "  -dgemm_n <n>: size of the square matrices (default 1024)\n"
                           "  -dgemm_reps <r>: timed products; the best is reported (default 20)\n"
                           "  -dgemm_corename: only print the name of the kernels OpenBLAS chose, and exit\n";

/* A timing program, not a test of speed: C = A B with square n x n matrices, one thread (OPENBLAS_NUM_THREADS=1 as
   every kdpinn run uses), 2 n^3 flops per product. The best of the repetitions estimates the peak on a shared
   machine (a slower one was disturbed, a faster one cannot be). Prints one line that bench-training.py parses:
     dgemm n=<n> reps=<r> best_gflops=<..> median_gflops=<..> kernels=<OpenBLAS core name>
   It fails only if the product is wrong (checked at a few entries against a plain dot product, to 1e-12 relative:
   n fused multiply-adds of O(1) numbers round to far less), never on time. */
#include <kdsys.h>
#include <petsctime.h>
#include <cblas.h>
#include <stdlib.h>

static int CompareDouble(const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  PetscInt n = 1024, reps = 20;
  PetscBool coreonly = PETSC_FALSE;
  PetscReal *A, *B, *C, *rate, err = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "DGEMM probe", "bench");
  PetscCall(PetscOptionsInt("-dgemm_n", "Matrix size", "bench-dgemm", n, &n, NULL));
  PetscCall(PetscOptionsInt("-dgemm_reps", "Timed products", "bench-dgemm", reps, &reps, NULL));
  PetscCall(PetscOptionsBool("-dgemm_corename", "Print the OpenBLAS kernel name only", "bench-dgemm", coreonly,
                             &coreonly, NULL));
  PetscOptionsEnd();
  if (coreonly) {
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s\n", openblas_get_corename()));
    PetscCall(PetscFinalize());
    return 0;
  }
  PetscCheck(n > 0 && reps > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-dgemm_n and -dgemm_reps must be positive");
  PetscCall(PetscMalloc4(n * n, &A, n * n, &B, n * n, &C, reps, &rate));
  for (PetscInt i = 0; i < n * n; i++) {
    A[i] = (PetscReal) ((i * 7919) % 1009) / 1009.0 - 0.5;
    B[i] = (PetscReal) ((i * 104729) % 1013) / 1013.0 - 0.5;
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) n, (int) n, (int) n, 1.0, A, (int) n, B, (int) n, 0.0,
              C, (int) n); /* warm-up: pages, caches, OpenBLAS buffers */
  for (PetscInt r = 0; r < reps; r++) {
    PetscLogDouble t0, t1;
    PetscCall(PetscTime(&t0));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) n, (int) n, (int) n, 1.0, A, (int) n, B, (int) n,
                0.0, C, (int) n);
    PetscCall(PetscTime(&t1));
    rate[r] = 2.0 * (PetscReal) n * (PetscReal) n * (PetscReal) n / (t1 - t0) * 1e-9;
  }
  for (PetscInt k = 0; k < 4; k++) {
    const PetscInt i = (k * 613) % n, j = (k * 1237 + 5) % n;
    PetscReal s = 0, sa = 0;
    for (PetscInt l = 0; l < n; l++) {
      s += A[i * n + l] * B[l * n + j];
      sa += PetscAbsReal(A[i * n + l] * B[l * n + j]);
    }
    err = PetscMax(err, PetscAbsReal(C[i * n + j] - s) / sa);
  }
  PetscCheck(err < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "DGEMM result wrong: relative error %g", (double) err);
  qsort(rate, (size_t) reps, sizeof(rate[0]), CompareDouble);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "dgemm n=%" PetscInt_FMT " reps=%" PetscInt_FMT " best_gflops=%.2f median_gflops=%.2f kernels=%s\n",
                        n, reps, (double) rate[reps - 1], (double) rate[reps / 2], openblas_get_corename()));
  PetscCall(PetscFree4(A, B, C, rate));
  PetscCall(PetscFinalize());
  return 0;
}
