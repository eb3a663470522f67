package com.chinaums.ums.tests;

import com.chinaums.ums.ClientClosedException;
import com.chinaums.ums.Ums;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;
import com.chinaums.ums.UmsStatus;
import com.chinaums.ums.ValidationException;
import com.chinaums.ums.internal.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The client against the ums-sandbox simulator, and the no-network functions. */
public final class ClientTests {
    private ClientTests() {
    }

    public static void testVersionIsChecked() {
        T.check(Ums.version().startsWith("0.1."), "libums 0.1.x, got " + Ums.version());
        T.eq("SUCCESS", Ums.notifyReply(true), "reply when handled");
        T.eq("FAILED", Ums.notifyReply(false), "reply when not handled");
        T.check(!Ums.statusDescription(UmsStatus.VALIDATION).isEmpty(), "status description");
    }

    public static void testClientInfoHasNoSecrets() throws Exception {
        try (UmsClient c = new UmsClient(Fixtures.sandbox())) {
            Map<String, Object> info = Json.parseObject(c.getInfo());
            T.eq(Fixtures.DEMO_APP_ID, info.get("appId"), "demo app");
            T.eq("body-sig", info.get("auth"), "default auth");
            T.eq(Simulator.shared().url(), info.get("baseUrl"), "the simulator's URL");
            T.lacks(c.getInfo(), Fixtures.DEMO_APP_KEY, "info");
        }
    }

    public static void testUpdateQrcodeWithJsonText() throws Exception {
        UmsClient c = Fixtures.client();
        String billNo = c.newId();
        Map<String, Object> answer = Json.parseObject(c.updateQrcode(Fixtures.updateJson(billNo)));
        T.eq("SUCCESS", answer.get("errCode"), "errCode");
        T.eq(billNo, answer.get("billNo"), "billNo echoed");
        T.contains((String) answer.get("billQRCode"), Fixtures.SEED_QR, "QR code URL");
    }

    /** Chinese text, an emoji (a surrogate pair) and nested goods through the Map overloads. */
    public static void testMapOverloadRoundTrip() throws Exception {
        UmsClient c = Fixtures.client();
        Map<String, Object> egg = new LinkedHashMap<String, Object>();
        egg.put("goodsId", "001");
        egg.put("goodsName", "鸡蛋");
        egg.put("quantity", 10L);
        egg.put("price", "1");
        egg.put("body", "两个 \"土\" 鸡蛋 😀");
        List<Object> goods = new ArrayList<Object>();
        goods.add(egg);
        String billNo = c.newId();
        Map<String, Object> request = Fixtures.updateRequest(billNo);
        request.put("billDesc", "早餐 🍳");
        request.put("goods", goods);
        request.put("name", "张*三");

        Map<String, Object> answer = c.updateQrcode(request);
        T.eq("SUCCESS", answer.get("errCode"), "errCode");
        T.eq("更新二维码成功", answer.get("errMsg"), "Chinese answer decoded as UTF-8");
        T.eq(billNo, answer.get("billNo"), "billNo");

        // The exact body that would be sent carries every character intact.
        Map<String, Object> prepared = Json.parseObject(c.prepare("update-qrcode", Json.write(request)));
        Map<String, Object> body = Json.parseObject((String) prepared.get("body"));
        T.eq("早餐 🍳", body.get("billDesc"), "billDesc");
        Object sentGoods = ((List<?>) body.get("goods")).get(0);
        T.eq(egg, sentGoods, "nested goods as real JSON");
        T.eq("5bygKuS4iQ==", body.get("name"), "real name Base64 of the UTF-8 bytes");
    }

    public static void testTokenModeAgainstSimulator() throws Exception {
        try (UmsClient c = new UmsClient(Fixtures.sandbox("auth", "token"))) {
            T.eq("token", Json.parseObject(c.getInfo()).get("auth"), "auth");
            for (int i = 0; i < 3; i++) {
                T.eq("SUCCESS", c.updateQrcode(Fixtures.updateRequest(c.newId())).get("errCode"),
                        "call " + i + " with the cached token");
            }
        }
    }

    public static void testGenericCallAndDataEnvelope() throws Exception {
        UmsClient c = Fixtures.client();
        String path = "/v1/netpay/bills/update-qrcode";
        T.eq("SUCCESS", c.call(path, Fixtures.updateRequest(c.newId())).get("errCode"), "flat body");
        String enveloped = "{\"data\":" + Fixtures.updateJson(c.newId()) + "}";
        T.eq("SUCCESS", Json.parseObject(c.call(path, enveloped)).get("errCode"), "needDataTag envelope");
    }

