/*
  The float tanh (and, compiled with -DKD_ISRU, the float isru) of the exported f32 and int8 kernels against libm in
  double over the whole float line. Compiled by t905-export-tanh.sh together with the generated sources s_f32.c and
  s_int8.c of a 2 -> 20,20 -> 3 network of that activation (it includes them, to reach their static functions), at -O2
  and at -O3 -march=native (with FMA).

  isru: the reference is x / sqrt(1 + x^2) in double; bounds 4e-7 for f32 (three Newton steps: float rounding; measured
  below 2.4e-7) and 6e-6 for int8 (two steps: 1.5 (1.75e-3)^2 = 4.6e-6 plus rounding), otherwise as tanh below, with the
  clamp 1e4 in place of 7.9. Both bounds allow one unit of the subnormal grid besides (the product z r rounds to it).

  Checked, for every 31st float bit pattern from 0 to +inf and its negative (about 1.4e8 arguments), and for the
  special values (0, -0, the smallest subnormal, the clamp 7.9 and its neighbours, FLT_MAX, +-inf):
  - f32 s_f32_act(x):  |t - tanh(x)| <= KD_EXPORT_TANH_ERROR |tanh(x)| (4e-7, the bound docs/export.md states: the
    measured maximum over every float is 3.6e-7 without FMA, 3.2e-7 with) and |t| <= 1; tanh(NaN) is NaN.
  - int8 s_int8_tanh79(s_int8_clamp(z, bits of 7.9)), the activation of the int8 kernel with its widest clamp: the
    same bound.
  - int8 levels: for every unit of both quantized layers, the level of the clamped activation is never above the
    largest level 32767 (16-bit levels) in magnitude, and is exactly +-32767 at +-inf, +-FLT_MAX and the unit's own
    clamp, as the scheme's clipping gives (docs/export.md).
  Exit status 0 when all hold; the largest relative error found is printed.
*/
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "s_f32.c"
#include "s_int8.c"

/* The activation under test: tanh, or isru with -DKD_ISRU; the bounds of its f32 and int8 versions. */
#if !defined(KD_F32_ERROR) || !defined(KD_INT8_ERROR)
#error "compile with -DKD_F32_ERROR=<bound> -DKD_INT8_ERROR=<bound>"
#endif
#ifdef KD_ISRU
/* int8's isru is not clamped to 1 (two steps leave it within the bound of 1, and the pre-activation clamp bounds the
   level, checked below), f32's is */
#define KD_INT8_MAX (1.0 + KD_INT8_ERROR)
#define KD_ACT "isru"
#define KD_INT8_CORE s_int8_isru
#define KD_INT8_RANGE 0x461c4000u /* 1e4 */
static double Reference(double x)
{
  return isinf(x) ? copysign(1.0, x) : x / sqrt(1.0 + x * x);
}
#else
#define KD_INT8_MAX 1.0
#define KD_ACT "tanh"
#define KD_INT8_CORE s_int8_tanh79
#define KD_INT8_RANGE 0x40fccccdu /* 7.9 */
static double Reference(double x)
{
  return tanh(x);
}
#endif

static float FromBits(uint32_t b)
{
  float x;
  memcpy(&x, &b, sizeof(x));
  return x;
}

static uint32_t ToBits(float x)
{
  uint32_t b;
  memcpy(&b, &x, sizeof(b));
  return b;
}

static int nfail = 0;

/* One argument: t is the approximation at x. */
static void Check(const char *what, double bound, double tmax, float x, float t, double *worst, float *xworst)
{
  const double ref = Reference((double) x), err = fabs((double) t - ref);
  /* plus one unit of the subnormal grid, where a relative error means nothing (isru's z r rounds there) */
  if (!(err <= bound * fabs(ref) + 0x1p-149) || !(fabsf(t) <= tmax)) {
    if (nfail++ < 10)
      printf("FAIL %s: x = %.9g (0x%08x): %.9g, %s %.9g\n", what, (double) x, ToBits(x), (double) t, KD_ACT, ref);
  }
  if (fabs(ref) >= 0x1p-126 && err / fabs(ref) > *worst) { /* normal floats: the relative error means something */
    *worst  = err / fabs(ref);
    *xworst = x;
  }
}

