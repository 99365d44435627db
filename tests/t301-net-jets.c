static const char help[] =
    "Every jet component (first and second derivatives, pure and mixed) against finite differences of the value.\n";

/* For tanh, sin and isru, 2 and 3 inputs, 1 and 3 outputs, a 3-hidden-layer network on a box that is not [-1, 1] with
   an output scaling: the jets of KDNetJetForward (derivatives with respect to the physical inputs) are compared with
   fourth-order central differences of KDNetEvaluate.

   Step and tolerance. The step is h_i = 1e-3 (hi_i - lo_i) (2e-3 in the network's [-1, 1] coordinates). First
   derivatives, stencil (f(-2h) - 8 f(-h) + 8 f(h) - f(2h)) / 12h: truncation h^4 f^(5) / 30 ~ 1e-13, round-off
   ~ 1.5 eps |f| / h ~ 1e-13 relative. Second derivatives, (-f(-2h) + 16 f(-h) - 30 f + 16 f(h) - f(2h)) / 12 h^2 and
   the tensor product of the first-derivative stencil for mixed ones: truncation ~ h^4 f^(6) / 90 ~ 1e-13, round-off
   ~ 5 eps |f| / h^2 ~ 3e-10 relative. A tolerance of 1e-7, relative to the largest magnitude of each component over
   the points, leaves more than two orders of magnitude for the round-off while any wrong term in the jet recursion
   (a missing s'' z_i z_j, a wrong factor 2/(hi - lo), a swapped stream) is O(1) wrong. The value stream itself must
   equal KDNetEvaluate to 1e-13 (both compute the same sums, in GEMMs of different shapes). */
#include "t30-netutil.h"

static PetscErrorCode CheckJets(KDActivation act, PetscInt nin, PetscInt nout, PetscReal *worst)
{
  const PetscInt hidden[3] = {12, 10, 12}, n = 19;
  const PetscInt h4[4]  = {-2, -1, 1, 2};
  const PetscReal c1[4] = {1.0 / 12, -8.0 / 12, 8.0 / 12, -1.0 / 12},
                  c2[5] = {-1.0 / 12, 16.0 / 12, -30.0 / 12, 16.0 / 12, -1.0 / 12};
  KDNet net;
  KDJetSpec spec;
  PetscInt S, q = 0, npert;
  PetscReal *x, *jet, *xp, *yp, h[KD_NET_MAX_IN];
  const PetscReal tol = 1e-7;

  PetscFunctionBegin;
  PetscCall(TestNetCreate(PETSC_COMM_SELF, nin, 3, hidden, nout, act, 3 + nin + 10 * nout, &net));
  PetscCall(KDNetSetBlockSize(net, 7)); /* several blocks, the last one partial */
  /* every second derivative, listed in reverse order so that the spec's order, not a fixed one, is tested */
  spec.nsecond = nin * (nin + 1) / 2;
  for (PetscInt i = nin - 1; i >= 0; i--)
    for (PetscInt j = nin - 1; j >= i; j--) {
      spec.second[q][0] = i;
      spec.second[q][1] = j;
      q++;
    }
  PetscCall(KDJetSpecGetNumStreams(&spec, nin, &S));
  PetscCheck(S == 1 + nin + spec.nsecond, PETSC_COMM_SELF, PETSC_ERR_PLIB, "stream count %" PetscInt_FMT, S);
  for (PetscInt i = 0; i < nin; i++) h[i] = 1e-3 * ((1.0 + 0.5 * i) - (-0.5 - 0.75 * i));

  PetscCall(PetscMalloc2(n * nin, &x, nout * S * n, &jet));
  TestPoints(n, nin, 11 + nin, x);
  PetscCall(KDNetJetForward(net, &spec, n, x, jet));

  /* all perturbed points: per point, a 5 x 5 (nin = 2) or 5 x 5 x 5 grid of offsets {-2h..2h} covers every stencil */
  npert = nin == 2 ? 25 : 125;
  PetscCall(PetscMalloc2(n * npert * nin, &xp, nout * n * npert, &yp));
  for (PetscInt p = 0; p < n; p++)
    for (PetscInt g = 0; g < npert; g++) {
      PetscInt rem = g;
      for (PetscInt i = 0; i < nin; i++) {
        const PetscInt off = rem % 5 - 2;
        rem /= 5;
        xp[(p * npert + g) * nin + i] = x[p * nin + i] + (PetscReal) off * h[i];
      }
    }
  PetscCall(KDNetEvaluate(net, n * npert, xp, yp));

  for (PetscInt o = 0; o < nout; o++) {
    for (PetscInt s = 0; s < S; s++) {
      PetscReal maxj = 0, maxe = 0;
      for (PetscInt p = 0; p < n; p++) {
        const PetscReal *f = yp + o * n * npert + p * npert;
        PetscReal fd       = 0;
        PetscInt center    = 0, stride[KD_NET_MAX_IN];
        for (PetscInt i = 0, st = 1; i < nin; i++, st *= 5) {
          stride[i] = st;
          center += 2 * st;
        }
        if (s == 0)
          fd = f[center];
        else if (s <= nin) {
          const PetscInt i = s - 1;
          for (PetscInt a = 0; a < 4; a++) fd += c1[a] * f[center + h4[a] * stride[i]];
          fd /= h[i];
        } else {
          const PetscInt i = spec.second[s - 1 - nin][0], j = spec.second[s - 1 - nin][1];
          if (i == j) {
            for (PetscInt a = 0; a < 5; a++) fd += c2[a] * f[center + (a - 2) * stride[i]];
            fd /= h[i] * h[i];
          } else {
            for (PetscInt a = 0; a < 4; a++)
              for (PetscInt b = 0; b < 4; b++) fd += c1[a] * c1[b] * f[center + h4[a] * stride[i] + h4[b] * stride[j]];
            fd /= h[i] * h[j];
          }
        }
        maxj = PetscMax(maxj, PetscAbsReal(jet[(o * S + s) * n + p]));
        maxe = PetscMax(maxe, PetscAbsReal(jet[(o * S + s) * n + p] - fd));
      }
      PetscCheck(maxj > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "jet component %" PetscInt_FMT " of output %" PetscInt_FMT " is identically zero", s, o);
      maxe /= maxj;
      if (s > 0) *worst = PetscMax(*worst, maxe);
      PetscCheck(maxe <= (s == 0 ? 1e-13 : tol), PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "%s nin=%" PetscInt_FMT " nout=%" PetscInt_FMT ": output %" PetscInt_FMT " stream %" PetscInt_FMT
                 " off by %g (relative)",
                 KDActivations[act], nin, nout, o, s, (double) maxe);
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "%-4s nin=%" PetscInt_FMT " nout=%" PetscInt_FMT ": %" PetscInt_FMT
                        " streams agree with finite differences\n",
                        KDActivations[act], nin, nout, S));
  PetscCall(PetscFree2(xp, yp));
  PetscCall(PetscFree2(x, jet));
  PetscCall(KDNetDestroy(&net));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscReal worst = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  for (int a = 0; a < 3; a++)
    for (PetscInt nin = 2; nin <= 3; nin++)
      for (PetscInt nout = 1; nout <= 3; nout += 2) PetscCall(CheckJets((KDActivation) a, nin, nout, &worst));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "largest relative difference of a derivative stream: %.2e (tolerance 1e-7)\n",
                        (double) worst));
  PetscCall(PetscFinalize());
  return 0;
}
