static const char help[] =
    "Time of MPI_Allreduce (sum of doubles) against message size on the ranks it runs on: the communication term of "
    "the scaling model (docs/benchmarks.md \"Scaling model\").\n"
    "  -bench_sizes <n,n,...>: message sizes in doubles (default "
    "1,16,256,1024,3025,16384,50053,116101,1048576,5000000)\n"
    "  -bench_time <s>: least time spent per size, in seconds (default 0.2; at least 5 samples)\n"
    "  -bench_json <file>: also write the figures as JSON (for tests/bench-scaling.py)\n";

/* A timing program, not a test of speed. For each size: a warm-up call whose result is checked exactly (entry i of
   rank r is r + 1 + (i mod 7), small integers that sum exactly in double), then samples of one barrier-separated
   MPI_Allreduce each; a sample's time is the slowest rank's (an allreduce ends for the step when it ends on every
   rank). Prints the median and the fastest sample per size: the median is what a training step sees, the fastest what
   the network and the MPI can do. Fails only if a sum is wrong, never on a time. The sizes include the training
   allreduce of the Burgers networks in docs/benchmarks.md (parameters, 3 loss terms and a stop flag: 3025 for 8x20,
   50053 for 4x128, 116101 for 8x128) and a 5M-parameter teacher's. */
#include <kdsys.h>
#include <petsctime.h>
#include <stdlib.h>

static int CompareDouble(const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  PetscInt sizes[32] = {1, 16, 256, 1024, 3025, 16384, 50053, 116101, 1048576, 5000000}, nsizes = 32, maxn = 0;
  PetscReal mintime             = 0.2;
  char json[PETSC_MAX_PATH_LEN] = "";
  PetscBool set;
  PetscMPIInt rank, size;
  double *buf, *samples;
  FILE *fp                  = NULL;
  const PetscInt maxsamples = 100000;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "MPI_Allreduce probe", "bench");
  PetscCall(PetscOptionsIntArray("-bench_sizes", "Message sizes in doubles", "bench-allreduce", sizes, &nsizes, &set));
  if (!set) nsizes = 10;
  PetscCall(PetscOptionsReal("-bench_time", "Least time per size (s)", "bench-allreduce", mintime, &mintime, NULL));
  PetscCall(PetscOptionsString("-bench_json", "Write the figures as JSON", "bench-allreduce", json, json, sizeof(json),
                               NULL));
  PetscOptionsEnd();
  PetscCheck(nsizes > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-bench_sizes: give at least one size");
  for (PetscInt s = 0; s < nsizes; s++) {
    PetscCheck(sizes[s] > 0 && sizes[s] <= PETSC_MPI_INT_MAX, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
               "-bench_sizes: sizes must be in [1, %d], got %" PetscInt_FMT, PETSC_MPI_INT_MAX, sizes[s]);
    maxn = PetscMax(maxn, sizes[s]);
  }
  PetscCheck(mintime > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-bench_time must be positive, got %g",
             (double) mintime);
  PetscCall(PetscMalloc2(maxn, &buf, maxsamples, &samples));
  if (json[0] && rank == 0) {
    fp = fopen(json, "w");
    PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "-bench_json: cannot open %s for writing", json);
    (void) fprintf(fp, "{\"ranks\": %d, \"sizes\": [", (int) size);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "MPI_Allreduce of doubles (sum) on %d rank(s), at least %g s per size\n",
                        (int) size, (double) mintime));
  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "%12s %12s %14s %14s %8s\n", "doubles", "bytes", "median_us", "min_us", "samples"));
  for (PetscInt s = 0; s < nsizes; s++) {
    const PetscInt n   = sizes[s];
    const double want0 = 0.5 * size * (size + 1.0);
    PetscInt ns = 0, bad = 0;
    double spent = 0;

    for (PetscInt i = 0; i < n; i++) buf[i] = rank + 1.0 + (double) (i % 7);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, buf, (PetscMPIInt) n, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
    for (PetscInt i = 0; i < n; i++) bad += buf[i] != want0 + size * (double) (i % 7);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
    PetscCheck(!bad, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "MPI_Allreduce of %" PetscInt_FMT " doubles: %" PetscInt_FMT " wrong sums", n, bad);
    /* every rank takes the same decision to go on (the sample times are reduced), so the loop count agrees */
    while (ns < maxsamples && (ns < 5 || spent < mintime)) {
      double t0, t;
      PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
      t0 = MPI_Wtime();
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, buf, (PetscMPIInt) n, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD));
      t = MPI_Wtime() - t0;
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
      samples[ns++] = t;
      spent += t;
    }
    qsort(samples, (size_t) ns, sizeof(double), CompareDouble);
    {
      const double med = ns % 2 ? samples[ns / 2] : 0.5 * (samples[ns / 2 - 1] + samples[ns / 2]);
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%12" PetscInt_FMT " %12.0f %14.2f %14.2f %8" PetscInt_FMT "\n", n,
                            8.0 * n, 1e6 * med, 1e6 * samples[0], ns));
      if (fp)
        (void) fprintf(fp,
                       "%s{\"doubles\": %" PetscInt_FMT
                       ", \"median_us\": %.4f, \"min_us\": %.4f, \"samples\": %" PetscInt_FMT "}",
                       s ? ", " : "", n, 1e6 * med, 1e6 * samples[0], ns);
    }
  }
  if (fp) {
    (void) fprintf(fp, "]}\n");
    PetscCheck(fclose(fp) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "-bench_json: cannot write %s", json);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "wrote %s\n", json));
  }
  PetscCall(PetscFree2(buf, samples));
  PetscCall(PetscFinalize());
  return 0;
}
