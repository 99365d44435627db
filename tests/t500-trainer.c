static const char help[] =
    "KDTrainer on a synthetic distributed objective (no network): Adam, then L-BFGS.\n"
    "  f(x) = w_r sum_{i<n-1} [100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2]             (chained Rosenbrock)\n"
    "       + w_f (1/M) sum_{j<M} (sum_k x_{3k} tanh(x_{3k+1} t_j + x_{3k+2}) - sin(pi t_j))^2   (fit)\n"
    "Term i (resp. point j) is owned by the rank whose block of global indices holds it, and the points t_j\n"
    "are a pure function of (epoch, j), so the loss depends on the rank count only through round-off.\n"
    "Modes (-test_mode):\n"
    "  train     train once on all ranks; write the final parameters (raw float64) to -test_out\n"
    "  converge  Rosenbrock only: Adam alone must not reach the minimum x = 1, Adam + L-BFGS must\n"
    "  ranks     (4 ranks) train on 1, 2 and 4 ranks and compare; train twice on 4 and compare bitwise\n";

#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <kdtrain.h>
#include <math.h>
#include <string.h>
#include <time.h>

typedef struct {
  MPI_Comm comm;
  PetscInt n, npoints, epoch, nevals, nan_at, delay_ms;
  PetscReal w_rosenbrock, w_fit;
  PetscReal *x; /* the trainer's parameter buffer */
  PetscReal *t; /* this epoch's points (all M; each rank uses its block) */
} Synthetic;

/* A counter-based generator: splitmix64 of (epoch, j), uniform in [0, 1). */
static PetscReal SyntheticUniform(PetscInt epoch, PetscInt j)
{
  unsigned long long z =
      0x9e3779b97f4a7c15ULL * (unsigned long long) (epoch + 1) + (unsigned long long) j * 0xbf58476d1ce4e5b9ULL;

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z = z ^ (z >> 31);
  return (PetscReal) (z >> 11) * 0x1.0p-53;
}

static PetscErrorCode SyntheticResample(void *ctx, PetscInt epoch)
{
  Synthetic *s = (Synthetic *) ctx;

  PetscFunctionBegin;
  s->epoch = epoch;
  for (PetscInt j = 0; j < s->npoints; j++) s->t[j] = -1 + 2 * SyntheticUniform(epoch, j);
  PetscFunctionReturn(0);
}

static void OwnedRange(MPI_Comm comm, PetscInt N, PetscInt *lo, PetscInt *hi)
{
  PetscMPIInt rank, size;

  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  *lo = (N * rank) / size;
  *hi = (N * (rank + 1)) / size;
}

static PetscErrorCode SyntheticObjective(void *ctx, PetscReal terms[], PetscReal grad[])
{
  Synthetic *s       = (Synthetic *) ctx;
  const PetscReal *x = s->x;
  PetscInt lo, hi;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(s->comm, &rank));
  s->nevals++;
  if (s->delay_ms > 0) {
    struct timespec ts = {(time_t) (s->delay_ms / 1000), (long) (s->delay_ms % 1000) * 1000000L};
    (void) nanosleep(&ts, NULL);
  }
  OwnedRange(s->comm, s->n - 1, &lo, &hi);
  for (PetscInt i = lo; i < hi; i++) {
    const PetscReal a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
    terms[0] += s->w_rosenbrock * (100 * a * a + b * b);
    grad[i] += s->w_rosenbrock * (-400 * x[i] * a - 2 * b);
    grad[i + 1] += s->w_rosenbrock * 200 * a;
  }
  if (s->w_fit != 0) {
    const PetscInt units = s->n / 3;
    const PetscReal c    = s->w_fit / (PetscReal) s->npoints;
    OwnedRange(s->comm, s->npoints, &lo, &hi);
    for (PetscInt j = lo; j < hi; j++) {
      const PetscReal t = s->t[j];
      PetscReal r       = -PetscSinReal(PETSC_PI * t);
      for (PetscInt k = 0; k < units; k++) r += x[3 * k] * PetscTanhReal(x[3 * k + 1] * t + x[3 * k + 2]);
      terms[1] += c * r * r;
      for (PetscInt k = 0; k < units; k++) {
        const PetscReal h = PetscTanhReal(x[3 * k + 1] * t + x[3 * k + 2]), d = 2 * c * r * x[3 * k] * (1 - h * h);
        grad[3 * k] += 2 * c * r * h;
        grad[3 * k + 1] += d * t;
        grad[3 * k + 2] += d;
      }
    }
  }
  /* Fault injection for the NaN test: one rank's share is enough, the allreduce spreads it. */
  if (s->nan_at > 0 && s->nevals == s->nan_at && rank == 0) terms[0] = NAN;
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt n, npoints, nan_at, delay_ms;
  PetscReal w_rosenbrock, w_fit;
  PetscBool rosenbrock_start;
} SyntheticOptions;

