#include "sys/kdio.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/*
  HDF5 helpers. Files are opened with the MPI-IO driver on a communicator; attributes are written by every rank
  with the same value (HDF5's rule for collective metadata); N-D datasets are contiguous, row-major, and each rank
  writes or reads a block of whole rows of axis 0 with a collective transfer, so a file's bytes do not depend on the
  number of ranks that wrote it.
*/

/* The communicator each open file was created or opened on (KDH5Create(), KDH5Open()): a failed collective write is
   agreed on over it, and an error about a file's contents is raised on it. HDF5 can return a duplicate of it
   (H5Pget_fapl_mpio), but duplicating is collective, which an error path must not be. */
#define KD_H5_MAX_OPEN 64
static struct {
  hid_t file;
  MPI_Comm comm;
} KDH5OpenFiles[KD_H5_MAX_OPEN];
static int KDH5NumOpen = 0;

static void KDH5Register(hid_t file, MPI_Comm comm)
{
  if (KDH5NumOpen < KD_H5_MAX_OPEN) {
    KDH5OpenFiles[KDH5NumOpen].file = file;
    KDH5OpenFiles[KDH5NumOpen].comm = comm;
    KDH5NumOpen++;
  }
}

static void KDH5Unregister(hid_t file)
{
  for (int i = 0; i < KDH5NumOpen; i++)
    if (KDH5OpenFiles[i].file == file) {
      KDH5OpenFiles[i] = KDH5OpenFiles[--KDH5NumOpen];
      return;
    }
}

/* The communicator of the file that holds obj, and its name; PETSC_COMM_SELF for a file not opened here. */
static MPI_Comm KDH5FileComm(hid_t obj, char name[], size_t len)
{
  MPI_Comm comm = PETSC_COMM_SELF;
  hid_t fid     = H5Iget_file_id(obj);

  if (name) (void) snprintf(name, len, "HDF5 file");
  if (fid < 0) return comm;
  for (int i = 0; i < KDH5NumOpen; i++)
    if (KDH5OpenFiles[i].file == fid) comm = KDH5OpenFiles[i].comm;
  if (name && H5Fget_name(fid, name, len) < 0) (void) snprintf(name, len, "HDF5 file");
  (void) H5Fclose(fid); /* releases the identifier H5Iget_file_id() added, not the file */
  return comm;
}

/*
  KDH5FileError - Raises an error about the contents of an HDF5 file, naming the file, on the communicator the file was
  opened on: every rank reads the same bytes, and the line is to be printed once. Returns the error code, for
  PetscCall().
*/
PetscErrorCode KDH5FileError(hid_t obj, PetscErrorCode code, const char fmt[], ...)
{
  char msg[1024], fname[PETSC_MAX_PATH_LEN];
  MPI_Comm comm = KDH5FileComm(obj, fname, sizeof(fname));
  va_list ap;

  va_start(ap, fmt);
  (void) vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return PetscError(comm, __LINE__, PETSC_FUNCTION_NAME, __FILE__, code, PETSC_ERROR_INITIAL, "%s: %s", fname, msg);
}

/* After a collective write, or a close, that may have failed on some ranks only (a full disk fails the ranks whose
   blocks do not fit): every rank learns whether any failed, and all raise the same error together, so that none is
   left waiting in the next collective call. The message says how much space is left where the file is. */
static PetscErrorCode KDH5Agree(MPI_Comm comm, const char fname[], PetscBool failed, PetscBool write, const char what[])
{
  int bad = failed ? 1 : 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, comm));
  if (bad) {
    char dir[PETSC_MAX_PATH_LEN], file[PETSC_MAX_PATH_LEN], *slash;
    size_t n = strlen(fname);
    struct statvfs st;
    /* the file the user asked for, not its temporary name */
    (void) snprintf(file, sizeof(file), "%.*s", (int) (n > 5 && !strcmp(fname + n - 5, ".part") ? n - 5 : n), fname);
    fname = file;
    (void) snprintf(dir, sizeof(dir), "%s", fname);
    slash = strrchr(dir, '/');
    if (slash)
      *slash = 0;
    else
      (void) snprintf(dir, sizeof(dir), ".");
    if (!statvfs(dir, &st))
      SETERRQ(comm, PETSC_ERR_FILE_WRITE, "cannot %s %s: %s failed (%.3g MB free on its file system)",
              write ? "write" : "read", fname, what, (double) st.f_bavail * (double) st.f_frsize / 1e6);
    SETERRQ(comm, PETSC_ERR_FILE_WRITE, "cannot %s %s: %s failed", write ? "write" : "read", fname, what);
  }
  PetscFunctionReturn(0);
}

