#include <kdpde.h>
#include "sys/kdio.h"
#include <string.h>

/* Default hidden widths of the teacher (DESIGN.md): -teacher_widths overrides them. */
static const PetscInt KDTeacherWidths[] = {64, 64, 64, 64};

typedef struct {
  KDModelInfo *info;
  int err;
} KDParamIterContext;

/* Collects the scalar floating-point root attributes of reference.h5: the PDE parameters by name (the reference's
   other root attributes are strings and integers). */
static herr_t KDStageTrainParamIterate(hid_t loc, const char *name, const H5A_info_t *ainfo, void *data)
{
  KDParamIterContext *ctx = (KDParamIterContext *) data;
  hid_t attr, type, space;
  H5T_class_t cls;
  hssize_t npoints;

  (void) ainfo;
  attr = H5Aopen(loc, name, H5P_DEFAULT);
  if (attr < 0) return -1;
  type    = H5Aget_type(attr);
  space   = H5Aget_space(attr);
  cls     = H5Tget_class(type);
  npoints = H5Sget_simple_extent_npoints(space);
  (void) H5Sclose(space);
  (void) H5Tclose(type);
  if (cls == H5T_FLOAT && npoints == 1) {
    KDModelInfo *info = ctx->info;
    double v;
    if (info->nparams >= 16 || strlen(name) >= sizeof(info->param_names[0]) || H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0)
      ctx->err = 1;
    else {
      (void) snprintf(info->param_names[info->nparams], sizeof(info->param_names[0]), "%s", name);
      info->param_values[info->nparams++] = (PetscReal) v;
    }
  }
  (void) H5Aclose(attr);
  return ctx->err ? -1 : 0;
}

static PetscErrorCode KDStageTrainReferenceParameters(MPI_Comm comm, const char path[], KDModelInfo *info)
{
  KDParamIterContext ctx = {info, 0};
  hid_t file;
  herr_t status;

  PetscFunctionBegin;
  info->nparams = 0;
  PetscCall(KDH5Open(comm, path, &file));
  status = H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, KDStageTrainParamIterate, &ctx);
  PetscCall(KDH5Close(&file));
  PetscCheck(status >= 0 && !ctx.err, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: cannot read its PDE parameters (at most 16, names shorter than 32 characters)", path);
  PetscFunctionReturn(0);
}

