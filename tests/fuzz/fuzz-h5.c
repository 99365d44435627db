/*
  Fuzz target for kdpinn's HDF5 readers (libFuzzer): reference.h5 (KDReferenceLoad), model files (KDNetLoad),
  checkpoints (KDCheckpointLoad) and observation files (KDObservationsRead), one executable each (KD_FUZZ_READER).

  The input is not the file's bytes: HDF5's own byte-level parser is HDF5's to fuzz, and almost every mutation of raw
  bytes would stop there. It is a list of edits of a real file of the kind (the seed, $KD_FUZZ_SEED, made by a tiny
  run): delete an attribute, group or dataset; replace an attribute with one of another type, count or values;
  replace a dataset with one of another rank or shape; overwrite values with arbitrary bytes (NaN, Inf, huge,
  denormal). Each edit picks its object and its values from the input, so the fuzzer explores what kdpinn's readers
  must refuse: missing and extra items, wrong types, inconsistent sizes, hostile numbers. A reader must either load
  the file or return an error; a crash, a sanitizer report, a leak of HDF5 handles or an allocation beyond the
  fuzzer's limit is a finding.
*/
#include <kdpinn.h>
#include "sys/kdio.h"
#include "train/trainimpl.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KD_FUZZ_REFERENCE 1
#define KD_FUZZ_MODEL 2
#define KD_FUZZ_CHECKPOINT 3
#define KD_FUZZ_OBSERVATIONS 4
#ifndef KD_FUZZ_READER
#error "define KD_FUZZ_READER"
#endif

static char KDSeed[PETSC_MAX_PATH_LEN], KDWork[PETSC_MAX_PATH_LEN];
static KDPDE KDFuzzPDE;

typedef struct {
  const uint8_t *p;
  size_t n;
} KDFuzzInput;

static unsigned KDTake(KDFuzzInput *in, unsigned mod)
{
  unsigned v = 0;
  if (in->n) {
    v = in->p[0];
    in->p++;
    in->n--;
  }
  return mod ? v % mod : v;
}

static void KDTakeBytes(KDFuzzInput *in, void *dst, size_t k)
{
  size_t m = k < in->n ? k : in->n;
  memset(dst, 0, k);
  memcpy(dst, in->p, m);
  in->p += m;
  in->n -= m;
}

/* The editable things of a file: every group and dataset (by path) and every attribute (object path + name). */
#define KD_FUZZ_MAX_ITEMS 256
typedef struct {
  int n;
  char obj[KD_FUZZ_MAX_ITEMS][128], attr[KD_FUZZ_MAX_ITEMS][64];
  int dataset[KD_FUZZ_MAX_ITEMS];
} KDFuzzItems;

static herr_t KDCollectAttr(hid_t loc, const char *name, const H5A_info_t *info, void *ctx)
{
  KDFuzzItems *it = (KDFuzzItems *) ctx;
  (void) loc;
  (void) info;
  if (it->n >= KD_FUZZ_MAX_ITEMS || strlen(name) >= sizeof(it->attr[0])) return 0;
  (void) snprintf(it->obj[it->n], sizeof(it->obj[0]), "%s", it->obj[KD_FUZZ_MAX_ITEMS - 1]);
  (void) snprintf(it->attr[it->n], sizeof(it->attr[0]), "%s", name);
  it->dataset[it->n++] = 0;
  return 0;
}

static herr_t KDCollectObj(hid_t loc, const char *name, const H5O_info_t *info, void *ctx)
{
  KDFuzzItems *it = (KDFuzzItems *) ctx;
  hid_t obj;
  if (it->n >= KD_FUZZ_MAX_ITEMS - 1 || strlen(name) >= sizeof(it->obj[0]) - 1) return 0;
  (void) snprintf(it->obj[KD_FUZZ_MAX_ITEMS - 1], sizeof(it->obj[0]), "%s", name);
  if (strcmp(name, ".")) { /* the object itself (not the root group, which cannot be deleted) */
    (void) snprintf(it->obj[it->n], sizeof(it->obj[0]), "%s", name);
    it->attr[it->n][0]   = 0;
    it->dataset[it->n++] = info->type == H5O_TYPE_DATASET;
  }
  obj = H5Oopen(loc, name, H5P_DEFAULT);
  if (obj >= 0) {
    (void) H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, KDCollectAttr, ctx);
    (void) H5Oclose(obj);
  }
  return 0;
}

