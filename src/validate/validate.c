#include <kdvalidate.h>
#include <string.h>

/*
  Validation kernels: a network against the reference fields of one level. The level's fields are row-block
  distributed Vecs in natural order (kdreference.h); each rank evaluates the cells of its own rows, and the global
  sums and maxima come from MPI_Allreduce, so the numbers depend on the rank count only through the order of the
  floating-point sums.
*/

const char *const KDValidateSamplings[] = {"point", "cell_average", "KDValidateSampling", "KD_VALIDATE_", NULL};

static PetscLogEvent KD_ValidateCompare, KD_ValidateResidual;

static PetscErrorCode KDValidateRegisterEvents(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBegin;
  if (done) PetscFunctionReturn(0);
  done = PETSC_TRUE;
  PetscCall(KDRegisterAll());
  PetscCall(PetscLogEventRegister("KDValidateCompare", KD_CLASSID, &KD_ValidateCompare));
  PetscCall(PetscLogEventRegister("KDValidateResidual", KD_CLASSID, &KD_ValidateResidual));
  PetscFunctionReturn(0);
}

/* The level's grid, the axis of each network input, this rank's first cell and cell count (whole rows of axis 0). */
typedef struct {
  PetscInt dim, n[KD_MAX_DIM], map[KD_NET_MAX_IN], ncells;
  PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM], h[KD_MAX_DIM];
  PetscInt first, nlocal; /* natural index of this rank's first cell, number of local cells */
} KDValidateGrid;

static PetscErrorCode KDValidateGridGet(KDReference ref, KDPDE pde, PetscInt level, KDValidateGrid *g)
{
  const char *name;
  Vec v;
  PetscInt nin, lo, hi, nlevels;
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDReferenceGetNumLevels(ref, &nlevels));
  PetscCheck(level >= 0 && level < nlevels, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "level %" PetscInt_FMT " is not a level of the reference (it has %" PetscInt_FMT ")", level, nlevels);
  PetscCall(KDReferenceGetLevelGrid(ref, level, &g->dim, g->n, g->lo, g->hi));
  PetscCall(KDPDEGetSizes(pde, &nin, NULL, NULL));
  PetscCheck(nin == g->dim, comm, PETSC_ERR_ARG_INCOMP,
             "the reference has %" PetscInt_FMT " axes, the PDE %" PetscInt_FMT " inputs", g->dim, nin);
  PetscCall(KDPDEGetReferenceAxisMap(pde, ref, g->map));
  g->ncells = 1;
  for (PetscInt d = 0; d < g->dim; d++) {
    g->h[d] = (g->hi[d] - g->lo[d]) / (PetscReal) g->n[d];
    g->ncells *= g->n[d];
  }
  PetscCall(KDReferenceGetFieldName(ref, 0, &name));
  PetscCall(KDReferenceGetField(ref, level, name, &v));
  PetscCall(VecGetOwnershipRange(v, &lo, &hi));
  g->first  = lo;
  g->nlocal = hi - lo;
  PetscFunctionReturn(0);
}

/* Splits a natural (row-major) cell index into per-axis indices. */
static inline void KDValidateCellIndex(const KDValidateGrid *g, PetscInt c, PetscInt idx[])
{
  for (PetscInt d = g->dim - 1; d >= 0; d--) {
    idx[d] = c % g->n[d];
    c /= g->n[d];
  }
}

/* Point in network input order at cell idx, offset by off[d] cell widths from the centre along reference axis d. */
static inline void KDValidatePoint(const KDValidateGrid *g, const PetscInt idx[], const PetscReal off[], PetscReal x[])
{
  for (PetscInt i = 0; i < g->dim; i++) {
    const PetscInt d = g->map[i];
    x[i]             = g->lo[d] + ((PetscReal) idx[d] + 0.5 + (off ? off[d] : 0.0)) * g->h[d];
  }
}

