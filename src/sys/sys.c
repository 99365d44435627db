#include <kdsys.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>

PetscClassId KD_CLASSID;

static PetscBool KDRegisterAllCalled = PETSC_FALSE;

/*@C
  KDRegisterAll - Registers the kdpinn log class. Called by the driver; safe to call more than once.

  Not collective
@*/
PetscErrorCode KDRegisterAll(void)
{
  PetscFunctionBegin;
  if (KDRegisterAllCalled) PetscFunctionReturn(0);
  KDRegisterAllCalled = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("kdpinn", &KD_CLASSID));
  PetscFunctionReturn(0);
}

/* PETSc's parsers of option values name the value, not the option ("Input string 12abc has no integer value"). On an
   error of that form, writes into out a message naming the option(s) that hold the value, and returns 1. */
static int KDOptionValueError(const char *mess, char *out, size_t len)
{
  static const struct {
    const char *pre, *post, *what;
  } forms[] = {
      {"Input string ", " has no integer value", "not an integer"},
      {"Input string ", " has no numeric value", "not a number"},
      {"Unknown logical value: ", NULL, "not a truth value (true, false, yes, no, 1, 0)"},
  };

  for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
    char value[256], *all = NULL, *save = NULL, *tok, *name = NULL;
    const char *v = mess, *end;
    size_t n, used = 0;
    int exact = 1;

    if (strncmp(v, forms[f].pre, strlen(forms[f].pre))) continue;
    v += strlen(forms[f].pre);
    end = forms[f].post ? strstr(v, forms[f].post) : v + strlen(v);
    if (!end || (n = (size_t) (end - v)) == 0 || n >= sizeof(value)) continue;
    memcpy(value, v, n);
    value[n] = 0;
    /* every option whose value is this one, or holds it as an entry of a comma-separated list */
    if (PetscOptionsGetAll(NULL, &all) || !all) return 0;
    for (tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
      int match = 0;
      if (tok[0] == '-' && isalpha((unsigned char) tok[1])) {
        name = tok;
        continue;
      }
      if (!name) continue;
      match = !strcmp(tok, value);
      for (const char *hit = strstr(tok, value); !match && hit; hit = strstr(hit + 1, value))
        match = (hit == tok || hit[-1] == ',') && (hit[n] == 0 || hit[n] == ',');
      if (match && used < len) {
        int w = snprintf(out + used, len - used, "%s%s %s", used ? ", " : "", name, tok);
        if (w > 0) used += (size_t) w;
        if (strcmp(tok, value)) exact = 0;
      }
      name = NULL;
    }
    (void) PetscFree(all);
    if (!used || used >= len) return 0;
    if (exact)
      (void) snprintf(out + used, len - used, ": %s", forms[f].what);
    else
      (void) snprintf(out + used, len - used, ": %s is %s", value, forms[f].what);
    return 1;
  }
  return 0;
}

/* One line per error, as a command-line tool should print it: the first (innermost) message only, once per job:
   rank 0 of the world prints; another rank prints (with its number) only an error raised on a one-rank
   communicator, which may be its alone, so that a lone failing rank is never silent. Checks of input that every
   rank sees alike therefore use the collective communicator. -kd_traceback restores PETSc's full traceback for
   debugging. */
static PetscErrorCode KDErrorHandlerOneLine(MPI_Comm comm, int line, const char *fun, const char *file,
                                            PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  if (p == PETSC_ERROR_INITIAL) {
    const char *text = NULL;
    char optmess[512];
    int initialized = 0, wrank = 0, wsize = 1, csize = 1;
    MPI_Initialized(&initialized);
    if (initialized) {
      MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
      MPI_Comm_size(MPI_COMM_WORLD, &wsize);
      if (comm != MPI_COMM_NULL) MPI_Comm_size(comm, &csize);
    }
    if (!mess || !mess[0])
      PetscErrorMessage(n, &text, NULL);
    else if (KDOptionValueError(mess, optmess, sizeof(optmess))) {
      /* the options database is the same on every rank: they all fail alike, and rank 0 speaks for them */
      if (!wrank) (void) fprintf(stderr, "kdpinn: error: %s\n", optmess);
      (void) fflush(stderr);
      return n;
    }
    if (!wrank)
      (void) fprintf(stderr, "kdpinn: error: %s\n", (mess && mess[0]) ? mess : (text ? text : "unknown error"));
    else if (csize == 1 && wsize > 1)
      (void) fprintf(stderr, "kdpinn: error: [rank %d] %s\n", wrank,
                     (mess && mess[0]) ? mess : (text ? text : "unknown error"));
    (void) fflush(stderr);
  }
  return n;
}

/*@C
  KDPushErrorHandler - Installs the one-line error handler of the driver, or keeps PETSc's traceback handler.
  May be called before PetscInitialize(), so that errors in the options files are reported in one line too.

  Not collective

  Input Parameter:
. traceback - keep PETSc's full traceback (the driver passes true for -kd_traceback)
@*/
PetscErrorCode KDPushErrorHandler(PetscBool traceback)
{
  PetscFunctionBegin;
  if (!traceback) PetscCall(PetscPushErrorHandler(KDErrorHandlerOneLine, NULL));
  PetscFunctionReturn(0);
}