/* HDF5 prints its own error stack by default; kdpinn reports errors itself, one line each. */
PetscErrorCode KDH5Quiet(void)
{
  PetscBool traceback = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-kd_traceback", &traceback, NULL));
  if (!traceback) PetscCallH5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode KDH5Create(MPI_Comm comm, const char path[], hid_t *file)
{
  hid_t fapl;

  PetscFunctionBegin;
  PetscCall(KDH5Quiet());
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  PetscCallH5(fapl);
  PetscCallH5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  *file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  PetscCallH5(H5Pclose(fapl));
  PetscCheck(*file >= 0, comm, PETSC_ERR_FILE_OPEN, "cannot create HDF5 file %s", path);
  KDH5Register(*file, comm);
  PetscFunctionReturn(0);
}

PetscErrorCode KDH5Open(MPI_Comm comm, const char path[], hid_t *file)
{
  hid_t fapl;
  PetscBool exists;

  PetscFunctionBegin;
  PetscCall(KDH5Quiet());
  PetscCall(PetscTestFile(path, 'r', &exists));
  PetscCheck(exists, comm, PETSC_ERR_FILE_OPEN, "cannot read %s: no such file", path);
  fapl = H5Pcreate(H5P_FILE_ACCESS);
  PetscCallH5(fapl);
  PetscCallH5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  PetscCallH5(H5Pclose(fapl));
  PetscCheck(*file >= 0, comm, PETSC_ERR_FILE_UNEXPECTED, "cannot read %s: not an HDF5 file, or a damaged one", path);
  KDH5Register(*file, comm);
  PetscFunctionReturn(0);
}

/*
  KDH5CloseAll - Closes a file after an error, with every object still open in it (a group or dataset the error left
  open would keep the file open, and HDF5 would close it at exit, after MPI has finalized, and crash). Collective as
  H5Fclose() is; errors are ignored, the first one has been reported.
*/
PetscErrorCode KDH5CloseAll(hid_t *file)
{
  hid_t ids[64];
  ssize_t n;

  PetscFunctionBegin;
  if (*file < 0) PetscFunctionReturn(0);
  KDH5Unregister(*file);
  n = H5Fget_obj_ids(*file, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL, 64, ids);
  for (ssize_t i = 0; i < n; i++) (void) (H5Iget_type(ids[i]) == H5I_ATTR ? H5Aclose(ids[i]) : H5Oclose(ids[i]));
  (void) H5Fclose(*file);
  *file = -1;
  PetscFunctionReturn(0);
}

/*
  KDH5Abandon - Closes and removes a file whose write failed (collective): KDH5CloseAll(), then its name. The file is
  truncated first, so that the metadata HDF5 writes as it closes fits even on a full disk: a close that fails leaves
  HDF5 unable to close the file at all.
*/
PetscErrorCode KDH5Abandon(hid_t *file)
{
  char fname[PETSC_MAX_PATH_LEN];
  MPI_Comm comm;
  PetscMPIInt rank;

  PetscFunctionBegin;
  if (*file < 0) PetscFunctionReturn(0);
  comm = KDH5FileComm(*file, fname, sizeof(fname));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank && truncate(fname, 0)) { /* then the close may fail too: nothing else to try */
  }
  PetscCallMPI(MPI_Barrier(comm));
  PetscCall(KDH5CloseAll(file));
  if (!rank) (void) unlink(fname);
  PetscFunctionReturn(0);
}

