package com.chinaums.ums.compat;

import com.chinaums.ums.ConfigException;
import com.chinaums.ums.TransportException;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.ValidationException;
import com.chinaums.ums.internal.Json;
import com.chinaums.ums.tests.Fixtures;
import com.chinaums.ums.tests.T;
import java.util.HashMap;
import java.util.Map;

/**
 * The official-SDK adapter. In the same package as the adapter so the
 * environment lookup can be faked (the real one reads UMS_* variables).
 */
public final class AdapterTests {
    private static final String SAMPLE_URL = "https://api-mop.chinaums.com/v1/netpay/bills/update-qrcode";

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

    static Adapter.Env env(String... pairs) {
        final Map<String, String> m = new HashMap<String, String>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return new Adapter.Env() {
            @Override
            public String get(String name) {
                return m.get(name);
            }
        };
    }

    static String request(String billNo) {
        Map<String, Object> r = Fixtures.updateRequest(billNo);
        r.put("mid", Fixtures.MID); // as in the sample: the adapter sets no defaults
        r.put("tid", Fixtures.TID);
        r.put("instMid", "QRPAYDEFAULT");
        return Json.write(r);
    }

    public static void testEnvironmentFromHost() throws Exception {
        T.eq("production", Adapter.environmentOf("https://api-mop.chinaums.com/"), "production host");
        T.eq("test", Adapter.environmentOf("https://test-api-open.chinaums.com/"), "test host");
        T.eq("https://gw.example.com:8443", Adapter.environmentOf("https://gw.example.com:8443/"), "other host");
        T.eq("http://127.0.0.1:9000", Adapter.environmentOf("http://127.0.0.1:9000/"), "loopback");
        ConfigException e = T.expect(ConfigException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Adapter.environmentOf("no url here");
            }
        });
        T.eq("openServUrl", e.getField(), "field");
    }

    public static void testSampleContextResolves() throws Exception {
        OpenApiContext context = sampleContext(SAMPLE_URL, "平台分配", "平台分配-key");
        Adapter.Settings s = Adapter.resolve(context, env());
        T.eq("production", s.config.get("environment"), "environment from the URL host");
        T.eq("平台分配", s.config.get("appId"), "appId");
        T.eq("body-sig", s.config.get("auth"), "without getCurrentToken");
        T.eq("/v1/netpay/bills/update-qrcode", s.servicePath, "service path");
        T.lacks(s.cacheKey, "平台分配-key", "the cache key holds no appKey");
        context.setNeedToken(true);
        T.eq("token", Adapter.resolve(context, env()).config.get("auth"), "token mode");

        context.setApiServiceUrl(null);
        context.setServiceCode("/netpay/bills/query");
        T.eq("/v1/netpay/bills/query", Adapter.resolve(context, env()).servicePath, "version + serviceCode");
        context.setVersion(null);
        final OpenApiContext broken = context;
        ValidationException e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Adapter.resolve(broken, env());
            }
        });
        T.eq("apiServiceUrl", e.getField(), "no service named");
    }

    public static void testEnvironmentVariablesOverride() throws Exception {
        OpenApiContext context = sampleContext(SAMPLE_URL, "平台分配", "平台分配");
        Adapter.Settings s = Adapter.resolve(context, env("UMS_ENVIRONMENT", "sandbox"));
        T.eq("sandbox", s.config.get("environment"), "UMS_ENVIRONMENT");
        T.check(!s.config.containsKey("appId") && !s.config.containsKey("appKey"),
                "sandbox without UMS_APP_ID uses the demo app");
        s = Adapter.resolve(context, env("UMS_ENVIRONMENT", "test", "UMS_APP_ID", "id-x", "UMS_APP_KEY", "key-y"));
        T.eq("test", s.config.get("environment"), "environment");
        T.eq("id-x", s.config.get("appId"), "UMS_APP_ID");
        T.eq("key-y", s.config.get("appKey"), "UMS_APP_KEY");
        s = Adapter.resolve(context, env("UMS_APP_ID", "id-x"));
        T.eq("production", s.config.get("environment"), "host decides without UMS_ENVIRONMENT");
        T.eq("平台分配", s.config.get("appKey"), "appKey from the context when only the id is overridden");
    }

    /** The sample's flow against the simulator: answers come back as JSON, refusals too. */
    public static void testDoPostAgainstSandbox() throws Exception {
        Adapter.Env sandbox = env("UMS_ENVIRONMENT", "sandbox");
        OpenApiContext context = sampleContext(SAMPLE_URL, "平台分配", "平台分配");
        context.setNeedToken(true); // what OpenApiCache.getCurrentToken does
        UmsClient client = Adapter.client(Adapter.resolve(context, sandbox));
        T.eq("token", Json.parseObject(client.getInfo()).get("auth"), "token mode client");

        String request = request(client.newId());
        Map<String, Object> answer = Json.parseObject(Adapter.doPost(context, request, sandbox));
        T.eq("SUCCESS", answer.get("errCode"), "answer");
        Map<String, Object> again = Json.parseObject(Adapter.doPost(context, request, sandbox));
        T.eq("DUP_ORDER", again.get("errCode"), "a refusal is returned as the gateway's JSON");
        T.check(client == Adapter.client(Adapter.resolve(context, sandbox)), "one cached client");

        final OpenApiContext ctx = context;
        final Map<String, Object> bad = Json.parseObject(request(client.newId()));
        bad.put("walletOption", "TRIPLE");
        ValidationException e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Adapter.doPost(ctx, Json.write(bad), env("UMS_ENVIRONMENT", "sandbox"));
            }
        });
        T.eq("walletOption", e.getField(), "local failures are thrown");

        context.setNeedDataTag(true);
        answer = Json.parseObject(Adapter.doPost(context, request(client.newId()), sandbox));
        T.eq("SUCCESS", answer.get("errCode"), "needDataTag envelope");
    }

    public static void testDoPostTransportFailureIsThrown() throws Exception {
        final OpenApiContext context = sampleContext(SAMPLE_URL, "平台分配", "平台分配");
        T.expect(TransportException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Adapter.doPost(context, request("31940000000000000000000009"),
                        env("UMS_ENVIRONMENT", "http://127.0.0.1:1", "UMS_APP_ID", Fixtures.DEMO_APP_ID,
                                "UMS_APP_KEY", Fixtures.DEMO_APP_KEY));
            }
        });
    }

    /** The public entry points with the real environment (run-tests.sh clears UMS_*). */
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
        if (System.getenv("UMS_ENVIRONMENT") == null) {
            final OpenApiContext noUrl = new OpenApiContext();
            T.expect(ConfigException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    OpenApiCache.getCurrentToken(noUrl);
                }
            });
        }
        OpenApiCache.clear();
        T.eq(0, Adapter.cachedClients(), "clear() forgets every client");
    }
}
