#include "net/netimpl.h"
#include <petscblaslapack.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

/*
  The jet kernels. For a block of nb points and S streams every layer is one GEMM, W (out x in) times the stacked
  stream matrix (in x S*nb), followed by one fused elementwise pass over the block:
     a = s(z),  a_i = s'(z) z_i,  a_ij = s''(z) z_i z_j + s'(z) z_ij.
  The reverse pass is the exact adjoint of these maps, then two GEMMs per layer: dW += Zbar A^T over all streams at
  once, Abar = W^T Zbar. The forward keeps Z (all streams), the activations A and s'(z) for the reverse; nothing
  else is stored and nothing is allocated here.

  Activation derivatives from the stored values: tanh: s' = 1 - a^2, s'' = -2 a s', s''' = -2 s' (s' - 2 a^2);
  sin: s' = cos z, s'' = -a, s''' = -s'; isru (a = z r, r = 1/sqrt(1 + z^2), so r^2 = 1 - a^2): s' = r^3,
  s'' = -3 a r^4, s''' = (15 a^2 - 3) r^2 s'.
*/

/* Multiply-add, fused where the CPU has FMA: the library is compiled as ISO C (-std=c11), under which GCC does not
   contract a * b + c, and KDTanh's polynomial is then twice the instructions (the activations are most of the time of
   a small network's evaluation: KDNetEvaluate of the 2-20-20-20-3 cavity student at 256 x 256 points took 14 ms
   without FMA, 6.6 ms with it, on an AVX-512 Xeon). Without hardware FMA, fma() would be a slow software call:
   plain multiply-add there. */
#if defined(__FMA__) || defined(FP_FAST_FMA)
#define KDFma(a, b, c) fma(a, b, c)
#else
#define KDFma(a, b, c) ((a) * (b) + (c))
#endif

/* tanh that the compiler vectorizes (libm's tanh is a scalar call and dominated the small networks):
     tanh|x| = em1 / (em1 + 2),  em1 = expm1(2|x|) = 2^k (1 + q) - 1,  q = expm1(r),  2|x| = k ln2 + r, |r| <= ln2/2,
   with q from its Taylor polynomial of degree 13 (truncation < 1e-17 relative), k ln2 split in two (Cody-Waite) so
   that r is exact, and 2^k built from k's bits. Arguments beyond 20 give 1 to the last bit; NaN stays NaN. Accurate to
   a few ulp relative everywhere, including near 0 where the expm1 form avoids the cancellation of 1 - 2/(e^2x + 1).
   KDTanhArray() exposes it to the test that compares it with libm. */
static inline PetscReal KDTanh(PetscReal x)
{
  const PetscReal shifter = 0x1.8p52, ln2hi = 0x1.62e42fee00000p-1, ln2lo = 0x1.a39ef35793c76p-33,
                  log2e = 0x1.71547652b82fep0;
  PetscReal y           = 2.0 * PetscAbsReal(x), kd, r, q, scale, em1, t;
  uint64_t ku, bits;

  y  = y > 40.0 ? 40.0 : y;
  kd = KDFma(y, log2e, shifter);
  memcpy(&ku, &kd, sizeof(ku));
  kd -= shifter;
  r    = KDFma(-kd, ln2lo, KDFma(-kd, ln2hi, y));
  q    = 1.0 / 6227020800.0;
  q    = KDFma(q, r, 1.0 / 479001600.0);
  q    = KDFma(q, r, 1.0 / 39916800.0);
  q    = KDFma(q, r, 1.0 / 3628800.0);
  q    = KDFma(q, r, 1.0 / 362880.0);
  q    = KDFma(q, r, 1.0 / 40320.0);
  q    = KDFma(q, r, 1.0 / 5040.0);
  q    = KDFma(q, r, 1.0 / 720.0);
  q    = KDFma(q, r, 1.0 / 120.0);
  q    = KDFma(q, r, 1.0 / 24.0);
  q    = KDFma(q, r, 1.0 / 6.0);
  q    = KDFma(q, r, 0.5);
  q    = KDFma(q * r, r, r);
  bits = (ku << 52) + (UINT64_C(1023) << 52);
  memcpy(&scale, &bits, sizeof(scale));
  em1 = KDFma(scale, q, scale - 1.0);
  t   = em1 / (em1 + 2.0);
  return copysign(t, x);
}

/* 1/sqrt(1 + v^2) for 0 <= v <= 1e8 (the callers clamp |x| to 1e8, where isru is 1 to the last bit): the integer
   estimate from the bits of a = 1 + v^2 (the exponent halved and negated, relative error below 3.5%), then
   four Newton steps r <- r (3/2 - a r^2 / 2), each squaring the error (3.5e-2, 1.8e-3, 5e-6, 4e-11, then round-off).
   No division, no square root, no libm call: the loops that call it vectorize. */
