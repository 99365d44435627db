#include "export/exportimpl.h"
#include <petscblaslapack.h>
#include <cblas.h>

/*
  The int8 scheme in double precision (KDQuantizedNet): calibration of the activation scales, rounding of the weights,
  evaluation and error estimate; the scheme itself is described in export/exportimpl.h, the generated code that runs it
  in float32 in emit.c (docs/export.md).
*/

const char *const KDInt8Scales[] = {"layer", "channel", "KDInt8Scale", "KD_INT8_SCALE_", NULL};

static PetscLogEvent KD_QuantizedNetCreate, KD_ExportWrite;

/* Both events at the first use of either, so that they are registered in the same order whichever comes first. */
PetscErrorCode KDExportLogEventsGet_Private(PetscLogEvent *create, PetscLogEvent *write)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (!done) {
    done = PETSC_TRUE;
    PetscCall(KDRegisterAll());
    PetscCall(PetscLogEventRegister("KDQuantizedNetCreate", KD_CLASSID, &KD_QuantizedNetCreate));
    PetscCall(PetscLogEventRegister("KDExportWrite", KD_CLASSID, &KD_ExportWrite));
  }
  if (create) *create = KD_QuantizedNetCreate;
  if (write) *write = KD_ExportWrite;
  PetscFunctionReturn(0);
}

/* The fits of the rounding and of the search run on at most this many of the calibration points: every stride-th. */
#define KD_QUANTIZE_FIT_POINTS 8192

static void KDQuantizedNetFitPoints(PetscInt ncal, PetscInt *stride, PetscInt *n)
{
  *stride = (ncal + KD_QUANTIZE_FIT_POINTS - 1) / KD_QUANTIZE_FIT_POINTS;
  *n      = (ncal + *stride - 1) / *stride;
}

/* Input i of a point mapped to [-1, 1], as the network maps it. */
static inline PetscReal KDQuantizedNetMapInput(KDQuantizedNet q, PetscInt i, PetscReal x)
{
  return 2.0 * (x - q->lo[i]) / (q->hi[i] - q->lo[i]) - 1.0;
}

/* The most multiply-adds the weight search's polish may take (-kd_int8_search; KDQuantizedNetSearchCost()). */
#define KD_INT8_SEARCH_MAX_COST 5e10

/* Multiply-adds of the polish of KDQuantizedNetPolish() for a network calibrated on ncal points: per sweep, every trial
   (2 per int8 hidden weight, 40 per hidden channel, 60 per first-layer parameter) reevaluates the layers after the
   changed one, on at most KD_QUANTIZE_FIT_POINTS points. */
static PetscReal KDQuantizedNetSearchCost(KDNet net, PetscInt ncal)
{
  const PetscInt L = net->nlayers;
  PetscInt stride, n;
  PetscReal cost = 0;

  KDQuantizedNetFitPoints(ncal, &stride, &n);

  for (PetscInt k = 0; k < L - 1; k++) {
    const PetscReal in = (PetscReal) net->widths[k], out = (PetscReal) net->widths[k + 1];
    PetscReal trials = k ? 2 * in * out + 40 * out : 60 * (in + 1) * out, after = (PetscReal) net->widths[k + 2];
    for (PetscInt m = k + 2; m < L; m++) after += (PetscReal) net->widths[m] * (PetscReal) net->widths[m + 1];
    cost += trials * after;
  }
  return 4 * (PetscReal) n * cost;
}

/* Points per block of the f64 forwards and reverses below: each layer is one GEMM over a block, and a stop signal is
   checked once per block. */
#define KD_QUANTIZE_BLOCK 64

/* f64 forward of nb points keeping every layer's activations, unit-major with leading dimension nb: h + hoff[k] nb is
   the input of layer k (h_0 the mapped points), z + hoff[k] nb its pre-activation (k >= 1), y[o nb + p] the outputs.
   Each layer is one GEMM. */
static PetscErrorCode KDQuantizedNetForwardBlock(KDQuantizedNet q, PetscInt nb, const PetscReal x[], PetscReal h[],
                                                 PetscReal z[], const PetscInt hoff[], PetscReal y[])
{
  const PetscInt L = q->nlayers, nin = q->widths[0];

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nin; i++)
    for (PetscInt p = 0; p < nb; p++) h[i * nb + p] = KDQuantizedNetMapInput(q, i, x[p * nin + i]);
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt in = q->widths[k], out = q->widths[k + 1];
    const PetscReal *W = q->params + q->woff[k], *b = q->params + q->boff[k];
    PetscReal *s = k < L - 1 ? z + hoff[k + 1] * nb : y;

    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) out, (int) nb, (int) in,
                                             1.0, W, (int) in, h + hoff[k] * nb, (int) nb, 0.0, s, (int) nb));
    if (k < L - 1)
      for (PetscInt o = 0; o < out; o++)
        for (PetscInt p = 0; p < nb; p++) {
          s[o * nb + p] += b[o];
          h[(hoff[k + 1] + o) * nb + p] = KDActivate(q->activation, s[o * nb + p]);
        }
    else
      for (PetscInt o = 0; o < out; o++)
        for (PetscInt p = 0; p < nb; p++) y[o * nb + p] = q->scale[o] * (y[o * nb + p] + b[o]) + q->shift[o];
  }
  PetscFunctionReturn(0);
}

/* Adjusts the integer weights of one output channel. With e_p the channel's pre-activation error at calibration point
   p for the current weights (the int8 network's input levels ql, the f64 network's pre-activation as target), a step
   of +-1 in weight i changes e by +-S ql_i, and is taken when it lowers var(e), the error left once the bias takes
   its mean: var(e + d S ql_i) - var(e) = 2 d S c_i + S^2 H0_ii, with c_i = Cov(e, ql_i) and H0 = Cov(ql). The sweeps
   run on c alone, updated by the step (c_j += d S H0_ij), so they cost O(in) per step instead of a pass over the
   points. Greedy sweeps over the inputs until none helps (at most 8). em is mean(e) on entry; returns it at the end.
 */
