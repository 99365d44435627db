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

#define KD_MAX_PLUGINS 16

typedef PetscErrorCode (*KDPluginRegisterFunction)(void);

/*@C
  KDPluginLoadFromOptions - Loads the plugins of -kd_plugin and calls their KDPluginRegister(); the driver does this
  before any stage runs. Loading the same file twice registers it once.

  Collective (every rank loads every plugin)

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
    KDPluginRegisterFunction reg;
    PetscBool again = PETSC_FALSE;

    handle = dlopen(files[i], RTLD_NOW | RTLD_LOCAL);
    PetscCheck(handle, comm, PETSC_ERR_FILE_OPEN, "-kd_plugin %s: cannot load it: %s", files[i], dlerror());
    for (int k = 0; k < nloaded; k++)
      if (loaded[k] == handle) again = PETSC_TRUE;
    if (!again) {
      *(void **) (&reg) = dlsym(handle, "KDPluginRegister");
      PetscCheck(reg, comm, PETSC_ERR_FILE_UNEXPECTED,
                 "-kd_plugin %s: the library has no function KDPluginRegister(void)", files[i]);
      PetscCall((*reg)());
      PetscCheck(nloaded < KD_MAX_PLUGINS, comm, PETSC_ERR_ARG_SIZ, "at most %d plugins", KD_MAX_PLUGINS);
      loaded[nloaded++] = handle; /* never closed: the registries point into it */
    } else
      (void) dlclose(handle);
    PetscCall(PetscFree(files[i]));
  }
  PetscFunctionReturn(0);
}
