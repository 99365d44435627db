#include <kdexport.h>
#include "net/netimpl.h"
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

/*
  Export of a network as standalone C (docs/export.md), and the int8 scheme in double precision (KDQuantizedNet).

  The generated kernel evaluates blocks of KD_EXPORT_BLOCK points with every layer written out for its widths: for each
  output unit, one loop over the points of the block whose body is the whole dot product, unrolled over the inputs. The
  trip counts are compile-time constants that are multiples of every SIMD width, so GCC and Clang vectorize the loops
  over points already at -O2 (no epilogue, no run-time checks); a batch that is not a multiple of the block ends with
  blocks of KD_EXPORT_TAIL_BLOCK points, padded by repeating its last point. Buffers are block-sized arrays on the
  stack.

  int8 scheme (layers k = 1 .. L-1; the first layer, fed by the coordinates, stays float32 because 8 bits of a
  coordinate would merge neighbouring points of a 256 x 256 field):
    activations aq[i] = round(clamp(h[i] / sa[i], -lmax, lmax)), sa[i] = max |h_k| / lmax over the calibration points,
                lmax = 2^(abits-1) - 1 (abits = 16 by default, 8 for the classic int8 x int8 scheme): one scale for the
                whole layer (KD_INT8_SCALE_LAYER) or one per unit (KD_INT8_SCALE_CHANNEL)
    weights     Wq[o][i] = round(W[o][i] sa[i] / S[o]),  S[o] = max_i |W[o][i] sa[i]| / 127  (per output channel; the
                activation scales are folded into the weights, so both modes run the same kernel)
    layer       z[o] = S[o] sum_i Wq[o][i] aq[i] + b'[o]                                      (exact int32 sum)
  The levels are kept as integer-valued floats: a product Wq aq is an integer below 127 * 32767 < 2^23, and the
  inputs are cut into runs whose weights satisfy sum |Wq| lmax < 2^24 for every output (KDQuantizedNetGroups), so
  float32 forms the partial sums of a run exactly, whatever the order or FMA contraction; each run is converted to
  int32 and the runs summed there. The result is the exact int32 dot product at the cost of float multiply-adds, which
  every SIMD unit has (integer 16 x 16 -> 32-bit multiplies cost 2-3 times more). Activations round to nearest, ties
  to even (the kernel adds and subtracts 1.5 * 2^23). Weights (KDQuantizedNetRound): layer by
  layer on the calibration points, the least-squares weights given the int8 network's own (already quantized) inputs,
  rounded with error feedback (GPTQ-like), then moved by +-1 where that lowers the variance of the pre-activation
  error against the f64 network; the bias b' absorbs the mean of that error (bias correction).
*/

const char *const KDPrecisions[] = {"f64", "f32", "int8", "KDPrecision", "KD_PRECISION_", NULL};
const char *const KDInt8Scales[] = {"layer", "channel", "KDInt8Scale", "KD_INT8_SCALE_", NULL};

static PetscLogEvent KD_QuantizedNetCreate, KD_ExportWrite;

static PetscErrorCode KDExportRegisterEvents(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDQuantizedNetCreate", KD_CLASSID, &KD_QuantizedNetCreate));
  PetscCall(PetscLogEventRegister("KDExportWrite", KD_CLASSID, &KD_ExportWrite));
  PetscFunctionReturn(0);
}

struct _p_KDQuantizedNet {
  PetscInt nlayers, widths[KD_NET_MAX_LAYERS + 1];
  KDActivation activation;
  KDInt8Scale mode;
  PetscInt abits; /* bits of an activation level, sign included */
  PetscReal lmax; /* largest activation level, 2^(abits-1) - 1 */
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN], scale[KD_NET_MAX_OUT], shift[KD_NET_MAX_OUT];
  PetscReal *params; /* f64 parameters, the KDNet layout */
  PetscInt woff[KD_NET_MAX_LAYERS], boff[KD_NET_MAX_LAYERS];
  int8_t *wq;        /* quantized weights of layers 1 .. L-1 at qoff[k] (out x in, row-major) */
  PetscReal *S, *bq; /* per output channel of layers 1 .. L-1 at soff[k]: z = S acc + bq */
  PetscReal *sa;     /* activation scale of each input unit of layers 1 .. L-1 at aoff[k] */
  PetscInt qoff[KD_NET_MAX_LAYERS], soff[KD_NET_MAX_LAYERS], aoff[KD_NET_MAX_LAYERS];
  PetscReal predicted, measured; /* relative L2 error vs f64 on the calibration points */
};

/* The pointwise activation, its derivative, and whether the int8 kernel clamps the pre-activation (a bounded, monotone
   activation: its level needs no clamp of its own), from the activation table. */
static inline PetscReal KDActivate(KDActivation act, PetscReal z)
{
  return KDActivationTable[act].scalar(z);
}

static inline PetscReal KDActivateDerivative(KDActivation act, PetscReal z, PetscReal a)
{
  return KDActivationTable[act].derivative(z, a);
}

static inline PetscBool KDActivationClamped(KDActivation act)
{
  return KDActivationTable[act].inverse ? PETSC_TRUE : PETSC_FALSE;
}

/* The activation level of h at scale sa: h / sa clamped to [-lmax, lmax], rounded to nearest with ties to even, as
   the generated code rounds (it adds and subtracts 1.5 * 2^23 in float). */
static inline PetscReal KDQuantizeLevel(PetscReal h, PetscReal sa, PetscReal lmax)
{
  PetscReal v = h / sa;
  v           = v > lmax ? lmax : (v < -lmax ? -lmax : v);
  return nearbyint(v);
}

/* f64 forward of one point keeping every layer's activations: h + hoff[k] is the input of layer k (h_0 the mapped
   point) and z + hoff[k] its pre-activation (k >= 1), y the outputs. */
static void KDQuantizedNetForwardPoint(KDQuantizedNet q, const PetscReal x[], PetscReal h[], PetscReal z[],
                                       const PetscInt hoff[], PetscReal y[])
{
  const PetscInt L = q->nlayers;

  for (PetscInt i = 0; i < q->widths[0]; i++) h[i] = 2.0 * (x[i] - q->lo[i]) / (q->hi[i] - q->lo[i]) - 1.0;
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt in = q->widths[k], out = q->widths[k + 1];
    const PetscReal *W = q->params + q->woff[k], *b = q->params + q->boff[k], *a = h + hoff[k];
    for (PetscInt o = 0; o < out; o++) {
      PetscReal s = 0;
      for (PetscInt i = 0; i < in; i++) s += W[o * in + i] * a[i];
      if (k < L - 1) {
        z[hoff[k + 1] + o] = s + b[o];
        h[hoff[k + 1] + o] = KDActivate(q->activation, s + b[o]);
      } else
        y[o] = q->scale[o] * (s + b[o]) + q->shift[o];
    }
  }
}

/* Adjusts the integer weights of one output channel: e_p is the channel's pre-activation error at calibration point p
   for the current weights (the int8 network's input levels ql, the f64 network's pre-activation as target); a step of
   +-1 in weight i changes e by +-S ql_i, and is taken when it lowers var(e), the error left once the bias takes its
   mean. Greedy sweeps over the inputs until none helps (at most 8). Returns the mean of the final error. */
static PetscReal KDQuantizedNetRoundChannel(PetscInt in, PetscInt n, const PetscReal ql[], const PetscReal mean[],
                                            const PetscReal var[], PetscReal S, int8_t wq[], PetscReal e[])
{
  PetscReal emean = 0;

  for (PetscInt sweep = 0; sweep < 8; sweep++) {
    PetscBool changed = PETSC_FALSE;
    for (PetscInt i = 0; i < in; i++) {
      const PetscReal *a = ql + i * n;
      PetscReal em = 0, cov = 0;
      for (PetscInt p = 0; p < n; p++) em += e[p];
      em /= (PetscReal) n;
      for (PetscInt p = 0; p < n; p++) cov += (e[p] - em) * (a[p] - mean[i]);
      cov /= (PetscReal) n;
      for (int d = -1; d <= 1; d += 2) {
        /* var(e + d S a) - var(e) = 2 d S cov + S^2 var(a); a relative margin keeps round-off from cycling */
        if (wq[i] + d > 127 || wq[i] + d < -127 || 2.0 * d * S * cov + S * S * var[i] >= -1e-12 * S * S * var[i])
          continue;
        wq[i] = (int8_t) (wq[i] + d);
        for (PetscInt p = 0; p < n; p++) e[p] += d * S * a[p];
        changed = PETSC_TRUE;
        break;
      }
    }
    if (!changed) break;
  }
  for (PetscInt p = 0; p < n; p++) emean += e[p];
  return emean / (PetscReal) n;
}

