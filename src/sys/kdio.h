#pragma once
/* Internal I/O helpers shared by every file kdpinn writes (reference, models, checkpoints, reports): HDF5, hashing,
   text. */
#include <kdsys.h>
#include <hdf5.h>

/* Wraps an HDF5 call that returns a negative value on failure, as PetscCall wraps PETSc calls. */
#define KD_H5_MAX_DIM 4

#define PetscCallH5(...)                                                                                               \
  do {                                                                                                                 \
    if ((__VA_ARGS__) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #__VA_ARGS__);              \
  } while (0)

PETSC_INTERN PetscErrorCode KDH5Quiet(void);
/* an error about a file's contents, naming the file, raised on the communicator it was opened on */
PETSC_INTERN PetscErrorCode KDH5FileError(hid_t, PetscErrorCode, const char[], ...) PETSC_ATTRIBUTE_FORMAT(3, 4);
PETSC_INTERN PetscErrorCode KDH5Create(MPI_Comm, const char[], hid_t *);
PETSC_INTERN PetscErrorCode KDH5Open(MPI_Comm, const char[], hid_t *);
PETSC_INTERN PetscErrorCode KDH5Close(hid_t *);
PETSC_INTERN PetscErrorCode KDH5CloseAll(hid_t *);
PETSC_INTERN PetscErrorCode KDH5Abandon(hid_t *);
PETSC_INTERN PetscErrorCode KDH5CreateGroup(hid_t, const char[], hid_t *);
PETSC_INTERN PetscErrorCode KDH5WriteAttrString(hid_t, const char[], const char[]);
PETSC_INTERN PetscErrorCode KDH5WriteAttrReals(hid_t, const char[], PetscInt, const PetscReal[]);
PETSC_INTERN PetscErrorCode KDH5WriteAttrInts(hid_t, const char[], PetscInt, const PetscInt[]);
PETSC_INTERN PetscErrorCode KDH5ReadAttrString(hid_t, const char[], char[], size_t);
PETSC_INTERN PetscErrorCode KDH5ReadAttrReals(hid_t, const char[], PetscInt, PetscReal[], PetscInt *);
PETSC_INTERN PetscErrorCode KDH5ReadAttrInts(hid_t, const char[], PetscInt, PetscInt[], PetscInt *);
PETSC_INTERN PetscErrorCode KDH5HasAttr(hid_t, const char[], PetscBool *);
/* whether a root attribute name describes the file itself (never a PDE parameter) */
PETSC_INTERN PetscBool KDH5IsReservedAttribute(const char[]);
PETSC_INTERN PetscErrorCode KDH5WriteCommonAttributes(hid_t, const char[], const char[]);
PETSC_INTERN PetscErrorCode KDH5WriteRows(hid_t, const char[], PetscInt, const PetscInt[], PetscInt, PetscInt,
                                          const PetscReal[]);
PETSC_INTERN PetscErrorCode KDH5ReadRows(hid_t, const char[], PetscInt, PetscInt[], PetscInt, PetscInt, PetscReal[]);
PETSC_INTERN PetscErrorCode KDH5GetDims(hid_t, const char[], PetscInt, PetscInt *, PetscInt[]);

/* 64-bit FNV-1a, the checksum of checkpoints and model files: integers are hashed as 64-bit values and reals as their
   IEEE bytes, so a checksum does not depend on PetscInt's width. */
#define KD_FNV_OFFSET 0xcbf29ce484222325ULL
#define KD_FNV_PRIME 0x100000001b3ULL

static inline unsigned long long KDHashBytes(unsigned long long h, const void *data, size_t len)
{
  const unsigned char *p = (const unsigned char *) data;

  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned long long) p[i];
    h *= KD_FNV_PRIME;
  }
  return h;
}

static inline unsigned long long KDHashInt(unsigned long long h, PetscInt v)
{
  long long w = (long long) v;

  return KDHashBytes(h, &w, sizeof(w));
}

/* A growing text buffer: {NULL, 0, 0} is empty; KDTextAppend() appends printf-style; the caller frees s. */
typedef struct {
  char *s;
  size_t len, cap;
} KDText;
PETSC_INTERN PetscErrorCode KDTextAppend(KDText *, const char *, ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
/* The shortest %g form of v that reads back as exactly v: 0.3 rather than 0.29999999999999999. */
PETSC_INTERN void KDFormatReal(PetscReal, char[32]);
