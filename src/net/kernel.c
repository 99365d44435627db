#include "net/netimpl.h"
#include <petscblaslapack.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/*
  The jet kernels. For a block of nb points and S streams every layer is one GEMM, W (out x in) times the stacked
  stream matrix (in x S*nb), followed by one fused elementwise pass over the block:
     a = s(z),  a_i = s'(z) z_i,  a_ij = s''(z) z_i z_j + s'(z) z_ij.
  The reverse pass is the exact adjoint of these maps, then two GEMMs per layer: dW += Zbar A^T over all streams at
  once, Abar = W^T Zbar. The forward keeps Z (all streams), the activations A and s'(z) for the reverse; nothing
  else is stored and nothing is allocated here. The activation's own work on a row goes through its row of
  KDActivationTable (src/net/activation.c).
*/

/* Hidden-layer forward pass over m rows: adds the bias to the value stream, applies the activation and propagates
   the jets. t2 is scratch for s''(z) of one row. */
static void KDJetActivate(const KDActivationOps *act, PetscInt m, PetscInt S, PetscInt nin, PetscInt nsecond,
                          const PetscInt (*pairs)[2], PetscInt nb, const PetscReal *restrict b, PetscReal *restrict Z,
                          PetscReal *restrict A, PetscReal *restrict D, PetscReal *restrict t2)
{
  const PetscInt ld = S * nb;

  for (PetscInt o = 0; o < m; o++) {
    PetscReal *restrict z = Z + o * ld, *restrict a = A + o * ld, *restrict d = D + o * nb;

    act->jet(nb, b[o], z, a, d, t2);
    for (PetscInt i = 0; i < nin; i++) {
      const PetscReal *restrict zi = z + (1 + i) * nb;
      PetscReal *restrict ai       = a + (1 + i) * nb;
      for (PetscInt p = 0; p < nb; p++) ai[p] = d[p] * zi[p];
    }
    for (PetscInt q = 0; q < nsecond; q++) {
      const PetscReal *restrict zi = z + (1 + pairs[q][0]) * nb, *restrict zj = z + (1 + pairs[q][1]) * nb;
      const PetscReal *restrict zq = z + (1 + nin + q) * nb;
      PetscReal *restrict aq       = a + (1 + nin + q) * nb;
      for (PetscInt p = 0; p < nb; p++) aq[p] = t2[p] * zi[p] * zj[p] + d[p] * zq[p];
    }
  }
}

/* Adjoint of KDJetActivate, in place: on entry G holds dL/dA (all streams), on exit dL/dZ. Each stream's adjoint is
   read before it is overwritten: the value stream only feeds itself, the first-derivative pass reads g_i before
   scaling it, and the second-derivative pass reads g_q (and adds to the already scaled g_i, g_j) before scaling g_q.
   t2, t3 are scratch rows of nb values. */
static void KDJetActivateAdjoint(const KDActivationOps *act, PetscInt m, PetscInt S, PetscInt nin, PetscInt nsecond,
                                 const PetscInt (*pairs)[2], PetscInt nb, const PetscReal *restrict Z,
                                 const PetscReal *restrict A, const PetscReal *restrict D, PetscReal *restrict G,
                                 PetscReal *restrict t2, PetscReal *restrict t3)
{
  const PetscInt ld = S * nb;

  for (PetscInt o = 0; o < m; o++) {
    const PetscReal *restrict z = Z + o * ld, *restrict a = A + o * ld, *restrict d = D + o * nb;
    PetscReal *restrict g0 = G + o * ld;

    act->adjoint(nb, z, a, d, t2, t3);
    for (PetscInt p = 0; p < nb; p++) g0[p] *= d[p];
    for (PetscInt i = 0; i < nin; i++) {
      const PetscReal *restrict zi = z + (1 + i) * nb;
      PetscReal *restrict gi       = g0 + (1 + i) * nb;
      for (PetscInt p = 0; p < nb; p++) {
        g0[p] += t2[p] * zi[p] * gi[p];
        gi[p] *= d[p];
      }
    }
    for (PetscInt q = 0; q < nsecond; q++) {
      const PetscInt i = pairs[q][0], j = pairs[q][1];
      const PetscReal *restrict zi = z + (1 + i) * nb, *restrict zj = z + (1 + j) * nb,
                                *restrict zq = z + (1 + nin + q) * nb;
      PetscReal *restrict gq = g0 + (1 + nin + q) * nb, *restrict gi = g0 + (1 + i) * nb;

      /* a_ij = s'' z_i z_j + s' z_ij depends on z_i through s'' z_j and on z_j through s'' z_i */
      if (i == j) {
        for (PetscInt p = 0; p < nb; p++) {
          g0[p] += (t3[p] * zi[p] * zi[p] + t2[p] * zq[p]) * gq[p];
          gi[p] += 2.0 * t2[p] * zi[p] * gq[p];
          gq[p] *= d[p];
        }
      } else {
        PetscReal *restrict gj = g0 + (1 + j) * nb;
        for (PetscInt p = 0; p < nb; p++) {
          g0[p] += (t3[p] * zi[p] * zj[p] + t2[p] * zq[p]) * gq[p];
          gi[p] += t2[p] * zj[p] * gq[p];
          gj[p] += t2[p] * zi[p] * gq[p];
          gq[p] *= d[p];
        }
      }
    }
  }
}

