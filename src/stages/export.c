#include <kdstages.h>
#include <kdexport.h>
#include <kdvalidate.h>
#include "sys/kdio.h"
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

/*
  kdpinn export: one model file -> standalone C (docs/export.md).
  kdpinn bench:  latency, frames per second and accuracy of every model as the library evaluates it (f64) and as
                 exported code (f64, f32, int8) compiled by the system C compiler (docs/benchmarks.md).

  The bench compiles each exported source into a shared object (-kd_bench_cc, -kd_bench_cflags, default
  cc -O3 -march=native) and loads it with dlopen(), so the library and the exported kernels are timed in the same
  process, on the same points, with the same clock.
*/

/* Options shared by export and bench: where int8 calibration points come from. */
typedef struct {
  char reference[PETSC_MAX_PATH_LEN]; /* empty: none */
  PetscInt level;                     /* -1: the model's level */
  PetscInt maxpoints;
  KDInt8Scale mode;
  PetscInt abits;  /* bits of the int8 scheme's activation levels */
  PetscInt search; /* nodes of the int8 weight search per channel and scale (0: none) */
} KDCalibrationOptions;

/* Called between PetscOptionsBegin() and PetscOptionsEnd() of a stage, with that block's options object. */
static PetscErrorCode KDCalibrationGetOptions(PetscOptionItems *PetscOptionsObject, MPI_Comm comm,
                                              const KDCommonOptions *opt, KDCalibrationOptions *co)
{
  char def[PETSC_MAX_PATH_LEN];
  PetscBool set, exists;

  PetscFunctionBegin;
  PetscCall(KDOutputPath(opt->out, "reference.h5", def, sizeof(def)));
  PetscCall(PetscStrncpy(co->reference, def, sizeof(co->reference)));
  co->level     = -1;
  co->maxpoints = 65536;
  co->mode      = KD_INT8_SCALE_LAYER;
  co->abits     = 16;
  co->search    = 0;
  PetscCall(PetscOptionsString("-kd_reference",
                               "Reference file whose level grid calibrates int8 activations (default "
                               "<kd_out>/reference.h5; if absent, a regular grid over the input box)",
                               "KDQuantizedNetCreate", co->reference, co->reference, sizeof(co->reference), &set));
  PetscCall(
      KDOptionsInt("-kd_calibration_level",
                   "Level of the reference whose cell centres calibrate int8 activations (default: the model's level)",
                   "KDQuantizedNetCreate", co->level, &co->level, NULL));
  PetscCall(KDOptionsInt(
      "-kd_calibration_points",
      "At most this many calibration points (a regular subset of the level grid, or the size of the box grid)",
      "KDQuantizedNetCreate", co->maxpoints, &co->maxpoints, NULL));
  PetscCall(KDOptionsEnum("-kd_int8_scale", "int8 activation scales: one per layer or one per unit (channel)",
                          "KDQuantizedNetCreate", KDInt8Scales, (PetscEnum) co->mode, (PetscEnum *) &co->mode, NULL));
  PetscCall(KDOptionsInt("-kd_int8_activation_bits",
                         "Bits of the int8 scheme's activation levels, sign included: 16 (int8 x int16 products) or "
                         "down to 8 (int8 x int8)",
                         "KDQuantizedNetCreate", co->abits, &co->abits, NULL));
  PetscCheck(co->abits >= 8 && co->abits <= 16, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_int8_activation_bits must be 8 to 16, got %" PetscInt_FMT, co->abits);
  PetscCall(KDOptionsInt("-kd_int8_search",
                         "Refine the int8 weights by an integer search per output channel, weighted by the outputs' "
                         "sensitivity, over 36 scales, then a polish against the network: at most this many nodes per "
                         "channel and scale (0: no search)",
                         "KDQuantizedNetCreate", co->search, &co->search, NULL));
  PetscCheck(co->search >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-kd_int8_search must be >= 0, got %" PetscInt_FMT,
             co->search);
  PetscCheck(co->maxpoints >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_calibration_points must be >= 1, got %" PetscInt_FMT, co->maxpoints);
  PetscCall(PetscTestFile(co->reference, 'r', &exists));
  PetscCheck(exists || !set, comm, PETSC_ERR_FILE_OPEN, "-kd_reference %s: no such file", co->reference);
  if (!exists) co->reference[0] = 0;
  PetscFunctionReturn(0);
}

/* Calibration points of a model: a regular subset of the level grid of the reference, or the box grid. desc says which.
 */
static PetscErrorCode KDCalibrationPoints(MPI_Comm comm, const KDCalibrationOptions *co, KDNet net,
                                          const KDModelInfo *info, PetscInt *n, PetscReal **x, char desc[], size_t len)
{
  PetscInt nin;

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, &nin, NULL, NULL));
  if (co->reference[0]) {
    KDReference ref;
    PetscInt level = co->level >= 0 ? co->level : info->level, nall, stride;
    PetscReal *xall;
    PetscCall(KDReferenceLoad(comm, co->reference, &ref));
    PetscCall(KDExportLevelPoints(net, info, ref, level, &nall, &xall));
    PetscCall(KDReferenceDestroy(&ref));
    stride = (nall + co->maxpoints - 1) / co->maxpoints;
    *n     = (nall + stride - 1) / stride;
    PetscCall(PetscMalloc1(*n * nin, x));
    for (PetscInt p = 0; p < *n; p++) PetscCall(PetscArraycpy(*x + p * nin, xall + p * stride * nin, nin));
    PetscCall(PetscFree(xall));
    PetscCall(PetscSNPrintf(desc, len, "%" PetscInt_FMT " cell centres of level %" PetscInt_FMT " of %s", *n, level,
                            co->reference));
  } else {
    PetscCall(KDExportBoxPoints(net, co->maxpoints, n, x));
    PetscCall(PetscSNPrintf(desc, len, "a regular grid of %" PetscInt_FMT " points over the input box", *n));
  }
  PetscFunctionReturn(0);
}

/* The file name without directory and .h5: the default C name. */
static PetscErrorCode KDModelBaseName(const char path[], char name[], size_t len)
{
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  size_t n = strlen(base);

  PetscFunctionBegin;
  if (n > 3 && !strcmp(base + n - 3, ".h5")) n -= 3;
  PetscCheck(n > 0 && n < len, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "model file name %s is empty or too long", path);
  for (size_t i = 0; i < n; i++) {
    const char c = base[i];
    name[i] =
        ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && i > 0) || c == '_') ? c : '_';
  }
  name[n] = 0;
  PetscFunctionReturn(0);
}

/* What a model carries beyond the MLP that the standalone C code does not compute (docs/model-format.md): an output
   addend or factor, or input features, as "the output addend 'name'", ...; "" for a plain MLP. */
static PetscErrorCode KDExportNotPlain(KDNet net, char what[], size_t len)
{
  const char *addend, *factor, *features;

  PetscFunctionBegin;
  PetscCall(KDNetGetOutputAddend(net, &addend, NULL, NULL));
  PetscCall(KDNetGetOutputFactor(net, &factor, NULL, NULL, NULL));
  PetscCall(KDNetGetInputFeatures(net, &features, NULL, NULL, NULL));
  what[0] = 0;
  if (addend[0])
    PetscCall(PetscSNPrintf(what, len, "the output addend '%s'", addend));
  else if (factor[0])
    PetscCall(PetscSNPrintf(what, len, "the output factor '%s'", factor));
  else if (features[0])
    PetscCall(PetscSNPrintf(what, len, "the input features '%s'", features));
  PetscFunctionReturn(0);
}

