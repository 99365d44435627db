static const char help[] =
    "The observation term and inferred PDE parameters of a loss (burgers, nu and advection inferred): the term\n"
    "against an independent evaluation (columns of the file in another order than the network's, sigma per value);\n"
    "the loss gradient (network and inferred parameters, the log map of nu) and the Gauss-Newton rows (|R|^2 = loss,\n"
    "2 J^T R = gradient, every J column of the inferred parameters and a sample of the network's) against central\n"
    "differences; at 2 ranks the global loss equals one rank's holding every point. Then a learned coefficient field\n"
    "(heat, k as a second network, -teacher_infer_field k=1.5): the same checks on a sample of its network's "
    "columns.\n";

#include "t410-loss-common.h"
#include <hdf5.h>
#include <string.h>

/* Tolerances as in t412: the term value against an independent sum of the same numbers, 1e-12 relative; |R|^2 vs the
   loss 1e-12 and 2 J^T R vs the gradient 1e-11 (the same sums in another order); central differences with h = 1e-6,
   truncation ~1e-12 and round-off ~1e-10, so 1e-6 relative to the largest entry, while a missing chain factor
   (d nu / d log nu ~ 0.02 here), a wrong sign or a lost sigma gives O(1) errors. Ranks: 1e-12. */
#define SUM_TOL 1e-12
#define GRAD_TOL 1e-11
#define FD_TOL 1e-6
#define NOBS 29

static PetscErrorCode WriteObservations(const char path[])
{
  hid_t f, s, d, a, t;
  hsize_t dims[2] = {NOBS, 2}, vdims[2] = {NOBS, 1};
  double pts[NOBS][2], val[NOBS], sig[NOBS];

  PetscFunctionBegin;
  for (PetscInt p = 0; p < NOBS; p++) {
    pts[p][0] = -1.0 + 2.0 * KDRandomUniform(3, 1, p); /* x first: the file's columns are "x,t" */
    pts[p][1] = KDRandomUniform(3, 2, p);
    val[p]    = PetscSinReal(3.0 * pts[p][0]) * (1.0 - pts[p][1]);
    sig[p]    = 0.5 + KDRandomUniform(3, 3, p);
  }
  f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  PetscCheck(f >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create %s", path);
  s = H5Screate_simple(2, dims, NULL);
  d = H5Dcreate2(f, "points", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, pts);
  H5Dclose(d);
  H5Sclose(s);
  s = H5Screate_simple(2, vdims, NULL);
  d = H5Dcreate2(f, "values", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, val);
  H5Dclose(d);
  d = H5Dcreate2(f, "sigma", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, sig);
  H5Dclose(d);
  H5Sclose(s);
  for (int k = 0; k < 2; k++) {
    const char *name = k ? "outputs" : "inputs", *value = k ? "u" : "x,t";
    t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(value));
    s = H5Screate(H5S_SCALAR);
    a = H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, value);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
  }
  H5Fclose(f);
  PetscFunctionReturn(0);
}

static PetscErrorCode LossCreate(MPI_Comm comm, KDLoss *loss, KDNet *net)
{
  const PetscInt widths[2] = {6, 5};

  PetscFunctionBegin;
  PetscCall(KDLossCreate(comm, loss));
  PetscCall(KDLossSetOptionsPrefix(*loss, "teacher_"));
  PetscCall(KDLossSetPDEType(*loss, "burgers"));
  PetscCall(KDLossSetSeed(*loss, 7));
  PetscCall(KDNetCreate(comm, net));
  PetscCall(KDNetSetArchitecture(*net, 2, 2, widths, 1));
  PetscCall(KDLossConfigureNet(*loss, *net));
  PetscCall(KDNetSetBlockSize(*net, 8));
  PetscCall(KDNetSetUp(*net));
  PetscCall(KDNetInitialize(*net, 5));
  PetscCall(KDLossSetNet(*loss, *net));
  PetscCall(KDLossSetFromOptions(*loss));
  PetscCall(KDLossSetUp(*loss));
  PetscFunctionReturn(0);
}

