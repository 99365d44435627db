#include <kdstages.h>
#include <kdtrain.h>
#include <kdvalidate.h>
#include <string.h>

/* Default hidden widths of the teacher (docs/options.md): -teacher_widths overrides them. */
static const PetscInt KDTeacherWidths[] = {64, 64, 64, 64};
/* and of the network of a coefficient field learned from data (src/loss/field.c) */
static const PetscInt KDFieldWidths[] = {20, 20};

/* Appends the PDE's parameters the model info does not have yet, by name, with their values: all of them to an empty
   info (without a reference, the model file carries the PDE's own parameters, from -<type>_<name>). */
static PetscErrorCode KDStageTrainPDEParameters(MPI_Comm comm, KDPDE pde, KDModelInfo *info)
{
  PetscInt np;

  PetscFunctionBegin;
  PetscCall(KDPDEGetNumParameters(pde, &np));
  for (PetscInt k = 0; k < np; k++) {
    const char *name;
    PetscBool has = PETSC_FALSE;
    PetscCall(KDPDEGetParameterName(pde, k, &name));
    for (PetscInt i = 0; i < info->nparams; i++)
      if (!strcmp(info->param_names[i], name)) has = PETSC_TRUE;
    if (has) continue;
    PetscCheck(info->nparams < (PetscInt) (sizeof(info->param_values) / sizeof(info->param_values[0])), comm,
               PETSC_ERR_FILE_UNEXPECTED,
               "the parameters of the PDE and the reference are more than a model file holds (%d)",
               (int) (sizeof(info->param_values) / sizeof(info->param_values[0])));
    PetscCall(PetscStrncpy(info->param_names[info->nparams], name, sizeof(info->param_names[0])));
    PetscCall(KDPDEGetParameter(pde, name, &info->param_values[info->nparams]));
    info->nparams++;
  }
  PetscFunctionReturn(0);
}

/* The model file carries the reference's named parameters (the PDE's, and what its solver recorded), in the order of
   the reference (its attributes by name). */
static PetscErrorCode KDStageTrainReferenceParameters(MPI_Comm comm, KDReference ref, KDPDE pde, KDModelInfo *info)
{
  PetscInt n;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetNumParameters(ref, &n));
  PetscCheck(n <= (PetscInt) (sizeof(info->param_values) / sizeof(info->param_values[0])), comm,
             PETSC_ERR_FILE_UNEXPECTED, "the reference has %" PetscInt_FMT " parameters, a model file holds at most %d",
             n, (int) (sizeof(info->param_values) / sizeof(info->param_values[0])));
  info->nparams = n;
  for (PetscInt i = 0; i < n; i++) {
    const char *name;
    size_t len;
    PetscCall(KDReferenceGetParameterName(ref, i, &name, &info->param_values[i]));
    PetscCall(PetscStrlen(name, &len));
    PetscCheck(len < sizeof(info->param_names[0]), comm, PETSC_ERR_FILE_UNEXPECTED,
               "reference parameter name '%s' is longer than %d characters", name,
               (int) sizeof(info->param_names[0]) - 1);
    PetscCall(PetscStrncpy(info->param_names[i], name, sizeof(info->param_names[0])));
  }
  /* a learned tensor's parameters that an older reference lacks (KDPDESetFromReference() kept their defaults): the
     model carries them too, so that its students can record theirs */
  PetscCall(KDStageTrainPDEParameters(comm, pde, info));
  PetscFunctionReturn(0);
}

/* The identified values go to the model's info (KDLossSetModelInfo()), and one line each to the output. */
static PetscErrorCode KDStageTrainInferred(MPI_Comm comm, KDLoss loss, KDModelInfo *info)
{
  PetscFunctionBegin;
  PetscCall(KDLossSetModelInfo(loss, info));
  for (PetscInt k = 0; k < info->ninferred; k++) {
    const PetscReal *v = info->inferred[k];
    PetscCall(PetscPrintf(comm, "kdpinn train: inferred %s = %.6g +- %.2g (from %g)\n", info->inferred_names[k],
                          (double) v[0], (double) v[1], (double) v[2]));
  }
  PetscFunctionReturn(0);
}

