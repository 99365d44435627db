#include "net/netimpl.h"
#include <petscblaslapack.h>
#include <cblas.h>
#include <libxsmm.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/*
  The jet kernels. For a block of nb points and S streams every layer is one GEMM, W (out x in) times the stacked
  stream matrix (in x S*nb), followed by one fused elementwise pass over the block:
     a = s(z),  a_i = s'(z) z_i,  a_ij = s''(z) z_i z_j + s'(z) z_ij.
  The reverse pass is the exact adjoint of these maps, then two GEMMs per layer: dW += Zbar A^T over all streams at
  once, Abar = W^T Zbar. The forward keeps Z (all streams), the activations A and s'(z) for the reverse; nothing
  else is stored and nothing is allocated here (LIBXSMM keeps the code it generates in its own registry). The
  activation's own work on a row goes through its row of KDActivationTable (src/net/activation.c).

  The products are small (8x20 with 4 streams in blocks of 32 points: 20 x 20 times 20 x 128), where the BLAS spends
  much of its time packing and dispatching. With -<prefix>net_gemm libxsmm, LIBXSMM generates machine code for each
  exact shape once (for the CPU it runs on) and the kernels call it: forward Z = W A and reverse Abar = W^T Zbar
  directly on the row-major blocks (read as column-major: Z^T = A^T W^T). dW += Zbar A^T sums over the points, the
  contiguous index of both factors: LIBXSMM 1.17 generates no product with a transposed first factor, and with a
  transposed copy of A it was slower than OpenBLAS's AVX-512 small-matrix kernels (docs/benchmarks.md), so that product
  stays with the BLAS.
  -<prefix>net_gemm blas (the default) calls cblas_dgemm for all three, the reference of the tests; a shape LIBXSMM
  declines falls back to it.
*/

/* Products of more multiply-adds than this go to the BLAS: LIBXSMM's own bound of a small product (64^3). Layers of
   64 and 128 (at 32 points: 128 x 64 x 64 and 128 x 128 x 128) gained nothing outside the machine's noise from
   generated code (docs/benchmarks.md, "Small products by LIBXSMM"). */
#define KD_NET_GEMM_SMALL (64.0 * 64.0 * 64.0)

void KDNetGemmReset_Private(KDNet net)
{
  for (PetscInt k = 0; k < KD_NET_MAX_LAYERS; k++) {
    net->gemm_ld[k]   = 0;
    net->gemm_fwd[k]  = NULL;
    net->gemm_back[k] = NULL;
  }
  net->gemm_calls[0] = net->gemm_calls[1] = 0;
}

PetscErrorCode KDNetGemmGetCounts(KDNet net, PetscInt64 calls[2])
{
  PetscFunctionBegin;
  calls[0] = net->gemm_calls[0];
  calls[1] = net->gemm_calls[1];
  PetscFunctionReturn(0);
}

/* Generates (or finds in LIBXSMM's registry) layer k's products for stream matrices of leading dimension ld, once per
   change of ld; leaves NULL where the product is not small or LIBXSMM declines it. A block of another size (the last,
   shorter one, or another loss term's streams) dispatches again. */
static void KDNetGemmDispatch(KDNet net, PetscInt k, PetscInt ld)
{
  const libxsmm_blasint m = (libxsmm_blasint) ld, in = (libxsmm_blasint) KDNetFanIn_Private(net, k),
                        out = (libxsmm_blasint) net->widths[k + 1];
  const double one = 1.0, zero = 0.0;
  const int nn = LIBXSMM_GEMM_FLAG_NONE, nt = LIBXSMM_GEMM_FLAG_TRANS_B, pf = LIBXSMM_GEMM_PREFETCH_NONE;

  if (net->gemm_ld[k] == ld) return;
  net->gemm_ld[k]   = ld;
  net->gemm_fwd[k]  = NULL;
  net->gemm_back[k] = NULL;
  if ((double) ld * (double) in * (double) out > KD_NET_GEMM_SMALL) return;
  /* column-major views: Z^T (ld x out) = A^T (ld x in) W^T (in x out) */
  net->gemm_fwd[k] = (void (*)(void)) libxsmm_dmmdispatch(m, out, in, &m, &in, &m, &one, &zero, &nn, &pf);
  /* Abar^T (ld x in) = Zbar^T (ld x out) (W^T (in x out))^T */
  net->gemm_back[k] = (void (*)(void)) libxsmm_dmmdispatch(m, in, out, &m, &in, &m, &one, &zero, &nt, &pf);
}