static float Int8Act(float z)
{
  return KD_INT8_CORE(s_int8_clamp(z, KD_INT8_RANGE));
}

static void CheckLevels(const char *what, int n, const float inv[], const uint32_t lim[])
{
  const float big[] = {INFINITY, FLT_MAX, 1e10f, 100.0f, 7.9f};
  for (int o = 0; o < n; o++) {
    /* a sweep of pre-activations over [-10, 10]: never beyond the largest level */
    for (int i = -100000; i <= 100000; i++) {
      const float z = 1e-4f * (float) i, l = s_int8_level(KD_INT8_CORE(s_int8_clamp(z, lim[o])) * inv[o]);
      if (!(fabsf(l) <= 32767.0f) || l != floorf(l)) {
        if (nfail++ < 10) printf("FAIL %s unit %d: z = %g gives level %g\n", what, o, (double) z, (double) l);
      }
    }
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]) + 1; i++) {
      const float z = i < sizeof(big) / sizeof(big[0]) ? big[i] : FromBits(lim[o]);
      for (int s = -1; s <= 1; s += 2) {
        const float l = s_int8_level(KD_INT8_CORE(s_int8_clamp((float) s * z, lim[o])) * inv[o]);
        if (l != (float) s * 32767.0f) {
          if (nfail++ < 10)
            printf("FAIL %s unit %d: z = %g gives level %g, not %d\n", what, o, (double) (s * z), (double) l,
                   s * 32767);
        }
      }
    }
  }
}

int main(void)
{
  double wf = 0, wi = 0;
  float xf = 0, xi = 0;
  const float special[] = {0.0f,
                           -0.0f,
                           FromBits(1),
                           -FromBits(1),
                           FLT_MIN,
                           1e-20f,
                           7.9f,
                           nextafterf(7.9f, 0),
                           nextafterf(7.9f, 100),
                           8.0f,
                           9.0f,
                           20.0f,
                           1e4f,
                           nextafterf(1e4f, 0),
                           nextafterf(1e4f, 1e5f),
                           1e10f,
                           FLT_MAX,
                           INFINITY};

  for (uint64_t b = 0; b <= 0x7f800000u; b += 31) {
    const float x = FromBits((uint32_t) b);
    Check("f32", KD_F32_ERROR, 1.0, x, s_f32_act(x), &wf, &xf);
    Check("f32", KD_F32_ERROR, 1.0, -x, s_f32_act(-x), &wf, &xf);
    Check("int8", KD_INT8_ERROR, KD_INT8_MAX, x, Int8Act(x), &wi, &xi);
    Check("int8", KD_INT8_ERROR, KD_INT8_MAX, -x, Int8Act(-x), &wi, &xi);
  }
  for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
    for (int s = -1; s <= 1; s += 2) {
      const float x = (float) s * special[i];
      Check("f32", KD_F32_ERROR, 1.0, x, s_f32_act(x), &wf, &xf);
      Check("int8", KD_INT8_ERROR, KD_INT8_MAX, x, Int8Act(x), &wi, &xi);
    }
  if (!isnan(s_f32_act(NAN)) || !isnan(s_f32_act(-NAN))) {
    nfail++;
    printf("FAIL f32: %s(NaN) is not NaN\n", KD_ACT);
  }
  CheckLevels("layer 1", (int) (sizeof(s_int8_zlim1) / sizeof(s_int8_zlim1[0])), s_int8_inv1, s_int8_zlim1);
  CheckLevels("layer 2", (int) (sizeof(s_int8_zlim2) / sizeof(s_int8_zlim2[0])), s_int8_inv2, s_int8_zlim2);
  printf("%s, largest relative error: f32 %.3e at x = %.9g (bound %.1e), int8 %.3e at x = %.9g (bound %.1e)\n", KD_ACT,
         wf, (double) xf, (double) KD_F32_ERROR, wi, (double) xi, (double) KD_INT8_ERROR);
  return nfail ? 1 : 0;
}
