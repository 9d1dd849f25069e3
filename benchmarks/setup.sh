#!/usr/bin/env bash
# Create the two environments the benchmarks run in, under benchmarks/.venvs/:
#   pdpar  pdpar from this checkout (pip install -e ".[test]"), newest pandas
#   peers  pandas 3.0.x with pandarallel, mapply, parallel-pandas, swifter and dask
# Set PDPAR_PYTHON to an existing interpreter that has pdpar installed to skip the first one
# (run.py then needs the same variable). PYTHON chooses the interpreter that makes the venvs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-python3}"
venvs="$here/.venvs"
mkdir -p "$venvs"

if [ -z "${PDPAR_PYTHON:-}" ]; then
    "$python" -m venv "$venvs/pdpar"
    "$venvs/pdpar/bin/pip" install --quiet --upgrade pip
    "$venvs/pdpar/bin/pip" install --quiet -e "$root[test,plot]"
fi

"$python" -m venv "$venvs/peers"
"$venvs/peers/bin/pip" install --quiet --upgrade pip
"$venvs/peers/bin/pip" install --quiet -r "$here/requirements-peers.txt"
"$venvs/peers/bin/python" - <<'PY'
import importlib.metadata as md
for name in ["pandas", "pandarallel", "mapply", "parallel-pandas", "swifter", "dask"]:
    print(f"{name} {md.version(name)}")
PY
