package com.chinaums.ums.tests;

import com.chinaums.ums.ClientClosedException;
import com.chinaums.ums.ConfigException;
import com.chinaums.ums.NotificationException;
import com.chinaums.ums.Ums;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsStatus;
import com.chinaums.ums.ValidationException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Payment notifications, with the vectors of tests/data/vectors.json. */
public final class NotifyTests {
    private NotifyTests() {
    }

    private static List<Map<String, Object>> notifyVectors() throws Exception {
        List<Map<String, Object>> out = new ArrayList<Map<String, Object>>();
        for (Object o : (List<?>) Fixtures.vectors().get("notify_sign")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> v = (Map<String, Object>) o;
            out.add(v);
        }
        return out;
    }

    private static String notifyIdOf(String formBody) {
        for (String pair : formBody.split("&")) {
            if (pair.startsWith("notifyId=")) {
                return pair.substring("notifyId=".length());
            }
        }
        return null;
    }

    public static void testFormBodyVectors() throws Exception {
        int valid = 0;
        int invalid = 0;
        for (Map<String, Object> v : notifyVectors()) {
            final String body = (String) v.get("form_body");
            if (body == null) {
                continue;
            }
            final String key = (String) v.get("key");
            String name = (String) v.get("name");
            if (Boolean.TRUE.equals(v.get("valid"))) {
                valid++;
                Map<String, Object> r = Ums.verifyNotifyMap(key, body.getBytes(StandardCharsets.UTF_8));
                T.eq(Boolean.TRUE, r.get("valid"), name);
                T.eq(body.contains("signType=SHA256") ? "SHA256" : "MD5", r.get("signType"), name + ": signType");
                T.eq(notifyIdOf(body), r.get("notifyId"), name + ": notifyId");
                Map<?, ?> fields = (Map<?, ?>) r.get("fields");
                T.eq("898340149000005", fields.get("mid"), name + ": mid");
                if (body.startsWith("billPayment=")) {
                    Map<?, ?> payment = (Map<?, ?>) fields.get("billPayment");
                    T.eq("TRADE_SUCCESS", payment.get("status"), name + ": billPayment parsed");
                    T.eq("现金支付0.01元。", payment.get("payDetail"), name + ": UTF-8 form decoding");
                    T.eq("PAID", fields.get("billStatus"), name + ": billStatus");
                }
            } else {
                invalid++;
                NotificationException e = T.expect(NotificationException.class, new T.Body() {
                    @Override
                    public void run() throws Exception {
                        Ums.verifyNotify(key, body.getBytes(StandardCharsets.UTF_8));
                    }
                });
                T.eq("bad_signature", e.getReason(), name);
                T.eq(UmsStatus.NOTIFY_BAD_SIGNATURE, e.getStatus(), name + ": status");
            }
        }
        T.check(valid >= 2 && invalid >= 2, "valid, tampered and wrong-key vectors all ran");
    }

    /** Vectors given as parameters and an MD5: sent as a form, they verify. */
    public static void testParamVectorsAsForms() throws Exception {
        int ran = 0;
        for (Map<String, Object> v : notifyVectors()) {
            Map<?, ?> params = (Map<?, ?>) v.get("params");
            String md5 = (String) v.get("md5_upper");
            if (params == null || md5 == null) {
                continue;
            }
            StringBuilder form = new StringBuilder();
            for (Map.Entry<?, ?> e : params.entrySet()) {
                form.append(e.getKey()).append('=')
                        .append(URLEncoder.encode((String) e.getValue(), "UTF-8")).append('&');
            }
            form.append("sign=").append(md5);
            Map<String, Object> r = Ums.verifyNotifyMap((String) v.get("key"),
                    form.toString().getBytes(StandardCharsets.UTF_8));
            T.eq("MD5", r.get("signType"), (String) v.get("name"));
            T.eq(params.get("billNo"), ((Map<?, ?>) r.get("fields")).get("billNo"), "fields");
            ran++;
        }
        T.check(ran >= 2, "param vectors ran");
    }