static inline PetscReal KDIsruRsqrt(PetscReal v)
{
  PetscReal a = KDFma(v, v, 1.0), h = 0.5 * a, r;
  uint64_t bits;

  memcpy(&bits, &a, sizeof(bits));
  bits = UINT64_C(0x5FE6EB50C7B537A9) - (bits >> 1);
  memcpy(&r, &bits, sizeof(r));
  r = r * KDFma(-h * r, r, 1.5);
  r = r * KDFma(-h * r, r, 1.5);
  r = r * KDFma(-h * r, r, 1.5);
  r = r * KDFma(-h * r, r, 1.5);
  return r;
}

/* The inverse square root unit, isru(x) = x / sqrt(1 + x^2): tanh's shape (odd, bounded by 1, slope 1 at 0, smooth)
   at a fraction of its cost (no exponential, no division), and the activation is most of a small network's time
   (docs/benchmarks.md, "Distillation"). Accurate to a few ulp; NaN stays NaN. */
static inline PetscReal KDIsru(PetscReal x)
{
  PetscReal ax = PetscAbsReal(x);
  ax           = ax > 1e8 ? 1e8 : ax;
  return copysign(ax * KDIsruRsqrt(ax), x);
}

/* isru over a row: z[p] += b, a[p] = isru(z[p]) and, if r is not NULL, r[p] = 1/sqrt(1 + z[p]^2) (|z| clamped as
   KDIsru does). a may be z. With AVX-512 the start of the Newton steps is the hardware estimate (vrsqrt14pd, relative
   error below 2^-14), after which two steps reach round-off (5.6e-9, then 5e-17), eight points at a time with a masked
   tail, so that every point of a row takes the same path; elsewhere KDIsruRsqrt. Both are within a few ulp of
   x / sqrt(1 + x^2) (t305), not always equal to each other. */
static void KDIsruRow(PetscInt n, PetscReal b, PetscReal *z, PetscReal *a, PetscReal *r)
{
#if defined(__AVX512F__)
  const __m512d vb = _mm512_set1_pd(b), one = _mm512_set1_pd(1.0), half = _mm512_set1_pd(0.5),
                three2 = _mm512_set1_pd(1.5), big = _mm512_set1_pd(1e8),
                sign = _mm512_castsi512_pd(_mm512_set1_epi64((long long) UINT64_C(0x8000000000000000)));
  for (PetscInt p = 0; p < n; p += 8) {
    const __mmask8 m = n - p >= 8 ? (__mmask8) 0xff : (__mmask8) ((1u << (n - p)) - 1u);
    const __m512d zz = _mm512_add_pd(_mm512_maskz_loadu_pd(m, z + p), vb);
    /* min(1e8, |z|) keeps NaN: the second operand is returned when one is NaN */
    const __m512d az = _mm512_min_pd(big, _mm512_andnot_pd(sign, zz)), q = _mm512_fmadd_pd(az, az, one),
                  h = _mm512_mul_pd(half, q);
    __m512d rr      = _mm512_rsqrt14_pd(q);
    rr              = _mm512_mul_pd(rr, _mm512_fnmadd_pd(_mm512_mul_pd(h, rr), rr, three2));
    rr              = _mm512_mul_pd(rr, _mm512_fnmadd_pd(_mm512_mul_pd(h, rr), rr, three2));
    _mm512_mask_storeu_pd(z + p, m, zz);
    _mm512_mask_storeu_pd(a + p, m, _mm512_or_pd(_mm512_mul_pd(az, rr), _mm512_and_pd(sign, zz)));
    if (r) _mm512_mask_storeu_pd(r + p, m, rr);
  }
#else
  /* two loops, so that neither has a conditional store (which GCC does not vectorize) */
  if (r)
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal zz = z[p] + b, az0 = PetscAbsReal(zz), az = az0 > 1e8 ? 1e8 : az0, rr = KDIsruRsqrt(az);
      z[p] = zz;
      a[p] = copysign(az * rr, zz);
      r[p] = rr;
    }
  else
    for (PetscInt p = 0; p < n; p++) a[p] = KDIsru(z[p] + b);
#endif
}

void KDTanhArray(PetscInt n, const PetscReal *restrict x, PetscReal *restrict y)
{
  for (PetscInt i = 0; i < n; i++) y[i] = KDTanh(x[i]);
}

