#include <kdvalidate.h>
#include <kdtrain.h>
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
  PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM];
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
  for (PetscInt d = 0; d < g->dim; d++) g->ncells *= g->n[d];
  PetscCall(KDReferenceGetFieldName(ref, 0, &name));
  PetscCall(KDReferenceGetField(ref, level, name, &v));
  PetscCall(VecGetOwnershipRange(v, &lo, &hi));
  g->first  = lo;
  g->nlocal = hi - lo;
  PetscFunctionReturn(0);
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
  PetscInt c0, nc;
  PetscInt64 *cells;

  PetscFunctionBegin;
  PetscCall(KDValidateGridGet(ref, pde, level, &g));
  c0 = all ? 0 : g.first;
  nc = all ? g.ncells : g.nlocal;
  PetscCall(PetscMalloc1(nc * g.dim + 1, x));
  PetscCall(PetscMalloc1(nc + 1, &cells));
  for (PetscInt p = 0; p < nc; p++) cells[p] = c0 + p;
  PetscCall(KDReferenceGetCellCentres(ref, level, g.dim, g.map, NULL, nc, cells, *x));
  PetscCall(PetscFree(cells));
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

/* The cell rule of a sampling: nq nodes, node q at offset off[q * dim + d] cell widths from the centre along axis d,
   weight w[q] (summing to 1); point sampling is the centre with weight 1. Tensor Gauss-Legendre (KDGaussLegendre())
   with axis 0 slowest. */
static PetscErrorCode KDValidateCellRule(MPI_Comm comm, PetscInt dim, KDValidateSampling sampling, PetscInt nquad,
                                         PetscInt *nq, PetscReal **off, PetscReal **w)
{
  PetscReal node[16], weight[16];

  PetscFunctionBegin;
  *nq = 1;
  if (sampling == KD_VALIDATE_CELL_AVERAGE) {
    PetscCheck(nquad >= 1 && nquad <= 16, comm, PETSC_ERR_ARG_OUTOFRANGE,
               "cell-average rule with %" PetscInt_FMT " nodes per axis: use 1 to 16", nquad);
    PetscCall(KDGaussLegendre(nquad, node, weight));
    for (PetscInt d = 0; d < dim; d++) *nq *= nquad;
  } else {
    nquad     = 1;
    node[0]   = 0.0;
    weight[0] = 1.0;
  }
  PetscCall(PetscMalloc2(*nq * dim, off, *nq, w));
  for (PetscInt q = 0; q < *nq; q++) {
    PetscInt rem = q;
    (*w)[q]      = 1.0;
    for (PetscInt d = dim - 1; d >= 0; d--) {
      (*off)[q * dim + d] = 0.5 * node[rem % nquad];
      (*w)[q] *= weight[rem % nquad];
      rem /= nquad;
    }
  }
  PetscFunctionReturn(0);
}

/* The network's values on this rank's cells by a cell rule: val[j * nlocal + p] for output out[j], j < nval. */
static PetscErrorCode KDValidateEvaluateCells(KDReference ref, KDNet net, PetscInt level, const KDValidateGrid *g,
                                              PetscInt nq, const PetscReal off[], const PetscReal w[], PetscInt nval,
                                              const PetscInt out[], PetscReal val[])
{
  const PetscInt chunk = PetscMax(1, 16384 / nq);
  PetscInt nout;
  PetscInt64 *cells;
  PetscReal *x, *xq, *y;

  PetscFunctionBegin;
  PetscCall(KDNetGetSizes(net, NULL, &nout, NULL));
  PetscCall(PetscMalloc4(chunk * nq * g->dim, &x, chunk * g->dim, &xq, chunk * nq * nout, &y, chunk, &cells));
  for (PetscInt c0 = 0; c0 < g->nlocal; c0 += chunk) {
    const PetscInt m = PetscMin(chunk, g->nlocal - c0);
    for (PetscInt p = 0; p < m; p++) cells[p] = g->first + c0 + p;
    /* node q of every cell: the points are cell-major, node-minor */
    for (PetscInt q = 0; q < nq; q++) {
      PetscCall(KDReferenceGetCellCentres(ref, level, g->dim, g->map, nq > 1 ? off + q * g->dim : NULL, m, cells, xq));
      for (PetscInt p = 0; p < m; p++)
        for (PetscInt i = 0; i < g->dim; i++) x[(p * nq + q) * g->dim + i] = xq[p * g->dim + i];
    }
    PetscCall(KDNetEvaluate(net, m * nq, x, y));
    for (PetscInt j = 0; j < nval; j++) {
      const PetscReal *yo = y + out[j] * m * nq;
      for (PetscInt p = 0; p < m; p++) {
        PetscReal v = 0;
        if (nq > 1)
          for (PetscInt q = 0; q < nq; q++) v += w[q] * yo[p * nq + q];
        else
          v = yo[p];
        val[j * g->nlocal + c0 + p] = v;
      }
    }
  }
  PetscCall(PetscFree4(x, xq, y, cells));
  PetscFunctionReturn(0);
}

