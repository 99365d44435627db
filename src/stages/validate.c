#include <kdstages.h>
#include <kdvalidate.h>
#include "sys/kdio.h"
#include "train/trainimpl.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
  kdpinn validate: every model file in -kd_out against the reference of its level (docs/validation.md).

  Rows of the report: each model on its own level (point values at the cell centres), and the teacher on every coarser
  level l as "teacher@L<l>" (its cell average over each level-l cell), which is what the level-l students are measured
  against. On a reference whose level 0 is itself a restriction of a finer solve (kdpinn solve -kd_reference_coarsen)
  the teacher's own row is a cell average too. Outputs: results.json, report.md, predictions.h5 with one XDMF sidecar
  per row, and figures made by kdpinn-report.py. JSON and Markdown are written by rank 0 under a temporary name and
  renamed when complete.
*/

#define KD_VALIDATE_MAX_ROWS (3 * KD_MAX_LEVELS)

typedef struct {
  PetscInt repeats, quad, residual_points;
  PetscBool figures;
  char python[PETSC_MAX_PATH_LEN], script[PETSC_MAX_PATH_LEN];
  /* the teacher's observations (-teacher_observations) and held-out ones (-kd_validate_observations), "" for none */
  char observations[2][PETSC_MAX_PATH_LEN];
} KDValidateOptions;

typedef struct {
  char name[64];  /* name in results.json: teacher, teacher@L1, student_L1, scratch_L1 */
  char key[64];   /* the same, usable in file names: teacher, teacher_L1, student_L1, scratch_L1 */
  char model[64]; /* the model file's name without .h5 */
  char trained_with[16];
  KDValidateSampling sampling;
  PetscInt level, model_level, params, nwidths, widths[KD_NET_MAX_LAYERS + 1], residual_points;
  PetscBool compared;                        /* against a reference (false: validated on observations only) */
  KDValidateErrors err, point;               /* point: the point-value errors of a cell-averaged row */
  PetscReal residual_rms, infer_ms, train_s; /* train_s: NaN when unknown */
  char checkpoint[PETSC_MAX_PATH_LEN];       /* matching checkpoint file name in -kd_out, or empty */
  PetscInt ninferred;                        /* PDE parameters the model identified: name, [value, std, initial] */
  char inferred_names[16][32];
  PetscReal inferred[16][3];
  PetscInt obs_n[2]; /* misfit to the training and the held-out observations (0: none) */
  PetscReal obs_rms[2], obs_rel_l2[2];
  PetscInt nlearned; /* coefficient fields learned with the model (<model>_field_<name>.h5) against the PDE's */
  char learned_names[4][16];
  PetscReal learned_rel_l2[4], learned_max_err[4];
} KDValidateRow;

/* Grid (cells per spatial axis) on which a learned coefficient field is compared with the PDE's. */
#define KD_VALIDATE_FIELD_GRID 128