static PetscFunctionList *KDPDETypes = NULL;
static char KDPDEDefault[64]         = "";

/*@C
  KDCommonOptionsSetPDETypes - Tells the common options the registry of PDE types (-kd_pde lists them) and the default
  type; the PDE package does this when it registers its types.

  Not collective
@*/
PetscErrorCode KDCommonOptionsSetPDETypes(PetscFunctionList *list, const char def[])
{
  PetscFunctionBegin;
  KDPDETypes = list;
  PetscCall(PetscStrncpy(KDPDEDefault, def, sizeof(KDPDEDefault)));
  PetscFunctionReturn(0);
}

/*@C
  KDGetCommonOptions - Reads the options every stage shares.

  Collective

  Options Database Keys:
+ -kd_out <dir>      - output directory of the experiment (default: kdpinn-out)
. -kd_pde <name>     - PDE type, one of the registered ones (-help lists them; default: burgers)
. -kd_levels <L>     - levels of the scale hierarchy, level 0 finest (default: 3)
. -kd_seed <n>       - seed of every random stream (default: 0)
- -kd_force          - rerun a stage even if its output exists
@*/
PetscErrorCode KDGetCommonOptions(MPI_Comm comm, KDCommonOptions *opt)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(opt, sizeof(*opt)));
  PetscCall(PetscStrncpy(opt->out, "kdpinn-out", sizeof(opt->out)));
  PetscCall(PetscStrncpy(opt->pde, KDPDEDefault, sizeof(opt->pde)));
  opt->levels = 3;
  opt->seed   = 0;
  opt->force  = PETSC_FALSE;
  PetscOptionsBegin(comm, NULL, "kdpinn common options", NULL);
  PetscCall(PetscOptionsString("-kd_out", "Output directory of the experiment", NULL, opt->out, opt->out,
                               sizeof(opt->out), NULL));
  if (KDPDETypes)
    PetscCall(PetscOptionsFList("-kd_pde", "PDE type", "KDPDESetType", *KDPDETypes, opt->pde, opt->pde,
                                sizeof(opt->pde), NULL));
  else
    PetscCall(PetscOptionsString("-kd_pde", "PDE type", "KDPDESetType", opt->pde, opt->pde, sizeof(opt->pde), NULL));
  PetscCall(PetscOptionsInt("-kd_levels", "Levels of the scale hierarchy (level 0 = finest)", NULL, opt->levels,
                            &opt->levels, NULL));
  PetscCall(PetscOptionsInt("-kd_seed", "Seed of every random stream", NULL, opt->seed, &opt->seed, NULL));
  PetscCall(
      PetscOptionsBool("-kd_force", "Rerun a stage even if its output exists", NULL, opt->force, &opt->force, NULL));
  PetscOptionsEnd();
  PetscCheck(opt->levels >= 1 && opt->levels <= 12, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_levels %" PetscInt_FMT " out of range [1, 12]", opt->levels);
  PetscCheck(opt->seed >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-kd_seed must be non-negative, got %" PetscInt_FMT,
             opt->seed);
  PetscCheck(opt->out[0], comm, PETSC_ERR_ARG_WRONG, "-kd_out must name a directory");
  PetscFunctionReturn(0);
}

static int KDMakeDirs(const char *dir)
{
  char path[PETSC_MAX_PATH_LEN];
  size_t len = strlen(dir);

  if (len == 0 || len >= sizeof(path)) return ENAMETOOLONG;
  memcpy(path, dir, len + 1);
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, 0777) && errno != EEXIST) return errno;
    *p = '/';
  }
  if (mkdir(path, 0777) && errno != EEXIST) return errno;
  return 0;
}

/*@C
  KDOutputDirCheck - Creates the output directory if needed and checks that files can be written in it.
  Rank 0 checks; every rank gets the verdict, so the error is raised collectively.

  Collective
@*/
PetscErrorCode KDOutputDirCheck(MPI_Comm comm, const char dir[])
{
  PetscMPIInt rank;
  int err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    struct stat st;
    err = KDMakeDirs(dir);
    if (!err && (stat(dir, &st) || !S_ISDIR(st.st_mode))) err = ENOTDIR;
    if (!err) {
      char probe[PETSC_MAX_PATH_LEN];
      int fd;
      (void) snprintf(probe, sizeof(probe), "%s/.kdpinn-write-test.%d", dir, (int) getpid());
      fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (fd < 0)
        err = errno;
      else {
        (void) close(fd);
        (void) unlink(probe);
      }
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_OPEN, "output directory -kd_out %s is not writable: %s", dir, strerror(err));
  PetscFunctionReturn(0);
}

