/*
  Two-phase periodic microstructures of the composite conduction problem (src/pde/conduction.h): the phase indicator
  of one period cell (laminate, checkerboard, random disks, a PGM image), the conductivity it gives on the domain, the
  bounds on the effective conductivity, and the exact text form a reference file stores.
*/
#include "pde/conduction.h"
#include "sys/kdio.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const KDCompositeTypes[] = {"laminate",        "checkerboard",  "disks", "image",
                                        "KDCompositeType", "KD_COMPOSITE_", NULL};

/* A PGM of at most 256 x 256 pixels takes < 400 KB even as text (P2); anything much larger is not one of ours. */
#define KD_COMPOSITE_FILE_MAX (4 << 20)
/* Random sequential addition of the disks: tries per disk, and fresh restarts of the whole placement. */
#define KD_COMPOSITE_DISK_TRIES 2000
#define KD_COMPOSITE_DISK_ATTEMPTS 10
/* The smallest gap between two disks, in cell units: a tenth of the radius, plus four interface widths so that the
   smoothed disks stay apart (the indicator halfway between two disks is then below 0.02). */
#define KD_COMPOSITE_DISK_GAP(r, wc) (0.1 * (r) + 4 * (wc))
/* The random stream of the disks, apart from the training's streams of the same seed. */
#define KD_COMPOSITE_DISK_STREAM 0x4b44434fLL

/* v for a message, as the user wrote it: -1 and 0.3 (PETSc's %g prints -1. and 0.3) */
static const char *KDNum(PetscReal v, char buf[32])
{
  KDFormatReal(v, buf);
  return buf;
}

/* ---------------------------------------------------------------------------------------------------------------
   Geometry
   --------------------------------------------------------------------------------------------------------------- */

/* Signed distance (cell units) to the nearest edge of the interval [a, a + len) of the periodic unit interval,
   positive inside it, and its derivative. */
static PetscReal KDIntervalDistance(PetscReal s, PetscReal a, PetscReal len, PetscReal *dd)
{
  PetscReal r = s - a; /* position relative to the interval's start, in [0, 1) */

  r -= PetscFloorReal(r);
  if (r < len) {
    *dd = r < len - r ? 1 : -1;
    return PetscMin(r, len - r);
  }
  *dd = r - len < 1 - r ? -1 : 1;
  return -PetscMin(r - len, 1 - r);
}

/* Periodic difference s - c wrapped to [-1/2, 1/2). */
static PetscReal KDWrap(PetscReal d)
{
  return d - PetscFloorReal(d + 0.5);
}

static PetscReal KDTanh(PetscReal z, PetscReal *sech2)
{
  const PetscReal t = PetscTanhReal(z);
  *sech2            = 1 - t * t;
  return t;
}

/*@C
  KDCompositeCellIndicator - The phase-2 indicator chi of the period cell and its gradient along the cell coordinates.

  Not collective

  Input Parameters:
+ ms   - the microstructure (set up)
- s, t - the point of the cell, in [0, 1)^2 (other values are wrapped)

  Output Parameters:
+ chi  - 1 in phase 2, 0 in phase 1; in between across a smoothed interface
- grad - (dchi/ds, dchi/dt), may be NULL; zero for sharp interfaces

  Notes:
  Sharp (width 0): the phase test of src/pde/conduction.h. Smooth: chi = (1 + tanh(d / w)) / 2, d the signed distance
  to the interface in domain units (cell distance times eps), positive in phase 2: for a laminate the distance to the
  nearest layer edge, for disks r minus the distance to the nearest centre (periodic). The checkerboard uses the
  product form chi = (1 - tanh(sx / w) tanh(sy / w)) / 2, sx and sy the signed distances (domain units) to the
  nearest lines s, t in {0, 1/2} of the half-period lattice, positive below 1/2: its limit w -> 0 is the sharp
  checkerboard, and it is smooth across the corners where four squares meet.

.seealso: KDCompositeEvaluate()
@*/
void KDCompositeCellIndicator(const KDComposite *ms, PetscReal s, PetscReal t, PetscReal *chi, PetscReal gradout[2])
{
  PetscReal grad[2];
  const PetscReal scale = ms->width > 0 ? ms->eps / ms->width : 0; /* cell distance -> argument of tanh */

  s -= PetscFloorReal(s);
  t -= PetscFloorReal(t);
  if (s >= 1) s = 0; /* s = -1e-20 wraps to 1 - 1e-20 = 1 */
  if (t >= 1) t = 0;
  grad[0] = grad[1] = 0;
  switch (ms->type) {
  case KD_COMPOSITE_LAMINATE: {
    const PetscReal r = ms->orientation ? t : s;
    if (!(ms->width > 0))
      *chi = r < ms->fraction ? 1 : 0;
    else {
      PetscReal dd, sech2;
      const PetscReal d             = KDIntervalDistance(r, 0, ms->fraction, &dd);
      const PetscReal th            = KDTanh(d * scale, &sech2);
      *chi                          = (1 + th) / 2;
      grad[ms->orientation ? 1 : 0] = sech2 / 2 * scale * dd;
    }
  } break;
  case KD_COMPOSITE_CHECKERBOARD:
    if (!(ms->width > 0))
      *chi = (s < 0.5) != (t < 0.5) ? 1 : 0;
    else {
      PetscReal dx, dy, sx2, sy2;
      const PetscReal tx = KDTanh(KDIntervalDistance(s, 0, 0.5, &dx) * scale, &sx2);
      const PetscReal ty = KDTanh(KDIntervalDistance(t, 0, 0.5, &dy) * scale, &sy2);
      *chi               = (1 - tx * ty) / 2;
      grad[0]            = -sx2 * scale * dx * ty / 2;
      grad[1]            = -sy2 * scale * dy * tx / 2;
    }
    break;
  case KD_COMPOSITE_DISKS: {
    PetscReal best = PETSC_MAX_REAL, bx = 0, by = 0;
    for (PetscInt i = 0; i < ms->ndisks; i++) {
      const PetscReal dx = KDWrap(s - ms->disk[2 * i]), dy = KDWrap(t - ms->disk[2 * i + 1]);
      const PetscReal r2 = dx * dx + dy * dy;
      if (r2 < best) {
        best = r2;
        bx   = dx;
        by   = dy;
      }
    }
    best = PetscSqrtReal(best);
    if (!(ms->width > 0))
      *chi = best < ms->radius ? 1 : 0;
    else {
      PetscReal sech2;
      const PetscReal th = KDTanh((ms->radius - best) * scale, &sech2);
      *chi               = (1 + th) / 2;
      if (best > 0) {
        grad[0] = -sech2 / 2 * scale * bx / best;
        grad[1] = -sech2 / 2 * scale * by / best;
      }
    }
  } break;
  case KD_COMPOSITE_IMAGE: {
    PetscInt col = (PetscInt) (s * ms->nx), row = ms->ny - 1 - (PetscInt) (t * ms->ny);
    col  = PetscMin(PetscMax(col, 0), ms->nx - 1);
    row  = PetscMin(PetscMax(row, 0), ms->ny - 1);
    *chi = ms->pixel ? ms->pixel[row * ms->nx + col] : 0;
  } break;
  }
  if (gradout) {
    gradout[0] = grad[0];
    gradout[1] = grad[1];
  }
}

