/*
  Import of reference data: another solver's gridded output, in the layout of one level of reference.h5
  (docs/reference-format.md, "Importing"), becomes a reference with its whole hierarchy, as `kdpinn solve` makes one.

  The group (the file's root, or FILE:/group) holds the string attribute axes ("t,x"), one 1-D dataset per axis with
  the cell-centre coordinates of a uniform grid, and one dataset per output of the PDE, dims in the order of axes.
  Everything is checked before a value is used, every check on every rank alike (the metadata is read by all), so
  that an error is one line and collective.
*/
#include <kdsolver.h>
#include "sys/kdio.h"
#include <string.h>

#define KD_IMPORT_MAX_OBJECTS 64

/* Coordinates deviating from the uniform grid by more than this fraction of a cell are refused. */
#define KD_IMPORT_UNIFORM_TOL 1e-6

typedef struct {
  int n;
  char name[KD_IMPORT_MAX_OBJECTS][64];
  int toolong;
} KDImportNames;

static herr_t KDImportCollectName(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
  KDImportNames *c = (KDImportNames *) data;

  (void) group;
  (void) info;
  if (c->n >= KD_IMPORT_MAX_OBJECTS || strlen(name) >= sizeof(c->name[0])) {
    c->toolong = 1;
    return 1;
  }
  (void) snprintf(c->name[c->n++], sizeof(c->name[0]), "%s", name);
  return 0;
}

/* Splits FILE[:/group] at the last ":/" (a file name may contain colons, a group starts with a slash). */
static PetscErrorCode KDImportSplitSpec(MPI_Comm comm, const char spec[], char file[], size_t flen, char group[],
                                        size_t glen)
{
  const char *colon = NULL;
  size_t len;

  PetscFunctionBegin;
  for (const char *c = spec; (c = strstr(c, ":/")); c++) colon = c;
  PetscCall(PetscStrlen(spec, &len));
  PetscCheck(len > 0 && (!colon || colon > spec), comm, PETSC_ERR_ARG_WRONG, "-kd_import_file '%s': no file name",
             spec);
  PetscCheck(!colon || strlen(colon + 1) < glen, comm, PETSC_ERR_ARG_SIZ, "-kd_import_file %s: group name too long",
             spec);
  if (colon) {
    PetscCheck((size_t) (colon - spec) < flen, comm, PETSC_ERR_ARG_SIZ, "-kd_import_file %s: path too long", spec);
    memcpy(file, spec, (size_t) (colon - spec));
    file[colon - spec] = 0;
    PetscCall(PetscStrncpy(group, colon + 1, glen));
  } else {
    PetscCheck(len < flen, comm, PETSC_ERR_ARG_SIZ, "-kd_import_file %s: path too long", spec);
    PetscCall(PetscStrncpy(file, spec, flen));
    PetscCall(PetscStrncpy(group, "/", glen));
  }
  PetscFunctionReturn(0);
}

/* The type class and the dims of a dataset of the group, or dim = 0 if the object is not a dataset. */
static PetscErrorCode KDImportDataset(hid_t g, const char name[], H5T_class_t *cls, PetscInt *dim, PetscInt dims[])
{
  hid_t dset, space, type;
  hsize_t hdims[KD_H5_MAX_DIM];
  int nd;

  PetscFunctionBegin;
  *dim = 0;
  dset = H5Dopen2(g, name, H5P_DEFAULT);
  if (dset < 0) PetscFunctionReturn(0);
  type = H5Dget_type(dset);
  PetscCallH5(type);
  *cls = H5Tget_class(type);
  PetscCallH5(H5Tclose(type));
  space = H5Dget_space(dset);
  PetscCallH5(space);
  nd = H5Sget_simple_extent_ndims(space);
  if (nd >= 1 && nd <= KD_H5_MAX_DIM) {
    PetscCallH5(H5Sget_simple_extent_dims(space, hdims, NULL));
    for (int d = 0; d < nd; d++) dims[d] = (PetscInt) hdims[d];
    *dim = nd;
  } else
    *dim = -1;
  PetscCallH5(H5Sclose(space));
  PetscCallH5(H5Dclose(dset));
  PetscFunctionReturn(0);
}

