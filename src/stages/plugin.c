/*
  Plugins: a shared library compiled outside the tree against the installed kdpinn (jobs/darcy is the example) that
  registers its PDE types and solvers when the driver loads it. -kd_plugin FILE[,FILE...] loads each with dlopen() and
  calls its function

      PetscErrorCode KDPluginRegister(void)

  which calls KDPDERegister() and KDSolverRegister(). A library that also exports PetscDLLibraryRegister_<name> (for a
  file lib<name>.so) can be loaded by PETSc itself with -dll_append instead.
*/
#include <kdstages.h>
#include <dlfcn.h>
#include <stdio.h>

#define KD_MAX_PLUGINS 16
#define KD_PLUGIN_WHY_LEN 400 /* the reason of a failure, as one rank tells it */

typedef PetscErrorCode (*KDPluginRegisterFunction)(void);

/* Whether every rank succeeded; if not, one error (code) on comm naming the first rank that failed and why. */
static PetscErrorCode KDPluginAgree(MPI_Comm comm, const char file[], PetscBool ok, PetscErrorCode code,
                                    const char why[])
{
  PetscMPIInt rank, bad;
  char msg[512];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  bad = ok ? PETSC_MPI_INT_MAX : rank;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MIN, comm));
  if (bad == PETSC_MPI_INT_MAX) PetscFunctionReturn(0);
  (void) snprintf(msg, sizeof(msg), "%s", bad == rank ? why : "");
  PetscCallMPI(MPI_Bcast(msg, (PetscMPIInt) sizeof(msg), MPI_CHAR, bad, comm));
  SETERRQ(comm, code, "-kd_plugin %s: %s (rank %d)", file, msg, (int) bad);
}

/* Keeps the first message of an error raised inside a plugin's KDPluginRegister() for KDPluginAgree(). */
static PetscErrorCode KDPluginCaptureError(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n,
                                           PetscErrorType p, const char *mess, void *ctx)
{
  char *why = (char *) ctx;

  if (p == PETSC_ERROR_INITIAL && !why[0])
    (void) snprintf(why, KD_PLUGIN_WHY_LEN, "KDPluginRegister() failed: %s", mess ? mess : "");
  return n;
}

/*@C
  KDPluginLoadFromOptions - Loads the plugins of -kd_plugin and calls their KDPluginRegister(); the driver does this
  before any stage runs. Loading the same file twice registers it once.

  Collective (every rank loads every plugin; a failure on any rank is one error on all)

  Options Database Key:
. -kd_plugin <file,...> - shared libraries with user PDEs and solvers (a path, or a name the dynamic loader finds)

.seealso: KDPDERegister(), KDSolverRegister(), docs/extending.md
@*/
PetscErrorCode KDPluginLoadFromOptions(MPI_Comm comm)
{
  static void *loaded[KD_MAX_PLUGINS];
  static int nloaded = 0;
  char *files[KD_MAX_PLUGINS];
  PetscInt n = KD_MAX_PLUGINS;
  PetscBool set;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "kdpinn plugins", NULL);
  PetscCall(PetscOptionsStringArray("-kd_plugin", "Shared libraries with user PDEs and solvers (KDPluginRegister())",
                                    "KDPluginLoadFromOptions", files, &n, &set));
  PetscOptionsEnd();
  if (!set) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < n; i++) {
    void *handle;
    KDPluginRegisterFunction reg = NULL;
    PetscBool again              = PETSC_FALSE;
    char why[KD_PLUGIN_WHY_LEN]  = "";
    PetscErrorCode ierr;

    handle = dlopen(files[i], RTLD_NOW | RTLD_LOCAL);
    if (!handle) (void) snprintf(why, sizeof(why), "cannot load it: %s", dlerror());
    PetscCall(KDPluginAgree(comm, files[i], handle ? PETSC_TRUE : PETSC_FALSE, PETSC_ERR_FILE_OPEN, why));
    for (int k = 0; k < nloaded; k++)
      if (loaded[k] == handle) again = PETSC_TRUE;
    { /* the same file on every rank: a library loaded before under another name must be so everywhere */
      PetscMPIInt a[2] = {again ? 1 : 0, again ? 0 : 1};
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, a, 2, MPI_INT, MPI_MAX, comm));
      PetscCheck(!(a[0] && a[1]), comm, PETSC_ERR_FILE_UNEXPECTED,
                 "-kd_plugin %s: the same library as an earlier plugin on some ranks only", files[i]);
    }
    if (again) {
      (void) dlclose(handle);
      PetscCall(PetscFree(files[i]));
      continue;
    }
    PetscCheck(nloaded < KD_MAX_PLUGINS, comm, PETSC_ERR_ARG_SIZ, "-kd_plugin: at most %d plugins", KD_MAX_PLUGINS);
    *(void **) (&reg) = dlsym(handle, "KDPluginRegister");
    PetscCall(KDPluginAgree(comm, files[i], reg ? PETSC_TRUE : PETSC_FALSE, PETSC_ERR_FILE_UNEXPECTED,
                            "the library has no function KDPluginRegister(void)"));
    /* an error of the registration on any rank (raised on whatever communicator) is one error on all */
    PetscCall(PetscPushErrorHandler(KDPluginCaptureError, why));
    ierr = (*reg)();
    PetscCall(PetscPopErrorHandler());
    PetscCall(KDPluginAgree(comm, files[i], ierr ? PETSC_FALSE : PETSC_TRUE, PETSC_ERR_LIB, why));
    loaded[nloaded++] = handle; /* never closed: the registries point into it */
    PetscCall(PetscFree(files[i]));
  }
  PetscFunctionReturn(0);
}