static PetscReal KDQuantizedNetRoundChannel(PetscInt in, const PetscReal H0[], const PetscReal mean[], PetscReal S,
                                            int8_t wq[], PetscReal c[], PetscReal em)
{
  for (PetscInt sweep = 0; sweep < 8; sweep++) {
    PetscBool changed = PETSC_FALSE;
    for (PetscInt i = 0; i < in; i++) {
      const PetscReal var = H0[i * in + i];
      for (int d = -1; d <= 1; d += 2) {
        /* a relative margin keeps round-off from cycling */
        if (wq[i] + d > KD_INT8_WEIGHT_LEVELS || wq[i] + d < -KD_INT8_WEIGHT_LEVELS ||
            2.0 * d * S * c[i] + S * S * var >= -1e-12 * S * S * var)
          continue;
        wq[i] = (int8_t) (wq[i] + d);
        for (PetscInt j = 0; j < in; j++) c[j] += d * S * H0[i * in + j];
        em += d * S * mean[i];
        changed = PETSC_TRUE;
        break;
      }
    }
    if (!changed) break;
  }
  return em;
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
   the error of the pre-activation over the calibration points smallest (optimal brain surgeon). H0 is Cov(ql); H
   receives the Cholesky factor of the damped matrix (lower, row-major). */
static void KDQuantizedNetLayerFactor(PetscInt in, const PetscReal H0[], PetscReal H[], PetscReal U[], PetscBool *ok)
{
  PetscReal tr = 0;

  for (PetscInt i = 0; i < in * in; i++) H[i] = H0[i];
  for (PetscInt i = 0; i < in; i++) tr += H[i * in + i];
  for (PetscInt i = 0; i < in; i++) H[i * in + i] += tr > 0 ? 1e-8 * tr / (PetscReal) in : 1.0;
  *ok = KDCholesky(in, H);
  if (!*ok) return;
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
  if (!*ok) return;
  for (PetscInt i = 0; i < in; i++)
    for (PetscInt j = i + 1; j < in; j++) {
      U[i * in + j] = U[j * in + i];
      U[j * in + i] = 0;
    }
}

/* The rounding with error feedback of one output channel (see KDQuantizedNetLayerFactor()): wf holds its least-squares
   weights H^-1 Cov(ql, z) on entry and is scratch. */
static void KDQuantizedNetRoundFeedback(PetscInt in, const PetscReal U[], PetscReal S, PetscReal wf[], int8_t wq[])
{
  for (PetscInt i = 0; i < in; i++) wf[i] /= S;
  for (PetscInt i = 0; i < in; i++) {
    const PetscReal L = KD_INT8_WEIGHT_LEVELS;
    PetscReal v       = wf[i] > L ? L : (wf[i] < -L ? -L : wf[i]), err;
    v                 = v >= 0 ? PetscFloorReal(v + 0.5) : -PetscFloorReal(-v + 0.5);
    wq[i]             = (int8_t) v;
    err               = (wf[i] - v) / U[i * in + i];
    for (PetscInt j = i + 1; j < in; j++) wf[j] -= err * U[i * in + j];
  }
}

/* The integer search of one channel (Schnorr-Euchner enumeration): the levels v, |v_i| <= 127, that minimize
   |R v - c|^2 for the upper triangular R (m x m, row-major), depth first from the last level, each level's candidates
   in order of their distance to its centre, a branch cut as soon as its partial distance reaches the best one; at
   most `budget` nodes. best/bestd hold the incumbent on entry and the best found on return; returns whether it
   improved. */
static PetscBool KDQuantizedNetEnumerate(PetscInt m, const PetscReal R[], const PetscReal c[], PetscInt budget,
                                         PetscInt v[], PetscReal centre[], PetscReal dist[], PetscInt base[],
                                         PetscInt cnt[], PetscInt best[], PetscReal *bestd)
{
  const PetscInt Lw = KD_INT8_WEIGHT_LEVELS;
  PetscInt k = m - 1, nodes = 0;
  PetscBool improved = PETSC_FALSE;

#define KD_ENUM_LEVEL(kk)                                                                                              \
  do {                                                                                                                 \
    PetscReal s_ = c[kk];                                                                                              \
    for (PetscInt j_ = kk + 1; j_ < m; j_++) s_ -= R[(kk) *m + j_] * (PetscReal) v[j_];                                \
    centre[kk] = s_ / R[(kk) *m + (kk)];                                                                               \
    base[kk]   = (PetscInt) PetscFloorReal(PetscMax(-Lw, PetscMin(Lw, centre[kk])) + 0.5);                             \
    cnt[kk]    = 0;                                                                                                    \
  } while (0)

  dist[m] = 0;
  KD_ENUM_LEVEL(k);
  while (k < m) {
    /* the next candidate of level k: base (the centre rounded into the box), then alternately one step further on the
       centre's side and the other, so that the candidates in the box come in order of their distance to the centre */
    const PetscInt n = cnt[k]++, side = centre[k] >= (PetscReal) base[k] ? 1 : -1;
    const PetscInt off = n == 0 ? 0 : (n % 2 ? side * ((n + 1) / 2) : -side * (n / 2)), vk = base[k] + off;
    PetscReal d, e;

    if (PetscAbsInt(off) > 2 * Lw + 1) { /* no candidate of this level is left in the box */
      k++;
      continue;
    }
    if (vk > Lw || vk < -Lw) continue;
    e = R[k * m + k] * ((PetscReal) vk - centre[k]);
    d = dist[k + 1] + e * e;
    if (d >= *bestd || ++nodes > budget) { /* every later candidate of this level is farther */
      if (nodes > budget) break;
      k++;
      continue;
    }
    v[k] = vk;
    if (k == 0) {
      *bestd = d;
      for (PetscInt i = 0; i < m; i++) best[i] = v[i];
      improved = PETSC_TRUE;
    } else {
      dist[k] = d;
      k--;
      KD_ENUM_LEVEL(k);
    }
  }
#undef KD_ENUM_LEVEL
  return improved;
}

/* Sensitivities of layer k's pre-activations (1 <= k < L-1): wsq[j * n + p] = sum_o (dy_o/dz_kj)^2 at calibration
   point p of the f64 network, y the scaled outputs. Scalar loops: the search is for small networks. */
static PetscErrorCode KDQuantizedNetSensitivity(KDQuantizedNet q, PetscInt k, PetscInt n, PetscInt stride,
                                                const PetscReal xcal[], PetscReal wsq[])
{
  const PetscInt L = q->nlayers, nin = q->widths[0], nout = q->widths[L];
  PetscInt wmax = 0, zoff[KD_NET_MAX_LAYERS + 1], ztot = 0;
  PetscReal *z, *a, *d, *d2;

  PetscFunctionBegin;
  for (PetscInt j = 0; j <= L; j++) {
    wmax    = PetscMax(wmax, q->widths[j]);
    zoff[j] = ztot;
    ztot += q->widths[j];
  }
  PetscCall(PetscMalloc4(ztot, &z, ztot, &a, wmax, &d, wmax, &d2));
  PetscCall(PetscArrayzero(wsq, q->widths[k + 1] * n));
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal *x = xcal + p * stride * nin;
    for (PetscInt i = 0; i < nin; i++) a[i] = KDQuantizedNetMapInput(q, i, x[i]);
    for (PetscInt j = 0; j < L; j++) { /* z + zoff[j+1]: pre-activations of layer j's outputs, a: their activations */
      const PetscReal *W = q->params + q->woff[j], *b = q->params + q->boff[j];
      for (PetscInt o = 0; o < q->widths[j + 1]; o++) {
        PetscReal t = b[o];
        for (PetscInt i = 0; i < q->widths[j]; i++) t += W[o * q->widths[j] + i] * a[zoff[j] + i];
        z[zoff[j + 1] + o] = t;
        a[zoff[j + 1] + o] = KDActivate(q->activation, t);
      }
    }
    for (PetscInt o = 0; o < nout; o++) {
      /* d: dy_o / d(activation entering layer j), from the output layer back to layer k + 1's inputs */
      for (PetscInt i = 0; i < q->widths[L - 1]; i++)
        d[i] = q->scale[o] * q->params[q->woff[L - 1] + o * q->widths[L - 1] + i];
      for (PetscInt j = L - 2; j > k; j--) {
        const PetscReal *W = q->params + q->woff[j];
        for (PetscInt i = 0; i < q->widths[j]; i++) d2[i] = 0;
        for (PetscInt u = 0; u < q->widths[j + 1]; u++) {
          const PetscReal g = d[u] * KDActivateDerivative(q->activation, z[zoff[j + 1] + u], a[zoff[j + 1] + u]);
          for (PetscInt i = 0; i < q->widths[j]; i++) d2[i] += g * W[u * q->widths[j] + i];
        }
        for (PetscInt i = 0; i < q->widths[j]; i++) d[i] = d2[i];
      }
      for (PetscInt u = 0; u < q->widths[k + 1]; u++) {
        const PetscReal g = d[u] * KDActivateDerivative(q->activation, z[zoff[k + 1] + u], a[zoff[k + 1] + u]);
        wsq[u * n + p] += g * g;
      }
    }
  }
  PetscCall(PetscFree4(z, a, d, d2));
  PetscFunctionReturn(0);
}

