#!/usr/bin/env bash
# `make test-java-jar`: the jar as a user gets it. Builds
# bindings/java/build/chinaums-<version>.jar (build-jar.sh), copies it alone
# into a new temporary directory outside the repository, and there:
#
#  1. checks its classes are Java 8 class files (major version 52) and that
#     it carries the glue and libums for this platform;
#  2. compiles a quickstart with `javac -cp chinaums.jar`, starts the
#     ums-sandbox simulator, and runs `java -cp chinaums.jar:. Quickstart URL`
#     with an emptied environment (no UMS_LIBRARY, UMS_JNI_LIBRARY,
#     LD_LIBRARY_PATH, JAVA_TOOL_OPTIONS; no -D flag): the update-qrcode must
#     answer SUCCESS;
#  3. starts two JVMs that both wait at a barrier (each says "ready" through a
#     FIFO, then blocks reading its stdin; the script closes the stdin pipe
#     once both are ready), so both extract and load the jar's libraries at
#     the same moment; both must succeed, and leave no extracted file behind
#     in their java.io.tmpdir.
#
# Environment: UMS_SANDBOX (default <repo>/target/release/ums-sandbox) and
# UMS_LIBRARY (what build-jar.sh bundles). Run `make lib` first.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SANDBOX="${UMS_SANDBOX:-$REPO/target/release/ums-sandbox}"

fail() {
    echo "test-jar.sh: FAILED: $*" >&2
    exit 1
}

