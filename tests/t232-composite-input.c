static const char help[] =
    "Composite microstructures: every bad input (a type name that is no file, k <= 0, a fraction outside (0, 1),\n"
    "a period that does not divide the domain or the grid, disks that do not fit, unreadable, garbage, oversized,\n"
    "truncated and one-phase images, damaged stored strings) gives its one-line error naming the option or the\n"
    "file; the text form round-trips every type bit for bit, an image of 256 x 256 pixels included.\n";
#include <kdsolver.h>
#include "pde/conduction.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KD_SOURCE_DIR
#define KD_SOURCE_DIR "."
#endif

/* Error handler that records the first message of an error instead of printing it. */
static char KDLastError[1024];
static PetscErrorCode KDRecordError(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n,
                                    PetscErrorType p, const char *mess, void *ctx)
{
  if (p == PETSC_ERROR_INITIAL) (void) snprintf(KDLastError, sizeof(KDLastError), "%s", mess ? mess : "");
  return n;
}

static PetscErrorCode ExpectMessage(PetscErrorCode ierr, const char what[], const char *frag1, const char *frag2)
{
  PetscFunctionBegin;
  PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s should have failed", what);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-28s -> %s\n", what, KDLastError));
  PetscCheck(!strchr(KDLastError, '\n'), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "error message is not one line: %s",
             KDLastError);
  PetscCheck(strstr(KDLastError, frag1), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "error message lacks '%s': %s", frag1,
             KDLastError);
  PetscCheck(!frag2 || strstr(KDLastError, frag2), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "error message lacks '%s': %s",
             frag2, KDLastError);
  PetscFunctionReturn(0);
}

/* KDCompositeSetUp() on a description that must fail, with every fragment in its message */
static PetscErrorCode ExpectSetUpError(const char what[], KDComposite *ms, const char *frag1, const char *frag2)
{
  PetscErrorCode ierr;

  PetscFunctionBegin;
  KDLastError[0] = 0;
  PetscCall(PetscPushErrorHandler(KDRecordError, NULL));
  ierr = KDCompositeSetUp(PETSC_COMM_WORLD, ms);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectMessage(ierr, what, frag1, frag2));
  PetscCall(KDCompositeReset(ms));
  PetscFunctionReturn(0);
}

static PetscErrorCode ExpectFromStringError(const char what[], const char str[], const char *frag1, const char *frag2)
{
  KDComposite ms;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&ms, sizeof(ms)));
  KDLastError[0] = 0;
  PetscCall(PetscPushErrorHandler(KDRecordError, NULL));
  ierr = KDCompositeFromString(PETSC_COMM_WORLD, str, &ms);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectMessage(ierr, what, frag1, frag2));
  PetscCheck(!ms.pixel, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a failed KDCompositeFromString() left pixels behind");
  PetscFunctionReturn(0);
}

/* A valid description of a type; the caller changes one thing. */
static void Valid(KDComposite *ms, KDCompositeType type)
{
  (void) PetscMemzero(ms, sizeof(*ms));
  ms->type     = type;
  ms->k1       = 1;
  ms->k2       = 10;
  ms->fraction = 0.5;
  ms->eps      = 0.125;
  ms->ndisks   = 4;
  ms->seed     = 1;
}