static PetscErrorCode KDValidateGetOptions(MPI_Comm comm, KDValidateOptions *vo)
{
  PetscFunctionBegin;
  vo->repeats         = 5;
  vo->quad            = KD_VALIDATE_DEFAULT_QUAD;
  vo->residual_points = 262144;
  vo->figures         = PETSC_TRUE;
  vo->python[0]       = 0;
  vo->script[0]       = 0;
  PetscOptionsBegin(comm, NULL, "kdpinn validate options", NULL);
  PetscCall(KDOptionsInt("-kd_validate_repeats",
                         "Timed evaluations of each level grid (the median is reported), after one warm-up",
                         "KDValidateInferenceTime", vo->repeats, &vo->repeats, NULL));
  PetscCall(KDOptionsInt("-kd_validate_quad",
                         "Gauss-Legendre nodes per axis of the teacher's cell averages on coarser levels",
                         "KDValidateCompare", vo->quad, &vo->quad, NULL));
  PetscCall(KDOptionsInt("-kd_validate_residual_points",
                         "At most this many cell centres for the residual RMS (a regular subset; 0: every cell centre)",
                         "KDValidateResidualRMS", vo->residual_points, &vo->residual_points, NULL));
  PetscCall(PetscOptionsBool("-kd_validate_figures",
                             "Make figures/*.png with kdpinn-report.py (python3, h5py, matplotlib)", NULL, vo->figures,
                             &vo->figures, NULL));
  PetscCall(PetscOptionsString("-kd_validate_python",
                               "Python interpreter of the figure script (default: python3, then /usr/bin/python3)",
                               NULL, vo->python, vo->python, sizeof(vo->python), NULL));
  PetscCall(PetscOptionsString("-kd_validate_script",
                               "Figure script (default: kdpinn-report.py next to the kdpinn executable)", NULL,
                               vo->script, vo->script, sizeof(vo->script), NULL));
  vo->observations[0][0] = vo->observations[1][0] = 0;
  PetscCall(KDOptionsCheckValue(PetscOptionsObject->comm, PetscOptionsObject->prefix, "-kd_validate_observations",
                                PETSC_FALSE));
  PetscCall(PetscOptionsString("-kd_validate_observations",
                               "Held-out observations (docs/inverse.md): the teacher's misfit to them is reported",
                               NULL, vo->observations[1], vo->observations[1], sizeof(vo->observations[1]), NULL));
  PetscOptionsEnd();
  PetscCall(
      PetscOptionsGetString(NULL, "teacher_", "-observations", vo->observations[0], sizeof(vo->observations[0]), NULL));
  PetscCheck(vo->repeats >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-kd_validate_repeats must be >= 1, got %" PetscInt_FMT,
             vo->repeats);
  PetscCheck(vo->quad >= 1 && vo->quad <= 16, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_validate_quad must be in [1, 16], got %" PetscInt_FMT, vo->quad);
  PetscCheck(vo->residual_points >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_validate_residual_points must be >= 0, got %" PetscInt_FMT, vo->residual_points);
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Training time and loss history: the checkpoint whose parameters are the model's */
/* ------------------------------------------------------------------------------------------------------------------ */

static int KDCompareNames(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Whether checkpoint file `path` (verified as a restart verifies it: KDCheckpointLoad()) ended with exactly the
   parameters `params`; if so its training time. */
static PetscErrorCode KDValidateCheckpointMatch(const char path[], PetscInt nparams, const PetscReal params[],
                                                PetscBool *match, PetscReal *seconds)
{
  KDCheckpoint ck;

  PetscFunctionBegin;
  *match = PETSC_FALSE;
  PetscCall(KDCheckpointLoad(PETSC_COMM_SELF, path, &ck));
  /* a checkpoint with inferred parameters or a learned field holds them after the network's */
  if (ck.nparams >= nparams) PetscCall(PetscArraycmp(ck.params, params, nparams, match));
  if (*match) *seconds = ck.train_seconds;
  PetscCall(KDCheckpointReset(&ck));
  PetscFunctionReturn(0);
}

/* Rank 0 looks through checkpoint_*.h5 in the output directory (checkpoint_<model>.h5 first, then in name order) for
   the one that ended with the model's parameters; unreadable files are skipped. The result is broadcast. */
static PetscErrorCode KDValidateFindCheckpoint(MPI_Comm comm, const char dir[], const char model[], KDNet net,
                                               char name[], size_t len, PetscReal *seconds)
{
  PetscMPIInt rank;

  PetscFunctionBegin;
  name[0]  = 0;
  *seconds = PETSC_MAX_REAL;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    DIR *d       = opendir(dir);
    char **names = NULL;
    size_t count = 0, cap = 0;
    PetscInt nparams;
    PetscReal *params;

    PetscCall(KDNetGetSizes(net, NULL, NULL, &nparams));
    PetscCall(KDNetGetParameters(net, &params));
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
      size_t l = strlen(e->d_name);
      if (strncmp(e->d_name, "checkpoint_", 11) || l < 15 || strcmp(e->d_name + l - 3, ".h5")) continue;
      if (count == cap) {
        char **grow;
        cap  = cap ? 2 * cap : 8;
        grow = (char **) realloc(names, cap * sizeof(char *));
        if (!grow) break;
        names = grow;
      }
      names[count] = strdup(e->d_name);
      if (names[count]) count++;
    }
    if (d) (void) closedir(d);
    if (count) qsort(names, count, sizeof(char *), KDCompareNames);
    /* checkpoint_<model>.h5 first: two models can have the same parameters (scratch twins of different levels) */
    for (size_t i = 1; i < count; i++) {
      char own[80];
      (void) snprintf(own, sizeof(own), "checkpoint_%s.h5", model);
      if (!strcmp(names[i], own)) {
        char *t  = names[i];
        names[i] = names[0];
        names[0] = t;
      }
    }
    for (size_t i = 0; i < count && !name[0]; i++) {
      char path[PETSC_MAX_PATH_LEN];
      PetscBool match = PETSC_FALSE;
      PetscReal s     = 0;
      PetscErrorCode ierr;
      PetscCall(KDOutputPath(dir, names[i], path, sizeof(path)));
      /* a damaged or foreign checkpoint only means that this model's training time is unknown */
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      ierr = KDValidateCheckpointMatch(path, nparams, params, &match, &s);
      PetscCall(PetscPopErrorHandler());
      if (!ierr && match) {
        PetscCall(PetscStrncpy(name, names[i], len));
        *seconds = s;
      }
    }
    for (size_t i = 0; i < count; i++) free(names[i]);
    free(names);
  }
  PetscCallMPI(MPI_Bcast(name, (PetscMPIInt) len, MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(seconds, 1, MPIU_REAL, 0, comm));
  if (*seconds == PETSC_MAX_REAL) *seconds = NAN;
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* predictions.h5 and the XDMF sidecars */
/* ------------------------------------------------------------------------------------------------------------------ */

/* Writes /level_<l>/<model>/<field> (the compared values) and <field>_error (compared values minus reference). */
static PetscErrorCode KDValidateWritePredictions(hid_t file, KDReference ref, const KDValidateRow *row,
                                                 const char group[], const PetscReal pred[])
{
  char path[128];
  hid_t g;
  PetscInt dim, n[KD_MAX_DIM], rowlen = 1, lo, hi;
  PetscReal *e;
  const PetscReal *r;
  Vec v;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetLevelGrid(ref, row->level, &dim, n, NULL, NULL));
  for (PetscInt d = 1; d < dim; d++) rowlen *= n[d];
  PetscCall(PetscSNPrintf(path, sizeof(path), "level_%" PetscInt_FMT "/%s", row->level, group));
  PetscCall(KDH5CreateGroup(file, path, &g));
  PetscCall(KDH5WriteAttrString(g, "model", row->model));
  PetscCall(KDH5WriteAttrString(g, "name", row->name));
  PetscCall(KDH5WriteAttrString(g, "evaluation", KDValidateSamplings[row->sampling]));
  PetscCall(KDH5WriteAttrString(g, "trained_with", row->trained_with));
  for (PetscInt f = 0; f < row->err.nfields; f++) {
    char dname[64];
    PetscCall(KDReferenceGetField(ref, row->level, row->err.field[f], &v));
    PetscCall(VecGetOwnershipRange(v, &lo, &hi));
    PetscCall(KDH5WriteRows(g, row->err.field[f], dim, n, lo / rowlen, (hi - lo) / rowlen, pred + f * (hi - lo)));
    PetscCall(PetscMalloc1(hi - lo + 1, &e));
    PetscCall(VecGetArrayRead(v, &r));
    for (PetscInt p = 0; p < hi - lo; p++) e[p] = pred[f * (hi - lo) + p] - r[p];
    PetscCall(VecRestoreArrayRead(v, &r));
    PetscCall(PetscSNPrintf(dname, sizeof(dname), "%s_error", row->err.field[f]));
    PetscCall(KDH5WriteRows(g, dname, dim, n, lo / rowlen, (hi - lo) / rowlen, e));
    PetscCall(PetscFree(e));
  }
  PetscCallH5(H5Gclose(g));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDValidateCreatePredictions(MPI_Comm comm, KDReference ref, const char tmp[], hid_t *file)
{
  const char *pde, *axes;
  PetscInt nlevels;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetPDE(ref, &pde));
  PetscCall(KDReferenceGetAxes(ref, &axes));
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  PetscCall(KDH5Create(comm, tmp, file));
  PetscCall(KDH5WriteCommonAttributes(*file, "predictions", pde));
  PetscCall(KDH5WriteAttrString(*file, "axes", axes));
  PetscCall(KDH5WriteAttrString(*file, "reference", "reference.h5"));
  for (PetscInt l = 0; l < nlevels; l++) {
    char name[32];
    hid_t g;
    PetscInt dim, n[KD_MAX_DIM];
    PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM];
    PetscCall(KDReferenceGetLevelGrid(ref, l, &dim, n, lo, hi));
    PetscCall(PetscSNPrintf(name, sizeof(name), "level_%" PetscInt_FMT, l));
    PetscCall(KDH5CreateGroup(*file, name, &g));
    PetscCall(KDH5WriteAttrInts(g, "level", 1, &l));
    PetscCall(KDH5WriteAttrInts(g, "shape", dim, n));
    PetscCall(KDH5WriteAttrReals(g, "lo", dim, lo));
    PetscCall(KDH5WriteAttrReals(g, "hi", dim, hi));
    PetscCall(KDH5WriteAttrString(g, "axes", axes));
    PetscCallH5(H5Gclose(g));
  }
  PetscFunctionReturn(0);
}

/* prediction_<key>.xmf: the level's cell centres (as reference_L<l>.xmf) with the prediction, its error and the
   reference fields, so that one file shows all three in ParaView. Rank 0 writes, atomically. */
static PetscErrorCode KDValidateWriteXDMF(MPI_Comm comm, const char dir[], KDReference ref, const KDValidateRow *row,
                                          const char group[])
{
  PetscMPIInt rank;
  PetscInt dim, n[KD_MAX_DIM], dim3;
  PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM];
  char fname[128], path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], dims[64] = "", origin[128] = "",
                                                                      spacing[128] = "";
  const char *pde, *axes;
  int err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(KDReferenceGetPDE(ref, &pde));
  PetscCall(KDReferenceGetAxes(ref, &axes));
  PetscCall(KDReferenceGetLevelGrid(ref, row->level, &dim, n, lo, hi));
  dim3 = dim == 1 ? 2 : dim; /* XDMF has no 1-D CoRectMesh: a 1-D level is shown as 1 x n, as reference_L<l>.xmf does */
  if (dim == 1) {
    PetscCall(PetscSNPrintf(dims, sizeof(dims), "1 %" PetscInt_FMT, n[0]));
    PetscCall(PetscSNPrintf(origin, sizeof(origin), "0 %.17g", (double) (lo[0] + 0.5 * (hi[0] - lo[0]) / n[0])));
    PetscCall(PetscSNPrintf(spacing, sizeof(spacing), "1 %.17g", (double) ((hi[0] - lo[0]) / n[0])));
  } else
    for (PetscInt d = 0; d < dim; d++) {
      char buf[64];
      PetscReal h = (hi[d] - lo[d]) / (PetscReal) n[d];
      PetscCall(PetscSNPrintf(buf, sizeof(buf), "%s%" PetscInt_FMT, d ? " " : "", n[d]));
      PetscCall(PetscStrlcat(dims, buf, sizeof(dims)));
      PetscCall(PetscSNPrintf(buf, sizeof(buf), "%s%.17g", d ? " " : "", (double) (lo[d] + 0.5 * h)));
      PetscCall(PetscStrlcat(origin, buf, sizeof(origin)));
      PetscCall(PetscSNPrintf(buf, sizeof(buf), "%s%.17g", d ? " " : "", (double) h));
      PetscCall(PetscStrlcat(spacing, buf, sizeof(spacing)));
    }
  PetscCall(PetscSNPrintf(fname, sizeof(fname), "prediction_%s.xmf", row->key));
  PetscCall(KDOutputPath(dir, fname, path, sizeof(path)));
  PetscCall(KDFileTemporaryName(path, tmp, sizeof(tmp)));
  if (!rank) {
    FILE *fp = fopen(tmp, "w");
    if (!fp)
      err = 1;
    else {
      fprintf(fp,
              "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n<Xdmf Version=\"2.0\">\n <Domain>\n");
      fprintf(fp, "  <Grid Name=\"%s %s level %" PetscInt_FMT " (%s)\" GridType=\"Uniform\">\n", pde, row->name,
              row->level, axes);
      fprintf(fp, "   <Topology TopologyType=\"%" PetscInt_FMT "DCoRectMesh\" Dimensions=\"%s\"/>\n", dim3, dims);
      fprintf(fp, "   <Geometry GeometryType=\"%s\">\n", dim3 == 3 ? "ORIGIN_DXDYDZ" : "ORIGIN_DXDY");
      fprintf(fp,
              "    <DataItem Dimensions=\"%" PetscInt_FMT
              "\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">%s</DataItem>\n",
              dim3, origin);
      fprintf(fp,
              "    <DataItem Dimensions=\"%" PetscInt_FMT
              "\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">%s</DataItem>\n",
              dim3, spacing);
      fprintf(fp, "   </Geometry>\n");
      for (PetscInt f = 0; f < row->err.nfields; f++) {
        const char *fld        = row->err.field[f];
        const char *what[3][3] = {
            {"", "predictions.h5", ""}, {"_error", "predictions.h5", "_error"}, {"_ref", "reference.h5", ""}};
        for (int k = 0; k < 3; k++) {
          fprintf(fp, "   <Attribute Name=\"%s%s\" AttributeType=\"Scalar\" Center=\"Node\">\n", fld, what[k][0]);
          if (k < 2)
            fprintf(fp,
                    "    <DataItem Dimensions=\"%s\" NumberType=\"Float\" Precision=\"8\" "
                    "Format=\"HDF\">%s:/level_%" PetscInt_FMT "/%s/%s%s</DataItem>\n",
                    dims, what[k][1], row->level, group, fld, what[k][2]);
          else
            fprintf(fp,
                    "    <DataItem Dimensions=\"%s\" NumberType=\"Float\" Precision=\"8\" "
                    "Format=\"HDF\">%s:/level_%" PetscInt_FMT "/%s</DataItem>\n",
                    dims, what[k][1], row->level, fld);
          fprintf(fp, "   </Attribute>\n");
        }
      }
      fprintf(fp, "  </Grid>\n </Domain>\n</Xdmf>\n");
      if (fclose(fp)) err = 1;
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "cannot write %s", path);
  PetscCall(KDFileCommit(comm, tmp, path));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Evaluation of one model */
/* ------------------------------------------------------------------------------------------------------------------ */

static PetscErrorCode KDValidateModelCheck(MPI_Comm comm, const char path[], KDPDE pde, const char refpde[],
                                           const KDModelInfo *info, PetscInt level)
{
  const char *inputs, *outputs;
  PetscBool same;

  PetscFunctionBegin;
  PetscCall(KDPDEGetNames(pde, &inputs, &outputs));
  PetscCall(PetscStrcmp(info->pde, refpde, &same));
  PetscCheck(same, comm, PETSC_ERR_FILE_UNEXPECTED, "%s is a %s model but reference.h5 holds a %s solution", path,
             info->pde, refpde);
  PetscCall(PetscStrcmp(info->inputs, inputs, &same));
  PetscCheck(same, comm, PETSC_ERR_FILE_UNEXPECTED, "%s has inputs '%s', the %s PDE needs '%s'", path, info->inputs,
             refpde, inputs);
  PetscCall(PetscStrcmp(info->outputs, outputs, &same));
  PetscCheck(same, comm, PETSC_ERR_FILE_UNEXPECTED, "%s has outputs '%s', the %s PDE needs '%s'", path, info->outputs,
             refpde, outputs);
  PetscCheck(info->level == level, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s has level %" PetscInt_FMT ", its name says level %" PetscInt_FMT, path, info->level, level);
  PetscFunctionReturn(0);
}

/* The PDE as the model was trained with it: the formulation of its level (a homogenized one on coarse levels,
   KDPDESetLevel()) with the parameters that formulation learns set to the model's values. Other identified parameters
   stay the reference's: the residual measures the model against the problem posed. */
static PetscErrorCode KDValidateModelPhysics(KDReference ref, KDPDE pde, PetscInt level, const KDModelInfo *info)
{
  PetscFunctionBegin;
  PetscCall(KDPDESetLevel(pde, ref, level));
  for (PetscInt k = 0; k < info->ninferred; k++) {
    PetscInt i;
    PetscBool learned;
    PetscCall(KDPDEGetParameterIndex(pde, info->inferred_names[k], &i));
    PetscCall(KDPDEIsParameterLearned(pde, i, &learned));
    if (learned) PetscCall(KDPDESetParameter(pde, info->inferred_names[k], info->inferred[k][0]));
  }
  /* a learned tensor's entries as the model holds them: learned, or kept at their initial value (a twin's,
     KDPDESetUpScratchTwin()); never the previous row's */
  {
    const PetscInt *param;
    PetscInt dim;
    PetscCall(KDPDEGetLearnedTensor(pde, NULL, &dim, &param, NULL, NULL));
    for (PetscInt e = 0; e < dim * dim; e++) {
      const char *name;
      PetscBool learned;
      if (param[e] < 0) continue;
      PetscCall(KDPDEIsParameterLearned(pde, param[e], &learned));
      PetscCall(KDPDEGetParameterName(pde, param[e], &name));
      for (PetscInt k = 0; learned && k < info->nparams; k++)
        if (!strcmp(info->param_names[k], name)) PetscCall(KDPDESetParameter(pde, name, info->param_values[k]));
    }
  }
  PetscFunctionReturn(0);
}

/* One row: errors against the level's reference (writing the compared values to predictions.h5), residual RMS at the
   level's cell centres, inference time on the level grid. */
static PetscErrorCode KDValidateEvaluate(MPI_Comm comm, const KDValidateOptions *vo, KDReference ref, KDPDE pde,
                                         KDNet net, hid_t pfile, const char group[], KDValidateRow *row)
{
  PetscReal *pred;

  PetscFunctionBegin;
  row->compared = PETSC_TRUE;
  PetscCall(KDValidateCompare(ref, pde, net, row->level, row->sampling, vo->quad, &pred, &row->err));
  PetscCall(KDValidateWritePredictions(pfile, ref, row, group, pred));
  PetscCall(PetscFree(pred));
  if (row->sampling == KD_VALIDATE_CELL_AVERAGE)
    PetscCall(KDValidateCompare(ref, pde, net, row->level, KD_VALIDATE_POINT, 1, NULL, &row->point));
  PetscCall(
      KDValidateResidualRMS(ref, pde, net, row->level, vo->residual_points, &row->residual_rms, &row->residual_points));
  PetscCall(KDValidateInferenceTime(ref, pde, net, row->level, vo->repeats, &row->infer_ms));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* results.json */
/* ------------------------------------------------------------------------------------------------------------------ */

static void KDJSONString(FILE *fp, const char s[])
{
  fputc('"', fp);
  for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
    if (*c == '"' || *c == '\\')
      fprintf(fp, "\\%c", *c);
    else if (*c < 0x20)
      fprintf(fp, "\\u%04x", *c);
    else
      fputc(*c, fp);
  }
  fputc('"', fp);
}

/* JSON has no NaN or infinity: an unknown or non-finite number is null. */
static void KDJSONReal(FILE *fp, PetscReal v)
{
  if (PetscIsInfOrNanReal(v))
    fputs("null", fp);
  else
    fprintf(fp, "%.17g", (double) v);
}

static const KDValidateRow *KDValidateRowFind(const KDValidateRow rows[], PetscInt nrows, const char name[])
{
  for (PetscInt i = 0; i < nrows; i++)
    if (!strcmp(rows[i].name, name)) return &rows[i];
  return NULL;
}

static PetscReal KDRatio(PetscReal a, PetscReal b)
{
  return b != 0 ? a / b : (PetscReal) NAN;
}

/* Level-l comparisons of a row with the teacher (teacher@L<l>) and, for a student, with its scratch twin. */
typedef struct {
  const KDValidateRow *teacher, *scratch;
  PetscReal error_vs_teacher, params_vs_teacher, speedup, gain;
} KDValidateComparison;

static void KDValidateCompareRow(const KDValidateRow rows[], PetscInt nrows, const KDValidateRow *row,
                                 KDValidateComparison *c)
{
  char tname[64], sname[64];

  (void) snprintf(tname, sizeof(tname), "teacher@L%d", (int) row->level);
  (void) snprintf(sname, sizeof(sname), "scratch_L%d", (int) row->level);
  c->teacher          = KDValidateRowFind(rows, nrows, tname);
  c->scratch          = strncmp(row->name, "student_L", 9) ? NULL : KDValidateRowFind(rows, nrows, sname);
  c->error_vs_teacher = c->teacher ? KDRatio(row->err.rel_l2, c->teacher->err.rel_l2) : (PetscReal) NAN;
  c->params_vs_teacher =
      c->teacher ? KDRatio((PetscReal) c->teacher->params, (PetscReal) row->params) : (PetscReal) NAN;
  c->speedup = c->teacher ? KDRatio(c->teacher->infer_ms, row->infer_ms) : (PetscReal) NAN;
  c->gain    = c->scratch ? 1.0 - KDRatio(row->err.rel_l2, c->scratch->err.rel_l2) : (PetscReal) NAN;
}

#define KD_GAIN_TARGET 0.4

static void KDValidateWriteErrorsJSON(FILE *fp, const KDValidateErrors *e, const char indent[])
{
  fprintf(fp, "%s\"fields\": {", indent);
  for (PetscInt f = 0; f < e->nfields; f++) {
    fprintf(fp, "%s", f ? ", " : "");
    KDJSONString(fp, e->field[f]);
    fprintf(fp, ": {\"rel_l2\": ");
    KDJSONReal(fp, e->field_rel_l2[f]);
    fprintf(fp, ", \"max_err\": ");
    KDJSONReal(fp, e->field_max_err[f]);
    fprintf(fp, ", \"ref_l2\": ");
    KDJSONReal(fp, e->field_ref_l2[f]);
    fprintf(fp, ", \"mean_removed\": %s}", e->mean_removed[f] ? "true" : "false");
  }
  fprintf(fp, "},\n");
}

/* One entry of "models": a row with its comparisons on its level. */
static void KDValidateWriteModelJSON(FILE *fp, const KDValidateOptions *vo, const KDValidateRow rows[], PetscInt nrows,
                                     const KDValidateRow *r)
{
  KDValidateComparison c;

  KDValidateCompareRow(rows, nrows, r, &c);
  fprintf(fp, "    {\n      \"name\": ");
  KDJSONString(fp, r->name);
  fprintf(fp, ",\n      \"level\": %d,\n      \"params\": %d,\n      \"rel_l2\": ", (int) r->level, (int) r->params);
  KDJSONReal(fp, r->err.rel_l2);
  fprintf(fp, ",\n      \"max_err\": ");
  KDJSONReal(fp, r->err.max_err);
  fprintf(fp, ",\n      \"residual_rms\": ");
  KDJSONReal(fp, r->residual_rms);
  fprintf(fp, ",\n      \"infer_ms\": ");
  KDJSONReal(fp, r->infer_ms);
  fprintf(fp, ",\n      \"train_s\": ");
  KDJSONReal(fp, r->train_s);
  fprintf(fp, ",\n      \"trained_with\": ");
  KDJSONString(fp, r->trained_with);
  if (r->ninferred > 0) {
    fprintf(fp, ",\n      \"inferred\": {");
    for (PetscInt k = 0; k < r->ninferred; k++) {
      fprintf(fp, "%s", k ? ", " : "");
      KDJSONString(fp, r->inferred_names[k]);
      fprintf(fp, ": {\"value\": ");
      KDJSONReal(fp, r->inferred[k][0]);
      fprintf(fp, ", \"std\": ");
      KDJSONReal(fp, r->inferred[k][1]);
      fprintf(fp, ", \"initial\": ");
      KDJSONReal(fp, r->inferred[k][2]);
      fprintf(fp, "}");
    }
    fprintf(fp, "}");
  }
  for (PetscInt k = 0; k < 2; k++) {
    if (!r->obs_n[k]) continue;
    fprintf(fp, ",\n      \"%s\": {\"file\": ", k ? "heldout_observations" : "observations");
    KDJSONString(fp, vo->observations[k]);
    fprintf(fp, ", \"n\": %d, \"rms\": ", (int) r->obs_n[k]);
    KDJSONReal(fp, r->obs_rms[k]);
    fprintf(fp, ", \"rel_l2\": ");
    KDJSONReal(fp, r->obs_rel_l2[k]);
    fprintf(fp, "}");
  }
  if (r->nlearned > 0) {
    fprintf(fp, ",\n      \"inferred_fields\": {");
    for (PetscInt k = 0; k < r->nlearned; k++) {
      fprintf(fp, "%s", k ? ", " : "");
      KDJSONString(fp, r->learned_names[k]);
      fprintf(fp, ": {\"file\": \"%s_field_%s.h5\", \"grid\": %d, \"rel_l2\": ", r->model, r->learned_names[k],
              KD_VALIDATE_FIELD_GRID);
      KDJSONReal(fp, r->learned_rel_l2[k]);
      fprintf(fp, ", \"max_err\": ");
      KDJSONReal(fp, r->learned_max_err[k]);
      fprintf(fp, ", \"figure\": \"figures/field_%s_%s.png\"}", r->model, r->learned_names[k]);
    }
    fprintf(fp, "}");
  }
  fprintf(fp, ",\n      \"model\": ");
  KDJSONString(fp, r->model);
  fprintf(fp, ",\n      \"file\": \"%s.h5\",\n      \"model_level\": %d,\n      \"widths\": [", r->model,
          (int) r->model_level);
  for (PetscInt k = 0; k < r->nwidths; k++) fprintf(fp, "%s%d", k ? ", " : "", (int) r->widths[k]);
  fprintf(fp, "],\n      \"evaluation\": \"%s\",\n", KDValidateSamplings[r->sampling]);
  if (r->sampling == KD_VALIDATE_CELL_AVERAGE) {
    fprintf(fp, "      \"quadrature_nodes\": %d,\n      \"point_rel_l2\": ", (int) vo->quad);
    KDJSONReal(fp, r->point.rel_l2);
    fprintf(fp, ",\n      \"point_max_err\": ");
    KDJSONReal(fp, r->point.max_err);
    fprintf(fp, ",\n");
  }
  fprintf(fp, "      \"points\": %d,\n      \"residual_points\": %d,\n", (int) r->err.npoints,
          (int) r->residual_points);
  KDValidateWriteErrorsJSON(fp, &r->err, "      ");
  fprintf(fp, "      \"checkpoint\": ");
  if (r->checkpoint[0])
    KDJSONString(fp, r->checkpoint);
  else
    fprintf(fp, "null");
  if (r->compared) {
    fprintf(fp, ",\n      \"predictions\": \"/level_%d/%s\",\n      \"xmf\": \"prediction_%s.xmf\",\n", (int) r->level,
            r->model, r->key);
    fprintf(fp, "      \"figure\": \"figures/%s.png\",\n      \"loss_figure\": ", r->key);
  } else /* no reference: nothing compared, predicted or drawn on a grid */
    fprintf(fp,
            ",\n      \"predictions\": null,\n      \"xmf\": null,\n      \"figure\": null,\n      \"loss_figure\": ");
  if (r->checkpoint[0] && r->level == r->model_level)
    fprintf(fp, "\"figures/loss_%s.png\"", r->model);
  else
    fprintf(fp, "null");
  if (r->level > 0 && r->sampling == KD_VALIDATE_POINT) {
    fprintf(fp, ",\n      \"teacher_rel_l2\": ");
    KDJSONReal(fp, c.teacher ? c.teacher->err.rel_l2 : (PetscReal) NAN);
    fprintf(fp, ",\n      \"error_ratio_vs_teacher\": ");
    KDJSONReal(fp, c.error_vs_teacher);
    fprintf(fp, ",\n      \"param_ratio_vs_teacher\": ");
    KDJSONReal(fp, c.params_vs_teacher);
    fprintf(fp, ",\n      \"speedup_vs_teacher\": ");
    KDJSONReal(fp, c.speedup);
    if (c.scratch) {
      fprintf(fp, ",\n      \"gain_vs_scratch\": ");
      KDJSONReal(fp, c.gain);
    }
  }
}

/* One entry of "distillation": a student against its scratch twin and the teacher on its level. */
static void KDValidateWriteDistillationJSON(FILE *fp, const KDValidateRow rows[], PetscInt nrows,
                                            const KDValidateRow *r, PetscBool first)
{
  KDValidateComparison c;

  KDValidateCompareRow(rows, nrows, r, &c);
  fprintf(fp, "%s\n    {\"level\": %d, \"student\": ", first ? "" : ",", (int) r->level);
  KDJSONString(fp, r->name);
  fprintf(fp, ", \"scratch\": ");
  if (c.scratch)
    KDJSONString(fp, c.scratch->name);
  else
    fprintf(fp, "null");
  fprintf(fp, ", \"teacher\": ");
  if (c.teacher)
    KDJSONString(fp, c.teacher->name);
  else
    fprintf(fp, "null");
  fprintf(fp, ",\n     \"student_rel_l2\": ");
  KDJSONReal(fp, r->err.rel_l2);
  fprintf(fp, ", \"scratch_rel_l2\": ");
  KDJSONReal(fp, c.scratch ? c.scratch->err.rel_l2 : (PetscReal) NAN);
  fprintf(fp, ", \"teacher_rel_l2\": ");
  KDJSONReal(fp, c.teacher ? c.teacher->err.rel_l2 : (PetscReal) NAN);
  fprintf(fp, ",\n     \"error_ratio_vs_scratch\": ");
  KDJSONReal(fp, c.scratch ? KDRatio(r->err.rel_l2, c.scratch->err.rel_l2) : (PetscReal) NAN);
  fprintf(fp, ", \"gain\": ");
  KDJSONReal(fp, c.gain);
  fprintf(fp, ", \"gain_target_met\": %s",
          PetscIsInfOrNanReal(c.gain) ? "null" : (c.gain >= KD_GAIN_TARGET ? "true" : "false"));
  fprintf(fp, ",\n     \"error_ratio_vs_teacher\": ");
  KDJSONReal(fp, c.error_vs_teacher);
  fprintf(fp, ", \"param_ratio_vs_teacher\": ");
  KDJSONReal(fp, c.params_vs_teacher);
  fprintf(fp, ", \"speedup_vs_teacher\": ");
  KDJSONReal(fp, c.speedup);
  fprintf(fp, "}");
}

/* The tensor of learned parameters a row's model holds (all its entries learned, on the model's own level; an entry
   declared -1 is zero): value[] row-major. PETSC_FALSE if the model did not learn it. */
static PetscBool KDValidateRowTensor(KDPDE pde, const KDValidateRow *r, PetscReal value[])
{
  const PetscInt *param;
  PetscInt dim;

  (void) KDPDEGetLearnedTensor(pde, NULL, &dim, &param, NULL, NULL);
  if (!dim || r->level != r->model_level) return PETSC_FALSE;
  for (PetscInt e = 0; e < dim * dim; e++) {
    const char *name;
    PetscBool found = PETSC_FALSE;
    if (param[e] < 0) { /* an entry zero in every model (a diagonal tensor's off-diagonal) */
      value[e] = 0;
      continue;
    }
    (void) KDPDEGetParameterName(pde, param[e], &name);
    for (PetscInt k = 0; k < r->ninferred; k++)
      if (!strcmp(r->inferred_names[k], name)) {
        value[e] = r->inferred[k][0];
        found    = PETSC_TRUE;
      }
    if (!found) return PETSC_FALSE;
  }
  return PETSC_TRUE;
}

/* The reference's value of the learned tensor (its array attribute), PETSC_FALSE if it has none. */
static PetscBool KDValidateReferenceTensor(KDReference ref, KDPDE pde, PetscReal value[])
{
  const char *refname;
  const PetscReal *v;
  PetscInt dim, n;
  PetscBool found = PETSC_FALSE;

  (void) KDPDEGetLearnedTensor(pde, NULL, &dim, NULL, &refname, NULL);
  if (!dim || !ref || KDReferenceGetArray(ref, refname, &n, &v, &found) || !found || n != dim * dim) return PETSC_FALSE;
  for (PetscInt e = 0; e < n; e++) value[e] = v[e];
  return PETSC_TRUE;
}

static void KDJSONMatrix(FILE *fp, PetscInt dim, const PetscReal v[])
{
  fprintf(fp, "[");
  for (PetscInt i = 0; i < dim; i++) {
    fprintf(fp, "%s[", i ? ", " : "");
    for (PetscInt j = 0; j < dim; j++) {
      fprintf(fp, "%s", j ? ", " : "");
      KDJSONReal(fp, v[i * dim + j]);
    }
    fprintf(fp, "]");
  }
  fprintf(fp, "]");
}

/* The PDE's learned tensor (KDPDESetLearnedTensor()): top-level entry {"<label>": reference value, "<model>": ...} */
static void KDValidateWriteTensorJSON(FILE *fp, KDReference ref, KDPDE pde, const KDValidateRow rows[], PetscInt nrows)
{
  const char *name, *label;
  PetscInt dim, n = 0;
  PetscReal v[KD_NET_MAX_IN * KD_NET_MAX_IN];

  (void) KDPDEGetLearnedTensor(pde, &name, &dim, NULL, NULL, &label);
  if (!dim) return;
  fprintf(fp, ",\n  ");
  KDJSONString(fp, name);
  fprintf(fp, ": {");
  if (KDValidateReferenceTensor(ref, pde, v)) {
    fprintf(fp, "\n    ");
    KDJSONString(fp, label);
    fprintf(fp, ": ");
    KDJSONMatrix(fp, dim, v);
    n++;
  }
  for (PetscInt i = 0; i < nrows; i++) {
    if (!KDValidateRowTensor(pde, &rows[i], v)) continue;
    fprintf(fp, "%s\n    ", n++ ? "," : "");
    KDJSONString(fp, rows[i].name);
    fprintf(fp, ": ");
    KDJSONMatrix(fp, dim, v);
  }
  fprintf(fp, "%s}", n ? "\n  " : "");
}

/* Without a reference (ref NULL), the PDE's inputs stand for the axes and its outputs for the fields. */
static void KDValidateWriteJSON(FILE *fp, KDReference ref, KDPDE kdpde, const KDValidateOptions *vo, PetscMPIInt size,
                                const KDValidateRow rows[], PetscInt nrows)
{
  const char *pde, *axes, *fname, *outputs;
  PetscInt nlevels = 1, nfields = 0, nout = 0;

  (void) KDPDEGetType(kdpde, &pde);
  (void) KDPDEGetNames(kdpde, &axes, &outputs);
  if (ref) {
    (void) KDReferenceGetAxes(ref, &axes);
    (void) KDReferenceGetNumLevels(ref, &nlevels);
    (void) KDReferenceGetNumFields(ref, &nfields);
  }
  fprintf(fp, "{\n  \"kdpinn_version\": ");
  KDJSONString(fp, KDPINN_VERSION);
  fprintf(fp, ",\n  \"kind\": \"results\",\n  \"pde\": ");
  KDJSONString(fp, pde);
  fprintf(fp, ",\n  \"reference\": %s", ref ? "\"reference.h5\"" : "null");
  fprintf(fp, ",\n  \"axes\": ");
  KDJSONString(fp, axes);
  fprintf(fp, ",\n  \"fields\": [");
  for (PetscInt f = 0; f < nfields; f++) {
    (void) KDReferenceGetFieldName(ref, f, &fname);
    fprintf(fp, "%s", f ? ", " : "");
    KDJSONString(fp, fname);
  }
  if (!ref) { /* the outputs, "u,v,p", as ["u", "v", "p"] */
    fputc('"', fp);
    for (const char *c = outputs; *c; c++) fputs(*c == ',' ? "\", \"" : (char[]){*c, 0}, fp);
    fputc('"', fp);
  }
  fprintf(fp, "],\n  \"levels\": %d,\n  \"ranks\": %d,\n", (int) nlevels, (int) size);
  fprintf(fp,
          "  \"settings\": {\"inference_ranks\": 1, \"inference_repeats\": %d, \"inference_statistic\": \"median\", "
          "\"quadrature_nodes\": %d, \"residual_max_points\": %d, \"residual_points_at\": \"cell centres of the row's "
          "level\", "
          "\"gain_target\": %g},\n",
          (int) vo->repeats, (int) vo->quad, (int) vo->residual_points, KD_GAIN_TARGET);
  fprintf(fp, "  \"models\": [\n");
  for (PetscInt i = 0; i < nrows; i++) {
    KDValidateWriteModelJSON(fp, vo, rows, nrows, &rows[i]);
    fprintf(fp, "\n    }%s\n", i + 1 < nrows ? "," : "");
  }
  fprintf(fp, "  ],\n  \"distillation\": [");
  for (PetscInt i = 0; i < nrows; i++) {
    if (strncmp(rows[i].name, "student_L", 9)) continue;
    KDValidateWriteDistillationJSON(fp, rows, nrows, &rows[i], nout++ ? PETSC_FALSE : PETSC_TRUE);
  }
  fprintf(fp, "%s]", nout ? "\n  " : "");
  KDValidateWriteTensorJSON(fp, ref, kdpde, rows, nrows);
  fprintf(fp, "\n}\n");
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* report.md */
/* ------------------------------------------------------------------------------------------------------------------ */

static void KDMDReal(FILE *fp, const char fmt[], PetscReal v)
{
  if (PetscIsInfOrNanReal(v))
    fputs(" - |", fp);
  else {
    fputc(' ', fp);
    fprintf(fp, fmt, (double) v);
    fputs(" |", fp);
  }
}

static PetscBool KDFileExists(const char dir[], const char name[])
{
  char path[PETSC_MAX_PATH_LEN];
  PetscBool exists = PETSC_FALSE;

  if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int) sizeof(path)) return PETSC_FALSE;
  if (PetscTestFile(path, 'r', &exists)) return PETSC_FALSE;
  return exists;
}

/* The fields some row compared up to a constant (a gauge-pinned output), as " (p compared up to a constant: both means
   removed)", or "" when there are none. */
static void KDValidateGaugeNote(const KDValidateRow rows[], PetscInt nrows, char note[], size_t len)
{
  char fields[128] = "";

  for (PetscInt i = 0; i < nrows; i++)
    for (PetscInt f = 0; f < rows[i].err.nfields; f++) {
      char quoted[40];
      if (!rows[i].err.mean_removed[f]) continue;
      (void) snprintf(quoted, sizeof(quoted), ",%s,", rows[i].err.field[f]);
      if (strstr(fields, quoted)) continue;
      (void) strncat(fields, quoted + (fields[0] ? 1 : 0), sizeof(fields) - strlen(fields) - 1);
    }
  note[0] = 0;
  if (fields[0]) {
    fields[strlen(fields) - 1] = 0; /* the trailing comma */
    (void) snprintf(note, len, " (%s compared up to a constant: both means removed)", fields + (fields[0] == ','));
  }
}

static void KDValidateWriteReportHeader(FILE *fp, KDReference ref, KDPDE kdpde, const KDValidateOptions *vo,
                                        PetscMPIInt size, const KDValidateRow rows[], PetscInt nrows)
{
  const char *pde, *axes;
  PetscInt nlevels, dim, n[KD_MAX_DIM], coarsen;
  PetscBool extrapolated;
  char gauge[200];

  (void) KDPDEGetType(kdpde, &pde);
  fprintf(fp, "# kdpinn validation: %s\n\n", pde);
  if (!ref) {
    fprintf(fp,
            "No reference (`reference.h5`) in the output directory: the teacher was trained on observations alone, "
            "and is validated by its misfit to them (and to held-out ones, `-kd_validate_observations`) and by the "
            "parameters it identified. Validated on %d MPI rank%s; the numbers are in `results.json` (schema: "
            "docs/results.schema.json).\n\n",
            (int) size, size > 1 ? "s" : "");
    return;
  }
  (void) KDReferenceGetAxes(ref, &axes);
  (void) KDReferenceGetNumLevels(ref, &nlevels);
  (void) KDReferenceGetLevelGrid(ref, 0, &dim, n, NULL, NULL);
  KDValidateGaugeNote(rows, nrows, gauge, sizeof(gauge));
  fprintf(fp, "Reference `reference.h5`: axes `%s`, %d levels, level 0 has ", axes, (int) nlevels);
  for (PetscInt d = 0; d < dim; d++) fprintf(fp, "%s%d", d ? " x " : "", (int) n[d]);
  (void) KDReferenceGetCoarsening(ref, &coarsen);
  if (coarsen)
    fprintf(fp,
            " cells, the cell averages of a solve on a grid %d times finer per axis (the teacher is compared by its "
            "cell averages there too)",
            1 << (int) coarsen);
  else
    fprintf(fp, " cells");
  (void) KDReferenceGetExtrapolated(ref, &extrapolated);
  if (extrapolated)
    fprintf(fp, "; level 0 is the Richardson extrapolation of that solve and of solves on grids 2 and 4 times coarser "
                "(`-kd_reference_extrapolate`, docs/solvers.md), and the coarser levels its cell averages");
  fprintf(fp, ". Validated on %d MPI rank%s; the numbers are in `results.json` (schema: docs/results.schema.json).\n\n",
          (int) size, size > 1 ? "s" : "");
  fprintf(fp,
          "Each model is compared with the reference of its level at the cell centres; `teacher@L<l>` is the teacher's "
          "cell "
          "average over each level-l cell (Gauss-Legendre, %d nodes per axis), the field its level-l students are "
          "distilled from. "
          "Relative L2 error over all outputs together%s. Residual: RMS of the PDE residual at (at most %d of) the "
          "cell centres of "
          "the row's level. Inference: one rank evaluates the whole level grid, median of %d runs after a warm-up. "
          "Training time: "
          "from the checkpoint that ended with the model's parameters (`-` if there is none).\n\n",
          (int) vo->quad, gauge, (int) vo->residual_points, (int) vo->repeats);
}

static void KDValidateWriteReportModels(FILE *fp, const char dir[], const KDValidateRow rows[], PetscInt nrows)
{
  fprintf(fp, "## Models\n\n| model | level | trained with | params | rel. L2 error | max error | residual RMS | "
              "inference ms | training s | "
              "figure | ParaView |\n| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
  for (PetscInt i = 0; i < nrows; i++) {
    const KDValidateRow *r = &rows[i];
    char fig[128];
    fprintf(fp, "| %s | %d | %s | %d |", r->name, (int) r->level, r->trained_with, (int) r->params);
    KDMDReal(fp, "%.3e", r->err.rel_l2);
    KDMDReal(fp, "%.3e", r->err.max_err);
    KDMDReal(fp, "%.3e", r->residual_rms);
    KDMDReal(fp, "%.3f", r->infer_ms);
    KDMDReal(fp, "%.2f", r->train_s);
    (void) snprintf(fig, sizeof(fig), "figures/%s.png", r->key);
    if (r->compared && KDFileExists(dir, fig))
      fprintf(fp, " [png](%s) |", fig);
    else
      fprintf(fp, " - |");
    if (r->compared)
      fprintf(fp, " `prediction_%s.xmf` |\n", r->key);
    else
      fprintf(fp, " - |\n");
  }
  for (PetscInt i = 0; i < nrows; i++) {
    if (rows[i].sampling != KD_VALIDATE_CELL_AVERAGE) continue;
    fprintf(fp, "\nFor the rows compared by cell averages the point values at the level's cell centres give:\n\n| row "
                "| rel. L2 error (points) | max error (points) |\n| --- | ---: | ---: |\n");
    break;
  }
  for (PetscInt i = 0; i < nrows; i++) {
    if (rows[i].sampling != KD_VALIDATE_CELL_AVERAGE) continue;
    fprintf(fp, "| %s |", rows[i].name);
    KDMDReal(fp, "%.3e", rows[i].point.rel_l2);
    KDMDReal(fp, "%.3e", rows[i].point.max_err);
    fprintf(fp, "\n");
  }
}

/* The parameters each model identified from data, with the reference's value as the truth where it has one. */
static void KDValidateWriteReportInferred(FILE *fp, KDReference ref, const KDValidateRow rows[], PetscInt nrows)
{
  PetscBool any = PETSC_FALSE, fields = PETSC_FALSE;

  for (PetscInt i = 0; i < nrows; i++) {
    if (rows[i].ninferred > 0 && rows[i].level == rows[i].model_level) any = PETSC_TRUE;
    if (rows[i].nlearned > 0) fields = PETSC_TRUE;
    if (rows[i].obs_n[0] || rows[i].obs_n[1]) {
      fprintf(fp,
              "\n## Misfit to observations\n\n| model | observations | values | RMS misfit | rel. L2 |\n| --- | --- | "
              "---: | ---: | ---: |\n");
      for (PetscInt k = 0; k < 2; k++) {
        if (!rows[i].obs_n[k]) continue;
        fprintf(fp, "| %s | %s | %d |", rows[i].name, k ? "held out (`-kd_validate_observations`)" : "training",
                (int) rows[i].obs_n[k]);
        KDMDReal(fp, "%.3e", rows[i].obs_rms[k]);
        KDMDReal(fp, "%.3e", rows[i].obs_rel_l2[k]);
        fprintf(fp, "\n");
      }
    }
  }
  if (fields) {
    fprintf(fp,
            "\n## Learned coefficient fields\n\nFields learned from data as a second network "
            "(`-teacher_infer_field`), against the PDE's own on a %d^d grid of the spatial box.\n\n| model | "
            "field | file | rel. L2 error | max error | figure |\n| --- | --- | --- | ---: | ---: | --- |\n",
            KD_VALIDATE_FIELD_GRID);
    for (PetscInt i = 0; i < nrows; i++)
      for (PetscInt k = 0; k < rows[i].nlearned; k++) {
        fprintf(fp, "| %s | %s | `%s_field_%s.h5` |", rows[i].name, rows[i].learned_names[k], rows[i].model,
                rows[i].learned_names[k]);
        KDMDReal(fp, "%.3e", rows[i].learned_rel_l2[k]);
        KDMDReal(fp, "%.3e", rows[i].learned_max_err[k]);
        fprintf(fp, " [png](figures/field_%s_%s.png) |\n", rows[i].model, rows[i].learned_names[k]);
      }
  }
  if (!any) return;
  fprintf(fp,
          "\n## Identified parameters\n\nPDE parameters inferred from data (docs/inverse.md): the identified value, "
          "its standard deviation (Laplace approximation after Gauss-Newton), the initial value, and the "
          "reference's value as the truth.\n\n| model | parameter | initial | identified | std | truth | error | "
          "error / std |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (PetscInt i = 0; i < nrows; i++) {
    const KDValidateRow *r = &rows[i];
    if (r->level != r->model_level) continue;
    for (PetscInt k = 0; k < r->ninferred; k++) {
      const PetscReal *v = r->inferred[k];
      PetscReal truth    = (PetscReal) NAN;
      PetscBool found    = PETSC_FALSE;
      if (!ref || KDReferenceGetParameter(ref, r->inferred_names[k], &truth, &found) || !found) truth = (PetscReal) NAN;
      fprintf(fp, "| %s | %s |", r->name, r->inferred_names[k]);
      KDMDReal(fp, "%.6g", v[2]);
      KDMDReal(fp, "%.6g", v[0]);
      KDMDReal(fp, "%.3g", v[1]);
      KDMDReal(fp, "%.6g", truth);
      KDMDReal(fp, "%.3e", truth != 0 ? (v[0] - truth) / truth : (PetscReal) NAN);
      KDMDReal(fp, "%.2f", (v[0] - truth) / v[1]);
      fprintf(fp, "\n");
    }
  }
}

/* The learned tensor of every model that learned it against the reference's: entries and the largest entry error
   relative to the largest entry of the reference's. */
static void KDValidateWriteReportTensor(FILE *fp, KDReference ref, KDPDE pde, const KDValidateRow rows[],
                                        PetscInt nrows)
{
  const char *name, *label;
  PetscInt dim, any = 0;
  PetscReal kref[KD_NET_MAX_IN * KD_NET_MAX_IN], v[KD_NET_MAX_IN * KD_NET_MAX_IN], scale = 0;
  PetscBool have;

  (void) KDPDEGetLearnedTensor(pde, &name, &dim, NULL, NULL, &label);
  if (!dim) return;
  for (PetscInt i = 0; i < nrows; i++)
    if (KDValidateRowTensor(pde, &rows[i], v)) any++;
  if (!any) return;
  have = KDValidateReferenceTensor(ref, pde, kref);
  for (PetscInt e = 0; have && e < dim * dim; e++) scale = PetscMax(scale, PetscAbsReal(kref[e]));
  fprintf(fp,
          "\n## Learned tensor: %s\n\nThe tensor the coarse models learned with their networks (row-major), against "
          "the reference's `%s`; error: the largest entry error relative to the reference's largest entry.\n\n| model "
          "| level | tensor | error |\n| --- | ---: | --- | ---: |\n",
          name, label);
  if (have) {
    fprintf(fp, "| %s | - | [", label);
    for (PetscInt e = 0; e < dim * dim; e++) fprintf(fp, "%s%.5g", e ? ", " : "", (double) kref[e]);
    fprintf(fp, "] | - |\n");
  }
  for (PetscInt i = 0; i < nrows; i++) {
    PetscReal err = 0;
    if (!KDValidateRowTensor(pde, &rows[i], v)) continue;
    fprintf(fp, "| %s | %d | [", rows[i].name, (int) rows[i].level);
    for (PetscInt e = 0; e < dim * dim; e++) {
      fprintf(fp, "%s%.5g", e ? ", " : "", (double) v[e]);
      if (have) err = PetscMax(err, PetscAbsReal(v[e] - kref[e]));
    }
    fprintf(fp, "] |");
    KDMDReal(fp, "%.2e", have && scale > 0 ? err / scale : (PetscReal) NAN);
    fprintf(fp, "\n");
  }
}

static void KDValidateWriteReportDistillation(FILE *fp, const KDValidateRow rows[], PetscInt nrows)
{
  PetscInt nstudents = 0;

  for (PetscInt i = 0; i < nrows; i++)
    if (!strncmp(rows[i].name, "student_L", 9)) nstudents++;
  fprintf(fp, "\n## Distillation per level\n\n");
  if (!nstudents) {
    fprintf(fp, "No student models (`student_L<l>.h5`) in the output directory: run `kdpinn distill`.\n");
    return;
  }
  fprintf(fp,
          "Gain = 1 - (student error) / (scratch twin error); target: >= %.0f%%. Error vs teacher: student error / "
          "teacher@L<l> error "
          "(target: within 2x). Params and speedup: teacher / student, inference on the same points.\n\n",
          100 * KD_GAIN_TARGET);
  fprintf(fp,
          "| level | student rel. L2 | scratch rel. L2 | student / scratch | gain | >= %.0f%% | teacher@L rel. L2 | "
          "student / teacher | "
          "params teacher / student | speedup |\n| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | "
          "---: |\n",
          100 * KD_GAIN_TARGET);
  for (PetscInt i = 0; i < nrows; i++) {
    const KDValidateRow *r = &rows[i];
    KDValidateComparison c;
    if (strncmp(r->name, "student_L", 9)) continue;
    KDValidateCompareRow(rows, nrows, r, &c);
    fprintf(fp, "| %d |", (int) r->level);
    KDMDReal(fp, "%.3e", r->err.rel_l2);
    KDMDReal(fp, "%.3e", c.scratch ? c.scratch->err.rel_l2 : (PetscReal) NAN);
    KDMDReal(fp, "%.3f", c.scratch ? KDRatio(r->err.rel_l2, c.scratch->err.rel_l2) : (PetscReal) NAN);
    if (PetscIsInfOrNanReal(c.gain))
      fprintf(fp, " - | - |");
    else
      fprintf(fp, " %.1f%% | %s |", 100 * (double) c.gain, c.gain >= KD_GAIN_TARGET ? "yes" : "**no**");
    KDMDReal(fp, "%.3e", c.teacher ? c.teacher->err.rel_l2 : (PetscReal) NAN);
    KDMDReal(fp, "%.2f", c.error_vs_teacher);
    KDMDReal(fp, "%.1f", c.params_vs_teacher);
    KDMDReal(fp, "%.1f", c.speedup);
    fprintf(fp, "\n");
  }
}

static void KDValidateWriteReportFigures(FILE *fp, const char dir[], const KDValidateRow rows[], PetscInt nrows,
                                         const char figures_note[])
{
  fprintf(fp, "\n## Figures\n\n");
  if (figures_note[0])
    fprintf(fp, "Figures were not made: %s.\n", figures_note);
  else {
    if (KDFileExists(dir, "figures/error_vs_params.png"))
      fprintf(fp, "![error vs parameters](figures/error_vs_params.png)\n\n");
    for (PetscInt i = 0; i < nrows; i++) {
      char fig[128];
      (void) snprintf(fig, sizeof(fig), "figures/%s.png", rows[i].key);
      if (KDFileExists(dir, fig)) fprintf(fp, "- %s: reference, prediction, error: [%s](%s)\n", rows[i].name, fig, fig);
      if (rows[i].checkpoint[0] && rows[i].level == rows[i].model_level) {
        (void) snprintf(fig, sizeof(fig), "figures/loss_%s.png", rows[i].model);
        if (KDFileExists(dir, fig)) fprintf(fp, "- %s: loss history: [%s](%s)\n", rows[i].name, fig, fig);
      }
    }
  }
  if (nrows && rows[0].compared)
    fprintf(fp, "\nParaView: open `prediction_<row>.xmf` (prediction, `_error` and `_ref` fields on the level's cell "
                "centres) next to `reference_L<l>.xmf`.\n");
}

static void KDValidateWriteReport(FILE *fp, const char dir[], KDReference ref, KDPDE pde, const KDValidateOptions *vo,
                                  PetscMPIInt size, const KDValidateRow rows[], PetscInt nrows,
                                  const char figures_note[])
{
  KDValidateWriteReportHeader(fp, ref, pde, vo, size, rows, nrows);
  KDValidateWriteReportModels(fp, dir, rows, nrows);
  KDValidateWriteReportInferred(fp, ref, rows, nrows);
  KDValidateWriteReportTensor(fp, ref, pde, rows, nrows);
  if (ref) KDValidateWriteReportDistillation(fp, rows, nrows); /* students need a reference (kdpinn distill) */
  KDValidateWriteReportFigures(fp, dir, rows, nrows, figures_note);
}

/* Rank 0 writes a text file with writer() under a temporary name, then it is renamed into place. */
typedef enum { KD_OUTPUT_JSON, KD_OUTPUT_REPORT } KDValidateOutput;

static PetscErrorCode KDValidateWriteText(MPI_Comm comm, const char dir[], const char name[], KDValidateOutput what,
                                          KDReference ref, KDPDE pde, const KDValidateOptions *vo,
                                          const KDValidateRow rows[], PetscInt nrows, const char note[])
{
  PetscMPIInt rank, size;
  char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN];
  int err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(KDOutputPath(dir, name, path, sizeof(path)));
  PetscCall(KDFileTemporaryName(path, tmp, sizeof(tmp)));
  if (!rank) {
    FILE *fp = fopen(tmp, "w");
    if (!fp)
      err = 1;
    else {
      if (what == KD_OUTPUT_JSON)
        KDValidateWriteJSON(fp, ref, pde, vo, size, rows, nrows);
      else
        KDValidateWriteReport(fp, dir, ref, pde, vo, size, rows, nrows, note);
      if (ferror(fp)) err = 1;
      if (fclose(fp)) err = 1;
    }
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  if (err) PetscCall(KDFileDiscard(comm, tmp));
  PetscCheck(!err, comm, PETSC_ERR_FILE_WRITE, "cannot write %s", path);
  PetscCall(KDFileCommit(comm, tmp, path));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Figures: python3 kdpinn-report.py <out> */
/* ------------------------------------------------------------------------------------------------------------------ */

/* Appends s to cmd in single quotes, so that any path survives the shell. */
static PetscErrorCode KDShellQuote(char cmd[], size_t len, const char s[])
{
  size_t n = strlen(cmd);

  PetscFunctionBegin;
  PetscCheck(n + 3 < len, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "command line too long");
  cmd[n++] = ' ';
  cmd[n++] = '\'';
  for (const char *c = s; *c; c++) {
    PetscCheck(n + 6 < len, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "command line too long");
    if (*c == '\'') {
      memcpy(cmd + n, "'\\''", 4);
      n += 4;
    } else
      cmd[n++] = *c;
  }
  cmd[n++] = '\'';
  cmd[n]   = 0;
  PetscFunctionReturn(0);
}

/* The figure script next to the running executable (the build tree keeps a copy beside kdpinn, install puts it in
 * bin/). */
static PetscErrorCode KDValidateFindScript(char script[], size_t len)
{
  char exe[PETSC_MAX_PATH_LEN];
  ssize_t n;

  PetscFunctionBegin;
  script[0] = 0;
  n         = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    char *slash;
    exe[n] = 0;
    slash  = strrchr(exe, '/');
    if (slash) {
      *slash = 0;
      if (snprintf(script, len, "%s/kdpinn-report.py", exe) >= (int) len) script[0] = 0;
    }
  }
  PetscFunctionReturn(0);
}

/* Runs `python script dir` and returns its exit status (-1: did not run or stopped abnormally), the last line it
   printed and the figure count of its "figures: N" line. */
static PetscErrorCode KDValidateRunScript(const char python[], const char script[], const char dir[], int *code,
                                          char last[], size_t len, PetscInt *nfigures)
{
  char cmd[4 * PETSC_MAX_PATH_LEN] = "exec", line[512];
  FILE *pp;
  int status;

  PetscFunctionBegin;
  *code   = -1;
  last[0] = 0;
  PetscCall(KDShellQuote(cmd, sizeof(cmd), python));
  PetscCall(KDShellQuote(cmd, sizeof(cmd), script));
  PetscCall(KDShellQuote(cmd, sizeof(cmd), dir));
  PetscCall(PetscStrlcat(cmd, " 2>&1", sizeof(cmd)));
  (void) fflush(stdout);
  pp = popen(cmd, "r");
  if (!pp) PetscFunctionReturn(0);
  while (fgets(line, sizeof(line), pp)) {
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = 0;
    if (l) (void) snprintf(last, len, "%s", line);
    if (!strncmp(line, "figures: ", 9)) *nfigures = (PetscInt) atoi(line + 9);
  }
  status = pclose(pp);
  if (status != -1 && WIFEXITED(status)) *code = WEXITSTATUS(status);
  PetscFunctionReturn(0);
}

/* Rank 0 runs the figure script; on any failure (no python3, no numpy/h5py/matplotlib, a script error) note says why
   and the stage goes on: figures are a convenience, results.json is the result. Without -kd_validate_python the
   python3 on PATH is tried first, then /usr/bin/python3, the interpreter Debian's python3-h5py and python3-matplotlib
   serve (another python3 may come first on PATH and lack them). */
static PetscErrorCode KDValidateRunFigures(MPI_Comm comm, const KDValidateOptions *vo, const char dir[], char note[],
                                           size_t len, PetscInt *nfigures)
{
  PetscMPIInt rank;

  PetscFunctionBegin;
  note[0]   = 0;
  *nfigures = 0;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    const char *candidates[2] = {"python3", "/usr/bin/python3"};
    char script[PETSC_MAX_PATH_LEN], last[512] = "";
    PetscBool exists = PETSC_FALSE;
    int code = -1, ncand = 2;

    if (vo->python[0]) {
      candidates[0] = vo->python;
      ncand         = 1;
    }
    if (vo->script[0])
      PetscCall(PetscStrncpy(script, vo->script, sizeof(script)));
    else
      PetscCall(KDValidateFindScript(script, sizeof(script)));
    if (script[0]) PetscCall(PetscTestFile(script, 'r', &exists));
    if (!exists)
      (void) snprintf(note, len, "figure script %.400s not found (set -kd_validate_script)",
                      script[0] ? script : "kdpinn-report.py");
    else
      for (int k = 0; k < ncand; k++) {
        PetscCall(KDValidateRunScript(candidates[k], script, dir, &code, last, sizeof(last), nfigures));
        if (code == 0) {
          note[0] = 0;
          break;
        }
        /* exit 127: no such interpreter; 3: the script's "python module ... missing" */
        if (code == 127)
          (void) snprintf(note, len, "%.400s not found", candidates[k]);
        else if (code == 3 && last[0])
          (void) snprintf(note, len, "%s (%.200s)", last, candidates[k]);
        else if (code < 0)
          (void) snprintf(note, len, "%.400s stopped abnormally", script);
        else
          (void) snprintf(note, len, "%s", last[0] ? last : "the figure script failed");
        if (code != 127 && code != 3) break;
      }
  }
  PetscCallMPI(MPI_Bcast(note, (PetscMPIInt) len, MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(nfigures, 1, MPIU_INT, 0, comm));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* The stage */
/* ------------------------------------------------------------------------------------------------------------------ */

/* A row of model `model` on level `level`, sampled as KDValidateGetSampling() says. */
static PetscErrorCode KDValidateRowInit(KDValidateRow *row, const char name[], const char key[], const char model[],
                                        KDReference ref, PetscInt level, KDNet net, const KDModelInfo *info)
{
  const PetscInt *w;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(row, sizeof(*row)));
  PetscCall(PetscStrncpy(row->name, name, sizeof(row->name)));
  PetscCall(PetscStrncpy(row->key, key, sizeof(row->key)));
  PetscCall(PetscStrncpy(row->model, model, sizeof(row->model)));
  PetscCall(PetscStrncpy(row->trained_with, info->trained_with, sizeof(row->trained_with)));
  row->level       = level;
  row->model_level = info->level;
  PetscCall(KDValidateGetSampling(ref, info->level, level, &row->sampling));
  row->ninferred = info->ninferred;
  PetscCall(PetscArraycpy(&row->inferred_names[0][0], &info->inferred_names[0][0], sizeof(row->inferred_names)));
  PetscCall(PetscArraycpy(&row->inferred[0][0], &info->inferred[0][0], 16 * 3));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &row->params));
  PetscCall(KDNetGetWidths(net, &row->nwidths, &w));
  PetscCall(PetscArraycpy(row->widths, w, row->nwidths));
  row->train_s = NAN;
  PetscFunctionReturn(0);
}

/* Training time: a model-file attribute train_seconds if a trainer stored one (KDNetLoad() lists unknown scalar root
   attributes with the PDE parameters), otherwise the matching checkpoint's. */
static PetscErrorCode KDValidateTrainTime(MPI_Comm comm, const char dir[], KDNet net, const KDModelInfo *info,
                                          KDValidateRow *row)
{
  PetscReal s;

  PetscFunctionBegin;
  PetscCall(KDValidateFindCheckpoint(comm, dir, row->model, net, row->checkpoint, sizeof(row->checkpoint), &s));
  row->train_s = s;
  for (PetscInt i = 0; i < info->nparams; i++)
    if (!strcmp(info->param_names[i], "train_seconds")) row->train_s = info->param_values[i];
  PetscFunctionReturn(0);
}

static PetscErrorCode KDValidatePrintRow(MPI_Comm comm, const KDValidateRow *r)
{
  PetscFunctionBegin;
  PetscCall(PetscPrintf(comm,
                        "  %-12s level %" PetscInt_FMT "  %-7s %7" PetscInt_FMT
                        " params  rel_l2 %.3e  max_err %.3e  residual %.3e  %9.3f ms\n",
                        r->name, r->level, r->trained_with, r->params, (double) r->err.rel_l2, (double) r->err.max_err,
                        (double) r->residual_rms, (double) r->infer_ms));
  PetscFunctionReturn(0);
}

/* Every model file of -kd_out, as rows: teacher.h5 first (its own level and every coarser one), then the students and
   scratch twins of each level; each row evaluated and its predictions written to pfile. */
static PetscErrorCode KDValidateModels(MPI_Comm comm, const KDValidateOptions *vo, const char out[], KDReference ref,
                                       KDPDE pde, hid_t pfile, KDValidateRow rows[], PetscInt *nrowsout)
{
  const char *refpde;
  PetscInt nrows = 0, nlevels;
  char path[PETSC_MAX_PATH_LEN];
  PetscBool exists;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetPDE(ref, &refpde));
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  for (PetscInt l = 0; l < KD_MAX_LEVELS; l++) {
    const char *kinds[2] = {"student", "scratch"};
    for (PetscInt k = 0; k < (l ? 2 : 1); k++) {
      char model[64], fname[80];
      KDNet net;
      KDModelInfo info;

      if (l)
        PetscCall(PetscSNPrintf(model, sizeof(model), "%s_L%" PetscInt_FMT, kinds[k], l));
      else
        PetscCall(PetscStrncpy(model, "teacher", sizeof(model)));
      PetscCall(PetscSNPrintf(fname, sizeof(fname), "%s.h5", model));
      PetscCall(KDOutputPath(out, fname, path, sizeof(path)));
      PetscCall(PetscTestFile(path, 'r', &exists));
      if (!exists) continue;
      PetscCheck(l < nlevels, comm, PETSC_ERR_FILE_UNEXPECTED,
                 "%s is a level-%" PetscInt_FMT " model but reference.h5 has %" PetscInt_FMT " levels", path, l,
                 nlevels);
      PetscCall(KDNetLoad(comm, path, &net, &info));
      PetscCall(KDValidateModelCheck(comm, path, pde, refpde, &info, l));
      PetscCall(KDValidateModelPhysics(ref, pde, l, &info));
      for (PetscInt lv = l; lv < (l ? l + 1 : nlevels); lv++) {
        KDValidateRow *row = &rows[nrows++];
        char name[64], key[64];
        if (lv == l) {
          PetscCall(PetscStrncpy(name, model, sizeof(name)));
          PetscCall(PetscStrncpy(key, model, sizeof(key)));
        } else {
          PetscCall(PetscSNPrintf(name, sizeof(name), "%s@L%" PetscInt_FMT, model, lv));
          PetscCall(PetscSNPrintf(key, sizeof(key), "%s_L%" PetscInt_FMT, model, lv));
        }
        PetscCall(KDSignalCheck(comm, "validate"));
        PetscCall(KDValidateRowInit(row, name, key, model, ref, lv, net, &info));
        if (lv == l)
          PetscCall(KDValidateTrainTime(comm, out, net, &info, row));
        else {
          row->train_s = rows[nrows - 1 - (lv - l)].train_s;
          PetscCall(PetscStrncpy(row->checkpoint, rows[nrows - 1 - (lv - l)].checkpoint, sizeof(row->checkpoint)));
        }
        PetscCall(KDValidateEvaluate(comm, vo, ref, pde, net, pfile, model, row));
        PetscCall(KDValidatePrintRow(comm, row));
      }
      PetscCall(KDNetDestroy(&net));
    }
  }
  PetscCall(KDPDESetLevel(pde, ref, 0)); /* the problem as posed, for what follows */
  *nrowsout = nrows;
  PetscFunctionReturn(0);
}

