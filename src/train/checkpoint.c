#include "train/trainimpl.h"
#include "sys/kdio.h"
#include <string.h>

/*
  Checkpoint files of a KDTrainer (kind = "checkpoint"). Layout (docs/training.md gives it in full):

    root attributes  kdpinn_version, kind, pde, trainer_prefix, phase, step, epoch, adam_step, lbfgs_start,
                     checkpoint_every, adam_lr, train_seconds, gauss_newton (gn_start, lambda, nu; optional),
                     quantize (layers rounded, step their refit ends; only once that phase began), nparams, nterms,
                     history_steps, loss_terms, checksum
    /parameters      (nparams)        the network's contiguous parameter buffer
    /adam_m, /adam_v (nparams)        Adam's first and second moment estimates
    /loss_history    (steps x (1 + nterms))   per step: total loss, then each term (absent before the first step)
    /inferred_history (steps x ninferred)   with inferred PDE parameters (attributes ninferred, inferred: their names):
                                            their values after each step

  The checksum is a 64-bit FNV-1a hash over the state a restart uses (the scalar state, then the raw IEEE bytes of
  every array), written as 16 hex digits. A checkpoint is written under a temporary name and renamed into place after
  fsync (KDFileCommit), so a run killed while writing leaves the previous checkpoint intact; a file damaged afterwards
  (truncated, a flipped bit in the data) is refused on load.
*/