/* Scales tried per channel by the search: the present one (a channel's largest weight at 127 levels) times 1, then
   0.80 to 1.50 in steps of 0.02. Below 1 the largest weights clip at 127 levels and the others get finer ones; on the
   Burgers students the best scale came from the whole range (0.90-1.20 only: 0.95% instead of 0.74% on a level-2
   student). */
static const PetscReal KDQuantizeSearchScales[] = {
    1.0,  0.8,  0.82, 0.84, 0.86, 0.88, 0.9,  0.92, 0.94, 0.96, 0.98, 1.02, 1.04, 1.06, 1.08, 1.1,  1.12, 1.14,
    1.16, 1.18, 1.2,  1.22, 1.24, 1.26, 1.28, 1.3,  1.32, 1.34, 1.36, 1.38, 1.4,  1.42, 1.44, 1.46, 1.48, 1.5};

/* The search of layer k (q->search > 0), after its fitted rounding: each output channel's levels and scale again, to
   minimize the error its pre-activation makes in the outputs, sum_p w_p (S v.ql_p + b' - z_p)^2 with w_p =
   sum_o (dy_o/dz_p)^2 of the f64 network (1 on the output layer, whose pre-activations are the outputs), b' the
   weighted mean (bias correction). For each scale of KDQuantizeSearchScales, an exact integer least-squares search
   (KDQuantizedNetEnumerate(), at most q->search nodes) from the best levels found so far, the fitted rounding's the
   first incumbent; the result is kept only if it lowers the measure without the factorization's damping, so the
   search never ends worse than the rounding it starts from, in its own measure. ql: the layer's int8 input levels
   (in x n), z: its f64 targets without bias (out x n). */
static PetscErrorCode KDQuantizedNetSearch(KDQuantizedNet q, PetscInt k, PetscInt n, PetscInt stride,
                                           const PetscReal xcal[], const PetscReal ql[], const PetscReal z[])
{
  const PetscInt L = q->nlayers, in = q->widths[k], out = q->widths[k + 1];
  const PetscReal *b = q->params + q->boff[k];
  PetscReal *wsq     = NULL, *T, *H, *R, *rw, *mw, *c, *centre, *dist;
  PetscInt *v, *base, *cnt, *best;

  PetscFunctionBegin;
  if (k < L - 1) {
    PetscCall(PetscMalloc1(out * n, &wsq));
    PetscCall(KDQuantizedNetSensitivity(q, k, n, stride, xcal, wsq));
  }
  PetscCall(PetscMalloc5(in * n, &T, in * in, &H, in * in, &R, in, &rw, in, &mw));
  PetscCall(PetscMalloc3(in, &c, in, &centre, in + 1, &dist));
  PetscCall(PetscMalloc4(in, &v, in, &base, in, &cnt, in, &best));
  for (PetscInt o = 0; o < out; o++) {
    const PetscReal *w = wsq ? wsq + o * n : NULL, *zo = z + o * n;
    int8_t *wq  = q->wq + q->qoff[k] + o * in;
    PetscReal W = 0, mz = 0, tr = 0, bestd, S0 = q->S[q->soff[k] + o], Sbest = S0;

    /* weighted means, centred and weighted levels T (sqrt(w) (ql - mw)), H = T T^T / W, rw = T sqrt(w)(z - mz) / W */
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal wp = w ? w[p] : 1.0;
      W += wp;
      mz += wp * zo[p];
    }
    if (!(W > 0)) continue; /* the outputs do not depend on this unit: nothing to fit */
    mz /= W;
    for (PetscInt i = 0; i < in; i++) {
      PetscReal m = 0;
      for (PetscInt p = 0; p < n; p++) m += (w ? w[p] : 1.0) * ql[i * n + p];
      mw[i] = m / W;
      for (PetscInt p = 0; p < n; p++) T[i * n + p] = PetscSqrtReal(w ? w[p] : 1.0) * (ql[i * n + p] - mw[i]);
    }
    PetscCallBLAS("cblas_dsyrk", cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int) in, (int) n, 1.0 / W, T,
                                             (int) n, 0.0, H, (int) in));
    for (PetscInt i = 0; i < in; i++) {
      PetscReal r = 0;
      for (PetscInt p = 0; p < n; p++) r += T[i * n + p] * PetscSqrtReal(w ? w[p] : 1.0) * (zo[p] - mz);
      rw[i] = r / W;
      tr += H[i * in + i];
    }
    for (PetscInt i = 0; i < in; i++) H[i * in + i] += tr > 0 ? 1e-8 * tr / (PetscReal) in : 1.0;
    if (!KDCholesky(in, H)) continue; /* keep the fitted rounding */
    /* |S L^T v - c|^2 = S^2 v^T H v - 2 S v^T rw + |c|^2 with c = L^-1 rw: the same constant for every scale */
    for (PetscInt i = 0; i < in; i++) {
      PetscReal t = rw[i];
      for (PetscInt j = 0; j < i; j++) t -= H[i * in + j] * c[j];
      c[i] = t / H[i * in + i];
    }
    for (PetscInt i = 0; i < in; i++) best[i] = wq[i];
    bestd = 0;
    for (PetscInt i = 0; i < in; i++) { /* the incumbent's distance, (S0 L^T v - c)_i */
      PetscReal t = -c[i];
      for (PetscInt j = i; j < in; j++) t += S0 * H[j * in + i] * (PetscReal) best[j];
      bestd += t * t;
    }
    for (size_t f = 0; f < sizeof(KDQuantizeSearchScales) / sizeof(KDQuantizeSearchScales[0]); f++) {
      const PetscReal S = S0 * KDQuantizeSearchScales[f];
      PetscReal d       = 0;
      if (f > 0) { /* the best levels so far, at this scale, as the incumbent */
        for (PetscInt i = 0; i < in; i++) {
          PetscReal t = -c[i];
          for (PetscInt j = i; j < in; j++) t += S * H[j * in + i] * (PetscReal) best[j];
          d += t * t;
        }
        if (d < bestd) bestd = d, Sbest = S;
      }
      for (PetscInt i = 0; i < in; i++)
        for (PetscInt j = 0; j < in; j++) R[i * in + j] = j >= i ? S * H[j * in + i] : 0;
      if (KDQuantizedNetEnumerate(in, R, c, q->search, v, centre, dist, base, cnt, best, &bestd)) Sbest = S;
    }
    {
      /* the measure itself, without the damping the factorization took: the levels found are kept only if they lower
         it (the channel's own levels and scale otherwise, with the bias that is best for them in this measure) */
      PetscReal em = 0, fold = 0, fnew = 0;
      for (PetscInt p = 0; p < n; p++) {
        const PetscReal t = PetscSqrtReal(w ? w[p] : 1.0) * (zo[p] - mz);
        PetscReal ao = 0, an = 0;
        for (PetscInt i = 0; i < in; i++) {
          ao += (PetscReal) wq[i] * T[i * n + p];
          an += (PetscReal) best[i] * T[i * n + p];
        }
        fold += (S0 * ao - t) * (S0 * ao - t);
        fnew += (Sbest * an - t) * (Sbest * an - t);
      }
      if (!(fnew < fold)) {
        for (PetscInt i = 0; i < in; i++) best[i] = wq[i];
        Sbest = S0;
      }
      for (PetscInt i = 0; i < in; i++) {
        wq[i] = (int8_t) best[i];
        em += (PetscReal) best[i] * mw[i];
      }
      q->S[q->soff[k] + o]  = Sbest;
      q->bq[q->soff[k] + o] = b[o] + mz - Sbest * em;
    }
  }
  PetscCall(PetscFree4(v, base, cnt, best));
  PetscCall(PetscFree3(c, centre, dist));
  PetscCall(PetscFree5(T, H, R, rw, mw));
  PetscCall(PetscFree(wsq));
  PetscFunctionReturn(0);
}

