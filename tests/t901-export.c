static const char help[] =
    "Exported C against the library: f64, f32 and int8 kernels compiled by the system C compiler.\n"
    "  -cc <cc>            C compiler (default cc)\n"
    "  -cflags <flags>     its flags (default -O2)\n"
    "  -model_out <file>   only write the first test network as a model file and exit\n"
    "  -model_activation <tanh|sin|isru>  its activation (default tanh)\n";

/*
  For networks of several shapes (a cavity-like 2 -> 20,20 -> 3 student, a teacher-like 2 -> 64x4 -> 1, odd widths
  3 -> 7,5,9 -> 2 that leave an unpaired int8 product, a sin network and an isru student; int8 also with per-unit
  activation scales) the
  exported source is compiled into a shared object, loaded with dlopen, and compared with the library at random points
  of the input box; the batch sizes (1, 15, 16, 64, 1000 + 37) cover the full blocks, the padded tail blocks and both
  together. Tolerances: f64  max |y_c - y_lib| <= 1e-12 max |y_lib|: the same double arithmetic, the same tanh
  algorithm (isru: the portable one of the library; with AVX-512 the library's differs by a few ulp); only the order of
  the sums (the library uses BLAS) and FMA contraction differ, a few ulp per layer
  (~1e-15). f32  max |y_c - y_lib| <= 1e-5 max |y_lib|: float rounding (6e-8) amplified by the dot products of at most
  64 terms over 5 layers stays near 1e-6. int8 (16-bit activation levels, the default, and 8-bit) (a) against
  KDQuantizedNetEvaluate(), the scheme in double: relative L2 <= 1e-3 (bound: the integer sums are exact in both; the
  kernel's float32 tanh and scaling move an activation by one level only within ~1e-6 of a rounding boundary; one level
  moves an output by sa |w| <= 1/127 of its dot product's scale at 8 bits, 1/32767 at 16); (b) against the f64
  network: relative L2 <= 3x the noise model's prediction for round-to-nearest (docs/export.md:
  every rounding an independent uniform error; 3x covers the correlation of the weight roundings, which all points
  share). A batch of 0 points writes nothing; the single-point (tail) path gives the batch path's values to 1e-12.
  CheckRounding(): the int8 weight rounding against a per-point recomputation (tolerances there).
*/
#include <kdexport.h>
#include "export/exportimpl.h"
#include "t30-netutil.h"
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

typedef void (*EvalF64)(int, const double *, double *);
typedef void (*EvalF32)(int, const float *, float *);

static PetscErrorCode Compile(const char cc[], const char cflags[], const char dir[], const char name[], void **handle,
                              void **fn)
{
  char cmd[4 * PETSC_MAX_PATH_LEN], sym[256];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(cmd, sizeof(cmd),
                          "%s %s -std=c99 -Wall -Wextra -Werror -fPIC -shared -o %s/%s.so %s/%s.c -lm", cc, cflags, dir,
                          name, dir, name));
  PetscCheck(system(cmd) == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "compile failed: %s", cmd);
  PetscCall(PetscSNPrintf(cmd, sizeof(cmd), "%s/%s.so", dir, name));
  *handle = dlopen(cmd, RTLD_NOW | RTLD_LOCAL);
  PetscCheck(*handle, PETSC_COMM_SELF, PETSC_ERR_LIB, "dlopen %s: %s", cmd, dlerror());
  PetscCall(PetscSNPrintf(sym, sizeof(sym), "%s_eval", name));
  *fn = dlsym(*handle, sym);
  PetscCheck(*fn, PETSC_COMM_SELF, PETSC_ERR_LIB, "no symbol %s", sym);
  PetscFunctionReturn(0);
}

static PetscReal MaxAbs(PetscInt n, const PetscReal y[])
{
  PetscReal m = 0;
  for (PetscInt i = 0; i < n; i++) m = PetscMax(m, PetscAbsReal(y[i]));
  return m;
}

static PetscReal MaxDiff(PetscInt n, const PetscReal a[], const PetscReal b[])
{
  PetscReal m = 0;
  for (PetscInt i = 0; i < n; i++) m = PetscMax(m, PetscAbsReal(a[i] - b[i]));
  return m;
}