/* In-place Cholesky factor of a symmetric positive definite m x m matrix (lower triangle, row-major); the strict upper
   triangle is zeroed. Returns PETSC_FALSE if a pivot is not positive. */
static PetscBool KDCholesky(PetscInt m, PetscReal A[])
{
  for (PetscInt j = 0; j < m; j++) {
    PetscReal d = A[j * m + j];
    for (PetscInt k = 0; k < j; k++) d -= A[j * m + k] * A[j * m + k];
    if (!(d > 0)) return PETSC_FALSE;
    A[j * m + j] = PetscSqrtReal(d);
    for (PetscInt i = j + 1; i < m; i++) {
      PetscReal s = A[i * m + j];
      for (PetscInt k = 0; k < j; k++) s -= A[i * m + k] * A[j * m + k];
      A[i * m + j] = s / A[j * m + j];
    }
    for (PetscInt i = 0; i < j; i++) A[i * m + j] = 0;
  }
  return PETSC_TRUE;
}

/* The rounding of one layer (GPTQ-like): H = Cov(ql) over the calibration points (plus a damping of 1e-8 of its mean
   diagonal, which keeps it positive definite when a unit is constant), and U, the upper Cholesky factor of H^-1
   (H^-1 = U^T U). For an output channel, wf = H^-1 Cov(ql, z) / S are the least-squares weights in level units given
   the int8 network's own inputs (they absorb what the earlier layers' roundings changed); the weights are then rounded
   one at a time, each rounding error pushed onto the weights not yet rounded along the row of U, the step that keeps
   the error of the pre-activation over the calibration points smallest (optimal brain surgeon). */
static PetscErrorCode KDQuantizedNetLayerFactor(PetscInt in, PetscInt n, const PetscReal ql[], const PetscReal mean[],
                                                PetscReal H[], PetscReal U[], PetscBool *ok)
{
  PetscReal tr = 0;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < in; i++)
    for (PetscInt j = 0; j <= i; j++) {
      PetscReal s = 0;
      for (PetscInt p = 0; p < n; p++) s += (ql[i * n + p] - mean[i]) * (ql[j * n + p] - mean[j]);
      H[i * in + j] = H[j * in + i] = s / (PetscReal) n;
    }
  for (PetscInt i = 0; i < in; i++) tr += H[i * in + i];
  for (PetscInt i = 0; i < in; i++) H[i * in + i] += tr > 0 ? 1e-8 * tr / (PetscReal) in : 1.0;
  *ok = KDCholesky(in, H);
  if (!*ok) PetscFunctionReturn(0);
  /* H^-1 = L^-T L^-1 column by column into U, then its Cholesky factor, transposed */
  for (PetscInt c = 0; c < in; c++) {
    PetscReal *v = U + c * in; /* row c of U as scratch: solves L L^T v = e_c */
    for (PetscInt i = 0; i < in; i++) {
      PetscReal s = i == c ? 1.0 : 0.0;
      for (PetscInt k = 0; k < i; k++) s -= H[i * in + k] * v[k];
      v[i] = s / H[i * in + i];
    }
    for (PetscInt i = in - 1; i >= 0; i--) {
      PetscReal s = v[i];
      for (PetscInt k = i + 1; k < in; k++) s -= H[k * in + i] * v[k];
      v[i] = s / H[i * in + i];
    }
  }
  /* U now holds H^-1 (symmetric); keep L in H for the least-squares solves */
  *ok = KDCholesky(in, U);
  if (!*ok) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < in; i++)
    for (PetscInt j = i + 1; j < in; j++) {
      U[i * in + j] = U[j * in + i];
      U[j * in + i] = 0;
    }
  PetscFunctionReturn(0);
}

/* Least-squares weights of one output channel in level units (r = Cov(ql, z), L the Cholesky factor of H), then the
   rounding with error feedback (see KDQuantizedNetLayerFactor()). wf is scratch. */
static void KDQuantizedNetRoundFeedback(PetscInt in, const PetscReal L[], const PetscReal U[], const PetscReal r[],
                                        PetscReal S, PetscReal wf[], int8_t wq[])
{
  for (PetscInt i = 0; i < in; i++) {
    PetscReal s = r[i];
    for (PetscInt k = 0; k < i; k++) s -= L[i * in + k] * wf[k];
    wf[i] = s / L[i * in + i];
  }
  for (PetscInt i = in - 1; i >= 0; i--) {
    PetscReal s = wf[i];
    for (PetscInt k = i + 1; k < in; k++) s -= L[k * in + i] * wf[k];
    wf[i] = s / L[i * in + i];
  }
  for (PetscInt i = 0; i < in; i++) wf[i] /= S;
  for (PetscInt i = 0; i < in; i++) {
    PetscReal v = wf[i] > 127 ? 127 : (wf[i] < -127 ? -127 : wf[i]), err;
    v           = v >= 0 ? PetscFloorReal(v + 0.5) : -PetscFloorReal(-v + 0.5);
    wq[i]       = (int8_t) v;
    err         = (wf[i] - v) / U[i * in + i];
    for (PetscInt j = i + 1; j < in; j++) wf[j] -= err * U[i * in + j];
  }
}

/* Weight rounding and bias correction of layers 1 .. L-1, in order, on at most 8192 of the calibration points (a
   regular subset): layer k is fitted to the f64 network's pre-activations given the int8 network's input levels, which
   already carry the errors of layers < k, so later layers also compensate what earlier ones could not. */
static PetscErrorCode KDQuantizedNetRound(KDQuantizedNet q, PetscInt ncal, const PetscReal xcal[])
{
  const PetscInt L = q->nlayers, nin = q->widths[0], stride = (ncal + 8191) / 8192, n = (ncal + stride - 1) / stride;
  PetscInt wmax = 0;
  PetscReal *ql, *an, *ql2, *an2, *z, *e, *mean, *var, *H, *U, *r, *wf;
  PetscBool ok;

  PetscFunctionBegin;
  for (PetscInt k = 0; k <= L; k++) wmax = PetscMax(wmax, q->widths[k]);
  /* separate allocations: ql/ql2 and an/an2 swap roles from layer to layer */
  PetscCall(PetscMalloc1(wmax * n, &ql));
  PetscCall(PetscMalloc1(wmax * n, &an));
  PetscCall(PetscMalloc1(wmax * n, &ql2));
  PetscCall(PetscMalloc1(wmax * n, &an2));
  PetscCall(PetscMalloc4(wmax * n, &z, n, &e, wmax, &mean, wmax, &var));
  PetscCall(PetscMalloc4(wmax * wmax, &H, wmax * wmax, &U, wmax, &r, wmax, &wf));
  /* layer 0 in double (the kernel computes it in float): the f64 activations an and the levels ql entering layer 1 */
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal *x = xcal + p * stride * nin, *W = q->params + q->woff[0], *b = q->params + q->boff[0];
    for (PetscInt o = 0; o < q->widths[1]; o++) {
      PetscReal s = b[o];
      for (PetscInt i = 0; i < nin; i++) s += W[o * nin + i] * (2.0 * (x[i] - q->lo[i]) / (q->hi[i] - q->lo[i]) - 1.0);
      an[o * n + p] = KDActivate(q->activation, s);
      ql[o * n + p] = KDQuantizeLevel(an[o * n + p], q->sa[q->aoff[1] + o], q->lmax);
    }
  }
  for (PetscInt k = 1; k < L; k++) {
    const PetscInt in = q->widths[k], out = q->widths[k + 1];
    const PetscReal *W = q->params + q->woff[k], *b = q->params + q->boff[k];
    /* targets: the f64 network's pre-activations without bias */
    for (PetscInt o = 0; o < out; o++)
      for (PetscInt p = 0; p < n; p++) {
        PetscReal s = 0;
        for (PetscInt i = 0; i < in; i++) s += W[o * in + i] * an[i * n + p];
        z[o * n + p] = s;
      }
    for (PetscInt i = 0; i < in; i++) {
      PetscReal m = 0, v = 0;
      for (PetscInt p = 0; p < n; p++) m += ql[i * n + p];
      m /= (PetscReal) n;
      for (PetscInt p = 0; p < n; p++) v += (ql[i * n + p] - m) * (ql[i * n + p] - m);
      mean[i] = m;
      var[i]  = v / (PetscReal) n;
    }
    PetscCall(KDQuantizedNetLayerFactor(in, n, ql, mean, H, U, &ok));
    for (PetscInt o = 0; o < out; o++) {
      const PetscReal S = q->S[q->soff[k] + o];
      int8_t *wq        = q->wq + q->qoff[k] + o * in;
      /* without a factor (a degenerate layer) the round-to-nearest weights stay, and the sweeps below improve them */
      if (ok) {
        PetscReal zm = 0;
        for (PetscInt p = 0; p < n; p++) zm += z[o * n + p];
        zm /= (PetscReal) n;
        for (PetscInt i = 0; i < in; i++) {
          PetscReal s = 0;
          for (PetscInt p = 0; p < n; p++) s += (ql[i * n + p] - mean[i]) * (z[o * n + p] - zm);
          r[i] = s / (PetscReal) n;
        }
        KDQuantizedNetRoundFeedback(in, H, U, r, S, wf, wq);
      }
      for (PetscInt p = 0; p < n; p++) {
        PetscReal s = 0;
        for (PetscInt i = 0; i < in; i++) s += (PetscReal) wq[i] * ql[i * n + p];
        e[p] = S * s - z[o * n + p];
      }
      q->bq[q->soff[k] + o] = b[o] - KDQuantizedNetRoundChannel(in, n, ql, mean, var, S, wq, e);
    }
    if (k == L - 1) break;
    /* inputs of layer k + 1: the int8 network's levels, from its adjusted weights and biases, and the f64 activations
     */
    for (PetscInt o = 0; o < out; o++) {
      const int8_t *wq = q->wq + q->qoff[k] + o * in;
      for (PetscInt p = 0; p < n; p++) {
        PetscReal s = 0;
        for (PetscInt i = 0; i < in; i++) s += (PetscReal) wq[i] * ql[i * n + p];
        s              = s * q->S[q->soff[k] + o] + q->bq[q->soff[k] + o];
        ql2[o * n + p] = KDQuantizeLevel(KDActivate(q->activation, s), q->sa[q->aoff[k + 1] + o], q->lmax);
        an2[o * n + p] = KDActivate(q->activation, z[o * n + p] + b[o]);
      }
    }
    {
      PetscReal *t = ql;
      ql = ql2, ql2 = t;
      t = an, an = an2, an2 = t;
    }
  }
  PetscCall(PetscFree4(z, e, mean, var));
  PetscCall(PetscFree4(H, U, r, wf));
  PetscCall(PetscFree(ql));
  PetscCall(PetscFree(an));
  PetscCall(PetscFree(ql2));
  PetscCall(PetscFree(an2));
  PetscFunctionReturn(0);
}

