#!/usr/bin/env bash
# Builds the Java binding into bindings/java/build/ (the JNI glue
# libumsjni.so, the classes, the tests and examples/java) and runs every test
# and example. The last line is "N passed, N failed"; the exit status is
# non-zero on any failure.
#
#   bindings/java/run-tests.sh                  build and run everything
#   bindings/java/run-tests.sh Adapter Json     only tests whose name contains a word
#   bindings/java/run-tests.sh --prepare-vector build, then print prepare() of the
#                                               cross-language request as one JSON line
#
# Environment: UMS_LIBRARY (default <repo>/target/release/libums.so; run
# `make lib` first). Needs javac/java (JDK 17 or newer; sources are Java 8)
# and gcc.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUILD="$HERE/build"
UMS_LIBRARY="${UMS_LIBRARY:-$REPO/target/release/libums.so}"

# A build step that fails still ends with the summary line.
fail() {
    echo "run-tests.sh: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}
trap 'fail "a build step failed (line $LINENO)"' ERR

[ -f "$UMS_LIBRARY" ] || fail "libums not found at $UMS_LIBRARY: run 'make lib' or set UMS_LIBRARY"
command -v javac >/dev/null || fail "javac not found (install openjdk-17-jdk-headless)"
command -v gcc >/dev/null || fail "gcc not found"

JAVAC="$(readlink -f "$(command -v javac)")"
JDK="$(dirname "$(dirname "$JAVAC")")"
JAVA="$JDK/bin/java"
[ -f "$JDK/include/jni.h" ] || fail "no jni.h under $JDK/include (a JDK, not a JRE, is needed)"

LIBDIR="$(cd "$(dirname "$UMS_LIBRARY")" && pwd)"
LIBFILE="$LIBDIR/$(basename "$UMS_LIBRARY")"

rm -rf "$BUILD"
mkdir -p "$BUILD/classes" "$BUILD/test-classes" "$BUILD/examples"

# libums's SONAME is libums.so.0 (`make lib` links it next to libums.so). When
# that link or the libums.so name is missing, make both in build/native.
LINKDIR="$LIBDIR"
if [ "$(basename "$LIBFILE")" != "libums.so" ] || [ ! -e "$LIBDIR/libums.so.0" ]; then
    LINKDIR="$BUILD/native"
    mkdir -p "$LINKDIR"
    ln -sf "$LIBFILE" "$LINKDIR/libums.so"
    ln -sf "$LIBFILE" "$LINKDIR/libums.so.0"
fi

gcc -std=c99 -O2 -g -Wall -Wextra -Werror -fPIC -shared \
    -I"$JDK/include" -I"$JDK/include/linux" -I"$REPO/include" \
    "$HERE/native/ums_jni.c" -o "$BUILD/libumsjni.so" \
    -L"$LINKDIR" -lums -Wl,-rpath,"$LINKDIR" -Wl,-z,defs

JAVAC_FLAGS=(--release 8 -encoding UTF-8 -Xlint:all -Xlint:-options -Werror)
javac "${JAVAC_FLAGS[@]}" -d "$BUILD/classes" \
    $(find "$HERE/src/main/java" -name '*.java' | sort)
javac "${JAVAC_FLAGS[@]}" -cp "$BUILD/classes" -d "$BUILD/test-classes" \
    $(find "$HERE/src/test/java" -name '*.java' | sort)
javac "${JAVAC_FLAGS[@]}" -cp "$BUILD/classes" -d "$BUILD/examples" \
    "$REPO"/examples/java/*.java
trap - ERR

# UTF-8 output whatever the locale; -Xcheck:jni makes the JVM check every JNI call of the glue.
JVM_FLAGS=(-Dfile.encoding=UTF-8 -Dsun.stdout.encoding=UTF-8 -Dsun.stderr.encoding=UTF-8
           -Dums.jni.library="$BUILD/libumsjni.so")
CP="$BUILD/classes:$BUILD/test-classes"

if [ "${1:-}" = "--prepare-vector" ]; then
    exec "$JAVA" "${JVM_FLAGS[@]}" -cp "$CP" com.chinaums.ums.tests.PrepareVector
fi

# The adapter's UMS_* overrides must not leak in from the caller's shell.
exec env -u UMS_ENVIRONMENT -u UMS_APP_ID -u UMS_APP_KEY \
    "$JAVA" "${JVM_FLAGS[@]}" -Xcheck:jni \
    -Dums.repo="$REPO" \
    -Dums.test.classes="$CP" \
    -Dums.test.examples="$BUILD/examples" \
    -cp "$CP" com.chinaums.ums.tests.TestRunner "$@"
