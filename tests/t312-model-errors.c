static const char help[] =
    "KDNetLoad rejects missing, damaged and inconsistent model files with one error naming the file.\n";

/* Each case damages a copy of a valid model file in one way (an attribute, a dataset, an output addend that is
   unknown, does not fit the network or has a parameter that is not finite) and requires KDNetLoad to fail, with an
   error message that names the file and the problem (a keyword), and to return no network. A write into a directory
   that does not exist must fail and leave no temporary file. */
#include "t30-netutil.h"
#include <kdpde.h>    /* registers the cavity's output addend */
#include "sys/kdio.h" /* PetscCallH5 */
#include <string.h>

static char lastmsg[4096];

/* Keeps the innermost error message (the one a user sees) instead of printing a traceback. */
static PetscErrorCode CaptureError(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n,
                                   PetscErrorType p, const char *mess, void *ctx)
{
  if (p == PETSC_ERROR_INITIAL) (void) snprintf(lastmsg, sizeof(lastmsg), "%s", mess ? mess : "");
  return n;
}

static PetscErrorCode ExpectLoadFailure(const char path[], const char keyword[])
{
  KDNet net = NULL;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  lastmsg[0] = 0;
  PetscCall(PetscPushErrorHandler(CaptureError, NULL));
  ierr = KDNetLoad(PETSC_COMM_WORLD, path, &net, NULL);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s loaded although it is damaged (%s)", path, keyword);
  PetscCheck(!net, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: a network was returned on failure", path);
  PetscCheck(strstr(lastmsg, path) && strstr(lastmsg, keyword), PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "%s: error '%s' does not name the file and '%s'", path, lastmsg, keyword);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "rejected: %s\n", lastmsg));
  PetscFunctionReturn(0);
}

