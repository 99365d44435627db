/*
  Fuzz target for kdpinn's text readers (libFuzzer): microstructure descriptions (KDMicrostructureLoad, the files of meshes/)
  and options files (PETSc's reader, then the options every stage reads: common, network, PDE), one executable each
  (KD_FUZZ_READER). The input is the file's bytes. A reader must either accept the file or return an error; a crash or
  a sanitizer report is a finding.
*/
#include <kdpinn.h>
#include "pde/heat.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define KD_FUZZ_MICROSTRUCTURE 1
#define KD_FUZZ_OPTIONS        2
#ifndef KD_FUZZ_READER
  #error "define KD_FUZZ_READER"
#endif

static char KDWork[PETSC_MAX_PATH_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void) snprintf(KDWork, sizeof(KDWork), "%s/kdpinn-fuzz-%d.txt", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                  (int) getpid());
  if (PetscInitialize(argc, argv, NULL, NULL)) exit(1);
  if (PetscPushErrorHandler(PetscReturnErrorHandler, NULL)) exit(1); /* errors are answers here, not findings */
  if (KDRegisterAll() || KDSolverInitializePackage()) exit(1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  FILE *fp = fopen(KDWork, "wb");

  if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp)) abort();
#if KD_FUZZ_READER == KD_FUZZ_MICROSTRUCTURE
  {
    KDMicrostructure m;
    (void) KDMicrostructureLoad(PETSC_COMM_SELF, KDWork, &m);
  }
#else
  {
    PetscOptions opts;
    KDCommonOptions common;
    KDNet net;
    KDPDE pde;
    if (PetscOptionsCreate(&opts) || PetscOptionsPush(opts)) abort();
    if (!PetscOptionsInsertFile(PETSC_COMM_SELF, opts, KDWork, PETSC_TRUE) &&
        !KDGetCommonOptions(PETSC_COMM_SELF, &common)) {
      if (!KDNetCreate(PETSC_COMM_SELF, &net)) {
        (void) KDNetSetOptionsPrefix(net, "teacher_");
        (void) KDNetSetFromOptions(net);
        (void) KDNetDestroy(&net);
      }
      if (!KDPDECreate(PETSC_COMM_SELF, &pde)) {
        if (!KDPDESetType(pde, common.pde)) (void) KDPDESetFromOptions(pde);
        (void) KDPDEDestroy(&pde);
      }
    }
    if (PetscOptionsPop() || PetscOptionsDestroy(&opts)) abort();
  }
#endif
  return 0;
}