/*@C
  KDValidateLevelPoints - The cell centres of a level of the reference, in network input order (the order of the PDE's
  inputs, matched to the reference axes by name).

  Collective if all is PETSC_FALSE (it queries the distributed fields' layout), otherwise not collective

  Input Parameters:
+ ref   - the reference
. pde   - the PDE (its input names)
. level - the level
- all   - PETSC_TRUE: every cell of the level; PETSC_FALSE: the cells of this rank's rows

  Output Parameters:
+ first - natural index of the first cell returned (may be NULL)
. n     - number of cells
- x     - x[p * nin + i], free with PetscFree()

.seealso: KDValidateCompare()
@*/
PetscErrorCode KDValidateLevelPoints(KDReference ref, KDPDE pde, PetscInt level, PetscBool all, PetscInt *first,
                                     PetscInt *n, PetscReal **x)
{
  KDValidateGrid g;
  PetscInt c0, nc, idx[KD_MAX_DIM];

  PetscFunctionBegin;
  PetscCall(KDValidateGridGet(ref, pde, level, &g));
  c0 = all ? 0 : g.first;
  nc = all ? g.ncells : g.nlocal;
  PetscCall(PetscMalloc1(nc * g.dim + 1, x));
  for (PetscInt p = 0; p < nc; p++) {
    KDValidateCellIndex(&g, c0 + p, idx);
    KDValidatePoint(&g, idx, NULL, *x + p * g.dim);
  }
  if (first) *first = c0;
  *n = nc;
  PetscFunctionReturn(0);
}

/* Network outputs that are reference fields: for each, the output index, the field Vec and whether its mean is removed.
 */
static PetscErrorCode KDValidateMatchFields(KDReference ref, KDPDE pde, PetscInt level, KDValidateErrors *err,
                                            PetscInt out[], Vec vec[])
{
  const char *outputs;
  char **names;
  int nnames;
  PetscInt nref, gauge = -1;
  PetscBool has;
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(KDPDEGetNames(pde, NULL, &outputs));
  PetscCall(KDPDEGetGauge(pde, &has, NULL, &gauge));
  if (!has) gauge = -1;
  PetscCall(KDReferenceGetNumFields(ref, &nref));
  PetscCall(PetscStrToArray(outputs, ',', &nnames, &names));
  err->nfields = 0;
  for (PetscInt o = 0; o < nnames && o < KD_NET_MAX_OUT; o++) {
    for (PetscInt f = 0; f < nref; f++) {
      const char *fname;
      PetscBool same;
      PetscCall(KDReferenceGetFieldName(ref, f, &fname));
      PetscCall(PetscStrcmp(fname, names[o], &same));
      if (!same) continue;
      PetscCall(PetscStrncpy(err->field[err->nfields], fname, sizeof(err->field[0])));
      err->mean_removed[err->nfields] = o == gauge ? PETSC_TRUE : PETSC_FALSE;
      out[err->nfields]               = o;
      PetscCall(KDReferenceGetField(ref, level, fname, &vec[err->nfields]));
      err->nfields++;
    }
  }
  PetscCall(PetscStrToArrayDestroy(nnames, names));
  PetscCheck(err->nfields > 0, comm, PETSC_ERR_ARG_INCOMP, "no output of the network (%s) is a field of the reference",
             outputs);
  PetscFunctionReturn(0);
}