/* The standalone C code is the MLP alone: a model that carries more (KDExportNotPlain()) is refused rather than
   exported without it. */
static PetscErrorCode KDExportCheckPlain(MPI_Comm comm, KDNet net, const char path[])
{
  char what[80];

  PetscFunctionBegin;
  PetscCall(KDExportNotPlain(net, what, sizeof(what)));
  PetscCheck(!what[0], comm, PETSC_ERR_SUP,
             "model %s carries %s, which the exported C code does not compute: export a model without one (a student)",
             path, what);
  PetscFunctionReturn(0);
}

/*@C
  KDStageExport - The export stage: writes a model as standalone C (KDExportWrite()).

  Collective

  Options Database Keys:
+ -kd_model <file>              - the model (default <kd_out>/student_L1.h5)
. -kd_precision <f64,f32,int8>  - arithmetic of the exported code (default f32)
. -o <dir>, -kd_export_dir <dir> - output directory (default <kd_out>/export)
. -kd_export_name <name>        - C prefix: <name>_eval, <name>.h, ... (default: the model file's name)
. -kd_reference <file>          - int8 calibration: reference whose level grid is used (default <kd_out>/reference.h5 if
present) . -kd_calibration_level <l>     - int8 calibration: level of that grid (default: the model's level) .
-kd_calibration_points <n>    - int8 calibration: at most n points (default 65536)
. -kd_int8_scale <layer,channel> - int8 activation scales: one per layer (default) or one per unit
- -kd_int8_activation_bits <b>  - int8: bits of the activation levels, 8 to 16 (default 16)
@*/

