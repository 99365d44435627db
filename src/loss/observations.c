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
static PetscErrorCode KDObservationColumns(MPI_Comm comm, const char file[], const char attr[], const char given[],
                                           const char known[], PetscInt ncols, PetscInt col[])
{
  char **gnames, **knames;
  int ng, nk;

  PetscFunctionBegin;
  PetscCall(PetscStrToArray(given, ',', &ng, &gnames));
  PetscCall(PetscStrToArray(known, ',', &nk, &knames));
  PetscCheck(ncols >= 1 && ncols <= nk, comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: %" PetscInt_FMT " columns for %s, the network has %d (%s)", file, ncols, attr, nk,
             known);
  PetscCheck(ng == ncols, comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: attribute %s names %d columns (\"%s\"), the dataset has %" PetscInt_FMT, file, attr,
             ng, given, ncols);
  for (int c = 0; c < ng; c++) {
    col[c] = -1;
    for (int k = 0; k < nk; k++)
      if (!strcmp(gnames[c], knames[k])) col[c] = k;
    PetscCheck(col[c] >= 0, comm, PETSC_ERR_FILE_UNEXPECTED,
               "observation file %s: %s names '%s', which is not one of the network's (%s)", file, attr, gnames[c],
               known);
    for (int d = 0; d < c; d++)
      PetscCheck(col[d] != col[c], comm, PETSC_ERR_FILE_UNEXPECTED, "observation file %s: %s names '%s' twice", file,
                 attr, gnames[c]);
  }
  PetscCall(PetscStrToArrayDestroy(ng, gnames));
  PetscCall(PetscStrToArrayDestroy(nk, knames));
  PetscFunctionReturn(0);
}

/* Checks this rank's rows (finite values, points in the domain, positive sigma) and agrees on the first bad global row
   of each kind with one allreduce, so that every rank stops with the same message. */
static PetscErrorCode KDObservationCheck(MPI_Comm comm, KDPDE pde, const char file[], const KDObservations *obs,
                                         PetscInt d, PetscInt m, const PetscReal pts[], const PetscReal val[],
                                         const PetscReal sig[])
{
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];
  PetscInt nin, bad[3];
  enum { KD_BAD_NOTFINITE, KD_BAD_OUTSIDE, KD_BAD_SIGMA };

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(pde, &nin, NULL, NULL));
  PetscCall(KDPDEGetDomain(pde, lo, hi));
  for (PetscInt k = 0; k < 3; k++) bad[k] = PETSC_MAX_INT;
  for (PetscInt p = obs->nlocal - 1; p >= 0; p--) {
    const PetscInt j = obs->gstart + p;
    for (PetscInt c = 0; c < d; c++)
      if (PetscIsInfOrNanReal(pts[p * d + c])) bad[KD_BAD_NOTFINITE] = j;
    for (PetscInt c = 0; c < m; c++) {
      if (PetscIsInfOrNanReal(val[p * m + c])) bad[KD_BAD_NOTFINITE] = j;
      if (sig && (PetscIsInfOrNanReal(sig[p * m + c]) || !(sig[p * m + c] > 0))) bad[KD_BAD_SIGMA] = j;
    }
    for (PetscInt i = 0; i < nin; i++) {
      const PetscReal x = obs->x[p * nin + i], tol = 1e-12 * (hi[i] - lo[i]);
      if (!PetscIsInfOrNanReal(x) && (x < lo[i] - tol || x > hi[i] + tol)) bad[KD_BAD_OUTSIDE] = j;
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, bad, 3, MPIU_INT, MPI_MIN, comm));
  PetscCheck(bad[KD_BAD_NOTFINITE] == PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: row %" PetscInt_FMT " holds a NaN or Inf", file, bad[KD_BAD_NOTFINITE]);
  PetscCheck(bad[KD_BAD_SIGMA] == PETSC_MAX_INT, comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: sigma of row %" PetscInt_FMT " is not a positive number", file, bad[KD_BAD_SIGMA]);
  if (bad[KD_BAD_OUTSIDE] != PETSC_MAX_INT) {
    char box[256] = "";
    size_t pos    = 0;
    for (PetscInt i = 0; i < nin && pos < sizeof(box); i++) {
      const int k =
          snprintf(box + pos, sizeof(box) - pos, "%s[%g, %g]", i ? " x " : "", (double) lo[i], (double) hi[i]);
      pos += k > 0 ? (size_t) k : 0;
    }
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "observation file %s: point %" PetscInt_FMT " lies outside the domain %s",
            file, bad[KD_BAD_OUTSIDE], box);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KDObservationsRead_Private(MPI_Comm comm, KDPDE pde, const char file[], hid_t h5,
                                                 KDObservations *obs)
{
  const char *pin, *pout;
  char ainputs[256], aoutputs[256];
  PetscInt nin, nout, dim, pdims[2], vdims[2], sdims[2], icol[KD_NET_MAX_IN], ocol[KD_NET_MAX_OUT], n, d, m, nl;
  PetscBool hasattr, hasset;
  PetscReal sigma = 0.0, *pts, *val, *sig = NULL;
  htri_t exists;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(obs, sizeof(*obs)));
  PetscCall(KDPDEGetSizes(pde, &nin, &nout, NULL));
  PetscCall(KDPDEGetNames(pde, &pin, &pout));
  PetscCall(KDH5HasAttr(h5, "inputs", &hasattr));
  PetscCheck(hasattr, comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: string attribute 'inputs' (the columns of points, e.g. \"%s\") missing", file, pin);
  PetscCall(KDH5ReadAttrString(h5, "inputs", ainputs, sizeof(ainputs)));
  PetscCall(KDH5HasAttr(h5, "outputs", &hasattr));
  PetscCheck(hasattr, comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: string attribute 'outputs' (the columns of values, e.g. \"%s\") missing", file,
             pout);
  PetscCall(KDH5ReadAttrString(h5, "outputs", aoutputs, sizeof(aoutputs)));
  for (PetscInt k = 0; k < 2; k++) {
    const char *name = k ? "values" : "points";
    PetscInt *dims   = k ? vdims : pdims;
    exists           = H5Lexists(h5, name, H5P_DEFAULT);
    PetscCheck(exists > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "observation file %s: dataset '%s' missing", file, name);
    PetscCall(KDH5GetDims(h5, name, 2, &dim, dims));
    PetscCheck(dim == 2, comm, PETSC_ERR_FILE_UNEXPECTED,
               "observation file %s: dataset '%s' must be 2-D (points x columns)", file, name);
  }
  n = pdims[0];
  d = pdims[1];
  m = vdims[1];
  PetscCheck(vdims[0] == n, comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: %" PetscInt_FMT " points but %" PetscInt_FMT " rows of values", file, n, vdims[0]);
  PetscCheck(n > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "observation file %s holds no observations", file);
  PetscCall(KDObservationColumns(comm, file, "inputs", ainputs, pin, d, icol));
  PetscCall(KDObservationColumns(comm, file, "outputs", aoutputs, pout, m, ocol));
  PetscCheck(d == nin, comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: points have the columns \"%s\", the network needs all of \"%s\"", file, ainputs,
             pin);
  exists = H5Lexists(h5, "sigma", H5P_DEFAULT);
  PetscCallH5(exists);
  hasset = exists > 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(KDH5HasAttr(h5, "sigma", &hasattr));
  PetscCheck(!(hasset && hasattr), comm, PETSC_ERR_FILE_UNEXPECTED,
             "observation file %s: sigma is both a dataset and an attribute", file);
  if (hasset) {
    PetscCall(KDH5GetDims(h5, "sigma", 2, &dim, sdims));
    PetscCheck(dim == 2 && sdims[0] == n && sdims[1] == m, comm, PETSC_ERR_FILE_UNEXPECTED,
               "observation file %s: sigma must have the shape of values (%" PetscInt_FMT " x %" PetscInt_FMT ")", file,
               n, m);
  } else if (hasattr) {
    PetscInt cnt;
    PetscCall(KDH5ReadAttrReals(h5, "sigma", 1, &sigma, &cnt));
    PetscCheck(cnt == 1 && sigma > 0 && !PetscIsInfOrNanReal(sigma), comm, PETSC_ERR_FILE_UNEXPECTED,
               "observation file %s: attribute sigma must be one positive number", file);
  }

  obs->n     = n;
  obs->sigma = (PetscBool) (hasset || hasattr);
  PetscCall(KDSplitOwnership(comm, n, &obs->nlocal, &obs->gstart));
  nl = obs->nlocal;
  PetscCall(PetscMalloc3(nl * d, &pts, nl * m, &val, hasset ? nl * m : 0, &sig));
  PetscCall(KDH5ReadRows(h5, "points", 2, pdims, obs->gstart, nl, pts));
  PetscCall(KDH5ReadRows(h5, "values", 2, vdims, obs->gstart, nl, val));
  if (hasset) PetscCall(KDH5ReadRows(h5, "sigma", 2, sdims, obs->gstart, nl, sig));
  PetscCall(PetscMalloc1(nl * nin, &obs->x));
  PetscCall(PetscCalloc1(nl * nout, &obs->y));
  if (hasset || hasattr) PetscCall(PetscCalloc1(nl * nout, &obs->w));
  for (PetscInt p = 0; p < nl; p++)
    for (PetscInt c = 0; c < d; c++) obs->x[p * nin + icol[c]] = pts[p * d + c];
  for (PetscInt c = 0; c < m; c++) {
    const PetscInt o = ocol[c];
    obs->observed[o] = PETSC_TRUE;
    for (PetscInt p = 0; p < nl; p++) {
      obs->y[o * nl + p] = val[p * m + c];
      if (obs->w) {
        const PetscReal sg = hasset ? sig[p * m + c] : sigma;
        obs->w[o * nl + p] = 1.0 / (sg * sg);
      }
    }
  }
  PetscCall(KDObservationCheck(comm, pde, file, obs, d, m, pts, val, hasset ? sig : NULL));
  PetscCall(PetscFree3(pts, val, sig));
  PetscFunctionReturn(0);
}

/*@C
  KDObservationsRead - Reads this rank's rows of an observation file (docs/inverse.md) for a PDE's network: the rows of
  the global indices it owns (KDSplitOwnership()), columns matched by name to the PDE's inputs and outputs, and
  checks them (one error line naming the file and the row for a missing dataset, a wrong column count, an unknown
  name, a NaN or Inf, a point outside the domain, a sigma that is not positive).

  Collective

  Output Parameter:
. obs - n, nlocal, gstart; x (network input order), y and w (network output order; w = 1/sigma^2, NULL without
        sigma); observed[o] for each output. Free with KDObservationsReset().

.seealso: KDLossSetFromOptions() (-<prefix>observations), KDValidateObservations()
@*/
PetscErrorCode KDObservationsRead(MPI_Comm comm, KDPDE pde, const char file[], KDObservations *obs)
{
  hid_t h5 = -1;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(obs, sizeof(*obs)));
  PetscCall(KDH5Open(comm, file, &h5));
  ierr = KDObservationsRead_Private(comm, pde, file, h5, obs);
  if (!ierr) ierr = KDH5Close(&h5);
  if (ierr) { /* nothing left open or allocated */
    PetscCall(KDH5CloseAll(&h5));
    PetscCall(KDObservationsReset(obs));
    PetscCall(ierr);
  }
  PetscFunctionReturn(0);
}

/*@C
  KDObservationsReset - Frees what KDObservationsRead() allocated.

  Not collective
@*/
PetscErrorCode KDObservationsReset(KDObservations *obs)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(obs->x));
  PetscCall(PetscFree(obs->y));
  PetscCall(PetscFree(obs->w));
  obs->nlocal = obs->n = 0;
  PetscFunctionReturn(0);
}

/*
  KDLossSetUpObservations - Adds the observation term "obs" from -<prefix>observations: this rank's rows of the file,
  columns matched by name. Collective.
*/
PetscErrorCode KDLossSetUpObservations(KDLoss loss)
{
  KDObservations obs;
  KDPointSet *s;
  PetscInt nin, nout;

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(loss->pde, &nin, &nout, NULL));
  PetscCall(KDObservationsRead(loss->comm, loss->pde, loss->observations, &obs));
  loss->obs_sigma = obs.sigma;
  PetscCall(KDLossAddSet(loss, "obs", &KDTermValue, -1, obs.n, loss->w_obs, &s));
  PetscCheck(s->nlocal == obs.nlocal && s->gstart == obs.gstart, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "observation rows not split as point sets");
  PetscCall(PetscArraycpy(s->x, obs.x, obs.nlocal * nin));
  PetscCall(PetscArraycpy(s->target, obs.y, obs.nlocal * nout));
  for (PetscInt o = 0; o < nout; o++) s->mask[o] = obs.observed[o];
  s->wt = obs.w; /* the set takes it */
  obs.w = NULL;
  PetscCall(KDObservationsReset(&obs));
  PetscFunctionReturn(0);
}