/* The obs term of this rank recomputed from the network's values: w_obs / N sum (u - y)^2 / sigma^2. */
static PetscErrorCode CheckObservationTerm(KDLoss loss, KDNet net, const char path[])
{
  const char *const *names;
  PetscInt nterms, np, n, t;
  PetscReal *terms, *grad, sum = 0, pts[NOBS][2], val[NOBS], sig[NOBS];
  const PetscReal *x;
  hid_t f, d;

  PetscFunctionBegin;
  f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  d = H5Dopen2(f, "points", H5P_DEFAULT);
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, pts);
  H5Dclose(d);
  d = H5Dopen2(f, "values", H5P_DEFAULT);
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, val);
  H5Dclose(d);
  d = H5Dopen2(f, "sigma", H5P_DEFAULT);
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, sig);
  H5Dclose(d);
  H5Fclose(f);
  PetscCall(KDLossGetTerms(loss, &nterms, &names));
  PetscCall(KDLossGetNumParameters(loss, &np));
  PetscCall(PetscMalloc2(nterms, &terms, np, &grad));
  PetscCall(KDLossEvaluateLocal(loss, terms, grad));
  for (t = 0; t < nterms; t++)
    if (!strcmp(names[t], "obs")) break;
  PetscCheck(t < nterms, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the loss has no obs term");
  PetscCall(KDLossGetPoints(loss, "obs", &n, &x));
  for (PetscInt p = 0; p < n; p++) {
    PetscReal u;
    PetscInt j = -1;
    for (PetscInt q = 0; q < NOBS; q++) /* the file's row of this point: (t, x) = (pts[q][1], pts[q][0]) */
      if (pts[q][1] == x[2 * p] && pts[q][0] == x[2 * p + 1]) j = q;
    PetscCheck(j >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "obs point (%g, %g) is not a row of the file",
               (double) x[2 * p], (double) x[2 * p + 1]);
    PetscCall(KDNetEvaluate(net, 1, x + 2 * p, &u));
    sum += (u - val[j]) * (u - val[j]) / (sig[j] * sig[j]);
  }
  sum *= 2.5 / NOBS; /* -teacher_w_obs 2.5 */
  PetscCheck(PetscAbsReal(sum - terms[t]) <= SUM_TOL * PetscAbsReal(sum), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "obs term %.16e, recomputed %.16e", (double) terms[t], (double) sum);
  PetscCall(PetscFree2(terms, grad));
  PetscFunctionReturn(0);
}

