#include "export/exportimpl.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
  Export of a network as standalone C (docs/export.md): the code generation of KDExportWrite(), and the calibration
  points of the int8 scheme (export/exportimpl.h, quantize.c).

  The generated kernel evaluates blocks of KD_EXPORT_BLOCK points with every layer written out for its widths: for each
  output unit, one loop over the points of the block whose body is the whole dot product, unrolled over the inputs. The
  trip counts are compile-time constants that are multiples of every SIMD width, so GCC and Clang vectorize the loops
  over points already at -O2 (no epilogue, no run-time checks); a batch that is not a multiple of the block ends with
  blocks of KD_EXPORT_TAIL_BLOCK points, padded by repeating its last point. Buffers are block-sized arrays on the
  stack.
*/

const char *const KDPrecisions[] = {"f64", "f32", "int8", "KDPrecision", "KD_PRECISION_", NULL};

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
  if (vfprintf(e->fp, fmt, ap) < 0) e->err = errno ? errno : EIO;
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
    if (*c == '$')
      KDEmit(e, "%s", e->name);
    else if (!e->err && e->fp && fputc(*c, e->fp) == EOF)
      e->err = errno ? errno : EIO;
  }
}

/* The activation as static inline functions of the kernel's type: the table's code for the precision; for int8 and
   a bounded activation, the clamp of the pre-activation; for int8, the rounding to a level. */
