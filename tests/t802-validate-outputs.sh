#!/bin/bash
# `kdpinn validate` outputs and errors (1 rank, the Burgers fixture of t800-validate-setup):
#  - -help lists the -kd_validate_ options and writes nothing; without teacher.h5 (or reference.h5): one error line
#    telling which stage to run; a model file whose level attribute contradicts its name: one error line;
#  - results.json validates against docs/results.schema.json (t80-jsonschema.py), and deliberately broken copies of it
#    do not (so the check can fail);
#  - report.md has a row per model and the distillation line with the gain of results.json;
#  - figures: one PNG per row, error_vs_params.png; with a python that does not exist the stage still succeeds and
#    prints exactly one warning line, and report.md says why there are no figures;
#  - predictions.h5 holds /level_<l>/<model>/<field> and <field>_error (= prediction - reference, to 1e-14 absolute:
#    one subtraction of numbers of size ~1) on the level's grid, and every dataset a prediction_*.xmf names exists
#    with the dimensions it states.
set -u
fail() { echo "FAIL: $*"; exit 1; }
SETUP=$1
SCHEMA=$KD_SOURCE_DIR/docs/results.schema.json
CHECKER=$KD_SOURCE_DIR/tests/t80-jsonschema.py
rm -rf out none help
"$MPIEXEC" -n 1 "$SETUP" -case burgers -out out > setup.log 2>&1 || { cat setup.log; fail "setup"; }

"$MPIEXEC" -n 1 "$KDPINN" validate -kd_out help -help > help.log 2>&1 || { cat help.log; fail "-help failed"; }
for o in -kd_validate_repeats -kd_validate_figures -kd_validate_quad -kd_validate_residual_points -kd_validate_python -kd_validate_script; do
  grep -q -- "$o" help.log || fail "-help does not list $o"
done
[ ! -e help ] || fail "-help created the output directory"

mkdir -p none
"$MPIEXEC" -n 1 "$KDPINN" validate -kd_out none > none.log 2>&1 && fail "validate without reference.h5 succeeded"
[ "$(grep -c '^kdpinn: error:' none.log)" -eq 1 ] && grep -q 'run `kdpinn solve` first' none.log || { cat none.log; fail "missing reference.h5"; }
cp out/reference.h5 none/
"$MPIEXEC" -n 1 "$KDPINN" validate -kd_out none > none.log 2>&1 && fail "validate without teacher.h5 succeeded"
[ "$(grep -c '^kdpinn: error:' none.log)" -eq 1 ] && grep -q 'teacher.h5 not found: run `kdpinn train` first' none.log ||
  { cat none.log; fail "missing teacher.h5: expected one error line telling to run kdpinn train"; }
cp out/teacher.h5 none/ && cp out/student_L1.h5 none/student_L2.h5
"$MPIEXEC" -n 1 "$KDPINN" validate -kd_out none > none.log 2>&1 && fail "a level-1 model named student_L2.h5 was accepted"
[ "$(grep -c '^kdpinn: error:' none.log)" -eq 1 ] && grep -q 'student_L2.h5 has level 1, its name says level 2' none.log ||
  { cat none.log; fail "level mismatch not reported in one line"; }

"$MPIEXEC" -n 1 "$KDPINN" validate -kd_out out -kd_validate_repeats 3 -kd_validate_python "$KD_PYTHON" > validate.log 2>&1 ||
  { cat validate.log; fail "validate failed"; }
cat validate.log
grep -q "warning" validate.log && fail "unexpected warning with a working python"
"$KD_PYTHON" "$CHECKER" "$SCHEMA" out/results.json || fail "results.json does not validate against docs/results.schema.json"

