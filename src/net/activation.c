/*
  The activations of the hidden layers, in one table (KDActivationTable): for each, the kernels of the jet passes (a
  row of pre-activations at a time: value, first and second derivative forward; second and third derivative for the
  adjoint), the pointwise function and derivative of the int8 scheme's reference, and the C of the exported kernels
  (f64, f32, int8). The name list KDActivations[] (-<prefix>activation, model files) and the table have the same order;
  an activation not in them is an error, never a fall-through.

  Activation derivatives from the stored values: tanh: s' = 1 - a^2, s'' = -2 a s', s''' = -2 s' (s' - 2 a^2);
  sin: s' = cos z, s'' = -a, s''' = -s'; isru (a = z r, r = 1/sqrt(1 + z^2), so r^2 = 1 - a^2): s' = r^3,
  s'' = -3 a r^4, s''' = (15 a^2 - 3) r^2 s'.
*/
#include "net/netimpl.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

const char *const KDActivations[] = {"tanh", "sin", "isru", "KDActivation", "KD_ACTIVATION_", NULL};

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

/* --- tanh ------------------------------------------------------------------------------------------------------- */

static void KDTanhValue(PetscInt n, PetscReal b, PetscReal *restrict z)
{
  for (PetscInt p = 0; p < n; p++) z[p] = KDTanh(z[p] + b);
}

static void KDTanhJet(PetscInt n, PetscReal b, PetscReal *restrict z, PetscReal *restrict a, PetscReal *restrict d,
                      PetscReal *restrict t2)
{
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal zz = z[p] + b, t = KDTanh(zz), s1 = 1.0 - t * t;
    z[p]  = zz;
    a[p]  = t;
    d[p]  = s1;
    t2[p] = -2.0 * t * s1;
  }
}

static void KDTanhAdjoint(PetscInt n, const PetscReal *restrict z, const PetscReal *restrict a,
                          const PetscReal *restrict d, PetscReal *restrict t2, PetscReal *restrict t3)
{
  for (PetscInt p = 0; p < n; p++) {
    t2[p] = -2.0 * a[p] * d[p];
    t3[p] = -2.0 * d[p] * (d[p] - 2.0 * a[p] * a[p]);
  }
}

static PetscReal KDTanhScalar(PetscReal z)
{
  return tanh(z);
}

static PetscReal KDTanhDerivative(PetscReal z, PetscReal a)
{
  return 1.0 - a * a;
}

static PetscReal KDTanhInverse(PetscReal r)
{
  return atanh(r);
}

/* --- sin -------------------------------------------------------------------------------------------------------- */

static void KDSinValue(PetscInt n, PetscReal b, PetscReal *restrict z)
{
  for (PetscInt p = 0; p < n; p++) z[p] = sin(z[p] + b);
}

static void KDSinJet(PetscInt n, PetscReal b, PetscReal *restrict z, PetscReal *restrict a, PetscReal *restrict d,
                     PetscReal *restrict t2)
{
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal zz = z[p] + b;
    z[p]               = zz;
    a[p]               = sin(zz);
    d[p]               = cos(zz);
  }
  for (PetscInt p = 0; p < n; p++) t2[p] = -a[p];
}

static void KDSinAdjoint(PetscInt n, const PetscReal *restrict z, const PetscReal *restrict a,
                         const PetscReal *restrict d, PetscReal *restrict t2, PetscReal *restrict t3)
{
  for (PetscInt p = 0; p < n; p++) {
    t2[p] = -a[p];
    t3[p] = -d[p];
  }
}

static PetscReal KDSinScalar(PetscReal z)
{
  return sin(z);
}

static PetscReal KDSinDerivative(PetscReal z, PetscReal a)
{
  return PetscCosReal(z);
}

/* --- isru ------------------------------------------------------------------------------------------------------- */

static void KDIsruValue(PetscInt n, PetscReal b, PetscReal *z)
{
  KDIsruRow(n, b, z, z, NULL);
}

static void KDIsruJet(PetscInt n, PetscReal b, PetscReal *restrict z, PetscReal *restrict a, PetscReal *restrict d,
                      PetscReal *restrict t2)
{
  KDIsruRow(n, b, z, a, d);
  /* s' = r^3; s'' from a alone (r^2 = 1 - a^2), as the adjoint computes it */
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal q2 = 1.0 - a[p] * a[p];
    d[p]               = d[p] * d[p] * d[p];
    t2[p]              = -3.0 * a[p] * q2 * q2;
  }
}

static void KDIsruAdjoint(PetscInt n, const PetscReal *restrict z, const PetscReal *restrict a,
                          const PetscReal *restrict d, PetscReal *restrict t2, PetscReal *restrict t3)
{
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal q2 = 1.0 - a[p] * a[p];
    t2[p]              = -3.0 * a[p] * q2 * q2;
    t3[p]              = (15.0 * a[p] * a[p] - 3.0) * q2 * d[p];
  }
}