/*@C
  KDQuantizedNetCreate - The int8 scheme of a network: per-output-channel symmetric int8 weights for layers 1 .. L-1,
  activation scales calibrated on given points, weight rounding and biases fitted on them, and an estimate of the
  error the scheme makes.

  Not collective (every rank computes the same from the same points)

  Input Parameters:
+ net  - the network, set up
. mode  - KD_INT8_SCALE_LAYER (one activation scale per layer) or KD_INT8_SCALE_CHANNEL (one per unit)
. abits - bits of an activation level, sign included (8 to 16; 16 is the default of kdpinn export)
. ncal  - number of calibration points (>= 1)
- xcal - calibration points, xcal[p * nin + i], physical units

  Output Parameter:
. q - the quantized network

  Notes:
  An activation scale is the largest |activation| over the calibration points divided by lmax = 2^(abits-1) - 1, so
  values beyond the calibration range are clipped. The weights of each layer are the least-squares weights given the
  int8 network's own inputs, rounded with error feedback and then adjusted by +-1 steps (KDQuantizedNetRound()); the
  biases absorb the mean error. The error estimate models every rounding (of a weight, of an activation) as an
  independent error uniform over one quantization step and propagates it to the outputs with the f64 network's
  Jacobian at each calibration point (docs/export.md gives the formula); it describes round-to-nearest weights, so it
  overestimates once the rounding is fitted. The measured error is that of KDQuantizedNetEvaluate() on the same points.

.seealso: KDQuantizedNetEvaluate(), KDQuantizedNetGetErrorEstimate(), KDExportWrite()
@*/
PetscErrorCode KDQuantizedNetCreate(KDNet net, KDInt8Scale mode, PetscInt abits, PetscInt ncal, const PetscReal xcal[],
                                    KDQuantizedNet *qnet)
{
  KDQuantizedNet q;
  const PetscInt L = net->nlayers, nin = net->widths[0], nout = net->widths[L];
  PetscInt nq = 0, ns = 0, na = 0, hoff[KD_NET_MAX_LAYERS + 1], htot = 0, wmax = 0;
  PetscReal *h, *z, *g, *gz, *y, *yq, *amax, var = 0, num = 0, den = 0;

  PetscFunctionBegin;
  PetscCheck(net->setupcalled, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE,
             "KDQuantizedNetCreate() needs a set-up network");
  PetscCheck(ncal >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "int8 calibration needs at least one point, got %" PetscInt_FMT, ncal);
  PetscCheck(abits >= 8 && abits <= 16, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_int8_activation_bits must be 8 to 16, got %" PetscInt_FMT, abits);
  /* the int32 sum of a layer: in products of at most 127 * lmax each */
  for (PetscInt k = 1; k < L; k++)
    PetscCheck((PetscReal) net->widths[k] * 127.0 * (PetscReal) ((1 << (abits - 1)) - 1) < 2147483648.0,
               PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "int8 export: a layer of %" PetscInt_FMT " inputs can overflow the int32 sum with %" PetscInt_FMT
               "-bit activations (lower -kd_int8_activation_bits)",
               net->widths[k], abits);
  PetscCall(KDExportRegisterEvents());
  PetscCall(PetscLogEventBegin(KD_QuantizedNetCreate, 0, 0, 0, 0));
  PetscCall(PetscNew(&q));
  q->nlayers    = L;
  q->activation = net->activation;
  q->mode       = mode;
  q->abits      = abits;
  q->lmax       = (PetscReal) ((1 << (abits - 1)) - 1);
  PetscCall(PetscArraycpy(q->widths, net->widths, L + 1));
  PetscCall(PetscArraycpy(q->lo, net->lo, nin));
  PetscCall(PetscArraycpy(q->hi, net->hi, nin));
  PetscCall(PetscArraycpy(q->scale, net->scale, nout));
  PetscCall(PetscArraycpy(q->shift, net->shift, nout));
  PetscCall(PetscArraycpy(q->woff, net->woff, L));
  PetscCall(PetscArraycpy(q->boff, net->boff, L));
  PetscCall(PetscMalloc1(net->nparams, &q->params));
  PetscCall(PetscArraycpy(q->params, net->params, net->nparams));
  for (PetscInt k = 1; k < L; k++) {
    q->qoff[k] = nq;
    q->soff[k] = ns;
    q->aoff[k] = na;
    nq += q->widths[k] * q->widths[k + 1];
    ns += q->widths[k + 1];
    na += q->widths[k];
  }
  PetscCall(PetscMalloc1(nq + 1, &q->wq));
  PetscCall(PetscMalloc3(ns + 1, &q->S, ns + 1, &q->bq, na + 1, &q->sa));
  for (PetscInt k = 0; k <= L; k++) {
    hoff[k] = htot;
    if (k < L) htot += q->widths[k];
    wmax = PetscMax(wmax, q->widths[k]);
  }
  PetscCall(PetscMalloc6(htot, &h, htot, &z, wmax, &g, wmax, &gz, nout, &y, htot, &amax));

  /* calibration: the largest |activation| of each unit entering a quantized layer, then the layer's or the unit's */
  for (PetscInt i = 0; i < htot; i++) amax[i] = 0;
  for (PetscInt p = 0; p < ncal; p++) {
    KDQuantizedNetForwardPoint(q, xcal + p * nin, h, z, hoff, y);
    for (PetscInt i = hoff[1]; i < htot; i++) amax[i] = PetscMax(amax[i], PetscAbsReal(h[i]));
  }
  for (PetscInt k = 1; k < L; k++) {
    PetscReal m = 0;
    for (PetscInt i = 0; i < q->widths[k]; i++) m = PetscMax(m, amax[hoff[k] + i]);
    for (PetscInt i = 0; i < q->widths[k]; i++) {
      const PetscReal a = mode == KD_INT8_SCALE_LAYER ? m : amax[hoff[k] + i];
      /* a unit that is zero on every calibration point keeps a step of 1/lmax */
      q->sa[q->aoff[k] + i] = a > 0 ? a / q->lmax : 1.0 / q->lmax;
    }
  }
  /* weights: activation scales folded in, then per output channel round-to-nearest */
  for (PetscInt k = 1; k < L; k++) {
    const PetscInt in = q->widths[k], out = q->widths[k + 1];
    const PetscReal *W = q->params + q->woff[k], *sa = q->sa + q->aoff[k];
    for (PetscInt o = 0; o < out; o++) {
      PetscReal m = 0, S;
      for (PetscInt i = 0; i < in; i++) m = PetscMax(m, PetscAbsReal(W[o * in + i] * sa[i]));
      /* an all-zero row keeps scale 1 and zero weights */
      S                     = m > 0 ? m / 127.0 : 1.0;
      q->S[q->soff[k] + o]  = S;
      q->bq[q->soff[k] + o] = q->params[q->boff[k] + o];
      for (PetscInt i = 0; i < in; i++)
        q->wq[q->qoff[k] + o * in + i] = (int8_t) KDQuantizeLevel(W[o * in + i] * sa[i], S, 127.0);
    }
  }

  /* Error model: an activation rounding is uniform over [-sa/2, sa/2] (variance sa^2/12) and enters the outputs
     through dy/dh; a weight rounding is uniform over [-S/2, S/2] in units of the levels and changes z_j by
     variance S_j^2/12 sum_i (h_i/sa_i)^2, entering through dy/dz_j. All independent: the variances add. */
  for (PetscInt p = 0; p < ncal; p++) {
    KDQuantizedNetForwardPoint(q, xcal + p * nin, h, z, hoff, y);
    for (PetscInt o = 0; o < nout; o++) {
      /* gz = dy_o/dz_k for the layer k being processed, starting with the output layer */
      for (PetscInt j = 0; j < nout; j++) gz[j] = j == o ? q->scale[o] : 0.0;
      for (PetscInt k = L - 1; k >= 1; k--) {
        const PetscInt in = q->widths[k], out = q->widths[k + 1];
        const PetscReal *W = q->params + q->woff[k], *a = h + hoff[k], *sa = q->sa + q->aoff[k];
        PetscReal ll = 0;
        for (PetscInt i = 0; i < in; i++) ll += (a[i] / sa[i]) * (a[i] / sa[i]);
        for (PetscInt j = 0; j < out; j++) {
          const PetscReal S = q->S[q->soff[k] + j];
          var += gz[j] * gz[j] * S * S / 12.0 * ll;
        }
        /* g = dy_o/dh_k = W^T gz; then through the activation to dy_o/dz_{k-1} */
        for (PetscInt i = 0; i < in; i++) {
          PetscReal s = 0;
          for (PetscInt j = 0; j < out; j++) s += W[j * in + i] * gz[j];
          g[i] = s;
          var += s * s * sa[i] * sa[i] / 12.0;
        }
        for (PetscInt i = 0; i < in; i++) gz[i] = g[i] * KDActivateDerivative(q->activation, z[hoff[k] + i], a[i]);
      }
      den += y[o] * y[o];
    }
  }
  q->predicted = den > 0 ? PetscSqrtReal(var / den) : 0.0;
  PetscCall(PetscFree6(h, z, g, gz, y, amax));

  PetscCall(KDQuantizedNetRound(q, ncal, xcal));

  /* measured: the scheme against f64 on the calibration points */
  {
    const PetscInt n = PetscMin(ncal, 1 << 20);
    PetscCall(PetscMalloc2(n * nout, &y, n * nout, &yq));
    PetscCall(KDNetEvaluate(net, n, xcal, y));
    PetscCall(KDQuantizedNetEvaluate(q, n, xcal, yq));
    den = 0;
    for (PetscInt i = 0; i < n * nout; i++) {
      num += (yq[i] - y[i]) * (yq[i] - y[i]);
      den += y[i] * y[i];
    }
    q->measured = den > 0 ? PetscSqrtReal(num / den) : 0.0;
    PetscCall(PetscFree2(y, yq));
  }
  *qnet = q;
  PetscCall(PetscLogEventEnd(KD_QuantizedNetCreate, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDQuantizedNetDestroy - Destroys a quantized network.

  Not collective
@*/
PetscErrorCode KDQuantizedNetDestroy(KDQuantizedNet *q)
{
  PetscFunctionBegin;
  if (!*q) PetscFunctionReturn(0);
  PetscCall(PetscFree((*q)->params));
  PetscCall(PetscFree((*q)->wq));
  PetscCall(PetscFree3((*q)->S, (*q)->bq, (*q)->sa));
  PetscCall(PetscFree(*q));
  PetscFunctionReturn(0);
}

/*@C
  KDQuantizedNetEvaluate - The int8 scheme in double precision: the reference of the generated int8 kernel, which
  differs from it only where its float32 arithmetic moves an activation across a rounding boundary.

  Not collective

  Input Parameters:
+ q - the quantized network
. n - number of points
- x - points, x[p * nin + i]

  Output Parameter:
. y - values, y[o * n + p]
@*/
PetscErrorCode KDQuantizedNetEvaluate(KDQuantizedNet q, PetscInt n, const PetscReal x[], PetscReal y[])
{
  const PetscInt L = q->nlayers, nin = q->widths[0], nout = q->widths[L];
  PetscInt wmax = 0;
  PetscReal *a, *c, h0[KD_NET_MAX_IN];

  PetscFunctionBegin;
  for (PetscInt k = 0; k <= L; k++) wmax = PetscMax(wmax, q->widths[k]);
  PetscCall(PetscMalloc2(wmax, &a, wmax, &c));
  for (PetscInt p = 0; p < n; p++) {
    for (PetscInt i = 0; i < nin; i++) h0[i] = 2.0 * (x[p * nin + i] - q->lo[i]) / (q->hi[i] - q->lo[i]) - 1.0;
    {
      const PetscInt out = q->widths[1];
      const PetscReal *W = q->params + q->woff[0], *b = q->params + q->boff[0];
      for (PetscInt o = 0; o < out; o++) {
        PetscReal s = b[o];
        for (PetscInt i = 0; i < nin; i++) s += W[o * nin + i] * h0[i];
        a[o] = KDQuantizeLevel(KDActivate(q->activation, s), q->sa[q->aoff[1] + o], q->lmax);
      }
    }
    for (PetscInt k = 1; k < L; k++) {
      const PetscInt in = q->widths[k], out = q->widths[k + 1];
      const int8_t *Wq   = q->wq + q->qoff[k];
      const PetscReal *b = q->bq + q->soff[k], *S = q->S + q->soff[k];
      for (PetscInt o = 0; o < out; o++) {
        int32_t acc = 0;
        for (PetscInt i = 0; i < in; i++) acc += (int32_t) Wq[o * in + i] * (int32_t) a[i];
        c[o] = (PetscReal) acc * S[o] + b[o];
      }
      if (k < L - 1)
        for (PetscInt o = 0; o < out; o++)
          a[o] = KDQuantizeLevel(KDActivate(q->activation, c[o]), q->sa[q->aoff[k + 1] + o], q->lmax);
      else
        for (PetscInt o = 0; o < nout; o++) y[o * n + p] = q->scale[o] * c[o] + q->shift[o];
    }
  }
  PetscCall(PetscFree2(a, c));
  PetscFunctionReturn(0);
}

/*@C
  KDQuantizedNetGetErrorEstimate - Relative L2 error of the int8 scheme against the f64 network on the calibration
  points (all outputs together): predicted by the rounding-noise model, and measured.

  Not collective
@*/
PetscErrorCode KDQuantizedNetGetErrorEstimate(KDQuantizedNet q, PetscReal *predicted, PetscReal *measured)
{
  PetscFunctionBegin;
  if (predicted) *predicted = q->predicted;
  if (measured) *measured = q->measured;
  PetscFunctionReturn(0);
}

/*@C
  KDQuantizedNetGetScales - The scales of quantized layer k (1 <= k < nlayers): the activation scale of each of its
  input units and the per-output-channel scale S of its integer sums (z = S acc + b').

  Not collective
@*/
PetscErrorCode KDQuantizedNetGetScales(KDQuantizedNet q, PetscInt k, const PetscReal **sa, const PetscReal **S)
{
  PetscFunctionBegin;
  PetscCheck(k >= 1 && k < q->nlayers, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "layer %" PetscInt_FMT " is not quantized", k);
  if (sa) *sa = q->sa + q->aoff[k];
  if (S) *S = q->S + q->soff[k];
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Code generation */
/* ------------------------------------------------------------------------------------------------------------------ */

/* A generated file is written with plain stdio by rank 0; a write error anywhere sets err, checked once at the end. */
typedef struct {
  FILE *fp;
  int err;
  KDPrecision prec;
  const char *name;  /* function prefix */
  const char *macro; /* upper-case prefix of the header's macros */
} KDEmitter;

static void KDEmit(KDEmitter *e, const char *fmt, ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
static void KDEmit(KDEmitter *e, const char *fmt, ...)
{
  va_list ap;
  if (!e->fp || e->err) return;
  va_start(ap, fmt);
  if (vfprintf(e->fp, fmt, ap) < 0) e->err = 1;
  va_end(ap);
}

/* A real constant as a C literal of the kernel's type: 17 significant digits for double, 9 (exact round trip) and the f
   suffix for float. */
static void KDEmitReal(KDEmitter *e, PetscReal v)
{
  char buf[64];
  (void) snprintf(buf, sizeof(buf), e->prec == KD_PRECISION_F64 ? "%.17g" : "%.9g",
                  e->prec == KD_PRECISION_F64 ? (double) v : (double) (float) v);
  /* an integral value needs a decimal point to be a floating constant (and to take the f suffix) */
  if (!strpbrk(buf, ".eE")) (void) strncat(buf, ".0", sizeof(buf) - strlen(buf) - 1);
  KDEmit(e, "%s%s", buf, e->prec == KD_PRECISION_F64 ? "" : "f");
}

static void KDEmitRealArray(KDEmitter *e, const char *label, PetscInt n, const PetscReal v[])
{
  KDEmit(e, "static const %s %s_%s[%d] = {", e->prec == KD_PRECISION_F64 ? "double" : "float", e->name, label, (int) n);
  for (PetscInt i = 0; i < n; i++) {
    KDEmit(e, "%s", i % 6 ? ", " : (i ? ",\n  " : "\n  "));
    KDEmitReal(e, v[i]);
  }
  KDEmit(e, "};\n");
}

static void KDEmitInt8Array(KDEmitter *e, const char *label, PetscInt n, const int8_t v[])
{
  KDEmit(e, "static const int8_t %s_%s[%d] = {", e->name, label, (int) n);
  for (PetscInt i = 0; i < n; i++) KDEmit(e, "%s%d", i % 20 ? ", " : (i ? ",\n  " : "\n  "), (int) v[i]);
  KDEmit(e, "};\n");
}

/* int8: the pre-activation clamp of tanh and isru, whose bound per unit (the zlim arrays) is also the clamp of the
   activation level. */
static void KDEmitClamp(KDEmitter *e, const char *act, const char *range)
{
  KDEmit(e,
         "/* The pre-activation z with |z| clamped to lim (bits of a positive float, per unit): an integer minimum of "
         "the bits of\n"
         "   |z| (no branch, no floating-point select, so the loops vectorize at -O2). lim is at most %s, the range of "
         "the %s\n"
         "   above, and small enough that %s(lim) is within a quarter level of the largest level: this one clamp is "
         "also the\n"
         "   clamp of the activation level. */\n"
         "static inline float %s_clamp(float z, uint32_t lim)\n{\n"
         "  uint32_t zb, sb;\n"
         "  memcpy(&zb, &z, sizeof(zb));\n"
         "  sb = zb & 0x80000000u;\n"
         "  zb ^= sb;\n"
         "  zb = zb < lim ? zb : lim;\n"
         "  zb |= sb;\n"
         "  memcpy(&z, &zb, sizeof(z));\n"
         "  return z;\n}\n\n",
         range, act, act, e->name);
}

/* A template of the activation table's exported C, with $ replaced by the kernel's name. */
static void KDEmitTemplate(KDEmitter *e, const char *text)
{
  for (const char *c = text; *c; c++) {
    if (*c == '$') KDEmit(e, "%s", e->name);
    else if (!e->err && e->fp && fputc(*c, e->fp) == EOF) e->err = 1;
  }
}

/* The activation as static inline functions of the kernel's type: the table's code for the precision; for int8 and
   a bounded activation, the clamp of the pre-activation; for int8, the rounding to a level. */
static void KDEmitActivation(KDEmitter *e, KDActivation act, PetscReal lmaxr)
{
  const KDActivationOps *ops = &KDActivationTable[act];
  const char            *N   = e->name;

  KDEmitTemplate(e, ops->code[e->prec]);
  if (e->prec == KD_PRECISION_INT8 && ops->inverse) KDEmitClamp(e, ops->name, ops->range_text);
  if (e->prec == KD_PRECISION_INT8) {
    const float lmax = (float) lmaxr;
    uint32_t lbits;
    memcpy(&lbits, &lmax, sizeof(lbits));
    /* Rounding by adding and subtracting 1.5 * 2^23: float addition rounds to nearest (ties to even) at the unit place
       for |v| < 2^22, two operations against five for a conversion to int32 and back; an FMA contraction of the
       product before it only rounds the exact product instead of the float one. -ffast-math would cancel the two
       additions: under __FAST_MATH__ the conversion is used instead. */
    KDEmit(e,
           "/* The activation level of v (in units of the activation scale), an integer-valued float: v rounded to "
           "nearest, ties to\n"
           "   even, by the float addition of 1.5 * 2^23 (the unit in the last place of the sum is 1)%s */\n"
           "static inline float %s_level(float v)\n{\n",
           KDActivationClamped(act) ? "; |v| <= lmax + 1/4 by the clamp\n   of the pre-activation"
                                    : ", after clamping |v| to lmax\n   by an integer minimum of its bits",
           N);
    if (!KDActivationClamped(act))
      KDEmit(e,
             "  uint32_t vb, sb;\n"
             "  memcpy(&vb, &v, sizeof(vb));\n"
             "  sb = vb & 0x80000000u;\n"
             "  vb ^= sb;\n"
             "  vb = vb < 0x%08xu ? vb : 0x%08xu; /* min(|v|, %d) */\n"
             "  vb |= sb;\n"
             "  memcpy(&v, &vb, sizeof(v));\n",
             (unsigned) lbits, (unsigned) lbits, (int) lmaxr);
    KDEmit(e, "#ifdef __FAST_MATH__\n"
              "  return (float)(int32_t)(v + (v < 0.0f ? -0.5f : 0.5f));\n"
              "#else\n"
              "  {\n"
              "    float r = v + 0x1.8p23f;\n"
              "    return r - 0x1.8p23f;\n"
              "  }\n"
              "#endif\n"
              "}\n\n");
  }
}

/* The groups of the exact float partial sums of quantized layer k: contiguous runs of inputs [start[j], start[j+1])
   with sum |Wq[o][i]| lmax < 2^24 over the run for every output o, so that any partial sum of the products of a run
   (integers) is exact in float. Built greedily from the actual weights: per-channel scaling leaves one weight of 127 a
   row and most far smaller, so a run is longer than the floor(2^24 / (127 lmax)) products that the worst case allows
   (on the cavity student with 16-bit levels, runs of 6 to 8 instead of 4), and each run costs one conversion to int32.
   Returns the number of runs. */
static PetscInt KDQuantizedNetGroups(KDQuantizedNet q, PetscInt k, PetscInt start[])
{
  const PetscInt in = q->widths[k], out = q->widths[k + 1];
  const int8_t *Wq = q->wq + q->qoff[k];
  PetscInt ng      = 0;

  for (PetscInt i = 0; i < in;) {
    PetscInt j = i + 1;
    for (; j < in; j++) {
      PetscBool fits = PETSC_TRUE;
      for (PetscInt o = 0; o < out && fits; o++) {
        PetscReal sum = 0;
        for (PetscInt t = i; t <= j; t++) sum += PetscAbsReal((PetscReal) Wq[o * in + t]);
        if (sum * q->lmax >= 16777216.0) fits = PETSC_FALSE;
      }
      if (!fits) break;
    }
    start[ng++] = i;
    i           = j;
  }
  start[ng] = in;
  return ng;
}

/* One block kernel of nb points (a compile-time constant in the generated code). */
static PetscErrorCode KDEmitBlock(KDEmitter *e, KDNet net, KDQuantizedNet q, PetscInt nb, const char *fname)
{
  const PetscInt L = net->nlayers, nin = net->widths[0];
  const char *N = e->name, *T = e->prec == KD_PRECISION_F64 ? "double" : "float",
             *one         = e->prec == KD_PRECISION_F64 ? "" : "f";
  const PetscBool clamped = KDActivationClamped(net->activation);
  PetscInt wmax           = 0, *start;

  PetscFunctionBegin;
  for (PetscInt k = 1; k < L; k++) wmax = PetscMax(wmax, net->widths[k]);
  PetscCall(PetscMalloc1(wmax + 2, &start));
  KDEmit(e, "/* %d points: x[p * %d + i] -> y[o * ldy + p] */\n", (int) nb, (int) nin);
  KDEmit(e, "static void %s_%s(const %s *restrict x, %s *restrict y, int ldy)\n{\n", N, fname, T, T);
  KDEmit(e, "  %s h0[%d];\n", T, (int) (nin * nb));
  if (e->prec == KD_PRECISION_INT8)
    KDEmit(e, "  float ha[%d], hb[%d]; /* activation levels (integer-valued) */\n", (int) (wmax * nb),
           (int) (wmax * nb));
  else
    KDEmit(e, "  %s ha[%d], hb[%d];\n", T, (int) (wmax * nb), (int) (wmax * nb));
  KDEmit(e, "  int p, o;\n\n");
  for (PetscInt i = 0; i < nin; i++) {
    KDEmit(e,
           "  for (p = 0; p < %d; p++) h0[%d + p] = 2.0%s * (x[p * %d + %d] - %s_lo[%d]) / (%s_hi[%d] - %s_lo[%d]) - "
           "1.0%s;\n",
           (int) nb, (int) (i * nb), one, (int) nin, (int) i, N, (int) i, N, (int) i, N, (int) i, one);
  }
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt in = net->widths[k], out = net->widths[k + 1];
    const char *src = k == 0 ? "h0" : (k % 2 ? "ha" : "hb"), *dst = k % 2 ? "hb" : "ha";
    const PetscBool last  = k == L - 1 ? PETSC_TRUE : PETSC_FALSE,
                    quant = e->prec == KD_PRECISION_INT8 && k > 0 ? PETSC_TRUE : PETSC_FALSE,
                    level = e->prec == KD_PRECISION_INT8 && !last ? PETSC_TRUE : PETSC_FALSE;

    KDEmit(e, "\n  /* layer %d: %d -> %d%s */\n", (int) k, (int) in, (int) out, last ? ", linear" : "");
    KDEmit(e, "  for (o = 0; o < %d; o++) {\n", (int) out);
    if (quant)
      KDEmit(e, "    const int8_t *w = %s_W%d + o * %d;\n", N, (int) k, (int) in);
    else
      KDEmit(e, "    const %s *w = %s_W%d + o * %d;\n", T, N, (int) k, (int) in);
    if (quant)
      KDEmit(e, "    const float s = %s_S%d[o], c = %s_c%d[o];\n", N, (int) k, N, (int) k);
    else if (last)
      KDEmit(e, "    const %s s = %s_scale[o], c = %s_c%d[o];\n", T, N, N, (int) k);
    else
      KDEmit(e, "    const %s c = %s_b%d[o];\n", T, N, (int) k);
    if (level) {
      KDEmit(e, "    const float inv = %s_inv%d[o];\n", N, (int) (k + 1));
      if (clamped) KDEmit(e, "    const uint32_t lim = %s_zlim%d[o];\n", N, (int) (k + 1));
    }
    if (last) KDEmit(e, "    %s *restrict yo = y + o * ldy;\n", T);
    if (nb < KD_EXPORT_BLOCK) KDEmit(e, "    %s_LOOP\n", e->macro);
    KDEmit(e, "    for (p = 0; p < %d; p++) {\n", (int) nb);
    if (quant) {
      /* exact: every partial sum of a run is an integer below 2^24, the sum of the runs is int32 */
      const PetscInt ng = KDQuantizedNetGroups(q, k, start);
      KDEmit(e, "      int32_t acc = 0;\n");
      for (PetscInt gi = 0; gi < ng; gi++) {
        KDEmit(e, "      acc += (int32_t)(");
        for (PetscInt j = start[gi]; j < start[gi + 1]; j++)
          KDEmit(e, "%sw[%d] * %s[%d + p]",
                 j > start[gi] ? ((j - start[gi]) % 4 ? " + " : "\n                       + ") : "", (int) j, src,
                 (int) (j * nb));
        KDEmit(e, ");\n");
      }
      if (last)
        KDEmit(e, "      yo[p] = (float)acc * s + c;\n");
      else
        KDEmit(e, "      const float z = (float)acc * s + c;\n");
    } else {
      /* the dot product unrolled over the inputs, four terms a line */
      KDEmit(e, "      %s z = %s;\n", T, last ? (e->prec == KD_PRECISION_F64 ? "0.0" : "0.0f") : "c");
      for (PetscInt i = 0; i < in; i++) {
        KDEmit(e, "%sw[%d] * %s[%d + p]", i % 4 ? " + " : (i ? ";\n      z += " : "      z += "), (int) i, src,
               (int) (i * nb));
      }
      KDEmit(e, ";\n");
      if (last)
        KDEmit(e, "      yo[p] = s * z + c;\n");
      else if (!level)
        KDEmit(e, "      %s[o * %d + p] = %s_act(z);\n", dst, (int) nb, N);
    }
    if (level) {
      /* the activation, then the level for the next layer */
      if (clamped)
        KDEmit(e, "      %s[o * %d + p] = %s_level(%s_%s(%s_clamp(z, lim)) * inv);\n", dst, (int) nb, N, N,
               KDActivationTable[net->activation].int8_core, N);
      else
        KDEmit(e, "      %s[o * %d + p] = %s_level(%s_act(z) * inv);\n", dst, (int) nb, N, N);
    }
    KDEmit(e, "    }\n  }\n");
  }
  KDEmit(e, "}\n\n");
  PetscCall(PetscFree(start));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDExportOpen(MPI_Comm comm, const char dir[], const char file[], char path[], char tmp[],
                                   FILE **fp)
{
  PetscMPIInt rank;
  int err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(KDOutputPath(dir, file, path, PETSC_MAX_PATH_LEN));
  PetscCall(KDFileTemporaryName(path, tmp, PETSC_MAX_PATH_LEN));
  *fp = NULL;
  if (!rank) {
    *fp = fopen(tmp, "w");
    if (!*fp) err = 1;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_OPEN, "cannot write %s", tmp);
  PetscFunctionReturn(0);
}

static PetscErrorCode KDExportClose(MPI_Comm comm, KDEmitter *e, const char path[], const char tmp[])
{
  PetscFunctionBegin;
  if (e->fp && fclose(e->fp)) e->err = 1;
  e->fp = NULL;
  PetscCallMPI(MPI_Bcast(&e->err, 1, MPI_INT, 0, comm));
  if (e->err) PetscCall(KDFileDiscard(comm, tmp));
  PetscCheck(!e->err, comm, PETSC_ERR_FILE_WRITE, "cannot write %s", tmp);
  PetscCall(KDFileCommit(comm, tmp, path));
  PetscFunctionReturn(0);
}

static void KDEmitBanner(KDEmitter *e, KDNet net, const KDModelInfo *info, KDQuantizedNet q)
{
  const PetscInt L = net->nlayers;

  KDEmit(e, "/* Generated by kdpinn %s export: %s, precision %s.\n", KDPINN_VERSION, e->name, KDPrecisions[e->prec]);
  KDEmit(e, "   Model: pde %s, level %d, trained with %s, widths [", info->pde, (int) info->level, info->trained_with);
  for (PetscInt k = 0; k <= L; k++) KDEmit(e, "%s%d", k ? ", " : "", (int) net->widths[k]);
  KDEmit(e, "], %s, %d parameters.\n", KDActivations[net->activation], (int) net->nparams);
  KDEmit(e, "   Inputs %s on [", info->inputs);
  for (PetscInt i = 0; i < net->widths[0]; i++)
    KDEmit(e, "%s%g, %g", i ? "] x [" : "", (double) net->lo[i], (double) net->hi[i]);
  KDEmit(e, "]; outputs %s.\n", info->outputs);
  if (q) {
    KDEmit(e,
           "   int8 scheme (docs/export.md): int8 weights, %d-bit activation levels, activation scales per %s; "
           "relative L2 error vs\n   the f64 model on the calibration points %.3e (noise model of round-to-nearest "
           "%.3e).\n",
           (int) q->abits, q->mode == KD_INT8_SCALE_LAYER ? "layer" : "unit", (double) q->measured,
           (double) q->predicted);
  }
  KDEmit(e, "   C99, depends on libm only; no allocation, no global mutable state, one thread. */\n");
}

/*@C
  KDExportWrite - Writes a network as standalone C: dir/<name>.h (the interface), dir/<name>.c (weights and kernel) and
  dir/<name>_main.c (a tiny example), each atomically (temporary file, fsync, rename).

  Collective (rank 0 writes)

  Input Parameters:
+ net       - the network, set up
. info      - its model attributes (names of inputs and outputs, PDE, level)
. precision - KD_PRECISION_F64, KD_PRECISION_F32 or KD_PRECISION_INT8
. q         - the int8 scheme (KDQuantizedNetCreate()) for KD_PRECISION_INT8, otherwise NULL
. name      - the C identifier prefix: the function is <name>_eval, the macros <NAME>_NIN, ...
- dir       - output directory (must exist)

  Notes:
  The interface is void <name>_eval(int n, const T *x, T *y), x[p * nin + i] in physical units, y[o * n + p]; T is
  double for f64, float for f32 and int8. docs/export.md describes the code and the int8 scheme.

.seealso: KDQuantizedNetCreate(), KDStageExport()
@*/
PetscErrorCode KDExportWrite(KDNet net, const KDModelInfo *info, KDPrecision precision, KDQuantizedNet q,
                             const char name[], const char dir[])
{
  const PetscInt L = net->nlayers, nin = net->widths[0], nout = net->widths[L];
  char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], file[PETSC_MAX_PATH_LEN], macro[256];
  KDEmitter e;
  const char *T = precision == KD_PRECISION_F64 ? "double" : "float";
  PetscInt wmax = 0;
  size_t len;

  PetscFunctionBegin;
  PetscCheck(net->setupcalled, net->comm, PETSC_ERR_ARG_WRONGSTATE, "KDExportWrite() needs a set-up network");
  PetscCheck(precision != KD_PRECISION_INT8 || q, net->comm, PETSC_ERR_ARG_NULL,
             "int8 export needs the quantized network");
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(len > 0 && len < 200, net->comm, PETSC_ERR_ARG_WRONG, "-kd_export_name must be 1 to 199 characters");
  for (size_t i = 0; i < len; i++) {
    const char c = name[i];
    PetscCheck((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9'),
               net->comm, PETSC_ERR_ARG_WRONG, "-kd_export_name %s is not a C identifier", name);
    macro[i] = (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
  }
  macro[len] = 0;
  for (PetscInt k = 1; k < L; k++) wmax = PetscMax(wmax, net->widths[k]);
  PetscCall(KDExportRegisterEvents());
  PetscCall(PetscLogEventBegin(KD_ExportWrite, 0, 0, 0, 0));
  e.err   = 0;
  e.prec  = precision;
  e.name  = name;
  e.macro = macro;

  /* <name>.h */
  PetscCall(PetscSNPrintf(file, sizeof(file), "%s.h", name));
  PetscCall(KDExportOpen(net->comm, dir, file, path, tmp, &e.fp));
  KDEmitBanner(&e, net, info, q);
  KDEmit(&e, "#ifndef %s_H\n#define %s_H\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", macro, macro);
  KDEmit(&e, "#define %s_NIN %d   /* inputs: %s */\n", macro, (int) nin, info->inputs);
  KDEmit(&e, "#define %s_NOUT %d  /* outputs: %s */\n", macro, (int) nout, info->outputs);
  KDEmit(&e, "#define %s_PRECISION \"%s\"\n", macro, KDPrecisions[precision]);
  {
    const PetscInt rsz = precision == KD_PRECISION_F64 ? 8 : 4, asz = rsz;
    KDEmit(&e, "/* stack used by one call: at most about %d bytes */\n",
           (int) (KD_EXPORT_BLOCK * (nin * rsz + 2 * wmax * asz) + KD_EXPORT_TAIL_BLOCK * (nin + nout) * rsz));
  }
  KDEmit(&e, "extern const %s %s_input_lo[%d], %s_input_hi[%d];\n\n", T, name, (int) nin, name, (int) nin);
  KDEmit(&e, "/* The model's outputs at n points: x[p * %s_NIN + i] (physical units) -> y[o * n + p].\n", macro);
  KDEmit(&e,
         "   Reentrant (no allocation, no global mutable state): threads may evaluate disjoint parts of a batch. */\n");
  KDEmit(&e, "void %s_eval(int n, const %s *x, %s *y);\n\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n", name, T, T);
  PetscCall(KDExportClose(net->comm, &e, path, tmp));

  /* <name>.c */
  PetscCall(PetscSNPrintf(file, sizeof(file), "%s.c", name));
  PetscCall(KDExportOpen(net->comm, dir, file, path, tmp, &e.fp));
  KDEmitBanner(&e, net, info, q);
  KDEmit(&e, "#include \"%s.h\"\n#include <math.h>\n#include <stdint.h>\n#include <string.h>\n\n", name);
  /* GCC -O3 unrolls a loop of a few iterations with a small body completely before the vectorizer sees it (the
     straight-line code is then vectorized or not as a basic block); the tail block's loops of 8 points stay loops. */
  KDEmit(&e,
         "/* the short loops of the tail block stay loops for the vectorizer (GCC -O3 would unroll them first) */\n"
         "#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8\n#define %s_LOOP _Pragma(\"GCC unroll 1\")\n"
         "#else\n#define %s_LOOP\n#endif\n\n",
         macro, macro);
  {
    KDEmitter ef = e; /* box bounds are always in the interface type */
    ef.prec      = precision == KD_PRECISION_F64 ? KD_PRECISION_F64 : KD_PRECISION_F32;
    KDEmit(&ef, "const %s %s_input_lo[%d] = {", T, name, (int) nin);
    for (PetscInt i = 0; i < nin; i++) {
      KDEmit(&ef, "%s", i ? ", " : "");
      KDEmitReal(&ef, net->lo[i]);
    }
    KDEmit(&ef, "};\nconst %s %s_input_hi[%d] = {", T, name, (int) nin);
    for (PetscInt i = 0; i < nin; i++) {
      KDEmit(&ef, "%s", i ? ", " : "");
      KDEmitReal(&ef, net->hi[i]);
    }
    KDEmit(&ef, "};\n#define %s_lo %s_input_lo\n#define %s_hi %s_input_hi\n", name, name, name, name);
    e.err |= ef.err;
  }
  if (precision != KD_PRECISION_INT8) KDEmitRealArray(&e, "scale", nout, net->scale);
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt in = net->widths[k], out = net->widths[k + 1];
    const PetscReal *W = net->params + net->woff[k], *b = net->params + net->boff[k];
    char label[32];
    if (precision == KD_PRECISION_INT8 && k > 0) {
      PetscReal *S, *C;
      PetscCall(PetscMalloc2(out, &S, out, &C));
      (void) PetscSNPrintf(label, sizeof(label), "W%d", (int) k);
      KDEmitInt8Array(&e, label, in * out, q->wq + q->qoff[k]);
      /* dequantization folded into one scale and one offset per output: hidden z = S acc + b; output y = S acc + c
         with the output scaling included */
      for (PetscInt o = 0; o < out; o++) {
        const PetscReal s = q->S[q->soff[k] + o];
        S[o]              = k == L - 1 ? net->scale[o] * s : s;
        C[o]              = k == L - 1 ? net->scale[o] * q->bq[q->soff[k] + o] + net->shift[o] : q->bq[q->soff[k] + o];
      }
      (void) PetscSNPrintf(label, sizeof(label), "S%d", (int) k);
      KDEmitRealArray(&e, label, out, S);
      (void) PetscSNPrintf(label, sizeof(label), "c%d", (int) k);
      KDEmitRealArray(&e, label, out, C);
      PetscCall(PetscFree2(S, C));
    } else {
      (void) PetscSNPrintf(label, sizeof(label), "W%d", (int) k);
      KDEmitRealArray(&e, label, in * out, W);
      if (k == L - 1) {
        PetscReal C[KD_NET_MAX_OUT];
        /* the library's form: y = s z + (s b + shift) */
        for (PetscInt o = 0; o < out; o++) C[o] = net->scale[o] * b[o] + net->shift[o];
        (void) PetscSNPrintf(label, sizeof(label), "c%d", (int) k);
        KDEmitRealArray(&e, label, out, C);
      } else {
        (void) PetscSNPrintf(label, sizeof(label), "b%d", (int) k);
        KDEmitRealArray(&e, label, out, b);
      }
    }
  }
  if (precision == KD_PRECISION_INT8)
    for (PetscInt k = 1; k < L; k++) {
      PetscReal *inv;
      char label[32];
      PetscCall(PetscMalloc1(net->widths[k], &inv));
      for (PetscInt i = 0; i < net->widths[k]; i++) inv[i] = 1.0 / q->sa[q->aoff[k] + i];
      KDEmit(&e, "/* 1 / activation scale of each input of layer %d (%s) */\n", (int) k,
             q->mode == KD_INT8_SCALE_LAYER ? "one per layer" : "one per unit");
      (void) PetscSNPrintf(label, sizeof(label), "inv%d", (int) k);
      KDEmitRealArray(&e, label, net->widths[k], inv);
      if (KDActivationClamped(net->activation)) {
        /* The clamp of the pre-activation of each unit (bits of a positive float): the range of the float activation
           (tanh 7.9, isru 1e4), or less where act(z) inv reaches lmax + 1/4 first, so that the level needs no clamp of
           its own: up to the bound the level is round(act(z) inv) <= lmax, the scheme's; beyond it the scheme clips to
           lmax, and the kernel's act(bound) inv = lmax + 1/4 (to 4e-7 relative) rounds to lmax too. The bound is the
           inverse: atanh(r), or r / sqrt(1 - r^2) for isru. */
        const KDActivationOps *ops   = &KDActivationTable[net->activation];
        const double           range = ops->range;
        KDEmit(&e,
               "/* clamp of the pre-activation of each input unit of layer %d (float bits): %s(bound) / scale <= %d "
               "+ 1/4 */\n",
               (int) k, KDActivations[net->activation], (int) q->lmax);
        KDEmit(&e, "static const uint32_t %s_zlim%d[%d] = {", name, (int) k, (int) net->widths[k]);
        for (PetscInt i = 0; i < net->widths[k]; i++) {
          const float invf   = (float) inv[i];
          const double r     = (q->lmax + 0.25) / (double) invf,
                       bound = r < 1.0 ? (double) ops->inverse(r) : range;
          float zl           = (float) range;
          uint32_t zb;
          if (bound < range) zl = (float) bound;
          memcpy(&zb, &zl, sizeof(zb));
          KDEmit(&e, "%s0x%08xu", i % 6 ? ", " : (i ? ",\n  " : "\n  "), (unsigned) zb);
        }
        KDEmit(&e, "};\n");
      }
      PetscCall(PetscFree(inv));
    }
  KDEmit(&e, "\n");
  KDEmitActivation(&e, net->activation, q ? q->lmax : 0);
  PetscCall(KDEmitBlock(&e, net, q, KD_EXPORT_BLOCK, "block"));
  PetscCall(KDEmitBlock(&e, net, q, KD_EXPORT_TAIL_BLOCK, "tail"));
  KDEmit(&e, "void %s_eval(int n, const %s *x, %s *y)\n{\n", name, T, T);
  KDEmit(&e, "  %s xb[%d], yb[%d];\n  int p0 = 0, p, i, o;\n\n", T, (int) (KD_EXPORT_TAIL_BLOCK * nin),
         (int) (KD_EXPORT_TAIL_BLOCK * nout));
  KDEmit(&e, "  for (; p0 + %d <= n; p0 += %d) %s_block(x + (long)p0 * %d, y + p0, n);\n", KD_EXPORT_BLOCK,
         KD_EXPORT_BLOCK, name, (int) nin);
  KDEmit(&e, "  for (; p0 < n; p0 += %d) {\n", KD_EXPORT_TAIL_BLOCK);
  KDEmit(&e, "    const int m = n - p0 < %d ? n - p0 : %d;\n", KD_EXPORT_TAIL_BLOCK, KD_EXPORT_TAIL_BLOCK);
  KDEmit(&e, "    /* a short block: pad with its last point, keep the first m results */\n");
  KDEmit(&e,
         "    for (p = 0; p < %d; p++)\n      for (i = 0; i < %d; i++) xb[p * %d + i] = x[(long)(p0 + (p < m ? p : m - "
         "1)) * %d + i];\n",
         KD_EXPORT_TAIL_BLOCK, (int) nin, (int) nin, (int) nin);
  KDEmit(&e, "    %s_tail(xb, yb, %d);\n", name, KD_EXPORT_TAIL_BLOCK);
  KDEmit(
      &e,
      "    for (o = 0; o < %d; o++)\n      for (p = 0; p < m; p++) y[(long)o * n + p0 + p] = yb[o * %d + p];\n  }\n}\n",
      (int) nout, KD_EXPORT_TAIL_BLOCK);
  PetscCall(KDExportClose(net->comm, &e, path, tmp));

  /* <name>_main.c */
  PetscCall(PetscSNPrintf(file, sizeof(file), "%s_main.c", name));
  PetscCall(KDExportOpen(net->comm, dir, file, path, tmp, &e.fp));
  KDEmit(&e, "/* Example: evaluates %s at the centre and the corners of its input box.\n", name);
  KDEmit(&e, "   Build: cc -std=c99 -O2 %s_main.c %s.c -lm -o %s_main   (add -O3 -march=native for speed) */\n", name,
         name, name);
  KDEmit(&e, "#include \"%s.h\"\n#include <stdio.h>\n\nint main(void)\n{\n", name);
  KDEmit(&e, "  %s x[%d * %s_NIN], y[%d * %s_NOUT];\n  int n = 0, c, i, o, p;\n\n", T, (1 << nin) + 1, macro,
         (1 << nin) + 1, macro);
  KDEmit(&e, "  for (i = 0; i < %s_NIN; i++) x[i] = (%s)0.5 * (%s_input_lo[i] + %s_input_hi[i]);\n", macro, T, name,
         name);
  KDEmit(&e, "  n = 1;\n  for (c = 0; c < (1 << %s_NIN); c++, n++)\n", macro);
  KDEmit(&e, "    for (i = 0; i < %s_NIN; i++) x[n * %s_NIN + i] = (c >> i) & 1 ? %s_input_hi[i] : %s_input_lo[i];\n",
         macro, macro, name, name);
  KDEmit(&e, "  %s_eval(n, x, y);\n", name);
  KDEmit(&e, "  printf(\"%s (%%s): %s -> %s\\n\", %s_PRECISION);\n", name, info->inputs, info->outputs, macro);
  KDEmit(&e,
         "  for (p = 0; p < n; p++) {\n    for (i = 0; i < %s_NIN; i++) printf(\"%%s%%.6g\", i ? \" \" : \"\", "
         "(double)x[p * %s_NIN + i]);\n",
         macro, macro);
  KDEmit(&e,
         "    printf(\" ->\");\n    for (o = 0; o < %s_NOUT; o++) printf(\" %%.9g\", (double)y[o * n + p]);\n    "
         "printf(\"\\n\");\n  }\n",
         macro);
  KDEmit(&e, "  return 0;\n}\n");
  PetscCall(KDExportClose(net->comm, &e, path, tmp));
  PetscCall(PetscLogEventEnd(KD_ExportWrite, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDExportBoxPoints - Cell centres of a regular grid over the network's input box with m points per axis,
  m = ceil(npoints^(1/nin)): the calibration points when there is no reference.

  Not collective

  Output Parameters:
+ n - m^nin
- x - x[p * nin + i], the last input fastest; free with PetscFree()
@*/
PetscErrorCode KDExportBoxPoints(KDNet net, PetscInt npoints, PetscInt *n, PetscReal **x)
{
  const PetscInt nin = net->widths[0];
  PetscInt m = (PetscInt) PetscCeilReal(PetscPowReal((PetscReal) PetscMax(npoints, 1), 1.0 / (PetscReal) nin) - 1e-9),
           total = 1;

  PetscFunctionBegin;
  m = PetscMax(m, 1);
  for (PetscInt i = 0; i < nin; i++) total *= m;
  PetscCall(PetscMalloc1(total * nin, x));
  for (PetscInt p = 0; p < total; p++) {
    PetscInt c = p;
    for (PetscInt i = nin - 1; i >= 0; i--) {
      (*x)[p * nin + i] = net->lo[i] + ((PetscReal) (c % m) + 0.5) * (net->hi[i] - net->lo[i]) / (PetscReal) m;
      c /= m;
    }
  }
  *n = total;
  PetscFunctionReturn(0);
}

/*@C
  KDExportLevelPoints - The cell centres of a level of a reference, in the network's input order (inputs matched to the
  reference axes by name), enumerated in the reference's natural (row-major) cell order.

  Not collective

  Output Parameters:
+ n - number of cells of the level
- x - x[p * nin + i]; free with PetscFree()
@*/
PetscErrorCode KDExportLevelPoints(KDNet net, const KDModelInfo *info, KDReference ref, PetscInt level, PetscInt *n,
                                   PetscReal **x)
{
  const PetscInt nin = net->widths[0];
  PetscInt       dim, cells[KD_MAX_DIM], map[KD_NET_MAX_IN], total = 1, nlevels;
  PetscInt64    *idx;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  PetscCheck(level >= 0 && level < nlevels, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " is not a level of the reference (it has %" PetscInt_FMT ")", level, nlevels);
  PetscCall(KDReferenceGetLevelGrid(ref, level, &dim, cells, NULL, NULL));
  PetscCheck(dim == nin, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "the reference has %" PetscInt_FMT " axes, the model %" PetscInt_FMT " inputs (%s)", dim, nin, info->inputs);
  PetscCall(KDReferenceGetAxisMap(ref, info->inputs, map));
  for (PetscInt d = 0; d < dim; d++) total *= cells[d];
  PetscCall(PetscMalloc1(total * nin, x));
  PetscCall(PetscMalloc1(total, &idx));
  for (PetscInt c = 0; c < total; c++) idx[c] = c;
  PetscCall(KDReferenceGetCellCentres(ref, level, nin, map, NULL, total, idx, *x));
  PetscCall(PetscFree(idx));
  *n = total;
  PetscFunctionReturn(0);
}
