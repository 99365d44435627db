#pragma once
/* KDPDE: a PDE as a registered type (PETSc's TSRegister / TSSetType pattern; docs/extending.md).

   A PDE names its network inputs and outputs, the jet streams its residual reads (a KDJetSpec; kdnet.h gives the jet
   layout), the number of residual components, its named scalar parameters, its pointwise coefficients and its
   initial and boundary data as loss terms (KDCondition), and provides
     forward:  res[r * n + p]  = N_r[u](x_p)               from the jets of n points,
     adjoint:  adj[(o * nstreams + s) * n + p] += sum_r rbar[r * n + p] dN_r/d jet(o, s, p).
   The built-in types are burgers, heat and cavity (docs/losses.md); a user's code adds its own with
   KDPDERegister(), in the program or in a plugin the stock driver loads (-kd_plugin). The implementation side
   (the object's layout and the calls a type's create function makes) is kdpdeimpl.h.

   Two kinds of options: the problem a PDE poses (its named parameters, -<type>_<name>, and whatever else its type
   reads with the same prefix, e.g. -heat_microstructure), read by the solve and import stages
   (KDPDESetProblemFromOptions()) and recorded in reference.h5 (KDPDEWriteReference()); and the formulation of a PINN
   loss on it (e.g. -teacher_cavity_gauge_point), read with the loss's prefix (KDPDESetFromOptions()). */
#include <kdnet.h>
#include <kdreference.h>

typedef struct _p_KDPDE *KDPDE;

/* The registered PDE types, name -> create function (-kd_pde). */
PETSC_EXTERN PetscFunctionList KDPDEList;
PETSC_EXTERN PetscErrorCode KDPDERegister(const char[], PetscErrorCode (*)(KDPDE));
PETSC_EXTERN PetscErrorCode KDPDEInitializePackage(void);
PETSC_EXTERN PetscErrorCode KDPDEFinalizePackage(void);
PETSC_EXTERN PetscErrorCode KDPDEGetTypeNames(PetscInt *, const char *const **);

/* Point sets a loss draws: interior collocation points, the initial slice t = t_lo (time-dependent PDEs only), points
   on a set of spatial faces (all of t for time-dependent PDEs). */
typedef enum { KD_PDE_POINTS_INTERIOR, KD_PDE_POINTS_INITIAL, KD_PDE_POINTS_BOUNDARY } KDPDEPointKind;
PETSC_EXTERN const char *const KDPDEPointKinds[];

/* Faces of the box domain: side s (0: low, 1: high) of spatial input i is bit 2 i + s of a face mask. */
#define KD_FACE(i, s) ((PetscInt) 1 << (2 * (i) + (s)))
#define KD_FACES_ALL ((PetscInt) -1)

/* Initial and boundary data as loss terms (src/loss/terms.c has one row per type):
     dirichlet  sum over prescribed outputs of (u_o - g_o)^2 on the faces
     neumann    (c_o du_o/dn - g_o)^2, n the outward normal; c = 1 (normal derivative) or a coefficient (flux k du/dn)
     periodic   (u_o(a) - u_o(b))^2 + (h_i (d_i u_o(a) - d_i u_o(b)))^2 for a on the low face of input i, b its image on
                the high face, h_i the half-width of input i
     initial    (u_o - g_o)^2 on t = t_lo */
typedef enum {
  KD_CONDITION_DIRICHLET,
  KD_CONDITION_NEUMANN,
  KD_CONDITION_PERIODIC,
  KD_CONDITION_INITIAL
} KDConditionType;
#define KD_CONDITION_NTYPES 4 /* the number of KDConditionType values */
PETSC_EXTERN const char *const KDConditionTypes[];

/* Data of a condition at n points x[p * nin + i]: g[o * n + p] (values, or prescribed fluxes) and, for neumann, the
   flux coefficient c[o * n + p] (the caller sets it to 1; a PDE with a coefficient writes it). The face of every point
   is face[p] (bit index 2 i + s of its face; -1 for initial points). A loss passes every array; another caller may
   pass NULL for c and face where the condition does not read them. */
typedef PetscErrorCode (*KDConditionFunction)(KDPDE, PetscInt, const PetscReal[], const PetscInt[], PetscReal[],
                                              PetscReal[], void *);

typedef struct {
  char name[16]; /* loss term name; options -<prefix>n<name>, -<prefix>w_<name> */
  KDConditionType type;
  PetscInt faces;                    /* face mask (KD_FACE); ignored by initial conditions */
  PetscBool outputs[KD_NET_MAX_OUT]; /* the outputs the condition prescribes */
  PetscInt npoints;                  /* default number of global points */
  PetscReal weight;                  /* default weight */
  KDConditionFunction data;          /* NULL: homogeneous (g = 0) */
  void *ctx;
} KDCondition;

PETSC_EXTERN PetscErrorCode KDPDECreate(MPI_Comm, KDPDE *);
PETSC_EXTERN PetscErrorCode KDPDEDestroy(KDPDE *);
PETSC_EXTERN PetscErrorCode KDPDESetType(KDPDE, const char[]);
PETSC_EXTERN PetscErrorCode KDPDEGetType(KDPDE, const char **);
PETSC_EXTERN PetscErrorCode KDPDESetOptionsPrefix(KDPDE, const char[]);
PETSC_EXTERN PetscErrorCode KDPDESetFromOptions(KDPDE);
PETSC_EXTERN PetscErrorCode KDPDESetProblemFromOptions(KDPDE);
PETSC_EXTERN PetscErrorCode KDPDESetFromReference(KDPDE, KDReference);
PETSC_EXTERN PetscErrorCode KDPDEWriteReference(KDPDE, KDReference);
PETSC_EXTERN PetscErrorCode KDPDESetLevel(KDPDE, KDReference, PetscInt);
PETSC_EXTERN PetscErrorCode KDPDESetUpNet(KDPDE, KDNet);
PETSC_EXTERN PetscErrorCode KDPDEView(KDPDE, PetscViewer);