/*@C
  KDValidateCompare - Compares a network with the reference fields of one level.

  Collective

  Input Parameters:
+ ref      - the reference
. pde      - the PDE (input and output names, the pressure gauge)
. net      - the network
. level    - the level
. sampling - KD_VALIDATE_POINT: the network's values at the cell centres; KD_VALIDATE_CELL_AVERAGE: its average over
             each cell by a tensor Gauss-Legendre rule of nquad nodes per axis
- nquad    - nodes per axis of the cell-average rule (ignored for point sampling)

  Output Parameters:
+ pred - (may be NULL) the compared values on this rank's cells, pred[f * nlocal + p] for the fields of err in order;
         a mean-removed field is shifted so that its mean equals the reference's; free with PetscFree()
- err  - errors: relative L2 over all compared outputs together and per field, max abs error

  Notes:
  Outputs are matched to reference fields by name. An output the PDE pins by a gauge (the cavity pressure) is
  compared up to a constant: pred and ref both lose their mean over the level's cells first.

.seealso: KDValidateResidualRMS(), KDValidateInferenceTime()
@*/
PetscErrorCode KDValidateCompare(KDReference ref, KDPDE pde, KDNet net, PetscInt level, KDValidateSampling sampling,
                                 PetscInt nquad, PetscReal **pred, KDValidateErrors *err)
{
  KDValidateGrid g;
  PetscInt out[KD_NET_MAX_OUT], nin, nout, nq = 1, chunk;
  Vec vec[KD_NET_MAX_OUT];
  const PetscReal *r[KD_NET_MAX_OUT];
  PetscReal *val, *x, *y, *qoff = NULL, *qw = NULL, *qx = NULL, *qwt = NULL;
  PetscReal sums[4 * KD_NET_MAX_OUT], gsums[4 * KD_NET_MAX_OUT], mx[KD_NET_MAX_OUT + 1], gmx[KD_NET_MAX_OUT + 1];
  PetscReal mean_pred[KD_NET_MAX_OUT], mean_ref[KD_NET_MAX_OUT], num = 0, den = 0;
  PetscBool anymean = PETSC_FALSE;
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(KDValidateRegisterEvents());
  PetscCall(PetscLogEventBegin(KD_ValidateCompare, 0, 0, 0, 0));
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCall(PetscMemzero(err, sizeof(*err)));
  PetscCall(KDValidateGridGet(ref, pde, level, &g));
  PetscCall(KDNetGetSizes(net, &nin, &nout, NULL));
  PetscCheck(nin == g.dim, comm, PETSC_ERR_ARG_INCOMP,
             "the network has %" PetscInt_FMT " inputs, the reference %" PetscInt_FMT " axes", nin, g.dim);
  PetscCall(KDValidateMatchFields(ref, pde, level, err, out, vec));
  for (PetscInt f = 0; f < err->nfields; f++) {
    PetscCheck(out[f] < nout, comm, PETSC_ERR_ARG_INCOMP,
               "the network has %" PetscInt_FMT " outputs, field %s is output %" PetscInt_FMT, nout, err->field[f],
               out[f]);
    if (err->mean_removed[f]) anymean = PETSC_TRUE;
  }
  err->level   = level;
  err->npoints = g.ncells;

  /* Quadrature: nodes per axis on [-1/2, 1/2] cell widths from the centre, weights summing to 1; the tensor rule's
     nodes are enumerated with axis 0 slowest. */
  if (sampling == KD_VALIDATE_CELL_AVERAGE) {
    PetscCheck(nquad >= 1 && nquad <= 16, comm, PETSC_ERR_ARG_OUTOFRANGE,
               "cell-average rule with %" PetscInt_FMT " nodes per axis: use 1 to 16", nquad);
    for (PetscInt d = 0; d < g.dim; d++) nq *= nquad;
    PetscCall(PetscMalloc4(nquad, &qx, nquad, &qw, nq * g.dim, &qoff, nq, &qwt));
    PetscCall(PetscDTGaussQuadrature(nquad, -0.5, 0.5, qx, qw));
    for (PetscInt q = 0; q < nq; q++) {
      PetscInt rem = q;
      qwt[q]       = 1.0;
      for (PetscInt d = g.dim - 1; d >= 0; d--) {
        qoff[q * g.dim + d] = qx[rem % nquad];
        qwt[q] *= qw[rem % nquad];
        rem /= nquad;
      }
    }
  }
  chunk = PetscMax(1, 16384 / nq);
  PetscCall(PetscMalloc1(err->nfields * g.nlocal + 1, &val));
  PetscCall(PetscMalloc2(chunk * nq * g.dim, &x, chunk * nq * nout, &y));
  for (PetscInt c0 = 0; c0 < g.nlocal; c0 += chunk) {
    const PetscInt m = PetscMin(chunk, g.nlocal - c0);
    PetscInt idx[KD_MAX_DIM];
    for (PetscInt p = 0; p < m; p++) {
      KDValidateCellIndex(&g, g.first + c0 + p, idx);
      for (PetscInt q = 0; q < nq; q++)
        KDValidatePoint(&g, idx, qoff ? qoff + q * g.dim : NULL, x + (p * nq + q) * g.dim);
    }
    PetscCall(KDNetEvaluate(net, m * nq, x, y));
    for (PetscInt f = 0; f < err->nfields; f++) {
      const PetscReal *yo = y + out[f] * m * nq;
      for (PetscInt p = 0; p < m; p++) {
        PetscReal s = 0;
        if (qwt)
          for (PetscInt q = 0; q < nq; q++) s += qwt[q] * yo[p * nq + q];
        else
          s = yo[p];
        val[f * g.nlocal + c0 + p] = s;
      }
    }
  }
  for (PetscInt f = 0; f < err->nfields; f++) PetscCall(VecGetArrayRead(vec[f], &r[f]));

  /* Means of the gauge-pinned fields (one reduction, only when there are any). */
  for (PetscInt f = 0; f < err->nfields; f++) {
    mean_pred[f] = mean_ref[f] = 0;
    if (!err->mean_removed[f]) continue;
    sums[2 * f] = sums[2 * f + 1] = 0;
    for (PetscInt p = 0; p < g.nlocal; p++) {
      sums[2 * f] += val[f * g.nlocal + p];
      sums[2 * f + 1] += r[f][p];
    }
  }
  if (anymean) {
    for (PetscInt f = 0; f < err->nfields; f++)
      if (!err->mean_removed[f]) sums[2 * f] = sums[2 * f + 1] = 0;
    PetscCallMPI(MPI_Allreduce(sums, gsums, (PetscMPIInt) (2 * err->nfields), MPIU_REAL, MPIU_SUM, comm));
    for (PetscInt f = 0; f < err->nfields; f++) {
      mean_pred[f] = gsums[2 * f] / (PetscReal) g.ncells;
      mean_ref[f]  = gsums[2 * f + 1] / (PetscReal) g.ncells;
    }
  }

  /* Sums of squared errors and of squared reference values per field; maxima of the errors. */
  for (PetscInt f = 0; f < err->nfields; f++) {
    PetscReal e2 = 0, r2 = 0, emax = 0;
    for (PetscInt p = 0; p < g.nlocal; p++) {
      const PetscReal rv = r[f][p] - mean_ref[f], pv = val[f * g.nlocal + p] - mean_pred[f], e = PetscAbsReal(pv - rv);
      e2 += e * e;
      r2 += rv * rv;
      if (e > emax) emax = e; /* a NaN is not dropped silently: it makes the sum NaN, see below */
      val[f * g.nlocal + p] = pv + mean_ref[f];
    }
    sums[2 * f]     = e2;
    sums[2 * f + 1] = r2;
    mx[f]           = emax;
  }
  PetscCallMPI(MPI_Allreduce(sums, gsums, (PetscMPIInt) (2 * err->nfields), MPIU_REAL, MPIU_SUM, comm));
  PetscCallMPI(MPI_Allreduce(mx, gmx, (PetscMPIInt) err->nfields, MPIU_REAL, MPIU_MAX, comm));
  err->max_err = 0;
  for (PetscInt f = 0; f < err->nfields; f++) {
    err->field_ref_l2[f]  = PetscSqrtReal(gsums[2 * f + 1]);
    err->field_rel_l2[f]  = PetscSqrtReal(gsums[2 * f]) / err->field_ref_l2[f];
    err->field_max_err[f] = gmx[f];
    /* MPI_MAX of a NaN is implementation-defined: the sums carry NaNs reliably, so take the NaN from there */
    if (PetscIsNanReal(gsums[2 * f])) err->field_max_err[f] = gsums[2 * f];
    num += gsums[2 * f];
    den += gsums[2 * f + 1];
    err->max_err = (PetscIsNanReal(err->field_max_err[f]) || err->field_max_err[f] > err->max_err)
                       ? err->field_max_err[f]
                       : err->max_err;
  }
  err->rel_l2 = PetscSqrtReal(num) / PetscSqrtReal(den);
  for (PetscInt f = 0; f < err->nfields; f++) PetscCall(VecRestoreArrayRead(vec[f], &r[f]));
  PetscCall(PetscFree2(x, y));
  if (pred)
    *pred = val;
  else
    PetscCall(PetscFree(val));
  if (qx) PetscCall(PetscFree4(qx, qw, qoff, qwt));
  PetscCall(PetscLogEventEnd(KD_ValidateCompare, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/*@C
  KDValidateResidualRMS - RMS over points and residual components of the PDE residual of a network at the cell centres
  of a level (all of them, or a regular subset).

  Collective

  Input Parameters:
+ ref       - the reference
. pde       - the PDE operator (parameters and coefficients from the reference, KDPDESetFromReference())
. net       - the network
. level     - the level
- maxpoints - at most this many cell centres (0: every cell centre). With s the smallest integer such that
              prod_d ceil(n_d / s) <= maxpoints, the cells whose every index is a multiple of s are used.

  Output Parameters:
+ rms     - sqrt(sum_{points, components} N_r[u]^2 / (points * components))
- npoints - number of points used (may be NULL)

  Notes:
  The subset is defined by global indices, so it does not depend on the number of ranks.

.seealso: KDPDEResidualNet(), KDLossResidualRMS()
@*/
PetscErrorCode KDValidateResidualRMS(KDReference ref, KDPDE pde, KDNet net, PetscInt level, PetscInt maxpoints,
                                     PetscReal *rms, PetscInt *npoints)
{
  KDValidateGrid g;
  PetscInt s = 1, nres, n = 0, ntotal = 1, idx[KD_MAX_DIM];
  PetscReal *x, *res, sum[2] = {0, 0}, gsum[2];
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(KDValidateRegisterEvents());
  PetscCall(PetscLogEventBegin(KD_ValidateResidual, 0, 0, 0, 0));
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCheck(maxpoints >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "residual points must be >= 0, got %" PetscInt_FMT,
             maxpoints);
  PetscCall(KDValidateGridGet(ref, pde, level, &g));
  PetscCall(KDPDEGetSizes(pde, NULL, NULL, &nres));
  for (;;) {
    PetscInt64 count = 1;
    for (PetscInt d = 0; d < g.dim; d++) count *= (g.n[d] + s - 1) / s;
    if (!maxpoints || count <= maxpoints) {
      ntotal = (PetscInt) count;
      break;
    }
    s++;
  }
  PetscCall(PetscMalloc1(g.nlocal * g.dim + 1, &x));
  for (PetscInt p = 0; p < g.nlocal; p++) {
    PetscBool keep = PETSC_TRUE;
    KDValidateCellIndex(&g, g.first + p, idx);
    for (PetscInt d = 0; d < g.dim; d++)
      if (idx[d] % s) keep = PETSC_FALSE;
    if (keep) KDValidatePoint(&g, idx, NULL, x + (n++) * g.dim);
  }
  PetscCall(PetscMalloc1(n * nres + 1, &res));
  PetscCall(KDPDEResidualNet(pde, net, n, x, res));
  for (PetscInt k = 0; k < n * nres; k++) sum[0] += res[k] * res[k];
  sum[1] = (PetscReal) n;
  PetscCallMPI(MPI_Allreduce(sum, gsum, 2, MPIU_REAL, MPIU_SUM, comm));
  PetscCheck((PetscInt) gsum[1] == ntotal, comm, PETSC_ERR_PLIB,
             "residual points: %g selected, %" PetscInt_FMT " expected", (double) gsum[1], ntotal);
  *rms = PetscSqrtReal(gsum[0] / (gsum[1] * (PetscReal) nres));
  if (npoints) *npoints = ntotal;
  PetscCall(PetscFree(res));
  PetscCall(PetscFree(x));
  PetscCall(PetscLogEventEnd(KD_ValidateResidual, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static int KDCompareReal(const void *a, const void *b)
{
  const PetscReal u = *(const PetscReal *) a, v = *(const PetscReal *) b;
  return u < v ? -1 : (u > v ? 1 : 0);
}

/*@C
  KDValidateInferenceTime - Wall time of evaluating a network at every cell centre of a level on one rank.

  Collective (rank 0 of the reference's communicator evaluates, the others wait for the result)

  Input Parameters:
+ ref     - the reference
. pde     - the PDE (input names)
. net     - the network
. level   - the level
- repeats - number of timed evaluations (>= 1), after one untimed warm-up evaluation

  Output Parameter:
. ms - the median of the repeats, in milliseconds, on every rank

  Notes:
  One rank evaluates the whole grid with KDNetEvaluate() (values only, no derivatives), so the time measures the
  network, not the parallel run, and is comparable between models and runs with different rank counts. Building the
  points is not timed.

.seealso: KDNetEvaluate()
@*/
PetscErrorCode KDValidateInferenceTime(KDReference ref, KDPDE pde, KDNet net, PetscInt level, PetscInt repeats,
                                       PetscReal *ms)
{
  MPI_Comm comm;
  PetscMPIInt rank;
  PetscReal median = 0;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(ref, &comm));
  PetscCheck(repeats >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-kd_validate_repeats must be >= 1, got %" PetscInt_FMT,
             repeats);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    PetscInt n, nout;
    PetscReal *x, *y, *t;
    PetscCall(KDNetGetSizes(net, NULL, &nout, NULL));
    PetscCall(KDValidateLevelPoints(ref, pde, level, PETSC_TRUE, NULL, &n, &x));
    PetscCall(PetscMalloc2(n * nout, &y, repeats, &t));
    PetscCall(KDNetEvaluate(net, n, x, y));
    for (PetscInt k = 0; k < repeats; k++) {
      PetscLogDouble t0, t1;
      PetscCall(PetscTime(&t0));
      PetscCall(KDNetEvaluate(net, n, x, y));
      PetscCall(PetscTime(&t1));
      t[k] = 1e3 * (PetscReal) (t1 - t0);
    }
    qsort(t, (size_t) repeats, sizeof(PetscReal), KDCompareReal);
    median = repeats % 2 ? t[repeats / 2] : 0.5 * (t[repeats / 2 - 1] + t[repeats / 2]);
    PetscCall(PetscFree2(y, t));
    PetscCall(PetscFree(x));
  }
  PetscCallMPI(MPI_Bcast(&median, 1, MPIU_REAL, 0, comm));
  *ms = median;
  PetscFunctionReturn(0);
}
