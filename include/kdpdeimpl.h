#pragma once
/* The implementation side of KDPDE: what a PDE type's create function fills in. Installed, so that a PDE can be
   defined outside the library (docs/extending.md walks through jobs/darcy/darcy.c); kdpde.h is the calling side.

   A type's create function, registered with KDPDERegister(name, create), declares the PDE on a fresh object with

   - KDPDESetVariables(pde, "t,x", "u", nres): inputs and outputs by name, residual components;
   - KDPDESetTimeInput(pde, 0): the input that is time (time-dependent PDEs);
   - KDPDEAddSecondDerivative(pde, "x", "x", &s): a second-derivative jet stream the residual reads;
   - KDPDEAddParameter(pde, "nu", v0, help, &k): a named scalar parameter (option -<type>_nu, reference attribute nu);
   - KDPDESetParameterPositive(pde, k): a parameter that is positive (inferred through its logarithm);
   - KDPDESetParameterLearned(pde, k, flg): a parameter the formulation itself trains with the network (a
     homogenized coefficient), as if named by -<prefix>infer;
   - KDPDESetLearnedTensor(pde, "effective_conductivity", 2, idx, "K_eff", "cell_problem"): learned parameters that
     form a tensor, reported beside the reference's own value of it (results.json, report.md);
   - KDPDESetNumCoefficients(pde, ncoef): pointwise coefficients (ops->coefficients);
   - KDPDEAddCoefficientField(pde, "k", c, grad): a coefficient that can be learned from data as a field (with
     ops->coefficientadjoint);
   - KDPDEAddCondition(pde, "bc", type, faces, "u", data, ctx): initial and boundary data as loss terms;
   - KDPDESetGauge(pde, "p"): an output defined up to a constant, pinned at a point;
   - KDPDESetDomain(pde, lo, hi): the default box (a reference's level 0 replaces it);

   and sets pde->ops (residual and adjoint are required) and pde->data, with ops->destroy at the same time (if a
   declaration fails, KDPDESetType() calls it and leaves the object typeless). Everything else about the PDE comes
   through the object: nothing outside the type's own file branches on its name. */
#include <kdpde.h>

#define KD_PDE_MAX_PARAMS 16
#define KD_PDE_MAX_CONDITIONS 8
#define KD_PDE_NAME_LEN 32
#define KD_PDE_MAX_FIELDS 4

/* A positive coefficient field of the spatial inputs that can be learned from data (-<prefix>infer_field name): the
   coefficient `value` and, for each input i, the coefficient holding its derivative along input i (-1: none; the
   residual reads no such derivative, or i is time). */
typedef struct {
  char name[16];
  PetscInt value;
  PetscInt grad[KD_NET_MAX_IN];
  KDNet net; /* NULL: the PDE's own coefficient; else log k given by this network (KDPDESetCoefficientFieldNet()) */
} KDCoefficientField;

typedef struct _KDPDEOps *KDPDEOps;
struct _KDPDEOps {
  /* Options of the PINN formulation, with the object's prefix (a loss passes teacher_, student_). */
  PetscErrorCode (*setfromoptions)(KDPDE, PetscOptionItems *);
  /* Problem options beyond the named parameters, prefix <type>_ (solve and import stages). */
  PetscErrorCode (*setproblemfromoptions)(KDPDE, PetscOptionItems *);
  /* Problem data beyond the named parameters, to and from reference.h5 (attributes the type chooses). */
  PetscErrorCode (*writereference)(KDPDE, KDReference);
  PetscErrorCode (*setfromreference)(KDPDE, KDReference);
  /* The level of the reference the model lives on (KDPDESetLevel()): a formulation that depends on the scale (a
     homogenized one on coarse levels) chooses here; optional. */
  PetscErrorCode (*setlevel)(KDPDE, KDReference, PetscInt);
  /* Makes the network of a loss fit the formulation after its options are read (an output addend,
     KDNetSetOutputAddend()); optional. */
  PetscErrorCode (*setupnet)(KDPDE, KDNet);
  /* coef[c * n + p] at the points x[p * nin + i]; required if ncoef > 0. */
  PetscErrorCode (*coefficients)(KDPDE, PetscInt, const PetscReal[], PetscReal[]);
  /* Moves interior points drawn uniform in the domain, x in place, to a density the formulation needs (denser near a
     singularity) and sets w[p], the uniform density over the new one at the new point, so that the loss, which weighs
     each point's squared residual by w, still estimates the integral; *graded false (x, w untouched): the points stay
     uniform. n = 0 only asks. Optional. */
  PetscErrorCode (*gradepoints)(KDPDE, PetscInt, PetscReal[], PetscReal[], PetscBool *);
  /* res[r * n + p] from the jets (coef as computed by coefficients, NULL without). */
  PetscErrorCode (*residual)(KDPDE, PetscInt, const PetscReal[], const PetscReal[], PetscReal[]);
  /* adj += (d res / d jet)^T rbar, the layout of the jets; not zeroed. */
  PetscErrorCode (*residualadjoint)(KDPDE, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[],
                                    PetscReal[]);
  /* cbar[c * n + p] = sum_r rbar[r * n + p] d res_r / d coef_c (overwritten; optional: the coefficient fields that can
     be learned from data, KDPDEAddCoefficientField()) */
  PetscErrorCode (*coefficientadjoint)(KDPDE, PetscInt, const PetscReal[], const PetscReal[], const PetscReal[],
                                       PetscReal[]);
  /* dres[r * n + p] = d res_r / d param_k (optional: the parameters that can be inferred from data) */
  PetscErrorCode (*residualparameter)(KDPDE, PetscInt, PetscInt, const PetscReal[], const PetscReal[], PetscReal[]);
  PetscErrorCode (*view)(KDPDE, PetscViewer);
  PetscErrorCode (*destroy)(KDPDE);
};

