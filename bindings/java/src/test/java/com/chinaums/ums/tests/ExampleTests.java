package com.chinaums.ums.tests;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The examples in examples/java, run as separate JVMs like a user would. */
public final class ExampleTests {
    private ExampleTests() {
    }

    /** Exit status, stdout and stderr of a finished process. */
    static final class Run {
        int status;
        String out;
        String err;
    }

    static Run java(Map<String, String> extraEnv, String... args) throws Exception {
        List<String> cmd = new ArrayList<String>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.add("-cp");
        cmd.add(Fixtures.property("ums.test.classes") + File.pathSeparator
                + Fixtures.property("ums.test.examples"));
        // Decode the examples' Chinese output as UTF-8 whatever the locale.
        cmd.add("-Dfile.encoding=UTF-8");
        cmd.add("-Dsun.stdout.encoding=UTF-8");
        cmd.add("-Dsun.stderr.encoding=UTF-8");
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.remove("UMS_ENVIRONMENT");
        env.remove("UMS_APP_ID");
        env.remove("UMS_APP_KEY");
        env.put("UMS_JNI_LIBRARY", Fixtures.property("ums.jni.library"));
        env.putAll(extraEnv);
        Process p = pb.start();
        p.getOutputStream().close();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final InputStream errIn = p.getErrorStream();
        Thread drain = new Thread(new Runnable() {
            @Override
            public void run() {
                copy(errIn, err);
            }
        });
        drain.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        copy(p.getInputStream(), out);
        if (!p.waitFor(50, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("example did not finish: " + cmd);
        }
        drain.join(5000);
        Run r = new Run();
        r.status = p.exitValue();
        r.out = new String(out.toByteArray(), StandardCharsets.UTF_8);
        r.err = new String(err.toByteArray(), StandardCharsets.UTF_8);
        return r;
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    private static Map<String, String> env(String... pairs) {
        Map<String, String> m = new java.util.HashMap<String, String>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    /** The official sample, imports switched to the adapter, against the simulator. */
    public static void testSeedSampleRunsAgainstSandbox() throws Exception {
        Run r = java(env("UMS_ENVIRONMENT", "sandbox"), "OpenApiSdkTest");
        T.eq(0, r.status, "exit status (stderr: " + r.err + ")");
        T.contains(r.out, "\"errCode\":\"SUCCESS\"", "sample output");
        T.contains(r.out, "\"billNo\":\"8888\"", "the sample's bill");
        T.contains(r.out, "更新二维码成功", "UTF-8 output");
    }

    public static void testQuickstartRuns() throws Exception {
        Run r = java(env(), "Quickstart");
        T.eq(0, r.status, "exit status (stderr: " + r.err + ")");
        T.contains(r.out, "update-qrcode: SUCCESS", "first update");
        T.contains(r.out, "same billNo again: DUP_ORDER", "duplicate refused");
    }

    public static void testPrepareVectorPrintsOneJsonLine() throws Exception {
        Run r = java(env(), "com.chinaums.ums.tests.PrepareVector");
        T.eq(0, r.status, "exit status (stderr: " + r.err + ")");
        String line = r.out.trim();
        T.check(!line.contains("\n"), "one line");
        T.eq(PrepareVector.line(), line, "same as in-process");
        T.contains(line, "\"authorization\":\"OPEN-BODY-SIG AppId=", "authorization");
    }

    /** A missing JNI library gives a message saying where it looked. */
    public static void testMissingGlueLibraryIsExplained() throws Exception {
        Run r = java(env("UMS_JNI_LIBRARY", "/nonexistent/libumsjni.so"), "Quickstart");
        T.check(r.status != 0, "fails");
        T.contains(r.err, "UnsatisfiedLinkError", "error type");
        T.contains(r.err, "UMS_JNI_LIBRARY=/nonexistent/libumsjni.so", "says where it looked");
        r = java(env(), "-Dums.jni.library=/nowhere/libumsjni.so", "Quickstart");
        T.contains(r.err, "ums.jni.library=/nowhere/libumsjni.so", "the property wins over the variable");
    }
}