/*@C
  KDOutputPath - Joins the output directory and a file name.

  Not collective
@*/
PetscErrorCode KDOutputPath(const char dir[], const char name[], char path[], size_t len)
{
  int n;

  PetscFunctionBegin;
  n = snprintf(path, len, "%s/%s", dir, name);
  PetscCheck(n > 0 && (size_t) n < len, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "path too long: %s/%s", dir, name);
  PetscFunctionReturn(0);
}

/*@C
  KDFileTemporaryName - The temporary name a file is written under before KDFileCommit() renames it.

  Not collective
@*/
PetscErrorCode KDFileTemporaryName(const char path[], char tmp[], size_t len)
{
  int n;

  PetscFunctionBegin;
  n = snprintf(tmp, len, "%s.part", path);
  PetscCheck(n > 0 && (size_t) n < len, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "path too long: %s", path);
  PetscFunctionReturn(0);
}

/*@C
  KDFileCommit - Makes a completely written temporary file durable (fsync) and gives it its final name (rename),
  so that readers see either the old file or the whole new one, never a part.

  Collective
@*/
PetscErrorCode KDFileCommit(MPI_Comm comm, const char tmp[], const char path[])
{
  PetscMPIInt rank;
  int err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Barrier(comm));
  if (!rank) {
    int fd = open(tmp, O_RDONLY);
    if (fd < 0)
      err = errno;
    else {
      if (fsync(fd)) err = errno;
      (void) close(fd);
    }
    if (!err && rename(tmp, path)) err = errno;
    if (err) (void) unlink(tmp);
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "cannot write %s: %s", path, strerror(err));
  PetscFunctionReturn(0);
}

/*@C
  KDFileDiscard - Removes a temporary file after a failed write.

  Collective
@*/
PetscErrorCode KDFileDiscard(MPI_Comm comm, const char tmp[])
{
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) (void) unlink(tmp);
  PetscFunctionReturn(0);
}

#define KD_MAX_LOCKS 64
static int KDLockFds[KD_MAX_LOCKS], KDNumLocks = 0;
static char KDLockPaths[KD_MAX_LOCKS][PETSC_MAX_PATH_LEN];

/* Rank 0's part of KDFileLock(): 0 when held (or when the file system cannot lock), else errno, with the holder's
   description in holder[]. */
static int KDFileLockTake(const char path[], const char lock[], char holder[], size_t len)
{
  struct flock fl;
  char host[256] = "?", line[512], tmp[PETSC_MAX_PATH_LEN];
  time_t now     = time(NULL);
  struct tm tm;
  int fd, n;

  for (int i = 0; i < KDNumLocks; i++)
    if (!strcmp(KDLockPaths[i], lock)) return 0; /* this process holds it already */
  if (KDNumLocks >= KD_MAX_LOCKS) return 0;
  /* The holder removes the lock file before it releases the lock (KDFileUnlockAll()), so a lock taken on a file that
     is no longer the one under that name was taken too late: try again with the new one. */
  for (int attempt = 0;; attempt++) {
    struct stat a, b;
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    memset(&fl, 0, sizeof(fl));
    fl.l_type   = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl)) {
      int err = errno;
      if (err == EACCES || err == EAGAIN) {
        ssize_t r                     = pread(fd, holder, len - 1, 0);
        holder[r > 0 ? r : 0]         = 0;
        holder[strcspn(holder, "\n")] = 0;
        if (!holder[0]) (void) snprintf(holder, len, "another process");
        (void) close(fd);
        return EBUSY;
      }
      (void) close(fd);
      return 0; /* a file system without locks (ENOLCK, EOPNOTSUPP): nothing to guard with */
    }
    if (!fstat(fd, &a) && !stat(lock, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev) break;
    (void) close(fd);
    if (attempt == 100) return EAGAIN;
  }
  /* held until KDFileUnlockAll() or until this process exits, however it exits: the kernel releases the lock */
  (void) gethostname(host, sizeof(host) - 1);
  (void) localtime_r(&now, &tm);
  n = snprintf(line, sizeof(line), "pid %d on %s, since %04d-%02d-%02d %02d:%02d:%02d\n", (int) getpid(), host,
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (ftruncate(fd, 0) || pwrite(fd, line, (size_t) n, 0) != n) { /* the description is only informative */
  }
  KDLockFds[KDNumLocks] = fd;
  (void) snprintf(KDLockPaths[KDNumLocks++], PETSC_MAX_PATH_LEN, "%s", lock);
  /* whoever wrote path.part is gone (it would hold the lock): its temporary file is of no use to anyone */
  if (snprintf(tmp, sizeof(tmp), "%s.part", path) < (int) sizeof(tmp)) (void) unlink(tmp);
  return 0;
}