PetscErrorCode KDStageExport(MPI_Comm comm)
{
  KDCommonOptions opt;
  KDCalibrationOptions co;
  char model[PETSC_MAX_PATH_LEN], dir[PETSC_MAX_PATH_LEN], name[200] = "", desc[PETSC_MAX_PATH_LEN + 128] = "";
  KDPrecision prec = KD_PRECISION_F32;
  PetscBool help, set;
  PetscLogStage stage;
  KDNet net;
  KDModelInfo info;
  KDQuantizedNet q = NULL;

  PetscFunctionBegin;
  PetscCall(KDHelpRequested(&help));
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscCall(KDOutputPath(opt.out, "student_L1.h5", model, sizeof(model)));
  PetscCall(KDOutputPath(opt.out, "export", dir, sizeof(dir)));
  PetscOptionsBegin(comm, NULL, "kdpinn export options", NULL);
  PetscCall(
      PetscOptionsString("-kd_model", "Model file to export", "KDStageExport", model, model, sizeof(model), NULL));
  PetscCall(KDOptionsEnum("-kd_precision", "Arithmetic of the exported code", "KDExportWrite", KDPrecisions,
                          (PetscEnum) prec, (PetscEnum *) &prec, NULL));
  PetscCall(PetscOptionsString("-kd_export_dir", "Directory of the exported files (default <kd_out>/export)",
                               "KDStageExport", dir, dir, sizeof(dir), NULL));
  PetscCall(PetscOptionsString("-o", "Same as -kd_export_dir", "KDStageExport", dir, dir, sizeof(dir), NULL));
  PetscCall(PetscOptionsString("-kd_export_name",
                               "C prefix of the exported function and files (default: the model file's name)",
                               "KDExportWrite", name, name, sizeof(name), &set));
  PetscCall(KDCalibrationGetOptions(PetscOptionsObject, comm, &opt, &co));
  PetscOptionsEnd();
  if (help) PetscFunctionReturn(0);
  if (!name[0]) PetscCall(KDModelBaseName(model, name, sizeof(name)));

  PetscCall(KDLogStageGet("Export", &stage));
  PetscCall(PetscLogStagePush(stage));
  PetscCall(KDNetLoad(comm, model, &net, &info));
  PetscCall(KDExportCheckPlain(comm, net, model));
  PetscCall(KDOutputDirCheck(comm, dir));
  {
    char file[PETSC_MAX_PATH_LEN];
    PetscCall(PetscSNPrintf(file, sizeof(file), "%s.c", name)); /* and its .h and _main.c */
    PetscCall(KDOutputLock(comm, dir, file));
  }
  if (prec == KD_PRECISION_INT8) {
    PetscInt n;
    PetscReal *x;
    PetscCall(KDCalibrationPoints(comm, &co, net, &info, &n, &x, desc, sizeof(desc)));
    PetscCall(KDQuantizedNetCreate(net, co.mode, co.abits, co.search, n, x, &q));
    PetscCall(PetscFree(x));
  }
  PetscCall(KDExportWrite(net, &info, prec, q, name, dir));
  PetscCall(PetscPrintf(comm, "kdpinn export: %s -> %s/%s.h, %s.c, %s_main.c (%s)\n", model, dir, name, name, name,
                        KDPrecisions[prec]));
  if (q) {
    PetscReal predicted, measured;
    PetscCall(KDQuantizedNetGetErrorEstimate(q, &predicted, &measured));
    PetscCall(PetscPrintf(comm,
                          "kdpinn export: int8 calibrated on %s, %" PetscInt_FMT
                          "-bit activations, scales per %s: relative L2 error vs f64 there %.3e (noise model %.3e)\n",
                          desc, co.abits, co.mode == KD_INT8_SCALE_LAYER ? "layer" : "unit", (double) measured,
                          (double) predicted));
  }
  PetscCall(KDQuantizedNetDestroy(&q));
  PetscCall(KDNetDestroy(&net));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* kdpinn bench */
/* ------------------------------------------------------------------------------------------------------------------ */

#define KD_BENCH_MAX_MODELS 16
#define KD_BENCH_VARIANTS 4
#define KD_BENCH_MAX_FLAGS 64 /* words in -kd_bench_cflags */

/* What is timed: the library (f64) and the three exported kernels. */
static const char *const KDBenchVariants[KD_BENCH_VARIANTS] = {"f64", "f64_export", "f32_export", "int8_export"};

typedef void (*KDExportedF64)(int, const double *, double *);
typedef void (*KDExportedF32)(int, const float *, float *);

typedef struct {
  KDNet net;            /* variant 0 */
  KDExportedF64 f64;    /* variant 1 */
  KDExportedF32 f32[2]; /* variants 2, 3 */
} KDBenchKernels;

typedef struct {
  PetscReal latency_us, batch_ms, field_ms, fps, loss_vs_f64, err_vs_ref;
} KDBenchFigures;

typedef struct {
  char name[64], file[PETSC_MAX_PATH_LEN];
  PetscInt level, params, nwidths, widths[KD_NET_MAX_LAYERS + 1], field_points, field_shape[KD_MAX_DIM], field_dim;
  char field_kind[32];
  PetscInt ref_points;
  PetscReal int8_predicted, int8_measured;
  PetscBool measured[KD_BENCH_VARIANTS]; /* the variants timed (-kd_bench_variants) */
  KDBenchFigures fig[KD_BENCH_VARIANTS];
} KDBenchModel;

typedef struct {
  PetscInt repeats, warmup, field, nmodels;
  char cc[PETSC_MAX_PATH_LEN], cflags[PETSC_MAX_PATH_LEN], dir[PETSC_MAX_PATH_LEN];
  PetscBool cflags_missing; /* -kd_bench_cflags given without a value (a value starting with '-' is an option) */
  char *models[KD_BENCH_MAX_MODELS];
  PetscReal sample_ms;
  PetscBool use[KD_BENCH_VARIANTS]; /* -kd_bench_variants; the library (f64) always: every loss is against it */
} KDBenchOptions;

/* JSON has no NaN or infinity: a number that is not finite is null. */
static PetscErrorCode KDTextReal(KDText *t, PetscReal v)
{
  PetscFunctionBegin;
  if (PetscIsInfOrNanReal(v))
    PetscCall(KDTextAppend(t, "null"));
  else
    PetscCall(KDTextAppend(t, "%.6g", (double) v));
  PetscFunctionReturn(0);
}

static int KDBenchCompareReal(const void *a, const void *b)
{
  const PetscReal u = *(const PetscReal *) a, v = *(const PetscReal *) b;
  return u < v ? -1 : (u > v ? 1 : 0);
}

/* One evaluation of variant v at n points (x: double or float copies of the same points). */
static PetscErrorCode KDBenchCall(const KDBenchKernels *k, PetscInt v, PetscInt n, const PetscReal xd[],
                                  const float xf[], PetscReal yd[], float yf[])
{
  PetscFunctionBegin;
  if (v == 0)
    PetscCall(KDNetEvaluate(k->net, n, xd, yd));
  else if (v == 1)
    k->f64((int) n, xd, yd);
  else
    k->f32[v - 2]((int) n, xf, yf);
  PetscFunctionReturn(0);
}

/* Median time of one call at n points, in seconds: warm-up calls, then `repeats` samples, each the mean of enough
   consecutive calls to last about sample_ms (one call for anything slower). */
static PetscErrorCode KDBenchTime(const KDBenchOptions *bo, const KDBenchKernels *k, PetscInt v, PetscInt n,
                                  const PetscReal xd[], const float xf[], PetscReal yd[], float yf[],
                                  PetscReal *seconds)
{
  PetscLogDouble t0, t1;
  PetscReal *t, one = 0;
  PetscInt m;

  PetscFunctionBegin;
  PetscCall(PetscTime(&t0));
  for (PetscInt w = 0; w < PetscMax(bo->warmup, 1); w++) PetscCall(KDBenchCall(k, v, n, xd, xf, yd, yf));
  PetscCall(PetscTime(&t1));
  one = (PetscReal) (t1 - t0) / (PetscReal) PetscMax(bo->warmup, 1);
  m   = one > 0 ? (PetscInt) PetscMin(100000.0, PetscCeilReal(1e-3 * bo->sample_ms / one)) : 100000;
  m   = PetscMax(m, 1);
  PetscCall(PetscMalloc1(bo->repeats, &t));
  for (PetscInt r = 0; r < bo->repeats; r++) {
    PetscCall(PetscTime(&t0));
    for (PetscInt i = 0; i < m; i++) PetscCall(KDBenchCall(k, v, n, xd, xf, yd, yf));
    PetscCall(PetscTime(&t1));
    t[r] = (PetscReal) (t1 - t0) / (PetscReal) m;
  }
  qsort(t, (size_t) bo->repeats, sizeof(PetscReal), KDBenchCompareReal);
  *seconds = bo->repeats % 2 ? t[bo->repeats / 2] : 0.5 * (t[bo->repeats / 2 - 1] + t[bo->repeats / 2]);
  PetscCall(PetscFree(t));
  PetscFunctionReturn(0);
}

/* Exports one precision into dir, compiles it into a shared object and loads <name>_eval from it. */
static PetscErrorCode KDBenchBuild(const KDBenchOptions *bo, KDNet net, const KDModelInfo *info, KDPrecision prec,
                                   KDQuantizedNet q, const char model[], void **handle, void **fn)
{
  char name[128], src[PETSC_MAX_PATH_LEN], so[PETSC_MAX_PATH_LEN], log[PETSC_MAX_PATH_LEN], sym[160];
  int status;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s_%s", model, KDPrecisions[prec]));
  PetscCall(KDExportWrite(net, info, prec, q, name, bo->dir));
  PetscCall(PetscSNPrintf(src, sizeof(src), "%s/%s.c", bo->dir, name));
  PetscCall(PetscSNPrintf(so, sizeof(so), "%s/%s.so", bo->dir, name));
  PetscCall(PetscSNPrintf(log, sizeof(log), "%s/%s.log", bo->dir, name));
  {
    /* cc flags... -fPIC -shared -o so src -lm, run without a shell: the options are words, never commands */
    char cc[sizeof(bo->cc)], flags[sizeof(bo->cflags)], *argv[KD_BENCH_MAX_FLAGS + 9];
    int nflags, argc = 0;
    PetscCall(PetscStrncpy(cc, bo->cc, sizeof(cc)));
    PetscCall(PetscStrncpy(flags, bo->cflags, sizeof(flags)));
    argv[argc++] = cc;
    PetscCall(KDSplitWords(flags, argv + argc, KD_BENCH_MAX_FLAGS, &nflags));
    argc += nflags;
    argv[argc++] = (char *) "-fPIC";
    argv[argc++] = (char *) "-shared";
    argv[argc++] = (char *) "-o";
    argv[argc++] = so;
    argv[argc++] = src;
    argv[argc++] = (char *) "-lm";
    argv[argc]   = NULL;
    PetscCall(KDRunProgram(argv, log, &status));
  }
  PetscCheck(status == 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "compiling %s failed (-kd_bench_cc %s -kd_bench_cflags '%s'), see %s", src, bo->cc, bo->cflags, log);
  *handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  PetscCheck(*handle, PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot load %s: %s", so, dlerror());
  PetscCall(PetscSNPrintf(sym, sizeof(sym), "%s_eval", name));
  *fn = dlsym(*handle, sym);
  PetscCheck(*fn, PETSC_COMM_SELF, PETSC_ERR_LIB, "%s has no function %s", so, sym);
  PetscFunctionReturn(0);
}

/* ||a - b|| / ||b|| over the n values of nout outputs, y[o * n + p] (KDValidateFieldErrors() on one rank). */
static PetscErrorCode KDBenchRelL2(PetscInt nout, PetscInt n, const PetscReal a[], const PetscReal b[], PetscReal *e)
{
  KDValidateErrors err;
  const PetscReal *r[KD_NET_MAX_OUT];
  PetscReal *pred;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&err, sizeof(err)));
  for (PetscInt o = 0; o < nout; o++) r[o] = b + o * n;
  PetscCall(PetscMalloc1(nout * n, &pred));
  PetscCall(PetscArraycpy(pred, a, nout * n));
  PetscCall(KDValidateFieldErrors(PETSC_COMM_SELF, nout, n, n, r, pred, &err));
  PetscCall(PetscFree(pred));
  *e = err.rel_l2;
  PetscFunctionReturn(0);
}

/* Evaluates every variant in use at n points; y[v] (nout * n values each) in double. */
static PetscErrorCode KDBenchEvaluateAll(const KDBenchKernels *k, const PetscBool use[], PetscInt nin, PetscInt nout,
                                         PetscInt n, const PetscReal x[], PetscReal *y[])
{
  float *xf, *yf;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(n * nin, &xf, n * nout, &yf));
  for (PetscInt i = 0; i < n * nin; i++) xf[i] = (float) x[i];
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) {
    if (!use[v]) continue;
    PetscCall(KDBenchCall(k, v, n, x, xf, y[v], yf));
    if (v >= 2)
      for (PetscInt i = 0; i < n * nout; i++) y[v][i] = (PetscReal) yf[i];
  }
  PetscCall(PetscFree2(xf, yf));
  PetscFunctionReturn(0);
}