/* Weight rounding and bias correction of layers 1 .. L-1, in order, on at most KD_QUANTIZE_FIT_POINTS of the
   calibration points (a regular subset): layer k is fitted to the f64 network's pre-activations given the int8
   network's input levels, which already carry the errors of layers < k, so later layers also compensate what earlier
   ones could not. What passes over the points is a BLAS call: the targets z = W a, the covariances Cov(ql) and Cov(z,
   ql), the least-squares weights of all channels (two triangular solves), the error covariances of their rounded
   weights, and the next layer's inputs (an integer product, exact in double). */
static PetscErrorCode KDQuantizedNetRound(KDQuantizedNet q, MPI_Comm comm, PetscInt ncal, const PetscReal xcal[])
{
  const PetscInt L = q->nlayers, nin = q->widths[0];
  PetscInt wmax = 0, stride, n;
  PetscReal *ql, *an, *ql2, *an2, *z, *mean, *zm, *H0, *H, *U, *R, *Wd, *C;
  PetscBool ok, stop = PETSC_FALSE;

  PetscFunctionBegin;
  KDQuantizedNetFitPoints(ncal, &stride, &n);
  for (PetscInt k = 0; k <= L; k++) wmax = PetscMax(wmax, q->widths[k]);
  /* separate allocations: ql/ql2 and an/an2 swap roles from layer to layer */
  PetscCall(PetscMalloc1(wmax * n, &ql));
  PetscCall(PetscMalloc1(wmax * n, &an));
  PetscCall(PetscMalloc1(wmax * n, &ql2));
  PetscCall(PetscMalloc1(wmax * n, &an2));
  PetscCall(PetscMalloc3(wmax * n, &z, wmax, &mean, wmax, &zm));
  PetscCall(PetscMalloc6(wmax * wmax, &H0, wmax * wmax, &H, wmax * wmax, &U, wmax * wmax, &R, wmax * wmax, &Wd,
                         wmax * wmax, &C));
  /* layer 0 in double (the kernel computes it in float): the f64 activations an and the levels ql entering layer 1 */
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal *x = xcal + p * stride * nin, *W = q->params + q->woff[0], *b = q->params + q->boff[0];
    for (PetscInt o = 0; o < q->widths[1]; o++) {
      PetscReal s = b[o];
      for (PetscInt i = 0; i < nin; i++) s += W[o * nin + i] * KDQuantizedNetMapInput(q, i, x[i]);
      an[o * n + p] = KDActivate(q->activation, s);
      ql[o * n + p] = KDQuantizeLevel(an[o * n + p], q->sa[q->aoff[1] + o], q->lmax);
    }
  }
  for (PetscInt k = 1; k < L; k++) {
    const PetscInt in = q->widths[k], out = q->widths[k + 1];
    const PetscReal *W = q->params + q->woff[k], *b = q->params + q->boff[k];

    PetscCall(KDSignalPending(comm, &stop)); /* a wide layer takes a second */
    if (stop) break;
    /* targets: the f64 network's pre-activations without bias */
    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) out, (int) n, (int) in,
                                             1.0, W, (int) in, an, (int) n, 0.0, z, (int) n));
    /* centred levels (into ql2) and targets (into an2), both free until the next layer's inputs are formed */
    for (PetscInt i = 0; i < in; i++) {
      PetscReal m = 0;
      for (PetscInt p = 0; p < n; p++) m += ql[i * n + p];
      mean[i] = m /= (PetscReal) n;
      for (PetscInt p = 0; p < n; p++) ql2[i * n + p] = ql[i * n + p] - m;
    }
    for (PetscInt o = 0; o < out; o++) {
      PetscReal m = 0;
      for (PetscInt p = 0; p < n; p++) m += z[o * n + p];
      zm[o] = m /= (PetscReal) n;
      for (PetscInt p = 0; p < n; p++) an2[o * n + p] = z[o * n + p] - m;
    }
    /* H0 = Cov(ql) (in x in), R = Cov(z, ql) (out x in, a row per channel) */
    PetscCallBLAS("cblas_dsyrk", cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int) in, (int) n,
                                             1.0 / (PetscReal) n, ql2, (int) n, 0.0, H0, (int) in));
    for (PetscInt i = 0; i < in; i++)
      for (PetscInt j = i + 1; j < in; j++) H0[i * in + j] = H0[j * in + i];
    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) out, (int) in, (int) n,
                                             1.0 / (PetscReal) n, an2, (int) n, ql2, (int) n, 0.0, R, (int) in));
    KDQuantizedNetLayerFactor(in, H0, H, U, &ok);
    /* without a factor (a degenerate layer) the round-to-nearest weights stay, and the sweeps below improve them */
    if (ok) {
      /* least-squares weights of every channel, the rows of R H^-1 = R L^-T L^-1 */
      PetscCall(PetscArraycpy(C, R, out * in));
      PetscCallBLAS("cblas_dtrsm", cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit,
                                               (int) out, (int) in, 1.0, H, (int) in, C, (int) in));
      PetscCallBLAS("cblas_dtrsm", cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit,
                                               (int) out, (int) in, 1.0, H, (int) in, C, (int) in));
      for (PetscInt o = 0; o < out; o++)
        KDQuantizedNetRoundFeedback(in, U, q->S[q->soff[k] + o], C + o * in, q->wq + q->qoff[k] + o * in);
    }
    /* the error of a channel's weights wq against its target, e = S wq.ql - z: Cov(e, ql) = S H0 wq - R, and its mean
     */
    for (PetscInt i = 0; i < out * in; i++) Wd[i] = (PetscReal) q->wq[q->qoff[k] + i];
    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) out, (int) in, (int) in,
                                             1.0, Wd, (int) in, H0, (int) in, 0.0, C, (int) in));
    for (PetscInt o = 0; o < out; o++) {
      const PetscReal S = q->S[q->soff[k] + o];
      int8_t *wq        = q->wq + q->qoff[k] + o * in;
      PetscReal *c = C + o * in, em = 0;

      for (PetscInt i = 0; i < in; i++) {
        c[i] = S * c[i] - R[o * in + i];
        em += (PetscReal) wq[i] * mean[i];
      }
      q->bq[q->soff[k] + o] = b[o] - KDQuantizedNetRoundChannel(in, H0, mean, S, wq, c, S * em - zm[o]);
    }
    if (q->search > 0) PetscCall(KDQuantizedNetSearch(q, k, n, stride, xcal, ql, z));
    if (k == L - 1) break;
    /* inputs of layer k + 1: the int8 network's levels, from its adjusted weights and biases, and the f64 activations
     */
    for (PetscInt i = 0; i < out * in; i++) Wd[i] = (PetscReal) q->wq[q->qoff[k] + i];
    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) out, (int) n, (int) in,
                                             1.0, Wd, (int) in, ql, (int) n, 0.0, ql2, (int) n));
    for (PetscInt o = 0; o < out; o++)
      for (PetscInt p = 0; p < n; p++) {
        const PetscReal s = ql2[o * n + p] * q->S[q->soff[k] + o] + q->bq[q->soff[k] + o];
        ql2[o * n + p]    = KDQuantizeLevel(KDActivate(q->activation, s), q->sa[q->aoff[k + 1] + o], q->lmax);
        an2[o * n + p]    = KDActivate(q->activation, z[o * n + p] + b[o]);
      }
    {
      PetscReal *t = ql;
      ql = ql2, ql2 = t;
      t = an, an = an2, an2 = t;
    }
  }
  PetscCall(PetscFree3(z, mean, zm));
  PetscCall(PetscFree6(H0, H, U, R, Wd, C));
  PetscCall(PetscFree(ql));
  PetscCall(PetscFree(an));
  PetscCall(PetscFree(ql2));
  PetscCall(PetscFree(an2));
  if (stop) PetscCall(KDSignalCheck(comm, "int8 calibration")); /* the ranks agreed: it raises on every one */
  PetscFunctionReturn(0);
}