/*@C
  KDFileUnlockAll - Removes the lock files this process holds and releases their locks (the driver calls it as a stage
  ends, however it ends; a process killed leaves its lock files, unlocked, for the next run to take).

  Not collective
@*/
void KDFileUnlockAll(void)
{
  for (int i = 0; i < KDNumLocks; i++) {
    (void) unlink(KDLockPaths[i]); /* while still locked: see KDFileLockTake() */
    (void) close(KDLockFds[i]);
  }
  KDNumLocks = 0;
}

/*@C
  KDFileLock - Takes the advisory lock of an output file for the rest of the process, before the file is written:
  two runs that would write the same file (two solves into one -kd_out) must not both do it, or one publishes the
  other's data. A second run fails here with one line naming the file and the holder (process, host, start). The lock
  (a file .<name>.lock beside it, fcntl, which also works over NFS) is released by KDFileUnlockAll(), or by the kernel
  when the process ends, however it ends; a temporary <file>.part that a writer killed before it could remove it is
removed here.

  Collective

  Input Parameter:
. path - the output file (its directory must exist: KDOutputDirCheck())

  Note:
  Different files are independent: the tasks of a job array that distill different levels into one -kd_out run side
  by side. On a file system without locks nothing is guarded.
@*/
PetscErrorCode KDFileLock(MPI_Comm comm, const char path[])
{
  char lock[PETSC_MAX_PATH_LEN], holder[400] = "";
  const char *slash = strrchr(path, '/');
  PetscMPIInt rank;
  int err = 0, n;

  PetscFunctionBegin;
  n = slash ? snprintf(lock, sizeof(lock), "%.*s/.%s.lock", (int) (slash - path), path, slash + 1)
            : snprintf(lock, sizeof(lock), ".%s.lock", path);
  PetscCheck(n > 0 && (size_t) n < sizeof(lock), comm, PETSC_ERR_ARG_SIZ, "path too long: %s", path);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) err = KDFileLockTake(path, lock, holder, sizeof(holder));
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  if (err == EBUSY) {
    PetscCallMPI(MPI_Bcast(holder, sizeof(holder), MPI_CHAR, 0, comm));
    SETERRQ(comm, PETSC_ERR_FILE_OPEN,
            "%s is being written by another run (%s; lock %s): wait for it, or give this run another -kd_out", path,
            holder, lock);
  }
  PetscCheck(!err, comm, PETSC_ERR_FILE_OPEN, "cannot lock %s: %s", path, strerror(err));
  PetscFunctionReturn(0);
}

/*@C
  KDOutputLock - KDFileLock() of the file name in the output directory dir.

  Collective
@*/
PetscErrorCode KDOutputLock(MPI_Comm comm, const char dir[], const char name[])
{
  char path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(KDOutputPath(dir, name, path, sizeof(path)));
  PetscCall(KDFileLock(comm, path));
  PetscFunctionReturn(0);
}

/*@C
  KDLogStageGet - Returns the log stage of a pipeline stage, registering it on first use.

  Not collective
@*/
PetscErrorCode KDLogStageGet(const char name[], PetscLogStage *stage)
{
  PetscFunctionBegin;
  PetscCall(PetscLogStageGetId(name, stage));
  if (*stage < 0) PetscCall(PetscLogStageRegister(name, stage));
  PetscFunctionReturn(0);
}

/*@C
  KDHelpRequested - Whether -help was given: stages then read (and so list) their options, and run nothing.

  Not collective
@*/
PetscErrorCode KDHelpRequested(PetscBool *help)
{
  PetscFunctionBegin;
  PetscCall(PetscOptionsHasHelp(NULL, help));
  PetscFunctionReturn(0);
}