/*@C
  KDCompositeEvaluate - The conductivity k(x, y) = k1 + (k2 - k1) chi(frac(x / eps), frac(y / eps)) on the domain,
  and its gradient.

  Not collective

  Input Parameters:
+ ms   - the microstructure (set up)
- x, y - the point

  Output Parameters:
+ k     - the conductivity
- gradk - (dk/dx, dk/dy) (chain rule: the cell gradient over eps); may be NULL; zero for sharp interfaces

.seealso: KDCompositeCellIndicator(), KDConductionProblemData()
@*/
void KDCompositeEvaluate(const KDComposite *ms, PetscReal x, PetscReal y, PetscReal *k, PetscReal gradk[2])
{
  PetscReal chi, g[2];

  KDCompositeCellIndicator(ms, x / ms->eps, y / ms->eps, &chi, g);
  *k = ms->k1 + (ms->k2 - ms->k1) * chi;
  if (gradk) {
    gradk[0] = (ms->k2 - ms->k1) * g[0] / ms->eps;
    gradk[1] = (ms->k2 - ms->k1) * g[1] / ms->eps;
  }
}

/*@C
  KDCompositeBounds - Bounds on the effective conductivity of an isotropic 2-D composite of the two phases at the
  microstructure's volume fraction.

  Not collective

  Input Parameter:
. ms - the microstructure

  Output Parameters:
+ wiener - the Wiener bounds: wiener[0] the arithmetic mean (upper), wiener[1] the harmonic mean (lower); they bound
           every microstructure, anisotropic ones included
- hs     - the Hashin-Shtrikman bounds (2-D): hs[0] lower, hs[1] upper; they bound isotropic microstructures

  Notes:
  With f2 the fraction of phase 2 and f1 = 1 - f2, for k1 < k2: lower = k1 + f2 / (1/(k2 - k1) + f1/(2 k1)),
  upper = k2 + f1 / (1/(k1 - k2) + f2/(2 k2)); the same two expressions, swapped, for k1 > k2; both k1 if k1 = k2.

.seealso: KDConductionCellProblem()
@*/
void KDCompositeBounds(const KDComposite *ms, PetscReal wiener[2], PetscReal hs[2])
{
  const PetscReal k1 = ms->k1, k2 = ms->k2, f2 = ms->fraction, f1 = 1 - f2;

  wiener[0] = f1 * k1 + f2 * k2;
  wiener[1] = 1 / (f1 / k1 + f2 / k2);
  if (k1 == k2) {
    hs[0] = hs[1] = k1;
    return;
  }
  {
    const PetscReal a = k1 + f2 / (1 / (k2 - k1) + f1 / (2 * k1)), b = k2 + f1 / (1 / (k1 - k2) + f2 / (2 * k2));
    hs[0] = PetscMin(a, b);
    hs[1] = PetscMax(a, b);
  }
}

/* ---------------------------------------------------------------------------------------------------------------
   Set-up: validation, disk placement, images
   --------------------------------------------------------------------------------------------------------------- */

/* The option names of the messages: -<prefix><name>, the conduction PDE's unless the owner set its own. */
static const char *KDCompositePrefix(const KDComposite *ms)
{
  return ms->prefix ? ms->prefix : "conduction_";
}
static const char *KDCompositeTypeOption(const KDComposite *ms)
{
  return ms->typeoption ? ms->typeoption : "microstructure";
}
static const char *KDCompositeSeedOption(const KDComposite *ms)
{
  return ms->seedoption ? ms->seedoption : "seed";
}

