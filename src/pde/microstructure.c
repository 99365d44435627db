/* Microstructure descriptions: the smooth inclusion conductivity k(x,y) of the heat problem, read from a small text
   file (meshes/) or from the string a reference file stores, so that later stages need no meshes/ file. */
#include "pde/heat.h"
#include "sys/kdio.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KD_MICROSTRUCTURE_LINE 1024
/* A description is a few lines; anything much larger is not a microstructure file. */
#define KD_MICROSTRUCTURE_FILE_MAX (1 << 20)
/* k > 0 is checked on a (KD_MICROSTRUCTURE_SAMPLES + 1)^2 grid of the unit square */
#define KD_MICROSTRUCTURE_SAMPLES 128

/* Reads the next whitespace-separated number at *s; PETSC_FALSE if there is none or it runs into other text. */
static PetscBool KDParseReal(char **s, PetscReal *v)
{
  char *end;
  double d;

  while (**s == ' ' || **s == '\t' || **s == '\r') (*s)++;
  if (!**s) return PETSC_FALSE;
  errno = 0;
  d     = strtod(*s, &end);
  if (end == *s || errno == ERANGE || !isfinite(d)) return PETSC_FALSE;
  if (*end && *end != ' ' && *end != '\t' && *end != '\r') return PETSC_FALSE;
  *s = end;
  *v = (PetscReal) d;
  return PETSC_TRUE;
}

static PetscBool KDLineRestIsEmpty(const char *s)
{
  while (*s == ' ' || *s == '\t' || *s == '\r') s++;
  return *s ? PETSC_FALSE : PETSC_TRUE;
}

/* The one parser behind files and stored strings. Every rank parses the same text, so errors are raised
   collectively on comm. source names the text in error messages (a file name). */