/* The parameter vector [network | theta | field] as the trainer sees it: entry i perturbed in place. */
static PetscErrorCode Perturb(KDLoss loss, KDNet net, PetscInt i, PetscReal delta)
{
  PetscInt nnet, np;
  PetscReal *w, extra[4096];

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, NULL, NULL, &nnet));
  PetscCall(KDLossGetNumParameters(loss, &np));
  PetscCheck(np - nnet <= 4096, PETSC_COMM_SELF, PETSC_ERR_PLIB, "too many extra parameters for the test");
  PetscCall(KDNetGetParameters(net, &w));
  if (i < nnet)
    w[i] += delta;
  else {
    PetscCall(KDLossGetExtraParameters(loss, extra));
    extra[i - nnet] += delta;
    PetscCall(KDLossSetExtraParameters(loss, extra));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckDerivatives(KDLoss loss, KDNet net, PetscInt nexpect, PetscReal *total)
{
  const PetscReal h = 1e-6;
  PetscInt nterms, np, nnet, ninfer, m, nchecked = 0;
  PetscReal *terms, *grad, *r, *J, *rp, *rm, *tp, *gt, rr = 0, gmax = 0, gerr = 0, jmax = 0, fd = 0;

  PetscFunctionBegin;
  PetscCall(KDLossGetTerms(loss, &nterms, NULL));
  PetscCall(KDLossGetNumParameters(loss, &np));
  PetscCall(KDLossGetNumInferred(loss, &ninfer));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &nnet));
  PetscCheck(np - nnet == nexpect, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%" PetscInt_FMT " parameters after the network's, expected %" PetscInt_FMT, np - nnet, nexpect);
  PetscCall(KDLossGetResidualSize(loss, &m));
  PetscCall(PetscMalloc4(nterms, &terms, np, &grad, m, &r, m * np, &J));
  PetscCall(PetscMalloc4(m, &rp, m, &rm, nterms, &tp, np, &gt));
  PetscCall(KDLossEvaluateLocal(loss, terms, grad));
  *total = 0;
  for (PetscInt t = 0; t < nterms; t++) *total += terms[t];
  PetscCall(KDLossResidualLocal(loss, 0, m / 3, r, J));
  PetscCall(KDLossResidualLocal(loss, m / 3, m - m / 3, r + m / 3, J + (m / 3) * np));
  for (PetscInt q = 0; q < m; q++) rr += r[q] * r[q];
  PetscCheck(PetscAbsReal(rr - *total) <= SUM_TOL * *total, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "|R|^2 = %.16e but the loss is %.16e", (double) rr, (double) *total);
  for (PetscInt i = 0; i < np; i++) {
    PetscReal g2 = 0;
    for (PetscInt q = 0; q < m; q++) g2 += 2.0 * J[q * np + i] * r[q];
    gmax = PetscMax(gmax, PetscAbsReal(grad[i]));
    gerr = PetscMax(gerr, PetscAbsReal(g2 - grad[i]));
  }
  PetscCheck(gerr <= GRAD_TOL * gmax, PETSC_COMM_SELF, PETSC_ERR_PLIB, "|2 J^T R - grad| = %.3e, |grad| = %.3e",
             (double) gerr, (double) gmax);
  for (PetscInt q = 0; q < m * np; q++) jmax = PetscMax(jmax, PetscAbsReal(J[q]));
  /* the inferred columns, and every 7th of the network's */
  /* every 7th column of the network's, every inferred scalar's, every 5th of a field's network */
  for (PetscInt i = 0; i < np; i = i < nnet ? (i + 7 < nnet ? i + 7 : nnet) : (i < nnet + ninfer ? i + 1 : i + 5)) {
    PetscReal lp = 0, lm = 0;
    PetscCall(Perturb(loss, net, i, h));
    PetscCall(KDLossResidualLocal(loss, 0, m, rp, NULL));
    PetscCall(KDLossEvaluateLocal(loss, tp, gt));
    for (PetscInt t = 0; t < nterms; t++) lp += tp[t];
    PetscCall(Perturb(loss, net, i, -2 * h));
    PetscCall(KDLossResidualLocal(loss, 0, m, rm, NULL));
    PetscCall(KDLossEvaluateLocal(loss, tp, gt));
    for (PetscInt t = 0; t < nterms; t++) lm += tp[t];
    PetscCall(Perturb(loss, net, i, h));
    PetscCheck(PetscAbsReal((lp - lm) / (2 * h) - grad[i]) <= FD_TOL * gmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "gradient entry %" PetscInt_FMT " is %.10e, finite differences %.10e", i, (double) grad[i],
               (double) ((lp - lm) / (2 * h)));
    for (PetscInt q = 0; q < m; q++) {
      const PetscReal e = PetscAbsReal((rp[q] - rm[q]) / (2 * h) - J[q * np + i]);
      PetscCheck(e <= FD_TOL * jmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "J[%" PetscInt_FMT "][%" PetscInt_FMT "] = %.10e, finite differences %.10e", q, i,
                 (double) J[q * np + i], (double) ((rp[q] - rm[q]) / (2 * h)));
      fd = PetscMax(fd, e);
    }
    if (i >= nnet && i < nnet + ninfer) {
      PetscReal cmax = 0;
      for (PetscInt q = 0; q < m; q++) cmax = PetscMax(cmax, PetscAbsReal(J[q * np + i]));
      PetscCheck(cmax > 1e-3 * jmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "the column of inferred parameter %" PetscInt_FMT " is empty", i - nnet);
    }
    nchecked++;
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "%" PetscInt_FMT " terms, %" PetscInt_FMT " rows x %" PetscInt_FMT " params (%" PetscInt_FMT
                        " inferred), %" PetscInt_FMT
                        " columns checked: ||R|^2 - loss|/loss %.1e, |2J^T R - grad|/|grad| %.1e, "
                        "max FD error / max|J| %.1e\n",
                        nterms, m, np, ninfer, nchecked, (double) (PetscAbsReal(rr - *total) / *total),
                        (double) (gerr / gmax), (double) (fd / jmax)));
  PetscCall(PetscFree4(rp, rm, tp, gt));
  PetscCall(PetscFree4(terms, grad, r, J));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  KDLoss loss, whole;
  KDNet net, wnet;
  PetscReal local, global, single;
  PetscMPIInt rank, size;
  char path[PETSC_MAX_PATH_LEN];

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscSNPrintf(path, sizeof(path), "t413-np%d.h5", (int) size));
  if (!rank) PetscCall(WriteObservations(path));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_observations", path));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_w_obs", "2.5"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_infer", "nu=0.02,advection=0.7"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_ncol", "23"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nic", "11"));
  PetscCall(PetscOptionsSetValue(NULL, "-teacher_nbc", "13"));

  PetscCall(LossCreate(PETSC_COMM_WORLD, &loss, &net));
  PetscCall(CheckObservationTerm(loss, net, path));
  PetscCall(CheckDerivatives(loss, net, 2, &local));
  PetscCallMPI(MPI_Allreduce(&local, &global, 1, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscCall(LossCreate(PETSC_COMM_SELF, &whole, &wnet));
  {
    PetscInt nterms, np;
    PetscReal *terms, *grad;
    PetscCall(KDLossGetTerms(whole, &nterms, NULL));
    PetscCall(KDLossGetNumParameters(whole, &np));
    PetscCall(PetscMalloc2(nterms, &terms, np, &grad));
    PetscCall(KDLossEvaluateLocal(whole, terms, grad));
    single = 0;
    for (PetscInt t = 0; t < nterms; t++) single += terms[t];
    PetscCall(PetscFree2(terms, grad));
  }
  PetscCheck(PetscAbsReal(global - single) <= SUM_TOL * single, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "loss over %d ranks %.16e, one rank %.16e", (int) size, (double) global, (double) single);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "loss over %d ranks %.16e, one rank %.16e\n", (int) size, (double) global,
                        (double) single));
  PetscCall(KDLossDestroy(&whole));
  PetscCall(KDNetDestroy(&wnet));
  PetscCall(KDLossDestroy(&loss));
  PetscCall(KDNetDestroy(&net));

  /* heat with k learned as a field of (x, y): its 5 x 5 network's 51 parameters follow the solution network's */
  {
    KDReference ref;
    KDNet field;
    PetscInt nfield;
    PetscCall(PetscOptionsClearValue(NULL, "-teacher_observations"));
    PetscCall(PetscOptionsClearValue(NULL, "-teacher_infer"));
    PetscCall(PetscOptionsSetValue(NULL, "-teacher_infer_field", "k=1.5"));
    PetscCall(PetscOptionsSetValue(NULL, "-teacher_field_widths", "5,5"));
    PetscCall(TestReferenceCreate(PETSC_COMM_WORLD, "heat", 1, &ref));
    PetscCall(KDLossCreate(PETSC_COMM_WORLD, &loss));
    PetscCall(KDLossSetOptionsPrefix(loss, "teacher_"));
    PetscCall(KDLossSetReference(loss, ref, 0));
    PetscCall(KDLossSetSeed(loss, 9));
    PetscCall(TestNetCreate(PETSC_COMM_WORLD, loss, 3, &net));
    PetscCall(KDLossSetNet(loss, net));
    PetscCall(KDLossSetFromOptions(loss));
    PetscCall(KDLossSetUp(loss));
    PetscCall(KDLossGetField(loss, &field, NULL));
    PetscCheck(field, PETSC_COMM_SELF, PETSC_ERR_PLIB, "no field network");
    PetscCall(KDNetGetSizes(field, NULL, NULL, &nfield));
    PetscCheck(nfield == 51, PETSC_COMM_SELF, PETSC_ERR_PLIB, "field network of %" PetscInt_FMT " parameters", nfield);
    PetscCall(CheckDerivatives(loss, net, nfield, &local));
    PetscCall(KDLossDestroy(&loss));
    PetscCall(KDNetDestroy(&net));
    PetscCall(KDReferenceDestroy(&ref));
  }
  PetscCall(PetscFinalize());
  return 0;
}