    /** The fixed cross-language request, checked against an independent signature computation. */
    public static void testPrepareVectorIsSignedCorrectly() throws Exception {
        String line = PrepareVector.line();
        T.check(!line.contains("\n"), "one line");
        Map<String, Object> p = Json.parseObject(line);
        T.eq("https://gateway.invalid/v1/netpay/bills/update-qrcode", p.get("url"), "url");
        T.eq("/v1/netpay/bills/update-qrcode", p.get("path"), "path");
        String body = (String) p.get("body");
        Map<String, Object> sent = Json.parseObject(body);
        T.eq("2026-01-02 03:04:05", sent.get("requestTimestamp"), "requestTimestamp from the timestamp");
        T.eq(Long.valueOf(26), sent.get("totalAmount"), "amount sent as a number");
        T.eq("898340149000005", sent.get("mid"), "mid from config");
        T.eq("QRPAYDEFAULT", sent.get("instMid"), "instMid default");
        T.eq("5bygKuS4iQ==", sent.get("name"), "name Base64");
        T.check(sent.get("goods") instanceof List, "goods sent as JSON");

        String expected = "OPEN-BODY-SIG AppId=\"" + Fixtures.DEMO_APP_ID + "\", Timestamp=\""
                + PrepareVector.TIMESTAMP + "\", Nonce=\"" + PrepareVector.NONCE + "\", Signature=\""
                + openBodySig(Fixtures.DEMO_APP_ID, Fixtures.DEMO_APP_KEY, PrepareVector.TIMESTAMP,
                        PrepareVector.NONCE, body.getBytes(StandardCharsets.UTF_8)) + "\"";
        T.eq(expected, p.get("authorization"), "authorization");
    }

    /** PROTOCOL.md §2: Base64(HmacSHA256(appId + timestamp + nonce + sha256hex(body), appKey)). */
    static String openBodySig(String appId, String appKey, String ts, String nonce, byte[] body)
            throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
        StringBuilder hex = new StringBuilder();
        for (byte b : digest) {
            hex.append(String.format("%02x", b & 0xff));
        }
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(appKey.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] sig = mac.doFinal((appId + ts + nonce + hex).getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(sig);
    }

