// What a Java user would pick instead: the JNI binding end to end vs. the
// JDK's own HTTP clients, in the same JVM, against the same ums-sandbox.
//
//   java -Dums.jni.library=.../libumsjni.so -cp CLASSES com.chinaums.ums.BenchE2e \
//        URL SEED WIRE ROUNDS ROUND_MS [CAFILE]
//
// Every call is update-qrcode with a fresh billNo, checked for errCode
// SUCCESS. The modes take turns for ROUND_MS each, ROUNDS rounds (after a
// JIT warm-up); each row is the median calls/s over rounds:
//
//   java.e2e.binding        UmsClient.updateQrcode(String): one client, kept-alive
//                           connection; the library fills, checks, signs
//   java.e2e.httpclient     java.net.http.HttpClient (HTTP/1.1, kept alive) with
//                           MessageDigest/Mac (javax.crypto) signing in Java
//   java.e2e.urlconnection  HttpURLConnection with "Connection: close": a new
//                           connection (and TLS handshake on https) per call, as
//                           the official SDK's examples do
//
// The JDK clients send the request already in wire form (WIRE: the seed
// converted by hand once, plus billNo, billDate, requestTimestamp) and check
// nothing else, as a hand-written client does. CAFILE (https:// URLs,
// scripts/bench-link) is trusted by all three.
package com.chinaums.ums;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public final class BenchE2e {
    private static final String APP_ID = "10037e6f66f2d0f901672aa27d690006";
    private static final String APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde";
    private static final String PATH = "/v1/netpay/bills/update-qrcode";
    private static final ZoneOffset BEIJING = ZoneOffset.ofHours(8);
    private static final DateTimeFormatter COMPACT = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");
    private static final DateTimeFormatter GENERAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd");

    private interface Call {
        void run() throws Exception;
    }

    private static long counter;
    private static final String RUN = String.format("%08d", ProcessHandle.current().pid() % 100_000_000L);

    private static String billNo(char kind) {
        return "3194" + RUN + kind + String.format("%013d", ++counter);
    }

    // -- the hand-written client ------------------------------------------

    private static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            s.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return s.toString();
    }

    /** Authorization: OPEN-BODY-SIG, as the ChinaUMS docs describe it. */
    private static String openBodySig(byte[] body) throws Exception {
        String timestamp = ZonedDateTime.now(BEIJING).format(COMPACT);
        String nonce = UUID.randomUUID().toString().replace("-", "");
        String digest = hex(MessageDigest.getInstance("SHA-256").digest(body));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(APP_KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] sig = mac.doFinal((APP_ID + timestamp + nonce + digest).getBytes(StandardCharsets.UTF_8));
        return "OPEN-BODY-SIG AppId=\"" + APP_ID + "\", Timestamp=\"" + timestamp + "\", Nonce=\"" + nonce
                + "\", Signature=\"" + Base64.getEncoder().encodeToString(sig) + "\"";
    }

    private static byte[] wireBody(String wire, char kind) {
        ZonedDateTime now = ZonedDateTime.now(BEIJING);
        String tail = ",\"billNo\":\"" + billNo(kind) + "\",\"billDate\":\"" + now.format(DATE)
                + "\",\"requestTimestamp\":\"" + now.format(GENERAL) + "\"}";
        return (wire.substring(0, wire.lastIndexOf('}')) + tail).getBytes(StandardCharsets.UTF_8);
    }

    private static void checkSuccess(int status, String answer) {
        if (status != 200 || !answer.contains("\"errCode\":\"SUCCESS\"")) {
            throw new IllegalStateException("HTTP " + status + ": " + answer);
        }
    }

    private static SSLContext trusting(String caFile) throws Exception {
        Certificate ca;
        try (InputStream in = new FileInputStream(caFile)) {
            ca = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("bench-ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static String readAll(InputStream in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
        }
        return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }

    // -- the run ------------------------------------------------------------

    private static double round(Call fn, long roundMs) throws Exception {
        long n = 0;
        long t = System.nanoTime();
        long end = t + roundMs * 1_000_000L;
        do {
            fn.run();
            n++;
        } while (System.nanoTime() < end);
        return n / ((System.nanoTime() - t) / 1e9);
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static void printRate(String row, double[] rates) {
        StringBuilder r = new StringBuilder();
        for (double x : rates) {
            r.append(r.length() == 0 ? "" : ",").append(String.format("%.1f", x));
        }
        System.out.println("{\"row\":\"" + row + "\",\"value\":" + String.format("%.1f", median(rates))
                + ",\"unit\":\"calls/s\",\"rounds\":[" + r + "]}");
    }

    public static void main(String[] args) throws Exception {
        final String url = args[0];
        String seed = new String(Files.readAllBytes(Paths.get(args[1])), StandardCharsets.UTF_8).trim();
        final String wire = new String(Files.readAllBytes(Paths.get(args[2])), StandardCharsets.UTF_8).trim();
        int rounds = Integer.parseInt(args[3]);
        long roundMs = Long.parseLong(args[4]);
        String caFile = args.length > 5 ? args[5] : null;

        ZonedDateTime now = ZonedDateTime.now(BEIJING);
        final String request = seed
                .replaceFirst("\"billDate\":\"[^\"]*\"", "\"billDate\":\"" + now.format(DATE) + "\"")
                .replaceFirst("\"expireTime\":\"[^\"]*\"",
                        "\"expireTime\":\"" + now.plusDays(1).format(GENERAL) + "\"");
        final String billPattern = "\"billNo\":\"[^\"]*\"";

        String config = "{\"environment\":\"" + url + "\",\"appId\":\"" + APP_ID + "\",\"appKey\":\"" + APP_KEY
                + "\"" + (caFile == null ? "" : ",\"caFile\":\"" + caFile + "\"") + "}";
        final UmsClient client = new UmsClient(config);
        HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
        if (caFile != null) {
            SSLContext ctx = trusting(caFile);
            builder.sslContext(ctx);
            HttpsURLConnection.setDefaultSSLSocketFactory(ctx.getSocketFactory());
        }
        final HttpClient http = builder.build();
        final URI uri = URI.create(url + PATH);
        final URL oldUrl = new URL(url + PATH);

        Call binding = () -> {
            String answer = client.updateQrcode(request.replaceFirst(billPattern, "\"billNo\":\"" + billNo('1') + "\""));
            checkSuccess(200, answer);
        };
        Call httpClient = () -> {
            byte[] body = wireBody(wire, '2');
            HttpRequest req = HttpRequest.newBuilder(uri)
                    .header("Content-Type", "application/json;charset=UTF-8")
                    .header("Authorization", openBodySig(body))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
            checkSuccess(res.statusCode(), res.body());
        };
        Call urlConnection = () -> {
            byte[] body = wireBody(wire, '3');
            HttpURLConnection c = (HttpURLConnection) oldUrl.openConnection();
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.setRequestProperty("Connection", "close");
            c.setRequestProperty("Content-Type", "application/json;charset=UTF-8");
            c.setRequestProperty("Authorization", openBodySig(body));
            try (OutputStream out = c.getOutputStream()) {
                out.write(body);
            }
            int status = c.getResponseCode();
            String answer;
            try (InputStream in = c.getInputStream()) {
                answer = readAll(in);
            }
            c.disconnect();
            checkSuccess(status, answer);
        };

        String[] names = {"java.e2e.binding", "java.e2e.httpclient", "java.e2e.urlconnection"};
        Call[] modes = {binding, httpClient, urlConnection};
        for (Call mode : modes) { // JIT warm-up, and a check that every mode succeeds
            round(mode, Math.max(300, roundMs / 2));
        }
        double[][] rates = new double[modes.length][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < modes.length; m++) {
                rates[m][r] = round(modes[m], roundMs);
            }
        }
        for (int m = 0; m < modes.length; m++) {
            printRate(names[m], rates[m]);
        }
        client.close();
    }
}
