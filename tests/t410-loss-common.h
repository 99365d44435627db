/* Shared by the loss tests: small in-memory references for burgers, heat and cavity, and a small network fitted to
   them. Fields are analytic functions of the cell centres, asymmetric in x and y, so that a swapped axis or a wrong
   gather shows in a data term. */
#include <kdpde.h>
#include <kdtrain.h>
#include "pde/heat.h"

/* a == b to tol relative to |b|, or an error naming what was compared. */
static inline PetscErrorCode CheckClose(const char *what, PetscReal a, PetscReal b, PetscReal tol)
{
  PetscFunctionBegin;
  PetscCheck(PetscAbsReal(a - b) <= tol * PetscAbsReal(b), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: %.16e vs %.16e (rel %.2e > %.0e)", what, (double) a, (double) b,
             (double) (PetscAbsReal(a - b) / PetscAbsReal(b)), (double) tol);
  PetscFunctionReturn(0);
}

/* The terms of this rank (KDLossEvaluateLocal), their sum *L and the gradient. */
static inline PetscErrorCode LossValue(KDLoss loss, PetscReal terms[], PetscReal grad[], PetscReal *L)
{
  PetscInt nterms;

  PetscFunctionBegin;
  *L = 0.0;
  PetscCall(KDLossGetTerms(loss, &nterms, NULL));
  PetscCall(KDLossEvaluateLocal(loss, terms, grad));
  for (PetscInt t = 0; t < nterms; t++) *L += terms[t];
  PetscFunctionReturn(0);
}

/* Field values: f(name, t, x, y) in physical coordinates (t unused for cavity). */
static PetscReal TestField(const char *name, PetscReal t, PetscReal x, PetscReal y)
{
  if (name[0] == 'u') return PetscSinReal(1.3 * x + 0.4) * PetscCosReal(0.7 * y - 0.2 * t) + 0.3 * x * y;
  if (name[0] == 'v') return PetscCosReal(0.9 * x) - 0.5 * y * y + 0.1 * t;
  return x - 2.0 * y * y + 0.2;
}

