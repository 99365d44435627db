static const char help[] = "Builds a two-level reference hierarchy through the installed kdpinn.\n";
#include <kdpinn.h>

int main(int argc, char **argv)
{
  KDReference ref;
  PetscInt    n[2] = {4, 8}, L;
  PetscReal   lo[2] = {0, 0}, hi[2] = {1, 1};
  Vec         u;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(KDReferenceCreate(PETSC_COMM_WORLD, &ref));
  PetscCall(KDReferenceSetGrid(ref, 2, "y,x", n, lo, hi));
  PetscCall(KDReferenceCreateLevelVec(ref, 0, &u));
  PetscCall(VecSet(u, 1.0));
  PetscCall(KDReferenceAddField(ref, "u", u));
  PetscCall(KDReferenceBuildHierarchy(ref, 2));
  PetscCall(KDReferenceGetNumLevels(ref, &L));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "kdpinn %s: %" PetscInt_FMT " levels\n", KDPINN_VERSION, L));
  PetscCall(VecDestroy(&u));
  PetscCall(KDReferenceDestroy(&ref));
  PetscCall(PetscFinalize());
  return 0;
}
