#!/usr/bin/env bash
# The wheel as a user installs it (make test-python-wheel, after make
# python-wheel): a fresh venv in a temporary directory outside the
# repository, `pip install --no-index` of bindings/python/dist/chinaums-*.whl,
# the simulator started through the wheel's `ums-sandbox` console script, and
# the README's Python quickstart run from that directory with no UMS_LIBRARY
# and no PYTHONPATH: libums.so must come from inside the installed package.
# Then UMS_LIBRARY still overrides it. Ends with "wheel: ok".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-python3}"
VERSION="$(sed -n 's/^version = "\([0-9][0-9.]*\)".*/\1/p' "$REPO/Cargo.toml" | head -n 1)"

shopt -s nullglob
wheels=("$HERE"/dist/chinaums-"$VERSION"-py3-none-*.whl)
if [ "${#wheels[@]}" != 1 ]; then
    echo "test-wheel: expected one bindings/python/dist/chinaums-$VERSION-py3-none-*.whl, found ${#wheels[@]}: run \`make python-wheel\`" >&2
    exit 1
fi
wheel="${wheels[0]}"
echo "test-wheel: $(basename "$wheel")"

work="$(mktemp -d)"
sandbox_pid=""
cleanup() {
    if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# Nothing of the checkout may leak in: no UMS_* variable, no PYTHONPATH.
clean_env=(env -u PYTHONPATH -u PYTHONHOME)
for name in $(compgen -e); do
    case "$name" in UMS_*) clean_env+=(-u "$name") ;; esac
done

"${clean_env[@]}" "$PY" -m venv "$work/venv"
"${clean_env[@]}" PIP_DISABLE_PIP_VERSION_CHECK=1 "$work/venv/bin/python" -m pip install -q --no-index "$wheel"

# The simulator, from the wheel's console script; its first line is its URL.
exec 3< <(exec "${clean_env[@]}" "$work/venv/bin/ums-sandbox" --port 0 2>>"$work/sandbox.log")
sandbox_pid=$!
IFS= read -r -t 30 first <&3 || { echo "test-wheel: ums-sandbox (console script) printed nothing" >&2; exit 1; }
url="${first#ums-sandbox listening on }"
url="${url%% *}"
case "$url" in http://127.0.0.1:*) ;; *) echo "test-wheel: unexpected first line: $first" >&2; exit 1 ;; esac
cat <&3 >/dev/null &  # read the rest away: the simulator never blocks on a full pipe

# The README's quickstart (the first ```python block of "### Python"), with
# the simulator's URL for the one it names, then the answer printed.
"$PY" - "$REPO/README.md" "$url" >"$work/quickstart.py" <<'PYEOF'
import re, sys
readme, url = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
section = readme.split("\n### Python", 1)[1].split("\n### ", 1)[0]
code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
named = re.findall(r"http://127\.0\.0\.1:\d+", code)
if len(set(named)) != 1:
    sys.exit("the README's Python quickstart names %r, expected one simulator URL" % named)
print(code.replace(named[0], url))
print('import json\nprint(json.dumps({"errCode": answer["errCode"], "billQRCode": answer["billQRCode"]}))')
PYEOF
out="$("${clean_env[@]}" "$work/venv/bin/python" "$work/quickstart.py")"
echo "test-wheel: quickstart printed $out"
case "$out" in *'"errCode": "SUCCESS"'*) ;; *) echo "test-wheel: the quickstart did not succeed" >&2; exit 1 ;; esac

# The library came from inside the installed package, not from the checkout.
site="$("${clean_env[@]}" "$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
loaded="$("${clean_env[@]}" "$work/venv/bin/python" -c 'import chinaums; print(chinaums.__file__); print(chinaums.library_path()); print(chinaums.version())')"
expected="$site/chinaums/__init__.py
$site/chinaums/libums.so
$VERSION"
if [ "$loaded" != "$expected" ]; then
    printf 'test-wheel: loaded\n%s\nexpected\n%s\n' "$loaded" "$expected" >&2
    exit 1
fi
# UMS_LIBRARY stays an override.
override="$("${clean_env[@]}" UMS_LIBRARY="$REPO/target/release/libums.so" "$work/venv/bin/python" -c 'import chinaums; print(chinaums.library_path())')"
if [ "$override" != "$REPO/target/release/libums.so" ]; then
    echo "test-wheel: UMS_LIBRARY did not override the packaged library: $override" >&2
    exit 1
fi
echo "test-wheel: libums from $site/chinaums/libums.so; UMS_LIBRARY overrides it"
echo "wheel: ok"