/* Accuracy against the reference on the model's level: point values at the cell centres, outputs matched to fields by
   name, the gauge output (cavity p) with means removed, as kdpinn validate compares a model on its own level (except a
   teacher on level 0 of a coarsened reference, which validate compares by cell averages). Sets err_vs_ref of every
   variant (NaN without a reference). */
static PetscErrorCode KDBenchReferenceErrors(KDReference ref, const KDModelInfo *info, const KDBenchKernels *k,
                                             KDNet net, KDBenchModel *bm)
{
  PetscInt nin, nout, n, nmatch = 0, gauge = -1, nlevels, out[KD_NET_MAX_OUT];
  PetscReal *x, *y[KD_BENCH_VARIANTS], *yr, *ym;
  char **names;
  int nnames;
  KDPDE pde;
  PetscBool has;

  PetscFunctionBegin;
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) bm->fig[v].err_vs_ref = (PetscReal) NAN;
  bm->ref_points = 0;
  if (!ref) PetscFunctionReturn(0);
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  if (info->level >= nlevels) PetscFunctionReturn(0);
  PetscCall(KDNetGetSizes(net, &nin, &nout, NULL));
  PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
  PetscCall(KDPDESetType(pde, info->pde));
  PetscCall(KDPDEGetGauge(pde, &has, NULL, &gauge));
  PetscCall(KDPDEDestroy(&pde));
  PetscCall(PetscStrToArray(info->outputs, ',', &nnames, &names));
  PetscCall(KDExportLevelPoints(net, info, ref, info->level, &n, &x));
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) PetscCall(PetscMalloc1(n * nout, &y[v]));
  PetscCall(KDBenchEvaluateAll(k, bm->measured, nin, nout, n, x, y));
  PetscCall(PetscMalloc2(n * nout, &yr, n * nout, &ym));
  for (PetscInt o = 0; o < nout && o < nnames; o++) {
    PetscInt nf;
    PetscCall(KDReferenceGetNumFields(ref, &nf));
    for (PetscInt f = 0; f < nf; f++) {
      const char *fname;
      PetscBool same;
      Vec vec;
      const PetscScalar *a;
      PetscCall(KDReferenceGetFieldName(ref, f, &fname));
      PetscCall(PetscStrcmp(fname, names[o], &same));
      if (!same) continue;
      PetscCall(KDReferenceGetField(ref, info->level, fname, &vec));
      PetscCall(VecGetArrayRead(vec, &a));
      for (PetscInt p = 0; p < n; p++) yr[nmatch * n + p] = PetscRealPart(a[p]);
      PetscCall(VecRestoreArrayRead(vec, &a));
      out[nmatch++] = o;
    }
  }
  if (nmatch) {
    KDValidateErrors err;
    const PetscReal *r[KD_NET_MAX_OUT];
    PetscCall(PetscMemzero(&err, sizeof(err)));
    for (PetscInt j = 0; j < nmatch; j++) {
      r[j]                = yr + j * n;
      err.mean_removed[j] = (has && out[j] == gauge) ? PETSC_TRUE : PETSC_FALSE;
    }
    for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) {
      if (!bm->measured[v]) continue;
      for (PetscInt j = 0; j < nmatch; j++) PetscCall(PetscArraycpy(ym + j * n, y[v] + out[j] * n, n));
      PetscCall(KDValidateFieldErrors(PETSC_COMM_SELF, nmatch, n, n, r, ym, &err));
      bm->fig[v].err_vs_ref = err.rel_l2;
    }
    bm->ref_points = n;
  }
  PetscCall(PetscFree2(yr, ym));
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) PetscCall(PetscFree(y[v]));
  PetscCall(PetscFree(x));
  PetscCall(PetscStrToArrayDestroy(nnames, names));
  PetscFunctionReturn(0);
}

/* The full field of a model: steady models (a PDE without a time input) a field x field grid over the box; space-time
   models the level grid of the reference (without one, the box grid of about field^2 points). */