/* The checks every description passes, from options or from a stored string. Each error names the option. */
static PetscErrorCode KDCompositeValidate(MPI_Comm comm, const KDComposite *ms)
{
  PetscReal m;
  char v[32];

  PetscFunctionBegin;
  PetscCheck(ms->type >= KD_COMPOSITE_LAMINATE && ms->type <= KD_COMPOSITE_IMAGE, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%s%s: unknown microstructure type %d", KDCompositePrefix(ms), KDCompositeTypeOption(ms), (int) ms->type);
  PetscCheck(ms->k1 > 0 && PetscIsNormalReal(ms->k1), comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sk1 must be positive, got %s",
             KDCompositePrefix(ms), KDNum(ms->k1, v));
  PetscCheck(ms->k2 > 0 && PetscIsNormalReal(ms->k2), comm, PETSC_ERR_ARG_OUTOFRANGE, "-%sk2 must be positive, got %s",
             KDCompositePrefix(ms), KDNum(ms->k2, v));
  if (ms->type != KD_COMPOSITE_IMAGE)
    PetscCheck(ms->fraction > 0 && ms->fraction < 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-%sfraction must be in (0, 1), got %s", KDCompositePrefix(ms), KDNum(ms->fraction, v));
  m = ms->eps > 0 ? PetscFloorReal(1 / ms->eps + 0.5) : 0;
  PetscCheck(ms->eps > 0 && ms->eps <= 1 && m >= 1 && PetscAbsReal(m * ms->eps - 1) <= 1e-12, comm,
             PETSC_ERR_ARG_OUTOFRANGE, "-%seps must be 1/m for an integer m, got %s", KDCompositePrefix(ms),
             KDNum(ms->eps, v));
  PetscCheck(ms->width >= 0 && !PetscIsInfOrNanReal(ms->width), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sinterface_width must be >= 0, got %s", KDCompositePrefix(ms), KDNum(ms->width, v));
  PetscCheck(ms->orientation == 0 || ms->orientation == 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sorientation must be x or y, got %" PetscInt_FMT, KDCompositePrefix(ms), ms->orientation);
  switch (ms->type) {
  case KD_COMPOSITE_CHECKERBOARD:
    PetscCheck(ms->fraction == 0.5, comm, PETSC_ERR_ARG_INCOMP,
               "-%sfraction must be 0.5 for the checkerboard microstructure, got %s", KDCompositePrefix(ms),
               KDNum(ms->fraction, v));
    break;
  case KD_COMPOSITE_DISKS:
    PetscCheck(ms->ndisks >= 1 && ms->ndisks <= KD_COMPOSITE_MAX_DISKS, comm, PETSC_ERR_ARG_OUTOFRANGE,
               "-%sdisks must be in [1, %d], got %" PetscInt_FMT, KDCompositePrefix(ms), KD_COMPOSITE_MAX_DISKS,
               ms->ndisks);
    PetscCheck(ms->seed >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "-%s%s must be >= 0, got %" PetscInt_FMT,
               KDCompositePrefix(ms), KDCompositeSeedOption(ms), ms->seed);
    break;
  case KD_COMPOSITE_IMAGE:
    PetscCheck(ms->width == 0, comm, PETSC_ERR_ARG_INCOMP,
               "-%sinterface_width must be 0 for an image microstructure (sharp pixels), got %s", KDCompositePrefix(ms),
               KDNum(ms->width, v));
    break;
  default:
    break;
  }
  PetscFunctionReturn(0);
}

/* Random sequential addition: each disk at the first uniformly drawn centre that keeps the minimum gap to every disk
   placed before it (periodically); after KD_COMPOSITE_DISK_TRIES misses the whole placement starts again from fresh
   streams. Every draw is KDRandomUniform(seed, stream, index): the same disks on every rank. */
static PetscErrorCode KDCompositePlaceDisks(MPI_Comm comm, KDComposite *ms)
{
  const PetscInt n  = ms->ndisks;
  const PetscReal r = PetscSqrtReal(ms->fraction / (n * PETSC_PI)), gap = KD_COMPOSITE_DISK_GAP(r, ms->width / ms->eps);
  const PetscReal dmin = 2 * r + gap;
  PetscInt placed      = 0;
  char v[32];

  PetscFunctionBegin;
  ms->radius = r;
  PetscCall(PetscArrayzero(ms->disk, 2 * KD_COMPOSITE_MAX_DISKS));
  for (PetscInt attempt = 0; dmin < 1 && attempt < KD_COMPOSITE_DISK_ATTEMPTS && placed < n; attempt++) {
    for (placed = 0; placed < n; placed++) {
      const PetscInt64 stream = KD_COMPOSITE_DISK_STREAM + attempt * KD_COMPOSITE_MAX_DISKS + placed;
      PetscInt draw;
      for (draw = 0; draw < KD_COMPOSITE_DISK_TRIES; draw++) {
        const PetscReal cx = KDRandomUniform(ms->seed, stream, 2 * draw);
        const PetscReal cy = KDRandomUniform(ms->seed, stream, 2 * draw + 1);
        PetscBool ok       = PETSC_TRUE;
        for (PetscInt q = 0; q < placed && ok; q++) {
          const PetscReal dx = KDWrap(cx - ms->disk[2 * q]), dy = KDWrap(cy - ms->disk[2 * q + 1]);
          if (dx * dx + dy * dy < dmin * dmin) ok = PETSC_FALSE;
        }
        if (ok) {
          ms->disk[2 * placed]     = cx;
          ms->disk[2 * placed + 1] = cy;
          break;
        }
      }
      if (draw == KD_COMPOSITE_DISK_TRIES) break;
    }
  }
  PetscCheck(placed == n && (dmin < 1), comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-%sfraction %s is too large for %" PetscInt_FMT
             " disk%s: no placement keeps them apart (radius %.4g, minimum gap %.4g in cell units)",
             KDCompositePrefix(ms), KDNum(ms->fraction, v), n, n > 1 ? "s" : "", (double) r, (double) gap);
  PetscFunctionReturn(0);
}

/* The next header token of a PGM (a decimal integer), skipping whitespace and # comments. */
static PetscBool KDPGMNextInt(const unsigned char *buf, size_t len, size_t *pos, long *v)
{
  size_t p   = *pos;
  long val   = 0;
  int digits = 0;

  for (;;) {
    while (p < len &&
           (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\r' || buf[p] == '\n' || buf[p] == '\v' || buf[p] == '\f'))
      p++;
    if (p < len && buf[p] == '#') {
      while (p < len && buf[p] != '\n') p++;
      continue;
    }
    break;
  }
  while (p < len && buf[p] >= '0' && buf[p] <= '9') {
    if (val < 1000000000L) val = 10 * val + (buf[p] - '0');
    digits++;
    p++;
  }
  if (!digits || (p < len && !(buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\r' || buf[p] == '\n' || buf[p] == '\v' ||
                               buf[p] == '\f' || buf[p] == '#')))
    return PETSC_FALSE;
  *pos = p;
  *v   = val;
  return PETSC_TRUE;
}

/* Parses a PGM (P2 or P5) held in buf into ms->nx, ny, pixel (thresholded at half the maximum grey value) and
   ms->fraction. Every rank parses the same bytes, so errors are collective. */
static PetscErrorCode KDCompositeParsePGM(MPI_Comm comm, const char path[], const unsigned char *buf, size_t len,
                                          KDComposite *ms)
{
  size_t pos = 2;
  long w, h, maxval, count = 0;
  PetscBool binary;

  PetscFunctionBegin;
  PetscCheck(len >= 2 && buf[0] == 'P' && (buf[1] == '2' || buf[1] == '5'), comm, PETSC_ERR_FILE_UNEXPECTED,
             "microstructure image %s: not a PGM file (P2 or P5)", path);
  binary = buf[1] == '5' ? PETSC_TRUE : PETSC_FALSE;
  PetscCheck(
      KDPGMNextInt(buf, len, &pos, &w) && KDPGMNextInt(buf, len, &pos, &h) && KDPGMNextInt(buf, len, &pos, &maxval),
      comm, PETSC_ERR_FILE_UNEXPECTED,
      "microstructure image %s: not a PGM file (P2 or P5): bad header (width, height, maximum grey value)", path);
  PetscCheck(w >= 1 && h >= 1 && w <= KD_COMPOSITE_MAX_PIXELS && h <= KD_COMPOSITE_MAX_PIXELS, comm,
             PETSC_ERR_FILE_UNEXPECTED, "microstructure image %s: %ld x %ld pixels, at least 1 and at most %d per side",
             path, w, h, KD_COMPOSITE_MAX_PIXELS);
  PetscCheck(maxval >= 1 && maxval <= 65535, comm, PETSC_ERR_FILE_UNEXPECTED,
             "microstructure image %s: maximum grey value %ld not in [1, 65535]", path, maxval);
  PetscCall(PetscFree(ms->pixel));
  PetscCall(PetscMalloc1(w * h, &ms->pixel));
  ms->nx = (PetscInt) w;
  ms->ny = (PetscInt) h;
  if (binary) {
    const size_t bytes = maxval < 256 ? 1 : 2, need = (size_t) (w * h) * bytes;
    if (pos >= len || buf[pos] == '#') PetscCall(PetscFree(ms->pixel));
    PetscCheck(pos < len && buf[pos] != '#', comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure image %s: not a PGM file (P2 or P5): no whitespace after the maximum grey value", path);
    pos++; /* the single whitespace character after the maximum grey value */
    if (pos > len || len - pos < need) PetscCall(PetscFree(ms->pixel));
    PetscCheck(pos <= len && len - pos >= need, comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure image %s: truncated: %ld x %ld pixels need %zu bytes of data, the file has %zu", path, w,
               h, need, pos <= len ? len - pos : (size_t) 0);
    for (long q = 0; q < w * h; q++) {
      const long v = bytes == 1 ? buf[pos + q] : 256 * buf[pos + 2 * q] + buf[pos + 2 * q + 1];
      ms->pixel[q] = 2 * v >= maxval ? 1 : 0;
      count += ms->pixel[q];
      if (v > maxval) {
        PetscCall(PetscFree(ms->pixel));
        SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "microstructure image %s: pixel %ld is %ld, above the maximum %ld",
                path, q, v, maxval);
      }
    }
  } else {
    for (long q = 0; q < w * h; q++) {
      long v;
      if (!KDPGMNextInt(buf, len, &pos, &v) || v > maxval) {
        PetscCall(PetscFree(ms->pixel));
        SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED,
                "microstructure image %s: pixel %ld (row %ld, column %ld) is missing, not a number or above the "
                "maximum grey value %ld",
                path, q, q / w, q % w, maxval);
      }
      ms->pixel[q] = 2 * v >= maxval ? 1 : 0;
      count += ms->pixel[q];
    }
  }
  if (count == 0 || count == w * h) PetscCall(PetscFree(ms->pixel));
  PetscCheck(
      count > 0 && count < w * h, comm, PETSC_ERR_FILE_UNEXPECTED,
      "microstructure image %s: every pixel is phase %d (phase 2 is grey >= %ld / 2): an image needs both phases", path,
      count ? 2 : 1, maxval);
  ms->fraction = (PetscReal) count / (PetscReal) (w * h);
  PetscFunctionReturn(0);
}

/* Rank 0 reads the image file and broadcasts its bytes; every rank parses them. */
static PetscErrorCode KDCompositeLoadImage(MPI_Comm comm, KDComposite *ms)
{
  PetscMPIInt rank;
  long len            = 0; /* file length, or -errno on rank 0's failure to read it */
  unsigned char *data = NULL;

  PetscFunctionBegin;
  PetscCheck(ms->source[0], comm, PETSC_ERR_ARG_WRONG, "-%s%s: the image file name is empty", KDCompositePrefix(ms),
             KDCompositeTypeOption(ms));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    FILE *fp = fopen(ms->source, "rb");
    if (!fp)
      len = -(long) errno;
    else {
      if (fseek(fp, 0, SEEK_END) || (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET))
        len = -(long) (errno ? errno : EIO);
      else if (len > KD_COMPOSITE_FILE_MAX)
        len = -(long) EFBIG;
      else {
        PetscCall(PetscMalloc1(len + 1, &data));
        if (fread(data, 1, (size_t) len, fp) != (size_t) len) len = -(long) EIO;
      }
      (void) fclose(fp);
    }
  }
  PetscCallMPI(MPI_Bcast(&len, 1, MPI_LONG, 0, comm));
  if (len < 0) PetscCall(PetscFree(data));
  PetscCheck(len >= 0, comm, PETSC_ERR_FILE_OPEN, "cannot read microstructure image %s: %s", ms->source,
             strerror((int) -len));
  if (rank) PetscCall(PetscMalloc1(len + 1, &data));
  PetscCallMPI(MPI_Bcast(data, (PetscMPIInt) len, MPI_UNSIGNED_CHAR, 0, comm));
  {
    PetscErrorCode ierr = KDCompositeParsePGM(comm, ms->source, data, (size_t) len, ms);
    PetscCall(PetscFree(data));
    PetscCall(ierr);
  }
  PetscFunctionReturn(0);
}

/*@C
  KDCompositeSetUp - Checks a microstructure description and completes it: places the disks, reads the image.

  Collective

  Input Parameters:
+ comm - the communicator (errors are raised on it; an image is read by its rank 0 and broadcast)
- ms   - the description: type, k1, k2, fraction, eps, width, orientation (laminate), ndisks and seed (disks), source
         (image: the PGM file, read unless ms->pixel is already set)

  Output Parameter:
. ms - radius and disk[] (disks), nx, ny, pixel and the measured fraction (image)

  Notes:
  Errors are one line naming the option or the file: k1, k2 > 0; fraction in (0, 1); eps = 1/m for an integer m;
  width >= 0; the checkerboard only at fraction 0.5; an image only sharp, a PGM (P2 or P5) of at most
  KD_COMPOSITE_MAX_PIXELS per side holding both phases; disks that fit. Disks are placed by random sequential addition
  (KDRandomUniform() keyed by the seed), non-overlapping across the periodic cell with a gap of at least 0.1 radius
  plus 4 interface widths.

.seealso: KDCompositeReset(), KDCompositeToString(), KDCompositeCheckGrid()
@*/
PetscErrorCode KDCompositeSetUp(MPI_Comm comm, KDComposite *ms)
{
  PetscFunctionBegin;
  PetscCall(KDCompositeValidate(comm, ms));
  if (ms->type == KD_COMPOSITE_DISKS) PetscCall(KDCompositePlaceDisks(comm, ms));
  if (ms->type == KD_COMPOSITE_IMAGE && !ms->pixel) PetscCall(KDCompositeLoadImage(comm, ms));
  PetscFunctionReturn(0);
}

/*@C
  KDCompositeCheckGrid - Checks that an n x n grid of the unit square resolves the periods of a microstructure: eps n
  must be an integer, so that every period boundary is a grid line and every period holds the same cells.

  Collective

  Input Parameters:
+ comm   - the communicator of the error
. ms     - the microstructure
. n      - cells per axis
- option - what set n, for the message (e.g. "-conduction_n")

.seealso: KDCompositeSetUp()
@*/
PetscErrorCode KDCompositeCheckGrid(MPI_Comm comm, const KDComposite *ms, PetscInt n, const char option[])
{
  const PetscReal p = ms->eps * (PetscReal) n; /* cells per period */
  char v[32];

  PetscFunctionBegin;
  PetscCheck(PetscAbsReal(p - PetscFloorReal(p + 0.5)) <= 1e-9 * PetscMax(1, p) && PetscFloorReal(p + 0.5) >= 1, comm,
             PETSC_ERR_ARG_INCOMP,
             "-%seps %s does not divide the %" PetscInt_FMT "-cell grid of %s: eps N must be an integer",
             KDCompositePrefix(ms), KDNum(ms->eps, v), n, option);
  PetscFunctionReturn(0);
}

/*@C
  KDCompositeReset - Frees what a microstructure owns (the pixels of an image) and clears it.

  Not collective
@*/
PetscErrorCode KDCompositeReset(KDComposite *ms)
{
  PetscFunctionBegin;
  if (!ms) PetscFunctionReturn(0);
  PetscCall(PetscFree(ms->pixel));
  PetscCall(PetscMemzero(ms, sizeof(*ms)));
  PetscFunctionReturn(0);
}

/*@C
  KDCompositeCopy - Copies a microstructure, with a copy of its pixels.

  Not collective

  Input Parameter:
. src - the microstructure

  Output Parameter:
. dst - the copy; must be cleared (zeroed, or KDCompositeReset()) or a microstructure of its own, whose pixels are
        freed

.seealso: KDCompositeReset()
@*/
PetscErrorCode KDCompositeCopy(const KDComposite *src, KDComposite *dst)
{
  PetscFunctionBegin;
  if (src == dst) PetscFunctionReturn(0);
  PetscCall(PetscFree(dst->pixel));
  *dst = *src;
  if (src->pixel) {
    PetscCall(PetscMalloc1(src->nx * src->ny, &dst->pixel));
    PetscCall(PetscArraycpy(dst->pixel, src->pixel, src->nx * src->ny));
  }
  PetscFunctionReturn(0);
}

/*@C
  KDCompositeView - Prints a microstructure in one line.

  Collective on the viewer
@*/
PetscErrorCode KDCompositeView(const KDComposite *ms, PetscViewer viewer)
{
  char what[320] = "";

  PetscFunctionBegin;
  switch (ms->type) {
  case KD_COMPOSITE_LAMINATE:
    PetscCall(PetscSNPrintf(what, sizeof(what), " (layers normal to %s)", ms->orientation ? "y" : "x"));
    break;
  case KD_COMPOSITE_DISKS:
    PetscCall(PetscSNPrintf(what, sizeof(what), " (%" PetscInt_FMT " disks of radius %g, seed %" PetscInt_FMT ")",
                            ms->ndisks, (double) ms->radius, ms->seed));
    break;
  case KD_COMPOSITE_IMAGE:
    PetscCall(PetscSNPrintf(what, sizeof(what), " (%s, %" PetscInt_FMT " x %" PetscInt_FMT " pixels)", ms->source,
                            ms->nx, ms->ny));
    break;
  default:
    break;
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s microstructure%s: k1 = %g, k2 = %g, fraction %g, eps = %g, %s\n",
                                   KDCompositeTypes[ms->type], what, (double) ms->k1, (double) ms->k2,
                                   (double) ms->fraction, (double) ms->eps,
                                   ms->width > 0 ? "smooth interfaces" : "sharp interfaces"));
  if (ms->width > 0) PetscCall(PetscViewerASCIIPrintf(viewer, "  interface width %g\n", (double) ms->width));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------------------------
   Text form
   --------------------------------------------------------------------------------------------------------------- */

/*@C
  KDCompositeToString - The microstructure as text, every number in the shortest form that reads back exactly, so
  that KDCompositeFromString() gives back the same k(x, y) bit for bit (a reference's "microstructure" attribute).

  Not collective

  Input Parameter:
. ms - the microstructure (set up)

  Output Parameter:
. str - the text, to be freed with PetscFree()

  Notes:
  One key per line: type, k1, k2, fraction, eps, interface_width, orientation (x or y), disks, seed, radius; for disks
  one line "disk <cx> <cy>" per disk; for an image "image <nx> <ny>", "source <file>" and ny lines "row <hex>" from the
  top row, 4 pixels per hex digit (most significant bit first, the last digit padded with zeros): at most 256 x 256
  pixels take 17 KB.

.seealso: KDCompositeFromString()
@*/
PetscErrorCode KDCompositeToString(const KDComposite *ms, char **str)
{
  KDText t = {NULL, 0, 0};
  char v[6][32];

  PetscFunctionBegin;
  KDFormatReal(ms->k1, v[0]);
  KDFormatReal(ms->k2, v[1]);
  KDFormatReal(ms->fraction, v[2]);
  KDFormatReal(ms->eps, v[3]);
  KDFormatReal(ms->width, v[4]);
  KDFormatReal(ms->radius, v[5]);
  PetscCall(KDTextAppend(
      &t,
      "type %s\nk1 %s\nk2 %s\nfraction %s\neps %s\ninterface_width %s\norientation %s\ndisks %" PetscInt_FMT
      "\nseed %" PetscInt_FMT "\nradius %s\n",
      KDCompositeTypes[ms->type], v[0], v[1], v[2], v[3], v[4], ms->orientation ? "y" : "x", ms->ndisks, ms->seed,
      v[5]));
  if (ms->type == KD_COMPOSITE_DISKS)
    for (PetscInt i = 0; i < ms->ndisks; i++) {
      KDFormatReal(ms->disk[2 * i], v[0]);
      KDFormatReal(ms->disk[2 * i + 1], v[1]);
      PetscCall(KDTextAppend(&t, "disk %s %s\n", v[0], v[1]));
    }
  if (ms->type == KD_COMPOSITE_IMAGE) {
    PetscCheck(ms->pixel, PETSC_COMM_SELF, PETSC_ERR_ORDER, "image microstructure without pixels: KDCompositeSetUp()");
    PetscCheck(!strchr(ms->source, '\n'), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
               "image file name contains a newline: cannot be stored");
    PetscCall(KDTextAppend(&t, "image %" PetscInt_FMT " %" PetscInt_FMT "\nsource %s\n", ms->nx, ms->ny, ms->source));
    for (PetscInt j = 0; j < ms->ny; j++) {
      char row[KD_COMPOSITE_MAX_PIXELS / 4 + 2];
      PetscInt nd = (ms->nx + 3) / 4;
      for (PetscInt d = 0; d < nd; d++) {
        int nib = 0;
        for (PetscInt b = 0; b < 4; b++) {
          const PetscInt i = 4 * d + b;
          nib              = 2 * nib + (i < ms->nx ? ms->pixel[j * ms->nx + i] : 0);
        }
        row[d] = "0123456789abcdef"[nib];
      }
      row[nd] = 0;
      PetscCall(KDTextAppend(&t, "row %s\n", row));
    }
  }
  *str = t.s;
  PetscFunctionReturn(0);
}

/* A number that is the whole rest of the line */
static PetscBool KDParseRealLine(const char *s, PetscReal *v)
{
  char *end;
  double d;

  errno = 0;
  d     = strtod(s, &end);
  if (end == s || errno == ERANGE || *end) return PETSC_FALSE;
  *v = (PetscReal) d;
  return PETSC_TRUE;
}

/* An integer in [lo, hi] that is the whole rest of the line */
static PetscBool KDParseIntLine(const char *s, long lo, long hi, PetscInt *v)
{
  char *end;
  long d;

  errno = 0;
  d     = strtol(s, &end, 10);
  if (end == s || errno == ERANGE || *end || d < lo || d > hi) return PETSC_FALSE;
  *v = (PetscInt) d;
  return PETSC_TRUE;
}

enum {
  KD_KEY_TYPE,
  KD_KEY_K1,
  KD_KEY_K2,
  KD_KEY_FRACTION,
  KD_KEY_EPS,
  KD_KEY_WIDTH,
  KD_KEY_ORIENTATION,
  KD_KEY_DISKS,
  KD_KEY_SEED,
  KD_KEY_RADIUS,
  KD_KEY_IMAGE,
  KD_KEY_SOURCE,
  KD_KEY_N
};
/* keys up to radius are required */
static const char *const KDCompositeKeys[KD_KEY_N] = {
    "type",        "k1",    "k2",   "fraction", "eps",   "interface_width",
    "orientation", "disks", "seed", "radius",   "image", "source"};

typedef struct {
  PetscBool seen[KD_KEY_N];
  PetscInt ndisk, nrow; /* disk and row lines so far */
} KDCompositeParser;

/* One line "<key> <value>" of the text form. */
static PetscErrorCode KDCompositeParseLine(MPI_Comm comm, PetscInt lineno, char line[], KDCompositeParser *ps,
                                           KDComposite *ms)
{
  char *val = strchr(line, ' '), *end;
  PetscInt k;

  PetscFunctionBegin;
  PetscCheck(val, comm, PETSC_ERR_FILE_UNEXPECTED,
             "microstructure string line %" PetscInt_FMT ": expected '<key> <value>'", lineno);
  *val++ = 0;
  if (!strcmp(line, "disk")) {
    double c[2];
    PetscCheck(
        ps->seen[KD_KEY_TYPE] && ps->seen[KD_KEY_DISKS] && ms->type == KD_COMPOSITE_DISKS && ps->ndisk < ms->ndisks,
        comm, PETSC_ERR_FILE_UNEXPECTED,
        "microstructure string line %" PetscInt_FMT ": a disk line must follow 'type disks' and 'disks <n>', n at most",
        lineno);
    errno = 0;
    c[0]  = strtod(val, &end);
    PetscCheck(end != val && *end == ' ', comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": expected 'disk <cx> <cy>'", lineno);
    val  = end + 1;
    c[1] = strtod(val, &end);
    PetscCheck(end != val && !*end && errno != ERANGE && c[0] >= 0 && c[0] < 1 && c[1] >= 0 && c[1] < 1, comm,
               PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": expected 'disk <cx> <cy>', a centre in [0, 1)^2", lineno);
    ms->disk[2 * ps->ndisk]     = (PetscReal) c[0];
    ms->disk[2 * ps->ndisk + 1] = (PetscReal) c[1];
    ps->ndisk++;
    PetscFunctionReturn(0);
  }
  if (!strcmp(line, "row")) {
    const PetscInt nd = (ms->nx + 3) / 4;
    PetscCheck(ms->pixel && ps->nrow < ms->ny, comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": a row line must follow 'image <nx> <ny>', ny at most",
               lineno);
    PetscCheck((PetscInt) strlen(val) == nd, comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": a row of %" PetscInt_FMT " pixels is %" PetscInt_FMT
               " hex digits",
               lineno, ms->nx, nd);
    for (PetscInt d = 0; d < nd; d++) {
      const char c  = val[d];
      const int nib = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
      PetscCheck(nib >= 0, comm, PETSC_ERR_FILE_UNEXPECTED,
                 "microstructure string line %" PetscInt_FMT ": '%c' is not a hex digit (0-9, a-f)", lineno, c);
      for (PetscInt b = 0; b < 4; b++) {
        const PetscInt i   = 4 * d + b;
        const unsigned bit = ((unsigned) nib >> (3 - b)) & 1u;
        PetscCheck(i < ms->nx || !bit, comm, PETSC_ERR_FILE_UNEXPECTED,
                   "microstructure string line %" PetscInt_FMT ": a padding bit beyond column %" PetscInt_FMT " is set",
                   lineno, ms->nx);
        if (i < ms->nx) ms->pixel[ps->nrow * ms->nx + i] = (unsigned char) bit;
      }
    }
    ps->nrow++;
    PetscFunctionReturn(0);
  }
  for (k = 0; k < KD_KEY_N; k++)
    if (!strcmp(line, KDCompositeKeys[k])) break;
  PetscCheck(k < KD_KEY_N, comm, PETSC_ERR_FILE_UNEXPECTED,
             "microstructure string line %" PetscInt_FMT ": unknown key '%s'", lineno, line);
  PetscCheck(!ps->seen[k], comm, PETSC_ERR_FILE_UNEXPECTED,
             "microstructure string line %" PetscInt_FMT ": '%s' given twice", lineno, line);
  ps->seen[k] = PETSC_TRUE;
  switch (k) {
  case KD_KEY_TYPE: {
    PetscInt t;
    for (t = 0; t <= KD_COMPOSITE_IMAGE; t++)
      if (!strcmp(val, KDCompositeTypes[t])) break;
    PetscCheck(t <= KD_COMPOSITE_IMAGE, comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": unknown type '%s'", lineno, val);
    ms->type = (KDCompositeType) t;
  } break;
  case KD_KEY_ORIENTATION:
    PetscCheck(!strcmp(val, "x") || !strcmp(val, "y"), comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": orientation must be x or y", lineno);
    ms->orientation = val[0] == 'y' ? 1 : 0;
    break;
  case KD_KEY_DISKS:
    PetscCheck(KDParseIntLine(val, 0, KD_COMPOSITE_MAX_DISKS, &ms->ndisks), comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": disks needs an integer in [0, %d]", lineno,
               KD_COMPOSITE_MAX_DISKS);
    break;
  case KD_KEY_SEED:
    PetscCheck(KDParseIntLine(val, PETSC_MIN_INT, PETSC_MAX_INT, &ms->seed), comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": seed needs an integer", lineno);
    break;
  case KD_KEY_IMAGE: {
    long n[2];
    n[0] = strtol(val, &end, 10);
    PetscCheck(end != val && *end == ' ', comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": expected 'image <nx> <ny>'", lineno);
    val  = end + 1;
    n[1] = strtol(val, &end, 10);
    PetscCheck(end != val && !*end && n[0] >= 1 && n[1] >= 1 && n[0] <= KD_COMPOSITE_MAX_PIXELS &&
                   n[1] <= KD_COMPOSITE_MAX_PIXELS,
               comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": expected 'image <nx> <ny>', 1 to %d pixels per side",
               lineno, KD_COMPOSITE_MAX_PIXELS);
    ms->nx = (PetscInt) n[0];
    ms->ny = (PetscInt) n[1];
    PetscCall(PetscCalloc1(n[0] * n[1], &ms->pixel));
  } break;
  case KD_KEY_SOURCE:
    PetscCall(PetscStrncpy(ms->source, val, sizeof(ms->source)));
    break;
  default: {
    PetscReal v;
    PetscReal *dst[KD_KEY_N] = {NULL,       &ms->k1, &ms->k2, &ms->fraction, &ms->eps,
                                &ms->width, NULL,    NULL,    NULL,          &ms->radius};
    PetscCheck(KDParseRealLine(val, &v), comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string line %" PetscInt_FMT ": %s needs a number", lineno, line);
    *dst[k] = v;
  } break;
  }
  PetscFunctionReturn(0);
}

/* The lines of the text form, then what the whole needs. */
static PetscErrorCode KDCompositeParse(MPI_Comm comm, const char str[], char line[], KDComposite *ms)
{
  KDCompositeParser ps;
  PetscInt lineno = 0;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&ps, sizeof(ps)));
  for (const char *p = str; *p;) {
    const char *eol  = strchr(p, '\n');
    const size_t len = eol ? (size_t) (eol - p) : strlen(p);

    lineno++;
    memcpy(line, p, len);
    line[len] = 0;
    p += eol ? len + 1 : len;
    if (len) PetscCall(KDCompositeParseLine(comm, lineno, line, &ps, ms));
  }
  for (PetscInt k = 0; k <= KD_KEY_RADIUS; k++)
    PetscCheck(ps.seen[k], comm, PETSC_ERR_FILE_UNEXPECTED, "microstructure string: no '%s' line", KDCompositeKeys[k]);
  if (ms->type == KD_COMPOSITE_DISKS)
    PetscCheck(ps.ndisk == ms->ndisks && ms->radius > 0 && ms->radius < 0.5, comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string: %" PetscInt_FMT " disk lines for 'disks %" PetscInt_FMT "', radius %g", ps.ndisk,
               ms->ndisks, (double) ms->radius);
  if (ms->type == KD_COMPOSITE_IMAGE) {
    PetscInt count = 0;
    PetscCheck(ps.seen[KD_KEY_IMAGE] && ps.seen[KD_KEY_SOURCE] && ps.nrow == ms->ny, comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string: an image needs 'image <nx> <ny>', 'source <file>' and ny 'row' lines");
    for (PetscInt q = 0; q < ms->nx * ms->ny; q++) count += ms->pixel[q];
    PetscCheck((PetscReal) count / (PetscReal) (ms->nx * ms->ny) == ms->fraction, comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string: fraction %g is not the pixels' %g", (double) ms->fraction,
               (double) ((PetscReal) count / (PetscReal) (ms->nx * ms->ny)));
  } else
    PetscCheck(!ps.seen[KD_KEY_IMAGE] && !ps.nrow, comm, PETSC_ERR_FILE_UNEXPECTED,
               "microstructure string: image lines in a %s microstructure", KDCompositeTypes[ms->type]);
  PetscFunctionReturn(0);
}

/*@C
  KDCompositeFromString - Rebuilds a microstructure from its text (KDCompositeToString()), e.g. the "microstructure"
  attribute of reference.h5; the disks and pixels are taken as stored, nothing is read or placed again.

  Collective (every rank parses the same text; errors are raised on comm)

  Input Parameters:
+ comm - the communicator
- str  - the text

  Output Parameter:
. ms - the microstructure; its pixels (if any) are freed first, so it must be cleared or a microstructure of its own

  Errors name the line of the text; the values are then checked as KDCompositeSetUp() checks them.

.seealso: KDCompositeToString(), KDCompositeSetUp()
@*/
PetscErrorCode KDCompositeFromString(MPI_Comm comm, const char str[], KDComposite *ms)
{
  char *line;
  size_t len;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCheck(str, comm, PETSC_ERR_ARG_NULL, "microstructure string is NULL");
  PetscCall(KDCompositeReset(ms));
  PetscCall(PetscStrlen(str, &len));
  PetscCall(PetscMalloc1(len + 1, &line));
  ierr = KDCompositeParse(comm, str, line, ms);
  PetscCall(PetscFree(line));
  if (ierr) PetscCall(KDCompositeReset(ms)); /* no half-read pixels left behind */
  PetscCall(ierr);
  PetscCall(KDCompositeValidate(comm, ms));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------------------------
   The macroscopic problem
   --------------------------------------------------------------------------------------------------------------- */

/*@C
  KDConductionExact - The exact solution of manufactured mode, u = sin(pi x) sin(pi y) + x y / 2, and its gradient.

  Not collective

.seealso: KDConductionProblemData()
@*/
void KDConductionExact(PetscReal x, PetscReal y, PetscReal *u, PetscReal grad[2])
{
  const PetscReal sx = PetscSinReal(PETSC_PI * x), sy = PetscSinReal(PETSC_PI * y);

  if (u) *u = sx * sy + x * y / 2;
  if (grad) {
    grad[0] = PETSC_PI * PetscCosReal(PETSC_PI * x) * sy + y / 2;
    grad[1] = PETSC_PI * sx * PetscCosReal(PETSC_PI * y) + x / 2;
  }
}

/*@C
  KDConductionProblemData - Pointwise data of the conduction problem: k, grad k and the source f.

  Not collective

  Input Parameters:
+ prob - the problem
- x, y - the point

  Output Parameters:
+ k     - the conductivity
. gradk - its gradient (may be NULL)
- f     - the source: prob->source, or in manufactured mode f = -(k lap u + grad k . grad u) of KDConductionExact()

.seealso: KDConductionProblemBoundary(), KDCompositeEvaluate()
@*/
void KDConductionProblemData(const KDConductionProblem *prob, PetscReal x, PetscReal y, PetscReal *k,
                             PetscReal gradk[2], PetscReal *f)
{
  PetscReal g[2];

  KDCompositeEvaluate(&prob->ms, x, y, k, g);
  if (gradk) {
    gradk[0] = g[0];
    gradk[1] = g[1];
  }
  if (f) {
    if (prob->manufactured) {
      PetscReal gu[2];
      const PetscReal lap = -2 * PETSC_PI * PETSC_PI * PetscSinReal(PETSC_PI * x) * PetscSinReal(PETSC_PI * y);
      KDConductionExact(x, y, NULL, gu);
      *f = -(*k * lap + g[0] * gu[0] + g[1] * gu[1]);
    } else
      *f = prob->source;
  }
}

/*@C
  KDConductionProblemBoundary - The Dirichlet value g: 0, or in manufactured mode the exact u (anywhere).

  Not collective

.seealso: KDConductionProblemData(), KDConductionExact()
@*/
PetscReal KDConductionProblemBoundary(const KDConductionProblem *prob, PetscReal x, PetscReal y)
{
  PetscReal u = 0;

  if (prob->manufactured) KDConductionExact(x, y, &u, NULL);
  return u;
}
