package com.chinaums.ums.compat;

import static com.chinaums.ums.tests.Fixtures.env;

import com.chinaums.ums.ConfigException;
import com.chinaums.ums.TransportException;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.ValidationException;
import com.chinaums.ums.internal.Json;
import com.chinaums.ums.tests.Fixtures;
import com.chinaums.ums.tests.Fixtures.Run;
import com.chinaums.ums.tests.Simulator;
import com.chinaums.ums.tests.T;
import java.util.Map;

/**
 * The official-SDK adapter. In the same package as the adapter to see its
 * settings. run-tests.sh clears every UMS_* variable, so in this JVM the
 * adapter sees none; the tests of the variables run AdapterProbe in JVMs of
 * their own.
 */
public final class AdapterTests {
    static final String SAMPLE_URL = "https://api-mop.chinaums.com/v1/netpay/bills/update-qrcode";
    private static final String PATH = "/v1/netpay/bills/update-qrcode";

    private AdapterTests() {
    }

    /** The context exactly as the official sample fills it. */
    static OpenApiContext sampleContext(String url, String appId, String appKey) {
        OpenApiContext context = new OpenApiContext();
        context.setStartTime(System.currentTimeMillis());
        context.setRequestId("0123456789abcdef0123456789abcdef");
        context.setOpenServUrl(url.split("/v")[0].concat("/"));
        context.setApiServiceUrl(url);
        context.setVersion(url.split("/")[3]);
        context.setAppId(appId);
        context.setAppKey(appKey);
        context.setConfigBean(new ConfigBean());
        context.setServiceCode(url.split("/v")[1].substring(1));
        return context;
    }

    static String request(String billNo) {
        Map<String, Object> r = Fixtures.updateRequest(billNo);
        r.put("mid", Fixtures.MID); // as in the sample: the adapter sets no defaults
        r.put("tid", Fixtures.TID);
        r.put("instMid", "QRPAYDEFAULT");
        return Json.write(r);
    }

    private static String simulatorUrl() throws Exception {
        return Simulator.shared().url();
    }

    private static String newBillNo() throws Exception {
        return Fixtures.client().newId();
    }

