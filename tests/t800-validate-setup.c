static const char help[] =
    "Test fixture of the validate stage (t801-t810).\n"
    "  -case burgers|cavity -out DIR: writes DIR/reference.h5 (a known field, 3 levels), teacher.h5,\n"
    "    student_L1.h5, scratch_L1.h5 (random networks) and DIR/expected.json: what `kdpinn validate` must\n"
    "    report, computed here on rank 0 from the gathered fields, independently of src/validate/validate.c.\n"
    "  -relabel IN -relabel_out OUT -level l -trained_with w: rewrites model IN as a level-l model.\n";

#include <kdpinn.h>
#include <string.h>

/* The reference fields: smooth, with a non-zero mean for the cavity pressure (which validate compares up to a
   constant). a, b are the coordinates of reference axes 0 and 1. */
static PetscReal Field(const char pde[], PetscInt f, PetscReal a, PetscReal b)
{
  if (!strcmp(pde, "burgers")) return -PetscSinReal(PETSC_PI * b) * PetscExpReal(-a) + 0.1 * a * b; /* a = t, b = x */
  switch (f) {                                                                                      /* a = y, b = x */
  case 0:
    return PetscSinReal(PETSC_PI * b) * PetscCosReal(0.5 * PETSC_PI * a);
  case 1:
    return 0.3 * a * b * (1 - b);
  default:
    return PetscCosReal(PETSC_PI * b) * PetscCosReal(PETSC_PI * a) + 0.7 + 0.2 * b;
  }
}