static void KDEmitActivation(KDEmitter *e, KDActivation act, PetscReal lmaxr)
{
  const KDActivationOps *ops = &KDActivationTable[act];
  const char *N              = e->name;

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
    if (!*fp) err = errno;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, PETSC_ERR_FILE_OPEN, "cannot write %s: %s", path, strerror(err));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDExportClose(MPI_Comm comm, KDEmitter *e, const char path[], const char tmp[])
{
  PetscFunctionBegin;
  if (e->fp && !e->err && fflush(e->fp)) e->err = errno ? errno : EIO;
  if (e->fp && fclose(e->fp) && !e->err) e->err = errno ? errno : EIO;
  e->fp = NULL;
  PetscCallMPI(MPI_Bcast(&e->err, 1, MPI_INT, 0, comm));
  if (e->err) PetscCall(KDFileDiscard(comm, tmp));
  PetscCheck(!e->err, comm, PETSC_ERR_FILE_WRITE, "cannot write %s: %s", path, strerror(e->err));
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

/* The prefix of the header's macros, name in upper case; name must be a C identifier of 1 to 199 characters. */
static PetscErrorCode KDExportCheckName(MPI_Comm comm, const char name[], char macro[])
{
  size_t len;

  PetscFunctionBegin;
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(len > 0 && len < 200, comm, PETSC_ERR_ARG_WRONG, "-kd_export_name must be 1 to 199 characters");
  for (size_t i = 0; i < len; i++) {
    const char c = name[i];
    PetscCheck((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9'), comm,
               PETSC_ERR_ARG_WRONG, "-kd_export_name %s is not a C identifier", name);
    macro[i] = (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
  }
  macro[len] = 0;
  PetscFunctionReturn(0);
}

/* <name>.h: the interface. */
static PetscErrorCode KDExportWriteHeader(KDEmitter *e, KDNet net, const KDModelInfo *info, KDQuantizedNet q,
                                          const char dir[])
{
  const PetscInt L = net->nlayers, nin = net->widths[0], nout = net->widths[L];
  const char *T = e->prec == KD_PRECISION_F64 ? "double" : "float", *name = e->name, *macro = e->macro;
  char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], file[PETSC_MAX_PATH_LEN];
  PetscInt wmax = 0;

  PetscFunctionBegin;
  for (PetscInt k = 1; k < L; k++) wmax = PetscMax(wmax, net->widths[k]);
  PetscCall(PetscSNPrintf(file, sizeof(file), "%s.h", name));
  PetscCall(KDExportOpen(net->comm, dir, file, path, tmp, &e->fp));
  KDEmitBanner(e, net, info, q);
  KDEmit(e, "#ifndef %s_H\n#define %s_H\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", macro, macro);
  KDEmit(e, "#define %s_NIN %d   /* inputs: %s */\n", macro, (int) nin, info->inputs);
  KDEmit(e, "#define %s_NOUT %d  /* outputs: %s */\n", macro, (int) nout, info->outputs);
  KDEmit(e, "#define %s_PRECISION \"%s\"\n", macro, KDPrecisions[e->prec]);
  {
    const PetscInt rsz = e->prec == KD_PRECISION_F64 ? 8 : 4, asz = rsz;
    KDEmit(e, "/* stack used by one call: at most about %d bytes */\n",
           (int) (KD_EXPORT_BLOCK * (nin * rsz + 2 * wmax * asz) + KD_EXPORT_TAIL_BLOCK * (nin + nout) * rsz));
  }
  KDEmit(e, "extern const %s %s_input_lo[%d], %s_input_hi[%d];\n\n", T, name, (int) nin, name, (int) nin);
  KDEmit(e, "/* The model's outputs at n points: x[p * %s_NIN + i] (physical units) -> y[o * n + p].\n", macro);
  KDEmit(e,
         "   Reentrant (no allocation, no global mutable state): threads may evaluate disjoint parts of a batch. */\n");
  KDEmit(e, "void %s_eval(int n, const %s *x, %s *y);\n\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n", name, T, T);
  PetscCall(KDExportClose(net->comm, e, path, tmp));
  PetscFunctionReturn(0);
}

/* The input box, <name>_input_lo and <name>_input_hi. */
static void KDEmitInputBox(KDEmitter *e, KDNet net)
{
  const PetscInt nin = net->widths[0];
  const char *T = e->prec == KD_PRECISION_F64 ? "double" : "float", *name = e->name;
  KDEmitter ef = *e; /* box bounds are always in the interface type */

  ef.prec = e->prec == KD_PRECISION_F64 ? KD_PRECISION_F64 : KD_PRECISION_F32;
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
  if (!e->err) e->err = ef.err;
}

/* The weights and biases of every layer, the output scaling folded into the last; for int8, the integer weights of
   layers 1 .. L-1 and their dequantization. */
static PetscErrorCode KDEmitLayerParameters(KDEmitter *e, KDNet net, KDQuantizedNet q)
{
  const PetscInt L = net->nlayers, nout = net->widths[L];

  PetscFunctionBegin;
  if (e->prec != KD_PRECISION_INT8) KDEmitRealArray(e, "scale", nout, net->scale);
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt in = net->widths[k], out = net->widths[k + 1];
    /* int8: the first layer as the calibration left it (KDQuantizedNetCreate() with a search may move it) */
    const PetscReal *params = e->prec == KD_PRECISION_INT8 ? q->params : net->params;
    const PetscReal *W = params + net->woff[k], *b = params + net->boff[k];
    char label[32];
    if (e->prec == KD_PRECISION_INT8 && k > 0) {
      PetscReal *S, *C;
      PetscCall(PetscMalloc2(out, &S, out, &C));
      (void) PetscSNPrintf(label, sizeof(label), "W%d", (int) k);
      KDEmitInt8Array(e, label, in * out, q->wq + q->qoff[k]);
      /* dequantization folded into one scale and one offset per output: hidden z = S acc + b; output y = S acc + c
         with the output scaling included */
      for (PetscInt o = 0; o < out; o++) {
        const PetscReal s = q->S[q->soff[k] + o];
        S[o]              = k == L - 1 ? net->scale[o] * s : s;
        C[o]              = k == L - 1 ? net->scale[o] * q->bq[q->soff[k] + o] + net->shift[o] : q->bq[q->soff[k] + o];
      }
      (void) PetscSNPrintf(label, sizeof(label), "S%d", (int) k);
      KDEmitRealArray(e, label, out, S);
      (void) PetscSNPrintf(label, sizeof(label), "c%d", (int) k);
      KDEmitRealArray(e, label, out, C);
      PetscCall(PetscFree2(S, C));
    } else {
      (void) PetscSNPrintf(label, sizeof(label), "W%d", (int) k);
      KDEmitRealArray(e, label, in * out, W);
      if (k == L - 1) {
        PetscReal C[KD_NET_MAX_OUT];
        /* the library's form: y = s z + (s b + shift) */
        for (PetscInt o = 0; o < out; o++) C[o] = net->scale[o] * b[o] + net->shift[o];
        (void) PetscSNPrintf(label, sizeof(label), "c%d", (int) k);
        KDEmitRealArray(e, label, out, C);
      } else {
        (void) PetscSNPrintf(label, sizeof(label), "b%d", (int) k);
        KDEmitRealArray(e, label, out, b);
      }
    }
  }
  PetscFunctionReturn(0);
}

/* The clamp of the pre-activation of each unit (bits of a positive float): the range of the float activation
   (tanh 7.9, isru 1e4), or less where act(z) inv reaches lmax + 1/4 first, so that the level needs no clamp of
   its own: up to the bound the level is round(act(z) inv) <= lmax, the scheme's; beyond it the scheme clips to
   lmax, and the kernel's act(bound) inv = lmax + 1/4 (to 4e-7 relative) rounds to lmax too. The bound is the
   inverse: atanh(r), or r / sqrt(1 - r^2) for isru. */
static void KDEmitClampBounds(KDEmitter *e, KDNet net, KDQuantizedNet q, PetscInt k, const PetscReal inv[])
{
  const char *name           = e->name;
  const KDActivationOps *ops = &KDActivationTable[net->activation];
  const double range         = ops->range;

  KDEmit(e,
         "/* clamp of the pre-activation of each input unit of layer %d (float bits): %s(bound) / scale <= %d "
         "+ 1/4 */\n",
         (int) k, KDActivations[net->activation], (int) q->lmax);
  KDEmit(e, "static const uint32_t %s_zlim%d[%d] = {", name, (int) k, (int) net->widths[k]);
  for (PetscInt i = 0; i < net->widths[k]; i++) {
    const float invf = (float) inv[i];
    const double r = (q->lmax + 0.25) / (double) invf, bound = r < 1.0 ? (double) ops->inverse(r) : range;
    float zl = (float) range;
    uint32_t zb;
    if (bound < range) zl = (float) bound;
    memcpy(&zb, &zl, sizeof(zb));
    KDEmit(e, "%s0x%08xu", i % 6 ? ", " : (i ? ",\n  " : "\n  "), (unsigned) zb);
  }
  KDEmit(e, "};\n");
}

/* int8: the inverse activation scale of each input of layers 1 .. L-1 and, for a bounded activation, the clamp of its
   pre-activation. */
static PetscErrorCode KDEmitActivationScales(KDEmitter *e, KDNet net, KDQuantizedNet q)
{
  const PetscInt L = net->nlayers;

  PetscFunctionBegin;
  for (PetscInt k = 1; k < L; k++) {
    PetscReal *inv;
    char label[32];
    PetscCall(PetscMalloc1(net->widths[k], &inv));
    for (PetscInt i = 0; i < net->widths[k]; i++) inv[i] = 1.0 / q->sa[q->aoff[k] + i];
    KDEmit(e, "/* 1 / activation scale of each input of layer %d (%s) */\n", (int) k,
           q->mode == KD_INT8_SCALE_LAYER ? "one per layer" : "one per unit");
    (void) PetscSNPrintf(label, sizeof(label), "inv%d", (int) k);
    KDEmitRealArray(e, label, net->widths[k], inv);
    if (KDActivationClamped(net->activation)) KDEmitClampBounds(e, net, q, k, inv);
    PetscCall(PetscFree(inv));
  }
  PetscFunctionReturn(0);
}

/* <name>_eval: whole blocks, then the rest in tail blocks padded with their last point. */
static void KDEmitEvaluate(KDEmitter *e, KDNet net)
{
  const PetscInt nin = net->widths[0], nout = net->widths[net->nlayers];
  const char *T = e->prec == KD_PRECISION_F64 ? "double" : "float", *name = e->name;

  KDEmit(e, "void %s_eval(int n, const %s *x, %s *y)\n{\n", name, T, T);
  KDEmit(e, "  %s xb[%d], yb[%d];\n  int p0 = 0, p, i, o;\n\n", T, (int) (KD_EXPORT_TAIL_BLOCK * nin),
         (int) (KD_EXPORT_TAIL_BLOCK * nout));
  KDEmit(e, "  for (; p0 + %d <= n; p0 += %d) %s_block(x + (long)p0 * %d, y + p0, n);\n", KD_EXPORT_BLOCK,
         KD_EXPORT_BLOCK, name, (int) nin);
  KDEmit(e, "  for (; p0 < n; p0 += %d) {\n", KD_EXPORT_TAIL_BLOCK);
  KDEmit(e, "    const int m = n - p0 < %d ? n - p0 : %d;\n", KD_EXPORT_TAIL_BLOCK, KD_EXPORT_TAIL_BLOCK);
  KDEmit(e, "    /* a short block: pad with its last point, keep the first m results */\n");
  KDEmit(e,
         "    for (p = 0; p < %d; p++)\n      for (i = 0; i < %d; i++) xb[p * %d + i] = x[(long)(p0 + (p < m ? p : m - "
         "1)) * %d + i];\n",
         KD_EXPORT_TAIL_BLOCK, (int) nin, (int) nin, (int) nin);
  KDEmit(e, "    %s_tail(xb, yb, %d);\n", name, KD_EXPORT_TAIL_BLOCK);
  KDEmit(
      e,
      "    for (o = 0; o < %d; o++)\n      for (p = 0; p < m; p++) y[(long)o * n + p0 + p] = yb[o * %d + p];\n  }\n}\n",
      (int) nout, KD_EXPORT_TAIL_BLOCK);
}

/* <name>.c: the parameters, the activation, the block kernels and <name>_eval. */
static PetscErrorCode KDExportWriteSource(KDEmitter *e, KDNet net, const KDModelInfo *info, KDQuantizedNet q,
                                          const char dir[])
{
  const char *name = e->name, *macro = e->macro;
  char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], file[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(file, sizeof(file), "%s.c", name));
  PetscCall(KDExportOpen(net->comm, dir, file, path, tmp, &e->fp));
  KDEmitBanner(e, net, info, q);
  KDEmit(e, "#include \"%s.h\"\n#include <math.h>\n#include <stdint.h>\n#include <string.h>\n\n", name);
  /* GCC -O3 unrolls a loop of a few iterations with a small body completely before the vectorizer sees it (the
     straight-line code is then vectorized or not as a basic block); the tail block's loops of 8 points stay loops. */
  KDEmit(e,
         "/* the short loops of the tail block stay loops for the vectorizer (GCC -O3 would unroll them first) */\n"
         "#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8\n#define %s_LOOP _Pragma(\"GCC unroll 1\")\n"
         "#else\n#define %s_LOOP\n#endif\n\n",
         macro, macro);
  KDEmitInputBox(e, net);
  PetscCall(KDEmitLayerParameters(e, net, q));
  if (e->prec == KD_PRECISION_INT8) PetscCall(KDEmitActivationScales(e, net, q));
  KDEmit(e, "\n");
  KDEmitActivation(e, net->activation, q ? q->lmax : 0);
  PetscCall(KDEmitBlock(e, net, q, KD_EXPORT_BLOCK, "block"));
  PetscCall(KDEmitBlock(e, net, q, KD_EXPORT_TAIL_BLOCK, "tail"));
  KDEmitEvaluate(e, net);
  PetscCall(KDExportClose(net->comm, e, path, tmp));
  PetscFunctionReturn(0);
}

