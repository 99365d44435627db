#include <kdstages.h>
#include <kddistill.h>
#include <kdvalidate.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Default hidden widths of a student (docs/options.md): -student_widths, or -student_L<l>_widths for level l, override.
 */
static const PetscInt KDStudentWidths[] = {20, 20};

typedef enum { KD_CHAIN_CHAIN, KD_CHAIN_DIRECT } KDChainMode;
static const char *const KDChainModes[] = {"chain", "direct", "KDChainMode", "KD_CHAIN_", NULL};

/* The student network of a level: default widths, then -student_widths (-student_L<l>_widths while level l's options
   are pushed); fitted to the PDE and initialized from the seed (the scratch twin gets the identical network). */
static PetscErrorCode KDStageDistillNetCreate(MPI_Comm comm, KDLoss loss, PetscInt seed, KDNet *net)
{
  KDPDE pde;
  PetscInt nin, nout;

  PetscFunctionBegin;
  PetscCall(KDLossGetPDE(loss, &pde));
  PetscCall(KDPDEGetSizes(pde, &nin, &nout, NULL));
  PetscCall(KDNetCreate(comm, net));
  PetscCall(KDNetSetOptionsPrefix(*net, "student_"));
  PetscCall(KDNetSetArchitecture(*net, nin, (PetscInt) (sizeof(KDStudentWidths) / sizeof(KDStudentWidths[0])),
                                 KDStudentWidths, nout));
  PetscCall(KDNetSetFromOptions(*net));
  PetscCall(KDLossConfigureNet(loss, *net));
  PetscCall(KDNetSetUp(*net));
  PetscCall(KDNetInitialize(*net, seed));
  PetscFunctionReturn(0);
}

/* The student's PINN loss on level `level` (prefix student_): the same point sets for the student and its twin. */
static PetscErrorCode KDStageDistillLossCreate(MPI_Comm comm, KDReference ref, PetscInt level, PetscInt seed,
                                               KDLoss *loss)
{
  PetscFunctionBegin;
  PetscCall(KDLossCreate(comm, loss));
  PetscCall(KDLossSetOptionsPrefix(*loss, "student_"));
  PetscCall(KDLossSetReference(*loss, ref, level));
  PetscCall(KDLossSetSeed(*loss, seed));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDStageDistillWidthsString(KDNet net, char buf[], size_t len)
{
  PetscInt nw;
  const PetscInt *w;
  size_t pos = 0;

  PetscFunctionBegin;
  PetscCall(KDNetGetWidths(net, &nw, &w));
  buf[0] = 0;
  for (PetscInt k = 1; k < nw - 1; k++) {
    size_t used;
    PetscCall(PetscSNPrintfCount(buf + pos, len - pos, "%s%" PetscInt_FMT, &used, k > 1 ? "," : "", w[k]));
    pos += used > 0 ? used - 1 : 0;
  }
  PetscFunctionReturn(0);
}

/* Trains one model (student or twin) with a trainer already given its objective, writes the model file and prints the
   summary line. */
static PetscErrorCode KDStageDistillFinish(MPI_Comm comm, KDTrainer tr, KDLoss pinn, KDNet net, const char name[],
                                           PetscInt level, const char trained_with[], const KDModelInfo *tinfo,
                                           const char out[], PetscInt tparams)
{
  KDModelInfo info = *tinfo;
  char file[64], path[PETSC_MAX_PATH_LEN];
  PetscInt nparams, nterms, steps;
  const char *const *names;
  const PetscReal *terms;
  PetscReal loss, seconds;

  PetscFunctionBegin;
  PetscCall(KDTrainerTrain(tr));
  PetscCall(PetscStrncpy(info.trained_with, trained_with, sizeof(info.trained_with)));
  info.level = level;
  /* a student uses the values its teacher identified (in the parameters) and infers none of them; the parameters its
     formulation learns (a homogenized conductivity) are its own */
  PetscCall(KDLossSetModelInfo(pinn, &info));
  { /* a learned tensor's entries are the model's own: learned, or kept at their initial value (a twin's) */
    KDPDE pde;
    const PetscInt *param;
    PetscInt dim;
    PetscCall(KDLossGetPDE(pinn, &pde));
    PetscCall(KDPDEGetLearnedTensor(pde, NULL, &dim, &param, NULL, NULL));
    for (PetscInt e = 0; e < dim * dim; e++) {
      const char *name;
      if (param[e] < 0) continue;
      PetscCall(KDPDEGetParameterName(pde, param[e], &name));
      for (PetscInt i = 0; i < info.nparams; i++)
        if (!strcmp(info.param_names[i], name)) PetscCall(KDPDEGetParameter(pde, name, &info.param_values[i]));
    }
  }
  PetscCall(PetscSNPrintf(file, sizeof(file), "%s.h5", name));
  PetscCall(KDOutputPath(out, file, path, sizeof(path)));
  PetscCall(KDNetWrite(net, path, &info));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &nparams));
  PetscCall(KDTrainerGetLoss(tr, &loss));
  PetscCall(KDTrainerGetTerms(tr, &nterms, &names, &terms));
  PetscCall(KDTrainerGetStep(tr, &steps));
  PetscCall(KDTrainerGetTrainTime(tr, &seconds));
  PetscCall(PetscPrintf(comm,
                        "kdpinn distill: %s, %" PetscInt_FMT
                        " parameters (%.1fx fewer than the teacher), %" PetscInt_FMT " steps in %.2f s: loss %.4e (",
                        name, nparams, (double) tparams / (double) nparams, steps, (double) seconds, (double) loss));
  for (PetscInt k = 0; k < nterms; k++)
    PetscCall(PetscPrintf(comm, "%s%s %.3e", k ? ", " : "", names[k], (double) terms[k]));
  PetscCall(PetscPrintf(comm, "); wrote %s\n", path));
  for (PetscInt k = 0; k < info.ninferred; k++)
    PetscCall(PetscPrintf(comm, "kdpinn distill: %s learned %s = %.6g (from %g)\n", name, info.inferred_names[k],
                          (double) info.inferred[k][0], (double) info.inferred[k][2]));
  PetscFunctionReturn(0);
}

