#pragma once
/* Edge export of a network as standalone C (docs/export.md) and the inference benchmark.

   KDExportWrite() writes <name>.h, <name>.c and <name>_main.c: the weights as constant arrays, one function
     void <name>_eval(int n, const T *x, T *y)      x[p * nin + i] -> y[o * n + p]   (the layout of KDNetEvaluate)
   with T = double (f64) or float (f32, int8), no dependency beyond libm, C99, no allocation and no static mutable
   state (reentrant), one thread. int8: the hidden and output layers use per-output-channel symmetric int8 weights
   and symmetric activation levels of 8 to 16 bits (16 by default) calibrated on given points, with exact int32
   accumulation; the first
   layer (from the coordinates) stays float32. KDQuantizedNet is that scheme in double precision: the reference the
   generated int8 kernel is checked against, and the source of its calibration and error estimate. Activation scales
   are per layer by default (KD_INT8_SCALE_CHANNEL: per unit). */
#include <kdnet.h>

typedef enum { KD_PRECISION_F64, KD_PRECISION_F32, KD_PRECISION_INT8 } KDPrecision;
PETSC_EXTERN const char *const KDPrecisions[];

/* The int8 weight grid: per output row, symmetric, integer levels in [-KD_INT8_WEIGHT_LEVELS, KD_INT8_WEIGHT_LEVELS]
   (docs/export.md "The int8 scheme"). The trainer's quantization phase rounds to the same grid. */
#define KD_INT8_WEIGHT_LEVELS 127

/* Points per block of the generated kernels and of their short tail blocks: compile-time trip counts that the
   vectorizer maps onto whole vectors. */
#define KD_EXPORT_BLOCK 64
#define KD_EXPORT_TAIL_BLOCK 8

/* Documented bound of the float tanh of the exported f32 and int8 kernels (a rational function on [-7.9, 7.9], clamped
   beyond): |t(x) - tanh(x)| <= KD_EXPORT_TANH_ERROR |tanh(x)| for every float x (docs/export.md). The comment above the
   template of that function in src/net/activation.c quotes the value: change both together. */
#define KD_EXPORT_TANH_ERROR 4e-7

/* Activation scales of the int8 scheme: one per layer (the default) or one per unit (folded into the weights: the same
   kernel, finer steps for units with a small range). */
typedef enum { KD_INT8_SCALE_LAYER, KD_INT8_SCALE_CHANNEL } KDInt8Scale;
PETSC_EXTERN const char *const KDInt8Scales[];

typedef struct _p_KDQuantizedNet *KDQuantizedNet;

/* (net, mode, activation_bits, search, ncal, xcal, &q): quantize weights, calibrate activations on ncal points
   xcal[p * nin + i]; activation levels of activation_bits bits (8 to 16), sign included; search > 0: the nodes per
   channel and scale of the integer search that refines the rounding (0: none) */
PETSC_EXTERN PetscErrorCode KDQuantizedNetCreate(KDNet, KDInt8Scale, PetscInt, PetscInt, PetscInt, const PetscReal[],
                                                 KDQuantizedNet *);
PETSC_EXTERN PetscErrorCode KDQuantizedNetDestroy(KDQuantizedNet *);
/* (q, n, x, y): the int8 scheme evaluated in double precision, y[o * n + p] */
PETSC_EXTERN PetscErrorCode KDQuantizedNetEvaluate(KDQuantizedNet, PetscInt, const PetscReal[], PetscReal[]);
/* (q, &predicted, &measured): relative L2 error of the scheme vs the f64 network on the calibration points, as
   predicted by the rounding-noise model and as measured with KDQuantizedNetEvaluate() */
PETSC_EXTERN PetscErrorCode KDQuantizedNetGetErrorEstimate(KDQuantizedNet, PetscReal *, PetscReal *);
/* (q, layer, &activation_scales, &sum_scales): scales of a quantized layer (1 .. nlayers-1), per input unit and per
 * output */
PETSC_EXTERN PetscErrorCode KDQuantizedNetGetScales(KDQuantizedNet, PetscInt, const PetscReal **, const PetscReal **);

/* (net, info, precision, q (int8 only, else NULL), name, dir): writes dir/<name>.h, .c, _main.c atomically */
PETSC_EXTERN PetscErrorCode KDExportWrite(KDNet, const KDModelInfo *, KDPrecision, KDQuantizedNet, const char[],
                                          const char[]);
/* (net, npoints, &n, &x): cell centres of a regular grid of about npoints points over the input box */
PETSC_EXTERN PetscErrorCode KDExportBoxPoints(KDNet, PetscInt, PetscInt *, PetscReal **);
/* (net, info, ref, level, &n, &x): cell centres of a reference level in the network's input order */
#include <kdreference.h>
PETSC_EXTERN PetscErrorCode KDExportLevelPoints(KDNet, const KDModelInfo *, KDReference, PetscInt, PetscInt *,
                                                PetscReal **);