/*
  KDCheckpointChecksum - 64-bit FNV-1a hash of a checkpoint's state. Integers are hashed as 64-bit values and reals as
  their IEEE bytes, so the hash does not depend on PetscInt's width.

  Not collective
*/
PetscErrorCode KDCheckpointChecksum(const KDCheckpoint *ck, unsigned long long *sum)
{
  unsigned long long h = KD_FNV_OFFSET;
  const size_t n       = (size_t) ck->nparams;

  PetscFunctionBegin;
  h = KDHashBytes(h, ck->phase, strlen(ck->phase));
  h = KDHashBytes(h, ck->terms, strlen(ck->terms));
  h = KDHashInt(h, ck->nparams);
  h = KDHashInt(h, ck->nterms);
  h = KDHashInt(h, ck->nhistory);
  h = KDHashInt(h, ck->step);
  h = KDHashInt(h, ck->epoch);
  h = KDHashInt(h, ck->adam_step);
  h = KDHashInt(h, ck->lbfgs_start);
  h = KDHashInt(h, ck->checkpoint_every);
  h = KDHashBytes(h, &ck->lr, sizeof(PetscReal));
  h = KDHashBytes(h, &ck->train_seconds, sizeof(PetscReal));
  /* only once the Gauss-Newton phase began, so that files without it keep their checksums */
  if (ck->gn[0] >= 0) h = KDHashBytes(h, ck->gn, 3 * sizeof(PetscReal));
  if (ck->quantize[1] >= 0) h = KDHashBytes(h, ck->quantize, 2 * sizeof(PetscReal));
  h = KDHashBytes(h, ck->params, n * sizeof(PetscReal));
  h = KDHashBytes(h, ck->adam_m, n * sizeof(PetscReal));
  h = KDHashBytes(h, ck->adam_v, n * sizeof(PetscReal));
  if (ck->nhistory > 0)
    h = KDHashBytes(h, ck->history, (size_t) ck->nhistory * (size_t) (1 + ck->nterms) * sizeof(PetscReal));
  /* only with inferred parameters, so that files without them keep their checksums */
  if (ck->ninferred > 0) {
    h = KDHashInt(h, ck->ninferred);
    h = KDHashBytes(h, ck->inferred, strlen(ck->inferred));
    if (ck->nhistory > 0)
      h = KDHashBytes(h, ck->inferred_history, (size_t) ck->nhistory * (size_t) ck->ninferred * sizeof(PetscReal));
  }
  *sum = h;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDCheckpointWriteInt(hid_t file, const char name[], PetscInt v)
{
  PetscFunctionBegin;
  PetscCall(KDH5WriteAttrInts(file, name, 1, &v));
  PetscFunctionReturn(0);
}

/* The contents of a checkpoint, into an open file (rank 0 writes the datasets). */
static PetscErrorCode KDCheckpointWriteFile(hid_t file, PetscMPIInt rank, const char sumstr[], const KDCheckpoint *ck)
{
  PetscInt dims[2];
  const PetscInt n = ck->nparams;

  PetscFunctionBegin;
  PetscCall(KDH5WriteCommonAttributes(file, "checkpoint", ck->pde));
  PetscCall(KDH5WriteAttrString(file, "trainer_prefix", ck->prefix));
  PetscCall(KDH5WriteAttrString(file, "phase", ck->phase));
  PetscCall(KDH5WriteAttrString(file, "loss_terms", ck->terms));
  PetscCall(KDCheckpointWriteInt(file, "nparams", ck->nparams));
  PetscCall(KDCheckpointWriteInt(file, "nterms", ck->nterms));
  PetscCall(KDCheckpointWriteInt(file, "history_steps", ck->nhistory));
  PetscCall(KDCheckpointWriteInt(file, "step", ck->step));
  PetscCall(KDCheckpointWriteInt(file, "epoch", ck->epoch));
  PetscCall(KDCheckpointWriteInt(file, "adam_step", ck->adam_step));
  PetscCall(KDCheckpointWriteInt(file, "lbfgs_start", ck->lbfgs_start));
  PetscCall(KDCheckpointWriteInt(file, "checkpoint_every", ck->checkpoint_every));
  PetscCall(KDH5WriteAttrReals(file, "adam_lr", 1, &ck->lr));
  PetscCall(KDH5WriteAttrReals(file, "train_seconds", 1, &ck->train_seconds));
  PetscCall(KDH5WriteAttrReals(file, "gauss_newton", 3, ck->gn));
  if (ck->quantize[1] >= 0) PetscCall(KDH5WriteAttrReals(file, "quantize", 2, ck->quantize));
  dims[0] = n;
  PetscCall(KDH5WriteRows(file, "parameters", 1, dims, 0, rank ? 0 : n, ck->params));
  PetscCall(KDH5WriteRows(file, "adam_m", 1, dims, 0, rank ? 0 : n, ck->adam_m));
  PetscCall(KDH5WriteRows(file, "adam_v", 1, dims, 0, rank ? 0 : n, ck->adam_v));
  if (ck->nhistory > 0) {
    dims[0] = ck->nhistory;
    dims[1] = 1 + ck->nterms;
    PetscCall(KDH5WriteRows(file, "loss_history", 2, dims, 0, rank ? 0 : ck->nhistory, ck->history));
  }
  if (ck->ninferred > 0) {
    PetscCall(KDCheckpointWriteInt(file, "ninferred", ck->ninferred));
    PetscCall(KDH5WriteAttrString(file, "inferred", ck->inferred));
    if (ck->nhistory > 0) {
      dims[0] = ck->nhistory;
      dims[1] = ck->ninferred;
      PetscCall(KDH5WriteRows(file, "inferred_history", 2, dims, 0, rank ? 0 : ck->nhistory, ck->inferred_history));
    }
  }
  PetscCall(KDH5WriteAttrString(file, "network", ck->network[0] ? ck->network : "-")); /* "-": a plain MLP */
  /* Written last: a file that lacks it was not finished. */
  PetscCall(KDH5WriteAttrString(file, "checksum", sumstr));
  PetscFunctionReturn(0);
}

/*
  KDCheckpointWrite - Writes a checkpoint atomically (temporary file, fsync, rename).

  Collective

  Every rank holds the same replicated state; rank 0 writes the datasets. Before writing, the ranks compare their
  checksums (one small allreduce per checkpoint, never per step): replicas that drifted apart would otherwise go
  unnoticed until the optimizers deadlock.
*/
PetscErrorCode KDCheckpointWrite(MPI_Comm comm, const char path[], const KDCheckpoint *ck)
{
  char tmp[PETSC_MAX_PATH_LEN], sumstr[32];
  unsigned long long sum, both[2];
  hid_t file = -1;
  PetscMPIInt rank;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(KDCheckpointChecksum(ck, &sum));
  both[0] = sum;
  both[1] = ~sum;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, both, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm));
  PetscCheck(both[0] == sum && both[1] == ~sum, comm, PETSC_ERR_PLIB,
             "the ranks' copies of the training state differ at step %" PetscInt_FMT "; checkpoint %s not written",
             ck->step, path);
  (void) snprintf(sumstr, sizeof(sumstr), "%016llx", sum);

  PetscCall(KDFileTemporaryName(path, tmp, sizeof(tmp)));
  PetscCall(KDH5Create(comm, tmp, &file));
  ierr = KDCheckpointWriteFile(file, rank, sumstr, ck);
  if (!ierr) ierr = KDH5Close(&file);
  if (ierr) { /* a full disk: no checkpoint.h5.part left behind, the previous checkpoint stays */
    PetscCall(KDH5Abandon(&file));
    PetscCall(ierr);
  }
  PetscCall(KDFileCommit(comm, tmp, path));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDCheckpointReadInt(hid_t file, const char name[], PetscInt *v)
{
  PetscFunctionBegin;
  PetscCall(KDH5ReadAttrInts(file, name, 1, v, NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDCheckpointReadReal(hid_t file, const char name[], PetscReal *v)
{
  PetscFunctionBegin;
  PetscCall(KDH5ReadAttrReals(file, name, 1, v, NULL));
  PetscFunctionReturn(0);
}

/* Whether dataset name has the shape the attributes announce, before anything of that size is allocated: a damaged
   nparams must not make the reader ask for gigabytes. */
static PetscErrorCode KDCheckpointCheckShape(hid_t file, const char name[], PetscInt dim, const PetscInt dims[])
{
  PetscInt fdim, fdims[KD_H5_MAX_DIM];

  PetscFunctionBegin;
  PetscCall(KDH5GetDims(file, name, KD_H5_MAX_DIM, &fdim, fdims));
  for (PetscInt d = 0; d < dim; d++)
    if (fdim != dim || fdims[d] != dims[d])
      PetscCall(
          KDH5FileError(file, PETSC_ERR_FILE_UNEXPECTED, "dataset '%s' does not have the shape its sizes say", name));
  PetscFunctionReturn(0);
}

/* Reads and verifies everything; any inconsistency is an error whose message KDCheckpointLoad() reports. */
static PetscErrorCode KDCheckpointRead(hid_t file, KDCheckpoint *ck)
{
  char kind[32], stored[32], computed[32];
  unsigned long long sum;
  PetscInt dims[2];

  PetscFunctionBegin;
  PetscCall(KDH5ReadAttrString(file, "kind", kind, sizeof(kind)));
  PetscCheck(!strcmp(kind, "checkpoint"), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "it is a '%s' file, not a checkpoint", kind);
  PetscCall(KDH5ReadAttrString(file, "checksum", stored, sizeof(stored)));
  PetscCall(KDH5ReadAttrString(file, "pde", ck->pde, sizeof(ck->pde)));
  PetscCall(KDH5ReadAttrString(file, "trainer_prefix", ck->prefix, sizeof(ck->prefix)));
  PetscCall(KDH5ReadAttrString(file, "phase", ck->phase, sizeof(ck->phase)));
  PetscCall(KDH5ReadAttrString(file, "loss_terms", ck->terms, sizeof(ck->terms)));
  PetscCall(KDCheckpointReadInt(file, "nparams", &ck->nparams));
  PetscCall(KDCheckpointReadInt(file, "nterms", &ck->nterms));
  PetscCall(KDCheckpointReadInt(file, "history_steps", &ck->nhistory));
  PetscCall(KDCheckpointReadInt(file, "step", &ck->step));
  PetscCall(KDCheckpointReadInt(file, "epoch", &ck->epoch));
  PetscCall(KDCheckpointReadInt(file, "adam_step", &ck->adam_step));
  PetscCall(KDCheckpointReadInt(file, "lbfgs_start", &ck->lbfgs_start));
  PetscCall(KDCheckpointReadInt(file, "checkpoint_every", &ck->checkpoint_every));
  PetscCall(KDCheckpointReadReal(file, "adam_lr", &ck->lr));
  PetscCall(KDCheckpointReadReal(file, "train_seconds", &ck->train_seconds));
  {
    PetscBool has;
    ck->gn[0] = -1.0, ck->gn[1] = 0.0, ck->gn[2] = 0.0;
    PetscCall(KDH5HasAttr(file, "gauss_newton", &has));
    if (has) PetscCall(KDH5ReadAttrReals(file, "gauss_newton", 3, ck->gn, NULL));
    ck->quantize[0] = 0.0, ck->quantize[1] = -1.0;
    PetscCall(KDH5HasAttr(file, "quantize", &has));
    if (has) PetscCall(KDH5ReadAttrReals(file, "quantize", 2, ck->quantize, NULL));
  }
  PetscCheck(ck->nparams > 0 && ck->nterms >= 1 && ck->nterms <= KD_LOSS_MAX_TERMS && ck->nhistory >= 0 &&
                 ck->step >= 0,
             PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "its sizes are inconsistent");
  dims[0] = ck->nparams;
  PetscCall(KDCheckpointCheckShape(file, "parameters", 1, dims));
  PetscCall(KDCheckpointCheckShape(file, "adam_m", 1, dims));
  PetscCall(KDCheckpointCheckShape(file, "adam_v", 1, dims));
  PetscCall(PetscMalloc1(ck->nparams, &ck->params));
  PetscCall(PetscMalloc1(ck->nparams, &ck->adam_m));
  PetscCall(PetscMalloc1(ck->nparams, &ck->adam_v));
  PetscCall(KDH5ReadRows(file, "parameters", 1, dims, 0, ck->nparams, ck->params));
  PetscCall(KDH5ReadRows(file, "adam_m", 1, dims, 0, ck->nparams, ck->adam_m));
  PetscCall(KDH5ReadRows(file, "adam_v", 1, dims, 0, ck->nparams, ck->adam_v));
  if (ck->nhistory > 0) {
    dims[0] = ck->nhistory;
    dims[1] = 1 + ck->nterms;
    PetscCall(KDCheckpointCheckShape(file, "loss_history", 2, dims));
    PetscCall(PetscMalloc1(dims[0] * dims[1], &ck->history));
    PetscCall(KDH5ReadRows(file, "loss_history", 2, dims, 0, ck->nhistory, ck->history));
  }
  {
    PetscBool has;
    PetscCall(KDH5HasAttr(file, "ninferred", &has));
    ck->ninferred = 0;
    if (has) {
      PetscCall(KDCheckpointReadInt(file, "ninferred", &ck->ninferred));
      PetscCheck(ck->ninferred > 0 && ck->ninferred <= KD_LOSS_MAX_INFER, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
                 "its count of inferred parameters is inconsistent");
      PetscCall(KDH5ReadAttrString(file, "inferred", ck->inferred, sizeof(ck->inferred)));
      if (ck->nhistory > 0) {
        dims[0] = ck->nhistory;
        dims[1] = ck->ninferred;
        PetscCall(KDCheckpointCheckShape(file, "inferred_history", 2, dims));
        PetscCall(PetscMalloc1(dims[0] * dims[1], &ck->inferred_history));
        PetscCall(KDH5ReadRows(file, "inferred_history", 2, dims, 0, ck->nhistory, ck->inferred_history));
      }
    }
  }
  {
    PetscBool has;
    PetscCall(KDH5HasAttr(file, "network", &has));
    ck->network[0] = 0;
    ck->hasnetwork = has;
    if (has) PetscCall(KDH5ReadAttrString(file, "network", ck->network, sizeof(ck->network)));
    if (!strcmp(ck->network, "-")) ck->network[0] = 0;
  }
  PetscCall(KDCheckpointChecksum(ck, &sum));
  (void) snprintf(computed, sizeof(computed), "%016llx", sum);
  PetscCheck(!strcmp(stored, computed), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "checksum mismatch (stored %s, computed %s)", stored, computed);
  PetscFunctionReturn(0);
}

typedef struct {
  char message[512];
} KDErrorCapture;

/* Keeps the innermost error message instead of printing it, so that the load can report one line naming the file. */
static PetscErrorCode KDCheckpointCaptureError(MPI_Comm comm, int line, const char *fun, const char *file,
                                               PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  KDErrorCapture *cap = (KDErrorCapture *) ctx;

  if (p == PETSC_ERROR_INITIAL && !cap->message[0])
    (void) snprintf(cap->message, sizeof(cap->message), "%s", mess && mess[0] ? mess : "unreadable");
  return n;
}

/*
  KDCheckpointLoad - Reads a checkpoint and verifies it (kind, sizes, every dataset, checksum); allocates the arrays.

  Collective

  A missing, truncated or corrupted file is refused with one error line that names the file and the reason.
*/
PetscErrorCode KDCheckpointLoad(MPI_Comm comm, const char path[], KDCheckpoint *ck)
{
  KDErrorCapture cap;
  hid_t file = -1;
  PetscErrorCode ierr;
  PetscMPIInt bad;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(ck, sizeof(*ck)));
  PetscCall(PetscMemzero(&cap, sizeof(cap)));
  PetscCall(KDH5Open(comm, path, &file));
  PetscCall(PetscPushErrorHandler(KDCheckpointCaptureError, &cap));
  ierr = KDCheckpointRead(file, ck);
  PetscCall(PetscPopErrorHandler());
  if (ierr)
    PetscCall(KDH5CloseAll(&file));
  else
    PetscCall(KDH5Close(&file));
  /* All ranks read the same bytes, but agree explicitly so the refusal is collective whatever happened. */
  bad = ierr ? 1 : 0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, comm));
  if (bad) {
    PetscCall(KDCheckpointReset(ck));
    const char *why = cap.message[0] ? cap.message : "damaged on another rank";
    size_t n        = strlen(path);
    if (!strncmp(why, path, n) && !strncmp(why + n, ": ", 2)) why += n + 2; /* the file is named once */
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "refusing to restart from checkpoint %s: %s", path, why);
  }
  PetscFunctionReturn(0);
}

/*
  KDCheckpointReset - Frees the arrays KDCheckpointLoad() allocated.

  Not collective
*/
PetscErrorCode KDCheckpointReset(KDCheckpoint *ck)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(ck->params));
  PetscCall(PetscFree(ck->inferred_history));
  PetscCall(PetscFree(ck->adam_m));
  PetscCall(PetscFree(ck->adam_v));
  PetscCall(PetscFree(ck->history));
  PetscFunctionReturn(0);
}