void KDIsruArray(PetscInt n, const PetscReal x[], PetscReal y[], PetscBool portable)
{
  if (portable)
    for (PetscInt i = 0; i < n; i++) y[i] = KDIsru(x[i]);
  else {
    PetscCallVoid(PetscArraycpy(y, x, n));
    KDIsruRow(n, -0.0, y, y, NULL); /* x + (-0) is x, signed zeros included */
  }
}

/* Hidden-layer forward pass over m rows: adds the bias to the value stream, applies the activation and propagates
   the jets. t2 is scratch for s''(z) of one row. */
static void KDJetActivate(KDActivation act, PetscInt m, PetscInt S, PetscInt nin, PetscInt nsecond,
                          const PetscInt (*pairs)[2], PetscInt nb, const PetscReal *restrict b, PetscReal *restrict Z,
                          PetscReal *restrict A, PetscReal *restrict D, PetscReal *restrict t2)
{
  const PetscInt ld = S * nb;

  for (PetscInt o = 0; o < m; o++) {
    PetscReal *restrict z = Z + o * ld, *restrict a = A + o * ld, *restrict d = D + o * nb;
    const PetscReal bo = b[o];

    if (act == KD_ACTIVATION_TANH) {
      for (PetscInt p = 0; p < nb; p++) {
        const PetscReal zz = z[p] + bo, t = KDTanh(zz), s1 = 1.0 - t * t;
        z[p]  = zz;
        a[p]  = t;
        d[p]  = s1;
        t2[p] = -2.0 * t * s1;
      }
    } else if (act == KD_ACTIVATION_ISRU) {
      KDIsruRow(nb, bo, z, a, d);
      /* s' = r^3; s'' from a alone (r^2 = 1 - a^2), as the adjoint computes it */
      for (PetscInt p = 0; p < nb; p++) {
        const PetscReal q2 = 1.0 - a[p] * a[p];
        d[p]               = d[p] * d[p] * d[p];
        t2[p]              = -3.0 * a[p] * q2 * q2;
      }
    } else {
      for (PetscInt p = 0; p < nb; p++) {
        const PetscReal zz = z[p] + bo;
        z[p]               = zz;
        a[p]               = sin(zz);
        d[p]               = cos(zz);
      }
      for (PetscInt p = 0; p < nb; p++) t2[p] = -a[p];
    }
    for (PetscInt i = 0; i < nin; i++) {
      const PetscReal *restrict zi = z + (1 + i) * nb;
      PetscReal *restrict ai       = a + (1 + i) * nb;
      for (PetscInt p = 0; p < nb; p++) ai[p] = d[p] * zi[p];
    }
    for (PetscInt q = 0; q < nsecond; q++) {
      const PetscReal *restrict zi = z + (1 + pairs[q][0]) * nb, *restrict zj = z + (1 + pairs[q][1]) * nb;
      const PetscReal *restrict zq = z + (1 + nin + q) * nb;
      PetscReal *restrict aq       = a + (1 + nin + q) * nb;
      for (PetscInt p = 0; p < nb; p++) aq[p] = t2[p] * zi[p] * zj[p] + d[p] * zq[p];
    }
  }
}

/* Adjoint of KDJetActivate, in place: on entry G holds dL/dA (all streams), on exit dL/dZ. Each stream's adjoint is
   read before it is overwritten: the value stream only feeds itself, the first-derivative pass reads g_i before
   scaling it, and the second-derivative pass reads g_q (and adds to the already scaled g_i, g_j) before scaling g_q.
   t2, t3 are scratch rows of nb values. */