/* -kd_monitor with a learned field and a reference: the field's error against the truth, under each progress line. */
typedef struct {
  MPI_Comm comm;
  KDLoss loss;
  PetscInt nnet; /* the parameters of the solution's network, before the loss's own in the trainer's vector */
} KDStageTrainFieldMonitorCtx;

static PetscErrorCode KDStageTrainFieldMonitor(KDTrainer tr, PetscInt step, const PetscReal x[], void *ctx)
{
  KDStageTrainFieldMonitorCtx *mon = (KDStageTrainFieldMonitorCtx *) ctx;
  KDNet field;
  KDPDE pde;
  const char *name;
  PetscReal rel, maxe;

  PetscFunctionBegin;
  (void) tr;
  (void) step;
  PetscCall(KDLossGetField(mon->loss, &field, &name));
  PetscCall(KDLossGetPDE(mon->loss, &pde));
  PetscCall(KDLossSetExtraParameters(mon->loss, x + mon->nnet));
  PetscCall(KDValidateCoefficientField(pde, field, name, 64, &rel, &maxe, NULL));
  PetscCall(PetscPrintf(mon->comm, "         field %s: relative L2 error %.3e, max error %.3e\n", name, (double) rel,
                        (double) maxe));
  PetscFunctionReturn(0);
}

/* A coefficient field learned from data goes beside the teacher, as teacher_field_<name>.h5: the network of log k
   (inputs the PDE's spatial ones). With a reference, the PDE's own coefficient is the truth it is compared with. */
static PetscErrorCode KDStageTrainWriteField(MPI_Comm comm, const KDCommonOptions *opt, KDLoss loss, KDReference ref,
                                             const KDModelInfo *tinfo)
{
  KDNet field;
  KDPDE pde;
  KDModelInfo info;
  const char *name, *inputs;
  char file[64], path[PETSC_MAX_PATH_LEN];
  PetscInt tin, nin;

  PetscFunctionBegin;
  PetscCall(KDLossGetField(loss, &field, &name));
  if (!field) PetscFunctionReturn(0);
  PetscCall(KDLossGetPDE(loss, &pde));
  PetscCall(KDPDEGetNames(pde, &inputs, NULL));
  PetscCall(KDPDEGetTimeInput(pde, &tin));
  PetscCall(KDPDEGetSizes(pde, &nin, NULL, NULL));
  info           = *tinfo;
  info.ninferred = 0;
  info.inputs[0] = 0;
  {
    char **names;
    int n;
    PetscCall(PetscStrToArray(inputs, ',', &n, &names));
    for (int i = 0; i < n; i++) {
      if (i == tin) continue;
      if (info.inputs[0]) PetscCall(PetscStrlcat(info.inputs, ",", sizeof(info.inputs)));
      PetscCall(PetscStrlcat(info.inputs, names[i], sizeof(info.inputs)));
    }
    PetscCall(PetscStrToArrayDestroy(n, names));
  }
  PetscCall(PetscSNPrintf(info.outputs, sizeof(info.outputs), "log_%s", name));
  PetscCall(PetscSNPrintf(file, sizeof(file), "teacher_field_%s.h5", name));
  PetscCall(KDOutputPath(opt->out, file, path, sizeof(path)));
  PetscCall(KDNetWrite(field, path, &info));
  if (ref) {
    PetscReal rel, maxe;
    PetscCall(KDValidateCoefficientField(pde, field, name, 128, &rel, &maxe, NULL));
    PetscCall(PetscPrintf(comm,
                          "kdpinn train: learned field %s: relative L2 error %.3e, max error %.3e against the "
                          "reference's (128^%" PetscInt_FMT " grid); wrote %s\n",
                          name, (double) rel, (double) maxe, nin - (tin >= 0 ? 1 : 0), path));
  } else
    PetscCall(PetscPrintf(comm, "kdpinn train: learned field %s; wrote %s\n", name, path));
  PetscFunctionReturn(0);
}

