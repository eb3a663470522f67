#!/usr/bin/env bash
# Builds bindings/java/build/chinaums-<version>.jar (`make java-jar`): the
# binding's classes compiled `javac --release 8`, and under
# native/<os>-<arch>/ (e.g. native/linux-x86_64/) the JNI glue libumsjni.so,
# libums under its SONAME (libums.so.0.1) and the list `libraries`
# (`<sha256> <file>` in load order). At first use the binding extracts them to
# a private temporary directory and loads them (BundledNatives.java): users
# need only `java -cp chinaums-<version>.jar:. App`, no -D flag and no
# LD_LIBRARY_PATH.
#
#   bindings/java/build-jar.sh          prints the jar's path on its last line
#
# Environment: UMS_LIBRARY, the libums.so to bundle (default
# <repo>/target/release/libums.so: run `make lib` first). Needs a JDK 9 or
# newer (javac --release 8, jar), gcc, readelf and sha256sum.
# The version is the workspace version of Cargo.toml. Staging files go to
# bindings/java/build/jar/ (resources/ is what bindings/java/pom.xml packs
# next to the classes).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUILD="$HERE/build"
STAGE="$BUILD/jar"
UMS_LIBRARY="${UMS_LIBRARY:-$REPO/target/release/libums.so}"

die() {
    echo "build-jar.sh: $*" >&2
    exit 1
}

VERSION="$(sed -n 's/^version = "\([0-9][0-9.]*\)".*/\1/p' "$REPO/Cargo.toml" | head -n 1)"
[ -n "$VERSION" ] || die "no version in $REPO/Cargo.toml"
[ -f "$UMS_LIBRARY" ] || die "libums not found at $UMS_LIBRARY: run 'make lib' or set UMS_LIBRARY"
command -v javac >/dev/null || die "javac not found (install openjdk-17-jdk-headless)"
command -v gcc >/dev/null || die "gcc not found"
JDK="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
[ -f "$JDK/include/jni.h" ] || die "no jni.h under $JDK/include (a JDK, not a JRE, is needed)"

# The folder name BundledNatives.platform() computes from os.name/os.arch.
case "$(uname -s)" in
    Linux) OS=linux ;;
    *) die "only Linux builds are supported (uname -s: $(uname -s))" ;;
esac
case "$(uname -m)" in
    x86_64 | amd64) ARCH=x86_64 ;;
    aarch64 | arm64) ARCH=aarch64 ;;
    *) ARCH="$(uname -m | tr -cd 'a-z0-9_')" ;;
esac
PLATFORM="$OS-$ARCH"

LIBFILE="$(readlink -f "$UMS_LIBRARY")"
SONAME="$(readelf -d "$LIBFILE" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')"
[ -n "$SONAME" ] || die "cannot read the SONAME of $LIBFILE (readelf, from binutils, is needed)"

rm -rf "$STAGE"
NATIVE="$STAGE/resources/native/$PLATFORM"
mkdir -p "$STAGE/classes" "$STAGE/link" "$NATIVE" "$STAGE/meta/META-INF"

# libums under its SONAME: the name the glue records as its dependency, so
# that once libums is loaded the loader finds it by that name.
cp "$LIBFILE" "$NATIVE/$SONAME"
ln -s "$NATIVE/$SONAME" "$STAGE/link/libums.so"

# The glue, linked against that copy. Its run path is $ORIGIN (the folder it
# is extracted to) and nothing of this machine.
gcc -std=c99 -O2 -Wall -Wextra -Werror -fPIC -shared \
    -I"$JDK/include" -I"$JDK/include/linux" -I"$REPO/include" \
    "$HERE/native/ums_jni.c" -o "$NATIVE/libumsjni.so" \
    -L"$STAGE/link" -lums -Wl,-rpath,'$ORIGIN' -Wl,-z,defs
rm -rf "$STAGE/link"

# Load order: libums first, then the glue that needs it.
(cd "$NATIVE" && sha256sum "$SONAME" libumsjni.so | sed 's/ [ *]/ /' >libraries)

javac --release 8 -encoding UTF-8 -Xlint:all -Xlint:-options -Werror -d "$STAGE/classes" \
    $(find "$HERE/src/main/java" -name '*.java' | sort)

cp "$REPO/LICENSE-MIT" "$REPO/LICENSE-APACHE" "$STAGE/meta/META-INF/"
cat >"$STAGE/manifest.txt" <<EOF
Implementation-Title: chinaums
Implementation-Version: $VERSION
Automatic-Module-Name: com.chinaums.ums
EOF

JAR="$BUILD/chinaums-$VERSION.jar"
rm -f "$JAR"
jar --create --file "$JAR" --manifest "$STAGE/manifest.txt" \
    -C "$STAGE/classes" . -C "$STAGE/resources" . -C "$STAGE/meta" .
echo "build-jar.sh: $(du -k "$JAR" | cut -f1) KiB, classes for Java 8, natives for $PLATFORM ($SONAME, libumsjni.so)"
echo "$JAR"