[ -x "$SANDBOX" ] || fail "ums-sandbox not found at $SANDBOX: run 'make lib' or set UMS_SANDBOX"
JAR="$("$HERE/build-jar.sh" | tail -n 1)"
[ -f "$JAR" ] || fail "build-jar.sh made no jar"
JAVA_BIN="$(dirname "$(readlink -f "$(command -v javac)")")"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/chinaums-jar-test.XXXXXX")"
sandbox_pid=""
cleanup() {
    if [ -n "$sandbox_pid" ]; then
        kill "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
case "$WORK" in "$REPO"/*) fail "the temporary directory $WORK is inside the repository" ;; esac
cp "$JAR" "$WORK/chinaums.jar"
cd "$WORK"

# A command with nothing of the caller's environment but PATH and HOME.
clean() {
    env -i PATH="$JAVA_BIN:/usr/bin:/bin" HOME="$WORK" LANG=C.UTF-8 "$@"
}

# 1. What the jar holds.
clean "$JAVA_BIN/javap" -cp chinaums.jar -v com.chinaums.ums.UmsClient | grep -q 'major version: 52' ||
    fail "com.chinaums.ums.UmsClient is not a Java 8 class file (major version 52)"
listing="$(clean "$JAVA_BIN/jar" tf chinaums.jar)"
for entry in native/linux-x86_64/libraries native/linux-x86_64/libumsjni.so META-INF/LICENSE-MIT; do
    grep -qx "$entry" <<<"$listing" || [ "$(uname -m)" != x86_64 ] || fail "the jar lacks $entry"
done
echo "test-jar.sh: $(basename "$JAR"): Java 8 classes, $(grep -c '^native/.*\.so' <<<"$listing") native libraries"

# The pom describes the same artefact: same version as Cargo.toml (and, where
# Maven is installed, a valid model: `validate` needs no download).
pom_version="$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' "$HERE/pom.xml")"
[ "chinaums-$pom_version.jar" = "$(basename "$JAR")" ] || fail "pom.xml says version $pom_version, the jar is $(basename "$JAR")"
if command -v mvn >/dev/null; then
    mvn -B -o -q -f "$HERE/pom.xml" validate >mvn.log 2>&1 ||
        fail "mvn validate refuses bindings/java/pom.xml: $(cat mvn.log)"
fi

# 2. The quickstart of the README, with the simulator's URL.
cat >Quickstart.java <<'EOF'
import com.chinaums.ums.*;

public class Quickstart {
    public static void main(String[] args) throws UmsException {
        String config = "{\"environment\":\"" + args[0] + "\",\"appId\":\"10037e6f66f2d0f901672aa27d690006\","
                + "\"appKey\":\"47ace12ae3b348fe93ab46cee97c6fde\",\"mid\":\"898340149000005\",\"tid\":\"00000001\","
                + "\"msgSrcId\":\"3194\"}";
        try (UmsClient client = new UmsClient(config)) {
            String answer = client.updateQrcode("{\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\""
                    + client.newId() + "\",\"totalAmount\":26}");    // billDate: today in Beijing
            System.out.println(answer);
        }
    }
}
EOF
# Race: Quickstart behind a barrier. It says "ready" in the FIFO args[1],
# waits for the end of its stdin, then loads the library (first use) and calls.
cat >Race.java <<'EOF'
import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;

public class Race {
    public static void main(String[] args) throws Exception {
        try (FileOutputStream ready = new FileOutputStream(args[1])) {
            ready.write("ready\n".getBytes(StandardCharsets.US_ASCII));
        }
        while (System.in.read() != -1) {
            // the barrier: the script closes the pipe once every JVM is ready
        }
        Quickstart.main(new String[] {args[0]});
    }
}
EOF
clean "$JAVA_BIN/javac" -cp chinaums.jar Quickstart.java Race.java

coproc SIM { exec "$SANDBOX" --port 0 --quiet; }
sandbox_pid=$SIM_PID
line=""
IFS= read -r -t 60 line <&"${SIM[0]}" || true
[[ "$line" == "ums-sandbox listening on http://"* ]] || fail "the simulator did not start (first line: \"$line\")"
url="${line#ums-sandbox listening on }"

out="$(clean "$JAVA_BIN/java" -cp chinaums.jar:. Quickstart "$url")" || fail "java -cp chinaums.jar:. Quickstart: $out"
grep -q '"errCode":"SUCCESS"' <<<"$out" || fail "update-qrcode did not succeed: $out"
echo "test-jar.sh: java -cp chinaums.jar:. Quickstart -> update-qrcode SUCCESS"

# A damaged jar (a library whose SHA-256 is not the listed one) is refused
# with a clear error before anything is loaded, not a crash.
platform="$(grep -m1 '^native/.*/libraries$' <<<"$listing")"
mkdir damaged
(cd damaged && clean "$JAVA_BIN/jar" xf ../chinaums.jar "$platform")
cp "damaged/$platform" original-libraries
sed -i "1s/^[0-9a-f]*/$(printf '%064d' 0)/" "damaged/$platform"
! cmp -s "damaged/$platform" original-libraries || fail "the damaged list is the original"
cp chinaums.jar damaged.jar
clean "$JAVA_BIN/jar" uf damaged.jar -C damaged "$platform"
if out="$(clean "$JAVA_BIN/java" -cp damaged.jar:. Quickstart "$url" 2>&1)"; then
    fail "a damaged jar ran: $out"
fi
grep -q 'UnsatisfiedLinkError: cannot load the libums JNI glue.*is damaged: SHA-256' <<<"$out" ||
    fail "a damaged jar did not say so: $out"
echo "test-jar.sh: a damaged library in the jar -> UnsatisfiedLinkError naming it"

# 3. Two JVMs loading the jar's libraries at the same moment.
mkdir tmp
mkfifo go ready
exec 4<>ready # held open read-write: the JVMs' writes never block, nor see no reader
clean "$JAVA_BIN/java" -Djava.io.tmpdir="$WORK/tmp" -cp chinaums.jar:. Race "$url" "$WORK/ready" <go >race1.out 2>&1 &
pid1=$!
clean "$JAVA_BIN/java" -Djava.io.tmpdir="$WORK/tmp" -cp chinaums.jar:. Race "$url" "$WORK/ready" <go >race2.out 2>&1 &
pid2=$!
exec 3>go # lets both JVMs open their stdin
for _ in 1 2; do
    IFS= read -r -t 120 word <&4 && [ "$word" = ready ] || fail "a JVM did not get ready: $(cat race1.out race2.out)"
done
exec 3>&- # the barrier opens: both see the end of their stdin at once
status=0
wait "$pid1" || status=1
wait "$pid2" || status=1
[ "$status" = 0 ] || fail "a racing JVM failed: $(cat race1.out race2.out)"
for f in race1.out race2.out; do
    grep -q '"errCode":"SUCCESS"' "$f" || fail "$f: $(cat "$f")"
done
bill1="$(sed -n 's/.*"billNo":"\([0-9]*\)".*/\1/p' race1.out)"
bill2="$(sed -n 's/.*"billNo":"\([0-9]*\)".*/\1/p' race2.out)"
[ -n "$bill1" ] && [ "$bill1" != "$bill2" ] || fail "the two JVMs' bills: '$bill1' '$bill2'"
left="$(find tmp -mindepth 1)"
[ -z "$left" ] || fail "extracted files left behind: $left"
echo "test-jar.sh: two JVMs loaded the jar at once: both SUCCESS, nothing left in java.io.tmpdir"
echo "test-jar.sh: passed"
