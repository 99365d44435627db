static const char help[] =
    "KDDistillLoss on small networks for burgers, heat, cavity, conduction and fisher (homogenized "
    "students that learn their\n"
    "conductivity or diffusivity tensor: the gradient covers the learned parameters too, and "
    "fisher's residual match\n"
    "reads the teacher's second derivatives): the cached filtered teacher and the out term against\n"
    "an independent evaluation; the parameter gradient (all terms with the physics terms at a "
    "partial schedule weight,\n"
    "and each distillation term alone) against central differences, along directions and entry "
    "by entry; the schedule.\n";

#include "t70-distill-common.h"

/* Independent evaluation (KDNetEvaluate at explicitly built 3-point Gauss-Legendre nodes instead of the jet kernels and
   KDFilterJets): only the summation order differs, tolerance 1e-12 relative. */
#define TERM_TOL 1e-12
/* Directional derivative: central difference with h = 1e-5 along a unit direction. Truncation ~ h^2 |L'''| ~ 1e-10,
   round-off ~ 1e-16 |L| / h ~ 1e-10 for |L| ~ 10: tolerance 1e-6 relative to |g.d|. A wrong factor, sign, weight or
   missing adjoint in one term changes g.d by O(1) relative. */
#define GRAD_TOL 1e-6
/* Entry by entry: the same central difference per parameter; tolerance 1e-6 of the largest gradient entry (a small
   entry's relative error is round-off dominated). */
#define ENTRY_TOL 1e-6

/* The trainable vector: the student's parameters, then the parameters its physics learns (KDLossGetExtraParameters()).
 */
static PetscErrorCode SetVector(KDLoss phys, PetscReal params[], PetscInt np, const PetscReal x[])
{
  PetscFunctionBegin;
  PetscCall(PetscArraycpy(params, x, np));
  PetscCall(KDLossSetExtraParameters(phys, x + np));
  PetscFunctionReturn(0);
}

static PetscErrorCode Value(KDDistillLoss dl, PetscReal terms[], PetscReal grad[], PetscReal *L)
{
  PetscInt nterms;

  PetscFunctionBegin;
  PetscCall(KDDistillLossGetTerms(dl, &nterms, NULL));
  PetscCall(KDDistillLossEvaluateLocal(dl, terms, grad));
  *L = 0.0;
  for (PetscInt t = 0; t < nterms; t++) *L += terms[t];
  PetscFunctionReturn(0);
}

/* T~ values by brute force: the teacher at the 3^nin Gauss-Legendre nodes of the (shrunk) box, weights (5, 8, 5)/18. */
static PetscErrorCode FilteredTeacher(KDNet teacher, PetscInt nin, PetscInt nout, const PetscReal lo[],
                                      const PetscReal hi[], const PetscReal width[], PetscInt n, const PetscReal x[],
                                      PetscReal tv[])
{
  const PetscReal node[3] = {-PetscSqrtReal(0.6), 0.0, PetscSqrtReal(0.6)}, w[3] = {5.0 / 18, 8.0 / 18, 5.0 / 18};
  PetscInt nq = 1;
  PetscReal xq[KD_NET_MAX_IN], y[KD_NET_MAX_OUT];

  PetscFunctionBegin;
  for (PetscInt i = 0; i < nin; i++) nq *= 3;
  for (PetscInt p = 0; p < n; p++) {
    for (PetscInt o = 0; o < nout; o++) tv[o * n + p] = 0.0;
    for (PetscInt k = 0; k < nq; k++) {
      PetscInt rem = k;
      PetscReal wk = 1.0;
      for (PetscInt i = 0; i < nin; i++) {
        const PetscReal xi = x[p * nin + i];
        const PetscReal r  = PetscMax(0.0, PetscMin(0.5 * width[i], PetscMin(xi - lo[i], hi[i] - xi)));
        xq[i]              = xi + node[rem % 3] * r;
        wk *= w[rem % 3];
        rem /= 3;
      }
      PetscCall(KDNetEvaluate(teacher, 1, xq, y));
      for (PetscInt o = 0; o < nout; o++) tv[o * n + p] += wk * y[o];
    }
  }
  PetscFunctionReturn(0);
}