/* The trainer of a student or twin of level l, with its checkpoint file and -kd_monitor_error against that level. */
static PetscErrorCode KDStageDistillTrainer(MPI_Comm comm, const char name[], const char out[], KDNet net,
                                            KDReference ref, KDLoss pinn, PetscInt l, KDTrainer *tr)
{
  KDPDE pde;
  char file[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(KDTrainerCreate(comm, tr));
  PetscCall(KDTrainerSetOptionsPrefix(*tr, "student_"));
  PetscCall(KDTrainerSetName(*tr, name));
  PetscCall(KDTrainerSetNet(*tr, net));
  PetscCall(PetscSNPrintf(file, sizeof(file), "checkpoint_%s.h5", name));
  PetscCall(KDOutputPath(out, file, path, sizeof(path)));
  PetscCall(KDTrainerSetCheckpoint(*tr, path));
  PetscCall(KDLossGetPDE(pinn, &pde));
  PetscCall(KDValidateMonitorSetFromOptions(comm, *tr, ref, pde, net, l));
  PetscFunctionReturn(0);
}

/* A distilled student's weight of the plain PDE residual (-student_distill_w_pde; default -student_w_pde, the twin's),
   set on its PINN loss before set-up. */
static PetscErrorCode KDStageDistillPDEWeight(MPI_Comm comm, KDLoss loss)
{
  PetscReal w = 0;
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(KDLossGetPDEWeight(loss, &w));
  PetscOptionsBegin(comm, "student_", "Distilled students' PINN terms", "KDStageDistill");
  PetscCall(KDOptionsReal("-distill_w_pde",
                          "Weight of the plain PDE residual N[S] = 0 in a distilled student's loss (default: "
                          "-student_w_pde, the twin's); 0 leaves the physics to the residual match N[S] = N[T~]",
                          "KDLossSetPDEWeight", w, &w, &set));
  PetscOptionsEnd();
  PetscCheck(!set || (w >= 0 && !PetscIsInfOrNanReal(w)), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-student_distill_w_pde %g must be finite and non-negative", (double) w);
  if (set) PetscCall(KDLossSetPDEWeight(loss, w));
  PetscFunctionReturn(0);
}

/* Reads (and checks) the options of the student network, trainer, PINN loss and distillation loss, as -help lists
   them; builds and runs nothing. With a level's options pushed, it checks them (KDStageDistillLevelsCheck()). */
static PetscErrorCode KDStageDistillReadOptions(MPI_Comm comm, const char pde[])
{
  PetscBool flg;
  KDNet net;
  KDTrainer tr;
  KDDistillLoss dl;
  KDLoss loss;

  PetscFunctionBegin;
  /* One checkpoint file per model: a single -student_checkpoint would make them overwrite each other. */
  PetscCall(PetscOptionsHasName(NULL, "student_", "-checkpoint", &flg));
  PetscCheck(!flg, comm, PETSC_ERR_ARG_WRONG,
             "-student_checkpoint is not supported: each model has its own checkpoint_<model>.h5 in -kd_out");
  PetscCall(KDNetCreate(comm, &net));
  PetscCall(KDNetSetOptionsPrefix(net, "student_"));
  PetscCall(KDNetSetArchitecture(net, 1, (PetscInt) (sizeof(KDStudentWidths) / sizeof(KDStudentWidths[0])),
                                 KDStudentWidths, 1));
  PetscCall(KDNetSetFromOptions(net));
  PetscCall(KDTrainerCreate(comm, &tr));
  PetscCall(KDTrainerSetOptionsPrefix(tr, "student_"));
  PetscCall(KDTrainerSetFromOptions(tr));
  PetscCall(KDValidateMonitorSetFromOptions(comm, tr, NULL, NULL, NULL, 0));
  PetscCall(KDDistillLossCreate(comm, &dl));
  PetscCall(KDDistillLossSetOptionsPrefix(dl, "student_"));
  PetscCall(KDDistillLossSetFromOptions(dl));
  /* the loss reads its options without a reference, so they are listed even before `kdpinn solve` ran */
  PetscCall(KDLossCreate(comm, &loss));
  PetscCall(KDLossSetOptionsPrefix(loss, "student_"));
  PetscCall(KDLossSetPDEType(loss, pde));
  PetscCall(KDLossSetFromOptions(loss));
  PetscCall(KDStageDistillPDEWeight(comm, loss));
  PetscCall(KDLossDestroy(&loss));
  PetscCall(KDDistillLossDestroy(&dl));
  PetscCall(KDTrainerDestroy(&tr));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

/* msg with each -student_<name> of level l's options replaced by the option given, -student_L<l>_<name>; where msg
   names none of them (an option of all levels that the level's values do not suit), the level is said */
static PetscErrorCode KDStageDistillLevelMessage(PetscInt l, KDLevelOptions lv, const char msg[], char out[],
                                                 size_t len)
{
  const char *const *given, *const *name;
  PetscInt n, hits = 0;
  size_t used = 0;

  PetscFunctionBegin;
  PetscCall(KDStudentLevelOptionsGetNames(lv, &n, &given, &name));
  out[0] = 0;
  while (*msg && used + 1 < len) {
    PetscInt hit = -1;
    for (PetscInt i = 0; i < n && hit < 0; i++) {
      size_t k = strlen(name[i]);
      if (!strncasecmp(msg, name[i], k) && !(isalnum((unsigned char) msg[k]) || msg[k] == '_')) hit = i;
    }
    if (hit >= 0) {
      int w = snprintf(out + used, len - used, "%s", given[hit]);
      used  = w > 0 ? PetscMin(len - 1, used + (size_t) w) : used;
      msg += strlen(name[hit]);
      hits++;
    } else {
      out[used++] = *msg++;
      out[used]   = 0;
    }
  }
  if (!hits && used + 1 < len)
    (void) snprintf(out + used, len - used,
                    " (with the options of level %" PetscInt_FMT ", -student_L%" PetscInt_FMT "_...)", l, l);
  PetscFunctionReturn(0);
}

/* Checks every level's own options before anything is trained, whether or not this run trains that level (one options
   file serves every task of a job array): with the level's options pushed, as its models will read them, so a level's
   value is judged beside the options of all levels (-student_filter_type midpoint -student_L2_filter_nodes 16), and an
   error names the option as given (-student_L2_gn_steps). */
static PetscErrorCode KDStageDistillLevelsCheck(MPI_Comm comm, const char pde[])
{
  PetscBool given[KD_MAX_LEVELS];

  PetscFunctionBegin;
  PetscCall(KDStudentLevelsGiven(KD_MAX_LEVELS, given));
  for (PetscInt l = 1; l < KD_MAX_LEVELS; l++) {
    KDLevelOptions lv;
    PetscErrorCode ierr;
    char msg[1024] = "";
    if (!given[l]) continue;
    PetscCall(KDStudentLevelOptionsPush(l, &lv));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); /* the message is said below, with its names */
    ierr = KDStageDistillReadOptions(comm, pde);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      char *specific = NULL;
      (void) PetscErrorMessage(ierr, NULL, &specific);
      PetscCall(KDStageDistillLevelMessage(l, lv, specific ? specific : "", msg, sizeof(msg)));
    }
    PetscCall(KDStudentLevelOptionsPop(&lv));
    PetscCheck(!ierr, comm, ierr, "%s", msg[0] ? msg : "a per-level student option is wrong");
  }
  PetscFunctionReturn(0);
}

/* A teacher must have learned the problem of the reference: the same PDE parameters, and an input box that covers the
   reference's domain (its students are fitted and checked there). Either mismatch was distilled from without a word. */
static PetscErrorCode KDStageDistillCheckTeacher(MPI_Comm comm, KDReference ref, const char refpath[], KDNet teacher,
                                                 const KDModelInfo *tinfo, const char tpath[])
{
  PetscReal tlo[KD_NET_MAX_IN], thi[KD_NET_MAX_IN], rlo[KD_MAX_DIM], rhi[KD_MAX_DIM];
  PetscInt map[KD_NET_MAX_IN], dim, n[KD_MAX_DIM], nin, tdim;
  const PetscInt *tensor_param;
  KDPDE pde;

  PetscFunctionBegin;
  PetscCall(KDPDECreate(comm, &pde)); /* which parameters are the problem's (not a learned tensor's) */
  PetscCall(KDPDESetType(pde, tinfo->pde));
  PetscCall(KDPDEGetLearnedTensor(pde, NULL, &tdim, &tensor_param, NULL, NULL));
  for (PetscInt i = 0; i < tinfo->nparams; i++) {
    PetscReal v;
    PetscBool has, tensor = PETSC_FALSE;
    for (PetscInt e = 0; e < tdim * tdim; e++) {
      const char *name;
      if (tensor_param[e] < 0) continue;
      PetscCall(KDPDEGetParameterName(pde, tensor_param[e], &name));
      if (!strcmp(name, tinfo->param_names[i])) tensor = PETSC_TRUE;
    }
    if (tensor) continue; /* learned by coarse models (a cell problem's value in the reference), not the problem */
    PetscCall(KDReferenceGetParameter(ref, tinfo->param_names[i], &v, &has));
    PetscCheck(!has || PetscAbsReal(v - tinfo->param_values[i]) <= 1e-12 * PetscMax(PetscAbsReal(v), 1.0), comm,
               PETSC_ERR_ARG_INCOMP,
               "%s was trained with %s = %.17g, but %s holds %.17g: train the teacher on this reference (-kd_force)",
               tpath, tinfo->param_names[i], (double) tinfo->param_values[i], refpath, (double) v);
  }
  PetscCall(KDPDEDestroy(&pde));
  PetscCall(KDNetGetSizes(teacher, &nin, NULL, NULL));
  PetscCall(KDNetGetInputBounds(teacher, tlo, thi));
  PetscCall(KDReferenceGetLevelGrid(ref, 0, &dim, n, rlo, rhi));
  PetscCall(KDReferenceGetAxisMap(ref, tinfo->inputs, map));
  for (PetscInt d = 0; d < nin; d++) {
    const PetscInt a    = map[d];
    const PetscReal tol = 1e-9 * (rhi[a] - rlo[a]);
    PetscCheck(tlo[d] <= rlo[a] + tol && thi[d] >= rhi[a] - tol, comm, PETSC_ERR_ARG_INCOMP,
               "%s covers [%g, %g] on input %" PetscInt_FMT ", but the domain of %s is [%g, %g] there: the teacher "
               "was trained on another domain",
               tpath, (double) tlo[d], (double) thi[d], d, refpath, (double) rlo[a], (double) rhi[a]);
  }
  PetscFunctionReturn(0);
}

/* What one distill run does: -kd_chain, and the -kd_level / -kd_distill_models selection. */
typedef struct {
  KDChainMode chain;
  PetscInt level; /* 0: every level */
  PetscBool student, scratch;
  char level_arg[32], models_arg[64];
} KDDistillSelection;

/* Reads -kd_chain, -kd_level and -kd_distill_models; checks what can be checked without the reference. */
static PetscErrorCode KDStageDistillGetSelection(MPI_Comm comm, KDDistillSelection *sel)
{
  char *token, *rest, models[64];

  PetscFunctionBegin;
  PetscCall(PetscMemzero(sel, sizeof(*sel)));
  sel->chain = KD_CHAIN_CHAIN;
  PetscCall(PetscStrncpy(sel->level_arg, "all", sizeof(sel->level_arg)));
  PetscCall(PetscStrncpy(sel->models_arg, "student,scratch", sizeof(sel->models_arg)));
  PetscOptionsBegin(comm, NULL, "Distill stage", "KDStageDistill");
  PetscCall(KDOptionsEnum("-kd_chain", "Teacher of level l: chain (the student of level l-1) or direct (teacher.h5)",
                          "KDStageDistill", KDChainModes, (PetscEnum) sel->chain, (PetscEnum *) &sel->chain, NULL));
  PetscCall(PetscOptionsString("-kd_level",
                               "Distil level l only (1..L-1), e.g. one task of a job array; all: every level",
                               "KDStageDistill", sel->level_arg, sel->level_arg, sizeof(sel->level_arg), NULL));
  PetscCall(PetscOptionsString("-kd_distill_models",
                               "Models to train: student,scratch, student (distilled) or scratch (twin)",
                               "KDStageDistill", sel->models_arg, sel->models_arg, sizeof(sel->models_arg), NULL));
  PetscOptionsEnd();
  if (strcmp(sel->level_arg, "all")) {
    char *end;
    long v = strtol(sel->level_arg, &end, 10);
    PetscCheck(end != sel->level_arg && !*end && v >= 1 && v < PETSC_MAX_INT, comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-kd_level %s: expected a level l >= 1 that has a student (level 0 is the teacher's), or all",
               sel->level_arg);
    sel->level = (PetscInt) v;
  }
  PetscCall(PetscStrncpy(models, sel->models_arg, sizeof(models)));
  for (token = strtok_r(models, ",", &rest); token; token = strtok_r(NULL, ",", &rest)) {
    if (!strcmp(token, "student"))
      sel->student = PETSC_TRUE;
    else if (!strcmp(token, "scratch"))
      sel->scratch = PETSC_TRUE;
    else
      SETERRQ(comm, PETSC_ERR_ARG_WRONG, "-kd_distill_models %s: expected student, scratch or student,scratch",
              sel->models_arg);
  }
  PetscCheck(sel->student || sel->scratch, comm, PETSC_ERR_ARG_WRONG,
             "-kd_distill_models %s: expected student, scratch or student,scratch", sel->models_arg);
  PetscFunctionReturn(0);
}

/*@C
  KDStageDistillIsPartial - Whether the distill stage, with the options as they are, trains only part of its models
  (-kd_level or -kd_distill_models): such a run must not mark the whole stage as done (`kdpinn run` skip stamps).

  Collective

  Output Parameter:
. partial - PETSC_TRUE if -kd_level names a level or -kd_distill_models leaves a kind of model out

.seealso: KDStageDistill()
@*/
PetscErrorCode KDStageDistillIsPartial(MPI_Comm comm, PetscBool *partial)
{
  KDDistillSelection sel;

  PetscFunctionBegin;
  PetscCall(KDStageDistillGetSelection(comm, &sel));
  *partial = (sel.level > 0 || !sel.student || !sel.scratch) ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* The global number of points of one kind of a PINN loss (summed over the ranks). */
static PetscErrorCode KDStageDistillCountPoints(MPI_Comm comm, KDLoss loss, const char kind[], PetscInt *n)
{
  const PetscReal *x;

  PetscFunctionBegin;
  PetscCall(KDLossGetPoints(loss, kind, n, &x));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, n, 1, MPIU_INT, MPI_SUM, comm));
  PetscFunctionReturn(0);
}

/* The coefficient fields the teacher learned (teacher_field_<name>.h5 in out), given to the PDE (when print, say so).
 */
static PetscErrorCode KDStageDistillLearnedFields(MPI_Comm comm, const char out[], KDPDE pde, PetscBool print)
{
  PetscInt nfields;

  PetscFunctionBegin;
  PetscCall(KDPDEGetNumCoefficientFields(pde, &nfields));
  for (PetscInt k = 0; k < nfields; k++) {
    const char *name;
    char file[64], path[PETSC_MAX_PATH_LEN];
    PetscBool exists;
    KDNet field;
    PetscCall(KDPDEGetCoefficientFieldName(pde, k, &name));
    PetscCall(PetscSNPrintf(file, sizeof(file), "teacher_field_%s.h5", name));
    PetscCall(KDOutputPath(out, file, path, sizeof(path)));
    PetscCall(PetscTestFile(path, 'r', &exists));
    if (!exists) continue;
    PetscCall(KDNetLoad(comm, path, &field, NULL));
    PetscCall(KDPDESetCoefficientFieldNet(pde, name, field));
    if (print)
      PetscCall(PetscPrintf(comm, "kdpinn distill: the students' physics uses the field %s the teacher learned (%s)\n",
                            name, file));
  }
  PetscFunctionReturn(0);
}

/* The PINN loss and network of level l (prefix student_), set up: the student and its twin get identical ones (but for
   the student's -student_distill_w_pde). The physics is the teacher's: the PDE parameters it identified from data
   replace the reference's, and so do the coefficient fields it learned. */
static PetscErrorCode KDStageDistillSetUp(MPI_Comm comm, const char out[], KDReference ref, PetscInt l, PetscInt seed,
                                          const KDModelInfo *tinfo, PetscBool student, KDLoss *loss, KDNet *net)
{
  KDPDE pde;
  PetscInt ninfer, ntotal, nnet;

  PetscFunctionBegin;
  PetscCall(KDStageDistillLossCreate(comm, ref, l, seed, loss));
  PetscCall(KDLossSetFromOptions(*loss)); /* the PDE's options, which may give the network input features */
  PetscCall(KDStageDistillNetCreate(comm, *loss, seed, net));
  PetscCall(KDLossSetNet(*loss, *net));
  PetscCall(KDLossGetPDE(*loss, &pde));
  for (PetscInt k = 0; k < tinfo->ninferred; k++)
    PetscCall(KDPDESetParameter(pde, tinfo->inferred_names[k], tinfo->inferred[k][0]));
  if (!student) PetscCall(KDPDESetUpScratchTwin(pde)); /* a tensor only a teacher determines: kept, not learned */
  PetscCall(KDStageDistillLearnedFields(comm, out, pde, student));
  if (student) PetscCall(KDStageDistillPDEWeight(comm, *loss));
  PetscCall(KDLossSetUp(*loss));
  PetscCall(KDLossGetNumInferred(*loss, &ninfer));
  for (PetscInt k = 0; k < ninfer; k++) {
    const char *name;
    PetscInt i;
    PetscBool learned;
    PetscCall(KDLossGetInferred(*loss, k, &name, NULL, NULL, NULL));
    PetscCall(KDPDEGetParameterIndex(pde, name, &i));
    PetscCall(KDPDEIsParameterLearned(pde, i, &learned));
    PetscCheck(learned, comm, PETSC_ERR_ARG_WRONG,
               "-student_infer %s: students take the PDE parameters their teacher identified (-teacher_infer); only "
               "those their formulation learns can be named",
               name);
  }
  PetscCall(KDLossGetNumParameters(*loss, &ntotal));
  PetscCall(KDNetGetSizes(*net, NULL, NULL, &nnet));
  PetscCheck(ntotal == nnet + ninfer, comm, PETSC_ERR_ARG_WRONG,
             "-student_infer_field: students take their teacher's physics; a learned field is the teacher's alone");
  PetscFunctionReturn(0);
}

/* The student of level l, distilled from `finer` (the teacher, or the student of level l-1): trained, written,
   returned for the next level of the chain. */
static PetscErrorCode KDStageDistillStudent(MPI_Comm comm, const KDCommonOptions *opt, KDReference ref, PetscInt l,
                                            KDNet finer, PetscBool finer_is_teacher, const KDModelInfo *tinfo,
                                            PetscInt tparams, KDNet *student)
{
  char sname[32], fname[32], widths[128];
  KDLoss sloss;
  KDDistillLoss dl;
  KDTrainer str;
  PetscInt nparams, fparams, npoints[2], npde, adam, lbfgs, gn, K1, K;
  PetscMPIInt size;
  KDActivation act;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscSNPrintf(sname, sizeof(sname), "student_L%" PetscInt_FMT, l));
  if (finer_is_teacher)
    PetscCall(PetscStrncpy(fname, "teacher", sizeof(fname)));
  else
    PetscCall(PetscSNPrintf(fname, sizeof(fname), "student_L%" PetscInt_FMT, l - 1));
  PetscCall(KDStageDistillSetUp(comm, opt->out, ref, l, opt->seed, tinfo, PETSC_TRUE, &sloss, student));
  PetscCall(KDDistillLossCreate(comm, &dl));
  PetscCall(KDDistillLossSetOptionsPrefix(dl, "student_"));
  PetscCall(KDDistillLossSetNets(dl, *student, finer));
  PetscCall(KDDistillLossSetPhysics(dl, sloss, ref, l));
  PetscCall(KDDistillLossSetSeed(dl, opt->seed));
  PetscCall(KDDistillLossSetFilter(dl, finer_is_teacher ? KD_FILTER_BOX : KD_FILTER_CHILDREN, 0));
  PetscCall(KDDistillLossSetFromOptions(dl));
  PetscCall(KDDistillLossSetUp(dl));
  PetscCall(KDStageDistillTrainer(comm, sname, opt->out, *student, ref, sloss, l, &str));
  PetscCall(KDTrainerSetDistillLoss(str, dl));
  PetscCall(KDTrainerSetFromOptions(str));

  PetscCall(KDNetGetSizes(*student, NULL, NULL, &nparams));
  PetscCall(KDNetGetSizes(finer, NULL, NULL, &fparams));
  PetscCall(KDStageDistillWidthsString(*student, widths, sizeof(widths)));
  PetscCall(KDNetGetActivation(*student, &act));
  PetscCall(KDDistillLossGetSchedule(dl, &K1, &K));
  PetscCall(KDTrainerGetBudget(str, &adam, &lbfgs, &gn));
  {
    PetscInt ninfer;
    PetscCall(KDLossGetNumInferred(sloss, &ninfer));
    PetscCheck(
        !ninfer || !gn, comm, PETSC_ERR_ARG_WRONG,
        "-student_gn_steps: Gauss-Newton does not train the PDE parameters a student learns (level %" PetscInt_FMT
        "); use Adam and L-BFGS, -student_gn_steps 0",
        l);
  }
  {
    const PetscReal *x;
    PetscCall(KDDistillLossGetPoints(dl, "cell", &npoints[0], &x));
    PetscCall(KDDistillLossGetPoints(dl, "col", &npoints[1], &x));
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, npoints, 2, MPIU_INT, MPI_SUM, comm));
  }
  PetscCall(KDStageDistillCountPoints(comm, sloss, "pde", &npde));
  PetscCall(PetscPrintf(comm,
                        "kdpinn distill: %s (level %" PetscInt_FMT ", widths %s, %s, %" PetscInt_FMT
                        " parameters) from %s (%" PetscInt_FMT " parameters), %d ranks: %" PetscInt_FMT
                        " cell + %" PetscInt_FMT " collocation distillation points, %" PetscInt_FMT
                        " PDE points; Adam %" PetscInt_FMT " (distill only %" PetscInt_FMT ", ramp %" PetscInt_FMT
                        "), L-BFGS %" PetscInt_FMT ", Gauss-Newton %" PetscInt_FMT "\n",
                        sname, l, widths, KDActivations[act], nparams, fname, fparams, size, npoints[0], npoints[1],
                        npde, adam, K1, K, lbfgs, gn));
  PetscCall(KDStageDistillFinish(comm, str, sloss, *student, sname, l, "distill", tinfo, opt->out, tparams));
  PetscCall(KDTrainerDestroy(&str));
  PetscCall(KDDistillLossDestroy(&dl));
  PetscCall(KDLossDestroy(&sloss));
  PetscFunctionReturn(0);
}