static void KDJetActivateAdjoint(KDActivation act, PetscInt m, PetscInt S, PetscInt nin, PetscInt nsecond,
                                 const PetscInt (*pairs)[2], PetscInt nb, const PetscReal *restrict Z,
                                 const PetscReal *restrict A, const PetscReal *restrict D, PetscReal *restrict G,
                                 PetscReal *restrict t2, PetscReal *restrict t3)
{
  const PetscInt ld = S * nb;

  for (PetscInt o = 0; o < m; o++) {
    const PetscReal *restrict z = Z + o * ld, *restrict a = A + o * ld, *restrict d = D + o * nb;
    PetscReal *restrict g0 = G + o * ld;

    if (act == KD_ACTIVATION_TANH) {
      for (PetscInt p = 0; p < nb; p++) {
        t2[p] = -2.0 * a[p] * d[p];
        t3[p] = -2.0 * d[p] * (d[p] - 2.0 * a[p] * a[p]);
        g0[p] *= d[p];
      }
    } else if (act == KD_ACTIVATION_ISRU) {
      for (PetscInt p = 0; p < nb; p++) {
        const PetscReal q2 = 1.0 - a[p] * a[p];
        t2[p]              = -3.0 * a[p] * q2 * q2;
        t3[p]              = (15.0 * a[p] * a[p] - 3.0) * q2 * d[p];
        g0[p] *= d[p];
      }
    } else {
      for (PetscInt p = 0; p < nb; p++) {
        t2[p] = -a[p];
        t3[p] = -d[p];
        g0[p] *= d[p];
      }
    }
    for (PetscInt i = 0; i < nin; i++) {
      const PetscReal *restrict zi = z + (1 + i) * nb;
      PetscReal *restrict gi       = g0 + (1 + i) * nb;
      for (PetscInt p = 0; p < nb; p++) {
        g0[p] += t2[p] * zi[p] * gi[p];
        gi[p] *= d[p];
      }
    }
    for (PetscInt q = 0; q < nsecond; q++) {
      const PetscInt i = pairs[q][0], j = pairs[q][1];
      const PetscReal *restrict zi = z + (1 + i) * nb, *restrict zj = z + (1 + j) * nb,
                                *restrict zq = z + (1 + nin + q) * nb;
      PetscReal *restrict gq = g0 + (1 + nin + q) * nb, *restrict gi = g0 + (1 + i) * nb;

      /* a_ij = s'' z_i z_j + s' z_ij depends on z_i through s'' z_j and on z_j through s'' z_i */
      if (i == j) {
        for (PetscInt p = 0; p < nb; p++) {
          g0[p] += (t3[p] * zi[p] * zi[p] + t2[p] * zq[p]) * gq[p];
          gi[p] += 2.0 * t2[p] * zi[p] * gq[p];
          gq[p] *= d[p];
        }
      } else {
        PetscReal *restrict gj = g0 + (1 + j) * nb;
        for (PetscInt p = 0; p < nb; p++) {
          g0[p] += (t3[p] * zi[p] * zj[p] + t2[p] * zq[p]) * gq[p];
          gi[p] += t2[p] * zj[p] * gq[p];
          gj[p] += t2[p] * zi[p] * gq[p];
          gq[p] *= d[p];
        }
      }
    }
  }
}

/* Maps physical points to [-1, 1]: xi = 2 (x - lo)/(hi - lo) - 1, written exactly as docs/model-format.md states. */
static inline PetscReal KDNetMapInput(KDNet net, PetscInt k, PetscReal x)
{
  return 2.0 * (x - net->lo[k]) / (net->hi[k] - net->lo[k]) - 1.0;
}

/* Forward pass of one block of nb points with S streams; leaves the output jets (scaled) in Z[nlayers-1]. */
PetscErrorCode KDNetForwardBlock_Private(KDNet net, const KDJetSpec *spec, PetscInt S, PetscInt nb, const PetscReal x[])
{
  const PetscInt nin = net->widths[0], L = net->nlayers, ld = S * nb, nsecond = spec->nsecond;
  PetscReal *A0 = net->A[0];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < nin; k++) {
    PetscReal *row       = A0 + k * ld;
    const PetscReal dxik = 2.0 / (net->hi[k] - net->lo[k]);
    for (PetscInt p = 0; p < nb; p++) row[p] = KDNetMapInput(net, k, x[p * nin + k]);
    for (PetscInt i = 0; i < nin; i++) {
      const PetscReal v = i == k ? dxik : 0.0;
      for (PetscInt p = 0; p < nb; p++) row[(1 + i) * nb + p] = v;
    }
    for (PetscInt q = 0; q < nsecond; q++)
      for (PetscInt p = 0; p < nb; p++) row[(1 + nin + q) * nb + p] = 0.0;
  }
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt in = net->widths[k], out = net->widths[k + 1];
    const PetscReal *W = net->params + net->woff[k], *b = net->params + net->boff[k];

    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) out, (int) ld, (int) in,
                                             1.0, W, (int) in, net->A[k], (int) ld, 0.0, net->Z[k], (int) ld));
    if (k < L - 1)
      KDJetActivate(net->activation, out, S, nin, nsecond, (const PetscInt(*)[2]) spec->second, nb, b, net->Z[k],
                    net->A[k + 1], net->D[k], net->tmp);
    else {
      for (PetscInt o = 0; o < out; o++) {
        PetscReal *restrict y = net->Z[k] + o * ld;
        const PetscReal s = net->scale[o], c = s * b[o] + net->shift[o];
        for (PetscInt p = 0; p < nb; p++) y[p] = s * y[p] + c;
        for (PetscInt p = nb; p < ld; p++) y[p] *= s;
      }
    }
  }
  PetscFunctionReturn(0);
}