static PetscErrorCode KDMicrostructureParse(MPI_Comm comm, const char text[], const char source[], KDMicrostructure *m)
{
  const char *p    = text;
  PetscInt lineno  = 0;
  PetscBool havek0 = PETSC_FALSE;
  char line[KD_MICROSTRUCTURE_LINE];

  PetscFunctionBegin;
  PetscCall(PetscMemzero(m, sizeof(*m)));
  while (*p) {
    const char *eol = strchr(p, '\n');
    size_t len      = eol ? (size_t) (eol - p) : strlen(p);
    char *s, *hash;

    lineno++;
    PetscCheck(len < sizeof(line), comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure %s line %" PetscInt_FMT ": line too long", source, lineno);
    memcpy(line, p, len);
    line[len] = 0;
    p         = eol ? eol + 1 : p + len;
    if ((hash = strchr(line, '#'))) *hash = 0;
    s = line;
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    if (!*s) continue;
    if (!strncmp(s, "k0", 2) && (s[2] == ' ' || s[2] == '\t')) {
      PetscReal k0;
      s += 2;
      PetscCheck(!havek0, comm, PETSC_ERR_FILE_UNEXPECTED, "microstructure %s line %" PetscInt_FMT ": k0 given twice",
                 source, lineno);
      PetscCheck(KDParseReal(&s, &k0) && KDLineRestIsEmpty(s), comm, PETSC_ERR_FILE_UNEXPECTED,
                 "microstructure %s line %" PetscInt_FMT ": expected 'k0 <value>'", source, lineno);
      PetscCheck(k0 > 0, comm, PETSC_ERR_FILE_UNEXPECTED,
                 "microstructure %s line %" PetscInt_FMT ": k0 must be positive, got %g", source, lineno, (double) k0);
      m->k0  = k0;
      havek0 = PETSC_TRUE;
    } else {
      PetscReal v[4];
      PetscInt q;
      for (q = 0; q < 4; q++)
        if (!KDParseReal(&s, &v[q])) break;
      PetscCheck(q == 4 && KDLineRestIsEmpty(s), comm, PETSC_ERR_FILE_UNEXPECTED,
                 "microstructure %s line %" PetscInt_FMT
                 ": expected 'k0 <value>' or an inclusion 'x y r c' (4 numbers)",
                 source, lineno);
      PetscCheck(m->n < KD_MICROSTRUCTURE_MAX, comm, PETSC_ERR_FILE_UNEXPECTED,
                 "microstructure %s line %" PetscInt_FMT ": more than %d inclusions", source, lineno,
                 KD_MICROSTRUCTURE_MAX);
      PetscCheck(v[2] > 0, comm, PETSC_ERR_FILE_UNEXPECTED,
                 "microstructure %s line %" PetscInt_FMT ": inclusion radius r must be positive, got %g", source,
                 lineno, (double) v[2]);
      /* c > -1 keeps a single inclusion from driving k to zero; overlapping ones are checked on the grid by the solver
       */
      PetscCheck(v[3] > -1, comm, PETSC_ERR_FILE_UNEXPECTED,
                 "microstructure %s line %" PetscInt_FMT ": inclusion contrast c must be > -1 (k > 0), got %g", source,
                 lineno, (double) v[3]);
      m->x[m->n] = v[0];
      m->y[m->n] = v[1];
      m->r[m->n] = v[2];
      m->c[m->n] = v[3];
      m->n++;
    }
  }
  PetscCheck(havek0, comm, PETSC_ERR_FILE_UNEXPECTED, "microstructure %s: no 'k0 <value>' line", source);
  /* c > -1 does not keep overlapping inclusions of negative contrast from driving k to zero: sample the unit square
     (the solver checks again at the faces of its grid) */
  for (PetscInt j = 0; j <= KD_MICROSTRUCTURE_SAMPLES; j++) {
    for (PetscInt i = 0; i <= KD_MICROSTRUCTURE_SAMPLES; i++) {
      const PetscReal x = (PetscReal) i / KD_MICROSTRUCTURE_SAMPLES, y = (PetscReal) j / KD_MICROSTRUCTURE_SAMPLES;
      PetscReal k;
      KDMicrostructureEvaluate(m, x, y, &k, NULL);
      PetscCheck(k > 0, comm, PETSC_ERR_FILE_UNEXPECTED,
                 "microstructure %s: k = %g <= 0 at (%g, %g): overlapping inclusions of negative contrast", source,
                 (double) k, (double) x, (double) y);
    }
  }
  PetscFunctionReturn(0);
}

/*@C
  KDMicrostructureLoad - Reads a microstructure description file (format: src/pde/heat.h, docs/solvers.md).

  Collective: rank 0 reads the file and broadcasts its text; every rank parses it.

  Input Parameters:
+ comm - communicator
- path - the file

  Output Parameter:
. m - the microstructure

  Errors name the file and the line: a missing file, a malformed line, k0 <= 0, r <= 0, c <= -1.

.seealso: KDMicrostructureFromString(), KDMicrostructureToString(), KDMicrostructureEvaluate()
@*/
PetscErrorCode KDMicrostructureLoad(MPI_Comm comm, const char path[], KDMicrostructure *m)
{
  PetscMPIInt rank;
  long len   = 0; /* file length, or -errno on rank 0's failure to read it */
  char *text = NULL;

  PetscFunctionBegin;
  PetscCheck(path && path[0], comm, PETSC_ERR_ARG_WRONG, "microstructure file name is empty");
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
      len = -(long) errno;
    else {
      if (fseek(fp, 0, SEEK_END) || (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET))
        len = -(long) (errno ? errno : EIO);
      else if (len > KD_MICROSTRUCTURE_FILE_MAX)
        len = -(long) EFBIG;
      else {
        PetscCall(PetscMalloc1(len + 1, &text));
        if (fread(text, 1, (size_t) len, fp) != (size_t) len) len = -(long) EIO;
      }
      (void) fclose(fp);
    }
  }
  PetscCallMPI(MPI_Bcast(&len, 1, MPI_LONG, 0, comm));
  if (len < 0) PetscCall(PetscFree(text));
  PetscCheck(len >= 0, comm, PETSC_ERR_FILE_OPEN, "cannot read microstructure file %s: %s", path, strerror((int) -len));
  if (rank) PetscCall(PetscMalloc1(len + 1, &text));
  PetscCallMPI(MPI_Bcast(text, (PetscMPIInt) len, MPI_CHAR, 0, comm));
  text[len] = 0;
  PetscCheck(strlen(text) == (size_t) len, comm, PETSC_ERR_FILE_UNEXPECTED, "microstructure file %s is not a text file",
             path);
  PetscCall(KDMicrostructureParse(comm, text, path, m));
  PetscCall(PetscFree(text));
  PetscFunctionReturn(0);
}