/* -help: list the options of the network, the trainer and the loss; run nothing. */
static PetscErrorCode KDStageTrainHelp(MPI_Comm comm, const char pde[])
{
  KDNet net;
  KDTrainer tr;
  KDLoss loss;

  PetscFunctionBegin;
  PetscCall(KDNetCreate(comm, &net));
  PetscCall(KDNetSetArchitecture(net, 1, (PetscInt) (sizeof(KDTeacherWidths) / sizeof(KDTeacherWidths[0])),
                                 KDTeacherWidths, 1));
  PetscCall(KDNetSetOptionsPrefix(net, "teacher_"));
  PetscCall(KDNetSetFromOptions(net));
  PetscCall(KDTrainerCreate(comm, &tr));
  PetscCall(KDTrainerSetOptionsPrefix(tr, "teacher_"));
  PetscCall(KDTrainerSetFromOptions(tr));
  PetscCall(KDValidateMonitorSetFromOptions(comm, tr, NULL, NULL, NULL, 0));
  /* the loss reads its options with the PDE of -kd_pde and no reference, so they are listed even before `kdpinn
     solve` ran */
  PetscCall(KDLossCreate(comm, &loss));
  PetscCall(KDLossSetOptionsPrefix(loss, "teacher_"));
  PetscCall(KDLossSetPDEType(loss, pde));
  PetscCall(KDLossSetFromOptions(loss));
  PetscCall(KDLossDestroy(&loss));
  /* the options of a learned coefficient field's network (-teacher_infer_field) */
  PetscCall(KDNetDestroy(&net));
  PetscCall(KDNetCreate(comm, &net));
  PetscCall(KDNetSetArchitecture(net, 1, 2, KDFieldWidths, 1));
  PetscCall(KDNetSetOptionsPrefix(net, "teacher_field_"));
  PetscCall(KDNetSetFromOptions(net));
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
  collocation points. The model file carries the PDE parameters of the reference, with the values identified for those
  inferred from data (-teacher_infer). With -teacher_observations and no reference.h5 in -kd_out, the PDE, its
  parameters and its domain come from the options alone (docs/inverse.md).

.seealso: KDTrainerTrain(), KDNetWrite(), docs/training.md
@*/
PetscErrorCode KDStageTrain(MPI_Comm comm)
{
  KDCommonOptions opt;
  PetscLogStage stage;
  PetscBool help, exists, observed;
  char refpath[PETSC_MAX_PATH_LEN], modelpath[PETSC_MAX_PATH_LEN], ckpath[PETSC_MAX_PATH_LEN];
  KDReference ref = NULL;
  KDLoss loss;
  KDPDE pde;
  KDNet net;
  KDTrainer tr;
  KDStageTrainFieldMonitorCtx fieldmon;
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
    PetscCall(KDStageTrainHelp(comm, opt.pde));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscTestFile(refpath, 'r', &exists));
  PetscCall(PetscOptionsHasName(NULL, "teacher_", "-observations", &observed));
  PetscCheck(exists || observed, comm, PETSC_ERR_FILE_OPEN,
             "%s not found: run `kdpinn solve` first (with the same -kd_out), or train on -teacher_observations",
             refpath);
  PetscCall(KDOutputDirCheck(comm, opt.out));
  PetscCall(KDOutputLock(comm, opt.out, "teacher.h5"));
  PetscCall(KDOutputLock(comm, opt.out, "checkpoint_teacher.h5"));
  PetscCall(KDLogStageGet("Train", &stage));
  PetscCall(PetscLogStagePush(stage));

  /* The loss knows the PDE: it sizes the network (inputs, outputs, input box) before the network is set up. */
  PetscCall(KDLossCreate(comm, &loss));
  PetscCall(KDLossSetOptionsPrefix(loss, "teacher_"));
  if (exists) {
    PetscCall(KDReferenceLoad(comm, refpath, &ref));
    PetscCall(KDReferenceGetPDE(ref, &refpde));
    PetscCheck(!strcmp(refpde, opt.pde), comm, PETSC_ERR_ARG_INCOMP,
               "%s holds a %s solution but -kd_pde is %s: use the -kd_pde it was solved with", refpath, refpde,
               opt.pde);
    PetscCall(KDLossSetReference(loss, ref, 0));
  } else {
    PetscCall(KDLossSetPDEType(loss, opt.pde));
    PetscCall(KDLossGetPDE(loss, &pde));
    PetscCall(KDPDESetProblemFromOptions(pde));
    refpde = opt.pde;
  }
  PetscCall(KDLossSetSeed(loss, opt.seed));
  PetscCall(KDLossGetPDE(loss, &pde));
  PetscCall(KDPDEGetSizes(pde, &nin, &nout, NULL));
  PetscCall(KDNetCreate(comm, &net));
  PetscCall(KDNetSetOptionsPrefix(net, "teacher_"));
  PetscCall(KDNetSetArchitecture(net, nin, (PetscInt) (sizeof(KDTeacherWidths) / sizeof(KDTeacherWidths[0])),
                                 KDTeacherWidths, nout));
  PetscCall(KDNetSetFromOptions(net));
  PetscCall(KDLossSetNet(loss, net));
  PetscCall(KDLossSetFromOptions(loss)); /* the PDE's options, which may give the network input features */
  PetscCall(KDLossConfigureNet(loss, net));
  PetscCall(KDNetSetUp(net));
  PetscCall(KDNetInitialize(net, opt.seed));
  PetscCall(KDLossSetUp(loss));

  PetscCall(KDOutputPath(opt.out, "checkpoint_teacher.h5", ckpath, sizeof(ckpath)));
  PetscCall(KDTrainerCreate(comm, &tr));
  PetscCall(KDTrainerSetOptionsPrefix(tr, "teacher_"));
  PetscCall(KDTrainerSetNet(tr, net));
  PetscCall(KDTrainerSetLoss(tr, loss));
  PetscCall(KDTrainerSetCheckpoint(tr, ckpath));
  {
    KDNet field;
    PetscCall(KDLossGetField(loss, &field, NULL));
    PetscCall(KDNetGetSizes(net, NULL, NULL, &fieldmon.nnet));
    fieldmon.comm = comm;
    fieldmon.loss = loss;
    if (field && ref) PetscCall(KDTrainerMonitorSet(tr, KDStageTrainFieldMonitor, &fieldmon, NULL));
  }
  PetscCall(KDValidateMonitorSetFromOptions(comm, tr, ref, pde, net, 0));
  PetscCall(KDTrainerSetFromOptions(tr));
  PetscCall(KDTrainerTrain(tr));

  PetscCall(PetscMemzero(&info, sizeof(info)));
  PetscCall(KDPDEGetNames(pde, &inputs, &outputs));
  PetscCall(PetscStrncpy(info.pde, refpde, sizeof(info.pde)));
  PetscCall(PetscStrncpy(info.inputs, inputs, sizeof(info.inputs)));
  PetscCall(PetscStrncpy(info.outputs, outputs, sizeof(info.outputs)));
  PetscCall(PetscStrncpy(info.trained_with, "pinn", sizeof(info.trained_with)));
  info.level = 0;
  if (ref)
    PetscCall(KDStageTrainReferenceParameters(comm, ref, pde, &info));
  else
    PetscCall(KDStageTrainPDEParameters(comm, pde, &info));
  PetscCall(KDStageTrainInferred(comm, loss, &info));
  PetscCall(KDOutputPath(opt.out, "teacher.h5", modelpath, sizeof(modelpath)));
  PetscCall(KDNetWrite(net, modelpath, &info));
  PetscCall(KDStageTrainWriteField(comm, &opt, loss, ref, &info));

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
