/*
  Fuzz target for kdpinn's text readers (libFuzzer): microstructure descriptions (KDMicrostructureLoad, the files of
  meshes/) and options (the options every stage reads: common, network, PDE, with any names and values), one executable
  each (KD_FUZZ_READER). The input is a file's bytes. A reader must either accept it or return an error; a crash or a
  sanitizer report is a finding. Options files are split into options as PETSc's reader does (comments dropped, lines
  joined) and inserted with PetscOptionsInsertString(): PETSc 3.18's own file reader leaves the file open when it
  refuses a line, which would exhaust the descriptors of a long fuzzing run (the driver exits on that error anyway).
*/
#include <kdpinn.h>
#include "pde/heat.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KD_FUZZ_MICROSTRUCTURE 1
#define KD_FUZZ_OPTIONS 2
#ifndef KD_FUZZ_READER
#error "define KD_FUZZ_READER"
#endif

static char KDWork[PETSC_MAX_PATH_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void) snprintf(KDWork, sizeof(KDWork), "%s/kdpinn-fuzz-%d.txt", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                  (int) getpid());
  /* PETSc's handler would catch a SIGSEGV before the sanitizer could report it and libFuzzer save the input */
  if (PetscOptionsSetValue(NULL, "-no_signal_handler", NULL) || PetscInitialize(argc, argv, NULL, NULL)) exit(1);
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
    char *text  = (char *) malloc(size + 1);
    int comment = 0;
    if (!text) abort();
    for (size_t i = 0; i < size; i++) { /* '#' to the end of its line is a comment; lines are joined */
      char c = (char) data[i];
      if (c == '\n' || c == '\r')
        comment = 0, c = ' ';
      else if (c == '#')
        comment = 1;
      text[i] = comment || !c ? ' ' : c;
    }
    text[size] = 0;
    /* PETSc's directives are PETSc's to fuzz: -prefix_push with no value crashes PetscOptionsInsertString() in 3.18
       (the options-file reader and the command line refuse it, so the driver is not affected) */
    if (strstr(text, "-prefix_p") || strstr(text, "-options_file")) {
      free(text);
      return 0;
    }
    if (PetscOptionsCreate(&opts) || PetscOptionsPush(opts)) abort();
    if (!PetscOptionsInsertString(opts, text) && !KDGetCommonOptions(PETSC_COMM_SELF, &common)) {
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
    for (int k = 0; k < 32 && !PetscOptionsPrefixPop(opts); k++) { /* an unbalanced -prefix_push */
    }
    if (PetscOptionsPop() || PetscOptionsDestroy(&opts)) abort();
    free(text);
  }
#endif
  return 0;
}