static PetscErrorCode WriteFile(const char path[], const void *data, size_t len)
{
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (!rank) {
    FILE *fp = fopen(path, "wb");
    PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", path);
    PetscCheck(fwrite(data, 1, len, fp) == len && !fclose(fp), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s",
               path);
  }
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteText(const char path[], const char text[])
{
  PetscFunctionBegin;
  PetscCall(WriteFile(path, text, strlen(text)));
  PetscFunctionReturn(0);
}

static PetscErrorCode ExpectImageError(const char what[], const char path[], const char *frag1, const char *frag2)
{
  KDComposite ms;

  PetscFunctionBegin;
  Valid(&ms, KD_COMPOSITE_IMAGE);
  PetscCall(PetscStrncpy(ms.source, path, sizeof(ms.source)));
  PetscCall(ExpectSetUpError(what, &ms, frag1, frag2));
  PetscFunctionReturn(0);
}

/* ToString -> FromString -> ToString: every field equal bit for bit, the same pixels, the same text, the same k. */
static PetscErrorCode CheckRoundTrip(const KDComposite *ms)
{
  KDComposite back;
  char *s1, *s2;
  size_t len;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&back, sizeof(back)));
  PetscCall(KDCompositeToString(ms, &s1));
  PetscCall(KDCompositeFromString(PETSC_COMM_WORLD, s1, &back));
  PetscCall(KDCompositeToString(&back, &s2));
  PetscCall(PetscStrlen(s1, &len));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-12s %6zu bytes: ", KDCompositeTypes[ms->type], len));
  PetscCheck(len < 65536, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "string of %zu bytes: too large for an attribute", len);
  PetscCheck(!strcmp(s1, s2), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "text changed by a round trip");
  PetscCheck(back.type == ms->type && back.k1 == ms->k1 && back.k2 == ms->k2 && back.fraction == ms->fraction &&
                 back.eps == ms->eps && back.width == ms->width && back.orientation == ms->orientation &&
                 back.ndisks == ms->ndisks && back.seed == ms->seed && back.radius == ms->radius,
             PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: a number changed in the round trip", KDCompositeTypes[ms->type]);
  if (ms->type == KD_COMPOSITE_DISKS)
    for (PetscInt i = 0; i < 2 * ms->ndisks; i++)
      PetscCheck(back.disk[i] == ms->disk[i], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "disk centre %" PetscInt_FMT " changed",
                 i / 2);
  if (ms->type == KD_COMPOSITE_IMAGE) {
    PetscCheck(back.nx == ms->nx && back.ny == ms->ny && !strcmp(back.source, ms->source), PETSC_COMM_WORLD,
               PETSC_ERR_PLIB, "image size or source changed");
    PetscCheck(!memcmp(back.pixel, ms->pixel, (size_t) (ms->nx * ms->ny)), PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "pixels changed");
  }
  for (PetscInt p = 0; p < 1000; p++) { /* the same k and grad k, bit for bit */
    const PetscReal x = KDRandomUniform(5, 0, 2 * p), y = KDRandomUniform(5, 0, 2 * p + 1);
    PetscReal k1, k2, g1[2], g2[2];
    KDCompositeEvaluate(ms, x, y, &k1, g1);
    KDCompositeEvaluate(&back, x, y, &k2, g2);
    PetscCheck(k1 == k2 && g1[0] == g2[0] && g1[1] == g2[1], PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "k(%g, %g) changed in the round trip", (double) x, (double) y);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "identical\n"));
  PetscCall(PetscFree(s1));
  PetscCall(PetscFree(s2));
  PetscCall(KDCompositeReset(&back));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  KDComposite ms, copy;
  char path[PETSC_MAX_PATH_LEN];
  const char *src = getenv("KD_SOURCE_DIR");
  PetscErrorCode ierr;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/meshes/inclusion.pgm", src ? src : KD_SOURCE_DIR));

  /* 1. descriptions */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "1. bad descriptions\n"));
  Valid(&ms, KD_COMPOSITE_IMAGE); /* -conduction_microstructure lamnate: not a type, so a file, which does not exist */
  PetscCall(PetscStrncpy(ms.source, "lamnate", sizeof(ms.source)));
  PetscCall(ExpectSetUpError("unknown type name", &ms, "cannot read microstructure image lamnate", "No such file"));
  Valid(&ms, KD_COMPOSITE_LAMINATE);
  ms.k1 = -1;
  PetscCall(ExpectSetUpError("k1 < 0", &ms, "-conduction_k1 must be positive, got -1", NULL));
  Valid(&ms, KD_COMPOSITE_CHECKERBOARD);
  ms.k2 = 0;
  PetscCall(ExpectSetUpError("k2 = 0", &ms, "-conduction_k2 must be positive, got 0", NULL));
  Valid(&ms, KD_COMPOSITE_LAMINATE);
  ms.fraction = 1.5;
  PetscCall(ExpectSetUpError("fraction 1.5", &ms, "-conduction_fraction must be in (0, 1), got 1.5", NULL));
  Valid(&ms, KD_COMPOSITE_DISKS);
  ms.fraction = 0;
  PetscCall(ExpectSetUpError("fraction 0", &ms, "-conduction_fraction must be in (0, 1), got 0", NULL));
  Valid(&ms, KD_COMPOSITE_LAMINATE);
  ms.eps = 0.3;
  PetscCall(ExpectSetUpError("eps 0.3", &ms, "-conduction_eps must be 1/m for an integer m, got 0.3", NULL));
  Valid(&ms, KD_COMPOSITE_LAMINATE);
  ms.eps = 2;
  PetscCall(ExpectSetUpError("eps 2", &ms, "-conduction_eps must be 1/m for an integer m, got 2", NULL));
  Valid(&ms, KD_COMPOSITE_LAMINATE);
  ms.width = -0.01;
  PetscCall(ExpectSetUpError("width < 0", &ms, "-conduction_interface_width must be >= 0", NULL));
  Valid(&ms, KD_COMPOSITE_CHECKERBOARD);
  ms.fraction = 0.3;
  PetscCall(ExpectSetUpError("checkerboard fraction 0.3", &ms, "-conduction_fraction", "checkerboard"));
  Valid(&ms, KD_COMPOSITE_IMAGE);
  PetscCall(PetscStrncpy(ms.source, path, sizeof(ms.source)));
  ms.width = 0.01;
  PetscCall(ExpectSetUpError("smooth image", &ms, "-conduction_interface_width must be 0", "image"));
  Valid(&ms, KD_COMPOSITE_DISKS);
  ms.ndisks   = 1;
  ms.fraction = 0.85; /* above pi/4: not even one disk fits its period */
  PetscCall(ExpectSetUpError("one disk, fraction 0.85", &ms, "-conduction_fraction 0.85 is too large", NULL));
  Valid(&ms, KD_COMPOSITE_DISKS);
  ms.ndisks   = 16;
  ms.fraction = 0.7; /* denser than random sequential addition reaches */
  PetscCall(
      ExpectSetUpError("16 disks, fraction 0.7", &ms, "-conduction_fraction 0.7 is too large for 16 disks", NULL));
  Valid(&ms, KD_COMPOSITE_DISKS);
  ms.ndisks = 65;
  PetscCall(ExpectSetUpError("65 disks", &ms, "-conduction_disks must be in [1, 64], got 65", NULL));

  /* 2. the grid */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "2. grids\n"));
  Valid(&ms, KD_COMPOSITE_CHECKERBOARD);
  PetscCall(KDCompositeSetUp(PETSC_COMM_WORLD, &ms));
  PetscCall(KDCompositeCheckGrid(PETSC_COMM_WORLD, &ms, 1024, "-conduction_n"));
  PetscCall(KDCompositeCheckGrid(PETSC_COMM_WORLD, &ms, 8, "-conduction_n"));
  KDLastError[0] = 0;
  PetscCall(PetscPushErrorHandler(KDRecordError, NULL));
  ierr = KDCompositeCheckGrid(PETSC_COMM_WORLD, &ms, 100, "-conduction_n");
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectMessage(
      ierr, "eps 0.125, 100 cells",
      "-conduction_eps 0.125 does not divide the 100-cell grid of -conduction_n: eps N must be an integer", NULL));
  ms.eps = 1.0 / 3;
  PetscCall(KDCompositeCheckGrid(PETSC_COMM_WORLD, &ms, 768, "-conduction_n"));
  PetscCall(PetscPushErrorHandler(KDRecordError, NULL));
  ierr = KDCompositeCheckGrid(PETSC_COMM_WORLD, &ms, 1024, "-conduction_n");
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectMessage(ierr, "eps 1/3, 1024 cells", "does not divide the 1024-cell grid", NULL));

  /* 3. images */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "3. bad images\n"));
  PetscCall(ExpectImageError("missing file", "no-such-image.pgm", "cannot read microstructure image no-such-image.pgm",
                             "No such file"));
  PetscCall(WriteText("garbage.pgm", "hello, world\n"));
  PetscCall(
      ExpectImageError("garbage", "garbage.pgm", "microstructure image garbage.pgm: not a PGM file (P2 or P5)", NULL));
  PetscCall(WriteText("ppm.pgm", "P6\n2 2\n255\n"));
  PetscCall(ExpectImageError("a PPM (P6)", "ppm.pgm", "not a PGM file (P2 or P5)", NULL));
  PetscCall(WriteText("header.pgm", "P2\n4 x\n255\n"));
  PetscCall(ExpectImageError("bad header", "header.pgm", "header.pgm: not a PGM file", "header"));
  PetscCall(WriteText("large.pgm", "P5\n300 2\n255\n"));
  PetscCall(ExpectImageError("300 x 2 pixels", "large.pgm", "large.pgm: 300 x 2 pixels", "at most 256"));
  PetscCall(WriteText("short.pgm", "P5\n4 4\n255\nabcd"));
  PetscCall(ExpectImageError("truncated P5", "short.pgm", "short.pgm: truncated", NULL));
  PetscCall(WriteText("value.pgm", "P2\n2 2\n15\n0 15 16 0\n"));
  PetscCall(ExpectImageError("pixel > maximum", "value.pgm", "value.pgm: pixel 2", "maximum grey value 15"));
  PetscCall(WriteText("missing.pgm", "P2\n2 2\n15\n0 15 7\n"));
  PetscCall(ExpectImageError("a pixel missing", "missing.pgm", "missing.pgm: pixel 3", NULL));
  PetscCall(WriteText("black.pgm", "P2\n# all black\n3 2\n255\n0 0 0\n0 10 127\n"));
  PetscCall(ExpectImageError("one phase (black)", "black.pgm", "black.pgm: every pixel is phase 1", "both phases"));
  {
    unsigned char white[4 + 8 + 4 + 16];
    const size_t hl = 11;
    memcpy(white, "P5\n4 4\n255\n", hl);
    memset(white + hl, 200, 16);
    PetscCall(WriteFile("white.pgm", white, hl + 16));
    PetscCall(ExpectImageError("one phase (white, P5)", "white.pgm", "white.pgm: every pixel is phase 2", NULL));
  }

  /* 4. stored strings */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "4. bad stored strings\n"));
  PetscCall(ExpectFromStringError("unknown key", "type laminate\nkappa 3\n", "microstructure string line 2", "kappa"));
  PetscCall(ExpectFromStringError("missing k2",
                                  "type laminate\nk1 1\nfraction 0.5\neps 0.5\ninterface_width 0\norientation x\n"
                                  "disks 0\nseed 0\nradius 0\n",
                                  "no 'k2' line", NULL));
  PetscCall(ExpectFromStringError("bad hex row",
                                  "type image\nk1 1\nk2 2\nfraction 0.5\neps 1\ninterface_width 0\norientation x\n"
                                  "disks 0\nseed 0\nradius 0\nimage 4 2\nsource x.pgm\nrow 3\nrow g\n",
                                  "line 14", "not a hex digit"));
  PetscCall(ExpectFromStringError("stored k1 < 0",
                                  "type laminate\nk1 -2\nk2 1\nfraction 0.5\neps 0.5\ninterface_width 0\n"
                                  "orientation y\ndisks 0\nseed 0\nradius 0\n",
                                  "-conduction_k1 must be positive, got -2", NULL));

  /* 5. exact round trips of every type */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "5. round trips\n"));
  Valid(&ms, KD_COMPOSITE_LAMINATE);
  ms.k1          = 0.1 + 0.2; /* needs all 17 digits */
  ms.k2          = 1.0 / 3;
  ms.fraction    = 0.3;
  ms.eps         = 1.0 / 7;
  ms.width       = 0.01 / 3;
  ms.orientation = 1;
  PetscCall(KDCompositeSetUp(PETSC_COMM_WORLD, &ms));
  PetscCall(CheckRoundTrip(&ms));
  Valid(&ms, KD_COMPOSITE_CHECKERBOARD);
  ms.width = 0.02;
  PetscCall(KDCompositeSetUp(PETSC_COMM_WORLD, &ms));
  PetscCall(CheckRoundTrip(&ms));
  Valid(&ms, KD_COMPOSITE_DISKS);
  ms.ndisks   = 64;
  ms.fraction = 0.25;
  ms.seed     = 12345;
  ms.width    = 0.0005;
  PetscCall(KDCompositeSetUp(PETSC_COMM_WORLD, &ms));
  PetscCall(CheckRoundTrip(&ms));
  Valid(&ms, KD_COMPOSITE_IMAGE);
  PetscCall(PetscStrncpy(ms.source, path, sizeof(ms.source)));
  PetscCall(KDCompositeSetUp(PETSC_COMM_WORLD, &ms));
  PetscCheck(ms.nx == 32 && ms.ny == 32 && ms.fraction > 0.1 && ms.fraction < 0.13, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "meshes/inclusion.pgm: %" PetscInt_FMT " x %" PetscInt_FMT " pixels, fraction %g", ms.nx, ms.ny,
             (double) ms.fraction);
  {
    /* row 0 is the top: the disk at (0.75, 0.25) is phase 2, the point mirrored to (0.75, 0.75) is phase 1 */
    PetscReal chi, g[2];
    KDCompositeCellIndicator(&ms, 0.75, 0.25, &chi, g);
    PetscCheck(chi == 1, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "inclusion.pgm: (0.75, 0.25) is not phase 2");
    KDCompositeCellIndicator(&ms, 0.75, 0.75, &chi, g);
    PetscCheck(chi == 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "inclusion.pgm: (0.75, 0.75) is not phase 1");
  }
  PetscCall(CheckRoundTrip(&ms));
  PetscCall(PetscMemzero(&copy, sizeof(copy)));
  PetscCall(KDCompositeCopy(&ms, &copy));
  PetscCall(KDCompositeReset(&ms)); /* the copy owns its own pixels */
  PetscCall(CheckRoundTrip(&copy));
  PetscCall(KDCompositeReset(&copy));
  {
    /* the largest image, 256 x 256 random pixels as P5 with 16-bit grey values */
    const PetscInt n = KD_COMPOSITE_MAX_PIXELS;
    const char *hdr  = "P5\n# largest\n256 256\n65535\n";
    const size_t hl  = strlen(hdr);
    unsigned char *img;
    PetscCall(PetscMalloc1(hl + 2 * n * n, &img));
    memcpy(img, hdr, hl);
    for (PetscInt q = 0; q < n * n; q++) {
      const unsigned v    = (unsigned) (65536 * KDRandomUniform(9, 1, q));
      img[hl + 2 * q]     = (unsigned char) (v >> 8);
      img[hl + 2 * q + 1] = (unsigned char) (v & 255);
    }
    PetscCall(WriteFile("largest.pgm", img, hl + 2 * n * n));
    PetscCall(PetscFree(img));
    Valid(&ms, KD_COMPOSITE_IMAGE);
    PetscCall(PetscStrncpy(ms.source, "largest.pgm", sizeof(ms.source)));
    PetscCall(KDCompositeSetUp(PETSC_COMM_WORLD, &ms));
    PetscCall(CheckRoundTrip(&ms));
    PetscCall(KDCompositeReset(&ms));
  }
  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "composite input: every error one line and specific, round trips exact: ok\n"));
  PetscCall(PetscFinalize());
  return 0;
}