/* Groups carry no timestamps either, so that a file's bytes depend on its contents only. */
PetscErrorCode KDH5CreateGroup(hid_t loc, const char name[], hid_t *group)
{
  hid_t gcpl;

  PetscFunctionBegin;
  gcpl = H5Pcreate(H5P_GROUP_CREATE);
  PetscCallH5(gcpl);
  PetscCallH5(H5Pset_obj_track_times(gcpl, 0));
  *group = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  PetscCallH5(*group);
  PetscCallH5(H5Pclose(gcpl));
  PetscFunctionReturn(0);
}

/*
  KDH5Close - Closes a file (collective). What HDF5 still caches (metadata) is flushed first, which may fail on some
  ranks only (a full disk): all agree, and on failure the file stays open for KDH5Abandon().
*/
PetscErrorCode KDH5Close(hid_t *file)
{
  char fname[PETSC_MAX_PATH_LEN];
  MPI_Comm comm;
  unsigned intent = 0;

  PetscFunctionBegin;
  if (*file < 0) PetscFunctionReturn(0);
  comm = KDH5FileComm(*file, fname, sizeof(fname));
  if (H5Fget_intent(*file, &intent) >= 0 && (intent & H5F_ACC_RDWR)) {
    herr_t err = H5Fflush(*file, H5F_SCOPE_LOCAL);
    PetscCall(KDH5Agree(comm, fname, err < 0 ? PETSC_TRUE : PETSC_FALSE, PETSC_TRUE, "flushing it"));
  }
  PetscCallH5(H5Fclose(*file)); /* on failure the file stays registered, for KDH5Abandon() */
  KDH5Unregister(*file);
  *file = -1;
  PetscFunctionReturn(0);
}

PetscErrorCode KDH5WriteAttrString(hid_t obj, const char name[], const char value[])
{
  hid_t type, space, attr;

  PetscFunctionBegin;
  type = H5Tcopy(H5T_C_S1);
  PetscCallH5(type);
  PetscCallH5(H5Tset_size(type, strlen(value) > 0 ? strlen(value) : 1));
  PetscCallH5(H5Tset_strpad(type, H5T_STR_NULLTERM));
  space = H5Screate(H5S_SCALAR);
  PetscCallH5(space);
  attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  PetscCallH5(attr);
  PetscCallH5(H5Awrite(attr, type, value));
  PetscCallH5(H5Aclose(attr));
  PetscCallH5(H5Sclose(space));
  PetscCallH5(H5Tclose(type));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDH5WriteAttrArray(hid_t obj, const char name[], PetscInt n, hid_t filetype, hid_t memtype,
                                         const void *values)
{
  hsize_t dims = (hsize_t) n;
  hid_t space, attr;

  PetscFunctionBegin;
  space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, NULL);
  PetscCallH5(space);
  attr = H5Acreate2(obj, name, filetype, space, H5P_DEFAULT, H5P_DEFAULT);
  PetscCallH5(attr);
  PetscCallH5(H5Awrite(attr, memtype, values));
  PetscCallH5(H5Aclose(attr));
  PetscCallH5(H5Sclose(space));
  PetscFunctionReturn(0);
}

PetscErrorCode KDH5WriteAttrReals(hid_t obj, const char name[], PetscInt n, const PetscReal values[])
{
  PetscFunctionBegin;
  PetscCall(KDH5WriteAttrArray(obj, name, n, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values));
  PetscFunctionReturn(0);
}

PetscErrorCode KDH5WriteAttrInts(hid_t obj, const char name[], PetscInt n, const PetscInt values[])
{
  long long *v;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(n, &v));
  for (PetscInt i = 0; i < n; i++) v[i] = (long long) values[i];
  PetscCall(KDH5WriteAttrArray(obj, name, n, H5T_STD_I64LE, H5T_NATIVE_LLONG, v));
  PetscCall(PetscFree(v));
  PetscFunctionReturn(0);
}

