package com.chinaums.ums.tests;

import com.chinaums.ums.GatewayRejectedException;
import com.chinaums.ums.Ums;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;
import com.chinaums.ums.internal.Json;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A whole bill's life against the simulator: a one-off code with a notifyUrl
 * served here, the customer pays (the simulator's POST /_sandbox/pay), the
 * signed notification arrives and verifies, the bill queries as PAID, and
 * refunds behave (a repeated refundOrderId never refunds twice).
 */
public final class PaymentFlowTests {
    private PaymentFlowTests() {
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** POSTs JSON to a simulator control URL: {status, body}. */
    private static Object[] post(String url, String json) throws IOException {
        HttpURLConnection conn = (HttpURLConnection) new URL(url).openConnection();
        conn.setRequestMethod("POST");
        conn.setDoOutput(true);
        conn.setRequestProperty("Content-Type", "application/json");
        conn.setConnectTimeout(5000);
        conn.setReadTimeout(10000);
        try (OutputStream out = conn.getOutputStream()) {
            out.write(json.getBytes(StandardCharsets.UTF_8));
        }
        int status = conn.getResponseCode();
        InputStream in = status < 400 ? conn.getInputStream() : conn.getErrorStream();
        String body = in == null ? "" : new String(readAll(in), StandardCharsets.UTF_8);
        conn.disconnect();
        return new Object[] {status, body};
    }

    public static void testPayNotifyQueryAndRefund() throws Exception {
        final BlockingQueue<byte[]> received = new LinkedBlockingQueue<byte[]>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        server.createContext("/notify", new HttpHandler() {
            @Override
            public void handle(HttpExchange exchange) throws IOException {
                byte[] body = readAll(exchange.getRequestBody());
                boolean handled;
                try {
                    Ums.verifyNotify(Fixtures.DEMO_NOTIFY_KEY, body);
                    handled = true;
                } catch (UmsException e) {
                    handled = false;
                }
                received.add(body);
                byte[] reply = Ums.notifyReply(handled).getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, reply.length);
                exchange.getResponseBody().write(reply);
                exchange.close();
            }
        });
        server.start();
        try {
            final UmsClient c = Fixtures.client();
            String base = (String) Json.parseObject(c.getInfo()).get("baseUrl");

            final String billNo = c.newId();
            final String billDate = Fixtures.today();
            Map<String, Object> r = new LinkedHashMap<String, Object>();
            r.put("billNo", billNo);
            r.put("billDate", billDate);
            r.put("totalAmount", 26);
            r.put("notifyUrl", "http://127.0.0.1:" + server.getAddress().getPort() + "/notify");
            String qrCodeId = (String) c.getQrcode(r).get("qrCodeId");

            Object[] pay = post(base + "/_sandbox/pay", "{\"qrCodeId\":\"" + qrCodeId + "\"}");
            T.eq(200, pay[0], "pay status (" + pay[1] + ")");
            Map<String, Object> paid = Json.parseObject((String) pay[1]);
            T.eq("PAID", paid.get("billStatus"), "paid");
            T.eq(billNo, paid.get("billNo"), "the code's bill was paid");

            byte[] body = received.poll(20, TimeUnit.SECONDS);
            T.check(body != null, "the notification arrived");
            Map<String, Object> n = Ums.verifyNotifyMap(Fixtures.DEMO_NOTIFY_KEY, body);
            T.eq(paid.get("notifyId"), n.get("notifyId"), "notifyId");
            Map<?, ?> fields = (Map<?, ?>) n.get("fields");
            T.eq(billNo, fields.get("billNo"), "notified bill");
            T.eq("PAID", fields.get("billStatus"), "notified status");

            Map<String, Object> q = new LinkedHashMap<String, Object>();
            q.put("billNo", billNo);
            q.put("billDate", billDate);
            Map<String, Object> queried = c.queryBill(q);
            T.eq("PAID", queried.get("billStatus"), "queried status");

            final Map<String, Object> refund = new LinkedHashMap<String, Object>(q);
            refund.put("refundAmount", 10);
            refund.put("refundOrderId", c.newId());
            Map<String, Object> first = c.refund(refund);
            T.eq("SUCCESS", first.get("errCode"), "refund");
            T.eq(Long.valueOf(10), first.get("refundAmount"), "refunded amount");
            Map<String, Object> again = c.refund(refund);
            T.eq(first.get("refundTargetOrderId"), again.get("refundTargetOrderId"),
                    "the same refundOrderId answers the first refund, no second refund");

            refund.put("refundAmount", 17); // 16 fen are left
            refund.put("refundOrderId", c.newId());
            GatewayRejectedException e = T.expect(GatewayRejectedException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    c.refund(refund);
                }
            });
            T.eq("OPERATION_NOT_ALLOWED", e.getErrCode(), "refund above what is left");

            q.put("refundOrderId", first.get("refundOrderId"));
            T.eq("SUCCESS", c.queryBill(q).get("errCode"), "query of the refund");
        } finally {
            server.stop(0);
        }
    }
}