/*@C
  KDValidateFieldErrors - The errors of predicted fields against reference fields distributed over the ranks: relative
  L2 per field and over all fields together, maximum absolute error; a field whose mean_removed flag is set (a
  gauge-pinned output, e.g. the cavity pressure) is compared up to a constant: both have their global mean removed.

  Collective (three reductions at most)

  Input Parameters:
+ comm    - the communicator the fields are distributed over
. nfields - number of fields (err->nfields is set to it; err->field[] and err->mean_removed[] are the caller's)
. n       - values of each field on this rank
. N       - values of each field on all ranks (for the means)
. ref     - ref[f]: this rank's reference values of field f
- pred    - pred[f * n + p]: this rank's predicted values; on exit, a mean-removed field is shifted so that its mean
            equals the reference's (the field as it is compared)

  Output Parameter:
. err - rel_l2, max_err, field_rel_l2, field_max_err, field_ref_l2

  Notes:
  A NaN in the prediction is not dropped silently: it makes the sums, and so the errors, NaN.

.seealso: KDValidateCompare()
@*/
PetscErrorCode KDValidateFieldErrors(MPI_Comm comm, PetscInt nfields, PetscInt n, PetscInt N, const PetscReal *ref[],
                                     PetscReal pred[], KDValidateErrors *err)
{
  PetscReal sums[2 * KD_NET_MAX_OUT], gsums[2 * KD_NET_MAX_OUT], mx[KD_NET_MAX_OUT], gmx[KD_NET_MAX_OUT];
  PetscReal mean_pred[KD_NET_MAX_OUT], mean_ref[KD_NET_MAX_OUT], num = 0, den = 0;
  PetscBool anymean = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCheck(nfields >= 1 && nfields <= KD_NET_MAX_OUT, comm, PETSC_ERR_ARG_OUTOFRANGE, "%" PetscInt_FMT " fields",
             nfields);
  err->nfields = nfields;
  /* Means of the gauge-pinned fields (one reduction, only when there are any). */
  for (PetscInt f = 0; f < nfields; f++) {
    mean_pred[f] = mean_ref[f] = 0;
    sums[2 * f] = sums[2 * f + 1] = 0;
    if (!err->mean_removed[f]) continue;
    anymean = PETSC_TRUE;
    for (PetscInt p = 0; p < n; p++) {
      sums[2 * f] += pred[f * n + p];
      sums[2 * f + 1] += ref[f][p];
    }
  }
  if (anymean) {
    PetscCallMPI(MPI_Allreduce(sums, gsums, (PetscMPIInt) (2 * nfields), MPIU_REAL, MPIU_SUM, comm));
    for (PetscInt f = 0; f < nfields; f++) {
      if (!err->mean_removed[f]) continue;
      mean_pred[f] = gsums[2 * f] / (PetscReal) N;
      mean_ref[f]  = gsums[2 * f + 1] / (PetscReal) N;
    }
  }
  /* Sums of squared errors and of squared reference values per field; maxima of the errors. */
  for (PetscInt f = 0; f < nfields; f++) {
    PetscReal e2 = 0, r2 = 0, emax = 0;
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal rv = ref[f][p] - mean_ref[f], pv = pred[f * n + p] - mean_pred[f], e = PetscAbsReal(pv - rv);
      e2 += e * e;
      r2 += rv * rv;
      if (e > emax) emax = e;
      pred[f * n + p] = pv + mean_ref[f];
    }
    sums[2 * f]     = e2;
    sums[2 * f + 1] = r2;
    mx[f]           = emax;
  }
  PetscCallMPI(MPI_Allreduce(sums, gsums, (PetscMPIInt) (2 * nfields), MPIU_REAL, MPIU_SUM, comm));
  PetscCallMPI(MPI_Allreduce(mx, gmx, (PetscMPIInt) nfields, MPIU_REAL, MPIU_MAX, comm));
  err->max_err = 0;
  for (PetscInt f = 0; f < nfields; f++) {
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
  PetscFunctionReturn(0);
}