/* From the integer sums acc of layer k (out x n): the levels entering layer k + 1 into lv, or the outputs into y. */
static void KDQuantizedNetTailLevels(KDQuantizedNet q, PetscInt k, PetscInt n, const PetscReal acc[], PetscReal lv[],
                                     PetscReal y[])
{
  const PetscInt out = q->widths[k + 1];
  const PetscReal *b = q->bq + q->soff[k], *S = q->S + q->soff[k];

  for (PetscInt o = 0; o < out; o++)
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal z = acc[o * n + p] * S[o] + b[o];
      if (k < q->nlayers - 1)
        lv[o * n + p] = KDQuantizeLevel(KDActivate(q->activation, z), q->sa[q->aoff[k + 1] + o], q->lmax);
      else
        y[o * n + p] = q->scale[o] * z + q->shift[o];
    }
}

/* The int8 scheme in double from the levels entering layer k0 >= 1 (lv[k0], in x n, unit-major) to the outputs y
   (nout x n): the integer sums of each layer k >= k0 into acc[k] (exact in double, as in KDQuantizedNetEvaluate()),
   the levels entering k + 1 into lv[k + 1]. */
static void KDQuantizedNetTail(KDQuantizedNet q, PetscInt k0, PetscInt n, PetscReal *lv[], PetscReal *acc[],
                               PetscReal y[])
{
  const PetscInt L = q->nlayers;

  for (PetscInt k = k0; k < L; k++) {
    const PetscInt in = q->widths[k], out = q->widths[k + 1];
    const int8_t *Wq = q->wq + q->qoff[k];
    for (PetscInt o = 0; o < out; o++)
      for (PetscInt p = 0; p < n; p++) {
        PetscReal a = 0;
        for (PetscInt i = 0; i < in; i++) a += (PetscReal) Wq[o * in + i] * lv[k][i * n + p];
        acc[k][o * n + p] = a;
      }
    KDQuantizedNetTailLevels(q, k, n, acc[k], lv[k + 1], y);
  }
}

static PetscReal KDQuantizedNetSquaredError(PetscInt n, PetscInt nout, const PetscReal y[], const PetscReal yref[])
{
  PetscReal e = 0;
  for (PetscInt i = 0; i < n * nout; i++) e += (y[i] - yref[i]) * (y[i] - yref[i]);
  return e;
}

/* A trial of the polish: channel j of layer k with the pre-activations zj (n); the layers after it reevaluated into
   tl, tacc, yt (the next one by the change of the one level row, the others in full). Kept (swapped into lv, acc, y,
   *err updated) if the outputs' squared error drops; the caller updates layer k itself. */
static PetscBool KDQuantizedNetPolishTrial(KDQuantizedNet q, PetscInt k, PetscInt j, PetscInt n, const PetscReal zj[],
                                           PetscReal *lv[], PetscReal *acc[], PetscReal *tl[], PetscReal *tacc[],
                                           PetscReal y[], PetscReal yt[], const PetscReal yref[], PetscReal *err)
{
  const PetscInt L = q->nlayers, nout = q->widths[L], k1 = k + 1, in1 = q->widths[k1], out1 = q->widths[k1 + 1];
  const int8_t *Wq = q->wq + q->qoff[k1];
  PetscReal et;

  for (PetscInt i = 0; i < in1 * n; i++) tl[k1][i] = lv[k1][i];
  for (PetscInt p = 0; p < n; p++)
    tl[k1][j * n + p] = KDQuantizeLevel(KDActivate(q->activation, zj[p]), q->sa[q->aoff[k1] + j], q->lmax);
  for (PetscInt u = 0; u < out1; u++)
    for (PetscInt p = 0; p < n; p++)
      tacc[k1][u * n + p] = acc[k1][u * n + p] + (PetscReal) Wq[u * in1 + j] * (tl[k1][j * n + p] - lv[k1][j * n + p]);
  KDQuantizedNetTailLevels(q, k1, n, tacc[k1], k1 < L - 1 ? tl[k1 + 1] : NULL, yt);
  if (k1 + 1 < L) KDQuantizedNetTail(q, k1 + 1, n, tl, tacc, yt);
  et = KDQuantizedNetSquaredError(n, nout, yt, yref);
  if (!(et < *err * (1 - 1e-12))) return PETSC_FALSE;
  for (PetscInt m = k1; m < L; m++) {
    PetscReal *t = lv[m];
    lv[m] = tl[m], tl[m] = t;
    t = acc[m], acc[m] = tacc[m], tacc[m] = t;
  }
  for (PetscInt i = 0; i < nout * n; i++) y[i] = yt[i];
  *err = et;
  return PETSC_TRUE;
}

/* The last step of the search (q->search > 0): the int8 scheme in double against the f64 network, on the points the
   rounding used, four sweeps of: the float first layer's weights and biases in halving steps, +-1 moves of every
   hidden-to-hidden int8 weight, each hidden channel's scale and bias in halving steps, each change kept only if it
   lowers the outputs' squared error; then the output layer's search (KDQuantizedNetSearch()) once more on the levels
   it now receives. The searches before weighed each layer's error by a linearization; this measures the network. A
   trial reevaluates the layers after the changed one, so the pass costs O(n x weights x the weights after them)
   (KDQuantizedNetSearchCost()): it is for small students. A stop signal is asked for once per sweep. */
