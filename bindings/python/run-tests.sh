#!/usr/bin/env bash
# Tests of the Python binding: stdlib unittest, no packages from the network.
# Uses $UMS_LIBRARY (default: target/release/libums.so of this repository)
# and $UMS_SANDBOX, the simulator (default: target/release/ums-sandbox); run
# `make lib` first, it builds both. The tests start one simulator for the
# whole run (plus one of its own for a test that needs a fresh one) and stop
# it at exit. Ends with the line "N passed, N failed".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-python3}"

export UMS_LIBRARY="${UMS_LIBRARY:-$REPO/target/release/libums.so}"
export UMS_SANDBOX="${UMS_SANDBOX:-$REPO/target/release/ums-sandbox}"
for file in "$UMS_LIBRARY" "$UMS_SANDBOX"; do
    if [ ! -f "$file" ]; then
        echo "$file not found: run 'make lib' first" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done
export PYTHONPATH="$HERE/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
# The library reads the UMS_* configuration variables for a config with
# "fromEnvironment": true (chinaums.compat); the tests set them where they
# need them, so none may come from the caller's shell.
while IFS= read -r name; do
    case "$name" in
        UMS_LIBRARY | UMS_SANDBOX) ;;
        UMS_*) unset "$name" ;;
    esac
done < <(compgen -e)

# Syntax of every file first (sources, tests, examples), without writing .pyc.
"$PY" - "$HERE/src" "$HERE/tests" "$REPO/examples/python" <<'PYEOF'
import pathlib, sys
for root in sys.argv[1:]:
    for path in sorted(pathlib.Path(root).rglob("*.py")):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
PYEOF

# The examples run inside the tests (tests/test_compat.py, ExamplesTest), as
# subprocesses with UMS_ENVIRONMENT set to a simulator's URL.
exec "$PY" "$HERE/tests/run.py"
