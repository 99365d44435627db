static const char help[] =
    "Microstructure descriptions: parsing of the committed file, exact round trip through the stored\n"
    "string, k and grad k against the formula and finite differences, and one-line errors that name\n"
    "the file and the line for missing and malformed files.\n";
#include <kdsolver.h>
#include "pde/heat.h"
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

/* Loads a file that must fail, and checks that the message contains every one of the given fragments. */
static PetscErrorCode ExpectLoadError(const char path[], const char *frag1, const char *frag2)
{
  KDMicrostructure m;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  KDLastError[0] = 0;
  PetscCall(PetscPushErrorHandler(KDRecordError, NULL));
  ierr = KDMicrostructureLoad(PETSC_COMM_WORLD, path, &m);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "loading %s should have failed", path);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "expected error: %s\n", KDLastError));
  PetscCheck(!strchr(KDLastError, '\n'), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "error message is not one line: %s",
             KDLastError);
  PetscCheck(strstr(KDLastError, frag1), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "error message lacks '%s': %s", frag1,
             KDLastError);
  PetscCheck(!frag2 || strstr(KDLastError, frag2), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "error message lacks '%s': %s",
             frag2, KDLastError);
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteFile(const char path[], const char text[])
{
  FILE *fp;

  PetscFunctionBegin;
  fp = fopen(path, "w");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", path);
  PetscCheck(fputs(text, fp) >= 0 && !fclose(fp), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s", path);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  KDMicrostructure m, m2, t;
  char path[PETSC_MAX_PATH_LEN], str[8192];
  const char *src = getenv("KD_SOURCE_DIR");

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));

  /* 1. the committed file: k0 and every inclusion, with a trailing comment on an inclusion line */
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/meshes/inclusions.txt", src ? src : KD_SOURCE_DIR));
  PetscCall(KDMicrostructureLoad(PETSC_COMM_WORLD, path, &m));
  PetscCheck(m.k0 == 1.0 && m.n == 4, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "inclusions.txt: k0 %g, %" PetscInt_FMT " inclusions; the file has k0 1 and 4", (double) m.k0, m.n);
  PetscCheck(m.x[1] == 0.72 && m.y[1] == 0.70 && m.r[1] == 0.10 && m.c[1] == -0.7, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "inclusions.txt: inclusion 1 misread");

  /* 2. a file with comments, blank lines, tabs and CRLF ends */
  PetscCall(WriteFile("ok.txt", "# comment\r\n\n  k0\t2.5  # base\r\n0.5 0.5 0.2 1\n\t0.1 0.9 0.05 -0.5\n"));
  PetscCall(KDMicrostructureLoad(PETSC_COMM_WORLD, "ok.txt", &t));
  PetscCheck(t.k0 == 2.5 && t.n == 2 && t.c[1] == -0.5 && t.r[1] == 0.05, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "ok.txt misread");

  /* 3. the stored string gives back the same numbers bit for bit (exact equality is the contract) */
  PetscCall(KDMicrostructureToString(&m, str, sizeof(str)));
  PetscCall(KDMicrostructureFromString(str, &m2));
  PetscCheck(m2.k0 == m.k0 && m2.n == m.n, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "round trip changed k0 or n");
  for (PetscInt i = 0; i < m.n; i++)
    PetscCheck(m2.x[i] == m.x[i] && m2.y[i] == m.y[i] && m2.r[i] == m.r[i] && m2.c[i] == m.c[i], PETSC_COMM_WORLD,
               PETSC_ERR_PLIB, "round trip changed inclusion %" PetscInt_FMT, i);
  {
    KDMicrostructure odd = t, odd2;
    odd.x[0]             = 1.0 / 3.0; /* needs all 17 digits */
    odd.r[1]             = 0.1 + 0.2;
    PetscCall(KDMicrostructureToString(&odd, str, sizeof(str)));
    PetscCall(KDMicrostructureFromString(str, &odd2));
    PetscCheck(odd2.x[0] == odd.x[0] && odd2.r[1] == odd.r[1], PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "round trip of 1/3 or 0.1+0.2 is not exact");
  }

  /* 4. k against the formula written out, grad k against central differences: step 1e-5 gives a truncation error
        ~ 1e-10 |k'''| ~ 1e-5 for these inclusion radii (k''' ~ c / r^3 ~ 1e4); tolerance 1e-4 relative to |grad k|+1 */
  for (PetscInt s = 0; s < 50; s++) {
    const PetscReal x = 0.02 * s + 0.01, y = PetscFmodReal(0.37 * s + 0.05, 1.0), d = 1e-5;
    PetscReal k, g[2], kp, km, kref = 1, gx, gy;
    for (PetscInt i = 0; i < m.n; i++)
      kref += m.c[i] * PetscExpReal(-((x - m.x[i]) * (x - m.x[i]) + (y - m.y[i]) * (y - m.y[i])) / (m.r[i] * m.r[i]));
    kref *= m.k0;
    KDMicrostructureEvaluate(&m, x, y, &k, g);
    PetscCheck(PetscAbsReal(k - kref) <= 1e-14 * kref, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "k(%g, %g) = %g, formula %g",
               (double) x, (double) y, (double) k, (double) kref);
    PetscCheck(k > 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "k(%g, %g) = %g is not positive", (double) x, (double) y,
               (double) k);
    KDMicrostructureEvaluate(&m, x + d, y, &kp, NULL);
    KDMicrostructureEvaluate(&m, x - d, y, &km, NULL);
    gx = (kp - km) / (2 * d);
    KDMicrostructureEvaluate(&m, x, y + d, &kp, NULL);
    KDMicrostructureEvaluate(&m, x, y - d, &km, NULL);
    gy = (kp - km) / (2 * d);
    PetscCheck(PetscAbsReal(g[0] - gx) + PetscAbsReal(g[1] - gy) <= 1e-4 * (1 + PetscAbsReal(gx) + PetscAbsReal(gy)),
               PETSC_COMM_WORLD, PETSC_ERR_PLIB, "grad k at (%g, %g) = (%g, %g), finite differences (%g, %g)",
               (double) x, (double) y, (double) g[0], (double) g[1], (double) gx, (double) gy);
  }

  /* 5. errors: one line, naming the file and, for a bad entry, the line */
  PetscCall(ExpectLoadError("no-such-file.txt", "no-such-file.txt", "cannot read"));
  PetscCall(WriteFile("bad-fields.txt", "# three numbers on line 3\nk0 1\n0.5 0.5 0.1\n"));
  PetscCall(ExpectLoadError("bad-fields.txt", "bad-fields.txt line 3", "4 numbers"));
  PetscCall(WriteFile("bad-number.txt", "k0 1\n\n0.5 0.5x 0.1 1\n"));
  PetscCall(ExpectLoadError("bad-number.txt", "bad-number.txt line 3", NULL));
  PetscCall(WriteFile("bad-extra.txt", "k0 1\n0.5 0.5 0.1 1 7\n"));
  PetscCall(ExpectLoadError("bad-extra.txt", "bad-extra.txt line 2", NULL));
  PetscCall(WriteFile("bad-contrast.txt", "k0 1\n0.5 0.5 0.1 1\n0.2 0.2 0.1 -1\n"));
  PetscCall(ExpectLoadError("bad-contrast.txt", "bad-contrast.txt line 3", "c must be > -1"));
  PetscCall(WriteFile("bad-radius.txt", "k0 1\n0.5 0.5 0 1\n"));
  PetscCall(ExpectLoadError("bad-radius.txt", "bad-radius.txt line 2", "radius"));
  PetscCall(WriteFile("bad-k0.txt", "k0 -2\n"));
  PetscCall(ExpectLoadError("bad-k0.txt", "bad-k0.txt line 1", "k0 must be positive"));
  PetscCall(WriteFile("twice-k0.txt", "k0 1\nk0 2\n"));
  PetscCall(ExpectLoadError("twice-k0.txt", "twice-k0.txt line 2", "twice"));
  PetscCall(WriteFile("no-k0.txt", "# only inclusions\n0.5 0.5 0.1 1\n"));
  PetscCall(ExpectLoadError("no-k0.txt", "no-k0.txt", "k0"));
  PetscCall(WriteFile("unknown.txt", "k0 1\nkappa 3\n"));
  PetscCall(ExpectLoadError("unknown.txt", "unknown.txt line 2", NULL));
  PetscCall(WriteFile("overlap.txt", "k0 1\n0.5 0.5 0.2 -0.8\n0.52 0.5 0.2 -0.8\n"));
  PetscCall(ExpectLoadError("overlap.txt", "overlap.txt", "k = "));
  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "microstructure parsing, round trip, k and grad k, and 11 error cases: ok\n"));
  PetscCall(PetscFinalize());
  return 0;
}