static PetscErrorCode KDQuantizedNetPolish(KDQuantizedNet q, MPI_Comm comm, PetscInt ncal, const PetscReal xcal[])
{
  const PetscInt L = q->nlayers, nin = q->widths[0], nout = q->widths[L];
  PetscReal *lv[KD_NET_MAX_LAYERS + 1] = {NULL}, *zq[KD_NET_MAX_LAYERS] = {NULL};
  PetscReal *tl[KD_NET_MAX_LAYERS + 1] = {NULL}, *tz[KD_NET_MAX_LAYERS] = {NULL};
  PetscReal *yref, *y, *yt, *an, *an2, *zt, *zt2, err;
  PetscBool stop = PETSC_FALSE;
  PetscInt wmax  = 0, stride, n;

  PetscFunctionBegin;
  KDQuantizedNetFitPoints(ncal, &stride, &n);
  for (PetscInt k = 0; k <= L; k++) wmax = PetscMax(wmax, q->widths[k]);
  for (PetscInt k = 0; k < L; k++) {
    PetscCall(PetscMalloc1(q->widths[k] * n, &lv[k])); /* lv[0]: the mapped inputs */
    PetscCall(PetscMalloc1(q->widths[k] * n, &tl[k]));
    PetscCall(PetscMalloc1(q->widths[k + 1] * n, &zq[k]));
    PetscCall(PetscMalloc1(q->widths[k + 1] * n, &tz[k]));
  }
  PetscCall(PetscMalloc6(nout * n, &yref, nout * n, &y, nout * n, &yt, wmax * n, &an, wmax * n, &an2, wmax * n, &zt));
  PetscCall(PetscMalloc1(n, &zt2));
  /* layer 0 (float in the kernel, double here) for both networks: an, the f64 activations, and lv[1], the levels */
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal *x = xcal + p * stride * nin, *W = q->params + q->woff[0], *b = q->params + q->boff[0];
    for (PetscInt i = 0; i < nin; i++) lv[0][i * n + p] = KDQuantizedNetMapInput(q, i, x[i]);
    for (PetscInt o = 0; o < q->widths[1]; o++) {
      PetscReal t = b[o];
      for (PetscInt i = 0; i < nin; i++) t += W[o * nin + i] * lv[0][i * n + p];
      zq[0][o * n + p] = t;
      an[o * n + p]    = KDActivate(q->activation, t);
      lv[1][o * n + p] = KDQuantizeLevel(an[o * n + p], q->sa[q->aoff[1] + o], q->lmax);
    }
  }
  /* the f64 network: the targets of the output layer (zt, without bias) and the outputs yref */
  for (PetscInt k = 1; k < L; k++) {
    const PetscInt in = q->widths[k], out = q->widths[k + 1];
    const PetscReal *W = q->params + q->woff[k], *b = q->params + q->boff[k];
    for (PetscInt o = 0; o < out; o++)
      for (PetscInt p = 0; p < n; p++) {
        PetscReal t = 0;
        for (PetscInt i = 0; i < in; i++) t += W[o * in + i] * an[i * n + p];
        if (k < L - 1)
          an2[o * n + p] = KDActivate(q->activation, t + b[o]);
        else {
          zt[o * n + p]   = t;
          yref[o * n + p] = q->scale[o] * (t + b[o]) + q->shift[o];
        }
      }
    if (k < L - 1) {
      PetscReal *t = an;
      an = an2, an2 = t;
    }
  }
  KDQuantizedNetTail(q, 1, n, lv, zq, y);
  err = KDQuantizedNetSquaredError(n, nout, y, yref);
  for (PetscInt sweep = 0; sweep < 4; sweep++) {
    PetscCall(KDSignalPending(comm, &stop));
    if (stop) break;
    /* the first layer, float32 in the kernel: its weights and biases in halving steps */
    for (PetscInt j = 0; j < q->widths[1]; j++) {
      PetscReal *W = q->params + q->woff[0] + j * nin, *b0 = q->params + q->boff[0] + j, wm = 0, zmax = 0;
      for (PetscInt i = 0; i < nin; i++) wm = PetscMax(wm, PetscAbsReal(W[i]));
      for (PetscInt p = 0; p < n; p++) zmax = PetscMax(zmax, PetscAbsReal(zq[0][j * n + p] - *b0));
      for (PetscInt m = 3; m <= 12; m++) {
        const PetscReal h = PetscPowReal(2.0, (PetscReal) -m);
        for (PetscInt i = 0; i <= nin; i++) /* i = nin: the bias */
          for (int d = -1; d <= 1; d += 2) {
            const PetscReal dw = d * h * (i < nin ? wm : zmax);
            for (PetscInt p = 0; p < n; p++) zt2[p] = zq[0][j * n + p] + dw * (i < nin ? lv[0][i * n + p] : 1.0);
            if (KDQuantizedNetPolishTrial(q, 0, j, n, zt2, lv, zq, tl, tz, y, yt, yref, &err)) {
              if (i < nin)
                W[i] += dw;
              else
                *b0 += dw;
              for (PetscInt p = 0; p < n; p++) zq[0][j * n + p] = zt2[p];
              break;
            }
          }
      }
    }
    for (PetscInt k = 1; k < L - 1; k++) {
      const PetscInt in = q->widths[k], out = q->widths[k + 1];
      for (PetscInt j = 0; j < out; j++) {
        PetscReal *S = q->S + q->soff[k] + j, *bq = q->bq + q->soff[k] + j, zmax = 0;

        /* +-1 moves of the channel's weights */
        for (PetscInt i = 0; i < in; i++)
          for (int d = -1; d <= 1; d += 2) {
            int8_t *w = q->wq + q->qoff[k] + j * in + i;
            if (*w + d > KD_INT8_WEIGHT_LEVELS || *w + d < -KD_INT8_WEIGHT_LEVELS) continue;
            for (PetscInt p = 0; p < n; p++) zt2[p] = (zq[k][j * n + p] + d * lv[k][i * n + p]) * *S + *bq;
            if (KDQuantizedNetPolishTrial(q, k, j, n, zt2, lv, zq, tl, tz, y, yt, yref, &err)) {
              *w = (int8_t) (*w + d);
              for (PetscInt p = 0; p < n; p++) zq[k][j * n + p] += d * lv[k][i * n + p];
              break;
            }
          }
        /* the channel's scale and bias, in halving steps: z = S acc + b */
        for (PetscInt p = 0; p < n; p++) zmax = PetscMax(zmax, PetscAbsReal(zq[k][j * n + p] * *S));
        for (PetscInt m = 3; m <= 12; m++) {
          const PetscReal h = PetscPowReal(2.0, (PetscReal) -m);
          for (int t = 0; t < 4; t++) {
            const PetscReal Sn = t < 2 ? *S * (1 + (t ? -h : h)) : *S,
                            bn = t < 2 ? *bq : *bq + (t == 2 ? h : -h) * zmax;
            for (PetscInt p = 0; p < n; p++) zt2[p] = zq[k][j * n + p] * Sn + bn;
            if (KDQuantizedNetPolishTrial(q, k, j, n, zt2, lv, zq, tl, tz, y, yt, yref, &err)) *S = Sn, *bq = bn;
          }
        }
      }
    }
  }
  /* the output layer again, on the levels it now receives */
  if (!stop) PetscCall(KDQuantizedNetSearch(q, L - 1, n, stride, xcal, lv[L - 1], zt));
  for (PetscInt k = 0; k < L; k++) {
    PetscCall(PetscFree(lv[k]));
    PetscCall(PetscFree(tl[k]));
    PetscCall(PetscFree(zq[k]));
    PetscCall(PetscFree(tz[k]));
  }
  PetscCall(PetscFree6(yref, y, yt, an, an2, zt));
  PetscCall(PetscFree(zt2));
  if (stop) PetscCall(KDSignalCheck(comm, "int8 weight search")); /* the ranks agreed: it raises on every one */
  PetscFunctionReturn(0);
}

/* Offsets of the layers in the buffers of KDQuantizedNetForwardBlock() (in units of nb): hoff[k] for k = 0 .. L;
   returns their total length, and in wmax (if not NULL) the largest width. */
static PetscInt KDQuantizedNetPointLayout(KDQuantizedNet q, PetscInt hoff[], PetscInt *wmax)
{
  PetscInt htot = 0;

  if (wmax) *wmax = 0;
  for (PetscInt k = 0; k <= q->nlayers; k++) {
    hoff[k] = htot;
    if (k < q->nlayers) htot += q->widths[k];
    if (wmax) *wmax = PetscMax(*wmax, q->widths[k]);
  }
  return htot;
}

/* A copy of the network's architecture, scaling and f64 parameters, with room for the int8 scheme of layers 1 .. L-1.
 */