/*@C
  KDValidateGetSampling - How a network of level model_level is compared with the reference of level `level`.

  Not Collective

  Input Parameters:
+ ref         - the reference, or NULL (none: a network compared with observations, by point values)
. model_level - the level the network was trained for
- level       - the level compared with

  Output Parameter:
. sampling - KD_VALIDATE_POINT on the network's own level; KD_VALIDATE_CELL_AVERAGE on a coarser one, and on level 0
             too when that level holds the cell averages of a finer solve (KDReferenceGetCoarsening())

  Notes:
  kdpinn validate and -kd_monitor_error both take their sampling from here, so that the monitor prints the figure
  validate reports.

.seealso: KDValidateCompare(), KDReferenceGetCoarsening()
@*/
PetscErrorCode KDValidateGetSampling(KDReference ref, PetscInt model_level, PetscInt level,
                                     KDValidateSampling *sampling)
{
  PetscInt coarsen = 0;

  PetscFunctionBegin;
  if (ref) PetscCall(KDReferenceGetCoarsening(ref, &coarsen));
  *sampling = level == model_level && !(level == 0 && coarsen > 0) ? KD_VALIDATE_POINT : KD_VALIDATE_CELL_AVERAGE;
  PetscFunctionReturn(0);
}

/*@C
  KDValidateCompare - Compares a network with the reference fields of one level.

  Collective

  Input Parameters:
+ ref      - the reference
. pde      - the PDE (input and output names, the gauge)
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
  compared up to a constant: pred and ref both lose their mean over the level's cells first (KDValidateFieldErrors()).

.seealso: KDValidateResidualRMS(), KDValidateInferenceTime(), KDValidateFieldErrors()
@*/
PetscErrorCode KDValidateCompare(KDReference ref, KDPDE pde, KDNet net, PetscInt level, KDValidateSampling sampling,
                                 PetscInt nquad, PetscReal **pred, KDValidateErrors *err)
{
  KDValidateGrid g;
  PetscInt out[KD_NET_MAX_OUT], nin, nout, nq;
  Vec vec[KD_NET_MAX_OUT];
  const PetscReal *r[KD_NET_MAX_OUT];
  PetscReal *val, *off, *w;
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
  for (PetscInt f = 0; f < err->nfields; f++)
    PetscCheck(out[f] < nout, comm, PETSC_ERR_ARG_INCOMP,
               "the network has %" PetscInt_FMT " outputs, field %s is output %" PetscInt_FMT, nout, err->field[f],
               out[f]);
  err->level   = level;
  err->npoints = g.ncells;
  PetscCall(KDValidateCellRule(comm, g.dim, sampling, nquad, &nq, &off, &w));
  PetscCall(PetscMalloc1(err->nfields * g.nlocal + 1, &val));
  PetscCall(KDValidateEvaluateCells(ref, net, level, &g, nq, off, w, err->nfields, out, val));
  for (PetscInt f = 0; f < err->nfields; f++) PetscCall(VecGetArrayRead(vec[f], &r[f]));
  PetscCall(KDValidateFieldErrors(comm, err->nfields, g.nlocal, g.ncells, r, val, err));
  for (PetscInt f = 0; f < err->nfields; f++) PetscCall(VecRestoreArrayRead(vec[f], &r[f]));
  if (pred)
    *pred = val;
  else
    PetscCall(PetscFree(val));
  PetscCall(PetscFree2(off, w));
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
  PetscInt s = 1, nres, n = 0, ntotal = 1;
  PetscInt64 *cells;
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
  PetscCall(PetscMalloc2(g.nlocal * g.dim + 1, &x, g.nlocal + 1, &cells));
  for (PetscInt p = 0; p < g.nlocal; p++) {
    PetscBool keep = PETSC_TRUE;
    PetscInt c     = g.first + p;
    for (PetscInt d = g.dim - 1; d >= 0; d--) {
      if ((c % g.n[d]) % s) keep = PETSC_FALSE;
      c /= g.n[d];
    }
    if (keep) cells[n++] = g.first + p;
  }
  PetscCall(KDReferenceGetCellCentres(ref, level, g.dim, g.map, NULL, n, cells, x));
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
  PetscCall(PetscFree2(x, cells));
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

/*@C
  KDValidateCoefficientField - Compares a coefficient field learned from data (the network of log k,
  -teacher_infer_field) with the PDE's own coefficient (the truth its problem data define) at the cell centres of an
  n^d grid over the spatial box of the PDE's domain.

  Not collective (every rank computes the same numbers)

  Input Parameters:
+ pde   - the PDE, with the true problem data (e.g. from the reference)
. field - the field's network: inputs the PDE's spatial inputs in order, one output log k
. name  - the field's name (KDPDEGetCoefficientField())
- n     - cells per axis

  Output Parameters:
+ rel_l2  - ||k_learned - k||_2 / ||k||_2 over the grid
. max_err - max |k_learned - k|
- values  - NULL, or (allocated, free with PetscFree) the grid values: [true (N), learned (N)], N = n^d, the first
            spatial input varying fastest

.seealso: KDLossGetField(), docs/inverse.md
@*/
PetscErrorCode KDValidateCoefficientField(KDPDE pde, KDNet field, const char name[], PetscInt n, PetscReal *rel_l2,
                                          PetscReal *max_err, PetscReal **values)
{
  PetscInt nin, tin, ncoef, value, grad[KD_NET_MAX_IN], nf = 0, in[KD_NET_MAX_IN], N = 1;
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN], *x, *xs, *coef, *g, *vals, s[2]    = {0, 0};

  PetscFunctionBegin;
  PetscCall(KDPDEGetSizes(pde, &nin, NULL, NULL));
  PetscCall(KDPDEGetTimeInput(pde, &tin));
  PetscCall(KDPDEGetNumCoefficients(pde, &ncoef));
  PetscCall(KDPDEGetCoefficientField(pde, name, &value, grad));
  PetscCall(KDPDEGetDomain(pde, lo, hi));
  for (PetscInt i = 0; i < nin; i++)
    if (i != tin) in[nf++] = i;
  for (PetscInt j = 0; j < nf; j++) N *= n;
  PetscCall(PetscMalloc4(N * nin, &x, N * nf, &xs, N * ncoef, &coef, N, &g));
  PetscCall(PetscMalloc1(2 * N, &vals));
  for (PetscInt p = 0; p < N; p++) {
    PetscInt rem = p;
    for (PetscInt i = 0; i < nin; i++) x[p * nin + i] = lo[i]; /* time (if any) at the start */
    for (PetscInt j = 0; j < nf; j++) {
      const PetscInt c = rem % n, i = in[j];
      rem /= n;
      x[p * nin + i] = xs[p * nf + j] = lo[i] + (c + 0.5) * (hi[i] - lo[i]) / n;
    }
  }
  PetscCall(KDPDEComputeCoefficients(pde, N, x, coef));
  PetscCall(KDNetEvaluate(field, N, xs, g));
  *max_err = 0;
  for (PetscInt p = 0; p < N; p++) {
    const PetscReal k = coef[value * N + p], kl = PetscExpReal(g[p]);
    vals[p]     = k;
    vals[N + p] = kl;
    s[0] += (kl - k) * (kl - k);
    s[1] += k * k;
    *max_err = PetscMax(*max_err, PetscAbsReal(kl - k));
  }
  *rel_l2 = PetscSqrtReal(s[0] / s[1]);
  if (values)
    *values = vals;
  else
    PetscCall(PetscFree(vals));
  PetscCall(PetscFree4(x, xs, coef, g));
  PetscFunctionReturn(0);
}

