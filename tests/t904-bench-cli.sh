#!/bin/bash
# `kdpinn bench` mechanics (timings are not checked; tests/t910-bench-infer.sh prints them):
#  - on a briefly trained Burgers teacher and level-1 student, every model gets the four variants (f64 library, f64/f32/
#    int8 export) with finite latencies and fps, the field is the model's level grid, losses vs f64 within the bounds of
#    t901 (f64 export 1e-12, f32 1e-5, int8 3x the noise model), and an error against the reference;
#  - results.json: every other member is kept verbatim (including strings with braces and quotes), a previous "bench"
#    member is replaced, the file stays valid JSON over reruns, and it is created if absent; bench.json and bench.md;
#  - -kd_bench_variants: only those variants (and f64) timed and written, no int8 calibration without int8_export;
#  - one-line errors: no C compiler (-kd_bench_cc), more than one rank, no model, an unknown or empty variant, too many;
#  - no shell: a command line as -kd_bench_cc or command substitutions in -kd_bench_cflags run nothing; flags that
#    PETSc swallowed as an option (a value starting with '-') are refused, a bad flag fails the compilation.
set -u
fail() { echo "FAIL: $*"; exit 1; }
rm -rf out *.log PWNED*
"$KDPINN" solve -kd_out out -kd_pde burgers -kd_levels 2 -burgers_nx 256 -burgers_nt 64 > solve.log 2>&1 || { cat solve.log; fail "solve"; }
"$KDPINN" train -kd_out out -kd_pde burgers -teacher_widths 16,16 -teacher_ncol 500 -teacher_adam_steps 100 -teacher_lbfgs_steps 0 \
  -teacher_checkpoint_every 0 > train.log 2>&1 || { cat train.log; fail "train"; }
"$KDPINN" distill -kd_out out -kd_pde burgers -kd_levels 2 -student_widths 8,8 -student_ncol 500 -student_adam_steps 50 \
  -student_lbfgs_steps 0 -student_checkpoint_every 0 > distill.log 2>&1 || { cat distill.log; fail "distill"; }
cat > out/results.json <<'JSON'
{
  "kdpinn_version": "0.0.0",
  "models": [{"name": "a {b} [c]", "rel_l2": 1.5e-3, "nested": {"x": [1, 2, {"y": null}]}}],
  "bench": {"stale": true},
  "z": "quote \" and } brace"
}
JSON
quick=(-kd_bench_repeats 1 -kd_bench_warmup 1 -kd_bench_sample_ms 0)
for run in 1 2; do
  "$KDPINN" bench -kd_out out "${quick[@]}" > bench$run.log 2>&1 || { cat bench$run.log; fail "bench run $run"; }
done
cat bench2.log
[ -s out/bench.json ] && [ -s out/bench.md ] || fail "bench.json or bench.md missing"
"$KD_PYTHON" - <<'EOF' || fail "results.json / bench.json not as expected"
import json, math
r = json.load(open("out/results.json"))
assert list(r) == ["kdpinn_version", "models", "z", "bench"], list(r)
assert r["kdpinn_version"] == "0.0.0" and r["z"] == 'quote " and } brace', r
assert r["models"] == [{"name": "a {b} [c]", "rel_l2": 1.5e-3, "nested": {"x": [1, 2, {"y": None}]}}], r["models"]
b = r["bench"]
assert b == json.load(open("out/bench.json"))["bench"], "bench.json differs from results.json's bench"
assert "stale" not in b and set(b["models"]) == {"teacher", "student_L1"}, b.keys()
for name, m in b["models"].items():
    shape = [64, 256] if name == "teacher" else [32, 128]
    assert m["field_shape"] == shape and m["field_points"] == shape[0] * shape[1], (name, m["field_shape"])
    for v in ("f64", "f64_export", "f32_export", "int8_export"):
        f = m[v]
        for k in ("latency_1_us", "batch_1024_ms", "field_ms", "fps"):
            assert f[k] is not None and f[k] > 0 and math.isfinite(f[k]), (name, v, k, f[k])
        assert f["rel_l2_vs_reference"] is not None and f["rel_l2_vs_reference"] > 0, (name, v)
    assert m["f64"]["loss_vs_f64"] == 0, name
    assert m["f64_export"]["loss_vs_f64"] <= 1e-12, (name, m["f64_export"])
    assert m["f32_export"]["loss_vs_f64"] <= 1e-5, (name, m["f32_export"])
    assert m["int8_export"]["loss_vs_f64"] <= 3 * m["int8_noise_model_rel_l2"], (name, m["int8_export"], m["int8_noise_model_rel_l2"])
    print(name, "ok: int8 loss %.3e, noise model %.3e" % (m["int8_export"]["loss_vs_f64"], m["int8_noise_model_rel_l2"]))