/* The scratch twin of level l: the student's network, initial weights, PINN loss (points, weights; -student_w_pde where
   the student may have -student_distill_w_pde) and trainer budget, no teacher. */
static PetscErrorCode KDStageDistillScratch(MPI_Comm comm, const KDCommonOptions *opt, KDReference ref, PetscInt l,
                                            const KDModelInfo *tinfo, PetscInt tparams)
{
  char tname[32], widths[128];
  KDLoss tloss;
  KDNet twin;
  KDTrainer ttr;
  PetscInt nparams, npde;
  KDActivation act;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(tname, sizeof(tname), "scratch_L%" PetscInt_FMT, l));
  PetscCall(KDStageDistillSetUp(comm, opt->out, ref, l, opt->seed, tinfo, PETSC_FALSE, &tloss, &twin));
  PetscCall(KDStageDistillTrainer(comm, tname, opt->out, twin, ref, tloss, l, &ttr));
  PetscCall(KDTrainerSetLoss(ttr, tloss));
  PetscCall(KDTrainerSetFromOptions(ttr));
  PetscCall(KDNetGetSizes(twin, NULL, NULL, &nparams));
  PetscCall(KDStageDistillWidthsString(twin, widths, sizeof(widths)));
  PetscCall(KDNetGetActivation(twin, &act));
  PetscCall(KDStageDistillCountPoints(comm, tloss, "pde", &npde));
  PetscCall(PetscPrintf(comm,
                        "kdpinn distill: %s (level %" PetscInt_FMT ", widths %s, %s, %" PetscInt_FMT
                        " parameters), no teacher: PINN loss only, %" PetscInt_FMT " PDE points, the same budget\n",
                        tname, l, widths, KDActivations[act], nparams, npde));
  PetscCall(KDStageDistillFinish(comm, ttr, tloss, twin, tname, l, "scratch", tinfo, opt->out, tparams));
  PetscCall(KDTrainerDestroy(&ttr));
  PetscCall(KDLossDestroy(&tloss));
  PetscCall(KDNetDestroy(&twin));
  PetscFunctionReturn(0);
}