static int KDCompareStrings(const void *a, const void *b)
{
  return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*@C
  KDOptionsForEach - Calls fn(name, value, ctx) for every option of the database, in the database's order: the name
  with its dash, value NULL for an option given without one. A token is a value unless it is a dash followed by
  anything but a digit or a point (negative numbers are values); a value that holds a space is cut there (as
  -options_view shows it).

  Not collective

  Input Parameters:
+ fn  - called once per option; an error it returns stops the walk
- ctx - passed to fn

.seealso: KDOptionsDigest()
@*/
PetscErrorCode KDOptionsForEach(PetscErrorCode (*fn)(const char[], const char[], void *), void *ctx)
{
  char *all, *save = NULL, *tok;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  tok = strtok_r(all, " ", &save);
  while (tok) {
    const char *name = tok, *value = NULL;
    tok = strtok_r(NULL, " ", &save);
    if (tok && !(tok[0] == '-' && tok[1] && !isdigit((unsigned char) tok[1]) && tok[1] != '.')) {
      value = tok;
      tok   = strtok_r(NULL, " ", &save);
    }
    PetscCall(fn(name, value, ctx));
  }
  PetscCall(PetscFree(all));
  PetscFunctionReturn(0);
}

/*@C
  KDStudentLevelOption - Whether an option name is a per-level student option, -student_L<l>_<option> with l >= 1
  written without a leading zero (case-blind, as PETSc's names; with or without the dash), and which.

  Not collective

  Input Parameter:
. name - the option name

  Output Parameters:
+ level  - l, or 0 when name is not a per-level student option
- option - the <option> part inside name (may be NULL)
@*/
PetscErrorCode KDStudentLevelOption(const char name[], PetscInt *level, const char **option)
{
  const size_t len = strlen("student_L");
  char *end;
  long l;

  PetscFunctionBegin;
  *level = 0;
  if (option) *option = NULL;
  if (name[0] == '-') name++;
  if (strncasecmp(name, "student_L", len) || !isdigit((unsigned char) name[len]) || name[len] == '0')
    PetscFunctionReturn(0);
  l = strtol(name + len, &end, 10);
  if (*end != '_' || !end[1] || l > PETSC_MAX_INT) PetscFunctionReturn(0);
  *level = (PetscInt) l;
  if (option) *option = end + 1;
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt nmax;
  PetscBool *given;
} KDLevelsGivenCtx;

static PetscErrorCode KDStudentLevelsAdd(const char name[], const char value[], void *ctx)
{
  KDLevelsGivenCtx *g = (KDLevelsGivenCtx *) ctx;
  PetscInt level;

  PetscFunctionBegin;
  (void) value;
  PetscCall(KDStudentLevelOption(name, &level, NULL));
  if (level > 0 && level < g->nmax) g->given[level] = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/*@C
  KDStudentLevelsGiven - Which levels below nmax have options of their own (-student_L<l>_<option>).

  Not collective

  Input Parameter:
. nmax - the number of entries of given (levels 0 .. nmax-1; level 0 has no students)

  Output Parameter:
. given - given[l] is true when level l has an option of its own

.seealso: KDStudentLevelOption(), KDStudentLevelOptionsPush()
@*/
PetscErrorCode KDStudentLevelsGiven(PetscInt nmax, PetscBool given[])
{
  KDLevelsGivenCtx g = {nmax, given};

  PetscFunctionBegin;
  for (PetscInt l = 0; l < nmax; l++) given[l] = PETSC_FALSE;
  PetscCall(KDOptionsForEach(KDStudentLevelsAdd, &g));
  PetscFunctionReturn(0);
}

struct _n_KDLevelOptions {
  PetscInt level;  /* l */
  PetscInt n, cap; /* options of the level, room */
  char **given;    /* -student_L<l>_<name>, as given */
  char **name;     /* -student_<name> */
  char **saved;    /* the value of -student_<name> before the push (NULL: none, or none given) */
  PetscBool *had;  /* whether -student_<name> was set before the push */
};

static PetscErrorCode KDStudentLevelOptionsAdd(const char name[], const char value[], void *ctx)
{
  KDLevelOptions lv = (KDLevelOptions) ctx;
  const char *option;
  PetscInt level;

  PetscFunctionBegin;
  (void) value; /* cut at a space: the push reads the whole value by name */
  PetscCall(KDStudentLevelOption(name, &level, &option));
  if (level != lv->level) PetscFunctionReturn(0);
  if (lv->n == lv->cap) {
    lv->cap = lv->cap ? 2 * lv->cap : 8;
    PetscCall(PetscRealloc(sizeof(char *) * (size_t) lv->cap, &lv->given));
    PetscCall(PetscRealloc(sizeof(char *) * (size_t) lv->cap, &lv->name));
    PetscCall(PetscRealloc(sizeof(char *) * (size_t) lv->cap, &lv->saved));
    PetscCall(PetscRealloc(sizeof(PetscBool) * (size_t) lv->cap, &lv->had));
  }
  PetscCall(PetscStrallocpy(name, &lv->given[lv->n]));
  PetscCall(PetscMalloc1(strlen("-student_") + strlen(option) + 1, &lv->name[lv->n]));
  (void) sprintf(lv->name[lv->n], "-student_%s", option);
  lv->saved[lv->n] = NULL;
  lv->had[lv->n++] = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/*@C
  KDStudentLevelOptionsPush - Puts the options of level l, -student_L<l>_<option> [value], in the options database in
  place of -student_<option>, so that every object reading -student_<option> reads the level's value (the distill
  stage trains level l's student and twin so); remembers what they replaced.

  Not collective

  Input Parameter:
. l - the level

  Output Parameter:
. lv - what the push replaced, for KDStudentLevelOptionsPop()

.seealso: KDStudentLevelOption(), KDStudentLevelOptionsGetNames()
@*/
PetscErrorCode KDStudentLevelOptionsPush(PetscInt l, KDLevelOptions *lv)
{
  PetscFunctionBegin;
  PetscCall(PetscNew(lv));
  (*lv)->level = l;
  PetscCall(KDOptionsForEach(KDStudentLevelOptionsAdd, *lv));
  for (PetscInt i = 0; i < (*lv)->n; i++) {
    const char *v, *value;
    PetscCall(PetscOptionsFindPair(NULL, NULL, (*lv)->name[i], &v, &(*lv)->had[i]));
    if ((*lv)->had[i]) PetscCall(PetscStrallocpy(v, &(*lv)->saved[i]));
    PetscCall(PetscOptionsFindPair(NULL, NULL, (*lv)->given[i], &value, NULL));
    PetscCall(PetscOptionsSetValue(NULL, (*lv)->name[i], value));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDStudentLevelOptionsGetNames - The options a push put in place: as given (-student_L<l>_<option>) and as read
  (-student_<option>).

  Not collective

  Input Parameter:
. lv - from KDStudentLevelOptionsPush()

  Output Parameters:
+ n     - the number of the level's options
. given - their names as given (may be NULL); owned by lv, valid until KDStudentLevelOptionsPop()
- name  - the names they stand for (may be NULL); owned by lv, as given

.seealso: KDStudentLevelOptionsPush(), KDStudentLevelOptionsPop()
@*/
PetscErrorCode KDStudentLevelOptionsGetNames(KDLevelOptions lv, PetscInt *n, const char *const **given,
                                             const char *const **name)
{
  PetscFunctionBegin;
  *n = lv->n;
  if (given) *given = (const char *const *) lv->given;
  if (name) *name = (const char *const *) lv->name;
  PetscFunctionReturn(0);
}

/*@C
  KDStudentLevelOptionsPop - Puts back the options of all levels that KDStudentLevelOptionsPush() replaced.

  Not collective

  Input/Output Parameter:
. lv - from KDStudentLevelOptionsPush(); freed and set to NULL

.seealso: KDStudentLevelOptionsPush()
@*/
PetscErrorCode KDStudentLevelOptionsPop(KDLevelOptions *lv)
{
  PetscFunctionBegin;
  if (!*lv) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < (*lv)->n; i++) {
    if ((*lv)->had[i])
      PetscCall(PetscOptionsSetValue(NULL, (*lv)->name[i], (*lv)->saved[i]));
    else
      PetscCall(PetscOptionsClearValue(NULL, (*lv)->name[i]));
    PetscCall(PetscFree((*lv)->given[i]));
    PetscCall(PetscFree((*lv)->name[i]));
    PetscCall(PetscFree((*lv)->saved[i]));
  }
  PetscCall(PetscFree((*lv)->given));
  PetscCall(PetscFree((*lv)->name));
  PetscCall(PetscFree((*lv)->saved));
  PetscCall(PetscFree((*lv)->had));
  PetscCall(PetscFree(*lv));
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt nprefix, npairs, cap;
  const char *const *prefixes;
  char **pairs;
} KDDigestPairs;

/* name=value of an option whose name starts with one of the prefixes (case-blind, as PETSc's names: another spelling
   of a name changes the digest, which only reruns a stage), the value whole (the walk cuts it at a space) */
static PetscErrorCode KDDigestAddPair(const char name[], const char value[], void *ctx)
{
  KDDigestPairs *d = (KDDigestPairs *) ctx;
  PetscBool match  = PETSC_FALSE;
  const char *whole;
  char *pair;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d->nprefix; i++)
    if (!strncasecmp(name, d->prefixes[i], strlen(d->prefixes[i]))) match = PETSC_TRUE;
  if (!match) PetscFunctionReturn(0);
  PetscCall(PetscOptionsFindPair(NULL, NULL, name, &whole, NULL));
  value = whole ? whole : "";
  if (d->npairs == d->cap) {
    char **more;
    PetscCall(PetscMalloc1(2 * d->cap, &more));
    PetscCall(PetscArraycpy(more, d->pairs, d->npairs));
    PetscCall(PetscFree(d->pairs));
    d->pairs = more;
    d->cap *= 2;
  }
  PetscCall(PetscMalloc1(strlen(name) + strlen(value) + 2, &pair));
  (void) sprintf(pair, "%s=%s", name, value);
  d->pairs[d->npairs++] = pair;
  PetscFunctionReturn(0);
}

/*@C
  KDOptionsDigest - A 64-bit digest (16 hex digits) of the options whose names start with one of the given prefixes,
  in sorted order, so the same settings give the same digest however they were ordered or given (file or command
  line). Used by `kdpinn run` to tell whether a stage's output was made with the current options.

  Not collective

  Input Parameters:
+ nprefix  - number of prefixes
- prefixes - option name prefixes, with the dash, e.g. "-kd_pde", "-teacher_"

  Output Parameter:
. digest - 17 characters: 16 hex digits and the terminator
@*/
PetscErrorCode KDOptionsDigest(PetscInt nprefix, const char *const prefixes[], char digest[])
{
  KDDigestPairs d = {nprefix, 0, 16, prefixes, NULL};
  uint64_t h      = 1469598103934665603ULL;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(d.cap, &d.pairs));
  PetscCall(KDOptionsForEach(KDDigestAddPair, &d));
  qsort(d.pairs, (size_t) d.npairs, sizeof(char *), KDCompareStrings);
  for (PetscInt i = 0; i < d.npairs; i++) {
    for (const char *c = d.pairs[i]; *c; c++) h = (h ^ (unsigned char) *c) * 1099511628211ULL;
    h = (h ^ (unsigned char) '\n') * 1099511628211ULL;
    PetscCall(PetscFree(d.pairs[i]));
  }
  PetscCall(PetscFree(d.pairs));
  (void) snprintf(digest, 17, "%016llx", (unsigned long long) h);
  PetscFunctionReturn(0);
}

/*@C
  KDWorkEnsure - A scratch array of at least size entries: reallocated, without keeping its contents, only when it has
  to grow, so that a kernel called per block allocates once.

  Not collective

  Input/Output Parameters:
+ work     - the array (NULL at first; freed with PetscFree())
- capacity - its length
@*/
PetscErrorCode KDWorkEnsure(PetscReal **work, PetscInt *capacity, PetscInt size)
{
  PetscFunctionBegin;
  if (size <= *capacity) PetscFunctionReturn(0);
  PetscCall(PetscFree(*work));
  PetscCall(PetscMalloc1(size, work));
  *capacity = size;
  PetscFunctionReturn(0);
}

/*@C
  KDRunProgram - Runs a program from an argument vector and waits for it: no shell, so nothing in the arguments is
  interpreted (a compiler or flags given as options cannot run other commands). Standard output and error go to a
  file.

  Not collective

  Input Parameters:
+ argv - the program (argv[0], searched on PATH when it has no '/') and its arguments, NULL-terminated
- log  - file that receives standard output and error (created or truncated), or NULL for /dev/null

  Output Parameter:
. status - the program's exit status; 127 when it could not be run, 128 + n when signal n ended it

.seealso: KDSplitWords()
@*/
PetscErrorCode KDRunProgram(char *const argv[], const char log[], int *status)
{
  extern char **environ;
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int err, ws = 0;

  PetscFunctionBegin;
  PetscCheck(argv && argv[0] && argv[0][0], PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "no program to run");
  PetscCheck(!posix_spawn_file_actions_init(&fa), PETSC_COMM_SELF, PETSC_ERR_SYS, "posix_spawn_file_actions_init");
  err = posix_spawn_file_actions_addopen(&fa, 1, log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!err) err = posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (!err) err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  (void) posix_spawn_file_actions_destroy(&fa);
  if (err) { /* not found, not executable: as a shell would say */
    *status = 127;
    PetscFunctionReturn(0);
  }
  while (waitpid(pid, &ws, 0) < 0)
    PetscCheck(errno == EINTR, PETSC_COMM_SELF, PETSC_ERR_SYS, "waiting for %s: %s", argv[0], strerror(errno));
  *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : (WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 127);
  PetscFunctionReturn(0);
}

/*@C
  KDSplitWords - Splits a string at white space into words, in place (no quoting: each run of non-blank characters is
  one word), e.g. compiler flags for KDRunProgram().

  Not collective

  Input Parameters:
+ s   - the string; its blanks are overwritten with NUL characters
- max - room in words[]

  Output Parameters:
+ words - pointers into s
- n     - their number

.seealso: KDRunProgram()
@*/
PetscErrorCode KDSplitWords(char s[], char *words[], int max, int *n)
{
  PetscFunctionBegin;
  *n = 0;
  for (char *c = s; *c;) {
    while (*c && isspace((unsigned char) *c)) *c++ = 0;
    if (!*c) break;
    PetscCheck(*n < max, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "more than %d words", max);
    words[(*n)++] = c;
    while (*c && !isspace((unsigned char) *c)) c++;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDOptionsCheckValue - Refuses an option given without a value where it needs one, and a comma-separated list with
  an empty entry: PETSc reads an empty enum value as its first choice (-kd_precision '' exported f64) and skips empty
  list entries (-teacher_widths 20,,20 read as 20,20), both without a word.

  Collective

  Input Parameters:
+ comm   - where the error is raised
. prefix - the option's prefix (e.g. "teacher_"), or NULL
. name   - the option's name with its dash (e.g. "-widths")
- list   - whether the value is a comma-separated list

  Note:
  Inside PetscOptionsBegin()/End() pass PetscOptionsObject->comm and PetscOptionsObject->prefix. A value that starts
  with '-' is read by PETSc as the next option, which leaves this one without a value: the message says so.
@*/
PetscErrorCode KDOptionsCheckValue(MPI_Comm comm, const char prefix[], const char name[], PetscBool list)
{
  char value[1024];
  size_t n;
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, prefix, name, value, sizeof(value), &set));
  if (!set) PetscFunctionReturn(0);
  n = strlen(value);
  PetscCheck(n, comm, PETSC_ERR_ARG_WRONG, "-%s%s needs a value (a value that starts with '-' is read as an option)",
             prefix ? prefix : "", name + 1);
  PetscCheck(!list || (value[0] != ',' && value[n - 1] != ',' && !strstr(value, ",,")), comm, PETSC_ERR_ARG_WRONG,
             "-%s%s %s: an empty entry in the list", prefix ? prefix : "", name + 1, value);
  PetscFunctionReturn(0);
}

/*@C
  KDOptionsInt_Private - PetscOptionsInt() that refuses the option given without a value: PETSc reads
  `-teacher_gn_steps` alone as not set and keeps the default, even over the options file's value, without a word.
  Use it as KDOptionsInt(opt, text, man, current, value, set) inside PetscOptionsBegin()/End().

  Collective

.seealso: KDOptionsCheckValue(), KDOptionsReal_Private()
@*/
PetscErrorCode KDOptionsInt_Private(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[],
                                    const char man[], PetscInt current, PetscInt *value, PetscBool *set)
{
  PetscFunctionBegin;
  PetscCall(KDOptionsCheckValue(PetscOptionsObject->comm, PetscOptionsObject->prefix, opt, PETSC_FALSE));
  PetscCall(PetscOptionsInt(opt, text, man, current, value, set));
  PetscFunctionReturn(0);
}

/*@C
  KDOptionsReal_Private - PetscOptionsReal() that refuses the option given without a value (as
  KDOptionsInt_Private()). Use it as KDOptionsReal(opt, text, man, current, value, set) inside
  PetscOptionsBegin()/End().

  Collective

.seealso: KDOptionsCheckValue(), KDOptionsInt_Private()
@*/
PetscErrorCode KDOptionsReal_Private(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[],
                                     const char man[], PetscReal current, PetscReal *value, PetscBool *set)
{
  PetscFunctionBegin;
  PetscCall(KDOptionsCheckValue(PetscOptionsObject->comm, PetscOptionsObject->prefix, opt, PETSC_FALSE));
  PetscCall(PetscOptionsReal(opt, text, man, current, value, set));
  PetscFunctionReturn(0);
}

/* Refuses a value of option opt that is none of the n choices (case-insensitive, as PETSc compares them) with one line
   on the object's communicator: PETSc raises it on PETSC_COMM_SELF, so that every rank printed it. */
static PetscErrorCode KDOptionsCheckChoice(PetscOptionItems *PetscOptionsObject, const char opt[],
                                           const char *const list[], PetscInt n)
{
  const char *prefix = PetscOptionsObject->prefix ? PetscOptionsObject->prefix : "";
  char value[256], choices[1024] = "";
  PetscBool set, match           = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(KDOptionsCheckValue(PetscOptionsObject->comm, PetscOptionsObject->prefix, opt, PETSC_FALSE));
  PetscCall(PetscOptionsGetString(NULL, PetscOptionsObject->prefix, opt, value, sizeof(value), &set));
  if (!set) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < n && !match; i++) PetscCall(PetscStrcasecmp(value, list[i], &match));
  if (match) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(PetscStrlcat(choices, i ? ", " : "", sizeof(choices)));
    PetscCall(PetscStrlcat(choices, list[i], sizeof(choices)));
  }
  SETERRQ(PetscOptionsObject->comm, PETSC_ERR_ARG_OUTOFRANGE, "-%s%s %s: not one of %s", prefix, opt + 1, value,
          choices);
}

