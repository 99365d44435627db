static const char help[] = "KDSignalPending: a stop signal caught by one rank is seen by every rank.\n\n";
/* Run at 2 ranks. Checks (exact, no tolerance: these are flags):
   - no signal: every rank reads false;
   - SIGUSR1 raised on the last rank only: every rank reads true, only that rank's local flag is set;
   - KDSignalInstall clears the flag; SIGTERM raised on rank 0 only: every rank reads true;
   - KDSignalExitCode maps 0 -> 0, PETSC_ERR_SIG -> KD_EXIT_REQUEUE, another error -> 1.
   Prints the measured cost of one KDSignalPending (not checked: it depends on the machine). */
#include <kdpinn.h>
#include <signal.h>

static PetscErrorCode CheckAgreement(MPI_Comm comm, PetscMPIInt raiser, int sig, const char *what)
{
  PetscMPIInt rank;
  PetscBool pending, local;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(KDSignalInstall());
  PetscCall(KDSignalPending(comm, &pending));
  PetscCheck(!pending, PETSC_COMM_SELF, PETSC_ERR_PLIB, "[%d] %s: pending before any signal", rank, what);
  if (rank == raiser) PetscCheck(!raise(sig), PETSC_COMM_SELF, PETSC_ERR_SYS, "raise failed");
  PetscCall(KDSignalPendingLocal(&local));
  PetscCheck(local == (rank == raiser ? PETSC_TRUE : PETSC_FALSE), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "[%d] %s: local flag %d", rank, what, (int) local);
  PetscCall(KDSignalPending(comm, &pending));
  PetscCheck(pending, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "[%d] %s: rank %d caught the signal but this rank does not see it", rank, what, raiser);
  PetscCall(PetscPrintf(comm, "ok: %s raised on rank %d is seen by every rank\n", what, raiser));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  MPI_Comm comm;
  PetscMPIInt size;
  PetscBool pending;
  PetscLogDouble t0, t1;
  const int n = 1000;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  comm = PETSC_COMM_WORLD;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(CheckAgreement(comm, size - 1, SIGUSR1, "SIGUSR1"));
  PetscCall(CheckAgreement(comm, 0, SIGTERM, "SIGTERM"));

  PetscCheck(KDSignalExitCode(0) == 0, comm, PETSC_ERR_PLIB, "exit code of success");
  PetscCheck(KDSignalExitCode(PETSC_ERR_SIG) == KD_EXIT_REQUEUE, comm, PETSC_ERR_PLIB, "exit code of a stop");
  PetscCheck(KDSignalExitCode(PETSC_ERR_FILE_OPEN) == 1, comm, PETSC_ERR_PLIB, "exit code of an error");

  PetscCall(KDSignalInstall());
  PetscCallMPI(MPI_Barrier(comm));
  PetscCall(PetscTime(&t0));
  for (int i = 0; i < n; i++) PetscCall(KDSignalPending(comm, &pending));
  PetscCall(PetscTime(&t1));
  PetscCheck(!pending, comm, PETSC_ERR_PLIB, "pending after KDSignalInstall cleared the flag");
  PetscCall(PetscPrintf(comm, "KDSignalPending at %d ranks: %.2f us per call\n", size, 1e6 * (t1 - t0) / n));
  PetscCall(PetscFinalize());
  return 0;
}