static PetscReal KDIsruScalar(PetscReal z)
{
  return z / PetscSqrtReal(1.0 + z * z);
}

static PetscReal KDIsruDerivative(PetscReal z, PetscReal a)
{
  return (1.0 - a * a) * PetscSqrtReal(1.0 - a * a);
}

static PetscReal KDIsruInverse(PetscReal r)
{
  return r / sqrt(1.0 - r * r);
}

/* --- exported C ($ stands for the kernel's name) ----------------------------------------------------------------- */

/* tanh is computed as libkdpinn computes it (the expm1 form, vectorizable: no libm call), in double for f64:
     tanh|x| = em1 / (em1 + 2),  em1 = expm1(2|x|) = 2^k (1 + q) - 1,  q = expm1(r) by its Taylor polynomial,
   2|x| = k ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2, 2^k from k's bits).
   The code has no branch and no floating-point select: GCC at -O2 (and with -ftrapping-math, the default) vectorizes
   only loops without control flow, and keeps a select of floating-point values as a branch. So 2|x| is clamped to 40
   by an integer minimum of its bits (non-negative floats order as their bits do), and NaN is passed through by a bit
   mask. */
static const char KDTanhF64[] =
    "/* tanh: em1 = expm1(2|x|) = 2^k (1 + q) - 1, tanh|x| = em1 / (em1 + 2); a few ulp, no libm call, no "
    "branch. */\n"
    "static inline double $_act(double x)\n{\n"
    "  const double shifter = 0x1.8p52, ln2hi = 0x1.62e42fee00000p-1, ln2lo = 0x1.a39ef35793c76p-33, log2e = "
    "0x1.71547652b82fep0;\n"
    "  double y = 2.0 * fabs(x), kd, r, q, scale, em1, t;\n"
    "  uint64_t ku, bits, yb, xb, tb, nan;\n"
    "  memcpy(&yb, &y, sizeof(yb));\n"
    "  yb = yb < UINT64_C(0x4044000000000000) ? yb : UINT64_C(0x4044000000000000); /* min(2|x|, 40) */\n"
    "  memcpy(&y, &yb, sizeof(y));\n"
    "  kd = y * log2e + shifter;\n"
    "  memcpy(&ku, &kd, sizeof(ku));\n"
    "  kd -= shifter;\n"
    "  r = (y - kd * ln2hi) - kd * ln2lo;\n"
    "  q = 1.0 / 6227020800.0;\n"
    "  q = q * r + 1.0 / 479001600.0;\n"
    "  q = q * r + 1.0 / 39916800.0;\n"
    "  q = q * r + 1.0 / 3628800.0;\n"
    "  q = q * r + 1.0 / 362880.0;\n"
    "  q = q * r + 1.0 / 40320.0;\n"
    "  q = q * r + 1.0 / 5040.0;\n"
    "  q = q * r + 1.0 / 720.0;\n"
    "  q = q * r + 1.0 / 120.0;\n"
    "  q = q * r + 1.0 / 24.0;\n"
    "  q = q * r + 1.0 / 6.0;\n"
    "  q = q * r + 0.5;\n"
    "  q = (q * r) * r + r;\n"
    "  bits = (ku << 52) + (UINT64_C(1023) << 52);\n"
    "  memcpy(&scale, &bits, sizeof(scale));\n"
    "  em1 = scale * q + (scale - 1.0);\n"
    "  t = copysign(em1 / (em1 + 2.0), x);\n"
    "  memcpy(&xb, &x, sizeof(xb));\n"
    "  memcpy(&tb, &t, sizeof(tb));\n"
    "  nan = UINT64_C(0) - (uint64_t)((xb & UINT64_C(0x7fffffffffffffff)) > UINT64_C(0x7ff0000000000000)); /* "
    "all ones for NaN */\n"
    "  tb = (xb & nan) | (tb & ~nan);\n"
    "  memcpy(&t, &tb, sizeof(t));\n"
    "  return t;\n}\n\n";

/* float: a rational function instead of the expm1 form, half the operations (the activations are most of the kernel's
   time). tanh(x) ~ x P(x^2) / Q(x^2), P and Q of degree 4 in x^2 with P(0) = Q(0) = 1, a minimax fit of the relative
   error on [0, 7.9] (1.2e-8 in exact arithmetic; with the coefficients rounded to float and float arithmetic, with or
   without FMA, 3.6e-7 relative at most over every float: the documented bound KD_EXPORT_TANH_ERROR is 4e-7, which
   t905 checks against libm over the whole float line). |x| is clamped to 7.9, where 1 - tanh is 2.7e-7, so the
   result is never above 1 in magnitude. int8 applies it to the clamped pre-activation (the clamp is the exporter's). */