/* Trains from the fixed initial point on comm; returns the final loss and (if x is given) the final parameters. */
static PetscErrorCode Train(MPI_Comm comm, const SyntheticOptions *o, PetscReal *loss, PetscInt *steps, PetscReal x[])
{
  const char *const names[] = {"rosenbrock", "fit"};
  Synthetic s;
  KDTrainer tr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&s, sizeof(s)));
  s.comm         = comm;
  s.n            = o->n;
  s.npoints      = o->npoints;
  s.nan_at       = o->nan_at;
  s.delay_ms     = o->delay_ms;
  s.w_rosenbrock = o->w_rosenbrock;
  s.w_fit        = o->w_fit;
  PetscCall(PetscMalloc1(s.n, &s.x));
  PetscCall(PetscMalloc1(s.npoints, &s.t));
  for (PetscInt i = 0; i < s.n; i++)
    s.x[i] = o->rosenbrock_start ? (i % 2 ? 1.0 : -1.2) : 0.5 + 0.25 * PetscSinReal(1.3 * (PetscReal) i + 0.7);
  PetscCall(SyntheticResample(&s, 0));

  PetscCall(KDTrainerCreate(comm, &tr));
  PetscCall(KDTrainerSetOptionsPrefix(tr, "train_"));
  PetscCall(KDTrainerSetParameters(tr, s.n, s.x));
  PetscCall(KDTrainerSetObjective(tr, 2, names, SyntheticObjective, &s));
  PetscCall(KDTrainerSetResample(tr, SyntheticResample, &s));
  PetscCall(KDTrainerSetFromOptions(tr));
  PetscCall(KDTrainerTrain(tr));
  PetscCall(KDTrainerGetLoss(tr, loss));
  if (steps) PetscCall(KDTrainerGetStep(tr, steps));
  if (x) PetscCall(PetscArraycpy(x, s.x, s.n));
  PetscCall(KDTrainerDestroy(&tr));
  PetscCall(PetscFree(s.x));
  PetscCall(PetscFree(s.t));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  SyntheticOptions o = {12, 256, 0, 0, 1.0, 0.0, PETSC_FALSE};
  char mode[32] = "train", out[PETSC_MAX_PATH_LEN] = "";
  PetscMPIInt rank, size;
  PetscReal loss, *x;
  PetscInt steps;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Synthetic trainer test", NULL);
  PetscCall(PetscOptionsString("-test_mode", "train, converge or ranks", NULL, mode, mode, sizeof(mode), NULL));
  PetscCall(PetscOptionsString("-test_out", "File for the final parameters (raw float64, rank 0)", NULL, out, out,
                               sizeof(out), NULL));
  PetscCall(PetscOptionsInt("-test_n", "Number of parameters", NULL, o.n, &o.n, NULL));
  PetscCall(PetscOptionsInt("-test_points", "Number of fit points M", NULL, o.npoints, &o.npoints, NULL));
  PetscCall(PetscOptionsReal("-test_rosenbrock", "Weight of the Rosenbrock term", NULL, o.w_rosenbrock, &o.w_rosenbrock,
                             NULL));
  PetscCall(PetscOptionsReal("-test_fit", "Weight of the fit term", NULL, o.w_fit, &o.w_fit, NULL));
  PetscCall(PetscOptionsBool("-test_rosenbrock_start", "Start from the classical point (-1.2, 1, -1.2, ...)", NULL,
                             o.rosenbrock_start, &o.rosenbrock_start, NULL));
  PetscCall(PetscOptionsInt("-test_nan_at", "Make evaluation number K return NaN (0: never)", NULL, o.nan_at, &o.nan_at,
                            NULL));
  PetscCall(PetscOptionsInt("-test_delay_ms", "Sleep this long in every evaluation (to be killed mid-run)", NULL,
                            o.delay_ms, &o.delay_ms, NULL));
  PetscOptionsEnd();
  PetscCheck(o.n >= 3 && o.npoints >= 1, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE,
             "-test_n >= 3 and -test_points >= 1 required");
  PetscCall(PetscMalloc1(o.n, &x));

  if (!strcmp(mode, "train")) {
    PetscCall(Train(PETSC_COMM_WORLD, &o, &loss, &steps, x));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "final loss %.17e after %" PetscInt_FMT " steps\n", (double) loss, steps));
    if (out[0] && !rank) {
      FILE *fp = fopen(out, "wb");
      PetscCheck(fp && fwrite(x, sizeof(PetscReal), (size_t) o.n, fp) == (size_t) o.n && !fclose(fp), PETSC_COMM_SELF,
                 PETSC_ERR_FILE_WRITE, "cannot write %s", out);
    }
  } else if (!strcmp(mode, "converge")) {
    PetscReal loss_adam, err         = 0;
    PetscInt steps_adam, lbfgs_steps = 1000;
    char value[32];
    /* Tolerances: the minimum of the Rosenbrock sum is x = 1 with f = 0. L-BFGS converges superlinearly near it, so the
       run must end within 1e-6 of it (f < 1e-12), far below where Adam's fixed step size leaves it: Adam alone must
       stay above 1e3 times the final loss, or the test would not show that the L-BFGS phase works. */
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-train_lbfgs_steps", &lbfgs_steps, NULL));
    PetscCall(PetscOptionsSetValue(NULL, "-train_lbfgs_steps", "0"));
    PetscCall(Train(PETSC_COMM_WORLD, &o, &loss_adam, &steps_adam, x));
    PetscCall(PetscSNPrintf(value, sizeof(value), "%" PetscInt_FMT, lbfgs_steps));
    PetscCall(PetscOptionsSetValue(NULL, "-train_lbfgs_steps", value));
    PetscCall(Train(PETSC_COMM_WORLD, &o, &loss, &steps, x));
    for (PetscInt i = 0; i < o.n; i++) err = PetscMax(err, PetscAbsReal(x[i] - 1));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "Adam alone: loss %.3e after %" PetscInt_FMT
                          " steps; Adam + L-BFGS: loss %.3e after %" PetscInt_FMT " steps, max |x - 1| = %.3e\n",
                          (double) loss_adam, steps_adam, (double) loss, steps, (double) err));
    PetscCheck(err < 1e-6 && loss < 1e-12, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
               "Adam + L-BFGS did not converge: max |x - 1| = %g, loss %g", (double) err, (double) loss);
    PetscCheck(loss_adam > 1e3 * loss, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "Adam alone already reached %g: the test does not exercise L-BFGS", (double) loss_adam);
  } else if (!strcmp(mode, "ranks")) {
    /* Tolerance: the 1e-10 relative on the loss after N steps. The rank count changes only the order in which
       the allreduce and the per-rank partial sums add up (round-off, ~1e-16 relative per evaluation). */
    const int counts[3] = {1, 2, 4};
    PetscReal losses[3], again, diff = 0, *x4;
    PetscInt st[3];
    PetscMPIInt same;
    PetscCheck(size == 4, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-test_mode ranks needs 4 ranks");
    PetscCall(PetscMalloc1(o.n, &x4));
    for (int c = 0; c < 3; c++) {
      MPI_Comm sub;
      PetscCallMPI(MPI_Comm_split(PETSC_COMM_WORLD, rank < counts[c] ? 0 : MPI_UNDEFINED, rank, &sub));
      losses[c] = 0;
      st[c]     = 0;
      if (sub != MPI_COMM_NULL) {
        PetscCall(Train(sub, &o, &losses[c], &st[c], c == 2 ? x4 : x));
        PetscCallMPI(MPI_Comm_free(&sub));
      }
      PetscCallMPI(MPI_Bcast(&losses[c], 1, MPIU_REAL, 0, PETSC_COMM_WORLD));
      PetscCallMPI(MPI_Bcast(&st[c], 1, MPIU_INT, 0, PETSC_COMM_WORLD));
    }
    for (int c = 0; c < 3; c++) diff = PetscMax(diff, PetscAbsReal(losses[c] - losses[2]) / PetscAbsReal(losses[2]));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "loss after %" PetscInt_FMT
                          " steps: 1 rank %.17e, 2 ranks %.17e, 4 ranks %.17e; max relative difference %.3e\n",
                          st[2], (double) losses[0], (double) losses[1], (double) losses[2], (double) diff));
    PetscCheck(st[0] == st[2] && st[1] == st[2], PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "step counts differ across rank counts");
    PetscCheck(diff <= 1e-10, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "losses at 1, 2, 4 ranks differ by %g relative (> 1e-10)", (double) diff);
    /* Same rank count, same run: bitwise identical (what restart relies on). */
    PetscCall(Train(PETSC_COMM_WORLD, &o, &again, &steps, x));
    same = (again == losses[2] && !memcmp(x, x4, sizeof(PetscReal) * (size_t) o.n)) ? 1 : 0;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, PETSC_COMM_WORLD));
    PetscCheck(same, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "two runs on 4 ranks differ (loss %.17e vs %.17e)",
               (double) again, (double) losses[2]);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "two runs on 4 ranks: bitwise identical parameters\n"));
    PetscCall(PetscFree(x4));
  } else
    SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-test_mode %s: expected train, converge or ranks", mode);

  PetscCall(PetscFree(x));
  PetscFunctionReturn(0);
}

/* Errors end the run with the one-line message and a non-zero exit status, after a clean PetscFinalize(); SIGUSR1 and
   SIGTERM stop it at a step boundary with a checkpoint (-train_checkpoint) and exit status KD_EXIT_REQUEUE. */
int main(int argc, char **argv)
{
  PetscErrorCode ierr;

  if (KDPushErrorHandler(PETSC_FALSE)) return 1;
  if (PetscInitialize(&argc, &argv, NULL, help)) return 1;
  ierr = KDSignalInstall();
  if (!ierr) ierr = Run();
  if (PetscFinalize()) return 1;
  return KDSignalExitCode(ierr); /* KD_EXIT_REQUEUE after a stop signal, as the driver */
}
