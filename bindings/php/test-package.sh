#!/usr/bin/env bash
# The PHP package as a user installs it (make test-php-package, after make
# php-lib), from a temporary directory outside the repository:
#
#  1. a Composer project requires chinaums/ums:^0.1 through a path repository
#     with "symlink": false (a copy, as deploy builds make; packagist.org
#     disabled, no network) and runs the README's PHP quickstart against the
#     simulator with no UMS_* variable: libums must come from the copy's lib/;
#  2. php-fpm (the CLI's PHP version) with the default ffi.enable=preload
#     serves a page of that project that calls update-qrcode, fetched over
#     FastCGI with cgi-fcgi, in three set-ups:
#       - opcache.preload=vendor/chinaums/ums/preload.php (as root, PHP 8.2
#         preloads in a child as opcache.preload_user and refuses FFI::load:
#         each worker loads libums itself, allowed because the binding's code
#         is preloaded; otherwise FFI::load makes the scope "ums");
#       - the same plus ffi.preload=<vendor/bin/ums-ffi-header>: the scope;
#       - no preload: the page gets the binding's LibraryException naming
#         preload.php (so preloading is what makes the others work).
#     Each time the page's own FFI::cdef must be refused: ffi.enable=preload
#     is in force.
#
#   bindings/php/test-package.sh [--measure N]
#
# --measure N also times N requests, each in a fresh worker process
# (pm.max_requests = 1), with preload, with ffi.preload, and with
# ffi.enable=1 and no preload. Ends with "php package: ok".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SANDBOX="${UMS_SANDBOX:-$REPO/target/release/ums-sandbox}"
VERSION="$(sed -n 's/^version = "\([0-9][0-9.]*\)".*/\1/p' "$REPO/Cargo.toml" | head -n 1)"
MEASURE=0
if [ "${1:-}" = "--measure" ]; then MEASURE="${2:?--measure needs a number of requests}"; fi

fail() { echo "test-package: $*" >&2; exit 1; }

PHP_VERSION="$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')"
FPM="$(command -v "php-fpm$PHP_VERSION" || true)"
[ -n "$FPM" ] || [ ! -x "/usr/sbin/php-fpm$PHP_VERSION" ] || FPM="/usr/sbin/php-fpm$PHP_VERSION"  # not on a user's PATH
[ -n "$FPM" ] || fail "php-fpm$PHP_VERSION not found: run scripts/setup"
for tool in composer cgi-fcgi; do
    command -v "$tool" >/dev/null || fail "$tool not found: run scripts/setup"
done
[ -x "$SANDBOX" ] || fail "$SANDBOX not found: run \`make lib\`"
[ -f "$HERE/lib/libums.so" ] || fail "bindings/php/lib/libums.so not found: run \`make php-lib\`"

# Same version as Cargo.toml (make php-lib checks it too).
composer_version="$(php -r 'echo json_decode(file_get_contents($argv[1]), true)["version"] ?? "";' "$HERE/composer.json")"
[ "$composer_version" = "$VERSION" ] || fail "composer.json says version '$composer_version', Cargo.toml $VERSION"

# `git archive` leaves the tests and dev files out (.gitattributes).
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    for path in bindings/php/tests bindings/php/run-tests.sh bindings/php/test-package.sh; do
        [ "$(git -C "$REPO" check-attr export-ignore -- "$path")" = "$path: export-ignore: set" ] ||
            fail "$path is not export-ignore (.gitattributes)"
    done
    [ "$(git -C "$REPO" check-attr export-ignore -- bindings/php/src/Client.php)" = "bindings/php/src/Client.php: export-ignore: unspecified" ] ||
        fail "bindings/php/src/Client.php must be exported"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Nothing of the checkout may leak in: no UMS_* variable (the Makefile
# exports UMS_LIBRARY), so the library must be found inside the package.
clean_env=(env)
for name in $(compgen -e); do
    case "$name" in UMS_*) clean_env+=(-u "$name") ;; esac
done

# Starts "$@" with stdout+stderr on a pipe and reads it until a line matches
# $1 (a glob); the rest is copied to $log in the background. Sets
# $started_pid and $started_line (the line). Returns 1 if the program ended (or said nothing for 60 s)
# before such a line.
try_start() {
    local pattern="$1" log="$2" line
    shift 2
    exec {fd}< <(exec "$@" 2>&1)
    started_pid=$!
    pids+=("$started_pid")
    while IFS= read -r -t 60 line <&"$fd"; do
        echo "$line" >>"$log"
        # shellcheck disable=SC2053
        if [[ "$line" == $pattern ]]; then
            started_line="$line"
            cat <&"$fd" >>"$log" &
            exec {fd}<&-
            return 0
        fi
    done
    exec {fd}<&-
    return 1
}