/* Reverse pass of the block last run forward, with dLoss/djet in net->adj: grad += dLoss/dparams. */
PetscErrorCode KDNetBackwardBlock_Private(KDNet net, const KDJetSpec *spec, PetscInt S, PetscInt nb, PetscReal grad[])
{
  const PetscInt nin = net->widths[0], L = net->nlayers, ld = S * nb, nout = net->widths[L];
  PetscReal *G = net->G[0], *Gprev = net->G[1];

  PetscFunctionBegin;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscReal *restrict r = net->adj + o * ld;
    PetscReal *restrict g       = G + o * ld;
    const PetscReal s           = net->scale[o];
    for (PetscInt p = 0; p < ld; p++) g[p] = s * r[p];
  }
  for (PetscInt k = L - 1; k >= 0; k--) {
    const PetscInt in = net->widths[k], out = net->widths[k + 1];
    const PetscReal *W = net->params + net->woff[k];
    PetscReal *dW = grad + net->woff[k], *db = grad + net->boff[k];

    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) out, (int) in, (int) ld,
                                             1.0, G, (int) ld, net->A[k], (int) ld, 1.0, dW, (int) in));
    for (PetscInt o = 0; o < out; o++) {
      const PetscReal *restrict g = G + o * ld;
      PetscReal s                 = 0.0;
      for (PetscInt p = 0; p < nb; p++) s += g[p];
      db[o] += s;
    }
    if (k == 0) break;
    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int) in, (int) ld, (int) out,
                                             1.0, W, (int) in, G, (int) ld, 0.0, Gprev, (int) ld));
    KDJetActivateAdjoint(net->activation, in, S, nin, spec->nsecond, (const PetscInt(*)[2]) spec->second, nb,
                         net->Z[k - 1], net->A[k], net->D[k - 1], Gprev, net->tmp, net->tmp + net->blocksize);
    {
      PetscReal *t = G;
      G            = Gprev;
      Gprev        = t;
    }
  }
  PetscFunctionReturn(0);
}

/* Values only, for nb points: y[o * ldy + p]. Uses the ping-pong buffers with one stream. */
PetscErrorCode KDNetEvaluateBlock_Private(KDNet net, PetscInt nb, const PetscReal x[], PetscReal y[], PetscInt ldy)
{
  const PetscInt nin = net->widths[0], L = net->nlayers;
  PetscReal *in = net->G[0], *out = net->G[1];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < nin; k++)
    for (PetscInt p = 0; p < nb; p++) in[k * nb + p] = KDNetMapInput(net, k, x[p * nin + k]);
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt nI = net->widths[k], nO = net->widths[k + 1];
    const PetscReal *W = net->params + net->woff[k], *b = net->params + net->boff[k];

    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) nO, (int) nb, (int) nI,
                                             1.0, W, (int) nI, in, (int) nb, 0.0, out, (int) nb));
    if (k < L - 1) {
      for (PetscInt o = 0; o < nO; o++) {
        PetscReal *restrict z = out + o * nb;
        const PetscReal bo    = b[o];
        if (net->activation == KD_ACTIVATION_TANH)
          for (PetscInt p = 0; p < nb; p++) z[p] = KDTanh(z[p] + bo);
        else if (net->activation == KD_ACTIVATION_ISRU)
          KDIsruRow(nb, bo, z, z, NULL);
        else
          for (PetscInt p = 0; p < nb; p++) z[p] = sin(z[p] + bo);
      }
      {
        PetscReal *t = in;
        in           = out;
        out          = t;
      }
    } else {
      for (PetscInt o = 0; o < nO; o++) {
        const PetscReal *restrict z = out + o * nb;
        PetscReal *restrict yo      = y + o * ldy;
        const PetscReal s = net->scale[o], c = s * b[o] + net->shift[o];
        for (PetscInt p = 0; p < nb; p++) yo[p] = s * z[p] + c;
      }
    }
  }
  PetscFunctionReturn(0);
}

/* GEMM flops per point: the forward (all S streams), or forward + reverse (dW for every layer, W^T Zbar for all but
   the first). The elementwise passes are not counted. */
PetscLogDouble KDNetFlopsPerPoint_Private(KDNet net, PetscInt S, PetscBool reverse)
{
  PetscLogDouble f = 0, r = 0;

  for (PetscInt k = 0; k < net->nlayers; k++) {
    const PetscLogDouble mn = 2.0 * (PetscLogDouble) net->widths[k] * (PetscLogDouble) net->widths[k + 1];
    f += mn;
    r += k > 0 ? 2 * mn : mn;
  }
  return (PetscLogDouble) S * (reverse ? f + r : f);
}
