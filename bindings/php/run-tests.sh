#!/usr/bin/env bash
# Runs the PHP binding's tests and examples (tests/run.php runs the examples
# as subprocesses). Assumes `make lib` already ran; UMS_LIBRARY may point at
# libums.so (default: $REPO/target/release/libums.so) and UMS_SANDBOX at the
# ums-sandbox simulator (default: $REPO/target/release/ums-sandbox), which the
# tests start (one for the run, a few more for tests that need a fresh one)
# and stop. Needs php-cli >= 8.1 with the FFI extension and ffi.enable=preload
# or 1 (Debian's default for the CLI is preload). No Composer, no network.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export UMS_LIBRARY="${UMS_LIBRARY:-$REPO/target/release/libums.so}"
export UMS_SANDBOX="${UMS_SANDBOX:-$REPO/target/release/ums-sandbox}"

if ! command -v php >/dev/null 2>&1; then
    echo "php not found: install php-cli (8.1 or newer, with FFI)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ! -f "$UMS_LIBRARY" ]; then
    echo "libums not found at $UMS_LIBRARY: run \`make lib\` first or set UMS_LIBRARY" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ! -x "$UMS_SANDBOX" ]; then
    echo "ums-sandbox not found at $UMS_SANDBOX: run \`make lib\` first or set UMS_SANDBOX" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# The adapter's clients read every UMS_* variable that names a config key
# ("fromEnvironment"): none may come from the caller's shell. The tests set
# them where they need them.
for name in $(compgen -e); do
    case "$name" in
        UMS_LIBRARY|UMS_SANDBOX) ;;
        UMS_*) unset "$name" ;;
    esac
done

cd "$REPO"
# tests/run.php prints one line per test and "N passed, N failed" last, and
# exits non-zero on any failure. ffi.enable=1 is not forced: the tests must
# pass with the stock CLI setting.
exec php "$HERE/tests/run.php" "$@"