static PetscErrorCode KDBenchFieldPoints(const KDBenchOptions *bo, KDNet net, const KDModelInfo *info, KDReference ref,
                                         KDBenchModel *bm, PetscInt *n, PetscReal **x)
{
  PetscBool spacetime = PETSC_FALSE;
  PetscInt nin, nlevels = 0;

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, &nin, NULL, NULL));
  {
    KDPDE pde;
    PetscInt tin;
    PetscCall(KDPDECreate(PETSC_COMM_SELF, &pde));
    PetscCall(KDPDESetType(pde, info->pde));
    PetscCall(KDPDEGetTimeInput(pde, &tin));
    spacetime = tin >= 0 ? PETSC_TRUE : PETSC_FALSE;
    PetscCall(KDPDEDestroy(&pde));
  }
  if (ref) PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  if (spacetime && ref && info->level < nlevels) {
    PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM];
    PetscCall(KDExportLevelPoints(net, info, ref, info->level, n, x));
    PetscCall(KDReferenceGetLevelGrid(ref, info->level, &bm->field_dim, bm->field_shape, lo, hi));
    PetscCall(PetscSNPrintf(bm->field_kind, sizeof(bm->field_kind), "level %" PetscInt_FMT " grid", info->level));
  } else {
    PetscInt m;
    PetscCall(KDExportBoxPoints(net, bo->field * bo->field, n, x));
    m             = (PetscInt) PetscFloorReal(PetscPowReal((PetscReal) *n, 1.0 / (PetscReal) nin) + 0.5);
    bm->field_dim = nin;
    for (PetscInt i = 0; i < nin; i++) bm->field_shape[i] = m;
    PetscCall(PetscStrncpy(bm->field_kind, "box grid", sizeof(bm->field_kind)));
  }
  bm->field_points = *n;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDBenchModelRun(const KDBenchOptions *bo, const KDCalibrationOptions *co, KDReference ref,
                                      const char path[], KDBenchModel *bm)
{
  KDNet net;
  KDModelInfo info;
  KDQuantizedNet q;
  KDBenchKernels k;
  void *handle[3] = {NULL, NULL, NULL}, *fn[3];
  PetscInt nin, nout, nf, ncal, nw;
  const PetscInt *w;
  PetscReal *xf, *xcal, *y[KD_BENCH_VARIANTS], *yd;
  float *xs, *ys;
  char desc[PETSC_MAX_PATH_LEN + 128];

  PetscFunctionBegin;
  PetscCall(KDNetLoad(PETSC_COMM_SELF, path, &net, &info));
  PetscCall(KDExportCheckPlain(PETSC_COMM_SELF, net, path));
  PetscCall(KDNetGetSizes(net, &nin, &nout, &bm->params));
  PetscCall(KDNetGetWidths(net, &nw, &w));
  bm->nwidths = nw;
  PetscCall(PetscArraycpy(bm->widths, w, nw));
  bm->level = info.level;
  PetscCall(PetscStrncpy(bm->file, path, sizeof(bm->file)));
  PetscCall(KDModelBaseName(path, bm->name, sizeof(bm->name)));

  PetscCall(PetscArraycpy(bm->measured, bo->use, KD_BENCH_VARIANTS));
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) {
    KDBenchFigures *f = &bm->fig[v];
    f->latency_us = f->batch_ms = f->field_ms = f->fps = f->loss_vs_f64 = f->err_vs_ref = (PetscReal) NAN;
  }
  bm->int8_predicted = bm->int8_measured = (PetscReal) NAN;
  q                                      = NULL;
  if (bo->use[3]) {
    PetscCall(KDCalibrationPoints(PETSC_COMM_SELF, co, net, &info, &ncal, &xcal, desc, sizeof(desc)));
    PetscCall(KDQuantizedNetCreate(net, co->mode, co->abits, co->search, ncal, xcal, &q));
    PetscCall(KDQuantizedNetGetErrorEstimate(q, &bm->int8_predicted, &bm->int8_measured));
    PetscCall(PetscFree(xcal));
  }
  PetscCall(PetscMemzero(&k, sizeof(k)));
  k.net = net;
  {
    const KDPrecision prec[3] = {KD_PRECISION_F64, KD_PRECISION_F32, KD_PRECISION_INT8};
    for (PetscInt i = 0; i < 3; i++)
      if (bo->use[i + 1])
        PetscCall(KDBenchBuild(bo, net, &info, prec[i], i == 2 ? q : NULL, bm->name, &handle[i], &fn[i]));
  }
  /* POSIX guarantees that a dlsym() result converts to a function pointer */
  if (bo->use[1]) memcpy(&k.f64, &fn[0], sizeof(k.f64));
  if (bo->use[2]) memcpy(&k.f32[0], &fn[1], sizeof(k.f32[0]));
  if (bo->use[3]) memcpy(&k.f32[1], &fn[2], sizeof(k.f32[1]));

  /* timings: 1 point, 1024 points (a regular subset of the field), the full field */
  PetscCall(KDBenchFieldPoints(bo, net, &info, ref, bm, &nf, &xf));
  PetscCall(PetscMalloc4(nf * nin, &xs, nf * nout, &ys, nf * nout, &yd, 1024 * nin, &xcal));
  for (PetscInt i = 0; i < nf * nin; i++) xs[i] = (float) xf[i];
  for (PetscInt p = 0; p < 1024; p++)
    for (PetscInt i = 0; i < nin; i++) xcal[p * nin + i] = xf[((p * nf) / 1024) * nin + i];
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) {
    PetscReal t = 0;
    float *xb   = NULL;
    if (!bo->use[v]) continue;
    PetscCall(KDBenchTime(bo, &k, v, 1, xf + (nf / 2) * nin, xs + (nf / 2) * nin, yd, ys, &t));
    bm->fig[v].latency_us = 1e6 * t;
    PetscCall(PetscMalloc1(1024 * nin, &xb));
    for (PetscInt i = 0; i < 1024 * nin; i++) xb[i] = (float) xcal[i];
    PetscCall(KDBenchTime(bo, &k, v, 1024, xcal, xb, yd, ys, &t));
    PetscCall(PetscFree(xb));
    bm->fig[v].batch_ms = 1e3 * t;
    PetscCall(KDBenchTime(bo, &k, v, nf, xf, xs, yd, ys, &t));
    bm->fig[v].field_ms = 1e3 * t;
    bm->fig[v].fps      = t > 0 ? 1.0 / t : (PetscReal) NAN;
  }
  /* accuracy on the field: every variant against the library */
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) PetscCall(PetscMalloc1(nf * nout, &y[v]));
  PetscCall(KDBenchEvaluateAll(&k, bo->use, nin, nout, nf, xf, y));
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++)
    if (bo->use[v]) PetscCall(KDBenchRelL2(nout, nf, y[v], y[0], &bm->fig[v].loss_vs_f64));
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) PetscCall(PetscFree(y[v]));
  PetscCall(KDBenchReferenceErrors(ref, &info, &k, net, bm));

  PetscCall(PetscFree4(xs, ys, yd, xcal));
  PetscCall(PetscFree(xf));
  for (PetscInt i = 0; i < 3; i++)
    if (handle[i]) (void) dlclose(handle[i]);
  PetscCall(KDQuantizedNetDestroy(&q));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Output: the "bench" member of results.json (merged), bench.json and bench.md */
/* ------------------------------------------------------------------------------------------------------------------ */

static PetscErrorCode KDBenchJSON(const KDBenchOptions *bo, PetscInt nm, const KDBenchModel bm[], KDText *t)
{
  PetscFunctionBegin;
  PetscCall(KDTextAppend(t,
                         "{\n    \"settings\": {\"repeats\": %d, \"warmup\": %d, \"statistic\": \"median\", "
                         "\"sample_ms\": %g, \"threads\": 1, ",
                         (int) bo->repeats, (int) bo->warmup, (double) bo->sample_ms));
  PetscCall(KDTextAppend(t,
                         "\"compiler\": \"%s %s\", \"batch_points\": 1024, \"loss\": \"relative L2 of the difference "
                         "to the f64 library over the field\", ",
                         bo->cc, bo->cflags));
  PetscCall(KDTextAppend(
      t,
      "\"err_vs_reference\": \"relative L2 against the reference fields on the model's level\"},\n    \"models\": {"));
  for (PetscInt m = 0; m < nm; m++) {
    const KDBenchModel *b = &bm[m];
    PetscCall(KDTextAppend(t, "%s\n      \"%s\": {\"level\": %d, \"params\": %d, \"widths\": [", m ? "," : "", b->name,
                           (int) b->level, (int) b->params));
    for (PetscInt i = 0; i < b->nwidths; i++) PetscCall(KDTextAppend(t, "%s%d", i ? ", " : "", (int) b->widths[i]));
    PetscCall(KDTextAppend(t, "], \"field\": \"%s\", \"field_shape\": [", b->field_kind));
    for (PetscInt i = 0; i < b->field_dim; i++)
      PetscCall(KDTextAppend(t, "%s%d", i ? ", " : "", (int) b->field_shape[i]));
    PetscCall(KDTextAppend(t,
                           "], \"field_points\": %d, \"reference_points\": %d,\n        \"int8_calibration_rel_l2\": ",
                           (int) b->field_points, (int) b->ref_points));
    PetscCall(KDTextReal(t, b->int8_measured));
    PetscCall(KDTextAppend(t, ", \"int8_noise_model_rel_l2\": "));
    PetscCall(KDTextReal(t, b->int8_predicted));
    for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) {
      const KDBenchFigures *f = &b->fig[v];
      if (!b->measured[v]) continue;
      PetscCall(KDTextAppend(t, ",\n        \"%s\": {\"latency_1_us\": ", KDBenchVariants[v]));
      PetscCall(KDTextReal(t, f->latency_us));
      PetscCall(KDTextAppend(t, ", \"batch_1024_ms\": "));
      PetscCall(KDTextReal(t, f->batch_ms));
      PetscCall(KDTextAppend(t, ", \"field_ms\": "));
      PetscCall(KDTextReal(t, f->field_ms));
      PetscCall(KDTextAppend(t, ", \"fps\": "));
      PetscCall(KDTextReal(t, f->fps));
      PetscCall(KDTextAppend(t, ", \"loss_vs_f64\": "));
      PetscCall(KDTextReal(t, f->loss_vs_f64));
      PetscCall(KDTextAppend(t, ", \"rel_l2_vs_reference\": "));
      PetscCall(KDTextReal(t, f->err_vs_ref));
      PetscCall(KDTextAppend(t, "}"));
    }
    PetscCall(KDTextAppend(t, "}"));
  }
  PetscCall(KDTextAppend(t, "\n    }\n  }"));
  PetscFunctionReturn(0);
}

