#!/bin/bash
# The driver's command line: usage, version, help, and bad input. Every bad input must give exactly one line on
# stderr that starts with "kdpinn: error:" and names what is wrong, a non-zero exit, and no output file left behind
# (neither reference.h5 nor a temporary *.part).
set -uo pipefail
fail=0

expect_error() { # expect_error <what the message must contain> <args...>
  local want=$1; shift
  rm -rf out-err; mkdir -p out-err
  "$KDPINN" "$@" > stdout.txt 2> stderr.txt
  local rc=$?
  local lines
  lines=$(grep -c . stderr.txt)
  if [ $rc -eq 0 ]; then echo "FAIL: exit 0 for: $*"; fail=1; return; fi
  if [ "$lines" -ne 1 ] || ! grep -q "^kdpinn: error: .*$want" stderr.txt; then
    echo "FAIL: expected one line 'kdpinn: error: ...$want...' for: $*"; cat stderr.txt; fail=1; return
  fi
  if compgen -G "out-err/*" > /dev/null; then echo "FAIL: output left behind for: $*"; ls out-err; fail=1; return; fi
  echo "ok: $* -> $(cat stderr.txt)"
}

# Usage: unknown stage and no stage exit 2 and print the usage.
"$KDPINN" frobnicate > /dev/null 2> stderr.txt; rc=$?
if [ $rc -ne 2 ] || ! grep -q "unknown stage 'frobnicate'" stderr.txt || ! grep -q "Stages:" stderr.txt; then echo "FAIL: unknown stage (rc $rc)"; fail=1; fi
"$KDPINN" > /dev/null 2> stderr.txt; rc=$?
if [ $rc -ne 2 ] || ! grep -q "no stage given" stderr.txt; then echo "FAIL: no stage (rc $rc)"; fail=1; fi

# -version
out=$("$KDPINN" -version) || { echo "FAIL: -version exit"; fail=1; }
[[ $out =~ ^kdpinn\ [0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "FAIL: -version printed '$out'"; fail=1; }

# -help lists the options of a stage with their defaults and help strings, and runs nothing.
rm -rf out-help
"$KDPINN" solve -help -kd_out out-help > help.txt 2>&1 || { echo "FAIL: solve -help exit"; fail=1; }
for opt in -kd_out -kd_pde -kd_levels -kd_seed -burgers_nu -burgers_nx; do
  grep -q -- "$opt" help.txt || { echo "FAIL: -help does not list $opt"; fail=1; }
done
grep -q -- "-kd_levels <now 3" help.txt || { echo "FAIL: -help does not show the default of -kd_levels"; fail=1; }
[ ! -e out-help/reference.h5 ] || { echo "FAIL: -help ran the solver"; fail=1; }

# Bad input.
expect_error "unknown PDE 'navier' for -kd_pde" solve -kd_pde navier -kd_out out-err
expect_error "-burgers_nu" solve -kd_pde burgers -burgers_nu -0.1 -kd_out out-err
expect_error "kd_levels" solve -kd_pde burgers -kd_levels 12 -burgers_nx 64 -burgers_nt 64 -kd_out out-err
expect_error "grid too small for -kd_levels 7" solve -kd_pde heat -kd_levels 7 -heat_n 64 -heat_nt 32 -heat_microstructure "$KD_SOURCE_DIR/meshes/inclusions.txt" -kd_out out-err
touch not-a-dir
expect_error "-kd_out not-a-dir/sub is not writable" solve -kd_out not-a-dir/sub
printf -- '-kd_pde burgers\nkd_levels 3\n' > malformed.opts
expect_error "malformed.opts line 2" solve -options_file malformed.opts -kd_out out-err
expect_error "Unable to open options file" solve -options_file does-not-exist.opts -kd_out out-err
printf -- '-kd_levels three\n' > badvalue.opts
expect_error "three" solve -options_file badvalue.opts -kd_out out-err
# options files that include themselves (PETSc recursed until SIGSEGV): one line naming the file and the chain
printf -- '-options_file self.opts\n' > self.opts
expect_error "options file $PWD/self.opts includes itself (directly)" solve -options_file self.opts -kd_out out-err
printf -- '-kd_levels 2\n-options_file b.opts\n' > a.opts
printf -- '# a comment\n-options_file a.opts # back to a\n' > b.opts
expect_error "options file $PWD/a.opts includes itself (through $PWD/b.opts)" solve -options_file a.opts -kd_out out-err

# Plugins: a missing library, a library that registers nothing
expect_error "-kd_plugin no-such-plugin.so: cannot load it" solve -kd_plugin no-such-plugin.so -kd_out out-err
expect_error "has no function KDPluginRegister" solve -kd_plugin libm.so.6 -kd_out out-err

# A manufactured-solution cavity reference (its forcing and wall data are not the cavity PDE's) is refused by train
rm -rf out-mms
"$KDPINN" solve -kd_pde cavity -cavity_mms -cavity_n 16 -kd_levels 2 -kd_out out-mms > /dev/null
expect_error "solved with -cavity_mms" train -kd_pde cavity -kd_out out-mms -teacher_adam_steps 1

# At 2 ranks an error every rank sees is still reported once.
"$MPIEXEC" -n 2 "$KDPINN" solve -kd_pde navier -kd_out out-err > /dev/null 2> stderr.txt
n=$(grep -c "^kdpinn: error:" stderr.txt)
[ "$n" -eq 1 ] || { echo "FAIL: $n error lines at 2 ranks"; cat stderr.txt; fail=1; }

# Options no stage reads are named, one warning line each, and the stage still runs; the job files of jobs/ (whose
# options serve every stage) raise none. Plugin jobs (darcy) need their plugin: t005 runs them.
"$KDPINN" solve -kd_pde burgers -kd_levels 2 -burgers_nx 64 -burgers_nt 32 -kd_out out-typo -teacher_adam_step 5 \
  -burgers_nxx 8 > /dev/null 2> stderr.txt || { echo "FAIL: a solve with a misspelt option did not run"; fail=1; }
for opt in -teacher_adam_step -burgers_nxx; do
  grep -q "^kdpinn: warning: option $opt is not read by any stage" stderr.txt || { echo "FAIL: no warning for $opt"; fail=1; }
done
[ "$(grep -c . stderr.txt)" -eq 2 ] || { echo "FAIL: expected two warning lines"; cat stderr.txt; fail=1; }
for job in "$KD_SOURCE_DIR"/jobs/*.opts; do
  grep -q -- "-kd_plugin\|-kd_pde darcy" "$job" && continue
  "$KDPINN" validate -options_file "$job" -kd_out out-none > /dev/null 2> stderr.txt
  ! grep -q "warning" stderr.txt || { echo "FAIL: $job: options no stage reads"; cat stderr.txt; fail=1; }
done

[ $fail -eq 0 ] && echo "t001: driver command line ok"
exit $fail
