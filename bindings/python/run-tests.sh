#!/usr/bin/env bash
# Tests of the Python binding: stdlib unittest, no packages from the network.
# Uses $UMS_LIBRARY (default: target/release/libums.so of this repository;
# run `make lib` first). Ends with the line "N passed, N failed".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-python3}"

export UMS_LIBRARY="${UMS_LIBRARY:-$REPO/target/release/libums.so}"
if [ ! -f "$UMS_LIBRARY" ]; then
    echo "libums not found at $UMS_LIBRARY: run 'make lib' first" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
export PYTHONPATH="$HERE/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
# The adapter reads these; the tests set them where they need them.
unset UMS_ENVIRONMENT UMS_APP_ID UMS_APP_KEY

# Syntax of every file first (sources, tests, examples), without writing .pyc.
"$PY" - "$HERE/src" "$HERE/tests" "$REPO/examples/python" <<'PYEOF'
import pathlib, sys
for root in sys.argv[1:]:
    for path in sorted(pathlib.Path(root).rglob("*.py")):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
PYEOF

# The examples run inside the tests (tests/test_compat.py, ExamplesTest), as
# subprocesses against the simulator with UMS_ENVIRONMENT=sandbox.
exec "$PY" "$HERE/tests/run.py"