static PetscErrorCode CopyFile(const char from[], const char to[], double fraction)
{
  FILE *in, *out;
  char *buf;
  size_t size, keep;

  PetscFunctionBegin;
  in = fopen(from, "rb");
  PetscCheck(in, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot open %s", from);
  (void) fseek(in, 0, SEEK_END);
  size = (size_t) ftell(in);
  (void) fseek(in, 0, SEEK_SET);
  PetscCall(PetscMalloc1(size, &buf));
  PetscCheck(fread(buf, 1, size, in) == size, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "cannot read %s", from);
  (void) fclose(in);
  out = fopen(to, "wb");
  PetscCheck(out, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot open %s", to);
  keep = (size_t) (fraction * (double) size);
  PetscCheck(fwrite(buf, 1, keep, out) == keep, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s", to);
  (void) fclose(out);
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

typedef enum {
  DAMAGE_KIND,
  DAMAGE_DROP_ATTR,
  DAMAGE_W_SHAPE,
  DAMAGE_PARAMS,
  DAMAGE_NAN,
  DAMAGE_WIDTHS,
  DAMAGE_ACTIVATION,
  DAMAGE_ADDEND_UNKNOWN, /* output_addend names no registered addend */
  DAMAGE_ADDEND_MISFIT,  /* cavity_corner_flow on a 2 -> 2 network, with 5 parameters */
  DAMAGE_ADDEND_NAN      /* cavity_corner_flow with a NaN parameter */
} Damage;

/* A string attribute written as a foreign writer would. */
static PetscErrorCode WriteString(hid_t f, const char name[], const char value[])
{
  hid_t s, a, t;

  PetscFunctionBegin;
  if (H5Aexists(f, name) > 0) PetscCallH5(H5Adelete(f, name));
  t = H5Tcopy(H5T_C_S1);
  PetscCallH5(H5Tset_size(t, strlen(value)));
  s = H5Screate(H5S_SCALAR);
  a = H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  PetscCallH5(H5Awrite(a, t, value));
  PetscCallH5(H5Aclose(a));
  PetscCallH5(H5Sclose(s));
  PetscCallH5(H5Tclose(t));
  PetscFunctionReturn(0);
}

/* Damages a copy with plain HDF5 calls, as a foreign or buggy writer would. */
static PetscErrorCode DamageCopy(const char good[], const char path[], Damage d)
{
  hid_t f, s, a, ds;

  PetscFunctionBegin;
  PetscCall(CopyFile(good, path, 1.0));
  f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  PetscCheck(f >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot open %s", path);
  switch (d) {
  case DAMAGE_KIND:
    PetscCall(WriteString(f, "kind", "reference"));
    break;
  case DAMAGE_ACTIVATION:
    PetscCall(WriteString(f, "activation", "relu"));
    break;
  case DAMAGE_ADDEND_UNKNOWN:
    PetscCall(WriteString(f, "output_addend", "frobnicate"));
    break;
  case DAMAGE_ADDEND_MISFIT:
  case DAMAGE_ADDEND_NAN: {
    double par[5]   = {0.2, 0.01, 0.0, 1.0, 1.0};
    const hsize_t n = 5;
    if (d == DAMAGE_ADDEND_NAN) par[1] = (double) NAN;
    PetscCall(WriteString(f, "output_addend", "cavity_corner_flow"));
    s = H5Screate_simple(1, &n, NULL);
    a = H5Acreate2(f, "output_addend_params", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    PetscCallH5(H5Awrite(a, H5T_NATIVE_DOUBLE, par));
    PetscCallH5(H5Aclose(a));
    PetscCallH5(H5Sclose(s));
  } break;
  case DAMAGE_DROP_ATTR:
    PetscCallH5(H5Adelete(f, "output_scale"));
    break;
  case DAMAGE_W_SHAPE: {
    const hsize_t dims[2] = {3, 6}; /* layer_1 is 5 x 6 */
    double zero[18]       = {0};
    PetscCallH5(H5Ldelete(f, "layer_1/W", H5P_DEFAULT));
    s  = H5Screate_simple(2, dims, NULL);
    ds = H5Dcreate2(f, "layer_1/W", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    PetscCallH5(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zero));
    PetscCallH5(H5Dclose(ds));
    PetscCallH5(H5Sclose(s));
  } break;
  case DAMAGE_PARAMS:
  case DAMAGE_WIDTHS: {
    const char *name   = d == DAMAGE_PARAMS ? "params" : "widths";
    long long wrong[4] = {2, 6, 6, 2}; /* the file has widths [2,6,5,2] */
    const hsize_t n    = d == DAMAGE_PARAMS ? 1 : 4;
    PetscCallH5(H5Adelete(f, name));
    s = d == DAMAGE_PARAMS ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    if (d == DAMAGE_PARAMS) wrong[0] = 12345;
    a = H5Acreate2(f, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    PetscCallH5(H5Awrite(a, H5T_NATIVE_LLONG, wrong));
    PetscCallH5(H5Aclose(a));
    PetscCallH5(H5Sclose(s));
  } break;
  case DAMAGE_NAN: {
    double b[5];
    ds = H5Dopen2(f, "layer_1/b", H5P_DEFAULT);
    PetscCallH5(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, b));
    b[3] = (double) NAN;
    PetscCallH5(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, b));
    PetscCallH5(H5Dclose(ds));
  } break;
  }
  PetscCallH5(H5Fclose(f));
  PetscFunctionReturn(0);
}

/* The damaged copies: file, damage, what the error must say. */
static const struct {
  const char *path;
  Damage damage;
  const char *keyword;
} cases[] = {
    {"kind.h5", DAMAGE_KIND, "kind"},
    {"activation.h5", DAMAGE_ACTIVATION, "relu"},
    {"noscale.h5", DAMAGE_DROP_ATTR, "output_scale"},
    {"shape.h5", DAMAGE_W_SHAPE, "layer_1/W"},
    {"params.h5", DAMAGE_PARAMS, "params"},
    {"widths.h5", DAMAGE_WIDTHS, "params"},
    {"nan.h5", DAMAGE_NAN, "not finite"},
    {"addend.h5", DAMAGE_ADDEND_UNKNOWN, "unknown output addend 'frobnicate'"},
    {"addend-misfit.h5", DAMAGE_ADDEND_MISFIT, "does not take these 5 parameters for 2 inputs and 2 outputs"},
    {"addend-nan.h5", DAMAGE_ADDEND_NAN, "output_addend_params[1] is not finite"},
};

int main(int argc, char **argv)
{
  const PetscInt widths[2] = {6, 5};
  KDNet net, net2;
  KDModelInfo info;
  PetscErrorCode ierr;
  PetscBool exists;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(KDPDEInitializePackage());
  PetscCall(TestNetCreate(PETSC_COMM_WORLD, 2, 2, widths, 2, KD_ACTIVATION_TANH, 1, &net));
  PetscCall(TestModelInfo("heat", "t,x", "u,v", &info));
  PetscCall(KDNetWrite(net, "good.h5", &info));
  PetscCall(KDNetLoad(PETSC_COMM_WORLD, "good.h5", &net2, NULL)); /* the undamaged file loads */
  PetscCall(KDNetDestroy(&net2));

  PetscCall(ExpectLoadFailure("missing.h5", "no such file"));
  {
    FILE *f = fopen("garbage.h5", "w");
    PetscCheck(f, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write garbage.h5");
    (void) fprintf(f, "this is not an HDF5 file\n");
    (void) fclose(f);
  }
  PetscCall(ExpectLoadFailure("garbage.h5", "not an HDF5 file"));
  PetscCall(CopyFile("good.h5", "truncated.h5", 0.5));
  PetscCall(ExpectLoadFailure("truncated.h5", "truncated.h5"));
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    PetscCall(DamageCopy("good.h5", cases[k].path, cases[k].damage));
    PetscCall(ExpectLoadFailure(cases[k].path, cases[k].keyword));
  }

  /* a failed write leaves nothing behind */
  lastmsg[0] = 0;
  PetscCall(PetscPushErrorHandler(CaptureError, NULL));
  ierr = KDNetWrite(net, "no-such-dir/model.h5", &info);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "writing into a missing directory succeeded");
  PetscCall(PetscTestFile("no-such-dir/model.h5.part", 'r', &exists));
  PetscCheck(!exists, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "temporary file left behind");
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "write refused: %s\n", lastmsg));
  PetscCall(KDNetDestroy(&net));
  PetscCall(PetscFinalize());
  return 0;
}