/*@C
  KDOptionsEnum_Private - PetscOptionsEnum() that refuses the option given without a value (PETSc would take the first
  choice) and a value none of the choices is, in one line on the object's communicator. Use it as KDOptionsEnum(opt,
  text, man, list, current, value, set) inside PetscOptionsBegin()/End().

  Collective

.seealso: KDOptionsCheckValue(), KDOptionsEList_Private()
@*/
PetscErrorCode KDOptionsEnum_Private(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[],
                                     const char man[], const char *const list[], PetscEnum current, PetscEnum *value,
                                     PetscBool *set)
{
  PetscInt n = 0;

  PetscFunctionBegin;
  while (list[n]) n++;
  PetscCheck(n >= 3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the choices of %s lack their type name and prefix", opt);
  PetscCall(KDOptionsCheckChoice(PetscOptionsObject, opt, list, n - 2)); /* the list ends with type name, prefix */
  PetscCall(PetscOptionsEnum(opt, text, man, list, current, value, set));
  PetscFunctionReturn(0);
}

/*@C
  KDOptionsEList_Private - PetscOptionsEList() that refuses the option given without a value and a value none of the
  choices is (as KDOptionsEnum_Private()). Use it as KDOptionsEList(opt, text, man, list, n, current, value, set)
  inside PetscOptionsBegin()/End().

  Collective

.seealso: KDOptionsEnum_Private()
@*/
PetscErrorCode KDOptionsEList_Private(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[],
                                      const char man[], const char *const list[], PetscInt n, const char current[],
                                      PetscInt *value, PetscBool *set)
{
  PetscFunctionBegin;
  PetscCall(KDOptionsCheckChoice(PetscOptionsObject, opt, list, n));
  PetscCall(PetscOptionsEList(opt, text, man, list, n, current, value, set));
  PetscFunctionReturn(0);
}
