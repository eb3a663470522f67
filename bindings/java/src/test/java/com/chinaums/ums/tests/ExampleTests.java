package com.chinaums.ums.tests;

import static com.chinaums.ums.tests.Fixtures.env;

import com.chinaums.ums.tests.Fixtures.Run;

/** The examples in examples/java, run as separate JVMs like a user would. */
public final class ExampleTests {
    private ExampleTests() {
    }

    /**
     * The official sample (imports switched to the adapter, the simulator's
     * demo app as its credentials, the page's production URL) on a simulator
     * of its own (its billNo is the page's fixed 8888), redirected there by
     * UMS_ENVIRONMENT; a second run is refused as DUP_ORDER by the same one.
     */
    public static void testSeedSampleRunsAgainstTheSimulatorViaUmsEnvironment() throws Exception {
        try (Simulator own = Simulator.start()) {
            Run r = Fixtures.runJava(env("UMS_ENVIRONMENT", own.url()), "OpenApiSdkTest");
            T.eq(0, r.status, "exit status (stderr: " + r.err + ")");
            T.contains(r.out, "\"errCode\":\"SUCCESS\"", "sample output");
            T.contains(r.out, "\"billNo\":\"8888\"", "the sample's bill");
            T.contains(r.out, "更新二维码成功", "UTF-8 output");
            r = Fixtures.runJava(env("UMS_ENVIRONMENT", own.url()), "OpenApiSdkTest");
            T.eq(0, r.status, "exit status (stderr: " + r.err + ")");
            T.contains(r.out, "\"errCode\":\"DUP_ORDER\"", "the same simulator saw the first run");
        }
    }

    /**
     * UMS_* variables that contradict the sample's code are refused, naming
     * the key; so is a UMS_ENVIRONMENT other than the simulator's.
     */
    public static void testSeedSampleRefusesContradictingVariables() throws Exception {
        Run r = Fixtures.runJava(env("UMS_ENVIRONMENT", Simulator.shared().url(), "UMS_APP_ID", "another-app"),
                "OpenApiSdkTest");
        T.check(r.status != 0, "fails");
        T.contains(r.err, "ConfigException", "exception");
        T.contains(r.err, "appId", "names the key");
        T.lacks(r.err + r.out, Fixtures.DEMO_APP_KEY, "the appKey");
        // The sample implies production: only the simulator (a loopback URL)
        // may replace it; "sandbox" is not an environment at all.
        for (String other : new String[] {"test", "sandbox"}) {
            r = Fixtures.runJava(env("UMS_ENVIRONMENT", other), "OpenApiSdkTest");
            T.check(r.status != 0, "UMS_ENVIRONMENT=" + other + " fails");
            T.contains(r.err, "ConfigException", "exception");
            T.contains(r.err, "environment", "names the key");
            T.lacks(r.err + r.out, Fixtures.DEMO_APP_KEY, "the appKey");
        }
    }

    public static void testQuickstartRunsAgainstTheSimulatorUrlArgument() throws Exception {
        Run r = Fixtures.runJava(env(), "Quickstart", Simulator.shared().url());
        T.eq(0, r.status, "exit status (stderr: " + r.err + ")");
        T.contains(r.out, "update-qrcode: SUCCESS", "first update");
        T.contains(r.out, "same billNo again: DUP_ORDER", "duplicate refused");
        r = Fixtures.runJava(env(), "Quickstart");
        T.eq(2, r.status, "without a URL");
        T.contains(r.err, "usage:", "usage");
    }

    public static void testPrepareVectorPrintsOneJsonLine() throws Exception {
        Run r = Fixtures.runJava(env(), "com.chinaums.ums.tests.PrepareVector");
        T.eq(0, r.status, "exit status (stderr: " + r.err + ")");
        String line = r.out.trim();
        T.check(!line.contains("\n"), "one line");
        T.eq(PrepareVector.line(), line, "same as in-process");
        T.contains(line, "\"authorization\":\"OPEN-BODY-SIG AppId=", "authorization");
    }

    /** A missing JNI library gives a message saying where it looked. */
    public static void testMissingGlueLibraryIsExplained() throws Exception {
        Run r = Fixtures.runJava(env("UMS_JNI_LIBRARY", "/nonexistent/libumsjni.so"), "Quickstart", "http://127.0.0.1:1");
        T.check(r.status != 0, "fails");
        T.contains(r.err, "UnsatisfiedLinkError", "error type");
        T.contains(r.err, "UMS_JNI_LIBRARY=/nonexistent/libumsjni.so", "says where it looked");
        r = Fixtures.runJava(env(), "-Dums.jni.library=/nowhere/libumsjni.so", "Quickstart", "http://127.0.0.1:1");
        T.contains(r.err, "ums.jni.library=/nowhere/libumsjni.so", "the property wins over the variable");
    }
}
