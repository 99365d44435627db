#pragma once
/* Shared by the solvers' order-of-accuracy tests (2xx): the observed order of a sequence of errors. */
#include <petscsys.h>

/* Least-squares slope of log(e) against log(h). */
static inline PetscReal FitSlope(PetscInt m, const PetscReal h[], const PetscReal e[])
{
  PetscReal mh = 0, me = 0, shh = 0, she = 0;
  for (PetscInt g = 0; g < m; g++) {
    mh += PetscLogReal(h[g]) / m;
    me += PetscLogReal(e[g]) / m;
  }
  for (PetscInt g = 0; g < m; g++) {
    shh += (PetscLogReal(h[g]) - mh) * (PetscLogReal(h[g]) - mh);
    she += (PetscLogReal(h[g]) - mh) * (PetscLogReal(e[g]) - me);
  }
  return she / shh;
}