"$KD_PYTHON" - "$CHECKER" "$SCHEMA" <<'EOF' || fail "schema check of broken results"
import copy, json, sys, importlib.util
spec = importlib.util.spec_from_file_location("schema", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
schema = json.load(open(sys.argv[2])); good = json.load(open("out/results.json"))
assert not m.check(schema, good)
def broken(f):
    r = copy.deepcopy(good); f(r); return r
cases = {
  "missing rel_l2": lambda r: r["models"][0].pop("rel_l2"),
  "params negative": lambda r: r["models"][0].update(params=-1),
  "rel_l2 a string": lambda r: r["models"][1].update(rel_l2="0.1"),
  "unknown property": lambda r: r["models"][2].update(extra=1),
  "bad name": lambda r: r["models"][0].update(name="teacher2"),
  "bad evaluation": lambda r: r["models"][0].update(evaluation="average"),
  "field without mean_removed": lambda r: r["models"][0]["fields"]["u"].pop("mean_removed"),
  "gain_target_met a string": lambda r: r["distillation"][0].update(gain_target_met="yes"),
  "no models": lambda r: r.update(models=[]),
}
for what, f in cases.items():
    assert m.check(schema, broken(f)), "a results.json with " + what + " passed the schema"
print("schema: results.json valid; %d broken variants rejected" % len(cases))
EOF

"$KD_PYTHON" - <<'EOF' || fail "report.md, figures, predictions.h5 or the .xmf files are not as expected"
import json, os, re, h5py, numpy as np
res = json.load(open("out/results.json"))
rep = open("out/report.md").read()
for r in res["models"]:
    assert re.search(r"^\| %s \| %d \|" % (re.escape(r["name"]), r["level"]), rep, re.M), "report.md has no row for " + r["name"]
    assert os.path.getsize(os.path.join("out", r["figure"])) > 1000, r["figure"]
    assert "(%s)" % r["figure"] in rep, "report.md does not link " + r["figure"]
assert os.path.getsize("out/figures/error_vs_params.png") > 1000
d = res["distillation"][0]
line = re.search(r"^\| 1 \|.*$", rep, re.M).group(0)
assert ("%.1f%%" % (100 * d["gain"])) in line, (line, d["gain"])
ref, pred = h5py.File("out/reference.h5", "r"), h5py.File("out/predictions.h5", "r")
for r in res["models"]:
    g, lev = pred[r["predictions"]], ref["level_%d" % r["level"]]
    for f in r["fields"]:
        assert g[f].shape == lev[f].shape, (r["name"], f)
        assert np.max(np.abs(g[f][...] - lev[f][...] - g[f + "_error"][...])) <= 1e-14, (r["name"], f)
        err = np.abs(g[f + "_error"][...]).max()
        assert abs(err - r["fields"][f]["max_err"]) <= 1e-14, (r["name"], err, r["fields"][f]["max_err"])
    xmf = open(os.path.join("out", r["xmf"])).read()
    items = re.findall(r'Dimensions="([0-9 ]+)"[^>]*Format="HDF">([^:]+):([^<]+)<', xmf)
    assert len(items) == 3 * len(r["fields"]), (r["xmf"], items)
    for dims, fname, path in items:
        with h5py.File(os.path.join("out", fname), "r") as h:
            assert path in h and h[path].shape == tuple(int(x) for x in dims.split()), (r["xmf"], fname, path)
print("report.md, %d figures, predictions.h5 and %d .xmf files consistent with results.json" % (len(res["models"]) + 1, len(res["models"])))
EOF

rm -rf out/figures
"$MPIEXEC" -n 1 "$KDPINN" validate -kd_out out -kd_validate_repeats 1 -kd_validate_python ./no-such-python > nopy.log 2>&1 ||
  { cat nopy.log; fail "validate failed without python"; }
[ "$(grep -c 'warning' nopy.log)" -eq 1 ] && grep -q '^kdpinn validate: warning: figures skipped: ./no-such-python not found' nopy.log ||
  { cat nopy.log; fail "expected one warning line that figures were skipped"; }
[ ! -e out/figures/teacher.png ] || fail "figures appeared without python"
grep -q "Figures were not made: ./no-such-python not found" out/report.md || fail "report.md does not say why there are no figures"
echo PASS
