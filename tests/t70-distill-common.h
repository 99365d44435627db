/* The fixture of the distillation-loss tests (t701, t703): a small reference of the PDE, a student with its PINN loss
   on level 1 and a teacher network, and the distillation loss between them with the -student_ options in force. */
#pragma once
#include "t410-loss-common.h"
#include <kddistill.h>

static PetscErrorCode TestDistillLossCreate(const char *pde, KDReference *ref, KDLoss *phys, KDNet *student,
                                            KDNet *teacher, KDDistillLoss *dl)
{
  const PetscInt twidths[2] = {9, 6};

  PetscFunctionBegin;
  PetscCall(TestReferenceCreate(PETSC_COMM_WORLD, pde, 2, ref));
  PetscCall(KDLossCreate(PETSC_COMM_WORLD, phys));
  PetscCall(KDLossSetOptionsPrefix(*phys, "student_"));
  PetscCall(KDLossSetReference(*phys, *ref, 1));
  PetscCall(KDLossSetSeed(*phys, 3));
  PetscCall(TestNetCreate(PETSC_COMM_WORLD, *phys, 5, student));
  PetscCall(KDLossSetNet(*phys, *student));
  PetscCall(KDLossSetFromOptions(*phys));
  PetscCall(KDLossSetUp(*phys));
  PetscCall(KDNetCreate(PETSC_COMM_WORLD, teacher));
  PetscCall(KDNetSetArchitecture(*teacher, 1, 2, twidths, 1));
  PetscCall(KDLossConfigureNet(*phys, *teacher));
  PetscCall(KDNetSetBlockSize(*teacher, 16));
  PetscCall(KDNetSetUp(*teacher));
  PetscCall(KDNetInitialize(*teacher, 11));

  PetscCall(KDDistillLossCreate(PETSC_COMM_WORLD, dl));
  PetscCall(KDDistillLossSetOptionsPrefix(*dl, "student_"));
  PetscCall(KDDistillLossSetNets(*dl, *student, *teacher));
  PetscCall(KDDistillLossSetPhysics(*dl, *phys, *ref, 1));
  PetscCall(KDDistillLossSetSeed(*dl, 3));
  PetscCall(KDDistillLossSetFilter(*dl, KD_FILTER_BOX, 3));
  PetscCall(KDDistillLossSetFromOptions(*dl));
  PetscCall(KDDistillLossSetUp(*dl));
  PetscFunctionReturn(0);
}

static PetscErrorCode TestDistillLossDestroy(KDReference *ref, KDLoss *phys, KDNet *student, KDNet *teacher,
                                             KDDistillLoss *dl)
{
  PetscFunctionBegin;
  PetscCall(KDDistillLossDestroy(dl));
  PetscCall(KDLossDestroy(phys));
  PetscCall(KDNetDestroy(teacher));
  PetscCall(KDNetDestroy(student));
  PetscCall(KDReferenceDestroy(ref));
  PetscFunctionReturn(0);
}