/* Y (m x ld) = op(W) X (k x ld), row-major, W stored out x in (op: as is, or transposed): by the generated product
   when there is one (it takes X, W, Y), by the BLAS otherwise. */
static PetscErrorCode KDNetGemmProduct(KDNet net, void (*generated)(void), CBLAS_TRANSPOSE op, PetscInt m, PetscInt ld,
                                       PetscInt k, PetscInt in, const PetscReal *W, const PetscReal *X, PetscReal *Y)
{
  PetscFunctionBegin;
  if (generated) {
    ((libxsmm_dmmfunction) generated)(X, W, Y);
    net->gemm_calls[0]++;
  } else {
    PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, op, CblasNoTrans, (int) m, (int) ld, (int) k, 1.0, W,
                                             (int) in, X, (int) ld, 0.0, Y, (int) ld));
    net->gemm_calls[1]++;
  }
  PetscFunctionReturn(0);
}

/* Z (out x ld) = W (out x in) A (in x ld), row-major */
static PetscErrorCode KDNetGemmForward(KDNet net, PetscInt k, PetscInt ld, const PetscReal *W, const PetscReal *A,
                                       PetscReal *Z)
{
  const PetscInt in = KDNetFanIn_Private(net, k), out = net->widths[k + 1];

  PetscFunctionBegin;
  if (net->gemm == KD_NET_GEMM_LIBXSMM) KDNetGemmDispatch(net, k, ld);
  PetscCall(KDNetGemmProduct(net, net->gemm == KD_NET_GEMM_LIBXSMM ? net->gemm_fwd[k] : NULL, CblasNoTrans, out, ld, in,
                             in, W, A, Z));
  PetscFunctionReturn(0);
}

/* dW (out x in) += G (out x ld) A^T (always the BLAS) and Gprev (in x ld) = W^T G, row-major; Gprev NULL: dW only */
static PetscErrorCode KDNetGemmReverse(KDNet net, PetscInt k, PetscInt ld, const PetscReal *W, const PetscReal *A,
                                       const PetscReal *G, PetscReal *dW, PetscReal *Gprev)
{
  const PetscInt in = KDNetFanIn_Private(net, k), out = net->widths[k + 1];

  PetscFunctionBegin;
  PetscCallBLAS("cblas_dgemm", cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) out, (int) in, (int) ld, 1.0,
                                           G, (int) ld, A, (int) ld, 1.0, dW, (int) in));
  net->gemm_calls[1]++;
  if (!Gprev) PetscFunctionReturn(0);
  if (net->gemm == KD_NET_GEMM_LIBXSMM) KDNetGemmDispatch(net, k, ld);
  PetscCall(KDNetGemmProduct(net, net->gemm == KD_NET_GEMM_LIBXSMM ? net->gemm_back[k] : NULL, CblasTrans, in, ld, out,
                             in, W, G, Gprev));
  PetscFunctionReturn(0);
}

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

/* The output factor D on one output's jets y (S streams of nb points; the spec's second derivatives (i, j) after the
   first ones): y <- D y by the product rule, z holding y before. */
static void KDNetFactorApply(const PetscReal *restrict D, PetscInt nin, const KDJetSpec *spec, PetscInt nb,
                             PetscReal *restrict y, PetscReal *restrict z)
{
  const PetscInt nsecond = spec ? spec->nsecond : 0, S = spec ? 1 + nin + nsecond : 1;

  for (PetscInt p = 0; p < S * nb; p++) z[p] = y[p];
  for (PetscInt p = 0; p < nb; p++) y[p] = D[p] * z[p];
  if (S == 1) return;
  for (PetscInt i = 0; i < nin; i++)
    for (PetscInt p = 0; p < nb; p++) y[(1 + i) * nb + p] = D[(1 + i) * nb + p] * z[p] + D[p] * z[(1 + i) * nb + p];
  for (PetscInt q = 0; q < nsecond; q++) {
    const PetscInt a = 1 + spec->second[q][0], b = 1 + spec->second[q][1], c = 1 + nin + q;
    for (PetscInt p = 0; p < nb; p++)
      y[c * nb + p] =
          D[c * nb + p] * z[p] + D[a * nb + p] * z[b * nb + p] + D[b * nb + p] * z[a * nb + p] + D[p] * z[c * nb + p];
  }
}

