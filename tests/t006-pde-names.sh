#!/bin/bash
# Nothing outside a PDE's own files branches on its name: no source file in src/ or include/ holds the string literal
# "burgers", "heat" or "cavity" except the PDE implementation files (src/pde/<name>.c) and the registration calls
# (KDPDERegister, KDSolverRegister, the default -kd_pde). A new PDE therefore touches no shared file.
set -euo pipefail
cd "$KD_SOURCE_DIR"
hits=$(grep -rnE '"(burgers|heat|cavity)[_"]' src include \
         --include='*.c' --include='*.h' --include='*.in' \
       | grep -vE '^src/pde/(burgers|heat|cavity)\.c:' \
       | grep -vE 'KDPDERegister\(|KDSolverRegister\(|KDCommonOptionsSetPDETypes\(' || true)
if [ -n "$hits" ]; then
  echo "string literals naming a built-in PDE outside its own files:"
  echo "$hits"
  exit 1
fi
echo "t006: no source file in src/ or include/ compares against a built-in PDE's name"