/* Axis d: a 1-D float dataset of n >= 2 increasing, uniformly spaced cell centres; its box [lo, hi]. */
static PetscErrorCode KDImportAxis(MPI_Comm comm, hid_t g, const char where[], const char name[], PetscInt *n,
                                   PetscReal *lo, PetscReal *hi)
{
  H5T_class_t cls = H5T_NO_CLASS;
  PetscInt dim, dims[KD_H5_MAX_DIM];
  PetscReal *x, h, worst = 0;
  PetscInt iworst = 0;

  PetscFunctionBegin;
  PetscCheck(H5Lexists(g, name, H5P_DEFAULT) > 0, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: no coordinate dataset for the axis '%s'", where, name);
  PetscCall(KDImportDataset(g, name, &cls, &dim, dims));
  PetscCheck(dim == 1 && (cls == H5T_FLOAT || cls == H5T_INTEGER), comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: the coordinates of axis '%s' must be a 1-D numeric dataset", where, name);
  PetscCheck(dims[0] >= 2, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: axis '%s' has %" PetscInt_FMT " cell(s); at least 2 are needed to know its spacing", where, name,
             dims[0]);
  PetscCall(PetscMalloc1(dims[0], &x));
  {
    hid_t dset = H5Dopen2(g, name, H5P_DEFAULT);
    PetscCallH5(dset);
    PetscCallH5(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x));
    PetscCallH5(H5Dclose(dset));
  }
  h = (x[dims[0] - 1] - x[0]) / (PetscReal) (dims[0] - 1);
  for (PetscInt i = 0; i < dims[0]; i++) {
    const PetscReal dev = PetscAbsReal(x[i] - (x[0] + (PetscReal) i * h));
    PetscCheck(PetscIsNormalReal(x[i]) || x[i] == 0, comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: coordinate %" PetscInt_FMT " of axis '%s' is not finite", where, i, name);
    if (dev > worst) worst = dev, iworst = i;
  }
  PetscCheck(h > 0, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: the coordinates of axis '%s' must increase", where, name);
  PetscCheck(worst <= KD_IMPORT_UNIFORM_TOL * h, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: axis '%s' is not uniform: coordinate %" PetscInt_FMT " is %.3g cells off the uniform grid (at most "
             "%g)",
             where, name, iworst, (double) (worst / h), KD_IMPORT_UNIFORM_TOL);
  *n  = dims[0];
  *lo = x[0] - 0.5 * h;
  *hi = x[dims[0] - 1] + 0.5 * h;
  PetscCall(PetscFree(x));
  PetscFunctionReturn(0);
}

/* The axes (the PDE's inputs, in any order) and their coordinates: the reference's level-0 grid. */
static PetscErrorCode KDImportGrid(MPI_Comm comm, hid_t g, const char where[], KDPDE pde, const char axes[],
                                   PetscInt levels, PetscInt coarsen, KDReference r)
{
  const PetscInt blocks = (PetscInt) 1 << (levels + coarsen - 1);
  const char *inputs, *type;
  char **axis, **in;
  int naxes, ni;
  PetscInt n[KD_MAX_DIM];
  PetscReal lo[KD_MAX_DIM], hi[KD_MAX_DIM];

  PetscFunctionBegin;
  PetscCall(KDPDEGetType(pde, &type));
  PetscCall(KDPDEGetNames(pde, &inputs, NULL));
  PetscCall(PetscStrToArray(axes, ',', &naxes, &axis));
  PetscCall(PetscStrToArray(inputs, ',', &ni, &in));
  PetscCheck(naxes == ni, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: axes '%s' do not match the inputs '%s' of PDE %s",
             where, axes, inputs, type);
  for (int d = 0; d < naxes; d++) {
    PetscBool isinput = PETSC_FALSE;
    for (int i = 0; i < ni; i++) {
      PetscBool same;
      PetscCall(PetscStrcmp(axis[d], in[i], &same));
      isinput = (PetscBool) (isinput || same);
    }
    PetscCheck(isinput, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: axes '%s' do not match the inputs '%s' of PDE %s", where,
               axes, inputs, type);
    for (int e = 0; e < d; e++) {
      PetscBool same;
      PetscCall(PetscStrcmp(axis[d], axis[e], &same));
      PetscCheck(!same, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: axes '%s' name '%s' twice (inputs of PDE %s: %s)", where,
                 axes, axis[d], type, inputs);
    }
    PetscCall(KDImportAxis(comm, g, where, axis[d], &n[d], &lo[d], &hi[d]));
    PetscCheck(n[d] % blocks == 0, comm, PETSC_ERR_ARG_INCOMP,
               "%s: axis '%s' has %" PetscInt_FMT " cells, not divisible by 2^(%s-1) = %" PetscInt_FMT
               " (each coarser level halves every axis)",
               where, axis[d], n[d], coarsen ? "kd_levels+kd_reference_coarsen" : "kd_levels", blocks);
  }
  PetscCall(KDReferenceSetGrid(r, naxes, axes, n, lo, hi));
  PetscCall(PetscStrToArrayDestroy(naxes, axis));
  PetscCall(PetscStrToArrayDestroy(ni, in));
  PetscFunctionReturn(0);
}

/* Every object of the group is an axis or an output of the PDE. */
static PetscErrorCode KDImportCheckObjects(MPI_Comm comm, hid_t g, const char where[], KDPDE pde, const char axes[])
{
  const char *outnames, *type;
  KDImportNames names;
  char list[512];

  PetscFunctionBegin;
  PetscCall(KDPDEGetType(pde, &type));
  PetscCall(KDPDEGetNames(pde, NULL, &outnames));
  PetscCall(PetscMemzero(&names, sizeof(names)));
  PetscCallH5(H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, KDImportCollectName, &names));
  PetscCheck(!names.toolong, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: more than %d objects, or a name too long", where,
             KD_IMPORT_MAX_OBJECTS);
  PetscCall(PetscSNPrintf(list, sizeof(list), ",%s,%s,", axes, outnames));
  for (int k = 0; k < names.n; k++) {
    char key[80];
    PetscCall(PetscSNPrintf(key, sizeof(key), ",%s,", names.name[k]));
    PetscCheck(strstr(list, key), comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: '%s' is neither an axis (%s) nor an output of PDE %s (%s)", where, names.name[k], axes, type,
               outnames);
  }
  PetscFunctionReturn(0);
}

/* Output `name`: a numeric dataset with the shape of the grid, finite; this rank's rows of level 0. */
static PetscErrorCode KDImportField(MPI_Comm comm, hid_t g, const char where[], KDPDE pde, KDReference r,
                                    const char name[])
{
  H5T_class_t cls = H5T_NO_CLASS;
  PetscInt dim, dims[KD_H5_MAX_DIM], n[KD_MAX_DIM], gdim, rlen = 1, lo0, hi0, bad = -1;
  const char *axes, *outnames, *type;
  char **axis;
  int naxes;
  Vec v;
  PetscScalar *a;

  PetscFunctionBegin;
  PetscCall(KDPDEGetType(pde, &type));
  PetscCall(KDPDEGetNames(pde, NULL, &outnames));
  PetscCall(KDReferenceGetAxes(r, &axes));
  PetscCall(KDReferenceGetLevelGrid(r, 0, &gdim, n, NULL, NULL));
  PetscCheck(H5Lexists(g, name, H5P_DEFAULT) > 0, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: no field '%s' (PDE %s has the outputs %s)", where, name, type, outnames);
  PetscCall(KDImportDataset(g, name, &cls, &dim, dims));
  PetscCheck(dim > 0 && (cls == H5T_FLOAT || cls == H5T_INTEGER), comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: field '%s' is not a numeric dataset", where, name);
  PetscCheck(dim == gdim, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: field '%s' has %" PetscInt_FMT " dimensions, the axes '%s' %" PetscInt_FMT, where, name, dim, axes,
             gdim);
  PetscCall(PetscStrToArray(axes, ',', &naxes, &axis));
  for (int d = 0; d < naxes; d++)
    PetscCheck(dims[d] == n[d], comm, PETSC_ERR_FILE_UNEXPECTED,
               "%s: field '%s' has %" PetscInt_FMT " entries along axis '%s', its coordinates %" PetscInt_FMT, where,
               name, dims[d], axis[d], n[d]);
  PetscCall(PetscStrToArrayDestroy(naxes, axis));
  for (PetscInt d = 1; d < gdim; d++) rlen *= n[d];
  PetscCall(KDReferenceCreateLevelVec(r, 0, &v));
  PetscCall(VecGetOwnershipRange(v, &lo0, &hi0));
  PetscCall(VecGetArray(v, &a));
  PetscCall(KDH5ReadRows(g, name, dim, dims, lo0 / rlen, (hi0 - lo0) / rlen, a));
  for (PetscInt i = 0; i < hi0 - lo0 && bad < 0; i++)
    if (PetscIsInfOrNanReal(PetscRealPart(a[i]))) bad = lo0 + i;
  PetscCall(VecRestoreArray(v, &a));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_MAX, comm));
  PetscCheck(bad < 0, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: field '%s' is not finite (NaN or infinity) at entry %" PetscInt_FMT " (row-major)", where, name, bad);
  PetscCall(KDReferenceAddField(r, name, v));
  PetscCall(VecDestroy(&v));
  PetscFunctionReturn(0);
}

/*@C
  KDReferenceImport - Reads one level of reference data written by another solver and builds the reference: the
  PDE's record (KDPDEWriteReference(): type and parameters), the level-0 grid and fields, the hierarchy of levels
  levels by cell averaging, and the string attribute source = "import <spec>".

  Collective

  Input Parameters:
+ comm    - the communicator (every rank reads its rows of the fields)
. spec    - FILE or FILE:/group
. pde     - the PDE the data solve (its inputs name the axes, its outputs the fields)
. levels  - levels of the hierarchy
- coarsen - 0, or K > 0: level 0 is the imported grid coarsened K times (KDReferenceSetCoarsening(); option
            -kd_reference_coarsen): a solution finer than the grid the models are validated on

  Output Parameter:
. ref - the reference, ready for KDReferenceWrite()

  Notes:
  One-line errors for a missing file or group, a missing or non-string axes attribute, axes that are not the PDE's
  inputs each once, a
  missing, non-numeric, non-uniform or decreasing coordinate array, a missing field or a dataset that is neither an
  axis nor an output, a field whose shape is not that of the axes, a NaN or infinity in a field, and a number of cells
  not divisible by 2^(levels+coarsen-1) on some axis.

.seealso: KDStageImport(), KDReferenceBuildHierarchy()
@*/
PetscErrorCode KDReferenceImport(MPI_Comm comm, const char spec[], KDPDE pde, PetscInt levels, PetscInt coarsen,
                                 KDReference *ref)
{
  char file[PETSC_MAX_PATH_LEN], gname[256], where[PETSC_MAX_PATH_LEN + 256], axes[256];
  char source[PETSC_MAX_PATH_LEN + 300], **outputs;
  int nout;
  const char *inputs, *outnames;
  hid_t fid = -1, g;
  KDReference r;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(KDImportSplitSpec(comm, spec, file, sizeof(file), gname, sizeof(gname)));
  PetscCall(PetscSNPrintf(where, sizeof(where), "%s:%s", file, gname));
  PetscCall(KDPDEGetNames(pde, &inputs, &outnames));
  PetscCall(KDH5Open(comm, file, &fid));
  PetscCheck(H5Lexists(fid, gname, H5P_DEFAULT) > 0 || !strcmp(gname, "/"), comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: no such group", where);
  g = H5Gopen2(fid, gname, H5P_DEFAULT);
  PetscCheck(g >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "%s: not a group", where);
  PetscCheck(H5Aexists(g, "axes") > 0, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: no string attribute 'axes' naming the axes of the fields (e.g. \"%s\")", where, inputs);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); /* every rank reads the same attribute */
  ierr = KDH5ReadAttrString(g, "axes", axes, sizeof(axes));
  PetscCall(PetscPopErrorHandler());
  PetscCheck(!ierr, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s: attribute 'axes' must be a string of at most %d characters naming the axes (e.g. \"%s\")", where,
             (int) sizeof(axes) - 1, inputs);
  PetscCall(KDReferenceCreate(comm, &r));
  PetscCall(KDReferenceSetCoarsening(r, coarsen));
  PetscCall(KDReferenceSetNumLevels(r, levels));
  PetscCheck(levels + coarsen <= KD_MAX_LEVELS, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "-kd_levels %" PetscInt_FMT " with -kd_reference_coarsen %" PetscInt_FMT " make more than %d grids",
             levels, coarsen, KD_MAX_LEVELS);
  PetscCall(KDImportGrid(comm, g, where, pde, axes, levels, coarsen, r));
  PetscCall(KDImportCheckObjects(comm, g, where, pde, axes));
  PetscCall(PetscStrToArray(outnames, ',', &nout, &outputs));
  for (int o = 0; o < nout; o++) PetscCall(KDImportField(comm, g, where, pde, r, outputs[o]));
  PetscCall(PetscStrToArrayDestroy(nout, outputs));
  PetscCallH5(H5Gclose(g));
  PetscCall(KDH5Close(&fid));

  PetscCall(KDPDEWriteReference(pde, r));
  PetscCall(PetscSNPrintf(source, sizeof(source), "import %s", where));
  PetscCall(KDReferenceSetString(r, "source", source));
  PetscCall(KDReferenceBuildHierarchy(r, levels));
  *ref = r;
  PetscFunctionReturn(0);
}
