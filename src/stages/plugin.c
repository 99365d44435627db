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

typedef PetscErrorCode (*KDPluginRegisterFunction)(void);

/* Whether every rank succeeded; if not, one error on comm naming the first rank that failed and why. */
static PetscErrorCode KDPluginAgree(MPI_Comm comm, const char file[], PetscBool ok, const char why[])
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
  SETERRQ(comm, PETSC_ERR_FILE_OPEN, "-kd_plugin %s: %s (rank %d)", file, msg, (int) bad);
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
    char why[400]                = "";
    PetscErrorCode ierr;

    handle = dlopen(files[i], RTLD_NOW | RTLD_LOCAL);
    if (!handle) (void) snprintf(why, sizeof(why), "cannot load it: %s", dlerror());
    PetscCall(KDPluginAgree(comm, files[i], handle ? PETSC_TRUE : PETSC_FALSE, why));
    for (int k = 0; k < nloaded; k++)
      if (loaded[k] == handle) again = PETSC_TRUE;
    if (again) {
      (void) dlclose(handle);
      PetscCall(PetscFree(files[i]));
      continue;
    }
    PetscCheck(nloaded < KD_MAX_PLUGINS, comm, PETSC_ERR_ARG_SIZ, "-kd_plugin: at most %d plugins", KD_MAX_PLUGINS);
    *(void **) (&reg) = dlsym(handle, "KDPluginRegister");
    PetscCall(KDPluginAgree(comm, files[i], reg ? PETSC_TRUE : PETSC_FALSE,
                            "the library has no function KDPluginRegister(void)"));
    /* a rank whose registration failed passes its own error on (already reported); the others stop too */
    ierr = (*reg)();
    {
      PetscMPIInt failed = ierr ? 1 : 0;
      PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm));
      PetscCall(ierr);
      PetscCheck(!failed, comm, PETSC_ERR_LIB, "-kd_plugin %s: its KDPluginRegister() failed on another rank",
                 files[i]);
    }
    loaded[nloaded++] = handle; /* never closed: the registries point into it */
    PetscCall(PetscFree(files[i]));
  }
  PetscFunctionReturn(0);
}