/* Named scalar parameters (burgers: nu; heat: source_amplitude, ...; cavity: Re). */
PETSC_EXTERN PetscErrorCode KDPDESetParameter(KDPDE, const char[], PetscReal);
PETSC_EXTERN PetscErrorCode KDPDEGetParameter(KDPDE, const char[], PetscReal *);
PETSC_EXTERN PetscErrorCode KDPDEGetNumParameters(KDPDE, PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDEGetParameterName(KDPDE, PetscInt, const char **);
PETSC_EXTERN PetscErrorCode KDPDEGetParameterIndex(KDPDE, const char[], PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDEIsParameterPositive(KDPDE, PetscInt, PetscBool *);
PETSC_EXTERN PetscErrorCode KDPDEIsParameterLearned(KDPDE, PetscInt, PetscBool *);
PETSC_EXTERN PetscErrorCode KDPDEGetLearnedTensor(KDPDE, const char **, PetscInt *, const PetscInt **, const char **,
                                                  const char **);
PETSC_EXTERN PetscErrorCode KDPDEIsTensorParameter(KDPDE, PetscInt, PetscBool *);
PETSC_EXTERN PetscErrorCode KDPDESetUpScratchTwin(KDPDE);
PETSC_EXTERN PetscErrorCode KDPDEIsScratchTwin(KDPDE, PetscBool *);

PETSC_EXTERN PetscErrorCode KDPDESetDomain(KDPDE, const PetscReal[], const PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEGetDomain(KDPDE, PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEGetReferenceAxisMap(KDPDE, KDReference, PetscInt[]);
PETSC_EXTERN PetscErrorCode KDPDEGetSizes(KDPDE, PetscInt *, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDEGetNames(KDPDE, const char **, const char **);
PETSC_EXTERN PetscErrorCode KDPDEGetJetSpec(KDPDE, const KDJetSpec **);
PETSC_EXTERN PetscErrorCode KDPDEIsTimeDependent(KDPDE, PetscBool *);
PETSC_EXTERN PetscErrorCode KDPDEGetTimeInput(KDPDE, PetscInt *);

/* Pointwise coefficients (heat: k, k_x, k_y, f), stored coef[c * n + p]; PDEs without coefficients have ncoef = 0. */
PETSC_EXTERN PetscErrorCode KDPDEGetNumCoefficients(KDPDE, PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDEComputeCoefficients(KDPDE, PetscInt, const PetscReal[], PetscReal[]);
/* Coefficient fields learnable from data: (pde, name, &value, grad[nin]): the coefficient of the field and of its
   derivative along each input (-1: none); an error naming the PDE's fields if it has no such one. */
PETSC_EXTERN PetscErrorCode KDPDEGetCoefficientField(KDPDE, const char[], PetscInt *, PetscInt[]);
PETSC_EXTERN PetscErrorCode KDPDEGetNumCoefficientFields(KDPDE, PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDESetCoefficientFieldNet(KDPDE, const char[], KDNet);
PETSC_EXTERN PetscErrorCode KDPDEGetCoefficientFieldName(KDPDE, PetscInt, const char **);
/* cbar[c * n + p] = sum_r rbar[r * n + p] d res_r / d coef_c (KDPDEResidualAdjoint()'s arguments) */
PETSC_EXTERN PetscErrorCode KDPDECoefficientAdjoint(KDPDE, PetscInt, const PetscReal[], const PetscReal[],
                                                    const PetscReal[], const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEResidual(KDPDE, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[],
                                          PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEResidualAdjoint(KDPDE, PetscInt, const PetscReal[], const PetscReal[],
                                                 const PetscReal[], const PetscReal[], PetscReal[]);
/* d res / d param_k at the points, for inferred parameters (KDPDEResidual()'s arguments, then k first) */
PETSC_EXTERN PetscErrorCode KDPDEResidualParameter(KDPDE, PetscInt, PetscInt, const PetscReal[], const PetscReal[],
                                                   const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEResidualNet(KDPDE, KDNet, PetscInt, const PetscReal[], PetscReal[]);

/* Point sampling by global index; the conditions and their data; the gauge. */
PETSC_EXTERN PetscErrorCode KDPDEGradePoints(KDPDE, PetscInt, PetscReal[], PetscReal[], PetscBool *);
PETSC_EXTERN PetscErrorCode KDPDESamplePoints(KDPDE, KDPDEPointKind, PetscInt, PetscInt64, PetscInt64, PetscInt64,
                                              PetscInt, PetscReal[], PetscInt[]);
PETSC_EXTERN PetscErrorCode KDPDEGetNumConditions(KDPDE, PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDEGetCondition(KDPDE, PetscInt, const KDCondition **);
PETSC_EXTERN PetscErrorCode KDPDEConditionValues(KDPDE, PetscInt, PetscInt, const PetscReal[], const PetscInt[],
                                                 PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode KDPDEGetGauge(KDPDE, PetscBool *, PetscReal[], PetscInt *);