static PetscReal RelL2(PetscInt n, const PetscReal a[], const PetscReal b[])
{
  PetscReal num = 0, den = 0;
  for (PetscInt i = 0; i < n; i++) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return PetscSqrtReal(num / den);
}

static void ModelInfo(PetscInt nin, PetscInt nout, KDModelInfo *info)
{
  (void) PetscMemzero(info, sizeof(*info));
  (void) PetscStrncpy(info->pde, nout == 3 ? "cavity" : "burgers", sizeof(info->pde));
  (void) PetscStrncpy(info->inputs, nin == 2 ? (nout == 3 ? "x,y" : "t,x") : "t,x,y", sizeof(info->inputs));
  (void) PetscStrncpy(info->outputs, nout == 1 ? "u" : (nout == 2 ? "u,v" : "u,v,p"), sizeof(info->outputs));
  (void) PetscStrncpy(info->trained_with, "distill", sizeof(info->trained_with));
  info->level = 1;
}

/* Evaluates an exported kernel at n points, results in double. */
static PetscErrorCode Run(KDPrecision prec, void *fn, PetscInt nin, PetscInt nout, PetscInt n, const PetscReal x[],
                          PetscReal y[])
{
  PetscFunctionBegin;
  if (prec == KD_PRECISION_F64) {
    EvalF64 f;
    memcpy(&f, &fn, sizeof(f));
    f((int) n, x, y);
  } else {
    EvalF32 f;
    float *xf, *yf;
    memcpy(&f, &fn, sizeof(f));
    PetscCall(PetscMalloc2(n * nin + 1, &xf, n * nout + 1, &yf));
    for (PetscInt i = 0; i < n * nin; i++) xf[i] = (float) x[i];
    f((int) n, xf, yf);
    for (PetscInt i = 0; i < n * nout; i++) y[i] = (PetscReal) yf[i];
    PetscCall(PetscFree2(xf, yf));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckNet(const char cc[], const char cflags[], const char tag[], PetscInt nin, PetscInt nhidden,
                               const PetscInt widths[], PetscInt nout, KDActivation act, KDInt8Scale mode,
                               PetscInt abits, PetscInt search)
{
  const PetscInt sizes[] = {1, 15, 16, 64, 1037};
  const PetscInt nmax    = 1037;
  KDNet net;
  KDModelInfo info;
  KDQuantizedNet q;
  PetscReal *x, *y, *yc, *yq, *xcal, predicted, measured;
  PetscInt ncal;

  PetscFunctionBegin;
  PetscCall(TestNetCreate(PETSC_COMM_SELF, nin, nhidden, widths, nout, act, 5 + nin + nout, &net));
  ModelInfo(nin, nout, &info);
  PetscCall(KDExportBoxPoints(net, 4096, &ncal, &xcal));
  PetscCall(KDQuantizedNetCreate(net, mode, abits, search, ncal, xcal, &q));
  PetscCall(PetscFree(xcal));
  PetscCall(KDQuantizedNetGetErrorEstimate(q, &predicted, &measured));
  PetscCall(PetscMalloc4(nmax * nin, &x, nmax * nout, &y, nmax * nout + 1, &yc, nmax * nout, &yq));
  TestPoints(nmax, nin, 99, x);
  /* with per-unit activation scales or 8-bit activations only int8 differs */
  for (PetscInt pr = mode == KD_INT8_SCALE_LAYER && abits == 16 ? 0 : 2; pr < 3; pr++) {
    const KDPrecision prec = (KDPrecision) pr;
    char name[64];
    void *handle = NULL, *fn = NULL; /* set by Compile(); initialized for the compiler's flow analysis */

    PetscCall(PetscSNPrintf(name, sizeof(name), "%s_%s", tag, KDPrecisions[prec]));
    PetscCall(KDExportWrite(net, &info, prec, prec == KD_PRECISION_INT8 ? q : NULL, name, "."));
    PetscCall(Compile(cc, cflags, ".", name, &handle, &fn));
    /* n = 0 must not write */
    yc[0] = -7.0;
    PetscCall(Run(prec, fn, nin, nout, 0, x, yc));
    PetscCheck(yc[0] == -7.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: a batch of 0 points wrote a value", name);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      const PetscInt n = sizes[s];
      PetscReal ymax, err;
      PetscCall(KDNetEvaluate(net, n, x, y));
      PetscCall(Run(prec, fn, nin, nout, n, x, yc));
      ymax = MaxAbs(n * nout, y);
      err  = MaxDiff(n * nout, yc, y) / ymax;
      if (prec == KD_PRECISION_F64)
        PetscCheck(err <= 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "%s, n = %" PetscInt_FMT ": max error %.3e relative > 1e-12", name, n, (double) err);
      else if (prec == KD_PRECISION_F32)
        PetscCheck(err <= 1e-5, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "%s, n = %" PetscInt_FMT ": max error %.3e relative > 1e-5", name, n, (double) err);
      else {
        PetscReal vsref, vsf64;
        PetscCall(KDQuantizedNetEvaluate(q, n, x, yq));
        vsref = RelL2(n * nout, yc, yq);
        vsf64 = RelL2(n * nout, yc, y);
        PetscCheck(vsref <= 1e-3, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "%s, n = %" PetscInt_FMT ": relative L2 %.3e against the scheme in double > 1e-3", name, n,
                   (double) vsref);
        if (n == nmax) {
          PetscCheck(vsf64 <= 3 * predicted, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                     "%s: relative L2 %.3e against f64 > 3x the noise model's %.3e", name, (double) vsf64,
                     (double) predicted);
          PetscCall(PetscPrintf(PETSC_COMM_SELF,
                                "%s: int8 relative L2 vs f64 %.3e (noise model %.3e, calibration points %.3e), vs the "
                                "scheme in double %.3e\n",
                                name, (double) vsf64, (double) predicted, (double) measured, (double) vsref));
        }
      }
      if (n == nmax && prec != KD_PRECISION_INT8)
        PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s: max error %.3e relative\n", name, (double) err));
    }
    /* the padded single-point path against the batch path */
    {
      PetscReal y1[KD_NET_MAX_OUT];
      PetscCall(Run(prec, fn, nin, nout, nmax, x, yc));
      for (PetscInt p = 0; p < nmax; p += 97) {
        PetscCall(Run(prec, fn, nin, nout, 1, x + p * nin, y1));
        for (PetscInt o = 0; o < nout; o++)
          PetscCheck(PetscAbsReal(y1[o] - yc[o * nmax + p]) <= 1e-12 * PetscMax(1.0, PetscAbsReal(yc[o * nmax + p])),
                     PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: point %" PetscInt_FMT " alone differs from the batch", name,
                     p);
      }
    }
    (void) dlclose(handle);
  }
  PetscCall(PetscFree4(x, y, yc, yq));
  PetscCall(KDQuantizedNetDestroy(&q));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

/* A stop signal (SIGTERM from a job's end) caught before or during the int8 calibration ends it with PETSC_ERR_SIG and
   leaves no scheme behind, instead of minutes of calibration nobody waits for. */
/* The fitted rounding of the int8 scheme against a per-point recomputation, the reference of its covariance-domain
   sweeps (KDQuantizedNetRound() follows Cov(e, ql) updated by each +-1 move instead of the points). On the calibration
   points, with the int8 network's own input levels ql and the f64 network's pre-activations z as targets, e = S wq.ql
   - z for each channel: its bias must be b - mean(e), and no +-1 move of one weight may lower var(e), since the
   sweeps stop only there (or after 8 sweeps, which these networks do not reach). Tolerances: the bias to 1e-9 of the
   rms of z (sums of a few thousand double terms differ by ~1e-13 relative between the per-point and the BLAS order);
   a move may lower var(e) by at most 1e-9 of its own S^2 var(ql_i) (the sweeps' margin is 1e-12, the covariances
   differ by round-off of ~1e-12 relative to them). The networks are tanh; libm's tanh stands for the library's, which
   may differ by an ulp: an activation level could move only within 1e-16 of a rounding boundary. */
static PetscErrorCode CheckRounding(const char tag[], PetscInt nhidden, const PetscInt widths[], PetscInt nout)
{
  KDNet net;
  KDQuantizedNet q;
  PetscReal *xcal, *ql, *an, *ql2, *an2, *z, *e, worst_bias = 0, worst_move = PETSC_MIN_REAL;
  PetscInt ncal, wmax = 0, L;

  PetscFunctionBegin;
  PetscCall(TestNetCreate(PETSC_COMM_SELF, 2, nhidden, widths, nout, KD_ACTIVATION_TANH, 11, &net));
  PetscCall(KDExportBoxPoints(net, 4096, &ncal, &xcal)); /* <= 8192: the rounding uses every point */
  PetscCall(KDQuantizedNetCreate(net, KD_INT8_SCALE_LAYER, 16, 0, ncal, xcal, &q));
  L = q->nlayers;
  for (PetscInt k = 0; k <= L; k++) wmax = PetscMax(wmax, q->widths[k]);
  PetscCall(PetscMalloc6(wmax * ncal, &ql, wmax * ncal, &an, wmax * ncal, &ql2, wmax * ncal, &an2, ncal, &z, ncal, &e));
  for (PetscInt p = 0; p < ncal; p++) {
    const PetscReal *W = q->params + q->woff[0], *b = q->params + q->boff[0];
    for (PetscInt o = 0; o < q->widths[1]; o++) {
      PetscReal s = b[o];
      for (PetscInt i = 0; i < 2; i++)
        s += W[o * 2 + i] * (2.0 * (xcal[p * 2 + i] - q->lo[i]) / (q->hi[i] - q->lo[i]) - 1.0);
      an[o * ncal + p] = tanh(s);
      ql[o * ncal + p] = KDQuantizeLevel(an[o * ncal + p], q->sa[q->aoff[1] + o], q->lmax);
    }
  }
  for (PetscInt k = 1; k < L; k++) {
    const PetscInt in = q->widths[k], out = q->widths[k + 1];
    const PetscReal *W = q->params + q->woff[k], *b = q->params + q->boff[k];
    for (PetscInt o = 0; o < out; o++) {
      const PetscReal S = q->S[q->soff[k] + o], bq = q->bq[q->soff[k] + o];
      const int8_t *wq = q->wq + q->qoff[k] + o * in;
      PetscReal em = 0, zrms = 0;
      for (PetscInt p = 0; p < ncal; p++) {
        PetscReal sz = 0, sq = 0;
        for (PetscInt i = 0; i < in; i++) {
          sz += W[o * in + i] * an[i * ncal + p];
          sq += (PetscReal) wq[i] * ql[i * ncal + p];
        }
        z[p] = sz;
        e[p] = S * sq - sz;
        em += e[p] / (PetscReal) ncal;
        zrms += sz * sz / (PetscReal) ncal;
        if (k < L - 1) {
          ql2[o * ncal + p] = KDQuantizeLevel(tanh(sq * S + bq), q->sa[q->aoff[k + 1] + o], q->lmax);
          an2[o * ncal + p] = tanh(sz + b[o]);
        }
      }
      worst_bias = PetscMax(worst_bias, PetscAbsReal(bq - (b[o] - em)) / PetscSqrtReal(zrms));
      for (PetscInt i = 0; i < in; i++) {
        const PetscReal *a = ql + i * ncal;
        PetscReal m = 0, var = 0, cov = 0;
        for (PetscInt p = 0; p < ncal; p++) m += a[p] / (PetscReal) ncal;
        for (PetscInt p = 0; p < ncal; p++) {
          var += (a[p] - m) * (a[p] - m) / (PetscReal) ncal;
          cov += (e[p] - em) * (a[p] - m) / (PetscReal) ncal;
        }
        for (int d = -1; d <= 1 && var > 0; d += 2)
          if (wq[i] + d <= 127 && wq[i] + d >= -127)
            worst_move = PetscMax(worst_move, -(2.0 * d * S * cov + S * S * var) / (S * S * var));
      }
    }
    PetscReal *t = ql;
    ql = ql2, ql2 = t;
    t = an, an = an2, an2 = t;
  }
  PetscCheck(
      worst_bias <= 1e-9 && worst_move <= 1e-9, PETSC_COMM_SELF, PETSC_ERR_PLIB,
      "%s: int8 rounding vs per-point reference: bias off by %.3e of rms(z), a +-1 move lowers var(e) by %.3e of "
      "S^2 var(ql) (tolerance 1e-9 each)",
      tag, (double) worst_bias, (double) worst_move);
  PetscCall(
      PetscPrintf(PETSC_COMM_SELF,
                  "%s: int8 rounding vs per-point reference: bias %.1e of rms(z); the best +-1 move lowers var(e) by "
                  "%.1e of S^2 var(ql) (negative: every move raises it; tolerance 1e-9): ok\n",
                  tag, (double) worst_bias, (double) worst_move));
  PetscCall(PetscFree6(ql, an, ql2, an2, z, e));
  PetscCall(KDQuantizedNetDestroy(&q));
  PetscCall(PetscFree(xcal));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

/* The weight search (-kd_int8_search) on a network with one hidden layer: only the output layer is int8, so both of
   its steps (the output layer's channels, the polish of the float first layer) minimize exactly the error measured on
   the calibration points (at most 8192 of them: all are used), each from where the step before left it, so the
   measured error can only shrink; the test asks that it does (strictly), which fails if the search wrote levels,
   scales or biases that do not fit the scheme (the figure is KDQuantizedNetEvaluate()'s) or never moved. It does not
   tell the channel search's share from the polish's: docs/benchmarks.md measures each on the Burgers students. */
static PetscErrorCode CheckSearch(void)
{
  const PetscInt widths[] = {12};
  KDNet net;
  KDQuantizedNet q;
  PetscReal *xcal, fitted, searched;
  PetscInt ncal;

  PetscFunctionBegin;
  PetscCall(TestNetCreate(PETSC_COMM_SELF, 2, 1, widths, 2, KD_ACTIVATION_TANH, 13, &net));
  PetscCall(KDExportBoxPoints(net, 4096, &ncal, &xcal));
  PetscCall(KDQuantizedNetCreate(net, KD_INT8_SCALE_LAYER, 16, 0, ncal, xcal, &q));
  PetscCall(KDQuantizedNetGetErrorEstimate(q, NULL, &fitted));
  PetscCall(KDQuantizedNetDestroy(&q));
  PetscCall(KDQuantizedNetCreate(net, KD_INT8_SCALE_LAYER, 16, 100000, ncal, xcal, &q));
  PetscCall(KDQuantizedNetGetErrorEstimate(q, NULL, &searched));
  PetscCall(KDQuantizedNetDestroy(&q));
  PetscCall(PetscFree(xcal));
  PetscCall(KDNetDestroy(&net));
  PetscCheck(searched < fitted, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "int8 weight search: error %.6e on the calibration points, the fitted rounding's %.6e", (double) searched,
             (double) fitted);
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "int8 weight search: %.3e on the calibration points, fitted rounding %.3e\n",
                        (double) searched, (double) fitted));
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckStopSignal(void)
{
  const PetscInt widths[] = {20, 20};
  KDNet net;
  KDQuantizedNet q = NULL;
  PetscReal *xcal;
  PetscInt ncal;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(TestNetCreate(PETSC_COMM_SELF, 2, 2, widths, 1, KD_ACTIVATION_TANH, 7, &net));
  PetscCall(KDExportBoxPoints(net, 256, &ncal, &xcal));
  PetscCall(KDSignalInstall());
  PetscCheck(raise(SIGTERM) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "raise(SIGTERM) failed");
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = KDQuantizedNetCreate(net, KD_INT8_SCALE_LAYER, 16, 0, ncal, xcal, &q);
  PetscCall(PetscPopErrorHandler());
  PetscCall(KDSignalInstall()); /* clears the caught signal */
  (void) signal(SIGTERM, SIG_DFL);
  (void) signal(SIGUSR1, SIG_DFL);
  (void) signal(SIGHUP, SIG_DFL);
  PetscCheck(ierr == PETSC_ERR_SIG, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "int8 calibration after SIGTERM returned error %d, expected PETSC_ERR_SIG (%d)", (int) ierr,
             (int) PETSC_ERR_SIG);
  PetscCheck(!q, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a stopped int8 calibration returned a scheme");
  PetscCall(PetscFree(xcal));
  PetscCall(KDNetDestroy(&net));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "int8 calibration stops at SIGTERM: ok\n"));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const PetscInt student[] = {20, 20}, teacher[] = {64, 64, 64, 64}, odd[] = {7, 5, 9}, sinw[] = {16, 12};
  char cc[PETSC_MAX_PATH_LEN] = "cc", cflags[PETSC_MAX_PATH_LEN] = "-O2", model[PETSC_MAX_PATH_LEN] = "";
  PetscBool flg;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-cc", cc, sizeof(cc), NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-cflags", cflags, sizeof(cflags), NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-model_out", model, sizeof(model), &flg));
  if (flg) {
    KDNet net;
    KDModelInfo info;
    PetscEnum act = (PetscEnum) KD_ACTIVATION_TANH;
    PetscCall(PetscOptionsGetEnum(NULL, NULL, "-model_activation", KDActivations, &act, NULL));
    PetscCall(TestNetCreate(PETSC_COMM_WORLD, 2, 2, student, 3, (KDActivation) act, 10, &net));
    ModelInfo(2, 3, &info);
    PetscCall(KDNetWrite(net, model, &info));
    PetscCall(KDNetDestroy(&net));
  } else {
    PetscCall(CheckNet(cc, cflags, "student", 2, 2, student, 3, KD_ACTIVATION_TANH, KD_INT8_SCALE_LAYER, 16, 0));
    PetscCall(CheckNet(cc, cflags, "teacher", 2, 4, teacher, 1, KD_ACTIVATION_TANH, KD_INT8_SCALE_LAYER, 16, 0));
    PetscCall(CheckNet(cc, cflags, "odd", 3, 3, odd, 2, KD_ACTIVATION_TANH, KD_INT8_SCALE_LAYER, 16, 0));
    PetscCall(CheckNet(cc, cflags, "sine", 2, 2, sinw, 1, KD_ACTIVATION_SIN, KD_INT8_SCALE_LAYER, 16, 0));
    PetscCall(CheckNet(cc, cflags, "isru", 2, 2, student, 3, KD_ACTIVATION_ISRU, KD_INT8_SCALE_LAYER, 16, 0));
    PetscCall(CheckNet(cc, cflags, "isru_unit", 2, 2, student, 3, KD_ACTIVATION_ISRU, KD_INT8_SCALE_CHANNEL, 16, 0));
    PetscCall(CheckNet(cc, cflags, "student_unit", 2, 2, student, 3, KD_ACTIVATION_TANH, KD_INT8_SCALE_CHANNEL, 16, 0));
    PetscCall(CheckNet(cc, cflags, "odd_unit", 3, 3, odd, 2, KD_ACTIVATION_TANH, KD_INT8_SCALE_CHANNEL, 16, 0));
    PetscCall(CheckNet(cc, cflags, "student_a8", 2, 2, student, 3, KD_ACTIVATION_TANH, KD_INT8_SCALE_LAYER, 8, 0));
    PetscCall(CheckNet(cc, cflags, "odd_a8", 3, 3, odd, 2, KD_ACTIVATION_TANH, KD_INT8_SCALE_LAYER, 8, 0));
    /* the weight search: scales other than a channel's largest weight at 127 levels, in the kernel too */
    PetscCall(
        CheckNet(cc, cflags, "student_search", 2, 2, student, 3, KD_ACTIVATION_TANH, KD_INT8_SCALE_LAYER, 16, 20000));
    PetscCall(CheckNet(cc, cflags, "odd_search", 3, 3, odd, 2, KD_ACTIVATION_ISRU, KD_INT8_SCALE_CHANNEL, 8, 20000));
    PetscCall(CheckSearch());
    PetscCall(CheckRounding("student", 2, student, 3));
    PetscCall(CheckRounding("teacher", 4, teacher, 1));
    PetscCall(CheckStopSignal());
  }
  PetscCall(PetscFinalize());
  return 0;
}