/* A new attribute (or one replaced): 64-bit integers, doubles or a string, its count and values from the input. */
static void KDWriteAttr(hid_t file, const char obj[], const char name[], KDFuzzInput *in)
{
  unsigned kind = KDTake(in, 3), count = 1 + KDTake(in, 8);
  hsize_t dims = count;
  hid_t o      = H5Oopen(file, obj, H5P_DEFAULT), space, type, attr;
  uint8_t buf[8 * 8];

  if (o < 0) return;
  if (H5Aexists(o, name) > 0) (void) H5Adelete(o, name);
  KDTakeBytes(in, buf, sizeof(buf));
  if (kind == 2) {
    size_t len = 1 + KDTake(in, 48);
    char s[64];
    KDTakeBytes(in, s, len);
    s[len] = 0;
    type   = H5Tcopy(H5T_C_S1);
    (void) H5Tset_size(type, len);
    space = H5Screate(H5S_SCALAR);
    attr  = H5Acreate2(o, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) (void) H5Awrite(attr, type, s), (void) H5Aclose(attr);
    (void) H5Tclose(type);
  } else {
    space = count == 1 && KDTake(in, 2) ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, NULL);
    type  = kind ? H5T_NATIVE_DOUBLE : H5T_NATIVE_LLONG;
    attr  = H5Acreate2(o, name, kind ? H5T_IEEE_F64LE : H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) (void) H5Awrite(attr, type, buf), (void) H5Aclose(attr);
  }
  (void) H5Sclose(space);
  (void) H5Oclose(o);
}

/* A dataset replaced by a double dataset of a shape near its own (an axis one shorter or longer, emptied, or a rank
   more or less), holding its old values where they fit and a few arbitrary 8-byte values. */
static void KDReplaceDataset(hid_t file, const char path[], KDFuzzInput *in)
{
  hid_t d         = H5Dopen2(file, path, H5P_DEFAULT), space;
  hsize_t dims[4] = {1, 1, 1, 1}, old = 1, n = 1;
  int rank = 1, nd;
  double *buf;

  if (d < 0) return;
  space = H5Dget_space(d);
  nd    = H5Sget_simple_extent_ndims(space);
  if (nd >= 1 && nd <= 3) {
    rank = nd;
    (void) H5Sget_simple_extent_dims(space, dims, NULL);
  }
  (void) H5Sclose(space);
  for (int i = 0; i < rank; i++) old *= dims[i];
  switch (KDTake(in, 4)) {
  case 0:
    dims[KDTake(in, (unsigned) rank)] += 1;
    break;
  case 1:
    dims[KDTake(in, (unsigned) rank)] -= dims[0] ? 1 : 0;
    break;
  case 2:
    rank = rank < 3 ? rank + 1 : rank - 1;
    break;
  default:
    dims[KDTake(in, (unsigned) rank)] = KDTake(in, 4);
    break;
  }
  for (int i = 0; i < rank; i++) n *= dims[i];
  if (old > (1u << 22) || n > (1u << 22)) {
    (void) H5Dclose(d);
    return;
  }
  buf = (double *) calloc(n > old ? n : old, sizeof(double));
  if (old && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
    memset(buf, 0, old * sizeof(double));
  (void) H5Dclose(d);
  for (unsigned k = KDTake(in, 4); n && k > 0; k--) {
    uint32_t at;
    KDTakeBytes(in, &at, sizeof(at));
    KDTakeBytes(in, &buf[at % n], sizeof(double));
  }
  (void) H5Ldelete(file, path, H5P_DEFAULT);
  space = H5Screate_simple(rank, dims, NULL);
  d     = H5Dcreate2(file, path, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d >= 0) (void) H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), (void) H5Dclose(d);
  (void) H5Sclose(space);
  free(buf);
}