/* <name>_main.c: a tiny example. */
static PetscErrorCode KDExportWriteExample(KDEmitter *e, KDNet net, const KDModelInfo *info, const char dir[])
{
  const PetscInt nin = net->widths[0];
  const char *T = e->prec == KD_PRECISION_F64 ? "double" : "float", *name = e->name, *macro = e->macro;
  char path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], file[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(file, sizeof(file), "%s_main.c", name));
  PetscCall(KDExportOpen(net->comm, dir, file, path, tmp, &e->fp));
  KDEmit(e, "/* Example: evaluates %s at the centre and the corners of its input box.\n", name);
  KDEmit(e, "   Build: cc -std=c99 -O2 %s_main.c %s.c -lm -o %s_main   (add -O3 -march=native for speed) */\n", name,
         name, name);
  KDEmit(e, "#include \"%s.h\"\n#include <stdio.h>\n\nint main(void)\n{\n", name);
  KDEmit(e, "  %s x[%d * %s_NIN], y[%d * %s_NOUT];\n  int n = 0, c, i, o, p;\n\n", T, (1 << nin) + 1, macro,
         (1 << nin) + 1, macro);
  KDEmit(e, "  for (i = 0; i < %s_NIN; i++) x[i] = (%s)0.5 * (%s_input_lo[i] + %s_input_hi[i]);\n", macro, T, name,
         name);
  KDEmit(e, "  n = 1;\n  for (c = 0; c < (1 << %s_NIN); c++, n++)\n", macro);
  KDEmit(e, "    for (i = 0; i < %s_NIN; i++) x[n * %s_NIN + i] = (c >> i) & 1 ? %s_input_hi[i] : %s_input_lo[i];\n",
         macro, macro, name, name);
  KDEmit(e, "  %s_eval(n, x, y);\n", name);
  KDEmit(e, "  printf(\"%s (%%s): %s -> %s\\n\", %s_PRECISION);\n", name, info->inputs, info->outputs, macro);
  KDEmit(e,
         "  for (p = 0; p < n; p++) {\n    for (i = 0; i < %s_NIN; i++) printf(\"%%s%%.6g\", i ? \" \" : \"\", "
         "(double)x[p * %s_NIN + i]);\n",
         macro, macro);
  KDEmit(e,
         "    printf(\" ->\");\n    for (o = 0; o < %s_NOUT; o++) printf(\" %%.9g\", (double)y[o * n + p]);\n    "
         "printf(\"\\n\");\n  }\n",
         macro);
  KDEmit(e, "  return 0;\n}\n");
  PetscCall(KDExportClose(net->comm, e, path, tmp));
  PetscFunctionReturn(0);
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
  char macro[256];
  KDEmitter e;
  PetscLogEvent event;

  PetscFunctionBegin;
  PetscCheck(net->setupcalled, net->comm, PETSC_ERR_ARG_WRONGSTATE, "KDExportWrite() needs a set-up network");
  PetscCheck(!net->addend[0], net->comm, PETSC_ERR_SUP,
             "KDExportWrite(): the network carries the output addend '%s', which the exported C code does not compute",
             net->addend);
  PetscCheck(!net->factor[0], net->comm, PETSC_ERR_SUP,
             "KDExportWrite(): the network carries the output factor '%s', which the exported C code does not compute",
             net->factor);
  PetscCheck(!net->features[0], net->comm, PETSC_ERR_SUP,
             "KDExportWrite(): the network reads the input features '%s', which the exported C code does not compute",
             net->features);
  PetscCheck(precision != KD_PRECISION_INT8 || q, net->comm, PETSC_ERR_ARG_NULL,
             "int8 export needs the quantized network");
  PetscCall(KDExportCheckName(net->comm, name, macro));
  PetscCall(KDExportLogEventsGet_Private(NULL, &event));
  PetscCall(PetscLogEventBegin(event, 0, 0, 0, 0));
  e.err   = 0;
  e.prec  = precision;
  e.name  = name;
  e.macro = macro;
  PetscCall(KDExportWriteHeader(&e, net, info, q, dir));
  PetscCall(KDExportWriteSource(&e, net, info, q, dir));
  PetscCall(KDExportWriteExample(&e, net, info, dir));
  PetscCall(PetscLogEventEnd(event, 0, 0, 0, 0));
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
  PetscInt dim, cells[KD_MAX_DIM], map[KD_NET_MAX_IN], total = 1, nlevels;
  PetscInt64 *idx;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  PetscCheck(level >= 0 && level < nlevels, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " is not a level of the reference (it has %" PetscInt_FMT ")", level, nlevels);
  PetscCall(KDReferenceGetLevelGrid(ref, level, &dim, cells, NULL, NULL));
  PetscCheck(dim == nin, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP,
             "the reference has %" PetscInt_FMT " axes, the model %" PetscInt_FMT " inputs (%s)", dim, nin,
             info->inputs);
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