/* Maps physical points to [-1, 1]: xi = 2 (x - lo)/(hi - lo) - 1, written exactly as docs/model-format.md states. */
static inline PetscReal KDNetMapInput(KDNet net, PetscInt k, PetscReal x)
{
  return 2.0 * (x - net->lo[k]) / (net->hi[k] - net->lo[k]) - 1.0;
}

/* Forward pass of one block of nb points with S streams; leaves the output jets (scaled) in Z[nlayers-1]. */
PetscErrorCode KDNetForwardBlock_Private(KDNet net, const KDJetSpec *spec, PetscInt S, PetscInt nb, const PetscReal x[])
{
  const PetscInt nin = net->widths[0], L = net->nlayers, ld = S * nb, nsecond = spec->nsecond;
  PetscReal *A0 = net->A[0];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < nin; k++) {
    PetscReal *row       = A0 + k * ld;
    const PetscReal dxik = 2.0 / (net->hi[k] - net->lo[k]);
    for (PetscInt p = 0; p < nb; p++) row[p] = KDNetMapInput(net, k, x[p * nin + k]);
    for (PetscInt i = 0; i < nin; i++) {
      const PetscReal v = i == k ? dxik : 0.0;
      for (PetscInt p = 0; p < nb; p++) row[(1 + i) * nb + p] = v;
    }
    for (PetscInt q = 0; q < nsecond; q++)
      for (PetscInt p = 0; p < nb; p++) row[(1 + nin + q) * nb + p] = 0.0;
  }
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt in = net->widths[k], out = net->widths[k + 1];
    const PetscReal *W = net->params + net->woff[k], *b = net->params + net->boff[k];

    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) out, (int) ld, (int) in,
                                             1.0, W, (int) in, net->A[k], (int) ld, 0.0, net->Z[k], (int) ld));
    if (k < L - 1)
      KDJetActivate(&KDActivationTable[net->activation], out, S, nin, nsecond, (const PetscInt(*)[2]) spec->second, nb,
                    b, net->Z[k], net->A[k + 1], net->D[k], net->tmp);
    else {
      for (PetscInt o = 0; o < out; o++) {
        PetscReal *restrict y = net->Z[k] + o * ld;
        const PetscReal s = net->scale[o], c = s * b[o] + net->shift[o];
        for (PetscInt p = 0; p < nb; p++) y[p] = s * y[p] + c;
        for (PetscInt p = nb; p < ld; p++) y[p] *= s;
      }
      if (net->addendfn)
        PetscCall(net->addendfn(net->naddend, net->addend_param, nin, out, spec, nb, x, net->Z[k], ld));
    }
  }
  PetscFunctionReturn(0);
}

