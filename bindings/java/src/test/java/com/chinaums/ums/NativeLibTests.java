package com.chinaums.ums;

import com.chinaums.ums.tests.Fixtures;
import com.chinaums.ums.tests.T;
import java.io.File;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Package-private parts of the binding (same package, test tree). */
public final class NativeLibTests {
    private NativeLibTests() {
    }

    public static void testVersionCheckNeedsSameMajorMinor() {
        T.check(NativeLib.versionMatches("0.1.0"), "0.1.0");
        T.check(NativeLib.versionMatches("0.1.17"), "0.1.17");
        T.check(NativeLib.versionMatches("0.1"), "0.1");
        T.check(!NativeLib.versionMatches("0.10.0"), "0.10.0 is another minor");
        T.check(!NativeLib.versionMatches("0.2.0"), "0.2.0");
        T.check(!NativeLib.versionMatches("1.1.0"), "1.1.0");
        T.check(!NativeLib.versionMatches(""), "empty");
    }

    /**
     * The jar's native folder is named as build-jar.sh names it
     * (native/linux-x86_64/ on this machine); the test class path carries
     * none, so these tests load the glue named by -Dums.jni.library.
     */
    public static void testBundledNativesFolderNamesThePlatform() {
        String folder = BundledNatives.folder();
        T.check(folder.matches("native/[a-z0-9]+-[a-z0-9_]+/"), "folder " + folder);
        if (System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64")) {
            T.eq("native/linux-x86_64/", folder, "Linux on amd64");
        }
        T.check(!BundledNatives.present(), "the test class path carries no native folder");
    }

    /** The glue reports a document it could not deliver as an InternalException. */
    public static void testEmptyDocumentBecomesInternalException() {
        UmsException e = UmsException.fromDocument(UmsStatus.BUFFER_TOO_SMALL, "");
        T.eq(InternalException.class, e.getClass(), "class");
        T.contains(e.getMessage(), "buffer", "message");
    }

    public static void testTextConversionRefusesWhatCIsCannotCarry() throws Exception {
        T.eq(6, Text.utf8("鸡蛋", "x").length, "UTF-8, not modified UTF-8");
        T.eq(4, Text.utf8("😀", "x").length, "a supplementary character is 4 bytes");
        T.check(Text.utf8OrNull(null, "x") == null, "optional null stays null");
    }

    private static String read(String path) throws Exception {
        return new String(Files.readAllBytes(new File(Fixtures.repo(), path).toPath()), StandardCharsets.UTF_8);
    }

    /** The header's operation exports: (client, request JSON, output buffer), white space normalised. */
    static Set<String> headerOperationExports() throws Exception {
        String flat = read("include/ums.h").replaceAll("\\s+", " ");
        Matcher m = Pattern.compile("UmsStatus (ums_\\w+)\\(const struct UmsClient \\*client, const char \\*request_json,"
                + " char \\*out_buf, size_t out_cap, size_t \\*out_len\\);").matcher(flat);
        Set<String> names = new TreeSet<String>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** NativeLib.OP_*: the export names UmsClient passes to the glue. */
    static Set<String> javaOperationExports() throws Exception {
        Set<String> names = new TreeSet<String>();
        for (Field f : NativeLib.class.getDeclaredFields()) {
            if (f.getName().startsWith("OP_") && Modifier.isStatic(f.getModifiers())) {
                T.eq(String.class, f.getType(), f.getName() + " is a name");
                T.check(names.add((String) f.get(null)), f.getName() + " repeats a name");
            }
        }
        return names;
    }

    /**
     * Operations are passed to the glue by export name, not by index: the
     * names of NativeLib.OP_*, the glue's OPS[] (ums_jni.c) and the
     * operation exports of include/ums.h are the same set, each has its
     * UmsClient method (camelCased name), and the glue runs each one.
     */
    public static void testOperationExportsMatchHeaderGlueAndClient() throws Exception {
        Set<String> header = headerOperationExports();
        T.check(header.size() >= 10, "operation exports in the header: " + header);
        T.eq(header, javaOperationExports(), "NativeLib.OP_* vs include/ums.h");
        Matcher m = Pattern.compile("\\bOP\\((ums_\\w+)\\)").matcher(read("bindings/java/native/ums_jni.c"));
        Set<String> glue = new TreeSet<String>();
        while (m.find()) {
            glue.add(m.group(1));
        }
        T.eq(header, glue, "OPS[] of ums_jni.c vs include/ums.h");
        for (String name : header) {
            StringBuilder camel = new StringBuilder();
            for (String part : name.substring(4).split("_")) {
                camel.append(camel.length() == 0 ? part : Character.toUpperCase(part.charAt(0)) + part.substring(1));
            }
            Method text = UmsClient.class.getMethod(camel.toString(), String.class);
            T.eq(String.class, text.getReturnType(), camel + "(String)");
            UmsClient.class.getMethod(camel.toString(), Map.class);
            // A NULL client: the export runs and refuses it, nothing is sent.
            int[] status = new int[1];
            byte[] doc = NativeLib.operation(name, 0L, "{}".getBytes(StandardCharsets.UTF_8), status);
            T.eq(UmsStatus.NULL_POINTER, status[0], name + " through the glue");
            T.contains(new String(doc, StandardCharsets.UTF_8), "UMS_ERR_NULL_POINTER", name + " document");
        }
        for (final String other : new String[] {"ums_client_free", "ums_call", "ums_no_such_export", ""}) {
            IllegalArgumentException e = T.expect(IllegalArgumentException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    NativeLib.operation(other, 0L, "{}".getBytes(StandardCharsets.UTF_8), new int[1]);
                }
            });
            T.contains(e.getMessage(), "\"" + other + "\"", "the glue names the refused export");
        }
    }

    /** Every error status of include/ums.h maps to its own exception class. */
    public static void testEveryHeaderErrorStatusHasItsExceptionClass() throws Exception {
        Matcher m = Pattern.compile("(?m)^#define (UMS_ERR_\\w+) (\\d+)").matcher(read("include/ums.h"));
        int count = 0;
        while (m.find()) {
            int status = Integer.parseInt(m.group(2));
            UmsException e = UmsException.fromDocument(status, "{}");
            boolean internal = e.getClass() == InternalException.class;
            // BUFFER_TOO_SMALL is handled by the glue; INTERNAL and PANIC are bugs.
            boolean expectedInternal = status == UmsStatus.BUFFER_TOO_SMALL || status == UmsStatus.INTERNAL
                    || status == UmsStatus.PANIC;
            T.eq(expectedInternal, internal, m.group(1) + " -> " + e.getClass().getSimpleName());
            T.eq(m.group(1), e.getStatusName(), "name of " + status);
            count++;
        }
        T.check(count >= 22, "error statuses in the header: " + count);
    }
}