#define KD_TANH79                                                                                                      \
  "/* tanh on [-7.9, 7.9]: x P(x^2) / Q(x^2), a minimax fit of the relative error (with float arithmetic at "          \
  "most 4.0e-07\n"                                                                                                     \
  "   relative; docs/export.md). */\n"                                                                                 \
  "static inline float $_tanh79(float x)\n{\n"                                                                         \
  "  const float u = x * x;\n"                                                                                         \
  "  const float p = (((1.51138018e-08f * u + 2.18041387e-05f) * u + 0.00356584112f) * u + 0.134395689f) * u "         \
  "+ 1.0f;\n"                                                                                                          \
  "  const float q = (((8.47279011e-07f * u + 0.000340205472f) * u + 0.0261422861f) * u + 0.467728943f) * u "          \
  "+ 1.0f;\n"                                                                                                          \
  "  return x * p / q;\n}\n\n"
static const char KDTanhF32[] =
    KD_TANH79 "/* tanh: |x| clamped to 7.9 by an integer minimum of its bits (non-negative floats order as their bits "
              "do; no branch,\n"
              "   no floating-point select, so the loops vectorize at -O2); NaN is passed through by a bit mask. */\n"
              "static inline float $_act(float x)\n{\n"
              "  uint32_t xb, ab, tb, nan;\n"
              "  float t;\n"
              "  memcpy(&xb, &x, sizeof(xb));\n"
              "  ab = xb & 0x7fffffffu;\n"
              "  nan = 0u - (uint32_t)(ab > 0x7f800000u); /* all ones for NaN */\n"
              "  ab = ab < 0x40fccccdu ? ab : 0x40fccccdu; /* min(|x|, 7.9) */\n"
              "  xb = ab | (xb & 0x80000000u);\n"
              "  memcpy(&t, &xb, sizeof(t));\n"
              "  t = $_tanh79(t);\n"
              "  memcpy(&tb, &t, sizeof(tb));\n"
              "  memcpy(&xb, &x, sizeof(xb));\n"
              "  tb = (xb & nan) | (tb & ~nan);\n"
              "  memcpy(&t, &tb, sizeof(t));\n"
              "  return t;\n}\n\n";
static const char KDTanhInt8[] = KD_TANH79;

static const char KDSinF64[] = "static inline double $_act(double x) { return sin(x); }\n\n";
static const char KDSinF32[] = "static inline float $_act(float x) { return sinf(x); }\n\n";

/* 1/sqrt(1 + v^2) from the integer estimate of its bits and Newton steps, as libkdpinn computes it without AVX-512
   (four steps in double, three in f32: the estimate's 3.5% error squared each step, 3e-11 after three); |x| clamped
   by an integer minimum of its bits (1e8 in double, 1e4 in float: isru is 1 there to the last bit and v^2 does not
   overflow), NaN passed through by a bit mask. */
static const char KDIsruF64[] =
    "/* isru(x) = x / sqrt(1 + x^2); a few ulp, no libm call, no branch. */\n"
    "static inline double $_act(double x)\n{\n"
    "  uint64_t xb, sb, ab, nan, rb, tb;\n"
    "  double v, a, h, r, t;\n"
    "  memcpy(&xb, &x, sizeof(xb));\n"
    "  sb = xb & UINT64_C(0x8000000000000000);\n"
    "  ab = xb ^ sb;\n"
    "  nan = UINT64_C(0) - (uint64_t)(ab > UINT64_C(0x7ff0000000000000)); /* all ones for NaN */\n"
    "  ab = ab < UINT64_C(0x4197d78400000000) ? ab : UINT64_C(0x4197d78400000000); /* min(|x|, 1e8) */\n"
    "  memcpy(&v, &ab, sizeof(v));\n"
    "  a = v * v + 1.0;\n"
    "  h = 0.5 * a;\n"
    "  memcpy(&rb, &a, sizeof(rb));\n"
    "  rb = UINT64_C(0x5fe6eb50c7b537a9) - (rb >> 1);\n"
    "  memcpy(&r, &rb, sizeof(r));\n"
    "  r = r * (1.5 - (h * r) * r);\n"
    "  r = r * (1.5 - (h * r) * r);\n"
    "  r = r * (1.5 - (h * r) * r);\n"
    "  r = r * (1.5 - (h * r) * r);\n"
    "  t = v * r;\n"
    "  memcpy(&tb, &t, sizeof(tb));\n"
    "  tb = (xb & nan) | ((tb | sb) & ~nan);\n"
    "  memcpy(&t, &tb, sizeof(t));\n"
    "  return t;\n}\n\n";
