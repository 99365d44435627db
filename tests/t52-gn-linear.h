#pragma once
/* The linear least-squares problem r = A p - b of the Gauss-Newton tests t522 and t524: rows shared among the ranks
   by global index. A is a well-conditioned random 300 x 40 matrix (cond ~ 3) plus a graded column scaling up to 10
   (cond(A) ~ 30), a pure function of the global indices, so every rank can form the dense reference. */
#include <kdtrain.h>

#define M 300
#define N 40

typedef struct {
  MPI_Comm comm;
  PetscInt start, m; /* this rank's rows */
  PetscReal *p;      /* parameters */
} Problem;

static inline PetscReal Entry(PetscInt i, PetscInt j)
{
  return (KDRandomUniform(3, 1, i * N + j) - 0.5) * (1.0 + 9.0 * j / (N - 1));
}
static inline PetscReal Rhs(PetscInt i)
{
  return KDRandomUniform(3, 2, i) - 0.5 + 0.1 * i / M;
}

static inline PetscErrorCode RowsSize(void *ctx, PetscInt *m)
{
  PetscFunctionBegin;
  *m = ((Problem *) ctx)->m;
  PetscFunctionReturn(0);
}

static inline PetscErrorCode Rows(void *ctx, PetscInt start, PetscInt count, PetscReal r[], PetscReal J[])
{
  Problem *pb = (Problem *) ctx;

  PetscFunctionBegin;
  for (PetscInt q = 0; q < count; q++) {
    const PetscInt i = pb->start + start + q;
    PetscReal s      = -Rhs(i);
    for (PetscInt j = 0; j < N; j++) {
      s += Entry(i, j) * pb->p[j];
      if (J) J[q * N + j] = Entry(i, j);
    }
    r[q] = s;
  }
  PetscFunctionReturn(0);
}

/* This rank's rows: a block of the M global rows. */
static inline PetscErrorCode ProblemSetUp(MPI_Comm comm, PetscReal p[], Problem *pb)
{
  PetscInt mm = PETSC_DECIDE, Mg = M;

  PetscFunctionBegin;
  PetscCall(PetscSplitOwnership(comm, &mm, &Mg));
  PetscCallMPI(MPI_Scan(&mm, &pb->start, 1, MPIU_INT, MPI_SUM, comm));
  pb->comm = comm;
  pb->start -= mm;
  pb->m = mm;
  pb->p = p;
  PetscFunctionReturn(0);
}