/*@C
  KDValidateObservations - The misfit of a network to an observation file (docs/inverse.md) over its observed values:
  the root mean square of u - y and the relative L2 error ||u - y|| / ||y||.

  Collective (each rank evaluates its own rows; one MPI_Allreduce)

  Output Parameters:
+ n       - the number of observed values (rows times observed outputs)
. rms     - sqrt(sum (u - y)^2 / n)
- rel_l2  - ||u - y||_2 / ||y||_2

.seealso: KDObservationsRead()
@*/
PetscErrorCode KDValidateObservations(MPI_Comm comm, KDPDE pde, KDNet net, const char file[], PetscInt *n,
                                      PetscReal *rms, PetscReal *rel_l2)
{
  KDObservations obs;
  PetscInt nout;
  PetscReal *u, s[3] = {0, 0, 0};

  PetscFunctionBegin;
  PetscCall(KDObservationsRead(comm, pde, file, &obs));
  PetscCall(KDPDEGetSizes(pde, NULL, &nout, NULL));
  PetscCall(PetscMalloc1(obs.nlocal * nout, &u));
  PetscCall(KDNetEvaluate(net, obs.nlocal, obs.x, u));
  for (PetscInt o = 0; o < nout; o++) {
    if (!obs.observed[o]) continue;
    for (PetscInt p = 0; p < obs.nlocal; p++) {
      const PetscReal y = obs.y[o * obs.nlocal + p], d = u[o * obs.nlocal + p] - y;
      s[0] += d * d;
      s[1] += y * y;
      s[2] += 1;
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, s, 3, MPIU_REAL, MPI_SUM, comm));
  *n      = (PetscInt) s[2];
  *rms    = PetscSqrtReal(s[0] / s[2]);
  *rel_l2 = s[1] > 0 ? PetscSqrtReal(s[0] / s[1]) : (PetscReal) NAN;
  PetscCall(PetscFree(u));
  PetscCall(KDObservationsReset(&obs));
  PetscFunctionReturn(0);
}