static PetscErrorCode KDQuantizedNetAllocate(KDNet net, KDInt8Scale mode, PetscInt abits, KDQuantizedNet *qnet)
{
  KDQuantizedNet q;
  const PetscInt L = net->nlayers, nin = net->widths[0], nout = net->widths[L];
  PetscInt nq = 0, ns = 0, na = 0;

  PetscFunctionBegin;
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
  *qnet = q;
  PetscFunctionReturn(0);
}

/* Calibration: the largest |activation| of each unit entering a quantized layer, then the layer's or the unit's
   activation scale. */
static PetscErrorCode KDQuantizedNetCalibrate(KDQuantizedNet q, MPI_Comm comm, PetscInt ncal, const PetscReal xcal[])
{
  const PetscInt L = q->nlayers, nin = q->widths[0], nout = q->widths[L], B = KD_QUANTIZE_BLOCK;
  PetscInt hoff[KD_NET_MAX_LAYERS + 1], htot;
  PetscReal *h, *z, *y, *amax;
  PetscBool stop = PETSC_FALSE;

  PetscFunctionBegin;
  htot = KDQuantizedNetPointLayout(q, hoff, NULL);
  PetscCall(PetscMalloc4(htot * B, &h, htot * B, &z, nout * B, &y, htot, &amax));
  for (PetscInt i = 0; i < htot; i++) amax[i] = 0;
  for (PetscInt p0 = 0; p0 < ncal; p0 += B) {
    const PetscInt nb = PetscMin(B, ncal - p0);
    PetscCall(KDSignalPending(comm, &stop));
    if (stop) break;
    PetscCall(KDQuantizedNetForwardBlock(q, nb, xcal + p0 * nin, h, z, hoff, y));
    for (PetscInt i = hoff[1]; i < htot; i++)
      for (PetscInt p = 0; p < nb; p++) amax[i] = PetscMax(amax[i], PetscAbsReal(h[i * nb + p]));
  }
  for (PetscInt k = 1; k < L; k++) {
    PetscReal m = 0;
    for (PetscInt i = 0; i < q->widths[k]; i++) m = PetscMax(m, amax[hoff[k] + i]);
    for (PetscInt i = 0; i < q->widths[k]; i++) {
      const PetscReal a = q->mode == KD_INT8_SCALE_LAYER ? m : amax[hoff[k] + i];
      /* a unit that is zero on every calibration point keeps a step of 1/lmax */
      q->sa[q->aoff[k] + i] = a > 0 ? a / q->lmax : 1.0 / q->lmax;
    }
  }
  PetscCall(PetscFree4(h, z, y, amax));
  if (stop) PetscCall(KDSignalCheck(comm, "int8 calibration")); /* the ranks agreed: it raises on every one */
  PetscFunctionReturn(0);
}

/* Weights: activation scales folded in, then per output channel round-to-nearest (KDQuantizedNetRound() starts from
   these). */
static void KDQuantizedNetRoundToNearest(KDQuantizedNet q)
{
  const PetscInt L = q->nlayers;

  for (PetscInt k = 1; k < L; k++) {
    const PetscInt in = q->widths[k], out = q->widths[k + 1];
    const PetscReal *W = q->params + q->woff[k], *sa = q->sa + q->aoff[k];
    for (PetscInt o = 0; o < out; o++) {
      PetscReal m = 0, S;
      for (PetscInt i = 0; i < in; i++) m = PetscMax(m, PetscAbsReal(W[o * in + i] * sa[i]));
      /* an all-zero row keeps scale 1 and zero weights */
      S                     = m > 0 ? m / (PetscReal) KD_INT8_WEIGHT_LEVELS : 1.0;
      q->S[q->soff[k] + o]  = S;
      q->bq[q->soff[k] + o] = q->params[q->boff[k] + o];
      for (PetscInt i = 0; i < in; i++)
        q->wq[q->qoff[k] + o * in + i] = (int8_t) KDQuantizeLevel(W[o * in + i] * sa[i], S, KD_INT8_WEIGHT_LEVELS);
    }
  }
}

/* Error model: an activation rounding is uniform over [-sa/2, sa/2] (variance sa^2/12) and enters the outputs
   through dy/dh; a weight rounding is uniform over [-S/2, S/2] in units of the levels and changes z_j by
   variance S_j^2/12 sum_i (h_i/sa_i)^2, entering through dy/dz_j. All independent: the variances add.
   The result, relative to the f64 outputs, is q->predicted. */
static PetscErrorCode KDQuantizedNetPredictError(KDQuantizedNet q, MPI_Comm comm, PetscInt ncal, const PetscReal xcal[])
{
  const PetscInt L = q->nlayers, nin = q->widths[0], nout = q->widths[L], B = KD_QUANTIZE_BLOCK;
  PetscInt hoff[KD_NET_MAX_LAYERS + 1], wmax, htot;
  PetscReal *h, *z, *g, *gz, *y, *ll, var = 0, den = 0;
  PetscBool stop = PETSC_FALSE;

  PetscFunctionBegin;
  htot = KDQuantizedNetPointLayout(q, hoff, &wmax);
  PetscCall(PetscMalloc6(htot * B, &h, htot * B, &z, wmax * B, &g, wmax * B, &gz, nout * B, &y, L * B, &ll));
  for (PetscInt p0 = 0; p0 < ncal; p0 += B) {
    const PetscInt nb = PetscMin(B, ncal - p0);
    PetscCall(KDSignalPending(comm, &stop)); /* a block costs nout reverse passes */
    if (stop) break;
    PetscCall(KDQuantizedNetForwardBlock(q, nb, xcal + p0 * nin, h, z, hoff, y));
    /* ll[k nb + p]: the sum of the squared levels entering layer k at point p */
    for (PetscInt k = 1; k < L; k++) {
      const PetscReal *a = h + hoff[k] * nb, *sa = q->sa + q->aoff[k];
      for (PetscInt p = 0; p < nb; p++) ll[k * nb + p] = 0;
      for (PetscInt i = 0; i < q->widths[k]; i++)
        for (PetscInt p = 0; p < nb; p++) ll[k * nb + p] += (a[i * nb + p] / sa[i]) * (a[i * nb + p] / sa[i]);
    }
    for (PetscInt o = 0; o < nout; o++) {
      /* gz = dy_o/dz_k for the layer k being processed, starting with the output layer */
      for (PetscInt j = 0; j < nout; j++)
        for (PetscInt p = 0; p < nb; p++) gz[j * nb + p] = j == o ? q->scale[o] : 0.0;
      for (PetscInt k = L - 1; k >= 1; k--) {
        const PetscInt in = q->widths[k], out = q->widths[k + 1];
        const PetscReal *W = q->params + q->woff[k], *a = h + hoff[k] * nb, *zk = z + hoff[k] * nb,
                        *sa = q->sa + q->aoff[k];
        for (PetscInt j = 0; j < out; j++) {
          const PetscReal S = q->S[q->soff[k] + j];
          PetscReal t       = 0;
          for (PetscInt p = 0; p < nb; p++) t += gz[j * nb + p] * gz[j * nb + p] * ll[k * nb + p];
          var += S * S / 12.0 * t;
        }
        /* g = dy_o/dh_k = W^T gz; then through the activation to dy_o/dz_{k-1} */
        PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int) in, (int) nb, (int) out,
                                                 1.0, W, (int) in, gz, (int) nb, 0.0, g, (int) nb));
        for (PetscInt i = 0; i < in; i++) {
          PetscReal t = 0;
          for (PetscInt p = 0; p < nb; p++) t += g[i * nb + p] * g[i * nb + p];
          var += t * sa[i] * sa[i] / 12.0;
        }
        for (PetscInt i = 0; i < in * nb; i++) gz[i] = g[i] * KDActivateDerivative(q->activation, zk[i], a[i]);
      }
      for (PetscInt p = 0; p < nb; p++) den += y[o * nb + p] * y[o * nb + p];
    }
  }
  q->predicted = den > 0 ? PetscSqrtReal(var / den) : 0.0;
  PetscCall(PetscFree6(h, z, g, gz, y, ll));
  if (stop) PetscCall(KDSignalCheck(comm, "int8 calibration")); /* the ranks agreed: it raises on every one */
  PetscFunctionReturn(0);
}