/* Reference of a PDE on a small grid with L levels (the grid is divisible by 2^(L-1)); n0 = cells of the first axis. */
static PetscErrorCode TestReferenceCreate(MPI_Comm comm, const char *pde, PetscInt L, KDReference *ref)
{
  PetscBool burgers, heat, conduction, fisher;
  PetscInt dim, n[3], nf;
  PetscReal lo[3], hi[3];
  const char *axes, *fields[3];

  PetscFunctionBegin;
  PetscCall(PetscStrcmp(pde, "burgers", &burgers));
  PetscCall(PetscStrcmp(pde, "heat", &heat));
  PetscCall(PetscStrcmp(pde, "conduction", &conduction));
  PetscCall(PetscStrcmp(pde, "fisher", &fisher));
  PetscCall(KDReferenceCreate(comm, ref));
  PetscCall(KDReferenceSetPDE(*ref, pde));
  if (burgers) {
    dim = 2, axes = "t,x", nf = 1, fields[0] = "u";
    n[0] = 12, n[1] = 16, lo[0] = 0.0, hi[0] = 1.0, lo[1] = -1.0, hi[1] = 1.0;
    PetscCall(KDReferenceSetParameter(*ref, "nu", 0.01 / PETSC_PI));
    PetscCall(KDReferenceSetParameter(*ref, "advection", 1.0));
  } else if (heat) {
    KDHeatProblem prob;
    dim = 3, axes = "t,y,x", nf = 1, fields[0] = "u";
    n[0] = 4, n[1] = 8, n[2] = 12, lo[0] = 0.0, hi[0] = 0.1, lo[1] = 0.0, hi[1] = 1.0, lo[2] = 0.0, hi[2] = 1.0;
    PetscCall(PetscMemzero(&prob, sizeof(prob)));
    prob.ms.k0   = 1.0;
    prob.ms.n    = 2;
    prob.ms.x[0] = 0.3, prob.ms.y[0] = 0.6, prob.ms.r[0] = 0.2, prob.ms.c[0] = 4.0;
    prob.ms.x[1] = 0.7, prob.ms.y[1] = 0.2, prob.ms.r[1] = 0.15, prob.ms.c[1] = -0.5;
    prob.tfinal    = 0.1;
    prob.source[0] = 100.0, prob.source[1] = 0.65, prob.source[2] = 0.45, prob.source[3] = 0.08;
    PetscCall(KDHeatProblemToReference(&prob, *ref));
  } else if (conduction) { /* the default problem: checkerboard of period 1/8, so that every level is homogenized */
    KDPDE cp;
    dim = 2, axes = "y,x", nf = 1, fields[0] = "u";
    n[0] = 8, n[1] = 8, lo[0] = 0.0, hi[0] = 1.0, lo[1] = 0.0, hi[1] = 1.0;
    PetscCall(KDPDECreate(comm, &cp));
    PetscCall(KDPDESetType(cp, "conduction"));
    PetscCall(KDPDESetProblemFromOptions(cp));
    PetscCall(KDPDEWriteReference(cp, *ref));
    PetscCall(KDPDEDestroy(&cp));
  } else if (fisher) { /* laminate tissue of period 1/4: level 1 (4 x 4 cells) is homogenized */
    KDPDE fp;
    dim = 3, axes = "t,y,x", nf = 1, fields[0] = "u";
    n[0] = 4, n[1] = 8, n[2] = 8, lo[0] = lo[1] = lo[2] = 0.0, hi[0] = hi[1] = hi[2] = 1.0;
    PetscCall(PetscOptionsSetValue(NULL, "-fisher_tissue", "laminate"));
    PetscCall(PetscOptionsSetValue(NULL, "-fisher_eps", "0.25"));
    PetscCall(KDPDECreate(comm, &fp));
    PetscCall(KDPDESetType(fp, "fisher"));
    PetscCall(KDPDESetProblemFromOptions(fp));
    PetscCall(KDPDEWriteReference(fp, *ref));
    PetscCall(KDPDEDestroy(&fp));
    PetscCall(PetscOptionsClearValue(NULL, "-fisher_tissue"));
    PetscCall(PetscOptionsClearValue(NULL, "-fisher_eps"));
  } else {
    dim = 2, axes = "y,x", nf = 3, fields[0] = "u", fields[1] = "v", fields[2] = "p";
    n[0] = 8, n[1] = 12, lo[0] = 0.0, hi[0] = 1.0, lo[1] = 0.0, hi[1] = 1.0;
    PetscCall(KDReferenceSetParameter(*ref, "Re", 100.0));
  }
  PetscCall(KDReferenceSetGrid(*ref, dim, axes, n, lo, hi));
  for (PetscInt f = 0; f < nf; f++) {
    Vec v;
    PetscInt start, end;
    PetscCall(KDReferenceCreateLevelVec(*ref, 0, &v));
    PetscCall(VecGetOwnershipRange(v, &start, &end));
    for (PetscInt c = start; c < end; c++) {
      PetscInt rem = c, idx[3];
      PetscReal ax[3], t, x, y;
      for (PetscInt d = dim - 1; d >= 0; d--) {
        idx[d] = rem % n[d];
        rem /= n[d];
        ax[d] = lo[d] + (idx[d] + 0.5) * (hi[d] - lo[d]) / n[d];
      }
      if (burgers)
        t = ax[0], x = ax[1], y = 0.0;
      else if (heat || fisher)
        t = ax[0], y = ax[1], x = ax[2];
      else /* cavity, conduction */
        t = 0.0, y = ax[0], x = ax[1];
      PetscCall(VecSetValue(v, c, TestField(fields[f], t, x, y), INSERT_VALUES));
    }
    PetscCall(VecAssemblyBegin(v));
    PetscCall(VecAssemblyEnd(v));
    PetscCall(KDReferenceAddField(*ref, fields[f], v));
    PetscCall(VecDestroy(&v));
  }
  if (L > 1) PetscCall(KDReferenceBuildHierarchy(*ref, L));
  PetscFunctionReturn(0);
}

/* A small tanh network fitted to the loss's PDE (KDLossConfigureNet), with a non-trivial output scaling so that the
   scaling's chain rule is exercised too. */
static PetscErrorCode TestNetCreate(MPI_Comm comm, KDLoss loss, PetscInt seed, KDNet *net)
{
  const PetscInt widths[2] = {7, 5};
  const PetscReal scale[4] = {1.5, 0.7, 2.0, 1.0}, shift[4] = {0.1, -0.2, 0.3, 0.0};

  PetscFunctionBegin;
  PetscCall(KDNetCreate(comm, net));
  PetscCall(KDNetSetArchitecture(*net, 1, 2, widths, 1));
  PetscCall(KDLossConfigureNet(loss, *net));
  PetscCall(KDNetSetOutputScaling(*net, scale, shift));
  /* blocks of 16 points: a point set spans several blocks, so per-block offsets into the loss's arrays matter */
  PetscCall(KDNetSetBlockSize(*net, 16));
  PetscCall(KDNetSetUp(*net));
  PetscCall(KDNetInitialize(*net, seed));
  PetscFunctionReturn(0);
}