start_and_wait() {
    try_start "$@" && return 0
    cat "$2" >&2
    fail "$3 never printed a line like '$1'"
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# The simulator; its first line is its URL.
start_and_wait 'ums-sandbox listening on http://127.0.0.1:*' "$work/sandbox.log" "$SANDBOX" --port 0
url="${started_line#ums-sandbox listening on }"
url="${url%% *}"

# 1. The Composer project: a copy of the package (symlink false), no packagist.
mkdir -p "$work/app/public"
cd "$work/app"
cat >composer.json <<EOF
{
    "name": "example/shop",
    "type": "project",
    "repositories": [
        {"type": "path", "url": "$HERE", "options": {"symlink": false}},
        {"packagist.org": false}
    ]
}
EOF
export COMPOSER_HOME="$work/composer-home" COMPOSER_CACHE_DIR="$work/composer-cache" COMPOSER_ALLOW_SUPERUSER=1
"${clean_env[@]}" composer require --no-interaction --no-progress --quiet "chinaums/ums:^${VERSION%.*}"
package="$work/app/vendor/chinaums/ums"
[ -d "$package" ] && [ ! -L "$package" ] || fail "vendor/chinaums/ums is not a copied directory"
[ -f "$package/lib/libums.so" ] || fail "the copied package has no lib/libums.so"
installed="$(php -r 'foreach (json_decode(file_get_contents("vendor/composer/installed.json"), true)["packages"] as $p) { if ($p["name"] === "chinaums/ums") echo $p["version"]; }')"
[ "$installed" = "$VERSION" ] || fail "composer installed chinaums/ums '$installed', expected $VERSION"

# The README's quickstart (the first ```php block of "### PHP"), with the
# simulator's URL for the one it names, then what it got.
php -r '
    [$readme, $url] = [file_get_contents($argv[1]), $argv[2]];
    $section = explode("\n### ", explode("\n### PHP", $readme, 2)[1], 2)[0];
    preg_match("/```php\n(.*?)```/s", $section, $m) or exit("no php block in the README section\n");
    preg_match_all("~http://127\.0\.0\.1:\d+~", $m[1], $named);
    count(array_unique($named[0])) === 1 or exit("the PHP quickstart must name one simulator URL\n");
    echo "<?php\n", str_replace($named[0][0], $url, $m[1]);
    echo "echo json_encode([\"errCode\" => \$answer[\"errCode\"], \"library\" => ChinaUms\\Internal\\Library::path()]), \"\\n\";\n";
' "$REPO/README.md" "$url" >quickstart.php
out="$("${clean_env[@]}" php quickstart.php)"
echo "test-package: composer quickstart printed $out"
expected="{\"errCode\":\"SUCCESS\",\"library\":\"${package//\//\\/}\\/lib\\/libums.so\"}"
[ "$out" = "$expected" ] || fail "expected $expected"

# 2. php-fpm. The page: update-qrcode twice (SUCCESS, then DUP_ORDER), the
# library the binding loaded, and whether the page itself may use FFI::cdef.
cat >public/update.php <<EOF
<?php
require __DIR__ . '/../vendor/autoload.php';
header('Content-Type: application/json');
if (\$_SERVER['QUERY_STRING'] === 'version') {  // --measure: the library's load alone
    exit(json_encode(['version' => ChinaUms\Internal\Library::version()]) . "\n");
}
try {
    FFI::cdef('int abs(int);');
    \$cdef = 'allowed';
} catch (Throwable \$e) {
    \$cdef = get_class(\$e) . ': ' . \$e->getMessage();
}
try {
    \$client = new ChinaUms\Client(['environment' => '$url', 'appId' => '10037e6f66f2d0f901672aa27d690006',
        'appKey' => '47ace12ae3b348fe93ab46cee97c6fde', 'msgSrcId' => '3194', 'mid' => '898340149000005', 'tid' => '00000001']);
    \$request = ['qrCodeId' => '31942002267733902130410550', 'billNo' => \$client->newId(),
        'billDate' => (new DateTime('now', new DateTimeZone('+08:00')))->format('Y-m-d'), 'totalAmount' => 26];
    \$answer = \$client->updateQrcode(\$request);
    try {
        \$client->updateQrcode(\$request);
        \$again = 'no error';
    } catch (ChinaUms\Exception\GatewayRejectedException \$e) {
        \$again = \$e->getMessage();
    }
    \$result = ['errCode' => \$answer['errCode'], 'again' => \$again, 'library' => ChinaUms\Internal\Library::path()];
} catch (ChinaUms\Exception\UmsException \$e) {
    \$result = ['error' => get_class(\$e) . ': ' . \$e->getMessage()];
}
echo json_encode(\$result + ['cdef' => \$cdef, 'ffi.enable' => ini_get('ffi.enable')], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
EOF
"${clean_env[@]}" vendor/bin/ums-ffi-header >"$work/ums-ffi.h"

free_port() {
    php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];'
}

# start_fpm NAME MAX_REQUESTS -d ...: php-fpm on a free loopback port with its
# own configuration in $work; sets $fpm_pid and $fpm_port. The port is free
# when chosen; if another program takes it first, a new one is tried.
start_fpm() {
    local name="$1" max_requests="$2" user_line="" root_flag=() preload_user=() attempt
    shift 2
    if [ "$(id -u)" = 0 ]; then
        user_line="user = root"
        root_flag=(-R)
        preload_user=(-d opcache.preload_user=root)
    fi
    for attempt in 1 2 3; do
        fpm_port="$(free_port)"
        cat >"$work/fpm-$name.conf" <<EOF
[global]
error_log = /proc/self/fd/2
log_level = notice
daemonize = no
[app]
$user_line
listen = 127.0.0.1:$fpm_port
pm = static
pm.max_children = 1
pm.max_requests = $max_requests
catch_workers_output = yes
decorate_workers_output = no
EOF
        : >"$work/fpm-$name.log"
        if try_start '*ready to handle connections*' "$work/fpm-$name.log" \
            "${clean_env[@]}" "$FPM" "${root_flag[@]}" --nodaemonize --fpm-config "$work/fpm-$name.conf" \
            -d opcache.enable=1 "${preload_user[@]}" "$@"; then
            fpm_pid="$started_pid"
            return 0
        fi
        grep -q 'Address already in use' "$work/fpm-$name.log" || break
    done
    cat "$work/fpm-$name.log" >&2
    fail "php-fpm ($name) did not start"
}

# The page's body (cgi-fcgi prints the headers, a blank line, the body).
# cgi-fcgi sends its whole environment as the request's parameters, which
# PHP's getenv() sees: only what a web server would send.
CGI_FCGI="$(command -v cgi-fcgi)"
fetch() {
    env -i SCRIPT_FILENAME="$work/app/public/update.php" REQUEST_METHOD=GET QUERY_STRING="${1:-}" \
        "$CGI_FCGI" -bind -connect "127.0.0.1:$fpm_port" | sed '1,/^\r\{0,1\}$/d'
}

restricted='"cdef":"FFI\\Exception: FFI API is restricted by \"ffi.enable\" configuration directive","ffi.enable":"preload"}'
success='{"errCode":"SUCCESS","again":"gateway_rejected: the gateway rejected the request with DUP_ORDER: an earlier request with the same identifier exists and this one did nothing; query the earlier one (errCode DUP_ORDER: 账单号重复) (HTTP 200)","library":'
preload=(-d ffi.enable=preload -d "opcache.preload=$package/preload.php")

# Preload: as root the workers load lib/libums.so themselves; otherwise the scope.
start_fpm preload 0 "${preload[@]}"
body="$(fetch)"
stop "$fpm_pid"
echo "test-package: php-fpm with preload.php served $body"
if [ "$(id -u)" = 0 ]; then library="\"$package/lib/libums.so\""; else library="\"FFI::scope('ums') (opcache.preload)\""; fi
[ "$body" = "$success$library,$restricted" ] || fail "unexpected page (log: $(cat "$work/fpm-preload.log"))"

# Preload and ffi.preload: the scope, whoever starts php-fpm.
start_fpm ffi-preload 0 "${preload[@]}" -d "ffi.preload=$work/ums-ffi.h"
body="$(fetch)"
stop "$fpm_pid"
echo "test-package: php-fpm with preload.php and ffi.preload served $body"
[ "$body" = "$success\"FFI::scope('ums') (opcache.preload)\",$restricted" ] || fail "unexpected page (log: $(cat "$work/fpm-ffi-preload.log"))"

# No preload: the binding says why it cannot load, and how to fix it.
start_fpm none 0 -d ffi.enable=preload
body="$(fetch)"
stop "$fpm_pid"
echo "test-package: php-fpm without preload served $body"
case "$body" in
    '{"error":"ChinaUms\\Exception\\LibraryException: library_unavailable: FFI is restricted by ffi.enable=preload in the fpm-fcgi SAPI: preload the binding with opcache.preload='*'/preload.php'*"$restricted") ;;
    *) fail "expected the LibraryException naming preload.php" ;;
esac

if [ "$MEASURE" -gt 0 ]; then
    # A fresh worker per request (pm.max_requests = 1) whose page loads the
    # binding and libums and asks its version: what a new process pays.
    measure() {
        local name="$1" start end i
        shift
        start_fpm "measure-$name" 1 "$@"
        fetch version >/dev/null  # the first worker was forked before any request
        start="$(date +%s%N)"
        for ((i = 0; i < MEASURE; i++)); do
            [ "$(fetch version)" = "{\"version\":\"$VERSION\"}" ] || fail "measure $name: a request failed"
        done
        end="$(date +%s%N)"
        stop "$fpm_pid"
        awk -v name="$name" -v n="$MEASURE" -v ns="$((end - start))" 'BEGIN {
            printf "test-package: measure %-12s %d requests, each in a fresh worker: %.2f ms per request\n", name, n, ns / n / 1e6 }'
    }
    measure preload "${preload[@]}"
    measure ffi-preload "${preload[@]}" -d "ffi.preload=$work/ums-ffi.h"
    measure ffi-enable-1 -d ffi.enable=1
fi

echo "php package: ok"