    public static void testBaseAndDefaultEnvironment() throws Exception {
        T.eq("https://api-mop.chinaums.com", Adapter.baseOf("https://api-mop.chinaums.com/"), "base");
        T.eq("http://127.0.0.1:9000", Adapter.baseOf("http://127.0.0.1:9000/v1/x"), "loopback with a port");
        T.eq("production", Adapter.defaultEnvironment("https://api-mop.chinaums.com"), "production host");
        T.eq("test", Adapter.defaultEnvironment("https://test-api-open.chinaums.com"), "test host");
        T.eq(null, Adapter.defaultEnvironment("https://api-mop.chinaums.com:8443"), "another port");
        T.eq(null, Adapter.defaultEnvironment("http://api-mop.chinaums.com"), "plain http");
        T.eq(null, Adapter.defaultEnvironment("https://gw.example.com"), "another host");
        ConfigException e = T.expect(ConfigException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Adapter.baseOf("no url here");
            }
        });
        T.eq("openServUrl", e.getField(), "field");
    }

    public static void testSampleContextResolves() throws Exception {
        OpenApiContext context = sampleContext(SAMPLE_URL, "平台分配", "平台分配-key");
        Adapter.Settings s = Adapter.resolve(context);
        T.eq(Boolean.TRUE, s.config.get("fromEnvironment"), "UMS_* variables fill what the context leaves out");
        T.check(!s.config.containsKey("environment"), "the official host only implies a gateway");
        T.eq("production", s.config.get("environmentDefault"), "libums's environmentDefault");
        T.eq("平台分配", s.config.get("appId"), "appId");
        T.eq("body-sig", s.config.get("auth"), "without getCurrentToken");
        T.eq("/v1/netpay/bills/update-qrcode", s.servicePath, "service path");
        T.lacks(s.cacheKey, "平台分配-key", "the cache key holds no appKey");
        context.setNeedToken(true);
        T.eq("token", Adapter.resolve(context).config.get("auth"), "token mode");

        OpenApiContext other = sampleContext("http://127.0.0.1:9000/v1/netpay/bills/update-qrcode", "a", "k");
        s = Adapter.resolve(other);
        T.eq("http://127.0.0.1:9000", s.config.get("environment"), "any other URL is the environment");
        T.check(!s.config.containsKey("environmentDefault"), "named, not implied");
        ConfigBean bean = new ConfigBean();
        bean.setTimeoutMs(7000);
        other.setConfigBean(bean);
        T.eq(7000, Adapter.resolve(other).config.get("timeoutMs"), "ConfigBean timeout");

        OpenApiContext noKey = sampleContext(SAMPLE_URL, "", null);
        s = Adapter.resolve(noKey);
        T.check(!s.config.containsKey("appId") && !s.config.containsKey("appKey"),
                "empty credentials are left to UMS_APP_ID / UMS_APP_KEY");

        OpenApiContext testHost = sampleContext("https://test-api-open.chinaums.com/v1/netpay/bills/update-qrcode", "a", "k");
        T.eq("test", Adapter.resolve(testHost).config.get("environmentDefault"), "the test host implies test");

        context.setApiServiceUrl(null);
        context.setServiceCode("/netpay/bills/query");
        T.eq("/v1/netpay/bills/query", Adapter.resolve(context).servicePath, "version + serviceCode");
        context.setOpenServUrl(null);
        s = Adapter.resolve(context);
        T.eq("production", s.config.get("environmentDefault"), "no URL: the SDK's production");
        T.check(!s.config.containsKey("environment"), "no URL names no environment");
        context.setVersion(null);
        final OpenApiContext broken = context;
        ValidationException e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Adapter.resolve(broken);
            }
        });
        T.eq("apiServiceUrl", e.getField(), "no service named");
    }

    /** Without UMS_ENVIRONMENT the official hosts mean production and test (nothing is sent). */
    public static void testOfficialHostsDefaultToTheirEnvironment() throws Exception {
        T.check(System.getenv("UMS_ENVIRONMENT") == null, "run-tests.sh clears UMS_ENVIRONMENT");
        try {
            OpenApiContext production = sampleContext(SAMPLE_URL, Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY);
            OpenApiCache.getCurrentToken(production);
            UmsClient client = Adapter.client(Adapter.resolve(production));
            T.eq("https://api-mop.chinaums.com", Json.parseObject(client.getInfo()).get("baseUrl"), "production");
            OpenApiContext test = sampleContext("https://test-api-open.chinaums.com/v1/netpay/bills/update-qrcode",
                    Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY);
            OpenApiCache.getCurrentToken(test);
            client = Adapter.client(Adapter.resolve(test));
            T.eq("https://test-api-open.chinaums.com", Json.parseObject(client.getInfo()).get("baseUrl"), "test");
            T.eq(2, Adapter.cachedClients(), "two configurations, two clients");
        } finally {
            OpenApiCache.clear();
        }
    }

    /** The sample's flow against the simulator named by the URL: answers come back as JSON, refusals too. */
    public static void testDoPostAgainstSimulator() throws Exception {
        OpenApiContext context = sampleContext(simulatorUrl() + PATH, Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY);
        context.setNeedToken(true); // what OpenApiCache.getCurrentToken does
        try {
            UmsClient client = Adapter.client(Adapter.resolve(context));
            T.eq("token", Json.parseObject(client.getInfo()).get("auth"), "token mode client");

            String request = request(newBillNo());
            Map<String, Object> answer = Json.parseObject(HttpTransport.getInstance().doPost(context, request));
            T.eq("SUCCESS", answer.get("errCode"), "answer");
            Map<String, Object> again = Json.parseObject(HttpTransport.getInstance().doPost(context, request));
            T.eq("DUP_ORDER", again.get("errCode"), "a refusal is returned as the gateway's JSON");
            T.check(client == Adapter.client(Adapter.resolve(context)), "one cached client");

            final OpenApiContext ctx = context;
            final Map<String, Object> bad = Json.parseObject(request(newBillNo()));
            bad.put("walletOption", "TRIPLE");
            ValidationException e = T.expect(ValidationException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    HttpTransport.getInstance().doPost(ctx, Json.write(bad));
                }
            });
            T.eq("walletOption", e.getField(), "local failures are thrown");

            context.setNeedDataTag(true);
            answer = Json.parseObject(HttpTransport.getInstance().doPost(context, request(newBillNo())));
            T.eq("SUCCESS", answer.get("errCode"), "needDataTag envelope");
        } finally {
            OpenApiCache.clear();
        }
    }

    public static void testDoPostTransportFailureIsThrown() throws Exception {
        final OpenApiContext context = sampleContext("http://127.0.0.1:1" + PATH, Fixtures.DEMO_APP_ID,
                Fixtures.DEMO_APP_KEY);
        try {
            T.expect(TransportException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    HttpTransport.getInstance().doPost(context, request("31940000000000000000000009"));
                }
            });
        } finally {
            OpenApiCache.clear();
        }
    }

    /** The public entry points (run-tests.sh clears UMS_*). */
    public static void testGetCurrentTokenSelectsTokenModeAndCachesTheClient() throws Exception {
        OpenApiContext context = sampleContext("https://gateway.invalid/v1/netpay/bills/update-qrcode",
                Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY);
        T.check(!context.isNeedToken(), "body-sig before");
        OpenApiCache.getCurrentToken(context);
        T.check(context.isNeedToken(), "token mode after getCurrentToken");
        int cached = Adapter.cachedClients();
        T.check(cached >= 1, "a client was created");
        OpenApiCache.getCurrentToken(context);
        T.eq(cached, Adapter.cachedClients(), "the same client is reused");
        T.check(HttpTransport.getInstance() == HttpTransport.getInstance(), "one transport");
        T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                OpenApiCache.getCurrentToken(null);
            }
        });
        T.eq("apiServiceUrl", T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                OpenApiCache.getCurrentToken(new OpenApiContext());
            }
        }).getField(), "an empty context names no service");
        // No URL (production implied), no credentials, no variables: libums names what is missing.
        final OpenApiContext noUrl = new OpenApiContext();
        noUrl.setVersion("v1");
        noUrl.setServiceCode("/netpay/bills/update-qrcode");
        T.eq("appId", T.expect(ConfigException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                OpenApiCache.getCurrentToken(noUrl);
            }
        }).getField(), "the first key missing");
        OpenApiCache.clear();
        T.eq(0, Adapter.cachedClients(), "clear() forgets every client");
    }

    /** Runs AdapterProbe in its own JVM with these UMS_* variables. */
    private static Run probe(Map<String, String> env, String url, String appId, String appKey, String request)
            throws Exception {
        return request == null
                ? Fixtures.runJava(env, "com.chinaums.ums.compat.AdapterProbe", url, appId, appKey)
                : Fixtures.runJava(env, "com.chinaums.ums.compat.AdapterProbe", url, appId, appKey, request);
    }

    /**
     * A loopback UMS_ENVIRONMENT (the simulator) replaces the production the
     * sample's URL implies; nothing else does. The demo app is given in code.
     */
    public static void testUmsEnvironmentRedirectsTheOfficialHost() throws Exception {
        String sim = simulatorUrl();
        Run r = probe(env("UMS_ENVIRONMENT", sim), SAMPLE_URL, Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY,
                request(newBillNo()));
        T.eq(0, r.status, "exit status (" + r.out + r.err + ")");
        T.contains(r.out, "\"baseUrl\":\"" + sim + "\"", "the simulator");
        T.contains(r.out, "\"auth\":\"token\"", "getCurrentToken: token mode");
        T.contains(r.out, "answer {\"errCode\":\"SUCCESS\"", "answered by the simulator");
        // The sample implies production: UMS_ENVIRONMENT may replace it only
        // with a loopback URL. Another gateway (even the implied one) is a
        // ConfigException naming environment, and so is "sandbox" (not an
        // environment at all).
        String testUrl = "https://test-api-open.chinaums.com/v1/netpay/bills/update-qrcode";
        String[][] refused = {
            {SAMPLE_URL, "test"}, {SAMPLE_URL, "production"}, {SAMPLE_URL, "https://gw.example.com"},
            {SAMPLE_URL, "sandbox"}, {testUrl, "test"},
        };
        for (String[] c : refused) {
            r = probe(env("UMS_ENVIRONMENT", c[1]), c[0], Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY, null);
            T.eq(1, r.status, "UMS_ENVIRONMENT=" + c[1] + " with " + c[0] + " (" + r.out + r.err + ")");
            T.contains(r.out, "error ConfigException environment ", "names the key");
            T.contains(r.out, "UMS_ENVIRONMENT", "names the variable");
        }
        // Another unusable variable, checked after the environment, is named as such.
        r = probe(env("UMS_CA_FILE", "/nonexistent/ca.pem"), SAMPLE_URL, Fixtures.DEMO_APP_ID,
                Fixtures.DEMO_APP_KEY, null);
        T.contains(r.out, "error ConfigException caFile ", "UMS_CA_FILE");
    }

    /** Keys given in code win; a UMS_* variable that says otherwise is a ConfigException naming the key. */
    public static void testContradictingVariablesAreConfigErrors() throws Exception {
        String sim = simulatorUrl();
        Run r = probe(env("UMS_ENVIRONMENT", sim, "UMS_APP_ID", "another-app"), SAMPLE_URL,
                Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY, null);
        T.eq(1, r.status, "refused (" + r.out + r.err + ")");
        T.contains(r.out, "error ConfigException appId ", "names appId");
        String otherKey = "ffffeeeeddddccccbbbbaaaa99998888";
        r = probe(env("UMS_ENVIRONMENT", sim, "UMS_APP_KEY", otherKey), SAMPLE_URL,
                Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY, null);
        T.contains(r.out, "error ConfigException appKey ", "names appKey");
        T.lacks(r.out + r.err, otherKey, "the variable's key");
        T.lacks(r.out + r.err, Fixtures.DEMO_APP_KEY, "the code's key");
        // A URL other than the official hosts is the environment: a variable may repeat it, not change it.
        r = probe(env("UMS_ENVIRONMENT", "https://gw.example.com"), sim + PATH, Fixtures.DEMO_APP_ID,
                Fixtures.DEMO_APP_KEY, null);
        T.contains(r.out, "error ConfigException environment ", "names environment");
        r = probe(env("UMS_ENVIRONMENT", sim), sim + PATH, Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY,
                request(newBillNo()));
        T.eq(0, r.status, "the same value (" + r.out + r.err + ")");
        T.contains(r.out, "answer {\"errCode\":\"SUCCESS\"", "answered");
    }

    /** What the code leaves out comes from the variables: credentials and any other key (mid here). */
    public static void testVariablesFillWhatTheCodeLeavesOut() throws Exception {
        Map<String, Object> request = Json.parseObject(request(newBillNo()));
        request.remove("mid");
        Run r = probe(env("UMS_ENVIRONMENT", simulatorUrl(), "UMS_APP_ID", Fixtures.DEMO_APP_ID,
                "UMS_APP_KEY", Fixtures.DEMO_APP_KEY, "UMS_MID", Fixtures.MID), SAMPLE_URL, "-", "-",
                Json.write(request));
        T.eq(0, r.status, "exit status (" + r.out + r.err + ")");
        T.contains(r.out, "\"appId\":\"" + Fixtures.DEMO_APP_ID + "\"", "appId from UMS_APP_ID");
        T.contains(r.out, "answer {\"errCode\":\"SUCCESS\"", "mid from UMS_MID");
        r = probe(env("UMS_ENVIRONMENT", simulatorUrl()), SAMPLE_URL, "-", "-", null);
        T.contains(r.out, "error ConfigException appId ", "no appId in code nor variable");
    }
}
