static const char help[] = "Model files: write on several ranks, load, and compare everything.\n"
                           "  -dump: also write points.txt and the KDNetEvaluate values for tests/model_eval.py\n";

/* Three models: sin, 2 inputs -> 3 outputs (hidden 9,7), tanh, 3 inputs -> 1 output (hidden 6,6,5), and isru, 2 inputs
   -> 1 output (hidden 6,6,5), each with a
   non-trivial input box, output scaling and PDE parameters. After KDNetWrite and KDNetLoad the loaded network must
   be the same bit for bit: architecture, activation, bounds, scaling, every parameter, the descriptive info, and the
   values at 50 points. No temporary file may remain, and writing over an existing file must work. Exact equality is
   the right test: the file stores IEEE doubles and nothing is recomputed. */
#include "t30-netutil.h"
#include <string.h>

static PetscErrorCode RoundTrip(const char path[], KDActivation act, PetscInt nin, PetscInt nhidden,
                                const PetscInt widths[], PetscInt nout, PetscBool dump)
{
  const PetscInt n = 50;
  KDNet net, net2;
  KDModelInfo info, info2;
  PetscInt np, np2, nw, nw2;
  const PetscInt *w, *w2;
  PetscReal *theta, *theta2, *x, *y, *y2;
  KDActivation act2;
  PetscMPIInt rank;
  PetscBool exists;
  char tmp[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(TestNetCreate(PETSC_COMM_WORLD, nin, nhidden, widths, nout, act, 21 + nin, &net));
  PetscCall(PetscMemzero(&info, sizeof(info)));
  PetscCall(PetscStrncpy(info.pde, "burgers", sizeof(info.pde)));
  PetscCall(PetscStrncpy(info.inputs, nin == 2 ? "t,x" : "t,x,y", sizeof(info.inputs)));
  PetscCall(PetscStrncpy(info.outputs, nout == 1 ? "u" : "u,v,p", sizeof(info.outputs)));
  PetscCall(PetscStrncpy(info.trained_with, "distill", sizeof(info.trained_with)));
  info.level   = 2;
  info.nparams = 2;
  PetscCall(PetscStrncpy(info.param_names[0], "nu", sizeof(info.param_names[0])));
  PetscCall(PetscStrncpy(info.param_names[1], "amplitude", sizeof(info.param_names[1])));
  info.param_values[0] = 0.01 / PETSC_PI;
  info.param_values[1] = -1.5;
  PetscCall(KDNetWrite(net, path, &info));
  PetscCall(KDNetWrite(net, path, &info)); /* over the existing file */
  PetscCall(KDFileTemporaryName(path, tmp, sizeof(tmp)));
  PetscCall(PetscTestFile(tmp, 'r', &exists));
  PetscCheck(!exists, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "temporary file %s left behind", tmp);

  PetscCall(KDNetLoad(PETSC_COMM_WORLD, path, &net2, &info2));
  PetscCall(KDNetGetWidths(net, &nw, &w));
  PetscCall(KDNetGetWidths(net2, &nw2, &w2));
  PetscCheck(nw == nw2, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: %" PetscInt_FMT " widths, loaded %" PetscInt_FMT, path,
             nw, nw2);
  for (PetscInt k = 0; k < nw; k++)
    PetscCheck(w[k] == w2[k], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: width %" PetscInt_FMT " differs", path, k);
  PetscCall(KDNetGetActivation(net2, &act2));
  PetscCheck(act2 == act, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: activation differs", path);
  PetscCall(KDNetGetSizes(net, NULL, NULL, &np));
  PetscCall(KDNetGetSizes(net2, NULL, NULL, &np2));
  PetscCheck(np == np2, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: parameter count differs", path);
  PetscCall(KDNetGetParameters(net, &theta));
  PetscCall(KDNetGetParameters(net2, &theta2));
  for (PetscInt k = 0; k < np; k++)
    PetscCheck(theta[k] == theta2[k], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: parameter %" PetscInt_FMT " differs", path,
               k);
  PetscCheck(!strcmp(info.pde, info2.pde) && !strcmp(info.inputs, info2.inputs) &&
                 !strcmp(info.outputs, info2.outputs) && !strcmp(info.trained_with, info2.trained_with) &&
                 info.level == info2.level,
             PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: descriptive attributes differ", path);
  PetscCheck(info2.nparams == 2, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: %" PetscInt_FMT " PDE parameters loaded", path,
             info2.nparams);
  /* the loader lists PDE parameters in name order */
  PetscCheck(!strcmp(info2.param_names[0], "amplitude") && info2.param_values[0] == info.param_values[1] &&
                 !strcmp(info2.param_names[1], "nu") && info2.param_values[1] == info.param_values[0],
             PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: PDE parameters differ", path);

  /* values compare bit for bit, which also checks the input box and the output scaling */
  PetscCall(PetscMalloc3(n * nin, &x, n * nout, &y, n * nout, &y2));
  TestPoints(n, nin, 4, x);
  PetscCall(KDNetEvaluate(net, n, x, y));
  PetscCall(KDNetEvaluate(net2, n, x, y2));
  for (PetscInt k = 0; k < n * nout; k++)
    PetscCheck(y[k] == y2[k], PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%s: value %" PetscInt_FMT " differs after loading",
               path, k);
  if (dump && !rank) {
    char name[PETSC_MAX_PATH_LEN];
    FILE *f;
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s.points.txt", path));
    PetscCall(PetscFOpen(PETSC_COMM_SELF, name, "w", &f));
    for (PetscInt p = 0; p < n; p++) {
      for (PetscInt i = 0; i < nin; i++) PetscCall(PetscFPrintf(PETSC_COMM_SELF, f, "%.17g ", (double) x[p * nin + i]));
      PetscCall(PetscFPrintf(PETSC_COMM_SELF, f, "\n"));
    }
    PetscCall(PetscFClose(PETSC_COMM_SELF, f));
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s.values.txt", path));
    PetscCall(PetscFOpen(PETSC_COMM_SELF, name, "w", &f));
    for (PetscInt p = 0; p < n; p++) {
      for (PetscInt o = 0; o < nout; o++) PetscCall(PetscFPrintf(PETSC_COMM_SELF, f, "%.17g ", (double) y[o * n + p]));
      PetscCall(PetscFPrintf(PETSC_COMM_SELF, f, "\n"));
    }
    PetscCall(PetscFClose(PETSC_COMM_SELF, f));
  }
  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "%s: %" PetscInt_FMT " parameters written and loaded bit for bit\n", path, np));
  PetscCall(PetscFree3(x, y, y2));
  PetscCall(KDNetDestroy(&net));
  PetscCall(KDNetDestroy(&net2));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const PetscInt wa[2] = {9, 7}, wb[3] = {6, 6, 5};
  PetscBool dump = PETSC_FALSE;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-dump", &dump, NULL));
  PetscCall(RoundTrip("model_sin.h5", KD_ACTIVATION_SIN, 2, 2, wa, 3, dump));
  PetscCall(RoundTrip("model_tanh.h5", KD_ACTIVATION_TANH, 3, 3, wb, 1, dump));
  PetscCall(RoundTrip("model_isru.h5", KD_ACTIVATION_ISRU, 2, 3, wb, 1, dump));
  PetscCall(PetscFinalize());
  return 0;
}
