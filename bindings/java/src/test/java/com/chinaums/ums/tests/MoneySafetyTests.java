package com.chinaums.ums.tests;

import com.chinaums.ums.AnswerGoneException;
import com.chinaums.ums.OperationFailedException;
import com.chinaums.ums.OutcomeUnknownException;
import com.chinaums.ums.PendingException;
import com.chinaums.ums.Ums;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;
import com.chinaums.ums.UmsLogListener;
import com.chinaums.ums.UmsStatus;
import com.chinaums.ums.ValidationException;
import com.chinaums.ums.compat.HttpTransport;
import com.chinaums.ums.compat.OpenApiContext;
import com.chinaums.ums.internal.Json;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "money safety" rules of the C ABI as the binding applies them: kept
 * answers taken by id (never a second request), pending and failed
 * operations, the log callback calling back into the library.
 */
public final class MoneySafetyTests {
    private static final String UPDATE = "/v1/netpay/bills/update-qrcode";
    private static final String REFUND = "/v1/netpay/bills/refund";

    private MoneySafetyTests() {
    }

    /** Every UMS_* status of include/ums.h has its name in UmsStatus, and no other. */
    public static void testStatusesMatchTheHeader() throws Exception {
        String header = new String(Files.readAllBytes(new File(Fixtures.repo(), "include/ums.h").toPath()),
                StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^#define (UMS_(?:OK|ERR_\\w+)) (\\d+)").matcher(header);
        int count = 0;
        while (m.find()) {
            T.eq(m.group(1), UmsStatus.name(Integer.parseInt(m.group(2))), "status " + m.group(2));
            count++;
        }
        T.check(count >= 23, "statuses found in the header: " + count);
        T.contains(header, "#define UMS_MIN_OUT_CAP 256", "UMS_MIN_OUT_CAP");
        for (int status = 0; status < 128; status++) {
            if (!UmsStatus.name(status).startsWith("UMS_STATUS_")) {
                T.contains(header, "#define " + UmsStatus.name(status) + " " + status + "\n",
                        "the binding's status " + status + " is in the header");
            }
        }
    }

    /**
     * A gateway answer far bigger than the glue's 64 KiB first buffer (the
     * simulator's oversized-json fault pads it to 5 MiB): it arrives whole,
     * taken from the library by its answerId, and the simulator saw ONE
     * request (calling the operation again would have sent a second one,
     * refused as DUP_ORDER).
     */
    public static void testBigAnswerIsTakenByIdNotResent() throws Exception {
        try (UmsClient c = new UmsClient(Fixtures.sandbox("maxResponseBytes", 8388608))) {
            T.check(Fixtures.queueFault(c, UPDATE, "oversized-json"), "the simulator knows oversized-json");
            long before = Fixtures.requests(c, UPDATE);
            String billNo = c.newId();
            String answer = c.updateQrcode(Fixtures.updateJson(billNo));
            T.eq(before + 1, Fixtures.requests(c, UPDATE), "requests seen by the simulator");
            T.check(answer.length() > 5 * 1024 * 1024 - 1024, "answer of " + answer.length() + " chars");
            Map<String, Object> parsed = Json.parseObject(answer);
            T.eq("SUCCESS", parsed.get("errCode"), "errCode");
            T.eq(billNo, parsed.get("billNo"), "the answer of this request");

            // Through call() as well (ums_call is an operation export too).
            T.check(Fixtures.queueFault(c, UPDATE, "oversized-json"), "queued again");
            String second = c.newId();
            Map<String, Object> viaCall = c.call(UPDATE, Fixtures.updateRequest(second));
            T.eq(second, viaCall.get("billNo"), "call(): the answer of this request");
            T.eq(before + 2, Fixtures.requests(c, UPDATE), "call(): one request");
        }
    }

    /** An unknown answerId: AnswerGoneException (an OutcomeUnknownException); nothing is sent. */
    public static void testTakeAnswerWithUnknownIdIsAnswerGone() throws Exception {
        final UmsClient c = Fixtures.client();
        long before = Fixtures.requests(c, UPDATE);
        AnswerGoneException e = T.expect(AnswerGoneException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.takeAnswer("00000000000000000000000000000000");
            }
        });
        T.eq(UmsStatus.ANSWER_GONE, e.getStatus(), "status");
        T.eq("UMS_ERR_ANSWER_GONE", e.getStatusName(), "name");
        T.eq("answer_gone", e.getKind(), "kind");
        T.check(e instanceof OutcomeUnknownException, "an OutcomeUnknownException");
        T.check(e.isOutcomeUnknown(), "outcome unknown");
        T.check(e.getPhase() != null, "every error document has a phase");
        T.eq(before, Fixtures.requests(c, UPDATE), "nothing sent");
        ValidationException v = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.takeAnswer(null);
            }
        });
        T.eq("answerId", v.getField(), "null id");
    }

    /** Refunds answered PROCESSING / UNKNOWN are pending, FAIL is a failed operation. */
    public static void testRefundPendingAndFailedStates() throws Exception {
        final UmsClient c = Fixtures.client();
        final String billNo = c.newId();
        final String billDate = Fixtures.today();
        c.updateQrcode(Fixtures.updateJson(billNo));
        Object[] pay = Fixtures.http(Fixtures.baseUrl(c) + "/_sandbox/pay",
                "{\"qrCodeId\":\"" + Fixtures.SEED_QR + "\"}");
        T.eq(200, pay[0], "pay (" + pay[1] + ")");
        Object[][] cases = {
            {"refund-processing", PendingException.class, "PROCESSING", Boolean.FALSE},
            {"refund-unknown", PendingException.class, "UNKNOWN", Boolean.FALSE},
            {"refund-fail", OperationFailedException.class, "FAIL", Boolean.TRUE},
        };
        List<String> skipped = new ArrayList<String>();
        for (Object[] row : cases) {
            String fault = (String) row[0];
            if (!Fixtures.queueFault(c, REFUND, fault)) {
                skipped.add(fault);
                continue;
            }
            final Map<String, Object> refund = new LinkedHashMap<String, Object>();
            refund.put("billNo", billNo);
            refund.put("billDate", billDate);
            refund.put("refundAmount", 1);
            refund.put("refundOrderId", c.newId());
            long before = Fixtures.requests(c, REFUND);
            @SuppressWarnings("unchecked")
            Class<? extends UmsException> type = (Class<? extends UmsException>) row[1];
            UmsException e = T.expect(type, new T.Body() {
                @Override
                public void run() throws Exception {
                    c.refund(refund);
                }
            });
            T.eq(before + 1, Fixtures.requests(c, REFUND), fault + ": sent once, never resent");
            T.eq("refundStatus", e.getStateField(), fault + ": stateField");
            T.eq(row[2], e.getState(), fault + ": state");
            T.eq(row[3], e.isSettled(), fault + ": settled");
            T.eq("sent", e.getPhase(), fault + ": phase");
            T.eq("SUCCESS", e.getErrCode(), fault + ": the gateway accepted it");
            T.eq(row[2], e.getResponse().get("refundStatus"), fault + ": the whole answer");
            T.check(!(e instanceof OutcomeUnknownException), fault + ": not an OutcomeUnknownException");
            T.check(!e.isNothingSent(), fault + ": sent");
        }
        T.eq(Collections.emptyList(), skipped, "faults the simulator does not know");

        // The SDK adapter hands such an answer back, like the official SDK.
        T.check(Fixtures.queueFault(c, REFUND, "refund-processing"), "queued for the adapter");
        OpenApiContext context = new OpenApiContext();
        context.setApiServiceUrl(Fixtures.baseUrl(c) + REFUND);
        context.setAppId(Fixtures.DEMO_APP_ID);
        context.setAppKey(Fixtures.DEMO_APP_KEY);
        Map<String, Object> refund = new LinkedHashMap<String, Object>();
        refund.put("mid", Fixtures.MID);
        refund.put("tid", Fixtures.TID);
        refund.put("billNo", billNo);
        refund.put("billDate", billDate);
        refund.put("refundAmount", 1);
        refund.put("refundOrderId", c.newId());
        String answer = HttpTransport.getInstance().doPost(context, Json.write(refund));
        T.eq("PROCESSING", Json.parseObject(answer).get("refundStatus"), "adapter: the answer, not an exception");
    }

    /** The listener receives the library's lines, without secrets; clear stops them. */
    public static void testLogListenerReceivesLines() throws Exception {
        final List<String> lines = Collections.synchronizedList(new ArrayList<String>());
        final AtomicInteger debug = new AtomicInteger();
        final Thread me = Thread.currentThread();
        UmsClient c = Fixtures.client();
        String billNo = c.newId();
        Ums.setLogListener(new UmsLogListener() {
            @Override
            public void log(int level, String message) {
                if (Thread.currentThread() == me) { // not another thread's calls
                    lines.add(message);
                    if (level == Ums.LOG_DEBUG) {
                        debug.incrementAndGet();
                    }
                }
            }
        }, Ums.LOG_DEBUG);
        try {
            c.updateQrcode(Fixtures.updateJson(billNo));
        } finally {
            Ums.clearLogListener();
        }
        String all = String.join("\n", lines);
        T.contains(all, UPDATE, "the path is logged");
        T.check(debug.get() >= 1, "a DEBUG line");
        T.lacks(all, Fixtures.DEMO_APP_KEY, "appKey");
        T.lacks(all, billNo, "request values");
        int count = lines.size();
        c.updateQrcode(Fixtures.updateJson(c.newId()));
        T.eq(count, lines.size(), "no lines after clearLogListener");

        // A listener that throws does not break the call.
        Ums.setLogListener(new UmsLogListener() {
            @Override
            public void log(int level, String message) {
                throw new IllegalStateException("listener failure");
            }
        }, Ums.LOG_INFO);
        try {
            T.eq("SUCCESS", c.updateQrcode(Fixtures.updateRequest(c.newId())).get("errCode"), "call");
        } finally {
            Ums.clearLogListener();
        }
        ValidationException e = T.expect(ValidationException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                Ums.setLogListener(new UmsLogListener() {
                    @Override
                    public void log(int level, String message) {
                    }
                }, 9);
            }
        });
        T.eq("maxLevel", e.getField(), "bad level");
    }

    /**
     * From inside the callback, the listener installs another listener and
     * runs an operation (libums holds no lock while it runs): both the
     * nested and the outer call complete.
     */
    public static void testLogListenerMayCallBackIntoTheLibrary() throws Exception {
        final UmsClient c = Fixtures.client();
        final AtomicBoolean busy = new AtomicBoolean();
        final AtomicReference<Map<String, Object>> inner = new AtomicReference<Map<String, Object>>();
        final AtomicReference<Throwable> innerError = new AtomicReference<Throwable>();
        final List<String> second = Collections.synchronizedList(new ArrayList<String>());
        final String innerBill = c.newId();
        final Thread me = Thread.currentThread();
        Ums.setLogListener(new UmsLogListener() {
            @Override
            public void log(int level, String message) {
                // Recursion guard: the nested call logs too; and only this test's thread.
                if (Thread.currentThread() != me || inner.get() != null || innerError.get() != null
                        || !busy.compareAndSet(false, true)) {
                    return;
                }
                try {
                    Ums.setLogListener(new UmsLogListener() {
                        @Override
                        public void log(int level2, String message2) {
                            second.add(message2);
                        }
                    }, Ums.LOG_DEBUG);
                    inner.set(c.updateQrcode(Fixtures.updateRequest(innerBill)));
                } catch (Throwable t) {
                    innerError.set(t);
                } finally {
                    busy.set(false);
                }
            }
        }, Ums.LOG_DEBUG);
        String outerBill = c.newId();
        Map<String, Object> outer;
        try {
            outer = c.updateQrcode(Fixtures.updateRequest(outerBill));
        } finally {
            Ums.clearLogListener();
        }
        T.eq("SUCCESS", outer.get("errCode"), "the outer call completes");
        T.eq(outerBill, outer.get("billNo"), "outer answer");
        T.check(innerError.get() == null, "the nested call failed: " + innerError.get());
        T.check(inner.get() != null, "the nested call ran");
        T.eq(innerBill, inner.get().get("billNo"), "the nested call's answer");
        T.contains(String.join("\n", second), UPDATE, "the listener installed from the callback got lines");

        // Clearing from inside the callback works too.
        final AtomicInteger calls = new AtomicInteger();
        Ums.setLogListener(new UmsLogListener() {
            @Override
            public void log(int level, String message) {
                if (Thread.currentThread() == me) {
                    calls.incrementAndGet();
                    Ums.clearLogListener();
                }
            }
        }, Ums.LOG_DEBUG);
        try {
            T.eq("SUCCESS", c.updateQrcode(Fixtures.updateRequest(c.newId())).get("errCode"), "call");
        } finally {
            Ums.clearLogListener();
        }
        T.eq(1, calls.get(), "cleared by its own first line");
    }

    /**
     * resolve(): a refund whose answer was lost (the simulator applied it and
     * closed the connection) is OutcomeUnknownException; journalPending()
     * lists it; resolve(e) answers applied and closes the entry.
     */
    public static void testResolveAnOutcomeUnknownRefund() throws Exception {
        File dir = Files.createTempDirectory("ums-java-journal").toFile();
        try {
            Map<String, Object> config = Fixtures.sandboxConfig();
            config.put("resolvable", Boolean.TRUE);
            config.put("journal", new File(dir, "journal.sqlite").getPath());
            final UmsClient c = new UmsClient(config);
            try {
                final Map<String, Object> bill = new LinkedHashMap<String, Object>();
                bill.put("billNo", c.newId());
                bill.put("billDate", Fixtures.today());
                bill.put("totalAmount", 100);
                Map<String, Object> code = c.getQrcode(bill);
                Object[] pay = Fixtures.http(Fixtures.baseUrl(c) + "/_sandbox/pay",
                        "{\"qrCodeId\":\"" + code.get("qrCodeId") + "\"}");
                T.eq(200, pay[0], "pay (" + pay[1] + ")");
                T.check(Fixtures.queueFault(c, "/v1/netpay/bills/refund", "close-after-body"), "fault queued");
                final Map<String, Object> refund = new LinkedHashMap<String, Object>();
                refund.put("billNo", bill.get("billNo"));
                refund.put("billDate", bill.get("billDate"));
                refund.put("refundAmount", 30);
                OutcomeUnknownException e = T.expect(OutcomeUnknownException.class, new T.Body() {
                    @Override
                    public void run() throws Exception {
                        c.refund(refund);
                    }
                });
                List<Map<String, Object>> pending = c.journalPending();
                T.eq(1, pending.size(), "one open entry");
                T.eq("refund", pending.get(0).get("operation"), "its operation");
                Map<String, Object> verdict = c.resolve(e);
                T.eq("applied", verdict.get("verdict"), "verdict " + verdict);
                T.eq(Boolean.FALSE, verdict.get("safeToResend"), "not safe to resend");
                T.eq(Boolean.TRUE, verdict.get("journalClosed"), "entry closed");
                T.eq(0, c.journalPending().size(), "nothing open");
            } finally {
                c.close();
            }
        } finally {
            File[] files = dir.listFiles();
            if (files != null) {
                for (File f : files) {
                    f.delete();
                }
            }
            dir.delete();
        }
    }
}
