#pragma once
/* KDPDE: the PDE residual operators a PINN loss needs, acting on network jets (see kdnet.h for the jet layout).

   Each PDE names its network inputs and outputs, the jet streams its residual reads (a KDJetSpec), the number of
   residual components, and provides
     forward:  res[r * n + p]  = N_r[u](x_p)               from the jets of n points,
     adjoint:  adj[(o * nstreams + s) * n + p] += sum_r rbar[r * n + p] dN_r/d jet(o, s, p),
   plus what the loss needs around it: the domain (in network input order), point sampling from global indices, the
   Dirichlet/initial data and, for the cavity, the pressure gauge.

   PDEs (input order is the network's, which may differ from the axis order of reference.h5, which is slowest first):
     burgers  inputs t,x    outputs u      u_t + u u_x - nu u_xx                       (reference axes t,x)
     heat     inputs t,x,y  outputs u      u_t - k (u_xx + u_yy) - (k_x u_x + k_y u_y) - f   (reference axes t,y,x)
     cavity   inputs x,y    outputs u,v,p  u u_x + v u_y + p_x - (u_xx + u_yy)/Re,
                                           u v_x + v v_y + p_y - (v_xx + v_yy)/Re,
                                           u_x + v_y                                   (reference axes y,x) */
#include <kdnet.h>
#include <kdsolver.h>

typedef struct _p_KDPDE *KDPDE;

/* Point sets a loss draws: interior collocation points, the initial slice t = t_lo (time-dependent PDEs only), the
   spatial boundary (all of t for time-dependent PDEs). */
typedef enum { KD_PDE_POINTS_INTERIOR, KD_PDE_POINTS_INITIAL, KD_PDE_POINTS_BOUNDARY } KDPDEPointKind;
PETSC_EXTERN const char *const KDPDEPointKinds[];

/* Lid velocity profile of the cavity: the exact (discontinuous at the two top corners) lid u = 1 the reference solver
   uses, or the smoothed 1 - s^16, s in [-1, 1] across the lid. */
typedef enum { KD_CAVITY_LID_EXACT, KD_CAVITY_LID_SMOOTH } KDCavityLid;
PETSC_EXTERN const char *const KDCavityLids[];

PETSC_EXTERN PetscErrorCode KDPDECreate(MPI_Comm, KDPDE *);
PETSC_EXTERN PetscErrorCode KDPDEDestroy(KDPDE *);
PETSC_EXTERN PetscErrorCode KDPDESetType(KDPDE, const char[]);
PETSC_EXTERN PetscErrorCode KDPDEGetType(KDPDE, const char **);
PETSC_EXTERN PetscErrorCode KDPDESetParameter(KDPDE, const char[], PetscReal);
PETSC_EXTERN PetscErrorCode KDPDEGetParameter(KDPDE, const char[], PetscReal *);
PETSC_EXTERN PetscErrorCode KDPDESetHeatProblem(KDPDE, const KDHeatProblem *);
PETSC_EXTERN PetscErrorCode KDPDESetDomain(KDPDE, const PetscReal[], const PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEGetDomain(KDPDE, PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDESetFromReference(KDPDE, KDReference);
PETSC_EXTERN PetscErrorCode KDPDEGetReferenceAxisMap(KDPDE, KDReference, PetscInt[]);
PETSC_EXTERN PetscErrorCode KDPDESetOptionsPrefix(KDPDE, const char[]);
PETSC_EXTERN PetscErrorCode KDPDESetFromOptions(KDPDE);
PETSC_EXTERN PetscErrorCode KDPDEView(KDPDE, PetscViewer);

PETSC_EXTERN PetscErrorCode KDPDEGetSizes(KDPDE, PetscInt *, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDEGetNames(KDPDE, const char **, const char **);
PETSC_EXTERN PetscErrorCode KDPDEGetJetSpec(KDPDE, const KDJetSpec **);
PETSC_EXTERN PetscErrorCode KDPDEIsTimeDependent(KDPDE, PetscBool *);

/* Pointwise coefficients (heat: k, k_x, k_y, f), stored coef[c * n + p]; PDEs without coefficients have ncoef = 0. */
PETSC_EXTERN PetscErrorCode KDPDEGetNumCoefficients(KDPDE, PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDEComputeCoefficients(KDPDE, PetscInt, const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEResidual(KDPDE, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[],
                                          PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEResidualAdjoint(KDPDE, PetscInt, const PetscReal[], const PetscReal[],
                                                 const PetscReal[], const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEResidualNet(KDPDE, KDNet, PetscInt, const PetscReal[], PetscReal[]);

/* Point sampling by global index and the Dirichlet data on those points. */
PETSC_EXTERN PetscErrorCode KDPDESamplePoints(KDPDE, KDPDEPointKind, PetscInt64, PetscInt64, PetscInt64, PetscInt,
                                              PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEConditionValues(KDPDE, KDPDEPointKind, PetscInt, const PetscReal[], PetscReal[],
                                                 PetscBool[]);
PETSC_EXTERN PetscErrorCode KDPDEGetGauge(KDPDE, PetscBool *, PetscReal[], PetscInt *);

/* The PDE operator of a PINN loss (borrowed), available after KDLossSetReference(). */
#include <kdtrain.h>
PETSC_EXTERN PetscErrorCode KDLossGetPDE(KDLoss, KDPDE *);