static PetscErrorCode BuildReference(MPI_Comm comm, const char pde[], const char dir[], KDReference *ref)
{
  const PetscBool burgers = !strcmp(pde, "burgers") ? PETSC_TRUE : PETSC_FALSE;
  const PetscInt n[2] = {16, burgers ? 32 : 16}, L = 3;
  const PetscReal lo[2] = {0, burgers ? -1 : 0}, hi[2] = {1, 1};
  const char *fields[3] = {"u", "v", "p"};
  char path[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(KDReferenceCreate(comm, ref));
  PetscCall(KDReferenceSetPDE(*ref, pde));
  if (burgers) {
    PetscCall(KDReferenceSetParameter(*ref, "nu", 0.01 / PETSC_PI));
    PetscCall(KDReferenceSetParameter(*ref, "advection", 1.0));
  } else
    PetscCall(KDReferenceSetParameter(*ref, "Re", 100.0));
  PetscCall(KDReferenceSetNumLevels(*ref, L));
  PetscCall(KDReferenceSetGrid(*ref, 2, burgers ? "t,x" : "y,x", n, lo, hi));
  for (PetscInt f = 0; f < (burgers ? 1 : 3); f++) {
    Vec v;
    PetscInt s, e;
    PetscScalar *a;
    PetscCall(KDReferenceCreateLevelVec(*ref, 0, &v));
    PetscCall(VecGetOwnershipRange(v, &s, &e));
    PetscCall(VecGetArray(v, &a));
    for (PetscInt k = s; k < e; k++) {
      const PetscInt i = k / n[1], j = k % n[1];
      a[k - s] = Field(pde, f, lo[0] + (i + 0.5) * (hi[0] - lo[0]) / n[0], lo[1] + (j + 0.5) * (hi[1] - lo[1]) / n[1]);
    }
    PetscCall(VecRestoreArray(v, &a));
    PetscCall(KDReferenceAddField(*ref, fields[f], v));
    PetscCall(VecDestroy(&v));
  }
  PetscCall(KDReferenceBuildHierarchy(*ref, L));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/reference.h5", dir));
  PetscCall(KDReferenceWrite(*ref, path));
  PetscCall(KDReferenceWriteXDMF(*ref, dir, "reference.h5"));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteNet(MPI_Comm comm, const char pde[], const char path[], PetscInt nhidden,
                               const PetscInt widths[], PetscInt seed, PetscInt level, const char trained_with[],
                               KDNet *net)
{
  const PetscBool burgers = !strcmp(pde, "burgers") ? PETSC_TRUE : PETSC_FALSE;
  /* input order: burgers (t, x), cavity (x, y) */
  const PetscReal lo[2] = {0, burgers ? -1 : 0}, hi[2] = {1, 1}, scale[3] = {1.5, 0.5, 2.0},
                  shift[3] = {0.1, -0.2, 0.9};
  KDModelInfo info;

  PetscFunctionBegin;
  PetscCall(KDNetCreate(comm, net));
  PetscCall(KDNetSetArchitecture(*net, 2, nhidden, widths, burgers ? 1 : 3));
  PetscCall(KDNetSetInputBounds(*net, lo, hi));
  PetscCall(KDNetSetOutputScaling(*net, scale, shift));
  PetscCall(KDNetSetUp(*net));
  PetscCall(KDNetInitialize(*net, seed));
  PetscCall(PetscMemzero(&info, sizeof(info)));
  PetscCall(PetscStrncpy(info.pde, pde, sizeof(info.pde)));
  PetscCall(PetscStrncpy(info.inputs, burgers ? "t,x" : "x,y", sizeof(info.inputs)));
  PetscCall(PetscStrncpy(info.outputs, burgers ? "u" : "u,v,p", sizeof(info.outputs)));
  PetscCall(PetscStrncpy(info.trained_with, trained_with, sizeof(info.trained_with)));
  info.level   = level;
  info.nparams = 1;
  PetscCall(PetscStrncpy(info.param_names[0], burgers ? "nu" : "Re", sizeof(info.param_names[0])));
  info.param_values[0] = burgers ? 0.01 / PETSC_PI : 100.0;
  PetscCall(KDNetWrite(*net, path, &info));
  PetscFunctionReturn(0);
}

/* Gathers a field of a level onto rank 0 (natural order). */
static PetscErrorCode Gather(KDReference ref, PetscInt l, const char name[], Vec *all)
{
  Vec v;
  VecScatter sc;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetField(ref, l, name, &v));
  PetscCall(VecScatterCreateToZero(v, &sc, all));
  PetscCall(VecScatterBegin(sc, v, *all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, v, *all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterDestroy(&sc));
  PetscFunctionReturn(0);
}

/* Expected numbers of one row, on rank 0: the network at every cell of level l (point values, or the 3-point
   Gauss-Legendre cell average written out by hand), against the gathered level-l fields. */
static PetscErrorCode Expect(FILE *fp, KDReference ref, KDPDE pde, const char pdename[], KDNet net, const char name[],
                             PetscInt l, PetscBool average, PetscInt respoints, PetscBool last)
{
  const PetscBool burgers = !strcmp(pdename, "burgers") ? PETSC_TRUE : PETSC_FALSE;
  const PetscInt nf       = burgers ? 1 : 3;
  const char *fields[3]   = {"u", "v", "p"};
  /* 3-point Gauss-Legendre on [-1/2, 1/2]: nodes 0, +-sqrt(3/5)/2, weights 8/18, 5/18 */
  const PetscReal gx[3] = {-0.5 * PetscSqrtReal(0.6), 0.0, 0.5 * PetscSqrtReal(0.6)},
                  gw[3] = {5.0 / 18, 8.0 / 18, 5.0 / 18};
  PetscInt dim, n[3], N, nq           = average ? 3 : 1, nparams, s, nres;
  PetscReal lo[3], hi[3], h[2], e2[3] = {0, 0, 0}, r2[3] = {0, 0, 0}, emax[3] = {0, 0, 0}, mp[3] = {0, 0, 0},
                                mr[3] = {0, 0, 0};
  PetscReal pe2 = 0, pr2 = 0, pmax = 0, res2 = 0;
  PetscReal *x, *y, *pred, *res;
  Vec all[3];
  const PetscReal *r[3];
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(KDReferenceGetLevelGrid(ref, l, &dim, n, lo, hi));
  for (PetscInt f = 0; f < nf; f++) PetscCall(Gather(ref, l, fields[f], &all[f]));
  if (rank) {
    for (PetscInt f = 0; f < nf; f++) PetscCall(VecDestroy(&all[f]));
    PetscFunctionReturn(0);
  }
  N    = n[0] * n[1];
  h[0] = (hi[0] - lo[0]) / n[0];
  h[1] = (hi[1] - lo[1]) / n[1];
  PetscCall(KDNetGetSizes(net, NULL, NULL, &nparams));
  PetscCall(PetscMalloc3(2 * N * 9, &x, 3 * N * 9, &y, 3 * N, &pred));
  /* pass 0: the row's values (averaged or not); pass 1: point values (reported for the averaged rows) */
  for (PetscInt pass = 0; pass < (average ? 2 : 1); pass++) {
    const PetscInt m = pass ? 1 : nq;
    for (PetscInt i = 0; i < n[0]; i++)
      for (PetscInt j = 0; j < n[1]; j++)
        for (PetscInt qa = 0; qa < m; qa++)
          for (PetscInt qb = 0; qb < m; qb++) {
            const PetscReal a = lo[0] + (i + 0.5 + (m > 1 ? gx[qa] : 0)) * h[0],
                            b = lo[1] + (j + 0.5 + (m > 1 ? gx[qb] : 0)) * h[1];
            PetscReal *px     = x + 2 * (((i * n[1] + j) * m + qa) * m + qb);
            /* burgers: inputs (t, x) = axes (0, 1); cavity: inputs (x, y) = axes (1, 0) */
            px[0] = burgers ? a : b;
            px[1] = burgers ? b : a;
          }
    PetscCall(KDNetEvaluate(net, N * m * m, x, y));
    for (PetscInt f = 0; f < nf; f++)
      for (PetscInt c = 0; c < N; c++) {
        PetscReal v = 0;
        for (PetscInt qa = 0; qa < m; qa++)
          for (PetscInt qb = 0; qb < m; qb++)
            v += (m > 1 ? gw[qa] * gw[qb] : 1.0) * y[f * N * m * m + (c * m + qa) * m + qb];
        pred[f * N + c] = v;
      }
    for (PetscInt f = 0; f < nf; f++) {
      PetscCall(VecGetArrayRead(all[f], &r[f]));
      mp[f] = mr[f] = 0;
      if (f == 2) { /* the cavity pressure: both means removed */
        for (PetscInt c = 0; c < N; c++) mp[f] += pred[f * N + c] / N, mr[f] += r[f][c] / N;
      }
      e2[f] = r2[f] = emax[f] = 0;
      for (PetscInt c = 0; c < N; c++) {
        const PetscReal e = PetscAbsReal((pred[f * N + c] - mp[f]) - (r[f][c] - mr[f]));
        e2[f] += e * e;
        r2[f] += (r[f][c] - mr[f]) * (r[f][c] - mr[f]);
        emax[f] = PetscMax(emax[f], e);
      }
      PetscCall(VecRestoreArrayRead(all[f], &r[f]));
    }
    if (pass == 1) {
      pe2 = pr2 = pmax = 0;
      for (PetscInt f = 0; f < nf; f++) pe2 += e2[f], pr2 += r2[f], pmax = PetscMax(pmax, emax[f]);
      break;
    }
    if (average) {
      /* keep the averaged row's sums: pass 1 overwrites e2, r2, emax */
      PetscReal se2 = 0, sr2 = 0, smax = 0;
      for (PetscInt f = 0; f < nf; f++) se2 += e2[f], sr2 += r2[f], smax = PetscMax(smax, emax[f]);
      fprintf(fp,
              "  \"%s\": {\"level\": %d, \"params\": %d, \"points\": %d, \"rel_l2\": %.17g, \"max_err\": %.17g, "
              "\"fields\": {",
              name, (int) l, (int) nparams, (int) N, (double) PetscSqrtReal(se2 / sr2), (double) smax);
      for (PetscInt f = 0; f < nf; f++)
        fprintf(fp, "%s\"%s\": {\"rel_l2\": %.17g, \"max_err\": %.17g}", f ? ", " : "", fields[f],
                (double) PetscSqrtReal(e2[f] / r2[f]), (double) emax[f]);
      fprintf(fp, "}, ");
    }
  }
  if (!average) {
    PetscReal se2 = 0, sr2 = 0, smax = 0;
    for (PetscInt f = 0; f < nf; f++) se2 += e2[f], sr2 += r2[f], smax = PetscMax(smax, emax[f]);
    fprintf(fp,
            "  \"%s\": {\"level\": %d, \"params\": %d, \"points\": %d, \"rel_l2\": %.17g, \"max_err\": %.17g, "
            "\"fields\": {",
            name, (int) l, (int) nparams, (int) N, (double) PetscSqrtReal(se2 / sr2), (double) smax);
    for (PetscInt f = 0; f < nf; f++)
      fprintf(fp, "%s\"%s\": {\"rel_l2\": %.17g, \"max_err\": %.17g}", f ? ", " : "", fields[f],
              (double) PetscSqrtReal(e2[f] / r2[f]), (double) emax[f]);
    fprintf(fp, "}, ");
  } else
    fprintf(fp, "\"point_rel_l2\": %.17g, \"point_max_err\": %.17g, ", (double) PetscSqrtReal(pe2 / pr2),
            (double) pmax);

  /* residual: every cell whose indices are multiples of s, s the smallest with ceil(n0/s) ceil(n1/s) <= respoints */
  for (s = 1; respoints && ((n[0] + s - 1) / s) * ((n[1] + s - 1) / s) > respoints; s++) {}
  {
    PetscInt m = 0;
    for (PetscInt i = 0; i < n[0]; i += s)
      for (PetscInt j = 0; j < n[1]; j += s, m++) {
        const PetscReal a = lo[0] + (i + 0.5) * h[0], b = lo[1] + (j + 0.5) * h[1];
        x[2 * m]     = burgers ? a : b;
        x[2 * m + 1] = burgers ? b : a;
      }
    PetscCall(KDPDEGetSizes(pde, NULL, NULL, &nres));
    PetscCall(PetscMalloc1(m * nres, &res));
    PetscCall(KDPDEResidualNet(pde, net, m, x, res));
    for (PetscInt k = 0; k < m * nres; k++) res2 += res[k] * res[k];
    fprintf(fp, "\"residual_points\": %d, \"residual_rms\": %.17g}%s\n", (int) m,
            (double) PetscSqrtReal(res2 / (m * nres)), last ? "" : ",");
    PetscCall(PetscFree(res));
  }
  PetscCall(PetscFree3(x, y, pred));
  for (PetscInt f = 0; f < nf; f++) PetscCall(VecDestroy(&all[f]));
  PetscFunctionReturn(0);
}

static PetscErrorCode Relabel(MPI_Comm comm, const char in[], const char out[], PetscInt level,
                              const char trained_with[])
{
  KDNet net;
  KDModelInfo info;

  PetscFunctionBegin;
  PetscCall(KDNetLoad(comm, in, &net, &info));
  info.level = level;
  PetscCall(PetscStrncpy(info.trained_with, trained_with, sizeof(info.trained_with)));
  PetscCall(KDNetWrite(net, out, &info));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  MPI_Comm comm;
  char pde[32] = "burgers", dir[PETSC_MAX_PATH_LEN] = "out", path[PETSC_MAX_PATH_LEN], in[PETSC_MAX_PATH_LEN] = "";
  char out[PETSC_MAX_PATH_LEN] = "", trained_with[16] = "distill";
  PetscInt respoints = 262144, level = 1;
  const PetscInt tw[2] = {12, 12}, sw[1] = {6};
  KDReference ref;
  KDPDE kpde;
  KDNet teacher, student, scratch;
  PetscMPIInt rank;
  FILE *fp = NULL;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  comm = PETSC_COMM_WORLD;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-case", pde, sizeof(pde), NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-out", dir, sizeof(dir), NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-residual_points", &respoints, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-relabel", in, sizeof(in), NULL));
  if (in[0]) {
    PetscCall(PetscOptionsGetString(NULL, NULL, "-relabel_out", out, sizeof(out), NULL));
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-level", &level, NULL));
    PetscCall(PetscOptionsGetString(NULL, NULL, "-trained_with", trained_with, sizeof(trained_with), NULL));
    PetscCall(Relabel(comm, in, out, level, trained_with));
    PetscCall(PetscFinalize());
    return 0;
  }
  PetscCheck(!strcmp(pde, "burgers") || !strcmp(pde, "cavity"), comm, PETSC_ERR_ARG_WRONG, "-case burgers or cavity");
  PetscCall(KDOutputDirCheck(comm, dir));
  PetscCall(BuildReference(comm, pde, dir, &ref));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/teacher.h5", dir));
  PetscCall(WriteNet(comm, pde, path, 2, tw, 1, 0, "pinn", &teacher));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/student_L1.h5", dir));
  PetscCall(WriteNet(comm, pde, path, 1, sw, 2, 1, "distill", &student));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/scratch_L1.h5", dir));
  PetscCall(WriteNet(comm, pde, path, 1, sw, 3, 1, "scratch", &scratch));
  PetscCall(KDPDECreate(comm, &kpde));
  PetscCall(KDPDESetFromReference(kpde, ref));

  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/expected.json", dir));
  if (!rank) {
    fp = fopen(path, "w");
    PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", path);
    fprintf(fp, "{\n");
  }
  PetscCall(Expect(fp, ref, kpde, pde, teacher, "teacher", 0, PETSC_FALSE, respoints, PETSC_FALSE));
  PetscCall(Expect(fp, ref, kpde, pde, teacher, "teacher@L1", 1, PETSC_TRUE, respoints, PETSC_FALSE));
  PetscCall(Expect(fp, ref, kpde, pde, teacher, "teacher@L2", 2, PETSC_TRUE, respoints, PETSC_FALSE));
  PetscCall(Expect(fp, ref, kpde, pde, student, "student_L1", 1, PETSC_FALSE, respoints, PETSC_FALSE));
  PetscCall(Expect(fp, ref, kpde, pde, scratch, "scratch_L1", 1, PETSC_FALSE, respoints, PETSC_TRUE));
  if (!rank) {
    fprintf(fp, "}\n");
    PetscCheck(!fclose(fp), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s", path);
  }
  PetscCall(KDPDEDestroy(&kpde));
  PetscCall(KDNetDestroy(&teacher));
  PetscCall(KDNetDestroy(&student));
  PetscCall(KDNetDestroy(&scratch));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(PetscFinalize());
  return 0;
}
