#!/usr/bin/env bash
# The web console of ums-sandbox in a real headless Chromium
# (tests/console/console_browser.py): a bill made by the Python binding is
# paid by clicking in the console; the receiver verifies the notification.
# Needs chromium and chromium-driver (scripts/setup installs them) and
# `make lib` (libums.so and ums-sandbox). Argument: where to save the
# screenshot (default build/console.png; `make test-console
# CONSOLE_PNG=docs/console.png` refreshes the README's).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export UMS_LIBRARY="${UMS_LIBRARY:-$REPO/target/release/libums.so}"
export UMS_SANDBOX="${UMS_SANDBOX:-$REPO/target/release/ums-sandbox}"
for file in "$UMS_LIBRARY" "$UMS_SANDBOX" "${CHROMIUM:-/usr/bin/chromium}" "${CHROMEDRIVER:-/usr/bin/chromedriver}"; do
    if [ ! -e "$file" ]; then
        echo "test-console: $file not found (run scripts/setup and make lib)" >&2
        exit 1
    fi
done
export PYTHONDONTWRITEBYTECODE=1
exec "${PYTHON:-python3}" "$HERE/console_browser.py" "${1:-$REPO/build/console.png}"
