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
# Environment: UMS_LIBRARY (default <repo>/target/release/libums.so) and
# UMS_SANDBOX (the ums-sandbox simulator, default
# <repo>/target/release/ums-sandbox; the tests start one for the run, a few
# more where they need a fresh one, and stop them); run `make lib` first.
# Needs javac/java (JDK 17 or newer; sources are Java 8), gcc and readelf.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUILD="$HERE/build"
UMS_LIBRARY="${UMS_LIBRARY:-$REPO/target/release/libums.so}"
export UMS_SANDBOX="${UMS_SANDBOX:-$REPO/target/release/ums-sandbox}"

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

# Only this script's outputs: build/jar and the jar (build-jar.sh) stay.
rm -rf "$BUILD/classes" "$BUILD/test-classes" "$BUILD/examples" "$BUILD/native" "$BUILD/libumsjni.so"
mkdir -p "$BUILD/classes" "$BUILD/test-classes" "$BUILD/examples"

# The glue is linked with -lums and loads libums by its SONAME (libums.so.0.1
# for 0.1.x; `make lib` links it next to libums.so). When that link or the
# libums.so name is missing, make both in build/native.
SONAME="$(readelf -d "$LIBFILE" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')"
[ -n "$SONAME" ] || fail "cannot read the SONAME of $LIBFILE (readelf, from binutils, is needed)"
LINKDIR="$LIBDIR"
if [ "$(basename "$LIBFILE")" != "libums.so" ] || [ ! -e "$LIBDIR/$SONAME" ]; then
    LINKDIR="$BUILD/native"
    mkdir -p "$LINKDIR"
    ln -sf "$LIBFILE" "$LINKDIR/libums.so"
    ln -sf "$LIBFILE" "$LINKDIR/$SONAME"
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

[ -x "$UMS_SANDBOX" ] || { echo "ums-sandbox not found at $UMS_SANDBOX: run 'make lib' or set UMS_SANDBOX" >&2;
                           echo "0 passed, 1 failed"; exit 1; }

# The adapter's clients read every UMS_* variable that names a config key
# ("fromEnvironment"): none may come from the caller's shell. The tests set
# them, in JVMs of their own, where they need them.
for name in $(compgen -e); do
    case "$name" in
        UMS_LIBRARY|UMS_SANDBOX) ;;
        UMS_*) unset "$name" ;;
    esac
done
exec "$JAVA" "${JVM_FLAGS[@]}" -Xcheck:jni \
    -Dums.repo="$REPO" \
    -Dums.test.classes="$CP" \
    -Dums.test.examples="$BUILD/examples" \
    -cp "$CP" com.chinaums.ums.tests.TestRunner "$@"