/*@C
  KDMicrostructureToString - Writes a microstructure in the file format, every number in the shortest form that reads
  back exactly, so that KDMicrostructureFromString() gives back the same k(x,y) bit for bit.

  Not collective

  Input Parameters:
+ m   - the microstructure
- len - size of str (64 + 104 per inclusion always suffices)

  Output Parameter:
. str - the text

.seealso: KDMicrostructureFromString()
@*/
PetscErrorCode KDMicrostructureToString(const KDMicrostructure *m, char str[], size_t len)
{
  char v[4][32];
  size_t used;
  int w;

  PetscFunctionBegin;
  KDFormatReal(m->k0, v[0]);
  w = snprintf(str, len, "k0 %s\n", v[0]);
  PetscCheck(w > 0 && (size_t) w < len, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
             "microstructure string buffer too small (%zu bytes)", len);
  used = (size_t) w;
  for (PetscInt i = 0; i < m->n; i++) {
    KDFormatReal(m->x[i], v[0]);
    KDFormatReal(m->y[i], v[1]);
    KDFormatReal(m->r[i], v[2]);
    KDFormatReal(m->c[i], v[3]);
    w = snprintf(str + used, len - used, "%s %s %s %s\n", v[0], v[1], v[2], v[3]);
    PetscCheck(w > 0 && (size_t) w < len - used, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
               "microstructure string buffer too small (%zu bytes)", len);
    used += (size_t) w;
  }
  PetscFunctionReturn(0);
}

/*@C
  KDMicrostructureFromString - Parses a microstructure from text in the file format, e.g. the "microstructure"
  string attribute of reference.h5.

  Not collective

  Input Parameter:
. str - the text

  Output Parameter:
. m - the microstructure

.seealso: KDMicrostructureToString(), KDMicrostructureLoad()
@*/
PetscErrorCode KDMicrostructureFromString(const char str[], KDMicrostructure *m)
{
  PetscFunctionBegin;
  PetscCheck(str, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "microstructure string is NULL");
  PetscCall(KDMicrostructureParse(PETSC_COMM_SELF, str, "(stored string)", m));
  PetscFunctionReturn(0);
}

/*@C
  KDMicrostructureEvaluate - Conductivity k(x,y) and its gradient.

  Not collective

  Input Parameters:
+ m    - the microstructure
. x, y - the point

  Output Parameters:
+ k     - k(x,y)
- gradk - (dk/dx, dk/dy), may be NULL

.seealso: KDHeatProblemCoefficients()
@*/
void KDMicrostructureEvaluate(const KDMicrostructure *m, PetscReal x, PetscReal y, PetscReal *k, PetscReal gradk[2])
{
  PetscReal s = 1, sx = 0, sy = 0;

  for (PetscInt i = 0; i < m->n; i++) {
    const PetscReal dx = x - m->x[i], dy = y - m->y[i], ir2 = 1 / (m->r[i] * m->r[i]);
    const PetscReal ce = m->c[i] * PetscExpReal(-(dx * dx + dy * dy) * ir2);
    s += ce;
    sx -= 2 * dx * ir2 * ce;
    sy -= 2 * dy * ir2 * ce;
  }
  *k = m->k0 * s;
  if (gradk) {
    gradk[0] = m->k0 * sx;
    gradk[1] = m->k0 * sy;
  }
}