struct _p_KDPDE {
  MPI_Comm comm;
  char *prefix;
  char type[KD_PDE_NAME_LEN];
  struct _KDPDEOps ops[1];
  void *data;
  PetscInt nin, nout, nres, ncoef, nstreams;
  char inputs[64], outputs[64];
  char inputname[KD_NET_MAX_IN][16], outputname[KD_NET_MAX_OUT][16];
  KDJetSpec spec;
  PetscInt tinput; /* index of the time input, -1 for steady PDEs */
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN];
  PetscInt nparams;
  char param_names[KD_PDE_MAX_PARAMS][KD_PDE_NAME_LEN];
  char param_help[KD_PDE_MAX_PARAMS][128];
  PetscReal param_values[KD_PDE_MAX_PARAMS];
  PetscBool param_positive[KD_PDE_MAX_PARAMS]; /* inferred through its logarithm */
  PetscBool param_learned[KD_PDE_MAX_PARAMS];  /* the formulation trains it with the network */
  PetscInt nconditions;
  KDCondition condition[KD_PDE_MAX_CONDITIONS];
  PetscInt nfields;
  KDCoefficientField field[KD_PDE_MAX_FIELDS];
  /* A tensor of named parameters that coarse models learn (KDPDESetLearnedTensor()); dim 0: none */
  char tensor_name[KD_PDE_NAME_LEN], tensor_reference[KD_PDE_NAME_LEN], tensor_label[KD_PDE_NAME_LEN];
  PetscInt tensor_dim, tensor_param[KD_NET_MAX_IN * KD_NET_MAX_IN];
  PetscBool tensor_needs_teacher; /* the PINN loss alone does not determine it: scratch twins keep its initial value */
  PetscBool scratch_twin;         /* KDPDESetUpScratchTwin() kept such a tensor: -<prefix>infer only sets its value */
  PetscInt gauge_output;          /* -1: none */
  PetscReal gauge[KD_NET_MAX_IN];
  PetscBool gaugeset; /* gauge[] given; otherwise the centre of the domain */
};

PETSC_EXTERN PetscErrorCode KDPDESetVariables(KDPDE, const char[], const char[], PetscInt);
PETSC_EXTERN PetscErrorCode KDPDESetTimeInput(KDPDE, PetscInt);
PETSC_EXTERN PetscErrorCode KDPDEAddSecondDerivative(KDPDE, const char[], const char[], PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDEAddParameter(KDPDE, const char[], PetscReal, const char[], PetscInt *);
PETSC_EXTERN PetscErrorCode KDPDESetParameterPositive(KDPDE, PetscInt);
PETSC_EXTERN PetscErrorCode KDPDESetParameterLearned(KDPDE, PetscInt, PetscBool);
PETSC_EXTERN PetscErrorCode KDPDESetLearnedTensor(KDPDE, const char[], PetscInt, const PetscInt[], const char[],
                                                  const char[]);
PETSC_EXTERN PetscErrorCode KDPDESetLearnedTensorNeedsTeacher(KDPDE, PetscBool);
PETSC_EXTERN PetscErrorCode KDPDESetNumCoefficients(KDPDE, PetscInt);
PETSC_EXTERN PetscErrorCode KDPDEAddCoefficientField(KDPDE, const char[], PetscInt, const PetscInt[]);
PETSC_EXTERN PetscErrorCode KDPDEAddCondition(KDPDE, const char[], KDConditionType, PetscInt, const char[],
                                              KDConditionFunction, void *);
PETSC_EXTERN PetscErrorCode KDPDESetGauge(KDPDE, const char[]);
PETSC_EXTERN PetscErrorCode KDPDESetGaugePoint(KDPDE, const PetscReal[]);

/* The run of jet values of output o, stream s (kdnet.h layout) for a block of n points. */
static inline const PetscReal *KDPDEJet(KDPDE pde, const PetscReal jet[], PetscInt n, PetscInt o, PetscInt s)
{
  return jet + (o * pde->nstreams + s) * n;
}
static inline PetscReal *KDPDEJetAdjoint(KDPDE pde, PetscReal adj[], PetscInt n, PetscInt o, PetscInt s)
{
  return adj + (o * pde->nstreams + s) * n;
}
