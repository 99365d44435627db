#pragma once
/* Private layout of KDQuantizedNet, shared by quantize.c (the int8 scheme in double precision) and emit.c (the
   generated code, which implements the same scheme in float32). */
#include <kdexport.h>
#include "net/netimpl.h"
#include <math.h>
#include <stdint.h>

/*
  int8 scheme (layers k = 1 .. L-1; the first layer, fed by the coordinates, stays float32 because 8 bits of a
  coordinate would merge neighbouring points of a 256 x 256 field):
    activations aq[i] = round(clamp(h[i] / sa[i], -lmax, lmax)), sa[i] = max |h_k| / lmax over the calibration points,
                lmax = 2^(abits-1) - 1 (abits = 16 by default, 8 for the classic int8 x int8 scheme): one scale for the
                whole layer (KD_INT8_SCALE_LAYER) or one per unit (KD_INT8_SCALE_CHANNEL)
    weights     Wq[o][i] = round(W[o][i] sa[i] / S[o]),  S[o] = max_i |W[o][i] sa[i]| / 127  (per output channel; the
                activation scales are folded into the weights, so both modes run the same kernel)
    layer       z[o] = S[o] sum_i Wq[o][i] aq[i] + b'[o]                                      (exact int32 sum)
  The levels are kept as integer-valued floats: a product Wq aq is an integer below 127 * 32767 < 2^23, and the
  inputs are cut into runs whose weights satisfy sum |Wq| lmax < 2^24 for every output (KDQuantizedNetGroups), so
  float32 forms the partial sums of a run exactly, whatever the order or FMA contraction; each run is converted to
  int32 and the runs summed there. The result is the exact int32 dot product at the cost of float multiply-adds, which
  every SIMD unit has (integer 16 x 16 -> 32-bit multiplies cost 2-3 times more). Activations round to nearest, ties
  to even (the kernel adds and subtracts 1.5 * 2^23). Weights (KDQuantizedNetRound): layer by
  layer on the calibration points, the least-squares weights given the int8 network's own (already quantized) inputs,
  rounded with error feedback (GPTQ-like), then moved by +-1 where that lowers the variance of the pre-activation
  error against the f64 network; the bias b' absorbs the mean of that error (bias correction). With a search
  (KDQuantizedNetSearch(), KDQuantizedNetPolish()) a channel's S[o] is any positive scale and the first layer of params
  may be moved from the network's: the kernel runs both as they are.
*/

struct _p_KDQuantizedNet {
  PetscInt nlayers, widths[KD_NET_MAX_LAYERS + 1];
  KDActivation activation;
  KDInt8Scale mode;
  PetscInt abits;  /* bits of an activation level, sign included */
  PetscReal lmax;  /* largest activation level, 2^(abits-1) - 1 */
  PetscInt search; /* nodes per channel and scale of the integer search of KDQuantizedNetSearch() (0: none) */
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN], scale[KD_NET_MAX_OUT], shift[KD_NET_MAX_OUT];
  PetscReal *params; /* f64 parameters, the KDNet layout; the first layer as the int8 kernel runs it */
  PetscInt woff[KD_NET_MAX_LAYERS], boff[KD_NET_MAX_LAYERS];
  int8_t *wq;        /* quantized weights of layers 1 .. L-1 at qoff[k] (out x in, row-major) */
  PetscReal *S, *bq; /* per output channel of layers 1 .. L-1 at soff[k]: z = S acc + bq */
  PetscReal *sa;     /* activation scale of each input unit of layers 1 .. L-1 at aoff[k] */
  PetscInt qoff[KD_NET_MAX_LAYERS], soff[KD_NET_MAX_LAYERS], aoff[KD_NET_MAX_LAYERS];
  PetscReal predicted, measured; /* relative L2 error vs f64 on the calibration points */
};

/* The events of KDQuantizedNetCreate() and KDExportWrite(), registered on first use (quantize.c). */
PETSC_INTERN PetscErrorCode KDExportLogEventsGet_Private(PetscLogEvent *, PetscLogEvent *);

/* The pointwise activation, its derivative, and whether the int8 kernel clamps the pre-activation (a bounded, monotone
   activation: its level needs no clamp of its own), from the activation table. */
static inline PetscReal KDActivate(KDActivation act, PetscReal z)
{
  return KDActivationTable[act].scalar(z);
}

static inline PetscReal KDActivateDerivative(KDActivation act, PetscReal z, PetscReal a)
{
  return KDActivationTable[act].derivative(z, a);
}

static inline PetscBool KDActivationClamped(KDActivation act)
{
  return KDActivationTable[act].inverse ? PETSC_TRUE : PETSC_FALSE;
}

/* The activation level of h at scale sa: h / sa clamped to [-lmax, lmax], rounded to nearest with ties to even, as
   the generated code rounds (it adds and subtracts 1.5 * 2^23 in float). */
static inline PetscReal KDQuantizeLevel(PetscReal h, PetscReal sa, PetscReal lmax)
{
  PetscReal v = h / sa;
  v           = v > lmax ? lmax : (v < -lmax ? -lmax : v);
  return nearbyint(v);
}