    private static NotificationException reject(final String body) {
        return T.expect(NotificationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Ums.verifyNotify(Fixtures.DEMO_NOTIFY_KEY, body.getBytes(StandardCharsets.UTF_8));
            }
        });
    }

    public static void testEachNotificationFailure() {
        T.eq("missing_sign", reject("a=1").getReason(), "no sign");
        T.eq("unknown_sign_type", reject("a=1&signType=RSA&sign=x").getReason(), "RSA");
        T.eq("duplicate_field", reject("a=1&a=2&sign=x").getReason(), "repeated field");
        T.eq("malformed", reject("a=%zz&sign=x").getReason(), "bad escape");
        T.eq("malformed", reject("").getReason(), "empty body");
        T.eq("bad_signature", reject("a=1&sign=00").getReason(), "wrong sign");
    }

    public static void testNullArguments() {
        ValidationException e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Ums.verifyNotify((String) null, new byte[0]);
            }
        });
        T.eq("notifyKey", e.getField(), "null key");
        e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Ums.verifyNotify(Fixtures.DEMO_NOTIFY_KEY, null);
            }
        });
        T.eq("rawBody", e.getField(), "null body");
    }

    /** The client verifies with the notifyKey of its configuration, kept inside libums. */
    public static void testClientVerifiesWithConfiguredKey() throws Exception {
        Map<String, Object> v = null;
        for (Map<String, Object> candidate : notifyVectors()) {
            if (candidate.get("form_body") != null && Boolean.TRUE.equals(candidate.get("valid"))) {
                v = candidate;
            }
        }
        T.check(v != null, "a valid form vector");
        final byte[] body = ((String) v.get("form_body")).getBytes(StandardCharsets.UTF_8);
        final UmsClient c = new UmsClient(Fixtures.sandbox("notifyKey", Fixtures.DEMO_NOTIFY_KEY));
        T.eq(Boolean.TRUE, c.verifyNotifyMap(body).get("valid"), "verified with the configured key");
        byte[] keyBytes = Fixtures.DEMO_NOTIFY_KEY.getBytes(StandardCharsets.UTF_8);
        T.eq(Boolean.TRUE, com.chinaums.ums.internal.Json.parseObject(Ums.verifyNotify(keyBytes, body))
                .get("valid"), "key as bytes");
        T.eq(Fixtures.DEMO_NOTIFY_KEY, new String(keyBytes, StandardCharsets.UTF_8), "caller's key untouched");
        c.close();
        T.expect(ClientClosedException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.verifyNotify(body);
            }
        });

        // No demo key by default: a configuration without notifyKey cannot verify.
        T.eq("notifyKey", T.expect(ConfigException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Fixtures.client().verifyNotify(body);
            }
        }).getField(), "no notifyKey in the simulator configuration");
        try (final UmsClient other = new UmsClient(Fixtures.sandbox("notifyKey", "another-key"))) {
            T.eq("bad_signature", T.expect(NotificationException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    other.verifyNotify(body);
                }
            }).getReason(), "another configured key");
        }
        try (final UmsClient none = new UmsClient(
                "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"k\"}")) {
            ConfigException e = T.expect(ConfigException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    none.verifyNotify(body);
                }
            });
            T.eq("notifyKey", e.getField(), "no notifyKey configured");
            ValidationException nullBody = T.expect(ValidationException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    none.verifyNotify(null);
                }
            });
            T.eq("rawBody", nullBody.getField(), "null body");
        }
    }

    private static String vectorBody(String name) throws Exception {
        for (Map<String, Object> v : notifyVectors()) {
            if (name.equals(v.get("name"))) {
                return (String) v.get("form_body");
            }
        }
        throw new AssertionError("no vector " + name);
    }

    /** notifySignTypes ["SHA256"]: the client refuses MD5-signed notifications. */
    public static void testClientVerifyNotifySha256OnlyRefusesMd5() throws Exception {
        final byte[] sha = vectorBody("official H5 spec notification, SHA256, random key ns is signed,"
                + " signType is signed").getBytes(StandardCharsets.UTF_8);
        final byte[] md5 = vectorBody("bills payment notification, MD5 (no signType), random key gY is signed")
                .getBytes(StandardCharsets.UTF_8);
        try (UmsClient both = new UmsClient(Fixtures.sandbox("notifyKey", Fixtures.DEMO_NOTIFY_KEY))) {
            T.eq("MD5", both.verifyNotifyMap(md5).get("signType"), "MD5 accepted by default");
            T.eq("SHA256", both.verifyNotifyMap(sha).get("signType"), "SHA256");
        }
        Map<String, Object> strictConfig = Fixtures.sandboxConfig();
        strictConfig.put("notifyKey", Fixtures.DEMO_NOTIFY_KEY);
        strictConfig.put("notifySignTypes", java.util.Collections.singletonList("SHA256"));
        try (final UmsClient strict = new UmsClient(strictConfig)) {
            T.eq("SHA256", strict.verifyNotifyMap(sha).get("signType"), "SHA256 accepted");
            NotificationException e = T.expect(NotificationException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    strict.verifyNotify(md5);
                }
            });
            T.eq("unknown_sign_type", e.getReason(), "MD5 refused");
            T.lacks(e.getDocumentJson(), Fixtures.DEMO_NOTIFY_KEY, "key in the document");
        }
        final Map<String, Object> md5Only = Fixtures.sandboxConfig();
        md5Only.put("notifyKey", Fixtures.DEMO_NOTIFY_KEY);
        md5Only.put("notifySignTypes", java.util.Collections.singletonList("MD5"));
        ConfigException e = T.expect(ConfigException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                new UmsClient(md5Only);
            }
        });
        T.eq("notifySignTypes", e.getField(), "SHA256 must be accepted");
    }
}
