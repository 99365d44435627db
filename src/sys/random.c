#include <kdsys.h>
#include <stdint.h>

/* splitmix64's output function (Steele, Lea & Flood 2014): a bijective 64-bit mixer whose every output bit depends on
   every input bit. Counter-based use: the state is a pure function of (seed, stream, index), so a value can be
   recomputed anywhere, by any rank, in any order. */
static inline uint64_t KDMix64(uint64_t z)
{
  z += UINT64_C(0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/*@C
  KDRandomUniform - A uniform random number in [0, 1), a pure function of (seed, stream, index).

  Not collective

  Input Parameters:
+ seed   - the experiment's seed (-kd_seed)
. stream - an independent stream per use (collocation set, epoch, boundary set, ...)
- index  - the global index of the number within the stream

  Notes:
  The three keys go through nested splitmix64 mixers; the top 53 bits of the result are the mantissa, so every
  value is a multiple of 2^-53. Because nothing is sequential, the collocation set drawn from global indices is the
  same however the indices are split over ranks.

.seealso: KDLossResample(), KDPDESamplePoints()
@*/
PetscReal KDRandomUniform(PetscInt64 seed, PetscInt64 stream, PetscInt64 index)
{
  uint64_t h = KDMix64(KDMix64(KDMix64((uint64_t) seed) ^ (uint64_t) stream) ^ (uint64_t) index);

  return (PetscReal) (h >> 11) * 0x1.0p-53;
}

/*@C
  KDSplitOwnership - The contiguous block of global indices [start, start + n) of [0, N) this rank owns, as
  PetscSplitOwnership() divides them: every point set of a loss is split this way, so that the union of the blocks is
  the same set for any number of ranks.

  Collective

.seealso: KDRandomUniform()
@*/
PetscErrorCode KDSplitOwnership(MPI_Comm comm, PetscInt N, PetscInt *n, PetscInt *start)
{
  PetscInt nl = PETSC_DECIDE;

  PetscFunctionBegin;
  PetscCall(PetscSplitOwnership(comm, &nl, &N));
  PetscCallMPI(MPI_Scan(&nl, start, 1, MPIU_INT, MPI_SUM, comm));
  *start -= nl;
  *n = nl;
  PetscFunctionReturn(0);
}