/* The transpose of KDNetFactorApply(): the adjoint zbar of an output's jets before the factor from ybar, after it. */
static void KDNetFactorAdjoint(const PetscReal *restrict D, PetscInt nin, const KDJetSpec *spec, PetscInt nb,
                               const PetscReal *restrict ybar, PetscReal *restrict zbar)
{
  const PetscInt nsecond = spec->nsecond, S = 1 + nin + nsecond;

  for (PetscInt t = 0; t < S; t++)
    for (PetscInt p = 0; p < nb; p++) zbar[t * nb + p] = D[p] * ybar[t * nb + p];
  for (PetscInt i = 0; i < nin; i++)
    for (PetscInt p = 0; p < nb; p++) zbar[p] += D[(1 + i) * nb + p] * ybar[(1 + i) * nb + p];
  for (PetscInt q = 0; q < nsecond; q++) {
    const PetscInt a = 1 + spec->second[q][0], b = 1 + spec->second[q][1], c = 1 + nin + q;
    for (PetscInt p = 0; p < nb; p++) {
      zbar[p] += D[c * nb + p] * ybar[c * nb + p];
      zbar[b * nb + p] += D[a * nb + p] * ybar[c * nb + p];
      zbar[a * nb + p] += D[b * nb + p] * ybar[c * nb + p];
    }
  }
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
  if (net->featfn) PetscCall(net->featfn(net->nfeatparam, net->feat_param, nin, spec, nb, x, A0 + nin * ld, ld, NULL));
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt out = net->widths[k + 1];
    const PetscReal *W = net->params + net->woff[k], *b = net->params + net->boff[k];

    PetscCall(KDNetGemmForward(net, k, ld, W, net->A[k], net->Z[k]));
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
      if (net->factorfn) {
        PetscCall(net->factorfn(net->nfactorparam, net->factor_param, nin, out, spec, nb, x, net->fjet, NULL));
        for (PetscInt o = 0; o < out; o++)
          if (net->factor_mask >> o & 1) KDNetFactorApply(net->fjet, nin, spec, nb, net->Z[k] + o * ld, net->fout);
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
    if (net->factor_mask >> o & 1) { /* through the factor of the block's forward pass */
      KDNetFactorAdjoint(net->fjet, nin, spec, nb, r, g);
      for (PetscInt p = 0; p < ld; p++) g[p] *= s;
    } else
      for (PetscInt p = 0; p < ld; p++) g[p] = s * r[p];
  }
  for (PetscInt k = L - 1; k >= 0; k--) {
    const PetscInt in = net->widths[k], out = net->widths[k + 1];
    const PetscReal *W = net->params + net->woff[k];
    PetscReal *dW = grad + net->woff[k], *db = grad + net->boff[k];

    PetscCall(KDNetGemmReverse(net, k, ld, W, net->A[k], G, dW, k > 0 ? Gprev : NULL));
    for (PetscInt o = 0; o < out; o++) {
      const PetscReal *restrict g = G + o * ld;
      PetscReal s                 = 0.0;
      for (PetscInt p = 0; p < nb; p++) s += g[p];
      db[o] += s;
    }
    if (k == 0) break;
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
  if (net->featfn) PetscCall(net->featfn(net->nfeatparam, net->feat_param, nin, NULL, nb, x, in + nin * nb, nb, NULL));
  for (PetscInt k = 0; k < L; k++) {
    const PetscInt nI = KDNetFanIn_Private(net, k), nO = net->widths[k + 1];
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
      if (net->factorfn) {
        PetscCall(net->factorfn(net->nfactorparam, net->factor_param, nin, nO, NULL, nb, x, net->fout, NULL));
        for (PetscInt o = 0; o < nO; o++)
          if (net->factor_mask >> o & 1) KDNetFactorApply(net->fout, nin, NULL, nb, y + o * ldy, net->fout + nb);
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
    const PetscLogDouble mn = 2.0 * (PetscLogDouble) KDNetFanIn_Private(net, k) * (PetscLogDouble) net->widths[k + 1];
    f += mn;
    r += k > 0 ? 2 * mn : mn;
  }
  return (PetscLogDouble) S * (reverse ? f + r : f);
}