/*@C
  KDStageDistill - The distill stage: for every level l = 1..L-1 of reference.h5 a student distilled from the model one
  level finer (teacher.h5 for l = 1, student_L<l-1>.h5 after that; -kd_chain direct distils every level from the
  teacher), and its scratch twin, the same network trained on the PINN loss alone with the same budget, points and
  initial weights. Writes student_L<l>.h5 and scratch_L<l>.h5 in -kd_out.

  Collective

  Options Database Keys:
+ -kd_out, -kd_pde, -kd_seed, -kd_levels - see KDGetCommonOptions(); students for l < min(-kd_levels, reference levels)
. -kd_chain <chain>             - chain: the teacher of level l is the student of level l-1; direct: the teacher
. -kd_level <all>               - distil level l only (one task of a job array); with -kd_chain chain and l > 1 it
                                  reads student_L<l-1>.h5, which an earlier run must have written
. -kd_distill_models <student,scratch> - which models to train: student, scratch or both; scratch twins need no
                                  teacher of their level, so they can run beside the students of a chain
. -student_widths <20,20>       - hidden widths of every student and twin
. -student_L<l>_<option>        - any student option for the student and twin of level l alone (-student_L2_widths)
. -student_distill_ncell ...    - distillation options, see KDDistillLossSetFromOptions()
. -student_ncol ...             - PINN loss options, see KDLossSetFromOptions()
. -student_distill_w_pde <w>    - weight of the plain PDE residual in the distilled students' PINN loss (default
                                  -student_w_pde, which the twins keep; 0 leaves it to the residual match)
. -student_adam_steps ...       - trainer options, see KDTrainerSetFromOptions(); checkpoints
                                  <kd_out>/checkpoint_student_L<l>.h5 and checkpoint_scratch_L<l>.h5
. -kd_restart                   - resume every model from its checkpoint
- -help                         - list the options, train nothing

  Notes:
  The filter of level l is the box average over the level-l cell (Gauss-Legendre) when the teacher is the level-0
  teacher, and the mean of the level-l cell's child centres when it is the student of level l-1, which represents
  level l-1 cell averages. Model files carry the PDE parameters of teacher.h5. A model file stores the parameters
  exactly, so the student of level l is the same whether level l-1 was distilled in this run or read from its file:
  runs of one level each give the same files as one run of every level.

.seealso: KDStageDistillIsPartial(), KDDistillLossCreate(), KDTrainerSetDistillLoss(), docs/distillation.md
@*/
PetscErrorCode KDStageDistill(MPI_Comm comm)
{
  KDCommonOptions opt;
  KDDistillSelection sel;
  PetscLogStage stage;
  PetscBool help, exists;
  char refpath[PETSC_MAX_PATH_LEN], teacherpath[PETSC_MAX_PATH_LEN];
  KDReference ref;
  KDNet teacher, finer = NULL;
  KDModelInfo tinfo;
  const char *refpde;
  PetscInt nlevels, tparams, lo, hi;

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscCall(KDOutputPath(opt.out, "reference.h5", refpath, sizeof(refpath)));
  PetscCall(KDOutputPath(opt.out, "teacher.h5", teacherpath, sizeof(teacherpath)));
  PetscCall(KDHelpRequested(&help));
  PetscCall(KDStageDistillGetSelection(comm, &sel));
  if (help) {
    PetscCall(KDStageDistillReadOptions(comm, opt.pde));
    PetscCall(PetscPrintf(comm, "  -student_L<l>_<option>: any student option above for the student and scratch twin "
                                "of level l alone (-student_L2_widths 10,10)\n"));
    PetscFunctionReturn(0);
  }
  /* every student option read and checked, also where no student is trained, before any file is read */
  PetscCall(KDStageDistillReadOptions(comm, opt.pde));
  PetscCall(KDStageDistillLevelsCheck(comm, opt.pde));
  PetscCall(PetscTestFile(refpath, 'r', &exists));
  PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN, "%s not found: run `kdpinn solve` first (with the same -kd_out)",
             refpath);
  PetscCall(PetscTestFile(teacherpath, 'r', &exists));
  PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN, "%s not found: run `kdpinn train` first (with the same -kd_out)",
             teacherpath);
  PetscCall(KDOutputDirCheck(comm, opt.out));
  PetscCall(KDLogStageGet("Distill", &stage));
  PetscCall(PetscLogStagePush(stage));

  PetscCall(KDReferenceLoad(comm, refpath, &ref));
  PetscCall(KDReferenceGetPDE(ref, &refpde));
  PetscCheck(!strcmp(refpde, opt.pde), comm, PETSC_ERR_ARG_INCOMP,
             "%s holds a %s solution but -kd_pde is %s: use the -kd_pde it was solved with", refpath, refpde, opt.pde);
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  nlevels = PetscMin(nlevels, opt.levels);
  PetscCheck(nlevels >= 2, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "nothing to distill: %s has %" PetscInt_FMT " level(s) in use; solve with -kd_levels >= 2", refpath,
             nlevels);
  PetscCheck(sel.level < nlevels, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_level %" PetscInt_FMT " is out of range: levels 1..%" PetscInt_FMT " have students (%" PetscInt_FMT
             " levels in use)",
             sel.level, nlevels - 1, nlevels);
  lo = sel.level > 0 ? sel.level : 1;
  hi = sel.level > 0 ? sel.level : nlevels - 1;
  /* each model's file and checkpoint: job-array tasks of different levels (or kinds) run side by side */
  for (PetscInt l = lo; l <= hi; l++)
    for (PetscInt k = 0; k < 2; k++) {
      char file[64];
      if (!(k ? sel.scratch : sel.student)) continue;
      PetscCall(PetscSNPrintf(file, sizeof(file), "%s_L%" PetscInt_FMT ".h5", k ? "scratch" : "student", l));
      PetscCall(KDOutputLock(comm, opt.out, file));
      PetscCall(PetscSNPrintf(file, sizeof(file), "checkpoint_%s_L%" PetscInt_FMT ".h5", k ? "scratch" : "student", l));
      PetscCall(KDOutputLock(comm, opt.out, file));
    }
  PetscCall(KDNetLoad(comm, teacherpath, &teacher, &tinfo));
  PetscCheck(!strcmp(tinfo.pde, opt.pde), comm, PETSC_ERR_ARG_INCOMP, "%s is a %s model but -kd_pde is %s", teacherpath,
             tinfo.pde, opt.pde);
  PetscCall(KDNetGetSizes(teacher, NULL, NULL, &tparams));
  PetscCall(KDStageDistillCheckTeacher(comm, ref, refpath, teacher, &tinfo, teacherpath));

  /* The chain starts from a student written by an earlier run when this one does not begin at level 1. */
  if (sel.student && sel.chain == KD_CHAIN_CHAIN && lo > 1) {
    char file[32], path[PETSC_MAX_PATH_LEN];
    KDModelInfo finfo;
    PetscCall(PetscSNPrintf(file, sizeof(file), "student_L%" PetscInt_FMT ".h5", lo - 1));
    PetscCall(KDOutputPath(opt.out, file, path, sizeof(path)));
    PetscCall(PetscTestFile(path, 'r', &exists));
    PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN,
               "%s not found: with -kd_chain chain the student of level %" PetscInt_FMT
               " learns from the student of level %" PetscInt_FMT "; distil -kd_level %" PetscInt_FMT " first",
               path, lo, lo - 1, lo - 1);
    PetscCall(KDNetLoad(comm, path, &finer, &finfo));
  }
  for (PetscInt l = lo; l <= hi; l++) {
    KDLevelOptions lv;
    PetscCall(KDStudentLevelOptionsPush(l, &lv));
    if (sel.student) {
      KDNet student;
      const PetscBool from_teacher = (sel.chain == KD_CHAIN_DIRECT || !finer) ? PETSC_TRUE : PETSC_FALSE;
      PetscCall(KDStageDistillStudent(comm, &opt, ref, l, from_teacher ? teacher : finer, from_teacher, &tinfo, tparams,
                                      &student));
      PetscCall(KDNetDestroy(&finer));
      if (sel.chain == KD_CHAIN_CHAIN)
        finer = student;
      else
        PetscCall(KDNetDestroy(&student));
    }
    if (sel.scratch) PetscCall(KDStageDistillScratch(comm, &opt, ref, l, &tinfo, tparams));
    PetscCall(KDStudentLevelOptionsPop(&lv));
  }
  PetscCall(KDNetDestroy(&finer));
  PetscCall(KDNetDestroy(&teacher));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}