    /** A document bigger than the first 64 KiB buffer goes through the retry path. */
    public static void testLargeDocumentUsesTheBufferRetry() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 100 * 1024; i++) {
            sb.append((char) ('a' + i % 26));
        }
        sb.append("中文结尾");
        Map<String, Object> request = Fixtures.updateRequest("31940000000000000000000002");
        request.put("passThrough", sb.toString());
        String doc = Fixtures.client().prepare("update-qrcode", Json.write(request));
        T.check(doc.getBytes(StandardCharsets.UTF_8).length > 64 * 1024, "document over 64 KiB");
        Map<String, Object> body = Json.parseObject((String) Json.parseObject(doc).get("body"));
        T.eq(sb.toString(), body.get("passThrough"), "unknown field passed through whole");
    }

    public static void testSignBodyVectors() throws Exception {
        List<?> vectors = (List<?>) Fixtures.vectors().get("open_body_sig");
        T.check(vectors.size() >= 2, "vectors present");
        for (Object o : vectors) {
            Map<?, ?> v = (Map<?, ?>) o;
            Map<String, Object> config = new LinkedHashMap<String, Object>();
            config.put("environment", "https://gateway.invalid");
            config.put("appId", v.get("app_id"));
            config.put("appKey", v.get("app_key"));
            try (UmsClient c = new UmsClient(config)) {
                byte[] body = ((String) v.get("body_utf8")).getBytes(StandardCharsets.UTF_8);
                Map<String, Object> r = Json.parseObject(
                        c.signBody(body, (String) v.get("timestamp"), (String) v.get("nonce")));
                String auth = (String) r.get("authorization");
                T.contains(auth, "Signature=\"" + v.get("signature") + "\"", (String) v.get("name"));
                if (v.get("authorization") != null) {
                    T.eq(v.get("authorization"), auth, "whole header, " + v.get("name"));
                }
                if (v.get("wrong_if_upper_case_digest") != null) {
                    T.lacks(auth, (String) v.get("wrong_if_upper_case_digest"), "upper-case digest");
                }
                T.eq(v.get("timestamp"), r.get("timestamp"), "timestamp");
                T.eq(v.get("nonce"), r.get("nonce"), "nonce");
            }
        }
    }

    public static void testSignBodyDefaultsToNowAndRandomNonce() throws Exception {
        UmsClient c = Fixtures.client();
        Map<String, Object> a = Json.parseObject(c.signBody("{}".getBytes(StandardCharsets.UTF_8)));
        Map<String, Object> b = Json.parseObject(c.signBody("{}".getBytes(StandardCharsets.UTF_8)));
        T.check(((String) a.get("timestamp")).matches("\\d{14}"), "timestamp yyyyMMddHHmmss");
        T.check(!a.get("nonce").equals(b.get("nonce")), "fresh nonce per call");
    }

    public static void testTokenRequestVector() throws Exception {
        Map<?, ?> v = (Map<?, ?>) ((List<?>) Fixtures.vectors().get("token_signature")).get(0);
        Map<String, Object> config = new LinkedHashMap<String, Object>();
        config.put("environment", "https://gateway.invalid");
        config.put("appId", v.get("app_id"));
        config.put("appKey", v.get("app_key"));
        try (UmsClient c = new UmsClient(config)) {
            Map<String, Object> body = Json.parseObject(
                    c.tokenRequest((String) v.get("timestamp"), (String) v.get("nonce")));
            T.eq(v.get("signature"), body.get("signature"), "token signature");
            T.eq("SHA256", body.get("signMethod"), "signMethod");
            T.eq(v.get("app_id"), body.get("appId"), "appId");
            T.lacks(Json.write(body), (String) v.get("app_key"), "token request body");
            T.check(((String) Json.parseObject(c.tokenRequest()).get("nonce")).length() > 0, "default nonce");
        }
    }

    public static void testNewIdsAreUnique() throws Exception {
        UmsClient c = Fixtures.client();
        Set<String> ids = new HashSet<String>();
        for (int i = 0; i < 2000; i++) {
            String id = c.newId();
            T.eq(28, id.length(), "id length");
            T.check(id.startsWith("3194") && id.matches("\\d{28}"), "msgSrcId prefix and digits: " + id);
            T.check(ids.add(id), "unique: " + id);
        }
    }

    public static void testBadArgumentsAreValidationErrorsBeforeNative() throws Exception {
        final UmsClient c = Fixtures.client();
        ValidationException e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode((String) null);
            }
        });
        T.eq(UmsStatus.NULL_POINTER, e.getStatus(), "null request");
        T.eq("requestJson", e.getField(), "field names the argument");

        e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode((Map<String, Object>) null);
            }
        });
        T.eq(UmsStatus.NULL_POINTER, e.getStatus(), "null map");

        e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode("{\"qrCodeId\":\"a\u0000b\"}");
            }
        });
        T.eq(UmsStatus.INVALID_ARGUMENT, e.getStatus(), "embedded NUL");

        e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode("{\"qrCodeId\":\"\uD800\"}");
            }
        });
        T.eq(UmsStatus.INVALID_UTF8, e.getStatus(), "lone surrogate");

        for (final String bad : new String[] {"not json", "[]", "{\"a\":", ""}) {
            e = T.expect(ValidationException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    c.updateQrcode(bad);
                }
            });
            T.eq(UmsStatus.INVALID_JSON, e.getStatus(), "library INVALID_JSON for <" + bad + ">");
        }

        e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.prepare("update-qrcode", Fixtures.updateJson("31940000000000000000000003"), "2026", null);
            }
        });
        T.eq(UmsStatus.INVALID_ARGUMENT, e.getStatus(), "bad timestamp");

        e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.call("not-a-path", "{}");
            }
        });
        T.eq(UmsStatus.INVALID_ARGUMENT, e.getStatus(), "bad service path");

        e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.signBody(null);
            }
        });
        T.eq(UmsStatus.NULL_POINTER, e.getStatus(), "null body");

        e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Map<String, Object> m = new LinkedHashMap<String, Object>();
                m.put("qrCodeId", new Object());
                c.updateQrcode(m);
            }
        });
        T.eq(UmsStatus.INVALID_JSON, e.getStatus(), "unwritable map value");
        T.eq("request", e.getField(), "field names the argument");

        T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                new UmsClient((String) null);
            }
        });
    }

    public static void testCloseIsIdempotentAndLaterCallsFail() throws Exception {
        final UmsClient c = new UmsClient(Fixtures.sandbox());
        T.check(!c.isClosed(), "open");
        c.close();
        c.close();
        T.check(c.isClosed(), "closed");
        ClientClosedException e = T.expect(ClientClosedException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.newId();
            }
        });
        T.check(e instanceof ValidationException, "a ValidationException");
        T.eq("UMS_ERR_NULL_POINTER", e.getStatusName(), "status");
        T.eq("client_closed", e.getKind(), "kind");
        T.eq("local", e.getPhase(), "phase");
        T.check(e.isNothingSent() && !e.isOutcomeUnknown(), "nothing sent");
        T.eq("client_closed: the client is closed", e.getMessage(), "message");
        T.expect(ClientClosedException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode(Fixtures.updateJson("31940000000000000000000004"));
            }
        });
        T.expect(ClientClosedException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.takeAnswer("0123456789abcdef0123456789abcdef");
            }
        });
        T.check(c.getInfo().contains("UMS_OK"), "info still readable");
    }
}