/* Measured: the scheme against f64 on the calibration points (at most 2^20 of them), into q->measured. */
static PetscErrorCode KDQuantizedNetMeasureError(KDNet net, KDQuantizedNet q, PetscInt ncal, const PetscReal xcal[])
{
  const PetscInt nout = q->widths[q->nlayers], n = PetscMin(ncal, 1 << 20);
  PetscReal *y, *yq, num = 0, den = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(n * nout, &y, n * nout, &yq));
  PetscCall(KDNetEvaluate(net, n, xcal, y));
  PetscCall(KDQuantizedNetEvaluate(q, n, xcal, yq));
  for (PetscInt i = 0; i < n * nout; i++) {
    num += (yq[i] - y[i]) * (yq[i] - y[i]);
    den += y[i] * y[i];
  }
  q->measured = den > 0 ? PetscSqrtReal(num / den) : 0.0;
  PetscCall(PetscFree2(y, yq));
  PetscFunctionReturn(0);
}

/*@C
  KDQuantizedNetCreate - The int8 scheme of a network: per-output-channel symmetric int8 weights for layers 1 .. L-1,
  activation scales calibrated on given points, weight rounding and biases fitted on them, and an estimate of the
  error the scheme makes.

  Collective on the network's communicator (every rank computes the same from the same points; they agree on a stop
  signal, see below)

  Input Parameters:
+ net  - the network, set up
. mode  - KD_INT8_SCALE_LAYER (one activation scale per layer) or KD_INT8_SCALE_CHANNEL (one per unit)
. abits - bits of an activation level, sign included (8 to 16; 16 is the default of kdpinn export)
. search - 0, or the nodes per channel and scale of the weight search that refines the rounding (-kd_int8_search)
. ncal  - number of calibration points (>= 1)
- xcal - calibration points, xcal[p * nin + i], physical units

  Output Parameter:
. q - the quantized network

  Notes:
  An activation scale is the largest |activation| over the calibration points divided by lmax = 2^(abits-1) - 1, so
  values beyond the calibration range are clipped. The weights of each layer are the least-squares weights given the
  int8 network's own inputs, rounded with error feedback and then adjusted by +-1 steps (KDQuantizedNetRound()); the
  biases absorb the mean error. With search > 0 each channel's levels and scale are then searched against the outputs'
  error (KDQuantizedNetSearch()) and the network polished against the f64 one (KDQuantizedNetPolish(), which may move
  the float first layer); docs/export.md, "Weight search". The error estimate models every rounding (of a weight, of
  an activation) as an independent error uniform over one quantization step and propagates it to the outputs with the
  f64 network's Jacobian at each calibration point (docs/export.md gives the formula); it describes round-to-nearest
  weights, so it overestimates once the rounding is fitted. The measured error is that of KDQuantizedNetEvaluate() on
  the same points. The passes over the points are BLAS calls (about 15 s on one core for 4.95M parameters and 4096
  points). A stop signal caught during the calibration (KDSignalInstall(); asked at every block of 64 points and every
  layer) ends it with PETSC_ERR_SIG on every rank.

.seealso: KDQuantizedNetEvaluate(), KDQuantizedNetGetErrorEstimate(), KDExportWrite()
@*/
PetscErrorCode KDQuantizedNetCreate(KDNet net, KDInt8Scale mode, PetscInt abits, PetscInt search, PetscInt ncal,
                                    const PetscReal xcal[], KDQuantizedNet *qnet)
{
  const PetscInt L = net->nlayers;
  KDQuantizedNet q = NULL; /* set by KDQuantizedNetAllocate(); NULL keeps GCC from a false warning */
  PetscLogEvent event;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCheck(net->setupcalled, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE,
             "KDQuantizedNetCreate() needs a set-up network");
  PetscCheck(!net->addend[0], PETSC_COMM_SELF, PETSC_ERR_SUP,
             "KDQuantizedNetCreate(): the network carries the output addend '%s', which the int8 scheme does not "
             "compute",
             net->addend);
  PetscCheck(!net->factor[0], PETSC_COMM_SELF, PETSC_ERR_SUP,
             "KDQuantizedNetCreate(): the network carries the output factor '%s', which the int8 scheme does not "
             "compute",
             net->factor);
  PetscCheck(!net->features[0], PETSC_COMM_SELF, PETSC_ERR_SUP,
             "KDQuantizedNetCreate(): the network reads the input features '%s', which the int8 scheme does not "
             "compute",
             net->features);
  PetscCheck(ncal >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "int8 calibration needs at least one point, got %" PetscInt_FMT, ncal);
  PetscCheck(abits >= 8 && abits <= 16, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_int8_activation_bits must be 8 to 16, got %" PetscInt_FMT, abits);
  /* the int32 sum of a layer: in products of at most KD_INT8_WEIGHT_LEVELS * lmax each */
  for (PetscInt k = 1; k < L; k++)
    PetscCheck((PetscReal) net->widths[k] * KD_INT8_WEIGHT_LEVELS * (PetscReal) ((1 << (abits - 1)) - 1) < 2147483648.0,
               PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "int8 export: a layer of %" PetscInt_FMT " inputs can overflow the int32 sum with %" PetscInt_FMT
               "-bit activations (lower -kd_int8_activation_bits)",
               net->widths[k], abits);
  PetscCheck(search >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-kd_int8_search must be >= 0, got %" PetscInt_FMT,
             search);
  if (search) {
    const PetscReal cost = KDQuantizedNetSearchCost(net, ncal);
    PetscCheck(cost <= KD_INT8_SEARCH_MAX_COST, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "-kd_int8_search is for small students: about %.1e multiply-adds for this network of %" PetscInt_FMT
               " parameters, at most %.0e (a minute)",
               (double) cost, net->nparams, KD_INT8_SEARCH_MAX_COST);
  }
  PetscCall(KDExportLogEventsGet_Private(&event, NULL));
  PetscCall(PetscLogEventBegin(event, 0, 0, 0, 0));
  PetscCall(KDQuantizedNetAllocate(net, mode, abits, &q));
  q->search = search;
  ierr      = KDQuantizedNetCalibrate(q, net->comm, ncal, xcal);
  if (!ierr) {
    KDQuantizedNetRoundToNearest(q);
    ierr = KDQuantizedNetPredictError(q, net->comm, ncal, xcal);
  }
  if (!ierr) ierr = KDQuantizedNetRound(q, net->comm, ncal, xcal);
  if (!ierr && search > 0) ierr = KDQuantizedNetPolish(q, net->comm, ncal, xcal);
  if (!ierr) ierr = KDQuantizedNetMeasureError(net, q, ncal, xcal);
  PetscCall(PetscLogEventEnd(event, 0, 0, 0, 0));
  if (ierr) { /* a stop signal or an allocation failure: nothing half-built is left */
    PetscCall(KDQuantizedNetDestroy(&q));
    PetscCall(ierr);
  }
  *qnet = q;
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
    for (PetscInt i = 0; i < nin; i++) h0[i] = KDQuantizedNetMapInput(q, i, x[p * nin + i]);
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