/* which: NULL = every term (physics at weight 0.6), or "out", "grad", "res" alone (physics weight 0). */
static PetscErrorCode RunCase(const char *pde, const char *which)
{
  KDReference ref;
  KDLoss phys;
  KDNet student, teacher;
  KDDistillLoss dl;
  KDPDE op;
  PetscInt nterms, np, ntot, ninfer, nin, nout, dim, nl[KD_MAX_DIM], map[KD_NET_MAX_IN];
  const char *const *names;
  PetscReal terms[KD_LOSS_MAX_TERMS], *grad, *gwork, *dir, *params, *x, L, worst = 0.0, lambda = which ? 0.0 : 0.6;
  PetscReal lo[KD_NET_MAX_IN], hi[KD_NET_MAX_IN], width[KD_NET_MAX_IN], rlo[KD_MAX_DIM], rhi[KD_MAX_DIM];
  PetscReal w[3] = {0.7, 0.3, 0.2}, outsum = 0.0;
  PetscBool entries;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClearValue(NULL, "-student_w_out"));
  if (which) {
    const char *tn[3] = {"out", "grad", "res"};
    for (PetscInt t = 0; t < 3; t++) {
      PetscBool m;
      PetscCall(PetscStrcmp(which, tn[t], &m));
      if (!m) w[t] = 0.0;
    }
  }
  {
    char v[32];
    PetscCall(PetscSNPrintf(v, sizeof(v), "%g", (double) w[0]));
    PetscCall(PetscOptionsSetValue(NULL, "-student_w_out", v));
    PetscCall(PetscSNPrintf(v, sizeof(v), "%g", (double) w[1]));
    PetscCall(PetscOptionsSetValue(NULL, "-student_w_grad", v));
    PetscCall(PetscSNPrintf(v, sizeof(v), "%g", (double) w[2]));
    PetscCall(PetscOptionsSetValue(NULL, "-student_w_res", v));
  }
  PetscCall(TestDistillLossCreate(pde, &ref, &phys, &student, &teacher, &dl));
  PetscCall(KDDistillLossSetPhysicsWeight(dl, lambda));
  PetscCall(KDDistillLossGetTerms(dl, &nterms, &names));
  PetscCall(KDNetGetSizes(student, &nin, &nout, &np));
  PetscCall(KDNetGetParameters(student, &params));
  PetscCall(KDLossGetNumParameters(phys, &ntot));
  PetscCall(KDLossGetNumInferred(phys, &ninfer));
  { /* conduction: every level of the fixture's reference spans a period, the student learns Kxx, Kxy, Kyy; fisher:
       level 1 spans the tissue's period, the student learns Dxx, Dyy */
    PetscBool conduction, fisher;
    PetscCall(PetscStrcmp(pde, "conduction", &conduction));
    PetscCall(PetscStrcmp(pde, "fisher", &fisher));
    PetscCheck(!conduction || (ninfer == 3 && ntot == np + 3), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "conduction: %" PetscInt_FMT " learned parameters, expected 3", ninfer);
    PetscCheck(!fisher || (ninfer == 2 && ntot == np + 2), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "fisher: %" PetscInt_FMT " learned parameters, expected 2", ninfer);
  }
  PetscCall(PetscMalloc4(ntot, &grad, ntot, &gwork, ntot, &dir, ntot, &x));
  PetscCall(PetscArraycpy(x, params, np));
  PetscCall(KDLossGetExtraParameters(phys, x + np));
  PetscCall(Value(dl, terms, grad, &L));

  /* Terms present: the weighted distillation terms, then the physics terms (zero at weight 0). */
  PetscCall(KDLossGetPDE(phys, &op));
  PetscCall(KDPDEGetDomain(op, lo, hi));
  PetscCall(KDReferenceGetLevelGrid(ref, 1, &dim, nl, rlo, rhi));
  PetscCall(KDPDEGetReferenceAxisMap(op, ref, map));
  for (PetscInt i = 0; i < nin; i++) width[i] = (rhi[map[i]] - rlo[map[i]]) / nl[map[i]];
  {
    PetscInt nd = 0, ntot = 0;
    PetscBool hasout;
    for (PetscInt t = 0; t < 3; t++) nd += w[t] > 0;
    PetscCall(PetscStrcmp(names[0], "out", &hasout));
    PetscCheck(nterms > nd && (w[0] == 0 || hasout), PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: unexpected term list", pde);
    if (lambda == 0)
      for (PetscInt t = nd; t < nterms; t++)
        PetscCheck(terms[t] == 0.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: physics term %s = %g at weight 0", pde,
                   names[t], (double) terms[t]);

    /* The cached targets and the out term against the brute-force filter. */
    for (PetscInt s = 0; s < 2; s++) {
      const char *set = s ? "col" : "cell";
      const PetscReal *x, *target;
      PetscReal *tv, *sv;
      PetscInt n;
      PetscCall(KDDistillLossGetTargets(dl, set, &n, &x, &target));
      PetscCheck(n > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: empty set %s", pde, set);
      ntot += n;
      PetscCall(PetscMalloc2(n * nout, &tv, n * nout, &sv));
      PetscCall(FilteredTeacher(teacher, nin, nout, lo, hi, width, n, x, tv));
      PetscCall(KDNetEvaluate(student, n, x, sv));
      for (PetscInt o = 0; o < nout; o++)
        for (PetscInt p = 0; p < n; p++) {
          const PetscReal c = target[o * (1 + nin) * n + p], e = tv[o * n + p];
          PetscCheck(PetscAbsReal(c - e) <= TERM_TOL * PetscMax(1.0, PetscAbsReal(e)), PETSC_COMM_SELF, PETSC_ERR_PLIB,
                     "%s: cached T~ %.16e vs brute force %.16e (set %s, output %" PetscInt_FMT ", point %" PetscInt_FMT
                     ")",
                     pde, (double) c, (double) e, set, o, p);
          outsum += (sv[o * n + p] - e) * (sv[o * n + p] - e);
        }
      PetscCall(PetscFree2(tv, sv));
    }
    if (w[0] > 0) PetscCall(CheckClose("out term vs brute force", terms[0], w[0] * outsum / ntot, TERM_TOL));
  }

  /* Directions: the gradient itself, then two random ones. */
  for (PetscInt d = 0; d < 3; d++) {
    const PetscReal h = 1e-5;
    PetscReal gd = 0.0, norm = 0.0, Lp, Lm, fd, err;
    for (PetscInt i = 0; i < ntot; i++) dir[i] = d == 0 ? grad[i] : KDRandomUniform(d, 98, i) - 0.5;
    for (PetscInt i = 0; i < ntot; i++) norm += dir[i] * dir[i];
    norm = PetscSqrtReal(norm);
    PetscCheck(norm > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: zero gradient", pde);
    for (PetscInt i = 0; i < ntot; i++) dir[i] /= norm;
    for (PetscInt i = 0; i < ntot; i++) gd += grad[i] * dir[i];
    for (PetscInt i = 0; i < ntot; i++) x[i] += h * dir[i];
    PetscCall(SetVector(phys, params, np, x));
    PetscCall(Value(dl, terms, gwork, &Lp));
    for (PetscInt i = 0; i < ntot; i++) x[i] -= 2.0 * h * dir[i];
    PetscCall(SetVector(phys, params, np, x));
    PetscCall(Value(dl, terms, gwork, &Lm));
    for (PetscInt i = 0; i < ntot; i++) x[i] += h * dir[i];
    PetscCall(SetVector(phys, params, np, x));
    fd  = (Lp - Lm) / (2.0 * h);
    err = PetscAbsReal(fd - gd) / PetscAbsReal(gd);
    PetscCheck(err <= GRAD_TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "%s (%s): directional derivative %.10e vs central difference %.10e, rel %.2e > %.0e", pde,
               which ? which : "all terms", (double) gd, (double) fd, (double) err, GRAD_TOL);
    worst = PetscMax(worst, err);
  }
  /* Entry by entry, for the full loss. */
  entries = which ? PETSC_FALSE : PETSC_TRUE;
  if (entries) {
    const PetscReal h = 1e-5;
    PetscReal gmax = 0.0, eworst = 0.0;
    for (PetscInt i = 0; i < ntot; i++) gmax = PetscMax(gmax, PetscAbsReal(grad[i]));
    for (PetscInt i = 0; i < ntot; i++) {
      PetscReal Lp, Lm, save = x[i], err;
      x[i] = save + h;
      PetscCall(SetVector(phys, params, np, x));
      PetscCall(Value(dl, terms, gwork, &Lp));
      x[i] = save - h;
      PetscCall(SetVector(phys, params, np, x));
      PetscCall(Value(dl, terms, gwork, &Lm));
      x[i] = save;
      PetscCall(SetVector(phys, params, np, x));
      err = PetscAbsReal((Lp - Lm) / (2.0 * h) - grad[i]) / gmax;
      PetscCheck(err <= ENTRY_TOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "%s: gradient entry %" PetscInt_FMT " = %.10e vs central difference %.10e (err %.2e of max entry)",
                 pde, i, (double) grad[i], (double) ((Lp - Lm) / (2.0 * h)), (double) err);
      eworst = PetscMax(eworst, err);
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "%-8s all terms, every entry (%" PetscInt_FMT " learned PDE parameters among them): max err "
                          "%.2e of the largest entry\n",
                          pde, ninfer, (double) eworst));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%-8s %-5s %" PetscInt_FMT " terms, %" PetscInt_FMT
                        " params, loss %.6e, gradient vs central differences: max rel err %.2e\n",
                        pde, which ? which : "all", nterms, np, (double) L, (double) worst));
  PetscCall(PetscFree4(grad, gwork, dir, x));
  PetscCall(TestDistillLossDestroy(&ref, &phys, &student, &teacher, &dl));
  PetscFunctionReturn(0);
}

