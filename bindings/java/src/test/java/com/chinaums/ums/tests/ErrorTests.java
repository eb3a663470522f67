package com.chinaums.ums.tests;

import com.chinaums.ums.AnswerGoneException;
import com.chinaums.ums.ConfigException;
import com.chinaums.ums.GatewayRejectedException;
import com.chinaums.ums.InternalException;
import com.chinaums.ums.NotificationException;
import com.chinaums.ums.OperationFailedException;
import com.chinaums.ums.OutcomeUnknownException;
import com.chinaums.ums.PendingException;
import com.chinaums.ums.TlsException;
import com.chinaums.ums.TransportException;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;
import com.chinaums.ums.UmsStatus;
import com.chinaums.ums.ValidationException;
import java.util.Map;

/** Each exception class, from real failures where they can be provoked. */
public final class ErrorTests {
    private ErrorTests() {
    }

    public static void testValidationErrorNamesTheField() throws Exception {
        final UmsClient c = Fixtures.client();
        final Map<String, Object> r = Fixtures.updateRequest(c.newId());
        r.put("walletOption", "TRIPLE");
        ValidationException e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode(r);
            }
        });
        T.eq("walletOption", e.getField(), "field");
        T.eq(UmsStatus.VALIDATION, e.getStatus(), "status");
        T.eq("UMS_ERR_VALIDATION", e.getStatusName(), "status name");
        T.eq("validation", e.getKind(), "kind");
        T.contains(e.getMessage(), "SINGLE", "message states the rule");
        T.check(e.isNothingSent() && !e.isOutcomeUnknown(), "nothing sent");
    }

    public static void testDuplicateBillIsGatewayRejected() throws Exception {
        final UmsClient c = Fixtures.client();
        final String request = Fixtures.updateJson(c.newId());
        c.updateQrcode(request);
        GatewayRejectedException e = T.expect(GatewayRejectedException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode(request);
            }
        });
        T.eq("DUP_ORDER", e.getErrCode(), "errCode");
        T.check(e.getErrMsg() != null && !e.getErrMsg().isEmpty(), "errMsg");
        T.eq(Integer.valueOf(200), e.getHttpStatus(), "httpStatus");
        T.eq("DUP_ORDER", e.getResponse().get("errCode"), "response document");
        T.check(!e.isOutcomeUnknown() && !e.isNothingSent() && !e.isTokenRejected(), "flags");
        T.eq(UmsStatus.GATEWAY_REJECTED, e.getStatus(), "status");
        T.contains(e.getMessage(), "(errCode DUP_ORDER: " + e.getErrMsg() + ") (HTTP 200)", "message");
        T.check(e.getMessage().startsWith("gateway_rejected: "), "kind first: " + e.getMessage());
    }

    /**
     * getMessage() is "<kind>: <message>" plus the field, errCode: errMsg and
     * HTTP status the message leaves out: the Python binding's str(e).
     */
    public static void testMessagesMatchThePythonFormat() throws Exception {
        UmsException e = UmsException.fromDocument(UmsStatus.GATEWAY_REJECTED,
                "{\"status\":\"UMS_ERR_GATEWAY_REJECTED\",\"kind\":\"gateway_rejected\","
                + "\"message\":\"the gateway rejected the request with BAD_SIGN\",\"outcomeUnknown\":false,"
                + "\"nothingSent\":false,\"phase\":\"sent\",\"errCode\":\"BAD_SIGN\",\"errMsg\":\"签名错误\","
                + "\"httpStatus\":200}");
        T.eq("gateway_rejected: the gateway rejected the request with BAD_SIGN (errCode BAD_SIGN: 签名错误) (HTTP 200)",
                e.getMessage(), "gateway");
        T.eq("the gateway rejected the request with BAD_SIGN", e.getRawMessage(), "raw");
        T.eq(null, e.getReason(), "no reason but for notifications");
        e = UmsException.fromDocument(UmsStatus.OUTCOME_UNKNOWN, "{\"kind\":\"outcome_unknown\","
                + "\"message\":\"HTTP 502 without an answer\",\"errMsg\":\"bad gateway\",\"httpStatus\":502}");
        T.eq("outcome_unknown: HTTP 502 without an answer (errMsg bad gateway)", e.getMessage(), "HTTP already said");
        e = UmsException.fromDocument(UmsStatus.VALIDATION, "{\"kind\":\"validation\","
                + "\"message\":\"field `totalAmount`: must be at least 1\",\"field\":\"totalAmount\"}");
        T.eq("validation: field `totalAmount`: must be at least 1", e.getMessage(), "the field already named");
        e = UmsException.fromDocument(UmsStatus.CONFIG, "{\"kind\":\"config\",\"message\":\"is required\",\"field\":\"appId\"}");
        T.eq("config: is required (field 'appId')", e.getMessage(), "the field added");
        T.eq("local", e.getPhase(), "a config error is local");
        T.check(e.isNothingSent() && !e.isOutcomeUnknown(), "nothing sent");
        e = UmsException.fromDocument(UmsStatus.NOTIFY_BAD_SIGNATURE,
                "{\"kind\":\"notify_bad_signature\",\"message\":\"the signature does not match\"}");
        T.eq("bad_signature", e.getReason(), "reason");
        T.eq("notify_bad_signature: the signature does not match", e.getMessage(), "notification");
        e = UmsException.fromDocument(UmsStatus.PANIC, "{\"message\":\"m\"}");
        T.eq("panic", e.getKind(), "kind from the status name");
        T.eq("panic: m", e.getMessage(), "panic");
    }

    /**
     * Every exception that carries a gateway answer says its errCode AND
     * errMsg in getMessage() (what an uncaught exception prints in a log),
     * whatever its class: real failures from the simulator, one per class.
     * A validation error names its field.
     */
    public static void testEveryMessageSaysErrCodeAndErrMsg() throws Exception {
        final UmsClient c = Fixtures.client();
        final String update = "/v1/netpay/bills/update-qrcode";
        String[][] faults = {
            {"errcode-TIMEOUT", "TIMEOUT"},
            {"errcode-BAD_SIGN", "BAD_SIGN"},           // HTTP 200
            {"token-expired", "INVALID_TOKEN"},         // HTTP 401
        };
        java.util.List<Class<? extends UmsException>> classes = java.util.Arrays.asList(
                OutcomeUnknownException.class, GatewayRejectedException.class, GatewayRejectedException.class);
        for (int i = 0; i < faults.length; i++) {
            String[] fault = faults[i];
            T.check(Fixtures.queueFault(c, update, fault[0]), "the simulator knows " + fault[0]);
            final String request = Fixtures.updateJson(c.newId());
            UmsException e = T.expect(classes.get(i), new T.Body() {
                @Override
                public void run() throws Exception {
                    c.updateQrcode(request);
                }
            });
            T.eq(fault[1], e.getErrCode(), fault[0] + ": errCode");
            T.check(e.getErrMsg() != null && !e.getErrMsg().isEmpty(), fault[0] + ": errMsg in the document");
            T.contains(e.getMessage(), "errCode " + fault[1] + ": " + e.getErrMsg(), fault[0] + ": message");
            T.contains(e.toString(), e.getErrMsg(), fault[0] + ": toString(), what a log shows");
        }

        // The token endpoint's refusal (a wrong appKey in token mode).
        Map<String, Object> config = Fixtures.sandboxConfig();
        config.put("auth", "token");
        config.put("appKey", "00000000000000000000000000000000");
        try (final UmsClient wrongKey = new UmsClient(config)) {
            final String request = Fixtures.updateJson(c.newId());
            GatewayRejectedException e = T.expect(GatewayRejectedException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    wrongKey.updateQrcode(request);
                }
            });
            T.check(e.isTokenRejected(), "token rejected");
            T.check(e.getErrCode() != null && e.getErrMsg() != null, "errCode and errMsg: " + e.getDocumentJson());
            T.contains(e.getMessage(), "errCode " + e.getErrCode() + ": " + e.getErrMsg(), "token refusal message");
            T.lacks(e.getMessage(), "00000000000000000000000000000000", "no appKey in the message");
        }

        // DUP_ORDER 账单号重复, the case of the issue.
        final String twice = Fixtures.updateJson(c.newId());
        c.updateQrcode(twice);
        GatewayRejectedException dup = T.expect(GatewayRejectedException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode(twice);
            }
        });
        T.contains(dup.getMessage(), "DUP_ORDER: 账单号重复", "DUP_ORDER message");

        // A validation error names its field.
        final Map<String, Object> bad = Fixtures.updateRequest(c.newId());
        bad.put("totalAmount", 0);
        ValidationException v = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode(bad);
            }
        });
        T.eq("totalAmount", v.getField(), "field");
        T.contains(v.getMessage(), "totalAmount", "the field in the message");
    }

    public static void testUnknownQrCodeIsNoOrder() throws Exception {
        final UmsClient c = Fixtures.client();
        final Map<String, Object> r = Fixtures.updateRequest(c.newId());
        r.put("qrCodeId", "31949999999999999999999999");
        GatewayRejectedException e = T.expect(GatewayRejectedException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode(r);
            }
        });
        T.eq("NO_ORDER", e.getErrCode(), "errCode");
    }

    public static void testConfigErrorNamesTheKey() throws Exception {
        final String bogus = Fixtures.sandbox("bogus", 1);
        ConfigException e = T.expect(ConfigException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                new UmsClient(bogus);
            }
        });
        T.eq("bogus", e.getField(), "unknown key");
        T.eq(UmsStatus.CONFIG, e.getStatus(), "status");
        final String zero = Fixtures.sandbox("timeoutMs", 0);
        e = T.expect(ConfigException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                new UmsClient(zero);
            }
        });
        T.eq("timeoutMs", e.getField(), "bad value");
    }

    /** No default environment, no demo credentials, no embedded "sandbox"; variables only when asked. */
    public static void testConfigHasNoDefaults() throws Exception {
        T.expect(ConfigException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                new UmsClient("{}");
            }
        });
        final String[][] cases = {
            {"{\"appId\":\"a\",\"appKey\":\"k\"}", "environment"},
            {"{\"environment\":\"sandbox\",\"appId\":\"a\",\"appKey\":\"k\"}", "environment"},
            {"{\"environment\":\"production\",\"appKey\":\"k\"}", "appId"},
            {"{\"environment\":\"production\",\"appId\":\"a\"}", "appKey"},
            {"{\"environment\":\"production\",\"appId\":\"a\",\"appKey\":\"k\",\"fromEnvironment\":1}",
                "fromEnvironment"},
        };
        for (final String[] c : cases) {
            ConfigException e = T.expect(ConfigException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    new UmsClient(c[0]);
                }
            });
            T.eq(c[1], e.getField(), c[0]);
        }
    }

    /** Nothing listens on port 1: connection refused, nothing sent. */
    public static void testTransportError() throws Exception {
        final UmsClient c = new UmsClient("{\"environment\":\"http://127.0.0.1:1\",\"appId\":\""
                + Fixtures.DEMO_APP_ID + "\",\"appKey\":\"" + Fixtures.DEMO_APP_KEY + "\",\"mid\":\""
                + Fixtures.MID + "\",\"tid\":\"" + Fixtures.TID + "\"}");
        try {
            TransportException e = T.expect(TransportException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    c.updateQrcode(Fixtures.updateJson("31940000000000000000000008"));
                }
            });
            T.eq(UmsStatus.CONNECT, e.getStatus(), "status");
            T.check(e.isNothingSent() && !e.isOutcomeUnknown(), "nothing sent");
        } finally {
            c.close();
        }
    }

    /**
     * A plain TCP server that answers the TLS ClientHello with garbage: the
     * handshake fails. Deterministically TlsException (checked: the exact
     * class), and never OutcomeUnknown, since no request was sent.
     */
    public static void testTlsErrorAgainstGarbageServer() throws Exception {
        try (Fixtures.FakeServer server = new Fixtures.FakeServer(Fixtures.Behaviour.GARBAGE)) {
            final UmsClient c = new UmsClient(config("https://127.0.0.1:" + server.port()));
            try {
                TlsException e = T.expect(TlsException.class, new T.Body() {
                    @Override
                    public void run() throws Exception {
                        c.updateQrcode(Fixtures.updateJson("31940000000000000000000005"));
                    }
                });
                T.check(e instanceof TransportException, "TlsException is a TransportException");
                T.eq(UmsStatus.TLS, e.getStatus(), "status");
                T.check(e.isNothingSent() && !e.isOutcomeUnknown(), "nothing sent");
            } finally {
                c.close();
            }
        }
    }

    /** A server that reads the request and hangs up: the outcome is unknown. */
    public static void testOutcomeUnknownWhenServerHangsUp() throws Exception {
        try (Fixtures.FakeServer server = new Fixtures.FakeServer(Fixtures.Behaviour.SWALLOW)) {
            final UmsClient c = new UmsClient(config("http://127.0.0.1:" + server.port()));
            try {
                OutcomeUnknownException e = T.expect(OutcomeUnknownException.class, new T.Body() {
                    @Override
                    public void run() throws Exception {
                        c.updateQrcode(Fixtures.updateJson("31940000000000000000000006"));
                    }
                });
                T.eq(UmsStatus.OUTCOME_UNKNOWN, e.getStatus(), "status");
                T.check(e.isOutcomeUnknown() && !e.isNothingSent(), "flags");
                T.eq(1, server.requestsRead, "sent exactly once: never resent");
            } finally {
                c.close();
            }
        }
    }

    public static void testOutcomeUnknownOnHttp500() throws Exception {
        try (Fixtures.FakeServer server = new Fixtures.FakeServer(Fixtures.Behaviour.HTTP_500)) {
            final UmsClient c = new UmsClient(config("http://127.0.0.1:" + server.port()));
            try {
                OutcomeUnknownException e = T.expect(OutcomeUnknownException.class, new T.Body() {
                    @Override
                    public void run() throws Exception {
                        c.updateQrcode(Fixtures.updateJson("31940000000000000000000007"));
                    }
                });
                T.eq(Integer.valueOf(500), e.getHttpStatus(), "httpStatus");
                T.eq(1, server.requestsRead, "sent exactly once");
            } finally {
                c.close();
            }
        }
    }

    private static String config(String environment) {
        return "{\"environment\":\"" + environment + "\",\"appId\":\"" + Fixtures.DEMO_APP_ID
                + "\",\"appKey\":\"" + Fixtures.DEMO_APP_KEY + "\",\"mid\":\"" + Fixtures.MID
                + "\",\"tid\":\"" + Fixtures.TID + "\",\"connectTimeoutMs\":3000,\"timeoutMs\":10000}";
    }

    /** Every status maps to its class in the shared hierarchy. */
    public static void testStatusToExceptionClass() {
        Object[][] table = {
            {UmsStatus.NULL_POINTER, ValidationException.class},
            {UmsStatus.INVALID_UTF8, ValidationException.class},
            {UmsStatus.INVALID_JSON, ValidationException.class},
            {UmsStatus.BUFFER_TOO_SMALL, InternalException.class},
            {UmsStatus.INVALID_ARGUMENT, ValidationException.class},
            {UmsStatus.CONFIG, ConfigException.class},
            {UmsStatus.VALIDATION, ValidationException.class},
            {UmsStatus.CONNECT, TransportException.class},
            {UmsStatus.TLS, TlsException.class},
            {UmsStatus.GATEWAY_REJECTED, GatewayRejectedException.class},
            {UmsStatus.OUTCOME_UNKNOWN, OutcomeUnknownException.class},
            {UmsStatus.TOKEN_REJECTED, GatewayRejectedException.class},
            {UmsStatus.NOTIFY_BAD_SIGNATURE, NotificationException.class},
            {UmsStatus.NOTIFY_MISSING_SIGN, NotificationException.class},
            {UmsStatus.NOTIFY_UNKNOWN_SIGN_TYPE, NotificationException.class},
            {UmsStatus.NOTIFY_DUPLICATE_FIELD, NotificationException.class},
            {UmsStatus.NOTIFY_MALFORMED, NotificationException.class},
            {UmsStatus.PENDING, PendingException.class},
            {UmsStatus.OPERATION_FAILED, OperationFailedException.class},
            {UmsStatus.ANSWER_GONE, AnswerGoneException.class},
            {UmsStatus.INTERNAL, InternalException.class},
            {UmsStatus.PANIC, InternalException.class},
            {12345, InternalException.class},
        };
        for (Object[] row : table) {
            int status = (Integer) row[0];
            String doc = "{\"status\":\"" + UmsStatus.name(status) + "\",\"message\":\"m\",\"field\":\"f\","
                    + "\"errCode\":\"E\",\"errMsg\":\"M\",\"httpStatus\":418}";
            UmsException e = UmsException.fromDocument(status, doc);
            T.eq(row[1], e.getClass(), "class for " + UmsStatus.name(status));
            T.eq(status, e.getStatus(), "status");
            T.eq("m", e.getRawMessage(), "message from the document");
            T.contains(e.getMessage(), ": m", "the summary");
            T.eq("f", e.getField(), "field");
            T.eq("E", e.getErrCode(), "errCode");
            T.eq("M", e.getErrMsg(), "errMsg");
            T.eq(Integer.valueOf(418), e.getHttpStatus(), "httpStatus");
        }
        T.check(((GatewayRejectedException) UmsException.fromDocument(UmsStatus.TOKEN_REJECTED, "{}"))
                .isTokenRejected(), "token rejected flag");
        T.eq("duplicate_field", ((NotificationException) UmsException.fromDocument(
                UmsStatus.NOTIFY_DUPLICATE_FIELD, "{}")).getReason(), "notification reason");
        String pending = "{\"status\":\"UMS_ERR_PENDING\",\"kind\":\"pending\",\"message\":\"m\","
                + "\"outcomeUnknown\":false,\"nothingSent\":false,\"phase\":\"sent\",\"settled\":false,"
                + "\"stateField\":\"refundStatus\",\"state\":\"PROCESSING\",\"errCode\":\"SUCCESS\","
                + "\"response\":{\"errCode\":\"SUCCESS\",\"refundStatus\":\"PROCESSING\"}}";
        UmsException p = UmsException.fromDocument(UmsStatus.PENDING, pending);
        T.eq("refundStatus", p.getStateField(), "stateField");
        T.eq("PROCESSING", p.getState(), "state");
        T.eq(Boolean.FALSE, p.isSettled(), "settled");
        T.eq("sent", p.getPhase(), "phase");
        T.eq("PROCESSING", p.getResponse().get("refundStatus"), "the whole answer");
        UmsException f = UmsException.fromDocument(UmsStatus.OPERATION_FAILED,
                pending.replace("PROCESSING", "FAIL").replace("\"settled\":false", "\"settled\":true"));
        T.eq("FAIL", f.getState(), "failed state");
        T.eq(Boolean.TRUE, f.isSettled(), "failed is settled");
        T.check(UmsException.fromDocument(UmsStatus.ANSWER_GONE, "{}") instanceof OutcomeUnknownException,
                "AnswerGoneException is an OutcomeUnknownException");
        T.check(UmsException.fromDocument(UmsStatus.VALIDATION, "{}").isSettled() == null, "no state");
        T.eq("UMS_ERR_PENDING", UmsStatus.name(UmsStatus.PENDING), "name 18");
        T.eq("UMS_ERR_OPERATION_FAILED", UmsStatus.name(UmsStatus.OPERATION_FAILED), "name 19");
        T.eq("UMS_ERR_ANSWER_GONE", UmsStatus.name(UmsStatus.ANSWER_GONE), "name 20");
        UmsException broken = UmsException.fromDocument(UmsStatus.INTERNAL, "not json");
        T.eq("UMS_ERR_INTERNAL", broken.getDocument().get("status"), "a document is made up");
        T.check(broken.getMessage() != null, "message");
        T.eq("UMS_STATUS_12345", UmsStatus.name(12345), "unknown status name");
    }

    /** Secrets never show in messages or documents. */
    public static void testSecretsStayOutOfErrors() throws Exception {
        final String appKey = "0f0e0d0c0b0a09080706050403020100";
        ConfigException e = T.expect(ConfigException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                // An environment that is no longer one.
                new UmsClient("{\"environment\":\"sandbox\",\"appId\":\"someone-else\",\"appKey\":\""
                        + appKey + "\"}");
            }
        });
        T.eq("environment", e.getField(), "field");
        T.lacks(e.getMessage(), appKey, "config message");
        T.lacks(e.getDocumentJson(), appKey, "config document");

        final UmsClient c = Fixtures.client();
        final Map<String, Object> r = Fixtures.updateRequest(c.newId());
        r.put("name", "欧阳诸葛司马上官夏侯皇甫尉迟公羊");
        ValidationException v = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.updateQrcode(r);
            }
        });
        T.eq("name", v.getField(), "too long a real name");
        T.lacks(v.getDocumentJson(), "欧阳", "real name in the document");

        final String key = Fixtures.DEMO_NOTIFY_KEY;
        NotificationException n = T.expect(NotificationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                com.chinaums.ums.Ums.verifyNotify(key, "a=1&sign=00".getBytes("UTF-8"));
            }
        });
        T.lacks(n.getDocumentJson(), key, "notification key");
    }
}