/* -help: list the options of the network, the trainer and the loss; run nothing. */
static PetscErrorCode KDStageTrainHelp(MPI_Comm comm)
{
  KDNet net;
  KDTrainer tr;
  KDLoss loss;

  PetscFunctionBegin;
  PetscCall(KDNetCreate(comm, &net));
  PetscCall(KDNetSetArchitecture(net, 1, (PetscInt)(sizeof(KDTeacherWidths) / sizeof(KDTeacherWidths[0])), KDTeacherWidths, 1));
  PetscCall(KDNetSetOptionsPrefix(net, "teacher_"));
  PetscCall(KDNetSetFromOptions(net));
  PetscCall(KDTrainerCreate(comm, &tr));
  PetscCall(KDTrainerSetOptionsPrefix(tr, "teacher_"));
  PetscCall(KDTrainerSetFromOptions(tr));
  /* the loss reads its options without a reference, so they are listed even before `kdpinn solve` ran */
  PetscCall(KDLossCreate(comm, &loss));
  PetscCall(KDLossSetOptionsPrefix(loss, "teacher_"));
  PetscCall(KDLossSetFromOptions(loss));
  PetscCall(KDLossDestroy(&loss));
  PetscCall(KDTrainerDestroy(&tr));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

/*@C
  KDStageTrain - The train stage: a teacher PINN on level 0 of reference.h5, trained data-parallel (Adam, then
  L-BFGS), written to teacher.h5 in -kd_out.

  Collective

  Options Database Keys:
+ -kd_out, -kd_pde, -kd_seed   - see KDGetCommonOptions(); -kd_pde must match the reference's PDE
. -teacher_widths <64,64,64,64> - hidden layer widths, and the other -teacher_ options of KDNetSetFromOptions()
. -teacher_ncol ...            - loss options, see KDLossSetFromOptions()
. -teacher_adam_steps ...      - trainer options, see KDTrainerSetFromOptions() (checkpoint
<kd_out>/checkpoint_teacher.h5) . -kd_restart                  - resume from the checkpoint
- -help                        - list the options, train nothing

  Notes:
  The network's input box is the reference's level-0 domain; its weights are initialized from -kd_seed, as are the
  collocation points. The model file carries the PDE parameters of the reference.

.seealso: KDTrainerTrain(), KDNetWrite(), docs/training.md
@*/
PetscErrorCode KDStageTrain(MPI_Comm comm)
{
  KDCommonOptions opt;
  PetscLogStage stage;
  PetscBool help, exists;
  char refpath[PETSC_MAX_PATH_LEN], modelpath[PETSC_MAX_PATH_LEN], ckpath[PETSC_MAX_PATH_LEN];
  KDReference ref;
  KDLoss loss;
  KDPDE pde;
  KDNet net;
  KDTrainer tr;
  KDModelInfo info;
  const char *refpde, *inputs, *outputs;
  const char *const *names;
  const PetscReal *terms;
  PetscInt nin, nout, nparams, nterms, steps;
  PetscReal loss_value, seconds;

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscCall(KDOutputPath(opt.out, "reference.h5", refpath, sizeof(refpath)));
  PetscCall(KDHelpRequested(&help));
  if (help) {
    PetscCall(KDStageTrainHelp(comm));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscTestFile(refpath, 'r', &exists));
  PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN, "%s not found: run `kdpinn solve` first (with the same -kd_out)",
             refpath);
  PetscCall(KDOutputDirCheck(comm, opt.out));
  PetscCall(KDLogStageGet("Train", &stage));
  PetscCall(PetscLogStagePush(stage));

  PetscCall(KDReferenceLoad(comm, refpath, &ref));
  PetscCall(KDReferenceGetPDE(ref, &refpde));
  PetscCheck(!strcmp(refpde, opt.pde), comm, PETSC_ERR_ARG_INCOMP,
             "%s holds a %s solution but -kd_pde is %s: use the -kd_pde it was solved with", refpath, refpde, opt.pde);

  /* The loss knows the PDE: it sizes the network (inputs, outputs, input box) before the network is set up. */
  PetscCall(KDLossCreate(comm, &loss));
  PetscCall(KDLossSetOptionsPrefix(loss, "teacher_"));
  PetscCall(KDLossSetReference(loss, ref, 0));
  PetscCall(KDLossSetSeed(loss, opt.seed));
  PetscCall(KDLossGetPDE(loss, &pde));
  PetscCall(KDPDEGetSizes(pde, &nin, &nout, NULL));
  PetscCall(KDNetCreate(comm, &net));
  PetscCall(KDNetSetOptionsPrefix(net, "teacher_"));
  PetscCall(KDNetSetArchitecture(net, nin, (PetscInt) (sizeof(KDTeacherWidths) / sizeof(KDTeacherWidths[0])),
                                 KDTeacherWidths, nout));
  PetscCall(KDNetSetFromOptions(net));
  PetscCall(KDLossConfigureNet(loss, net));
  PetscCall(KDNetSetUp(net));
  PetscCall(KDNetInitialize(net, opt.seed));
  PetscCall(KDLossSetNet(loss, net));
  PetscCall(KDLossSetFromOptions(loss));
  PetscCall(KDLossSetUp(loss));

  PetscCall(KDOutputPath(opt.out, "checkpoint_teacher.h5", ckpath, sizeof(ckpath)));
  PetscCall(KDTrainerCreate(comm, &tr));
  PetscCall(KDTrainerSetOptionsPrefix(tr, "teacher_"));
  PetscCall(KDTrainerSetNet(tr, net));
  PetscCall(KDTrainerSetLoss(tr, loss));
  PetscCall(KDTrainerSetCheckpoint(tr, ckpath));
  PetscCall(KDTrainerSetFromOptions(tr));
  PetscCall(KDTrainerTrain(tr));

  PetscCall(PetscMemzero(&info, sizeof(info)));
  PetscCall(KDPDEGetNames(pde, &inputs, &outputs));
  PetscCall(PetscStrncpy(info.pde, refpde, sizeof(info.pde)));
  PetscCall(PetscStrncpy(info.inputs, inputs, sizeof(info.inputs)));
  PetscCall(PetscStrncpy(info.outputs, outputs, sizeof(info.outputs)));
  PetscCall(PetscStrncpy(info.trained_with, "pinn", sizeof(info.trained_with)));
  info.level = 0;
  PetscCall(KDStageTrainReferenceParameters(comm, refpath, &info));
  PetscCall(KDOutputPath(opt.out, "teacher.h5", modelpath, sizeof(modelpath)));
  PetscCall(KDNetWrite(net, modelpath, &info));

  PetscCall(KDNetGetSizes(net, NULL, NULL, &nparams));
  PetscCall(KDTrainerGetLoss(tr, &loss_value));
  PetscCall(KDTrainerGetTerms(tr, &nterms, &names, &terms));
  PetscCall(KDTrainerGetStep(tr, &steps));
  PetscCall(KDTrainerGetTrainTime(tr, &seconds));
  PetscCall(PetscPrintf(
      comm, "kdpinn train: teacher, %" PetscInt_FMT " parameters, %" PetscInt_FMT " steps in %.2f s: loss %.4e (",
      nparams, steps, (double) seconds, (double) loss_value));
  for (PetscInt k = 0; k < nterms; k++)
    PetscCall(PetscPrintf(comm, "%s%s %.3e", k ? ", " : "", names[k], (double) terms[k]));
  PetscCall(PetscPrintf(comm, "); wrote %s\n", modelpath));

  PetscCall(KDTrainerDestroy(&tr));
  PetscCall(KDLossDestroy(&loss));
  PetscCall(KDNetDestroy(&net));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}
