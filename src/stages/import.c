/*
  The `kdpinn import` stage: another solver's gridded output -> reference.h5 with the hierarchy and the XDMF sidecars
  in -kd_out, as `kdpinn solve` would write them; train, distill and validate then run unchanged, and `kdpinn run`
  keeps the imported reference (docs/reference-format.md, "Importing reference data").
*/
#include <kdstages.h>
#include <kdsolver.h>

/*@C
  KDStageImport - The import stage.

  Collective

  Options Database Keys:
+ -kd_import_file <FILE[:/group]> - the data: one level in the layout of reference.h5 (required)
. -kd_pde, -kd_levels, -kd_out    - see KDGetCommonOptions()
. -<pde>_<parameter>, ...         - the problem the data solve, KDPDESetProblemFromOptions() (recorded in the file)
. -kd_reference_coarsen K         - level 0 is the imported grid coarsened K times (cell averages of finer data)
. -kd_reference_view              - print the grids of the hierarchy
- -help                           - list the options, import nothing

  Notes:
  Every check of the input is made before anything is written (KDReferenceImport()); reference.h5 is written to a
  temporary name and renamed, so a failed import leaves no reference.h5 behind. The stamps of `kdpinn run` in -kd_out
  are removed: every stage after it reruns.

.seealso: KDReferenceImport(), KDStageSolve()
@*/
PetscErrorCode KDStageImport(MPI_Comm comm)
{
  KDCommonOptions opt;
  KDReference ref;
  KDPDE pde;
  PetscLogStage stage;
  PetscLogDouble t0, t1;
  PetscBool view                      = PETSC_FALSE, help, set;
  char spec[PETSC_MAX_PATH_LEN + 256] = "", path[PETSC_MAX_PATH_LEN];
  PetscInt dim, n[KD_MAX_DIM], coarsen = 0;
  const char *axes;

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscOptionsBegin(comm, NULL, "kdpinn import stage", NULL);
  PetscCall(PetscOptionsString("-kd_import_file",
                               "Data to import: FILE or FILE:/group, one level in the layout of reference.h5",
                               "KDReferenceImport", spec, spec, sizeof(spec), &set));
  PetscCall(KDOptionsInt("-kd_reference_coarsen",
                         "Level 0 of reference.h5 is the imported grid coarsened this many times (cell averages): "
                         "import a solution finer than the grid the models are validated on",
                         "KDReferenceImport", coarsen, &coarsen, NULL));
  PetscCall(
      PetscOptionsBool("-kd_reference_view", "Print the grids of the hierarchy", "KDStageImport", view, &view, NULL));
  PetscOptionsEnd();
  PetscCall(KDPDECreate(comm, &pde));
  PetscCall(KDPDESetType(pde, opt.pde));
  PetscCall(KDPDESetProblemFromOptions(pde));
  PetscCall(KDHelpRequested(&help));
  if (help) {
    PetscCall(KDPDEDestroy(&pde));
    PetscFunctionReturn(0);
  }
  PetscCheck(set && spec[0], comm, PETSC_ERR_ARG_WRONG, "kdpinn import needs -kd_import_file FILE[:/group]");
  PetscCall(KDOutputDirCheck(comm, opt.out));
  PetscCall(KDOutputLock(comm, opt.out, "reference.h5"));
  PetscCall(KDLogStageGet("Import", &stage));
  PetscCall(PetscLogStagePush(stage));
  PetscCall(PetscTime(&t0));
  PetscCall(KDReferenceImport(comm, spec, pde, opt.levels, coarsen, &ref));
  PetscCall(KDStageStampClear(comm));
  PetscCall(KDOutputPath(opt.out, "reference.h5", path, sizeof(path)));
  PetscCall(KDReferenceWrite(ref, path));
  PetscCall(KDReferenceWriteXDMF(ref, opt.out, "reference.h5"));
  PetscCall(PetscTime(&t1));
  if (view) PetscCall(KDReferenceView(ref, PETSC_VIEWER_STDOUT_(comm)));
  PetscCall(KDReferenceGetLevelGrid(ref, 0, &dim, n, NULL, NULL));
  PetscCall(KDReferenceGetAxes(ref, &axes));
  PetscCall(PetscPrintf(comm, "kdpinn import: %s, PDE %s, axes %s, level 0 ", spec, opt.pde, axes));
  for (PetscInt d = 0; d < dim; d++) PetscCall(PetscPrintf(comm, "%s%" PetscInt_FMT, d ? " x " : "", n[d]));
  if (coarsen) PetscCall(PetscPrintf(comm, " (the imported grid coarsened %" PetscInt_FMT " time(s))", coarsen));
  PetscCall(PetscPrintf(comm, ", %" PetscInt_FMT " level(s) in %.2f s; wrote %s and reference_L*.xmf\n", opt.levels,
                        (double) (t1 - t0), path));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(KDPDEDestroy(&pde));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}