static size_t KDJSONSpace(const char *s, size_t n, size_t i)
{
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  return i;
}

/* One past the end of the JSON string starting at s[i] (a quote), or 0 if it does not end. */
static size_t KDJSONString(const char *s, size_t n, size_t i)
{
  for (i++; i < n; i++) {
    if (s[i] == '\\')
      i++;
    else if (s[i] == '"')
      return i + 1;
  }
  return 0;
}

/* One past the end of the JSON value starting at s[i], or 0 if malformed. Strings are skipped whole so that brackets
   inside them do not count. */
static size_t KDJSONValue(const char *s, size_t n, size_t i)
{
  int depth = 0;

  if (i >= n) return 0;
  if (s[i] == '"') return KDJSONString(s, n, i);
  if (s[i] != '{' && s[i] != '[') {
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' &&
           s[i] != '\t')
      i++;
    return i;
  }
  for (; i < n; i++) {
    if (s[i] == '"') {
      i = KDJSONString(s, n, i);
      if (!i) return 0;
      i--;
    } else if (s[i] == '{' || s[i] == '[')
      depth++;
    else if (s[i] == '}' || s[i] == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return 0;
}

/* The text of results.json with its top-level member "bench" set to value: every other member is kept verbatim.
   Returns PETSC_FALSE in *ok if the existing text is not a JSON object (it is then left alone). */
static PetscErrorCode KDJSONMergeMember(const char *old, size_t n, const char *key, const char *value, KDText *out,
                                        PetscBool *ok)
{
  size_t i        = KDJSONSpace(old, n, 0);
  PetscBool first = PETSC_TRUE;

  PetscFunctionBegin;
  *ok = PETSC_FALSE;
  if (!old || !n) {
    PetscCall(KDTextAppend(out, "{\n  \"kdpinn_version\": \"%s\",\n  \"kind\": \"results\",\n  \"%s\": %s\n}\n",
                           KDPINN_VERSION, key, value));
    *ok = PETSC_TRUE;
    PetscFunctionReturn(0);
  }
  if (i >= n || old[i] != '{') PetscFunctionReturn(0);
  PetscCall(KDTextAppend(out, "{"));
  i = KDJSONSpace(old, n, i + 1);
  while (i < n && old[i] != '}') {
    size_t ks = i, ke, vs, ve;
    if (old[i] != '"' || !(ke = KDJSONString(old, n, i))) PetscFunctionReturn(0);
    i = KDJSONSpace(old, n, ke);
    if (i >= n || old[i] != ':') PetscFunctionReturn(0);
    vs = KDJSONSpace(old, n, i + 1);
    if (!(ve = KDJSONValue(old, n, vs))) PetscFunctionReturn(0);
    if (!(ke - ks == strlen(key) + 2 && !strncmp(old + ks + 1, key, strlen(key)))) {
      PetscCall(KDTextAppend(out, "%s\n  %.*s: %.*s", first ? "" : ",", (int) (ke - ks), old + ks, (int) (ve - vs),
                             old + vs));
      first = PETSC_FALSE;
    }
    i = KDJSONSpace(old, n, ve);
    if (i < n && old[i] == ',')
      i = KDJSONSpace(old, n, i + 1);
    else if (i >= n || old[i] != '}')
      PetscFunctionReturn(0);
  }
  if (i >= n) PetscFunctionReturn(0);
  PetscCall(KDTextAppend(out, "%s\n  \"%s\": %s\n}\n", first ? "" : ",", key, value));
  *ok = PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDBenchWriteFile(const char path[], const char *text, size_t len)
{
  char tmp[PETSC_MAX_PATH_LEN];
  FILE *fp;
  int err = 0;

  PetscFunctionBegin;
  PetscCall(KDFileTemporaryName(path, tmp, sizeof(tmp)));
  fp = fopen(tmp, "w");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", tmp);
  if (len && fwrite(text, 1, len, fp) != len) err = 1;
  if (fclose(fp)) err = 1;
  if (err) PetscCall(KDFileDiscard(PETSC_COMM_SELF, tmp));
  PetscCheck(!err, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s", tmp);
  PetscCall(KDFileCommit(PETSC_COMM_SELF, tmp, path));
  PetscFunctionReturn(0);
}

/* Reads a whole file; *text NULL if it does not exist. */
static PetscErrorCode KDBenchReadFile(const char path[], char **text, size_t *len)
{
  FILE *fp = fopen(path, "rb");
  long n;

  PetscFunctionBegin;
  *text = NULL;
  *len  = 0;
  if (!fp) PetscFunctionReturn(0);
  if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
    (void) fclose(fp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "cannot read %s", path);
  }
  PetscCall(PetscMalloc1((size_t) n + 1, text));
  if (fread(*text, 1, (size_t) n, fp) != (size_t) n) {
    (void) fclose(fp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "cannot read %s", path);
  }
  (void) fclose(fp);
  (*text)[n] = 0;
  *len       = (size_t) n;
  PetscFunctionReturn(0);
}

static PetscErrorCode KDBenchMarkdown(const KDBenchOptions *bo, PetscInt nm, const KDBenchModel bm[], KDText *t)
{
  PetscFunctionBegin;
  PetscCall(KDTextAppend(t, "| model | params | field | variant | 1 point (us) | 1024 points (ms) | field (ms) | fps | "
                            "loss vs f64 | rel. L2 vs reference |\n"));
  PetscCall(KDTextAppend(t, "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"));
  for (PetscInt m = 0; m < nm; m++) {
    const KDBenchModel *b = &bm[m];
    char shape[64]        = "";
    size_t pos            = 0;
    for (PetscInt i = 0; i < b->field_dim; i++) {
      size_t used;
      PetscCall(
          PetscSNPrintfCount(shape + pos, sizeof(shape) - pos, "%s%d", &used, i ? " x " : "", (int) b->field_shape[i]));
      pos += used > 0 ? used - 1 : 0;
    }
    for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) {
      const KDBenchFigures *f = &b->fig[v];
      if (!b->measured[v]) continue;
      PetscCall(KDTextAppend(t, "| %s | %d | %s | %s | %.3g | %.3g | %.3g | %.0f | %.2e | ", v ? "" : b->name,
                             (int) b->params, v ? "" : shape, KDBenchVariants[v], (double) f->latency_us,
                             (double) f->batch_ms, (double) f->field_ms, (double) f->fps, (double) f->loss_vs_f64));
      if (PetscIsInfOrNanReal(f->err_vs_ref))
        PetscCall(KDTextAppend(t, "- |\n"));
      else
        PetscCall(KDTextAppend(t, "%.3e |\n", (double) f->err_vs_ref));
    }
  }
  PetscCall(KDTextAppend(
      t, "\nMedian of %d repeats after %d warm-up calls, one thread; exported code compiled with `%s %s`.\n",
      (int) bo->repeats, (int) bo->warmup, bo->cc, bo->cflags));
  PetscFunctionReturn(0);
}

/* The bench options with their defaults, and the int8 calibration options shared with export. */
static PetscErrorCode KDBenchGetOptions(MPI_Comm comm, const KDCommonOptions *opt, KDBenchOptions *bo,
                                        KDCalibrationOptions *co)
{
  PetscBool set, flg;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(bo, sizeof(*bo)));
  bo->repeats   = 21;
  bo->warmup    = 3;
  bo->field     = 256;
  bo->sample_ms = 2;
  PetscCall(PetscStrncpy(bo->cc, "cc", sizeof(bo->cc)));
  PetscCall(PetscStrncpy(bo->cflags, "-O3 -march=native", sizeof(bo->cflags)));
  PetscCall(KDOutputPath(opt->out, "bench", bo->dir, sizeof(bo->dir)));
  bo->nmodels = KD_BENCH_MAX_MODELS;
  PetscOptionsBegin(comm, NULL, "kdpinn bench options", NULL);
  PetscCall(PetscOptionsStringArray("-kd_bench_models",
                                    "Model files to benchmark (default: teacher.h5 and student_L<l>.h5 in -kd_out)",
                                    "KDStageBench", bo->models, &bo->nmodels, &set));
  if (!set) bo->nmodels = 0;
  {
    char *names[4 * KD_BENCH_VARIANTS], raw[256];
    PetscInt nv = 4 * KD_BENCH_VARIANTS, nraw = 1;
    PetscBool given;

    PetscCall(
        KDOptionsCheckValue(PetscOptionsObject->comm, PetscOptionsObject->prefix, "-kd_bench_variants", PETSC_TRUE));
    PetscCall(PetscOptionsStringArray("-kd_bench_variants",
                                      "Variants to time, of f64 (the library: always, every loss is against it), "
                                      "f64_export, f32_export, int8_export (default: all)",
                                      "KDStageBench", names, &nv, &set));
    /* PETSc drops the entries beyond the array unseen: count them in the raw value */
    PetscCall(PetscOptionsGetString(NULL, NULL, "-kd_bench_variants", raw, sizeof(raw), &given));
    for (const char *c = raw; given && *c; c++) nraw += *c == ',';
    PetscCheck(!given || nraw <= 4 * KD_BENCH_VARIANTS, comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-kd_bench_variants: %" PetscInt_FMT " entries, at most %d", nraw, 4 * KD_BENCH_VARIANTS);
    for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) bo->use[v] = set ? PETSC_FALSE : PETSC_TRUE;
    bo->use[0] = PETSC_TRUE;
    for (PetscInt i = 0; set && i < nv; i++) {
      PetscInt v = 0;
      while (v < KD_BENCH_VARIANTS && strcmp(names[i], KDBenchVariants[v])) v++;
      PetscCheck(v < KD_BENCH_VARIANTS, comm, PETSC_ERR_ARG_UNKNOWN_TYPE,
                 "-kd_bench_variants: unknown variant '%s' (f64, f64_export, f32_export, int8_export)", names[i]);
      bo->use[v] = PETSC_TRUE;
      PetscCall(PetscFree(names[i]));
    }
  }
  PetscCall(KDOptionsInt("-kd_bench_repeats", "Timed samples per figure (the median is reported)", "KDStageBench",
                         bo->repeats, &bo->repeats, NULL));
  PetscCall(KDOptionsInt("-kd_bench_warmup", "Untimed calls before the samples", "KDStageBench", bo->warmup,
                         &bo->warmup, NULL));
  PetscCall(KDOptionsReal("-kd_bench_sample_ms", "A sample repeats a fast call until it lasts about this long",
                          "KDStageBench", bo->sample_ms, &bo->sample_ms, NULL));
  PetscCall(KDOptionsInt("-kd_bench_field", "Points per axis of the full field of 2-D models", "KDStageBench",
                         bo->field, &bo->field, NULL));
  PetscCall(PetscOptionsString("-kd_bench_cc", "C compiler of the exported code", "KDStageBench", bo->cc, bo->cc,
                               sizeof(bo->cc), NULL));
  PetscCall(PetscOptionsString("-kd_bench_cflags", "Flags of the C compiler", "KDStageBench", bo->cflags, bo->cflags,
                               sizeof(bo->cflags), &flg));
  bo->cflags_missing = flg && !bo->cflags[0] ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscOptionsString("-kd_bench_dir",
                               "Directory of the exported sources and shared objects (default <kd_out>/bench)",
                               "KDStageBench", bo->dir, bo->dir, sizeof(bo->dir), NULL));
  PetscCall(KDCalibrationGetOptions(PetscOptionsObject, comm, opt, co));
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

