#!/usr/bin/env bash
# make test-install: `make install PREFIX=$tmp` into a temporary prefix, then,
# from a temporary directory outside the repository, tests/install/app.c
#   (a) built with `cc $(pkg-config --cflags --libs ums)` (shared libums),
#   (b) built with `pkg-config --static` against libums.a,
#   (c) built by CMake with find_package(ums) and ums::ums,
#   (d) built by CMake with ums::ums_static,
# and find_package(ums <next major>) must fail (umsConfigVersion.cmake);
# each run against one ums-sandbox simulator (UMS_SANDBOX). Prints
# "N passed, N failed"; exits non-zero if any failed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
src="$repo/tests/install"
sandbox=${UMS_SANDBOX:-$repo/target/release/ums-sandbox}
CC=${CC:-cc}
MAKE=${MAKE:-make}

tmp=$(mktemp -d)
work=$(mktemp -d)
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null
        wait "$sim_pid" 2>/dev/null
    fi
    rm -rf "$tmp" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
check() { # NAME COMMAND...
    local name=$1
    shift
    echo "== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $name" >&2
        failed=$((failed + 1))
    fi
}

case "$work" in "$repo"/*) echo "test-install: $work is inside the repository" >&2; exit 1 ;; esac

echo "== make install PREFIX=$tmp"
"$MAKE" -s -C "$repo" install PREFIX="$tmp" >"$work/install.log" 2>&1 || {
    cat "$work/install.log" >&2
    echo "0 passed, 1 failed"
    exit 1
}
(cd "$tmp" && find . ! -type d | sort | sed 's|^\./|  |')
export PKG_CONFIG_PATH="$tmp/lib/pkgconfig"

# The simulator, on a free port; its first line names the base URL.
"$sandbox" --port 0 >"$work/sandbox.out" 2>&1 &
sim_pid=$!
url=""
for _ in $(seq 100); do
    url=$(sed -n '1s/^ums-sandbox listening on \(http:[^ ]*\).*/\1/p' "$work/sandbox.out" 2>/dev/null)
    [ -n "$url" ] && break
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "test-install: $sandbox did not start:" >&2
    cat "$work/sandbox.out" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
echo "simulator at $url"

cd "$work"
cp "$src/app.c" "$src/CMakeLists.txt" .
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror"

pc_shared() {
    pkg-config --exists --print-errors ums &&
        [ "$(pkg-config --variable=prefix ums)" = "$tmp" ] &&
        # shellcheck disable=SC2046
        $CC $CFLAGS app.c -o app_pc $(pkg-config --cflags --libs ums) -Wl,-rpath,"$tmp/lib" &&
        readelf -d app_pc | grep -q "NEEDED.*libums\.so\." &&
        ./app_pc "$url"
}

pc_static() {
    # -Wl,-Bstatic -lums: libums.a, not the libums.so beside it.
    # shellcheck disable=SC2046
    $CC $CFLAGS app.c -o app_static $(pkg-config --cflags ums) \
        -L"$tmp/lib" -Wl,-Bstatic -lums -Wl,-Bdynamic $(pkg-config --static --libs-only-other --libs-only-l ums | sed 's/-lums\b//') &&
        ! readelf -d app_static | grep -q "NEEDED.*libums" &&
        ./app_static "$url"
}

cmake_build() { # DIR TARGET
    local dir=$1 target=$2
    cmake -S . -B "$dir" -DCMAKE_PREFIX_PATH="$tmp" -DUMS_TARGET="$target" \
        -DUMS_FIND_VERSION="$(pkg-config --modversion ums)" >"$dir.log" 2>&1 &&
        cmake --build "$dir" >>"$dir.log" 2>&1 || {
        cat "$dir.log" >&2
        return 1
    }
}

cmake_shared() {
    cmake_build build-shared ums::ums &&
        readelf -d build-shared/app | grep -q "NEEDED.*libums\.so\." &&
        build-shared/app "$url"
}

cmake_static() {
    cmake_build build-static ums::ums_static &&
        ! readelf -d build-static/app | grep -q "NEEDED.*libums" &&
        build-static/app "$url"
}

cmake_too_new() { # umsConfigVersion.cmake turns down a version it is not
    local v
    v=$(pkg-config --modversion ums) || return 1
    ! cmake -S . -B build-too-new -DCMAKE_PREFIX_PATH="$tmp" -DUMS_FIND_VERSION="$((${v%%.*} + 1)).0" \
        >build-too-new.log 2>&1 &&
        grep -q "ums" build-too-new.log
}

check "pkg-config, shared libums" pc_shared
check "pkg-config --static, libums.a" pc_static
check "CMake find_package(ums), ums::ums" cmake_shared
check "CMake find_package(ums), ums::ums_static" cmake_static
check "CMake find_package(ums NEXT_MAJOR) rejected" cmake_too_new

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