/* The root attributes that describe a kdpinn file itself (reference.h5 and model files, docs/reference-format.md and
   docs/model-format.md): every other numeric root attribute is a PDE parameter, so none of these names can be one. */
static const char *const KDH5Reserved[] = {
    "kdpinn_version", "kind",         "pde",    "axes",         "fields",   "centering", "levels",
    "activation",     "widths",       "level",  "inputs",       "outputs",  "input_lo",  "input_hi",
    "output_scale",   "output_shift", "params", "trained_with", "checksum", "coarsened", "extrapolated"};
/* a model's known fields and functions (output addend, input features, output factor): each name and its parameters */
static const char *const KDH5ReservedModelParts[] = {"output_addend", "input_features", "output_factor"};

PetscBool KDH5IsReservedAttribute(const char name[])
{
  for (size_t i = 0; i < sizeof(KDH5Reserved) / sizeof(KDH5Reserved[0]); i++)
    if (!strcmp(name, KDH5Reserved[i])) return PETSC_TRUE;
  for (size_t i = 0; i < sizeof(KDH5ReservedModelParts) / sizeof(KDH5ReservedModelParts[0]); i++) {
    const size_t len = strlen(KDH5ReservedModelParts[i]);
    if (!strncmp(name, KDH5ReservedModelParts[i], len) && (!name[len] || !strcmp(name + len, "_params")))
      return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

PetscErrorCode KDH5HasAttr(hid_t obj, const char name[], PetscBool *has)
{
  htri_t e;

  PetscFunctionBegin;
  e = H5Aexists(obj, name);
  PetscCallH5(e);
  *has = e > 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode KDH5ReadAttrString(hid_t obj, const char name[], char value[], size_t len)
{
  hid_t attr, type, memtype;
  size_t size;
  PetscBool has = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(KDH5HasAttr(obj, name, &has));
  if (!has) PetscCall(KDH5FileError(obj, PETSC_ERR_FILE_UNEXPECTED, "attribute '%s' missing", name));
  attr = H5Aopen(obj, name, H5P_DEFAULT);
  PetscCallH5(attr);
  type = H5Aget_type(attr);
  PetscCallH5(type);
  if (H5Tget_class(type) != H5T_STRING) { /* refused with the handles closed: a caller may go on after the error */
    PetscCallH5(H5Tclose(type));
    PetscCallH5(H5Aclose(attr));
    PetscCall(KDH5FileError(obj, PETSC_ERR_FILE_UNEXPECTED, "attribute '%s' is not a string", name));
  }
  if (H5Tis_variable_str(type) > 0) { /* as h5py and many tools write strings */
    char *vs = NULL;
    memtype  = H5Tcopy(H5T_C_S1);
    PetscCallH5(memtype);
    PetscCallH5(H5Tset_size(memtype, H5T_VARIABLE));
    PetscCallH5(H5Tset_cset(memtype, H5Tget_cset(type)));
    PetscCallH5(H5Aread(attr, memtype, &vs));
    size = vs ? strlen(vs) : 0;
    if (size + 1 <= len) {
      PetscCall(PetscMemzero(value, len));
      if (vs) memcpy(value, vs, size);
    }
    if (vs) PetscCallH5(H5free_memory(vs));
    PetscCallH5(H5Tclose(memtype));
    PetscCallH5(H5Tclose(type));
    PetscCallH5(H5Aclose(attr));
    if (size + 1 > len)
      PetscCall(KDH5FileError(obj, PETSC_ERR_FILE_UNEXPECTED, "attribute '%s' too long (%zu)", name, size));
    PetscFunctionReturn(0);
  }
  size = H5Tget_size(type);
  if (size + 1 > len) {
    PetscCallH5(H5Tclose(type));
    PetscCallH5(H5Aclose(attr));
    PetscCall(KDH5FileError(obj, PETSC_ERR_FILE_UNEXPECTED, "attribute '%s' too long (%zu)", name, size));
  }
  memtype = H5Tcopy(H5T_C_S1);
  PetscCallH5(memtype);
  PetscCallH5(H5Tset_size(memtype, size + 1));
  PetscCallH5(H5Tset_strpad(memtype, H5T_STR_NULLTERM));
  PetscCall(PetscMemzero(value, len));
  PetscCallH5(H5Aread(attr, memtype, value));
  PetscCallH5(H5Tclose(memtype));
  PetscCallH5(H5Tclose(type));
  PetscCallH5(H5Aclose(attr));
  PetscFunctionReturn(0);
}

static PetscErrorCode KDH5ReadAttrArray(hid_t obj, const char name[], PetscInt nmax, hid_t memtype, size_t elsize,
                                        void *values, PetscInt *n)
{
  hid_t attr, space, type;
  hssize_t count;
  H5T_class_t cls;
  PetscBool has = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(KDH5HasAttr(obj, name, &has));
  if (!has) PetscCall(KDH5FileError(obj, PETSC_ERR_FILE_UNEXPECTED, "attribute '%s' missing", name));
  attr = H5Aopen(obj, name, H5P_DEFAULT);
  PetscCallH5(attr);
  space = H5Aget_space(attr);
  PetscCallH5(space);
  count = H5Sget_simple_extent_npoints(space);
  PetscCallH5(count);
  type = H5Aget_type(attr);
  PetscCallH5(type);
  cls = H5Tget_class(type);
  PetscCallH5(H5Sclose(space));
  PetscCallH5(H5Tclose(type));
  if (count > nmax || (cls != H5T_INTEGER && cls != H5T_FLOAT)) {
    PetscCallH5(H5Aclose(attr));
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
      PetscCall(KDH5FileError(obj, PETSC_ERR_FILE_UNEXPECTED, "attribute '%s' is not a number", name));
    PetscCall(KDH5FileError(obj, PETSC_ERR_FILE_UNEXPECTED,
                            "attribute '%s' has %lld values, at most %" PetscInt_FMT " expected", name,
                            (long long) count, nmax));
  }
  PetscCallH5(H5Aread(attr, memtype, values));
  PetscCallH5(H5Aclose(attr));
  if (n) *n = (PetscInt) count;
  (void) elsize;
  PetscFunctionReturn(0);
}

PetscErrorCode KDH5ReadAttrReals(hid_t obj, const char name[], PetscInt nmax, PetscReal values[], PetscInt *n)
{
  PetscFunctionBegin;
  PetscCall(KDH5ReadAttrArray(obj, name, nmax, H5T_NATIVE_DOUBLE, sizeof(double), values, n));
  PetscFunctionReturn(0);
}

PetscErrorCode KDH5ReadAttrInts(hid_t obj, const char name[], PetscInt nmax, PetscInt values[], PetscInt *n)
{
  long long buf[64];
  PetscInt cnt;

  PetscFunctionBegin;
  PetscCheck(nmax <= 64, PETSC_COMM_SELF, PETSC_ERR_SUP, "at most 64 integers per attribute");
  PetscCall(KDH5ReadAttrArray(obj, name, nmax, H5T_NATIVE_LLONG, sizeof(long long), buf, &cnt));
  for (PetscInt i = 0; i < cnt; i++) values[i] = (PetscInt) buf[i];
  if (n) *n = cnt;
  PetscFunctionReturn(0);
}

/* Root attributes every kdpinn file carries. */
PetscErrorCode KDH5WriteCommonAttributes(hid_t file, const char kind[], const char pde[])
{
  PetscFunctionBegin;
  PetscCall(KDH5WriteAttrString(file, "kdpinn_version", KDPINN_VERSION));
  PetscCall(KDH5WriteAttrString(file, "kind", kind));
  PetscCall(KDH5WriteAttrString(file, "pde", pde));
  PetscFunctionReturn(0);
}

/* One collective transfer of the block of rows selected by start/count (count[0] = 0: this rank moves nothing). */
static PetscErrorCode KDH5TransferRows(hid_t dset, hid_t fspace, PetscInt dim, const hsize_t start[],
                                       const hsize_t count[], PetscBool write, PetscReal data[])
{
  hid_t mspace, dxpl;
  herr_t err;

  PetscFunctionBegin;
  if (count[0] > 0)
    PetscCallH5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  else
    PetscCallH5(H5Sselect_none(fspace));
  mspace = H5Screate_simple((int) dim, count, NULL);
  PetscCallH5(mspace);
  if (count[0] == 0) PetscCallH5(H5Sselect_none(mspace));
  dxpl = H5Pcreate(H5P_DATASET_XFER);
  PetscCallH5(dxpl);
  PetscCallH5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
  if (write)
    err = H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, data);
  else
    err = H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, data);
  PetscCallH5(H5Pclose(dxpl));
  PetscCallH5(H5Sclose(mspace));
  {
    char fname[PETSC_MAX_PATH_LEN], what[128], dname[64] = "";
    MPI_Comm comm = KDH5FileComm(dset, fname, sizeof(fname));
    (void) H5Iget_name(dset, dname, sizeof(dname));
    (void) snprintf(what, sizeof(what), "%s dataset %s", write ? "writing" : "reading", dname[0] ? dname : "?");
    PetscCall(KDH5Agree(comm, fname, err < 0 ? PETSC_TRUE : PETSC_FALSE, write, what));
  }
  PetscFunctionReturn(0);
}

/* Writes rows [rstart, rstart + nrows) of an N-D dataset of dims[] (created here, collectively). */
PetscErrorCode KDH5WriteRows(hid_t loc, const char name[], PetscInt dim, const PetscInt dims[], PetscInt rstart,
                             PetscInt nrows, const PetscReal data[])
{
  hsize_t hdims[KD_H5_MAX_DIM], start[KD_H5_MAX_DIM], count[KD_H5_MAX_DIM];
  hid_t fspace, dset, dcpl;

  PetscFunctionBegin;
  PetscCheck(dim >= 1 && dim <= KD_H5_MAX_DIM, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "dataset rank %" PetscInt_FMT,
             dim);
  for (PetscInt d = 0; d < dim; d++) {
    hdims[d] = (hsize_t) dims[d];
    start[d] = 0;
    count[d] = (hsize_t) dims[d];
  }
  start[0] = (hsize_t) rstart;
  count[0] = (hsize_t) nrows;
  fspace   = H5Screate_simple((int) dim, hdims, NULL);
  PetscCallH5(fspace);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  PetscCallH5(dcpl);
  PetscCallH5(H5Pset_obj_track_times(dcpl, 0));
  dset = H5Dcreate2(loc, name, H5T_IEEE_F64LE, fspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  PetscCallH5(dset);
  PetscCallH5(H5Pclose(dcpl));
  PetscCall(KDH5TransferRows(dset, fspace, dim, start, count, PETSC_TRUE, (PetscReal *) data));
  PetscCallH5(H5Sclose(fspace));
  PetscCallH5(H5Dclose(dset));
  PetscFunctionReturn(0);
}

/* Dimensions of a dataset; fails with the dataset's name if it is missing or of another rank. */
PetscErrorCode KDH5GetDims(hid_t loc, const char name[], PetscInt maxdim, PetscInt *dim, PetscInt dims[])
{
  hsize_t hdims[KD_H5_MAX_DIM];
  hid_t dset, space;
  int nd;
  htri_t exists;

  PetscFunctionBegin;
  exists = H5Lexists(loc, name, H5P_DEFAULT);
  if (exists <= 0) PetscCall(KDH5FileError(loc, PETSC_ERR_FILE_UNEXPECTED, "dataset '%s' missing", name));
  dset = H5Dopen2(loc, name, H5P_DEFAULT);
  PetscCallH5(dset);
  space = H5Dget_space(dset);
  PetscCallH5(space);
  nd = H5Sget_simple_extent_ndims(space);
  if (nd < 1 || nd > maxdim || nd > KD_H5_MAX_DIM) {
    PetscCallH5(H5Sclose(space));
    PetscCallH5(H5Dclose(dset));
    PetscCall(KDH5FileError(loc, PETSC_ERR_FILE_UNEXPECTED, "dataset '%s' has rank %d", name, nd));
  }
  PetscCallH5(H5Sget_simple_extent_dims(space, hdims, NULL));
  for (int d = 0; d < nd; d++) dims[d] = (PetscInt) hdims[d];
  *dim = nd;
  PetscCallH5(H5Sclose(space));
  PetscCallH5(H5Dclose(dset));
  PetscFunctionReturn(0);
}

/* Reads rows [rstart, rstart + nrows) of an N-D dataset whose dims must equal dims[] (collective). */
PetscErrorCode KDH5ReadRows(hid_t loc, const char name[], PetscInt dim, PetscInt dims[], PetscInt rstart,
                            PetscInt nrows, PetscReal data[])
{
  hsize_t start[KD_H5_MAX_DIM], count[KD_H5_MAX_DIM];
  PetscInt fdim, fdims[KD_H5_MAX_DIM];
  hid_t fspace, dset;

  PetscFunctionBegin;
  PetscCall(KDH5GetDims(loc, name, KD_H5_MAX_DIM, &fdim, fdims));
  if (fdim != dim)
    PetscCall(KDH5FileError(loc, PETSC_ERR_FILE_UNEXPECTED,
                            "dataset '%s' has rank %" PetscInt_FMT ", expected %" PetscInt_FMT, name, fdim, dim));
  for (PetscInt d = 0; d < dim; d++) {
    if (fdims[d] != dims[d])
      PetscCall(KDH5FileError(loc, PETSC_ERR_FILE_UNEXPECTED,
                              "dataset '%s' has %" PetscInt_FMT " entries on axis %" PetscInt_FMT
                              ", expected %" PetscInt_FMT,
                              name, fdims[d], d, dims[d]));
    start[d] = 0;
    count[d] = (hsize_t) dims[d];
  }
  start[0] = (hsize_t) rstart;
  count[0] = (hsize_t) nrows;
  dset     = H5Dopen2(loc, name, H5P_DEFAULT);
  PetscCallH5(dset);
  fspace = H5Dget_space(dset);
  PetscCallH5(fspace);
  PetscCall(KDH5TransferRows(dset, fspace, dim, start, count, PETSC_FALSE, data));
  PetscCallH5(H5Sclose(fspace));
  PetscCallH5(H5Dclose(dset));
  PetscFunctionReturn(0);
}

/* Appends printf-style text to a growing buffer (kdio.h). */
PetscErrorCode KDTextAppend(KDText *t, const char *fmt, ...)
{
  va_list ap;
  int n;

  PetscFunctionBegin;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  PetscCheck(n >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "vsnprintf failed");
  if (t->len + (size_t) n + 1 > t->cap) {
    size_t cap = PetscMax(2 * t->cap, t->len + (size_t) n + 1024);
    char *s;
    PetscCall(PetscMalloc1(cap, &s));
    if (t->len) PetscCall(PetscArraycpy(s, t->s, t->len));
    PetscCall(PetscFree(t->s));
    t->s   = s;
    t->cap = cap;
  }
  va_start(ap, fmt);
  (void) vsnprintf(t->s + t->len, (size_t) n + 1, fmt, ap);
  va_end(ap);
  t->len += (size_t) n;
  PetscFunctionReturn(0);
}

/* The shortest %g form of v that reads back as exactly v (kdio.h). */
void KDFormatReal(PetscReal v, char buf[32])
{
  for (int digits = 15; digits <= 17; digits++) {
    (void) snprintf(buf, 32, "%.*g", digits, (double) v);
    if ((PetscReal) strtod(buf, NULL) == v) return;
  }
}
