static const char help[] =
    "Array attributes of reference.h5 (KDReferenceSetArray / KDReferenceGetArray): an array of several reals is\n"
    "written as one root attribute and read back by KDReferenceLoad() bit for bit, next to the scalar parameters\n"
    "and strings, which keep their meaning; a one-value array is a parameter; names cannot be both; an array\n"
    "attribute longer than 4096 values in a file is refused.\n";
#include <kdreference.h>
#include <hdf5.h>
#include <string.h>

static PetscErrorCode KDNoPrint(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n,
                                PetscErrorType p, const char *mess, void *ctx)
{
  return n;
}

/* A reference with one 4 x 4 field, so that it can be written. */
static PetscErrorCode MakeReference(KDReference *ref)
{
  const PetscInt n[2]   = {4, 4};
  const PetscReal lo[2] = {0, 0}, hi[2] = {1, 1};
  Vec u;

  PetscFunctionBegin;
  PetscCall(KDReferenceCreate(PETSC_COMM_WORLD, ref));
  PetscCall(KDReferenceSetPDE(*ref, "conduction"));
  PetscCall(KDReferenceSetGrid(*ref, 2, "y,x", n, lo, hi));
  PetscCall(KDReferenceCreateLevelVec(*ref, 0, &u));
  PetscCall(VecSet(u, 1.0));
  PetscCall(KDReferenceAddField(*ref, "u", u));
  PetscCall(VecDestroy(&u));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const PetscReal K[4] = {1.0 / 3, -1e-300, -1e-300, 0.1 + 0.2}, one = 2.5;
  KDReference ref, back;
  const PetscReal *v;
  const char *s;
  PetscInt n;
  PetscReal p;
  PetscBool found;
  PetscErrorCode ierr;
  PetscMPIInt rank;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(MakeReference(&ref));
  PetscCall(KDReferenceSetParameter(ref, "k1", 1.0));
  PetscCall(KDReferenceSetString(ref, "microstructure", "type checkerboard\n"));
  PetscCall(KDReferenceSetArray(ref, "K_eff", 4, K));
  PetscCall(KDReferenceSetArray(ref, "scale", 1, &one)); /* one value: a parameter */
  PetscCall(KDReferenceGetParameter(ref, "scale", &p, &found));
  PetscCheck(found && p == one, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a one-value array is not a parameter");
  /* a name is a parameter or an array, not both */
  PetscCall(PetscPushErrorHandler(KDNoPrint, NULL));
  ierr = KDReferenceSetArray(ref, "k1", 4, K);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "KDReferenceSetArray() over a parameter should fail");
  PetscCall(PetscPushErrorHandler(KDNoPrint, NULL));
  ierr = KDReferenceSetParameter(ref, "K_eff", 1.0);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "KDReferenceSetParameter() over an array should fail");
  PetscCall(KDReferenceWrite(ref, "t105.h5"));
  PetscCall(KDReferenceDestroy(&ref));

  /* read back: the array bit for bit, the parameters and the string as before */
  PetscCall(KDReferenceLoad(PETSC_COMM_WORLD, "t105.h5", &back));
  PetscCall(KDReferenceGetArray(back, "K_eff", &n, &v, &found));
  PetscCheck(found && n == 4, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "K_eff not read back as an array of 4");
  PetscCheck(!memcmp(v, K, sizeof(K)), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "K_eff changed in the file");
  PetscCall(KDReferenceGetParameter(back, "k1", &p, &found));
  PetscCheck(found && p == 1.0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "parameter k1 lost");
  PetscCall(KDReferenceGetArray(back, "scale", &n, &v, &found));
  PetscCheck(found && n == 1 && v[0] == one, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "one-value array lost");
  PetscCall(KDReferenceGetString(back, "microstructure", &s));
  PetscCheck(s && !strcmp(s, "type checkerboard\n"), PETSC_COMM_WORLD, PETSC_ERR_PLIB, "string lost");
  PetscCall(KDReferenceGetParameter(back, "K_eff", &p, &found));
  PetscCheck(!found, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "K_eff read as a parameter");
  PetscCall(KDReferenceGetArray(back, "nothing", &n, &v, &found));
  PetscCheck(!found && !n && !v, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a missing array was found");
  PetscCall(KDReferenceView(back, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(KDReferenceDestroy(&back));

  /* an array attribute of 5000 values, added by another tool, is refused */
  if (!rank) {
    hid_t file   = H5Fopen("t105.h5", H5F_ACC_RDWR, H5P_DEFAULT), space, attr;
    hsize_t dims = 5000;
    PetscReal *big;
    PetscCall(PetscCalloc1(dims, &big));
    space = H5Screate_simple(1, &dims, NULL);
    attr  = H5Acreate2(file, "huge", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    PetscCheck(file >= 0 && space >= 0 && attr >= 0 && H5Awrite(attr, H5T_NATIVE_DOUBLE, big) >= 0, PETSC_COMM_SELF,
               PETSC_ERR_LIB, "cannot add an attribute to t105.h5");
    H5Aclose(attr);
    H5Sclose(space);
    H5Fclose(file);
    PetscCall(PetscFree(big));
  }
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  PetscCall(PetscPushErrorHandler(KDNoPrint, NULL));
  ierr = KDReferenceLoad(PETSC_COMM_WORLD, "t105.h5", &back);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr && !back, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a 5000-value array attribute was accepted");
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "reference arrays: written, read back bit for bit, conflicts and an oversized "
                        "attribute refused: ok\n"));
  PetscCall(PetscFinalize());
  return 0;
}