EOF
rm out/results.json
"$KDPINN" bench -kd_out out "${quick[@]}" -kd_bench_models out/student_L1.h5 > bench3.log 2>&1 || { cat bench3.log; fail "bench without results.json"; }
"$KD_PYTHON" -c "import json; r = json.load(open('out/results.json')); assert list(r['bench']['models']) == ['student_L1'], r" ||
  fail "results.json not created"
# some variants only: those in bench.json, bench.md and on stdout; no int8 calibration (its figures null)
"$KDPINN" bench -kd_out out "${quick[@]}" -kd_bench_models out/student_L1.h5 -kd_bench_variants f32_export \
  -kd_bench_dir out/bench4 > bench4.log 2>&1 || { cat bench4.log; fail "bench -kd_bench_variants f32_export"; }
"$KD_PYTHON" -c "
import json
m = json.load(open('out/bench.json'))['bench']['models']['student_L1']
v = [k for k in ('f64', 'f64_export', 'f32_export', 'int8_export') if k in m]
assert v == ['f64', 'f32_export'], v
assert m['int8_calibration_rel_l2'] is None and m['int8_noise_model_rel_l2'] is None, m
assert 0 < m['f32_export']['loss_vs_f64'] <= 1e-5, m['f32_export']
" || fail "-kd_bench_variants f32_export: bench.json not as expected"
[ "$(grep -c ' f32_export ' bench4.log)" -eq 1 ] && ! grep -q "int8_export\|f64_export" bench4.log out/bench.md ||
  { cat bench4.log out/bench.md; fail "-kd_bench_variants f32_export: other variants printed"; }
ls out/bench4/*f32* > /dev/null || fail "-kd_bench_variants f32_export: no f32 export in -kd_bench_dir"
ls out/bench4/*int8* out/bench4/*f64* > /dev/null 2>&1 && fail "-kd_bench_variants f32_export: an int8 or f64 export was built"

one_error() { # log pattern what
  [ "$(grep -c '^kdpinn: error:' "$1")" -eq 1 ] && grep -q -- "$2" "$1" || { cat "$1"; fail "$3: expected one error line matching '$2'"; }
}
"$KDPINN" bench -kd_out out -kd_bench_cc /nonexistent/cc > nocc.log 2>&1 && fail "bench without a compiler succeeded"
one_error nocc.log "no C compiler: '/nonexistent/cc --version' failed (set -kd_bench_cc)" "no compiler"
"$MPIEXEC" -n 2 "$KDPINN" bench -kd_out out > ranks.log 2>&1 && fail "bench on 2 ranks succeeded"
one_error ranks.log "run it on one rank, not 2" "2 ranks"
"$KDPINN" bench -kd_out empty > nomodel.log 2>&1 && fail "bench without models succeeded"
one_error nomodel.log "no model to benchmark" "no model"
# bench_error <log> <pattern> <what> <bench options...>: the bench fails with one error line matching the pattern
bench_error() {
  local log=$1 pattern=$2 what=$3
  shift 3
  "$KDPINN" bench -kd_out out "${quick[@]}" "$@" > "$log" 2>&1 && fail "$what: the bench succeeded"
  one_error "$log" "$pattern" "$what"
}
bench_error variant.log "-kd_bench_variants: unknown variant 'f16'" "unknown variant" -kd_bench_variants f64,f16
bench_error variant2.log "-kd_bench_variants f64,,f32_export: an empty entry" "empty variant" \
  -kd_bench_variants f64,,f32_export
bench_error variant3.log "-kd_bench_variants: 17 entries, at most 16" "too many variants (PETSc drops the rest)" \
  -kd_bench_variants f64,f64,f64,f64,f64,f64,f64,f64,f64,f64,f64,f64,f64,f64,f64,f64,f16
# no shell: a compiler option that holds a command line is one (missing) program, and nothing else runs
bench_error inject.log "no C compiler: 'cc -O3; touch PWNED; cc --version' failed" "command line as -kd_bench_cc" \
  -kd_bench_cc 'cc -O3; touch PWNED; cc'
bench_error injectf.log "compiling .* failed" "command substitution in -kd_bench_cflags" \
  -kd_bench_cflags ' -O2 $(touch PWNED2) `touch PWNED3`'
[ ! -e PWNED ] && [ ! -e PWNED2 ] && [ ! -e PWNED3 ] && [ ! -e out/PWNED ] || fail "an option value ran a command"
# a flag value that starts with '-' is read by PETSc as the next option: refused, not built without flags; a bad
# flag given properly (leading blank) makes the compilation fail with the flags named
bench_error noflags.log "kd_bench_cflags has no value" "flags swallowed as an option" -kd_bench_cflags "-O3 -fbogus"
bench_error bogus.log "compiling .* failed (-kd_bench_cc cc -kd_bench_cflags ' -O3 -fbogus')" "bogus flag" \
  -kd_bench_cflags " -O3 -fbogus"
echo PASS