/* The checks that need no model: one rank, option ranges, and a working C compiler. */
static PetscErrorCode KDBenchCheckSetup(MPI_Comm comm, const KDBenchOptions *bo)
{
  PetscMPIInt size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCheck(size == 1, comm, PETSC_ERR_ARG_WRONG, "kdpinn bench measures one core: run it on one rank, not %d",
             (int) size);
  PetscCheck(bo->repeats >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-kd_bench_repeats must be >= 1, got %" PetscInt_FMT,
             bo->repeats);
  PetscCheck(bo->warmup >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-kd_bench_warmup must be >= 0, got %" PetscInt_FMT,
             bo->warmup);
  PetscCheck(bo->field >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-kd_bench_field must be >= 1, got %" PetscInt_FMT,
             bo->field);
  PetscCheck(bo->sample_ms >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-kd_bench_sample_ms must be >= 0");
  /* the compiler first: without one nothing can be measured. It is one program (a path or a name on PATH) and the
     flags are words: neither goes through a shell. */
  PetscCheck(!bo->cflags_missing, comm, PETSC_ERR_ARG_WRONG,
             "-kd_bench_cflags has no value: PETSc reads a value that starts with '-' as the next option; give the "
             "flags with a leading blank, e.g. -kd_bench_cflags ' -O3 -march=native'");
  {
    char cc[sizeof(bo->cc)];
    char *argv[3] = {cc, (char *) "--version", NULL};
    int status;
    PetscCall(PetscStrncpy(cc, bo->cc, sizeof(cc)));
    PetscCall(KDRunProgram(argv, NULL, &status));
    PetscCheck(status == 0, comm, PETSC_ERR_SYS, "no C compiler: '%s --version' failed (set -kd_bench_cc)", bo->cc);
  }
  PetscFunctionReturn(0);
}

/* Without -kd_bench_models: teacher.h5 and student_L<l>.h5 of -kd_out, those that exist and are plain MLPs (the
   exported C code computes the MLP alone: the cavity's teacher with its lid-corner flow, the conduction teacher with
   its interface features and boundary factor are left out, with a line saying so), at least one. */
static PetscErrorCode KDBenchDefaultModels(MPI_Comm comm, const KDCommonOptions *opt, KDBenchOptions *bo)
{
  const char *names[1 + KD_MAX_LEVELS];
  PetscInt nn = 0;
  char buf[1 + KD_MAX_LEVELS][32], path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  names[nn++] = "teacher.h5";
  for (PetscInt l = 1; l < opt->levels && nn < KD_BENCH_MAX_MODELS; l++) {
    PetscCall(PetscSNPrintf(buf[l], sizeof(buf[l]), "student_L%" PetscInt_FMT ".h5", l));
    names[nn++] = buf[l];
  }
  for (PetscInt i = 0; i < nn; i++) {
    PetscBool exists;
    PetscCall(KDOutputPath(opt->out, names[i], path, sizeof(path)));
    PetscCall(PetscTestFile(path, 'r', &exists));
    if (exists) {
      KDNet net;
      char what[80];
      PetscBool plain;
      PetscCall(KDNetLoad(PETSC_COMM_SELF, path, &net, NULL));
      PetscCall(KDExportNotPlain(net, what, sizeof(what)));
      plain = what[0] ? PETSC_FALSE : PETSC_TRUE;
      if (!plain)
        PetscCall(PetscPrintf(comm,
                              "kdpinn bench: %s left out: it carries %s, which the exported C code does not compute\n",
                              path, what));
      PetscCall(KDNetDestroy(&net));
      if (plain) PetscCall(PetscStrallocpy(path, &bo->models[bo->nmodels++]));
    }
  }
  PetscCheck(bo->nmodels, comm, PETSC_ERR_FILE_OPEN,
             "no model to benchmark: neither %s/teacher.h5 nor %s/student_L<l>.h5 exists (or give -kd_bench_models)",
             opt->out, opt->out);
  PetscFunctionReturn(0);
}

/* One line per variant of a model on stdout. */
static PetscErrorCode KDBenchPrintModel(MPI_Comm comm, const KDBenchModel *b)
{
  PetscFunctionBegin;
  for (PetscInt v = 0; v < KD_BENCH_VARIANTS; v++) {
    const KDBenchFigures *f = &b->fig[v];
    if (!b->measured[v]) continue;
    PetscCall(PetscPrintf(comm,
                          "kdpinn bench: %-12s %-11s 1 point %8.3f us, 1024 points %8.4f ms, field (%" PetscInt_FMT
                          " points) %9.3f ms = %8.1f fps, loss vs f64 %.2e, vs reference %.3e\n",
                          b->name, KDBenchVariants[v], (double) f->latency_us, (double) f->batch_ms, b->field_points,
                          (double) f->field_ms, (double) f->fps, (double) f->loss_vs_f64, (double) f->err_vs_ref));
  }
  PetscFunctionReturn(0);
}

/* bench.json, the member "bench" of results.json, and bench.md. */
static PetscErrorCode KDBenchWriteResults(MPI_Comm comm, const KDCommonOptions *opt, const KDBenchOptions *bo,
                                          const KDBenchModel bm[])
{
  char path[PETSC_MAX_PATH_LEN];
  KDText json = {NULL, 0, 0}, merged = {NULL, 0, 0}, md = {NULL, 0, 0};
  char *old;
  size_t oldlen;
  PetscBool ok;

  PetscFunctionBegin;
  PetscCall(KDBenchJSON(bo, bo->nmodels, bm, &json));
  PetscCall(KDOutputPath(opt->out, "bench.json", path, sizeof(path)));
  PetscCall(KDTextAppend(&merged, "{\n  \"kdpinn_version\": \"%s\",\n  \"kind\": \"bench\",\n  \"bench\": %s\n}\n",
                         KDPINN_VERSION, json.s));
  PetscCall(KDBenchWriteFile(path, merged.s, merged.len));
  merged.len = 0;
  /* results.json belongs to kdpinn validate: keep all of it, set only the member "bench" */
  PetscCall(KDOutputPath(opt->out, "results.json", path, sizeof(path)));
  PetscCall(KDBenchReadFile(path, &old, &oldlen));
  PetscCall(KDJSONMergeMember(old, oldlen, "bench", json.s, &merged, &ok));
  PetscCall(PetscFree(old));
  if (ok)
    PetscCall(KDBenchWriteFile(path, merged.s, merged.len));
  else
    PetscCall(PetscPrintf(
        comm, "kdpinn bench: %s is not a JSON object, left unchanged; the results are in bench.json\n", path));
  PetscCall(KDBenchMarkdown(bo, bo->nmodels, bm, &md));
  PetscCall(KDOutputPath(opt->out, "bench.md", path, sizeof(path)));
  PetscCall(KDBenchWriteFile(path, md.s, md.len));
  PetscCall(PetscPrintf(
      comm, "kdpinn bench: %" PetscInt_FMT " models; wrote %s/results.json (\"bench\"), bench.json, bench.md\n",
      bo->nmodels, opt->out));
  PetscCall(PetscFree(json.s));
  PetscCall(PetscFree(merged.s));
  PetscCall(PetscFree(md.s));
  PetscFunctionReturn(0);
}

/*@C
  KDStageBench - The bench stage: for the teacher and every student in -kd_out, the library (f64) and the exported
  f64, f32 and int8 kernels: latency of 1 point, of a 1024-point batch and of the full field, frames per second of
  the field on one core, accuracy loss against the f64 library and error against the reference. Results go to
  <kd_out>/results.json (member "bench", merged), <kd_out>/bench.json and <kd_out>/bench.md.

  Collective; runs on one rank (it measures one core)

  Options Database Keys:
+ -kd_bench_models <a,b,...>   - model files (default: teacher.h5 and student_L<l>.h5 of -kd_out that exist)
. -kd_bench_variants <a,b,...> - variants to time: f64 (always), f64_export, f32_export, int8_export (default: all)
. -kd_bench_repeats <n>        - timed samples per figure, the median is reported (default 21)
. -kd_bench_warmup <n>         - untimed calls first (default 3)
. -kd_bench_sample_ms <ms>     - a sample repeats a fast call until it lasts about this long (default 2)
. -kd_bench_field <n>          - points per axis of the field of 2-D models (default 256)
. -kd_bench_cc <cc>            - C compiler of the exported code (default cc)
. -kd_bench_cflags <flags>     - its flags (default -O3 -march=native)
- -kd_bench_dir <dir>          - where exported sources and shared objects go (default <kd_out>/bench)
@*/
PetscErrorCode KDStageBench(MPI_Comm comm)
{
  KDCommonOptions opt;
  KDCalibrationOptions co;
  KDBenchOptions bo;
  KDBenchModel *bm;
  KDReference ref = NULL;
  PetscBool help;
  PetscLogStage stage;

  PetscFunctionBegin;
  PetscCall(KDHelpRequested(&help));
  PetscCall(KDGetCommonOptions(comm, &opt));
  PetscCall(KDBenchGetOptions(comm, &opt, &bo, &co));
  if (help) {
    for (PetscInt i = 0; i < bo.nmodels; i++) PetscCall(PetscFree(bo.models[i]));
    PetscFunctionReturn(0);
  }
  PetscCall(KDBenchCheckSetup(comm, &bo));
  if (!bo.nmodels) PetscCall(KDBenchDefaultModels(comm, &opt, &bo));

  PetscCall(KDLogStageGet("Bench", &stage));
  PetscCall(PetscLogStagePush(stage));
  PetscCall(KDOutputDirCheck(comm, opt.out));
  PetscCall(KDOutputDirCheck(comm, bo.dir));
  PetscCall(KDOutputLock(comm, opt.out, "bench.md"));
  PetscCall(KDOutputLock(comm, opt.out, "results.json")); /* its "bench" member */
  if (co.reference[0]) PetscCall(KDReferenceLoad(PETSC_COMM_SELF, co.reference, &ref));
  PetscCall(PetscCalloc1(bo.nmodels, &bm));
  for (PetscInt m = 0; m < bo.nmodels; m++) {
    PetscCall(KDBenchModelRun(&bo, &co, ref, bo.models[m], &bm[m]));
    PetscCall(KDBenchPrintModel(comm, &bm[m]));
  }
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(KDBenchWriteResults(comm, &opt, &bo, bm));
  PetscCall(PetscFree(bm));
  for (PetscInt i = 0; i < bo.nmodels; i++) PetscCall(PetscFree(bo.models[i]));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}