static const char KDIsruF32[] =
    "/* isru(x) = x / sqrt(1 + x^2) in float; no libm call, no branch. */\n"
    "static inline float $_act(float x)\n{\n"
    "  uint32_t xb, sb, ab, nan, rb, tb;\n"
    "  float v, a, h, r, t;\n"
    "  memcpy(&xb, &x, sizeof(xb));\n"
    "  sb = xb & 0x80000000u;\n"
    "  ab = xb ^ sb;\n"
    "  nan = 0u - (uint32_t)(ab > 0x7f800000u); /* all ones for NaN */\n"
    "  ab = ab < 0x461c4000u ? ab : 0x461c4000u; /* min(|x|, 1e4) */\n"
    "  memcpy(&v, &ab, sizeof(v));\n"
    "  a = v * v + 1.0f;\n"
    "  h = 0.5f * a;\n"
    "  memcpy(&rb, &a, sizeof(rb));\n"
    "  rb = 0x5f375a86u - (rb >> 1);\n"
    "  memcpy(&r, &rb, sizeof(r));\n"
    "  r = r * (1.5f - (h * r) * r);\n"
    "  r = r * (1.5f - (h * r) * r);\n"
    "  r = r * (1.5f - (h * r) * r);\n"
    "  t = v * r;\n"
    "  memcpy(&tb, &t, sizeof(tb));\n"
    "  tb = tb < 0x3f800000u ? tb : 0x3f800000u; /* min(t, 1): near 1 the rounding can exceed it */\n"
    "  tb = (xb & nan) | ((tb | sb) & ~nan);\n"
    "  memcpy(&t, &tb, sizeof(t));\n"
    "  return t;\n}\n\n";
/* int8: z is clamped first, so neither the clamp to 1e4 nor NaN's mask is needed here, nor |z| (1 + z^2 is even in z);
   and two Newton steps (relative error below 5e-6 = 1.5 (1.75e-3)^2, a sixth of a 16-bit level) instead of three: the
   level is all int8 keeps, and the clamp bound's lmax + 1/4 still rounds to lmax. The activation is most of the
   kernel's time (three steps: 760 fps, two: 920, cavity student 2 x 16). */
static const char KDIsruInt8[] =
    "/* isru(z) = z / sqrt(1 + z^2) in float for the clamped pre-activation; no libm call, no branch. */\n"
    "static inline float $_isru(float z)\n{\n"
    "  const float a = z * z + 1.0f, h = 0.5f * a;\n"
    "  uint32_t rb;\n"
    "  float r;\n"
    "  memcpy(&rb, &a, sizeof(rb));\n"
    "  rb = 0x5f375a86u - (rb >> 1);\n"
    "  memcpy(&r, &rb, sizeof(r));\n"
    "  r = r * (1.5f - (h * r) * r);\n"
    "  r = r * (1.5f - (h * r) * r);\n"
    "  return z * r;\n}\n\n";

/* The table, in the order of KDActivation and KDActivations[]. */
const KDActivationOps KDActivationTable[] = {
    [KD_ACTIVATION_TANH] = {"tanh",
                            KDTanhValue,
                            KDTanhJet,
                            KDTanhAdjoint,
                            KDTanhScalar,
                            KDTanhDerivative,
                            KDTanhInverse,
                            7.9,
                            "7.9",
                            "tanh79",
                            {KDTanhF64, KDTanhF32, KDTanhInt8}},
    [KD_ACTIVATION_SIN]  = {"sin",
                            KDSinValue,
                            KDSinJet,
                            KDSinAdjoint,
                            KDSinScalar,
                            KDSinDerivative,
                            NULL,
                            0,
                            NULL,
                            NULL,
                            {KDSinF64, KDSinF32, KDSinF32}},
    [KD_ACTIVATION_ISRU] = {"isru",
                            KDIsruValue,
                            KDIsruJet,
                            KDIsruAdjoint,
                            KDIsruScalar,
                            KDIsruDerivative,
                            KDIsruInverse,
                            1e4,
                            "1e4",
                            "isru",
                            {KDIsruF64, KDIsruF32, KDIsruInt8}},
};

_Static_assert(sizeof(KDActivationTable) / sizeof(KDActivationTable[0]) == KD_ACTIVATION_COUNT,
               "one row of KDActivationTable per KDActivation");
_Static_assert(sizeof(KDActivations) / sizeof(KDActivations[0]) == KD_ACTIVATION_COUNT + 3,
               "one name in KDActivations[] per KDActivation");

/*@C
  KDActivationGet - The table row of an activation; an error for a value that is not one.

  Not collective
@*/
PetscErrorCode KDActivationGet(KDActivation act, const KDActivationOps **ops)
{
  PetscFunctionBegin;
  PetscCheck((int) act >= 0 && (int) act < KD_ACTIVATION_COUNT, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "unknown activation %d", (int) act);
  *ops = &KDActivationTable[act];
  PetscFunctionReturn(0);
}
