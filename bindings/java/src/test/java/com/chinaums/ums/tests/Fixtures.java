package com.chinaums.ums.tests;

import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;
import com.chinaums.ums.internal.Json;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/** Shared test values: the simulator's demo merchant, dates, files, fake servers. */
public final class Fixtures {
    public static final String DEMO_APP_ID = "10037e6f66f2d0f901672aa27d690006";
    public static final String DEMO_APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde";
    public static final String DEMO_NOTIFY_KEY = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR";
    public static final String MID = "898340149000005";
    public static final String TID = "00000001";
    public static final String SEED_QR = "31942002267733902130410550";
    public static final String SANDBOX =
            "{\"environment\":\"sandbox\",\"mid\":\"" + MID + "\",\"tid\":\"" + TID + "\"}";

    private static UmsClient shared;

    private Fixtures() {
    }

    /** One sandbox client for tests that do not care about its life cycle. */
    public static synchronized UmsClient client() throws UmsException {
        if (shared == null) {
            shared = new UmsClient(SANDBOX);
        }
        return shared;
    }

    private static ZonedDateTime beijing() {
        return ZonedDateTime.now(ZoneOffset.ofHours(8));
    }

    public static String today() {
        return beijing().format(DateTimeFormatter.ofPattern("yyyy-MM-dd"));
    }

    public static String tomorrowTime() {
        return beijing().plusDays(1).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
    }

    /** An update-qrcode request for the seed code with a fresh bill number. */
    public static Map<String, Object> updateRequest(String billNo) {
        Map<String, Object> r = new LinkedHashMap<String, Object>();
        r.put("qrCodeId", SEED_QR);
        r.put("billNo", billNo);
        r.put("billDate", today());
        r.put("totalAmount", "26");
        return r;
    }

    public static String updateJson(String billNo) {
        return Json.write(updateRequest(billNo));
    }

    /** The repository root: -Dums.repo, else found upwards from the working directory. */
    public static File repo() {
        String p = System.getProperty("ums.repo");
        if (p != null && !p.isEmpty()) {
            return new File(p);
        }
        File dir = new File("").getAbsoluteFile();
        while (dir != null) {
            if (new File(dir, "tests/data/vectors.json").isFile()) {
                return dir;
            }
            dir = dir.getParentFile();
        }
        throw new IllegalStateException("cannot find the repository (set -Dums.repo)");
    }

    public static Map<String, Object> vectors() throws IOException {
        File f = new File(repo(), "tests/data/vectors.json");
        return Json.parseObject(new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8));
    }

    public static String property(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException("system property " + name + " is not set (run run-tests.sh)");
        }
        return v;
    }

    /** The embedded simulator's base URL of a sandbox client. */
    public static String baseUrl(UmsClient c) {
        return (String) Json.parseObject(c.getInfo()).get("baseUrl");
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

    /** A request to a simulator control URL (json null: GET): {status, body}. */
    public static Object[] http(String url, String json) throws IOException {
        HttpURLConnection conn = (HttpURLConnection) new URL(url).openConnection();
        conn.setConnectTimeout(5000);
        conn.setReadTimeout(10000);
        if (json != null) {
            conn.setRequestMethod("POST");
            conn.setDoOutput(true);
            conn.setRequestProperty("Content-Type", "application/json");
            try (OutputStream out = conn.getOutputStream()) {
                out.write(json.getBytes(StandardCharsets.UTF_8));
            }
        }
        int status = conn.getResponseCode();
        InputStream in = status < 400 ? conn.getInputStream() : conn.getErrorStream();
        String body = in == null ? "" : new String(readAll(in), StandardCharsets.UTF_8);
        conn.disconnect();
        return new Object[] {status, body};
    }

    /** How many requests to path the simulator has seen (GET /_sandbox/stats). */
    public static long requests(UmsClient c, String path) throws IOException {
        Object[] r = http(baseUrl(c) + "/_sandbox/stats", null);
        if (!Integer.valueOf(200).equals(r[0])) {
            throw new AssertionError("stats: " + r[0] + " " + r[1]);
        }
        Object requests = Json.parseObject((String) r[1]).get("requests");
        Object n = requests instanceof Map ? ((Map<?, ?>) requests).get(path) : null;
        return n instanceof Number ? ((Number) n).longValue() : 0L;
    }

    /**
     * Queues a simulator fault for the next request to path (POST
     * /_sandbox/faults); false when the simulator does not know it (HTTP 400).
     */
    public static boolean queueFault(UmsClient c, String path, String fault) throws IOException {
        Map<String, Object> body = new LinkedHashMap<String, Object>();
        body.put("path", path);
        body.put("fault", fault);
        Object[] r = http(baseUrl(c) + "/_sandbox/faults", Json.write(body));
        if (Integer.valueOf(400).equals(r[0])) {
            return false;
        }
        if (!Integer.valueOf(200).equals(r[0])) {
            throw new AssertionError("queue fault " + fault + ": " + r[0] + " " + r[1]);
        }
        return true;
    }

    /** What a fake server does with each connection. */
    public enum Behaviour {
        /** Writes bytes that are not a TLS record, then closes. */
        GARBAGE,
        /** Reads the whole HTTP request, then closes without answering. */
        SWALLOW,
        /** Reads the request and answers HTTP 500 with a non-JSON body. */
        HTTP_500
    }

    /** A one-thread TCP server on 127.0.0.1; close() stops it. */
    public static final class FakeServer implements AutoCloseable {
        private final ServerSocket socket;
        private final Thread thread;
        public volatile int requestsRead;

        public FakeServer(final Behaviour behaviour) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            thread = new Thread(new Runnable() {
                @Override
                public void run() {
                    while (!socket.isClosed()) {
                        try (Socket s = socket.accept()) {
                            s.setSoTimeout(10000);
                            serve(s, behaviour);
                        } catch (IOException e) {
                            // closed, or the client went away: next connection
                        }
                    }
                }
            }, "fake-server");
            thread.setDaemon(true);
            thread.start();
        }

        public int port() {
            return socket.getLocalPort();
        }

        private void serve(Socket s, Behaviour behaviour) throws IOException {
            OutputStream out = s.getOutputStream();
            if (behaviour == Behaviour.GARBAGE) {
                out.write("this is not TLS, just garbage\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return;
            }
            readRequest(s.getInputStream());
            requestsRead++;
            if (behaviour == Behaviour.HTTP_500) {
                byte[] body = "internal trouble".getBytes(StandardCharsets.US_ASCII);
                out.write(("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                        + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
            }
        }

        /** Reads headers and a Content-Length body. */
        private static void readRequest(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                head.write(b);
                byte[] h = head.toByteArray();
                int n = h.length;
                if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                    break;
                }
            }
            int length = 0;
            for (String line : head.toString("ISO-8859-1").split("\r\n")) {
                if (line.toLowerCase().startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            for (int i = 0; i < length && in.read() >= 0; i++) {
                // discard the body
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