/* The schedule at its corners: 0 before K1, linear over K, 1 after, and 1 once Adam is over. */
static PetscErrorCode CheckSchedule(void)
{
  PetscFunctionBegin;
  PetscCheck(KDDistillScheduleWeight(10, 20, 100, 0) == 0.0 && KDDistillScheduleWeight(10, 20, 100, 9) == 0.0,
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "schedule: physics weight must be 0 during the first K1 steps");
  PetscCheck(KDDistillScheduleWeight(10, 20, 100, 10) == 0.0 && KDDistillScheduleWeight(10, 20, 100, 20) == 0.5,
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "schedule: linear ramp from K1");
  PetscCheck(KDDistillScheduleWeight(10, 20, 100, 30) == 1.0 && KDDistillScheduleWeight(10, 20, 100, 500) == 1.0,
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "schedule: 1 after the ramp");
  PetscCheck(KDDistillScheduleWeight(80, 40, 100, 100) == 1.0 && KDDistillScheduleWeight(80, 40, 100, 99) == 19.0 / 40,
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "schedule: 1 from the end of Adam on");
  PetscCheck(KDDistillScheduleWeight(0, 0, 100, 0) == 1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "schedule: no distillation-only phase and no ramp means full weight at once");
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const char *pdes[] = {"burgers", "heat", "cavity", "conduction", "fisher"};
  const char *only[] = {NULL, "out", "grad", "res"};

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  /* Small point sets; a data term too, so that every physics term kind takes part. */
  PetscCall(PetscOptionsInsertString(NULL, "-student_ncol 37 -student_nic 11 -student_nbc 13 -student_ndata 9 "
                                           "-student_distill_ncell 29 -student_distill_ncol 31"));
  PetscCall(CheckSchedule());
  for (PetscInt k = 0; k < 5; k++)
    for (PetscInt o = 0; o < 4; o++) PetscCall(RunCase(pdes[k], only[o]));
  PetscCall(PetscFinalize());
  return 0;
}
