static const char help[] = "Scale hierarchy: restriction by cell averages preserves the mean and equals the direct average\n"
                           "of the 2^dim children; a written reference.h5 reads back exactly.\n"
                           "Usage: t101-hierarchy -dim <2|3> -levels <L> -out <file.h5>\n";

#include <kdpinn.h>
#include <math.h>

/* A smooth field with no symmetry, so a wrong index in the restriction shows. */
static PetscReal Field(PetscInt dim, const PetscReal x[])
{
  PetscReal v = sin(1.3 * x[0] + 0.2) * cos(2.1 * x[1] - 0.4);
  if (dim == 3) v += x[2] * x[2] * x[0] + 0.1 * x[2];
  return v;
}

static PetscErrorCode LevelMean(Vec v, PetscReal *mean)
{
  PetscInt N;

  PetscFunctionBegin;
  PetscCall(VecSum(v, mean));
  PetscCall(VecGetSize(v, &N));
  *mean /= (PetscReal)N;
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  KDReference ref, back;
  PetscInt    dim = 3, L = 3, n[3] = {16, 8, 12}, N = 1, rstart, rend, Lback;
  PetscReal   lo[3] = {0, -1, 0.5}, hi[3] = {1, 1, 2}, mean0;
  char        out[PETSC_MAX_PATH_LEN] = "t101.h5";
  Vec         u, v;
  MPI_Comm    comm;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  comm = PETSC_COMM_WORLD;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-dim", &dim, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-levels", &L, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-out", out, sizeof(out), NULL));
  PetscCall(KDReferenceCreate(comm, &ref));
  PetscCall(KDReferenceSetPDE(ref, "test"));
  PetscCall(KDReferenceSetParameter(ref, "nu", 0.25));
  PetscCall(KDReferenceSetString(ref, "note", "hierarchy test"));
  if (dim == 2) {
    n[0] = 32;
    n[1] = 16;
  }
  PetscCall(KDReferenceSetGrid(ref, dim, dim == 3 ? "t,y,x" : "t,x", n, lo, hi));
  for (PetscInt d = 0; d < dim; d++) N *= n[d];
  /* Fill through a layout that differs from the reference's, as solvers do: VecSetValues by natural index. */
  PetscCall(VecCreateMPI(comm, PETSC_DECIDE, N, &u));
  PetscCall(VecGetOwnershipRange(u, &rstart, &rend));
  for (PetscInt k = rstart; k < rend; k++) {
    PetscInt  idx[3], r = k;
    PetscReal x[3];
    for (PetscInt d = dim - 1; d >= 0; d--) {
      idx[d] = r % n[d];
      r /= n[d];
      x[d] = lo[d] + (idx[d] + 0.5) * (hi[d] - lo[d]) / n[d];
    }
    PetscCall(VecSetValue(u, k, Field(dim, x), INSERT_VALUES));
  }
  PetscCall(VecAssemblyBegin(u));
  PetscCall(VecAssemblyEnd(u));
  PetscCall(KDReferenceAddField(ref, "u", u));
  PetscCall(VecScale(u, -2.0));
  PetscCall(KDReferenceAddField(ref, "v", u));
  PetscCall(VecDestroy(&u));
  PetscCall(KDReferenceBuildHierarchy(ref, L));

  /* Mean preservation: every level has the mean of level 0, to round-off of summing N values (1e-13 relative). */
  PetscCall(KDReferenceGetField(ref, 0, "u", &v));
  PetscCall(LevelMean(v, &mean0));
  for (PetscInt l = 1; l < L; l++) {
    PetscReal mean;
    PetscCall(KDReferenceGetField(ref, l, "u", &v));
    PetscCall(LevelMean(v, &mean));
    PetscCheck(PetscAbsReal(mean - mean0) <= 1e-13 * PetscMax(1.0, PetscAbsReal(mean0)), comm, PETSC_ERR_PLIB, "level %" PetscInt_FMT " mean %.17g != level 0 mean %.17g", l, (double)mean, (double)mean0);
  }
  /* Level 1 equals the direct average of the children of every cell (gathered to all ranks: the test grids are small). */
  {
    Vec                f0, f1, all0, all1;
    VecScatter         s0, s1;
    const PetscScalar *a, *c;
    PetscInt           nc[3] = {1, 1, 1}, nf[3] = {1, 1, 1};
    PetscReal          maxdiff = 0;

    PetscCall(KDReferenceGetField(ref, 0, "u", &f0));
    PetscCall(KDReferenceGetField(ref, 1, "u", &f1));
    PetscCall(VecScatterCreateToAll(f0, &s0, &all0));
    PetscCall(VecScatterCreateToAll(f1, &s1, &all1));
    PetscCall(VecScatterBegin(s0, f0, all0, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(s0, f0, all0, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterBegin(s1, f1, all1, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(s1, f1, all1, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecGetArrayRead(all0, &a));
    PetscCall(VecGetArrayRead(all1, &c));
    for (PetscInt d = 0; d < dim; d++) {
      nf[d] = n[d];
      nc[d] = n[d] / 2;
    }
    for (PetscInt i = 0; i < nc[0]; i++)
      for (PetscInt j = 0; j < nc[1]; j++)
        for (PetscInt k = 0; k < nc[2]; k++) {
          PetscReal sum = 0;
          PetscInt  cnt = 0;
          for (PetscInt a0 = 0; a0 < 2; a0++)
            for (PetscInt a1 = 0; a1 < 2; a1++)
              for (PetscInt a2 = 0; a2 < (dim == 3 ? 2 : 1); a2++) {
                sum += a[((2 * i + a0) * nf[1] + 2 * j + a1) * nf[2] + (dim == 3 ? 2 * k + a2 : 0)];
                cnt++;
              }
          maxdiff = PetscMax(maxdiff, PetscAbsReal(sum / cnt - c[(i * nc[1] + j) * nc[2] + k]));
        }
    /* Same values summed in a possibly different order: a few ulps of O(1) values. */
    PetscCheck(maxdiff <= 1e-14, comm, PETSC_ERR_PLIB, "level 1 differs from the direct cell average by %g", (double)maxdiff);
    PetscCall(VecRestoreArrayRead(all0, &a));
    PetscCall(VecRestoreArrayRead(all1, &c));
    PetscCall(VecScatterDestroy(&s0));
    PetscCall(VecScatterDestroy(&s1));
    PetscCall(VecDestroy(&all0));
    PetscCall(VecDestroy(&all1));
  }

  /* Write, read back, compare every level and field exactly (the file stores doubles: no rounding allowed). */
  PetscCall(KDReferenceWrite(ref, out));
  PetscCall(KDReferenceLoad(comm, out, &back));
  PetscCall(KDReferenceGetNumLevels(back, &Lback));
  PetscCheck(Lback == L, comm, PETSC_ERR_PLIB, "read back %" PetscInt_FMT " levels, wrote %" PetscInt_FMT, Lback, L);
  {
    PetscReal nu;
    PetscBool found;
    const char *note;
    PetscCall(KDReferenceGetParameter(back, "nu", &nu, &found));
    PetscCheck(found && nu == 0.25, comm, PETSC_ERR_PLIB, "parameter nu not read back");
    PetscCall(KDReferenceGetString(back, "note", &note));
    PetscCheck(note && !strcmp(note, "hierarchy test"), comm, PETSC_ERR_PLIB, "string attribute not read back");
  }
  for (PetscInt l = 0; l < L; l++) {
    for (PetscInt f = 0; f < 2; f++) {
      const char *name = f ? "v" : "u";
      Vec         a, b;
      PetscBool   eq;
      PetscCall(KDReferenceGetField(ref, l, name, &a));
      PetscCall(KDReferenceGetField(back, l, name, &b));
      PetscCall(VecEqual(a, b, &eq));
      PetscCheck(eq, comm, PETSC_ERR_PLIB, "level %" PetscInt_FMT " field %s differs after read-back", l, name);
    }
  }
  PetscCall(PetscPrintf(comm, "t101: %" PetscInt_FMT "-D hierarchy of %" PetscInt_FMT " levels: mean preserved, cell averages exact, read-back exact\n", dim, L));
  PetscCall(KDReferenceDestroy(&back));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(PetscFinalize());
  return 0;
}