typedef struct {
  KDReference ref;
  KDPDE pde;
  KDNet net;
  PetscInt level;
  KDValidateSampling sampling; /* as kdpinn validate compares the network on that level */
  PetscReal *save;             /* the network's parameters while it is evaluated at the reported ones */
} KDValidateMonitorCtx;

static PetscErrorCode KDValidateMonitorDestroy(void **ctx)
{
  KDValidateMonitorCtx *mon = (KDValidateMonitorCtx *) *ctx;

  PetscFunctionBegin;
  PetscCall(PetscFree(mon->save));
  PetscCall(PetscFree(*ctx));
  PetscFunctionReturn(0);
}

/* One line under the trainer's progress line: the error of the network at the reported parameters, which are put in
   the network for the evaluation and taken out again (the trainer's own state is left as it was, to the bit). */
static PetscErrorCode KDValidateMonitorError(KDTrainer tr, PetscInt step, const PetscReal x[], void *ctx)
{
  KDValidateMonitorCtx *mon = (KDValidateMonitorCtx *) ctx;
  KDValidateErrors err;
  PetscReal *params, seconds;
  PetscInt n;
  const char *name;
  MPI_Comm comm;

  PetscFunctionBegin;
  PetscCall(KDReferenceGetComm(mon->ref, &comm));
  PetscCall(KDNetGetSizes(mon->net, NULL, NULL, &n));
  PetscCall(KDNetGetParameters(mon->net, &params));
  if (params != x) {
    PetscCall(PetscArraycpy(mon->save, params, n));
    PetscCall(PetscArraycpy(params, x, n));
  }
  PetscCall(
      KDValidateCompare(mon->ref, mon->pde, mon->net, mon->level, mon->sampling, KD_VALIDATE_DEFAULT_QUAD, NULL, &err));
  if (params != x) PetscCall(PetscArraycpy(params, mon->save, n));
  PetscCall(KDTrainerGetName(tr, &name));
  PetscCall(KDTrainerGetTrainTime(tr, &seconds));
  PetscCall(PetscPrintf(comm, "%6" PetscInt_FMT " %s error rel_l2 %.3e [", step, name, (double) err.rel_l2));
  for (PetscInt f = 0; f < err.nfields; f++)
    PetscCall(PetscPrintf(comm, "%s%s %.3e", f ? " " : "", err.field[f], (double) err.field_rel_l2[f]));
  PetscCall(PetscPrintf(comm, "] level %" PetscInt_FMT " at %.2f s\n", mon->level, (double) seconds));
  PetscFunctionReturn(0);
}

