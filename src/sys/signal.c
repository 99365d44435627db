/* Stop-and-resume on a signal: a batch system asks a long run to stop (Slurm's --signal=B:USR1@<seconds> before the
   time limit, or SIGTERM when it preempts or ends a job; SIGHUP when the login session of an interactive run is lost);
   kdpinn finishes the step it is in, writes a checkpoint and
   exits with KD_EXIT_REQUEUE, and the job script requeues the job, which resumes with -kd_restart.

   The handler only sets a flag (nothing else is async-signal-safe); the decision to stop is taken collectively at a
   step boundary, because a signal may reach only some ranks (srun and mpirun forward it, but not necessarily at the
   same moment, and a user's kill reaches one process). */
#include <kdsys.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

/* Number of the last stop signal caught, 0 if none. */
static volatile sig_atomic_t KDSignalCaught = 0;

static void KDSignalHandler(int sig)
{
  KDSignalCaught = sig;
}

/*@C
  KDSignalInstall - Installs the handlers of SIGUSR1, SIGTERM and SIGHUP that record a request to stop, and clears
  any request recorded before. Call it after PetscInitialize(), whose own handlers it replaces for these three signals
  (PETSc's would abort the run); the other signals keep PETSc's handling.

  Not collective

  Notes:
  Until this is called, SIGUSR1, SIGTERM and SIGHUP end the process at once. The handlers restart interrupted system
calls (SA_RESTART), so a signal arriving during file or MPI I/O does not make that call fail.

.seealso: KDSignalPending(), KDSignalExitCode()
@*/
PetscErrorCode KDSignalInstall(void)
{
  struct sigaction sa;
  const int sigs[]          = {SIGUSR1, SIGTERM, SIGHUP};
  const char *const names[] = {"SIGUSR1", "SIGTERM", "SIGHUP"};

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&sa, sizeof(sa)));
  sa.sa_handler = KDSignalHandler;
  sa.sa_flags   = SA_RESTART;
  PetscCheck(!sigemptyset(&sa.sa_mask), PETSC_COMM_SELF, PETSC_ERR_SYS, "sigemptyset failed: %s", strerror(errno));
  KDSignalCaught = 0;
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    PetscCheck(!sigaction(sigs[i], &sa, NULL), PETSC_COMM_SELF, PETSC_ERR_SYS, "cannot install the handler of %s: %s",
               names[i], strerror(errno));
  PetscFunctionReturn(0);
}

/*@C
  KDSignalPendingLocal - Whether this process has caught a stop signal since KDSignalInstall(), without
  communication. For a caller that folds the flag into a reduction it does anyway (e.g. one extra entry of the
  gradient buffer, summed); everyone else calls KDSignalPending().

  Not collective

  Output Parameter:
. pending - PETSC_TRUE if SIGUSR1, SIGTERM or SIGHUP was caught by this process

.seealso: KDSignalPending()
@*/
PetscErrorCode KDSignalPendingLocal(PetscBool *pending)
{
  PetscFunctionBegin;
  *pending = KDSignalCaught ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDSignalPending - Whether any rank of a communicator has caught a stop signal (SIGUSR1, SIGTERM or SIGHUP) since
  KDSignalInstall(): every rank gets the same answer, so all of them stop at the same step.

  Collective

  Input Parameter:
. comm - the ranks that must agree (those of the run being stopped)

  Output Parameter:
. pending - PETSC_TRUE on every rank if at least one rank caught a stop signal

  Notes:
  Costs one MPI_Allreduce of one int: a few microseconds within a node, tens across nodes, against training steps
  of milliseconds or more and their own gradient allreduce. A loop whose steps are shorter can call it every k steps
  (the job asks for the signal minutes before its limit) or fold KDSignalPendingLocal() into its own reduction.
  After a stop, the caller writes its checkpoint and raises PETSC_ERR_SIG, which the driver turns into the exit
  code KD_EXIT_REQUEUE (see KDSignalExitCode()).

.seealso: KDSignalInstall(), KDSignalPendingLocal(), KDSignalExitCode()
@*/
PetscErrorCode KDSignalPending(MPI_Comm comm, PetscBool *pending)
{
  int local = KDSignalCaught ? 1 : 0, global = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MAX, comm));
  *pending = global ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDSignalExitCode - The exit status of the driver for the error code a stage returned: 0 on success,
  KD_EXIT_REQUEUE if the stage stopped at a stop signal (it raised PETSC_ERR_SIG after writing its checkpoint), 1 for
  any other error. Job scripts requeue the job on KD_EXIT_REQUEUE.

  Not collective

  Input Parameter:
. ierr - what the stage returned

  Notes:
  A run stopped by a signal on one rank only raises PETSC_ERR_SIG on every rank (the decision is collective), so
  every rank exits with the same status. PETSc's own signal handler (e.g. after SIGSEGV) aborts and never returns
  here.

.seealso: KDSignalPending()
@*/
int KDSignalExitCode(PetscErrorCode ierr)
{
  if (!ierr) return 0;
  return ierr == PETSC_ERR_SIG ? KD_EXIT_REQUEUE : 1;
}

/*@C
  KDSignalCheck - For a stage that cannot checkpoint (a solve, a validation): if any rank has caught a stop signal,
  stop now with PETSC_ERR_SIG (exit status KD_EXIT_REQUEUE: a requeued job runs the stage again), having written
  nothing under a final name. Call it between units of work: snapshots, continuation steps, models.

  Collective

  Input Parameters:
+ comm - the ranks of the stage
- what - what is stopped, for the message (e.g. "burgers solve")

.seealso: KDSignalPending(), KDSignalExitCode()
@*/
PetscErrorCode KDSignalCheck(MPI_Comm comm, const char what[])
{
  PetscBool pending;

  PetscFunctionBegin;
  PetscCall(KDSignalPending(comm, &pending));
  PetscCheck(!pending, comm, PETSC_ERR_SIG, "%s: stopped by a signal; nothing written, run the stage again", what);
  PetscFunctionReturn(0);
}