/* Reverse pass of the block last run forward, with dLoss/djet in net->adj: grad += dLoss/dparams. */
PetscErrorCode KDNetBackwardBlock_Private(KDNet net, const KDJetSpec *spec, PetscInt S, PetscInt nb, PetscReal grad[])
{
  const PetscInt nin = net->widths[0], L = net->nlayers, ld = S * nb, nout = net->widths[L];
  PetscReal *G = net->G[0], *Gprev = net->G[1];

  PetscFunctionBegin;
  for (PetscInt o = 0; o < nout; o++) {
    const PetscReal *restrict r = net->adj + o * ld;
    PetscReal *restrict g       = G + o * ld;
    const PetscReal s           = net->scale[o];
    for (PetscInt p = 0; p < ld; p++) g[p] = s * r[p];
  }
  for (PetscInt k = L - 1; k >= 0; k--) {
    const PetscInt in = net->widths[k], out = net->widths[k + 1];
    const PetscReal *W = net->params + net->woff[k];
    PetscReal *dW = grad + net->woff[k], *db = grad + net->boff[k];

    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) out, (int) in, (int) ld,
                                             1.0, G, (int) ld, net->A[k], (int) ld, 1.0, dW, (int) in));
    for (PetscInt o = 0; o < out; o++) {
      const PetscReal *restrict g = G + o * ld;
      PetscReal s                 = 0.0;
      for (PetscInt p = 0; p < nb; p++) s += g[p];
      db[o] += s;
    }
    if (k == 0) break;
    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int) in, (int) ld, (int) out,
                                             1.0, W, (int) in, G, (int) ld, 0.0, Gprev, (int) ld));
    KDJetActivateAdjoint(&KDActivationTable[net->activation], in, S, nin, spec->nsecond,
                         (const PetscInt(*)[2]) spec->second, nb, net->Z[k - 1], net->A[k], net->D[k - 1], Gprev,
                         net->tmp, net->tmp + net->blocksize);
    {
      PetscReal *t = G;
      G            = Gprev;
      Gprev        = t;
    }
  }
  PetscFunctionReturn(0);
}

/* Values only, for nb points: y[o * ldy + p]. Uses the ping-pong buffers with one stream. */
PetscErrorCode KDNetEvaluateBlock_Private(KDNet net, PetscInt nb, const PetscReal x[], PetscReal y[], PetscInt ldy)
{
  const PetscInt nin = net->widths[0], L = net->nlayers;
  PetscReal *in = net->G[0], *out = net->G[1];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < nin; k++)
    for (PetscInt p = 0; p < nb; p++) in[k * nb + p] = KDNetMapInput(net, k, x[p * nin + k]);
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt nI = net->widths[k], nO = net->widths[k + 1];
    const PetscReal *W = net->params + net->woff[k], *b = net->params + net->boff[k];

    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) nO, (int) nb, (int) nI,
                                             1.0, W, (int) nI, in, (int) nb, 0.0, out, (int) nb));
    if (k < L - 1) {
      for (PetscInt o = 0; o < nO; o++) KDActivationTable[net->activation].value(nb, b[o], out + o * nb);
      {
        PetscReal *t = in;
        in           = out;
        out          = t;
      }
    } else {
      for (PetscInt o = 0; o < nO; o++) {
        const PetscReal *restrict z = out + o * nb;
        PetscReal *restrict yo      = y + o * ldy;
        const PetscReal s = net->scale[o], c = s * b[o] + net->shift[o];
        for (PetscInt p = 0; p < nb; p++) yo[p] = s * z[p] + c;
      }
      if (net->addendfn) PetscCall(net->addendfn(net->naddend, net->addend_param, nin, nO, NULL, nb, x, y, ldy));
    }
  }
  PetscFunctionReturn(0);
}

/* GEMM flops per point: the forward (all S streams), or forward + reverse (dW for every layer, W^T Zbar for all but
   the first). The elementwise passes are not counted. */
PetscLogDouble KDNetFlopsPerPoint_Private(KDNet net, PetscInt S, PetscBool reverse)
{
  PetscLogDouble f = 0, r = 0;

  for (PetscInt k = 0; k < net->nlayers; k++) {
    const PetscLogDouble mn = 2.0 * (PetscLogDouble) net->widths[k] * (PetscLogDouble) net->widths[k + 1];
    f += mn;
    r += k > 0 ? 2 * mn : mn;
  }
  return (PetscLogDouble) S * (reverse ? f + r : f);
}