/* Applies the input's edits to a fresh copy of the seed; returns 0 on success. */
static int KDMutate(const uint8_t *data, size_t size)
{
  KDFuzzInput in = {data, size};
  FILE *src = fopen(KDSeed, "rb"), *dst = fopen(KDWork, "wb");
  char chunk[65536];
  size_t m;
  hid_t file;

  if (!src || !dst) abort();
  while ((m = fread(chunk, 1, sizeof(chunk), src)) > 0)
    if (fwrite(chunk, 1, m, dst) != m) abort();
  fclose(src);
  if (fclose(dst)) abort();
  file = H5Fopen(KDWork, H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0) abort();
  for (int e = 0; e < 6 && in.n; e++) {
    KDFuzzItems it;
    unsigned op, i;
    it.n = 0;
    (void) H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_NATIVE, KDCollectObj, &it, H5O_INFO_BASIC);
    if (!it.n) break;
    op = KDTake(&in, 4);
    i  = KDTake(&in, 0) % (unsigned) it.n;
    if (op == 0) { /* delete */
      if (it.attr[i][0])
        (void) H5Adelete_by_name(file, it.obj[i], it.attr[i], H5P_DEFAULT);
      else
        (void) H5Ldelete(file, it.obj[i], H5P_DEFAULT);
    } else if (op == 1 && it.attr[i][0])
      KDWriteAttr(file, it.obj[i], it.attr[i], &in);
    else if (op == 1) { /* a new attribute on an object */
      char name[16];
      (void) snprintf(name, sizeof(name), "fuzz%u", KDTake(&in, 4));
      KDWriteAttr(file, it.obj[i], name, &in);
    } else if (it.dataset[i])
      KDReplaceDataset(file, it.obj[i], &in);
    else if (it.attr[i][0])
      KDWriteAttr(file, it.obj[i], it.attr[i], &in);
  }
  if (H5Fclose(file) < 0) abort();
  return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  const char *seed = getenv("KD_FUZZ_SEED");
  if (!seed) {
    fprintf(stderr, "set KD_FUZZ_SEED to a file of the kind this target reads\n");
    exit(1);
  }
  (void) snprintf(KDSeed, sizeof(KDSeed), "%s", seed);
  (void) snprintf(KDWork, sizeof(KDWork), "%s/kdpinn-fuzz-%d.h5", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                  (int) getpid());
  /* PETSc's handler would catch a SIGSEGV before the sanitizer could report it and libFuzzer save the input */
  if (PetscOptionsSetValue(NULL, "-no_signal_handler", NULL) || PetscInitialize(argc, argv, NULL, NULL)) exit(1);
  if (PetscPushErrorHandler(PetscReturnErrorHandler, NULL)) exit(1); /* errors are answers here, not findings */
  if (KDRegisterAll() || KDSolverInitializePackage()) exit(1);
  (void) H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (KD_FUZZ_READER == KD_FUZZ_OBSERVATIONS) {
    if (KDPDECreate(PETSC_COMM_SELF, &KDFuzzPDE) || KDPDESetType(KDFuzzPDE, "burgers") ||
        KDPDESetFromOptions(KDFuzzPDE))
      exit(1);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (KDMutate(data, size)) return 0;
#if KD_FUZZ_READER == KD_FUZZ_REFERENCE
  {
    KDReference ref = NULL;
    if (!KDReferenceLoad(PETSC_COMM_SELF, KDWork, &ref)) (void) KDReferenceDestroy(&ref);
  }
#elif KD_FUZZ_READER == KD_FUZZ_MODEL
  {
    KDNet net = NULL;
    KDModelInfo info;
    if (!KDNetLoad(PETSC_COMM_SELF, KDWork, &net, &info)) (void) KDNetDestroy(&net);
  }
#elif KD_FUZZ_READER == KD_FUZZ_CHECKPOINT
  {
    KDCheckpoint ck;
    if (!KDCheckpointLoad(PETSC_COMM_SELF, KDWork, &ck)) (void) KDCheckpointReset(&ck);
  }
#else
  {
    KDObservations obs;
    if (!KDObservationsRead(PETSC_COMM_SELF, KDFuzzPDE, KDWork, &obs)) (void) KDObservationsReset(&obs);
  }
#endif
  /* every reader closes what it opened, on every path */
  if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) {
    fprintf(stderr, "HDF5 objects left open: %lld\n", (long long) H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL));
    abort();
  }
  return 0;
}