/* The teacher's misfit to its training observations and to held-out ones. */
static PetscErrorCode KDValidateObservationMisfits(MPI_Comm comm, const KDValidateOptions *vo, const char dir[],
                                                   KDPDE pde, KDValidateRow *teacher)
{
  KDNet net;
  char path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  if (strcmp(teacher->name, "teacher") || (!vo->observations[0][0] && !vo->observations[1][0])) PetscFunctionReturn(0);
  PetscCall(KDOutputPath(dir, "teacher.h5", path, sizeof(path)));
  PetscCall(KDNetLoad(comm, path, &net, NULL));
  for (PetscInt k = 0; k < 2; k++) {
    if (!vo->observations[k][0]) continue;
    PetscCall(KDValidateObservations(comm, pde, net, vo->observations[k], &teacher->obs_n[k], &teacher->obs_rms[k],
                                     &teacher->obs_rel_l2[k]));
    PetscCall(PetscPrintf(
        comm, "  teacher misfit to the %s observations %s: %" PetscInt_FMT " values, rms %.3e, rel_l2 %.3e\n",
        k ? "held-out" : "training", vo->observations[k], teacher->obs_n[k], (double) teacher->obs_rms[k],
        (double) teacher->obs_rel_l2[k]));
  }
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

/* The coefficient fields the teacher learned (teacher_field_<name>.h5, one per field of the PDE that exists) against
   the PDE's own: the errors go to the teacher's row, the two grids to predictions.h5 (group field_<name>: true,
   learned, dims = spatial axes in reverse input order, the first input varying fastest) for the figure. */
static PetscErrorCode KDValidateLearnedFields(MPI_Comm comm, const char dir[], KDPDE pde, hid_t pfile,
                                              KDValidateRow *teacher)
{
  PetscInt nfields, nin, tin, dims[KD_NET_MAX_IN], nd = 0;
  PetscMPIInt rank;

  PetscFunctionBegin;
  if (strcmp(teacher->name, "teacher")) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(KDPDEGetNumCoefficientFields(pde, &nfields));
  PetscCall(KDPDEGetSizes(pde, &nin, NULL, NULL));
  PetscCall(KDPDEGetTimeInput(pde, &tin));
  for (PetscInt i = 0; i < nin; i++)
    if (i != tin) dims[nd++] = KD_VALIDATE_FIELD_GRID;
  for (PetscInt k = 0; k < nfields && teacher->nlearned < 4; k++) {
    const char *name;
    char file[64], path[PETSC_MAX_PATH_LEN], group[48];
    PetscBool exists;
    KDNet field;
    PetscReal *values;
    PetscInt N = 1, j = teacher->nlearned;
    hid_t g;
    PetscCall(KDPDEGetCoefficientFieldName(pde, k, &name));
    PetscCall(PetscSNPrintf(file, sizeof(file), "%s_field_%s.h5", teacher->model, name));
    PetscCall(KDOutputPath(dir, file, path, sizeof(path)));
    PetscCall(PetscTestFile(path, 'r', &exists));
    if (!exists) continue;
    PetscCall(KDNetLoad(comm, path, &field, NULL));
    PetscCall(KDValidateCoefficientField(pde, field, name, KD_VALIDATE_FIELD_GRID, &teacher->learned_rel_l2[j],
                                         &teacher->learned_max_err[j], &values));
    PetscCall(PetscStrncpy(teacher->learned_names[j], name, sizeof(teacher->learned_names[j])));
    teacher->nlearned++;
    for (PetscInt d = 0; d < nd; d++) N *= dims[d];
    PetscCall(PetscSNPrintf(group, sizeof(group), "field_%s", name));
    PetscCall(KDH5CreateGroup(pfile, group, &g));
    PetscCall(KDH5WriteRows(g, "true", nd, dims, 0, rank ? 0 : dims[0], values));
    PetscCall(KDH5WriteRows(g, "learned", nd, dims, 0, rank ? 0 : dims[0], values + N));
    PetscCallH5(H5Gclose(g));
    PetscCall(PetscPrintf(comm,
                          "  %s field %s: rel_l2 %.3e  max_err %.3e (against the PDE's, %d^%" PetscInt_FMT " grid)\n",
                          teacher->name, name, (double) teacher->learned_rel_l2[j],
                          (double) teacher->learned_max_err[j], KD_VALIDATE_FIELD_GRID, nd));
    PetscCall(PetscFree(values));
    PetscCall(KDNetDestroy(&field));
  }
  PetscFunctionReturn(0);
}

/* results.json, the figures, then report.md (which links the figures made). */
static PetscErrorCode KDValidateWriteOutputs(MPI_Comm comm, const KDValidateOptions *vo, const char out[],
                                             KDReference ref, KDPDE pde, const KDValidateRow rows[], PetscInt nrows)
{
  char note[512]    = "";
  PetscInt nfigures = 0;

  PetscFunctionBegin;
  PetscCall(KDValidateWriteText(comm, out, "results.json", KD_OUTPUT_JSON, ref, pde, vo, rows, nrows, NULL));
  if (vo->figures) {
    PetscCall(KDValidateRunFigures(comm, vo, out, note, sizeof(note), &nfigures));
    if (note[0]) PetscCall(PetscPrintf(comm, "kdpinn validate: warning: figures skipped: %s\n", note));
  } else
    PetscCall(PetscStrncpy(note, "-kd_validate_figures false", sizeof(note)));
  PetscCall(KDValidateWriteText(comm, out, "report.md", KD_OUTPUT_REPORT, ref, pde, vo, rows, nrows, note));
  PetscCall(PetscPrintf(
      comm, "kdpinn validate: %" PetscInt_FMT " row%s; wrote %s/results.json, report.md%s, %" PetscInt_FMT " figures\n",
      nrows, nrows == 1 ? "" : "s", out, ref ? ", predictions.h5" : "", nfigures));
  PetscFunctionReturn(0);
}

/* Without reference.h5 (a teacher trained on observations alone, docs/inverse.md): the teacher's misfit to the
   observations, the parameters it identified and its loss history; nothing is compared on a grid. The problem comes
   from the options, as train read it (-kd_pde, -<pde>_...), with the parameters the teacher identified. */
static PetscErrorCode KDValidateWithoutReference(MPI_Comm comm, const KDCommonOptions *opt, const KDValidateOptions *vo)
{
  char path[PETSC_MAX_PATH_LEN];
  KDNet net;
  KDModelInfo info;
  KDPDE pde;
  KDValidateRow row;
  PetscInt np;
  PetscBool pdeset;

  PetscFunctionBegin;
  PetscCall(KDOutputPath(opt->out, "teacher.h5", path, sizeof(path)));
  PetscCall(KDNetLoad(comm, path, &net, &info));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-kd_pde", &pdeset));
  PetscCheck(!pdeset || !strcmp(info.pde, opt->pde), comm, PETSC_ERR_ARG_INCOMP, "%s is a %s model but -kd_pde is %s",
             path, info.pde, opt->pde);
  PetscCall(KDPDECreate(comm, &pde));
  PetscCall(KDPDESetType(pde, info.pde));
  PetscCall(KDPDESetProblemFromOptions(pde));
  PetscCall(KDPDEGetNumParameters(pde, &np));
  for (PetscInt i = 0; i < np; i++) {
    const char *name;
    PetscCall(KDPDEGetParameterName(pde, i, &name));
    for (PetscInt j = 0; j < info.nparams; j++)
      if (!strcmp(info.param_names[j], name)) PetscCall(KDPDESetParameter(pde, name, info.param_values[j]));
  }
  PetscCall(KDValidateModelCheck(comm, path, pde, info.pde, &info, 0));
  PetscCall(PetscPrintf(comm, "kdpinn validate: %s, no reference: the teacher against its observations\n", info.pde));
  PetscCall(KDValidateRowInit(&row, "teacher", "teacher", "teacher", NULL, 0, net, &info));
  PetscCall(KDValidateTrainTime(comm, opt->out, net, &info, &row));
  row.err.rel_l2 = row.err.max_err = row.residual_rms = row.infer_ms = (PetscReal) NAN;
  PetscCall(KDValidateObservationMisfits(comm, vo, opt->out, pde, &row));
  PetscCall(KDValidateWriteOutputs(comm, vo, opt->out, NULL, pde, &row, 1));
  PetscCall(KDNetDestroy(&net));
  PetscCall(KDPDEDestroy(&pde));
  PetscFunctionReturn(0);
}

/*@C
  KDStageValidate - The validate stage: every model in -kd_out against the reference of its level; writes results.json,
  report.md, predictions.h5, prediction_<row>.xmf and the figures (figures/<row>.png ...).

  Collective

  Options Database Keys:
+ -kd_out, -kd_pde                   - see KDGetCommonOptions(); -kd_pde, if given, must match the reference's PDE
. -kd_validate_repeats <5>           - timed evaluations per level grid (median reported), after one warm-up
. -kd_validate_quad <3>              - Gauss-Legendre nodes per axis of the teacher's cell averages on coarser levels
. -kd_validate_residual_points <262144> - at most this many cell centres for the residual RMS (0: all)
. -kd_validate_figures <true>        - make figures with kdpinn-report.py
. -kd_validate_python <python>       - interpreter of the figure script (default: python3, then /usr/bin/python3)
. -kd_validate_script <path>         - the figure script (default: next to the executable)
- -help                              - list the options, validate nothing

  Notes:
  Models: teacher.h5 (level 0; required), student_L<l>.h5 and scratch_L<l>.h5 (level l) when present. Each is
  compared at the cell centres of its level; the teacher also on each coarser level l by its cell average
("teacher@L<l>"). Missing python3, h5py or matplotlib only skip the figures, with one warning line. Without
  reference.h5 (a teacher trained on observations alone) the teacher is validated by its misfit to the observations
  (-teacher_observations, -kd_validate_observations; one of them is then required) and the parameters it identified.

.seealso: KDValidateCompare(), KDValidateResidualRMS(), KDValidateInferenceTime(), docs/validation.md
@*/
PetscErrorCode KDStageValidate(MPI_Comm comm)
{
  KDCommonOptions opt;
  KDValidateOptions vo;
  PetscLogStage stage;
  PetscBool help, exists, haveteacher, pdeset;
  char refpath[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN], ptmp[PETSC_MAX_PATH_LEN], ppath[PETSC_MAX_PATH_LEN];
  KDReference ref;
  KDPDE pde;
  KDValidateRow *rows;
  PetscInt nrows = 0, nlevels;
  const char *refpde;
  hid_t pfile = -1;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscCall(KDValidateGetOptions(comm, &vo));
  PetscCall(KDHelpRequested(&help));
  if (help) PetscFunctionReturn(0);
  PetscCall(KDOutputPath(opt.out, "reference.h5", refpath, sizeof(refpath)));
  PetscCall(PetscTestFile(refpath, 'r', &exists));
  PetscCheck(exists || vo.observations[0][0] || vo.observations[1][0], comm, PETSC_ERR_FILE_OPEN,
             "%s not found: run `kdpinn solve` first (with the same -kd_out), or validate a teacher trained on "
             "observations with -teacher_observations or -kd_validate_observations",
             refpath);
  PetscCall(KDOutputPath(opt.out, "teacher.h5", path, sizeof(path)));
  PetscCall(PetscTestFile(path, 'r', &haveteacher));
  PetscCheck(haveteacher, comm, PETSC_ERR_FILE_OPEN, "%s not found: run `kdpinn train` first (with the same -kd_out)",
             path);
  PetscCall(KDOutputDirCheck(comm, opt.out));
  PetscCall(KDOutputLock(comm, opt.out, "results.json")); /* and report.md, figures/, the predictions */
  PetscCall(KDOutputLock(comm, opt.out, "predictions.h5"));
  PetscCall(KDLogStageGet("Validate", &stage));
  PetscCall(PetscLogStagePush(stage));
  if (!exists) {
    PetscCall(KDValidateWithoutReference(comm, &opt, &vo));
    PetscCall(PetscLogStagePop());
    PetscFunctionReturn(0);
  }

  PetscCall(KDReferenceLoad(comm, refpath, &ref));
  PetscCall(KDReferenceGetPDE(ref, &refpde));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-kd_pde", &pdeset));
  PetscCheck(!pdeset || !strcmp(refpde, opt.pde), comm, PETSC_ERR_ARG_INCOMP,
             "%s holds a %s solution but -kd_pde is %s: use the -kd_pde it was solved with", refpath, refpde, opt.pde);
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  PetscCall(KDPDECreate(comm, &pde));
  PetscCall(KDPDESetFromReference(pde, ref));
  PetscCall(PetscCalloc1(KD_VALIDATE_MAX_ROWS, &rows));

  PetscCall(KDOutputPath(opt.out, "predictions.h5", ppath, sizeof(ppath)));
  PetscCall(KDFileTemporaryName(ppath, ptmp, sizeof(ptmp)));
  PetscCall(PetscPrintf(comm, "kdpinn validate: %s, %" PetscInt_FMT " levels\n", refpde, nlevels));
  ierr = KDValidateCreatePredictions(comm, ref, ptmp, &pfile);
  if (!ierr) ierr = KDValidateModels(comm, &vo, opt.out, ref, pde, pfile, rows, &nrows);
  if (!ierr) ierr = KDValidateLearnedFields(comm, opt.out, pde, pfile, rows);
  if (!ierr) ierr = KDValidateObservationMisfits(comm, &vo, opt.out, pde, rows);
  if (!ierr) ierr = KDH5Close(&pfile);
  if (ierr) { /* no predictions.h5.part left behind */
    PetscCall(KDH5Abandon(&pfile));
    PetscCall(ierr);
  }
  PetscCall(KDFileCommit(comm, ptmp, ppath));
  for (PetscInt i = 0; i < nrows; i++) PetscCall(KDValidateWriteXDMF(comm, opt.out, ref, &rows[i], rows[i].model));
  PetscCall(KDValidateWriteOutputs(comm, &vo, opt.out, ref, pde, rows, nrows));

  PetscCall(PetscFree(rows));
  PetscCall(KDPDEDestroy(&pde));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}
