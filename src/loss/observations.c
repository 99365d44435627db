/*
  The observation term of a KDLoss (-<prefix>observations FILE, docs/inverse.md): measured values of the network's
  outputs at scattered points, fitted in the least-squares sense, each weighted by 1/sigma^2 when the file gives sigma.

  The file (HDF5): points (n x d, float64; columns in the order of the string attribute `inputs`, e.g. "t,x"), values
  (n x m; columns in the order of `outputs`, e.g. "u"), and optionally sigma (an n x m dataset, or a scalar attribute
  of the root). Columns are matched by name to the network's inputs and outputs: every input must be there, outputs may
  be a subset. Each rank reads the rows of the global indices it owns (KDSplitOwnership()), as every point set does.
*/
#include "loss/lossimpl.h"
#include "sys/kdio.h"
#include <stdio.h>
#include <string.h>

/* The position of each name of a comma-separated list among the PDE's names (list: the PDE's inputs or outputs), and
   a check that no name is unknown or repeated. */
static PetscErrorCode KDObservationColumns(KDLoss loss, const char file[], const char attr[], const char given[],
                                           const char known[], PetscInt ncols, PetscInt col[])
{
  char **gnames, **knames;
  int ng, nk;

  PetscFunctionBegin;
  PetscCall(PetscStrToArray(given, ',', &ng, &gnames));
  PetscCall(PetscStrToArray(known, ',', &nk, &knames));
  PetscCheck(ng == ncols, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: attribute %s names %d columns (\"%s\"), the dataset has %" PetscInt_FMT, file, attr,
             ng, given, ncols);
  for (int c = 0; c < ng; c++) {
    col[c] = -1;
    for (int k = 0; k < nk; k++)
      if (!strcmp(gnames[c], knames[k])) col[c] = k;
    PetscCheck(col[c] >= 0, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
               "observation file %s: %s names '%s', which is not one of the network's (%s)", file, attr, gnames[c],
               known);
    for (int d = 0; d < c; d++)
      PetscCheck(col[d] != col[c], loss->comm, PETSC_ERR_FILE_UNEXPECTED, "observation file %s: %s names '%s' twice",
                 file, attr, gnames[c]);
  }
  PetscCall(PetscStrToArrayDestroy(ng, gnames));
  PetscCall(PetscStrToArrayDestroy(nk, knames));
  PetscFunctionReturn(0);
}

/* Checks this rank's rows (finite values, points in the domain, positive sigma) and agrees on the first bad global row
   of each kind with one allreduce, so that every rank stops with the same message. */
static PetscErrorCode KDObservationCheck(KDLoss loss, const char file[], const KDPointSet *s, PetscInt d, PetscInt m,
                                         const PetscReal pts[], const PetscReal val[], const PetscReal sig[])
{
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];
  PetscInt nin, bad[3];
  enum { KD_BAD_NOTFINITE, KD_BAD_OUTSIDE, KD_BAD_SIGMA };

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, NULL, NULL));
  PetscCall(KDPDEGetDomain(loss->pde, lo, hi));
  for (PetscInt k = 0; k < 3; k++) bad[k] = PETSC_MAX_INT;
  for (PetscInt p = s->nlocal - 1; p >= 0; p--) {
    const PetscInt j = s->gstart + p;
    for (PetscInt c = 0; c < d; c++)
      if (PetscIsInfOrNanReal(pts[p * d + c])) bad[KD_BAD_NOTFINITE] = j;
    for (PetscInt c = 0; c < m; c++) {
      if (PetscIsInfOrNanReal(val[p * m + c])) bad[KD_BAD_NOTFINITE] = j;
      if (sig && (PetscIsInfOrNanReal(sig[p * m + c]) || !(sig[p * m + c] > 0))) bad[KD_BAD_SIGMA] = j;
    }
    for (PetscInt i = 0; i < nin; i++) {
      const PetscReal x = s->x[p * nin + i], tol = 1e-12 * (hi[i] - lo[i]);
      if (!PetscIsInfOrNanReal(x) && (x < lo[i] - tol || x > hi[i] + tol)) bad[KD_BAD_OUTSIDE] = j;
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, bad, 3, MPIU_INT, MPI_MIN, loss->comm));
  PetscCheck(bad[KD_BAD_NOTFINITE] == PETSC_MAX_INT, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: row %" PetscInt_FMT " holds a NaN or Inf", file, bad[KD_BAD_NOTFINITE]);
  PetscCheck(bad[KD_BAD_SIGMA] == PETSC_MAX_INT, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: sigma of row %" PetscInt_FMT " is not a positive number", file, bad[KD_BAD_SIGMA]);
  if (bad[KD_BAD_OUTSIDE] != PETSC_MAX_INT) {
    char box[256] = "";
    size_t pos    = 0;
    for (PetscInt i = 0; i < nin && pos < sizeof(box); i++) {
      const int k =
          snprintf(box + pos, sizeof(box) - pos, "%s[%g, %g]", i ? " x " : "", (double) lo[i], (double) hi[i]);
      pos += k > 0 ? (size_t) k : 0;
    }
    SETERRQ(loss->comm, PETSC_ERR_FILE_UNEXPECTED,
            "observation file %s: point %" PetscInt_FMT " lies outside the domain %s", file, bad[KD_BAD_OUTSIDE], box);
  }
  PetscFunctionReturn(0);
}

/*
  KDLossSetUpObservations - Adds the observation term "obs" from -<prefix>observations: this rank's rows of the file,
  columns matched by name. Collective.
*/
PetscErrorCode KDLossSetUpObservations(KDLoss loss)
{
  const char *file = loss->observations, *pin, *pout;
  char ainputs[256], aoutputs[256];
  hid_t h5;
  PetscInt nin, nout, dim, pdims[2], vdims[2], sdims[2], icol[KD_NET_MAX_IN], ocol[KD_NET_MAX_OUT], n, d, m;
  PetscBool hasattr, hasset;
  PetscReal sigma = 0.0, *pts, *val, *sig = NULL;
  KDPointSet *s;
  htri_t exists;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDPDEGetNames(loss->pde, &pin, &pout));
  PetscCall(KDH5Open(loss->comm, file, &h5));
  PetscCall(KDH5HasAttr(h5, "inputs", &hasattr));
  PetscCheck(hasattr, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: string attribute 'inputs' (the columns of points, e.g. \"%s\") missing", file, pin);
  PetscCall(KDH5ReadAttrString(h5, "inputs", ainputs, sizeof(ainputs)));
  PetscCall(KDH5HasAttr(h5, "outputs", &hasattr));
  PetscCheck(hasattr, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: string attribute 'outputs' (the columns of values, e.g. \"%s\") missing", file,
             pout);
  PetscCall(KDH5ReadAttrString(h5, "outputs", aoutputs, sizeof(aoutputs)));
  for (PetscInt k = 0; k < 2; k++) {
    const char *name = k ? "values" : "points";
    PetscInt *dims   = k ? vdims : pdims;
    exists           = H5Lexists(h5, name, H5P_DEFAULT);
    PetscCheck(exists > 0, loss->comm, PETSC_ERR_FILE_UNEXPECTED, "observation file %s: dataset '%s' missing", file,
               name);
    PetscCall(KDH5GetDims(h5, name, 2, &dim, dims));
    PetscCheck(dim == 2, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
               "observation file %s: dataset '%s' must be 2-D (points x columns)", file, name);
  }
  n = pdims[0];
  d = pdims[1];
  m = vdims[1];
  PetscCheck(vdims[0] == n, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: %" PetscInt_FMT " points but %" PetscInt_FMT " rows of values", file, n, vdims[0]);
  PetscCheck(n > 0, loss->comm, PETSC_ERR_FILE_UNEXPECTED, "observation file %s holds no observations", file);
  PetscCall(KDObservationColumns(loss, file, "inputs", ainputs, pin, d, icol));
  PetscCall(KDObservationColumns(loss, file, "outputs", aoutputs, pout, m, ocol));
  PetscCheck(d == nin, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: points have the columns \"%s\", the network needs all of \"%s\"", file, ainputs,
             pin);
  exists = H5Lexists(h5, "sigma", H5P_DEFAULT);
  PetscCallH5(exists);
  hasset = exists > 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(KDH5HasAttr(h5, "sigma", &hasattr));
  PetscCheck(!(hasset && hasattr), loss->comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: sigma is both a dataset and an attribute", file);
  if (hasset) {
    PetscCall(KDH5GetDims(h5, "sigma", 2, &dim, sdims));
    PetscCheck(dim == 2 && sdims[0] == n && sdims[1] == m, loss->comm, PETSC_ERR_FILE_UNEXPECTED,
               "observation file %s: sigma must have the shape of values (%" PetscInt_FMT " x %" PetscInt_FMT ")", file,
               n, m);
  } else if (hasattr) {
    PetscInt cnt;
    PetscCall(KDH5ReadAttrReals(h5, "sigma", 1, &sigma, &cnt));
    PetscCheck(cnt == 1 && sigma > 0 && !PetscIsInfOrNanReal(sigma), loss->comm, PETSC_ERR_FILE_UNEXPECTED,
               "observation file %s: attribute sigma must be one positive number", file);
  }
  loss->obs_sigma = (PetscBool) (hasset || hasattr);

  PetscCall(KDLossAddSet(loss, "obs", &KDTermValue, -1, n, loss->w_obs, &s));
  PetscCall(PetscMalloc3(s->nlocal * d, &pts, s->nlocal * m, &val, hasset ? s->nlocal * m : 0, &sig));
  PetscCall(KDH5ReadRows(h5, "points", 2, pdims, s->gstart, s->nlocal, pts));
  PetscCall(KDH5ReadRows(h5, "values", 2, vdims, s->gstart, s->nlocal, val));
  if (hasset) PetscCall(KDH5ReadRows(h5, "sigma", 2, sdims, s->gstart, s->nlocal, sig));
  PetscCall(KDH5Close(&h5));
  for (PetscInt p = 0; p < s->nlocal; p++)
    for (PetscInt c = 0; c < d; c++) s->x[p * nin + icol[c]] = pts[p * d + c];
  for (PetscInt o = 0; o < nout; o++) s->mask[o] = PETSC_FALSE;
  PetscCall(PetscArrayzero(s->target, s->nlocal * nout));
  if (loss->obs_sigma) PetscCall(PetscCalloc1(s->nlocal * nout, &s->wt));
  for (PetscInt c = 0; c < m; c++) {
    const PetscInt o = ocol[c];
    s->mask[o]       = PETSC_TRUE;
    for (PetscInt p = 0; p < s->nlocal; p++) {
      s->target[o * s->nlocal + p] = val[p * m + c];
      if (s->wt) {
        const PetscReal sg       = hasset ? sig[p * m + c] : sigma;
        s->wt[o * s->nlocal + p] = 1.0 / (sg * sg);
      }
    }
  }
  PetscCall(KDObservationCheck(loss, file, s, d, m, pts, val, hasset ? sig : NULL));
  PetscCall(PetscFree3(pts, val, sig));
  PetscFunctionReturn(0);
}