/*@C
  KDValidateMonitorSetFromOptions - With -kd_monitor_error, adds to a trainer's progress lines (-kd_monitor) one line
  with the network's relative L2 error against the reference of its level: the error against wall time, read off one
  run.

  Collective

  Input Parameters:
+ comm  - the trainer's communicator
. tr    - the trainer of net
. ref   - the reference (NULL: read the option only, as -help does)
. pde   - the PDE the network solves (KDPDESetFromReference())
. net   - the network the trainer trains
- level - the level it is compared with (its own: 0 for a teacher)

  Options Database Key:
. -kd_monitor_error - under each -kd_monitor line, the line
  `  step name error rel_l2 E [field E ...] level l at T s`: E as `kdpinn validate` gives it (cell centres, or cell
averages on level 0 of a coarsened reference with 3 nodes per axis; a gauge-pinned output up to a constant), T the
training wall time so far, the evaluations included

  Notes:
  The error takes one evaluation of the network at every cell centre of the level, split over the ranks: choose
  -kd_monitor_every so that it stays small against the steps between two lines.

.seealso: KDTrainerMonitorSet(), KDValidateCompare()
@*/
PetscErrorCode KDValidateMonitorSetFromOptions(MPI_Comm comm, KDTrainer tr, KDReference ref, KDPDE pde, KDNet net,
                                               PetscInt level)
{
  PetscBool on = PETSC_FALSE;
  KDValidateMonitorCtx *mon;
  PetscInt n;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "Training monitor: error against the reference", "KDValidateMonitorSetFromOptions");
  PetscCall(PetscOptionsBool("-kd_monitor_error",
                             "Under each -kd_monitor line, the model's relative L2 error against the reference of its "
                             "level",
                             "KDValidateMonitorSetFromOptions", on, &on, NULL));
  PetscOptionsEnd();
  if (!on || !net) PetscFunctionReturn(0);
  PetscCheck(ref, comm, PETSC_ERR_ARG_WRONG,
             "-kd_monitor_error: no reference.h5 in -kd_out to compare with (run `kdpinn solve` or `kdpinn import` "
             "first)");
  {
    PetscBool monitor = PETSC_FALSE;
    PetscCall(PetscOptionsGetBool(NULL, NULL, "-kd_monitor", &monitor, NULL));
    PetscCheck(monitor, comm, PETSC_ERR_ARG_INCOMP,
               "-kd_monitor_error prints under the progress lines of -kd_monitor: add -kd_monitor");
  }
  PetscCall(PetscNew(&mon));
  PetscCall(KDNetGetSizes(net, NULL, NULL, &n));
  PetscCall(PetscMalloc1(n, &mon->save));
  mon->ref   = ref;
  mon->pde   = pde;
  mon->net   = net;
  mon->level = level;
  PetscCall(KDValidateGetSampling(ref, level, level, &mon->sampling));
  PetscCall(KDTrainerMonitorSet(tr, KDValidateMonitorError, mon, KDValidateMonitorDestroy));
  PetscFunctionReturn(0);
}
